/*
 * api_results.c - what a campaign ends in (docs/API.md "Determinations",
 * "Developer reports", "Signing keys"):
 *
 *  - the determination: the campaign's frozen policy applied to its run
 *    (as `assay report --policy`), an in-toto Statement signed in a DSSE
 *    envelope by an evaluator with need-to-know, then co-signed by an
 *    admin who is not the signer; downloadable as the document `assay
 *    verify` checks;
 *  - the developer report: a redacted Statement (the determination,
 *    aggregates per category or tier at the chosen level, no task ids or
 *    text, transcripts only when released) prepared and signed by a
 *    liaison, released and co-signed by an admin who did not prepare it,
 *    downloadable by the model's organisation only after its release;
 *
 * Each signature is the person's: made here with the key the service holds
 * for them, or offline with their own (signing.c).
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "policy/policy.h"
#include "report/report.h"
#include "server/server_int.h"
#include "vault/keys.h"
#include "vault/sign.h"
#include "vault/vault.h"
#include "base/banned.h"

/* Transcript bytes a released developer report may carry. */
#define REPORT_TRANSCRIPT_BYTES ((size_t)4 << 20)

/* The statement inside an envelope, or NULL. */
static json_t *payload_json(const char *envelope)
{
	struct vault_dsse *env = NULL;
	json_t *j = NULL;

	if (!vault_dsse_parse(envelope, strlen(envelope), &env, NULL))
		j = json_loadb((const char *)env->payload, env->payload_len, 0,
			       NULL);
	vault_dsse_free(env);
	return j;
}

/* predicate.signatures: two signatures by the program's keys, the first
 * by the signer named here (the second signer is not known yet). */
static void declare(json_t *pred, struct srv *s, struct req *r,
		    const char *first, const char *second)
{
	struct vault_pubkey pub;
	struct errmsg e;
	json_t *keys = json_array();

	if (!srv_signer_pub(s, r, r->who.u.id, &pub, &e)) {
		char id[17];
		vault_keyid_hex(pub.keyid, id);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s}", "name",
				      pub.name, "keyid", id, "role", first));
	}
	json_object_set_new(pred, "signatures", json_pack("{s:i, s:o, s:[s,s]}",
			    "required", 2, "keys", keys, "roles", first, second));
}

static void reply_envelope(struct reply *y, const char *envelope)
{
	reply_raw(y, "application/json; charset=utf-8", envelope,
		  strlen(envelope));
}

/* ---- determinations ---- */

static const char *verdict(const struct report_analysis *a)
{
	return a && a->result ? policy_determination_name(a->result->determination)
			      : "none";
}

/* The statement of campaign c's run, declared for the evaluator's and an
 * admin's signatures; *result gets the verdict. Caller frees. */
static char *det_statement(struct srv *s, struct req *r,
			   const struct sp_campaign *c, char **result,
			   struct errmsg *e)
{
	struct report *rep;
	struct policy *pol;
	struct report_analysis *a;
	char *json, *stmt = NULL, rhex[65];
	json_t *j;

	*result = NULL;
	if (srv_analyze(s, c, &rep, &pol, &a, e)) {
		srv_analysis_free(rep, pol, a);
		return NULL;
	}
	json = report_json_full(rep, a);
	vault_sha256_hex(json, strlen(json), rhex);
	free(json);
	json = report_statement(rep, a, c->policy_digest, rhex);
	j = json_loads(json, 0, NULL);
	free(json);
	if (j) {
		json_t *pred = json_object_get(j, "predicate");
		json_object_set_new(pred, "campaign", json_integer(c->id));
		if (r)
			declare(pred, s, r, "evaluator", "admin");
		stmt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
	}
	*result = xstrdup(verdict(a));
	srv_analysis_free(rep, pol, a);
	if (!stmt)
		err_set(e, ERR_NOMEM, "the statement did not serialise");
	return stmt;
}

static const char *det_state(const struct sp_det *d)
{
	return d->cosigned_by ? "cosigned" : "signed";
}

