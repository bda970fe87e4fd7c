/*
 * api_audit.c - the audit log over the API (metadata only: entries carry
 * ids, digests and times, never task text or secrets). Auditors and
 * admins read every entry; anyone else only the entries that name them as
 * the principal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/num.h"
#include "server/server_int.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "base/banned.h"

/* Whether entry (parsed) is about principal id. */
static bool own_entry(json_t *entry, int64_t id)
{
	json_t *p = json_object_get(json_object_get(entry, "data"), "principal");

	return json_is_integer(p) && json_integer_value(p) == id;
}

static void audit_list_locked(struct srv *s, struct req *r,
			      struct reply *y)
{
	const char *f = r->query(r->conn, "from"), *l = r->query(r->conn, "limit");
	long long from = 0, limit = 100;
	bool all = has_role(&r->who, SP_ADMIN | SP_AUDITOR);
	struct buf b;
	struct errmsg e;
	json_t *items;
	uint64_t size, i;

	if ((f && num_parse_ll(f, 0, INT64_MAX, &from, NULL)) ||
	    (l && num_parse_ll(l, 1, 500, &limit, NULL))) {
		reply_err(y, 400, "bad_request", f ? "from" : "limit", "'from' "
			  "is an index, 'limit' in [1, 500]");
		return;
	}
	if (!s->audit || vault_audit_refresh(s->audit, &e)) {
		reply_err(y, 503, "unavailable", NULL, "the audit log is not "
			  "available");
		return;
	}
	size = vault_audit_size(s->audit);
	items = json_array();
	buf_init(&b, VAULT_AUDIT_ENTRY_MAX + 1);
	/* scan at most 10 x limit entries for one page */
	for (i = (uint64_t)from; i < size && json_array_size(items) <
	     (size_t)limit && i < (uint64_t)from + 10 * (uint64_t)limit; i++) {
		json_t *v;

		buf_reset(&b);
		if (vault_audit_entry(s->audit, i, &b, &e))
			break;
		v = json_loadb(b.data, b.len, 0, NULL);
		if (!v)
			continue;
		if (all || own_entry(v, r->who.u.id))
			json_array_append_new(items, json_pack("{s:I, s:o}",
					      "index", (json_int_t)i, "entry", v));
		else
			json_decref(v);
	}
	buf_release(&b);
	reply_json(y, 200, json_pack("{s:o, s:o, s:I}", "items", items, "next",
				     i < size ? json_integer((json_int_t)i)
					      : json_null(),
				     "size", (json_int_t)size));
}

/* The log's in-memory view moves (vault_audit_refresh): one reader or
 * writer at a time, reads running outside s->lock. */
void api_audit_list(struct srv *s, struct req *r, struct reply *y)
{
	pthread_mutex_lock(&s->audit_lock);
	audit_list_locked(s, r, y);
	pthread_mutex_unlock(&s->audit_lock);
}

static json_t *hex_of(const vault_hash h)
{
	char out[2 * VAULT_HASH_LEN + 1];

	hex_encode(h, VAULT_HASH_LEN, out);
	return json_string(out);
}

static void audit_checkpoint_locked(struct srv *s, struct req *r,
				    struct reply *y)
{
	vault_hash root;
	uint64_t size;
	struct errmsg e;
	char *note = NULL;
	size_t n = 0;
	json_t *o;

	(void)r;
	if (!s->audit || vault_audit_refresh(s->audit, &e)) {
		reply_err(y, 503, "unavailable", NULL, "the audit log is not "
			  "available");
		return;
	}
	size = vault_audit_size(s->audit);
	if (vault_audit_root(s->audit, size, root, &e)) {
		reply_fail(y, &e);
		return;
	}
	if (file_read(vault_audit_checkpoint_path(s->audit), VAULT_NOTE_MAX,
		      &note, &n, NULL))
		note = NULL;
	o = json_pack("{s:I, s:o, s:o}", "size", (json_int_t)size, "root",
		      hex_of(root), "checkpoint", note ? json_string(note)
						       : json_null());
	free(note);
	reply_json(y, 200, o);
}

void api_audit_checkpoint(struct srv *s, struct req *r, struct reply *y)
{
	pthread_mutex_lock(&s->audit_lock);
	audit_checkpoint_locked(s, r, y);
	pthread_mutex_unlock(&s->audit_lock);
}

static void audit_proof_locked(struct srv *s, struct req *r,
			       struct reply *y)
{
	const char *qi = r->query(r->conn, "index"), *qs = r->query(r->conn, "size");
	long long idx = 0, size = 0;
	struct vault_proof p;
	struct errmsg e;
	json_t *path;

	if (!s->audit || vault_audit_refresh(s->audit, &e)) {
		reply_err(y, 503, "unavailable", NULL, "the audit log is not "
			  "available");
		return;
	}
	size = (long long)vault_audit_size(s->audit);
	if (!qi || num_parse_ll(qi, 0, INT64_MAX, &idx, NULL) ||
	    (qs && num_parse_ll(qs, 1, INT64_MAX, &size, NULL)) ||
	    idx >= size || (uint64_t)size > vault_audit_size(s->audit)) {
		reply_err(y, 400, "bad_request", "index", "'index' is an entry "
			  "below 'size', which is at most the log's size");
		return;
	}
	memset(&p, 0, sizeof(p));
	if (vault_audit_leaf(s->audit, (uint64_t)idx, p.leaf, &e) ||
	    vault_audit_inclusion(s->audit, (uint64_t)idx, (uint64_t)size,
				  p.hashes, &p.len, &e)) {
		reply_fail(y, &e);
		return;
	}
	path = json_array();
	for (size_t i = 0; i < p.len; i++)
		json_array_append_new(path, hex_of(p.hashes[i]));
	reply_json(y, 200, json_pack("{s:I, s:I, s:o, s:o}", "index",
				     (json_int_t)idx, "size", (json_int_t)size,
				     "leaf", hex_of(p.leaf), "path", path));
}

void api_audit_proof(struct srv *s, struct req *r, struct reply *y)
{
	pthread_mutex_lock(&s->audit_lock);
	audit_proof_locked(s, r, y);
	pthread_mutex_unlock(&s->audit_lock);
}

void api_exposure(struct srv *s, struct req *r, struct reply *y)
{
	const char *q = r->query(r->conn, "org_id");
	struct store_exposure *v = NULL;
	size_t n = 0;
	long long org = 0;
	char dev[32];
	struct errmsg e;
	json_t *items;

	if (q && num_parse_ll(q, 1, (1LL << 53) - 1, &org, NULL)) {
		reply_err(y, 400, "bad_request", "org_id", "'org_id' is an id");
		return;
	}
	snprintf(dev, sizeof(dev), "org-%lld", org);
	if (store_exposure_list(srv_st(s), org ? dev : NULL, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, json_pack("{s:s?, s:s?, s:s?, s:s?, "
			"s:s?, s:I, s:I}", "task", v[i].task_id, "digest",
			v[i].task_digest, "suite", v[i].suite_id, "developer",
			v[i].developer, "model", v[i].model, "run",
			(json_int_t)v[i].run_id, "ms", (json_int_t)v[i].first_ms));
	store_exposures_free(v, n);
	reply_json(y, 200, list_reply(items, 1 << 30, 0));
}
