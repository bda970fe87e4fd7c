/*
 * store_program.c - the program's records (store_program.h).
 *
 * Statements (portable SQL, store_db.h) are bound through one helper: a format string names each
 * parameter's type ('s' text or NULL, 'i' int64), so no SQL is ever
 * assembled from values.
 *
 * Each kind of record has the same few functions (a row filler, a
 * struct store_rowtype, add/get/list/free, its updates), so this file
 * reads as a table and repeats its shape from kind to kind. That is by
 * design: the shared work is in the helpers above and in store_rows.c,
 * and what is left in each function is only its SQL, its columns and its
 * fields, which a generic function or a macro would hide.
 */
#include "store/store_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "store/store_program.h"
#include "base/banned.h"

static void bindv(struct db_stmt *s, const char *fmt, va_list ap)
{
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 's')
			store_db_bind_text(s, i + 1, va_arg(ap, const char *));
		else
			store_db_bind_int64(s, i + 1, va_arg(ap, int64_t));
	}
}

static enum err vpq(struct store *st, struct db_stmt **s, struct errmsg *e,
		    const char *sql, const char *fmt, va_list ap)
{
	enum err rc = store_sq_prep(st, sql, s, e);

	if (!rc)
		bindv(*s, fmt, ap);
	return rc;
}

/* Prepare sql and bind the values fmt describes. */
static enum err pq(struct store *st, struct db_stmt **s, struct errmsg *e,
		   const char *sql, const char *fmt, ...)
{
	va_list ap;
	enum err rc;

	va_start(ap, fmt);
	rc = vpq(st, s, e, sql, fmt, ap);
	va_end(ap);
	return rc;
}

/* Run a write; *changes (may be NULL) gets the rows it touched. */
static enum err px(struct store *st, struct errmsg *e, int *changes,
		   const char *sql, const char *fmt, ...)
{
	struct db_stmt *s;
	va_list ap;
	enum err rc;

	va_start(ap, fmt);
	rc = vpq(st, &s, e, sql, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	rc = store_sq_step_done(st, s, "write program record", e);
	if (!rc && changes)
		*changes = (int)store_db_changes(st->db);
	return rc;
}

/* The first column of the one row a query returns, as an integer; dflt
 * when it fails or returns no row (the callers answer a question, and
 * "no" or "none" is the safe answer). */
static int64_t query_i64(struct store *st, int64_t dflt, const char *sql,
			 const char *fmt, ...)
{
	struct db_stmt *s;
	va_list ap;
	enum err rc;
	int64_t v = dflt;

	va_start(ap, fmt);
	rc = vpq(st, &s, NULL, sql, fmt, ap);
	va_end(ap);
	if (rc)
		return dflt;
	if (store_db_step(s) == DB_ROW)
		v = store_db_col_int64(s, 0);
	store_db_finalize(s);
	return v;
}

/* Step an INSERT ... RETURNING id; a UNIQUE refusal is ERR_INVAL. */
static enum err step_id(struct store *st, struct db_stmt *s, int64_t *id,
			struct errmsg *e)
{
	enum err rc = ERR_OK;
	int r = store_db_step(s);

	if (r == DB_ROW) {
		if (id)
			*id = store_db_col_int64(s, 0);
		r = store_db_step(s);
	}
	if (r == DB_UNIQUE)
		rc = err_set(e, ERR_INVAL, "already exists");
	else if (r != DB_DONE)
		rc = store_sq_fail(st, e, "insert program record");
	store_db_finalize(s);
	return rc;
}

#define COL_I(s, i) store_db_col_int64((s), (i))

/* ---- organisations ---- */

#define ORG_COLS "id, name, kind, created_ms, (SELECT coalesce(max(a.version), 0) " \
	"FROM terms_accept a JOIN users u ON u.id=a.user_id WHERE u.org_id=orgs.id)"

static void org_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_org *o = p;

	(void)st;
	o->id = COL_I(s, 0);
	o->name = store_sq_col_text(s, 1);
	o->kind = store_sq_col_text(s, 2);
	o->created_ms = COL_I(s, 3);
	o->terms_version = COL_I(s, 4);
}

static void org_clear(void *p)
{
	store_org_free(p);
}

static const struct store_rowtype org_rows = {
	"organisation", "list organisations", sizeof(struct sp_org), org_row,
	org_clear,
};

enum err store_org_add(struct store *st, const char *name, const char *kind,
		       int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO orgs(name, kind, created_ms) "
			 "VALUES(?,?,?) RETURNING id", "ssi", name, kind,
			 wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_org_get(struct store *st, int64_t id, struct sp_org *o,
		       struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " ORG_COLS " FROM orgs WHERE id=?",
			 "i", id);
	return rc ? rc : store_sq_get_row(st, s, &org_rows, o, e);
}

