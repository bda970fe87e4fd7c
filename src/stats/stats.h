/*
 * stats.h - from per-task successes to estimates with intervals.
 *
 * Inputs are plain structs the caller fills (store/report code): a run is
 * a model's results on a list of tasks, each task `successes` out of
 * `epochs` attempts. Nothing here allocates on behalf of the caller except
 * where a function says so (stats_irt_fit -> stats_irt_free); every string
 * in a result is borrowed from the input runs and lives as long as they do.
 *
 * Conventions:
 * - Intervals are two-sided at `level` (0.90 gives the one-sided 95%
 *   lower bound as `lo`). Every number returned is finite: degenerate data
 *   give a well-defined interval (e.g. [0, 0.07] for 0/40 by Wilson) or a
 *   flag plus a clamped value, never NaN or infinity.
 * - Runs are matched on task id. Functions over several runs use the tasks
 *   common to all of them; no common task is an ERR_INVAL with a message.
 * - Bootstrap draws come from the seeded PRNG below, so the same seed and
 *   input give the same interval on every machine.
 * - Pure C + libm; no third-party headers. Thread-safe (no globals).
 * Formulas and their sources: docs/internals/stats.md.
 */
#ifndef ASSAY_STATS_H
#define ASSAY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Caps on sizes that may come from outside (store, policy file). */
#define STATS_MAX_EPOCHS 100000
#define STATS_MAX_RESAMPLES 1000000
#define STATS_MAX_RUNS 4096

/* ---- inputs ------------------------------------------------------------ */

struct stats_task {
	const char *id;             /* unique within a run */
	const char *category;       /* e.g. "pwn"; NULL = none */
	int tier;                   /* difficulty 1..5; 0 = unknown */
	double expert_minutes;      /* <= 0: unknown (excluded from horizon);
				       also excluded when tagged
				       STATS_TAG_DEFAULT_MINUTES */
	const char *const *tags;    /* ntags strings */
	size_t ntags;
	const char *family;         /* cluster key: tasks sharing a challenge,
				       project or range; NULL = its own */
	int successes;              /* 0 <= successes <= epochs */
	int epochs;                 /* >= 1 */
};

struct stats_run {
	const char *name;           /* run id (what a policy refers to) */
	const char *model;          /* provider/model */
	const char *suite;          /* suite id@version, for messages */
	const struct stats_task *tasks;
	size_t ntasks;
};

/* Task subset. Empty lists match everything; a task matches when its tier
 * is in tiers AND its category in categories AND it carries at least one
 * of tags AND expert_minutes >= min_minutes (when min_minutes > 0). */
struct stats_filter {
	const int *tiers;
	size_t ntiers;
	const char *const *categories;
	size_t ncategories;
	const char *const *tags;
	size_t ntags;
	double min_minutes;
};

struct stats_interval {
	double est, lo, hi;
	double level;               /* two-sided coverage, e.g. 0.95 */
};

struct stats_boot_opts {
	uint64_t seed;
	unsigned resamples;         /* 1 .. STATS_MAX_RESAMPLES */
	double level;
};
#define STATS_BOOT_OPTS_INIT { .seed = 20260601, .resamples = 10000, .level = 0.95 }

/* ---- PRNG (xoshiro256**, seeded by splitmix64; Blackman & Vigna) -------- */

struct stats_rng {
	uint64_t s[4];
};

void stats_rng_seed(struct stats_rng *r, uint64_t seed);
uint64_t stats_rng_next(struct stats_rng *r);
/* Uniform in [0, n) by Lemire's multiply-shift ((x * n) >> 64); bias
 * below n / 2^64. n >= 1. */
uint64_t stats_rng_below(struct stats_rng *r, uint64_t n);

/* ---- distributions and small formulas ------------------------------------ */

double stats_norm_cdf(double x);
/* Inverse standard normal CDF, p in (0,1) (clamped to [1e-300, 1-1e-16]). */
double stats_norm_ppf(double p);
/* Two-sided critical value z_{1-(1-level)/2}. */
double stats_z(double level);
/* Student's t with df > 0 degrees of freedom: CDF, quantile, and the
 * two-sided critical value at level (t quantile of 1 - (1 - level)/2). */
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);
double stats_t_crit(double level, double df);
/* Type-7 (numpy "linear") quantile of sorted[0..n-1], q in [0,1]. */
double stats_quantile_sorted(const double *sorted, size_t n, double q);
/* Unbiased pass@k of one task (Chen et al. 2021): 1 - C(n-c,k)/C(n,k).
 * Requires 1 <= k <= n, 0 <= c <= n. */
