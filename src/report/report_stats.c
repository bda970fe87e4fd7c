/*
 * report_stats.c - from loaded reports to statistics and a determination.
 *
 * A report becomes a stats_run (tasks with no scored epoch left out and
 * counted); the candidate gets an overall summary, one per tier and per
 * category, a time horizon, a 2PL fit together with the references, a
 * paired difference against each reference, and the policy's
 * determination. Statistical failures (an empty subset, no timed task,
 * runs on different suites) become notes next to the figure they stop:
 * a report always renders.
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "report/report_int.h"
#include "base/banned.h"

/* ---- a report as a stats_run ------------------------------------------- */

static size_t count_words(const char *s)
{
	size_t n = 0;
	bool in = false;

	for (; s && *s; s++) {
		if (*s != ' ' && !in)
			n++;
		in = *s != ' ';
	}
	return n;
}

/* Split each task's space-separated tags into srun->tagv slices. */
static void split_tags(struct report_srun *sr)
{
	const struct report *r = sr->rep;
	size_t total = 0, used = 0;

	for (size_t i = 0; i < r->n_tasks; i++)
		total += count_words(r->tasks[i].tags);
	sr->tagv = xcalloc(total + 1, sizeof(*sr->tagv));
	sr->tagcopy = xcalloc(r->n_tasks + 1, sizeof(*sr->tagcopy));
	for (size_t i = 0; i < r->n_tasks; i++) {
		char *save = NULL, *tok;
		sr->tagcopy[i] = xstrdup(r->tasks[i].tags ? r->tasks[i].tags : "");
		for (tok = strtok_r(sr->tagcopy[i], " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			sr->tagv[used++] = tok;
	}
}

static void srun_init(struct report_srun *sr, const struct report *r)
{
	const char **tag = NULL;

	sr->rep = r;
	snprintf(sr->name, sizeof(sr->name), "%lld", (long long)r->run.id);
	snprintf(sr->suite, sizeof(sr->suite), "%s@%.12s",
		 r->run.suite_id ? r->run.suite_id : "?",
		 r->run.suite_digest ? r->run.suite_digest : "");
	split_tags(sr);
	tag = sr->tagv;
	sr->tasks = xcalloc(r->n_tasks + 1, sizeof(*sr->tasks));
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_task *row = &r->rows[i];
		size_t nt = count_words(r->tasks[i].tags);
		if (row->epochs <= 0) {
			sr->n_excluded++;
			tag += nt;
			continue;
		}
		sr->tasks[sr->run.ntasks++] = (struct stats_task){
			.id = row->meta->task_id, .category = row->meta->category,
			.tier = row->meta->difficulty,
			.expert_minutes = row->meta->expert_minutes,
			.tags = tag, .ntags = nt, .successes = row->successes,
			.epochs = row->epochs };
		tag += nt;
	}
	sr->run.name = sr->name;
	sr->run.model = r->run.model;
	sr->run.suite = sr->suite;
	sr->run.tasks = sr->tasks;
}

static void srun_release(struct report_srun *sr)
{
	for (size_t i = 0; sr->tagcopy && i < sr->rep->n_tasks; i++)
		free(sr->tagcopy[i]);
	free(sr->tagcopy);
	free(sr->tagv);
	free(sr->tasks);
}

/* ---- summaries per tier and category ------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void summarize(const struct report_analysis *a, const struct stats_filter *f,
		      struct report_group *g)
{
	struct errmsg e;

	g->ok = stats_summarize(&a->cand.run, f, 0, &a->boot, &g->s, &e) == ERR_OK;
	if (!g->ok)
		snprintf(g->note, sizeof(g->note), "%s", e.text);
}

static void group_tiers(struct report_analysis *a)
{
	const struct stats_run *run = &a->cand.run;
	int *tiers = xcalloc(run->ntasks + 1, sizeof(*tiers));
	size_t n = 0;

	for (size_t i = 0; i < run->ntasks; i++)
		tiers[i] = run->tasks[i].tier;
	qsort(tiers, run->ntasks, sizeof(*tiers), cmp_int);
	a->tiers = xcalloc(run->ntasks + 1, sizeof(*a->tiers));
	for (size_t i = 0; i < run->ntasks; i++) {
		struct report_group *g;
		struct stats_filter f = { .tiers = &tiers[i], .ntiers = 1 };
		if (i && tiers[i] == tiers[i - 1])
			continue;
		g = &a->tiers[n++];
		g->tier = tiers[i];
		snprintf(g->name, sizeof(g->name), "tier %d", tiers[i]);
		summarize(a, &f, g);
	}
	a->ntiers = n;
	free(tiers);
}

static void group_categories(struct report_analysis *a)
{
	const struct stats_run *run = &a->cand.run;
	const char **cats = xcalloc(run->ntasks + 1, sizeof(*cats));
	size_t n = 0, m = 0;

	for (size_t i = 0; i < run->ntasks; i++)
		if (run->tasks[i].category)
			cats[m++] = run->tasks[i].category;
	qsort(cats, m, sizeof(*cats), cmp_str);
	a->categories = xcalloc(m + 1, sizeof(*a->categories));
	for (size_t i = 0; i < m; i++) {
		struct report_group *g;
		struct stats_filter f = { .categories = &cats[i], .ncategories = 1 };
		if (i && !strcmp(cats[i], cats[i - 1]))
			continue;
		g = &a->categories[n++];
		g->category = cats[i];
		snprintf(g->name, sizeof(g->name), "%s", cats[i]);
		summarize(a, &f, g);
	}
	a->ncategories = n;
	free(cats);
}

/* ---- horizon, IRT, references ------------------------------------------- */

static void fit_horizon(struct report_analysis *a)
{
	struct errmsg e;

	a->has_horizon = stats_horizon_fit(&a->cand.run, NULL, &a->boot,
					   &a->horizon, &e) == ERR_OK;
	if (!a->has_horizon)
		snprintf(a->horizon_note, sizeof(a->horizon_note), "%s", e.text);
}

/* The runs that have tasks: candidate first, then references. */
static size_t usable_runs(const struct report_analysis *a,
			  const struct stats_run **runs)
{
	size_t n = 0;

	runs[n++] = &a->cand.run;
	for (size_t i = 0; i < a->nrefs; i++)
		if (a->refs[i].run.ntasks)
			runs[n++] = &a->refs[i].run;
	return n;
}

static void fit_irt(struct report_analysis *a)
{
	const struct stats_run **runs = xcalloc(a->nrefs + 2, sizeof(*runs));
	struct stats_irt_opts o = STATS_IRT_OPTS_INIT;
	size_t n = usable_runs(a, runs);
	struct errmsg e;

	o.level = REPORT_LEVEL;
	if (stats_irt_fit(runs, n, &o, &a->irt, &e) != ERR_OK) {
		a->irt = NULL;
		snprintf(a->irt_note, sizeof(a->irt_note), "%s", e.text);
	} else if (!a->irt->connected) {
		snprintf(a->irt_note, sizeof(a->irt_note), "the runs share no "
			 "tasks, so their abilities are not on a common scale; "
			 "compare them only within one suite");
	} else if (!a->irt->converged) {
		snprintf(a->irt_note, sizeof(a->irt_note), "the fit stopped after "
			 "%u iterations without converging", a->irt->iterations);
	}
	free(runs);
}

static void compare_refs(struct report_analysis *a)
{
	a->cmps = xcalloc(a->nrefs + 1, sizeof(*a->cmps));
	for (size_t i = 0; i < a->nrefs; i++) {
		struct report_refcmp *c = &a->cmps[i];
		struct errmsg e;
		c->ref = &a->refs[i];
		if (!c->ref->run.ntasks) {
			snprintf(c->note, sizeof(c->note), "run %s has no scored "
				 "episode", c->ref->name);
			continue;
		}
		c->has_summary = stats_summarize(&c->ref->run, NULL, 0, &a->boot,
						 &c->s, &e) == ERR_OK;
		if (!c->has_summary) {
			snprintf(c->note, sizeof(c->note), "%s", e.text);
			continue;
		}
		c->ok = stats_paired_diff(&a->cand.run, &c->ref->run, NULL,
					  &a->boot, &c->paired, &e) == ERR_OK;
		if (!c->ok)
			snprintf(c->note, sizeof(c->note), "%s", e.text);
	}
}

/* ---- elicitation: scaffolds and token budget ------------------------------ */

static void elicitation(struct report_analysis *a)
{
	const struct report **runs = xcalloc(a->nrefs + 2, sizeof(*runs));
	size_t n = 0;

	runs[n++] = a->cand.rep;
	for (size_t i = 0; i < a->nrefs; i++)
		runs[n++] = a->refs[i].rep;
	a->scaffolds = report_scaffolds(runs, n);
	a->token_budget = report_token_budget(a->cand.rep, a->token_note,
					      sizeof(a->token_note));
	free(runs);
}

/* ---- the determination ---------------------------------------------------- */

static enum err determine(struct report_analysis *a, struct errmsg *e)
{
	const struct stats_run **refs = xcalloc(a->nrefs + 1, sizeof(*refs));
	struct policy_input in = { .candidate = &a->cand.run, .references = refs,
				   .scaffolds = a->scaffolds,
				   .token_budget = a->token_budget,
				   .refusals = report_refusals(a->cand.rep) };
	const struct report *r = a->cand.rep;
	enum err rc = ERR_OK;

	in.attempts = (struct policy_attempts){
		.given = true, .attempts = r->attempts,
		.invalid = r->infra_failures + r->interrupted,
		.planned = (int)r->n_tasks * r->run.epochs,
		.unscored = r->unscored };

	for (size_t i = 0; i < a->nrefs; i++)
		if (a->refs[i].run.ntasks)
			refs[in.nreferences++] = &a->refs[i].run;
	if (!a->cand.run.ntasks)
		snprintf(a->result_note, sizeof(a->result_note), "run %s has no "
			 "scored episode: there is nothing to determine",
			 a->cand.name);
	else
		rc = policy_evaluate(a->policy, &in, &a->result, e);
	free(refs);
	return rc;
}

static enum err check_refs(const struct report *cand,
			   const struct report *const *refs, size_t nrefs,
			   struct errmsg *e)
{
	for (size_t i = 0; i < nrefs; i++) {
		if (refs[i]->run.id == cand->run.id)
			return err_set(e, ERR_INVAL, "run %lld cannot be its own "
				       "reference", (long long)cand->run.id);
		for (size_t j = 0; j < i; j++)
			if (refs[j]->run.id == refs[i]->run.id)
				return err_set(e, ERR_INVAL, "reference run %lld "
					       "given twice",
					       (long long)refs[i]->run.id);
	}
	return ERR_OK;
}

static void compute(struct report_analysis *a)
{
	struct errmsg e;

	if (!a->cand.run.ntasks) {
		snprintf(a->overall_note, sizeof(a->overall_note), "run %s has "
			 "no scored episode", a->cand.name);
		snprintf(a->horizon_note, sizeof(a->horizon_note), "%s",
			 a->overall_note);
		snprintf(a->irt_note, sizeof(a->irt_note), "%s", a->overall_note);
		a->tiers = xcalloc(1, sizeof(*a->tiers));
		a->categories = xcalloc(1, sizeof(*a->categories));
		return;
	}
	a->has_overall = stats_summarize(&a->cand.run, NULL, 0, &a->boot,
					 &a->overall, &e) == ERR_OK;
	if (!a->has_overall)
		snprintf(a->overall_note, sizeof(a->overall_note), "%s", e.text);
	group_tiers(a);
	group_categories(a);
	fit_horizon(a);
	fit_irt(a);
}

enum err report_analyze(const struct report *cand,
			const struct report *const *refs, size_t nrefs,
			const struct policy *p, struct report_analysis **out,
			struct errmsg *e)
{
	struct report_analysis *a;
	struct stats_boot_opts boot = STATS_BOOT_OPTS_INIT;
	enum err rc = check_refs(cand, refs, nrefs, e);

	if (rc)
		return rc;
	a = xcalloc(1, sizeof(*a));
	if (p)
		boot = p->boot;
	boot.level = REPORT_LEVEL;
	a->boot = boot;
	a->policy = p;
	srun_init(&a->cand, cand);
	a->nrefs = nrefs;
	a->refs = xcalloc(nrefs + 1, sizeof(*a->refs));
	for (size_t i = 0; i < nrefs; i++)
		srun_init(&a->refs[i], refs[i]);
	elicitation(a);
	if (p && (rc = determine(a, e))) {
		report_analysis_free(a);
		return rc;
	}
	if (!p)
		snprintf(a->result_note, sizeof(a->result_note), "no policy given");
	compute(a);
	compare_refs(a);
	*out = a;
	return ERR_OK;
}

void report_analysis_free(struct report_analysis *a)
{
	if (!a)
		return;
	srun_release(&a->cand);
	for (size_t i = 0; i < a->nrefs; i++)
		srun_release(&a->refs[i]);
	free(a->refs);
	free(a->tiers);
	free(a->categories);
	free(a->cmps);
	stats_irt_free(a->irt);
	policy_result_free(a->result);
	free(a);
}
