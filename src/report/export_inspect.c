/*
 * export_inspect.c - a run as an Inspect eval log (docs/EXPORT.md): the
 * `.eval` zip container with header.json, _journal/start.json,
 * summaries.json, reductions.json and samples/ID_epoch_N.json.
 *
 * One sample per (task, epoch): its final attempt. The journal's events
 * become Inspect's chat messages (system, user, assistant with tool
 * calls, tool results) and events (model, tool, info, score,
 * sample_limit, error). Inspect's schema requires every field, so each
 * object is completed with nulls from its field list (fill()). With
 * o->withhold (a sealed suite exported without --include-content) no
 * task text is written: prompts, questions and tool output are replaced
 * by a marker, leaving ids, scores, usage and timings. The zip is
 * built in memory by zipw.c (deflate, sizes in the local headers, which
 * Inspect's viewer reads) and written atomically.
 */
#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "report/zipw.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define WITHHELD "[withheld: sealed suite; export with --include-content]"
#define SCORER "assay"

/* Fields Inspect's schema requires of each object (all nullable but the
 * ones set explicitly below). */
static const char *const f_spec[] = { "eval_set_id", "eval_id", "run_id",
	"created", "task", "task_id", "task_version", "task_file",
	"task_display_name", "task_registry_name", "task_attribs", "task_args",
	"task_args_passed", "solver", "solver_args", "solver_args_passed",
	"tags", "dataset", "sandbox", "model", "model_generate_config",
	"model_base_url", "model_args", "model_roles", "config", "revision",
	"packages", "metadata", "scorers", "metrics", NULL };
static const char *const f_config[] = { "limit", "sample_id",
	"sample_shuffle", "epochs", "epochs_reducer", "approval",
	"fail_on_error", "continue_on_fail", "retry_on_error", "message_limit",
	"token_limit", "time_limit", "working_limit", "cost_limit",
	"max_samples", "max_dataset_memory", "max_tasks", "max_subprocesses",
	"max_sandboxes", "sandbox_cleanup", "log_samples", "log_realtime",
	"log_images", "log_model_api", "log_buffer", "log_shared",
	"score_display", NULL };
static const char *const f_generate[] = { "max_retries", "timeout",
	"attempt_timeout", "max_connections", "system_message", "max_tokens",
	"top_p", "temperature", "stop_seqs", "best_of", "frequency_penalty",
	"presence_penalty", "logit_bias", "seed", "top_k", "num_choices",
	"logprobs", "top_logprobs", "parallel_tool_calls", "internal_tools",
	"max_tool_output", "cache_prompt", "verbosity", "effort",
	"reasoning_effort", "reasoning_tokens", "reasoning_summary",
	"reasoning_history", "response_schema", "extra_headers", "extra_body",
	"modalities", "cache", "batch", NULL };
static const char *const f_sample[] = { "id", "epoch", "input", "choices",
	"target", "sandbox", "files", "setup", "messages", "output", "scores",
	"metadata", "store", "events", "timelines", "model_usage", "role_usage",
	"started_at", "completed_at", "total_time", "working_time", "uuid",
	"invalidation", "error", "error_retries", "attachments", "events_data",
	"limit", NULL };
static const char *const f_event[] = { "uuid", "span_id", "timestamp",
	"working_start", "metadata", "pending", NULL };
static const char *const f_model_ev[] = { "role", "input_refs", "retries",
	"error", "traceback", "traceback_ansi", "cache", "call", "completed",
	"working_time", NULL };
static const char *const f_tool_ev[] = { "view", "truncated", "error",
	"completed", "working_time", "agent", "agent_span_id", "failed",
	"message_id", NULL };
static const char *const f_usage[] = { "input_tokens", "output_tokens",
	"total_tokens", "input_tokens_cache_write", "input_tokens_cache_read",
	"reasoning_tokens", "total_cost", NULL };

struct xctx {
	const struct report *r;
	const struct report_export_opts *o;
	char created[40];
	char run_uuid[40];
};

