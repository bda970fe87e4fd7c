/*
 * policy_frontier.c - the new-frontier rule (reference doc §b rule 2):
 * the candidate's paired lower bound versus every reference run must be
 * above the margin. Against several references that means above the
 * strongest of them, which is the reference doc's R.
 *
 * pass@1: paired difference on the common tasks of the rule's subset,
 * interval by clustered SE (Wald) or paired cluster bootstrap.
 * theta: 2PL abilities fitted jointly over candidate and references on
 * the subset; interval from the joint posterior covariance.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "policy_int.h"
#include "base/banned.h"

/* References the rule compares with: `against` or all given. */
static size_t pick_refs(const struct policy_ectx *x, const struct policy_rule *r,
			const struct stats_run **refs)
{
	const struct policy_input *in = x->in;
	size_t n = 0;

	for (size_t i = 0; i < in->nreferences; i++) {
		bool use = r->nagainst == 0;
		for (size_t j = 0; j < r->nagainst && !use; j++)
			use = strcmp(r->against[j], in->references[i]->name) == 0;
		if (use)
			refs[n++] = in->references[i];
	}
	return n;
}

static void cmp_pass1(const struct policy_ectx *x, const struct policy_rule *r,
		      const struct stats_run *ref, struct policy_comparison *c)
{
	struct stats_boot_opts o = policy_boot_for(x, r);
	struct stats_filter f = policy_filter(r);
	struct stats_paired pd;
	struct errmsg e;

	c->reference = ref->name;
	c->mcnemar_p = -1;
	if (stats_paired_diff(x->in->candidate, ref, &f, &o, &pd, &e) != ERR_OK) {
		snprintf(c->detail, sizeof(c->detail), "%s", e.text);
		return;
	}
	c->evaluable = true;
	c->ncommon = pd.ncommon;
	c->diff = r->interval == INTERVAL_BOOTSTRAP ? pd.boot : pd.wald;
	c->mcnemar_p = pd.mcnemar.p;
	c->exceeds = c->diff.lo > r->margin;
	snprintf(c->detail, sizeof(c->detail),
		 "pass@1 %.3f vs %.3f on %zu common tasks: difference %.3f, lower "
		 "bound %.3f %s margin %.3f (McNemar p = %.3g)", pd.mean_a, pd.mean_b,
		 pd.ncommon, pd.diff, c->diff.lo, c->exceeds ? ">" : "<=", r->margin,
		 pd.mcnemar.p);
}

/* A copy of run restricted to the rule's subset (tasks in *buf). */
static struct stats_run restrict_run(const struct stats_run *run,
				     const struct stats_filter *f,
				     struct stats_task **buf)
{
	struct stats_run out = *run;
	struct stats_task *t = xcalloc(run->ntasks + 1, sizeof(*t));

	out.ntasks = 0;
	for (size_t i = 0; i < run->ntasks; i++)
		if (stats_task_matches(&run->tasks[i], f))
			t[out.ntasks++] = run->tasks[i];
	out.tasks = t;
	*buf = t;
	return out;
}

static void theta_fill(const struct policy_rule *r, const struct stats_irt *fit,
		       double level, size_t i, struct policy_comparison *c)
{
	c->evaluable = fit->connected;
	c->diff = stats_irt_diff(fit, 0, i, level);
	c->exceeds = c->evaluable && c->diff.lo > r->margin;
	if (!fit->connected)
		snprintf(c->detail, sizeof(c->detail), "runs share no tasks, so the "
			 "IRT scale does not link candidate and '%s'", c->reference);
	else
		snprintf(c->detail, sizeof(c->detail),
			 "theta %.3f vs %.3f: difference %.3f logits (%.0f points), "
			 "lower bound %.3f %s margin %.3f", fit->models[0].theta,
			 fit->models[i].theta, c->diff.est, stats_irt_points(c->diff.est),
			 c->diff.lo, c->exceeds ? ">" : "<=", r->margin);
}