enum err store_org_list(struct store *st, int64_t after, int limit,
			struct sp_org **v_out, size_t *n_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " ORG_COLS " FROM orgs WHERE id>? "
			 "ORDER BY id LIMIT ?", "ii", after, (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &org_rows, (void **)v_out, n_out, e);
}

void store_org_free(struct sp_org *o)
{
	free(o->name);
	free(o->kind);
	memset(o, 0, sizeof(*o));
}

void store_orgs_free(struct sp_org *v, size_t n)
{
	store_sq_free_rows(&org_rows, v, n);
}

/* ---- people ---- */

#define USER_COLS "id, login, name, org_id, roles, pwhash, totp_secret, " \
	"totp_pending, totp_last, fails, locked_until_ms, disabled, created_ms"

static void user_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_user *u = p;

	(void)st;
	u->id = COL_I(s, 0);
	u->login = store_sq_col_text(s, 1);
	u->name = store_sq_col_text(s, 2);
	u->org_id = COL_I(s, 3);
	u->roles = (unsigned)COL_I(s, 4);
	u->pwhash = store_sq_col_text(s, 5);
	u->totp_secret = store_sq_col_text(s, 6);
	u->totp_pending = store_sq_col_text(s, 7);
	u->totp_last = COL_I(s, 8);
	u->fails = (int)COL_I(s, 9);
	u->locked_until_ms = COL_I(s, 10);
	u->disabled = COL_I(s, 11) != 0;
	u->created_ms = COL_I(s, 12);
}

static void user_clear(void *p)
{
	store_user_free(p);
}

static const struct store_rowtype user_rows = {
	"user", "list users", sizeof(struct sp_user), user_row, user_clear,
};

enum err store_user_add(struct store *st, const struct sp_user *u,
			int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO users(login, name, org_id, "
			 "roles, pwhash, created_ms) VALUES(?,?,?,?,?,?) "
			 "RETURNING id", "ssiisi", u->login, u->name, u->org_id,
			 (int64_t)u->roles, u->pwhash, wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_user_get(struct store *st, int64_t id, struct sp_user *u,
			struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " USER_COLS " FROM users WHERE id=?",
			 "i", id);
	return rc ? rc : store_sq_get_row(st, s, &user_rows, u, e);
}

enum err store_user_by_login(struct store *st, const char *login,
			     struct sp_user *u, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " USER_COLS " FROM users WHERE "
			 "login=?", "s", login);
	return rc ? rc : store_sq_get_row(st, s, &user_rows, u, e);
}

enum err store_user_list(struct store *st, int64_t org_id, int64_t after,
			 int limit, struct sp_user **v_out, size_t *n_out,
			 struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " USER_COLS " FROM users WHERE "
			 "(?1=0 OR org_id=?1) AND id>?2 ORDER BY id LIMIT ?3",
			 "iii", org_id, after, (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &user_rows, (void **)v_out, n_out, e);
}

int64_t store_user_count(struct store *st)
{
	return query_i64(st, -1, "SELECT count(*) FROM users", "");
}

enum err store_user_set_login(struct store *st, int64_t id, int fails,
			      int64_t locked_until_ms, struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE users SET fails=?, locked_until_ms=? "
		  "WHERE id=?", "iii", (int64_t)fails, locked_until_ms, id);
}

enum err store_user_set_pwhash(struct store *st, int64_t id, const char *h,
			       struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE users SET pwhash=? WHERE id=?", "si", h,
		  id);
}

enum err store_user_set_totp(struct store *st, int64_t id, const char *secret,
			     const char *pending, struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE users SET totp_secret=?, totp_pending=? "
		  "WHERE id=?", "ssi", secret, pending, id);
}

enum err store_user_set_totp_last(struct store *st, int64_t id, int64_t step,
				  struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE users SET totp_last=? WHERE id=?", "ii",
		  step, id);
}

enum err store_user_set_disabled(struct store *st, int64_t id, bool disabled,
				 struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE users SET disabled=? WHERE id=?", "ii",
		  (int64_t)disabled, id);
}

void store_user_free(struct sp_user *u)
{
	free(u->login);
	free(u->name);
	free(u->pwhash);
	free(u->totp_secret);
	free(u->totp_pending);
	memset(u, 0, sizeof(*u));
}

void store_users_free(struct sp_user *v, size_t n)
{
	store_sq_free_rows(&user_rows, v, n);
}

/* ---- sessions ---- */

enum err store_session_add(struct store *st, const char *hash, int64_t user_id,
			   const char *csrf, int64_t now, int64_t expires_ms,
			   struct errmsg *e)
{
	return px(st, e, NULL, "INSERT INTO sessions(token_hash, user_id, csrf, "
		  "created_ms, seen_ms, expires_ms) VALUES(?,?,?,?,?,?)",
		  "sisiii", hash, user_id, csrf, now, now, expires_ms);
}

