/*
 * store_int.h - shared by the SQLite files of the store part only.
 */
#ifndef ASSAY_STORE_INT_H
#define ASSAY_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "base/util.h"
#include "store/store.h"

struct store {
	sqlite3 *db;
	char *path;
	struct store_codec codec;   /* seal == NULL: plain */
	sqlite3_stmt *ins_event;    /* prepared once: the hot path */
	bool batch;                 /* store_tx_begin: group the next writes */
	bool in_tx;                 /* a grouped transaction is open */
	int64_t tx_start_ms;        /* when it was opened (now_ms) */
	sqlite3_stmt *begin, *commit; /* prepared once */
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
	sqlite3_stmt *renew;
};

/* Called by every write (store_sq_prep does it for writing statements): opens
 * the grouped transaction lazily, so a turn of the event loop that writes
 * nothing costs nothing. */
enum err store_sq_write(struct store *st, struct errmsg *e) MUST_CHECK;

/* store_lease.c: under the write lock at the start of every group, renew
 * the handle's lease or find it lost (then every later write fails). */
enum err store_sq_lease_check(struct store *st, struct errmsg *e) MUST_CHECK;
enum err store_sq_lease_lost(struct store *st, struct errmsg *e);
/* A lease row that no one can still be using (expired, or its owner a
 * process of this machine that is gone). */
bool store_sq_lease_dead(struct store *st, const char *machine, int pid,
			 long long pid_start, int64_t expires_ms);

enum err store_sq_fail(struct store *st, struct errmsg *e, const char *what);
enum err store_sq_prep(struct store *st, const char *sql, sqlite3_stmt **out,
		       struct errmsg *e) MUST_CHECK;
enum err store_sq_step_done(struct store *st, sqlite3_stmt *s, const char *what,
			    struct errmsg *e) MUST_CHECK;
void store_sq_bind_text(sqlite3_stmt *s, int i, const char *v);
char *store_sq_col_text(sqlite3_stmt *s, int i);

#endif
