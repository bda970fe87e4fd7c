/*
 * admin.c - `assay admin init`: the agency's organisation and the first
 * program admin.
 */
#include <string.h>

#include "server/server_int.h"
#include "vault/auditlog.h"
#include "vault/pwhash.h"
#include "base/banned.h"

enum err server_admin_init(struct store *st, const char *audit_dir,
			   const char *login, const char *name,
			   const char *pw, struct errmsg *e)
{
	struct sp_user u;
	char h[VAULT_PWHASH_MAX];
	int64_t org = 0;
	enum err rc;
	size_t n = strlen(login);

	if (store_user_count(st) != 0)
		return err_set(e, ERR_INVAL, "the program has users already; "
			       "admins add people over the API");
	if (n == 0 || n > 64 ||
	    strspn(login, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return err_set(e, ERR_INVAL, "a login is 1 to 64 of a-z 0-9 . _ -");
	if (strlen(pw) < 12 || strlen(pw) > 256)
		return err_set(e, ERR_INVAL, "a password has 12 to 256 bytes");
	if ((rc = vault_pw_hash(pw, strlen(pw), h, e)))
		return rc;
	if ((rc = store_org_add(st, "agency", "agency", &org, e)))
		return err_prefix(e, "agency organisation");
	memset(&u, 0, sizeof(u));
	u.login = (char *)login;
	u.name = (char *)name;
	u.org_id = org;
	u.roles = SP_ADMIN;
	u.pwhash = h;
	if ((rc = store_user_add(st, &u, &u.id, e)))
		return rc;
	{
		struct vault_audit_field f[] = {
			VAULT_AUDIT_I("principal", u.id),
			VAULT_AUDIT_S("login", login),
			VAULT_AUDIT_I("object", u.id),
		};
		rc = vault_audit_record(audit_dir, "admin.init", f, 3, e);
	}
	return rc;
}
