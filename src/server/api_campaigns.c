/*
 * api_campaigns.c - campaigns (docs/API.md /campaigns): created by an
 * evaluator (or a partner's member) holding a need-to-know grant of scope
 * run on the model; the policy's digest is frozen at creation, before any
 * run (pre-registration); a sealed suite needs two custodians' approvals,
 * never the creator's; start queues it for the worker (worker.c), which
 * runs it only inside an open access window.
 */
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "policy/policy.h"
#include "server/server_int.h"
#include "task/task.h"
#include "vault/seal.h"
#include "vault/vault.h"
#include "base/banned.h"

/* Whether the principal holds a grant of scope on c's model and suite. */
static bool campaign_grant(struct srv *s, const struct principal *p,
			   const struct sp_campaign *c, const char *scope)
{
	json_t *doc = json_loads(c->doc, 0, NULL);
	const char *suite = json_string_value(json_object_get(doc, "suite"));
	bool held = suite && store_grant_holds(srv_st(s), p->u.id, c->model_id,
					       suite, scope, wall_ms());

	json_decref(doc);
	return held;
}

/* Whether the principal may see campaign c. */
static bool sees_campaign(struct srv *s, const struct principal *p,
			  const struct sp_campaign *c)
{
	if (p->u.roles & SP_DEVELOPER)
		return c->org_id == p->u.org_id;
	if (p->u.roles & (SP_ADMIN | SP_AUDITOR | SP_CUSTODIAN | SP_LIAISON))
		return true; /* metadata */
	return c->created_by == p->u.id || campaign_grant(s, p, c, "read");
}

bool authz_campaign_content(struct srv *s, const struct principal *p,
			    const struct sp_campaign *c)
{
	if (!(p->u.roles & (SP_EVALUATOR | SP_ADMIN)))
		return false;
	if ((p->u.roles & SP_EVALUATOR) && c->created_by == p->u.id)
		return true;
	return campaign_grant(s, p, c, "read");
}

bool visible_campaign(struct srv *s, struct req *r, struct reply *y,
		      struct sp_campaign *c)
{
	struct errmsg e;

	if (store_campaign_get(srv_st(s), r->ids[0], c, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "no such campaign");
		return false;
	}
	if (!sees_campaign(s, &r->who, c)) {
		store_campaign_free(c);
		authz_deny(s, r, y, false, r->ids[0], "no need-to-know");
		return false;
	}
	return true;
}

/* PROGRESS of docs/API.md: episodes planned, done, running and failed,
 * solved, tokens and cost so far, and an ETA from the pace so far. */
static json_t *progress_json(struct srv *s, const struct sp_campaign *c)
{
	int64_t total = 0, done = 0, solved = 0, now = wall_ms();
	struct sp_run_totals t;
	char *st = NULL;
	json_t *o;

	memset(&t, 0, sizeof(t));
	if (c->run_id) {
		store_run_progress(srv_st(s), c->run_id, &total, &done, &solved, &st);
		store_run_totals(srv_st(s), c->run_id, &t);
	}
	o = json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:s?, "
		      "s:n}", "campaign_id", (json_int_t)c->id, "run_id",
		      (json_int_t)c->run_id, "state", c->state, "episodes_total",
		      (json_int_t)total, "episodes_done", (json_int_t)done,
		      "episodes_running", (json_int_t)t.running, "episodes_failed",
		      (json_int_t)t.failed, "solved", (json_int_t)solved,
		      "tokens", (json_int_t)t.tokens, "cost_usd", t.cost_usd,
		      "run_status", st, "eta_s");
	if (done > 0 && done < total && t.first_start_ms > 0 &&
	    now > t.first_start_ms)
		json_object_set_new(o, "eta_s", json_integer(
			(json_int_t)((now - t.first_start_ms) / 1000 *
				     (total - done) / done)));
	free(st);
	return o;
}

/* The ids of the people who approved c (a list, empty when none). */
static json_t *approvers_json(struct srv *s, const struct sp_campaign *c)
{
	json_t *ids = json_array();
	struct sp_approval *v = NULL;
	size_t n = 0;

	if (c->approvals > 0 &&
	    store_campaign_approvals(srv_st(s), c->id, &v, &n, NULL) == ERR_OK) {
		for (size_t i = 0; i < n; i++)
			json_array_append_new(ids, json_integer(v[i].user_id));
		store_approvals_free(v, n);
	}
	return ids;
}

