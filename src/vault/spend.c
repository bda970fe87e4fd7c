/*
 * spend.c - one request, one run: the audit log as the ledger of spent
 * unseal requests.
 *
 * A request is named by its fingerprint, the SHA-256 of its X25519 key.
 * Every unseal writes an "unseal" entry naming it (and the run served,
 * when it exists); a new run names itself afterwards in an "unseal.run"
 * entry. Before an unseal, the log is read for entries naming the
 * request: any earlier unseal that was not a dry run spends it, for good,
 * except for the run it served (a resume). The entries are the vault's
 * own JSON (base/jsonw): a value cannot hold an unescaped quote, so the
 * text "request":"FP" occurs only as that field.
 */
#include "vault/vault_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/jsonw.h"
#include "base/xalloc.h"
#include "vault/auditlog.h"
#include "vault/spend.h"
#include "base/banned.h"

/* `"key":"value"` exactly as the log writes it, into out. */
static void pair(const char *key, const char *value, struct buf *out)
{
	struct buf b;
	struct jsonw w;
	struct errmsg e;

	buf_init(&b, 8192);
	jsonw_init(&w, &b, JSONW_LOSSY);
	jsonw_obj(&w);
	jsonw_kstr(&w, key, value);
	jsonw_obj_end(&w);
	buf_reset(out);
	if (jsonw_finish(&w, &e) == ERR_OK && b.len >= 2 &&
	    buf_add(out, b.data + 1, b.len - 2))
		buf_reset(out);   /* over the cap: matches nothing */
	buf_release(&b);
}

static bool has(const struct buf *entry, const struct buf *needle)
{
	return needle->len && memmem(entry->data, entry->len, needle->data,
				     needle->len) != NULL;
}

static bool has_s(const struct buf *entry, const char *s)
{
	return memmem(entry->data, entry->len, s, strlen(s)) != NULL;
}

static void classify(const struct buf *entry, const struct buf *served,
		     uint64_t seq, struct vault_spend *sp)
{
	if (has_s(entry, "\"kind\":\"unseal.run\"")) {
		if (has(entry, served))
			sp->bound_here = true;
		else if (!sp->bound_elsewhere) {
			sp->bound_elsewhere = true;
			sp->seq = seq;
		}
	} else if (has_s(entry, "\"kind\":\"unseal\"") &&
		   !has_s(entry, "\"dry_run\":true")) {
		if (served->len && has(entry, served))
			sp->bound_here = true;
		else if (!sp->spent) {
			sp->spent = true;
			sp->seq = sp->bound_elsewhere ? sp->seq : seq;
		}
	}
}

enum err vault_spend_scan(struct vault_audit *log, const char *request,
			  const char *served, struct vault_spend *sp,
			  struct errmsg *e)
{
	struct buf entry, needle, here;
	uint64_t n;
	enum err rc = vault_audit_refresh(log, e);

	memset(sp, 0, sizeof(*sp));
	if (rc)
		return rc;
	buf_init(&entry, VAULT_AUDIT_ENTRY_MAX + 1);
	buf_init(&needle, 8192);
	buf_init(&here, 8192);
	pair("request", request, &needle);
	if (served)
		pair("served", served, &here);
	n = vault_audit_size(log);
	for (uint64_t i = 0; i < n && !rc; i++) {
		buf_reset(&entry);
		rc = vault_audit_entry(log, i, &entry, e);
		if (!rc && has(&entry, &needle))
			classify(&entry, &here, i, sp);
	}
	buf_release(&entry);
	buf_release(&needle);
	buf_release(&here);
	return rc;
}

int vault_spend_lock(struct vault_audit *log, struct errmsg *e)
{
	char *path = xasprintf("%s/unseal.lock", vault_audit_dir(log));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err_sys(e, ERR_IO, "cannot lock '%s'", path);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

void vault_spend_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* releases the flock */
}
