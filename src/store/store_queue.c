/*
 * store_queue.c - the queue of episodes that workers claim (store.h, "The
 * queue"), in portable SQL: on PostgreSQL a claim skips the rows another
 * worker's claim holds locked, on SQLite the write lock serialises claims.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

enum err store_worker_register(struct store *st, const char *name, int slots,
			       const char *pubkey, int64_t ttl_ms,
			       int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc;

	(void)store_owner(st);         /* the identity, for the row */
	rc = store_sq_prep(st, "INSERT INTO workers(name, owner, host, slots, "
			   "started_ms, pubkey) VALUES(?,?,?,?,?,?) RETURNING id",
			   &s, e);
	if (rc)
		return rc;
	store_db_bind_text(s, 1, name);
	store_db_bind_text(s, 2, st->owner);
	store_db_bind_text(s, 3, st->host);
	store_db_bind_int64(s, 4, slots);
	store_db_bind_int64(s, 5, wall_ms());
	store_db_bind_text(s, 6, pubkey);
	if ((rc = store_sq_insert_id(st, s, "register worker", id_out, e)))
		return rc;
	return store_lease_take(st, "worker", *id_out, ttl_ms, NULL, e);
}

enum err store_worker_stop(struct store *st, int64_t worker_id,
			   struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st, "UPDATE workers SET stopped_ms=? WHERE id=?", &s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, wall_ms());
	store_db_bind_int64(s, 2, worker_id);
	return store_sq_step_done(st, s, "stop worker", e);
}

enum err store_run_set_executor(struct store *st, int64_t run_id,
				const char *executor, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "UPDATE runs SET executor=? WHERE id=?", &s, e);

	if (rc)
		return rc;
	store_db_bind_text(s, 1, executor);
	store_db_bind_int64(s, 2, run_id);
	return store_sq_step_done(st, s, "set executor", e);
}

enum err store_queue_add(struct store *st, int64_t run_id, const char *task_id,
			 int epoch, int attempt, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep_pending(st, false, run_id, task_id, epoch,
					    attempt, &s, e);

	return rc ? rc : store_sq_step_done(st, s, "queue episode", e);
}

/* A worker (?1) may claim from a run (?3) that is not sealed, or for
 * which its public key is registered and not revoked (store_sealed.c). */
#define MAY_CLAIM \
	" ((SELECT sealed_digest FROM runs WHERE id=?3) IS NULL OR EXISTS" \
	" (SELECT 1 FROM run_worker_keys k JOIN workers w ON w.pubkey=k.pubkey" \
	" WHERE w.id=?1 AND k.run_id=?3 AND k.revoked_ms=0))"

/* Pending rows become this worker's in one statement; the subquery's row
 * locks (PostgreSQL) skip what another claim holds. */
static const char claim_sql[] =
	"UPDATE episodes SET status='running', worker=?1, started_ms=?2"
	" WHERE id IN (SELECT id FROM episodes WHERE run_id=?3 AND"
	" status='pending' AND (SELECT status FROM runs WHERE id=?3)='queued'"
	" AND" MAY_CLAIM
	" ORDER BY id LIMIT ?4 @SKIP_LOCKED)"
	" RETURNING id, task_id, epoch, attempt,"
	" (SELECT COUNT(*) FROM episodes f WHERE f.run_id=episodes.run_id"
	"  AND f.task_id=episodes.task_id AND f.epoch=episodes.epoch"
	"  AND f.outcome='infra-error')";

static void claim_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_claim *c = rec;

	(void)st;
	c->ep_id = store_db_col_int64(s, 0);
	c->task_id = store_sq_col_text(s, 1);
	c->epoch = store_db_col_int(s, 2);
	c->attempt = store_db_col_int(s, 3);
	c->failures = store_db_col_int(s, 4);
}

static void claim_clear(void *rec)
{
	free(((struct store_claim *)rec)->task_id);
}

static const struct store_rowtype claim_rows = {
	"claim", "claim episodes", sizeof(struct store_claim), claim_row,
	claim_clear,
};

enum err store_queue_claim(struct store *st, int64_t run_id,
			   int64_t worker_id, int max,
			   struct store_claim **claims_out, size_t *n_out,
			   struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, claim_sql, &s, e);

	*claims_out = NULL;
	*n_out = 0;
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, worker_id);
	store_db_bind_int64(s, 2, wall_ms());
	store_db_bind_int64(s, 3, run_id);
	store_db_bind_int64(s, 4, max);
	return store_sq_list_rows(st, s, &claim_rows, (void **)claims_out, n_out,
				  e);
}

void store_claims_free(struct store_claim *c, size_t n)
{
	store_sq_free_rows(&claim_rows, c, n);
}