static json_t *campaign_json(struct srv *s, const struct sp_campaign *c)
{
	json_t *o = json_loads(c->doc, 0, NULL);

	if (!o)
		o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "model_id", json_integer(c->model_id));
	json_object_set_new(o, "org_id", json_integer(c->org_id));
	json_object_set_new(o, "state", json_string(c->state));
	json_object_set_new(o, "policy_digest", json_string(c->policy_digest));
	json_object_set_new(o, "approvals", json_integer(c->approvals));
	json_object_set_new(o, "approved_by", approvers_json(s, c));
	json_object_set_new(o, "approvals_needed",
			    json_integer(c->approvals_needed));
	json_object_set_new(o, "run_id", c->run_id ? json_integer(c->run_id)
						   : json_null());
	json_object_set_new(o, "created_by", json_integer(c->created_by));
	json_object_set_new(o, "created_ms", json_integer(c->created_ms));
	if (c->run_id)
		json_object_set_new(o, "progress", progress_json(s, c));
	return o;
}

void api_campaigns_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign *v = NULL;
	size_t n = 0;
	struct list_page pg;
	struct errmsg e;

	if (!list_begin(r, y, &pg))
		return;
	if (store_campaign_list(srv_st(s), authz_org_scope(&r->who), pg.after,
				pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, sees_campaign(s, &r->who, &v[i])
					       ? campaign_json(s, &v[i]) : NULL);
	store_campaigns_free(v, n);
	list_end(y, &pg);
}

/* Server-sent events: the reply is the current PROGRESS, which http.c
 * sends as a `progress` event; while the campaign is queued or running
 * the response stays open and http.c re-runs this request once a second
 * (srv_streams_tick), sending what changed, until the campaign ends or
 * the principal may no longer see it. */
void api_campaigns_events(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;

	if (!visible_campaign(s, r, y, &c))
		return;
	reply_json(y, 200, progress_json(s, &c));
	y->sse = true;
	y->sse_end = strcmp(c.state, "queued") && strcmp(c.state, "running");
	store_campaign_free(&c);
}

void api_campaigns_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;

	if (!visible_campaign(s, r, y, &c))
		return;
	reply_json(y, 200, campaign_json(s, &c));
	store_campaign_free(&c);
}

char *srv_policy_path(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n ||
	    strstr(name, ".."))
		return NULL;
	return policy_shipped_path(name);
}

/* The digest of shipped policy name, or NULL. */
static char *policy_digest(const char *name)
{
	char *path = srv_policy_path(name);
	char *data = NULL, hex[65];
	size_t n = 0;

	if (!path || file_read(path, 1 << 20, &data, &n, NULL)) {
		free(path);
		return NULL;
	}
	vault_sha256_hex(data, n, hex);
	free(path);
	free(data);
	return xstrdup(hex);
}

static bool id_list_ok(json_t *a, const char *k, size_t max, struct reply *y)
{
	json_t *v;
	size_t i;

	if (!a)
		return true;
	if (!json_is_array(a) || json_array_size(a) > max) {
		reply_err(y, 400, "invalid_field", k, "'%s' is a list of at most "
			  "%zu names", k, max);
		return false;
	}
	json_array_foreach(a, i, v) {
		const char *t = json_is_string(v) ? json_string_value(v) : "";
		size_t n = strlen(t);
		if (n == 0 || n > 64 ||
		    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
			reply_err(y, 400, "invalid_field", k, "names in '%s' are "
				  "1 to 64 of a-z 0-9 -", k);
			return false;
		}
	}
	return true;
}

/* limits: {tokens, seconds, budget_tokens}? of the body, checked, as the
 * object the worker passes to `assay run` (worker.c); NULL and true when
 * absent. The engine has no per-campaign turn limit: each task's own
 * applies, and "turns" is refused. */
