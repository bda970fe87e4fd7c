/*
 * store_lease.c - leases: one writer per run (and, later, per episode).
 *
 * A lease row names its owner (a token unique to this store handle), the
 * host and process behind it, and when it expires. It is taken under the
 * store's write lock (BEGIN IMMEDIATE; on PostgreSQL under the row's lock,
 * SELECT ... FOR UPDATE, or an INSERT ... ON CONFLICT DO NOTHING that only
 * one can win), so of two processes asking at once exactly one gets it.
 * The holder renews it (store_lease_heartbeat), and every grouped
 * transaction of the holder first checks, under the write lock (or the
 * row's), that the lease is still its own: a process that lost its lease
 * (stalled past the expiry while another took over) can write nothing
 * more. A lease whose owner died is taken over once it expires, or at once
 * when the owner was a process of this machine that no longer exists.
 */
#include "store/store_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

/* The start time of a process (clock ticks since boot, field 22 of
 * /proc/PID/stat), 0 when it does not exist or is a zombie. */
static long long proc_start(int pid)
{
	char path[64], *data = NULL, *p;
	size_t len;
	long long start = 0;
	struct errmsg ignored;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (file_read(path, 4096, &data, &len, &ignored) != ERR_OK)
		return 0;
	p = strrchr(data, ')');
	if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X') {
		/* fields 3..21 precede the start time */
		for (int field = 3; p && field <= 22; field++)
			p = strchr(p + 1, ' ');
		if (!p || !num_field_ll(p + 1, " \n", 0, LLONG_MAX, &start, NULL))
			start = 0;
	}
	free(data);
	return start;
}

/* What makes a pid meaningful: the boot and the pid namespace. */
static char *machine_id(void)
{
	char *boot = NULL, ns[64] = "";
	size_t len;
	struct stat sb;
	struct errmsg ignored;
	char *id;

	if (file_read("/proc/sys/kernel/random/boot_id", 256, &boot, &len,
		      &ignored) != ERR_OK)
		boot = xstrdup("?");
	boot[strcspn(boot, "\n")] = '\0';
	if (stat("/proc/self/ns/pid", &sb) == 0)
		snprintf(ns, sizeof(ns), "%llu", (unsigned long long)sb.st_ino);
	id = xasprintf("%s/%s", boot, ns);
	free(boot);
	return id;
}

static void ensure_identity(struct store *st)
{
	unsigned char rnd[8];
	char host[256] = "?";

	if (st->owner)
		return;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* never fails for 8 bytes once the pool is up; still unique
		 * enough with the pid and the clock */
		uint64_t t = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, sizeof(rnd));
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	st->host = xstrdup(host);
	st->machine = machine_id();
	st->pid = getpid();
	st->pid_start = proc_start(st->pid);
	st->owner = xasprintf("%s:%d:%02x%02x%02x%02x%02x%02x%02x%02x", host,
			      st->pid, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
			      rnd[5], rnd[6], rnd[7]);
}

const char *store_owner(struct store *st)
{
	ensure_identity(st);
	return st->owner;
}

void store_lease_release_row(struct store_lease *l)
{
	free(l->scope); free(l->owner); free(l->host); free(l->machine);
	memset(l, 0, sizeof(*l));
}

#define LEASE_COLS "scope, ref, owner, host, machine, pid, pid_start, " \
	"acquired_ms, heartbeat_ms, expires_ms"

/* The row of (scope, ref); lock: row-locked until the transaction ends
 * (PostgreSQL; SQLite's write lock covers it already). */
static enum err read_lease(struct store *st, const char *scope, int64_t ref,
			   bool lock, struct store_lease *out, bool *found,
			   struct errmsg *e)
{
	struct db_stmt *s;
	int r;

	*found = false;
	if (store_db_prepare(st->db, lock ? "SELECT " LEASE_COLS " FROM leases "
			     "WHERE scope=? AND ref=? @FOR_UPDATE" :
			     "SELECT " LEASE_COLS " FROM leases WHERE scope=? AND "
			     "ref=?", 0, &s) != DB_DONE)
		return store_sq_fail(st, e, "read lease");
	store_db_bind_text(s, 1, scope);
	store_db_bind_int64(s, 2, ref);
	r = store_db_step(s);
	if (r == DB_ROW) {
		out->scope = store_sq_col_text(s, 0);
		out->ref = store_db_col_int64(s, 1);
		out->owner = store_sq_col_text(s, 2);
		out->host = store_sq_col_text(s, 3);
		out->machine = store_sq_col_text(s, 4);
		out->pid = store_db_col_int(s, 5);
		out->pid_start = store_db_col_int64(s, 6);
		out->acquired_ms = store_db_col_int64(s, 7);
		out->heartbeat_ms = store_db_col_int64(s, 8);
		out->expires_ms = store_db_col_int64(s, 9);
		*found = true;
	}
	store_db_finalize(s);
	return r == DB_ROW || r == DB_DONE ? ERR_OK :
	       store_sq_fail(st, e, "read lease");
}

