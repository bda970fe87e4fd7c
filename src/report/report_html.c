/*
 * report_html.c - the report as one self-contained HTML file: inline CSS
 * and SVG, no script, no external resource, readable when printed. The
 * determination comes first with every rule's verdict, numbers and tasks;
 * then the statistics, usage, failures, the per-task table and the
 * transcripts (report_html_tasks.c). Every string from a task, a model
 * or the journal is escaped by report_out_html.
 */
#include "report/report.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "report/report_html_int.h"
#include "report/report_int.h"
#include "base/banned.h"

static const char css[] =
	":root{--ink:#1d2330;--mute:#5b6475;--line:#d5dae3;--bg:#f6f7f9;"
	"--red:#b42318;--amber:#a15c07;--green:#217a3c;--blue:#1f5fa8}\n"
	"*{box-sizing:border-box}\n"
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
	"sans-serif;color:var(--ink);margin:0;background:#fff}\n"
	"main{max-width:1020px;margin:0 auto;padding:24px 28px 60px}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:34px 0 10px;"
	"padding-bottom:4px;border-bottom:2px solid var(--ink)}\n"
	"h3{font-size:15px;margin:18px 0 6px}\n"
	".meta{color:var(--mute);margin:0 0 18px}.meta b{color:var(--ink);font-weight:600}\n"
	"table{border-collapse:collapse;width:100%;margin:8px 0 14px;font-size:13px}\n"
	"th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);"
	"vertical-align:top}\n"
	"th{background:var(--bg);font-weight:600}td.n,th.n{text-align:right;"
	"font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	".det{border:2px solid var(--ink);border-radius:8px;padding:16px 20px;margin:14px 0}\n"
	".det.additional-scrutiny{border-color:var(--red);background:#fdf1f0}\n"
	".det.inconclusive{border-color:var(--amber);background:#fdf7ec}\n"
	".det.not-designated{border-color:var(--green);background:#eff8f1}\n"
	".det .verdict{font-size:24px;font-weight:700;letter-spacing:.02em;"
	"text-transform:uppercase}\n"
	".det.additional-scrutiny .verdict{color:var(--red)}.det.inconclusive .verdict"
	"{color:var(--amber)}.det.not-designated .verdict{color:var(--green)}\n"
	".badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;"
	"font-weight:600;border:1px solid currentColor;white-space:nowrap}\n"
	".v-triggered{color:var(--red)}.v-not-triggered{color:var(--green)}"
	".v-pending,.v-not-evaluable{color:var(--amber)}.v-not-applicable{color:var(--mute)}\n"
	".small{font-size:12px;color:var(--mute)}.note{color:var(--mute);font-style:italic}\n"
	"details.tasks summary{cursor:pointer;color:var(--blue)}\n"
	"a{color:var(--blue);text-decoration:none}a:hover{text-decoration:underline}\n"
	"figure{margin:10px 0 18px;page-break-inside:avoid;break-inside:avoid}\n"
	"figcaption{font-size:12px;color:var(--mute)}\n"
	"svg.chart{max-width:100%;height:auto;font-size:12px}\n"
	"svg .axis{stroke:#333;stroke-width:1}svg .grid{stroke:#e3e6eb;stroke-width:1}\n"
	"svg .zero{stroke:#333;stroke-dasharray:4 3}\n"
	"svg .ci{stroke:#333;stroke-width:2}svg .tick{fill:#444}\n"
	"svg .label{fill:var(--ink)}svg .axis-label{fill:var(--mute)}\n"
	"svg .note{fill:var(--mute);font-style:italic}\n"
	"svg .mark.rate,svg .mark.cand{fill:var(--blue);stroke:#123;stroke-width:1}\n"
	"svg .mark.ref{fill:#fff;stroke:#333;stroke-width:2}\n"
	"svg .mark.diff{fill:#333}svg .mark.pt{fill:var(--blue);fill-opacity:.55;"
	"stroke:#123}\n"
	"svg .mark.curve{fill:none;stroke:var(--ink);stroke-width:2}\n"
	"svg .mark.hmark{fill:#fff;stroke:var(--red);stroke-width:2}\n"
	"svg .hline{stroke:var(--red);stroke-dasharray:5 3}svg .band{fill:#f2c4c0;"
	"fill-opacity:.35}\n"
	"svg .mark.rug{fill:#555}\n"
	"svg .oc0{fill:#217a3c}svg .oc1{fill:#b42318}svg .oc2{fill:#a15c07}"
	"svg .oc3{fill:#1f5fa8}svg .oc4{fill:#6b3fa0}svg .oc5{fill:#7a7f89}"
	"svg .oc6{fill:#c9a227}svg .oc7{fill:#2a9d8f}\n"
	".bar{display:inline-block;height:8px;background:var(--blue);"
	"vertical-align:middle;margin-right:6px}\n"
	".bar0{display:inline-block;height:8px;width:60px;background:var(--line);"
	"vertical-align:middle;margin-right:6px;position:relative}\n"
	"pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);"
	"border:1px solid var(--line);padding:6px 8px;margin:4px 0;font-size:12px;"
	"max-height:360px;overflow:auto}\n"
	"code{font-size:12px;background:var(--bg);padding:1px 4px}\n"
	".episode{border-top:1px solid var(--line);padding:8px 0}\n"
	".ev{margin:6px 0 10px}.evh{font-weight:600;font-size:12px}\n"
	".ev-model .evh{color:var(--blue)}.ev-tool .evh{color:#6b3fa0}"
	".ev-score .evh{color:var(--green)}.ev-note .evh{color:var(--mute)}\n"
	"@media print{main{max-width:none;padding:0}h2{break-after:avoid}"
	"a{color:var(--ink)}.det{break-inside:avoid}pre{max-height:none}"
	"tr{break-inside:avoid}}\n";

