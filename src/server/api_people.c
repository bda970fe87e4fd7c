/*
 * api_people.c - organisations, people and the program's terms
 * (docs/API.md: /orgs, /users, /terms).
 */
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "vault/pwhash.h"
#include "base/banned.h"

static const char *const role_names[] = {
	"admin", "evaluator", "liaison", "auditor", "custodian", "developer",
};

const char *role_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (bit == 1u << i)
			return role_names[i];
	return NULL;
}

unsigned role_parse(const char *name)
{
	for (unsigned i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (!strcmp(name, role_names[i]))
			return 1u << i;
	return 0;
}

json_t *user_json(const struct sp_user *u)
{
	json_t *roles = json_array();

	for (unsigned b = 1; b <= SP_DEVELOPER; b <<= 1)
		if (u->roles & b)
			json_array_append_new(roles, json_string(role_name(b)));
	return json_pack("{s:I, s:s, s:s, s:I, s:o, s:b, s:b, s:I}", "id",
			 (json_int_t)u->id, "login", u->login, "name", u->name,
			 "org_id", (json_int_t)u->org_id, "roles", roles,
			 "totp", u->totp_secret != NULL, "disabled", u->disabled,
			 "created_ms", (json_int_t)u->created_ms);
}

static json_t *org_json(const struct sp_org *o)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:o}", "id", (json_int_t)o->id,
			 "name", o->name, "kind", o->kind, "created_ms",
			 (json_int_t)o->created_ms, "terms_accepted",
			 o->terms_version ? json_integer(o->terms_version)
					  : json_null());
}

/* ---- organisations ---- */

void api_orgs_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_org *v;
	size_t n;
	struct list_page pg;
	struct errmsg e;

	if (!list_begin(r, y, &pg))
		return;
	if (store_org_list(srv_st(s), pg.after, pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, authz_sees_org(&r->who, v[i].id)
					       ? org_json(&v[i]) : NULL);
	store_orgs_free(v, n);
	list_end(y, &pg);
}

void api_orgs_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_org o;
	struct errmsg e;

	if (!authz_sees_org(&r->who, r->ids[0])) {
		authz_deny(s, r, y, false, r->ids[0], "other organisation");
		return;
	}
	if (store_org_get(srv_st(s), r->ids[0], &o, &e)) {
		reply_fail(y, &e);
		return;
	}
	reply_json(y, 200, org_json(&o));
	store_org_free(&o);
}

void api_orgs_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *name, *kind;
	int64_t id = 0;
	struct sp_org o;
	struct errmsg e;

	if (!b)
		return;
	if (!jstr(b, "name", 128, false, &name, y) ||
	    !jstr(b, "kind", 16, false, &kind, y))
		goto out;
	if (strcmp(kind, "developer") && strcmp(kind, "partner")) {
		reply_err(y, 400, "invalid_field", "kind", "'kind' is developer "
			  "or partner");
		goto out;
	}
	if (store_org_add(srv_st(s), name, kind, &id, &e) ||
	    store_org_get(srv_st(s), id, &o, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	srv_audit(s, r, "org.create", "kind", kind, id);
	reply_json(y, 201, org_json(&o));
	store_org_free(&o);
out:
	json_decref(b);
}

/* ---- people ---- */

void api_users_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_user *v;
	size_t n;
	struct list_page pg;
	struct errmsg e;
	/* admins and auditors list everyone; others their organisation */
	int64_t org = has_role(&r->who, SP_ADMIN | SP_AUDITOR) ? 0
							    : r->who.u.org_id;

	if (!list_begin(r, y, &pg))
		return;
	if (store_user_list(srv_st(s), org, pg.after, pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, user_json(&v[i]));
	store_users_free(v, n);
	list_end(y, &pg);
}

/* Load user id if the principal may see it; else the reply is set. */
static bool visible_user(struct srv *s, struct req *r, struct reply *y,
			 struct sp_user *u)
{
	struct errmsg e;

	if (store_user_get(srv_st(s), r->ids[0], u, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "no such user");
		return false;
	}
	if (!has_role(&r->who, SP_ADMIN | SP_AUDITOR) &&
	    u->org_id != r->who.u.org_id) {
		store_user_free(u);
		authz_deny(s, r, y, false, r->ids[0], "other organisation");
		return false;
	}
	return true;
}

void api_users_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_user u;

	if (!visible_user(s, r, y, &u))
		return;
	reply_json(y, 200, user_json(&u));
	store_user_free(&u);
}

void api_users_disable(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_user u;
	struct errmsg e;

	if (!visible_user(s, r, y, &u))
		return;
	if (u.id == r->who.u.id) {
		authz_deny(s, r, y, true, u.id, "own account");
	} else if (store_user_set_disabled(srv_st(s), u.id, true, &e) ||
		   store_session_del_user(srv_st(s), u.id, NULL, &e)) {
		reply_fail(y, &e);
	} else {
		u.disabled = true;
		srv_audit(s, r, "user.disable", "login", u.login, u.id);
		reply_json(y, 200, user_json(&u));
	}
	store_user_free(&u);
}

