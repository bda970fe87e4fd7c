/*
 * store.h - the journal: runs, their task snapshots, episodes and events.
 *
 * One SQLite file in WAL mode (default $XDG_DATA_HOME/assay/assay.db), or
 * a PostgreSQL database (a postgres:// URL) shared by many machines; the
 * same schema, migrations and guarantees on both.
 * Every write is its own transaction, or part of a group the caller opened
 * (store_tx_begin), so a harness killed at any moment loses at most the
 * row or group it was writing, whole; resume finds episodes left
 * 'running' and marks them 'interrupted' (kept, never deleted).
 * A store that fails PRAGMA quick_check, or has a newer schema version
 * than this binary, is refused at open before anything is written.
 * One writer per run: a lease (store_lease_take) that every grouped
 * transaction of its holder re-checks under the write lock.
 * UNIQUE constraints make a rerun of the same (episode, attempt) or event
 * sequence number fail loudly instead of duplicating rows.
 *
 * Ownership: structs filled by store_* getters own their strings; release
 * them with the matching *_release / *_free function.
 */
#ifndef ASSAY_STORE_H
#define ASSAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct store;

/* Open or create the store at path (parent directories are created).
 * A read-only or unwritable location is a clear ERR_STORE naming it. */
enum err store_open(const char *path, struct store **st_out,
		    struct errmsg *e) MUST_CHECK;
/* Also releases the lease the handle holds, if any. */
void store_close(struct store *st);
/* The schema version this binary writes. */
int store_schema_version(void);
/* The default store: $ASSAY_STORE (a path or a postgres:// URL), else
 * $XDG_DATA_HOME/assay/assay.db or ~/.local/share/assay/assay.db.
 * Caller frees. */
char *store_default_path(void);
/* Whether target is a PostgreSQL URL (postgres:// or postgresql://). */
bool store_is_pg(const char *target);
/* target as it may be shown and logged: a URL's password masked. Caller
 * frees. */
char *store_display_name(const char *target);

struct store_run {
	int64_t id;
	char *status;          /* running | done | incomplete | interrupted |
	                          failed (README: run statuses) */
	char *model;
	char *endpoint;
	char *suite_id;
	char *suite_path;
	char *suite_digest;
	char *config_json;     /* the run's configuration as given */
	char *harness_version;
	int epochs;
	int64_t created_ms;    /* wall clock */
	int64_t finished_ms;   /* 0 while unfinished */
	bool orphaned;         /* status running, but no live process holds
	                          its lease: its owner died (resume it) */
	char *executor;        /* local | workers | slurm */
};

enum err store_run_create(struct store *st, struct store_run *run,
			  struct errmsg *e) MUST_CHECK; /* sets run->id */
enum err store_run_set_status(struct store *st, int64_t run_id,
			      const char *status, struct errmsg *e) MUST_CHECK;
/* A resume with corrected endpoint options (base URL, key file,
 * timeouts): the endpoint and configuration later resumes use. The audit
 * log's run.start entries keep each invocation's endpoint. */
enum err store_run_set_endpoint(struct store *st, int64_t run_id,
				const char *endpoint, const char *config_json,
				struct errmsg *e) MUST_CHECK;
enum err store_run_get(struct store *st, int64_t run_id,
		       struct store_run *out, struct errmsg *e) MUST_CHECK;
enum err store_run_list(struct store *st, struct store_run **runs_out,
			size_t *n_out, struct errmsg *e) MUST_CHECK;
void store_run_release(struct store_run *r);
void store_runs_free(struct store_run *r, size_t n);

/* The (task, epoch) pairs of a run (tasks of its snapshot x its epochs)
 * by final state: one definition for the run's status, resume and the
 * report. A pair is scored once it has an attempt that counts
 * (store_episode_counts); an unscored pair is cut off (its last attempt
 * was interrupted or left running), failed (its last attempt was a
 * genuine infrastructure failure), invalidated or never attempted. */
