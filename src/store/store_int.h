/*
 * store_int.h - shared by the files of the store part only. They reach
 * the database through store_db.h (never sqlite3.h or libpq-fe.h) and
 * write portable SQL (docs/internals/store.md, "Portable SQL").
 */
#ifndef ASSAY_STORE_INT_H
#define ASSAY_STORE_INT_H

#include <stdbool.h>

#include "base/util.h"
#include "store/store.h"
#include "store/store_db.h"

struct store {
	struct db *db;
	char *path;                 /* for messages (a URL without password) */
	struct store_codec codec;   /* seal == NULL: plain */
	struct db_stmt *ins_event;    /* prepared once: the hot path */
	bool batch;                 /* store_tx_begin: group the next writes */
	bool in_tx;                 /* a grouped transaction is open */
	int64_t tx_start_ms;        /* when it was opened (now_ms) */
	/* who this handle is, for leases (store_lease.c; set lazily) */
	char *owner, *host, *machine;
	int pid;
	long long pid_start;
	/* the lease this handle holds (NULL scope: none) */
	char *lease_scope;
	int64_t lease_ref;
	int64_t lease_ttl_ms;
	int64_t lease_renewed_ms;   /* now_ms of the last renewal */
	bool lease_lost;            /* another owner took it: no more writes */
	struct db_stmt *renew;
};

/* Called by every write (store_sq_prep does it for writing statements): opens
 * the grouped transaction lazily, so a turn of the event loop that writes
 * nothing costs nothing. */
enum err store_sq_write(struct store *st, struct errmsg *e) MUST_CHECK;
/* Open the group now (store_sq_write: BEGIN, the write lock, the lease
 * renewed), joining the caller's group when it has one; *own says whether
 * the group is this function's to close. */
enum err store_sq_group_open(struct store *st, bool *own,
			     struct errmsg *e) MUST_CHECK;
/* Close a group store_sq_group_open opened: when own, commit if rc is
 * ERR_OK (the commit's failure is the result), else roll back; rc is
 * returned otherwise. A joined group is left to its owner. */
enum err store_sq_group_close(struct store *st, bool own, enum err rc,
			      struct errmsg *e) MUST_CHECK;

/* store_lease.c: under the write lock at the start of every group, renew
 * the handle's lease or find it lost (then every later write fails). */
enum err store_sq_lease_check(struct store *st, struct errmsg *e) MUST_CHECK;
enum err store_sq_lease_lost(struct store *st, struct errmsg *e);
/* A lease row that no one can still be using (expired, or its owner a
 * process of this machine that is gone). */
bool store_sq_lease_dead(struct store *st, const char *machine, int pid,
		   long long pid_start, int64_t expires_ms);

enum err store_sq_fail(struct store *st, struct errmsg *e, const char *what);
/* Prepare sql (portable; store_db.h) and, for a statement that writes,
 * join or open the grouped transaction (store_sq_write). */
enum err store_sq_prep(struct store *st, const char *sql, struct db_stmt **out,
		 struct errmsg *e) MUST_CHECK;
/* Step a statement that returns no rows, then finalize it. */
enum err store_sq_step_done(struct store *st, struct db_stmt *s, const char *what,
		      struct errmsg *e) MUST_CHECK;
/* Step an INSERT ... RETURNING id, read the id, finalize. */
enum err store_sq_insert_id(struct store *st, struct db_stmt *s, const char *what,
		      int64_t *id_out, struct errmsg *e) MUST_CHECK;
/* store_episode.c: prepare the INSERT of a pending episode (run_id,
 * task_id, epoch, attempt bound), RETURNING its id when returning_id. */
enum err store_sq_prep_pending(struct store *st, bool returning_id,
			       int64_t run_id, const char *task_id, int epoch,
			       int attempt, struct db_stmt **s,
			       struct errmsg *e) MUST_CHECK;
/* A column as a new string (NULL for SQL NULL). */
char *store_sq_col_text(struct db_stmt *s, int i);

/* ---- store_rows.c: reading records of one kind ---- */

/* One kind of record: how a row of its SELECT fills one (zeroed first)
 * and how one is released. */
struct store_rowtype {
	const char *what;       /* a get that finds no row: "no such WHAT" */
	const char *failed;     /* a failed step: "store '...': FAILED: ..." */
	size_t size;
	void (*fill)(struct store *st, struct db_stmt *s, void *rec);
	void (*clear)(void *rec); /* NULL: it owns nothing */
};

/* Step a single-row query: ERR_OK with s on its row; otherwise s is
 * finalized and the result is ERR_NOTFOUND ("no such WHAT") or the
 * failure. */
enum err store_sq_step_one(struct store *st, struct db_stmt *s,
			   const char *what, struct errmsg *e) MUST_CHECK;
/* The one row of s into *rec ("no such T->WHAT" when there is none); s
 * is finalized either way. */
enum err store_sq_get_row(struct store *st, struct db_stmt *s,
			  const struct store_rowtype *t, void *rec,
			  struct errmsg *e) MUST_CHECK;
/* Every row of s into a new array (*v_out, *n_out; NULL and 0 on
 * failure, when what was read is released); s is finalized either way. */
enum err store_sq_list_rows(struct store *st, struct db_stmt *s,
			    const struct store_rowtype *t, void **v_out,
			    size_t *n_out, struct errmsg *e) MUST_CHECK;
/* Release n records of kind t at v, then v (NULL is fine). */
void store_sq_free_rows(const struct store_rowtype *t, void *v, size_t n);

#endif
