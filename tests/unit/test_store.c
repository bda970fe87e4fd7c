/*
 * test_store.c - the SQLite journal: runs, tasks, episodes, events,
 * interruption, uniqueness, an unwritable location, leases, the pairs of
 * a run by final state, damaged stores and schema guards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "store/store.h"
#include "store/store_db.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/assay-test-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	struct errmsg e;

	(void)state;
	chmod(dir, 0700);
	assert_int_equal(rm_rf(dir, &e), ERR_OK);
	return 0;
}

static struct store *open_new(void)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *st;
	struct errmsg e;

	assert_int_equal(store_open(p, &st, &e), ERR_OK);
	free(p);
	return st;
}

static int64_t new_run(struct store *st)
{
	struct store_run r = { .model = (char *)"baseline/null",
			       .suite_id = (char *)"s", .config_json = (char *)"{}",
			       .epochs = 2, .created_ms = 1 };
	struct errmsg e;

	assert_int_equal(store_run_create(st, &r, &e), ERR_OK);
	assert_true(r.id > 0);
	return r.id;
}

static void test_runs(void **state)
{
	struct store *st = open_new();
	struct store_run *runs, one;
	struct errmsg e;
	size_t n;
	int64_t id;

	(void)state;
	id = new_run(st);
	new_run(st);
	assert_int_equal(store_run_list(st, &runs, &n, &e), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(runs[0].status, "running");
	store_runs_free(runs, n);
	assert_int_equal(store_run_set_status(st, id, "done", &e), ERR_OK);
	assert_int_equal(store_run_get(st, id, &one, &e), ERR_OK);
	assert_string_equal(one.status, "done");
	assert_true(one.finished_ms > 0);
	store_run_release(&one);
	assert_int_equal(store_run_get(st, 999, &one, &e), ERR_NOTFOUND);
	assert_non_null(strstr(e.text, "no run 999"));
	store_close(st);
}

static void test_episodes_events(void **state)
{
	struct store *st = open_new();
	struct store_episode ep = { 0 }, *eps;
	struct store_event *evs;
	struct errmsg e;
	int64_t run, id, id2;
	size_t n;
	int k;

	(void)state;
	run = new_run(st);
	assert_int_equal(store_episode_create(st, run, "t1", 1, 1, &id, &e), ERR_OK);
	/* the same (task, epoch, attempt) twice is refused, never duplicated */
	assert_int_equal(store_episode_create(st, run, "t1", 1, 1, &id2, &e),
			 ERR_STORE);
	assert_int_equal(store_episode_start(st, id, 5, &e), ERR_OK);
	assert_int_equal(store_event_add(st, id, 0, "model", "{\"a\":1}", &e), ERR_OK);
	assert_int_equal(store_event_add(st, id, 1, "tool", "{}", &e), ERR_OK);
	assert_int_equal(store_event_add(st, id, 1, "tool", "{}", &e), ERR_STORE);
	assert_int_equal(store_event_list(st, id, &evs, &n, &e), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(evs[0].data, "{\"a\":1}");
	store_events_free(evs, n);

	assert_int_equal(store_episode_create(st, run, "t2", 1, 1, &id2, &e), ERR_OK);
	assert_int_equal(store_episode_start(st, id2, 5, &e), ERR_OK);
	ep.id = id;
	ep.status = (char *)"done";
	ep.outcome = (char *)"solved";
	ep.error_class = (char *)"none";
	ep.score = 1;
	ep.prompt_tokens = 10;
	ep.cost_usd = 0.5;
	assert_int_equal(store_episode_finish(st, &ep, &e), ERR_OK);
	assert_int_equal(store_mark_interrupted(st, run, &k, &e), ERR_OK);
	assert_int_equal(k, 1);        /* only t2 was still running */
	assert_int_equal(store_episode_list(st, run, &eps, &n, &e), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(eps[0].status, "done");
	assert_int_equal(eps[0].prompt_tokens, 10);
	assert_string_equal(eps[1].status, "interrupted");
	assert_string_equal(eps[1].outcome, "infra-interrupted");
	assert_string_equal(eps[1].error_class, "infra");
	store_episodes_free(eps, n);
	store_close(st);
}

static void test_tasks(void **state)
{
	struct store *st = open_new();
	struct store_task t = { .task_id = (char *)"a", .category = (char *)"web",
				.difficulty = 3, .expert_minutes = 12.5,
				.tags = (char *)"x y", .attack = (char *)"T1",
				.n_answers = 2, .digest = (char *)"d",
				.limit_tokens = 2500000 }, *v;
	struct errmsg e;
	int64_t run;
	size_t n;

	(void)state;
	run = new_run(st);
	assert_int_equal(store_task_add(st, run, &t, &e), ERR_OK);
	assert_int_equal(store_task_list(st, run, &v, &n, &e), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].difficulty, 3);
	assert_true(v[0].expert_minutes == 12.5);
	assert_string_equal(v[0].tags, "x y");
	assert_int_equal(v[0].limit_tokens, 2500000);
	store_tasks_free(v, n);
	store_close(st);
}