void api_det_get(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct sp_det d;
	struct errmsg e;
	bool content;
	json_t *o;

	if (!visible_campaign(s, r, y, &c))
		return;
	/* auditors: who signed and when, not the figures */
	content = !(r->who.u.roles & SP_AUDITOR) ||
		  (r->who.u.roles & (SP_ADMIN | SP_EVALUATOR));
	memset(&d, 0, sizeof(d));
	if (!store_det_get(srv_st(s), c.id, &d, &e)) {
		o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:I}",
			      "campaign_id", (json_int_t)c.id, "run_id",
			      (json_int_t)d.run_id, "state", det_state(&d),
			      "result", d.result, "signed_by",
			      (json_int_t)d.signed_by, "signed_ms",
			      (json_int_t)d.signed_ms, "cosigned_by",
			      (json_int_t)d.cosigned_by, "cosigned_ms",
			      (json_int_t)d.cosigned_ms);
		if (!d.cosigned_by)
			json_object_set_new(o, "cosigned_by", json_null());
		if (content)
			json_object_set_new(o, "statement", payload_json(d.envelope));
		reply_json(y, 200, o);
	} else if (e.code != ERR_NOTFOUND) {
		reply_fail(y, &e);
	} else if (strcmp(c.state, "done") || !c.run_id) {
		reply_json(y, 200, json_pack("{s:I, s:s, s:n, s:n}", "campaign_id",
				   (json_int_t)c.id, "state", "not_ended",
				   "signed_by", "cosigned_by"));
	} else {
		char *result = NULL, *stmt = content ?
			det_statement(s, NULL, &c, &result, &e) : NULL;
		if (content && !stmt) {
			reply_fail(y, &e);
		} else {
			o = json_pack("{s:I, s:I, s:s, s:s?, s:n, s:n}",
				      "campaign_id", (json_int_t)c.id, "run_id",
				      (json_int_t)c.run_id, "state", "unsigned",
				      "result", result, "signed_by", "cosigned_by");
			if (stmt)
				json_object_set_new(o, "statement",
						    json_loads(stmt, 0, NULL));
			reply_json(y, 200, o);
		}
		free(result);
		free(stmt);
	}
	store_det_free(&d);
	store_campaign_free(&c);
}

void api_det_sign(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct sp_det d;
	struct errmsg e;
	struct srv_signing sg;
	char *stmt = NULL, *result = NULL;

	if (!srv_signing_begin(r, y, &sg))
		return;
	if (!visible_campaign(s, r, y, &c)) {
		srv_signing_end(&sg);
		return;
	}
	memset(&d, 0, sizeof(d));
	if (!authz_campaign_content(s, &r->who, &c)) {
		authz_deny(s, r, y, true, c.id, "no need-to-know grant");
	} else if (strcmp(c.state, "done") || !c.run_id) {
		reply_err(y, 409, "conflict", NULL, "the campaign has not ended "
			  "(state %s)", c.state);
	} else if (!store_det_get(srv_st(s), c.id, &d, &e)) {
		reply_err(y, 409, "conflict", NULL, "the determination is "
			  "signed already");
	} else if (!(stmt = det_statement(s, r, &c, &result, &e))) {
		reply_fail(y, &e);
	} else if (srv_sign_new(s, r, y, sg.sent, stmt, &sg.env)) {
		struct sp_det n = { .campaign_id = c.id, .run_id = c.run_id,
				    .result = result, .envelope = sg.env.data,
				    .signed_by = r->who.u.id };
		if (store_det_add(srv_st(s), &n, &e)) {
			reply_fail(y, &e);
		} else {
			srv_audit(s, r, "determination.sign", "result", result,
				  c.id);
			api_det_get(s, r, y);
		}
	}
	free(stmt);
	free(result);
	store_det_free(&d);
	store_campaign_free(&c);
	srv_signing_end(&sg);
}

/* The campaign's determination for a co-signature or a download; else
 * reply and false. */
