/*
 * bench_sandbox - latency of the sandbox part (not a timed test).
 *
 *   bench_sandbox [RUNS [ROW]]   (ASSAY_INIT must point at assay-init)
 *
 * Measures, RUNS times each (default 200, after 5 warm-ups), and prints
 * Markdown table rows "| what | runs | median ms | p90 ms |":
 *   - bwrap with equal isolation, box spawn + exec `true` + teardown
 *     (agent-only episode) and fork + exec of /bin/true: the rows whose
 *     ratios are quoted, run in ten alternating blocks (measure_rounds)
 *   - episode agent + one service (busybox httpd) + network, to readiness
 *   - one exec of `true` in a live box
 *   - teardown of a live box (sbx_episode_free), and the same with the
 *     blocking reap of the kernel's namespace teardown
 *   - with ASSAY_BENCH_IMAGE=REF (an imported image, from $ASSAY_IMAGES):
 *     box spawn + exec `true` + teardown on that image's layers
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "image/image.h"
#include "sandbox/sandbox.h"

typedef int (*bench_fn)(void *arg, int64_t *us_out);

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	printf("| %s | %d | %.2f | %.2f |\n", what, n, v[n / 2] / 1000.0,
	       v[(n * 9) / 10] / 1000.0);
	fflush(stdout);
}

/* ROW (a substring of a row's title) limits the run to the rows it names,
 * for profiling one of them. */
static const char *only;

static int measure(const char *what, bench_fn fn, void *arg, int runs)
{
	int64_t *v, ig;

	if (only && !strstr(what, only))
		return 0;
	v = xcalloc((size_t)runs, sizeof(*v));
	for (int i = 0; i < 5; i++)
		if (fn(arg, &ig))
			return -1;
	for (int i = 0; i < runs; i++)
		if (fn(arg, &v[i])) {
			free(v);
			return -1;
		}
	report(what, v, runs);
	free(v);
	return 0;
}

/* Rows whose ratios are quoted (bwrap, box spawn, the floor) are run in
 * ROUNDS alternating blocks instead of one after the other, so that a
 * slow minute of the shared machine lands on all of them alike. In each
 * round bwrap runs first, then the box: what a box leaves to the kernel
 * when it is torn down (asynchronous) falls on the floor's block, not on
 * bwrap's, and what bwrap leaves falls on the boxes'. */
#define ROUNDS 10

struct row {
	const char *what;
	bench_fn fn;
	void *arg;
	int64_t *v;
	int n;
};

static int measure_rounds(struct row *rows, size_t n_rows, int runs)
{
	int per = (runs + ROUNDS - 1) / ROUNDS;
	int64_t ig;

	for (size_t r = 0; r < n_rows; r++) {
		rows[r].v = xcalloc((size_t)per * ROUNDS, sizeof(*rows[r].v));
		if (only && !strstr(rows[r].what, only))
			rows[r].fn = NULL;
		for (int i = 0; rows[r].fn && i < 5; i++)
			if (rows[r].fn(rows[r].arg, &ig))
				return -1;
	}
	for (int k = 0; k < ROUNDS; k++)
		for (size_t r = 0; r < n_rows; r++)
			for (int i = 0; rows[r].fn && i < per && rows[r].n < runs; i++)
				if (rows[r].fn(rows[r].arg, &rows[r].v[rows[r].n++]))
					return -1;
	for (size_t r = 0; r < n_rows; r++) {
		if (rows[r].fn)
			report(rows[r].what, rows[r].v, rows[r].n);
		free(rows[r].v);
	}
	return 0;
}

static struct sbx_episode_spec agent_spec = {
	.name = "bench", .agent = { .name = "agent", .image = "host", .user = "agent" },
};

static int exec_true(struct sbx_box *b)
{
	const char *argv[] = { "/bin/true", NULL };
	struct sbx_exec_req req = { .argv = argv };
	struct sbx_exec_result r;
	struct errmsg e = { 0 };
	int bad;

	if (sbx_exec(b, &req, &r, &e)) {
		fprintf(stderr, "exec: %s\n", e.text);
		return -1;
	}
	bad = r.how != SBX_EXITED || r.exit_code != 0;
	sbx_exec_result_release(&r);
	return bad ? -1 : 0;
}

static int b_spawn(void *arg, int64_t *us)
{
	struct sbx_episode *ep;
	struct errmsg e = { 0 };
	int64_t t0 = now_us();
	int rc;

	(void)arg;
	if (sbx_episode_new(&agent_spec, &ep, &e) || sbx_episode_start(ep, &e)) {
		fprintf(stderr, "spawn: %s\n", e.text);
		return -1;
	}
	rc = exec_true(sbx_episode_box(ep, NULL));
	sbx_episode_free(ep);
	*us = now_us() - t0;
	return rc;
}

static struct sbx_episode_spec image_spec = {
	.name = "bench-image", .agent = { .name = "agent", .user = "agent" },
};

static int b_spawn_image(void *arg, int64_t *us)
{
	struct sbx_episode *ep;
	struct errmsg e = { 0 };
	int64_t t0 = now_us();
	int rc;

	(void)arg;
	if (sbx_episode_new(&image_spec, &ep, &e) || sbx_episode_start(ep, &e)) {
		fprintf(stderr, "spawn (image): %s\n", e.text);
		return -1;
	}
	rc = exec_true(sbx_episode_box(ep, NULL));
	sbx_episode_free(ep);
	*us = now_us() - t0;
	return rc;
}

