/*
 * provider_openai.c - Chat Completions with native tools:
 *   openai/MODEL             https://api.openai.com/v1 (or --base-url,
 *                            OPENAI_BASE_URL), key OPENAI_API_KEY required
 *   openai-compatible/MODEL  the same wire format for vLLM, llama.cpp,
 *                            Ollama...: base URL required, key optional
 *
 * Request: {"model", "messages": [system|user|assistant(+tool_calls)|tool],
 * "tools": [{"type":"function","function":{name, description,
 * parameters}}], temperature, max_completion_tokens (max_tokens for
 * compatible servers, most of which know only that), reasoning_effort,
 * seed}. Reply: choices[0].message.{content, refusal, tool_calls},
 * finish_reason, usage.{prompt_tokens, completion_tokens,
 * prompt_tokens_details.cached_tokens}. Tool arguments are passed through
 * as the model wrote them (a JSON string, maybe not valid JSON): the agent
 * judges them.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

/* ---- opening ---------------------------------------------------------- */

static enum err open_common(struct model *m, const struct model_config *cfg,
			    bool compat, struct errmsg *e)
{
	const char *base = cfg->base_url;
	enum err rc;

	if (!base || !*base)
		base = getenv("OPENAI_BASE_URL");
	if ((!base || !*base) && compat)
		return err_set(e, ERR_INVAL,
			       "model '%s': a base URL is required (--base-url "
			       "or OPENAI_BASE_URL)",
			       m->name);
	if (!base || !*base)
		base = "https://api.openai.com/v1";
	rc = model_pj_endpoint(m, base, "/chat/completions", e);
	if (rc)
		return rc;
	m->compat = compat;
	m->key_env = "OPENAI_API_KEY";
	m->key_from_file = cfg->key_file != NULL;
	return model_load_key(m->name, cfg->key_file, "OPENAI_API_KEY",
			      !compat, &m->key, e);
}

static enum err openai_open(struct model *m, const struct model_config *cfg,
			    struct errmsg *e)
{
	return open_common(m, cfg, false, e);
}

static enum err compat_open(struct model *m, const struct model_config *cfg,
			    struct errmsg *e)
{
	return open_common(m, cfg, true, e);
}

static char **openai_headers(const struct model *m)
{
	char **v = xcalloc(2, sizeof(*v));

	if (m->key)
		v[0] = xasprintf("Authorization: Bearer %s", m->key);
	return v;
}

/* ---- requests --------------------------------------------------------- */

static json_t *tool_calls_json(const struct model_msg *mm)
{
	json_t *a = json_array();

	for (size_t i = 0; i < mm->n_calls; i++) {
		const struct model_tool_call *c = &mm->calls[i];
		json_array_append_new(
			a, json_pack("{s:o, s:s, s:{s:o, s:o}}", "id",
				     model_pj_str(c->id), "type", "function",
				     "function", "name", model_pj_str(c->name),
				     "arguments", model_pj_str(c->arguments)));
	}
	return a;
}

static json_t *msg_json(const struct model_msg *mm)
{
	json_t *o = json_object();

	switch (mm->role) {
	case MODEL_SYSTEM:
		json_object_set_new(o, "role", json_string("system"));
		json_object_set_new(o, "content", model_pj_str(mm->text));
		break;
	case MODEL_USER:
		json_object_set_new(o, "role", json_string("user"));
		json_object_set_new(o, "content", model_pj_str(mm->text));
		break;
	case MODEL_ASSISTANT:
		json_object_set_new(o, "role", json_string("assistant"));
		/* null only beside tool calls: the API refuses an assistant
		 * message with neither (the model's empty turn goes back as
		 * "", so the conversation goes on) */
		json_object_set_new(o, "content",
				    mm->text || !mm->n_calls
				    ? model_pj_str(mm->text) : json_null());
		if (mm->n_calls)
			json_object_set_new(o, "tool_calls",
					    tool_calls_json(mm));
		break;
	case MODEL_TOOL:
		json_object_set_new(o, "role", json_string("tool"));
		json_object_set_new(o, "tool_call_id",
				    model_pj_str(mm->tool_call_id));
		json_object_set_new(o, "content", model_pj_str(mm->text));
		break;
	}
	return o;
}

