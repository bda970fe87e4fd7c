/*
 * store_sqlite.c - the journal on SQLite (the only file that includes
 * sqlite3.h).
 */
#include "store/store_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS runs("
	" id INTEGER PRIMARY KEY, status TEXT NOT NULL, model TEXT NOT NULL,"
	" endpoint TEXT, suite_id TEXT, suite_path TEXT, suite_digest TEXT,"
	" config_json TEXT, harness_version TEXT, epochs INTEGER,"
	" created_ms INTEGER, finished_ms INTEGER DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS run_tasks("
	" run_id INTEGER NOT NULL REFERENCES runs(id), task_id TEXT NOT NULL,"
	" category TEXT, difficulty INTEGER, expert_minutes REAL, tags TEXT,"
	" attack TEXT, n_answers INTEGER, digest TEXT,"
	" PRIMARY KEY(run_id, task_id));"
	"CREATE TABLE IF NOT EXISTS episodes("
	" id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
	" task_id TEXT NOT NULL, epoch INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" status TEXT NOT NULL, outcome TEXT, error_class TEXT, error TEXT,"
	" score INTEGER DEFAULT 0, flag_ok INTEGER DEFAULT 0,"
	" check_ok INTEGER DEFAULT 0, has_flag INTEGER DEFAULT 0,"
	" has_check INTEGER DEFAULT 0, answers_ok INTEGER DEFAULT 0,"
	" answers_total INTEGER DEFAULT 0, turns INTEGER DEFAULT 0,"
	" prompt_tokens INTEGER DEFAULT 0, completion_tokens INTEGER DEFAULT 0,"
	" cached_tokens INTEGER DEFAULT 0, cost_usd REAL DEFAULT 0,"
	" started_ms INTEGER DEFAULT 0, finished_ms INTEGER DEFAULT 0,"
	" wall_ms INTEGER DEFAULT 0, working_ms INTEGER DEFAULT 0,"
	" model_calls INTEGER DEFAULT 0, tool_calls INTEGER DEFAULT 0,"
	" infra_retries INTEGER DEFAULT 0,"
	" UNIQUE(run_id, task_id, epoch, attempt));"
	"CREATE TABLE IF NOT EXISTS events("
	" episode_id INTEGER NOT NULL REFERENCES episodes(id),"
	" seq INTEGER NOT NULL, kind TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" data TEXT, PRIMARY KEY(episode_id, seq));"
	"CREATE TABLE IF NOT EXISTS exposure("
	" task_id TEXT NOT NULL, task_digest TEXT NOT NULL, suite_id TEXT,"
	" developer TEXT NOT NULL, model TEXT NOT NULL, endpoint TEXT NOT NULL,"
	" run_id INTEGER NOT NULL, first_ms INTEGER NOT NULL,"
	" PRIMARY KEY(task_digest, endpoint, run_id));"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');";


enum err sq_fail(struct store *st, struct errmsg *e, const char *what)
{
	return err_set(e, ERR_STORE, "store '%s': %s: %s", st->path, what,
		       sqlite3_errmsg(st->db));
}

static enum err exec_sql(struct store *st, const char *sql, struct errmsg *e)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		enum err rc = err_set(e, ERR_STORE, "store '%s': %s", st->path,
				      msg ? msg : "error");
		sqlite3_free(msg);
		return rc;
	}
	return ERR_OK;
}

static char *parent_dir(const char *path)
{
	char *d = xstrdup(path), *slash = strrchr(d, '/');

	if (!slash) {
		free(d);
		return xstrdup(".");
	}
	if (slash == d)
		slash[1] = '\0';
	else
		*slash = '\0';
	return d;
}

static enum err check_writable(const char *path, struct errmsg *e)
{
	char *dir = parent_dir(path);
	enum err rc = ERR_OK;

