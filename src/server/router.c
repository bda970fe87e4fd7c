/*
 * router.c - the route table (the one list of endpoints: docs/API.md and
 * the authorization test are checked against it) and the order every
 * request goes through: match, authenticate, CSRF, role, token scope,
 * terms, handler.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/num.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "base/banned.h"

#define A SP_ADMIN
#define E SP_EVALUATOR
#define L SP_LIAISON
#define U SP_AUDITOR
#define C SP_CUSTODIAN
#define D SP_DEVELOPER
#define ANY ROLES_ANY

const struct route srv_routes[] = {
	{ "POST", "/login", 0, R_PUBLIC, api_login },
	{ "POST", "/logout", ANY, 0, api_logout },
	{ "GET", "/session", ANY, 0, api_session },
	{ "POST", "/me/password", ANY, 0, api_password },
	{ "POST", "/me/totp", ANY, 0, api_totp_begin },
	{ "POST", "/me/totp/confirm", ANY, 0, api_totp_confirm },
	{ "GET", "/tokens", ANY, 0, api_tokens_list },
	{ "POST", "/tokens", ANY, 0, api_tokens_add },
	{ "DELETE", "/tokens/{id}", ANY, 0, api_tokens_del },
	{ "GET", "/terms", ANY, 0, api_terms_get },
	{ "POST", "/terms", A, 0, api_terms_add },
	{ "POST", "/terms/accept", D, 0, api_terms_accept },
	{ "GET", "/orgs", ANY, 0, api_orgs_list },
	{ "POST", "/orgs", A, 0, api_orgs_add },
	{ "GET", "/orgs/{id}", ANY, 0, api_orgs_get },
	{ "GET", "/users", ANY, 0, api_users_list },
	{ "POST", "/users", A, 0, api_users_add },
	{ "GET", "/users/{id}", ANY, 0, api_users_get },
	{ "POST", "/users/{id}/disable", A, 0, api_users_disable },
	{ "GET", "/models", A | E | L | U | D, 0, api_models_list },
	{ "POST", "/models", D | L, 0, api_models_add },
	{ "GET", "/models/{id}", A | E | L | U | D, 0, api_models_get },
	{ "POST", "/models/{id}/credential", D | L, 0, api_models_cred },
	{ "GET", "/models/{id}/partners", A | L | D, 0, api_partners_list },
	{ "POST", "/models/{id}/partners", A | D, 0, api_partners_add },
	{ "GET", "/windows", A | E | L | U | D, 0, api_windows_list },
	{ "POST", "/windows", A, 0, api_windows_add },
	{ "POST", "/windows/{id}/close", A, 0, api_windows_close },
	{ "GET", "/grants", A | U | E, 0, api_grants_list },
	{ "POST", "/grants", A, 0, api_grants_add },
	{ "DELETE", "/grants/{id}", A, 0, api_grants_del },
	{ "GET", "/campaigns", ANY, 0, api_campaigns_list },
	{ "POST", "/campaigns", E | D, 0, api_campaigns_add },
	{ "GET", "/campaigns/{id}", ANY, 0, api_campaigns_get },
	{ "POST", "/campaigns/{id}/approve", C, 0, api_campaigns_approve },
	{ "GET", "/campaigns/{id}/unseal", E | A | C, 0, api_campaigns_unseal },
	{ "GET", "/campaigns/{id}/unseal/request", E | A | C, 0,
	  api_campaigns_unseal_request },
	{ "POST", "/campaigns/{id}/start", E, 0, api_campaigns_start },
	{ "GET", "/campaigns/{id}/events", E | A | U | D, 0,
	  api_campaigns_events },
	{ "GET", "/campaigns/{id}/determination", E | A | U | L, 0,
	  api_det_get },
	{ "POST", "/campaigns/{id}/determination/sign", E, 0, api_det_sign },
	{ "POST", "/campaigns/{id}/determination/cosign", A, 0, api_det_cosign },
	{ "GET", "/campaigns/{id}/determination/download", E | A, 0,
	  api_det_download },
	{ "GET", "/reports", A | L | U | D, 0, api_reports_list },
	{ "POST", "/campaigns/{id}/reports", L, 0, api_reports_add },
	{ "POST", "/reports/{id}/approve", A, 0, api_reports_approve },
	{ "GET", "/reports/{id}/download", A | L | D, 0, api_reports_download },
	{ "GET", "/keys", ANY, 0, api_keys_list },
	{ "GET", "/keys/{id}", ANY, 0, api_keys_get },
	{ "POST", "/keys", E | A | L, 0, api_keys_add },
	{ "GET", "/policies/{name}", E | A | U | L | C, 0, api_policies_get },
	{ "GET", "/runs/{id}", E | A, 0, api_runs_get },
	{ "GET", "/runs/{id}/episodes", E | A, 0, api_episodes_list },
	{ "GET", "/runs/{id}/episodes/{id}", E | A, 0, api_episodes_get },
	{ "GET", "/runs/{id}/episodes/{id}/events", E | A, 0, api_events_list },
	{ "GET", "/runs/{id}/charts/{name}", E | A, 0, api_runs_chart },
	{ "GET", "/runs/{id}/export/{name}", E | A, 0, api_runs_export },
	{ "GET", "/audit", ANY, 0, api_audit_list },
	{ "GET", "/audit/checkpoint", U | A, 0, api_audit_checkpoint },
	{ "GET", "/audit/proof", U | A, 0, api_audit_proof },
	{ "GET", "/exposure", U | A, 0, api_exposure },
};
const size_t srv_nroutes = sizeof(srv_routes) / sizeof(srv_routes[0]);

#undef A
#undef E
#undef L
#undef U
#undef C
#undef D
#undef ANY

void server_routes_print(FILE *f)
{
	for (size_t i = 0; i < srv_nroutes; i++)
		fprintf(f, "%s /api/v1%s %s\n", srv_routes[i].method,
			srv_routes[i].pattern,
			(srv_routes[i].flags & R_PLANNED) ? "planned" : "live");
}

/* One path segment against one pattern segment; an {id} takes a decimal
 * id in [1, 2^53) (JSON-safe), a {name} 1 to 47 of [a-z0-9.-], not
 * starting with '.' or '-'. */
