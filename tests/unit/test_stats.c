/*
 * test_stats.c - src/stats against reference values computed by scipy,
 * numpy and statsmodels (tests/data/stats/make_reference.py, which
 * generated ../data/stats/reference.h), plus degenerate data.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/stats.h"

#include "../data/stats/reference.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* |got - want| <= tol * max(1, |want|) */
static void near(double got, double want, double tol)
{
	double scale = fabs(want) > 1 ? fabs(want) : 1;

	if (!(fabs(got - want) <= tol * scale)) {
		print_error("got %.17g want %.17g (tol %g)\n", got, want, tol);
		fail();
	}
}

static void finite_iv(struct stats_interval iv)
{
	assert_true(isfinite(iv.est) && isfinite(iv.lo) && isfinite(iv.hi));
	assert_true(iv.lo <= iv.hi);
}

/* ---- a run built from arrays ---------------------------------------- */

struct fixture {
	struct stats_task *t;
	char (*ids)[32];
	struct stats_run run;
};

static void fx_init(struct fixture *f, const char *name, size_t n,
		    const int *epochs, const int *succ)
{
	f->t = calloc(n, sizeof(*f->t));
	f->ids = calloc(n, sizeof(*f->ids));
	for (size_t i = 0; i < n; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "task-%02zu", i);
		f->t[i].id = f->ids[i];
		f->t[i].category = i % 2 ? "web" : "pwn";
		f->t[i].tier = 1 + (int)(i % 5);
		f->t[i].epochs = epochs[i];
		f->t[i].successes = succ[i];
	}
	f->run = (struct stats_run){ .name = name, .model = "test/model",
				     .suite = "s@1", .tasks = f->t, .ntasks = n };
}

static void fx_release(struct fixture *f)
{
	free(f->t);
	free(f->ids);
}

static void ref_run(struct fixture *f)
{
	fx_init(f, "ref", N(ref_run_epochs), ref_run_epochs, ref_run_succ);
	for (size_t i = 0; i < N(ref_run_epochs); i++) {
		f->t[i].expert_minutes = ref_run_minutes[i];
		f->t[i].family = ref_run_family[i];
	}
}

static const struct stats_boot_opts ref_boot = { .seed = REF_BOOT_SEED,
						 .resamples = REF_BOOT_B,
						 .level = REF_BOOT_LEVEL };

/* ---- formulas -------------------------------------------------------- */

static void test_rng(void **state)
{
	struct stats_rng r;

	(void)state;
	stats_rng_seed(&r, 42);
	for (size_t i = 0; i < N(ref_rng_seed42); i++)
		assert_true(stats_rng_next(&r) == ref_rng_seed42[i]);
	stats_rng_seed(&r, 7);
	for (size_t i = 0; i < N(ref_rng_below1000_seed7); i++)
		assert_true(stats_rng_below(&r, 1000) == ref_rng_below1000_seed7[i]);
}

static void test_norm_ppf(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ref_ppf_p); i++)
		near(stats_norm_ppf(ref_ppf_p[i]), ref_ppf_x[i], 1e-9);
	near(stats_z(0.95), 1.959963984540054, 1e-12);
	assert_true(isfinite(stats_norm_ppf(0)) && isfinite(stats_norm_ppf(1)));
}

static void test_wilson(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ref_wilson_x); i++) {
		struct stats_interval w = stats_wilson(ref_wilson_x[i], ref_wilson_n[i],
						       ref_wilson_level[i]);
		near(w.lo, ref_wilson_lo[i], 1e-9);
		near(w.hi, ref_wilson_hi[i], 1e-9);
	}
	/* rule of three (reference doc §d): 0/40 gives an upper bound near 3/n */
	assert_true(stats_wilson(0, 40, 0.90).hi < 0.075);
	finite_iv(stats_wilson(0, 0, 0.95));
}

static void test_pass_at_k(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ref_passk); i++)
		near(stats_pass_at_k(ref_passk_n[i], ref_passk_c[i], ref_passk_k[i]),
		     ref_passk[i], 1e-12);
}

/* Student's t quantiles against scipy.stats.t.ppf, and the CDF inverts. */
static void test_t_quantile(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ref_t_p); i++) {
		double x = stats_t_quantile(ref_t_p[i], ref_t_df[i]);
		near(x, ref_t_x[i], 1e-9 * fmax(1, fabs(ref_t_x[i])));
		near(stats_t_cdf(x, ref_t_df[i]), ref_t_p[i], 1e-12);
	}
	near(stats_t_crit(0.95, 1e9), stats_z(0.95), 1e-6);
}