static bool load_det(struct srv *s, struct req *r, struct reply *y,
		     struct sp_campaign *c, struct sp_det *d)
{
	struct errmsg e;

	memset(d, 0, sizeof(*d));
	if (!visible_campaign(s, r, y, c))
		return false;
	if (!store_det_get(srv_st(s), c->id, d, &e))
		return true;
	if (e.code == ERR_NOTFOUND)
		reply_err(y, 409, "conflict", NULL, "no signed determination yet");
	else
		reply_fail(y, &e);
	store_campaign_free(c);
	return false;
}

void api_det_cosign(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct sp_det d;
	struct errmsg e;
	struct srv_signing sg;

	if (!srv_signing_begin(r, y, &sg))
		return;
	if (!load_det(s, r, y, &c, &d)) {
		srv_signing_end(&sg);
		return;
	}
	if (d.signed_by == r->who.u.id) {
		authz_deny(s, r, y, true, c.id, "own signature");
	} else if (d.cosigned_by) {
		reply_err(y, 409, "conflict", NULL, "co-signed already");
	} else if (srv_sign_more(s, r, y, sg.sent, d.envelope, &sg.env)) {
		if (store_det_cosign(srv_st(s), c.id, sg.env.data, r->who.u.id,
				     &e)) {
			reply_fail(y, &e);
		} else {
			srv_audit(s, r, "determination.cosign", "result",
				  d.result, c.id);
			api_det_get(s, r, y);
		}
	}
	store_det_free(&d);
	store_campaign_free(&c);
	srv_signing_end(&sg);
}

void api_det_download(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_campaign c;
	struct sp_det d;

	if (!load_det(s, r, y, &c, &d))
		return;
	if (!d.cosigned_by) {
		reply_err(y, 409, "conflict", NULL, "not co-signed yet");
	} else {
		srv_audit(s, r, "determination.download", NULL, NULL, c.id);
		reply_envelope(y, d.envelope);
	}
	store_det_free(&d);
	store_campaign_free(&c);
}

/* ---- developer reports ---- */

static const char *const levels[] = { "determination", "category", "tier" };

static json_t *group_json(const struct report_group *g)
{
	if (!g->ok)
		return json_pack("{s:s, s:s}", "name", g->name, "note", g->note);
	return json_pack("{s:s, s:I, s:I, s:{s:f, s:f, s:f}}", "name", g->name,
			 "tasks", (json_int_t)g->s.ntasks, "trials",
			 (json_int_t)g->s.ntrials, "pass_at_1", "estimate",
			 g->s.pass1, "lo", g->s.boot.lo, "hi", g->s.boot.hi);
}

static json_t *aggregates(const struct report_analysis *a, const char *level)
{
	const struct report_group *g = strcmp(level, "tier") ? a->categories
							     : a->tiers;
	size_t n = strcmp(level, "tier") ? a->ncategories : a->ntiers;
	json_t *v = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(v, group_json(&g[i]));
	return v;
}

/* The episodes' transcripts, without task ids (released reports only). */
static json_t *transcripts(struct srv *s, struct report *rep)
{
	json_t *v = json_array();
	struct errmsg e;

	if (report_load_transcripts(srv_st(s), rep, REPORT_TRANSCRIPT_BYTES, &e))
		return v;
	for (size_t i = 0; i < rep->n_eps; i++) {
		const struct report_transcript *t = &rep->transcripts[i];
		json_t *evs = json_array();
		for (size_t k = 0; !t->omitted && k < t->n; k++) {
			json_t *d = json_loads(t->evs[k].data, 0, NULL);
			json_array_append_new(evs, json_pack("{s:i, s:s, s:o}",
				"seq", t->evs[k].seq, "kind", t->evs[k].kind,
				"data", d ? d : json_null()));
		}
		json_array_append_new(v, json_pack("{s:i, s:i, s:s?, s:b, s:o}",
			"episode", (int)i + 1, "epoch", rep->eps[i].epoch,
			"outcome", rep->eps[i].outcome, "omitted", t->omitted,
			"events", evs));
	}
	return v;
}

