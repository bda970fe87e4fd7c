/*
 * report_statement.c - the signed result: an in-toto Statement (v1) whose
 * predicate carries the scores, the determination, the policy's digest, a
 * Merkle commitment to the task set and the harness version. It names no
 * task and holds no task text, so it can go to the model's developer.
 *
 * Task-set commitment: RFC 6962 Merkle root over the tasks sorted by id,
 * leaf i = SHA-256(0x00 || id || 0x00 || content digest). Whoever holds the
 * suite can recompute it; whoever does not learns nothing from it.
 */
#include "report/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "report/report_int.h"
#include "vault/merkle.h"
#include "vault/vault.h"
#include "base/banned.h"

static void task_commitment(const struct report *r, char hex[65])
{
	vault_hash *leaves = xcalloc(r->n_tasks + 1, sizeof(*leaves));
	vault_hash root;

	/* store_task_list returns the tasks sorted by id */
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct store_task *t = &r->tasks[i];
		char *entry = xasprintf("%s%c%s", t->task_id, 0, t->digest ? t->digest : "");
		size_t n = strlen(t->task_id) + 1 + (t->digest ? strlen(t->digest) : 0);
		vault_merkle_leaf_hash(entry, n, leaves[i]);
		free(entry);
	}
	vault_merkle_root(leaves, r->n_tasks, root);
	hex_encode(root, sizeof(root), hex);
	free(leaves);
}

static json_t *interval(double est, double lo, double hi)
{
	json_t *o = json_object();

	json_object_set_new(o, "estimate", json_real(est));
	json_object_set_new(o, "lo", json_real(lo));
	json_object_set_new(o, "hi", json_real(hi));
	return o;
}

static json_t *scores(const struct report *r, const struct report_analysis *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "episodes_scored", json_integer(r->scored));
	json_object_set_new(o, "episodes_solved", json_integer(r->solved));
	json_object_set_new(o, "infra_failures", json_integer(r->infra_failures));
	json_object_set_new(o, "invalidated", json_integer(
		r->validity.harness + r->validity.task));
	json_object_set_new(o, "indeterminate",
			    json_integer(r->validity.indeterminate));
	if (a && a->has_overall) {
		json_object_set_new(o, "pass_at_1", interval(a->overall.pass1,
			a->overall.boot.lo, a->overall.boot.hi));
		json_object_set_new(o, "tasks", json_integer((json_int_t)a->overall.ntasks));
	}
	if (a && a->has_horizon) {
		json_object_set_new(o, "horizon_h50_minutes", json_real(a->horizon.h50.est));
		json_object_set_new(o, "horizon_h80_minutes", json_real(a->horizon.h80.est));
	}
	return o;
}

static json_t *determination(const struct report_analysis *a)
{
	json_t *o = json_object(), *rules = json_array();
	const struct policy_result *res = a ? a->result : NULL;

	if (!res) {
		json_object_set_new(o, "verdict", json_string("none"));
		json_object_set_new(o, "reason", json_string(a ? a->result_note :
							     "no analysis"));
		return o;
	}
	json_object_set_new(o, "verdict", json_string(
		policy_determination_name(res->determination)));
	json_object_set_new(o, "reason", json_string(res->reason));
	for (size_t i = 0; i < res->nrules; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "rule", json_string(res->rules[i].rule->name));
		json_object_set_new(x, "verdict", json_string(
			policy_verdict_name(res->rules[i].verdict)));
		json_array_append_new(rules, x);
	}
	json_object_set_new(o, "rules", rules);
	return o;
}

/* What the result says about the journal it was computed from: how many
 * reviews, the digest of the review log and the finished attempts, which
 * `assay verify --current` recomputes (a later review or resume makes
 * the result stale). */
static json_t *reviews(const struct report *r)
{
	char dig[65];

	report_reviews_digest(r, dig);
	return json_pack("{s:I,s:s,s:i}", "count", (json_int_t)r->n_reviews,
			 "digest", dig, "attempts", r->attempts);
}

char *report_statement(const struct report *r, const struct report_analysis *a,
		       const char *policy_sha256, const char *report_sha256)
{
	json_t *st = json_object(), *subj = json_object(), *dig = json_object();
	json_t *pred = json_object(), *suite = json_object(), *pol = json_object();
	char commit[65], name[64], when[40], *s;

	task_commitment(r, commit);
	snprintf(name, sizeof(name), "assay-run-%lld", (long long)r->run.id);
	json_object_set_new(dig, "sha256", json_string(report_sha256));
	json_object_set_new(subj, "name", json_string(name));
	json_object_set_new(subj, "digest", dig);
	json_object_set_new(st, "_type", json_string("https://in-toto.io/Statement/v1"));
	json_object_set_new(st, "subject", json_pack("[o]", subj));
	json_object_set_new(st, "predicateType",
			    json_string("urn:assay:predicate:result:v1"));
	json_object_set_new(suite, "id", json_string(r->run.suite_id));
	json_object_set_new(suite, "digest", json_string(r->run.suite_digest));
	json_object_set_new(suite, "tasks", json_integer((json_int_t)r->n_tasks));
	json_object_set_new(suite, "task_set_merkle_root", json_string(commit));
	json_object_set_new(pol, "sha256", json_string(policy_sha256));
	iso8601(wall_ms(), when, sizeof(when));
	json_object_set_new(pred, "run", json_integer(r->run.id));
	json_object_set_new(pred, "model", json_string(r->run.model));
	json_object_set_new(pred, "endpoint", json_string(r->run.endpoint));
	json_object_set_new(pred, "epochs", json_integer(r->run.epochs));
	json_object_set_new(pred, "harness", json_string(r->run.harness_version));
	json_object_set_new(pred, "suite", suite);
	json_object_set_new(pred, "policy", pol);
	json_object_set_new(pred, "scores", scores(r, a));
	json_object_set_new(pred, "determination", determination(a));
	json_object_set_new(pred, "reviews", reviews(r));
	json_object_set_new(pred, "issued", json_string(when));
	json_object_set_new(st, "predicate", pred);
	s = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(st);
	return s ? s : xstrdup("{}");
}
