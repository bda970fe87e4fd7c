/*
 * auth.c - who is asking: session cookies, API tokens, login with
 * password and TOTP, CSRF, rate limits and lockout (docs/API.md
 * "Authentication").
 *
 * Secrets (session tokens, API tokens) are random 32 bytes; the store
 * holds only their SHA-256. The dispatcher holds s->lock; the password
 * hash (Argon2id, ~0.1 s and 64 MiB) is checked with the lock released so
 * a login never stalls other requests.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "vault/pwhash.h"
#include "vault/vault.h"
#include "base/banned.h"

#define TOKEN_PREFIX "assay_"

enum err srv_random_hex(size_t n, char *out, struct errmsg *e)
{
	unsigned char raw[64];
	enum err rc;

	if (n > sizeof(raw))
		return err_set(e, ERR_LIMIT, "random token too long");
	if ((rc = random_bytes(raw, n, e)))
		return rc;
	hex_encode(raw, n, out);
	explicit_bzero(raw, sizeof(raw));
	return ERR_OK;
}

void srv_sha256_hex(const char *s, char out[65])
{
	vault_sha256_hex(s, strlen(s), out);
}

void principal_free(struct principal *p)
{
	store_user_free(&p->u);
	free(p->csrf);
	memset(p, 0, sizeof(*p));
}

/* Load user id into p when it may log in. */
static bool load_user(struct srv *s, int64_t id, struct principal *p)
{
	if (store_user_get(srv_st(s), id, &p->u, NULL))
		return false;
	if (p->u.disabled) {
		store_user_free(&p->u);
		return false;
	}
	return true;
}

static void auth_token(struct srv *s, struct req *r, const char *tok)
{
	char h[65];
	struct sp_token t;

	if (strncmp(tok, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) || strlen(tok) > 128)
		return;
	srv_sha256_hex(tok, h);
	if (store_token_by_hash(srv_st(s), h, &t, NULL))
		return;
	if (!t.revoked && t.expires_ms > wall_ms() &&
	    load_user(s, t.user_id, &r->who)) {
		r->who.ok = true;
		r->who.via_token = true;
		r->who.token_write = !strcmp(t.scope, "write");
	}
	store_token_free(&t);
}

static void auth_cookie(struct srv *s, struct req *r, const char *tok)
{
	char h[65];
	struct sp_session ss;
	int64_t now = wall_ms();

	if (strlen(tok) != 64)
		return;
	srv_sha256_hex(tok, h);
	if (store_session_get(srv_st(s), h, &ss, NULL))
		return;
	if (ss.expires_ms <= now || ss.seen_ms + SRV_SESSION_IDLE_MS <= now) {
		if (store_session_del(srv_st(s), h, NULL))
			log_warn("server: could not end an expired session");
	} else if (load_user(s, ss.user_id, &r->who)) {
		r->who.ok = true;
		memcpy(r->who.session_hash, h, sizeof(h));
		r->who.csrf = ss.csrf;
		ss.csrf = NULL;
		r->who.session_expires_ms = ss.expires_ms;
		r->who.session_idle_ms = now + SRV_SESSION_IDLE_MS;
		/* the idle clock moves at most once a minute: reads stay reads;
		 * an event stream's re-checks do not move it (an open page
		 * alone keeps no session alive) */
		if (!r->passive && now - ss.seen_ms > 60000 &&
		    store_session_touch(srv_st(s), h, now, NULL))
			log_warn("server: could not renew a session");
	}
	store_session_free(&ss);
}

static const char *proxy_user(struct srv *s, struct req *r);

void srv_authenticate(struct srv *s, struct req *r)
{
	const char *a = r->header(r->conn, "Authorization");
	const char *c;

	if (r->who.ok)
		return;
	if (a) {
		if (!strncmp(a, "Bearer ", 7))
			auth_token(s, r, a + 7);
	} else if ((c = r->cookie(r->conn, SRV_COOKIE))) {
		/* an Authorization header is never mixed with a cookie */
		auth_cookie(s, r, c);
	}
	/* the proxy's header authenticates only POST /login; a forged one
	 * on any request is audited there */
	(void)proxy_user(s, r);
}