static void test_mcnemar(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ref_mcn_b); i++) {
		struct stats_mcnemar m = stats_mcnemar(ref_mcn_b[i], ref_mcn_c[i]);
		assert_int_equal(m.exact, ref_mcn_exact[i]);
		near(m.statistic, ref_mcn_stat[i], 1e-9);
		near(m.p, ref_mcn_p[i], 1e-9);
	}
}

static void test_quantile(void **state)
{
	double v[] = { 1, 2, 3, 4, 10 };

	(void)state;
	near(stats_quantile_sorted(v, 5, 0.5), 3, 0);
	near(stats_quantile_sorted(v, 5, 0.9), 7.6, 1e-12); /* numpy: 7.6 */
	near(stats_quantile_sorted(v, 1, 0.3), 1, 0);
}

/* ---- logistic fit and horizon -------------------------------------- */

static void test_logit_statsmodels(void **state)
{
	size_t n = N(ref_run_epochs);
	double *x = calloc(n, sizeof(*x)), *y = calloc(n, sizeof(*y));
	struct stats_logit f;
	struct errmsg e;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		x[i] = log2(ref_run_minutes[i]);
		y[i] = (double)ref_run_succ[i] / ref_run_epochs[i];
	}
	assert_int_equal(stats_logit_fit(x, y, NULL, n, &f, &e), ERR_OK);
	assert_true(f.converged);
	near(f.b0, ref_logit[0], 1e-6);
	near(f.b1, ref_logit[1], 1e-6);
	near(f.se0, ref_logit[2], 1e-6);
	near(f.se1, ref_logit[3], 1e-6);
	free(x);
	free(y);
}

static void test_logit_separated(void **state)
{
	double x[] = { 1, 2, 3, 4 }, y[] = { 1, 1, 0, 0 };
	struct stats_logit f;
	struct errmsg e;

	(void)state;
	assert_int_equal(stats_logit_fit(x, y, NULL, 4, &f, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "separated"));
}

static void test_horizon_reference(void **state)
{
	struct fixture fx;
	struct stats_horizon h;
	struct errmsg e;

	(void)state;
	ref_run(&fx);
	assert_int_equal(stats_horizon_fit(&fx.run, NULL, &ref_boot, &h, &e), ERR_OK);
	assert_int_equal(h.flags & ~(unsigned)HZ_EXTRAPOLATED, 0);
	near(h.h50.est, ref_horizon_point[0], 1e-6);
	near(h.h80.est, ref_horizon_point[1], 1e-6);
	near(h.h50.lo, ref_boot_h[0], 1e-6);
	near(h.h50.hi, ref_boot_h[1], 1e-6);
	near(h.h80.lo, ref_boot_h[2], 1e-6);
	near(h.h80.hi, ref_boot_h[3], 1e-6);
	near(h.boot_degenerate, ref_boot_h[4], 1e-12);
	near(stats_horizon_curve(&h, h.h50.est), 0.5, 1e-9);
	fx_release(&fx);
}

/* Horizon of n tasks with given minutes/successes/epochs. */
static unsigned horizon_of(size_t n, const double *min, const int *s,
			   const int *ep, struct stats_horizon *h)
{
	struct fixture fx;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct errmsg e;

	o.resamples = 500;
	fx_init(&fx, "hz", n, ep, s);
	for (size_t i = 0; i < n; i++)
		fx.t[i].expert_minutes = min[i];
	assert_int_equal(stats_horizon_fit(&fx.run, NULL, &o, h, &e), ERR_OK);
	finite_iv(h->h50);
	finite_iv(h->h80);
	assert_true(h->h50.lo > 0);
	fx_release(&fx);
	return h->flags;
}

static void test_horizon_degenerate(void **state)
{
	double m[] = { 2, 8, 30, 120, 480 };
	int ep[] = { 4, 4, 4, 4, 4 };
	int none[] = { 0, 0, 0, 0, 0 }, all[] = { 4, 4, 4, 4, 4 };
	int step[] = { 4, 4, 0, 0, 0 }, rising[] = { 0, 0, 0, 4, 4 };
	double same[] = { 30, 30, 30, 30, 30 };
	int mixed[] = { 1, 2, 3, 0, 4 };
	struct stats_horizon h;

	(void)state;
	assert_true(horizon_of(5, m, none, ep, &h) & HZ_ALL_FAIL);
	near(h.h80.est, 2, 1e-12);
	assert_true(horizon_of(5, m, all, ep, &h) & HZ_ALL_SUCCESS);
	near(h.h80.est, 480, 1e-12);
	near(h.h80.lo, 480, 1e-12);
	assert_true(horizon_of(5, m, step, ep, &h) & HZ_SEPARATED);
	near(h.h50.est, sqrt(8.0 * 30.0), 1e-9);
	assert_true(horizon_of(5, m, rising, ep, &h) & HZ_NONDECREASING);
	assert_true(horizon_of(5, same, mixed, ep, &h) & HZ_ONE_LENGTH);
	assert_true(horizon_of(1, m, mixed, ep, &h) & HZ_ONE_LENGTH);
}