enum err store_lease_get(struct store *st, const char *scope, int64_t ref,
			 struct store_lease *out, bool *found,
			 struct errmsg *e)
{
	memset(out, 0, sizeof(*out));
	return read_lease(st, scope, ref, false, out, found, e);
}

bool store_sq_lease_dead(struct store *st, const char *machine, int pid,
			 long long pid_start, int64_t expires_ms)
{
	ensure_identity(st);
	if (expires_ms <= wall_ms())
		return true;
	/* a process of this machine (same boot, same pid namespace) that is
	 * gone, or whose pid now belongs to another process */
	return machine && !strcmp(machine, st->machine) &&
	       proc_start(pid) != pid_start;
}

static bool lease_dead(struct store *st, const struct store_lease *l)
{
	return store_sq_lease_dead(st, l->machine, l->pid, l->pid_start,
				   l->expires_ms);
}

/* A new row (inserted: false when another took it meanwhile), or this
 * handle's over the locked row of a dead owner or of its own. */
static enum err write_lease(struct store *st, const char *scope, int64_t ref,
			    bool insert, bool *inserted, int64_t now,
			    struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc = store_sq_prep(st, insert ?
		"INSERT INTO leases(owner, host, machine, pid, pid_start, "
		"acquired_ms, heartbeat_ms, expires_ms, scope, ref) "
		"VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING" :
		"UPDATE leases SET owner=?, host=?, machine=?, pid=?, "
		"pid_start=?, acquired_ms=?, heartbeat_ms=?, expires_ms=? "
		"WHERE scope=? AND ref=?", &s, e);

	if (rc)
		return rc;
	store_db_bind_text(s, 1, st->owner);
	store_db_bind_text(s, 2, st->host);
	store_db_bind_text(s, 3, st->machine);
	store_db_bind_int64(s, 4, st->pid);
	store_db_bind_int64(s, 5, st->pid_start);
	store_db_bind_int64(s, 6, now);
	store_db_bind_int64(s, 7, now);
	store_db_bind_int64(s, 8, now + st->lease_ttl_ms);
	store_db_bind_text(s, 9, scope);
	store_db_bind_int64(s, 10, ref);
	rc = store_sq_step_done(st, s, "take lease", e);
	*inserted = rc == ERR_OK && store_db_changes(st->db) == 1;
	return rc;
}

static enum err held_error(const struct store_lease *l,
			   int64_t now, struct errmsg *e)
{
	return err_set(e, ERR_STORE, "%s %lld is held by another assay "
		       "(process %d on %s, last heartbeat %llds ago); it is "
		       "free once that process ends, or in %llds if it is "
		       "gone without ending", l->scope, (long long)l->ref,
		       l->pid, l->host ? l->host : "?",
		       (long long)((now - l->heartbeat_ms) / 1000),
		       (long long)((l->expires_ms - now + 999) / 1000));
}

/* Decide and write under the write lock (SQLite) or the row's lock
 * (PostgreSQL); the caller's transaction is open. A row inserted by
 * another process between our read and our insert is read again, locked. */
static enum err take_locked(struct store *st, const char *scope, int64_t ref,
			    struct store_lease *holder, struct errmsg *e)
{
	struct store_lease cur = { 0 };
	int64_t now = wall_ms();
	bool found = false, written = false;
	enum err rc = ERR_OK;

	for (int round = 0; rc == ERR_OK && !written && round < 2; round++) {
		store_lease_release_row(&cur);
		if ((rc = read_lease(st, scope, ref, true, &cur, &found, e)))
			break;
		if (found && strcmp(cur.owner, st->owner) &&
		    !lease_dead(st, &cur)) {
			rc = held_error(&cur, now, e);
			if (holder) {
				*holder = cur;
				return rc;
			}
			break;
		}
		rc = write_lease(st, scope, ref, !found, &written, now, e);
	}
	if (rc == ERR_OK && !written)
		rc = err_set(e, ERR_STORE, "store '%s': %s %lld: the lease row "
			     "changed twice while it was being taken", st->path,
			     scope, (long long)ref);
	store_lease_release_row(&cur);
	return rc;
}