bool srv_csrf_ok(struct srv *s, struct req *r)
{
	const char *h = r->header(r->conn, "X-CSRF-Token");

	(void)s;
	if (r->who.via_token)
		return true;
	return h && r->who.csrf && strlen(h) == strlen(r->who.csrf) &&
	       vault_ct_equal(h, r->who.csrf, strlen(h));
}

/* ---- rate limits ---- */

static struct srv_ipfail *ipslot(struct srv *s, const char *ip, bool make)
{
	struct srv_ipfail *pick = NULL;
	int64_t now = wall_ms();

	for (int i = 0; i < SRV_IPFAIL_SLOTS; i++) {
		struct srv_ipfail *f = &s->ipfail[i];
		if (f->n && !strcmp(f->ip, ip)) {
			if (now - f->first_ms > SRV_IP_WINDOW_MS)
				f->n = 0;
			return f;
		}
		/* else the first free slot, or the oldest */
		if (!pick || (pick->n && (!f->n || f->first_ms < pick->first_ms)))
			pick = f;
	}
	if (!make)
		return NULL;
	memset(pick, 0, sizeof(*pick));
	snprintf(pick->ip, sizeof(pick->ip), "%s", ip);
	pick->first_ms = now;
	return pick;
}

static bool ip_limited(struct srv *s, const char *ip, int64_t *retry_s)
{
	struct srv_ipfail *f = ipslot(s, ip, false);

	if (!f || f->n < SRV_IP_FAILS)
		return false;
	*retry_s = (f->first_ms + SRV_IP_WINDOW_MS - wall_ms()) / 1000 + 1;
	return true;
}

static void ip_fail(struct srv *s, const char *ip)
{
	struct srv_ipfail *f = ipslot(s, ip, true);

	if (!f->n)
		f->first_ms = wall_ms();
	f->n++;
}

/* ---- login ---- */

static void reply_retry(struct reply *y, const char *code, int64_t retry_s,
			const char *msg)
{
	reply_err(y, 429, code, NULL, "%s", msg);
	json_object_set_new(json_object_get(y->body, "error"), "retry_after_s",
			    json_integer(retry_s));
}

/* A failed attempt at u (NULL: unknown login): count, maybe lock, audit. */
static void login_failed(struct srv *s, struct req *r, struct sp_user *u,
			 const char *why, struct reply *y)
{
	ip_fail(s, r->client_ip);
	if (u) {
		int fails = u->fails + 1;
		int64_t until = fails >= SRV_LOCK_FAILS ? wall_ms() + SRV_LOCK_MS : 0;

		if (store_user_set_login(srv_st(s), u->id, until ? 0 : fails, until,
					 NULL))
			log_warn("server: could not count a failed login");
		if (until)
			srv_audit(s, r, "auth.lock", "login", u->login, u->id);
	}
	srv_audit(s, r, "auth.fail", "reason", why, u ? u->id : 0);
	reply_err(y, 401, "bad_credentials", NULL, "wrong login, password or "
		  "code");
}

/* Start a session for u: a fresh token (a presented one is ended). */
static void start_session(struct srv *s, struct req *r, struct sp_user *u,
			  struct reply *y)
{
	char tok[65], h[65], csrf[65];
	const char *old = r->cookie(r->conn, SRV_COOKIE);
	int64_t now = wall_ms();
	struct errmsg e;

	if (old && strlen(old) == 64) {
		srv_sha256_hex(old, h);
		if (store_session_del(srv_st(s), h, NULL))
			log_warn("server: could not end the presented session");
	}
	if (srv_random_hex(32, tok, &e) || srv_random_hex(32, csrf, &e)) {
		reply_fail(y, &e);
		return;
	}
	srv_sha256_hex(tok, h);
	if (store_session_add(srv_st(s), h, u->id, csrf, now,
			      now + SRV_SESSION_MAX_MS, &e) ||
	    store_user_set_login(srv_st(s), u->id, 0, 0, &e)) {
		reply_fail(y, &e);
		return;
	}
	y->set_cookie = xasprintf(SRV_COOKIE "=%s; Path=/; HttpOnly; Secure; "
				  "SameSite=Strict; Max-Age=%lld", tok,
				  SRV_SESSION_MAX_MS / 1000);
	explicit_bzero(tok, sizeof(tok));
	srv_audit(s, r, "auth.login", "login", u->login, u->id);
	reply_json(y, 200, json_pack("{s:o, s:s}", "user", user_json(u),
				     "csrf_token", csrf));
}