struct store_pairs {
	int total, scored;
	int cut_off, failed_infra, unstarted;
	int invalidated;       /* the last attempt finished but was judged
	                          invalid (harness, task) or indeterminate */
	int extra_scored;      /* scored attempts beyond one per pair: 0 */
};
enum err store_run_pairs(struct store *st, int64_t run_id,
			 struct store_pairs *out, struct errmsg *e) MUST_CHECK;

/* What the statistics need about a task, snapshotted into the run. */
struct store_task {
	char *task_id;
	char *category;
	int difficulty;
	double expert_minutes;
	char *tags;            /* space-separated */
	char *attack;          /* space-separated */
	int n_answers;
	char *digest;          /* content digest of the task directory */
	long long limit_tokens; /* per-episode token limit as run; 0 = not
	                           journaled (runs of schema 1) */
};

enum err store_task_add(struct store *st, int64_t run_id,
			const struct store_task *t, struct errmsg *e) MUST_CHECK;
enum err store_task_list(struct store *st, int64_t run_id,
			 struct store_task **tasks_out, size_t *n_out,
			 struct errmsg *e) MUST_CHECK;
void store_tasks_free(struct store_task *t, size_t n);

struct store_episode {
	int64_t id;
	int64_t run_id;
	char *task_id;
	int epoch;
	int attempt;
	char *status;          /* pending | running | done | interrupted */
	char *outcome;         /* solved | failed | submitted-wrong | no-submit |
	                          limit-turns | limit-tokens | limit-cost |
	                          limit-wall | model-error | box-failed |
	                          check-blocked | infra-error |
	                          infra-interrupted */
	char *error_class;     /* none | model | agent-caused | infra */
	char *error;           /* one line, may be NULL */
	int score;             /* 1 solved, 0 not */
	bool flag_ok, check_ok;
	bool has_flag, has_check;
	int answers_ok, answers_total;
	int turns;
	long prompt_tokens, completion_tokens, cached_tokens;
	double cost_usd;
	int64_t started_ms, finished_ms;   /* wall clock */
	int64_t wall_ms, working_ms;
	int model_calls, tool_calls, infra_retries;
	char *validity;        /* valid | invalid | indeterminate; NULL while
	                          unfinished (store_validity.c) */
	char *validity_cause;  /* invalid: infrastructure | harness | task |
	                          agent-caused; else NULL */
};

enum err store_episode_create(struct store *st, int64_t run_id,
			      const char *task_id, int epoch, int attempt,
			      int64_t *id_out, struct errmsg *e) MUST_CHECK;
enum err store_episode_start(struct store *st, int64_t ep_id,
			     int64_t started_ms, struct errmsg *e) MUST_CHECK;
/* Record the final state of an episode (status 'done' or 'interrupted'),
 * with its validity (ep->validity, or when NULL the one of its error
 * class: store_validity_of_class). */
enum err store_episode_finish(struct store *st, const struct store_episode *ep,
			      struct errmsg *e) MUST_CHECK;
enum err store_episode_list(struct store *st, int64_t run_id,
			    struct store_episode **eps_out, size_t *n_out,
			    struct errmsg *e) MUST_CHECK;
enum err store_episode_get(struct store *st, int64_t ep_id,
			   struct store_episode *out, struct errmsg *e) MUST_CHECK;
void store_episode_release(struct store_episode *ep);
void store_episodes_free(struct store_episode *eps, size_t n);
/* Mark this run's 'running' episodes as interrupted, infrastructure class
 * (their partial events are kept). Returns how many in *n_out. */
enum err store_mark_interrupted(struct store *st, int64_t run_id,
				int *n_out, struct errmsg *e) MUST_CHECK;

