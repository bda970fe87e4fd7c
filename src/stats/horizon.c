/*
 * horizon.c - time horizon H50 / H80 (Kwa et al., "Measuring AI Ability
 * to Complete Long Tasks", METR, arXiv 2503.14499; reference doc §d).
 *
 * Logistic regression of each task's success rate on x = log2(expert
 * minutes), every task weighted equally: logit p = b0 + b1 x. The q-horizon
 * is the length at which the fitted success probability equals q:
 *   H_q = 2^((logit(q) - b0) / b1)          (b1 < 0)
 * Intervals: task-clustered percentile bootstrap, refitting each resample,
 * quantiles taken on log2 minutes (METR resamples task families, tasks
 * and runs hierarchically and fits with an L2 penalty:
 * docs/internals/stats.md).
 * Degenerate data (no MLE) give a flagged, finite value instead of a fit;
 * see enum stats_horizon_flags.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "stats_int.h"
#include "base/banned.h"

#define HZ_DEGENERATE (HZ_ALL_SUCCESS | HZ_ALL_FAIL | HZ_SEPARATED | \
		       HZ_NONDECREASING | HZ_ONE_LENGTH)
/* Extrapolation further than this many doublings is clamped. */
#define HZ_MAX_DOUBLINGS 10.0

static const double hz_q[2] = { 0.5, 0.8 };

struct hz_data {
	double *x, *y;              /* log2 minutes, success rate */
	size_t n;
	double xmin, xmax;
};

struct hz_est {
	double log2h[2];            /* for hz_q */
	unsigned flags;
	struct stats_logit fit;
};

/* Extent of successes and failures along x. */
struct hz_extent {
	double s_lo, s_hi, f_lo, f_hi, mean;
	bool any_s, any_f;
};

static struct hz_extent extent(const struct hz_data *d)
{
	struct hz_extent r = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0,
			       false, false };

	for (size_t i = 0; i < d->n; i++) {
		r.mean += d->y[i] / (double)d->n;
		if (d->y[i] > 0) {
			r.any_s = true;
			r.s_lo = fmin(r.s_lo, d->x[i]);
			r.s_hi = fmax(r.s_hi, d->x[i]);
		}
		if (d->y[i] < 1) {
			r.any_f = true;
			r.f_lo = fmin(r.f_lo, d->x[i]);
			r.f_hi = fmax(r.f_hi, d->x[i]);
		}
	}
	return r;
}

/* Value and flag for data without an MLE; false when the MLE exists. */
static bool degenerate(const struct hz_data *d, struct hz_est *h)
{
	struct hz_extent x = extent(d);
	double v;
	unsigned fl;

	if (!x.any_s) {
		fl = HZ_ALL_FAIL, v = d->xmin;
	} else if (!x.any_f) {
		fl = HZ_ALL_SUCCESS, v = d->xmax;
	} else if (d->xmin == d->xmax) {
		fl = HZ_ONE_LENGTH, v = d->xmin;
	} else if (x.s_hi <= x.f_lo) {
		/* A step between the longest success and shortest failure:
		 * every point of the gap maximises the likelihood; take the
		 * middle (geometric mean of the two lengths). */
		fl = HZ_SEPARATED, v = (x.s_hi + x.f_lo) / 2;
	} else if (x.f_hi <= x.s_lo) {
		fl = HZ_NONDECREASING, v = d->xmin;
	} else {
		return false;
	}
	h->flags = fl;
	h->log2h[0] = h->log2h[1] = v;
	return true;
}

/* log2 H_q from a fit, with flags for rising curves and extrapolation. */
static double horizon_of(const struct hz_data *d, const struct stats_logit *f,
			 double q, unsigned *flags)
{
	double lq = log(q / (1 - q)), v;

	if (!(f->b1 < 0)) {
		*flags |= HZ_NONDECREASING;
		return f->b0 + f->b1 * d->xmin >= lq ? d->xmax : d->xmin;
	}
	v = (lq - f->b0) / f->b1;
	if (v < d->xmin || v > d->xmax)
		*flags |= HZ_EXTRAPOLATED;
	if (v < d->xmin - HZ_MAX_DOUBLINGS || v > d->xmax + HZ_MAX_DOUBLINGS) {
		*flags |= HZ_CLAMPED;
		v = fmax(d->xmin - HZ_MAX_DOUBLINGS, fmin(v, d->xmax + HZ_MAX_DOUBLINGS));
	}
	return v;
}