enum err store_session_get(struct store *st, const char *hash,
			   struct sp_session *ss, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT user_id, csrf, created_ms, seen_ms, "
			 "expires_ms FROM sessions WHERE token_hash=?", "s",
			 hash);
	if (rc || (rc = store_sq_step_one(st, s, "session", e)))
		return rc;
	ss->user_id = COL_I(s, 0);
	ss->csrf = store_sq_col_text(s, 1);
	ss->created_ms = COL_I(s, 2);
	ss->seen_ms = COL_I(s, 3);
	ss->expires_ms = COL_I(s, 4);
	store_db_finalize(s);
	return ERR_OK;
}

enum err store_session_touch(struct store *st, const char *hash, int64_t now,
			     struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE sessions SET seen_ms=? WHERE "
		  "token_hash=?", "is", now, hash);
}

enum err store_session_del(struct store *st, const char *hash,
			   struct errmsg *e)
{
	return px(st, e, NULL, "DELETE FROM sessions WHERE token_hash=?", "s",
		  hash);
}

enum err store_session_del_user(struct store *st, int64_t user_id,
				const char *keep, struct errmsg *e)
{
	return px(st, e, NULL, "DELETE FROM sessions WHERE user_id=? AND "
		  "token_hash<>coalesce(?, '')", "is", user_id, keep);
}

void store_session_free(struct sp_session *s)
{
	free(s->csrf);
	memset(s, 0, sizeof(*s));
}

/* ---- API tokens ---- */

#define TOKEN_COLS "id, user_id, name, scope, created_ms, expires_ms, revoked"

static void token_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_token *t = p;

	(void)st;
	t->id = COL_I(s, 0);
	t->user_id = COL_I(s, 1);
	t->name = store_sq_col_text(s, 2);
	t->scope = store_sq_col_text(s, 3);
	t->created_ms = COL_I(s, 4);
	t->expires_ms = COL_I(s, 5);
	t->revoked = COL_I(s, 6) != 0;
}

static void token_clear(void *p)
{
	store_token_free(p);
}

static const struct store_rowtype token_rows = {
	"token", "list tokens", sizeof(struct sp_token), token_row, token_clear,
};

enum err store_token_add(struct store *st, const struct sp_token *t,
			 const char *hash, int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO api_tokens(user_id, name, "
			 "token_hash, scope, created_ms, expires_ms) "
			 "VALUES(?,?,?,?,?,?) RETURNING id", "isssii",
			 t->user_id, t->name, hash, t->scope, wall_ms(),
			 t->expires_ms);
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_token_by_hash(struct store *st, const char *hash,
			     struct sp_token *t, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " TOKEN_COLS " FROM api_tokens "
			 "WHERE token_hash=?", "s", hash);
	return rc ? rc : store_sq_get_row(st, s, &token_rows, t, e);
}

enum err store_token_list(struct store *st, int64_t user_id,
			  struct sp_token **v_out, size_t *n_out,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " TOKEN_COLS " FROM api_tokens "
			 "WHERE user_id=? ORDER BY id", "i", user_id);
	return rc ? rc : store_sq_list_rows(st, s, &token_rows, (void **)v_out, n_out, e);
}

enum err store_token_revoke(struct store *st, int64_t id, int64_t user_id,
			    struct errmsg *e)
{
	int n = 0;
	enum err rc = px(st, e, &n, "UPDATE api_tokens SET revoked=1 WHERE "
			 "id=? AND user_id=?", "ii", id, user_id);
	if (!rc && n == 0)
		rc = err_set(e, ERR_NOTFOUND, "no such token");
	return rc;
}

void store_token_free(struct sp_token *t)
{
	free(t->name);
	free(t->scope);
	memset(t, 0, sizeof(*t));
}

void store_tokens_free(struct sp_token *v, size_t n)
{
	store_sq_free_rows(&token_rows, v, n);
}

/* ---- terms ---- */

enum err store_terms_add(struct store *st, const char *text, int64_t by,
			 int64_t *version_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO terms(version, text, "
			 "created_ms, created_by) SELECT coalesce(max(version), "
			 "0) + 1, ?, ?, ? FROM terms RETURNING version", "sii",
			 text, wall_ms(), by);
	return rc ? rc : step_id(st, s, version_out, e);
}

enum err store_terms_current(struct store *st, struct sp_terms *t,
			     struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT version, text, created_ms FROM terms "
			 "ORDER BY version DESC LIMIT 1", "");
	if (rc || (rc = store_sq_step_one(st, s, "terms", e)))
		return rc;
	t->version = COL_I(s, 0);
	t->text = store_sq_col_text(s, 1);
	t->created_ms = COL_I(s, 2);
	store_db_finalize(s);
	return ERR_OK;
}

enum err store_terms_accept(struct store *st, int64_t user_id, int64_t version,
			    struct errmsg *e)
{
	return px(st, e, NULL, "INSERT INTO terms_accept(user_id, version, "
		  "at_ms) VALUES(?,?,?) ON CONFLICT DO NOTHING", "iii", user_id,
		  version, wall_ms());
}