/* ---- validity (store_validity.c; docs/internals/store.md) ----------------
 *
 * Every finished episode is `valid`, `invalid` with a cause
 * (infrastructure, harness, task, agent-caused) or `indeterminate`. The
 * engine sets it from the error class when the episode ends; an evaluator
 * changes it afterwards (store_review_apply), each change a row of the
 * review log. An attempt *counts* (is a scored attempt of its pair) when
 * it is done and valid, or invalid because the agent broke it: that
 * breakage is the model's failure (score 0). Every other attempt is kept
 * and reported but left out of the statistics. */
#define STORE_CAUSES "infrastructure|harness|task|agent-caused"

/* The validity of an attempt the engine finished with error class cls
 * (none | model | agent-caused | infra | task). Borrowed constants. */
void store_validity_of_class(const char *cls, const char **validity_out,
			     const char **cause_out);
/* Whether cause is one of STORE_CAUSES. */
bool store_cause_known(const char *cause);
/* Whether the attempt counts toward its pair (above). Reads validity, or
 * for a row without one (never: migration 5 fills old rows) the class. */
bool store_episode_counts(const struct store_episode *ep);

/* One evaluator decision about one episode: an invalidation or a
 * re-score, with the state before and after. */
struct store_review {
	int64_t episode_id;
	int seq;               /* 1, 2, ... per episode */
	int64_t run_id;
	char *action;          /* invalidate | rescore */
	char *validity_before, *cause_before;
	int score_before;
	char *validity_after, *cause_after;
	int score_after;
	char *reason;          /* the evaluator's words */
	char *reviewer;
	int64_t at_ms;         /* wall clock */
};
/* Apply r (episode_id, run_id, action, *_after, reason, reviewer; all
 * owned by r: release it with store_review_release): read the episode's
 * current state into r's *_before fields, update the episode and append
 * the review row, in one transaction; r->seq and r->at_ms are set, and
 * a negative score_after becomes score_before (the score is kept). ERR_NOTFOUND: no such episode in that run; ERR_INVAL:
 * the episode is not finished. */
enum err store_review_apply(struct store *st, struct store_review *r,
			    struct errmsg *e) MUST_CHECK;
/* The run's review log, oldest first. */
enum err store_review_list(struct store *st, int64_t run_id,
			   struct store_review **rs_out, size_t *n_out,
			   struct errmsg *e) MUST_CHECK;
void store_review_release(struct store_review *r);
void store_reviews_free(struct store_review *rs, size_t n);

/* Group the writes between begin and commit into one transaction, opened
 * at the first write (the engine commits a group at most every few tens
 * of milliseconds instead of once per row; a crash loses at most that
 * uncommitted group, atomically). Without begin every write is its own
 * transaction. store_tx_commit_due commits only when the open group is
 * at least max_age_ms old and otherwise keeps grouping; store_tx_age_ms
 * is the open group's age, -1 when none is open. */
enum err store_tx_begin(struct store *st, struct errmsg *e) MUST_CHECK;
enum err store_tx_commit(struct store *st, struct errmsg *e) MUST_CHECK;
enum err store_tx_commit_due(struct store *st, int64_t max_age_ms,
			     struct errmsg *e) MUST_CHECK;
int64_t store_tx_age_ms(const struct store *st);
/* Abandon the open group (nothing of it is written). */
void store_tx_rollback(struct store *st);

/* Leases: one owner at a time of a resource, scope "run" (ref = run id)
 * today, "episode" for workers on other machines later. Taken atomically
 * under the write lock; granted when free, expired, already this
 * handle's, or held by a process of this machine (same boot and pid
 * namespace) that no longer exists. Otherwise ERR_STORE with a message
 * naming the holder (and *holder filled when non-NULL). The holder renews
 * it with store_lease_heartbeat (at most every ttl/4) and at the start of
 * every grouped transaction; once another owner has taken it, every write
 * of this handle fails. */
#define STORE_LEASE_TTL_MS 30000
struct store_lease {
	char *scope;
	int64_t ref;
	char *owner;           /* "host:pid:nonce", unique per store handle */
	char *host, *machine;
	int pid;
	long long pid_start;
	int64_t acquired_ms, heartbeat_ms, expires_ms;   /* wall clock */
};
enum err store_lease_take(struct store *st, const char *scope, int64_t ref,
			  int64_t ttl_ms, struct store_lease *holder,
			  struct errmsg *e) MUST_CHECK;