static void fill(json_t *o, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (!json_object_get(o, names[i]))
			json_object_set_new(o, names[i], json_null());
}

static json_t *str(const char *s)
{
	json_t *j = s ? json_string(s) : json_null();

	return j ? j : json_string("[not UTF-8]");
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static void when(int64_t wall_ms, char *out, size_t n)
{
	if (wall_ms > 0)
		iso8601(wall_ms, out, n);
	else
		snprintf(out, n, "1970-01-01T00:00:00+00:00");
}

/* ---- usage, scores ------------------------------------------------------- */

static json_t *usage(long in, long outp, long cached, double cost)
{
	json_t *u = json_object();

	json_object_set_new(u, "input_tokens", json_integer(in));
	json_object_set_new(u, "output_tokens", json_integer(outp));
	json_object_set_new(u, "total_tokens", json_integer(in + outp));
	json_object_set_new(u, "input_tokens_cache_read", json_integer(cached));
	json_object_set_new(u, "total_cost", num(cost));
	fill(u, f_usage);
	return u;
}

static json_t *model_usage(const struct xctx *c, const struct store_episode *ep)
{
	json_t *m = json_object();

	json_object_set_new(m, c->r->run.model, usage(ep->prompt_tokens,
			    ep->completion_tokens, ep->cached_tokens, ep->cost_usd));
	return m;
}

static json_t *score_of(const struct store_episode *ep, const char *answer)
{
	json_t *md = json_pack("{s:s, s:s, s:b, s:b, s:i, s:i, s:i}",
			       "outcome", ep->outcome ? ep->outcome : "?",
			       "error_class", ep->error_class ? ep->error_class : "?",
			       "flag_ok", ep->flag_ok, "check_ok", ep->check_ok,
			       "answers_ok", ep->answers_ok, "answers_total",
			       ep->answers_total, "attempt", ep->attempt);
	char *why = xasprintf("%s%s%s", ep->outcome ? ep->outcome : "unscored",
			      ep->error ? ": " : "", ep->error ? ep->error : "");
	json_t *s = json_pack("{s:s, s:o, s:o, s:o, s:[]}", "value",
			      ep->score ? "C" : "I", "answer", str(answer),
			      "explanation", str(why), "metadata", md, "history");

	free(why);
	return s;
}

/* ---- messages and events from the journal --------------------------------- */

struct conv {
	json_t *messages, *events;
	char *input;           /* the task prompt */
	char *answer;          /* the last submitted flag */
	json_t *last;          /* the last assistant message (borrowed) */
	int64_t t0;
	bool sequential;       /* questions one at a time: an answer tool */
};

static json_t *message(const char *role, const char *content, const char *src)
{
	json_t *m = json_pack("{s:s, s:o, s:s?}", "role", role, "content",
			      str(content ? content : ""), "source", src);

	json_object_set_new(m, "id", json_null());
	json_object_set_new(m, "metadata", json_null());
	if (!json_object_get(m, "source"))
		json_object_set_new(m, "source", json_null());
	return m;
}

static json_t *event(const char *kind, const struct store_event *ev, int64_t t0)
{
	char ts[40];
	json_t *e = json_object();

	when(ev->at_ms, ts, sizeof(ts));
	json_object_set_new(e, "event", json_string(kind));
	json_object_set_new(e, "timestamp", json_string(ts));
	json_object_set_new(e, "working_start",
			    json_real(ev->at_ms > t0 ? (double)(ev->at_ms - t0) / 1000 : 0));
	fill(e, f_event);
	return e;
}

/* Tool-call arguments are a JSON text from the model: an object, or {}
 * with the parse error. */
static json_t *tool_call(const char *id, const char *name, const char *args)
{
	json_error_t je;
	json_t *a = args ? json_loads(args, JSON_DECODE_ANY, &je) : NULL;
	const char *perr = NULL;

	if (!json_is_object(a)) {
		json_decref(a);
		a = json_object();
		perr = args && *args ? "arguments are not a JSON object" : NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:n, s:s}", "id", str(id ? id : "?"),
			 "function", str(name ? name : "?"), "arguments", a,
			 "parse_error", str(perr), "view", "type", "function");
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void on_prompt(struct xctx *c, struct conv *v, json_t *d)
{
	bool w = c->o->withhold;

	json_array_append_new(v->messages, message("system", w ? WITHHELD :
					   jstr(d, "system"), "input"));
	json_array_append_new(v->messages, message("user", w ? WITHHELD :
					   jstr(d, "task"), "input"));
	json_object_set_new(json_array_get(v->messages, 1), "tool_call_id",
			    json_null());
	free(v->input);
	v->input = xstrdup(w ? WITHHELD : jstr(d, "task") ? jstr(d, "task") : "");
	v->sequential = jstr(d, "answers_mode") &&
			!strcmp(jstr(d, "answers_mode"), "sequential");
}

/* A question turn of a task that asks its questions one at a time: a
 * user message, as the model saw it. */
static void on_question(struct xctx *c, struct conv *v, json_t *d)
{
	json_t *m = message("user", c->o->withhold ? WITHHELD : jstr(d, "text"),
			    NULL);

	json_object_set_new(m, "tool_call_id", json_null());
	json_array_append_new(v->messages, m);
}

/* The agent's tools; answer only on a task that asks its questions one
 * at a time. */
static json_t *tools_info(bool sequential)
{
	static const char *const names[] = { "bash", "python", "submit",
					     "answer" };
	json_t *t = json_array();

	for (size_t i = 0; i < 3 + (sequential ? 1 : 0); i++)
		json_array_append_new(t, json_pack("{s:s, s:s, s:{s:s, s:{}, s:[], "
			"s:b}, s:n}", "name", names[i], "description", names[i],
			"parameters", "type", "object", "properties", "required",
			"additionalProperties", 0, "options"));
	return t;
}

static const char *stop_reason(const char *stop)
{
	if (!stop)
		return "unknown";
	if (!strcmp(stop, "tool_calls"))
		return "tool_calls";
	if (!strcmp(stop, "end_turn"))
		return "stop";
	if (!strcmp(stop, "max_tokens"))
		return "max_tokens";
	if (!strcmp(stop, "context_overflow"))
		return "model_length";
	if (!strcmp(stop, "refusal"))
		return "content_filter";
	return "unknown";
}

static json_t *output_of(const struct xctx *c, json_t *msg, const char *stop,
			 json_t *use)
{
	json_t *o = json_object();
	const char *text = msg ? json_string_value(json_object_get(msg, "content")) : "";

	json_object_set_new(o, "model", json_string(c->r->run.model));
	json_object_set_new(o, "choices", msg ? json_pack("[{s:O, s:s, s:n}]",
			    "message", msg, "stop_reason", stop_reason(stop),
			    "logprobs") : json_array());
	json_object_set_new(o, "completion", str(text ? text : ""));
	json_object_set_new(o, "usage", use ? use : json_null());
	json_object_set_new(o, "time", json_null());
	json_object_set_new(o, "metadata", json_null());
	json_object_set_new(o, "error", json_null());
	return o;
}

static void on_model(struct xctx *c, struct conv *v, json_t *d,
		     const struct store_event *ev)
{
	json_t *calls = json_object_get(d, "tool_calls"), *tc = json_array();
	json_t *m, *e, *cfg = json_object();
	size_t i;
	json_t *x;

	json_array_foreach(calls, i, x)
		json_array_append_new(tc, tool_call(jstr(x, "id"), jstr(x, "name"),
						    c->o->withhold ? "{}" :
						    jstr(x, "arguments")));
	m = message("assistant", c->o->withhold ? WITHHELD : jstr(d, "text"),
		    "generate");
	json_object_set_new(m, "tool_calls", json_array_size(tc) ? tc : json_null());
	if (!json_array_size(tc))
		json_decref(tc);
	json_object_set_new(m, "model", json_string(c->r->run.model));
	e = event("model", ev, v->t0);
	json_object_set_new(e, "model", json_string(c->r->run.model));
	json_object_set_new(e, "input", json_deep_copy(v->messages));
	json_object_set_new(e, "tools", tools_info(v->sequential));
	json_object_set_new(e, "tool_choice", json_string("auto"));
	fill(cfg, f_generate);
	json_object_set_new(e, "config", cfg);
	json_object_set_new(e, "output", output_of(c, m, jstr(d, "stop"),
		usage((long)json_integer_value(json_object_get(d, "prompt_tokens")),
		      (long)json_integer_value(json_object_get(d, "completion_tokens")),
		      (long)json_integer_value(json_object_get(d, "cached_tokens")),
		      json_number_value(json_object_get(d, "cost_usd")))));
	if (jstr(d, "error"))
		json_object_set_new(e, "error", str(jstr(d, "error")));
	json_object_set_new(e, "working_time", json_real(
		(double)json_integer_value(json_object_get(d, "total_ms")) / 1000));
	fill(e, f_model_ev);
	json_array_append_new(v->events, e);
	json_array_append_new(v->messages, m);
	v->last = m;
}

static void note_submit(struct conv *v, json_t *d)
{
	json_error_t je;
	json_t *a;

	if (!jstr(d, "name") || strcmp(jstr(d, "name"), "submit") || !jstr(d, "arguments"))
		return;
	a = json_loads(jstr(d, "arguments"), 0, &je);
	if (jstr(a, "flag")) {
		free(v->answer);
		v->answer = xstrdup(jstr(a, "flag"));
	}
	json_decref(a);
}

static void on_tool(struct xctx *c, struct conv *v, json_t *d,
		    const struct store_event *ev)
{
	const char *out = c->o->withhold ? WITHHELD : jstr(d, "output");
	bool failed = json_is_true(json_object_get(d, "error"));
	json_t *m = message("tool", out, NULL), *e, *call, *err;

	err = failed ? json_pack("{s:s, s:o}", "type", "unknown", "message",
				 str(out ? out : "")) : json_null();
	json_object_set_new(m, "tool_call_id", str(jstr(d, "id")));
	json_object_set_new(m, "function", str(jstr(d, "name")));
	json_object_set_new(m, "error", json_deep_copy(err));
	call = tool_call(jstr(d, "id"), jstr(d, "name"), c->o->withhold ? "{}" :
			 jstr(d, "arguments"));
	e = event("tool", ev, v->t0);
	json_object_set_new(e, "type", json_string("function"));
	json_object_set_new(e, "id", json_deep_copy(json_object_get(call, "id")));
	json_object_set_new(e, "function", json_deep_copy(json_object_get(call,
			    "function")));
	json_object_set_new(e, "arguments", json_deep_copy(json_object_get(call,
			    "arguments")));
	json_object_set_new(e, "result", str(out ? out : ""));
	json_object_set_new(e, "error", err);
	json_object_set_new(e, "events", json_array());
	json_object_set_new(e, "working_time", json_real(
		(double)json_integer_value(json_object_get(d, "wall_us")) / 1e6));
	json_object_set_new(e, "failed", json_boolean(failed));
	fill(e, f_tool_ev);
	json_decref(call);
	if (!c->o->withhold)     /* a sealed task's flag is its text too */
		note_submit(v, d);
	json_array_append_new(v->events, e);
	json_array_append_new(v->messages, m);
}

static void on_note(struct xctx *c, struct conv *v, json_t *d,
		    const struct store_event *ev)
{
	json_t *e = event("info", ev, v->t0);

	json_object_set_new(e, "source", json_string("assay"));
	json_object_set_new(e, "data", c->o->withhold ? json_string(WITHHELD) :
			    json_deep_copy(d));
	json_array_append_new(v->events, e);
}

static void conv_build(struct xctx *c, const struct report_transcript *t,
		       int64_t t0, struct conv *v)
{
	memset(v, 0, sizeof(*v));
	v->messages = json_array();
	v->events = json_array();
	v->t0 = t0;
	for (size_t i = 0; t && i < t->n; i++) {
		const struct store_event *ev = &t->evs[i];
		json_error_t je;
		json_t *d = json_loads(ev->data, 0, &je);
		if (!json_is_object(d))
			;
		else if (!strcmp(ev->kind, "prompt"))
			on_prompt(c, v, d);
		else if (!strcmp(ev->kind, "model"))
			on_model(c, v, d, ev);
		else if (!strcmp(ev->kind, "tool"))
			on_tool(c, v, d, ev);
		else if (!strcmp(ev->kind, "question"))
			on_question(c, v, d);
		else if (!strcmp(ev->kind, "note"))
			on_note(c, v, d, ev);
		json_decref(d);
	}
}

/* ---- one sample ---------------------------------------------------------- */

static json_t *limit_of(const struct store_episode *ep, const struct store_task *t)
{
	const char *o = ep->outcome ? ep->outcome : "";

	if (!strcmp(o, "limit-turns"))
		return json_pack("{s:s, s:f}", "type", "message", "limit", (double)ep->turns);
	if (!strcmp(o, "limit-tokens"))
		return json_pack("{s:s, s:f}", "type", "token", "limit", t &&
				 t->limit_tokens ? (double)t->limit_tokens :
				 (double)(ep->prompt_tokens + ep->completion_tokens));
	if (!strcmp(o, "limit-wall"))
		return json_pack("{s:s, s:f}", "type", "time", "limit",
				 (double)ep->wall_ms / 1000);
	if (!strcmp(o, "limit-cost"))
		return json_pack("{s:s, s:f}", "type", "cost", "limit", ep->cost_usd);
	return json_null();
}

static const char *limit_name(json_t *l)
{
	return json_is_object(l) ? jstr(l, "type") : NULL;
}

static const struct store_task *task_of(const struct report *r, const char *id)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i].task_id, id))
			return &r->tasks[i];
	return NULL;
}

