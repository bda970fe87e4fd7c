/*
 * export_jsonl.c - a run as JSON Lines for pandas or R (docs/EXPORT.md):
 * one object per episode attempt, flat columns only (no nesting), the
 * task's snapshot joined in. No task text is written.
 */
#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/banned.h"

static const struct store_task *task_of(const struct report *r, const char *id)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i].task_id, id))
			return &r->tasks[i];
	return NULL;
}

static json_t *opt_str(const char *s)
{
	json_t *j = s ? json_string(s) : json_null();

	return j ? j : json_null();
}

static void when(json_t *o, const char *key, int64_t ms)
{
	char ts[40];

	if (ms <= 0) {
		json_object_set_new(o, key, json_null());
		return;
	}
	iso8601(ms, ts, sizeof(ts));
	json_object_set_new(o, key, json_string(ts));
}

static json_t *row(const struct report *r, const struct store_episode *ep)
{
	const struct store_task *t = task_of(r, ep->task_id);
	json_t *o = json_object();

	json_object_set_new(o, "run", json_integer(r->run.id));
	json_object_set_new(o, "model", opt_str(r->run.model));
	json_object_set_new(o, "suite", opt_str(r->run.suite_id));
	json_object_set_new(o, "suite_digest", opt_str(r->run.suite_digest));
	json_object_set_new(o, "task", opt_str(ep->task_id));
	json_object_set_new(o, "category", opt_str(t ? t->category : NULL));
	json_object_set_new(o, "difficulty", t ? json_integer(t->difficulty) : json_null());
	json_object_set_new(o, "expert_minutes", t && isfinite(t->expert_minutes) ?
			    json_real(t->expert_minutes) : json_null());
	json_object_set_new(o, "tags", opt_str(t ? t->tags : NULL));
	json_object_set_new(o, "attack", opt_str(t ? t->attack : NULL));
	json_object_set_new(o, "epoch", json_integer(ep->epoch));
	json_object_set_new(o, "attempt", json_integer(ep->attempt));
	json_object_set_new(o, "episode", json_integer(ep->id));
	json_object_set_new(o, "status", opt_str(ep->status));
	json_object_set_new(o, "outcome", opt_str(ep->outcome));
	json_object_set_new(o, "error_class", opt_str(ep->error_class));
	json_object_set_new(o, "score", json_integer(ep->score));
	json_object_set_new(o, "solved", json_boolean(ep->score == 1));
	json_object_set_new(o, "flag_ok", ep->has_flag ? json_boolean(ep->flag_ok) : json_null());
	json_object_set_new(o, "check_ok", ep->has_check ? json_boolean(ep->check_ok) : json_null());
	json_object_set_new(o, "answers_ok", json_integer(ep->answers_ok));
	json_object_set_new(o, "answers_total", json_integer(ep->answers_total));
	json_object_set_new(o, "turns", json_integer(ep->turns));
	json_object_set_new(o, "prompt_tokens", json_integer(ep->prompt_tokens));
	json_object_set_new(o, "completion_tokens", json_integer(ep->completion_tokens));
	json_object_set_new(o, "cached_tokens", json_integer(ep->cached_tokens));
	json_object_set_new(o, "cost_usd", isfinite(ep->cost_usd) ?
			    json_real(ep->cost_usd) : json_null());
	when(o, "started_at", ep->started_ms);
	when(o, "finished_at", ep->finished_ms);
	json_object_set_new(o, "wall_s", json_real((double)ep->wall_ms / 1000));
	json_object_set_new(o, "working_s", json_real((double)ep->working_ms / 1000));
	json_object_set_new(o, "model_calls", json_integer(ep->model_calls));
	json_object_set_new(o, "tool_calls", json_integer(ep->tool_calls));
	json_object_set_new(o, "infra_retries", json_integer(ep->infra_retries));
	json_object_set_new(o, "error", opt_str(ep->error));
	return o;
}

enum err report_export_jsonl(const struct report *r, FILE *out, struct errmsg *e)
{
	for (size_t i = 0; i < r->n_eps; i++) {
		json_t *o = row(r, &r->eps[i]);
		int bad = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
		json_decref(o);
		if (bad || fputc('\n', out) == EOF)
			return err_sys(e, ERR_IO, "writing the episodes");
	}
	return ERR_OK;
}