/* The password check, with the lock released (pw is the request's). */
static bool check_password(struct srv *s, const char *hash, const char *pw)
{
	char *h = xstrdup(hash);
	bool ok;

	pthread_mutex_unlock(&s->lock);
	ok = vault_pw_verify(h, pw, strlen(pw));
	pthread_mutex_lock(&s->lock);
	free(h);
	return ok;
}

/* The login the trusted reverse proxy vouches for (serve
 * --trust-proxy-header H --trust-proxy-from ADDR[/PREFIX],...), or NULL:
 * only on a connection from one of those addresses. From any other
 * address the header is ignored and the attempt audited
 * (`auth.proxy.spoof`): a client is forging the proxy's word. */
static const char *proxy_user(struct srv *s, struct req *r)
{
	const char *v;

	if (!s->o->proxy_header || !s->o->proxy_from ||
	    !(v = r->header(r->conn, s->o->proxy_header)))
		return NULL;
	if (server_proxy_trusted(s->o->proxy_from, r->client_ip))
		return v;
	srv_audit(s, r, "auth.proxy.spoof", "header", s->o->proxy_header, 0);
	return NULL;
}

/* A session for the proxy's user: the proxy authenticated them (the
 * agency's sign-on), so no password; the account must exist, be enabled
 * and not locked. An account with TOTP still gives its code (`totp` in
 * the body) unless the service was told the sign-on covers the second
 * factor (--trust-proxy-mfa). Audited either way. */
static void proxy_login(struct srv *s, struct req *r, const char *login,
			struct reply *y)
{
	struct sp_user u;
	json_t *b = NULL;
	const char *code = NULL;
	int64_t step = -1;

	memset(&u, 0, sizeof(u));
	if (r->len && (!(b = body_object(r, y)) ||
		       !jstr(b, "totp", 16, true, &code, y)))
		goto out;
	if (strlen(login) > 128 ||
	    store_user_by_login(srv_st(s), login, &u, NULL) || u.disabled) {
		srv_audit(s, r, "auth.proxy.fail", "login", strlen(login) > 128 ?
			  "(too long)" : login, u.id);
		reply_err(y, 401, "bad_credentials", NULL, "the proxy's user has "
			  "no enabled account here");
	} else if (u.locked_until_ms > wall_ms()) {
		reply_retry(y, "locked", (u.locked_until_ms - wall_ms()) / 1000 + 1,
			    "this account is locked after failed logins");
		srv_audit(s, r, "auth.locked", "login", u.login, u.id);
	} else if (u.totp_secret && !s->o->proxy_mfa && !code) {
		reply_err(y, 401, "totp_required", "totp", "a TOTP code is "
			  "needed");
	} else if (u.totp_secret && !s->o->proxy_mfa &&
		   ((step = totp_check(u.totp_secret, code, wall_ms() / 1000)) < 0 ||
		    step <= u.totp_last)) {
		login_failed(s, r, &u, "totp", y);
	} else {
		if (step >= 0 &&
		    store_user_set_totp_last(srv_st(s), u.id, step, NULL))
			log_warn("server: could not record the TOTP step");
		srv_audit(s, r, "auth.proxy", "login", u.login, u.id);
		start_session(s, r, &u, y);
	}
out:
	store_user_free(&u);
	json_decref(b);
}

