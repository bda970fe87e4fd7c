/*
 * report_charts.c - the inline SVG charts of the HTML report. Every data
 * mark carries class "mark" and a <title> (the tooltip, escaped) so the
 * charts can be checked in a browser and read without colour.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "base/banned.h"

#define W 720                   /* chart width in px */
#define LEFT 170                /* room for row labels */
#define RIGHT 30
#define ROW 26

static const double unit_ticks[] = { 0, 0.2, 0.4, 0.6, 0.8, 1 };

/* One labelled row: point estimate with its interval. */
static void interval_row(struct out *o, const struct svg_scale *x, double y,
			 const char *label, const struct stats_interval *iv,
			 const char *tip, const char *cls)
{
	char mark[48];

	report_svg_text(o, LEFT - 10, y + 4, "end", "label", label);
	report_svg_whisker(o, report_svg_map(x, iv->lo),
			   report_svg_map(x, iv->hi), y, "ci");
	snprintf(mark, sizeof(mark), "mark %s", cls);
	report_svg_dot(o, report_svg_map(x, iv->est), y, 5, mark, tip);
}

void report_chart_groups(struct out *o, const char *title,
			 const struct report_group *g, size_t n)
{
	struct svg_scale x = { 0, 1, LEFT, W - RIGHT, false };
	int h = 62 + ROW * (int)n;
	size_t row = 0;

	report_svg_open(o, W, h, title);
	report_svg_xaxis(o, &x, h - 40, 6, unit_ticks, 6, 1);
	for (size_t i = 0; i < n; i++) {
		char label[96], tip[400];
		struct stats_interval iv;
		double y = 18 + ROW * (double)row++;
		if (!g[i].ok) {
			report_svg_text(o, LEFT - 10, y + 4, "end", "label", g[i].name);
			report_svg_text(o, LEFT + 4, y + 4, "start", "note", g[i].note);
			continue;
		}
		iv = g[i].s.wilson;
		iv.est = g[i].s.pass1;
		snprintf(label, sizeof(label), "%s (n=%zu)", g[i].name, g[i].s.ntasks);
		snprintf(tip, sizeof(tip), "%s: pass@1 %.3f, Wilson 95%% [%.3f, %.3f], "
			 "bootstrap [%.3f, %.3f]", g[i].name, g[i].s.pass1,
			 g[i].s.wilson.lo, g[i].s.wilson.hi, g[i].s.boot.lo,
			 g[i].s.boot.hi);
		interval_row(o, &x, y, label, &iv, tip, "rate");
	}
	report_svg_text(o, (LEFT + W - RIGHT) / 2.0, h - 4, "middle",
			"axis-label",
			"pass@1 (dot) with Wilson 95% interval (bar)");
	report_svg_close(o);
}

/* ---- time horizon ----------------------------------------------------------- */

static void horizon_domain(const struct report_analysis *a, double *lo, double *hi)
{
	*lo = a->horizon.min_minutes / 2;
	*hi = a->horizon.max_minutes * 2;
	if (!(*lo > 0))
		*lo = 0.5;
	if (!(*hi > *lo * 2))
		*hi = *lo * 4;
}

static void horizon_axes(struct out *o, const struct svg_scale *x,
			 const struct svg_scale *y)
{
	static const double yt[] = { 0, 0.25, 0.5, 0.75, 1 };
	double ticks[24];
	size_t n = 0;

	for (double m = pow(2, floor(log2(x->d0))); m <= x->d1 && n < 24; m *= 2)
		if (m >= x->d0)
			ticks[n++] = m;
	report_svg_xaxis(o, x, y->p0, y->p1, ticks, n, 0);
	report_svg_line(o, x->p0, y->p0, x->p0, y->p1, "axis");
	for (size_t i = 0; i < 5; i++) {
		char l[16];
		snprintf(l, sizeof(l), "%.2f", yt[i]);
		report_svg_line(o, x->p0 - 4, report_svg_map(y, yt[i]), x->p1, report_svg_map(y, yt[i]), "grid");
		report_svg_text(o, x->p0 - 8, report_svg_map(y, yt[i]) + 4,
				"end", "tick", l);
	}
}

