/*
 * stats_int.h - helpers shared inside src/stats only.
 */
#ifndef ASSAY_STATS_INT_H
#define ASSAY_STATS_INT_H

#include "stats.h"

/* Tasks common to runs[0..nruns-1] that pass f on runs[0]'s metadata, in
 * runs[0]'s order: (*idx_out)[i * nruns + r] is the index in runs[r] of
 * common task i. Caller frees *idx_out. Zero common tasks is ERR_INVAL. */
enum err stats_common_tasks(const struct stats_run *const *runs, size_t nruns,
			    const struct stats_filter *f, size_t **idx_out,
			    size_t *n_out, struct errmsg *e) MUST_CHECK;

/* Cluster id of each of n tasks from their family keys (NULL = own
 * cluster). Returns the number of clusters; caller frees *of_out. */
size_t stats_clusters(const struct stats_task *const *tasks, size_t n,
		      size_t **of_out);

/* Task-clustered bootstrap of means of nvar per-task variables.
 * vals is n x nvar (task-major). Each resample draws ncl clusters with
 * replacement and forms, per variable, sum(values) / sum(tasks) over the
 * drawn clusters. out[v] gets est = full-sample mean and the percentile
 * interval at o->level. */
void stats_boot_means(const double *vals, size_t n, size_t nvar,
		      const size_t *cluster_of, size_t ncl,
		      const struct stats_boot_opts *o,
		      struct stats_interval *out);

/* Clustered standard error of the mean of x (reference doc §d):
 * sqrt(sum_c (sum_{i in c} (x_i - mean))^2) / n. */
double stats_clustered_se(const double *x, size_t n, const size_t *cluster_of,
			  size_t ncl);

enum err stats_check_boot_opts(const struct stats_boot_opts *o,
			       struct errmsg *e) MUST_CHECK;
/* The inputs of an analysis, in this order: 1 to STATS_MAX_RUNS runs, o
 * (stats_check_boot_opts; NULL: none), each run (stats_run_check). */
enum err stats_check_runs(const struct stats_run *const *runs, size_t nruns,
			  const struct stats_boot_opts *o,
			  struct errmsg *e) MUST_CHECK;

/* Percentile interval from draws (sorted in place). */
struct stats_interval stats_percentile(double *draws, size_t n, double est,
				       double level);

/* stats_logit_fit starting from start = {b0, b1} (NULL: the default
 * start); the bootstrap warm-starts from the full-sample fit. */
enum err stats_logit_fit_from(const double *x, const double *y, const double *w,
			      size_t n, const double start[2],
			      struct stats_logit *out, struct errmsg *e) MUST_CHECK;

#endif
