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

/* Called by every write (sq_prep does it for writing statements): opens
 * the grouped transaction lazily, so a turn of the event loop that writes
 * nothing costs nothing. */
enum err sq_write(struct store *st, struct errmsg *e) MUST_CHECK;

/* store_lease.c: under the write lock at the start of every group, renew
 * the handle's lease or find it lost (then every later write fails). */
enum err sq_lease_check(struct store *st, struct errmsg *e) MUST_CHECK;
enum err sq_lease_lost(struct store *st, struct errmsg *e);
/* A lease row that no one can still be using (expired, or its owner a
 * process of this machine that is gone). */
bool sq_lease_dead(struct store *st, const char *machine, int pid,
		   long long pid_start, int64_t expires_ms);

enum err sq_fail(struct store *st, struct errmsg *e, const char *what);
/* Prepare sql (portable; store_db.h) and, for a statement that writes,
 * join or open the grouped transaction (sq_write). */
enum err sq_prep(struct store *st, const char *sql, struct db_stmt **out,
		 struct errmsg *e) MUST_CHECK;
/* Step a statement that returns no rows, then finalize it. */
enum err sq_step_done(struct store *st, struct db_stmt *s, const char *what,
		      struct errmsg *e) MUST_CHECK;
/* Step an INSERT ... RETURNING id, read the id, finalize. */
enum err sq_insert_id(struct store *st, struct db_stmt *s, const char *what,
		      int64_t *id_out, struct errmsg *e) MUST_CHECK;
/* A column as a new string (NULL for SQL NULL). */
char *sq_col_text(struct db_stmt *s, int i);

#endif
