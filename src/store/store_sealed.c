/*
 * store_sealed.c - sealed runs on workers (store.h, "Sealed runs on
 * workers"): the archive digest of a sealed run, the worker public keys
 * registered for it and the task keys wrapped to each. Only wrapped keys
 * (crypto_box_seal ciphertexts) and public keys are stored here.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/banned.h"

enum err store_run_set_sealed(struct store *st, int64_t run_id,
			      const char *archive_digest, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "UPDATE runs SET sealed_digest=? "
				    "WHERE id=?", &s, e);

	if (rc)
		return rc;
	store_db_bind_text(s, 1, archive_digest);
	store_db_bind_int64(s, 2, run_id);
	return store_sq_step_done(st, s, "mark the run sealed", e);
}

enum err store_run_sealed(struct store *st, int64_t run_id, char **digest_out,
			  struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT sealed_digest FROM runs "
				    "WHERE id=?", &s, e);

	*digest_out = NULL;
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	if ((rc = store_sq_step_one(st, s, "run", e)))
		return rc;
	*digest_out = store_sq_col_text(s, 0);
	store_db_finalize(s);
	return ERR_OK;
}

enum err store_worker_key_add(struct store *st, int64_t run_id,
			      const char *pubkey, struct errmsg *e)
{
	enum store_wkey_state was;
	struct db_stmt *s;
	enum err rc = store_worker_key_state(st, run_id, pubkey, &was, e);

	if (rc)
		return rc;
	if (was != STORE_WKEY_NONE)
		return err_set(e, ERR_INVAL, "worker key %.28s... is already "
			       "registered for run %lld", pubkey,
			       (long long)run_id);
	rc = store_sq_prep(st, "INSERT INTO run_worker_keys(run_id, pubkey, "
			   "added_ms) VALUES(?,?,?)", &s, e);
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	store_db_bind_text(s, 2, pubkey);
	store_db_bind_int64(s, 3, wall_ms());
	return store_sq_step_done(st, s, "register a worker key", e);
}

enum err store_wrapped_key_put(struct store *st, int64_t run_id,
			       const char *pubkey, int task_index,
			       const char *task_id, const char *wrapped_hex,
			       struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "INSERT INTO run_wrapped_keys(run_id, "
				    "pubkey, task_index, task_id, wrapped) "
				    "VALUES(?,?,?,?,?)", &s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	store_db_bind_text(s, 2, pubkey);
	store_db_bind_int64(s, 3, task_index);
	store_db_bind_text(s, 4, task_id);
	store_db_bind_text(s, 5, wrapped_hex);
	return store_sq_step_done(st, s, "store a wrapped task key", e);
}

enum err store_worker_key_state(struct store *st, int64_t run_id,
				const char *pubkey, enum store_wkey_state *out,
				struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT revoked_ms FROM run_worker_keys "
				    "WHERE run_id=? AND pubkey=?", &s, e);

	*out = STORE_WKEY_NONE;
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	store_db_bind_text(s, 2, pubkey);
	rc = store_sq_step_one(st, s, "worker key", e);
	if (rc == ERR_NOTFOUND)
		return ERR_OK;
	if (rc)
		return rc;
	*out = store_db_col_int64(s, 0) ? STORE_WKEY_REVOKED : STORE_WKEY_ACTIVE;
	store_db_finalize(s);
	return ERR_OK;
}

static void wrapped_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_wrapped *w = rec;

	(void)st;
	w->task_index = store_db_col_int(s, 0);
	w->task_id = store_sq_col_text(s, 1);
	w->wrapped_hex = store_sq_col_text(s, 2);
}

static void wrapped_clear(void *rec)
{
	struct store_wrapped *w = rec;

	free(w->task_id);
	free(w->wrapped_hex);
}

static const struct store_rowtype wrapped_rows = {
	"wrapped key", "read wrapped task keys", sizeof(struct store_wrapped),
	wrapped_row, wrapped_clear,
};

enum err store_wrapped_keys(struct store *st, int64_t run_id,
			    const char *pubkey, struct store_wrapped **out,
			    size_t *n_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT w.task_index, w.task_id, "
		"w.wrapped FROM run_wrapped_keys w JOIN run_worker_keys k ON "
		"k.run_id=w.run_id AND k.pubkey=w.pubkey WHERE w.run_id=? AND "
		"w.pubkey=? AND k.revoked_ms=0 ORDER BY w.task_index", &s, e);

	*out = NULL;
	*n_out = 0;
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	store_db_bind_text(s, 2, pubkey);
	return store_sq_list_rows(st, s, &wrapped_rows, (void **)out, n_out, e);
}

void store_wrapped_free(struct store_wrapped *w, size_t n)
{
	store_sq_free_rows(&wrapped_rows, w, n);
}

/* Revoke: the key's rows marked (for the runs given), its wrapped keys
 * deleted, in one group. */
static const char *const revoke_sql[] = {
	"UPDATE run_worker_keys SET revoked_ms=?1 WHERE pubkey=?2 AND"
	" revoked_ms=0 AND (?3=0 OR run_id=?3)",
	"DELETE FROM run_wrapped_keys WHERE pubkey=?1 AND (?2=0 OR run_id=?2)",
};

enum err store_worker_key_revoke(struct store *st, int64_t run_id,
				 const char *pubkey, int *n_out,
				 struct errmsg *e)
{
	bool own;
	enum err rc = store_sq_group_open(st, &own, e);

	*n_out = 0;
	for (size_t i = 0; i < ARRAY_SIZE(revoke_sql) && rc == ERR_OK; i++) {
		struct db_stmt *s;
		if ((rc = store_sq_prep(st, revoke_sql[i], &s, e)))
			break;
		int k = i == 0;    /* the UPDATE binds the time first */
		if (k)
			store_db_bind_int64(s, 1, wall_ms());
		store_db_bind_text(s, 1 + k, pubkey);
		store_db_bind_int64(s, 2 + k, run_id);
		rc = store_sq_step_done(st, s, "revoke a worker key", e);
		if (rc == ERR_OK && i == 0)
			*n_out = (int)store_db_changes(st->db);
	}
	return store_sq_group_close(st, own, rc, e);
}
