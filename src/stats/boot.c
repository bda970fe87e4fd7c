/*
 * boot.c - task-clustered percentile bootstrap and clustered standard
 * errors.
 *
 * Clusters (tasks sharing a family) are resampled with replacement, as in
 * the cluster bootstrap of Cameron, Gelbach & Miller, Rev. Econ. Stat. 90
 * (2008), and as reference doc §d recommends ("bootstrap over tasks").
 * All epochs of a task stay together, so within-task correlation is kept.
 * The interval is Efron's percentile interval (Efron & Tibshirani 1993,
 * ch. 13) with numpy's default quantile rule.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "stats_int.h"
#include "base/banned.h"

enum err stats_check_boot_opts(const struct stats_boot_opts *o, struct errmsg *e)
{
	if (o->resamples < 1 || o->resamples > STATS_MAX_RESAMPLES)
		return err_set(e, ERR_INVAL, "bootstrap resamples %u out of range 1..%u",
			       o->resamples, (unsigned)STATS_MAX_RESAMPLES);
	if (!(o->level > 0 && o->level < 1))
		return err_set(e, ERR_INVAL, "confidence level %g not in (0, 1)",
			       o->level);
	return ERR_OK;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

struct stats_interval stats_percentile(double *draws, size_t n, double est,
				       double level)
{
	struct stats_interval r = { .est = est, .level = level };
	double alpha = (1 - level) / 2;

	qsort(draws, n, sizeof(*draws), cmp_double);
	r.lo = stats_quantile_sorted(draws, n, alpha);
	r.hi = stats_quantile_sorted(draws, n, 1 - alpha);
	return r;
}

/* Per-cluster sums of every variable (ncl x nvar) and task counts. */
static void cluster_sums(const double *vals, size_t n, size_t nvar,
			 const size_t *of, size_t ncl, double *sum, double *cnt)
{
	memset(sum, 0, ncl * nvar * sizeof(*sum));
	memset(cnt, 0, ncl * sizeof(*cnt));
	for (size_t i = 0; i < n; i++) {
		size_t c = of ? of[i] : i;
		for (size_t v = 0; v < nvar; v++)
			sum[c * nvar + v] += vals[i * nvar + v];
		cnt[c] += 1;
	}
}

/* One resample: acc[v] = sum over ncl drawn clusters, returns task count. */
static double resample(struct stats_rng *rng, const double *sum,
		       const double *cnt, size_t ncl, size_t nvar, double *acc)
{
	double tasks = 0;

	memset(acc, 0, nvar * sizeof(*acc));
	for (size_t k = 0; k < ncl; k++) {
		size_t c = (size_t)stats_rng_below(rng, ncl);
		const double *row = sum + c * nvar;
		for (size_t v = 0; v < nvar; v++)
			acc[v] += row[v];
		tasks += cnt[c];
	}
	return tasks;
}

void stats_boot_means(const double *vals, size_t n, size_t nvar,
		      const size_t *cluster_of, size_t ncl,
		      const struct stats_boot_opts *o, struct stats_interval *out)
{
	size_t B = o->resamples;
	double *sum = xcalloc(ncl * nvar, sizeof(*sum));
	double *cnt = xcalloc(ncl, sizeof(*cnt));
	double *draws = xcalloc(B * nvar, sizeof(*draws)); /* var-major */
	double *acc = xcalloc(nvar, sizeof(*acc));
	struct stats_rng rng;

	stats_rng_seed(&rng, o->seed);
	cluster_sums(vals, n, nvar, cluster_of, ncl, sum, cnt);
	for (size_t b = 0; b < B; b++) {
		double tasks = resample(&rng, sum, cnt, ncl, nvar, acc);
		for (size_t v = 0; v < nvar; v++)
			draws[v * B + b] = acc[v] / tasks;
	}
	for (size_t v = 0; v < nvar; v++) {
		double est = 0;
		for (size_t c = 0; c < ncl; c++)
			est += sum[c * nvar + v];
		out[v] = stats_percentile(draws + v * B, B, est / (double)n, o->level);
	}
	free(sum);
	free(cnt);
	free(draws);
	free(acc);
}

double stats_clustered_se(const double *x, size_t n, const size_t *cluster_of,
			  size_t ncl)
{
	double mean = 0, ss = 0;
	double *dev = xcalloc(ncl, sizeof(*dev));

	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		dev[cluster_of ? cluster_of[i] : i] += x[i] - mean;
	for (size_t c = 0; c < ncl; c++)
		ss += dev[c] * dev[c];
	free(dev);
	/* the small-sample correction G/(G-1) of the cluster-robust variance
	 * (Cameron & Miller, J. Human Resources 50(2), 2015, §VI.B) */
	if (ncl >= 2)
		ss *= (double)ncl / (double)(ncl - 1);
	return sqrt(ss) / (double)n;
}