/* start: warm start for Newton (NULL = default); the optimum does not
 * depend on it because the log likelihood is concave. */
static void estimate(const struct hz_data *d, const double *start, struct hz_est *h)
{
	struct errmsg e;

	*h = (struct hz_est){ 0 };
	if (degenerate(d, h))
		return;
	if (stats_logit_fit_from(d->x, d->y, NULL, d->n, start, &h->fit, &e) != ERR_OK) {
		h->flags = HZ_SEPARATED; /* unreachable: degenerate() checked */
		h->log2h[0] = h->log2h[1] = d->xmin;
		return;
	}
	for (int k = 0; k < 2; k++)
		h->log2h[k] = horizon_of(d, &h->fit, hz_q[k], &h->flags);
}

static bool default_minutes(const struct stats_task *k)
{
	for (size_t i = 0; i < k->ntags; i++)
		if (!strcmp(k->tags[i], STATS_TAG_DEFAULT_MINUTES))
			return true;
	return false;
}

/* Tasks of the subset that have a time that is not a default (counted in
 * *ndefault); caller frees the arrays. */
static size_t timed_tasks(const struct stats_run *run, const struct stats_filter *f,
			  const struct stats_task ***t_out, struct hz_data *d,
			  size_t *ndefault)
{
	const struct stats_task **t = xcalloc(run->ntasks + 1, sizeof(*t));
	size_t n = 0;

	d->x = xcalloc(run->ntasks + 1, sizeof(*d->x));
	d->y = xcalloc(run->ntasks + 1, sizeof(*d->y));
	d->xmin = INFINITY;
	d->xmax = -INFINITY;
	for (size_t i = 0; i < run->ntasks; i++) {
		const struct stats_task *k = &run->tasks[i];
		if (!stats_task_matches(k, f) || !(k->expert_minutes > 0))
			continue;
		if (default_minutes(k)) {
			(*ndefault)++;
			continue;
		}
		t[n] = k;
		d->x[n] = log2(k->expert_minutes);
		d->y[n] = (double)k->successes / k->epochs;
		d->xmin = fmin(d->xmin, d->x[n]);
		d->xmax = fmax(d->xmax, d->x[n]);
		n++;
	}
	d->n = n;
	*t_out = t;
	return n;
}

/* Cluster members in CSR form: members[start[c] .. start[c+1]). */
static size_t *csr(const size_t *of, size_t n, size_t ncl, size_t **start_out)
{
	size_t *start = xcalloc(ncl + 1, sizeof(*start));
	size_t *members = xcalloc(n + 1, sizeof(*members));
	size_t *fill = xcalloc(ncl + 1, sizeof(*fill));

	for (size_t i = 0; i < n; i++)
		start[of[i] + 1]++;
	for (size_t c = 0; c < ncl; c++)
		start[c + 1] += start[c];
	for (size_t i = 0; i < n; i++)
		members[start[of[i]] + fill[of[i]]++] = i;
	free(fill);
	*start_out = start;
	return members;
}

struct hz_boot {
	const struct hz_data *d;
	const double *warm;         /* full-sample fit, or NULL */
	size_t ncl, *start, *members;
	struct hz_data r;           /* resample buffer */
};

static void draw(struct hz_boot *b, struct stats_rng *rng)
{
	b->r.n = 0;
	b->r.xmin = b->d->xmin;   /* clamps and flags judged on the data's range */
	b->r.xmax = b->d->xmax;
	for (size_t k = 0; k < b->ncl; k++) {
		size_t c = (size_t)stats_rng_below(rng, b->ncl);
		for (size_t m = b->start[c]; m < b->start[c + 1]; m++) {
			size_t i = b->members[m];
			b->r.x[b->r.n] = b->d->x[i];
			b->r.y[b->r.n++] = b->d->y[i];
		}
	}
}

/* Resample clusters, refit, collect log2 H for both quantiles. */
static void bootstrap(struct hz_boot *b, const struct stats_boot_opts *o,
		      double *draws, size_t *ndeg)
{
	size_t B = o->resamples;
	struct stats_rng rng;
	struct hz_est h;

	size_t big = 0;

	for (size_t c = 0; c < b->ncl; c++)
		if (b->start[c + 1] - b->start[c] > big)
			big = b->start[c + 1] - b->start[c];
	stats_rng_seed(&rng, o->seed);
	b->r.x = xcalloc(big * b->ncl + 1, sizeof(double));
	b->r.y = xcalloc(big * b->ncl + 1, sizeof(double));
	*ndeg = 0;
	for (size_t k = 0; k < B; k++) {
		draw(b, &rng);
		estimate(&b->r, b->warm, &h);
		*ndeg += (h.flags & HZ_DEGENERATE) != 0;
		draws[k] = h.log2h[0];
		draws[B + k] = h.log2h[1];
	}
	free(b->r.x);
	free(b->r.y);
}