	if (!is_dir(dir) && mkdir_p(dir, 0700, e) != ERR_OK)
		rc = err_set(e, ERR_STORE, "cannot create store directory "
			     "'%s': %s", dir, strerror(errno));
	else if (access(dir, W_OK) != 0)
		rc = err_set(e, ERR_STORE, "store directory '%s' is not "
			     "writable", dir);
	else if (path_exists(path) && access(path, W_OK) != 0)
		rc = err_set(e, ERR_STORE, "store '%s' is not writable", path);
	free(dir);
	return rc;
}

/* Schema versions after 1, each one migration, run in order at open
 * (inside one transaction with the version bump). */
static const char *const migrations[] = {
	/* 2: the per-episode token limit of each task, as run */
	"ALTER TABLE run_tasks ADD COLUMN limit_tokens INTEGER DEFAULT 0;",
	/* 3: leases (one writer per run; later per episode, for workers on
	 * other machines), and the index a claim of pending episodes uses */
	"CREATE TABLE leases("
	" scope TEXT NOT NULL, ref INTEGER NOT NULL, owner TEXT NOT NULL,"
	" host TEXT, machine TEXT, pid INTEGER, pid_start INTEGER,"
	" acquired_ms INTEGER NOT NULL, heartbeat_ms INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL, PRIMARY KEY(scope, ref));"
	"CREATE INDEX episodes_status ON episodes(run_id, status);",
	/* 4: validity states (valid | invalid with a cause | indeterminate),
	 * filled for old rows from their error class, and the review log of
	 * evaluators' invalidations and re-scores */
	"ALTER TABLE episodes ADD COLUMN validity TEXT;"
	"ALTER TABLE episodes ADD COLUMN validity_cause TEXT;"
	"UPDATE episodes SET validity = CASE"
	" WHEN status NOT IN ('done','interrupted') THEN NULL"
	" WHEN error_class IN ('none','model') THEN 'valid'"
	" ELSE 'invalid' END,"
	" validity_cause = CASE"
	" WHEN status NOT IN ('done','interrupted') THEN NULL"
	" WHEN status = 'interrupted' OR error_class = 'infra'"
	"  OR error_class IS NULL THEN 'infrastructure'"
	" WHEN error_class IN ('task','agent-caused') THEN error_class"
	" ELSE NULL END;"
	"CREATE TABLE episode_reviews("
	" episode_id INTEGER NOT NULL REFERENCES episodes(id),"
	" seq INTEGER NOT NULL, run_id INTEGER NOT NULL, action TEXT NOT NULL,"
	" validity_before TEXT, cause_before TEXT, score_before INTEGER,"
	" validity_after TEXT, cause_after TEXT, score_after INTEGER,"
	" reason TEXT NOT NULL, reviewer TEXT, at_ms INTEGER NOT NULL,"
	" PRIMARY KEY(episode_id, seq));",
};

#define SCHEMA_LAST (1 + (int)ARRAY_SIZE(migrations))

int store_schema_version(void)
{
	return SCHEMA_LAST;
}

/* The store's version; 0 for a new file (no meta table yet). */
static int schema_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key='schema'",
			       -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static enum err version_ok(struct store *st, int v, int last,
			   struct errmsg *e)
{
	if (v >= 1 && v <= last)
		return ERR_OK;
	if (v > last)
		return err_set(e, ERR_STORE, "store '%s' has schema version %d, "
			       "newer than this assay knows (1 to %d); refusing "
			       "to touch it: use the assay that wrote it or a "
			       "newer one", st->path, v, last);
	return err_set(e, ERR_STORE, "store '%s' has schema version %d; this "
		       "assay knows 1 to %d", st->path, v, last);
}

/* One step up, under the write lock; the version is read again inside the
 * transaction, since another process may have migrated meanwhile. */
static enum err migrate_step(struct store *st, int last, struct errmsg *e)
{
	char sql[64];
	enum err rc;
	int v;

