/*
 * report_json.c - the machine-readable report (docs/FORMAT-report.md).
 */
#include "report/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "report/report_int.h"
#include "base/xalloc.h"
#include "report/report_json_int.h"
#include "base/banned.h"

static json_t *words(const char *s)
{
	json_t *a = json_array();
	char *copy = xstrdup(s ? s : ""), *save = NULL;

	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		json_array_append_new(a, json_string(t));
	free(copy);
	return a;
}

static json_t *task_json(const struct report_task *t)
{
	json_t *o = json_object(), *oc = json_object();

	for (size_t i = 0; i < t->n_outcomes; i++)
		json_object_set_new(oc, t->outcomes[i].name,
				    json_integer(t->outcomes[i].n));
	json_object_set_new(o, "id", json_string(t->meta->task_id));
	json_object_set_new(o, "category", json_string(t->meta->category));
	json_object_set_new(o, "difficulty", json_integer(t->meta->difficulty));
	json_object_set_new(o, "expert_minutes", json_real(t->meta->expert_minutes));
	json_object_set_new(o, "tags", words(t->meta->tags));
	json_object_set_new(o, "attack", words(t->meta->attack));
	json_object_set_new(o, "digest", json_string(t->meta->digest));
	json_object_set_new(o, "epochs", json_integer(t->epochs));
	json_object_set_new(o, "successes", json_integer(t->successes));
	json_object_set_new(o, "answers_ok", json_integer(t->answers_ok));
	json_object_set_new(o, "answers_total", json_integer(t->answers_total));
	json_object_set_new(o, "model_failures", json_integer(t->model_failures));
	json_object_set_new(o, "agent_caused", json_integer(t->agent_caused));
	json_object_set_new(o, "infra_failures", json_integer(t->infra_failures));
	json_object_set_new(o, "invalidated", json_integer(t->invalidated));
	json_object_set_new(o, "interrupted", json_integer(t->interrupted));
	json_object_set_new(o, "unscored", json_integer(t->unscored));
	json_object_set_new(o, "tokens", json_integer(t->tokens));
	json_object_set_new(o, "cost_usd", json_real(t->cost_usd));
	json_object_set_new(o, "wall_ms", json_integer(t->wall_ms));
	json_object_set_new(o, "outcomes", oc);
	return o;
}

static json_t *run_json(const struct report *r)
{
	json_t *o = json_object();
	char when[40], *agent = report_scaffold(r);

	iso8601(r->run.created_ms, when, sizeof(when));
	json_object_set_new(o, "id", json_integer(r->run.id));
	json_object_set_new(o, "status", json_string(r->run.status));
	json_object_set_new(o, "model", json_string(r->run.model));
	json_object_set_new(o, "agent", json_string(agent));
	free(agent);
	json_object_set_new(o, "endpoint", json_string(r->run.endpoint));
	json_object_set_new(o, "suite", json_string(r->run.suite_id));
	json_object_set_new(o, "suite_digest", json_string(r->run.suite_digest));
	json_object_set_new(o, "epochs", json_integer(r->run.epochs));
	json_object_set_new(o, "harness", json_string(r->run.harness_version));
	json_object_set_new(o, "created", json_string(when));
	json_object_set_new(o, "price_known", json_boolean(!report_price_unknown(r)));
	return o;
}

static json_t *totals_json(const struct report *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "scored", json_integer(r->scored));
	json_object_set_new(o, "solved", json_integer(r->solved));
	json_object_set_new(o, "model_failures", json_integer(r->model_failures));
	json_object_set_new(o, "agent_caused", json_integer(r->agent_caused));
	json_object_set_new(o, "infra_failures", json_integer(r->infra_failures));
	json_object_set_new(o, "interrupted", json_integer(r->interrupted));
	json_object_set_new(o, "unscored", json_integer(r->unscored));
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	json_object_set_new(o, "pairs", json_integer(r->pairs.total));
	json_object_set_new(o, "prompt_tokens", json_integer(r->prompt_tokens));
	json_object_set_new(o, "completion_tokens",
			    json_integer(r->completion_tokens));
	json_object_set_new(o, "cached_tokens", json_integer(r->cached_tokens));
	json_object_set_new(o, "cost_usd", json_real(r->cost_usd));
	json_object_set_new(o, "wall_ms", json_integer(r->wall_ms));
	json_object_set_new(o, "working_ms", json_integer(r->working_ms));
	return o;
}

char *report_json(const struct report *r)
{
	return report_json_full(r, NULL);
}

char *report_json_full(const struct report *r, const struct report_analysis *a)
{
	json_t *doc = json_object(), *tasks = json_array();
	char *s;

	for (size_t i = 0; i < r->n_tasks; i++)
		json_array_append_new(tasks, task_json(&r->rows[i]));
	json_object_set_new(doc, "format", json_string("assay-report/1"));
	json_object_set_new(doc, "run", run_json(r));
	json_object_set_new(doc, "totals", totals_json(r));
	json_object_set_new(doc, "tasks", tasks);
	json_object_set_new(doc, "validity", report_json_validity(r));
	if (r->humans)
		json_object_set_new(doc, "human_baseline", report_json_humans(r));
	if (a) {
		json_object_set_new(doc, "determination", report_json_determination(a));
		json_object_set_new(doc, "statistics", report_json_statistics(a));
	}
	s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	return s ? s : xstrdup("{}");
}