/* A task whose time is an import default is left out and counted; with
 * only such tasks there is no horizon. */
static void test_horizon_default_minutes(void **state)
{
	static const char *const dflt[] = { "web", STATS_TAG_DEFAULT_MINUTES };
	int ep[] = { 4, 4, 4, 4 }, s[] = { 4, 2, 0, 4 };
	double m[] = { 2, 30, 480, 1000 };
	struct fixture fx;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct stats_horizon h, all;
	struct errmsg e;

	(void)state;
	o.resamples = 200;
	fx_init(&fx, "df", 4, ep, s);
	for (size_t i = 0; i < 4; i++)
		fx.t[i].expert_minutes = m[i];
	assert_int_equal(stats_horizon_fit(&fx.run, NULL, &o, &all, &e), ERR_OK);
	assert_int_equal(all.ntasks, 4);
	assert_int_equal(all.ndefault, 0);
	fx.t[3].tags = dflt;
	fx.t[3].ntags = 2;
	assert_int_equal(stats_horizon_fit(&fx.run, NULL, &o, &h, &e), ERR_OK);
	assert_int_equal(h.ntasks, 3);
	assert_int_equal(h.ndefault, 1);
	near(h.max_minutes, 480, 1e-9);
	for (size_t i = 0; i < 3; i++) {
		fx.t[i].tags = dflt;
		fx.t[i].ntags = 2;
	}
	assert_int_equal(stats_horizon_fit(&fx.run, NULL, &o, &h, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, STATS_TAG_DEFAULT_MINUTES));
	fx_release(&fx);
}

static void test_horizon_no_times(void **state)
{
	int ep[] = { 1, 1 }, s[] = { 1, 0 };
	struct fixture fx;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct stats_horizon h;
	struct errmsg e;

	(void)state;
	fx_init(&fx, "nt", 2, ep, s);
	assert_int_equal(stats_horizon_fit(&fx.run, NULL, &o, &h, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "expert_minutes"));
	fx_release(&fx);
}

/* ---- summaries and bootstrap ----------------------------------------- */

static void test_summary_reference(void **state)
{
	struct fixture fx;
	struct stats_summary s;
	struct errmsg e;

	(void)state;
	ref_run(&fx);
	assert_int_equal(stats_summarize(&fx.run, NULL, 1, &ref_boot, &s, &e), ERR_OK);
	near(s.pass1, ref_boot_pass1[0], 1e-12);
	near(s.boot.lo, ref_boot_pass1[1], 1e-12);
	near(s.boot.hi, ref_boot_pass1[2], 1e-12);
	near(s.se, ref_boot_pass1[3], 1e-12);
	near(s.passk, s.pass1, 1e-12); /* pass@1 = mean rate */
	near(s.wilson.lo, stats_wilson(s.pass1 * 40, 40, 0.9).lo, 0);
	assert_int_equal(s.ntasks, 40);
	fx_release(&fx);
}

static void test_bootstrap_reproducible(void **state)
{
	struct fixture fx;
	struct stats_summary a, b, c;
	struct stats_boot_opts o = ref_boot;
	struct errmsg e;

	(void)state;
	ref_run(&fx);
	assert_int_equal(stats_summarize(&fx.run, NULL, 0, &o, &a, &e), ERR_OK);
	assert_int_equal(stats_summarize(&fx.run, NULL, 0, &o, &b, &e), ERR_OK);
	o.seed++;
	assert_int_equal(stats_summarize(&fx.run, NULL, 0, &o, &c, &e), ERR_OK);
	assert_true(a.boot.lo == b.boot.lo && a.boot.hi == b.boot.hi);
	assert_true(a.boot.lo != c.boot.lo || a.boot.hi != c.boot.hi);
	fx_release(&fx);
}

