/*
 * store_sqlite.c - the journal: open, schema and migrations, grouped
 * transactions, runs and task snapshots, in portable SQL over store_db.h
 * (SQLite or PostgreSQL; the name is historical: migrations[] is here).
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
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key @TEXT PRIMARY KEY, value @TEXT);"
	"CREATE TABLE IF NOT EXISTS runs("
	" id @ID, status @TEXT NOT NULL, model @TEXT NOT NULL,"
	" endpoint @TEXT, suite_id @TEXT, suite_path @TEXT, suite_digest @TEXT,"
	" config_json @TEXT, harness_version @TEXT, epochs @INT,"
	" created_ms @INT, finished_ms @INT DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS run_tasks("
	" run_id @INT NOT NULL REFERENCES runs(id), task_id @TEXT NOT NULL,"
	" category @TEXT, difficulty @INT, expert_minutes @REAL, tags @TEXT,"
	" attack @TEXT, n_answers @INT, digest @TEXT,"
	" PRIMARY KEY(run_id, task_id));"
	"CREATE TABLE IF NOT EXISTS episodes("
	" id @ID, run_id @INT NOT NULL REFERENCES runs(id),"
	" task_id @TEXT NOT NULL, epoch @INT NOT NULL, attempt @INT NOT NULL,"
	" status @TEXT NOT NULL, outcome @TEXT, error_class @TEXT, error @TEXT,"
	" score @INT DEFAULT 0, flag_ok @INT DEFAULT 0,"
	" check_ok @INT DEFAULT 0, has_flag @INT DEFAULT 0,"
	" has_check @INT DEFAULT 0, answers_ok @INT DEFAULT 0,"
	" answers_total @INT DEFAULT 0, turns @INT DEFAULT 0,"
	" prompt_tokens @INT DEFAULT 0, completion_tokens @INT DEFAULT 0,"
	" cached_tokens @INT DEFAULT 0, cost_usd @REAL DEFAULT 0,"
	" started_ms @INT DEFAULT 0, finished_ms @INT DEFAULT 0,"
	" wall_ms @INT DEFAULT 0, working_ms @INT DEFAULT 0,"
	" model_calls @INT DEFAULT 0, tool_calls @INT DEFAULT 0,"
	" infra_retries @INT DEFAULT 0,"
	" UNIQUE(run_id, task_id, epoch, attempt));"
	"CREATE TABLE IF NOT EXISTS events("
	" episode_id @INT NOT NULL REFERENCES episodes(id),"
	" seq @INT NOT NULL, kind @TEXT NOT NULL, at_ms @INT NOT NULL,"
	" data @TEXT, PRIMARY KEY(episode_id, seq));"
	"CREATE TABLE IF NOT EXISTS exposure("
	" task_id @TEXT NOT NULL, task_digest @TEXT NOT NULL, suite_id @TEXT,"
	" developer @TEXT NOT NULL, model @TEXT NOT NULL, endpoint @TEXT NOT NULL,"
	" run_id @INT NOT NULL, first_ms @INT NOT NULL,"
	" PRIMARY KEY(task_digest, endpoint, run_id));"
	"INSERT INTO meta(key, value) VALUES('schema', '1') "
	"ON CONFLICT DO NOTHING;";


enum err store_sq_fail(struct store *st, struct errmsg *e, const char *what)
{
	return err_set(e, ERR_STORE, "store '%s': %s: %s", st->path, what,
		       store_db_errmsg(st->db));
}

static enum err exec_sql(struct store *st, const char *sql, struct errmsg *e)
{
	if (!store_db_exec(st->db, sql))
		return err_set(e, ERR_STORE, "store '%s': %s", st->path,
			       store_db_errmsg(st->db));
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
	"ALTER TABLE run_tasks ADD COLUMN limit_tokens @INT DEFAULT 0;",
	/* 3: leases (one writer per run; later per episode, for workers on
	 * other machines), and the index a claim of pending episodes uses */
	"CREATE TABLE leases("
	" scope @TEXT NOT NULL, ref @INT NOT NULL, owner @TEXT NOT NULL,"
	" host @TEXT, machine @TEXT, pid @INT, pid_start @INT,"
	" acquired_ms @INT NOT NULL, heartbeat_ms @INT NOT NULL,"
	" expires_ms @INT NOT NULL, PRIMARY KEY(scope, ref));"
	"CREATE INDEX episodes_status ON episodes(run_id, status);",
	/* 4: the early-access program (store_program.c, issue 16):
	 * organisations, people (roles a bit set), sessions and API tokens
	 * (by the SHA-256 of their secret), versioned terms and acceptance */
	"CREATE TABLE orgs(id @ID, name @TEXT NOT NULL UNIQUE,"
	" kind @TEXT NOT NULL, created_ms @INT NOT NULL);"
	"CREATE TABLE users(id @ID, login @TEXT NOT NULL UNIQUE,"
	" name @TEXT NOT NULL, org_id @INT NOT NULL REFERENCES orgs(id),"
	" roles @INT NOT NULL, pwhash @TEXT NOT NULL, totp_secret @TEXT,"
	" totp_pending @TEXT, totp_last @INT NOT NULL DEFAULT 0,"
	" fails @INT NOT NULL DEFAULT 0,"
	" locked_until_ms @INT NOT NULL DEFAULT 0,"
	" disabled @INT NOT NULL DEFAULT 0, created_ms @INT NOT NULL);"
	"CREATE TABLE sessions(token_hash @TEXT PRIMARY KEY,"
	" user_id @INT NOT NULL, csrf @TEXT NOT NULL,"
	" created_ms @INT NOT NULL, seen_ms @INT NOT NULL,"
	" expires_ms @INT NOT NULL);"
	"CREATE TABLE api_tokens(id @ID,"
	" user_id @INT NOT NULL, name @TEXT NOT NULL,"
	" token_hash @TEXT NOT NULL UNIQUE, scope @TEXT NOT NULL,"
	" created_ms @INT NOT NULL, expires_ms @INT NOT NULL,"
	" revoked @INT NOT NULL DEFAULT 0);"
	"CREATE TABLE terms(version @INT PRIMARY KEY, text @TEXT NOT NULL,"
	" created_ms @INT NOT NULL, created_by @INT);"
	"CREATE TABLE terms_accept(user_id @INT NOT NULL,"
	" version @INT NOT NULL, at_ms @INT NOT NULL,"
	" PRIMARY KEY(user_id, version));",
	/* 5: validity states (valid | invalid with a cause | indeterminate),
	 * filled for old rows from their error class, and the review log of
	 * evaluators' invalidations and re-scores */
	"ALTER TABLE episodes ADD COLUMN validity @TEXT;"
	"ALTER TABLE episodes ADD COLUMN validity_cause @TEXT;"
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
	" episode_id @INT NOT NULL REFERENCES episodes(id),"
	" seq @INT NOT NULL, run_id @INT NOT NULL, action @TEXT NOT NULL,"
	" validity_before @TEXT, cause_before @TEXT, score_before @INT,"
	" validity_after @TEXT, cause_after @TEXT, score_after @INT,"
	" reason @TEXT NOT NULL, reviewer @TEXT, at_ms @INT NOT NULL,"
	" PRIMARY KEY(episode_id, seq));",
	/* 6: the program's models (descriptive fields as JSON, the credential
	 * sealed), access windows, need-to-know grants, partner consents
	 * (IF NOT EXISTS: tests that rewind the version keep these tables) */
	"CREATE TABLE IF NOT EXISTS models(id @ID, org_id @INT NOT NULL REFERENCES orgs(id),"
	" doc @TEXT NOT NULL, release_date @TEXT NOT NULL, credential @TEXT,"
	" created_by @INT NOT NULL, created_ms @INT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS windows(id @ID, model_id @INT NOT NULL REFERENCES models(id),"
	" start_ms @INT NOT NULL, end_ms @INT NOT NULL,"
	" closed_ms @INT NOT NULL DEFAULT 0, erased @INT NOT NULL DEFAULT 0,"
	" created_by @INT NOT NULL, created_ms @INT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS windows_open ON windows(closed_ms, end_ms);"
	"CREATE TABLE IF NOT EXISTS grants(id @ID, user_id @INT NOT NULL REFERENCES users(id),"
	" model_id @INT NOT NULL REFERENCES models(id), suite @TEXT NOT NULL,"
	" scope @TEXT NOT NULL, expires_ms @INT NOT NULL,"
	" granted_by @INT NOT NULL, created_ms @INT NOT NULL,"
	" revoked @INT NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS grants_user ON grants(user_id, model_id);"
	"CREATE TABLE IF NOT EXISTS partners(model_id @INT NOT NULL, org_id @INT NOT NULL,"
	" by_admin @INT NOT NULL DEFAULT 0, by_developer @INT NOT NULL DEFAULT 0,"
	" PRIMARY KEY(model_id, org_id));",
	/* 7: the program's campaigns (the policy digest frozen at creation)
	 * and custodians' approvals of them */
	"CREATE TABLE IF NOT EXISTS campaigns(id @ID,"
	" model_id @INT NOT NULL REFERENCES models(id), org_id @INT NOT NULL,"
	" created_by @INT NOT NULL, state @TEXT NOT NULL, doc @TEXT NOT NULL,"
	" policy_digest @TEXT NOT NULL, approvals_needed @INT NOT NULL,"
	" run_id @INT NOT NULL DEFAULT 0, created_ms @INT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS campaign_approvals("
	" campaign_id @INT NOT NULL, user_id @INT NOT NULL, at_ms @INT NOT NULL,"
	" PRIMARY KEY(campaign_id, user_id));",
	/* 8: workers on other machines (assay worker): who they are, which
	 * episode each runs (its lease is scope 'worker', ref = its id), and
	 * how a run is executed ('local', or its episodes queued for workers:
	 * 'workers', 'slurm') */
	"CREATE TABLE workers("
	" id @ID, name @TEXT NOT NULL, owner @TEXT NOT NULL, host @TEXT,"
	" slots @INT, started_ms @INT NOT NULL, stopped_ms @INT DEFAULT 0);"
	"ALTER TABLE episodes ADD COLUMN worker @INT DEFAULT 0;"
	"ALTER TABLE runs ADD COLUMN executor @TEXT DEFAULT 'local';",
	/* 9: the program's signed determinations (one per campaign) and
	 * redacted developer reports (store_program.c) */
	"CREATE TABLE IF NOT EXISTS determinations(campaign_id @INT PRIMARY KEY,"
	" run_id @INT NOT NULL, result @TEXT NOT NULL, envelope @TEXT NOT NULL,"
	" signed_by @INT NOT NULL, signed_ms @INT NOT NULL,"
	" cosigned_by @INT NOT NULL DEFAULT 0, cosigned_ms @INT NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS dev_reports(id @ID,"
	" campaign_id @INT NOT NULL, org_id @INT NOT NULL, level @TEXT NOT NULL,"
	" transcripts @INT NOT NULL, envelope @TEXT NOT NULL,"
	" created_by @INT NOT NULL, created_ms @INT NOT NULL,"
	" approved_by @INT NOT NULL DEFAULT 0, approved_ms @INT NOT NULL DEFAULT 0);",
	/* 10: sealed campaigns: the service's unseal request for a campaign
	 * (the archive's file name, the request's public text, its secret
	 * sealed at rest and NULL once erased) and each custodian's signed
	 * approval, one per custodian of the archive */
	"CREATE TABLE IF NOT EXISTS campaign_unseal(campaign_id @INT PRIMARY KEY,"
	" archive @TEXT NOT NULL, request @TEXT NOT NULL, secret @TEXT,"
	" created_ms @INT NOT NULL);"
	"ALTER TABLE campaign_approvals ADD COLUMN custodian @TEXT;"
	"ALTER TABLE campaign_approvals ADD COLUMN approval @TEXT;"
	"CREATE UNIQUE INDEX IF NOT EXISTS campaign_approvals_custodian"
	" ON campaign_approvals(campaign_id, custodian);",
	/* 11: sealed runs on workers (store_sealed.c): the archive digest of
	 * a sealed queued run, the worker public keys registered for a run
	 * (revoked_ms set once revoked), each one's task keys wrapped to it,
	 * and the public key a worker registered with */
	"ALTER TABLE runs ADD COLUMN sealed_digest @TEXT;"
	"ALTER TABLE workers ADD COLUMN pubkey @TEXT;"
	"CREATE TABLE run_worker_keys(run_id @INT NOT NULL,"
	" pubkey @TEXT NOT NULL, added_ms @INT NOT NULL,"
	" revoked_ms @INT NOT NULL DEFAULT 0, PRIMARY KEY(run_id, pubkey));"
	"CREATE TABLE run_wrapped_keys(run_id @INT NOT NULL,"
	" pubkey @TEXT NOT NULL, task_index @INT NOT NULL,"
	" task_id @TEXT NOT NULL, wrapped @TEXT NOT NULL,"
	" PRIMARY KEY(run_id, pubkey, task_index));",
};