static bool seg_match(const char *p, size_t pn, const char *s, size_t sn,
		      struct req *r)
{
	long long v;
	char tmp[24];

	if (pn == 6 && !memcmp(p, "{name}", 6)) {
		if (sn == 0 || sn >= sizeof(r->name) ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") < sn ||
		    *s == '.' || *s == '-')
			return false;
		memcpy(r->name, s, sn);
		r->name[sn] = 0;
		return true;
	}
	if (pn == 4 && !memcmp(p, "{id}", 4)) {
		if (sn == 0 || sn >= sizeof(tmp) || r->nids >= 4)
			return false;
		memcpy(tmp, s, sn);
		tmp[sn] = 0;
		if (num_parse_ll(tmp, 1, (1LL << 53) - 1, &v, NULL) != ERR_OK)
			return false;
		r->ids[r->nids++] = v;
		return true;
	}
	return pn == sn && !memcmp(p, s, sn);
}

static bool path_match(const char *pat, const char *path, struct req *r)
{
	r->nids = 0;
	while (*pat && *path) {
		const char *pe, *se;

		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		pe = pat + strcspn(pat, "/");
		se = path + strcspn(path, "/");
		if (!seg_match(pat, (size_t)(pe - pat), path,
			       (size_t)(se - path), r))
			return false;
		pat = pe;
		path = se;
	}
	return !*pat && !*path;
}

int srv_route_match(struct req *r)
{
	bool path_seen = false;

	for (size_t i = 0; i < srv_nroutes; i++) {
		if (!path_match(srv_routes[i].pattern, r->path, r))
			continue;
		path_seen = true;
		if (!strcmp(srv_routes[i].method, r->method)) {
			r->route = &srv_routes[i];
			return 0;
		}
	}
	r->nids = 0;
	return path_seen ? 405 : 404;
}

