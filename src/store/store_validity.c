/*
 * store_validity.c - validity states of episodes and the review log of
 * evaluators' invalidations and re-scores (schema version 5;
 * docs/internals/store.md, "Validity").
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

void store_validity_of_class(const char *cls, const char **validity_out,
			     const char **cause_out)
{
	*cause_out = NULL;
	if (cls && (!strcmp(cls, "none") || !strcmp(cls, "model"))) {
		*validity_out = "valid";
		return;
	}
	*validity_out = "invalid";
	if (cls && !strcmp(cls, "agent-caused"))
		*cause_out = "agent-caused";
	else if (cls && !strcmp(cls, "task"))
		*cause_out = "task";
	else
		*cause_out = "infrastructure";
}

bool store_cause_known(const char *cause)
{
	static const char *const causes[] = {
		"infrastructure", "harness", "task", "agent-caused",
	};

	for (size_t i = 0; cause && i < ARRAY_SIZE(causes); i++)
		if (!strcmp(cause, causes[i]))
			return true;
	return false;
}

bool store_episode_counts(const struct store_episode *ep)
{
	const char *v = ep->validity, *c = ep->validity_cause;

	if (!ep->status || strcmp(ep->status, "done"))
		return false;
	if (!v)
		store_validity_of_class(ep->error_class, &v, &c);
	return !strcmp(v, "valid") ||
	       (!strcmp(v, "invalid") && c && !strcmp(c, "agent-caused"));
}

/* The episode's state before the review, checked to belong to the run. */
static enum err read_before(struct store *st, struct store_review *r,
			    struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st,
				    "SELECT status, validity, validity_cause, "
				    "score, run_id FROM episodes WHERE id=? "
				    "@FOR_UPDATE",
				    &s, e);
	char *status = NULL;
	int x;

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, r->episode_id);
	x = store_db_step(s);
	if (x == DB_ROW && store_db_col_int64(s, 4) == r->run_id) {
		status = store_sq_col_text(s, 0);
		r->validity_before = store_sq_col_text(s, 1);
		r->cause_before = store_sq_col_text(s, 2);
		r->score_before = store_db_col_int(s, 3);
	} else if (x == DB_ROW || x == DB_DONE) {
		rc = err_set(e, ERR_NOTFOUND, "run %lld has no episode %lld",
			     (long long)r->run_id, (long long)r->episode_id);
	} else {
		rc = store_sq_fail(st, e, "read episode");
	}
	store_db_finalize(s);
	if (!rc && (!status || (strcmp(status, "done") &&
				strcmp(status, "interrupted"))))
		rc = err_set(e, ERR_INVAL, "episode %lld is %s, not finished: "
			     "only a finished episode can be reviewed",
			     (long long)r->episode_id, status ? status : "?");
	free(status);
	return rc;
}

static enum err next_seq(struct store *st, struct store_review *r,
			 struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "SELECT COALESCE(MAX(seq), 0) + 1 FROM "
				    "episode_reviews WHERE episode_id=?", &s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, r->episode_id);
	if (store_db_step(s) == DB_ROW)
		r->seq = store_db_col_int(s, 0);
	else
		rc = store_sq_fail(st, e, "number the review");
	store_db_finalize(s);
	return rc;
}

static enum err update_episode(struct store *st, const struct store_review *r,
			       struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, "UPDATE episodes SET validity=?, "
				    "validity_cause=?, score=? WHERE id=?", &s, e);

	if (rc)
		return rc;
	store_db_bind_text(s, 1, r->validity_after);
	store_db_bind_text(s, 2, r->cause_after);
	store_db_bind_int64(s, 3, r->score_after);
	store_db_bind_int64(s, 4, r->episode_id);
	return store_sq_step_done(st, s, "update episode validity", e);
}

