/*
 * summary.c - pass@1, pass@k and their intervals for one run; the joint
 * bootstrap over several runs; the paired difference of two runs.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "base/xalloc.h"
#include "stats_int.h"
#include "base/banned.h"

static double rate(const struct stats_task *t)
{
	return (double)t->successes / t->epochs;
}

/* Counts, epochs range and pass@1 of the n tasks. */
static void count_tasks(const struct stats_task *const *t, size_t n,
			struct stats_summary *s)
{
	s->min_epochs = t[0]->epochs;
	s->max_epochs = t[0]->epochs;
	for (size_t i = 0; i < n; i++) {
		s->ntrials += (size_t)t[i]->epochs;
		s->nsuccesses += (size_t)t[i]->successes;
		s->nsolved += t[i]->successes > 0;
		if (t[i]->epochs < s->min_epochs)
			s->min_epochs = t[i]->epochs;
		if (t[i]->epochs > s->max_epochs)
			s->max_epochs = t[i]->epochs;
		s->pass1 += rate(t[i]);
	}
	s->pass1 /= (double)n;
}

static enum err pick_k(const struct stats_run *run, int k,
		       struct stats_summary *s, struct errmsg *e)
{
	if (k == 0)
		k = s->min_epochs;
	if (k < 1 || k > s->min_epochs)
		return err_set(e, ERR_INVAL,
			       "run '%s': pass@%d needs at least %d epochs per task, "
			       "some task has only %d",
			       run->name, k, k, s->min_epochs);
	s->k = k;
	return ERR_OK;
}

/* Wilson on tasks: x = sum of per-task rates, n = tasks. Treating every
 * task as one Bernoulli draw with the pooled rate over-states the
 * variance of the mean of task rates (Miller 2024, eq. for K samples:
 * (Var_between + E[sigma^2]/K)/n <= p(1-p)/n), so the interval is
 * conservative when epochs > 1 and exact in form when epochs == 1. */
static void intervals(const struct stats_task *const *t, size_t n,
		      const struct stats_boot_opts *o, struct stats_summary *s)
{
	double *vals = xcalloc(2 * n, sizeof(*vals));
	double *p1 = xcalloc(n, sizeof(*p1));
	size_t *of;
	struct stats_interval iv[2];

	s->nclusters = stats_clusters(t, n, &of);
	for (size_t i = 0; i < n; i++) {
		p1[i] = vals[2 * i] = rate(t[i]);
		vals[2 * i + 1] = stats_pass_at_k(t[i]->epochs, t[i]->successes, s->k);
		s->passk += vals[2 * i + 1];
	}
	s->passk /= (double)n;
	s->se = stats_clustered_se(p1, n, of, s->nclusters);
	s->wilson = stats_wilson(s->pass1 * (double)n, (double)n, o->level);
	stats_boot_means(vals, n, 2, of, s->nclusters, o, iv);
	s->boot = iv[0];
	s->passk_boot = iv[1];
	if (s->nclusters < 2) {
		/* One cluster: every resample is the sample, so the bootstrap
		 * interval would have zero width. Use Wilson instead. */
		s->boot = s->wilson;
		s->passk_boot = stats_wilson(s->passk * (double)n, (double)n, o->level);
	}
	free(vals);
	free(p1);
	free(of);
}

static const struct stats_task **select_tasks(const struct stats_run *run,
					      const struct stats_filter *f,
					      size_t *n_out)
{
	const struct stats_task **t = xcalloc(run->ntasks + 1, sizeof(*t));
	size_t n = 0;

	for (size_t i = 0; i < run->ntasks; i++)
		if (stats_task_matches(&run->tasks[i], f))
			t[n++] = &run->tasks[i];
	*n_out = n;
	return t;
}

enum err stats_summarize(const struct stats_run *run, const struct stats_filter *f,
			 int k, const struct stats_boot_opts *o,
			 struct stats_summary *out, struct errmsg *e)
{
	struct stats_summary s = { 0 };
	const struct stats_task **t;
	enum err rc;

	if ((rc = stats_check_runs(&run, 1, o, e)))
		return rc;
	t = select_tasks(run, f, &s.ntasks);
	if (s.ntasks == 0) {
		free(t);
		return err_set(e, ERR_INVAL, "run '%s': no task in the selected subset",
			       run->name);
	}
	count_tasks(t, s.ntasks, &s);
	rc = pick_k(run, k, &s, e);
	if (rc == ERR_OK) {
		intervals(t, s.ntasks, o, &s);
		*out = s;
	}
	free(t);
	return rc;
}

/* Task pointers of the common tasks as seen by run 0 (for clustering). */
static const struct stats_task **common_ptrs(const struct stats_run *run0,
					     const size_t *idx, size_t n,
					     size_t nruns)
{
	const struct stats_task **t = xcalloc(n, sizeof(*t));

	for (size_t i = 0; i < n; i++)
		t[i] = &run0->tasks[idx[i * nruns]];
	return t;
}