static void horizon_curve(struct out *o, const struct report_analysis *a,
			  const struct svg_scale *x, const struct svg_scale *y)
{
	double l0 = log2(x->d0), l1 = log2(x->d1);

	report_out_puts(o, "<path class=\"mark curve\" d=\"");
	for (int i = 0; i <= 80; i++) {
		double m = exp2(l0 + (l1 - l0) * i / 80.0);
		double p = stats_horizon_curve(&a->horizon, m);
		report_out_printf(o, "%s%.1f %.1f ", i ? "L" : "M",
				  report_svg_map(x, m),
				  report_svg_map(y, report_finite(p)));
	}
	report_out_puts(o,
			"\"><title>fitted success probability</title></path>\n");
}

static void horizon_marker(struct out *o, const struct svg_scale *x,
			   const struct svg_scale *y, const struct stats_interval *h,
			   const char *name, double q)
{
	char tip[160];
	double x0 = report_svg_map(x, h->lo), x1 = report_svg_map(x, h->hi);

	snprintf(tip, sizeof(tip), "%s = %.1f expert-minutes, 95%% [%.1f, %.1f]",
		 name, report_finite(h->est), report_finite(h->lo),
		 report_finite(h->hi));
	report_svg_rect(o, x0, y->p1, x1 - x0, y->p0 - y->p1, "band");
	report_svg_line(o, report_svg_map(x, h->est), y->p0, report_svg_map(x, h->est), y->p1, "hline");
	report_svg_dot(o, report_svg_map(x, h->est), report_svg_map(y, q), 5,
		       "mark hmark", tip);
	report_svg_text(o, report_svg_map(x, h->est) + 4,
			y->p1 + 12 + (q > 0.6 ? 14 : 0), "start", "note", name);
}

void report_chart_horizon(struct out *o, const struct report_analysis *a)
{
	const struct stats_run *run = &a->cand.run;
	struct svg_scale x = { 1, 2, LEFT - 100, W - RIGHT, true };
	struct svg_scale y = { 0, 1, 300, 20, false };

	horizon_domain(a, &x.d0, &x.d1);
	report_svg_open(o, W, 350, "Success rate against expert minutes, with the fitted "
			"horizon curve");
	horizon_axes(o, &x, &y);
	horizon_marker(o, &x, &y, &a->horizon.h50, "H50", 0.5);
	horizon_marker(o, &x, &y, &a->horizon.h80, "H80", 0.8);
	horizon_curve(o, a, &x, &y);
	for (size_t i = 0; i < run->ntasks; i++) {
		const struct stats_task *t = &run->tasks[i];
		char tip[300];
		double p = (double)t->successes / t->epochs;
		if (!(t->expert_minutes > 0))
			continue;
		snprintf(tip, sizeof(tip), "%s: %d/%d solved, %.0f expert-minutes",
			 t->id, t->successes, t->epochs, t->expert_minutes);
		report_svg_dot(o, report_svg_map(&x, t->expert_minutes),
			       report_svg_map(&y, p), 4, "mark pt", tip);
	}
	report_svg_text(o, (x.p0 + x.p1) / 2, 345, "middle", "axis-label",
			"expert minutes (log scale); dots: tasks; shaded: 95% interval of H50 and H80");
	report_svg_close(o);
}

/* ---- references ------------------------------------------------------------- */

static size_t ok_refs(const struct report_analysis *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nrefs; i++)
		n += a->cmps[i].has_summary;
	return n;
}