static json_t *sample_meta(const struct store_episode *ep, const struct store_task *t)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:i, s:f, s:s, s:s, s:I}",
			 "assay_task", ep->task_id, "attempt", ep->attempt,
			 "outcome", ep->outcome ? ep->outcome : "?", "category",
			 t && t->category ? t->category : "?", "difficulty",
			 t ? t->difficulty : 0, "expert_minutes", t ? t->expert_minutes : 0,
			 "tags", t && t->tags ? t->tags : "", "digest",
			 t && t->digest ? t->digest : "", "episode", (json_int_t)ep->id);
}

/* The sample of episode ep and, in *summary, its row of summaries.json. */
static json_t *sample(struct xctx *c, size_t k, json_t **summary)
{
	const struct store_episode *ep = &c->r->eps[k];
	const struct store_task *t = task_of(c->r, ep->task_id);
	const struct report_transcript *tr = c->r->transcripts ?
					     &c->r->transcripts[k] : NULL;
	char st[40], fin[40];
	struct conv v;
	json_t *s = json_object(), *scores, *lim, *sc, *err = json_null();

	conv_build(c, tr, ep->started_ms, &v);
	when(ep->started_ms, st, sizeof(st));
	when(ep->finished_ms, fin, sizeof(fin));
	scores = json_pack("{s:o}", SCORER, score_of(ep, v.answer));
	sc = event("score", &(struct store_event){ .at_ms = ep->finished_ms }, v.t0);
	json_object_set_new(sc, "score", json_deep_copy(json_object_get(scores, SCORER)));
	json_object_set_new(sc, "target", json_null());
	json_object_set_new(sc, "intermediate", json_false());
	json_object_set_new(sc, "model_usage", json_null());
	json_object_set_new(sc, "role_usage", json_null());
	json_array_append_new(v.events, sc);
	lim = limit_of(ep, t);
	if (ep->error && ep->error_class && strcmp(ep->error_class, "none") &&
	    strcmp(ep->error_class, "agent-caused"))
		err = json_pack("{s:o, s:s, s:s}", "message", str(ep->error),
				"traceback", "", "traceback_ansi", "");
	json_object_set_new(s, "id", json_string(ep->task_id));
	json_object_set_new(s, "epoch", json_integer(ep->epoch));
	json_object_set_new(s, "input", str(v.input ? v.input : ""));
	json_object_set_new(s, "target", json_string(""));
	json_object_set_new(s, "messages", v.messages);
	json_object_set_new(s, "output", output_of(c, v.last, NULL, NULL));
	json_object_set_new(s, "scores", scores);
	json_object_set_new(s, "metadata", sample_meta(ep, t));
	json_object_set_new(s, "store", json_object());
	json_object_set_new(s, "events", v.events);
	json_object_set_new(s, "model_usage", model_usage(c, ep));
	json_object_set_new(s, "role_usage", json_object());
	json_object_set_new(s, "started_at", json_string(st));
	json_object_set_new(s, "completed_at", json_string(fin));
	json_object_set_new(s, "total_time", json_real((double)ep->wall_ms / 1000));
	json_object_set_new(s, "working_time", json_real((double)ep->working_ms / 1000));
	json_object_set_new(s, "error", err);
	json_object_set_new(s, "error_retries", json_null());
	json_object_set_new(s, "attachments", json_object());
	json_object_set_new(s, "limit", lim);
	fill(s, f_sample);
	*summary = json_pack("{s:s, s:i, s:O, s:s, s:O, s:O, s:O, s:o, s:b, "
		"s:s, s:s, s:O, s:O, s:o, s:o, s:n, s:I}",
		"id", ep->task_id, "epoch", ep->epoch, "input",
		json_object_get(s, "input"), "target", "", "metadata",
		json_object_get(s, "metadata"), "scores", scores, "model_usage",
		json_object_get(s, "model_usage"), "role_usage", json_object(),
		"completed", true, "started_at", st, "completed_at", fin,
		"total_time", json_object_get(s, "total_time"), "working_time",
		json_object_get(s, "working_time"), "error", str(ep->error &&
		!json_is_null(err) ? ep->error : NULL), "limit", str(limit_name(lim)),
		"retries", "message_count",
		(json_int_t)json_array_size(json_object_get(s, "messages")));
	free(v.input);
	free(v.answer);
	return s;
}