	if ((rc = exec_sql(st, "BEGIN IMMEDIATE", e)))
		return rc;
	v = schema_version(st);
	if (!(rc = version_ok(st, v, last, e)) && v < last) {
		snprintf(sql, sizeof(sql), "UPDATE meta SET value='%d' WHERE "
			 "key='schema';", v + 1);
		rc = exec_sql(st, migrations[v - 1], e);
		if (!rc)
			rc = exec_sql(st, sql, e);
	}
	if (!rc)
		rc = exec_sql(st, "COMMIT", e);
	if (rc)
		(void)exec_sql(st, "ROLLBACK", &(struct errmsg){ 0 });
	return rc;
}

static enum err migrate(struct store *st, struct errmsg *e)
{
	int last = SCHEMA_LAST, v;
	enum err rc;

	while ((v = schema_version(st)) < last) {
		if ((rc = version_ok(st, v, last, e)) ||
		    (rc = migrate_step(st, last, e)))
			return rc;
	}
	return version_ok(st, v, last, e);
}

/* A new store: every table of version 1 in one transaction, so a kill
 * while it is created leaves either nothing or all of it. */
static enum err create_schema(struct store *st, struct errmsg *e)
{
	enum err rc = exec_sql(st, "BEGIN IMMEDIATE", e);

	if (rc == ERR_OK && (rc = exec_sql(st, schema, e)) == ERR_OK)
		rc = exec_sql(st, "COMMIT", e);
	if (rc)
		(void)exec_sql(st, "ROLLBACK", &(struct errmsg){ 0 });
	return rc;
}

/* PRAGMA quick_check before anything is written: a damaged store is
 * refused whole rather than appended to. */
static enum err check_integrity(struct store *st, struct errmsg *e)
{
	sqlite3_stmt *s;
	char *first = NULL;
	int r;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s,
			       NULL) != SQLITE_OK)
		return err_set(e, ERR_STORE, "store '%s' is damaged or not an "
			       "assay store (%s); refusing to use it: restore "
			       "it from a backup or move it aside", st->path,
			       sqlite3_errmsg(st->db));
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (!first)
			first = sq_col_text(s, 0);
	sqlite3_finalize(s);
	if (r == SQLITE_DONE && first && !strcmp(first, "ok")) {
		free(first);
		return ERR_OK;
	}
	r = err_set(e, ERR_STORE, "store '%s' is damaged (PRAGMA quick_check: "
		    "%.200s); refusing to use it: restore it from a backup or "
		    "move it aside", st->path,
		    first ? first : sqlite3_errmsg(st->db));
	free(first);
	return (enum err)r;
}

/* Checks that write nothing: integrity, then the schema version (a newer
 * store is refused before this binary could touch it). */
static enum err check_existing(struct store *st, struct errmsg *e)
{
	enum err rc = check_integrity(st, e);
	int v;

	if (rc)
		return rc;
	v = schema_version(st);
	if (v > SCHEMA_LAST)
		return version_ok(st, v, SCHEMA_LAST, e);
	return ERR_OK;
}

enum err store_open(const char *path, struct store **st_out, struct errmsg *e)
{
	struct store *st;
	struct stat sb;
	enum err rc;
	bool existed;

