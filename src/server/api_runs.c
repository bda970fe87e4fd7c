/*
 * api_runs.c - a campaign's run, its episodes and their transcripts, the
 * report's charts, and the shipped policies' text (docs/API.md /runs,
 * /policies).
 *
 * A run is visible only through its campaign, and only to those with
 * need-to-know on the campaign's content (authz_campaign_content): an
 * evaluator or admin holding a grant on its model, or the evaluator who
 * created it. Anyone else, and every run that belongs to no campaign
 * (a command-line run in the same store), gets 404, audited. Developers,
 * liaisons and auditors never reach these routes (router.c's roles).
 */
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "policy/policy.h"
#include "report/report.h"
#include "server/server_int.h"
#include "vault/vault.h"
#include "base/banned.h"

#define EVENTS_PAGE_MAX 500

/* The campaign of run r->ids[0] when the principal has need-to-know on
 * its content; else a 404 reply (audited) and false. */
bool visible_run(struct srv *s, struct req *r, struct reply *y,
		 struct sp_campaign *c)
{
	struct errmsg e;

	if (store_campaign_by_run(srv_st(s), r->ids[0], c, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "no such run");
		return false;
	}
	if (!authz_campaign_content(s, &r->who, c)) {
		store_campaign_free(c);
		authz_deny(s, r, y, false, r->ids[0], "no need-to-know");
		return false;
	}
	return true;
}

static json_t *task_json(const struct report_task *t)
{
	return json_pack("{s:s, s:s?, s:i, s:i, s:i, s:i, s:I, s:f}",
			 "id", t->meta->task_id, "category", t->meta->category,
			 "difficulty", t->meta->difficulty, "epochs", t->epochs,
			 "successes", t->successes, "infra_failures",
			 t->infra_failures, "tokens", (json_int_t)t->tokens,
			 "cost_usd", t->cost_usd);
}

void api_runs_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct report *rep = NULL;
	struct errmsg e;
	json_t *tasks, *run;

	if (!visible_run(s, r, y, &c))
		return;
	if (report_load(srv_st(s), r->ids[0], &rep, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	tasks = json_array();
	for (size_t i = 0; i < rep->n_tasks; i++)
		json_array_append_new(tasks, task_json(&rep->rows[i]));
	run = json_pack("{s:I, s:s?, s:s?, s:s?, s:i, s:I, s:I, s:I}",
			"id", (json_int_t)rep->run.id, "status", rep->run.status,
			"model", rep->run.model, "suite", rep->run.suite_id,
			"epochs", rep->run.epochs, "created_ms",
			(json_int_t)rep->run.created_ms, "finished_ms",
			(json_int_t)rep->run.finished_ms, "campaign_id",
			(json_int_t)c.id);
	reply_json(y, 200, json_pack("{s:o, s:o, s:{s:I, s:f, s:i, s:i}, s:[]}",
		"run", run, "tasks", tasks, "totals", "tokens",
		(json_int_t)rep->prompt_tokens + (json_int_t)rep->completion_tokens,
		"cost_usd", rep->cost_usd, "scored", rep->scored, "solved",
		rep->solved, "references"));
	report_free(rep);
out:
	store_campaign_free(&c);
}

static json_t *episode_json(const struct store_episode *ep)
{
	return json_pack("{s:I, s:I, s:s, s:i, s:i, s:s?, s:s?, s:s?, s:i, "
			 "s:i, s:I, s:I, s:f, s:I, s:I, s:s?}",
			 "id", (json_int_t)ep->id, "run_id", (json_int_t)ep->run_id,
			 "task_id", ep->task_id, "epoch", ep->epoch, "attempt",
			 ep->attempt, "status", ep->status, "outcome", ep->outcome,
			 "error_class", ep->error_class, "score", ep->score,
			 "turns", ep->turns, "prompt_tokens",
			 (json_int_t)ep->prompt_tokens, "completion_tokens",
			 (json_int_t)ep->completion_tokens, "cost_usd",
			 ep->cost_usd, "started_ms", (json_int_t)ep->started_ms,
			 "finished_ms", (json_int_t)ep->finished_ms, "validity",
			 ep->validity);
}

void api_episodes_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct store_episode *v = NULL;
	size_t n = 0;
	struct list_page pg;
	struct errmsg e;

	if (!list_begin(r, y, &pg) || !visible_run(s, r, y, &c))
		return;
	if (store_episode_list(srv_st(s), r->ids[0], &v, &n, &e)) {
		reply_fail(y, &e);
		store_campaign_free(&c);
		return;
	}
	for (size_t i = 0; i < n && !list_full(&pg); i++)
		if (v[i].id > pg.after)
			list_add(&pg, v[i].id, episode_json(&v[i]));
	store_episodes_free(v, n);
	store_campaign_free(&c);
	list_end(y, &pg);
}

/* Episode r->ids[1] of the visible run r->ids[0]; else reply, false. */
static bool visible_episode(struct srv *s, struct req *r, struct reply *y,
			    struct store_episode *ep)
{
	struct sp_campaign c;
	struct errmsg e;
	bool ok;