/* A store of schema 1 (before task limits were journaled) is migrated in
 * place; its old rows read as "not journaled"; a newer schema is refused. */
static void test_migration(void **state)
{
	char *p = path_join(dir, "old.db");
	char *cmd = xasprintf(
		"sqlite3 '%s' \"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO meta VALUES('schema','1');"
		"CREATE TABLE runs(id INTEGER PRIMARY KEY, status TEXT NOT NULL,"
		" model TEXT NOT NULL, endpoint TEXT, suite_id TEXT, suite_path TEXT,"
		" suite_digest TEXT, config_json TEXT, harness_version TEXT,"
		" epochs INTEGER, created_ms INTEGER, finished_ms INTEGER DEFAULT 0);"
		"INSERT INTO runs(id, status, model) VALUES(1, 'done', 'm');"
		"CREATE TABLE run_tasks(run_id INTEGER NOT NULL REFERENCES runs(id),"
		" task_id TEXT NOT NULL, category TEXT, difficulty INTEGER,"
		" expert_minutes REAL, tags TEXT, attack TEXT, n_answers INTEGER,"
		" digest TEXT, PRIMARY KEY(run_id, task_id));"
		"INSERT INTO run_tasks(run_id, task_id) VALUES(1, 'old');\"", p);
	struct store *st = NULL;
	struct store_task *v;
	struct errmsg e;
	size_t n;

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(store_open(p, &st, &e), ERR_OK);
	assert_int_equal(store_task_list(st, 1, &v, &n, &e), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].limit_tokens, 0);
	store_tasks_free(v, n);
	store_close(st);
	/* opening again is a no-op */
	assert_int_equal(store_open(p, &st, &e), ERR_OK);
	store_close(st);
	cmd = xasprintf("sqlite3 '%s' \"UPDATE meta SET value='99' WHERE key='schema'\"", p);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(store_open(p, &st, &e), ERR_STORE);
	assert_non_null(strstr(e.text, "schema version 99"));
	free(p);
}

/* Grouped writes: nothing is visible to another connection before the
 * commit, and a group that is never committed is lost whole. */
static void test_batch(void **state)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *st = open_new(), *other;
	struct store_episode *eps;
	struct errmsg e;
	int64_t run, id;
	size_t n;

	(void)state;
	run = new_run(st);
	assert_int_equal(store_open(p, &other, &e), ERR_OK);
	assert_int_equal(store_tx_begin(st, &e), ERR_OK);
	assert_int_equal(store_tx_commit(st, &e), ERR_OK);  /* empty: no-op */
	assert_int_equal(store_tx_begin(st, &e), ERR_OK);
	assert_int_equal(store_episode_create(st, run, "t", 1, 1, &id, &e), ERR_OK);
	assert_int_equal(store_event_add(st, id, 0, "note", "{}", &e), ERR_OK);
	assert_int_equal(store_episode_list(other, run, &eps, &n, &e), ERR_OK);
	assert_int_equal(n, 0);
	store_episodes_free(eps, n);
	/* a young group stays open across commit_due until it is old enough */
	assert_true(store_tx_age_ms(st) >= 0);
	assert_int_equal(store_tx_commit_due(st, 60000, &e), ERR_OK);
	assert_true(store_tx_age_ms(st) >= 0);
	assert_int_equal(store_event_add(st, id, 1, "note", "{}", &e), ERR_OK);
	assert_int_equal(store_episode_list(other, run, &eps, &n, &e), ERR_OK);
	assert_int_equal(n, 0);
	store_episodes_free(eps, n);
	assert_int_equal(store_tx_commit_due(st, 0, &e), ERR_OK);
	assert_int_equal(store_tx_age_ms(st), -1);
	assert_int_equal(store_episode_list(other, run, &eps, &n, &e), ERR_OK);
	assert_int_equal(n, 1);
	store_episodes_free(eps, n);
	/* an uncommitted group dies with its connection */
	assert_int_equal(store_tx_begin(st, &e), ERR_OK);
	assert_int_equal(store_episode_create(st, run, "u", 1, 1, &id, &e), ERR_OK);
	store_close(st);
	assert_int_equal(store_episode_list(other, run, &eps, &n, &e), ERR_OK);
	assert_int_equal(n, 1);
	store_episodes_free(eps, n);
	store_close(other);
	free(p);
}

