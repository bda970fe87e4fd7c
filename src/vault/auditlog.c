/*
 * auditlog.c - the append-only audit log file: framing, scanning, torn
 * tail recovery, durable appends, checkpoints.
 *
 * Crash model: an append is one pwrite of a whole frame followed by
 * fsync. A crash can leave a prefix of that frame (or garbage the file
 * system exposed after extending the file). Such a tail is the last frame
 * and is cut back on the next read-write open; a bad frame followed by
 * further bytes cannot come from a crash and is reported as corruption.
 */
#include "vault/auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bug.h"
#include "base/fsutil.h"
#include "base/jsonw.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define LOG_MAGIC "assay audit log v1\n"
#define MAGIC_LEN (sizeof(LOG_MAGIC) - 1)
#define FRAME_OVERHEAD (4 + VAULT_HASH_LEN)
#define DEFAULT_ORIGIN "assay/audit"

struct vault_audit {
	char *dir;
	char *log_path;
	char *cp_path;
	int fd;
	bool readonly;
	pthread_mutex_t mu;
	uint64_t n;
	size_t cap;
	vault_hash *leaves;
	uint64_t *offsets; /* file offset of frame i */
	uint64_t end;      /* offset after the last good frame */
};

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static enum err pread_all(int fd, void *p, size_t n, uint64_t off,
			  const char *path, struct errmsg *e)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(e, ERR_IO, "cannot read '%s'", path);
		if (r == 0)
			return err_set(e, ERR_IO, "'%s': unexpected end", path);
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return ERR_OK;
}

static enum err pwrite_all(int fd, const void *p, size_t n, uint64_t off,
			   const char *path, struct errmsg *e)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t r = pwrite(fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(e, ERR_IO, "cannot write '%s'", path);
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return ERR_OK;
}

static void add_leaf(struct vault_audit *log, const vault_hash h, uint64_t off)
{
	if (log->n == log->cap) {
		size_t cap = log->cap;
		log->leaves = xgrow(log->leaves, &cap, log->n + 1,
				    sizeof(vault_hash));
		log->offsets = xrealloc(log->offsets, cap * sizeof(uint64_t));
		log->cap = cap;
	}
	memcpy(log->leaves[log->n], h, VAULT_HASH_LEN);
	log->offsets[log->n++] = off;
}

/* The entry must open with its own sequence number. */
static bool seq_ok(const unsigned char *entry, size_t len, uint64_t seq)
{
	char want[48];
	int n = snprintf(want, sizeof(want), "{\"seq\":%llu,",
			 (unsigned long long)seq);

	return (size_t)n <= len && memcmp(entry, want, (size_t)n) == 0;
}

enum frame_state { FRAME_OK, FRAME_TORN, FRAME_BAD };

/* The scan reads the log front to back through this window (1 MiB
 * preads instead of three per entry). */
#define READAHEAD (1u << 20)

struct readahead {
	unsigned char *data;       /* READAHEAD + VAULT_AUDIT_ENTRY_MAX bytes */
	uint64_t start;            /* file offset of data[0] */
	size_t len;                /* valid bytes */
	uint64_t fsize;
};

/* n bytes at off (within fsize, checked by the caller) into dst. */
static enum err ra_read(struct vault_audit *log, struct readahead *ra,
			void *dst, size_t n, uint64_t off, struct errmsg *e)
{
	if (off < ra->start || off + n > ra->start + ra->len) {
		size_t want = READAHEAD + VAULT_AUDIT_ENTRY_MAX;
		enum err rc;

		if (want > ra->fsize - off)
			want = (size_t)(ra->fsize - off);
		if (n > want)
			return err_set(e, ERR_IO, "'%s': unexpected end", log->log_path);
		rc = pread_all(log->fd, ra->data, want, off, log->log_path, e);
		ra->start = off;
		ra->len = rc ? 0 : want;
		if (rc)
			return rc;
	}
	memcpy(dst, ra->data + (off - ra->start), n);
	return ERR_OK;
}

