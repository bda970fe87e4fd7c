/*
 * bench_replymem - the harness's memory with many large replies at once
 * (issue 12 item 7): N concurrent model calls against a mock endpoint that
 * answers each with a chunked body of BYTES, through one model context
 * whose shared reply-memory cap is CAP_MB. Prints the most reply bytes
 * buffered at once, the process's peak RSS, and how the calls ended.
 *
 *   bench_replymem BASE_URL N CAP_MB
 *
 * bench/replymem.sh starts the mock (tests/lib/mockmodel_main.c, "huge"
 * entries with "stream": the mock does not hold the bodies itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/util.h"
#include "model/model.h"

struct slot {
	bool done;
	enum model_fail fail;
	char error[160];
};

static void on_done(void *arg, struct model_reply *r)
{
	struct slot *s = arg;

	s->done = true;
	s->fail = r->fail;
	snprintf(s->error, sizeof(s->error), "%s", r->error ? r->error : "");
	model_reply_release(r);
}

int main(int argc, char **argv)
{
	struct model_config cfg = { 0 };
	struct model_msg msg = { .role = MODEL_USER, .text = "x" };
	struct model_request req = { .msgs = &msg, .n_msgs = 1 };
	struct model_ctx *ctx;
	struct model *m;
	struct slot *slots;
	struct errmsg e;
	struct rusage ru;
	int n, left, failed = 0;
	long cap_mb;
	int64_t t0;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_replymem BASE_URL N CAP_MB\n");
		return 2;
	}
	n = atoi(argv[2]);
	cap_mb = atol(argv[3]);
	if (n <= 0 || cap_mb <= 0)
		return 2;
	cfg.name = "openai-compatible/bench";
	cfg.base_url = argv[1];
	cfg.params.temperature = -1;
	cfg.params.seed = -1;
	cfg.max_retries = -1;           /* one attempt per call */
	cfg.total_timeout_ms = 600000;
	cfg.first_byte_timeout_ms = 120000;
	cfg.outage_deadline_ms = -1;    /* malformed bodies: no outage wait */
	if (model_ctx_new(&ctx, &e) || model_open(ctx, &cfg, &m, &e)) {
		fprintf(stderr, "bench_replymem: %s\n", e.text);
		return 3;
	}
	model_ctx_set_memory_cap(ctx, (size_t)cap_mb << 20);
	slots = calloc((size_t)n, sizeof(*slots));
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		if (model_call_start(m, &req, on_done, &slots[i], &e)) {
			fprintf(stderr, "bench_replymem: %s\n", e.text);
			return 3;
		}
	do {
		if (model_ctx_wait(ctx, NULL, 0, 1000, &e) ||
		    model_ctx_run(ctx, &e)) {
			fprintf(stderr, "bench_replymem: %s\n", e.text);
			return 3;
		}
		left = 0;
		for (int i = 0; i < n; i++)
			left += !slots[i].done;
	} while (left && now_ms() - t0 < 600000);
	for (int i = 0; i < n; i++)
		failed += slots[i].fail != MODEL_FAIL_NONE;
	getrusage(RUSAGE_SELF, &ru);
	printf("calls %d  unfinished %d  failed %d  cap %ld MiB  peak buffered "
	       "%.1f MiB  maxrss %.1f MiB  %.1f s\n", n, left, failed, cap_mb,
	       model_ctx_peak_buffered(ctx) / 1048576.0, ru.ru_maxrss / 1024.0,
	       (now_ms() - t0) / 1000.0);
	if (n && slots[0].error[0])
		printf("first call: %s\n", slots[0].error);
	model_close(m);
	model_ctx_free(ctx);
	free(slots);
	return left ? 1 : 0;
}
