/*
 * engine.h - runs a suite against a model: plans episodes (task x epoch),
 * runs up to N at once from one thread, journals everything, and leaves a
 * resumable run when interrupted.
 *
 * An episode: sandbox up (agent box + services on a private network, fresh
 * flag planted) -> agent loop -> hidden check -> score -> journal. An
 * infrastructure failure is recorded and the episode is attempted again
 * (up to max_attempts genuine failures per pair and invocation); it never
 * counts against the model. An attempt cut off (interrupted) never counts
 * toward that cap. The run's store lease is renewed from the loop.
 */
#ifndef ASSAY_ENGINE_H
#define ASSAY_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "base/err.h"
#include "model/model.h"
#include "store/store.h"
#include "task/task.h"

/* How far a run is, for a progress display (the engine never prints). */
struct engine_progress {
	int planned;                    /* (task, epoch) pairs to do: retries of
	                                   a pair do not add to it */
	int finished;                   /* pairs scored, or given up after
	                                   max_attempts infra failures */
	int running;                    /* episodes live now */
	int solved, failed_model;
	int failed_infra;               /* infra-failed attempts so far */
	int retried;                    /* of those, attempted again */
	int interrupted;
	long tokens;
	double cost_usd;
	int64_t elapsed_ms;
	bool final;                     /* the last call, after the loop */
};

/* Called after every turn of the loop (often: rate-limit the drawing). */
typedef void (*engine_progress_fn)(void *arg, const struct engine_progress *p);

struct engine_config {
	struct store *store;
	const struct suite *suite;
	struct model_ctx *mctx;
	struct model *model;
	int64_t run_id;
	int epochs;
	int jobs;                       /* concurrent episodes, >= 1 */
	const char *prompt_level;       /* NULL, "hard" or "easy" */
	enum agent_scaffold scaffold;   /* the agent every episode runs */
	const char *developer;          /* who runs the endpoint, for the
	                                   exposure ledger */
	long budget_tokens;             /* whole run; 0 = unlimited */
	double budget_usd;              /* whole run; 0 = unlimited */
	double episode_usd;             /* per episode; 0 = unlimited */
	int64_t episode_working_ms;     /* model + tool time per episode;
	                                   0 = unlimited */
	int max_attempts;               /* genuine infra failures per (task,
	                                   epoch) and invocation; 0 = 3 */
	engine_progress_fn progress;    /* NULL: no progress reports */
	void *progress_arg;
	bool leak_scan;                 /* before the agent starts, search the
	                                   agent box for the flag (task check) */
	bool no_preflight;              /* skip the preflight call */
	/* > 0: this process is worker worker_id (assay worker): the attempts
	 * come from the run's queue (store_queue_claim), not from a plan,
	 * and the next attempt of one cut off or failed on infrastructure
	 * goes back to the queue, for any worker; engine_run returns once
	 * the run has nothing left to claim and nothing runs here */
	int64_t worker_id;
	/* set by SIGINT/SIGTERM/SIGHUP: finish cleanly; 2 or more (a
	 * second signal): also do not wait for replies owed to cancelled
	 * episodes */
	volatile sig_atomic_t *stop;
};

struct engine_summary {
	int planned;                    /* (task, epoch) pairs still to do */
	int done, solved, failed_model, failed_infra, interrupted;
	int gave_up;                    /* pairs that hit the retry cap */
	long tokens;
	long turns;                     /* model turns over every attempt */
	double cost_usd;
	bool stopped;                   /* by *stop or a run budget */
	/* the endpoint stayed down past the outage deadline: the run is
	 * incomplete, its unscored pairs wait for a resume */
	bool outage;
};

/* Record the suite's tasks in the run (first run only). */
enum err engine_snapshot_tasks(struct store *st, int64_t run_id,
			       const struct suite *s,
			       struct errmsg *e) MUST_CHECK;
/* A new queued run (workers execute it): one pending attempt per pair;
 * *n_out of them. */