/* ---- header -------------------------------------------------------------- */

/* The final attempt of each (task, epoch): the scored one, else the last. */
static bool is_final(const struct report *r, size_t i)
{
	const struct store_episode *ep = &r->eps[i];

	for (size_t j = 0; j < r->n_eps; j++) {
		const struct store_episode *o = &r->eps[j];
		if (j != i && o->epoch == ep->epoch && !strcmp(o->task_id, ep->task_id) &&
		    o->attempt > ep->attempt)
			return false;
	}
	return true;
}

static json_t *eval_spec(const struct xctx *c, json_t *ids)
{
	const struct report *r = c->r;
	char rid[32];
	json_t *s = json_object(), *cfg = json_object(), *gen = json_object();

	snprintf(rid, sizeof(rid), "assay-run-%lld", (long long)r->run.id);
	json_object_set_new(s, "eval_id", json_string(c->run_uuid));
	json_object_set_new(s, "run_id", json_string(rid));
	json_object_set_new(s, "created", json_string(c->created));
	json_object_set_new(s, "task", str(r->run.suite_id ? r->run.suite_id : "suite"));
	json_object_set_new(s, "task_id", json_string(rid));
	json_object_set_new(s, "task_version", json_integer(0));
	json_object_set_new(s, "task_attribs", json_object());
	json_object_set_new(s, "task_args", json_object());
	json_object_set_new(s, "task_args_passed", json_object());
	json_object_set_new(s, "dataset", json_pack("{s:o, s:n, s:I, s:O, s:b}",
		"name", str(r->run.suite_id), "location", "samples",
		(json_int_t)r->n_tasks, "sample_ids", ids, "shuffled", 0));
	json_object_set_new(s, "model", json_string(r->run.model));
	fill(gen, f_generate);
	json_object_set_new(s, "model_generate_config", gen);
	json_object_set_new(s, "model_args", json_object());
	json_object_set_new(cfg, "epochs", json_integer(r->run.epochs));
	fill(cfg, f_config);
	json_object_set_new(s, "config", cfg);
	json_object_set_new(s, "packages", json_pack("{s:s}", "assay", ASSAY_VERSION));
	json_object_set_new(s, "metadata", json_pack("{s:I, s:o, s:o, s:s}",
		"assay_run", (json_int_t)r->run.id, "suite_digest",
		str(r->run.suite_digest), "endpoint", str(r->run.endpoint),
		"status", r->run.status ? r->run.status : "?"));
	fill(s, f_spec);
	return s;
}