int64_t store_terms_accepted(struct store *st, int64_t user_id)
{
	return query_i64(st, 0, "SELECT coalesce(max(version), 0) FROM "
			 "terms_accept WHERE user_id=?", "i", user_id);
}

void store_terms_free(struct sp_terms *t)
{
	free(t->text);
	memset(t, 0, sizeof(*t));
}

/* ---- models ---- */

#define MODEL_COLS "id, org_id, doc, release_date, credential IS NOT NULL, " \
	"created_by, created_ms"

static void model_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_model *m = p;

	(void)st;
	m->id = COL_I(s, 0);
	m->org_id = COL_I(s, 1);
	m->doc = store_sq_col_text(s, 2);
	m->release_date = store_sq_col_text(s, 3);
	m->has_credential = COL_I(s, 4) != 0;
	m->created_by = COL_I(s, 5);
	m->created_ms = COL_I(s, 6);
}

static void model_clear(void *p)
{
	store_model_free(p);
}

static const struct store_rowtype model_rows = {
	"model", "list models", sizeof(struct sp_model), model_row,
	model_clear,
};

enum err store_model_add(struct store *st, int64_t org_id, const char *doc,
			 const char *release_date, int64_t by, int64_t *id_out,
			 struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO models(org_id, doc, "
			 "release_date, created_by, created_ms) VALUES(?,?,?,?,?) "
			 "RETURNING id", "issii", org_id, doc, release_date, by,
			 wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_model_get(struct store *st, int64_t id, struct sp_model *m,
			 struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " MODEL_COLS " FROM models WHERE "
			 "id=?", "i", id);
	return rc ? rc : store_sq_get_row(st, s, &model_rows, m, e);
}

enum err store_model_list(struct store *st, int64_t org_id, int64_t after,
			  int limit, struct sp_model **v, size_t *n,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " MODEL_COLS " FROM models WHERE "
			 "(?1=0 OR org_id=?1) AND id>?2 ORDER BY id LIMIT ?3",
			 "iii", org_id, after, (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &model_rows, (void **)v, n, e);
}

enum err store_model_set_cred(struct store *st, int64_t id, const char *sealed,
			      struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE models SET credential=? WHERE id=?", "si",
		  sealed, id);
}

enum err store_model_cred(struct store *st, int64_t id, char **sealed_out,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT credential FROM models WHERE id=? "
			 "AND credential IS NOT NULL", "i", id);
	if (rc || (rc = store_sq_step_one(st, s, "credential", e)))
		return rc;
	*sealed_out = store_sq_col_text(s, 0);
	store_db_finalize(s);
	return ERR_OK;
}

void store_model_free(struct sp_model *m)
{
	free(m->doc);
	free(m->release_date);
	memset(m, 0, sizeof(*m));
}

void store_models_free(struct sp_model *v, size_t n)
{
	store_sq_free_rows(&model_rows, v, n);
}

/* ---- windows ---- */

#define WINDOW_COLS "w.id, w.model_id, w.start_ms, w.end_ms, w.closed_ms, " \
	"w.erased, w.created_by, w.created_ms"

static void window_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_window *w = p;

	(void)st;
	w->id = COL_I(s, 0);
	w->model_id = COL_I(s, 1);
	w->start_ms = COL_I(s, 2);
	w->end_ms = COL_I(s, 3);
	w->closed_ms = COL_I(s, 4);
	w->erased = COL_I(s, 5) != 0;
	w->created_by = COL_I(s, 6);
	w->created_ms = COL_I(s, 7);
}

static const struct store_rowtype window_rows = {
	"window", "list windows", sizeof(struct sp_window), window_row,
	NULL,
};

enum err store_window_add(struct store *st, int64_t model_id, int64_t start_ms,
			  int64_t end_ms, int64_t by, int64_t *id_out,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO windows(model_id, start_ms, "
			 "end_ms, created_by, created_ms) VALUES(?,?,?,?,?) "
			 "RETURNING id", "iiiii", model_id, start_ms, end_ms, by,
			 wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_window_get(struct store *st, int64_t id, struct sp_window *w,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " WINDOW_COLS " FROM windows w "
			 "WHERE w.id=?", "i", id);
	return rc ? rc : store_sq_get_row(st, s, &window_rows, w, e);
}

enum err store_window_list(struct store *st, int64_t model_id, int64_t org_id,
			   int64_t after, int limit, struct sp_window **v,
			   size_t *n, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " WINDOW_COLS " FROM windows w "
			 "JOIN models m ON m.id=w.model_id WHERE (?1=0 OR "
			 "w.model_id=?1) AND (?2=0 OR m.org_id=?2) AND w.id>?3 "
			 "ORDER BY w.id LIMIT ?4", "iiii", model_id, org_id, after,
			 (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &window_rows, (void **)v, n, e);
}

enum err store_window_due(struct store *st, int64_t now, struct sp_window **v,
			  size_t *n, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " WINDOW_COLS " FROM windows w "
			 "WHERE w.closed_ms=0 AND w.end_ms<=? ORDER BY w.id", "i",
			 now);
	return rc ? rc : store_sq_list_rows(st, s, &window_rows, (void **)v, n, e);
}

