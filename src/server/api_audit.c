/*
 * api_audit.c - the audit log over the API (metadata only: entries carry
 * ids, digests and times, never task text or secrets). Auditors and
 * admins read every entry; anyone else only the entries that name them as
 * the principal.
 */
#include <string.h>

#include "base/buf.h"
#include "base/num.h"
#include "server/server_int.h"
#include "vault/auditlog.h"
#include "base/banned.h"

/* Whether entry (parsed) is about principal id. */
static bool own_entry(json_t *entry, int64_t id)
{
	json_t *p = json_object_get(json_object_get(entry, "data"), "principal");

	return json_is_integer(p) && json_integer_value(p) == id;
}

void api_audit_list(struct srv *s, struct req *r, struct reply *y)
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
