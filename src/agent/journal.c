/*
 * journal.c - JSON events for the transcript: every model call and tool
 * call, with texts capped at AGENT_JOURNAL_CAP (head kept, marked).
 */
#include "agent/agent_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

static json_t *capped(const char *s)
{
	size_t n;
	json_t *j;
	char *t;

	if (!s)
		return json_null();
	n = strlen(s);
	if (n <= AGENT_JOURNAL_CAP)
		t = utf8_sanitize(s, n, &n);
	else {
		char *head = utf8_sanitize(s, AGENT_JOURNAL_CAP, NULL);
		t = xasprintf("%s\n[... %zu bytes not journaled ...]", head,
			      n - AGENT_JOURNAL_CAP);
		free(head);
		n = strlen(t);
	}
	j = json_stringn(t, n);
	free(t);
	return j ? j : json_string("[unencodable]");
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(o);
	return s ? s : xstrdup("{}");
}

static const char *stop_name(enum model_stop s)
{
	static const char *const names[] = { "tool_calls", "end_turn",
		"max_tokens", "refusal", "context_overflow", "error" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

char *agent_journal_model_event(const struct agent *a,
				const struct model_reply *r)
{
	json_t *o = json_object(), *calls = json_array();

	for (size_t i = 0; i < r->n_calls; i++) {
		json_t *c = json_object();
		json_object_set_new(c, "id", capped(r->calls[i].id));
		json_object_set_new(c, "name", capped(r->calls[i].name));
		json_object_set_new(c, "arguments", capped(r->calls[i].arguments));
		json_array_append_new(calls, c);
	}
	json_object_set_new(o, "turn", json_integer(a->res.turns + 1));
	json_object_set_new(o, "fail", json_string(
		r->fail == MODEL_FAIL_NONE ? "none" :
		r->fail == MODEL_FAIL_INFRA ? "infra" : "model"));
	json_object_set_new(o, "error", capped(r->error));
	json_object_set_new(o, "stop", json_string(stop_name(r->stop)));
	json_object_set_new(o, "text", capped(r->text));
	json_object_set_new(o, "tool_calls", calls);
	json_object_set_new(o, "prompt_tokens", json_integer(r->usage.prompt_tokens));
	json_object_set_new(o, "completion_tokens",
			    json_integer(r->usage.completion_tokens));
	json_object_set_new(o, "cached_tokens", json_integer(r->usage.cached_tokens));
	json_object_set_new(o, "cost_usd", json_real(r->usage.cost_usd));
	json_object_set_new(o, "http_status", json_integer(r->http_status));
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	json_object_set_new(o, "latency_ms", json_integer(r->latency_ms));
	json_object_set_new(o, "total_ms", json_integer(r->total_ms));
	return dump(o);
}

char *agent_journal_prompt_event(const struct agent *a)
{
	json_t *o = json_object(), *tools = json_array();
	size_t n;
	const struct model_tool *offered = agent_offered_tools(a, &n);

	for (size_t i = 0; i < n; i++)
		json_array_append_new(tools, json_string(offered[i].name));
	json_object_set_new(o, "scaffold",
			    json_string(agent_scaffold_name(a->cfg.scaffold)));
	json_object_set_new(o, "system", capped(a->n_msgs > 0 ? a->msgs[0].text :
						NULL));
	json_object_set_new(o, "task", capped(a->n_msgs > 1 ? a->msgs[1].text :
					      NULL));
	json_object_set_new(o, "tools", tools);
	json_object_set_new(o, "answers_mode", json_string(
		a->cfg.n_questions ? "sequential" : "together"));
	if (a->cfg.n_questions)
		json_object_set_new(o, "questions",
				    json_integer((json_int_t)a->cfg.n_questions));
	return dump(o);
}

char *agent_journal_question_event(const struct agent *a, size_t k,
				   const char *text)
{
	json_t *o = json_object();
	bool flag = k > a->cfg.n_questions;

	json_object_set_new(o, "ask", json_string(flag ? "flag" : "question"));
	if (!flag)
		json_object_set_new(o, "question", json_integer((json_int_t)k));
	json_object_set_new(o, "of", json_integer((json_int_t)a->cfg.n_questions));
	json_object_set_new(o, "text", capped(text));
	return dump(o);
}

static const char *exit_how(enum sbx_exit how)
{
	switch (how) {
	case SBX_EXITED:
		return "exited";
	case SBX_SIGNALED:
		return "signaled";
	case SBX_TIMED_OUT:
		return "timed-out";
	case SBX_OOM_KILLED:
		return "oom-killed";
	case SBX_BOX_DIED:
		return "box-died";
	}
	return "?";
}

/* How the command ended: {"how", "status" | "signal"}. */
static json_t *exit_of(const struct sbx_exec_result *r)
{
	json_t *x = json_object();

	json_object_set_new(x, "how", json_string(exit_how(r->how)));
	if (r->how == SBX_EXITED)
		json_object_set_new(x, "status", json_integer(r->exit_code));
	if (r->how == SBX_SIGNALED)
		json_object_set_new(x, "signal", json_integer(r->term_signal));
	return x;
}

char *agent_journal_tool_event(const struct model_tool_call *call,
			       const char *observation, bool is_error,
			       int64_t wall_us, const struct sbx_exec_result *res)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", capped(call->id));
	json_object_set_new(o, "name", capped(call->name));
	json_object_set_new(o, "arguments", capped(call->arguments));
	json_object_set_new(o, "error", json_boolean(is_error));
	json_object_set_new(o, "output", capped(observation));
	json_object_set_new(o, "wall_us", json_integer(wall_us));
	json_object_set_new(o, "exit", res ? exit_of(res) : json_null());
	json_object_set_new(o, "truncated", json_boolean(res &&
			    (res->out_truncated || res->err_truncated)));
	return dump(o);
}