void api_login(struct srv *s, struct req *r, struct reply *y)
{
	const char *vouched = proxy_user(s, r);
	json_t *b;
	const char *login, *pw, *code;
	struct sp_user u;
	int64_t retry = 0, step;
	bool known;

	if (vouched) {
		proxy_login(s, r, vouched, y);
		return;
	}
	if (!(b = body_object(r, y)))
		return;
	if (!jstr(b, "login", 128, false, &login, y) ||
	    !jstr(b, "password", 1024, false, &pw, y) ||
	    !jstr(b, "totp", 16, true, &code, y))
		goto out;
	if (ip_limited(s, r->client_ip, &retry)) {
		srv_audit(s, r, "auth.ratelimit", NULL, NULL, 0);
		reply_retry(y, "rate_limited", retry, "too many failed logins "
			    "from this address");
		goto out;
	}
	memset(&u, 0, sizeof(u));
	known = store_user_by_login(srv_st(s), login, &u, NULL) == ERR_OK;
	if (known && u.locked_until_ms > wall_ms()) {
		reply_retry(y, "locked", (u.locked_until_ms - wall_ms()) / 1000 + 1,
			    "this account is locked after failed logins");
		srv_audit(s, r, "auth.locked", "login", u.login, u.id);
	} else if (!check_password(s, known ? u.pwhash : NULL, pw) ||
		   u.disabled) {
		login_failed(s, r, known ? &u : NULL, "password", y);
	} else if (u.totp_secret && !code) {
		reply_err(y, 401, "totp_required", "totp", "a TOTP code is "
			  "needed");
	} else if (u.totp_secret &&
		   ((step = totp_check(u.totp_secret, code, wall_ms() / 1000)) < 0 ||
		    step <= u.totp_last)) {
		login_failed(s, r, &u, "totp", y);
	} else {
		if (u.totp_secret &&
		    store_user_set_totp_last(srv_st(s), u.id, step, NULL))
			log_warn("server: could not record the TOTP step");
		start_session(s, r, &u, y);
	}
	store_user_free(&u);
out:
	json_decref(b);
}

void api_logout(struct srv *s, struct req *r, struct reply *y)
{
	struct errmsg e;

	if (r->who.session_hash[0] &&
	    store_session_del(srv_st(s), r->who.session_hash, &e)) {
		reply_fail(y, &e);
		return;
	}
	y->set_cookie = xstrdup(SRV_COOKIE "=; Path=/; HttpOnly; Secure; "
				"SameSite=Strict; Max-Age=0");
	srv_audit(s, r, "auth.logout", NULL, NULL, r->who.u.id);
	reply_json(y, 200, NULL);
}

void api_session(struct srv *s, struct req *r, struct reply *y)
{
	json_t *o = json_pack("{s:o}", "user", user_json(&r->who.u));

	(void)s;
	json_object_set_new(o, "csrf_token", r->who.csrf ?
			    json_string(r->who.csrf) : json_null());
	json_object_set_new(o, "expires_ms", r->who.session_hash[0] ?
			    json_integer(r->who.session_expires_ms) : json_null());
	json_object_set_new(o, "idle_expires_ms", r->who.session_hash[0] ?
			    json_integer(r->who.session_idle_ms) : json_null());
	reply_json(y, 200, o);
}

/* The principal changed its own credential: audited (kind), 200 {}. */
static void changed_own(struct srv *s, struct req *r, struct reply *y,
			const char *kind)
{
	srv_audit(s, r, kind, NULL, NULL, r->who.u.id);
	reply_json(y, 200, NULL);
}

void api_password(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *old, *nw;
	char h[VAULT_PWHASH_MAX];
	struct errmsg e;
	enum err rc;

	if (!b)
		return;
	if (!jstr(b, "old_password", 1024, false, &old, y) ||
	    !jstr(b, "new_password", 256, false, &nw, y))
		goto out;
	if (strlen(nw) < 12) {
		reply_err(y, 400, "invalid_field", "new_password", "a password "
			  "has at least 12 bytes");
		goto out;
	}
	if (!check_password(s, r->who.u.pwhash, old)) {
		login_failed(s, r, &r->who.u, "password change", y);
		goto out;
	}
	pthread_mutex_unlock(&s->lock);
	rc = vault_pw_hash(nw, strlen(nw), h, &e);
	pthread_mutex_lock(&s->lock);
	if (rc || (rc = store_user_set_pwhash(srv_st(s), r->who.u.id, h, &e)) ||
	    (rc = store_session_del_user(srv_st(s), r->who.u.id,
					 r->who.session_hash[0] ?
					 r->who.session_hash : NULL, &e))) {
		reply_fail(y, &e);
		goto out;
	}
	changed_own(s, r, y, "auth.password");
out:
	json_decref(b);
}

