/*
 * run.c - checking runs, selecting subsets, matching tasks across runs and
 * grouping tasks into clusters.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "stats_int.h"
#include "base/banned.h"

static bool has_str(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (v[i] && strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool has_int(const int *v, size_t n, int x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static bool has_any_tag(const struct stats_task *t, const struct stats_filter *f)
{
	for (size_t i = 0; i < t->ntags; i++)
		if (has_str(f->tags, f->ntags, t->tags[i]))
			return true;
	return false;
}

bool stats_task_matches(const struct stats_task *t, const struct stats_filter *f)
{
	if (!f)
		return true;
	if (f->ntiers && !has_int(f->tiers, f->ntiers, t->tier))
		return false;
	if (f->ncategories && !has_str(f->categories, f->ncategories, t->category))
		return false;
	if (f->ntags && !has_any_tag(t, f))
		return false;
	if (f->min_minutes > 0 && !(t->expert_minutes >= f->min_minutes))
		return false;
	return true;
}

struct keyed {
	const char *key;
	size_t idx;
};

static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	if (!a->key || !b->key) /* NULL keys are all distinct */
		return a->key ? 1 : b->key ? -1 : (a->idx > b->idx) - (a->idx < b->idx);
	return strcmp(a->key, b->key);
}

static struct keyed *sorted_ids(const struct stats_run *run)
{
	struct keyed *k = xcalloc(run->ntasks, sizeof(*k));

	for (size_t i = 0; i < run->ntasks; i++) {
		k[i].key = run->tasks[i].id;
		k[i].idx = i;
	}
	qsort(k, run->ntasks, sizeof(*k), cmp_keyed);
	return k;
}

static enum err check_task(const struct stats_run *run,
			   const struct stats_task *t, struct errmsg *e)
{
	if (!t->id)
		return err_set(e, ERR_INVAL, "run '%s': a task has no id", run->name);
	if (t->epochs < 1 || t->epochs > STATS_MAX_EPOCHS)
		return err_set(e, ERR_INVAL, "run '%s' task '%s': %d epochs (need 1..%d)",
			       run->name, t->id, t->epochs, STATS_MAX_EPOCHS);
	if (t->successes < 0 || t->successes > t->epochs)
		return err_set(e, ERR_INVAL, "run '%s' task '%s': %d successes out of %d epochs",
			       run->name, t->id, t->successes, t->epochs);
	return ERR_OK;
}

enum err stats_run_check(const struct stats_run *run, struct errmsg *e)
{
	struct keyed *k;
	enum err rc = ERR_OK;

	if (!run->name)
		return err_set(e, ERR_INVAL, "a run has no name");
	for (size_t i = 0; i < run->ntasks; i++) {
		rc = check_task(run, &run->tasks[i], e);
		if (rc)
			return rc;
	}
	k = sorted_ids(run);
	for (size_t i = 1; i < run->ntasks && !rc; i++)
		if (strcmp(k[i - 1].key, k[i].key) == 0)
			rc = err_set(e, ERR_INVAL, "run '%s': task '%s' appears twice",
				     run->name, k[i].key);
	free(k);
	return rc;
}

static long find_id(const struct keyed *k, size_t n, const char *id)
{
	struct keyed key = { .key = id };
	const struct keyed *hit = bsearch(&key, k, n, sizeof(*k), cmp_keyed);

	return hit ? (long)hit->idx : -1;
}

/* Index of task t in every run, or false when some run lacks it. */
static bool match_all(struct keyed **sorted, const struct stats_run *const *runs,
		      size_t nruns, const char *id, size_t *row)
{
	for (size_t r = 1; r < nruns; r++) {
		long j = find_id(sorted[r], runs[r]->ntasks, id);
		if (j < 0)
			return false;
		row[r] = (size_t)j;
	}
	return true;
}

static enum err no_common(const struct stats_run *const *runs, size_t nruns,
			  struct errmsg *e)
{
	if (nruns == 1)
		return err_set(e, ERR_INVAL, "run '%s': no task in the selected subset",
			       runs[0]->name);
	return err_set(e, ERR_INVAL,
		       "runs '%s' (suite '%s') and '%s' (suite '%s') share no task "
		       "in the selected subset",
		       runs[0]->name, runs[0]->suite ? runs[0]->suite : "?",
		       runs[1]->name, runs[1]->suite ? runs[1]->suite : "?");
}

enum err stats_common_tasks(const struct stats_run *const *runs, size_t nruns,
			    const struct stats_filter *f, size_t **idx_out,
			    size_t *n_out, struct errmsg *e)
{
	struct keyed **sorted = xcalloc(nruns, sizeof(*sorted));
	size_t *idx = xcalloc(runs[0]->ntasks * nruns + 1, sizeof(*idx));
	size_t n = 0;

	for (size_t r = 1; r < nruns; r++)
		sorted[r] = sorted_ids(runs[r]);
	for (size_t i = 0; i < runs[0]->ntasks; i++) {
		size_t *row = idx + n * nruns;
		if (!stats_task_matches(&runs[0]->tasks[i], f))
			continue;
		row[0] = i;
		if (match_all(sorted, runs, nruns, runs[0]->tasks[i].id, row))
			n++;
	}
	for (size_t r = 1; r < nruns; r++)
		free(sorted[r]);
	free(sorted);
	if (n == 0) {
		free(idx);
		return no_common(runs, nruns, e);
	}
	*idx_out = idx;
	*n_out = n;
	return ERR_OK;
}

size_t stats_clusters(const struct stats_task *const *tasks, size_t n,
		      size_t **of_out)
{
	struct keyed *k = xcalloc(n, sizeof(*k));
	size_t *of = xcalloc(n + 1, sizeof(*of));
	size_t ncl = 0;

	for (size_t i = 0; i < n; i++) {
		k[i].key = tasks[i]->family;
		k[i].idx = i;
	}
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || cmp_keyed(&k[i - 1], &k[i]) != 0)
			ncl++;
		of[k[i].idx] = ncl - 1;
	}
	free(k);
	*of_out = of;
	return ncl;
}

enum err stats_check_runs(const struct stats_run *const *runs, size_t nruns,
			  const struct stats_boot_opts *o, struct errmsg *e)
{
	enum err rc;

	if (nruns < 1 || nruns > STATS_MAX_RUNS)
		return err_set(e, ERR_INVAL, "%zu runs (need 1..%d)", nruns,
			       STATS_MAX_RUNS);
	rc = o ? stats_check_boot_opts(o, e) : ERR_OK;
	for (size_t r = 0; r < nruns && !rc; r++)
		rc = stats_run_check(runs[r], e);
	return rc;
}
