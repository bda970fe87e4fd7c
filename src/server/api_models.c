/*
 * api_models.c - models and their credentials, access windows with
 * crypto-erasure at their end, need-to-know grants, trusted partners
 * (docs/API.md: /models, /windows, /grants, /models/{id}/partners).
 *
 * A credential is sealed at once under a key of its own
 * (KEY_DIR/model-ID.key, vault/atrest.h) with the model's id as
 * associated data; the sealed text is in the store, the key on disk.
 * Nothing ever returns it; at the window's end (or when an admin closes
 * the window) the key is overwritten and removed, which destroys the
 * credential even in old copies of the store, and that is audited.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "vault/atrest.h"
#include "base/banned.h"

#define DAY_MS 86400000LL
#define WINDOW_MAX_MS (30 * DAY_MS)

static char *key_path(struct srv *s, int64_t model_id)
{
	char name[64];

	snprintf(name, sizeof(name), "model-%lld.key", (long long)model_id);
	return path_join(s->key_dir, name);
}

/* ---- visibility ---- */

bool authz_sees_model(struct srv *s, const struct principal *p,
		      const struct sp_model *m)
{
	if (!(p->u.roles & SP_DEVELOPER))
		return true; /* agency staff see models' metadata */
	if (m->org_id == p->u.org_id)
		return true;
	return store_partner_active(srv_st(s), m->id, p->u.org_id) &&
	       store_window_open_now(srv_st(s), m->id, wall_ms());
}

/* Load model id when the principal may see it; else reply and false. */
bool visible_model(struct srv *s, struct req *r, struct reply *y, int64_t id,
		   struct sp_model *m)
{
	struct errmsg e;

	if (store_model_get(srv_st(s), id, m, &e)) {
		reply_load_fail(s, r, y, &e, id, "no such model");
		return false;
	}
	if (!authz_sees_model(s, &r->who, m)) {
		store_model_free(m);
		authz_deny(s, r, y, false, id, "other organisation");
		return false;
	}
	return true;
}

static json_t *model_json(const struct sp_model *m)
{
	json_t *o = json_loads(m->doc, 0, NULL);

	if (!o)
		o = json_object();
	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "org_id", json_integer(m->org_id));
	json_object_set_new(o, "has_credential", json_boolean(m->has_credential));
	json_object_set_new(o, "created_ms", json_integer(m->created_ms));
	return o;
}

/* ---- models ---- */

void api_models_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_model *v = NULL;
	size_t n = 0;
	struct list_page pg;
	struct errmsg e;

	if (!list_begin(r, y, &pg))
		return;
	if (store_model_list(srv_st(s), 0, pg.after, pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, authz_sees_model(s, &r->who, &v[i])
					       ? model_json(&v[i]) : NULL);
	store_models_free(v, n);
	list_end(y, &pg);
}

void api_models_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_model m;

	if (!visible_model(s, r, y, r->ids[0], &m))
		return;
	reply_json(y, 200, model_json(&m));
	store_model_free(&m);
}

static bool date_ok(const char *d, int64_t *end_of_day_ms)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (strlen(d) != 10 || !(end = strptime(d, "%Y-%m-%d", &tm)) || *end)
		return false;
	*end_of_day_ms = (int64_t)timegm(&tm) * 1000 + DAY_MS;
	return true;
}

/* Copy the string fields of sub-object k of b (names in f) into doc. */
static bool copy_obj(json_t *b, json_t *doc, const char *k,
		     const char *const *f, size_t nf, size_t max,
		     struct reply *y)
{
	json_t *o = json_object_get(b, k), *out = json_object();

	if (o && !json_is_object(o)) {
		json_decref(out);
		reply_err(y, 400, "invalid_field", k, "'%s' is an object", k);
		return false;
	}
	for (size_t i = 0; i < nf; i++) {
		const char *v = NULL;  /* stays NULL when there is no k */

		if (o && !jstr(o, f[i], max, true, &v, y)) {
			json_decref(out);
			return false;
		}
		json_object_set_new(out, f[i], v ? json_string(v) : json_null());
	}
	json_object_set_new(doc, k, out);
	return true;
}