static void test_unwritable(void **state)
{
	char *p = path_join(dir, "ro/assay.db"), *ro = path_join(dir, "ro");
	struct store *st = NULL;
	struct errmsg e;

	(void)state;
	assert_int_equal(mkdir_p(ro, 0500, &e), ERR_OK);
	chmod(ro, 0500);
	if (geteuid() == 0) {
		/* root ignores mode bits; use a path under a regular file */
		char *f = path_join(dir, "file");
		free(p);
		p = path_join(dir, "file/assay.db");
		assert_int_equal(file_write_atomic(f, "x", 1, 0600, &e), ERR_OK);
		free(f);
	}
	assert_int_equal(store_open(p, &st, &e), ERR_STORE);
	assert_null(st);
	assert_non_null(strstr(e.text, "store"));
	free(p);
	free(ro);
}

static void sql(const char *path, const char *q)
{
	char *cmd = xasprintf("sqlite3 '%s' \"%s\" >/dev/null", path, q);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static char *sql_out(const char *path, const char *q)
{
	char *cmd = xasprintf("sqlite3 '%s' \"%s\"", path, q), line[256] = "";
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	pclose(f);
	free(cmd);
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

/* One writer per run: a second handle is refused while the first lives,
 * naming the holder; the lease is free again once released. */
static void test_lease_exclusive(void **state)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *a = open_new(), *b;
	struct store_lease h;
	struct store_run r;
	struct errmsg e;
	int64_t run;

	(void)state;
	run = new_run(a);
	assert_int_equal(store_open(p, &b, &e), ERR_OK);
	assert_int_equal(store_lease_take(a, "run", run, 0, NULL, &e), ERR_OK);
	/* taking it twice from one handle is a programming error */
	assert_int_equal(store_lease_take(a, "run", run, 0, NULL, &e), ERR_INVAL);
	assert_int_equal(store_lease_take(b, "run", run, 0, &h, &e), ERR_STORE);
	assert_non_null(strstr(e.text, "held by another assay"));
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.owner, store_owner(a));
	store_lease_release_row(&h);
	/* another run is another lease */
	assert_int_equal(store_lease_take(b, "run", run + 1, 0, NULL, &e), ERR_OK);
	assert_int_equal(store_lease_release(b, &e), ERR_OK);
	/* a running run held by a live process is not orphaned */
	assert_int_equal(store_run_get(b, run, &r, &e), ERR_OK);
	assert_false(r.orphaned);
	store_run_release(&r);
	/* closing the holder releases it: the run is orphaned (resume it) */
	store_close(a);
	assert_int_equal(store_run_get(b, run, &r, &e), ERR_OK);
	assert_true(r.orphaned);
	store_run_release(&r);
	assert_int_equal(store_lease_take(b, "run", run, 0, NULL, &e), ERR_OK);
	store_close(b);
	free(p);
}

/* A dead owner: expired, or a gone process of this machine. */
static void test_lease_dead_owner(void **state)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *a = open_new(), *b;
	struct errmsg e;
	char q[256];
	int64_t run;
	pid_t child;

	(void)state;
	run = new_run(a);
	assert_int_equal(store_lease_take(a, "run", run, 0, NULL, &e), ERR_OK);
	assert_int_equal(store_open(p, &b, &e), ERR_OK);
	/* the holder's pid is a process of this machine that has exited */
	child = fork();
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	snprintf(q, sizeof(q), "UPDATE leases SET pid=%d", (int)child);
	sql(p, q);
	assert_int_equal(store_lease_take(b, "run", run, 0, NULL, &e), ERR_OK);
	assert_int_equal(store_lease_release(b, &e), ERR_OK);
	/* a holder on another machine, alive as far as anyone knows: refused
	 * until its lease expires */
	sql(p, "INSERT INTO leases VALUES('run', 99, 'far:1:x', 'far', "
	       "'other-boot/1', 1, 1, 0, 0, 9999999999999)");
	assert_int_equal(store_lease_take(b, "run", 99, 0, NULL, &e), ERR_STORE);
	assert_non_null(strstr(e.text, "on far"));
	sql(p, "UPDATE leases SET expires_ms=1 WHERE ref=99");
	assert_int_equal(store_lease_take(b, "run", 99, 0, NULL, &e), ERR_OK);
	store_close(b);
	store_close(a);
	free(p);
}

