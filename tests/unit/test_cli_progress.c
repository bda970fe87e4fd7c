/*
 * test_cli_progress.c - the progress display (src/cli/progress.c): redraw
 * rate, the plain line off a terminal, the smoothed ETA, the counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/progress.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Feed the view one report every step_ms from 0 to until_ms (and a final
 * one if asked); return what it wrote. */
static char *drive(enum progress_mode mode, int64_t step_ms, int64_t until_ms,
		   bool final)
{
	struct engine_progress p = { .planned = 100, .running = 4 };
	struct progress_view v;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_progress_view_init(&v, mode, f);
	v.clock = fake_clock;
	for (fake_now = 0; fake_now <= until_ms; fake_now += step_ms) {
		p.elapsed_ms = fake_now;
		p.finished = (int)(fake_now / 1000);
		cli_progress_view_update(&v, &p);
	}
	if (final) {
		p.final = true;
		cli_progress_view_update(&v, &p);
	}
	fclose(f);
	return buf;
}

static void test_modes(void **state)
{
	enum progress_mode m = PROGRESS_AUTO;

	(void)state;
	assert_true(cli_progress_mode_parse("none", &m));
	assert_int_equal(m, PROGRESS_NONE);
	assert_true(cli_progress_mode_parse("line", &m));
	assert_int_equal(m, PROGRESS_LINE);
	assert_true(cli_progress_mode_parse("bar", &m));
	assert_int_equal(m, PROGRESS_BAR);
	assert_false(cli_progress_mode_parse("bars", &m));
	assert_false(cli_progress_mode_parse("", &m));
	assert_false(cli_progress_mode_parse(NULL, &m));
	assert_int_equal(cli_progress_mode_resolve(PROGRESS_AUTO, false, false, true),
			 PROGRESS_BAR);
	assert_int_equal(cli_progress_mode_resolve(PROGRESS_AUTO, false, false, false),
			 PROGRESS_LINE);
	assert_int_equal(cli_progress_mode_resolve(PROGRESS_AUTO, true, false, true),
			 PROGRESS_NONE);
	assert_int_equal(cli_progress_mode_resolve(PROGRESS_AUTO, false, true, true),
			 PROGRESS_NONE);
	assert_int_equal(cli_progress_mode_resolve(PROGRESS_BAR, false, false, false),
			 PROGRESS_BAR);
}

/* Reports every 10 ms for 2 s: at most 4 redraws a second. */
static void test_bar_rate(void **state)
{
	char *out = drive(PROGRESS_BAR, 10, 2000, true);
	size_t draws = count(out, "\r\033[K");

	(void)state;
	assert_true(draws >= 8);
	assert_true(draws <= 2000 / PROGRESS_BAR_MS + 2);   /* + the final */
	assert_int_equal(out[strlen(out) - 1], '\n');       /* the final ends it */
	assert_int_equal(count(out, "\n"), 1);
	free(out);
}

/* Off a terminal: a plain line every 30 s, no terminal control. */
static void test_line_every_30s(void **state)
{
	char *out = drive(PROGRESS_LINE, 100, 95000, true);

	(void)state;
	assert_int_equal(count(out, "\n"), 3);              /* 30, 60, 90 s */
	assert_int_equal(count(out, "[assay] done "), 3);
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\033'));
	free(out);
	out = drive(PROGRESS_LINE, 100, 20000, true);       /* a short run */
	assert_string_equal(out, "");
	free(out);
	out = drive(PROGRESS_NONE, 10, 60000, true);
	assert_string_equal(out, "");
	free(out);
}

static void test_eta(void **state)
{
	struct engine_progress p = { .planned = 10, .finished = 5, .running = 2,
				     .elapsed_ms = 60000 };
	struct progress_view v;
	double prev, raw;

	(void)state;
	/* 6 of 10 done (a running episode counts half) in 60 s: 40 s left */
	assert_true(fabs(cli_progress_eta_raw(&p) - 40.0) < 1e-9);
	p.finished = 0;
	assert_true(cli_progress_eta_raw(&p) < 0);
	p.finished = 10;
	p.running = 0;
	assert_true(cli_progress_eta_raw(&p) == 0);

	/* raw estimates swinging between 100 and 200 s every second: the
	 * shown ETA moves by less than 15 s a step and stays in between */
	cli_progress_view_init(&v, PROGRESS_BAR, NULL);
	cli_progress_eta_fold(&v, 100, 0);
	assert_true(fabs(v.eta_s - 100) < 1e-9);
	for (int i = 1; i <= 60; i++) {
		prev = v.eta_s;
		raw = i % 2 ? 200 : 100;
		cli_progress_eta_fold(&v, raw, i * 1000);
		assert_true(fabs(v.eta_s - prev) < 15);
		assert_true(v.eta_s > 60 && v.eta_s < 200);
	}
	/* with no new information it counts down with the clock */
	prev = v.eta_s;
	cli_progress_eta_fold(&v, prev - 5, 65000);
	assert_true(fabs(v.eta_s - (prev - 5)) < 1e-6);
	/* an unknown estimate changes nothing */
	cli_progress_eta_fold(&v, -1, 70000);
	assert_true(fabs(v.eta_s - (prev - 5)) < 1e-6);
}

/* A bar never wraps a narrow terminal's line (it could not be redrawn). */
static void test_bar_width(void **state)
{
	struct engine_progress p = { .planned = 100, .finished = 1,
				     .elapsed_ms = 1000, .final = true };
	struct progress_view v;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	cli_progress_view_init(&v, PROGRESS_BAR, f);
	v.clock = fake_clock;
	v.width = 30;
	cli_progress_view_update(&v, &p);
	fclose(f);
	assert_int_equal(len, strlen("\r\033[K") + 29 + 1);
	free(out);
}

static void test_format(void **state)
{
	struct engine_progress p = { .planned = 10, .finished = 4, .running = 2,
				     .solved = 3, .failed_model = 1,
				     .failed_infra = 3, .retried = 2,
				     .tokens = 1234, .cost_usd = 0.5,
				     .elapsed_ms = 65000 };
	char line[512];

	(void)state;
	cli_progress_format(&p, 125, line, sizeof(line));
	assert_non_null(strstr(line, "done 4/10"));
	assert_non_null(strstr(line, "running 2"));
	assert_non_null(strstr(line, "errors: model 1, infra 3 (2 retried)"));
	assert_non_null(strstr(line, "elapsed 1m05s"));
	assert_non_null(strstr(line, "ETA 2m05s"));
	cli_progress_format(&p, -1, line, sizeof(line));
	assert_non_null(strstr(line, "ETA --"));
	p.retried = 0;
	cli_progress_format(&p, 7300, line, sizeof(line));
	assert_null(strstr(line, "retried"));
	assert_non_null(strstr(line, "ETA 2h01m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_bar_rate),
		cmocka_unit_test(test_line_every_30s),
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_bar_width),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests_name("cli_progress", tests, NULL, NULL);
}
