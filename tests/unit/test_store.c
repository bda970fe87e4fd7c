/*
 * test_store.c - the SQLite journal: runs, tasks, episodes, events,
 * interruption, uniqueness and an unwritable location.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "store/store.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_episodes_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