double stats_pass_at_k(int n, int c, int k);
/* Wilson score interval for x successes in n trials (x may be fractional,
 * 0 <= x <= n). n == 0 gives [0, 1] with est 0. */
struct stats_interval stats_wilson(double x, double n, double level);

struct stats_mcnemar {
	unsigned b;                 /* tasks solved by A only */
	unsigned c;                 /* tasks solved by B only */
	bool exact;                 /* always true: mid-p binomial (dist.c) */
	double statistic;           /* uncorrected chi-square, for information */
	double p;                   /* two-sided p-value; 1 when b + c == 0 */
};
struct stats_mcnemar stats_mcnemar(unsigned b, unsigned c);

/* ---- logistic regression (one predictor) --------------------------------- */

struct stats_logit {
	double b0, b1;              /* logit p = b0 + b1 x */
	double se0, se1;            /* from the inverse Fisher information */
	double loglik;
	unsigned iterations;
	bool converged;
};
/* Maximum likelihood for y[i] in [0,1] (proportions allowed) with weights
 * w[i] > 0 (NULL = 1). Fails with ERR_INVAL when the MLE does not exist
 * (separation, fewer than two distinct x, no success or no failure). */
enum err stats_logit_fit(const double *x, const double *y, const double *w,
			 size_t n, struct stats_logit *out,
			 struct errmsg *e) MUST_CHECK;

/* ---- one run --------------------------------------------------------------- */

bool stats_task_matches(const struct stats_task *t,
			const struct stats_filter *f);
/* Check successes/epochs ranges and unique ids. */
enum err stats_run_check(const struct stats_run *run,
			 struct errmsg *e) MUST_CHECK;

struct stats_summary {
	size_t ntasks;              /* tasks in the subset */
	size_t nclusters;           /* families (clusters) among them */
	size_t ntrials, nsuccesses;
	size_t nsolved;             /* tasks with >= 1 success */
	int min_epochs, max_epochs;
	double pass1;               /* mean over tasks of successes/epochs */
	double se;                  /* clustered SE of pass1 (Miller 2024) */
	struct stats_interval wilson;   /* on tasks: x = sum p_i, n = ntasks */
	struct stats_interval boot;     /* task-clustered percentile bootstrap
					   (Wilson when only one cluster) */
	int k;                      /* k used for passk (<= min_epochs) */
	double passk;
	struct stats_interval passk_boot;
};
/* Summary of run on the subset f (NULL = all). k = 0 means k = min_epochs;
 * k > min_epochs is ERR_INVAL. An empty subset is ERR_INVAL. */
enum err stats_summarize(const struct stats_run *run,
			 const struct stats_filter *f, int k,
			 const struct stats_boot_opts *o,
			 struct stats_summary *out, struct errmsg *e) MUST_CHECK;

/* ---- several runs ---------------------------------------------------------- */

/* Joint task-clustered bootstrap of pass@1 over the tasks common to all
 * runs (subset f, judged on the first run's metadata): every resample
 * draws the same clusters for all runs, so the draws of different runs
 * are paired. out[i] is run i's interval; *ncommon_out (may be NULL) gets
 * the number of common tasks. */
enum err stats_bootstrap_runs(const struct stats_run *const *runs,
			      size_t nruns, const struct stats_filter *f,
			      const struct stats_boot_opts *o,
			      struct stats_interval *out, size_t *ncommon_out,
			      struct errmsg *e) MUST_CHECK;

struct stats_paired {
	size_t ncommon;             /* tasks both runs attempted (in subset) */
	size_t nclusters;
	double mean_a, mean_b;      /* pass@1 of each on the common tasks */
	double diff;                /* mean_a - mean_b */
	double se;                  /* clustered SE of the paired difference */
	struct stats_interval wald; /* diff +- z se; [-1, 1] if 1 cluster */
	struct stats_interval boot; /* paired cluster bootstrap; ditto */
	struct stats_mcnemar mcnemar; /* per-task majority-solved outcome */
};
enum err stats_paired_diff(const struct stats_run *a,
			   const struct stats_run *b,
			   const struct stats_filter *f,
			   const struct stats_boot_opts *o,
			   struct stats_paired *out, struct errmsg *e) MUST_CHECK;

/* ---- 2PL item response theory ---------------------------------------------- */

