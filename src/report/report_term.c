/*
 * report_term.c - the terminal table.
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "base/banned.h"

static void outcomes(const struct report_task *t, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->n_outcomes && used < n; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%s:%d",
					 i ? " " : "", t->outcomes[i].name,
					 t->outcomes[i].n);
}

static void term_validity(const struct report *r, FILE *out)
{
	size_t n;
	char **v = report_validity_lines(r, &n);

	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s\n", i > 1 ? "  " : "", v[i]);
	report_validity_lines_free(v, n);
}

void report_write_term(const struct report *r, FILE *out)
{
	char *agent = report_scaffold(r);

	fprintf(out, "run %lld  model %s  agent %s  suite %s (%.12s)  status %s\n",
		(long long)r->run.id, r->run.model, agent, r->run.suite_id,
		r->run.suite_digest ? r->run.suite_digest : "", r->run.status);
	free(agent);
	if (report_price_unknown(r))
		fprintf(out, "cost unknown: the model has no price in the price "
			"table (costs below read 0)\n");
	fprintf(out, "%-28s %-9s %4s %9s %8s %9s %6s %8s  %s\n", "task",
		"category", "tier", "solved", "wall s", "tokens", "infra",
		"unscored", "outcomes");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_task *t = &r->rows[i];
		char solved[24], oc[200];
		snprintf(solved, sizeof(solved), "%d/%d", t->successes, t->epochs);
		outcomes(t, oc, sizeof(oc));
		fprintf(out, "%-28.28s %-9s %4d %9s %8.1f %9ld %6d %8d  %s\n",
			t->meta->task_id, t->meta->category, t->meta->difficulty,
			solved, (double)t->wall_ms / 1000.0, t->tokens,
			t->infra_failures + t->interrupted, t->unscored, oc);
	}
	fprintf(out, "total: %d/%d episodes solved (%.1f%%), %d model "
		"failures (%d agent-caused), %d infrastructure failures (not "
		"counted), %d interrupted, %d epochs unscored\n", r->solved,
		r->scored, r->scored ? 100.0 * r->solved / r->scored : 0.0,
		r->model_failures, r->agent_caused, r->infra_failures,
		r->interrupted, r->unscored);
	if (r->pairs.scored < r->pairs.total)
		fprintf(out, "incomplete: %d of %d (task, epoch) pairs have no "
			"scored attempt (%d cut off, %d failed on infrastructure, "
			"%d invalidated, %d not started); 'assay resume %lld' "
			"runs them\n",
			r->pairs.total - r->pairs.scored, r->pairs.total,
			r->pairs.cut_off, r->pairs.failed_infra,
			r->pairs.invalidated, r->pairs.unstarted,
			(long long)r->run.id);
	term_validity(r, out);
	fprintf(out, "usage: %ld prompt + %ld completion tokens (%ld cached), "
		"$%.4f, %.1f s wall, %.1f s working\n", r->prompt_tokens,
		r->completion_tokens, r->cached_tokens, r->cost_usd,
		(double)r->wall_ms / 1000.0, (double)r->working_ms / 1000.0);
}

/* ---- determination and statistics ------------------------------------------ */

static void term_rule(const struct policy_rule_result *rr, FILE *out)
{
	char iv[96];

	report_verdict_value(rr, iv, sizeof(iv));
	fprintf(out, "  %-22s %-16s %-15s %s\n", rr->rule->name,
		policy_rule_type_name(rr->rule->type),
		policy_verdict_name(rr->verdict), iv);
	fprintf(out, "      %s\n", rr->detail);
}

static void term_determination(const struct report_analysis *a, FILE *out)
{
	char label[64];
	const struct policy_result *res = a->result;
	const struct policy_elicitation *m;

	if (!res) {
		fprintf(out, "determination: none (%s)\n", a->result_note);
		return;
	}
	m = &a->policy->elicitation;
	report_policy_label(a->policy, label, sizeof(label));
	fprintf(out, "determination: %s  (policy %s, %s)\n",
		policy_determination_name(res->determination), a->policy->id,
		label);
	fprintf(out, "  %s\n", res->reason);
	fprintf(out, "  elicitation: epochs %d (minimum %d), scaffolds %d "
		"(minimum %d), token budget %lld (minimum %lld)%s\n",
		res->elicitation.epochs, m->min_epochs, res->elicitation.scaffolds,
		m->min_scaffolds, res->elicitation.token_budget,
		m->min_token_budget, res->elicitation.adequate ? "" : ": below");
	fprintf(out, "  completeness: %s\n", res->completeness.detail);
	if (!a->token_budget)
		fprintf(out, "  token budget: %s\n", a->token_note);
	fprintf(out, "  %-22s %-16s %-15s %s\n", "rule", "type", "verdict",
		"value [lower, upper]");
	for (size_t i = 0; i < res->nrules; i++)
		term_rule(&res->rules[i], out);
}