/* Read the frame at off; FRAME_TORN when it cannot be complete or its
 * hash fails and nothing follows it, FRAME_BAD for other damage. */
static enum frame_state read_frame(struct vault_audit *log,
				   struct readahead *ra, uint64_t off,
				   unsigned char *entry, uint32_t *len_out,
				   vault_hash leaf, struct errmsg *e)
{
	unsigned char hdr[4], stored[VAULT_HASH_LEN];
	uint64_t rest = ra->fsize - off;
	uint32_t len;

	if (rest < 4 || ra_read(log, ra, hdr, 4, off, e))
		return FRAME_TORN;
	len = get_be32(hdr);
	if (len == 0 || len > VAULT_AUDIT_ENTRY_MAX)
		return rest < FRAME_OVERHEAD + VAULT_AUDIT_ENTRY_MAX
			       ? FRAME_TORN : FRAME_BAD;
	if (rest < FRAME_OVERHEAD + (uint64_t)len)
		return FRAME_TORN;
	if (ra_read(log, ra, entry, len, off + 4, e) ||
	    ra_read(log, ra, stored, VAULT_HASH_LEN, off + 4 + len, e))
		return FRAME_BAD;
	vault_merkle_leaf_hash(entry, len, leaf);
	*len_out = len;
	if (sodium_memcmp(leaf, stored, VAULT_HASH_LEN) != 0)
		return rest == FRAME_OVERHEAD + (uint64_t)len ? FRAME_TORN
							      : FRAME_BAD;
	if (!seq_ok(entry, len, log->n))
		return FRAME_BAD;
	return FRAME_OK;
}

static enum err append_locked(struct vault_audit *log, const char *kind,
			      const struct vault_audit_field *f, size_t nf,
			      uint64_t *seq_out, struct errmsg *e);

/* The size the stored checkpoint covers (0 without one). Signatures are
 * checked by vault_audit_verify; here the size only bounds recovery. */
static enum err checkpoint_floor(const struct vault_audit *log,
				 struct vault_checkpoint *cp, bool *have,
				 struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc;

	*have = false;
	memset(cp, 0, sizeof(*cp));
	if (!path_exists(log->cp_path))
		return ERR_OK;
	rc = file_read(log->cp_path, VAULT_NOTE_MAX, &data, &len, e);
	if (rc)
		return rc;
	rc = vault_checkpoint_parse(data, len, cp, e);
	free(data);
	if (rc)
		return err_prefix(e, "checkpoint '%s'", log->cp_path);
	*have = true;
	return ERR_OK;
}

static enum err cut_tail(struct vault_audit *log, uint64_t fsize,
			 uint64_t floor, struct errmsg *e)
{
	struct vault_audit_field f[] = {
		VAULT_AUDIT_S("reason", "torn tail"),
		VAULT_AUDIT_I("offset", log->end),
		VAULT_AUDIT_I("cut_bytes", fsize - log->end),
	};

	if (log->n < floor)
		return err_set(e, ERR_CRYPTO, "'%s': damaged at entry %llu, "
			       "below the checkpoint size %llu (truncated or "
			       "rolled back); refusing to cut", log->log_path,
			       (unsigned long long)log->n,
			       (unsigned long long)floor);
	if (log->readonly)
		return err_set(e, ERR_PARSE, "'%s': torn tail of %llu bytes "
			       "at offset %llu after entry %llu (open it "
			       "read-write to recover)", log->log_path,
			       (unsigned long long)(fsize - log->end),
			       (unsigned long long)log->end,
			       (unsigned long long)log->n);
	if (ftruncate(log->fd, (off_t)log->end) < 0 || fsync(log->fd) < 0)
		return err_sys(e, ERR_IO, "cannot cut '%s'", log->log_path);
	return append_locked(log, "recovery", f, ARRAY_SIZE(f), NULL, e);
}