static bool changes_state(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD");
}

/* Developers must have accepted the current terms, except to read and
 * accept them and to manage their own session. */
static bool terms_ok(struct srv *s, struct req *r)
{
	struct sp_terms t;
	const char *p = r->route->pattern;
	bool ok;

	if (!(r->who.u.roles & SP_DEVELOPER) || !strncmp(p, "/terms", 6) ||
	    !strcmp(p, "/session") || !strcmp(p, "/logout"))
		return true;
	if (store_terms_current(srv_st(s), &t, NULL))
		return true; /* no terms published yet */
	ok = store_terms_accepted(srv_st(s), r->who.u.id) >= t.version;
	store_terms_free(&t);
	return ok;
}

void srv_dispatch(struct srv *s, struct req *r, struct reply *y)
{
	int m = srv_route_match(r);

	if (m == 404) {
		reply_err(y, 404, "not_found", NULL, "no such endpoint");
		return;
	}
	if (m == 405) {
		reply_err(y, 405, "method_not_allowed", NULL,
			  "%s is not allowed here", r->method);
		return;
	}
	if (!(r->route->flags & R_PUBLIC)) {
		srv_authenticate(s, r);
		if (!r->who.ok) {
			reply_err(y, 401, "unauthenticated", NULL,
				  "log in or send an API token");
			return;
		}
		if (changes_state(r->method) && !srv_csrf_ok(s, r)) {
			reply_err(y, 403, "csrf", NULL, "missing or wrong "
				  "X-CSRF-Token header");
			return;
		}
		if (r->who.via_token && !r->who.token_write &&
		    changes_state(r->method)) {
			reply_err(y, 403, "forbidden", NULL,
				  "this API token may only read");
			return;
		}
		if (!authz_route(s, r, y))
			return;
		if (!terms_ok(s, r)) {
			reply_err(y, 403, "terms_required", NULL, "accept the "
				  "current program terms first");
			return;
		}
	}
	if (r->route->flags & R_PLANNED) {
		reply_err(y, 501, "not_implemented", NULL,
			  "%s /api/v1%s is planned (docs/API.md)", r->method,
			  r->route->pattern);
		return;
	}
	r->route->fn(s, r, y);
	if (!y->status)
		reply_json(y, 200, NULL);
}

void reply_json(struct reply *y, int status, json_t *body)
{
	y->status = status;
	json_decref(y->body);
	y->body = body ? body : json_object();
}

void reply_err(struct reply *y, int status, const char *code,
	       const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (field)
		json_object_set_new(err, "field", json_string(field));
	reply_json(y, status, json_pack("{s:o}", "error", err));
}

void reply_fail(struct reply *y, const struct errmsg *e)
{
	switch (e->code) {
	case ERR_NOTFOUND:
		reply_err(y, 404, "not_found", NULL, "no such object");
		break;
	case ERR_INVAL:
	case ERR_PARSE:
		reply_err(y, 409, "conflict", NULL, "%s", e->text);
		break;
	case ERR_LIMIT:
		reply_err(y, 413, "too_large", NULL, "%s", e->text);
		break;
	default:
		log_error("server: %s", e->text);
		reply_err(y, 500, "internal", NULL, "the server failed "
			  "(see its log)");
	}
}

void reply_free(struct reply *y)
{
	json_decref(y->body);
	free(y->set_cookie);
	free(y->content_type);
	free(y->raw);
	memset(y, 0, sizeof(*y));
}

void reply_raw(struct reply *y, const char *type, const char *data, size_t n)
{
	y->status = 200;
	free(y->raw);
	free(y->content_type);
	y->raw = xmalloc(n + 1);
	memcpy(y->raw, data, n);
	y->raw[n] = 0;
	y->raw_len = n;
	y->content_type = xstrdup(type);
}