enum err store_lease_heartbeat(struct store *st, struct errmsg *e) MUST_CHECK;
enum err store_lease_release(struct store *st, struct errmsg *e) MUST_CHECK;
/* The lease row of (scope, ref), if any (*found). */
enum err store_lease_get(struct store *st, const char *scope, int64_t ref,
			 struct store_lease *out, bool *found,
			 struct errmsg *e) MUST_CHECK;
void store_lease_release_row(struct store_lease *l);
/* This handle's owner token. */
const char *store_owner(struct store *st);

/* The queue: the episodes of a run executed by workers (assay worker,
 * possibly on other machines) instead of by the process that created it.
 * A queued run (status 'queued') has one 'pending' attempt per unscored
 * pair; a worker claims pending attempts (FOR UPDATE SKIP LOCKED on
 * PostgreSQL: two workers never claim the same row), which become
 * 'running' with its id, and records them as the local engine does. A
 * worker holds one lease (scope "worker", ref = its id) renewed by every
 * group it writes; when it expires (the worker died, its host is gone or
 * cut off), store_queue_reap marks its running attempts interrupted
 * (infra-interrupted, infra class) and queues the next attempt of each,
 * and deletes the lease, so the dead worker can write nothing more. */
struct store_claim {
	int64_t ep_id;
	char *task_id;
	int epoch, attempt;
	int failures;          /* genuine infra failures of the pair so far */
};
/* Register this handle as a worker and take its lease. pubkey: the
 * worker's public key (text form, vault/worker.h), or NULL for a worker
 * without one (it can claim no sealed run's attempts). */
enum err store_worker_register(struct store *st, const char *name, int slots,
			       const char *pubkey, int64_t ttl_ms,
			       int64_t *id_out, struct errmsg *e) MUST_CHECK;
enum err store_worker_stop(struct store *st, int64_t worker_id,
			   struct errmsg *e) MUST_CHECK;
enum err store_run_set_executor(struct store *st, int64_t run_id,
				const char *executor,
				struct errmsg *e) MUST_CHECK;
/* A pending attempt of (task, epoch). */
enum err store_queue_add(struct store *st, int64_t run_id, const char *task_id,
			 int epoch, int attempt, struct errmsg *e) MUST_CHECK;
/* Claim up to max pending attempts of the run for worker_id. A sealed
 * run's attempts (store_run_set_sealed) go only to a worker whose public
 * key is registered for the run and not revoked. */
enum err store_queue_claim(struct store *st, int64_t run_id,
			   int64_t worker_id, int max,
			   struct store_claim **claims_out, size_t *n_out,
			   struct errmsg *e) MUST_CHECK;
void store_claims_free(struct store_claim *c, size_t n);
/* The oldest queued run with a pending attempt worker_id may claim; 0
 * when none. */
enum err store_queue_next_run(struct store *st, int64_t worker_id,
			      int64_t *run_id_out,
			      struct errmsg *e) MUST_CHECK;
/* Attempts of the run pending and running. */
enum err store_queue_counts(struct store *st, int64_t run_id, int *pending,
			    int *running, struct errmsg *e) MUST_CHECK;
/* Workers whose lease expired: their running attempts are cut off and
 * queued again (*n_out of them). */
enum err store_queue_reap(struct store *st, int *n_out,
			  struct errmsg *e) MUST_CHECK;

/* Sealed runs on workers (store_sealed.c; docs/FORMAT-archive.md,
 * "Worker keys"): the archive's digest marks a queued run sealed; each
 * worker public key registered for it holds one wrapped key per task the
 * run uses (hex of vault's VAULT_WORKER_WRAP_LEN bytes: never a key in
 * the clear, never task content). Revoking a key marks it revoked and
 * deletes its wrapped keys, so its worker can neither claim nor unwrap
 * anything of the run afterwards. */
