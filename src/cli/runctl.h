/*
 * runctl.h - what `assay run`, `assay resume` and `assay task check` share:
 * opening the store, the model and the sandbox, signals, and the summary.
 */
#ifndef ASSAY_RUNCTL_H
#define ASSAY_RUNCTL_H

#include <stdbool.h>

#include "cli/progress.h"
#include "cli/sealed.h"
#include "cli/slurm.h"
#include "engine/engine.h"
#include "model/model.h"
#include "store/store.h"
#include "task/task.h"
#include "vault/auditlog.h"

/* Which of the suite's tasks run (all when every field is empty); the
 * strings are owned (cli_run_opts_release frees them). */
struct run_select {
	char **tasks;              /* ids or globs (fnmatch) */
	size_t n_tasks;
	char **categories;
	size_t n_categories;
	char **tags;
	size_t n_tags;
	unsigned tiers;            /* bit d set: difficulty d runs; 0 = all */
	long limit;                /* the first N selected tasks; 0 = all */
};

struct run_opts {
	const char *suite;
	const char *model;
	const char *store;         /* NULL = default */
	const char *base_url;
	const char *key_file;
	const char *ca_bundle;     /* CAs of the endpoint (CURLOPT_CAINFO) */
	const char *prompt_level;
	const char *agent;         /* scaffold name; NULL = "react" */
	const char *developer;     /* owner of the endpoint (exposure ledger) */
	int epochs;
	int jobs;
	struct model_params params;
	int max_retries;           /* 0 = provider default, < 0 = none */
	int request_timeout_s;     /* 0 = default */
	int backoff_ms;            /* 0 = default */
	long context_window;       /* tokens; 0 = from the price table */
	long budget_tokens;
	double budget_usd;
	double episode_usd;
	long episode_working_s;    /* 0 = unlimited */
	long episode_tokens;       /* every task's per-episode token limit;
	                              0 = each task's own limits.tokens */
	long outage_deadline_s;    /* 0 = default, < 0 = do not wait */
	long reply_memory_mb;      /* all calls' buffered replies; 0 = 256 */
	bool no_preflight;         /* not stored with the run */
	bool json;
	bool quiet;
	bool verbose;
	enum progress_mode progress; /* --progress (not stored with the run) */
	bool price_unknown;        /* the model has no price (stored with the run) */
	bool dry_run;              /* print the plan and exit (run only) */
	struct run_select sel;
	const char *policy;        /* evaluate after the run (and resume) */
	const char *policy_sha256; /* of the policy file as the run started */
	bool fail_on_scrutiny;     /* exit 1 on additional-scrutiny */
	struct sealed_opts sealed;  /* for a sealed suite (.assay) */
	/* not stored with the run: a store handle already open, which holds
	 * a lease (resume's of the run, taken before the suite is opened;
	 * assay worker's), not closed by cli_run_ctx_close; and the worker's
	 * id: then cli_run_ctx_execute runs the run's queue and leaves the
	 * run's status to its coordinator */
	struct store *store_handle;
	int64_t worker_id;
	char *owned[24];           /* strings restored from JSON or made
	                              absolute */
	size_t n_owned;
};

void cli_run_opts_init(struct run_opts *o);
/* Add a copy of s to one of the selection's lists. */
void cli_run_select_add(char ***v, size_t *n, const char *s);
/* Make the suite, key file and policy paths absolute (journaled so, a run
 * started in one directory resumes from any). */
void cli_run_opts_absolute(struct run_opts *o);
/* Serialise / restore the options stored with a run. Caller frees. */
char *cli_run_opts_to_json(const struct run_opts *o);
enum err cli_run_opts_from_json(struct run_opts *o, const char *json,
				struct errmsg *e) MUST_CHECK;
/* Free what cli_run_opts_from_json allocated. */
void cli_run_opts_release(struct run_opts *o);