enum err store_window_close(struct store *st, int64_t id, int64_t at_ms,
			    bool erased, struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE windows SET closed_ms=?, erased=? WHERE "
		  "id=?", "iii", at_ms, (int64_t)erased, id);
}

bool store_window_open_now(struct store *st, int64_t model_id, int64_t now)
{
	return query_i64(st, 0, "SELECT count(*) FROM windows WHERE model_id=?1 "
			 "AND closed_ms=0 AND start_ms<=?2 AND end_ms>?2", "ii",
			 model_id, now) > 0;
}

/* ---- grants ---- */

#define GRANT_COLS "id, user_id, model_id, suite, scope, expires_ms, " \
	"granted_by, created_ms, revoked"

static void grant_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_grant *g = p;

	(void)st;
	g->id = COL_I(s, 0);
	g->user_id = COL_I(s, 1);
	g->model_id = COL_I(s, 2);
	g->suite = store_sq_col_text(s, 3);
	g->scope = store_sq_col_text(s, 4);
	g->expires_ms = COL_I(s, 5);
	g->granted_by = COL_I(s, 6);
	g->created_ms = COL_I(s, 7);
	g->revoked = COL_I(s, 8) != 0;
}

static void grant_clear(void *p)
{
	struct sp_grant *g = p;

	free(g->suite);
	free(g->scope);
}

static const struct store_rowtype grant_rows = {
	"grant", "list grants", sizeof(struct sp_grant), grant_row,
	grant_clear,
};

enum err store_grant_add(struct store *st, const struct sp_grant *g,
			 int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO grants(user_id, model_id, "
			 "suite, scope, expires_ms, granted_by, created_ms) "
			 "VALUES(?,?,?,?,?,?,?) RETURNING id", "iissiii",
			 g->user_id, g->model_id, g->suite, g->scope,
			 g->expires_ms, g->granted_by, wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_grant_list(struct store *st, int64_t user_id, int64_t after,
			  int limit, struct sp_grant **v, size_t *n,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " GRANT_COLS " FROM grants WHERE "
			 "(?1=0 OR user_id=?1) AND id>?2 ORDER BY id LIMIT ?3",
			 "iii", user_id, after, (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &grant_rows, (void **)v, n, e);
}

enum err store_grant_revoke(struct store *st, int64_t id, struct errmsg *e)
{
	int n = 0;
	enum err rc = px(st, e, &n, "UPDATE grants SET revoked=1 WHERE id=?",
			 "i", id);
	if (!rc && n == 0)
		rc = err_set(e, ERR_NOTFOUND, "no such grant");
	return rc;
}

bool store_grant_holds(struct store *st, int64_t user_id, int64_t model_id,
		       const char *suite, const char *scope, int64_t now)
{
	return query_i64(st, 0, "SELECT count(*) FROM grants WHERE user_id=? AND "
			 "model_id=? AND revoked=0 AND expires_ms>? AND (scope=? "
			 "OR scope='run') AND (suite=? OR suite='*')", "iiiss",
			 user_id, model_id, now, scope, suite) > 0;
}

void store_grants_free(struct sp_grant *v, size_t n)
{
	store_sq_free_rows(&grant_rows, v, n);
}

/* ---- partners ---- */

enum err store_partner_set(struct store *st, int64_t model_id, int64_t org_id,
			   bool admin_side, struct errmsg *e)
{
	enum err rc = px(st, e, NULL, "INSERT INTO partners(model_id, org_id) "
			 "VALUES(?,?) ON CONFLICT DO NOTHING", "ii", model_id,
			 org_id);
	if (rc)
		return rc;
	return px(st, e, NULL, admin_side ?
		  "UPDATE partners SET by_admin=1 WHERE model_id=? AND org_id=?" :
		  "UPDATE partners SET by_developer=1 WHERE model_id=? AND "
		  "org_id=?", "ii", model_id, org_id);
}

static void partner_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_partner *x = p;

	(void)st;
	x->model_id = COL_I(s, 0);
	x->org_id = COL_I(s, 1);
	x->by_admin = COL_I(s, 2) != 0;
	x->by_developer = COL_I(s, 3) != 0;
}

static const struct store_rowtype partner_rows = {
	"partner", "list partners", sizeof(struct sp_partner), partner_row,
	NULL,
};

enum err store_partner_list(struct store *st, int64_t model_id,
			    struct sp_partner **v, size_t *n, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT model_id, org_id, by_admin, "
			 "by_developer FROM partners WHERE model_id=? ORDER BY "
			 "org_id", "i", model_id);
	return rc ? rc : store_sq_list_rows(st, s, &partner_rows, (void **)v, n, e);
}

