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
	enum err rc =
		store_sq_prep(st,
			      "INSERT INTO exposure(task_id, task_digest, "
			      "suite_id, developer, model, endpoint, run_id, "
			      "first_ms) VALUES(?,?,?,?,?,?,?,?) "
			      "ON CONFLICT DO NOTHING",
			      &s, e);
	if (rc)
		return rc;
	store_db_bind_text(s, 1, x->task_id);
	store_db_bind_text(s, 2, x->task_digest);
	store_db_bind_text(s, 3, x->suite_id);
	store_db_bind_text(s, 4, x->developer);
	store_db_bind_text(s, 5, x->model);
	store_db_bind_text(s, 6, x->endpoint);
	store_db_bind_int64(s, 7, x->run_id);
	store_db_bind_int64(s, 8, x->first_ms);
	return store_sq_step_done(st, s, "record exposure", e);
}

static void exposure_row(struct store *st, struct db_stmt *s, void *rec)
{
	struct store_exposure *x = rec;

	(void)st;
	x->task_id = store_sq_col_text(s, 0);
	x->task_digest = store_sq_col_text(s, 1);
	x->suite_id = store_sq_col_text(s, 2);
	x->developer = store_sq_col_text(s, 3);
	x->model = store_sq_col_text(s, 4);
	x->endpoint = store_sq_col_text(s, 5);
	x->run_id = store_db_col_int64(s, 6);
	x->first_ms = store_db_col_int64(s, 7);
}

static void exposure_clear(void *rec)
{
	struct store_exposure *x = rec;

	free(x->task_id); free(x->task_digest); free(x->suite_id);
	free(x->developer); free(x->model); free(x->endpoint);
}

static const struct store_rowtype exposure_rows = {
	"exposure", "list exposure", sizeof(struct store_exposure),
	exposure_row, exposure_clear,
};

enum err store_exposure_list(struct store *st, const char *developer,
			     struct store_exposure **xs_out, size_t *n_out,
			     struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc =
		store_sq_prep(st,
			      "SELECT task_id, task_digest, suite_id, "
			      "developer, model, endpoint, run_id, first_ms FROM "
			      "exposure WHERE ?1 IS NULL OR developer=?1 "
			      "ORDER BY task_id, first_ms",
			      &s, e);

	if (rc)
		return rc;
	store_db_bind_text(s, 1, developer);
	return store_sq_list_rows(st, s, &exposure_rows, (void **)xs_out, n_out,
				  e);
}

void store_exposures_free(struct store_exposure *xs, size_t n)
{
	store_sq_free_rows(&exposure_rows, xs, n);
}