/* Seal cred for model id and store it. */
static enum err seal_cred(struct srv *s, int64_t id, const char *cred,
			  struct errmsg *e)
{
	char *path = key_path(s, id), ad[48], *sealed;
	struct vault_atrest *k;
	enum err rc = mkdir_p(s->key_dir, 0700, e);

	if (!rc)
		rc = vault_atrest_load(path, &k, e);
	free(path);
	if (rc)
		return rc;
	snprintf(ad, sizeof(ad), "model:%lld:credential", (long long)id);
	sealed = vault_atrest_seal(k, ad, cred);
	vault_atrest_free(k);
	rc = store_model_set_cred(srv_st(s), id, sealed, e);
	free(sealed);
	return rc;
}

/* Whether organisation org (the body's org_id) exists and is of kind;
 * else a 400 on org_id, saying wrong_kind when it is of another kind. */
static bool org_of_kind(struct srv *s, int64_t org, const char *kind,
			const char *wrong_kind, struct reply *y)
{
	struct sp_org o;
	struct errmsg e;
	bool ok;

	if (store_org_get(srv_st(s), org, &o, &e)) {
		reply_err(y, 400, "invalid_field", "org_id", "no such "
			  "organisation");
		return false;
	}
	ok = !strcmp(o.kind, kind);
	store_org_free(&o);
	if (!ok)
		reply_err(y, 400, "invalid_field", "org_id", "%s", wrong_kind);
	return ok;
}

void api_models_add(struct srv *s, struct req *r, struct reply *y)
{
	static const char *const card[] = { "summary", "intended_use",
					    "known_limitations" };
	static const char *const ep[] = { "provider", "base_url", "model" };
	json_t *b = body_object(r, y), *doc = NULL;
	const char *name, *version, *date, *access, *cred;
	int64_t org = r->who.u.org_id, eod, id = 0;
	struct sp_model m;
	struct errmsg e;
	char *text;

	if (!b)
		return;
	if (!jstr(b, "name", 128, false, &name, y) ||
	    !jstr(b, "version", 64, false, &version, y) ||
	    !jstr(b, "release_date", 10, false, &date, y) ||
	    !jstr(b, "access", 16, false, &access, y) ||
	    !jstr(b, "credential", 8192, true, &cred, y))
		goto out;
	if (!(r->who.u.roles & SP_DEVELOPER) &&
	    !jint(b, "org_id", 1, (1LL << 53) - 1, false, &org, y))
		goto out;
	if (!date_ok(date, &eod)) {
		reply_err(y, 400, "invalid_field", "release_date", "a date is "
			  "YYYY-MM-DD");
		goto out;
	}
	if (strcmp(access, "api") && strcmp(access, "dedicated") &&
	    strcmp(access, "weights")) {
		reply_err(y, 400, "invalid_field", "access", "'access' is api, "
			  "dedicated or weights");
		goto out;
	}
	if (!org_of_kind(s, org, "developer", "models belong to a developer "
			 "organisation", y))
		goto out;
	doc = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "version",
			version, "release_date", date, "access", access);
	if (!copy_obj(b, doc, "card", card, 3, 4096, y) ||
	    !copy_obj(b, doc, "endpoint", ep, 3, 512, y))
		goto out;
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (store_model_add(srv_st(s), org, text, date, r->who.u.id, &id, &e) ||
	    (cred && seal_cred(s, id, cred, &e)) ||
	    store_model_get(srv_st(s), id, &m, &e)) {
		free(text);
		reply_fail(y, &e);
		goto out;
	}
	free(text);
	srv_audit(s, r, "model.register", "credential", cred ? "sealed" : "none",
		  id);
	reply_json(y, 201, model_json(&m));
	store_model_free(&m);
out:
	json_decref(doc);
	json_decref(b);
}