struct run_ctx {
	struct store *store;
	struct model_ctx *mctx;
	struct model *model;
	struct suite *suite;
	struct sealed *sealed;     /* non-NULL: the suite lives in memory */
	char digest[65];           /* the suite's content digest (all tasks) */
	size_t n_loaded;           /* tasks loaded; suite->n_tasks = selected */
	bool sandbox_up;           /* sbx_global_init succeeded */
	bool store_borrowed;       /* o->store_handle: not closed here */
};

/* Parse --request-key / --approval into o (0, or an exit code). */
int cli_run_opts_sealed(struct sealed_opts *o, int c, const char *arg);
/* Append one entry to the audit log; prints and returns an exit code on
 * failure, else 0. */
int cli_run_audit(const char *kind, const struct vault_audit_field *f, size_t nf);

/* Open store, suite (its selected tasks), model and sandbox; on error
 * print and return the exit code, else 0. With o->dry_run only the suite
 * and the model are opened. */
int cli_run_ctx_open(struct run_ctx *c, const struct run_opts *o);
/* Print the plan of a run (--dry-run) on stdout; returns the exit code. */
int cli_run_ctx_plan(const struct run_ctx *c, const struct run_opts *o);
void cli_run_ctx_close(struct run_ctx *c);
struct policy;
/* The pre-registered policy of a run, read before anything runs (NULL
 * when no evaluation was asked for); records its absolute path and digest
 * in o. With o->policy_sha256 already set (resume), a policy file that
 * changed since is refused. Prints and returns the exit code, else 0. */
int cli_run_policy_load(struct run_opts *o, struct policy **p_out);
/* judge.c: the refusal judge model reads every counted, unsolved episode
 * of the run and its verdict is journaled (a `judge` event); prints and
 * returns the exit code on failure, else 0. */
int cli_refusal_judge(struct store *st, struct model_ctx *ctx,
		      const char *judge, int64_t run_id);
/* Whether the judge model can be opened (its name, its key), before a run
 * asks for it: prints and returns the exit code, else 0. */
int cli_refusal_judge_check(struct model_ctx *ctx, const char *judge);
/* The determination of the finished run under p (no reference runs: `assay
 * report --reference` compares); sets *scrutiny. */
int cli_run_determine(struct run_ctx *c, const struct run_opts *o,
		      int64_t run_id, const struct policy *p, bool *scrutiny);

/* How long a lease (a run's, a worker's) lasts without a heartbeat:
 * ASSAY_LEASE_TTL_S or the store's default. */
int64_t cli_run_lease_ttl_ms(void);
/* Take the run's lease (one writer per run) for the life of the store
 * handle st; prints why not and returns the exit code, else 0. */
int cli_run_lease_take(struct store *st, int64_t run_id);
/* The run (o->epochs epochs), its lease and its whole task snapshot in
 * one transaction: a kill at any point leaves either no run or all of it.
 * Prints why not and returns the exit code, else 0 with *run_id set. */
int cli_run_create(struct run_ctx *c, const struct run_opts *o,
		   int64_t *run_id);
/* Run the engine for run_id (its lease held); sets the run's status
 * (done, incomplete, interrupted or failed), prints the summary; returns
 * the exit code (0 only for a done run). */
int cli_run_ctx_execute(struct run_ctx *c, const struct run_opts *o,
			int64_t run_id, struct engine_summary *sum);
/* The queue executor: queue every pair of the new run (status queued)
 * for `assay worker`s, follow it until it drains (reaping dead workers),
 * then set and print its status as cli_run_ctx_execute does. With sl,
 * the workers are a Slurm job array this submits, follows, submits again
 * when it ends early and cancels on a signal (slurm.h). */
int cli_run_ctx_queue(struct run_ctx *c, const struct run_opts *o,
		      int64_t run_id, struct cli_slurm *sl,
		      struct engine_summary *sum);
/* SIGINT, SIGTERM and SIGHUP set the stop flag (cli_run_ctx_execute installs
 * these itself); whether one came. */
void cli_run_signals(void);
bool cli_run_stopped(void);
/* Default -j from the machine. */
int cli_default_jobs(void);

#endif