static void head(struct out *o, const struct report *r)
{
	report_out_puts(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			"'none'; style-src 'unsafe-inline'; img-src data:\">\n");
	report_out_printf(o, "<title>assay report: run %lld (",
			  (long long)r->run.id);
	report_out_html(o, r->run.model);
	report_out_printf(o, ")</title>\n<style>\n%s</style></head>\n<body><main>\n", css);
}

/* The same fields as report_md.c's md_header(), in HTML (see there). */
static void title(struct out *o, const struct report *r)
{
	char when[40];

	iso8601(r->run.created_ms, when, sizeof(when));
	report_out_printf(o, "<h1>assay report: run %lld</h1>\n<p class=\"meta\">model <b>",
			  (long long)r->run.id);
	report_out_html(o, r->run.model);
	report_out_puts(o, "</b> &middot; suite <b>");
	report_out_html(o, r->run.suite_id);
	report_out_puts(o, "</b> <code>");
	report_out_html(o, r->run.suite_digest);
	report_out_printf(o, "</code> &middot; %d epochs &middot; status <b>", r->run.epochs);
	report_out_html(o, r->run.status);
	report_out_printf(o, "</b> &middot; created %s &middot; ", when);
	report_out_html(o, r->run.harness_version);
	if (report_price_unknown(r))
		report_out_puts(o, " &middot; <b>cost unknown</b>: the model has no "
				   "price in the price table");
	report_out_puts(o, "</p>\n");
}

/* ---- determination -------------------------------------------------------------- */

static void task_link(struct out *o, const struct report *r, const char *id)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i].task_id, id)) {
			report_out_printf(o, "<a href=\"#task-%zu\">", i);
			report_out_html(o, id);
			report_out_puts(o, "</a>");
			return;
		}
	report_out_html(o, id);
}

static void rule_tasks(struct out *o, const struct report *r,
		       const struct policy_rule_result *rr)
{
	if (!rr->ntasks) {
		report_out_puts(o, "<span class=\"small\">none</span>");
		return;
	}
	report_out_printf(o, "<details class=\"tasks\"%s><summary>%zu task%s</summary>",
			  rr->ntasks <= 8 ? " open" : "", rr->ntasks, rr->ntasks == 1 ? "" : "s");
	for (size_t i = 0; i < rr->ntasks; i++) {
		report_out_puts(o, i ? ", " : "");
		task_link(o, r, rr->task_ids[i]);
	}
	report_out_puts(o, "</details>");
}