/* Read frames from log->end to the end of the file. */
static enum err scan(struct vault_audit *log, struct errmsg *e)
{
	unsigned char *entry = xmalloc(VAULT_AUDIT_ENTRY_MAX);
	struct readahead ra = { 0 };
	struct vault_checkpoint cp;
	struct stat st;
	vault_hash leaf;
	uint32_t len = 0;
	bool have_cp;
	enum err rc = ERR_OK;

	if (fstat(log->fd, &st) < 0) {
		free(entry);
		return err_sys(e, ERR_IO, "cannot stat '%s'", log->log_path);
	}
	ra.fsize = (uint64_t)st.st_size;
	ra.data = xmalloc(READAHEAD + VAULT_AUDIT_ENTRY_MAX);
	while (!rc && log->end < (uint64_t)st.st_size) {
		enum frame_state fs = read_frame(log, &ra, log->end, entry,
						 &len, leaf, e);
		if (fs == FRAME_OK) {
			add_leaf(log, leaf, log->end);
			log->end += FRAME_OVERHEAD + len;
			continue;
		}
		if (fs == FRAME_BAD) {
			rc = err_set(e, ERR_CRYPTO, "'%s': entry %llu at offset "
				     "%llu is corrupt (edited or reordered)",
				     log->log_path, (unsigned long long)log->n,
				     (unsigned long long)log->end);
			break;
		}
		rc = checkpoint_floor(log, &cp, &have_cp, e);
		if (!rc)
			rc = cut_tail(log, (uint64_t)st.st_size, cp.size, e);
		break;
	}
	free(ra.data);
	free(entry);
	return rc;
}

static enum err check_against_checkpoint(struct vault_audit *log,
					 struct errmsg *e)
{
	struct vault_checkpoint cp;
	bool have;
	enum err rc = checkpoint_floor(log, &cp, &have, e);

	if (rc || !have)
		return rc;
	if (log->n < cp.size)
		return err_set(e, ERR_CRYPTO, "'%s' has %llu entries but its "
			       "checkpoint covers %llu: truncated or rolled "
			       "back", log->log_path,
			       (unsigned long long)log->n,
			       (unsigned long long)cp.size);
	return ERR_OK;
}

static enum err open_file(struct vault_audit *log, struct errmsg *e)
{
	char magic[MAGIC_LEN];
	struct stat st;

	log->fd = open(log->log_path, (log->readonly ? O_RDONLY
				       : O_RDWR | O_CREAT) | O_CLOEXEC, 0600);
	if (log->fd < 0)
		return err_sys(e, ERR_IO, "cannot open audit log '%s'",
			       log->log_path);
	if (fstat(log->fd, &st) < 0)
		return err_sys(e, ERR_IO, "cannot stat '%s'", log->log_path);
	if (st.st_size == 0 && !log->readonly) {
		if (pwrite_all(log->fd, LOG_MAGIC, MAGIC_LEN, 0,
			       log->log_path, e))
			return e ? e->code : ERR_IO;
		if (fsync(log->fd) < 0)
			return err_sys(e, ERR_IO, "fsync '%s'", log->log_path);
	} else if ((uint64_t)st.st_size < MAGIC_LEN ||
		   pread_all(log->fd, magic, MAGIC_LEN, 0, log->log_path, e) ||
		   memcmp(magic, LOG_MAGIC, MAGIC_LEN) != 0) {
		return err_set(e, ERR_PARSE, "'%s' is not an assay audit log",
			       log->log_path);
	}
	log->end = MAGIC_LEN;
	return ERR_OK;
}

static enum err open_locked(struct vault_audit *log, struct errmsg *e)
{
	enum err rc = open_file(log, e);

	if (rc)
		return rc;
	if (flock(log->fd, log->readonly ? LOCK_SH : LOCK_EX) < 0)
		return err_sys(e, ERR_IO, "cannot lock '%s'", log->log_path);
	rc = scan(log, e);
	if (!rc)
		rc = check_against_checkpoint(log, e);
	(void)flock(log->fd, LOCK_UN);
	return rc;
}