/* The spawn row on an imported image, when ASSAY_BENCH_IMAGE names one. */
static int measure_image(int runs)
{
	const char *ref = getenv("ASSAY_BENCH_IMAGE");
	struct image_store *st;
	struct image_info *im;
	struct errmsg e = { 0 };
	char *dir, **lowers, what[160];
	int rc;

	if (!ref || !*ref)
		return 0;
	if (image_store_open(NULL, &st, &e) || image_find(st, ref, &im, &e) ||
	    image_box_layers(st, im, &dir, &lowers, &e)) {
		fprintf(stderr, "bench_sandbox: %s\n", e.text);
		return 1;
	}
	image_spec.agent.image = dir;
	image_spec.agent.layers = (const char *const *)lowers;
	snprintf(what, sizeof(what), "assay box spawn + exec `true` + teardown, "
		 "image `%s` (%zu layers)", im->name, im->n_layers);
	rc = measure(what, b_spawn_image, NULL, runs);
	free(dir);
	strv_free(lowers);
	image_info_free(im);
	image_store_close(st);
	return rc;
}

static int b_episode(void *arg, int64_t *us)
{
	const char *const httpd[] = { "busybox", "httpd", "-f", "-p", "8000", "-h", "/srv", NULL };
	struct sbx_box_spec svc = {
		.name = "web", .image = "host", .argv = httpd,
		.ready = SBX_READY_TCP, .ready_port = 8000,
	};
	struct sbx_episode_spec spec = agent_spec;
	struct sbx_episode *ep;
	struct errmsg e = { 0 };
	int64_t t0 = now_us();

	(void)arg;
	spec.services = &svc;
	spec.n_services = 1;
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e)) {
		fprintf(stderr, "episode: %s\n", e.text);
		return -1;
	}
	*us = now_us() - t0;
	sbx_episode_free(ep);
	return 0;
}

static int b_exec(void *arg, int64_t *us)
{
	int64_t t0 = now_us();
	int rc = exec_true(arg);

	*us = now_us() - t0;
	return rc;
}

static int b_teardown(void *arg, int64_t *us)
{
	struct sbx_episode *ep;
	struct errmsg e = { 0 };
	int64_t t0;

	if (sbx_episode_new(&agent_spec, &ep, &e) || sbx_episode_start(ep, &e) ||
	    exec_true(sbx_episode_box(ep, NULL))) {
		fprintf(stderr, "teardown set-up: %s\n", e.text);
		return -1;
	}
	t0 = now_us();
	sbx_episode_free(ep);
	if (arg)
		sbx_reap(true);
	*us = now_us() - t0;
	if (!arg)
		sbx_reap(true); /* keep the next run's set-up clean */
	return 0;
}

static int b_spawn_cmd(void *arg, int64_t *us)
{
	char *const *argv = arg;
	int64_t t0 = now_us();
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	*us = now_us() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s failed\n", argv[0]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
	struct sbx_episode *ep;
	struct errmsg e = { 0 };
	char *true_argv[] = { "/bin/true", NULL };
	char *bwrap_argv[] = {
		"/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session",
		"--cap-drop", "ALL", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin",
		"/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
		"--symlink", "usr/sbin", "/sbin", "--tmpfs", "/tmp", "--proc", "/proc",
		"--dev", "/dev", "/bin/true", NULL,
	};
	int rc = 0;

	if (runs < 1)
		runs = 200;
	only = argc > 2 ? argv[2] : NULL;
	if (sbx_global_init(NULL, &e)) {
		fprintf(stderr, "bench_sandbox: %s\n", e.text);
		return 1;
	}
	struct row ratio_rows[] = {
		{ "bwrap `--unshare-all --die-with-parent --new-session --cap-drop ALL`, "
		  "ro /usr, --proc, --dev, exec `/bin/true`", b_spawn_cmd, bwrap_argv, NULL, 0 },
		{ "assay box spawn + exec `true` + teardown", b_spawn, NULL, NULL, 0 },
		{ "fork + exec `/bin/true` (floor)", b_spawn_cmd, true_argv, NULL, 0 },
	};

	printf("| what | runs | median ms | p90 ms |\n|---|---|---|---|\n");
	rc |= measure_rounds(ratio_rows, sizeof(ratio_rows) / sizeof(ratio_rows[0]), runs);
	rc |= measure_image(runs);
	rc |= measure("assay episode: agent + 1 service (busybox httpd) + veth, to tcp readiness",
		      b_episode, NULL, runs);
	if (sbx_episode_new(&agent_spec, &ep, &e) || sbx_episode_start(ep, &e)) {
		fprintf(stderr, "bench_sandbox: %s\n", e.text);
		return 1;
	}
	rc |= measure("assay exec `/bin/true` in a live box", b_exec,
		      sbx_episode_box(ep, NULL), runs);
	sbx_episode_free(ep);
	rc |= measure("assay teardown (sbx_episode_free)", b_teardown, NULL, runs);
	rc |= measure("assay teardown + wait for the kernel (sbx_reap(true))", b_teardown,
		      (void *)1, runs);
	sbx_global_cleanup();
	return rc ? 1 : 0;
}
