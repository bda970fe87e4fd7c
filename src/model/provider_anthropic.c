/*
 * provider_anthropic.c - the Messages API with tool use (anthropic/MODEL).
 *
 * POST {base}/v1/messages with x-api-key and anthropic-version: 2023-06-01.
 * The system prompt is a top-level field; the conversation alternates
 * user/assistant, so consecutive messages of one role (several tool
 * results, or tool results then a user note) are merged into one message
 * of content blocks. Tool calls are tool_use blocks whose `input` must be
 * an object: arguments the model wrote that are not a JSON object are
 * sent back as {"invalid_arguments": "<raw>"} so the history stays
 * acceptable while the agent's error observation explains the problem.
 * Reasoning effort maps to a `thinking` budget; thinking blocks come back
 * in model_reply.opaque and must be echoed in model_msg.opaque.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define DEFAULT_MAX_TOKENS 8192

static enum err anthropic_open(struct model *m, const struct model_config *cfg,
			       struct errmsg *e)
{
	const char *base = cfg->base_url;
	enum err rc;

	if (!base || !*base)
		base = getenv("ANTHROPIC_BASE_URL");
	if (!base || !*base)
		base = "https://api.anthropic.com";
	rc = model_pj_endpoint(m, base, "/v1/messages", e);
	if (rc)
		return rc;
	m->key_env = "ANTHROPIC_API_KEY";
	m->key_from_file = cfg->key_file != NULL;
	return model_load_key(m->name, cfg->key_file, "ANTHROPIC_API_KEY",
			      true, &m->key, e);
}

static char **anthropic_headers(const struct model *m)
{
	char **v = xcalloc(3, sizeof(*v));

	v[0] = xstrdup("anthropic-version: " ANTHROPIC_VERSION);
	if (m->key)
		v[1] = xasprintf("x-api-key: %s", m->key);
	return v;
}

/* ---- requests --------------------------------------------------------- */

static json_t *text_block(const char *text)
{
	return json_pack("{s:s, s:o}", "type", "text", "text",
			 model_pj_str(text));
}

static json_t *tool_input(const char *args)
{
	json_t *j = args ? json_loads(args, JSON_DECODE_ANY, NULL) : NULL;

	if (json_is_object(j))
		return j;
	json_decref(j);
	return json_pack("{s:o}", "invalid_arguments", model_pj_str(args));
}

static void add_opaque(json_t *blocks, const char *opaque)
{
	json_t *j = opaque ? json_loads(opaque, 0, NULL) : NULL;
	size_t i;
	json_t *b;

	json_array_foreach(j, i, b) json_array_append(blocks, b);
	json_decref(j);
}

static json_t *assistant_blocks(const struct model_msg *mm)
{
	json_t *a = json_array();

	add_opaque(a, mm->opaque);
	if (mm->text && *mm->text)
		json_array_append_new(a, text_block(mm->text));
	for (size_t i = 0; i < mm->n_calls; i++) {
		const struct model_tool_call *c = &mm->calls[i];
		json_array_append_new(
			a, json_pack("{s:s, s:o, s:o, s:o}", "type", "tool_use",
				     "id", model_pj_str(c->id), "name",
				     model_pj_str(c->name), "input",
				     tool_input(c->arguments)));
	}
	if (!json_array_size(a))
		json_array_append_new(a, text_block("(no output)"));
	return a;
}

static json_t *user_blocks(const struct model_msg *mm)
{
	json_t *a = json_array();

	if (mm->role == MODEL_TOOL)
		json_array_append_new(
			a, json_pack("{s:s, s:o, s:o, s:b}", "type",
				     "tool_result", "tool_use_id",
				     model_pj_str(mm->tool_call_id), "content",
				     model_pj_str(mm->text), "is_error",
				     mm->tool_error));
	else
		json_array_append_new(
			a, text_block(mm->text && *mm->text ? mm->text
							    : "(empty)"));
	return a;
}

