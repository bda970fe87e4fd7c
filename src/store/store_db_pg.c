/*
 * store_db_pg.c - the database abstraction on PostgreSQL (the only file
 * that includes libpq-fe.h; contract in store_db.h).
 *
 * Statements run with PQexecParams (one round trip: parse, bind, execute)
 * or, when prepared with DB_PERSISTENT, as named prepared statements
 * (parsed once per connection). Parameters go as text with their types
 * (int8, float8, text; bytea in binary), results come back as text.
 * Notices (CREATE TABLE IF NOT EXISTS ... skipping) are dropped: library
 * code never prints.
 */
#include "store/store_db_int.h"

#include <float.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

/* pg_type oids of the parameter types we send */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

#define RETRIES 5
/* the advisory lock that schema creation and migrations share */
#define SCHEMA_LOCK "7306517896261431296"

struct pg {
	struct db base;
	PGconn *c;
	unsigned generation;   /* bumped at every reconnect */
	unsigned next_name;
	char err[512];
};

struct pg_stmt {
	struct db_stmt base;
	char *sql;
	int n;                 /* parameters */
	char **vals;
	int *lens, *fmts;
	Oid *types;
	bool readonly;
	bool persistent;
	char name[32];         /* persistent: the prepared statement's name */
	unsigned prepared_gen; /* generation it was prepared in; 0: not yet */
	PGresult *res;         /* the executed statement's result */
	int row, nrows;
	unsigned char *blob;   /* the last store_db_col_blob, unescaped */
};

static struct pg *P(struct db *db)
{
	return (struct pg *)db;
}

static struct pg_stmt *S(struct db_stmt *s)
{
	return (struct pg_stmt *)s;
}