static void rule_row(struct out *o, const struct report *r,
		     const struct policy_rule_result *rr)
{
	char v[96];
	bool has = rr->verdict != VERDICT_NOT_APPLICABLE &&
		   rr->verdict != VERDICT_NOT_EVALUABLE;

	report_out_printf(o, "<tr><td><b>%s</b><div class=\"small\">%s, one-sided %g%%</div>"
			  "</td><td><span class=\"badge v-%s\">%s</span></td><td class=\"n\">%s"
			  "</td><td class=\"n\">", rr->rule->name,
			  policy_rule_type_name(rr->rule->type), 100 * rr->rule->confidence,
			  policy_verdict_name(rr->verdict), policy_verdict_name(rr->verdict),
			  report_verdict_value(rr, v, sizeof(v)));
	if (has)
		report_out_printf(o, "%g", report_finite(rr->threshold));
	else
		report_out_puts(o, "-");
	report_out_puts(o, "</td><td>");
	report_out_html(o, rr->detail);
	/* with one reference the detail already is that comparison */
	for (size_t i = 0; rr->ncmps > 1 && i < rr->ncmps; i++) {
		report_out_puts(o, "<div class=\"small\">vs run ");
		report_out_html(o, rr->cmps[i].reference);
		report_out_puts(o, ": ");
		report_out_html(o, rr->cmps[i].detail);
		report_out_puts(o, "</div>");
	}
	report_out_puts(o, "</td><td>");
	rule_tasks(o, r, rr);
	report_out_puts(o, "</td></tr>\n");
}

static void elicitation_table(struct out *o, const struct report_analysis *a)
{
	const struct policy_elicitation_result *el = &a->result->elicitation;
	const struct policy_elicitation *m = &a->policy->elicitation;

	report_out_printf(o, "<h3>Elicitation</h3>\n<table><tr><th>measure</th><th class=\"n\">"
			  "measured</th><th class=\"n\">policy minimum</th><th>met</th></tr>\n"
			  "<tr><td>epochs per task (fewest)</td><td class=\"n\">%d</td><td class=\"n\">"
			  "%d</td><td>%s</td></tr>\n<tr><td>agent scaffolds tried for this model"
			  "</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td>%s</td></tr>\n"
			  "<tr><td>token budget per episode</td><td class=\"n\">%lld</td>"
			  "<td class=\"n\">%lld</td><td>%s</td></tr></table>\n<p class=\"small\">",
			  el->epochs, m->min_epochs, el->epochs >= m->min_epochs ? "yes" : "<b>no</b>",
			  el->scaffolds, m->min_scaffolds,
			  el->scaffolds >= m->min_scaffolds ? "yes" : "<b>no</b>",
			  el->token_budget, m->min_token_budget,
			  el->token_budget >= m->min_token_budget ? "yes" : "<b>no</b>");
	report_out_html(o, el->detail);
	report_out_puts(o, ". Completeness: ");
	report_out_html(o, a->result->completeness.detail);
	report_out_puts(o, ". Token budget: ");
	report_out_html(o, a->token_note);
	report_out_puts(o, ".</p>\n");
}

static void determination(struct out *o, const struct report_analysis *a)
{
	char label[64];
	const struct policy_result *res = a->result;
	const char *name = res ? policy_determination_name(res->determination) : "none";

	report_out_printf(
		o,
		"<section id=\"determination\"><h2>Determination</h2>\n"
		"<div class=\"det %s\"><div class=\"verdict\">%s</div><p>",
		name, name);
	if (!res) {
		report_out_html(o, a->result_note);
		report_out_puts(o, "</p></div></section>\n");
		return;
	}
	report_out_html(o, res->reason);
	report_out_puts(o, ".</p><p class=\"small\">Policy <b>");
	report_out_html(o, a->policy->id);
	report_out_puts(o, "</b> (<code>");
	report_policy_label(a->policy, label, sizeof(label));
	report_out_html(o, label);
	report_out_printf(o, "</code>), pre-registered; candidate run %s", a->cand.name);
	for (size_t i = 0; i < a->nrefs; i++)
		report_out_printf(o, "%s run %s", i ? "," : "; references:", a->refs[i].name);
	report_out_puts(o, ".</p></div>\n<h3>Rules</h3>\n<table><tr><th>rule</th><th>verdict</th>"
			"<th class=\"n\">value [lower, upper]</th><th class=\"n\">threshold</th>"
			"<th>evidence</th><th>tasks behind it</th></tr>\n");
	for (size_t i = 0; i < res->nrules; i++)
		rule_row(o, a->cand.rep, &res->rules[i]);
	report_out_puts(o, "</table>\n");
	elicitation_table(o, a);
	report_out_puts(o, "</section>\n");
}

