/*
 * store_db_sqlite.c - the database abstraction on SQLite (the only file
 * that includes sqlite3.h; contract in store_db.h).
 */
#include "store/store_db_int.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

#define BUSY_MS 10000
/* Statements kept prepared per handle, by their SQL text: a program
 * service's request runs ten or so, and preparing each anew cost more
 * than running it (BENCHMARKS.md, "Program service under load"). */
#define LITE_CACHE 96

/* One cached statement; busy while a caller holds it. */
struct lite_cached {
	char *sql;
	sqlite3_stmt *s;
	bool busy;
};

struct lite {
	struct db base;
	sqlite3 *h;
	char err[256];         /* an error of sqlite3_exec's */
	sqlite3_stmt *begin, *commit;   /* prepared once: every group */
	struct lite_cached cache[LITE_CACHE];
	size_t n_cache;
	size_t evict;          /* where the next eviction looks first */
};

struct lite_stmt {
	struct db_stmt base;
	sqlite3_stmt *s;
	struct lite_cached *slot;   /* NULL: not cached (finalized at the end) */
};

static struct lite *L(struct db *db)
{
	return (struct lite *)db;
}

static sqlite3_stmt *S(const struct db_stmt *s)
{
	return ((const struct lite_stmt *)s)->s;
}

static void lite_close(struct db *db)
{
	for (size_t i = 0; i < L(db)->n_cache; i++) {
		sqlite3_finalize(L(db)->cache[i].s);
		free(L(db)->cache[i].sql);
	}
	sqlite3_finalize(L(db)->begin);
	sqlite3_finalize(L(db)->commit);
	sqlite3_close(L(db)->h);
	free(db);
}

static const char *lite_errmsg(struct db *db)
{
	if (L(db)->err[0])
		return L(db)->err;
	return sqlite3_errmsg(L(db)->h);
}

static char *lite_quick_check(struct db *db)
{
	sqlite3_stmt *s;
	char *first = NULL;
	int r;

	L(db)->err[0] = '\0';
	if (sqlite3_prepare_v2(L(db)->h, "PRAGMA quick_check(1)", -1, &s,
			       NULL) != SQLITE_OK)
		return NULL;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (!first && sqlite3_column_text(s, 0))
			first = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	/* "ok" counts only when the check ran to its end */
	if (r != SQLITE_DONE && first && !strcmp(first, "ok")) {
		free(first);
		first = NULL;
	}
	return first;
}

static bool lite_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int r = sqlite3_exec(L(db)->h, sql, NULL, NULL, &msg);

	L(db)->err[0] = '\0';
	if (r != SQLITE_OK)
		snprintf(L(db)->err, sizeof(L(db)->err), "%s",
			 msg ? msg : "error");
	sqlite3_free(msg);
	return r == SQLITE_OK;
}

static bool lite_tune(struct db *db)
{
	/* WAL + NORMAL: a committed transaction survives a killed process;
	 * only power loss can take the last few. */
	if (!lite_exec(db, "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
		       "PRAGMA foreign_keys=ON;"))
		return false;
	sqlite3_db_config(L(db)->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	return true;
}

/* An idle cached statement of sql, now busy; or NULL. */
static struct lite_cached *cache_find(struct lite *db, const char *sql)
{
	for (size_t i = 0; i < db->n_cache; i++) {
		struct lite_cached *c = &db->cache[i];
		if (!c->busy && !strcmp(c->sql, sql)) {
			c->busy = true;
			return c;
		}
	}
	return NULL;
}

/* A slot for a new statement s of sql (a free one, else an idle one
 * evicted), now busy; NULL when every slot is busy. */
static struct lite_cached *cache_add(struct lite *db, const char *sql,
				     sqlite3_stmt *s)
{
	struct lite_cached *c = NULL;

	if (db->n_cache < LITE_CACHE) {
		c = &db->cache[db->n_cache++];
	} else {
		for (size_t k = 0; k < LITE_CACHE && !c; k++) {
			struct lite_cached *v = &db->cache[(db->evict + k) %
							   LITE_CACHE];
			if (!v->busy)
				c = v;
		}
		if (!c)
			return NULL;
		db->evict = (size_t)(c - db->cache + 1) % LITE_CACHE;
		sqlite3_finalize(c->s);
		free(c->sql);
	}
	c->sql = xstrdup(sql);
	c->s = s;
	c->busy = true;
	return c;
}

static int lite_prepare(struct db *db, const char *sql, int n_params,
			unsigned flags, struct db_stmt **out)
{
	struct lite_cached *slot = NULL;
	struct lite_stmt *ls;
	sqlite3_stmt *s;

	(void)n_params;
	L(db)->err[0] = '\0';
	*out = NULL;
	/* DB_PERSISTENT statements are held by their callers: never cached */
	if (!(flags & DB_PERSISTENT) && (slot = cache_find(L(db), sql))) {
		s = slot->s;
	} else {
		if (sqlite3_prepare_v3(L(db)->h, sql, -1,
				       SQLITE_PREPARE_PERSISTENT, &s,
				       NULL) != SQLITE_OK)
			return DB_ERROR;
		if (!(flags & DB_PERSISTENT))
			slot = cache_add(L(db), sql, s);
	}
	ls = xcalloc(1, sizeof(*ls));
	ls->base.db = db;
	ls->s = s;
	ls->slot = slot;
	*out = &ls->base;
	return DB_DONE;
}

/* BEGIN IMMEDIATE / COMMIT through statements prepared once. */
static bool lite_tx(struct db *db, sqlite3_stmt **s, const char *sql)
{
	int r;

	L(db)->err[0] = '\0';
	if (!*s && sqlite3_prepare_v3(L(db)->h, sql, -1,
				      SQLITE_PREPARE_PERSISTENT, s,
				      NULL) != SQLITE_OK)
		return false;
	r = sqlite3_step(*s);
	sqlite3_reset(*s);
	return r == SQLITE_DONE;
}

static bool lite_begin(struct db *db, bool exclusive)
{
	(void)exclusive;     /* one writer: every write transaction is */
	return lite_tx(db, &L(db)->begin, "BEGIN IMMEDIATE");
}

static bool lite_commit(struct db *db)
{
	return lite_tx(db, &L(db)->commit, "COMMIT");
}

static bool lite_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(L(db)->h);
}