	if (!visible_run(s, r, y, &c))
		return false;
	store_campaign_free(&c);
	memset(ep, 0, sizeof(*ep));
	if (store_episode_get(srv_st(s), r->ids[1], ep, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[1], "no such episode");
		return false;
	}
	ok = ep->run_id == r->ids[0];
	if (!ok) {
		store_episode_release(ep);
		authz_deny(s, r, y, false, r->ids[1], "episode of another run");
	}
	return ok;
}

void api_episodes_get(struct srv *s, struct req *r, struct reply *y)
{
	struct store_episode ep;

	if (!visible_episode(s, r, y, &ep))
		return;
	reply_json(y, 200, episode_json(&ep));
	store_episode_release(&ep);
}

/* The transcript: journaled events, paged by their sequence number. */
static json_t *event_json(const struct store_event *ev)
{
	json_t *data = ev->data ? json_loads(ev->data, 0, NULL) : NULL;

	return json_pack("{s:i, s:s?, s:I, s:o}", "seq", ev->seq, "kind",
			 ev->kind, "at_ms", (json_int_t)ev->at_ms, "data",
			 data ? data : json_string(ev->data ? ev->data : ""));
}

/* The steps of every list (list_begin, server_int.h), as episodes above;
 * its own are the store call, the parent checked and the cursor (seq). */
void api_events_list(struct srv *s, struct req *r, struct reply *y)
{
	struct store_episode ep;
	struct store_event *v = NULL;
	size_t n = 0;
	struct list_page pg;
	struct errmsg e;

	if (!list_begin(r, y, &pg) || !visible_episode(s, r, y, &ep))
		return;
	store_episode_release(&ep);
	if (store_event_list(srv_st(s), r->ids[1], &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	srv_audit(s, r, "transcript.read", "episode", NULL, r->ids[1]);
	for (size_t i = 0; i < n && !list_full(&pg); i++)
		if (v[i].seq > pg.after)
			list_add(&pg, v[i].seq, event_json(&v[i]));
	store_events_free(v, n);
	list_end(y, &pg);
}

/* The run's statistics under the campaign's frozen policy. */
enum err srv_analyze(struct srv *s, const struct sp_campaign *c,
		     struct report **rep, struct policy **pol,
		     struct report_analysis **a, struct errmsg *e)
{
	json_t *doc = json_loads(c->doc, 0, NULL);
	const char *name = json_string_value(json_object_get(doc, "policy"));
	char *path = srv_policy_path(name ? name : "default");
	enum err rc;

	*rep = NULL;
	*pol = NULL;
	*a = NULL;
	rc = path ? ERR_OK : err_set(e, ERR_NOTFOUND, "the campaign's policy "
				     "is no longer shipped");
	if (!rc)
		rc = srv_policy_check(path, c->policy_digest, e);
	if (!rc)
		rc = policy_load(path, pol, e);
	if (!rc)
		rc = report_load(srv_st(s), c->run_id, rep, e);
	if (!rc)
		rc = report_analyze(*rep, NULL, 0, *pol, a, e);
	free(path);
	json_decref(doc);
	return rc;
}

enum err srv_policy_check(const char *path, const char *digest,
			  struct errmsg *e)
{
	char *data = NULL, hex[65];
	size_t n = 0;
	enum err rc = file_read(path, 1 << 20, &data, &n, e);

	if (rc)
		return rc;
	vault_sha256_hex(data, n, hex);
	free(data);
	if (strcmp(hex, digest))
		return err_set(e, ERR_INVAL, "the policy changed after the "
			       "campaign froze its digest");
	return ERR_OK;
}

void srv_analysis_free(struct report *rep, struct policy *pol,
		       struct report_analysis *a)
{
	report_analysis_free(a);
	report_free(rep);
	policy_free(pol);
}

void api_runs_chart(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct report *rep;
	struct policy *pol;
	struct report_analysis *a;
	char name[48], *svg = NULL;
	size_t n = strlen(r->name);
	struct errmsg e;

	if (n < 5 || strcmp(r->name + n - 4, ".svg")) {
		reply_err(y, 404, "not_found", NULL, "charts are NAME.svg");
		return;
	}
	memcpy(name, r->name, n - 4);
	name[n - 4] = 0;
	if (!report_chart_known(name)) {
		reply_err(y, 404, "not_found", NULL, "no such chart");
		return;
	}
	if (!visible_run(s, r, y, &c))
		return;
	if (srv_analyze(s, &c, &rep, &pol, &a, &e) ||
	    report_chart_svg(a, name, &svg, &e))
		reply_fail(y, &e);
	else
		reply_raw(y, "image/svg+xml", svg, strlen(svg));
	free(svg);
	srv_analysis_free(rep, pol, a);
	store_campaign_free(&c);
}

void api_policies_get(struct srv *s, struct req *r, struct reply *y)
{
	char *path = srv_policy_path(r->name), *data = NULL, hex[65];
	size_t n = 0;
	struct errmsg e;

	(void)s;
	if (!path || !path_exists(path)) {
		free(path);
		reply_err(y, 404, "not_found", NULL, "no such shipped policy");
		return;
	}
	if (file_read(path, 1 << 20, &data, &n, &e)) {
		reply_fail(y, &e);
	} else {
		vault_sha256_hex(data, n, hex);
		reply_json(y, 200, json_pack("{s:s, s:s%, s:s}", "name", r->name,
					     "text", data, n, "digest", hex));
	}
	free(data);
	free(path);
}