	*st_out = NULL;
	rc = check_writable(path, e);
	if (rc)
		return rc;
	existed = stat(path, &sb) == 0 && sb.st_size > 0;
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = sq_fail(st, e, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/* until the checks pass, closing must not checkpoint a WAL into a
	 * store that is being refused */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (existed && (rc = check_existing(st, e)))
		goto fail;
	/* WAL + NORMAL: a committed transaction survives a killed process;
	 * only power loss can take the last few. */
	if ((rc = exec_sql(st, "PRAGMA journal_mode=WAL;"
			   "PRAGMA synchronous=NORMAL;"
			   "PRAGMA foreign_keys=ON;", e)) ||
	    /* a new store, or an old one (whose every table of version 1
	     * the migrations expect) */
	    (schema_version(st) < SCHEMA_LAST && (rc = create_schema(st, e))) ||
	    (rc = migrate(st, e)))
		goto fail;
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	*st_out = st;
	return ERR_OK;
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->lease_scope) {       /* best effort: our own row only */
		store_tx_rollback(st);
		if (store_lease_release(st, &(struct errmsg){ 0 }) != ERR_OK)
			log_debug("msg=\"could not release the lease at close\"");
	}
	free(st->lease_scope);
	free(st->owner);
	free(st->host);
	free(st->machine);
	sqlite3_finalize(st->renew);
	sqlite3_finalize(st->ins_event);
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

enum err store_tx_begin(struct store *st, struct errmsg *e)
{
	(void)e;
	st->batch = true;
	return ERR_OK;
}

/* BEGIN IMMEDIATE / COMMIT through statements prepared once. */
static enum err step_tx(struct store *st, sqlite3_stmt **stmt,
			const char *sql, struct errmsg *e)
{
	int r;

	if (!*stmt && sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return sq_fail(st, e, sql);
	r = sqlite3_step(*stmt);
	sqlite3_reset(*stmt);
	return r == SQLITE_DONE ? ERR_OK : sq_fail(st, e, sql);
}

/* A failed COMMIT (a full disk) may leave SQLite's transaction open:
 * roll it back, so the store holds exactly the groups committed before. */
enum err store_tx_commit(struct store *st, struct errmsg *e)
{
	bool open = st->in_tx;
	struct errmsg ignored;
	enum err rc;

	st->batch = st->in_tx = false;
	if (!open)
		return ERR_OK;
	rc = step_tx(st, &st->commit, "COMMIT", e ? e : &ignored);
	if (rc)
		store_tx_rollback(st);
	return rc;
}

void store_tx_rollback(struct store *st)
{
	st->batch = st->in_tx = false;
	if (!sqlite3_get_autocommit(st->db))
		(void)exec_sql(st, "ROLLBACK", &(struct errmsg){ 0 });
}

int64_t store_tx_age_ms(const struct store *st)
{
	return st->in_tx ? now_ms() - st->tx_start_ms : -1;
}

enum err store_tx_commit_due(struct store *st, int64_t max_age_ms,
			     struct errmsg *e)
{
	if (st->in_tx && store_tx_age_ms(st) < max_age_ms)
		return ERR_OK;
	return store_tx_commit(st, e);
}

/* Opening a group takes the write lock; the handle's lease (if any) is
 * checked and renewed under it, so every group of a lease holder is
 * written only while the lease is its own. */
enum err sq_write(struct store *st, struct errmsg *e)
{
	enum err rc;

	if (st->lease_lost)
		return sq_lease_lost(st, e);
	if (!st->batch || st->in_tx)
		return ERR_OK;
	rc = step_tx(st, &st->begin, "BEGIN IMMEDIATE", e);
	st->in_tx = rc == ERR_OK;
	st->tx_start_ms = now_ms();
	if (rc == ERR_OK && (rc = sq_lease_check(st, e)))
		store_tx_rollback(st);
	return rc;
}

char *store_default_path(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return xasprintf("%s/assay/assay.db", xdg);
	return xasprintf("%s/.local/share/assay/assay.db",
			 home && *home ? home : "/root");
}

/* --- statement helpers ------------------------------------------- */

enum err sq_prep(struct store *st, const char *sql, sqlite3_stmt **out,
		     struct errmsg *e)
{
	enum err rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return sq_fail(st, e, "prepare");
	/* a write joins (or opens) the grouped transaction, if one is wanted */
	if (!sqlite3_stmt_readonly(*out) && (rc = sq_write(st, e))) {
		sqlite3_finalize(*out);
		*out = NULL;
		return rc;
	}
	return ERR_OK;
}

enum err sq_step_done(struct store *st, sqlite3_stmt *s, const char *what,
			  struct errmsg *e)
{
	int r = sqlite3_step(s);
	enum err rc = ERR_OK;

	if (r != SQLITE_DONE)
		rc = sq_fail(st, e, what);
	sqlite3_finalize(s);
	return rc;
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

char *sq_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* --- runs -------------------------------------------------------- */

enum err store_run_create(struct store *st, struct store_run *r,
			  struct errmsg *e)
{
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "INSERT INTO runs(status, model, endpoint, "
			   "suite_id, suite_path, suite_digest, config_json, "
			   "harness_version, epochs, created_ms) "
			   "VALUES('running',?,?,?,?,?,?,?,?,?)", &s, e);
	if (rc)
		return rc;
	sq_bind_text(s, 1, r->model);
	sq_bind_text(s, 2, r->endpoint);
	sq_bind_text(s, 3, r->suite_id);
	sq_bind_text(s, 4, r->suite_path);
	sq_bind_text(s, 5, r->suite_digest);
	sq_bind_text(s, 6, r->config_json);
	sq_bind_text(s, 7, r->harness_version);
	sqlite3_bind_int(s, 8, r->epochs);
	sqlite3_bind_int64(s, 9, r->created_ms);
	rc = sq_step_done(st, s, "insert run", e);
	if (rc == ERR_OK)
		r->id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

enum err store_run_set_status(struct store *st, int64_t run_id,
			      const char *status, struct errmsg *e)
{
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "UPDATE runs SET status=?, finished_ms=? "
			   "WHERE id=?", &s, e);
	if (rc)
		return rc;
	sq_bind_text(s, 1, status);
	sqlite3_bind_int64(s, 2, strcmp(status, "running") ? wall_ms() : 0);
	sqlite3_bind_int64(s, 3, run_id);
	return sq_step_done(st, s, "update run", e);
}

enum err store_run_set_endpoint(struct store *st, int64_t run_id,
				const char *endpoint, const char *config_json,
				struct errmsg *e)
{
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "UPDATE runs SET endpoint=?, config_json=? "
			   "WHERE id=?", &s, e);
	if (rc)
		return rc;
	sq_bind_text(s, 1, endpoint);
	sq_bind_text(s, 2, config_json);
	sqlite3_bind_int64(s, 3, run_id);
	return sq_step_done(st, s, "update run", e);
}

/* A run and the lease on it, if any (to tell a live run from one whose
 * owner died). */
#define RUN_COLS "id, status, model, endpoint, suite_id, suite_path, " \
	"suite_digest, config_json, harness_version, epochs, created_ms, " \
	"finished_ms, l.owner, l.machine, l.pid, l.pid_start, l.expires_ms"
#define RUN_FROM " FROM runs LEFT JOIN leases l ON l.scope='run' AND " \
	"l.ref=runs.id"

static void run_from_row(struct store *st, sqlite3_stmt *s,
			 struct store_run *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->status = sq_col_text(s, 1);
	r->model = sq_col_text(s, 2);
	r->endpoint = sq_col_text(s, 3);
	r->suite_id = sq_col_text(s, 4);
	r->suite_path = sq_col_text(s, 5);
	r->suite_digest = sq_col_text(s, 6);
	r->config_json = sq_col_text(s, 7);
	r->harness_version = sq_col_text(s, 8);
	r->epochs = sqlite3_column_int(s, 9);
	r->created_ms = sqlite3_column_int64(s, 10);
	r->finished_ms = sqlite3_column_int64(s, 11);
	r->orphaned = r->status && !strcmp(r->status, "running") &&
		      (sqlite3_column_type(s, 12) == SQLITE_NULL ||
		       sq_lease_dead(st, (const char *)sqlite3_column_text(s, 13),
				     sqlite3_column_int(s, 14),
				     sqlite3_column_int64(s, 15),
				     sqlite3_column_int64(s, 16)));
}

enum err store_run_get(struct store *st, int64_t run_id, struct store_run *out,
		       struct errmsg *e)
{
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "SELECT " RUN_COLS RUN_FROM " WHERE id=?", &s, e);
	int r;

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, run_id);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		run_from_row(st, s, out);
	else if (r == SQLITE_DONE)
		rc = err_set(e, ERR_NOTFOUND, "no run %lld in '%s'",
			     (long long)run_id, st->path);
	else
		rc = sq_fail(st, e, "read run");
	sqlite3_finalize(s);
	return rc;
}