static json_t *tool_json(const struct model_tool *t, json_t *schema)
{
	return json_pack("{s:s, s:{s:o, s:o, s:o}}", "type", "function",
			 "function", "name", model_pj_str(t->name),
			 "description", model_pj_str(t->description),
			 "parameters", schema);
}

static void params_json(const struct model *m, json_t *root)
{
	const struct model_params *p = &m->params;

	if (p->temperature >= 0)
		json_object_set_new(root, "temperature",
				    json_real(p->temperature));
	if (p->max_tokens > 0)
		json_object_set_new(root,
				    m->compat ? "max_tokens"
					      : "max_completion_tokens",
				    json_integer(p->max_tokens));
	if (p->reasoning_effort)
		json_object_set_new(root, "reasoning_effort",
				    json_string(p->reasoning_effort));
	if (p->seed >= 0)
		json_object_set_new(root, "seed", json_integer(p->seed));
}

/* A message's JSON. A conversation grows by a turn at a time, so
 * re-serialising every earlier message on every call made each request
 * O(turns) in JSON work; with req->cache_wire the form is kept in the
 * message (the caller's, writable: hence the cast) and reused. */
static enum err add_msg(struct buf *out, const struct model_msg *mm,
			bool cache)
{
	struct model_msg *w = (struct model_msg *)mm;
	enum err rc;
	char *s;
	json_t *o;

	if (cache && w->wire && w->wire_kind == &model_provider_openai)
		return buf_add(out, w->wire, w->wire_len);
	o = msg_json(mm);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return ERR_INVAL;
	rc = buf_adds(out, s);
	if (cache) {
		free(w->wire);
		w->wire = s;
		w->wire_len = strlen(s);
		w->wire_kind = &model_provider_openai;
	} else {
		free(s);
	}
	return rc;
}

static enum err add_messages(const struct model_request *req, struct buf *out)
{
	for (size_t i = 0; i < req->n_msgs; i++)
		if ((i && buf_addch(out, ',')) ||
		    add_msg(out, &req->msgs[i], req->cache_wire))
			return ERR_LIMIT;
	return ERR_OK;
}

/* {"model":...,"messages":[cached...], tools and parameters} */
/* The tools array as JSON, kept in the model for the table it came from. */
static enum err tools_wire(const struct model *m, const struct model_request *req,
			   const char **out, struct errmsg *e)
{
	struct model *w = (struct model *)m;   /* the provider's own cache */
	json_t *tools;
	enum err rc;

	if (!w->tools_wire || w->tools_key != req->tools ||
	    w->tools_n != req->n_tools) {
		if ((rc = model_pj_tools(req, tool_json, &tools, e)))
			return rc;
		free(w->tools_wire);
		w->tools_wire = json_dumps(tools, JSON_COMPACT);
		json_decref(tools);
		if (!w->tools_wire)
			return err_set(e, ERR_INVAL, "cannot encode the tools");
		w->tools_key = req->tools;
		w->tools_n = req->n_tools;
	}
	*out = w->tools_wire;
	return ERR_OK;
}

static enum err openai_build(const struct model *m,
			     const struct model_request *req, struct buf *out,
			     struct errmsg *e)
{
	json_t *rest = json_object();
	const char *tools = NULL;
	struct buf tail;
	enum err rc = ERR_OK;

	if (req->n_tools)
		rc = tools_wire(m, req, &tools, e);
	params_json(m, rest);
	json_object_set_new(rest, "model", model_pj_str(m->model_id));
	buf_init(&tail, 0);
	if (rc == ERR_OK)
		rc = model_pj_dump(rest, &tail, e);
	json_decref(rest);
	/* tail is {...,"model":"..."}: open it, put the messages first */
	if (rc == ERR_OK && (buf_adds(out, "{\"messages\":[") ||
			     add_messages(req, out) ||
			     buf_adds(out, "],") ||
			     (tools && (buf_adds(out, "\"tools\":") ||
					buf_adds(out, tools) ||
					buf_addch(out, ','))) ||
			     buf_add(out, tail.data + 1, tail.len - 1)))
		rc = err_set(e, ERR_LIMIT, "request body too large");
	buf_release(&tail);
	return rc;
}

/* ---- replies ---------------------------------------------------------- */

