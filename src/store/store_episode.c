/*
 * store_episode.c - episodes and events (continues store_sqlite.c; shares
 * its struct through store_int.h; portable SQL over store_db.h).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

#define INSERT_PENDING "INSERT INTO episodes(run_id, task_id, epoch, " \
	"attempt, status) VALUES(?,?,?,?,'pending')"

enum err store_sq_prep_pending(struct store *st, bool returning_id,
			       int64_t run_id, const char *task_id, int epoch,
			       int attempt, struct db_stmt **s,
			       struct errmsg *e)
{
	enum err rc = store_sq_prep(st, returning_id ?
				    INSERT_PENDING " RETURNING id" :
				    INSERT_PENDING, s, e);
	if (rc)
		return rc;
	store_db_bind_int64(*s, 1, run_id);
	store_db_bind_text(*s, 2, task_id);
	store_db_bind_int64(*s, 3, epoch);
	store_db_bind_int64(*s, 4, attempt);
	return ERR_OK;
}

enum err store_episode_create(struct store *st, int64_t run_id,
			      const char *task_id, int epoch, int attempt,
			      int64_t *id_out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep_pending(st, true, run_id, task_id, epoch,
					    attempt, &s, e);

	return rc ? rc : store_sq_insert_id(st, s, "insert episode", id_out, e);
}

enum err store_episode_start(struct store *st, int64_t ep_id,
			     int64_t started_ms, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "UPDATE episodes SET status='running', "
				    "started_ms=? WHERE id=?", &s, e);
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, started_ms);
	store_db_bind_int64(s, 2, ep_id);
	return store_sq_step_done(st, s, "start episode", e);
}

enum err store_episode_finish(struct store *st, const struct store_episode *ep,
			      struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st,
		"UPDATE episodes SET status=?, outcome=?, "
		"error_class=?, error=?, score=?, flag_ok=?, check_ok=?, "
		"has_flag=?, has_check=?, answers_ok=?, answers_total=?, "
		"turns=?, prompt_tokens=?, completion_tokens=?, cached_tokens=?, "
		"cost_usd=?, finished_ms=?, wall_ms=?, working_ms=?, "
		"model_calls=?, tool_calls=?, infra_retries=?, validity=?, "
		"validity_cause=? WHERE id=?",
		&s, e);
	const char *validity = ep->validity, *cause = ep->validity_cause;
	int i = 1;

	if (rc)
		return rc;
	if (!validity)
		store_validity_of_class(ep->error_class, &validity, &cause);
	store_db_bind_text(s, i++, ep->status);
	store_db_bind_text(s, i++, ep->outcome);
	store_db_bind_text(s, i++, ep->error_class);
	store_db_bind_text(s, i++, ep->error);
	store_db_bind_int64(s, i++, ep->score);
	store_db_bind_int64(s, i++, ep->flag_ok);
	store_db_bind_int64(s, i++, ep->check_ok);
	store_db_bind_int64(s, i++, ep->has_flag);
	store_db_bind_int64(s, i++, ep->has_check);
	store_db_bind_int64(s, i++, ep->answers_ok);
	store_db_bind_int64(s, i++, ep->answers_total);
	store_db_bind_int64(s, i++, ep->turns);
	store_db_bind_int64(s, i++, ep->prompt_tokens);
	store_db_bind_int64(s, i++, ep->completion_tokens);
	store_db_bind_int64(s, i++, ep->cached_tokens);
	store_db_bind_double(s, i++, ep->cost_usd);
	store_db_bind_int64(s, i++, ep->finished_ms);
	store_db_bind_int64(s, i++, ep->wall_ms);
	store_db_bind_int64(s, i++, ep->working_ms);
	store_db_bind_int64(s, i++, ep->model_calls);
	store_db_bind_int64(s, i++, ep->tool_calls);
	store_db_bind_int64(s, i++, ep->infra_retries);
	store_db_bind_text(s, i++, validity);
	store_db_bind_text(s, i++, cause);
	store_db_bind_int64(s, i++, ep->id);
	return store_sq_step_done(st, s, "finish episode", e);
}

#define EP_COLS "id, run_id, task_id, epoch, attempt, status, outcome, " \
	"error_class, error, score, flag_ok, check_ok, has_flag, has_check, " \
	"answers_ok, answers_total, turns, prompt_tokens, completion_tokens, " \
	"cached_tokens, cost_usd, started_ms, finished_ms, wall_ms, " \
	"working_ms, model_calls, tool_calls, infra_retries, validity, " \
	"validity_cause"

static void ep_from_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_episode *ep = rec;
	int i = 0;

	(void)st;
	ep->id = store_db_col_int64(s, i++);
	ep->run_id = store_db_col_int64(s, i++);
	ep->task_id = store_sq_col_text(s, i++);
	ep->epoch = store_db_col_int(s, i++);
	ep->attempt = store_db_col_int(s, i++);
	ep->status = store_sq_col_text(s, i++);
	ep->outcome = store_sq_col_text(s, i++);
	ep->error_class = store_sq_col_text(s, i++);
	ep->error = store_sq_col_text(s, i++);
	ep->score = store_db_col_int(s, i++);
	ep->flag_ok = store_db_col_int(s, i++);
	ep->check_ok = store_db_col_int(s, i++);
	ep->has_flag = store_db_col_int(s, i++);
	ep->has_check = store_db_col_int(s, i++);
	ep->answers_ok = store_db_col_int(s, i++);
	ep->answers_total = store_db_col_int(s, i++);
	ep->turns = store_db_col_int(s, i++);
	ep->prompt_tokens = store_db_col_int64(s, i++);
	ep->completion_tokens = store_db_col_int64(s, i++);
	ep->cached_tokens = store_db_col_int64(s, i++);
	ep->cost_usd = store_db_col_double(s, i++);
	ep->started_ms = store_db_col_int64(s, i++);
	ep->finished_ms = store_db_col_int64(s, i++);
	ep->wall_ms = store_db_col_int64(s, i++);
	ep->working_ms = store_db_col_int64(s, i++);
	ep->model_calls = store_db_col_int(s, i++);
	ep->tool_calls = store_db_col_int(s, i++);
	ep->infra_retries = store_db_col_int(s, i++);
	ep->validity = store_sq_col_text(s, i++);
	ep->validity_cause = store_sq_col_text(s, i++);
}

static void ep_clear(void *rec)
{
	store_episode_release(rec);
}

static const struct store_rowtype episode_rows = {
	"episode", "list episodes", sizeof(struct store_episode), ep_from_row,
	ep_clear,
};

enum err store_episode_list(struct store *st, int64_t run_id,
			    struct store_episode **eps_out, size_t *n_out,
			    struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st,
				    "SELECT " EP_COLS " FROM episodes WHERE "
				    "run_id=? ORDER BY task_id, epoch, attempt",
				    &s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	return store_sq_list_rows(st, s, &episode_rows, (void **)eps_out, n_out,
				  e);
}

enum err store_episode_get(struct store *st, int64_t ep_id,
			   struct store_episode *out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st, "SELECT " EP_COLS " FROM episodes WHERE id=?", &s, e);
	int r;

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, ep_id);
	r = store_db_step(s);
	if (r == DB_ROW)
		ep_from_row(st, s, out);
	else if (r == DB_DONE)
		rc = err_set(e, ERR_NOTFOUND, "no episode %lld",
			     (long long)ep_id);
	else
		rc = store_sq_fail(st, e, "read episode");
	store_db_finalize(s);
	return rc;
}

void store_episode_release(struct store_episode *ep)
{
	free(ep->task_id); free(ep->status); free(ep->outcome);
	free(ep->error_class); free(ep->error);
	free(ep->validity); free(ep->validity_cause);
	memset(ep, 0, sizeof(*ep));
}

void store_episodes_free(struct store_episode *eps, size_t n)
{
	store_sq_free_rows(&episode_rows, eps, n);
}

enum err store_mark_interrupted(struct store *st, int64_t run_id, int *n_out,
				struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st,
		"UPDATE episodes SET status='interrupted', "
		"outcome='infra-interrupted', error_class='infra', "
		"validity='invalid', validity_cause='infrastructure', "
		"error='the harness stopped while this episode ran' "
		"WHERE run_id=? AND status IN ('running','pending')",
		&s, e);
	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	rc = store_sq_step_done(st, s, "mark interrupted", e);
	if (rc == ERR_OK && n_out)
		*n_out = (int)store_db_changes(st->db);
	return rc;
}

void store_set_codec(struct store *st, const struct store_codec *codec)
{
	memset(&st->codec, 0, sizeof(st->codec));
	if (codec)
		st->codec = *codec;
}

static void row_ad(char *ad, size_t n, int64_t ep_id, int seq)
{
	snprintf(ad, n, "episode:%lld:seq:%d", (long long)ep_id, seq);
}

enum err store_event_add(struct store *st, int64_t ep_id, int seq,
			 const char *kind, const char *data, struct errmsg *e)
{
	struct db_stmt *s;
	char ad[64], *sealed = NULL;
	enum err rc = ERR_OK;
	int r;

	if (!st->ins_event &&
	    store_db_prepare(st->db,
			     "INSERT INTO events(episode_id, seq, kind, "
			     "at_ms, data) VALUES(?,?,?,?,?)",
			     DB_PERSISTENT, &st->ins_event) != DB_DONE)
		return store_sq_fail(st, e, "prepare");
	if ((rc = store_sq_write(st, e)))
		return rc;
	s = st->ins_event;
	if (st->codec.seal && data) {
		row_ad(ad, sizeof(ad), ep_id, seq);
		data = sealed = st->codec.seal(st->codec.arg, ad, data);
	}
	store_db_bind_int64(s, 1, ep_id);
	store_db_bind_int64(s, 2, seq);
	store_db_bind_text(s, 3, kind);
	store_db_bind_int64(s, 4, wall_ms());
	store_db_bind_text(s, 5, data);
	r = store_db_step(s);
	if (r != DB_DONE)
		rc = store_sq_fail(st, e, "insert event");
	store_db_reset(s);
	free(sealed);
	return rc;
}

static void event_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_event *ev = rec;

	(void)st;
	ev->seq = store_db_col_int(s, 0);
	ev->kind = store_sq_col_text(s, 1);
	ev->at_ms = store_db_col_int64(s, 2);
	ev->data = store_sq_col_text(s, 3);
}

static void event_clear(void *rec)
{
	struct store_event *ev = rec;

	free(ev->kind);
	free(ev->data);
}

static const struct store_rowtype event_rows = {
	"event", "list events", sizeof(struct store_event), event_row,
	event_clear,
};

static enum err open_row(struct store *st, int64_t ep_id,
			 struct store_event *ev, struct errmsg *e)
{
	char ad[64], *plain;
	enum err rc;

	if (!st->codec.open || !ev->data)
		return ERR_OK;
	row_ad(ad, sizeof(ad), ep_id, ev->seq);
	rc = st->codec.open(st->codec.arg, ad, ev->data, &plain, e);
	if (rc)
		return rc;
	free(ev->data);
	ev->data = plain;
	return ERR_OK;
}

enum err store_event_list(struct store *st, int64_t ep_id,
			  struct store_event **evs_out, size_t *n_out,
			  struct errmsg *e)
{
	struct store_event *v;
	size_t n;
	struct db_stmt *s;
	enum err rc = store_sq_prep(st,
				    "SELECT seq, kind, at_ms, data FROM events "
				    "WHERE episode_id=? ORDER BY seq",
				    &s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, ep_id);
	rc = store_sq_list_rows(st, s, &event_rows, (void **)&v, &n, e);
	for (size_t i = 0; !rc && i < n; i++)
		rc = open_row(st, ep_id, &v[i], e);
	if (rc) {
		store_events_free(v, n);
		return rc;
	}
	*evs_out = v;
	*n_out = n;
	return ERR_OK;
}

void store_events_free(struct store_event *ev, size_t n)
{
	store_sq_free_rows(&event_rows, ev, n);
}

/* Every pair of the run with its count of scored attempts and the status
 * of its last attempt, summed by final state. */