#define SCHEMA_LAST (1 + (int)ARRAY_SIZE(migrations))

int store_schema_version(void)
{
	return SCHEMA_LAST;
}

/* The store's version; 0 for a new file (no meta table yet). */
static int schema_version(struct store *st)
{
	struct db_stmt *s;
	int v = 0;

	if (store_db_prepare(st->db, "SELECT value FROM meta WHERE key='schema'",
			     0, &s) != DB_DONE)
		return 0;
	if (store_db_step(s) == DB_ROW && store_db_col_text(s, 0) &&
	    !num_int(store_db_col_text(s, 0), 0, INT_MAX, &v))
		v = INT_MAX;         /* not a number: newer than anything known */
	store_db_finalize(s);
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

	if (!store_db_begin(st->db, true))
		return store_sq_fail(st, e, "begin migration");
	v = schema_version(st);
	if (!(rc = version_ok(st, v, last, e)) && v < last) {
		snprintf(sql, sizeof(sql), "UPDATE meta SET value='%d' WHERE "
			 "key='schema';", v + 1);
		rc = exec_sql(st, migrations[v - 1], e);
		if (!rc)
			rc = exec_sql(st, sql, e);
	}
	if (!rc && !store_db_commit(st->db))
		rc = store_sq_fail(st, e, "commit migration");
	if (rc)
		store_db_rollback(st->db);
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
	enum err rc = store_db_begin(st->db, true) ? ERR_OK :
		      store_sq_fail(st, e, "begin");

	if (rc == ERR_OK && (rc = exec_sql(st, schema, e)) == ERR_OK &&
	    !store_db_commit(st->db))
		rc = store_sq_fail(st, e, "commit");
	if (rc)
		store_db_rollback(st->db);
	return rc;
}