static void parse_calls(json_t *tc, struct model_reply *r)
{
	size_t n = json_array_size(tc);

	if (n > PJ_MAX_CALLS)
		n = PJ_MAX_CALLS;
	if (!n)
		return;
	r->calls = xcalloc(n, sizeof(*r->calls));
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(tc, i);
		json_t *fn = json_object_get(c, "function");

		model_pj_call_set(&r->calls[r->n_calls++],
				  json_object_get(c, "id"),
				  json_object_get(fn, "name"),
				  json_object_get(fn, "arguments"));
	}
}

static enum model_stop stop_of(const char *fr, size_t n_calls)
{
	if (!fr)
		return n_calls ? MODEL_STOP_TOOL_CALLS : MODEL_STOP_END_TURN;
	if (!strcmp(fr, "length"))
		return MODEL_STOP_MAX_TOKENS;
	if (!strcmp(fr, "content_filter"))
		return MODEL_STOP_REFUSAL;
	/* some compatible servers say "stop" with tool calls */
	return n_calls ? MODEL_STOP_TOOL_CALLS : MODEL_STOP_END_TURN;
}

static void parse_usage(json_t *u, struct model_reply *r)
{
	json_t *d = json_object_get(u, "prompt_tokens_details");

	r->usage.prompt_tokens =
		model_pj_long(json_object_get(u, "prompt_tokens"));
	r->usage.completion_tokens =
		model_pj_long(json_object_get(u, "completion_tokens"));
	r->usage.cached_tokens =
		model_pj_long(json_object_get(d, "cached_tokens"));
	if (r->usage.cached_tokens > r->usage.prompt_tokens)
		r->usage.cached_tokens = r->usage.prompt_tokens;
}

static enum err parse_root(json_t *root, struct model_reply *r,
			   struct errmsg *e)
{
	json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
	json_t *msg = json_object_get(choice, "message");
	json_t *refusal = json_object_get(msg, "refusal");

	if (!json_is_object(msg)) {
		char em[MODEL_MAX_ERROR_LINE];
		model_pj_error_of(root, em, sizeof(em));
		return err_set(e, ERR_PARSE, "no choices[0].message in reply%s%s",
			       em[0] ? ": " : "", em);
	}
	/* every chat completion message has "content" (null with tool
	 * calls): a message with none of these is a broken endpoint's, and
	 * taking it as an empty turn would score the model for it */
	if (!json_object_get(msg, "content") &&
	    !json_object_get(msg, "tool_calls") && !json_is_string(refusal))
		return err_set(e, ERR_PARSE, "choices[0].message has no content, "
			       "tool_calls or refusal");
	r->text = model_pj_text(json_object_get(msg, "content"));
	parse_calls(json_object_get(msg, "tool_calls"), r);
	r->stop = stop_of(json_string_value(
				  json_object_get(choice, "finish_reason")),
			  r->n_calls);
	if (json_is_string(refusal) && json_string_length(refusal)) {
		r->stop = MODEL_STOP_REFUSAL;
		if (!r->text)
			r->text = model_pj_dup_str(refusal);
	}
	parse_usage(json_object_get(root, "usage"), r);
	return ERR_OK;
}

enum err model_openai_parse_reply(const char *body, size_t len,
				  struct model_reply *r, struct errmsg *e)
{
	json_t *root = model_pj_load(body, len);
	enum err rc;

	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_PARSE, root ? "reply is not a JSON object"
						  : "reply is not JSON");
	}
	rc = parse_root(root, r, e);
	json_decref(root);
	return rc;
}

bool model_openai_is_overflow(long status, const char *body, size_t len)
{
	static const char *const marks[] = {
		"context_length_exceeded", "maximum context length",
		"exceeds the available context size", "exceed_context_size",
		"prompt is too long", "context window",
	};

	return model_pj_overflow(status, body, len, marks, ARRAY_SIZE(marks));
}

/* Every provider fills the same ops table (model_int.h), so the tables of
 * the providers look alike by design: each names its own functions. */
const struct provider_ops model_provider_openai = {
	.name = "openai",
	.open = openai_open,
	.build = openai_build,
	.headers = openai_headers,
	.parse = model_openai_parse_reply,
	.overflow = model_openai_is_overflow,
};

const struct provider_ops model_provider_openai_compat = {
	.name = "openai-compatible",
	.open = compat_open,
	.build = openai_build,
	.headers = openai_headers,
	.parse = model_openai_parse_reply,
	.overflow = model_openai_is_overflow,
};