/* A holder whose lease was taken over writes nothing more; the heartbeat
 * renews the expiry. */
static void test_lease_fence(void **state)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *a = open_new();
	struct store_lease l;
	struct errmsg e;
	int64_t run, id, before;
	bool found;
	char *n;

	(void)state;
	run = new_run(a);
	assert_int_equal(store_lease_take(a, "run", run, 80, NULL, &e), ERR_OK);
	assert_int_equal(store_lease_get(a, "run", run, &l, &found, &e), ERR_OK);
	assert_true(found);
	before = l.expires_ms;
	store_lease_release_row(&l);
	usleep(40 * 1000);         /* past ttl/4 */
	assert_int_equal(store_lease_heartbeat(a, &e), ERR_OK);
	assert_int_equal(store_lease_get(a, "run", run, &l, &found, &e), ERR_OK);
	assert_true(l.expires_ms > before);
	store_lease_release_row(&l);
	/* grouped writes go through while the lease is ours */
	assert_int_equal(store_tx_begin(a, &e), ERR_OK);
	assert_int_equal(store_episode_create(a, run, "t", 1, 1, &id, &e), ERR_OK);
	assert_int_equal(store_tx_commit(a, &e), ERR_OK);
	/* another owner takes it over */
	sql(p, "UPDATE leases SET owner='thief:1:y'");
	assert_int_equal(store_tx_begin(a, &e), ERR_OK);
	assert_int_equal(store_episode_create(a, run, "t", 2, 1, &id, &e),
			 ERR_STORE);
	assert_non_null(strstr(e.text, "lost the lease"));
	/* and every later write fails, grouped or not */
	assert_int_equal(store_run_set_status(a, run, "done", &e), ERR_STORE);
	assert_int_equal(store_lease_heartbeat(a, &e), ERR_STORE);
	store_close(a);
	n = sql_out(p, "SELECT count(*) FROM episodes");
	assert_string_equal(n, "1");
	free(n);
	n = sql_out(p, "SELECT owner FROM leases");
	assert_string_equal(n, "thief:1:y");   /* not released by the loser */
	free(n);
	free(p);
}

static void add_task(struct store *st, int64_t run, const char *id)
{
	struct store_task t = { .task_id = (char *)id, .category = (char *)"c",
				.digest = (char *)"d" };
	struct errmsg e;

	assert_int_equal(store_task_add(st, run, &t, &e), ERR_OK);
}

static void finish_ep(struct store *st, int64_t run, const char *task,
		      int epoch, int attempt, const char *status,
		      const char *cls)
{
	struct store_episode ep = { .status = (char *)status,
				    .outcome = (char *)"x",
				    .error_class = (char *)cls };
	struct errmsg e;

	assert_int_equal(store_episode_create(st, run, task, epoch, attempt,
					      &ep.id, &e), ERR_OK);
	if (status)
		assert_int_equal(store_episode_finish(st, &ep, &e), ERR_OK);
}

static int64_t ep_of(struct store *st, int64_t run, const char *task,
		     int epoch, struct store_episode *out)
{
	struct store_episode *eps;
	struct errmsg e;
	int64_t id = 0;
	size_t n;

	assert_int_equal(store_episode_list(st, run, &eps, &n, &e), ERR_OK);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(eps[i].task_id, task) && eps[i].epoch == epoch) {
			id = eps[i].id;
			if (out) {
				*out = eps[i];
				memset(&eps[i], 0, sizeof(eps[i]));
			}
		}
	store_episodes_free(eps, n);
	assert_true(id > 0);
	return id;
}

/* Validity from the error class; reviews change it, are logged with the
 * state before, and move pairs in and out of the scored ones. */
