/*
 * report_md.c - the report as Markdown: the determination first, then
 * the statistics and the per-task table. Every string from a task, a
 * model or the journal goes through report_out_md.
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "report/report_int.h"
#include "base/banned.h"

/* A note paragraph (text escaped), e.g. why a section has no table. */
static void md_note(struct out *o, const char *text)
{
	report_out_md(o, text);
	report_out_puts(o, "\n\n");
}

/* The same fields as report_html.c's title(), in Markdown's markup and
 * escaping: each renderer keeps its own so that it reads as its output. */
static void md_header(struct out *o, const struct report *r)
{
	char when[40];

	iso8601(r->run.created_ms, when, sizeof(when));
	report_out_printf(o, "# assay report: run %lld\n\n",
			  (long long)r->run.id);
	char *agent = report_scaffold(r);

	report_out_puts(o, "| | |\n|---|---|\n| model | ");
	report_out_md(o, r->run.model);
	report_out_puts(o, " |\n| agent scaffold | ");
	report_out_md(o, agent);
	free(agent);
	report_out_puts(o, " |\n| suite | ");
	report_out_md(o, r->run.suite_id);
	report_out_puts(o, " `");
	report_out_md(o, r->run.suite_digest);
	report_out_printf(o, "` |\n| epochs | %d |\n| status | ", r->run.epochs);
	report_out_md(o, r->run.status);
	report_out_printf(o, " |\n| created | %s |\n| harness | ", when);
	report_out_md(o, r->run.harness_version);
	if (report_price_unknown(r))
		report_out_puts(o, " |\n| cost | unknown: the model has no price in "
				   "the price table");
	report_out_puts(o, " |\n\n");
}

static void md_rule(struct out *o, const struct policy_rule_result *rr)
{
	char v[96];

	report_out_printf(o, "| %s | %s | **%s** | %s | ", rr->rule->name,
			  policy_rule_type_name(rr->rule->type),
			  policy_verdict_name(rr->verdict),
			  report_verdict_value(rr, v, sizeof(v)));
	if (rr->verdict == VERDICT_NOT_APPLICABLE ||
	    rr->verdict == VERDICT_NOT_EVALUABLE)
		report_out_puts(o, "- | ");
	else
		report_out_printf(o, "%g | ", report_finite(rr->threshold));
	report_out_printf(o, "%zu | ", rr->ntasks);
	report_out_md(o, rr->detail);
	report_out_puts(o, " |\n");
}

static void md_rule_tasks(struct out *o, const struct policy_rule_result *rr)
{
	if (!rr->ntasks || rr->verdict == VERDICT_NOT_APPLICABLE)
		return;
	report_out_printf(o, "- **%s**: ", rr->rule->name);
	for (size_t i = 0; i < rr->ntasks; i++) {
		report_out_puts(o, i ? ", " : "");
		report_out_md(o, rr->task_ids[i]);
	}
	report_out_puts(o, "\n");
}