static json_t *results(const struct report *r, int scored)
{
	double acc = scored ? (double)r->solved / scored : 0;
	double se = scored > 1 ? sqrt(acc * (1 - acc) / (scored - 1)) : 0;

	return json_pack("{s:i, s:i, s:n, s:[{s:s, s:s, s:n, s:i, s:i, s:{}, "
		"s:{s:{s:s, s:o, s:{}, s:n}, s:{s:s, s:o, s:{}, s:n}}, s:n}], s:n}",
		"total_samples", r->pairs.total, "completed_samples", scored,
		"early_stopping", "scores", "name", SCORER, "scorer", SCORER,
		"reducer", "scored_samples", scored, "unscored_samples",
		r->pairs.total - scored, "params", "metrics", "accuracy", "name",
		"accuracy", "value", num(acc), "params", "metadata", "stderr", "name",
		"stderr", "value", num(se), "params", "metadata", "metadata",
		"metadata");
}

static json_t *header(const struct xctx *c, json_t *ids, int scored)
{
	const struct report *r = c->r;
	char st[40], fin[40];
	json_t *h = json_object(), *mu = json_object();

	when(r->run.created_ms, st, sizeof(st));
	when(r->run.finished_ms, fin, sizeof(fin));
	json_object_set_new(mu, r->run.model, usage(r->prompt_tokens,
			    r->completion_tokens, r->cached_tokens, r->cost_usd));
	json_object_set_new(h, "version", json_integer(2));
	json_object_set_new(h, "status", json_string(r->run.status &&
			    !strcmp(r->run.status, "done") ? "success" :
			    r->run.status && !strcmp(r->run.status, "failed") ?
			    "error" : "cancelled"));
	json_object_set_new(h, "eval", eval_spec(c, ids));
	json_object_set_new(h, "plan", json_pack("{s:s, s:[{s:s, s:{}, s:{}}], "
		"s:n, s:o}", "name", "plan", "steps", "solver", "assay_agent",
		"params", "params_passed", "finish", "config", json_object()));
	fill(json_object_get(json_object_get(h, "plan"), "config"), f_generate);
	json_object_set_new(h, "results", results(r, scored));
	json_object_set_new(h, "stats", json_pack("{s:s, s:s, s:o, s:{}}",
		"started_at", st, "completed_at", r->run.finished_ms ? fin : "",
		"model_usage", mu, "role_usage"));
	json_object_set_new(h, "error", json_null());
	json_object_set_new(h, "invalidated", json_false());
	json_object_set_new(h, "log_updates", json_null());
	json_object_set_new(h, "tags", json_array());
	json_object_set_new(h, "metadata", json_object());
	return h;
}