bool store_partner_active(struct store *st, int64_t model_id, int64_t org_id)
{
	return query_i64(st, 0, "SELECT count(*) FROM partners WHERE model_id=? "
			 "AND org_id=? AND by_admin=1 AND by_developer=1", "ii",
			 model_id, org_id) > 0;
}

/* ---- campaigns ---- */

#define CAMPAIGN_COLS "id, model_id, org_id, created_by, state, doc, " \
	"policy_digest, approvals_needed, (SELECT count(*) FROM " \
	"campaign_approvals a WHERE a.campaign_id=campaigns.id), run_id, " \
	"created_ms"

static void campaign_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_campaign *c = p;

	(void)st;
	c->id = COL_I(s, 0);
	c->model_id = COL_I(s, 1);
	c->org_id = COL_I(s, 2);
	c->created_by = COL_I(s, 3);
	c->state = store_sq_col_text(s, 4);
	c->doc = store_sq_col_text(s, 5);
	c->policy_digest = store_sq_col_text(s, 6);
	c->approvals_needed = COL_I(s, 7);
	c->approvals = COL_I(s, 8);
	c->run_id = COL_I(s, 9);
	c->created_ms = COL_I(s, 10);
}

static void campaign_clear(void *p)
{
	store_campaign_free(p);
}

static const struct store_rowtype campaign_rows = {
	"campaign", "list campaigns", sizeof(struct sp_campaign), campaign_row,
	campaign_clear,
};

enum err store_campaign_add(struct store *st, const struct sp_campaign *c,
			    int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO campaigns(model_id, org_id, "
			 "created_by, state, doc, policy_digest, approvals_needed, "
			 "created_ms) VALUES(?,?,?,?,?,?,?,?) RETURNING id",
			 "iiisssii", c->model_id, c->org_id, c->created_by,
			 c->state, c->doc, c->policy_digest, c->approvals_needed,
			 wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_campaign_get(struct store *st, int64_t id,
			    struct sp_campaign *c, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " CAMPAIGN_COLS " FROM campaigns "
			 "WHERE id=?", "i", id);
	return rc ? rc : store_sq_get_row(st, s, &campaign_rows, c, e);
}

enum err store_campaign_list(struct store *st, int64_t org_id, int64_t after,
			     int limit, struct sp_campaign **v, size_t *n,
			     struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " CAMPAIGN_COLS " FROM campaigns "
			 "WHERE (?1=0 OR org_id=?1) AND id>?2 ORDER BY id LIMIT ?3",
			 "iii", org_id, after, (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &campaign_rows, (void **)v, n, e);
}

enum err store_campaign_set(struct store *st, int64_t id, const char *state,
			    int64_t run_id, struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE campaigns SET state=?, run_id=? WHERE "
		  "id=?", "sii", state, run_id, id);
}

void store_campaign_free(struct sp_campaign *c)
{
	free(c->state);
	free(c->doc);
	free(c->policy_digest);
	memset(c, 0, sizeof(*c));
}

void store_campaigns_free(struct sp_campaign *v, size_t n)
{
	store_sq_free_rows(&campaign_rows, v, n);
}

int64_t store_last_run_id(struct store *st)
{
	return query_i64(st, 0, "SELECT coalesce(max(id), 0) FROM runs", "");
}

void store_run_progress(struct store *st, int64_t run_id, int64_t *total,
			int64_t *done, int64_t *solved, char **status)
{
	struct db_stmt *s;

	*total = *done = *solved = 0;
	*status = NULL;
	if (pq(st, &s, NULL, "SELECT r.status, r.epochs * (SELECT count(*) FROM "
	       "run_tasks t WHERE t.run_id=r.id), (SELECT count(*) FROM episodes "
	       "e WHERE e.run_id=r.id AND e.status='done'), (SELECT count(*) FROM "
	       "episodes e WHERE e.run_id=r.id AND e.status='done' AND "
	       "e.score>0) FROM runs r WHERE r.id=?", "i", run_id))
		return;
	if (store_db_step(s) == DB_ROW) {
		*status = store_sq_col_text(s, 0);
		*total = COL_I(s, 1);
		*done = COL_I(s, 2);
		*solved = COL_I(s, 3);
	}
	store_db_finalize(s);
}

/* ---- the campaign of a run, determinations, developer reports ---- */

enum err store_campaign_by_run(struct store *st, int64_t run_id,
			       struct sp_campaign *c, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " CAMPAIGN_COLS " FROM campaigns "
			 "WHERE run_id=? AND run_id>0 ORDER BY id LIMIT 1", "i",
			 run_id);
	return rc ? rc : store_sq_get_row(st, s, &campaign_rows, c, e);
}

#define DET_COLS "campaign_id, run_id, result, envelope, signed_by, " \
	"signed_ms, cosigned_by, cosigned_ms"