static void test_validity(void **state)
{
	struct store *st = open_new();
	struct store_review r = { 0 }, *rs;
	struct store_episode ep;
	struct store_pairs pr;
	struct errmsg e;
	int64_t run;
	size_t n;
	char *p, *v;

	(void)state;
	run = new_run(st);
	add_task(st, run, "a");
	finish_ep(st, run, "a", 1, 1, "done", "none");
	finish_ep(st, run, "a", 2, 1, "done", "agent-caused");
	ep_of(st, run, "a", 1, &ep);
	assert_string_equal(ep.validity, "valid");
	assert_null(ep.validity_cause);
	assert_true(store_episode_counts(&ep));
	store_episode_release(&ep);
	ep_of(st, run, "a", 2, &ep);
	assert_string_equal(ep.validity, "invalid");
	assert_string_equal(ep.validity_cause, "agent-caused");
	assert_true(store_episode_counts(&ep));     /* against the model */
	store_episode_release(&ep);
	assert_int_equal(store_run_pairs(st, run, &pr, &e), ERR_OK);
	assert_int_equal(pr.scored, 2);
	/* a harness bug: the pair is no longer scored */
	r.run_id = run;
	r.episode_id = ep_of(st, run, "a", 1, NULL);
	r.action = xstrdup("invalidate");
	r.validity_after = xstrdup("invalid");
	r.cause_after = xstrdup("harness");
	r.reason = xstrdup("the check timed out on a slow host");
	r.reviewer = xstrdup("eve");
	assert_int_equal(store_review_apply(st, &r, &e), ERR_OK);
	assert_int_equal(r.seq, 1);
	assert_string_equal(r.validity_before, "valid");
	store_review_release(&r);
	assert_int_equal(store_run_pairs(st, run, &pr, &e), ERR_OK);
	assert_int_equal(pr.scored, 1);
	assert_int_equal(pr.invalidated, 1);
	/* an episode of another run, a missing reason: refused */
	r.run_id = run + 1;
	r.episode_id = ep_of(st, run, "a", 2, NULL);
	r.action = xstrdup("rescore");
	r.validity_after = xstrdup("valid");
	r.reason = xstrdup("x");
	assert_int_equal(store_review_apply(st, &r, &e), ERR_NOTFOUND);
	free(r.reason);
	r.reason = NULL;
	r.run_id = run;
	assert_int_equal(store_review_apply(st, &r, &e), ERR_INVAL);
	r.reason = xstrdup("the agent did not break it");
	r.score_after = 1;
	assert_int_equal(store_review_apply(st, &r, &e), ERR_OK);
	store_review_release(&r);
	assert_int_equal(store_review_list(st, run, &rs, &n, &e), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rs[1].action, "rescore");
	assert_string_equal(rs[1].cause_before, "agent-caused");
	assert_int_equal(rs[1].score_before, 0);
	assert_int_equal(rs[1].score_after, 1);
	store_reviews_free(rs, n);
	ep_of(st, run, "a", 2, &ep);
	assert_int_equal(ep.score, 1);
	assert_string_equal(ep.validity, "valid");
	store_episode_release(&ep);
	store_close(st);
	/* migration 5 fills the validity of older rows from their class */
	p = path_join(dir, "sub/dir/assay.db");
	sql(p, "UPDATE meta SET value='4' WHERE key='schema';"
	       " DROP TABLE episode_reviews; DROP TABLE workers;"
	       " ALTER TABLE episodes DROP COLUMN worker;"
	       " ALTER TABLE runs DROP COLUMN executor;"
	       " DROP INDEX campaign_approvals_custodian;"
	       " ALTER TABLE campaign_approvals DROP COLUMN custodian;"
	       " ALTER TABLE campaign_approvals DROP COLUMN approval;"
	       " DROP TABLE campaign_unseal;"
	       " ALTER TABLE runs DROP COLUMN sealed_digest;"
	       " DROP TABLE run_worker_keys; DROP TABLE run_wrapped_keys;"
	       " ALTER TABLE episodes DROP COLUMN validity;"
	       " ALTER TABLE episodes DROP COLUMN validity_cause;"
	       " UPDATE episodes SET error_class='task' WHERE epoch=1;");
	st = open_new();
	store_close(st);
	v = sql_out(p, "SELECT group_concat(validity || '/' || "
		    "COALESCE(validity_cause, '-'), ' ') FROM (SELECT * FROM "
		    "episodes ORDER BY epoch)");
	assert_string_equal(v, "invalid/task invalid/agent-caused");
	free(v);
	free(p);
}