enum err store_queue_next_run(struct store *st, int64_t worker_id,
			      int64_t *run_id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc =
		store_sq_prep(st,
			      "SELECT MIN(e.run_id) FROM episodes e JOIN "
			      "runs r ON r.id=e.run_id WHERE r.status='queued' "
			      "AND e.status='pending' AND (r.sealed_digest IS NULL "
			      "OR EXISTS (SELECT 1 FROM run_worker_keys k JOIN "
			      "workers w ON w.pubkey=k.pubkey WHERE w.id=?1 AND "
			      "k.run_id=r.id AND k.revoked_ms=0))",
			      &s, e);

	*run_id_out = 0;
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, worker_id);
	if (store_db_step(s) == DB_ROW)
		*run_id_out = store_db_col_int64(s, 0);
	else
		rc = store_sq_fail(st, e, "find a queued run");
	store_db_finalize(s);
	return rc;
}

enum err store_queue_counts(struct store *st, int64_t run_id, int *pending,
			    int *running, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT"
		" COALESCE(SUM(CASE WHEN status='pending' THEN 1 ELSE 0 END), 0),"
		" COALESCE(SUM(CASE WHEN status='running' THEN 1 ELSE 0 END), 0)"
		" FROM episodes WHERE run_id=?", &s, e);

	*pending = *running = 0;
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	if (store_db_step(s) == DB_ROW) {
		*pending = store_db_col_int(s, 0);
		*running = store_db_col_int(s, 1);
	} else {
		rc = store_sq_fail(st, e, "count the queue");
	}
	store_db_finalize(s);
	return rc;
}

/* The workers whose lease row is dead, locked. The row of a live worker
 * is locked by its own open group while it writes, so it is skipped
 * (never read as dead in the middle of a write); a worker cut off inside
 * a group holds that lock until the server ends its session (the idle-in-
 * transaction timeout, store_db_pg.c), and is reaped at a later pass. */
static enum err dead_workers(struct store *st, int64_t **ids_out, size_t *n_out,
			     struct errmsg *e)
{
	struct db_stmt *s;
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	*ids_out = NULL;
	*n_out = 0;
	if (store_db_prepare(st->db, "SELECT ref, machine, pid, pid_start, expires_ms "
			     "FROM leases WHERE scope='worker' ORDER BY ref @SKIP_LOCKED",
			     0, &s) != DB_DONE)
		return store_sq_fail(st, e, "read worker leases");
	while ((r = store_db_step(s)) == DB_ROW)
		if (store_sq_lease_dead(st, store_db_col_text(s, 1),
					store_db_col_int(s, 2),
					store_db_col_int64(s, 3),
					store_db_col_int64(s, 4))) {
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			v[n++] = store_db_col_int64(s, 0);
		}
	store_db_finalize(s);
	if (r != DB_DONE) {
		free(v);
		return store_sq_fail(st, e, "read worker leases");
	}
	*ids_out = v;
	*n_out = n;
	return ERR_OK;
}

static const char *const reap_sql[] = {
	/* the next attempt of every attempt the worker was running */
	"INSERT INTO episodes(run_id, task_id, epoch, attempt, status)"
	" SELECT run_id, task_id, epoch, attempt + 1, 'pending' FROM episodes"
	" WHERE worker=? AND status='running'",
	"UPDATE episodes SET status='interrupted', outcome='infra-interrupted',"
	" error_class='infra', error='its worker lost its lease (dead, or cut"
	" off from the store) while this episode ran' WHERE worker=? AND"
	" status='running'",
	"DELETE FROM leases WHERE scope='worker' AND ref=?",
	"UPDATE workers SET stopped_ms=? WHERE id=? AND stopped_ms=0",
};

static enum err reap_one(struct store *st, int64_t wid, int *n,
			 struct errmsg *e)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < ARRAY_SIZE(reap_sql) && !rc; i++) {
		struct db_stmt *s;
		if ((rc = store_sq_prep(st, reap_sql[i], &s, e)))
			break;
		if (i == 3) {
			store_db_bind_int64(s, 1, wall_ms());
			store_db_bind_int64(s, 2, wid);
		} else {
			store_db_bind_int64(s, 1, wid);
		}
		rc = store_sq_step_done(st, s, "reap a dead worker", e);
		if (!rc && i == 1)
			*n += (int)store_db_changes(st->db);
	}
	return rc;
}

enum err store_queue_reap(struct store *st, int *n_out, struct errmsg *e)
{
	bool own;
	int64_t *ids = NULL;
	size_t n = 0;
	enum err rc;

	*n_out = 0;
	/* one group: the locks hold to its end */
	rc = store_sq_group_open(st, &own, e);
	if (rc == ERR_OK)
		rc = dead_workers(st, &ids, &n, e);
	for (size_t i = 0; i < n && rc == ERR_OK; i++)
		rc = reap_one(st, ids[i], n_out, e);
	free(ids);
	return store_sq_group_close(st, own, rc, e);
}
