/*
 * store_rows.c - reading records of one kind (store_int.h, struct
 * store_rowtype): the one row of a get, every row of a listing. Every
 * listing of the store reads its rows here, so a failed step, the
 * release of what was read before it and the outputs are handled once.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

enum err store_sq_step_one(struct store *st, struct db_stmt *s,
			   const char *what, struct errmsg *e)
{
	int r = store_db_step(s);

	if (r == DB_ROW)
		return ERR_OK;
	store_db_finalize(s);
	if (r == DB_DONE)
		return err_set(e, ERR_NOTFOUND, "no such %s", what);
	return store_sq_fail(st, e, what);
}

enum err store_sq_get_row(struct store *st, struct db_stmt *s,
			  const struct store_rowtype *t, void *rec,
			  struct errmsg *e)
{
	enum err rc = store_sq_step_one(st, s, t->what, e);

	if (rc)
		return rc;
	t->fill(st, s, rec);
	store_db_finalize(s);
	return ERR_OK;
}

void store_sq_free_rows(const struct store_rowtype *t, void *v, size_t n)
{
	for (size_t i = 0; v && t->clear && i < n; i++)
		t->clear((char *)v + i * t->size);
	free(v);
}

enum err store_sq_list_rows(struct store *st, struct db_stmt *s,
			    const struct store_rowtype *t, void **v_out,
			    size_t *n_out, struct errmsg *e)
{
	char *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = store_db_step(s)) == DB_ROW) {
		v = xgrow(v, &cap, n + 1, t->size);
		memset(v + n * t->size, 0, t->size);
		t->fill(st, s, v + n * t->size);
		n++;
	}
	*v_out = NULL;
	*n_out = 0;
	if (r != DB_DONE) {
		enum err rc = store_sq_fail(st, e, t->failed);

		store_db_finalize(s);
		store_sq_free_rows(t, v, n);
		return rc;
	}
	store_db_finalize(s);
	*v_out = v;
	*n_out = n;
	return ERR_OK;
}