void api_totp_begin(struct srv *s, struct req *r, struct reply *y)
{
	char *sec = NULL, *uri;
	struct errmsg e;

	if (totp_new_secret(&sec, &e) ||
	    store_user_set_totp(srv_st(s), r->who.u.id, r->who.u.totp_secret, sec,
				&e)) {
		free(sec);
		reply_fail(y, &e);
		return;
	}
	uri = xasprintf("otpauth://totp/assay:%s?secret=%s&issuer=assay&"
			"algorithm=SHA1&digits=6&period=30", r->who.u.login, sec);
	reply_json(y, 200, json_pack("{s:s, s:s}", "secret", sec, "uri", uri));
	explicit_bzero(sec, strlen(sec));
	free(sec);
	free(uri);
}

void api_totp_confirm(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *code;
	int64_t step;
	struct errmsg e;

	if (!b)
		return;
	if (!jstr(b, "code", 16, false, &code, y))
		goto out;
	if (!r->who.u.totp_pending) {
		reply_err(y, 409, "conflict", NULL, "no TOTP enrolment pending "
			  "(POST /me/totp first)");
		goto out;
	}
	step = totp_check(r->who.u.totp_pending, code, wall_ms() / 1000);
	if (step < 0) {
		reply_err(y, 400, "invalid_field", "code", "wrong code");
		goto out;
	}
	if (store_user_set_totp(srv_st(s), r->who.u.id, r->who.u.totp_pending, NULL,
				&e) ||
	    store_user_set_totp_last(srv_st(s), r->who.u.id, step, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	changed_own(s, r, y, "auth.totp");
out:
	json_decref(b);
}

/* ---- API tokens ---- */

static json_t *token_json(const struct sp_token *t)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:b}", "id", (json_int_t)t->id,
			 "name", t->name, "scope", t->scope, "created_ms",
			 (json_int_t)t->created_ms, "expires_ms",
			 (json_int_t)t->expires_ms, "revoked", t->revoked);
}

void api_tokens_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_token *v;
	size_t n;
	struct errmsg e;
	json_t *items = json_array();

	if (store_token_list(srv_st(s), r->who.u.id, &v, &n, &e)) {
		json_decref(items);
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, token_json(&v[i]));
	store_tokens_free(v, n);
	reply_json(y, 200, list_reply(items, 1 << 30, 0));
}

void api_tokens_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *name, *scope;
	int64_t days = 0, id = 0;
	char hex[65], h[65], *tok;
	struct sp_token t;
	struct errmsg e;

	if (!b)
		return;
	if (!jstr(b, "name", 64, false, &name, y) ||
	    !jstr(b, "scope", 8, false, &scope, y) ||
	    !jint(b, "days", 1, SRV_TOKEN_DAYS_MAX, false, &days, y))
		goto out;
	if (strcmp(scope, "read") && strcmp(scope, "write")) {
		reply_err(y, 400, "invalid_field", "scope", "'scope' is read or "
			  "write");
		goto out;
	}
	if (srv_random_hex(32, hex, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	tok = xasprintf(TOKEN_PREFIX "%s", hex);
	srv_sha256_hex(tok, h);
	memset(&t, 0, sizeof(t));
	t.user_id = r->who.u.id;
	t.name = (char *)name;
	t.scope = (char *)scope;
	t.expires_ms = wall_ms() + days * 86400000LL;
	if (store_token_add(srv_st(s), &t, h, &id, &e))
		reply_fail(y, &e);
	else {
		srv_audit(s, r, "token.create", "scope", scope, id);
		reply_json(y, 201, json_pack("{s:I, s:s, s:I}", "id",
					     (json_int_t)id, "token", tok,
					     "expires_ms",
					     (json_int_t)t.expires_ms));
	}
	explicit_bzero(tok, strlen(tok));
	free(tok);
out:
	json_decref(b);
}

void api_tokens_del(struct srv *s, struct req *r, struct reply *y)
{
	struct errmsg e;

	if (store_token_revoke(srv_st(s), r->ids[0], r->who.u.id, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "not own token");
		return;
	}
	srv_audit(s, r, "token.revoke", NULL, NULL, r->ids[0]);
	reply_json(y, 200, NULL);
}