/* ---- statistics sections ----------------------------------------------------------- */

static void group_table(struct out *o, const struct report_group *g, size_t n)
{
	report_out_puts(o, "<table><tr><th>group</th><th class=\"n\">tasks</th><th class=\"n\">"
			"episodes solved</th><th class=\"n\">pass@1</th><th class=\"n\">Wilson 95%"
			"</th><th class=\"n\">bootstrap 95%</th><th class=\"n\">pass@k</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct stats_summary *s = &g[i].s;
		report_out_puts(o, "<tr><td>");
		report_out_html(o, g[i].name);
		if (!g[i].ok) {
			report_out_puts(
				       o, "</td><td colspan=\"6\" class=\"note\">");
			report_out_html(o, g[i].note);
			report_out_puts(o, "</td></tr>\n");
			continue;
		}
		report_out_printf(o, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu/%zu</td>"
				  "<td class=\"n\">%.3f</td><td class=\"n\">[%.3f, %.3f]</td>"
				  "<td class=\"n\">[%.3f, %.3f]</td><td class=\"n\">pass@%d %.3f</td>"
				  "</tr>\n", s->ntasks, s->nsuccesses, s->ntrials,
				  report_finite(s->pass1), report_finite(s->wilson.lo),
				  report_finite(s->wilson.hi), report_finite(s->boot.lo),
				  report_finite(s->boot.hi), s->k, report_finite(s->passk));
	}
	report_out_puts(o, "</table>\n");
}

/* A note paragraph (text escaped), e.g. why a section has no figures. */
static void note(struct out *o, const char *text)
{
	report_out_puts(o, "<p class=\"note\">");
	report_out_html(o, text);
	report_out_puts(o, "</p>");
}

static void figure(struct out *o, const char *caption)
{
	report_out_puts(o, "<figcaption>");
	report_out_html(o, caption);
	report_out_puts(o, "</figcaption></figure>\n");
}

static void rates(struct out *o, const struct report_analysis *a)
{
	report_out_puts(o, "<section id=\"rates\"><h2>Solve rates</h2>\n");
	if (!a->has_overall) {
		note(o, a->overall_note);
		report_out_puts(o, "</section>\n");
		return;
	}
	report_out_printf(o, "<p>pass@1 over all %zu tasks: <b>%.3f</b>, Wilson 95%% [%.3f, "
			  "%.3f], task-clustered bootstrap [%.3f, %.3f] (%u resamples, seed "
			  "%llu); pass@%d %.3f.</p>\n", a->overall.ntasks,
			  report_finite(a->overall.pass1), report_finite(a->overall.wilson.lo),
			  report_finite(a->overall.wilson.hi), report_finite(a->overall.boot.lo),
			  report_finite(a->overall.boot.hi), a->boot.resamples,
			  (unsigned long long)a->boot.seed, a->overall.k,
			  report_finite(a->overall.passk));
	report_out_puts(o, "<h3>By tier</h3><figure>");
	report_chart_groups(o, "Solve rate per difficulty tier", a->tiers, a->ntiers);
	figure(o, "pass@1 per difficulty tier with Wilson 95% intervals.");
	group_table(o, a->tiers, a->ntiers);
	report_out_puts(o, "<h3>By category</h3><figure>");
	report_chart_groups(o, "Solve rate per category", a->categories, a->ncategories);
	figure(o, "pass@1 per category with Wilson 95% intervals.");
	group_table(o, a->categories, a->ncategories);
	if (a->cand.n_excluded)
		report_out_printf(o, "<p class=\"note\">%zu task(s) had no scored epoch (every "
				  "attempt lost to infrastructure or interrupted) and are left "
			   "out of the statistics.</p>\n", a->cand.n_excluded);
	report_out_puts(o, "</section>\n");
}