static const char pairs_sql[] =
	"WITH RECURSIVE ep(n) AS ("
	" SELECT 1 WHERE (SELECT epochs FROM runs WHERE id=?1) >= 1"
	" UNION ALL SELECT n + 1 FROM ep"
	" WHERE n < (SELECT epochs FROM runs WHERE id=?1)),"
	"pairs AS (SELECT t.task_id, ep.n AS epoch FROM run_tasks t, ep"
	" WHERE t.run_id=?1),"
	"st AS (SELECT"
	" (SELECT COUNT(*) FROM episodes e WHERE e.run_id=?1"
	"  AND e.task_id=p.task_id AND e.epoch=p.epoch AND e.status='done'"
	"  AND (e.validity='valid' OR (e.validity='invalid'"
	"  AND e.validity_cause='agent-caused'))) AS ns,"
	" (SELECT e.status FROM episodes e WHERE e.run_id=?1"
	"  AND e.task_id=p.task_id AND e.epoch=p.epoch"
	"  ORDER BY e.attempt DESC LIMIT 1) AS last,"
	" (SELECT COALESCE(e.validity_cause, e.validity) FROM episodes e"
	"  WHERE e.run_id=?1 AND e.task_id=p.task_id AND e.epoch=p.epoch"
	"  ORDER BY e.attempt DESC LIMIT 1) AS why"
	" FROM pairs p)"
	"SELECT COUNT(*), COALESCE(SUM(CASE WHEN ns > 0 THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN ns = 0 AND"
	"  last IN ('interrupted','running','pending') THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN ns = 0 AND last = 'done'"
	"  AND why = 'infrastructure' THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN ns = 0 AND last IS NULL THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN ns > 1 THEN ns - 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN ns = 0 AND last = 'done'"
	"  AND why <> 'infrastructure' THEN 1 ELSE 0 END), 0) FROM st";

enum err store_run_pairs(struct store *st, int64_t run_id,
			 struct store_pairs *out, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, pairs_sql, &s, e);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	store_db_bind_int64(s, 1, run_id);
	if (store_db_step(s) != DB_ROW) {
		rc = store_sq_fail(st, e, "count the run's pairs");
	} else {
		out->total = store_db_col_int(s, 0);
		out->scored = store_db_col_int(s, 1);
		out->cut_off = store_db_col_int(s, 2);
		out->failed_infra = store_db_col_int(s, 3);
		out->unstarted = store_db_col_int(s, 4);
		out->extra_scored = store_db_col_int(s, 5);
		out->invalidated = store_db_col_int(s, 6);
	}
	store_db_finalize(s);
	return rc;
}