/* ---- the zip --------------------------------------------------------------- */

static enum err put(struct report_zip *z, const char *name, json_t *j,
		    struct errmsg *e)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	enum err rc;

	if (!text)
		return err_set(e, ERR_INVAL, "%s: could not be encoded as JSON", name);
	rc = report_zip_add(z, name, text, strlen(text), e);
	free(text);
	return rc;
}

struct parts {
	json_t *ids, *summaries, *samples;   /* samples: [[name, sample]] */
	int scored;
};

static void collect(struct xctx *c, struct parts *p)
{
	p->ids = json_array();
	p->summaries = json_array();
	p->samples = json_array();
	for (size_t i = 0; i < c->r->n_tasks; i++)
		json_array_append_new(p->ids, json_string(c->r->tasks[i].task_id));
	for (size_t k = 0; k < c->r->n_eps; k++) {
		json_t *sum, *s;
		char name[128];
		if (!is_final(c->r, k))
			continue;
		s = sample(c, k, &sum);
		snprintf(name, sizeof(name), "samples/%s_epoch_%d.json",
			 c->r->eps[k].task_id, c->r->eps[k].epoch);
		json_array_append_new(p->samples, json_pack("[s, o]", name, s));
		json_array_append_new(p->summaries, sum);
		p->scored += c->r->eps[k].error_class &&
			     strcmp(c->r->eps[k].error_class, "infra") &&
			     !strcmp(c->r->eps[k].status, "done");
	}
}