enum err engine_enqueue(const struct engine_config *cfg, int *n_out,
			struct errmsg *e) MUST_CHECK;
/* Resolve every image reference of a task (or suite) against the image
 * store ($ASSAY_IMAGES or its default) and pin it in place:
 * NAME -> NAME@sha256:DIGEST. ERR_NOTFOUND for an image that is not
 * imported, its message naming the `assay image import` to run. Call
 * before engine_suite_digest: a task's digest covers its pinned images. */
enum err engine_images_pin(struct task *t, struct errmsg *e) MUST_CHECK;
enum err engine_images_pin_suite(struct suite *s, struct errmsg *e) MUST_CHECK;

/* Images a sealed archive carries (docs/FORMAT-archive.md, "Images"),
 * registered after the unseal and before pinning: a reference to a
 * carried name resolves to its sealed record, never to the store.
 * Private layers are unpacked (from tars borrowed from the unsealed
 * content, verified against the record's sealed digests) into one
 * memory-only tmpfs for the process (sbx_memfs_new); public ones are
 * bound in from this machine's store, and one it lacks is refused here
 * (ERR_NOTFOUND naming the `assay image import` to run). Two tasks may
 * carry the same image; the same name with another digest is refused. */
struct engine_carried_tar {
	const char *diff_hex;          /* 64 hex of the layer's diff id */
	const void *data;
	size_t len;
};
struct engine_carried {
	const char *name;
	const char *record;            /* the record JSON (image_record_json) */
	size_t record_len;
	const struct engine_carried_tar *tars; /* the task's private layers */
	size_t n_tars;
};
enum err engine_images_carry(const char *task, const struct engine_carried *c,
			     struct errmsg *e) MUST_CHECK;
/* Forget every carried image and close the memory tmpfs (boxes still
 * running keep their own clone of it until they exit). */
void engine_images_carry_end(void);
/* Content digest of a suite: SHA-256 over every task's files (and the
 * pinned images of tasks that use imported images). */
enum err engine_suite_digest(const struct suite *s, char out[65],
			     struct errmsg *e) MUST_CHECK;

/* Run every (task, epoch) of the run that has no finished, non-infra
 * attempt yet. First, for a remote model, one preflight call (unless
 * no_preflight): its failure returns ERR_PROVIDER before any episode.
 * A fatal configuration error of the endpoint during the run
 * (model_ctx_fatal) stops every episode (recorded interrupted) and
 * returns ERR_PROVIDER with the endpoint's error line. Returns ERR_OK also
 * when stopped; see summary->stopped and summary->outage. */
enum err engine_run(const struct engine_config *cfg,
		    struct engine_summary *summary, struct errmsg *e) MUST_CHECK;

/* `assay human`: a person works one task in its agent box, through a
 * terminal of the box (a shell on a pty of the box's own devpts), as an
 * episode of the run cfg->run_id (whose model is human/NAME): the same
 * set-up, services, flag, hidden check and score as a model's episode,
 * each command journaled as a bash call ("tool" events) and `submit
 * FLAG` as a submit call; the working time is the shell's lifetime. The
 * person's terminal is in_fd/out_fd (raw while the shell runs, when
 * in_fd is one); on_ready (may be NULL) is called with the rendered task
 * prompt once the services are up, before the shell starts. End of input
 * hangs the shell up, and so does stopped() (may be NULL) turning true
 * (a signal): the session then ends as a shell that exited. */
struct engine_human {
	int in_fd, out_fd;
	const char *user;               /* NAME, journaled with the prompt */
	void (*on_ready)(void *arg, const char *prompt);
	void *arg;
	bool (*stopped)(void);
};

struct engine_human_result {
	int64_t episode_id;
	char outcome[32];               /* as store_episode.outcome */
	int score;
	int64_t working_ms;
	int commands;
	char error[512];
};

enum err engine_human_run(const struct engine_config *cfg,
			  const struct task *t, const struct engine_human *h,
			  struct engine_human_result *out,
			  struct errmsg *e) MUST_CHECK;

#endif