static void test_passk_summary(void **state)
{
	int ep[] = { 10, 10, 10 }, s[] = { 0, 3, 10 };
	struct fixture fx;
	struct stats_summary sm;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct errmsg e;

	(void)state;
	fx_init(&fx, "pk", 3, ep, s);
	assert_int_equal(stats_summarize(&fx.run, NULL, 5, &o, &sm, &e), ERR_OK);
	near(sm.passk, (0 + stats_pass_at_k(10, 3, 5) + 1) / 3.0, 1e-12);
	assert_int_equal(sm.nsolved, 2);
	assert_int_equal(stats_summarize(&fx.run, NULL, 11, &o, &sm, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "pass@11"));
	fx_release(&fx);
}

static void summarize_ok(const int *ep, const int *s, size_t n,
			 struct stats_summary *sm)
{
	struct fixture fx;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct errmsg e;

	o.resamples = 1000;
	fx_init(&fx, "dg", n, ep, s);
	assert_int_equal(stats_summarize(&fx.run, NULL, 0, &o, sm, &e), ERR_OK);
	finite_iv(sm->wilson);
	finite_iv(sm->boot);
	finite_iv(sm->passk_boot);
	assert_true(isfinite(sm->se));
	fx_release(&fx);
}

static void test_summary_degenerate(void **state)
{
	int ep10[] = { 10, 10, 10, 10 }, zero[] = { 0, 0, 0, 0 };
	int full[] = { 10, 10, 10, 10 }, ep1[] = { 1, 1, 1, 1 }, one[] = { 1, 0, 1, 1 };
	struct stats_summary sm;

	(void)state;
	summarize_ok(ep10, zero, 4, &sm); /* all fail */
	near(sm.boot.hi, 0, 0);
	assert_true(sm.wilson.hi > 0 && sm.wilson.lo == 0);
	summarize_ok(ep10, full, 4, &sm); /* all succeed */
	near(sm.boot.lo, 1, 0);
	assert_true(sm.wilson.lo < 1 && sm.wilson.hi == 1);
	summarize_ok(ep10, one, 1, &sm); /* one task */
	near(sm.pass1, 0.1, 1e-12);
	near(sm.se, 0, 0);
	summarize_ok(ep1, one, 4, &sm); /* one epoch */
	near(sm.pass1, 0.75, 1e-12);
	assert_int_equal(sm.k, 1);
}

static void test_bad_runs(void **state)
{
	int ep[] = { 2, 2 }, s[] = { 3, 0 }, ok[] = { 1, 0 };
	struct fixture fx;
	struct stats_summary sm;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct stats_filter f = { .tags = (const char *const[]){ "nope" }, .ntags = 1 };
	struct errmsg e;

	(void)state;
	fx_init(&fx, "bad", 2, ep, s);
	assert_int_equal(stats_summarize(&fx.run, NULL, 0, &o, &sm, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "3 successes out of 2"));
	fx_release(&fx);
	fx_init(&fx, "dup", 2, ep, ok);
	fx.t[1].id = fx.t[0].id;
	assert_int_equal(stats_run_check(&fx.run, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "appears twice"));
	fx.t[1].id = fx.ids[1];
	assert_int_equal(stats_summarize(&fx.run, &f, 0, &o, &sm, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "no task"));
	o.resamples = 0;
	assert_int_equal(stats_summarize(&fx.run, NULL, 0, &o, &sm, &e), ERR_INVAL);
	fx_release(&fx);
}

static void test_filter(void **state)
{
	const char *tags[] = { "zero-day", "ics" };
	struct stats_task t = { .id = "x", .category = "web", .tier = 4,
				.expert_minutes = 300, .tags = tags, .ntags = 2 };
	int tiers[] = { 4, 5 };
	const char *cats[] = { "pwn" };
	struct stats_filter f = { .tiers = tiers, .ntiers = 2 };

	(void)state;
	assert_true(stats_task_matches(&t, NULL));
	assert_true(stats_task_matches(&t, &f));
	f.categories = cats;
	f.ncategories = 1;
	assert_false(stats_task_matches(&t, &f));
	f.ncategories = 0;
	f.tags = (const char *const[]){ "ics" };
	f.ntags = 1;
	assert_true(stats_task_matches(&t, &f));
	f.min_minutes = 301;
	assert_false(stats_task_matches(&t, &f));
}

/* ---- paired ---------------------------------------------------------- */