struct stats_irt_opts {
	double theta_sd;            /* prior sd of ability (scale anchor) */
	double b_sd;                /* prior sd of difficulty */
	double loga_sd;             /* prior sd of log discrimination */
	unsigned max_iter;
	double tol;                 /* stop when max |gradient| < tol */
	double level;
};
#define STATS_IRT_OPTS_INIT { .theta_sd = 1.0, .b_sd = 3.0, .loga_sd = 0.5, \
			      .max_iter = 200, .tol = 1e-8, .level = 0.95 }

struct stats_irt_model {
	const char *run;            /* borrowed: run name */
	const char *model;          /* borrowed */
	double theta;               /* logits; prior N(0, theta_sd^2) */
	double se;                  /* sqrt of posterior variance (Laplace) */
	struct stats_interval ci;   /* theta +- z se */
	size_t ntasks;
};

struct stats_irt_item {
	const char *task;           /* borrowed: task id */
	double a;                   /* discrimination > 0 */
	double b;                   /* difficulty, same scale as theta */
	size_t nruns;               /* runs that attempted it */
};

struct stats_irt {
	size_t nmodels, nitems;
	struct stats_irt_model *models;
	struct stats_irt_item *items;
	double *cov;                /* nmodels x nmodels posterior cov of theta */
	double logpost;
	unsigned iterations;
	bool converged;
	bool connected;             /* runs linked through shared tasks */
	struct stats_irt_opts opts;
};

/* Fit P(success of run r on task j) = 1 / (1 + exp(-a_j (theta_r - b_j)))
 * jointly over the union of tasks of all runs by maximum a posteriori
 * (Fisher-scoring Newton with step halving). *out is owned by the caller
 * and released with stats_irt_free. */
enum err stats_irt_fit(const struct stats_run *const *runs, size_t nruns,
		       const struct stats_irt_opts *o, struct stats_irt **out,
		       struct errmsg *e) MUST_CHECK;
void stats_irt_free(struct stats_irt *fit);
/* theta_r - theta_s with a Wald interval from the joint covariance. */
struct stats_interval stats_irt_diff(const struct stats_irt *fit, size_t r,
				     size_t s, double level);
/* CAISI-style points: 200 points = 3x the odds on an a = 1 item. */
double stats_irt_points(double theta);
/* Index of run name in fit, or -1. */
long stats_irt_find(const struct stats_irt *fit, const char *run);

/* ---- time horizon ---------------------------------------------------------- */

enum stats_horizon_flags {
	HZ_ALL_SUCCESS = 1 << 0,    /* no failure: horizon >= longest task */
	HZ_ALL_FAIL = 1 << 1,       /* no success: horizon <= shortest task */
	HZ_SEPARATED = 1 << 2,      /* short tasks all pass, long all fail */
	HZ_NONDECREASING = 1 << 3,  /* success does not fall with length */
	HZ_EXTRAPOLATED = 1 << 4,   /* estimate outside the tasks' range */
	HZ_CLAMPED = 1 << 5,        /* > 10 doublings outside: clamped */
	HZ_ONE_LENGTH = 1 << 6,     /* all tasks have the same length */
};

/* The tag of a task whose expert_minutes is an importer's default, not
 * an estimate (docs/IMPORT.md): the horizon leaves it out. */
#define STATS_TAG_DEFAULT_MINUTES "expert-minutes-default"

struct stats_horizon {
	size_t ntasks;              /* tasks with expert_minutes > 0 */
	size_t ndefault;            /* tasks left out: their time is a
				       default (STATS_TAG_DEFAULT_MINUTES) */
	double min_minutes, max_minutes;
	double mean_rate;           /* mean success rate of those tasks */
	struct stats_logit fit;     /* on x = log2(expert_minutes); valid
				       only when flags has none of bits 0-3,6 */
	unsigned flags;             /* of the point estimate */
	struct stats_interval h50;  /* minutes; bootstrap percentile */
	struct stats_interval h80;
	double boot_degenerate;     /* share of resamples that were flagged */
};
/* Logistic fit of per-task success rate on log2(expert_minutes), tasks
 * weighted equally; H_q = 2^((logit q - b0) / b1). Degenerate data give a
 * flagged, finite value (see enum). No task with a time: ERR_INVAL. */
enum err stats_horizon_fit(const struct stats_run *run,
			   const struct stats_filter *f,
			   const struct stats_boot_opts *o,
			   struct stats_horizon *out, struct errmsg *e) MUST_CHECK;
/* Fitted success probability at `minutes` (for drawing the curve). */
double stats_horizon_curve(const struct stats_horizon *h, double minutes);
/* Name of one flag bit, e.g. "all-success"; "unknown" for others. */
const char *stats_horizon_flag_name(unsigned flag);

#endif