enum err store_run_list(struct store *st, struct store_run **runs_out,
			size_t *n_out, struct errmsg *e)
{
	struct store_run *runs = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "SELECT " RUN_COLS RUN_FROM " ORDER BY id", &s, e);
	int r;

	if (rc)
		return rc;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		runs = xgrow(runs, &cap, n + 1, sizeof(*runs));
		run_from_row(st, s, &runs[n++]);
	}
	if (r != SQLITE_DONE)
		rc = sq_fail(st, e, "list runs");
	sqlite3_finalize(s);
	if (rc) {
		store_runs_free(runs, n);
		return rc;
	}
	*runs_out = runs;
	*n_out = n;
	return ERR_OK;
}

void store_run_release(struct store_run *r)
{
	free(r->status); free(r->model); free(r->endpoint); free(r->suite_id);
	free(r->suite_path); free(r->suite_digest); free(r->config_json);
	free(r->harness_version);
	memset(r, 0, sizeof(*r));
}

void store_runs_free(struct store_run *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_run_release(&r[i]);
	free(r);
}

/* --- tasks ------------------------------------------------------- */

enum err store_task_add(struct store *st, int64_t run_id,
			const struct store_task *t, struct errmsg *e)
{
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "INSERT OR REPLACE INTO run_tasks(run_id, "
			   "task_id, category, difficulty, expert_minutes, tags, "
			   "attack, n_answers, digest, limit_tokens) "
			   "VALUES(?,?,?,?,?,?,?,?,?,?)",
			   &s, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, run_id);
	sq_bind_text(s, 2, t->task_id);
	sq_bind_text(s, 3, t->category);
	sqlite3_bind_int(s, 4, t->difficulty);
	sqlite3_bind_double(s, 5, t->expert_minutes);
	sq_bind_text(s, 6, t->tags);
	sq_bind_text(s, 7, t->attack);
	sqlite3_bind_int(s, 8, t->n_answers);
	sq_bind_text(s, 9, t->digest);
	sqlite3_bind_int64(s, 10, t->limit_tokens);
	return sq_step_done(st, s, "insert task", e);
}