void api_models_cred(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b;
	const char *cred;
	struct sp_model m;
	struct errmsg e;

	if (!visible_model(s, r, y, r->ids[0], &m))
		return;
	if ((r->who.u.roles & SP_DEVELOPER) && m.org_id != r->who.u.org_id) {
		authz_deny(s, r, y, true, m.id, "not own model");
		store_model_free(&m);
		return;
	}
	store_model_free(&m);
	if (!(b = body_object(r, y)))
		return;
	if (jstr(b, "credential", 8192, false, &cred, y)) {
		if (seal_cred(s, r->ids[0], cred, &e) ||
		    store_model_get(srv_st(s), r->ids[0], &m, &e)) {
			reply_fail(y, &e);
		} else {
			srv_audit(s, r, "model.credential", "credential",
				  "sealed", m.id);
			reply_json(y, 200, model_json(&m));
			store_model_free(&m);
		}
	}
	json_decref(b);
}

/* ---- windows ---- */

static json_t *window_json(const struct sp_window *w, int64_t now)
{
	const char *state = w->closed_ms ? "closed" :
			    now < w->start_ms ? "scheduled" : "open";

	return json_pack("{s:I, s:I, s:I, s:I, s:s, s:o, s:b, s:I}", "id",
			 (json_int_t)w->id, "model_id", (json_int_t)w->model_id,
			 "start_ms", (json_int_t)w->start_ms, "end_ms",
			 (json_int_t)w->end_ms, "state", state, "closed_ms",
			 w->closed_ms ? json_integer(w->closed_ms) : json_null(),
			 "credential_erased", w->erased, "created_ms",
			 (json_int_t)w->created_ms);
}

void api_windows_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_window *v = NULL;
	size_t n = 0;
	struct list_page pg;
	int64_t model = 0, now = wall_ms();
	const char *q = r->query(r->conn, "model_id");
	struct errmsg e;
	long long mv;

	if (!list_begin(r, y, &pg))
		return;
	if (q) {
		if (num_parse_ll(q, 1, (1LL << 53) - 1, &mv, NULL)) {
			reply_err(y, 400, "bad_request", "model_id", "'model_id' "
				  "is an id");
			return;
		}
		model = mv;
	}
	if (store_window_list(srv_st(s), model, authz_org_scope(&r->who),
			      pg.after, pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, window_json(&v[i], now));
	free(v);
	list_end(y, &pg);
}

void api_windows_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	int64_t mid = 0, start = 0, end = 0, eod = 0, id = 0, now = wall_ms();
	struct sp_model m;
	struct sp_window w;
	struct errmsg e;

	if (!b)
		return;
	if (!jint(b, "model_id", 1, (1LL << 53) - 1, false, &mid, y) ||
	    !jint(b, "start_ms", 0, (1LL << 53) - 1, false, &start, y) ||
	    !jint(b, "end_ms", 0, (1LL << 53) - 1, false, &end, y))
		goto out;
	if (!visible_model(s, r, y, mid, &m))
		goto out;
	if (!date_ok(m.release_date, &eod))
		eod = 0;
	store_model_free(&m);
	if (end <= start || end <= now) {
		reply_err(y, 400, "invalid_field", "end_ms", "a window ends "
			  "after it starts, in the future");
	} else if (end - start > WINDOW_MAX_MS) {
		reply_err(y, 400, "invalid_field", "end_ms", "a window lasts at "
			  "most 30 days");
	} else if (eod && end > eod) {
		reply_err(y, 400, "invalid_field", "end_ms", "a window ends no "
			  "later than the model's release date");
	} else if (store_window_add(srv_st(s), mid, start, end, r->who.u.id, &id,
				    &e) ||
		   store_window_get(srv_st(s), id, &w, &e)) {
		reply_fail(y, &e);
	} else {
		srv_audit(s, r, "window.open", NULL, NULL, id);
		reply_json(y, 201, window_json(&w, now));
	}
out:
	json_decref(b);
}

/* Close window w: destroy its model's credential, mark it, audit. */
static enum err close_window(struct srv *s, struct req *r,
			     const struct sp_window *w, const char *why,
			     struct errmsg *e)
{
	char *path = key_path(s, w->model_id);
	enum err rc = vault_atrest_destroy(path, e);

	free(path);
	if (!rc)
		rc = store_model_set_cred(srv_st(s), w->model_id, NULL, e);
	if (!rc)
		rc = store_window_close(srv_st(s), w->id, wall_ms(), true, e);
	if (!rc)
		srv_audit(s, r, "credential.erase", "reason", why, w->model_id);
	return rc;
}