/* The pairs of a run by final state: 2 tasks x 3 epochs. */
static void test_pairs(void **state)
{
	struct store *st = open_new();
	struct store_pairs pr;
	struct errmsg e;
	int64_t run;

	(void)state;
	run = new_run(st);
	assert_int_equal(store_run_pairs(st, run, &pr, &e), ERR_OK);
	assert_int_equal(pr.total, 0);
	add_task(st, run, "a");
	add_task(st, run, "b");
	assert_int_equal(store_run_pairs(st, run, &pr, &e), ERR_OK);
	assert_int_equal(pr.total, 4);          /* new_run: 2 epochs */
	assert_int_equal(pr.unstarted, 4);
	/* a/1: interrupted, then scored; a/2: interrupted */
	finish_ep(st, run, "a", 1, 1, "interrupted", "infra");
	finish_ep(st, run, "a", 1, 2, "done", "none");
	finish_ep(st, run, "a", 2, 1, "interrupted", "infra");
	/* b/1: a genuine infra failure; b/2: left running (pending row) */
	finish_ep(st, run, "b", 1, 1, "done", "infra");
	finish_ep(st, run, "b", 2, 1, NULL, NULL);
	/* an attempt of an epoch the run does not have counts for nothing */
	finish_ep(st, run, "b", 3, 1, "done", "none");
	assert_int_equal(store_run_pairs(st, run, &pr, &e), ERR_OK);
	assert_int_equal(pr.total, 4);
	assert_int_equal(pr.scored, 1);
	assert_int_equal(pr.cut_off, 2);
	assert_int_equal(pr.failed_infra, 1);
	assert_int_equal(pr.unstarted, 0);
	assert_int_equal(pr.extra_scored, 0);
	finish_ep(st, run, "a", 1, 3, "done", "model");
	assert_int_equal(store_run_pairs(st, run, &pr, &e), ERR_OK);
	assert_int_equal(pr.extra_scored, 1);
	store_close(st);
}

/* A store failing PRAGMA quick_check is refused, and left as it was. */
static void test_damaged(void **state)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *st = open_new();
	struct errmsg e;
	char *before, *after, *cmd;
	FILE *f;

	(void)state;
	for (int i = 0; i < 300; i++) {
		struct store_run r = { .model = (char *)"m", .epochs = 1,
			.config_json = (char *)"{\"pad\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}" };
		assert_int_equal(store_run_create(st, &r, &e), ERR_OK);
	}
	store_close(st);
	f = fopen(p, "r+b");
	assert_non_null(f);
	for (long pg = 1; pg < 8; pg++) {  /* garbage over the b-tree page
					    * headers of pages 2..8 */
		fseek(f, pg * 4096, SEEK_SET);
		for (int i = 0; i < 64; i++)
			fputc(0x55, f);
	}
	fclose(f);
	cmd = xasprintf("sha256sum '%s'", p);
	f = popen(cmd, "r");
	before = xcalloc(1, 128);
	assert_non_null(fgets(before, 128, f));
	pclose(f);
	assert_int_equal(store_open(p, &st, &e), ERR_STORE);
	assert_null(st);
	assert_non_null(strstr(e.text, "damaged"));
	f = popen(cmd, "r");
	after = xcalloc(1, 128);
	assert_non_null(fgets(after, 128, f));
	pclose(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(cmd);
	free(p);
}

/* A newer schema is refused before anything is written; a migration that
 * fails midway leaves the store at its old version, whole. */