static void set_err(struct pg *pg, const char *what, const char *msg)
{
	size_t n;

	snprintf(pg->err, sizeof(pg->err), "%s%s%s", what ? what : "",
		 what ? ": " : "", msg ? msg : "error");
	n = strlen(pg->err);
	while (n && (pg->err[n - 1] == '\n' || pg->err[n - 1] == ' '))
		pg->err[--n] = '\0';
	for (char *p = pg->err; *p; p++)     /* libpq's lines: one line */
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void pg_close(struct db *db)
{
	PQfinish(P(db)->c);
	free(db);
}

static const char *pg_errmsg(struct db *db)
{
	return P(db)->err;
}

static char *pg_quick_check(struct db *db)
{
	(void)db;
	return xstrdup("ok");
}

static bool pg_in_tx(struct db *db)
{
	return PQtransactionStatus(P(db)->c) != PQTRANS_IDLE;
}

/* A lost connection outside a transaction is opened again, once per
 * statement (a transaction cut by it is lost whole: the caller's group). */
static bool reconnect(struct pg *pg)
{
	if (PQstatus(pg->c) != CONNECTION_BAD)
		return false;
	PQreset(pg->c);
	if (PQstatus(pg->c) != CONNECTION_OK)
		return false;
	pg->generation++;
	return true;
}

static bool retryable(const PGresult *r)
{
	const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return code && (!strcmp(code, "40001") || !strcmp(code, "40P01") ||
			!strcmp(code, "55P03"));
}

static void backoff(int attempt)
{
	struct timespec ts = { 0, (long)(10 << attempt) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A result that is not what the command asked for: its message kept. */
static bool result_ok(struct pg *pg, PGresult *r)
{
	ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
		return true;
	set_err(pg, NULL, r ? PQresultErrorMessage(r) : PQerrorMessage(pg->c));
	return false;
}

static bool pg_exec(struct db *db, const char *sql)
{
	struct pg *pg = P(db);

	for (int attempt = 0;; attempt++) {
		PGresult *r = PQexec(pg->c, sql);
		bool ok = result_ok(pg, r), again;
		again = !ok && !pg_in_tx(db) && attempt < RETRIES &&
			(retryable(r) || reconnect(pg));
		PQclear(r);
		if (ok || !again)
			return ok;
		backoff(attempt);
	}
}

static bool pg_tune(struct db *db)
{
	(void)db;
	return true;
}

static bool pg_begin(struct db *db, bool exclusive)
{
	if (!pg_exec(db, "BEGIN"))
		return false;
	if (exclusive &&
	    !pg_exec(db, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")")) {
		(void)pg_exec(db, "ROLLBACK");
		return false;
	}
	return true;
}

/* COMMIT of a transaction a statement failed in rolls back (and says
 * "ROLLBACK"): that is a failure. */
static bool pg_commit(struct db *db)
{
	struct pg *pg = P(db);
	PGresult *r;
	bool ok;

	if (PQtransactionStatus(pg->c) == PQTRANS_INERROR) {
		(void)pg_exec(db, "ROLLBACK");
		set_err(pg, NULL, "a statement of the transaction failed; it "
			"was rolled back");
		return false;
	}
	r = PQexec(pg->c, "COMMIT");
	ok = result_ok(pg, r);
	if (ok && strcmp(PQcmdStatus(r), "COMMIT")) {
		set_err(pg, NULL, "the transaction was rolled back");
		ok = false;
	}
	PQclear(r);
	return ok;
}

static void pg_rollback(struct db *db)
{
	if (pg_in_tx(db))
		(void)pg_exec(db, "ROLLBACK");
}

/* SELECT or WITH ... SELECT, without a row lock. */
static bool only_reads(const char *sql)
{
	sql += strspn(sql, " \t\n(");
	if (strncasecmp(sql, "SELECT", 6) && strncasecmp(sql, "WITH", 4))
		return false;
	return !strcasestr(sql, "FOR UPDATE") && !strcasestr(sql, "INSERT ") &&
	       !strcasestr(sql, "UPDATE ") && !strcasestr(sql, "DELETE ");
}

static int pg_prepare(struct db *db, const char *sql, int n_params,
		      unsigned flags, struct db_stmt **out)
{
	struct pg_stmt *s = xcalloc(1, sizeof(*s));

	s->base.db = db;
	s->sql = xstrdup(sql);
	s->n = n_params;
	s->vals = xcalloc((size_t)n_params + 1, sizeof(*s->vals));
	s->lens = xcalloc((size_t)n_params + 1, sizeof(*s->lens));
	s->fmts = xcalloc((size_t)n_params + 1, sizeof(*s->fmts));
	s->types = xcalloc((size_t)n_params + 1, sizeof(*s->types));
	s->readonly = only_reads(sql);
	s->persistent = flags & DB_PERSISTENT;
	if (s->persistent)
		snprintf(s->name, sizeof(s->name), "assay_%u",
			 ++P(db)->next_name);
	s->row = -1;
	*out = &s->base;
	return DB_DONE;
}

static bool pg_readonly(const struct db_stmt *s)
{
	return ((const struct pg_stmt *)s)->readonly;
}

/* Parameter i (1-based) of s, its old value freed. */
static bool param(struct pg_stmt *s, int i, char *val, int len, int fmt,
		  Oid type)
{
	if (i < 1 || i > s->n) {
		free(val);
		return false;
	}
	free(s->vals[i - 1]);
	s->vals[i - 1] = val;
	s->lens[i - 1] = len;
	s->fmts[i - 1] = fmt;
	s->types[i - 1] = type;
	return true;
}

static void pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	(void)param(S(s), i, xasprintf("%lld", (long long)v), 0, 0, OID_INT8);
}

static void pg_bind_double(struct db_stmt *s, int i, double v)
{
	(void)param(S(s), i, xasprintf("%.17g", v), 0, 0, OID_FLOAT8);
}

static void pg_bind_text(struct db_stmt *s, int i, const char *v)
{
	(void)param(S(s), i, xstrdup(v), 0, 0, OID_TEXT);
}

static void pg_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	char *copy = xmalloc(n + 1);

	memcpy(copy, p, n);
	(void)param(S(s), i, copy, (int)n, 1, OID_BYTEA);
}

static void pg_bind_null(struct db_stmt *s, int i)
{
	(void)param(S(s), i, NULL, 0, 0, 0);
}

static PGresult *run_once(struct pg *pg, struct pg_stmt *s)
{
	if (!s->persistent)
		return PQexecParams(pg->c, s->sql, s->n, s->types,
				    (const char *const *)s->vals, s->lens,
				    s->fmts, 0);
	if (s->prepared_gen != pg->generation + 1) {
		PGresult *r = PQprepare(pg->c, s->name, s->sql, s->n, s->types);
		if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;
		PQclear(r);
		s->prepared_gen = pg->generation + 1;
	}
	return PQexecPrepared(pg->c, s->name, s->n,
			      (const char *const *)s->vals, s->lens, s->fmts, 0);
}

/* Execute s, retrying what may be retried outside a transaction. */
static int execute(struct pg *pg, struct pg_stmt *s)
{
	for (int attempt = 0;; attempt++) {
		PGresult *r = run_once(pg, s);
		const char *code;
		long long n;
		if (result_ok(pg, r)) {
			s->res = r;
			s->nrows = PQntuples(r);
			s->row = -1;
			/* "" for a statement that counts no rows */
			pg->base.changes = num_ll(PQcmdTuples(r), 0, LLONG_MAX,
						  &n) ? n : 0;
			return DB_DONE;
		}
		code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		if (code && !strcmp(code, "23505")) {
			PQclear(r);
			return DB_UNIQUE;
		}
		if (pg_in_tx(&pg->base) || attempt >= RETRIES ||
		    !(retryable(r) || reconnect(pg))) {
			PQclear(r);
			return DB_ERROR;
		}
		PQclear(r);
		backoff(attempt);
	}
}

static void clear_result(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	PQfreemem(s->blob);
	s->blob = NULL;
	s->row = -1;
	s->nrows = 0;
}

static int pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = S(st);
	int r;

	if (!s->res && (r = execute(P(st->db), s)) != DB_DONE)
		return r;
	PQfreemem(s->blob);
	s->blob = NULL;
	if (++s->row < s->nrows)
		return DB_ROW;
	s->row = s->nrows;
	return DB_DONE;
}