/* The redacted statement of campaign c (its co-signed determination d). */
static char *report_statement_for(struct srv *s, struct req *r,
				  const struct sp_campaign *c,
				  const struct sp_det *d, const char *level,
				  bool with_transcripts, struct errmsg *e)
{
	json_t *det = payload_json(d->envelope), *dp, *st, *pred, *suite;
	struct report *rep;
	struct policy *pol;
	struct report_analysis *a;
	char hex[65], name[64], when[40], *out = NULL;

	if (!det) {
		err_set(e, ERR_PARSE, "the determination does not parse");
		return NULL;
	}
	if (srv_analyze(s, c, &rep, &pol, &a, e)) {
		srv_analysis_free(rep, pol, a);
		json_decref(det);
		return NULL;
	}
	dp = json_object_get(det, "predicate");
	vault_sha256_hex(d->envelope, strlen(d->envelope), hex);
	snprintf(name, sizeof(name), "assay-determination-campaign-%lld",
		 (long long)c->id);
	suite = json_deep_copy(json_object_get(dp, "suite"));
	json_object_del(suite, "id");
	pred = json_pack("{s:I, s:O?, s:O?, s:O?, s:o?, s:O?, s:{s:s, s:b}}",
			 "campaign", (json_int_t)c->id, "model",
			 json_object_get(dp, "model"), "determination",
			 json_object_get(dp, "determination"), "policy",
			 json_object_get(dp, "policy"), "suite", suite, "scores",
			 json_object_get(dp, "scores"), "redaction", "level",
			 level, "transcripts_released", with_transcripts);
	if (strcmp(level, "determination"))
		json_object_set_new(pred, strcmp(level, "tier") ? "categories"
					  : "tiers", aggregates(a, level));
	if (with_transcripts)
		json_object_set_new(pred, "transcripts", transcripts(s, rep));
	iso8601(wall_ms(), when, sizeof(when));
	json_object_set_new(pred, "issued", json_string(when));
	declare(pred, s, r, "liaison", "admin");
	st = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:o}", "_type",
		       "https://in-toto.io/Statement/v1", "subject", "name", name,
		       "digest", "sha256", hex, "predicateType",
		       "urn:assay:predicate:developer-report:v1", "predicate", pred);
	if (st)
		out = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (!out)
		err_set(e, ERR_NOMEM, "the report did not serialise");
	json_decref(st);
	json_decref(det);
	srv_analysis_free(rep, pol, a);
	return out;
}

static json_t *report_json_meta(const struct sp_report *p)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:b, s:I, s:I, s:I, s:I}",
			      "id", (json_int_t)p->id, "campaign_id",
			      (json_int_t)p->campaign_id, "org_id",
			      (json_int_t)p->org_id, "level", p->level,
			      "transcripts_released", p->transcripts,
			      "created_by", (json_int_t)p->created_by,
			      "created_ms", (json_int_t)p->created_ms,
			      "approved_by", (json_int_t)p->approved_by,
			      "approved_ms", (json_int_t)p->approved_ms);
	if (!p->approved_by) {
		json_object_set_new(o, "approved_by", json_null());
		json_object_set_new(o, "approved_ms", json_null());
	}
	return o;
}

/* Developers see their organisation's released reports only. */
static bool sees_report(const struct principal *p, const struct sp_report *x)
{
	if (p->u.roles & SP_DEVELOPER)
		return x->org_id == p->u.org_id && x->approved_by;
	return true;
}

void api_reports_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_report *v = NULL;
	size_t n = 0;
	struct list_page pg;
	struct errmsg e;

	if (!list_begin(r, y, &pg))
		return;
	if (store_report_list(srv_st(s), authz_org_scope(&r->who),
			      pg.after, pg.limit, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&pg, v[i].id, sees_report(&r->who, &v[i])
					       ? report_json_meta(&v[i]) : NULL);
	store_reports_free(v, n);
	list_end(y, &pg);
}