enum err vault_audit_open(const char *dir, unsigned flags,
			  struct vault_audit **log_out, struct errmsg *e)
{
	struct vault_audit *log;
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	if (!(flags & VAULT_AUDIT_READONLY)) {
		rc = mkdir_p(dir, 0700, e);
		if (rc)
			return rc;
	}
	log = xcalloc(1, sizeof(*log));
	log->dir = xstrdup(dir);
	log->log_path = path_join(dir, "log");
	log->cp_path = path_join(dir, "checkpoint");
	log->readonly = flags & VAULT_AUDIT_READONLY;
	log->fd = -1;
	pthread_mutex_init(&log->mu, NULL);
	rc = open_locked(log, e);
	if (rc) {
		vault_audit_close(log);
		return rc;
	}
	*log_out = log;
	return ERR_OK;
}

void vault_audit_close(struct vault_audit *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	pthread_mutex_destroy(&log->mu);
	free(log->leaves);
	free(log->offsets);
	free(log->dir);
	free(log->log_path);
	free(log->cp_path);
	free(log);
}

static bool name_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      (s[i] && strchr(extra, s[i]))))
			return false;
	return true;
}

static enum err check_fields(const struct vault_audit_field *f, size_t nf,
			     struct errmsg *e)
{
	for (size_t i = 0; i < nf; i++) {
		if (!f[i].key || !name_ok(f[i].key, ""))
			return err_set(e, ERR_INVAL, "bad audit field key '%s'",
				       f[i].key ? f[i].key : "(null)");
		if (f[i].type < VAULT_AUDIT_STR || f[i].type > VAULT_AUDIT_STRS ||
		    (f[i].type == VAULT_AUDIT_STRS && f[i].n && !f[i].list))
			return err_set(e, ERR_INVAL, "audit field '%s' has no "
				       "valid value", f[i].key);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f[i].key, f[j].key))
				return err_set(e, ERR_INVAL, "audit field '%s' "
					       "given twice", f[i].key);
	}
	return ERR_OK;
}

static void write_field(struct jsonw *w, const struct vault_audit_field *f)
{
	jsonw_key(w, f->key);
	switch (f->type) {
	case VAULT_AUDIT_STR:
		jsonw_str(w, f->s);
		break;
	case VAULT_AUDIT_INT:
		jsonw_int(w, f->i);
		break;
	case VAULT_AUDIT_BOOL:
		jsonw_bool(w, f->b);
		break;
	case VAULT_AUDIT_STRS:
	default:
		jsonw_arr(w);
		for (size_t i = 0; i < f->n; i++)
			jsonw_str(w, f->list[i]);
		jsonw_arr_end(w);
		break;
	}
}

/* The entry's text, after b's 4 bytes of frame length. */
static enum err format_entry(const struct vault_audit *log, const char *kind,
			     const struct vault_audit_field *f, size_t nf,
			     struct buf *b, struct errmsg *e)
{
	char when[40];
	struct jsonw w;
	enum err rc;

	iso8601(wall_ms(), when, sizeof(when));
	jsonw_init(&w, b, 0);
	jsonw_obj(&w);
	jsonw_kuint(&w, "seq", log->n);
	jsonw_kstr(&w, "time", when);
	jsonw_kstr(&w, "kind", kind);
	jsonw_key(&w, "data");
	jsonw_obj(&w);
	for (size_t i = 0; i < nf; i++)
		write_field(&w, &f[i]);
	jsonw_obj_end(&w);
	jsonw_obj_end(&w);
	rc = jsonw_finish(&w, e);
	if (rc == ERR_OK && buf_addch(b, '\n'))
		rc = ERR_LIMIT;
	if (rc == ERR_LIMIT || (!rc && b->len - 4 > VAULT_AUDIT_ENTRY_MAX))
		return err_set(e, ERR_LIMIT, "audit entry '%s' larger than %d "
			       "bytes", kind, VAULT_AUDIT_ENTRY_MAX);
	return rc ? err_prefix(e, "audit entry '%s'", kind) : ERR_OK;
}