static void horizon(struct out *o, const struct report_analysis *a)
{
	char h50[96], h80[96];

	report_out_puts(o, "<section id=\"horizon\"><h2>Time horizon</h2>\n");
	if (!a->has_horizon) {
		note(o, a->horizon_note);
		report_out_puts(o, "</section>\n");
		return;
	}
	report_fmt_interval(&a->horizon.h50, 1, h50, sizeof(h50));
	report_fmt_interval(&a->horizon.h80, 1, h80, sizeof(h80));
	report_out_printf(o, "<p>H50 <b>%s</b> and H80 <b>%s</b> expert-minutes: logistic fit "
			  "of per-task success on log2(expert minutes) over %zu timed tasks "
			  "(%.0f to %.0f minutes), task bootstrap 95%%.", h50, h80,
			  a->horizon.ntasks, a->horizon.min_minutes, a->horizon.max_minutes);
	for (unsigned bit = 1; bit <= HZ_ONE_LENGTH; bit <<= 1)
		if (a->horizon.flags & bit)
			report_out_printf(o, " <span class=\"badge v-pending\">%s</span>",
					  stats_horizon_flag_name(bit));
	report_out_puts(o, "</p>\n<figure>");
	report_chart_horizon(o, a);
	figure(o, "Each dot is a task (its success rate over epochs); the line is "
	       "the fitted curve; dashed lines mark H50 and H80. Flagged fits "
	       "(all-success, all-fail, separated) are bounds, not estimates.");
	report_out_puts(o, "</section>\n");
}

static void references(struct out *o, const struct report_analysis *a)
{
	report_out_puts(o, "<section id=\"references\"><h2>Comparison with references</h2>\n");
	if (!a->nrefs || !a->has_overall) {
		report_out_puts(o, a->nrefs ? "<p class=\"note\">no statistics for the candidate"
				"</p></section>\n" : "<p class=\"note\">No reference run given "
				"(<code>assay report RUN --reference RUN</code>): the new-frontier "
				"rule cannot be decided.</p></section>\n");
		return;
	}
	report_out_puts(o, "<figure>");
	report_chart_refs(o, a);
	figure(o, "pass@1 of each run on its own tasks.");
	report_out_puts(o, "<figure>");
	report_chart_diffs(o, a);
	figure(o, "Paired difference (candidate minus reference) on common tasks, "
	       "clustered-SE 95% interval; right of the dashed line favours the candidate.");
	report_out_puts(
		       o, "<table><tr><th>reference</th><th>model</th><th>suite</th>"
		   "<th class=\"n\">common tasks</th><th class=\"n\">difference [95%]</th>"
		   "<th class=\"n\">McNemar p</th></tr>\n");
	for (size_t i = 0; i < a->nrefs; i++)
		report_html_ref_row(o, &a->cmps[i]);
	report_out_puts(o, "</table></section>\n");
}

static void irt(struct out *o, const struct report_analysis *a)
{
	report_out_puts(o, "<section id=\"irt\"><h2>Placement on the IRT scale</h2>\n");
	if (!a->irt) {
		note(o, a->irt_note);
		report_out_puts(o, "</section>\n");
		return;
	}
	report_out_printf(o, "<p>2PL item response model fitted jointly over %zu run(s) and "
			  "%zu tasks (MAP, prior theta ~ N(0,1)); theta in logits, 200 "
			  "points = 3x the odds. Compare abilities only within this fit.</p>\n"
			  "<figure>", a->irt->nmodels, a->irt->nitems);
	report_chart_irt(o, a);
	figure(o, "Ability of each run with 95% interval; ticks: task difficulties.");
	if (*a->irt_note) {
		note(o, a->irt_note);
		report_out_puts(o, "\n");
	}
	report_out_puts(o, "</section>\n");
}

enum err report_html(const struct report_analysis *a, char **doc, struct errmsg *e)
{
	const struct report *r = a->cand.rep;
	struct out o;

	report_out_init(&o, REPORT_MAX_DOC);
	head(&o, r);
	title(&o, r);
	determination(&o, a);
	rates(&o, a);
	horizon(&o, a);
	references(&o, a);
	irt(&o, a);
	report_html_usage(&o, a);
	report_html_tasks(&o, r);
	report_html_transcripts(&o, r);
	report_out_puts(&o, "<p class=\"small\">Generated by assay. Intervals are two-sided "
			"95% unless a rule says otherwise; a rule's lower bound is one-sided "
			"at its confidence.</p>\n</main></body></html>\n");
	return report_out_finish(&o, doc, e);
}