enum err store_task_list(struct store *st, int64_t run_id,
			 struct store_task **tasks_out, size_t *n_out,
			 struct errmsg *e)
{
	struct store_task *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	enum err rc = sq_prep(st, "SELECT task_id, category, difficulty, "
			   "expert_minutes, tags, attack, n_answers, digest, "
			   "limit_tokens FROM run_tasks WHERE run_id=? "
			   "ORDER BY task_id", &s, e);
	int r;

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, run_id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_task *t;
		v = xgrow(v, &cap, n + 1, sizeof(*v));
		t = &v[n++];
		t->task_id = sq_col_text(s, 0);
		t->category = sq_col_text(s, 1);
		t->difficulty = sqlite3_column_int(s, 2);
		t->expert_minutes = sqlite3_column_double(s, 3);
		t->tags = sq_col_text(s, 4);
		t->attack = sq_col_text(s, 5);
		t->n_answers = sqlite3_column_int(s, 6);
		t->digest = sq_col_text(s, 7);
		t->limit_tokens = sqlite3_column_int64(s, 8);
	}
	if (r != SQLITE_DONE)
		rc = sq_fail(st, e, "list tasks");
	sqlite3_finalize(s);
	if (rc) {
		store_tasks_free(v, n);
		return rc;
	}
	*tasks_out = v;
	*n_out = n;
	return ERR_OK;
}

void store_tasks_free(struct store_task *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].task_id); free(t[i].category); free(t[i].tags);
		free(t[i].attack); free(t[i].digest);
	}
	free(t);
}