static bool limits_ok(json_t *b, json_t **out, struct reply *y)
{
	static const struct { const char *k; int64_t hi; } lim[] = {
		{ "tokens", 100000000 }, { "seconds", 86400 },
		{ "budget_tokens", 10000000000LL },
	};
	json_t *l = json_object_get(b, "limits"), *v;
	const char *k;

	*out = NULL;
	if (!l || json_is_null(l))
		return true;
	if (!json_is_object(l)) {
		reply_err(y, 400, "invalid_field", "limits", "'limits' is an "
			  "object");
		return false;
	}
	json_object_foreach(l, k, v) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(lim); i++)
			known |= !strcmp(k, lim[i].k);
		if (!known) {
			reply_err(y, 400, "invalid_field", !strcmp(k, "turns") ?
				  "limits.turns" : "limits", "limits are tokens, "
				  "seconds and budget_tokens (the tasks' own turn "
				  "limits apply)");
			return false;
		}
	}
	*out = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(lim); i++) {
		int64_t n = 0;
		char field[32];
		if (!json_object_get(l, lim[i].k))
			continue;
		snprintf(field, sizeof(field), "limits.%s", lim[i].k);
		if (!json_is_integer(json_object_get(l, lim[i].k)) ||
		    (n = json_integer_value(json_object_get(l, lim[i].k))) < 1 ||
		    n > lim[i].hi) {
			reply_err(y, 400, "invalid_field", field, "'%s' is a whole "
				  "number in [1, %lld]", field, (long long)lim[i].hi);
			json_decref(*out);
			*out = NULL;
			return false;
		}
		json_object_set_new(*out, lim[i].k, json_integer(n));
	}
	return true;
}

/* Whether every name of tasks is a task of the shipped open suite (the
 * suite the worker runs, worker.c): a campaign naming one that is not
 * would be accepted and approved, then fail when it starts. */
static bool open_tasks_ok(json_t *tasks, struct reply *y)
{
	char *path = path_data_file("tasks");
	struct suite *su = NULL;
	struct errmsg e;
	json_t *v;
	size_t i;
	bool ok = true;

	if (!tasks || !json_array_size(tasks)) {
		free(path);
		return true;
	}
	if (task_suite_load(path ? path : "tasks", &su, &e)) {
		log_warn("campaign: the open suite does not load: %s", e.text);
		reply_err(y, 500, "internal", NULL, "the open suite does not "
			  "load on this server");
		free(path);
		return false;
	}
	json_array_foreach(tasks, i, v) {
		if (!task_suite_find(su, json_string_value(v))) {
			reply_err(y, 400, "invalid_field", "tasks", "no task "
				  "'%s' in the open suite", json_string_value(v));
			ok = false;
			break;
		}
	}
	task_suite_free(su);
	free(path);
	return ok;
}

/* The unseal request of new sealed campaign id; a campaign whose request
 * could not be made is marked failed (it could never be approved). */
static bool make_request(struct srv *s, struct req *r,
			 const struct vault_archive *a, const char *suite,
			 int64_t id, int64_t epochs, struct errmsg *e)
{
	char *reason = xasprintf("program campaign %lld: suite %s, %lld "
				 "epoch(s), requested by %s", (long long)id,
				 suite, (long long)epochs, r->who.u.login);

	if (srv_sealed_request(s, a, suite, id, reason, e)) {
		if (store_campaign_set(srv_st(s), id, "failed", 0, NULL))
			log_warn("server: campaign %lld: state not saved",
				 (long long)id);
		free(reason);
		return false;
	}
	free(reason);
	return true;
}

void api_campaigns_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y), *doc = NULL, *sc, *tasks, *limits = NULL;
	const char *suite, *policy;
	int64_t epochs = 1, id = 0;
	struct sp_model m;
	struct sp_campaign c;
	struct errmsg e;
	struct vault_archive *a = NULL;
	char *digest = NULL;
	bool sealed;

	if (!b)
		return;
	memset(&c, 0, sizeof(c));
	if (!jint(b, "model_id", 1, (1LL << 53) - 1, false, &c.model_id, y) ||
	    !jstr(b, "suite", 128, false, &suite, y) ||
	    !jint(b, "epochs", 1, 20, true, &epochs, y) ||
	    !jstr(b, "policy", 64, true, &policy, y))
		goto out;
	sc = json_object_get(b, "scaffolds");
	tasks = json_object_get(b, "tasks");
	if (!id_list_ok(sc, "scaffolds", 2, y) ||
	    !id_list_ok(tasks, "tasks", 200, y) || !limits_ok(b, &limits, y))
		goto out;
	if (!visible_model(s, r, y, c.model_id, &m))
		goto out;
	c.org_id = m.org_id;
	store_model_free(&m);
	if (!store_grant_holds(srv_st(s), r->who.u.id, c.model_id, suite, "run",
			       wall_ms())) {
		authz_deny(s, r, y, true, c.model_id, "no need-to-know grant "
			   "on this model and suite");
		goto out;
	}
	sealed = strcmp(suite, "open") != 0;
	if (sealed && !strstr(suite, ".assay")) {
		reply_err(y, 400, "invalid_field", "suite", "'suite' is open or "
			  "a sealed NAME.assay");
		goto out;
	}
	if (sealed ? !srv_sealed_open(s, suite, tasks, &a, y)
		   : !open_tasks_ok(tasks, y))
		goto out;
	if (!(digest = policy_digest(policy ? policy : "default"))) {
		reply_err(y, 400, "invalid_field", "policy", "no such shipped "
			  "policy");
		goto out;
	}
	doc = json_pack("{s:s, s:b, s:I, s:s, s:O?, s:O?, s:O?}", "suite", suite,
			"sealed", sealed, "epochs",
			(json_int_t)epochs, "policy", policy ? policy : "default",
			"scaffolds", sc, "tasks", tasks, "limits", limits);
	c.doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	c.policy_digest = digest;
	c.created_by = r->who.u.id;
	c.approvals_needed = sealed ? srv_sealed_approvals_needed(a) : 0;
	c.state = (char *)(sealed ? "pending_approval" : "ready");
	if (store_campaign_add(srv_st(s), &c, &id, &e) ||
	    (sealed && !make_request(s, r, a, suite, id, epochs, &e))) {
		reply_fail(y, &e);
	} else {
		struct sp_campaign got;
		srv_audit(s, r, "campaign.create", "policy_digest", digest, id);
		if (store_campaign_get(srv_st(s), id, &got, &e) == ERR_OK) {
			reply_json(y, 201, campaign_json(s, &got));
			store_campaign_free(&got);
		}
	}
	free(c.doc);
