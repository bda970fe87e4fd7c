/*
 * authz.c - roles and objects, deny by default (docs/API.md "Roles and
 * need-to-know"), and the audit entries of grants, state changes and
 * denials.
 *
 * Two checks, both on every request: the route's role set (router.c's
 * table), then the handler's object check (authz_sees_org and the
 * need-to-know grants), which ends in authz_deny when it fails. A denial
 * names no more than the principal could already see: an object it may
 * not see is "not found", exactly like one that does not exist.
 */
#include <string.h>

#include "base/log.h"
#include "server/server_int.h"
#include "vault/auditlog.h"
#include "base/banned.h"

bool has_role(const struct principal *p, unsigned roles)
{
	return roles == ROLES_ANY ? p->ok : (p->u.roles & roles) != 0;
}

void srv_audit(struct srv *s, struct req *r, const char *kind,
	       const char *k1, const char *v1, int64_t object)
{
	struct vault_audit_field f[6] = {
		VAULT_AUDIT_I("principal", r->who.ok ? r->who.u.id : 0),
		VAULT_AUDIT_S("method", r->method),
		VAULT_AUDIT_S("route", r->route ? r->route->pattern : r->path),
		VAULT_AUDIT_I("object", object),
		VAULT_AUDIT_S("ip", r->client_ip),
		VAULT_AUDIT_S(k1 ? k1 : "detail", v1),
	};
	struct errmsg e;
	enum err rc;

	if (!s->audit)
		return;
	pthread_mutex_lock(&s->audit_lock);
	rc = vault_audit_append(s->audit, kind, f, 6, &e);
	pthread_mutex_unlock(&s->audit_lock);
	if (rc)
		log_error("server: audit log: %s", e.text);
}

void authz_deny(struct srv *s, struct req *r, struct reply *y, bool visible,
		int64_t object, const char *reason)
{
	srv_audit(s, r, "authz.deny", "reason", reason, object);
	if (visible)
		reply_err(y, 403, "forbidden", NULL, "your roles or grants do "
			  "not allow this");
	else
		reply_err(y, 404, "not_found", NULL, "no such object");
}

void reply_load_fail(struct srv *s, struct req *r, struct reply *y,
		     const struct errmsg *e, int64_t object, const char *reason)
{
	if (e->code == ERR_NOTFOUND)
		authz_deny(s, r, y, false, object, reason);
	else
		reply_fail(y, e);
}

bool authz_route(struct srv *s, struct req *r, struct reply *y)
{
	if (has_role(&r->who, r->route->roles))
		return true;
	authz_deny(s, r, y, true, r->nids ? r->ids[0] : 0, "role");
	return false;
}

int64_t authz_org_scope(const struct principal *p)
{
	return (p->u.roles & SP_DEVELOPER) ? p->u.org_id : 0;
}

bool authz_sees_org(const struct principal *p, int64_t org_id)
{
	if (!p->ok)
		return false;
	if (p->u.roles & SP_DEVELOPER)
		return p->u.org_id == org_id;
	return true; /* agency staff see organisations' metadata */
}