static void test_paired_reference(void **state)
{
	struct fixture a, b;
	struct stats_paired p;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct errmsg e;

	(void)state;
	fx_init(&a, "a", N(ref_pair_ea), ref_pair_ea, ref_pair_sa);
	fx_init(&b, "b", N(ref_pair_eb), ref_pair_eb, ref_pair_sb);
	for (size_t i = 0; i < N(ref_pair_ea); i++)
		a.t[i].family = b.t[i].family = ref_pair_family[i];
	assert_int_equal(stats_paired_diff(&a.run, &b.run, NULL, &o, &p, &e), ERR_OK);
	near(p.mean_a, ref_pair[0], 1e-12);
	near(p.mean_b, ref_pair[1], 1e-12);
	near(p.diff, ref_pair[2], 1e-12);
	near(p.se, ref_pair[3], 1e-12);
	near(p.wald.lo, ref_pair[4], 1e-9);
	near(p.wald.hi, ref_pair[5], 1e-9);
	assert_int_equal(p.mcnemar.b, (unsigned)ref_pair[6]);
	assert_int_equal(p.mcnemar.c, (unsigned)ref_pair[7]);
	near(p.mcnemar.p, ref_pair[8], 1e-9);
	finite_iv(p.boot);
	near(p.boot.est, p.diff, 1e-12);
	fx_release(&a);
	fx_release(&b);
}

static void test_paired_common_tasks(void **state)
{
	int ep[] = { 1, 1, 1 }, sa[] = { 1, 1, 0 }, sb[] = { 0, 1, 1 };
	struct fixture a, b;
	struct stats_paired p;
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	struct errmsg e;

	(void)state;
	fx_init(&a, "a", 3, ep, sa);
	fx_init(&b, "b", 3, ep, sb);
	b.t[2].id = "other-task"; /* b ran a different third task */
	assert_int_equal(stats_paired_diff(&a.run, &b.run, NULL, &o, &p, &e), ERR_OK);
	assert_int_equal(p.ncommon, 2);
	near(p.diff, 0.5, 1e-12);
	for (size_t i = 0; i < 3; i++) /* entirely different suites */
		b.t[i].id = "zz";
	b.t[0].id = "z0", b.t[1].id = "z1", b.t[2].id = "z2";
	b.run.suite = "other@1";
	assert_int_equal(stats_paired_diff(&a.run, &b.run, NULL, &o, &p, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "share no task"));
	assert_non_null(strstr(e.text, "other@1"));
	fx_release(&a);
	fx_release(&b);
}

static void test_bootstrap_runs(void **state)
{
	int ep[] = { 2, 2, 2, 2 }, s1[] = { 0, 1, 2, 2 }, s2[] = { 0, 0, 1, 2 };
	struct fixture a, b;
	const struct stats_run *runs[2];
	struct stats_interval iv[2];
	struct stats_boot_opts o = STATS_BOOT_OPTS_INIT;
	size_t nc;
	struct errmsg e;

	(void)state;
	fx_init(&a, "a", 4, ep, s1);
	fx_init(&b, "b", 4, ep, s2);
	runs[0] = &a.run;
	runs[1] = &b.run;
	assert_int_equal(stats_bootstrap_runs(runs, 2, NULL, &o, iv, &nc, &e), ERR_OK);
	assert_int_equal(nc, 4);
	near(iv[0].est, 5.0 / 8, 1e-12);
	near(iv[1].est, 3.0 / 8, 1e-12);
	finite_iv(iv[0]);
	finite_iv(iv[1]);
	fx_release(&a);
	fx_release(&b);
}

/* ---- IRT ------------------------------------------------------------- */

struct irt_fx {
	struct fixture fx[REF_IRT_R];
	char names[REF_IRT_R][24];
	const struct stats_run *runs[REF_IRT_R];
};

/* Reference data; a cell with n = 0 is a task the run did not attempt. */
static void irt_fx_init(struct irt_fx *x)
{
	for (size_t r = 0; r < REF_IRT_R; r++) {
		struct fixture *f = &x->fx[r];
		size_t k = 0;
		snprintf(x->names[r], sizeof(x->names[r]), "run%zu", r);
		fx_init(f, x->names[r], REF_IRT_J, ref_irt_n + r * REF_IRT_J,
			ref_irt_y + r * REF_IRT_J);
		for (size_t j = 0; j < REF_IRT_J; j++)
			if (ref_irt_n[r * REF_IRT_J + j] > 0)
				f->t[k++] = f->t[j];
		f->run.ntasks = k;
		x->runs[r] = &f->run;
	}
}

