/*
 * store_exposure.c - the exposure ledger.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

enum err store_exposure_add(struct store *st, const struct store_exposure *x,
			    struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = sq_prep(st, "INSERT INTO exposure(task_id, task_digest, "
			      "suite_id, developer, model, endpoint, run_id, "
			      "first_ms) VALUES(?,?,?,?,?,?,?,?) "
			      "ON CONFLICT DO NOTHING", &s, e);
	if (rc)
		return rc;
	db_bind_text(s, 1, x->task_id);
	db_bind_text(s, 2, x->task_digest);
	db_bind_text(s, 3, x->suite_id);
	db_bind_text(s, 4, x->developer);
	db_bind_text(s, 5, x->model);
	db_bind_text(s, 6, x->endpoint);
	db_bind_int64(s, 7, x->run_id);
	db_bind_int64(s, 8, x->first_ms);
	return sq_step_done(st, s, "record exposure", e);
}

enum err store_exposure_list(struct store *st, const char *developer,
			     struct store_exposure **xs_out, size_t *n_out,
			     struct errmsg *e)
{
	struct store_exposure *v = NULL;
	size_t n = 0, cap = 0;
	struct db_stmt *s;
	enum err rc = sq_prep(st, "SELECT task_id, task_digest, suite_id, "
			      "developer, model, endpoint, run_id, first_ms FROM "
			      "exposure WHERE ?1 IS NULL OR developer=?1 "
			      "ORDER BY task_id, first_ms", &s, e);
	int r;

	if (rc)
		return rc;
	db_bind_text(s, 1, developer);
	while ((r = db_step(s)) == DB_ROW) {
		struct store_exposure *x;
		v = xgrow(v, &cap, n + 1, sizeof(*v));
		x = &v[n++];
		x->task_id = sq_col_text(s, 0);
		x->task_digest = sq_col_text(s, 1);
		x->suite_id = sq_col_text(s, 2);
		x->developer = sq_col_text(s, 3);
		x->model = sq_col_text(s, 4);
		x->endpoint = sq_col_text(s, 5);
		x->run_id = db_col_int64(s, 6);
		x->first_ms = db_col_int64(s, 7);
	}
	if (r != DB_DONE)
		rc = sq_fail(st, e, "list exposure");
	db_finalize(s);
	if (rc) {
		store_exposures_free(v, n);
		return rc;
	}
	*xs_out = v;
	*n_out = n;
	return ERR_OK;
}

void store_exposures_free(struct store_exposure *xs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(xs[i].task_id); free(xs[i].task_digest); free(xs[i].suite_id);
		free(xs[i].developer); free(xs[i].model); free(xs[i].endpoint);
	}
	free(xs);
}