out:
	vault_archive_free(a);
	free(digest);
	json_decref(limits);
	json_decref(doc);
	json_decref(b);
}

bool campaign_sealed(const struct sp_campaign *c)
{
	json_t *doc = json_loads(c->doc, 0, NULL);
	bool sealed = json_is_true(json_object_get(doc, "sealed"));

	json_decref(doc);
	return sealed;
}

void api_campaigns_approve(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct errmsg e;

	if (!visible_campaign(s, r, y, &c))
		return;
	if (c.created_by == r->who.u.id) {
		authz_deny(s, r, y, true, c.id, "own request");
	} else if (strcmp(c.state, "pending_approval")) {
		reply_err(y, 409, "conflict", NULL, "the campaign needs no "
			  "approval (state %s)", c.state);
	} else if (!campaign_sealed(&c)) {
		reply_err(y, 409, "conflict", NULL, "a campaign of the open suite "
			  "needs no approval");
	} else if (srv_sealed_approve(s, r, y, &c)) {
		if (c.approvals + 1 >= c.approvals_needed &&
		    store_campaign_set(srv_st(s), c.id, "ready", 0, &e))
			log_warn("server: campaign %lld: %s", (long long)c.id, e.text);
		store_campaign_free(&c);
		if (store_campaign_get(srv_st(s), r->ids[0], &c, &e) == ERR_OK)
			reply_json(y, 200, campaign_json(s, &c));
	}
	store_campaign_free(&c);
}

void api_campaigns_start(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct sp_model m;
	struct errmsg e;
	json_t *doc;
	const char *prov;

	if (!visible_campaign(s, r, y, &c))
		return;
	if (!campaign_grant(s, &r->who, &c, "run")) {
		authz_deny(s, r, y, true, c.id, "no need-to-know grant");
		goto out;
	}
	if (strcmp(c.state, "ready")) {
		reply_err(y, 409, "conflict", NULL, "the campaign is %s, not "
			  "ready", c.state);
		goto out;
	}
	if (!store_window_open_now(srv_st(s), c.model_id, wall_ms())) {
		reply_err(y, 409, "outside_window", NULL, "no open access window "
			  "covers now");
		goto out;
	}
	if (store_model_get(srv_st(s), c.model_id, &m, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	doc = json_loads(m.doc, 0, NULL);
	prov = json_string_value(json_object_get(json_object_get(doc, "endpoint"),
						 "provider"));
	if (!prov) {
		reply_err(y, 409, "conflict", NULL, "the model has no endpoint");
	} else if (store_campaign_set(srv_st(s), c.id, "queued", 0, &e)) {
		reply_fail(y, &e);
	} else {
		srv_audit(s, r, "campaign.start", NULL, NULL, c.id);
		free(c.state);
		c.state = xstrdup("queued");
		reply_json(y, 200, campaign_json(s, &c));
	}
	json_decref(doc);
	store_model_free(&m);
out:
	store_campaign_free(&c);
}