static void cmp_theta(const struct policy_ectx *x, const struct policy_rule *r,
		      const struct stats_run **refs, size_t n,
		      struct policy_comparison *cmps)
{
	struct stats_filter f = policy_filter(r);
	struct stats_run *runs = xcalloc(n + 1, sizeof(*runs));
	struct stats_task **bufs = xcalloc(n + 1, sizeof(*bufs));
	const struct stats_run **rp = xcalloc(n + 1, sizeof(*rp));
	struct stats_irt_opts o = STATS_IRT_OPTS_INIT;
	struct stats_irt *fit = NULL;
	struct errmsg e;

	o.level = 2 * r->confidence - 1;
	for (size_t i = 0; i <= n; i++) {
		runs[i] = restrict_run(i ? refs[i - 1] : x->in->candidate, &f, &bufs[i]);
		rp[i] = &runs[i];
	}
	for (size_t i = 0; i < n; i++)
		cmps[i] = (struct policy_comparison){ .reference = refs[i]->name,
						      .mcnemar_p = -1 };
	if (stats_irt_fit(rp, n + 1, &o, &fit, &e) != ERR_OK)
		for (size_t i = 0; i < n; i++)
			snprintf(cmps[i].detail, sizeof(cmps[i].detail), "%s", e.text);
	for (size_t i = 0; fit && i < n; i++)
		theta_fill(r, fit, o.level, i + 1, &cmps[i]);
	stats_irt_free(fit);
	for (size_t i = 0; i <= n; i++)
		free(bufs[i]);
	free(bufs);
	free(runs);
	free(rp);
}

/* Triggered iff every comparison is evaluable and exceeds; not triggered
 * as soon as one evaluable comparison does not exceed. */
static void frontier_verdict(const struct policy_rule *r,
			     struct policy_rule_result *out)
{
	size_t worst = 0, bad = 0;
	bool all = true;

	for (size_t i = 0; i < out->ncmps; i++) {
		const struct policy_comparison *c = &out->cmps[i];
		if (!c->evaluable) {
			all = false;
			bad = i;
			continue;
		}
		if (!out->cmps[worst].evaluable || c->diff.lo < out->cmps[worst].diff.lo)
			worst = i;
	}
	out->value = out->cmps[worst].diff;
	out->threshold = r->margin;
	if (out->cmps[worst].evaluable && !out->cmps[worst].exceeds)
		out->verdict = VERDICT_NOT_TRIGGERED;
	else
		out->verdict = all ? VERDICT_TRIGGERED : VERDICT_NOT_EVALUABLE;
	snprintf(out->detail, sizeof(out->detail), "%s '%s': %s",
		 out->verdict == VERDICT_NOT_EVALUABLE ? "cannot compare with" :
		 "binding reference", out->cmps[all ? worst : bad].reference,
		 out->cmps[all ? worst : bad].detail);
}

void policy_eval_frontier(const struct policy_ectx *x, const struct policy_rule *r,
			  struct policy_rule_result *out)
{
	const struct stats_run **refs = xcalloc(x->in->nreferences + 1, sizeof(*refs));
	size_t n = pick_refs(x, r, refs);

	policy_subset_ids(x, r, out);
	if (n == 0) {
		out->verdict = r->required ? VERDICT_NOT_EVALUABLE : VERDICT_NOT_APPLICABLE;
		snprintf(out->detail, sizeof(out->detail), "no reference runs given "
			 "(assay report --reference RUN)");
		free(refs);
		return;
	}
	out->cmps = xcalloc(n, sizeof(*out->cmps));
	out->ncmps = n;
	if (r->metric == METRIC_THETA)
		cmp_theta(x, r, refs, n, out->cmps);
	else
		for (size_t i = 0; i < n; i++)
			cmp_pass1(x, r, refs[i], &out->cmps[i]);
	frontier_verdict(r, out);
	free(refs);
}