/* PRAGMA quick_check before anything is written: a damaged store is
 * refused whole rather than appended to. */
static enum err check_integrity(struct store *st, struct errmsg *e)
{
	char *first = store_db_quick_check(st->db);
	enum err rc = ERR_OK;

	if (first && !strcmp(first, "ok")) {
		free(first);
		return ERR_OK;
	}
	if (!first)
		rc = err_set(e, ERR_STORE, "store '%s' is damaged or not an "
			     "assay store (%s); refusing to use it: restore "
			     "it from a backup or move it aside", st->path,
			     store_db_errmsg(st->db));
	else
		rc = err_set(e, ERR_STORE, "store '%s' is damaged (PRAGMA "
			     "quick_check: %.200s); refusing to use it: restore "
			     "it from a backup or move it aside", st->path,
			     first);
	free(first);
	return rc;
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

/* A PostgreSQL URL for messages: its password (user:PASS@ or
 * password=...) masked. */
char *store_display_name(const char *target)
{
	char *d = xstrdup(target), *auth, *end, *at, *colon, *pw;

	if (!store_db_target_is_pg(target))
		return d;
	auth = strstr(d, "://") + 3;
	end = auth + strcspn(auth, "/?");
	at = memchr(auth, '@', (size_t)(end - auth));
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon)
		memset(colon + 1, '*', (size_t)(at - colon - 1));
	if ((pw = strstr(d, "password=")))
		for (pw += 9; *pw && *pw != '&'; pw++)
			*pw = '*';
	return d;
}