enum err store_det_add(struct store *st, const struct sp_det *d,
		       struct errmsg *e)
{
	int n = 0;
	enum err rc = px(st, e, &n, "INSERT INTO determinations(" DET_COLS ") "
			 "VALUES(?,?,?,?,?,?,0,0) ON CONFLICT DO NOTHING",
			 "iissii", d->campaign_id, d->run_id, d->result,
			 d->envelope, d->signed_by, wall_ms());
	if (!rc && n == 0)
		rc = err_set(e, ERR_INVAL, "the determination is signed already");
	return rc;
}

enum err store_det_get(struct store *st, int64_t campaign_id,
		       struct sp_det *d, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " DET_COLS " FROM determinations "
			 "WHERE campaign_id=?", "i", campaign_id);
	if (rc || (rc = store_sq_step_one(st, s, "determination", e)))
		return rc;
	d->campaign_id = COL_I(s, 0);
	d->run_id = COL_I(s, 1);
	d->result = store_sq_col_text(s, 2);
	d->envelope = store_sq_col_text(s, 3);
	d->signed_by = COL_I(s, 4);
	d->signed_ms = COL_I(s, 5);
	d->cosigned_by = COL_I(s, 6);
	d->cosigned_ms = COL_I(s, 7);
	store_db_finalize(s);
	return ERR_OK;
}

enum err store_det_cosign(struct store *st, int64_t campaign_id,
			  const char *envelope, int64_t by, struct errmsg *e)
{
	int n = 0;
	enum err rc = px(st, e, &n, "UPDATE determinations SET envelope=?, "
			 "cosigned_by=?, cosigned_ms=? WHERE campaign_id=? AND "
			 "cosigned_by=0 AND signed_by<>?", "siiii", envelope, by,
			 wall_ms(), campaign_id, by);
	if (!rc && n == 0)
		rc = err_set(e, ERR_INVAL, "the determination is co-signed "
			     "already, or by its signer");
	return rc;
}

void store_det_free(struct sp_det *d)
{
	free(d->result);
	free(d->envelope);
	memset(d, 0, sizeof(*d));
}

#define REPORT_COLS "id, campaign_id, org_id, level, transcripts, envelope, " \
	"created_by, created_ms, approved_by, approved_ms"

static void report_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_report *r = p;

	(void)st;
	r->id = COL_I(s, 0);
	r->campaign_id = COL_I(s, 1);
	r->org_id = COL_I(s, 2);
	r->level = store_sq_col_text(s, 3);
	r->transcripts = COL_I(s, 4) != 0;
	r->envelope = store_sq_col_text(s, 5);
	r->created_by = COL_I(s, 6);
	r->created_ms = COL_I(s, 7);
	r->approved_by = COL_I(s, 8);
	r->approved_ms = COL_I(s, 9);
}

static void report_clear(void *p)
{
	store_report_free(p);
}

static const struct store_rowtype report_rows = {
	"report", "list reports", sizeof(struct sp_report), report_row,
	report_clear,
};

enum err store_report_add(struct store *st, const struct sp_report *r,
			  int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "INSERT INTO dev_reports(campaign_id, "
			 "org_id, level, transcripts, envelope, created_by, "
			 "created_ms) VALUES(?,?,?,?,?,?,?) RETURNING id",
			 "iisisii", r->campaign_id, r->org_id, r->level,
			 (int64_t)r->transcripts, r->envelope, r->created_by,
			 wall_ms());
	return rc ? rc : step_id(st, s, id_out, e);
}

enum err store_report_get(struct store *st, int64_t id, struct sp_report *r,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " REPORT_COLS " FROM dev_reports "
			 "WHERE id=?", "i", id);
	return rc ? rc : store_sq_get_row(st, s, &report_rows, r, e);
}

enum err store_report_list(struct store *st, int64_t org_id, int64_t after,
			   int limit, struct sp_report **v, size_t *n,
			   struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT " REPORT_COLS " FROM dev_reports "
			 "WHERE (?1=0 OR org_id=?1) AND id>?2 ORDER BY id LIMIT ?3",
			 "iii", org_id, after, (int64_t)limit);
	return rc ? rc : store_sq_list_rows(st, s, &report_rows, (void **)v, n, e);
}

enum err store_report_approve(struct store *st, int64_t id,
			      const char *envelope, int64_t by,
			      struct errmsg *e)
{
	int n = 0;
	enum err rc = px(st, e, &n, "UPDATE dev_reports SET envelope=?, "
			 "approved_by=?, approved_ms=? WHERE id=? AND "
			 "approved_by=0 AND created_by<>?", "siiii", envelope, by,
			 wall_ms(), id, by);
	if (!rc && n == 0)
		rc = err_set(e, ERR_INVAL, "the report is released already, or "
			     "by the person who prepared it");
	return rc;
}

void store_report_free(struct sp_report *r)
{
	free(r->level);
	free(r->envelope);
	memset(r, 0, sizeof(*r));
}