static bool login_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* The roles array of b into *roles; false with a reply when bad. */
static bool parse_roles(json_t *b, unsigned *roles, struct reply *y)
{
	json_t *a = json_object_get(b, "roles"), *v;
	size_t i;

	*roles = 0;
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > 6) {
		reply_err(y, 400, "invalid_field", "roles", "'roles' is a list "
			  "of 1 to 6 role names");
		return false;
	}
	json_array_foreach(a, i, v) {
		unsigned bit = json_is_string(v) ? role_parse(json_string_value(v))
						 : 0;
		if (!bit) {
			reply_err(y, 400, "invalid_field", "roles", "roles are "
				  "admin, evaluator, liaison, auditor, "
				  "custodian or developer");
			return false;
		}
		*roles |= bit;
	}
	return true;
}

/* Create the user u (login, name, org_id, roles) with a new random
 * password, returned in pw (33 bytes). */
static enum err make_user(struct srv *s, struct sp_user *u, char pw[33],
			  struct errmsg *e)
{
	char h[VAULT_PWHASH_MAX];
	enum err rc = srv_random_hex(16, pw, e);

	if (rc)
		return rc;
	pthread_mutex_unlock(&s->lock);
	rc = vault_pw_hash(pw, strlen(pw), h, e);
	pthread_mutex_lock(&s->lock);
	if (rc)
		return rc;
	u->pwhash = h;
	rc = store_user_add(srv_st(s), u, &u->id, e);
	u->pwhash = NULL;
	if (rc == ERR_INVAL)
		err_set(e, ERR_INVAL, "that login is taken");
	return rc;
}

void api_users_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y), *o;
	const char *login, *name;
	struct sp_user u;
	struct sp_org org;
	char pw[33];
	struct errmsg e;
	bool agency;

	if (!b)
		return;
	memset(&u, 0, sizeof(u));
	if (!jstr(b, "login", 64, false, &login, y) ||
	    !jstr(b, "name", 128, false, &name, y) ||
	    !jint(b, "org_id", 1, (1LL << 53) - 1, false, &u.org_id, y) ||
	    !parse_roles(b, &u.roles, y))
		goto out;
	if (!login_ok(login)) {
		reply_err(y, 400, "invalid_field", "login", "a login is 1 to 64 "
			  "of a-z 0-9 . _ -");
		goto out;
	}
	if (store_org_get(srv_st(s), u.org_id, &org, &e)) {
		reply_err(y, 400, "invalid_field", "org_id", "no such "
			  "organisation");
		goto out;
	}
	agency = !strcmp(org.kind, "agency");
	store_org_free(&org);
	if (agency == ((u.roles & SP_DEVELOPER) != 0) ||
	    (!agency && u.roles != SP_DEVELOPER)) {
		reply_err(y, 400, "invalid_field", "roles", "members of an "
			  "external organisation are developers, and only they");
		goto out;
	}
	u.login = (char *)login;
	u.name = (char *)name;
	if (make_user(s, &u, pw, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	u.created_ms = 0;
	srv_audit(s, r, "user.create", "login", login, u.id);
	o = user_json(&u);
	json_object_set_new(o, "initial_password", json_string(pw));
	explicit_bzero(pw, sizeof(pw));
	reply_json(y, 201, o);
out:
	json_decref(b);
}

/* ---- terms ---- */

static json_t *terms_json(const struct sp_terms *t)
{
	return json_pack("{s:I, s:s, s:I}", "version", (json_int_t)t->version,
			 "text", t->text, "created_ms", (json_int_t)t->created_ms);
}

void api_terms_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_terms t;
	struct errmsg e;

	(void)r;
	if (store_terms_current(srv_st(s), &t, &e)) {
		reply_fail(y, &e);
		return;
	}
	reply_json(y, 200, terms_json(&t));
	store_terms_free(&t);
}

void api_terms_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *text;
	struct sp_terms t;
	int64_t v = 0;
	struct errmsg e;

	if (!b)
		return;
	if (!jstr(b, "text", 32 * 1024, false, &text, y))
		goto out;
	if (store_terms_add(srv_st(s), text, r->who.u.id, &v, &e) ||
	    store_terms_current(srv_st(s), &t, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	srv_audit(s, r, "terms.publish", NULL, NULL, v);
	reply_json(y, 201, terms_json(&t));
	store_terms_free(&t);
out:
	json_decref(b);
}

void api_terms_accept(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	int64_t v = 0;
	struct sp_terms t;
	struct errmsg e;

	if (!b)
		return;
	if (!jint(b, "version", 1, (1LL << 53) - 1, false, &v, y))
		goto out;
	if (store_terms_current(srv_st(s), &t, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	if (t.version != v) {
		reply_err(y, 409, "conflict", "version", "the current terms are "
			  "version %lld", (long long)t.version);
	} else if (store_terms_accept(srv_st(s), r->who.u.id, v, &e)) {
		reply_fail(y, &e);
	} else {
		srv_audit(s, r, "terms.accept", NULL, NULL, v);
		reply_json(y, 200, NULL);
	}
	store_terms_free(&t);
out:
	json_decref(b);
}