/* The connection, and whether the store existed before (a file of some
 * size; a database always may hold one). */
static enum err open_db(struct store *st, const char *target, bool *existed,
			struct errmsg *e)
{
	struct stat sb;
	enum err rc;

	*existed = true;
	if (!store_db_target_is_pg(target)) {
		if ((rc = check_writable(target, e)))
			return rc;
		*existed = stat(target, &sb) == 0 && sb.st_size > 0;
		return store_db_open(target, &st->db, e);
	}
	if ((rc = store_db_open(target, &st->db, e))) {
		char why[sizeof(e->text)];
		snprintf(why, sizeof(why), "%s", e->text);
		rc = err_set(e, rc, "store '%s': %s", st->path, why);
	}
	return rc;
}

enum err store_open(const char *path, struct store **st_out, struct errmsg *e)
{
	struct store *st;
	enum err rc;
	bool existed;

	*st_out = NULL;
	st = xcalloc(1, sizeof(*st));
	st->path = store_display_name(path);
	if ((rc = open_db(st, path, &existed, e)) ||
	    (existed && (rc = check_existing(st, e))))
		goto fail;
	if (!store_db_tune(st->db)) {
		rc = store_sq_fail(st, e, "configure");
		goto fail;
	}
	/* a new store, or an old one (whose every table of version 1 the
	 * migrations expect) */
	if ((schema_version(st) < SCHEMA_LAST && (rc = create_schema(st, e))) ||
	    (rc = migrate(st, e)))
		goto fail;
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
	if (st->lease_scope && st->db) {  /* best effort: our own row only */
		store_tx_rollback(st);
		if (store_lease_release(st, &(struct errmsg){ 0 }) != ERR_OK)
			log_debug("msg=\"could not release the lease at close\"");
	}
	free(st->lease_scope);
	free(st->owner);
	free(st->host);
	free(st->machine);
	store_db_finalize(st->renew);
	store_db_finalize(st->ins_event);
	store_db_close(st->db);
	free(st->path);
	free(st);
}