static void test_schema_guard(void **state)
{
	char *p = path_join(dir, "sub/dir/assay.db");
	struct store *st = open_new();
	struct errmsg e;
	char *v;

	(void)state;
	store_close(st);
	v = sql_out(p, "SELECT value FROM meta WHERE key='schema'");
	assert_int_equal(atoi(v), store_schema_version());
	free(v);
	/* newer: refused, nothing written (not even the WAL switch) */
	sql(p, "PRAGMA journal_mode=DELETE; UPDATE meta SET value='99' "
	       "WHERE key='schema'; DROP TABLE exposure;");
	assert_int_equal(store_open(p, &st, &e), ERR_STORE);
	assert_non_null(strstr(e.text, "schema version 99, newer"));
	v = sql_out(p, "SELECT count(*) FROM sqlite_master WHERE name='exposure'");
	assert_string_equal(v, "0");
	free(v);
	v = sql_out(p, "PRAGMA journal_mode");
	assert_string_equal(v, "delete");
	free(v);
	/* back to version 2, with an object in the way of migration 3's
	 * second statement: its first (the leases table) is rolled back */
	sql(p, "UPDATE meta SET value='2' WHERE key='schema'; DROP TABLE leases;"
	       " DROP TABLE orgs; DROP TABLE users; DROP TABLE sessions;"
	       " DROP TABLE api_tokens; DROP TABLE terms; DROP TABLE terms_accept;"
	       " DROP TABLE models; DROP TABLE windows; DROP TABLE grants;"
	       " DROP TABLE partners; DROP TABLE campaigns;"
	       " DROP TABLE campaign_approvals;"
	       " DROP INDEX episodes_status; DROP TABLE episode_reviews;"
	       " ALTER TABLE episodes DROP COLUMN validity;"
	       " ALTER TABLE episodes DROP COLUMN validity_cause;"
	       " DROP TABLE workers; ALTER TABLE episodes DROP COLUMN worker;"
	       " ALTER TABLE runs DROP COLUMN executor;"
	       " DROP TABLE campaign_unseal;"
	       " ALTER TABLE runs DROP COLUMN sealed_digest;"
	       " DROP TABLE run_worker_keys; DROP TABLE run_wrapped_keys;"
	       " CREATE INDEX episodes_status ON runs(id);");
	assert_int_equal(store_open(p, &st, &e), ERR_STORE);
	v = sql_out(p, "SELECT value FROM meta WHERE key='schema'");
	assert_string_equal(v, "2");
	free(v);
	v = sql_out(p, "SELECT count(*) FROM sqlite_master WHERE name='leases'");
	assert_string_equal(v, "0");
	free(v);
	/* out of the way, it migrates */
	sql(p, "DROP INDEX episodes_status");
	if (store_open(p, &st, &e) != ERR_OK)
		fail_msg("%s", e.text);
	store_close(st);
	v = sql_out(p, "SELECT value FROM meta WHERE key='schema'");
	assert_int_equal(atoi(v), store_schema_version());
	free(v);
	free(p);
}

/* The portable SQL's markers and parameters, per back-end; quoted text
 * is left alone. */
static void test_sql_expand(void **state)
{
	int n;
	char *x;

	(void)state;
	x = store_db_expand("SELECT a FROM t WHERE b=? AND c='?@ID' AND d=? @FOR_UPDATE",
			    DB_PG, &n);
	assert_string_equal(x, "SELECT a FROM t WHERE b=$1 AND c='?@ID' AND "
			    "d=$2 FOR UPDATE");
	assert_int_equal(n, 2);
	free(x);
	x = store_db_expand("SELECT a FROM t WHERE b=? AND c='?@ID' AND d=? @FOR_UPDATE",
			    DB_SQLITE, &n);
	assert_string_equal(x, "SELECT a FROM t WHERE b=? AND c='?@ID' AND d=? ");
	assert_int_equal(n, 2);
	free(x);
	x = store_db_expand("WHERE ?2 IS NULL OR x=?2 OR y=?1 OR z='it''s ?3'", DB_PG, &n);
	assert_string_equal(x, "WHERE $2 IS NULL OR x=$2 OR y=$1 OR z='it''s ?3'");
	assert_int_equal(n, 2);
	free(x);
	x = store_db_expand("CREATE TABLE t(id @ID, n @INT, r @REAL, s @TEXT, b @BLOB)",
			    DB_PG, &n);
	assert_string_equal(x, "CREATE TABLE t(id BIGINT GENERATED BY DEFAULT AS "
			    "IDENTITY PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, "
			    "s TEXT COLLATE \"C\", b BYTEA)");
	assert_int_equal(n, 0);
	free(x);
	x = store_db_expand("CREATE TABLE t(id @ID, n @INT, r @REAL, s @TEXT, b @BLOB)",
			    DB_SQLITE, NULL);
	assert_string_equal(x, "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, "
			    "r REAL, s TEXT, b BLOB)");
	free(x);
	assert_true(store_db_target_is_pg("postgres://u@h/db"));
	assert_true(store_db_target_is_pg("postgresql:///db?host=/tmp"));
	assert_false(store_db_target_is_pg("/tmp/postgres://x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_episodes_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_dead_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_fence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_guard, setup, teardown),
		cmocka_unit_test(test_sql_expand),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