void report_chart_refs(struct out *o, const struct report_analysis *a)
{
	struct svg_scale x = { 0, 1, LEFT, W - RIGHT, false };
	size_t n = 1 + ok_refs(a), row = 0;
	int h = 62 + ROW * (int)n;
	char label[160], tip[300];
	struct stats_interval iv = a->overall.wilson;

	report_svg_open(o, W, h,
			"pass@1 of the candidate and the reference runs");
	report_svg_xaxis(o, &x, h - 40, 6, unit_ticks, 6, 1);
	iv.est = a->overall.pass1;
	snprintf(label, sizeof(label), "run %s (candidate)", a->cand.name);
	snprintf(tip, sizeof(tip), "run %s %s: pass@1 %.3f", a->cand.name,
		 a->cand.rep->run.model, a->overall.pass1);
	interval_row(o, &x, 18, label, &iv, tip, "cand");
	for (size_t i = 0; i < a->nrefs; i++) {
		const struct report_refcmp *c = &a->cmps[i];
		if (!c->has_summary)
			continue;
		iv = c->s.wilson;
		iv.est = c->s.pass1;
		snprintf(label, sizeof(label), "run %s", c->ref->name);
		snprintf(tip, sizeof(tip), "run %s %s: pass@1 %.3f", c->ref->name,
			 c->ref->rep->run.model, c->s.pass1);
		interval_row(o, &x, 18 + ROW * (double)++row, label, &iv, tip, "ref");
	}
	report_svg_text(o, (LEFT + W - RIGHT) / 2.0, h - 4, "middle",
			"axis-label",
			"pass@1 on each run's own tasks, Wilson 95%");
	report_svg_close(o);
}

void report_chart_diffs(struct out *o, const struct report_analysis *a)
{
	static const double ticks[] = { -1, -0.5, 0, 0.5, 1 };
	struct svg_scale x = { -1, 1, LEFT, W - RIGHT, false };
	int h = 62 + ROW * (int)a->nrefs;
	size_t row = 0;

	report_svg_open(o, W, h, "Paired difference candidate minus reference");
	report_svg_xaxis(o, &x, h - 40, 6, ticks, 5, 1);
	report_svg_line(o, report_svg_map(&x, 0), 6, report_svg_map(&x, 0),
			h - 40, "zero");
	for (size_t i = 0; i < a->nrefs; i++) {
		const struct report_refcmp *c = &a->cmps[i];
		char label[64], tip[300];
		double y = 18 + ROW * (double)row++;
		snprintf(label, sizeof(label), "vs run %s", c->ref->name);
		if (!c->ok) {
			report_svg_text(o, LEFT - 10, y + 4, "end", "label",
					label);
			report_svg_text(o, LEFT + 4, y + 4, "start", "note",
					c->note);
			continue;
		}
		snprintf(tip, sizeof(tip), "difference %.3f, 95%% [%.3f, %.3f] on %zu "
			 "common tasks", c->paired.diff, c->paired.wald.lo,
			 c->paired.wald.hi, c->paired.ncommon);
		interval_row(o, &x, y, label, &c->paired.wald, tip, "diff");
	}
	report_svg_text(
		o, (LEFT + W - RIGHT) / 2.0, h - 4, "middle", "axis-label",
		"pass@1 difference on common tasks, clustered 95% interval");
	report_svg_close(o);
}

/* ---- IRT ---------------------------------------------------------------------- */

static void irt_domain(const struct stats_irt *fit, double *lo, double *hi)
{
	*lo = -3;
	*hi = 3;
	for (size_t i = 0; i < fit->nmodels; i++) {
		*lo = fmin(*lo, fit->models[i].ci.lo);
		*hi = fmax(*hi, fit->models[i].ci.hi);
	}
	for (size_t i = 0; i < fit->nitems; i++) {
		*lo = fmin(*lo, fit->items[i].b);
		*hi = fmax(*hi, fit->items[i].b);
	}
	*lo = fmax(floor(report_finite(*lo)), -20);
	*hi = fmin(ceil(report_finite(*hi)), 20);
}

static void irt_items(struct out *o, const struct stats_irt *fit,
		      const struct svg_scale *x, double y)
{
	report_svg_text(o, LEFT - 10, y + 4, "end", "label", "task difficulty b");
	for (size_t i = 0; i < fit->nitems; i++) {
		char tip[300];
		double px = report_svg_map(x, fit->items[i].b);
		snprintf(tip, sizeof(tip), "%s: difficulty %.2f, discrimination %.2f",
			 fit->items[i].task, fit->items[i].b, fit->items[i].a);
		report_out_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"2\" height=\"14\" "
				  "class=\"mark rug\"><title>", px - 1, y - 7);
		report_out_html(o, tip);
		report_out_puts(o, "</title></rect>\n");
	}
}