static void test_irt_reference(void **state)
{
	struct irt_fx x;
	struct stats_irt_opts o = STATS_IRT_OPTS_INIT;
	struct stats_irt *fit;
	struct errmsg e;

	(void)state;
	irt_fx_init(&x);
	assert_int_equal(stats_irt_fit(x.runs, REF_IRT_R, &o, &fit, &e), ERR_OK);
	assert_true(fit->converged);
	assert_true(fit->connected);
	assert_int_equal(fit->nitems, REF_IRT_J);
	for (size_t r = 0; r < REF_IRT_R; r++)
		near(fit->models[r].theta, ref_irt_theta[r], 1e-6);
	for (size_t j = 0; j < REF_IRT_J; j++) { /* ids sort as task-00.. */
		near(fit->items[j].a, ref_irt_a[j], 1e-6);
		near(fit->items[j].b, ref_irt_b[j], 1e-6);
	}
	for (size_t k = 0; k < REF_IRT_R * REF_IRT_R; k++)
		near(fit->cov[k], ref_irt_cov[k], 1e-6);
	near(fit->logpost, ref_irt_logpost[0], 1e-6);
	near(stats_irt_diff(fit, 4, 0, 0.95).est, ref_irt_theta[4] - ref_irt_theta[0], 1e-6);
	assert_int_equal(stats_irt_find(fit, "run3"), 3);
	assert_int_equal(stats_irt_find(fit, "nope"), -1);
	near(stats_irt_points(log(3)), 200, 1e-12);
	stats_irt_free(fit);
	for (size_t r = 0; r < REF_IRT_R; r++)
		fx_release(&x.fx[r]);
}

static void irt_finite(const struct stats_run *const *runs, size_t n,
		       struct stats_irt **fit)
{
	struct stats_irt_opts o = STATS_IRT_OPTS_INIT;
	struct errmsg e;

	assert_int_equal(stats_irt_fit(runs, n, &o, fit, &e), ERR_OK);
	for (size_t r = 0; r < n; r++) {
		finite_iv((*fit)->models[r].ci);
		assert_true((*fit)->models[r].se > 0);
	}
	for (size_t j = 0; j < (*fit)->nitems; j++)
		assert_true(isfinite((*fit)->items[j].a) && isfinite((*fit)->items[j].b));
}

static void test_irt_degenerate(void **state)
{
	int ep[] = { 5, 5, 5 }, all[] = { 5, 5, 5 }, none[] = { 0, 0, 0 };
	struct fixture a, b;
	const struct stats_run *runs[2];
	struct stats_irt *fit;

	(void)state;
	fx_init(&a, "a", 3, ep, all);
	fx_init(&b, "b", 3, ep, none);
	runs[0] = &a.run;
	runs[1] = &b.run;
	irt_finite(runs, 2, &fit); /* one run solves everything, one nothing */
	assert_true(fit->models[0].theta > fit->models[1].theta);
	stats_irt_free(fit);
	irt_finite(runs, 1, &fit); /* one run, all successes */
	stats_irt_free(fit);
	a.run.ntasks = 1;
	irt_finite(runs, 1, &fit); /* one run, one task */
	stats_irt_free(fit);
	b.t[0].id = "x0", b.t[1].id = "x1", b.t[2].id = "x2";
	a.run.ntasks = 3;
	irt_finite(runs, 2, &fit); /* different suites: no link */
	assert_false(fit->connected);
	stats_irt_free(fit);
	fx_release(&a);
	fx_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_norm_ppf),
		cmocka_unit_test(test_wilson),
		cmocka_unit_test(test_pass_at_k),
		cmocka_unit_test(test_t_quantile),
		cmocka_unit_test(test_mcnemar),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_logit_statsmodels),
		cmocka_unit_test(test_logit_separated),
		cmocka_unit_test(test_horizon_reference),
		cmocka_unit_test(test_horizon_degenerate),
		cmocka_unit_test(test_horizon_no_times),
		cmocka_unit_test(test_horizon_default_minutes),
		cmocka_unit_test(test_summary_reference),
		cmocka_unit_test(test_bootstrap_reproducible),
		cmocka_unit_test(test_passk_summary),
		cmocka_unit_test(test_summary_degenerate),
		cmocka_unit_test(test_bad_runs),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_paired_reference),
		cmocka_unit_test(test_paired_common_tasks),
		cmocka_unit_test(test_bootstrap_runs),
		cmocka_unit_test(test_irt_reference),
		cmocka_unit_test(test_irt_degenerate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