static struct stats_interval to_minutes(struct stats_interval iv)
{
	iv.est = exp2(iv.est);
	iv.lo = exp2(iv.lo);
	iv.hi = exp2(iv.hi);
	return iv;
}

static void fill_result(const struct stats_task **t, struct hz_data *d,
			const struct stats_boot_opts *o, struct stats_horizon *out)
{
	struct hz_boot b = { .d = d };
	struct hz_est h;
	double start[2];
	size_t *of, ndeg;
	double *draws = xcalloc(2 * (size_t)o->resamples, sizeof(*draws));

	estimate(d, NULL, &h);
	if (h.fit.converged) {
		start[0] = h.fit.b0;
		start[1] = h.fit.b1;
		b.warm = start;
	}
	out->ntasks = d->n;
	out->min_minutes = exp2(d->xmin);
	out->max_minutes = exp2(d->xmax);
	out->mean_rate = extent(d).mean;
	out->fit = h.fit;
	out->flags = h.flags;
	b.ncl = stats_clusters(t, d->n, &of);
	b.members = csr(of, d->n, b.ncl, &b.start);
	bootstrap(&b, o, draws, &ndeg);
	out->h50 = to_minutes(stats_percentile(draws, o->resamples, h.log2h[0], o->level));
	out->h80 = to_minutes(stats_percentile(draws + o->resamples, o->resamples,
					       h.log2h[1], o->level));
	out->boot_degenerate = (double)ndeg / o->resamples;
	free(of);
	free(b.members);
	free(b.start);
	free(draws);
}

enum err stats_horizon_fit(const struct stats_run *run, const struct stats_filter *f,
			   const struct stats_boot_opts *o,
			   struct stats_horizon *out, struct errmsg *e)
{
	const struct stats_task **t;
	struct hz_data d = { 0 };
	struct stats_horizon r = { 0 };
	enum err rc;

	if ((rc = stats_check_runs(&run, 1, o, e)))
		return rc;
	if (timed_tasks(run, f, &t, &d, &r.ndefault) == 0)
		rc = err_set(e, ERR_INVAL, "run '%s': no task in the subset has "
			     "expert_minutes, so no time horizon%s", run->name,
			     r.ndefault ? " (tasks tagged " STATS_TAG_DEFAULT_MINUTES
			     " have a default time and are left out)" : "");
	else
		fill_result(t, &d, o, &r);
	if (rc == ERR_OK)
		*out = r;
	free(t);
	free(d.x);
	free(d.y);
	return rc;
}

static bool fit_valid(unsigned flags)
{
	return !(flags & (HZ_ALL_SUCCESS | HZ_ALL_FAIL | HZ_SEPARATED |
			  HZ_ONE_LENGTH)) && !(flags & HZ_NONDECREASING);
}

double stats_horizon_curve(const struct stats_horizon *h, double minutes)
{
	double x = log2(fmax(minutes, 1e-9));

	if (fit_valid(h->flags))
		return 1 / (1 + exp(-(h->fit.b0 + h->fit.b1 * x)));
	if (h->flags & HZ_ALL_SUCCESS)
		return 1;
	if (h->flags & HZ_ALL_FAIL)
		return 0;
	if (h->flags & HZ_SEPARATED)
		return minutes <= h->h50.est ? 1 : 0;
	if (h->fit.iterations > 0) /* rising fitted curve */
		return 1 / (1 + exp(-(h->fit.b0 + h->fit.b1 * x)));
	return h->mean_rate;
}

const char *stats_horizon_flag_name(unsigned flag)
{
	switch (flag) {
	case HZ_ALL_SUCCESS: return "all-success";
	case HZ_ALL_FAIL: return "all-fail";
	case HZ_SEPARATED: return "separated";
	case HZ_NONDECREASING: return "nondecreasing";
	case HZ_EXTRAPOLATED: return "extrapolated";
	case HZ_CLAMPED: return "clamped";
	case HZ_ONE_LENGTH: return "one-length";
	default: return "unknown";
	}
}