void api_windows_close(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_window w;
	struct errmsg e;

	if (store_window_get(srv_st(s), r->ids[0], &w, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "no such window");
		return;
	}
	if (w.closed_ms) {
		reply_err(y, 409, "conflict", NULL, "the window is closed");
		return;
	}
	if (close_window(s, r, &w, "closed by an admin", &e) || store_window_get(srv_st(s), w.id, &w, &e)) {
		reply_fail(y, &e);
		return;
	}
	srv_audit(s, r, "window.close", NULL, NULL, w.id);
	reply_json(y, 200, window_json(&w, wall_ms()));
}

void srv_sweep_windows(struct srv *s)
{
	struct sp_window *v = NULL;
	size_t n = 0;
	struct errmsg e;
	struct req r;

	if (store_window_due(srv_st(s), wall_ms(), &v, &n, &e)) {
		log_warn("server: window sweep: %s", e.text);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.method = "TIMER";
	r.path = "/windows";
	r.client_ip = "local";
	for (size_t i = 0; i < n; i++) {
		if (close_window(s, &r, &v[i], "window end", &e))
			log_error("server: erasing the credential of model %lld: "
				  "%s", (long long)v[i].model_id, e.text);
		else
			srv_audit(s, &r, "window.end", NULL, NULL, v[i].id);
	}
	free(v);
}

/* ---- grants ---- */

static json_t *grant_json(const struct sp_grant *g)
{
	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:b}", "id",
			 (json_int_t)g->id, "user_id", (json_int_t)g->user_id,
			 "model_id", (json_int_t)g->model_id, "suite", g->suite,
			 "scope", g->scope, "expires_ms", (json_int_t)g->expires_ms,
			 "granted_by", (json_int_t)g->granted_by, "created_ms",
			 (json_int_t)g->created_ms, "revoked", g->revoked);
}

void api_grants_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_grant *v = NULL;
	size_t n = 0;
	struct list_page pg;
	struct errmsg e;
	int64_t who = has_role(&r->who, SP_ADMIN | SP_AUDITOR) ? 0 : r->who.u.id;

	if (!list_begin(r, y, &pg))
		return;
	if (store_grant_list(srv_st(s), who, pg.after, pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, grant_json(&v[i]));
	store_grants_free(v, n);
	list_end(y, &pg);
}

/* The end of the latest window of model id not yet closed; 0: none. */
static int64_t window_end(struct srv *s, int64_t model_id)
{
	struct sp_window *v = NULL;
	size_t n = 0;
	int64_t end = 0;

	if (store_window_list(srv_st(s), model_id, 0, 0, 500, &v, &n, NULL))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!v[i].closed_ms && v[i].end_ms > end)
			end = v[i].end_ms;
	free(v);
	return end;
}