enum err store_tx_begin(struct store *st, struct errmsg *e)
{
	(void)e;
	st->batch = true;
	return ERR_OK;
}

/* A failed COMMIT (a full disk) may leave the transaction open: roll it
 * back, so the store holds exactly the groups committed before. */
enum err store_tx_commit(struct store *st, struct errmsg *e)
{
	bool open = st->in_tx;
	struct errmsg ignored;
	enum err rc = ERR_OK;

	st->batch = st->in_tx = false;
	if (!open)
		return ERR_OK;
	if (!store_db_commit(st->db)) {
		rc = store_sq_fail(st, e ? e : &ignored, "COMMIT");
		store_tx_rollback(st);
	}
	return rc;
}

void store_tx_rollback(struct store *st)
{
	st->batch = st->in_tx = false;
	store_db_rollback(st->db);
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

/* Opening a group takes the write lock (SQLite; PostgreSQL takes row
 * locks as it writes); the handle's lease (if any) is checked and renewed
 * first thing in it, so every group of a lease holder is written only
 * while the lease is its own. */
enum err store_sq_write(struct store *st, struct errmsg *e)
{
	enum err rc = ERR_OK;

	if (st->lease_lost)
		return store_sq_lease_lost(st, e);
	if (!st->batch || st->in_tx)
		return ERR_OK;
	if (!store_db_begin(st->db, false))
		rc = store_sq_fail(st, e, "BEGIN IMMEDIATE");
	st->in_tx = rc == ERR_OK;
	st->tx_start_ms = now_ms();
	if (rc == ERR_OK && (rc = store_sq_lease_check(st, e)))
		store_tx_rollback(st);
	return rc;
}

enum err store_sq_group_open(struct store *st, bool *own, struct errmsg *e)
{
	*own = !st->batch;
	st->batch = true;
	return store_sq_write(st, e);
}

enum err store_sq_group_close(struct store *st, bool own, enum err rc,
			      struct errmsg *e)
{
	if (!own)
		return rc;
	if (rc == ERR_OK)
		return store_tx_commit(st, e);
	store_tx_rollback(st);
	return rc;
}

bool store_is_pg(const char *target)
{
	return store_db_target_is_pg(target);
}

char *store_default_path(void)
{
	return path_user_data("ASSAY_STORE", "assay.db");
}

/* --- statement helpers ------------------------------------------- */

enum err store_sq_prep(struct store *st, const char *sql, struct db_stmt **out,
		       struct errmsg *e)
{
	enum err rc;

	if (store_db_prepare(st->db, sql, 0, out) != DB_DONE)
		return store_sq_fail(st, e, "prepare");
	/* a write joins (or opens) the grouped transaction, if one is wanted */
	if (!store_db_stmt_readonly(*out) && (rc = store_sq_write(st, e))) {
		store_db_finalize(*out);
		*out = NULL;
		return rc;
	}
	return ERR_OK;
}

enum err store_sq_step_done(struct store *st, struct db_stmt *s,
			    const char *what, struct errmsg *e)
{
	enum err rc = ERR_OK;

	if (store_db_step(s) != DB_DONE)
		rc = store_sq_fail(st, e, what);
	store_db_finalize(s);
	return rc;
}

enum err store_sq_insert_id(struct store *st, struct db_stmt *s,
			    const char *what, int64_t *id_out, struct errmsg *e)
{
	enum err rc = ERR_OK;

	if (store_db_step(s) != DB_ROW)
		rc = store_sq_fail(st, e, what);
	else
		*id_out = store_db_col_int64(s, 0);
	if (rc == ERR_OK && store_db_step(s) != DB_DONE)
		rc = store_sq_fail(st, e, what);
	store_db_finalize(s);
	return rc;
}

char *store_sq_col_text(struct db_stmt *s, int i)
{
	const char *t = store_db_col_text(s, i);
	return t ? xstrdup(t) : NULL;
}

/* --- runs -------------------------------------------------------- */

enum err store_run_create(struct store *st, struct store_run *r,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc =
		store_sq_prep(st,
			      "INSERT INTO runs(status, model, endpoint, "
			      "suite_id, suite_path, suite_digest, config_json, "
			      "harness_version, epochs, created_ms) "
			      "VALUES('running',?,?,?,?,?,?,?,?,?) RETURNING id",
			      &s, e);
	if (rc)
		return rc;
	store_db_bind_text(s, 1, r->model);
	store_db_bind_text(s, 2, r->endpoint);
	store_db_bind_text(s, 3, r->suite_id);
	store_db_bind_text(s, 4, r->suite_path);
	store_db_bind_text(s, 5, r->suite_digest);
	store_db_bind_text(s, 6, r->config_json);
	store_db_bind_text(s, 7, r->harness_version);
	store_db_bind_int64(s, 8, r->epochs);
	store_db_bind_int64(s, 9, r->created_ms);
	return store_sq_insert_id(st, s, "insert run", &r->id, e);
}

enum err store_run_set_status(struct store *st, int64_t run_id,
			      const char *status, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st,
				    "UPDATE runs SET status=?, finished_ms=? "
				    "WHERE id=?",
				    &s, e);
	if (rc)
		return rc;
	store_db_bind_text(s, 1, status);
	store_db_bind_int64(s, 2, strcmp(status, "running") ? wall_ms() : 0);
	store_db_bind_int64(s, 3, run_id);
	return store_sq_step_done(st, s, "update run", e);
}