void api_reports_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *level = "category";
	bool tr = false, known = false;
	struct sp_campaign c;
	struct sp_det d;
	struct errmsg e;
	struct buf env;
	char *stmt = NULL;
	const char *sent = NULL;

	if (!b)
		return;
	if (!jstr(b, "level", 16, true, &level, y) ||
	    !jbool(b, "release_transcripts", true, &tr, y) ||
	    !jstr(b, "envelope", SRV_BODY_MAX, true, &sent, y)) {
		json_decref(b);
		return;
	}
	level = level ? level : "category";
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		known |= !strcmp(level, levels[i]);
	if (!known) {
		reply_err(y, 400, "invalid_field", "level", "'level' is "
			  "determination, category or tier");
		json_decref(b);
		return;
	}
	buf_init(&env, VAULT_DSSE_MAX * 2);
	if (!load_det(s, r, y, &c, &d)) {
		buf_release(&env);
		json_decref(b);
		return;
	}
	if (!d.cosigned_by) {
		reply_err(y, 409, "conflict", NULL, "the determination is not "
			  "co-signed yet");
	} else if (!(stmt = report_statement_for(s, r, &c, &d, level, tr,
						 &e))) {
		reply_fail(y, &e);
	} else if (srv_sign_new(s, r, y, sent, stmt, &env)) {
		struct sp_report p = { .campaign_id = c.id, .org_id = c.org_id,
				       .level = (char *)level, .transcripts = tr,
				       .envelope = env.data,
				       .created_by = r->who.u.id };
		int64_t id = 0;
		if (store_report_add(srv_st(s), &p, &id, &e)) {
			reply_fail(y, &e);
		} else {
			struct sp_report got;
			srv_audit(s, r, "report.prepare", "level", level, id);
			if (tr)
				srv_audit(s, r, "report.transcripts", "campaign",
					  NULL, id);
			if (!store_report_get(srv_st(s), id, &got, &e)) {
				reply_json(y, 201, report_json_meta(&got));
				store_report_free(&got);
			}
		}
	}
	free(stmt);
	buf_release(&env);
	store_det_free(&d);
	store_campaign_free(&c);
	json_decref(b);
}

static bool visible_report(struct srv *s, struct req *r, struct reply *y,
			   struct sp_report *p)
{
	struct errmsg e;

	if (store_report_get(srv_st(s), r->ids[0], p, &e)) {
		reply_load_fail(s, r, y, &e, r->ids[0], "no such report");
		return false;
	}
	if (!sees_report(&r->who, p)) {
		store_report_free(p);
		authz_deny(s, r, y, false, r->ids[0], "not released to you");
		return false;
	}
	return true;
}

void api_reports_approve(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_report p;
	struct errmsg e;
	struct srv_signing sg;

	if (!srv_signing_begin(r, y, &sg))
		return;
	if (!visible_report(s, r, y, &p)) {
		srv_signing_end(&sg);
		return;
	}
	if (p.created_by == r->who.u.id) {
		authz_deny(s, r, y, true, p.id, "own request");
	} else if (p.approved_by) {
		reply_err(y, 409, "conflict", NULL, "released already");
	} else if (srv_sign_more(s, r, y, sg.sent, p.envelope, &sg.env)) {
		if (store_report_approve(srv_st(s), p.id, sg.env.data,
					 r->who.u.id, &e)) {
			reply_fail(y, &e);
		} else {
			srv_audit(s, r, "report.release", "level", p.level,
				  p.id);
			store_report_free(&p);
			if (!store_report_get(srv_st(s), r->ids[0], &p, &e))
				reply_json(y, 200, report_json_meta(&p));
		}
	}
	store_report_free(&p);
	srv_signing_end(&sg);
}

void api_reports_download(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_report p;

	if (!visible_report(s, r, y, &p))
		return;
	if (!p.approved_by) {
		reply_err(y, 409, "conflict", NULL, "not released yet");
	} else {
		srv_audit(s, r, "report.download", "level", p.level, p.id);
		reply_envelope(y, p.envelope);
	}
	store_report_free(&p);
}