static void md_determination(struct out *o, const struct report_analysis *a)
{
	char label[64];
	const struct policy_result *res = a->result;
	const struct policy_elicitation *m;

	report_out_puts(o, "## Determination\n\n");
	if (!res) {
		report_out_puts(o, "No determination: ");
		report_out_md(o, a->result_note);
		report_out_puts(o, ".\n\n");
		return;
	}
	m = &a->policy->elicitation;
	report_out_printf(o, "**%s** under policy `", policy_determination_name(res->determination));
	report_out_md(o, a->policy->id);
	report_out_puts(o, "` (");
	report_policy_label(a->policy, label, sizeof(label));
	report_out_md(o, label);
	report_out_puts(o, "): ");
	report_out_md(o, res->reason);
	report_out_puts(o, ".\n\n| elicitation | measured | minimum |\n|---|---|---|\n");
	report_out_printf(o, "| epochs (fewest of any task) | %d | %d |\n| scaffolds | %d | %d |\n"
			  "| token budget per episode | %lld | %lld |\n\n",
			  res->elicitation.epochs, m->min_epochs, res->elicitation.scaffolds,
			  m->min_scaffolds, res->elicitation.token_budget,
			  m->min_token_budget);
	report_out_puts(o, "Completeness: ");
	report_out_md(o, res->completeness.detail);
	report_out_puts(o, ". Token budget source: ");
	report_out_md(o, a->token_note);
	report_out_puts(o, ".\n\n| rule | type | verdict | value [lower, upper] | threshold "
			"| tasks | evidence |\n|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < res->nrules; i++)
		md_rule(o, &res->rules[i]);
	report_out_puts(o, "\nTasks behind each rule:\n\n");
	for (size_t i = 0; i < res->nrules; i++)
		md_rule_tasks(o, &res->rules[i]);
	report_out_puts(o, "\n");
}

static void md_summary_row(struct out *o, const char *name,
			   const struct stats_summary *s)
{
	report_out_puts(o, "| ");
	report_out_md(o, name);
	report_out_printf(o,
			  " | %zu | %zu/%zu | %.3f | [%.3f, %.3f] | [%.3f, %.3f] | "
			  "pass@%d %.3f |\n",
			  s->ntasks, s->nsuccesses, s->ntrials,
			  report_finite(s->pass1), report_finite(s->wilson.lo),
			  report_finite(s->wilson.hi),
			  report_finite(s->boot.lo), report_finite(s->boot.hi),
			  s->k, report_finite(s->passk));
}

/* The table's heading and rows, without the blank line that ends it. */
static void md_group_rows(struct out *o, const char *title,
			  const struct report_group *g, size_t n)
{
	report_out_printf(o,
			  "### %s\n\n| group | tasks | episodes solved | pass@1 | "
			  "Wilson 95%% | bootstrap 95%% | pass@k |\n"
			  "|---|---|---|---|---|---|---|\n",
			  title);
	for (size_t i = 0; i < n; i++) {
		if (g[i].ok) {
			md_summary_row(o, g[i].name, &g[i].s);
			continue;
		}
		report_out_puts(o, "| ");
		report_out_md(o, g[i].name);
		report_out_puts(o, " | ");
		report_out_md(o, g[i].note);
		report_out_puts(o, " | | | | | |\n");
	}
}

static void md_groups(struct out *o, const char *title,
		      const struct report_group *g, size_t n)
{
	md_group_rows(o, title, g, n);
	report_out_puts(o, "\n");
}

static void md_rates(struct out *o, const struct report_analysis *a)
{
	report_out_puts(o, "## Solve rates\n\n");
	if (!a->has_overall) {
		md_note(o, a->overall_note);
		return;
	}
	md_group_rows(o, "Overall", NULL, 0);
	md_summary_row(o, "all tasks", &a->overall);
	report_out_puts(o, "\n");
	md_groups(o, "By tier", a->tiers, a->ntiers);
	md_groups(o, "By category", a->categories, a->ncategories);
	if (a->cand.n_excluded)
		report_out_printf(o, "%zu task(s) had no scored epoch and are left out.\n\n",
				  a->cand.n_excluded);
}

static void md_horizon(struct out *o, const struct report_analysis *a)
{
	char h50[96], h80[96];

	report_out_puts(o, "## Time horizon\n\n");
	if (!a->has_horizon) {
		md_note(o, a->horizon_note);
		return;
	}
	report_fmt_interval(&a->horizon.h50, 1, h50, sizeof(h50));
	report_fmt_interval(&a->horizon.h80, 1, h80, sizeof(h80));
	report_out_printf(o, "H50 %s, H80 %s expert-minutes (logistic fit on log2 expert "
			  "minutes, %zu timed tasks from %.0f to %.0f minutes).", h50, h80,
		   a->horizon.ntasks, a->horizon.min_minutes, a->horizon.max_minutes);
	for (unsigned bit = 1; bit <= HZ_ONE_LENGTH; bit <<= 1)
		if (a->horizon.flags & bit)
			report_out_printf(o, " Flag `%s`.", stats_horizon_flag_name(bit));
	if (a->horizon.ndefault)
		report_out_printf(o, " %zu task%s whose time is an import default (tag "
				  "`" STATS_TAG_DEFAULT_MINUTES "`) left out.",
			   a->horizon.ndefault, a->horizon.ndefault == 1 ? "" : "s");
	report_out_puts(o, "\n\n");
}

static void md_refs(struct out *o, const struct report_analysis *a)
{
	report_out_puts(o, "## Comparison with references\n\n");
	if (!a->nrefs) {
		report_out_puts(
			       o, "No reference runs given (`--reference RUN`).\n\n");
		return;
	}
	report_out_puts(o, "| reference | model | common tasks | pass@1 candidate | pass@1 "
			"reference | difference [95% clustered] | McNemar p |\n"
			"|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < a->nrefs; i++) {
		const struct report_refcmp *c = &a->cmps[i];
		char d[96];
		report_out_printf(o, "| run %s | ", c->ref->name);
		report_out_md(o, c->ref->rep->run.model);
		if (!c->ok) {
			report_out_puts(o, " | ");
			report_out_md(o, c->note);
			report_out_puts(o, " | | | | |\n");
			continue;
		}
		report_fmt_interval(&c->paired.wald, 3, d, sizeof(d));
		report_out_printf(o, " | %zu | %.3f | %.3f | %s | %.3g |\n", c->paired.ncommon,
				  c->paired.mean_a, c->paired.mean_b, d,
				  report_finite(c->paired.mcnemar.p));
	}
	report_out_puts(o, "\n");
}

static void md_irt(struct out *o, const struct report_analysis *a)
{
	report_out_puts(o, "## IRT placement (2PL)\n\n");
	if (!a->irt) {
		md_note(o, a->irt_note);
		return;
	}
	report_out_puts(o, "| run | model | theta (logits) [95%] | points |\n|---|---|---|---|\n");
	for (size_t i = 0; i < a->irt->nmodels; i++) {
		const struct stats_irt_model *m = &a->irt->models[i];
		char th[96];
		report_fmt_interval(&m->ci, 2, th, sizeof(th));
		report_out_printf(o, "| %s | ", m->run);
		report_out_md(o, m->model);
		report_out_printf(o, " | %s | %.0f |\n", th,
				  report_finite(stats_irt_points(m->theta)));
	}
	report_out_puts(o, "\n");
	if (*a->irt_note) {
		md_note(o, a->irt_note);
	}
}

static void md_usage(struct out *o, const struct report *r)
{
	struct report_outcome oc[64];
	size_t n = report_outcome_totals(r, oc, 64);

	report_out_printf(o, "## Usage and failures\n\n%d of %d scored episodes solved; "
			  "%d model failures (%d agent-caused); %d infrastructure "
			  "failures (retried, not counted); %d interrupted; %d epochs "
			  "without a scored attempt.\n\nTokens: %ld prompt + %ld completion "
			  "(%ld cached); cost $%.4f; wall %.1f s; working %.1f s.\n\n",
			  r->solved, r->scored, r->model_failures, r->agent_caused,
			  r->infra_failures, r->interrupted, r->unscored,
			  r->prompt_tokens, r->completion_tokens,
			  r->cached_tokens, r->cost_usd, r->wall_ms / 1000.0,
			  r->working_ms / 1000.0);
	report_out_puts(o, "| outcome | episodes |\n|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		report_out_puts(o, "| ");
		report_out_md(o, oc[i].name);
		report_out_printf(o, " | %d |\n", oc[i].n);
	}
	report_out_puts(o, "\n");
}

static void md_validity(struct out *o, const struct report *r)
{
	size_t n;
	char **v = report_validity_lines(r, &n);

	report_out_puts(o, "## Validity and reviews\n\n");
	for (size_t i = 0; i < n; i++) {
		report_out_puts(o, i > 1 ? "- " : "");
		report_out_md(o, v[i]);
		report_out_puts(o, i > 1 && i + 1 < n ? "\n" : "\n\n");
	}
	report_validity_lines_free(v, n);
}

static void md_tasks(struct out *o, const struct report *r)
{
	report_out_puts(o, "## Tasks\n\n| task | category | tier | expert min | solved | "
			"tokens | wall s | infra | unscored |\n"
			"|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_task *t = &r->rows[i];
		report_out_puts(o, "| ");
		report_out_md(o, t->meta->task_id);
		report_out_puts(o, " | ");
		report_out_md(o, t->meta->category);
		report_out_printf(
			o, " | %d | %g | %d/%d | %ld | %.1f | %d | %d |\n",
			t->meta->difficulty,
			report_finite(t->meta->expert_minutes), t->successes,
			t->epochs, t->tokens, t->wall_ms / 1000.0,
			t->infra_failures + t->interrupted, t->unscored);
	}
	report_out_printf(o, "\nTranscripts: `assay show %lld --episode ID --transcript`.\n",
			  (long long)r->run.id);
}

/* Human baselines (report_human.c) beside the declared expert minutes. */
/* The same table as report_html_tasks.c's html_humans(), in Markdown (as
 * md_header() beside title()). */
static void md_humans(struct out *o, const struct report *r)
{
	if (!r->humans)
		return;
	report_out_printf(o, "\n## Human baselines\n\n%d run%s of `assay human` "
			  "(sessions on the same task content).\n\n| task | "
			  "declared min | human median min | humans solved | "
			  "this run solved |\n|---|---|---|---|---|\n",
			  r->human_runs, r->human_runs == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_human *h = &r->humans[i];
		const struct report_task *t = &r->rows[i];

		report_out_puts(o, "| ");
		report_out_md(o, t->meta->task_id);
		report_out_printf(o, " | %g | ", report_finite(t->meta->expert_minutes));
		if (h->median_minutes >= 0)
			report_out_printf(o, "%.1f", report_finite(h->median_minutes));
		else
			report_out_puts(o, "-");
		report_out_printf(o, " | %d/%d | %d/%d |\n", h->solved, h->attempts,
				  t->successes, t->epochs);
	}
}

enum err report_markdown(const struct report_analysis *a, char **out,
			 struct errmsg *e)
{
	struct out o;

	report_out_init(&o, REPORT_MAX_DOC);
	md_header(&o, a->cand.rep);
	md_determination(&o, a);
	md_rates(&o, a);
	md_horizon(&o, a);
	md_refs(&o, a);
	md_irt(&o, a);
	md_usage(&o, a->cand.rep);
	md_validity(&o, a->cand.rep);
	md_tasks(&o, a->cand.rep);
	md_humans(&o, a->cand.rep);
	return report_out_finish(&o, out, e);
}