static enum err insert_review(struct store *st, const struct store_review *r,
			      struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st,
		"INSERT INTO episode_reviews(episode_id, "
		"seq, run_id, action, validity_before, cause_before, "
		"score_before, validity_after, cause_after, score_after, reason, "
		"reviewer, at_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
		&s, e);
	int i = 1;

	if (rc)
		return rc;
	store_db_bind_int64(s, i++, r->episode_id);
	store_db_bind_int64(s, i++, r->seq);
	store_db_bind_int64(s, i++, r->run_id);
	store_db_bind_text(s, i++, r->action);
	store_db_bind_text(s, i++, r->validity_before);
	store_db_bind_text(s, i++, r->cause_before);
	store_db_bind_int64(s, i++, r->score_before);
	store_db_bind_text(s, i++, r->validity_after);
	store_db_bind_text(s, i++, r->cause_after);
	store_db_bind_int64(s, i++, r->score_after);
	store_db_bind_text(s, i++, r->reason);
	store_db_bind_text(s, i++, r->reviewer);
	store_db_bind_int64(s, i++, r->at_ms);
	return store_sq_step_done(st, s, "insert review", e);
}

enum err store_review_apply(struct store *st, struct store_review *r,
			    struct errmsg *e)
{
	enum err rc;

	if (!r->reason || !*r->reason || !r->action || !r->validity_after)
		return err_set(e, ERR_INVAL, "a review needs an action, a "
			       "validity and a reason");
	/* read, decide and write in one group, the episode's row locked */
	if ((rc = store_tx_begin(st, e)))
		return rc;
	if ((rc = store_sq_write(st, e))) {
		store_tx_rollback(st);
		return rc;
	}
	r->at_ms = wall_ms();
	rc = read_before(st, r, e);
	if (!rc && r->score_after < 0)
		r->score_after = r->score_before;
	if (!rc)
		rc = next_seq(st, r, e);
	if (!rc)
		rc = update_episode(st, r, e);
	if (!rc)
		rc = insert_review(st, r, e);
	if (!rc)
		return store_tx_commit(st, e);
	store_tx_rollback(st);
	return rc;
}

static void review_from_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_review *r = rec;
	int i = 0;

	(void)st;
	r->episode_id = store_db_col_int64(s, i++);
	r->seq = store_db_col_int(s, i++);
	r->run_id = store_db_col_int64(s, i++);
	r->action = store_sq_col_text(s, i++);
	r->validity_before = store_sq_col_text(s, i++);
	r->cause_before = store_sq_col_text(s, i++);
	r->score_before = store_db_col_int(s, i++);
	r->validity_after = store_sq_col_text(s, i++);
	r->cause_after = store_sq_col_text(s, i++);
	r->score_after = store_db_col_int(s, i++);
	r->reason = store_sq_col_text(s, i++);
	r->reviewer = store_sq_col_text(s, i++);
	r->at_ms = store_db_col_int64(s, i++);
}

static void review_clear(void *rec)
{
	store_review_release(rec);
}

static const struct store_rowtype review_rows = {
	"review", "list reviews", sizeof(struct store_review),
	review_from_row, review_clear,
};

enum err store_review_list(struct store *st, int64_t run_id,
			   struct store_review **rs_out, size_t *n_out,
			   struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(
		st,
		"SELECT episode_id, seq, run_id, action, "
		"validity_before, cause_before, score_before, validity_after, "
		"cause_after, score_after, reason, reviewer, at_ms FROM "
		"episode_reviews WHERE run_id=? ORDER BY at_ms, episode_id, seq",
		&s, e);

	if (rc)
		return rc;
	store_db_bind_int64(s, 1, run_id);
	return store_sq_list_rows(st, s, &review_rows, (void **)rs_out, n_out, e);
}

void store_review_release(struct store_review *r)
{
	free(r->action); free(r->validity_before); free(r->cause_before);
	free(r->validity_after); free(r->cause_after);
	free(r->reason); free(r->reviewer);
	memset(r, 0, sizeof(*r));
}

void store_reviews_free(struct store_review *rs, size_t n)
{
	store_sq_free_rows(&review_rows, rs, n);
}