static void lite_rollback(struct db *db)
{
	if (lite_in_tx(db))
		(void)lite_exec(db, "ROLLBACK");
}

static bool lite_readonly(const struct db_stmt *s)
{
	return sqlite3_stmt_readonly(S(s));
}

static void lite_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(S(s), i, v);
}

static void lite_bind_double(struct db_stmt *s, int i, double v)
{
	sqlite3_bind_double(S(s), i, v);
}

static void lite_bind_text(struct db_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(S(s), i, v, -1, SQLITE_TRANSIENT);
}

static void lite_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(S(s), i, p, n, SQLITE_TRANSIENT);
}

static void lite_bind_null(struct db_stmt *s, int i)
{
	sqlite3_bind_null(S(s), i);
}

static int lite_step(struct db_stmt *s)
{
	struct db *db = s->db;
	int r = sqlite3_step(S(s));

	L(db)->err[0] = '\0';
	if (r == SQLITE_ROW)
		return DB_ROW;
	if (r == SQLITE_DONE) {
		db->changes = sqlite3_changes(L(db)->h);
		return DB_DONE;
	}
	if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY)
		return DB_UNIQUE;
	return DB_ERROR;
}

static bool lite_col_null(struct db_stmt *s, int i)
{
	return sqlite3_column_type(S(s), i) == SQLITE_NULL;
}

static int64_t lite_col_int64(struct db_stmt *s, int i)
{
	return sqlite3_column_int64(S(s), i);
}

static double lite_col_double(struct db_stmt *s, int i)
{
	return sqlite3_column_double(S(s), i);
}

static const char *lite_col_text(struct db_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(S(s), i);
}

static const void *lite_col_blob(struct db_stmt *s, int i, size_t *n)
{
	const void *p = sqlite3_column_blob(S(s), i);

	*n = (size_t)sqlite3_column_bytes(S(s), i);
	return p;
}

static void lite_reset(struct db_stmt *s)
{
	sqlite3_reset(S(s));
	sqlite3_clear_bindings(S(s));
}

/* A cached statement goes back to its slot reset, its bindings cleared
 * (no value of one caller reaches the next); others are finalized. */
static void lite_finalize(struct db_stmt *s)
{
	struct lite_cached *slot = ((struct lite_stmt *)s)->slot;

	if (slot) {
		sqlite3_reset(slot->s);
		sqlite3_clear_bindings(slot->s);
		slot->busy = false;
	} else {
		sqlite3_finalize(S(s));
	}
	free(s);
}

/* Both backends fill the same ops table (store_db_int.h), so this one and
 * the other backend's look alike by design. */
static const struct db_ops lite_ops = {
	.close = lite_close, .errmsg = lite_errmsg,
	.quick_check = lite_quick_check, .tune = lite_tune,
	.exec = lite_exec, .begin = lite_begin, .commit = lite_commit,
	.rollback = lite_rollback, .in_tx = lite_in_tx,
	.prepare = lite_prepare, .readonly = lite_readonly,
	.bind_int64 = lite_bind_int64, .bind_double = lite_bind_double,
	.bind_text = lite_bind_text, .bind_blob = lite_bind_blob,
	.bind_null = lite_bind_null, .step = lite_step,
	.col_null = lite_col_null, .col_int64 = lite_col_int64,
	.col_double = lite_col_double, .col_text = lite_col_text,
	.col_blob = lite_col_blob, .reset = lite_reset,
	.finalize = lite_finalize,
};

enum err store_db_sqlite_open(const char *path, struct db **db_out,
			      struct errmsg *e)
{
	struct lite *db = xcalloc(1, sizeof(*db));

	db->base.ops = &lite_ops;
	db->base.kind = DB_SQLITE;
	*db_out = NULL;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		enum err rc = err_set(e, ERR_STORE, "store '%s': cannot open: "
				      "%s", path, db->h ? sqlite3_errmsg(db->h) :
				      "out of memory");
		sqlite3_close(db->h);
		free(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_MS);
	/* until store_db_tune, closing must not checkpoint a WAL into a store that
	 * is being refused */
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	*db_out = &db->base;
	return ERR_OK;
}