static void term_summary(const char *name, const struct stats_summary *s,
			 FILE *out)
{
	char w[96];

	report_fmt_interval(&s->wilson, 3, w, sizeof(w));
	fprintf(out, "  %-14s pass@1 %s Wilson, [%.3f, %.3f] bootstrap; %zu "
		"tasks, %zu solved, pass@%d %.3f\n", name, w,
		report_finite(s->boot.lo), report_finite(s->boot.hi), s->ntasks,
		s->nsolved, s->k, report_finite(s->passk));
}

static void term_groups(const struct report_group *g, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		if (g[i].ok)
			term_summary(g[i].name, &g[i].s, out);
		else
			fprintf(out, "  %-14s %s\n", g[i].name, g[i].note);
	}
}

static void term_horizon(const struct report_analysis *a, FILE *out)
{
	char h50[96], h80[96], flags[160] = "";

	if (!a->has_horizon) {
		fprintf(out, "  time horizon: %s\n", a->horizon_note);
		return;
	}
	for (unsigned bit = 1; bit <= HZ_ONE_LENGTH; bit <<= 1)
		if (a->horizon.flags & bit)
			snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags),
				 " %s", stats_horizon_flag_name(bit));
	report_fmt_interval(&a->horizon.h50, 1, h50, sizeof(h50));
	report_fmt_interval(&a->horizon.h80, 1, h80, sizeof(h80));
	fprintf(out, "  time horizon: H50 %s, H80 %s expert-minutes on %zu timed "
		"tasks%s%s\n", h50, h80, a->horizon.ntasks, *flags ? "; flags:" : "",
		flags);
	if (a->horizon.ndefault)
		fprintf(out, "  time horizon: %zu task%s with a default expert time "
			"(tag " STATS_TAG_DEFAULT_MINUTES ") left out\n",
			a->horizon.ndefault, a->horizon.ndefault == 1 ? "" : "s");
}

static void term_irt(const struct report_analysis *a, FILE *out)
{
	if (!a->irt) {
		fprintf(out, "  IRT: %s\n", a->irt_note);
		return;
	}
	for (size_t i = 0; i < a->irt->nmodels; i++) {
		const struct stats_irt_model *m = &a->irt->models[i];
		char th[96];
		report_fmt_interval(&m->ci, 2, th, sizeof(th));
		fprintf(out, "  IRT theta run %s (%s): %s logits, %.0f points\n",
			m->run, m->model ? m->model : "?", th,
			report_finite(stats_irt_points(m->theta)));
	}
	if (*a->irt_note)
		fprintf(out, "  IRT: %s\n", a->irt_note);
}

static void term_refs(const struct report_analysis *a, FILE *out)
{
	for (size_t i = 0; i < a->nrefs; i++) {
		const struct report_refcmp *c = &a->cmps[i];
		char d[96];
		if (!c->ok) {
			fprintf(out, "  vs run %s (%s): %s\n", c->ref->name,
				c->ref->rep->run.model, c->note);
			continue;
		}
		report_fmt_interval(&c->paired.wald, 3, d, sizeof(d));
		fprintf(out, "  vs run %s (%s): pass@1 %.3f vs %.3f on %zu common "
			"tasks, difference %s (clustered SE), McNemar p = %.3g\n",
			c->ref->name, c->ref->rep->run.model, c->paired.mean_a,
			c->paired.mean_b, c->paired.ncommon, d,
			report_finite(c->paired.mcnemar.p));
	}
}

void report_write_analysis_term(const struct report_analysis *a, FILE *out)
{
	term_determination(a, out);
	fprintf(out, "statistics (two-sided %.0f%% intervals):\n", 100 * REPORT_LEVEL);
	if (a->has_overall)
		term_summary("all tasks", &a->overall, out);
	else
		fprintf(out, "  %s\n", a->overall_note);
	term_groups(a->tiers, a->ntiers, out);
	term_groups(a->categories, a->ncategories, out);
	term_horizon(a, out);
	term_irt(a, out);
	term_refs(a, out);
	if (a->cand.n_excluded)
		fprintf(out, "  note: %zu task(s) with no scored epoch left out of "
			"the statistics\n", a->cand.n_excluded);
	fputc('\n', out);
	report_write_term(a->cand.rep, out);
	report_write_humans_term(a->cand.rep, out);
}