void report_chart_irt(struct out *o, const struct report_analysis *a)
{
	const struct stats_irt *fit = a->irt;
	struct svg_scale x = { -3, 3, LEFT, W - RIGHT, false };
	int h = 92 + ROW * (int)fit->nmodels;
	double ticks[41];
	size_t nt = 0;

	irt_domain(fit, &x.d0, &x.d1);
	for (double t = x.d0; t <= x.d1 && nt < 41; t += x.d1 - x.d0 > 12 ? 4 : 1)
		ticks[nt++] = t;
	report_svg_open(o, W, h, "Placement on the IRT ability scale");
	report_svg_xaxis(o, &x, h - 40, 6, ticks, nt, 0);
	for (size_t i = 0; i < fit->nmodels; i++) {
		const struct stats_irt_model *m = &fit->models[i];
		char label[160], tip[300];
		snprintf(label, sizeof(label), "run %s%s", m->run, i ? "" : " (candidate)");
		snprintf(tip, sizeof(tip), "run %s %s: theta %.2f logits [%.2f, %.2f], "
			 "%.0f points", m->run, m->model ? m->model : "", m->theta,
			 m->ci.lo, m->ci.hi, stats_irt_points(m->theta));
		interval_row(o, &x, 18 + ROW * (double)i, label, &m->ci, tip,
			     i ? "ref" : "cand");
	}
	irt_items(o, fit, &x, 18 + ROW * (double)fit->nmodels + 8);
	report_svg_text(
		o, (LEFT + W - RIGHT) / 2.0, h - 4, "middle", "axis-label",
		"ability theta in logits (95% interval); ticks below: task difficulties");
	report_svg_close(o);
}

/* ---- outcomes and time ---------------------------------------------------------- */

/* A stable colour per kind of outcome (the legend also names them). */
static int outcome_colour(const char *name, size_t i)
{
	if (!strcmp(name, "solved"))
		return 0;
	if (!strcmp(name, "submitted-wrong") || !strcmp(name, "flag-leak"))
		return 1;
	if (!strcmp(name, "no-submit"))
		return 2;
	if (!strncmp(name, "limit-", 6))
		return 4;
	if (!strcmp(name, "model-error"))
		return 6;
	if (!strncmp(name, "infra", 5) || !strcmp(name, "interrupted"))
		return 5;
	return i % 2 ? 3 : 7;
}

void report_chart_outcomes(struct out *o, const struct report *r)
{
	struct report_outcome oc[REPORT_MAX_OUTCOMES + 2];
	size_t n = report_outcome_totals(r, oc, REPORT_MAX_OUTCOMES);
	int total = 0;
	double x = LEFT;

	if (r->infra_failures)
		oc[n++] = (struct report_outcome){ "infra (not counted)", r->infra_failures };
	if (r->interrupted)
		oc[n++] = (struct report_outcome){ "interrupted", r->interrupted };
	for (size_t i = 0; i < n; i++)
		total += oc[i].n;
	report_svg_open(o, W, 60 + 18 * (int)((n + 2) / 3),
			"Episodes by outcome");
	report_svg_text(o, LEFT - 10, 24, "end", "label", "episodes");
	for (size_t i = 0; i < n && total; i++) {
		double w = (W - RIGHT - LEFT) * (double)oc[i].n / total;
		size_t row = i / 3, col = i % 3;  /* the legend: 3 a row */
		char cls[32], tip[640];
		snprintf(cls, sizeof(cls), "mark oc%d", outcome_colour(oc[i].name, i));
		snprintf(tip, sizeof(tip), "%s: %d", oc[i].name, oc[i].n);
		report_out_printf(o, "<rect x=\"%.1f\" y=\"10\" width=\"%.1f\" height=\"24\" "
				  "class=\"%s\"><title>", x, w, cls);
		report_out_html(o, tip);
		report_out_puts(o, "</title></rect>\n");
		report_svg_rect(o, LEFT + 180.0 * (double)col,
				48 + 18.0 * (double)row, 10, 10, cls + 5);
		report_svg_text(o, LEFT + 14 + 180.0 * (double)col,
				57 + 18.0 * (double)row, "start", "tick", tip);
		x += w;
	}
	if (!total)
		report_svg_text(o, LEFT, 26, "start", "note", "no episodes");
	report_svg_close(o);
}