void store_reports_free(struct sp_report *v, size_t n)
{
	store_sq_free_rows(&report_rows, v, n);
}

void store_run_totals(struct store *st, int64_t run_id, struct sp_run_totals *t)
{
	struct db_stmt *s;

	memset(t, 0, sizeof(*t));
	if (pq(st, &s, NULL, "SELECT coalesce(sum(prompt_tokens + "
	       "completion_tokens), 0), coalesce(sum(cost_usd), 0), "
	       "coalesce(sum(CASE WHEN status='running' THEN 1 ELSE 0 END), 0), "
	       "coalesce(sum(CASE WHEN status='interrupted' OR (status='done' "
	       "AND error_class='infra') THEN 1 ELSE 0 END), 0), "
	       "coalesce(min(CASE WHEN started_ms>0 THEN started_ms END), 0) "
	       "FROM episodes WHERE run_id=?", "i", run_id))
		return;
	if (store_db_step(s) == DB_ROW) {
		t->tokens = COL_I(s, 0);
		t->cost_usd = store_db_col_double(s, 1);
		t->running = COL_I(s, 2);
		t->failed = COL_I(s, 3);
		t->first_start_ms = COL_I(s, 4);
	}
	store_db_finalize(s);
}

/* ---- sealed campaigns: the unseal request and custodians' approvals ---- */

enum err store_unseal_add(struct store *st, int64_t campaign_id,
			  const struct sp_unseal *u, struct errmsg *e)
{
	return px(st, e, NULL, "INSERT INTO campaign_unseal(campaign_id, "
		  "archive, request, secret, created_ms) VALUES(?,?,?,?,?)",
		  "isssi", campaign_id, u->archive, u->request, u->secret,
		  wall_ms());
}

static void unseal_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_unseal *u = p;

	(void)st;
	u->archive = store_sq_col_text(s, 0);
	u->request = store_sq_col_text(s, 1);
	u->secret = store_sq_col_text(s, 2);
}

static void unseal_clear(void *p)
{
	store_unseal_free(p);
}

static const struct store_rowtype unseal_rows = {
	"unseal request", "list unseal requests", sizeof(struct sp_unseal),
	unseal_row, unseal_clear,
};

enum err store_unseal_get(struct store *st, int64_t campaign_id,
			  struct sp_unseal *u, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT archive, request, secret FROM "
			 "campaign_unseal WHERE campaign_id=?", "i",
			 campaign_id);
	return rc ? rc : store_sq_get_row(st, s, &unseal_rows, u, e);
}

enum err store_unseal_erase(struct store *st, int64_t campaign_id,
			    struct errmsg *e)
{
	return px(st, e, NULL, "UPDATE campaign_unseal SET secret=NULL WHERE "
		  "campaign_id=?", "i", campaign_id);
}

void store_unseal_free(struct sp_unseal *u)
{
	free(u->archive);
	free(u->request);
	free(u->secret);
	memset(u, 0, sizeof(*u));
}

enum err store_campaign_approve_sealed(struct store *st, int64_t id,
				       int64_t user_id, const char *custodian,
				       const char *approval, struct errmsg *e)
{
	struct db_stmt *s;
	int r;
	enum err rc = pq(st, &s, e, "INSERT INTO campaign_approvals(campaign_id, "
			 "user_id, at_ms, custodian, approval) "
			 "VALUES(?,?,?,?,?)", "iiiss", id, user_id, wall_ms(),
			 custodian, approval);

	if (rc)
		return rc;
	r = store_db_step(s);
	if (r == DB_UNIQUE)
		rc = err_set(e, ERR_INVAL, "you, or custodian '%s', approved "
			     "this campaign already", custodian);
	else if (r != DB_DONE)
		rc = store_sq_fail(st, e, "write program record");
	store_db_finalize(s);
	return rc;
}

static void approval_row(struct store *st, struct db_stmt *s, void *p)
{
	struct sp_approval *a = p;

	(void)st;
	a->user_id = COL_I(s, 0);
	a->at_ms = COL_I(s, 1);
	a->custodian = store_sq_col_text(s, 2);
	a->approval = store_sq_col_text(s, 3);
}

static void approval_clear(void *p)
{
	struct sp_approval *a = p;

	free(a->custodian);
	free(a->approval);
}

static const struct store_rowtype approval_rows = {
	"approval", "list approvals", sizeof(struct sp_approval), approval_row,
	approval_clear,
};

enum err store_campaign_approvals(struct store *st, int64_t id,
				  struct sp_approval **v, size_t *n,
				  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = pq(st, &s, e, "SELECT user_id, at_ms, custodian, approval "
			 "FROM campaign_approvals WHERE campaign_id=? ORDER BY "
			 "at_ms, user_id", "i", id);
	return rc ? rc : store_sq_list_rows(st, s, &approval_rows, (void **)v, n, e);
}

void store_approvals_free(struct sp_approval *v, size_t n)
{
	store_sq_free_rows(&approval_rows, v, n);
}