static json_t *reductions(const struct parts *p)
{
	json_t *red = json_array(), *x;
	size_t i;

	json_array_foreach(p->summaries, i, x) {
		json_t *s = json_deep_copy(json_object_get(json_object_get(x, "scores"),
							   SCORER));
		json_object_set_new(s, "sample_id", json_deep_copy(json_object_get(x, "id")));
		json_array_append_new(red, s);
	}
	return json_pack("[{s:s, s:s, s:o}]", "scorer", SCORER, "reducer", "mean",
			 "samples", red);
}

static enum err write_zip(struct xctx *c, const struct parts *p,
			  const char *path, struct errmsg *e)
{
	struct report_zip z;
	json_t *h = header(c, p->ids, p->scored), *start, *x;
	enum err rc;
	size_t i;

	report_zip_init(&z, (time_t)(wall_ms() / 1000));
	start = json_pack("{s:i, s:O, s:O}", "version", 2, "eval",
			  json_object_get(h, "eval"), "plan", json_object_get(h, "plan"));
	rc = put(&z, "_journal/start.json", start, e);
	json_array_foreach(p->samples, i, x)
		if (rc == ERR_OK)
			rc = put(&z, json_string_value(json_array_get(x, 0)),
				 json_array_get(x, 1), e);
	if (rc == ERR_OK && (rc = put(&z, "summaries.json", p->summaries, e)) == ERR_OK) {
		json_t *red = reductions(p);
		rc = put(&z, "reductions.json", red, e);
		json_decref(red);
	}
	if (rc == ERR_OK)
		rc = put(&z, "header.json", h, e);
	if (rc == ERR_OK)
		rc = report_zip_finish(&z, e);
	if (rc == ERR_OK)
		rc = file_write_atomic(path, z.out.data, z.out.len, 0644, e);
	report_zip_release(&z);
	json_decref(start);
	json_decref(h);
	return rc;
}

enum err report_export_inspect(const struct report *r,
			       const struct report_export_opts *o,
			       const char *path, struct errmsg *e)
{
	struct xctx c = { .r = r, .o = o };
	struct parts p = { 0 };
	unsigned char u[16];
	enum err rc;

	if ((rc = random_bytes(u, sizeof(u), e)))
		return rc;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(c.run_uuid, sizeof(c.run_uuid), "%02x%02x%02x%02x-%02x%02x-"
		 "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	when(r->run.created_ms, c.created, sizeof(c.created));
	collect(&c, &p);
	rc = write_zip(&c, &p, path, e);
	json_decref(p.ids);
	json_decref(p.summaries);
	json_decref(p.samples);
	return rc;
}