void api_grants_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	struct sp_grant g;
	struct sp_user u;
	struct sp_model m;
	const char *suite, *scope;
	int64_t end, id = 0;
	struct errmsg e;

	if (!b)
		return;
	memset(&g, 0, sizeof(g));
	if (!jint(b, "user_id", 1, (1LL << 53) - 1, false, &g.user_id, y) ||
	    !jint(b, "model_id", 1, (1LL << 53) - 1, false, &g.model_id, y) ||
	    !jstr(b, "suite", 128, false, &suite, y) ||
	    !jstr(b, "scope", 8, false, &scope, y) ||
	    !jint(b, "expires_ms", 0, (1LL << 53) - 1, true, &g.expires_ms, y))
		goto out;
	if (strcmp(scope, "run") && strcmp(scope, "read")) {
		reply_err(y, 400, "invalid_field", "scope", "'scope' is run or "
			  "read");
		goto out;
	}
	if (strcmp(suite, "open") && strcmp(suite, "*") &&
	    !srv_sealed_name_ok(suite)) {
		reply_err(y, 400, "invalid_field", "suite", "'suite' is open, a "
			  "sealed NAME.assay or * (every suite)");
		goto out;
	}
	if (g.user_id == r->who.u.id) {
		authz_deny(s, r, y, true, g.user_id, "own grant");
		goto out;
	}
	if (store_user_get(srv_st(s), g.user_id, &u, &e)) {
		reply_err(y, 400, "invalid_field", "user_id", "no such user");
		goto out;
	}
	store_user_free(&u);
	if (!visible_model(s, r, y, g.model_id, &m))
		goto out;
	store_model_free(&m);
	end = window_end(s, g.model_id);
	if (!end) {
		reply_err(y, 409, "outside_window", "model_id", "the model has no "
			  "access window");
		goto out;
	}
	if (!g.expires_ms || g.expires_ms > end)
		g.expires_ms = end; /* a grant ends with the window */
	g.suite = (char *)suite;
	g.scope = (char *)scope;
	g.granted_by = r->who.u.id;
	if (store_grant_add(srv_st(s), &g, &id, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	g.id = id;
	g.created_ms = wall_ms();
	srv_audit(s, r, "authz.grant", "scope", scope, id);
	reply_json(y, 201, grant_json(&g));
out:
	json_decref(b);
}

void api_grants_del(struct srv *s, struct req *r, struct reply *y)
{
	struct errmsg e;

	if (store_grant_revoke(srv_st(s), r->ids[0], &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "no such grant");
		return;
	}
	srv_audit(s, r, "authz.revoke", NULL, NULL, r->ids[0]);
	reply_json(y, 200, NULL);
}

/* ---- partners ---- */

static json_t *partner_json(struct srv *s, const struct sp_partner *p)
{
	struct sp_org o;
	json_t *j = json_pack("{s:I, s:I, s:b, s:b, s:b}", "model_id",
			      (json_int_t)p->model_id, "org_id",
			      (json_int_t)p->org_id, "by_admin", p->by_admin,
			      "by_developer", p->by_developer, "active",
			      p->by_admin && p->by_developer);

	if (!store_org_get(srv_st(s), p->org_id, &o, NULL)) {
		json_object_set_new(j, "org_name", json_string(o.name));
		store_org_free(&o);
	}
	return j;
}

/* The model of the path, visible and (for developers) their own. */
static bool own_model(struct srv *s, struct req *r, struct reply *y,
		      struct sp_model *m)
{
	if (!visible_model(s, r, y, r->ids[0], m))
		return false;
	if ((r->who.u.roles & SP_DEVELOPER) && m->org_id != r->who.u.org_id) {
		authz_deny(s, r, y, true, m->id, "not own model");
		store_model_free(m);
		return false;
	}
	return true;
}

void api_partners_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_partner *v = NULL;
	struct sp_model m;
	size_t n = 0;
	struct errmsg e;
	json_t *items;

	if (!own_model(s, r, y, &m))
		return;
	store_model_free(&m);
	if (store_partner_list(srv_st(s), r->ids[0], &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, partner_json(s, &v[i]));
	free(v);
	reply_json(y, 200, list_reply(items, 1 << 30, 0));
}

void api_partners_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b;
	struct sp_model m;
	struct sp_partner *v = NULL;
	size_t n = 0;
	int64_t org = 0;
	struct errmsg e;

	if (!own_model(s, r, y, &m))
		return;
	store_model_free(&m);
	if (!(b = body_object(r, y)))
		return;
	if (!jint(b, "org_id", 1, (1LL << 53) - 1, false, &org, y))
		goto out;
	if (!org_of_kind(s, org, "partner", "a trusted partner is an "
			 "organisation of kind partner", y))
		goto out;
	if (store_partner_set(srv_st(s), r->ids[0], org,
			      !(r->who.u.roles & SP_DEVELOPER), &e) ||
	    store_partner_list(srv_st(s), r->ids[0], &v, &n, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	srv_audit(s, r, "partner.consent", "side", (r->who.u.roles & SP_DEVELOPER)
		  ? "developer" : "admin", org);
	for (size_t i = 0; i < n; i++)
		if (v[i].org_id == org)
			reply_json(y, 200, partner_json(s, &v[i]));
	free(v);
out:
	json_decref(b);
}