enum err store_run_set_endpoint(struct store *st, int64_t run_id,
				const char *endpoint, const char *config_json,
				struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st,
				    "UPDATE runs SET endpoint=?, config_json=? "
				    "WHERE id=?",
				    &s, e);
	if (rc)
		return rc;
	store_db_bind_text(s, 1, endpoint);
	store_db_bind_text(s, 2, config_json);
	store_db_bind_int64(s, 3, run_id);
	return store_sq_step_done(st, s, "update run", e);
}

/* A run and the lease on it, if any (to tell a live run from one whose
 * owner died). */
#define RUN_COLS "id, status, model, endpoint, suite_id, suite_path, " \
	"suite_digest, config_json, harness_version, epochs, created_ms, " \
	"finished_ms, l.owner, l.machine, l.pid, l.pid_start, l.expires_ms, " \
	"executor"
#define RUN_FROM " FROM runs LEFT JOIN leases l ON l.scope='run' AND " \
	"l.ref=runs.id"

static void run_from_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_run *r = rec;

	r->id = store_db_col_int64(s, 0);
	r->status = store_sq_col_text(s, 1);
	r->model = store_sq_col_text(s, 2);
	r->endpoint = store_sq_col_text(s, 3);
	r->suite_id = store_sq_col_text(s, 4);
	r->suite_path = store_sq_col_text(s, 5);
	r->suite_digest = store_sq_col_text(s, 6);
	r->config_json = store_sq_col_text(s, 7);
	r->harness_version = store_sq_col_text(s, 8);
	r->epochs = store_db_col_int(s, 9);
	r->created_ms = store_db_col_int64(s, 10);
	r->finished_ms = store_db_col_int64(s, 11);
	r->orphaned = r->status && !strcmp(r->status, "running") &&
		      (store_db_col_null(s, 12) ||
		       store_sq_lease_dead(st, store_db_col_text(s, 13),
					   store_db_col_int(s, 14),
					   store_db_col_int64(s, 15),
					   store_db_col_int64(s, 16)));
	r->executor = store_sq_col_text(s, 17);
}

