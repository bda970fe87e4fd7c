/*
 * bench/stats.c - timings behind the "Statistics" section of BENCHMARKS.md
 * (issue 6 item 6): a joint 2PL IRT fit of 50 runs x 1,000 tasks x 10
 * epochs, 10,000 task-clustered bootstrap resamples of the same data
 * (all 50 runs jointly, paired), and for scale one run's time-horizon
 * bootstrap (10,000 logistic refits) and one paired comparison.
 *
 * Data are synthetic and seeded: abilities theta_r ~ N(0,1) spread over
 * [-2, 2], difficulties b_j ~ U(-3, 3), discriminations a_j ~ U(0.5, 2),
 * successes ~ Binomial(10, sigma(a_j (theta_r - b_j))).
 * Usage: bench_stats [runs tasks epochs resamples]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "stats/stats.h"

struct bench {
	size_t R, J;
	int E;
	struct stats_task *tasks;   /* R x J */
	struct stats_run *runs;
	const struct stats_run **rp;
	char (*ids)[24], (*names)[24];
};

static double unif(struct stats_rng *g)
{
	return (double)(stats_rng_next(g) >> 11) * 0x1.0p-53;
}

static void make_task(struct bench *b, struct stats_rng *g, size_t r, size_t j,
		      double theta, const double *a, const double *d)
{
	struct stats_task *t = &b->tasks[r * b->J + j];
	double p = 1 / (1 + exp(-a[j] * (theta - d[j])));

	t->id = b->ids[j];
	t->category = j % 2 ? "web" : "pwn";
	t->tier = 1 + (int)(j % 5);
	t->expert_minutes = exp2(6 * (d[j] + 3) / 6 + 1); /* 2 min .. 2 h */
	t->epochs = b->E;
	for (int k = 0; k < b->E; k++)
		t->successes += unif(g) < p;
}

static void make_data(struct bench *b)
{
	struct stats_rng g;
	double *a = xcalloc(b->J, sizeof(*a)), *d = xcalloc(b->J, sizeof(*d));

	stats_rng_seed(&g, 1);
	b->tasks = xcalloc(b->R * b->J, sizeof(*b->tasks));
	b->runs = xcalloc(b->R, sizeof(*b->runs));
	b->rp = xcalloc(b->R, sizeof(*b->rp));
	b->ids = xcalloc(b->J, sizeof(*b->ids));
	b->names = xcalloc(b->R, sizeof(*b->names));
	for (size_t j = 0; j < b->J; j++) {
		snprintf(b->ids[j], sizeof(b->ids[j]), "t%05zu", j);
		a[j] = 0.5 + 1.5 * unif(&g);
		d[j] = -3 + 6 * unif(&g);
	}
	for (size_t r = 0; r < b->R; r++) {
		double theta = b->R > 1 ? -2 + 4.0 * (double)r / (double)(b->R - 1) : 0;
		snprintf(b->names[r], sizeof(b->names[r]), "run%02zu", r);
		for (size_t j = 0; j < b->J; j++)
			make_task(b, &g, r, j, theta, a, d);
		b->runs[r] = (struct stats_run){ b->names[r], "bench/model", "bench@1",
						 b->tasks + r * b->J, b->J };
		b->rp[r] = &b->runs[r];
	}
	free(a);
	free(d);
}

static int fail(const struct errmsg *e)
{
	fprintf(stderr, "bench_stats: %s\n", e->text);
	return 3;
}

static int bench_irt(struct bench *b)
{
	struct stats_irt_opts o = STATS_IRT_OPTS_INIT;
	struct stats_irt *fit;
	struct errmsg e;
	int64_t t0 = now_us();

	if (stats_irt_fit(b->rp, b->R, &o, &fit, &e))
		return fail(&e);
	printf("irt_fit runs=%zu tasks=%zu epochs=%d seconds=%.3f iterations=%u "
	       "converged=%d theta_first=%.3f theta_last=%.3f\n",
	       b->R, b->J, b->E, (double)(now_us() - t0) / 1e6, fit->iterations,
	       fit->converged, fit->models[0].theta, fit->models[b->R - 1].theta);
	stats_irt_free(fit);
	return 0;
}

static int bench_boot(struct bench *b, unsigned B)
{
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct stats_interval *iv = xcalloc(b->R, sizeof(*iv));
	struct errmsg e;
	size_t nc;
	int64_t t0 = now_us();

	o.resamples = B;
	if (stats_bootstrap_runs(b->rp, b->R, NULL, &o, iv, &nc, &e)) {
		free(iv);
		return fail(&e);
	}
	printf("bootstrap_runs runs=%zu tasks=%zu resamples=%u seconds=%.3f "
	       "run0=[%.4f,%.4f]\n", b->R, nc, B, (double)(now_us() - t0) / 1e6,
	       iv[0].lo, iv[0].hi);
	free(iv);
	return 0;
}

static int bench_one_run(struct bench *b, unsigned B)
{
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct stats_horizon h;
	struct stats_paired p;
	struct errmsg e;
	const struct stats_run *mid = b->rp[b->R / 2];
	int64_t t0 = now_us();

	o.resamples = B;
	if (stats_horizon_fit(mid, NULL, &o, &h, &e))
		return fail(&e);
	printf("horizon run=%s tasks=%zu resamples=%u seconds=%.3f h50=%.1f "
	       "[%.1f,%.1f] flags=%u\n", mid->name, h.ntasks, B,
	       (double)(now_us() - t0) / 1e6, h.h50.est, h.h50.lo, h.h50.hi, h.flags);
	t0 = now_us();
	if (stats_paired_diff(b->rp[b->R - 1], mid, NULL, &o, &p, &e))
		return fail(&e);
	printf("paired tasks=%zu resamples=%u seconds=%.3f diff=%.4f se=%.4f "
	       "mcnemar_p=%.3g\n", p.ncommon, B, (double)(now_us() - t0) / 1e6,
	       p.diff, p.se, p.mcnemar.p);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .R = 50, .J = 1000, .E = 10 };
	unsigned B = 10000;
	int rc;

	if (argc == 5) {
		b.R = strtoul(argv[1], NULL, 10);
		b.J = strtoul(argv[2], NULL, 10);
		b.E = (int)strtol(argv[3], NULL, 10);
		B = (unsigned)strtoul(argv[4], NULL, 10);
	}
	if (b.R < 2 || b.J < 1 || b.E < 1 || B < 1) {
		fprintf(stderr, "usage: bench_stats [runs>=2 tasks epochs resamples]\n");
		return 2;
	}
	make_data(&b);
	rc = bench_irt(&b);
	if (!rc)
		rc = bench_boot(&b, B);
	if (!rc)
		rc = bench_one_run(&b, B);
	free(b.tasks);
	free(b.runs);
	free(b.rp);
	free(b.ids);
	free(b.names);
	return rc;
}