/* Caller holds the mutex and the flock, and log->end is the file end. */
static enum err append_locked(struct vault_audit *log, const char *kind,
			      const struct vault_audit_field *f, size_t nf,
			      uint64_t *seq_out, struct errmsg *e)
{
	struct buf b;
	vault_hash leaf;
	size_t elen;
	enum err rc;

	buf_init(&b, FRAME_OVERHEAD + VAULT_AUDIT_ENTRY_MAX);
	rc = buf_add(&b, "\0\0\0\0", 4);
	if (!rc)
		rc = format_entry(log, kind, f, nf, &b, e);
	if (rc) {
		buf_release(&b);
		return rc;
	}
	elen = b.len - 4;
	put_be32((unsigned char *)b.data, (uint32_t)elen);
	vault_merkle_leaf_hash(b.data + 4, elen, leaf);
	rc = buf_add(&b, leaf, VAULT_HASH_LEN);
	if (!rc)
		rc = pwrite_all(log->fd, b.data, b.len, log->end,
				log->log_path, e);
	if (!rc && fdatasync(log->fd) < 0)
		rc = err_sys(e, ERR_IO, "fsync '%s'", log->log_path);
	if (!rc) {
		if (seq_out)
			*seq_out = log->n;
		add_leaf(log, leaf, log->end);
		log->end += b.len;
	}
	buf_release(&b);
	return rc;
}

static enum err check_writable(const struct vault_audit *log,
			       struct errmsg *e)
{
	if (log->readonly)
		return err_set(e, ERR_INVAL, "audit log '%s' is open read-only",
			       log->dir);
	return ERR_OK;
}

static void unlock_log(struct vault_audit *log)
{
	(void)flock(log->fd, LOCK_UN);
	pthread_mutex_unlock(&log->mu);
}

/* Take the log: the thread lock, the file lock (how: LOCK_EX to write,
 * LOCK_SH to read), then what other processes appended since we last
 * looked (scan). Nothing is held on failure; unlock_log() ends it. */
static enum err lock_log(struct vault_audit *log, int how, struct errmsg *e)
{
	enum err rc;

	pthread_mutex_lock(&log->mu);
	if (flock(log->fd, how) < 0) {
		pthread_mutex_unlock(&log->mu);
		return err_sys(e, ERR_IO, "cannot lock '%s'", log->log_path);
	}
	rc = scan(log, e);
	if (rc)
		unlock_log(log);
	return rc;
}

enum err vault_audit_append_seq(struct vault_audit *log, const char *kind,
				const struct vault_audit_field *f, size_t nf,
				uint64_t *seq_out, struct errmsg *e)
{
	enum err rc;

	DEBUGASSERT(log && kind && (f || !nf));
	if ((rc = check_writable(log, e)))
		return rc;
	if (!name_ok(kind, ".-"))
		return err_set(e, ERR_INVAL, "bad audit entry kind '%s'", kind);
	rc = check_fields(f, nf, e);
	if (rc || (rc = lock_log(log, LOCK_EX, e)))
		return rc;
	rc = append_locked(log, kind, f, nf, seq_out, e);
	unlock_log(log);
	return rc;
}

enum err vault_audit_append(struct vault_audit *log, const char *kind,
			    const struct vault_audit_field *f, size_t nf,
			    struct errmsg *e)
{
	return vault_audit_append_seq(log, kind, f, nf, NULL, e);
}

enum err vault_audit_record(const char *dir, const char *kind,
			    const struct vault_audit_field *f, size_t nf,
			    struct errmsg *e)
{
	struct vault_audit *log;
	enum err rc = vault_audit_open(dir, 0, &log, e);

	if (rc)
		return rc;
	rc = vault_audit_append(log, kind, f, nf, e);
	vault_audit_close(log);
	return rc;
}