static void run_clear(void *rec)
{
	store_run_release(rec);
}

static const struct store_rowtype run_rows = {
	"run", "list runs", sizeof(struct store_run), run_from_row, run_clear,
};

enum err store_run_get(struct store *st, int64_t run_id, struct store_run *out,
		       struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT " RUN_COLS RUN_FROM " WHERE id=?", &s, e);
	int r;

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	r = store_db_step(s);
	if (r == DB_ROW)
		run_from_row(st, s, out);
	else if (r == DB_DONE)
		rc = err_set(e, ERR_NOTFOUND, "no run %lld in '%s'",
			     (long long)run_id, st->path);
	else
		rc = store_sq_fail(st, e, "read run");
	store_db_finalize(s);
	return rc;
}

enum err store_run_list(struct store *st, struct store_run **runs_out,
			size_t *n_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT " RUN_COLS RUN_FROM " ORDER BY id", &s, e);

	if (rc)
		return rc;
	return store_sq_list_rows(st, s, &run_rows, (void **)runs_out, n_out, e);
}

void store_run_release(struct store_run *r)
{
	free(r->status); free(r->model); free(r->endpoint); free(r->suite_id);
	free(r->suite_path); free(r->suite_digest); free(r->config_json);
	free(r->harness_version); free(r->executor);
	memset(r, 0, sizeof(*r));
}

void store_runs_free(struct store_run *r, size_t n)
{
	store_sq_free_rows(&run_rows, r, n);
}

/* --- tasks ------------------------------------------------------- */

enum err store_task_add(struct store *st, int64_t run_id,
			const struct store_task *t, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st,
		"INSERT INTO run_tasks(run_id, task_id, "
		"category, difficulty, expert_minutes, tags, attack, "
		"n_answers, digest, limit_tokens) "
		"VALUES(?,?,?,?,?,?,?,?,?,?) "
		"ON CONFLICT(run_id, task_id) DO UPDATE SET "
		"category=excluded.category, "
		"difficulty=excluded.difficulty, "
		"expert_minutes=excluded.expert_minutes, "
		"tags=excluded.tags, attack=excluded.attack, "
		"n_answers=excluded.n_answers, digest=excluded.digest, "
		"limit_tokens=excluded.limit_tokens",
		&s, e);
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	store_db_bind_text(s, 2, t->task_id);
	store_db_bind_text(s, 3, t->category);
	store_db_bind_int64(s, 4, t->difficulty);
	store_db_bind_double(s, 5, t->expert_minutes);
	store_db_bind_text(s, 6, t->tags);
	store_db_bind_text(s, 7, t->attack);
	store_db_bind_int64(s, 8, t->n_answers);
	store_db_bind_text(s, 9, t->digest);
	store_db_bind_int64(s, 10, t->limit_tokens);
	return store_sq_step_done(st, s, "insert task", e);
}

static void task_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_task *t = rec;

	(void)st;
	t->task_id = store_sq_col_text(s, 0);
	t->category = store_sq_col_text(s, 1);
	t->difficulty = store_db_col_int(s, 2);
	t->expert_minutes = store_db_col_double(s, 3);
	t->tags = store_sq_col_text(s, 4);
	t->attack = store_sq_col_text(s, 5);
	t->n_answers = store_db_col_int(s, 6);
	t->digest = store_sq_col_text(s, 7);
	t->limit_tokens = store_db_col_int64(s, 8);
}

static void task_clear(void *rec)
{
	struct store_task *t = rec;

	free(t->task_id); free(t->category); free(t->tags);
	free(t->attack); free(t->digest);
}

static const struct store_rowtype task_rows = {
	"task", "list tasks", sizeof(struct store_task), task_row, task_clear,
};

enum err store_task_list(struct store *st, int64_t run_id,
			 struct store_task **tasks_out, size_t *n_out,
			 struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT task_id, category, difficulty, "
			   "expert_minutes, tags, attack, n_answers, digest, "
			   "limit_tokens FROM run_tasks WHERE run_id=? "
			   "ORDER BY task_id", &s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	return store_sq_list_rows(st, s, &task_rows, (void **)tasks_out, n_out,
				  e);
}

void store_tasks_free(struct store_task *t, size_t n)
{
	store_sq_free_rows(&task_rows, t, n);
}