enum err store_lease_take(struct store *st, const char *scope, int64_t ref,
			  int64_t ttl_ms, struct store_lease *holder,
			  struct errmsg *e)
{
	bool own;
	enum err rc;

	if (holder)
		memset(holder, 0, sizeof(*holder));
	if (st->lease_scope)
		return err_set(e, ERR_INVAL, "store '%s': this handle already "
			       "holds a lease", st->path);
	ensure_identity(st);
	st->lease_ttl_ms = ttl_ms > 0 ? ttl_ms : STORE_LEASE_TTL_MS;
	rc = store_sq_group_open(st, &own, e);  /* the write lock */
	if (rc == ERR_OK)
		rc = take_locked(st, scope, ref, holder, e);
	rc = store_sq_group_close(st, own, rc, e);
	if (rc == ERR_OK) {
		st->lease_scope = xstrdup(scope);
		st->lease_ref = ref;
		st->lease_renewed_ms = now_ms();
	}
	return rc;
}

enum err store_sq_lease_lost(struct store *st, struct errmsg *e)
{
	return err_set(e, ERR_STORE, "store '%s': lost the lease on %s %lld "
		       "(this process stalled past its expiry and another "
		       "took over); writing nothing more", st->path,
		       st->lease_scope, (long long)st->lease_ref);
}

/* First thing in a group: renew our lease, or find it lost. On
 * PostgreSQL the UPDATE keeps the row locked until the group commits, so
 * no one takes the lease over in the middle of a group. */
enum err store_sq_lease_check(struct store *st, struct errmsg *e)
{
	int64_t now = wall_ms();
	int r;

	if (!st->lease_scope)
		return ERR_OK;
	if (!st->renew &&
	    store_db_prepare(st->db,
			     "UPDATE leases SET heartbeat_ms=?, expires_ms=? "
			     "WHERE scope=? AND ref=? AND owner=?",
			     DB_PERSISTENT, &st->renew) != DB_DONE)
		return store_sq_fail(st, e, "prepare");
	if (st->lease_lost)
		return store_sq_lease_lost(st, e);
	store_db_bind_int64(st->renew, 1, now);
	store_db_bind_int64(st->renew, 2, now + st->lease_ttl_ms);
	store_db_bind_text(st->renew, 3, st->lease_scope);
	store_db_bind_int64(st->renew, 4, st->lease_ref);
	store_db_bind_text(st->renew, 5, st->owner);
	r = store_db_step(st->renew);
	store_db_reset(st->renew);
	if (r != DB_DONE)
		return store_sq_fail(st, e, "renew lease");
	if (store_db_changes(st->db) != 1) {
		st->lease_lost = true;
		return store_sq_lease_lost(st, e);
	}
	st->lease_renewed_ms = now_ms();
	return ERR_OK;
}

enum err store_lease_heartbeat(struct store *st, struct errmsg *e)
{
	bool own;
	enum err rc;

	if (!st->lease_scope)
		return ERR_OK;
	if (st->lease_lost)
		return store_sq_lease_lost(st, e);
	if (now_ms() - st->lease_renewed_ms < st->lease_ttl_ms / 4)
		return ERR_OK;
	if (st->in_tx)             /* renewed inside the open group */
		return store_sq_lease_check(st, e);
	rc = store_sq_group_open(st, &own, e);  /* opening it renews */
	return store_sq_group_close(st, own, rc, e);
}

enum err store_lease_release(struct store *st, struct errmsg *e)
{
	struct db_stmt *s;
	enum err rc;

	if (!st->lease_scope)
		return ERR_OK;
	rc = ERR_OK;
	if (!st->lease_lost &&
	    !(rc = store_sq_prep(st,
				 "DELETE FROM leases WHERE scope=? AND ref=? "
				 "AND owner=?",
				 &s, e))) {
		store_db_bind_text(s, 1, st->lease_scope);
		store_db_bind_int64(s, 2, st->lease_ref);
		store_db_bind_text(s, 3, st->owner);
		rc = store_sq_step_done(st, s, "release lease", e);
	}
	free(st->lease_scope);
	st->lease_scope = NULL;
	return rc;
}