enum err store_run_set_sealed(struct store *st, int64_t run_id,
			      const char *archive_digest,
			      struct errmsg *e) MUST_CHECK;
/* The archive digest of a sealed run into *digest_out (caller frees), or
 * NULL for a run that is not sealed. */
enum err store_run_sealed(struct store *st, int64_t run_id, char **digest_out,
			  struct errmsg *e) MUST_CHECK;
/* Register pubkey for the run (ERR_INVAL if it already is). */
enum err store_worker_key_add(struct store *st, int64_t run_id,
			      const char *pubkey, struct errmsg *e) MUST_CHECK;
enum err store_wrapped_key_put(struct store *st, int64_t run_id,
			       const char *pubkey, int task_index,
			       const char *task_id, const char *wrapped_hex,
			       struct errmsg *e) MUST_CHECK;
enum store_wkey_state { STORE_WKEY_NONE, STORE_WKEY_ACTIVE, STORE_WKEY_REVOKED };
enum err store_worker_key_state(struct store *st, int64_t run_id,
				const char *pubkey, enum store_wkey_state *out,
				struct errmsg *e) MUST_CHECK;
struct store_wrapped {
	int task_index;
	char *task_id;
	char *wrapped_hex;
};
/* The wrapped keys of an active pubkey for the run, by task index. */
enum err store_wrapped_keys(struct store *st, int64_t run_id,
			    const char *pubkey, struct store_wrapped **out,
			    size_t *n_out, struct errmsg *e) MUST_CHECK;
void store_wrapped_free(struct store_wrapped *w, size_t n);
/* Revoke pubkey for run_id (0: every run it is registered for); *n_out
 * the runs it was active for. */
enum err store_worker_key_revoke(struct store *st, int64_t run_id,
				 const char *pubkey, int *n_out,
				 struct errmsg *e) MUST_CHECK;

/* Encryption at rest of event data (transcripts hold task content). When
 * a codec is set, store_event_add stores seal(data) and store_event_list
 * returns open(text); `ad` names the row ("episode:ID:seq:N") so a sealed
 * row cannot be moved. The codec is the caller's (vault/atrest.h). */
struct store_codec {
	char *(*seal)(void *arg, const char *ad, const char *plain);
	enum err (*open)(void *arg, const char *ad, const char *text,
			 char **plain_out, struct errmsg *e);
	void *arg;
};
void store_set_codec(struct store *st, const struct store_codec *codec);

/* Events: model calls, tool calls and notes, in order within an episode. */
struct store_event {
	int seq;
	char *kind;            /* model | tool | note | score */
	int64_t at_ms;         /* wall clock */
	char *data;            /* JSON text */
};

enum err store_event_add(struct store *st, int64_t ep_id, int seq,
			 const char *kind, const char *data,
			 struct errmsg *e) MUST_CHECK;
enum err store_event_list(struct store *st, int64_t ep_id,
			  struct store_event **evs_out, size_t *n_out,
			  struct errmsg *e) MUST_CHECK;
void store_events_free(struct store_event *ev, size_t n);

/* The exposure ledger: which task text was sent to which endpoint (and so
 * to which developer), per run. Local baselines and replays never count. */
struct store_exposure {
	char *task_id;
	char *task_digest;
	char *suite_id;
	char *developer;
	char *model;
	char *endpoint;
	int64_t run_id;
	int64_t first_ms;
};

/* Record (idempotent per task digest, endpoint and run). */
enum err store_exposure_add(struct store *st, const struct store_exposure *x,
			    struct errmsg *e) MUST_CHECK;
/* Every exposure, or only those to one developer (developer non-NULL). */
enum err store_exposure_list(struct store *st, const char *developer,
			     struct store_exposure **xs_out, size_t *n_out,
			     struct errmsg *e) MUST_CHECK;
void store_exposures_free(struct store_exposure *xs, size_t n);

#endif