/* Append blocks as a message of `role`, merged into the previous one when
 * it has the same role. Steals `blocks`. */
static void append_msg(json_t *msgs, const char *role, json_t *blocks)
{
	json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
	const char *lr = json_string_value(json_object_get(last, "role"));

	if (lr && !strcmp(lr, role)) {
		json_array_extend(json_object_get(last, "content"), blocks);
		json_decref(blocks);
		return;
	}
	json_array_append_new(msgs, json_pack("{s:s, s:o}", "role", role,
					      "content", blocks));
}

static json_t *messages_json(const struct model_request *req, struct buf *sys)
{
	json_t *msgs = json_array();

	for (size_t i = 0; i < req->n_msgs; i++) {
		const struct model_msg *mm = &req->msgs[i];
		if (mm->role == MODEL_SYSTEM) {
			if (sys->len)
				BUF_IGNORE(buf_adds(sys, "\n\n"));
			BUF_IGNORE(buf_adds(sys, mm->text ? mm->text : ""));
		} else if (mm->role == MODEL_ASSISTANT) {
			append_msg(msgs, "assistant", assistant_blocks(mm));
		} else {
			append_msg(msgs, "user", user_blocks(mm));
		}
	}
	return msgs;
}

static json_t *tool_json(const struct model_tool *t, json_t *schema)
{
	return json_pack("{s:o, s:o, s:o}", "name", model_pj_str(t->name),
			 "description", model_pj_str(t->description),
			 "input_schema", schema);
}

static long thinking_budget(const char *effort)
{
	if (!effort)
		return 0;
	if (!strcmp(effort, "low"))
		return 2048;
	if (!strcmp(effort, "medium"))
		return 8192;
	return 24576;
}

static void params_json(const struct model *m, json_t *root)
{
	const struct model_params *p = &m->params;
	long max = p->max_tokens > 0 ? p->max_tokens : DEFAULT_MAX_TOKENS;
	long budget = thinking_budget(p->reasoning_effort);

	if (budget) {
		/* max_tokens must exceed the budget; temperature must be 1 */
		if (max <= budget)
			max = budget + DEFAULT_MAX_TOKENS;
		json_object_set_new(root, "thinking",
				    json_pack("{s:s, s:I}", "type", "enabled",
					      "budget_tokens",
					      (json_int_t)budget));
	} else if (p->temperature >= 0) {
		json_object_set_new(root, "temperature",
				    json_real(p->temperature));
	}
	json_object_set_new(root, "max_tokens", json_integer(max));
}

static enum err anthropic_build(const struct model *m,
				const struct model_request *req,
				struct buf *out, struct errmsg *e)
{
	json_t *root = json_object(), *tools;
	struct buf sys;
	enum err rc = ERR_OK;

	buf_init(&sys, 0);
	json_object_set_new(root, "model", model_pj_str(m->model_id));
	json_object_set_new(root, "messages", messages_json(req, &sys));
	if (sys.len)
		json_object_set_new(root, "system", model_pj_str(sys.data));
	buf_release(&sys);
	if (req->n_tools) {
		rc = model_pj_tools(req, tool_json, &tools, e);
		if (rc == ERR_OK)
			json_object_set_new(root, "tools", tools);
	}
	params_json(m, root);
	if (rc == ERR_OK)
		rc = model_pj_dump(root, out, e);
	json_decref(root);
	return rc;
}

/* ---- replies ---------------------------------------------------------- */

static void add_call(struct model_reply *r, json_t *b, size_t cap)
{
	struct model_tool_call *d;

	if (r->n_calls >= cap)
		return;
	d = &r->calls[r->n_calls++];
	model_pj_call_set(d, json_object_get(b, "id"),
			  json_object_get(b, "name"),
			  json_object_get(b, "input"));
}