static bool pg_col_null(struct db_stmt *s, int i)
{
	struct pg_stmt *p = S(s);

	return !p->res || p->row < 0 || p->row >= p->nrows ||
	       PQgetisnull(p->res, p->row, i);
}

static const char *pg_col_text(struct db_stmt *s, int i)
{
	struct pg_stmt *p = S(s);

	if (pg_col_null(s, i))
		return NULL;
	return PQgetvalue(p->res, p->row, i);
}

static int64_t pg_col_int64(struct db_stmt *s, int i)
{
	const char *t = pg_col_text(s, i);
	long long v;

	return t && num_ll(t, LLONG_MIN, LLONG_MAX, &v) ? v : 0;
}

static double pg_col_double(struct db_stmt *s, int i)
{
	const char *t = pg_col_text(s, i);
	double v;

	/* PostgreSQL's float8 text (shortest round-trip form): finite
	 * values only are stored (NaN and infinities are never written) */
	return t && num_double(t, -DBL_MAX, DBL_MAX, &v) ? v : 0;
}

static const void *pg_col_blob(struct db_stmt *s, int i, size_t *n)
{
	struct pg_stmt *p = S(s);
	const char *t = pg_col_text(s, i);

	*n = 0;
	if (!t)
		return NULL;
	PQfreemem(p->blob);
	p->blob = PQunescapeBytea((const unsigned char *)t, n);
	return p->blob;
}

static void pg_reset(struct db_stmt *s)
{
	struct pg_stmt *p = S(s);

	clear_result(p);
	for (int i = 0; i < p->n; i++) {
		free(p->vals[i]);
		p->vals[i] = NULL;
		p->lens[i] = p->fmts[i] = 0;
		p->types[i] = 0;
	}
}

static void pg_finalize(struct db_stmt *s)
{
	struct pg_stmt *p = S(s);

	pg_reset(s);
	free(p->vals);
	free(p->lens);
	free(p->fmts);
	free(p->types);
	free(p->sql);
	free(p);
}

/* Both backends fill the same ops table (store_db_int.h), so this one and
 * the other backend's look alike by design. */
static const struct db_ops pg_ops = {
	.close = pg_close, .errmsg = pg_errmsg,
	.quick_check = pg_quick_check, .tune = pg_tune,
	.exec = pg_exec, .begin = pg_begin, .commit = pg_commit,
	.rollback = pg_rollback, .in_tx = pg_in_tx,
	.prepare = pg_prepare, .readonly = pg_readonly,
	.bind_int64 = pg_bind_int64, .bind_double = pg_bind_double,
	.bind_text = pg_bind_text, .bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null, .step = pg_step,
	.col_null = pg_col_null, .col_int64 = pg_col_int64,
	.col_double = pg_col_double, .col_text = pg_col_text,
	.col_blob = pg_col_blob, .reset = pg_reset,
	.finalize = pg_finalize,
};

enum err store_db_pg_open(const char *url, struct db **db_out, struct errmsg *e)
{
	/* defaults first: what the URL says wins (expand_dbname). The
	 * server's side of the session: a client cut off (its host gone, no
	 * FIN ever comes) in the middle of a transaction would hold its row
	 * locks for hours of TCP retransmission; the idle-in-transaction
	 * timeout and server keepalives end such a session (a write group is
	 * never idle that long). $PGOPTIONS replaces these. */
	static const char *const keys[] = {
		"connect_timeout", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "application_name", "options", "dbname",
		NULL,
	};
	const char *opts = getenv("PGOPTIONS");
	const char *vals[] = { "10", "10", "5", "3", "assay",
		opts ? opts : "-c idle_in_transaction_session_timeout=60000 "
		"-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
		"-c tcp_keepalives_count=3", url, NULL };
	struct pg *pg = xcalloc(1, sizeof(*pg));
	enum err rc;

	*db_out = NULL;
	pg->base.ops = &pg_ops;
	pg->base.kind = DB_PG;
	pg->c = PQconnectdbParams(keys, vals, 1);
	if (pg->c && PQstatus(pg->c) == CONNECTION_OK) {
		PQsetNoticeProcessor(pg->c, quiet, NULL);
		*db_out = &pg->base;
		return ERR_OK;
	}
	set_err(pg, NULL, pg->c ? PQerrorMessage(pg->c) : "out of memory");
	rc = err_set(e, ERR_STORE, "cannot connect: %s", pg->err);
	pg_close(&pg->base);
	return rc;
}