enum err vault_audit_refresh(struct vault_audit *log, struct errmsg *e)
{
	enum err rc = lock_log(log, LOCK_SH, e);

	if (!rc)
		unlock_log(log);
	return rc;
}

const char *vault_audit_dir(const struct vault_audit *log)
{
	return log->dir;
}

uint64_t vault_audit_size(struct vault_audit *log)
{
	uint64_t n;

	pthread_mutex_lock(&log->mu);
	n = log->n;
	pthread_mutex_unlock(&log->mu);
	return n;
}

static enum err check_size(struct vault_audit *log, uint64_t size,
			   struct errmsg *e)
{
	if (size > log->n)
		return err_set(e, ERR_INVAL, "the log has only %llu entries, "
			       "not %llu", (unsigned long long)log->n,
			       (unsigned long long)size);
	return ERR_OK;
}

/* An entry's index, said as one: "no entry 999" rather than "not 1000". */
static enum err check_index(struct vault_audit *log, uint64_t index,
			    struct errmsg *e)
{
	if (index >= log->n)
		return err_set(e, ERR_INVAL, "no entry %llu: the log has %llu "
			       "entries%s", (unsigned long long)index,
			       (unsigned long long)log->n, log->n ?
			       ", numbered from 0" : "");
	return ERR_OK;
}

enum err vault_audit_entry(struct vault_audit *log, uint64_t index,
			   struct buf *out, struct errmsg *e)
{
	unsigned char hdr[4], *p;
	uint32_t len;
	enum err rc;

	pthread_mutex_lock(&log->mu);
	rc = check_index(log, index, e);
	if (!rc)
		rc = pread_all(log->fd, hdr, 4, log->offsets[index],
			       log->log_path, e);
	len = rc ? 0 : get_be32(hdr);
	p = xmalloc(len + 1);
	if (!rc)
		rc = pread_all(log->fd, p, len, log->offsets[index] + 4,
			       log->log_path, e);
	pthread_mutex_unlock(&log->mu);
	if (!rc)
		rc = buf_add(out, p, len);
	free(p);
	return rc;
}

/* The readers below each lock the log, check what they are asked for
 * against it and compute one thing: four small functions of one shape,
 * each naming its own check and computation. */