static void parse_content(json_t *content, struct model_reply *r)
{
	json_t *thinking = json_array(), *b;
	struct buf text;
	size_t i;

	buf_init(&text, MODEL_MAX_BODY);
	r->calls = xcalloc(PJ_MAX_CALLS, sizeof(*r->calls));
	json_array_foreach(content, i, b)
	{
		const char *type = json_string_value(json_object_get(b, "type"));
		json_t *t = json_object_get(b, "text");
		if (!type)
			continue;
		if (!strcmp(type, "text") && json_is_string(t)) {
			char *part = model_pj_dup_str(t);
			BUF_IGNORE(buf_adds(&text, part));
			free(part);
		}
		else if (!strcmp(type, "tool_use"))
			add_call(r, b, PJ_MAX_CALLS);
		else if (!strcmp(type, "thinking") ||
			 !strcmp(type, "redacted_thinking"))
			json_array_append(thinking, b);
	}
	if (text.len)
		r->text = utf8_sanitize(text.data, text.len, NULL);
	buf_release(&text);
	if (json_array_size(thinking))
		r->opaque = json_dumps(thinking, JSON_COMPACT);
	json_decref(thinking);
	if (!r->n_calls) {
		free(r->calls);
		r->calls = NULL;
	}
}

static enum model_stop stop_of(const char *sr, size_t n_calls)
{
	if (sr && !strcmp(sr, "max_tokens"))
		return MODEL_STOP_MAX_TOKENS;
	if (sr && !strcmp(sr, "refusal"))
		return MODEL_STOP_REFUSAL;
	if (sr && !strcmp(sr, "model_context_window_exceeded"))
		return MODEL_STOP_CONTEXT_OVERFLOW;
	return n_calls ? MODEL_STOP_TOOL_CALLS : MODEL_STOP_END_TURN;
}

static void parse_usage(json_t *u, struct model_reply *r)
{
	long in = model_pj_long(json_object_get(u, "input_tokens"));
	long read = model_pj_long(json_object_get(u, "cache_read_input_tokens"));
	long made =
		model_pj_long(json_object_get(u, "cache_creation_input_tokens"));

	/* input_tokens excludes cached tokens: the prompt is all three */
	r->usage.prompt_tokens = in + read + made;
	r->usage.cached_tokens = read;
	r->usage.completion_tokens = model_pj_long(json_object_get(u, "output_tokens"));
}

enum err model_anthropic_parse_reply(const char *body, size_t len,
				     struct model_reply *r, struct errmsg *e)
{
	json_t *root = model_pj_load(body, len);
	json_t *content = json_object_get(root, "content");
	char em[MODEL_MAX_ERROR_LINE];

	if (!root)
		return err_set(e, ERR_PARSE, "reply is not JSON");
	if (!json_is_object(root) || !json_is_array(content)) {
		model_pj_error_of(root, em, sizeof(em));
		json_decref(root);
		return err_set(e, ERR_PARSE, "no content array in reply%s%s",
			       em[0] ? ": " : "", em);
	}
	parse_content(content, r);
	r->stop = stop_of(json_string_value(json_object_get(root, "stop_reason")),
			  r->n_calls);
	if (r->stop == MODEL_STOP_CONTEXT_OVERFLOW)
		r->fail = MODEL_FAIL_MODEL;
	parse_usage(json_object_get(root, "usage"), r);
	json_decref(root);
	return ERR_OK;
}

bool model_anthropic_is_overflow(long status, const char *body, size_t len)
{
	static const char *const marks[] = {
		"prompt is too long", "exceed context limit",
		"context window", "context length",
	};

	return model_pj_overflow(status, body, len, marks, ARRAY_SIZE(marks));
}

/* Every provider fills the same ops table (model_int.h), so the tables of
 * the providers look alike by design: each names its own functions. */
const struct provider_ops model_provider_anthropic = {
	.name = "anthropic",
	.open = anthropic_open,
	.build = anthropic_build,
	.headers = anthropic_headers,
	.parse = model_anthropic_parse_reply,
	.overflow = model_anthropic_is_overflow,
};