enum err stats_bootstrap_runs(const struct stats_run *const *runs, size_t nruns,
			      const struct stats_filter *f,
			      const struct stats_boot_opts *o,
			      struct stats_interval *out, size_t *ncommon_out,
			      struct errmsg *e)
{
	size_t *idx, n, *of, ncl;
	const struct stats_task **t;
	double *vals;
	enum err rc;

	rc = stats_check_runs(runs, nruns, o, e);
	if (rc == ERR_OK)
		rc = stats_common_tasks(runs, nruns, f, &idx, &n, e);
	if (rc)
		return rc;
	vals = xcalloc(n * nruns, sizeof(*vals));
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < nruns; r++)
			vals[i * nruns + r] = rate(&runs[r]->tasks[idx[i * nruns + r]]);
	t = common_ptrs(runs[0], idx, n, nruns);
	ncl = stats_clusters(t, n, &of);
	stats_boot_means(vals, n, nruns, of, ncl, o, out);
	if (ncommon_out)
		*ncommon_out = n;
	free(of);
	free(t);
	free(vals);
	free(idx);
	return ERR_OK;
}

/* "Solved" for McNemar: successes in more than half the epochs, which is
 * the task's outcome itself when epochs == 1. */
static bool majority(const struct stats_task *t)
{
	return 2 * t->successes > t->epochs;
}

static void paired_fill(const struct stats_run *a, const struct stats_run *b,
			const size_t *idx, size_t n, double *vals,
			struct stats_paired *p)
{
	unsigned only_a = 0, only_b = 0;

	for (size_t i = 0; i < n; i++) {
		const struct stats_task *ta = &a->tasks[idx[2 * i]];
		const struct stats_task *tb = &b->tasks[idx[2 * i + 1]];
		vals[3 * i] = rate(ta);
		vals[3 * i + 1] = rate(tb);
		vals[3 * i + 2] = rate(ta) - rate(tb);
		p->mean_a += rate(ta);
		p->mean_b += rate(tb);
		only_a += majority(ta) && !majority(tb);
		only_b += !majority(ta) && majority(tb);
	}
	p->mean_a /= (double)n;
	p->mean_b /= (double)n;
	p->diff = p->mean_a - p->mean_b;
	p->mcnemar = stats_mcnemar(only_a, only_b);
}

/* Paired difference on common tasks. SE of the mean of per-task
 * differences d_i, clustered (reference doc §d); this equals
 * sqrt(SE_A^2 + SE_B^2 - 2 Cov) of the two means. */
static void paired_stats(const double *vals, size_t n, const size_t *of,
			 size_t ncl, const struct stats_boot_opts *o,
			 struct stats_paired *p)
{
	double *d = xcalloc(n, sizeof(*d));
	struct stats_interval iv[3];
	/* t(G-1) critical values with G clusters (Cameron & Miller 2015,
	 * §VI.C: the normal's understate the tails with few clusters) */
	double z = ncl >= 2 ? stats_t_crit(o->level, (double)(ncl - 1)) :
		   stats_z(o->level);

	for (size_t i = 0; i < n; i++)
		d[i] = vals[3 * i + 2];
	p->se = stats_clustered_se(d, n, of, ncl);
	p->wald = (struct stats_interval){ .est = p->diff, .lo = p->diff - z * p->se,
					   .hi = p->diff + z * p->se, .level = o->level };
	stats_boot_means(vals, n, 3, of, ncl, o, iv);
	p->boot = iv[2];
	if (ncl < 2) {
		/* No variance between clusters can be seen with one cluster:
		 * report the whole range of a difference of rates. */
		p->wald.lo = p->boot.lo = -1;
		p->wald.hi = p->boot.hi = 1;
	}
	free(d);
}

enum err stats_paired_diff(const struct stats_run *a, const struct stats_run *b,
			   const struct stats_filter *f,
			   const struct stats_boot_opts *o,
			   struct stats_paired *out, struct errmsg *e)
{
	const struct stats_run *runs[2] = { a, b };
	struct stats_paired p = { 0 };
	const struct stats_task **t;
	size_t *idx, *of;
	double *vals;
	enum err rc;

	rc = stats_check_runs(runs, 2, o, e);
	if (rc == ERR_OK)
		rc = stats_common_tasks(runs, 2, f, &idx, &p.ncommon, e);
	if (rc)
		return rc;
	vals = xcalloc(3 * p.ncommon, sizeof(*vals));
	paired_fill(a, b, idx, p.ncommon, vals, &p);
	t = common_ptrs(a, idx, p.ncommon, 2);
	p.nclusters = stats_clusters(t, p.ncommon, &of);
	paired_stats(vals, p.ncommon, of, p.nclusters, o, &p);
	*out = p;
	free(of);
	free(t);
	free(vals);
	free(idx);
	return ERR_OK;
}