enum err vault_audit_root(struct vault_audit *log, uint64_t size,
			  vault_hash root_out, struct errmsg *e)
{
	enum err rc;

	pthread_mutex_lock(&log->mu);
	rc = check_size(log, size, e);
	if (!rc)
		vault_merkle_root(log->leaves, size, root_out);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

enum err vault_audit_leaf(struct vault_audit *log, uint64_t index,
			  vault_hash leaf_out, struct errmsg *e)
{
	enum err rc;

	pthread_mutex_lock(&log->mu);
	rc = check_index(log, index, e);
	if (!rc)
		memcpy(leaf_out, log->leaves[index], VAULT_HASH_LEN);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

enum err vault_audit_inclusion(struct vault_audit *log, uint64_t index,
			       uint64_t size, vault_hash *proof_out,
			       size_t *len_out, struct errmsg *e)
{
	enum err rc;

	pthread_mutex_lock(&log->mu);
	rc = check_size(log, size, e);
	if (!rc)
		rc = vault_merkle_inclusion_proof(log->leaves, size, index,
						  proof_out, len_out, e);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

enum err vault_audit_consistency(struct vault_audit *log, uint64_t old_size,
				 uint64_t new_size, vault_hash *proof_out,
				 size_t *len_out, struct errmsg *e)
{
	enum err rc;

	pthread_mutex_lock(&log->mu);
	rc = check_size(log, new_size, e);
	if (!rc)
		rc = vault_merkle_consistency_proof(log->leaves, old_size,
						    new_size, proof_out,
						    len_out, e);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

const char *vault_audit_checkpoint_path(const struct vault_audit *log)
{
	return log->cp_path;
}

static enum err fsync_dir(const char *dir, struct errmsg *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, ERR_IO, "cannot open '%s'", dir);
	if (fsync(fd) < 0) {
		close(fd);
		return err_sys(e, ERR_IO, "fsync '%s'", dir);
	}
	close(fd);
	return ERR_OK;
}

static enum err sign_locked(struct vault_audit *log, const char *origin,
			    struct vault_seckey *key, struct buf *note_out,
			    struct errmsg *e)
{
	struct vault_checkpoint old, cp;
	struct buf note;
	bool have;
	enum err rc = checkpoint_floor(log, &old, &have, e);

	if (rc)
		return rc;
	if (have && old.size > log->n)
		return err_set(e, ERR_CRYPTO, "refusing to sign size %llu "
			       "below the stored checkpoint's %llu",
			       (unsigned long long)log->n,
			       (unsigned long long)old.size);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s",
		 origin ? origin : have ? old.origin : DEFAULT_ORIGIN);
	cp.size = log->n;
	vault_merkle_root(log->leaves, log->n, cp.root);
	buf_init(&note, VAULT_NOTE_MAX);
	rc = vault_checkpoint_sign(&cp, key, &note, e);
	if (!rc)
		rc = file_write_atomic(log->cp_path, note.data, note.len,
				       0644, e);
	if (!rc)
		rc = fsync_dir(log->dir, e);
	if (!rc && buf_add(note_out, note.data, note.len))
		rc = err_set(e, ERR_LIMIT, "checkpoint too large");
	buf_release(&note);
	return rc;
}

enum err vault_audit_checkpoint(struct vault_audit *log, const char *origin,
				struct vault_seckey *key, struct buf *note_out,
				struct errmsg *e)
{
	enum err rc = check_writable(log, e);

	if (rc || (rc = lock_log(log, LOCK_EX, e)))
		return rc;
	rc = sign_locked(log, origin, key, note_out, e);
	unlock_log(log);
	return rc;
}

static enum err verify_checkpoint_file(struct vault_audit *log,
				       const struct vault_pubkey *keys,
				       size_t nkeys,
				       struct vault_audit_check *out,
				       struct errmsg *e)
{
	struct vault_checkpoint cp;
	vault_hash root;
	char *data;
	size_t len;
	enum err rc = file_read(log->cp_path, VAULT_NOTE_MAX, &data, &len, e);

	if (rc)
		return rc;
	rc = vault_checkpoint_verify(data, len, keys, nkeys, &cp, NULL, e);
	free(data);
	if (rc)
		return err_prefix(e, "'%s'", log->cp_path);
	if (cp.size > log->n)
		return err_set(e, ERR_CRYPTO, "'%s' has %llu entries but its "
			       "signed checkpoint covers %llu: truncated or "
			       "rolled back", log->log_path,
			       (unsigned long long)log->n,
			       (unsigned long long)cp.size);
	vault_merkle_root(log->leaves, cp.size, root);
	if (sodium_memcmp(root, cp.root, VAULT_HASH_LEN) != 0)
		return err_set(e, ERR_CRYPTO, "'%s': the first %llu entries do "
			       "not match the signed checkpoint (edited or "
			       "rewritten)", log->log_path,
			       (unsigned long long)cp.size);
	out->signed_size = cp.size;
	out->have_checkpoint = true;
	return ERR_OK;
}

enum err vault_audit_verify(const char *dir, const struct vault_pubkey *keys,
			    size_t nkeys, bool require_checkpoint,
			    struct vault_audit_check *out, struct errmsg *e)
{
	struct vault_audit *log;
	enum err rc = vault_audit_open(dir, VAULT_AUDIT_READONLY, &log, e);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->entries = log->n;
	vault_merkle_root(log->leaves, log->n, out->root);
	if (path_exists(log->cp_path))
		rc = verify_checkpoint_file(log, keys, nkeys, out, e);
	else if (require_checkpoint)
		rc = err_set(e, ERR_NOTFOUND, "no checkpoint '%s'",
			     log->cp_path);
	vault_audit_close(log);
	return rc;
}
