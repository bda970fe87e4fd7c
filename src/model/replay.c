/*
 * replay.c - replay/FILE: plays back a recorded transcript (format in
 * docs/FORMAT-replay.md). Turn k of the recording answers a conversation
 * that already holds k assistant messages, so one replay model can serve
 * several episodes at once and each gets the same sequence. Past the end
 * of the recording the reply is a model failure "replay exhausted".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

#define REPLAY_MAX_BYTES ((size_t)64 << 20)
#define REPLAY_FORMAT "assay-replay/1"

struct replay {
	struct model_reply *turns;
	size_t n;
};

static const struct {
	const char *name;
	enum model_stop stop;
} stops[] = {
	{"tool_calls", MODEL_STOP_TOOL_CALLS},
	{"end_turn", MODEL_STOP_END_TURN},
	{"max_tokens", MODEL_STOP_MAX_TOKENS},
	{"refusal", MODEL_STOP_REFUSAL},
	{"context_overflow", MODEL_STOP_CONTEXT_OVERFLOW},
	{"error", MODEL_STOP_ERROR},
};

static enum err bad(struct errmsg *e, const char *file, size_t turn,
		    const char *what)
{
	return err_set(e, ERR_PARSE, "replay '%s': turn %zu: %s", file,
		       turn + 1, what);
}

static enum err parse_calls(const char *file, size_t k, json_t *tc,
			    struct model_reply *r, struct errmsg *e)
{
	size_t i, n = json_array_size(tc);
	json_t *c;

	if (tc && !json_is_array(tc))
		return bad(e, file, k, "'tool_calls' must be a list");
	if (!n)
		return ERR_OK;
	r->calls = xcalloc(n, sizeof(*r->calls));
	json_array_foreach(tc, i, c)
	{
		struct model_tool_call *d = &r->calls[r->n_calls];
		json_t *name = json_object_get(c, "name");
		if (!json_is_string(name))
			return bad(e, file, k, "a tool call needs a 'name'");
		r->n_calls++;
		d->name = model_pj_dup_str(name);
		d->id = model_pj_dup_str(json_object_get(c, "id"));
		if (!d->id)
			d->id = model_gen_call_id();
		d->arguments = model_pj_dup_any(json_object_get(c, "arguments"));
	}
	return ERR_OK;
}

static enum err parse_stop(const char *file, size_t k, json_t *s,
			   struct model_reply *r, struct errmsg *e)
{
	const char *v = json_string_value(s);

	r->stop = r->n_calls ? MODEL_STOP_TOOL_CALLS : MODEL_STOP_END_TURN;
	if (!s)
		return ERR_OK;
	for (size_t i = 0; v && i < sizeof(stops) / sizeof(stops[0]); i++)
		if (!strcmp(v, stops[i].name)) {
			r->stop = stops[i].stop;
			return ERR_OK;
		}
	return bad(e, file, k, "unknown 'stop'");
}

static enum err parse_fail(const char *file, size_t k, json_t *t,
			   struct model_reply *r, struct errmsg *e)
{
	const char *f = json_string_value(json_object_get(t, "fail"));
	json_t *err = json_object_get(t, "error");

	if (!json_object_get(t, "fail"))
		return ERR_OK;
	if (f && !strcmp(f, "infra"))
		r->fail = MODEL_FAIL_INFRA;
	else if (f && !strcmp(f, "model"))
		r->fail = MODEL_FAIL_MODEL;
	else
		return bad(e, file, k, "'fail' must be infra or model");
	r->error = json_is_string(err) ? model_pj_dup_str(err)
				       : xstrdup("recorded failure");
	if (!json_object_get(t, "stop"))
		r->stop = MODEL_STOP_ERROR;
	return ERR_OK;
}

/* Like provider_openai.c's parse_usage(), for the replay format's own
 * usage object (docs/FORMAT-replay.md): cached_tokens is at its top and it
 * carries cost_usd, so each reader keeps its format's fields. */
static void parse_usage(json_t *u, struct model_reply *r)
{
	json_t *cost = json_object_get(u, "cost_usd");

	r->usage.prompt_tokens =
		model_pj_long(json_object_get(u, "prompt_tokens"));
	r->usage.completion_tokens =
		model_pj_long(json_object_get(u, "completion_tokens"));
	r->usage.cached_tokens =
		model_pj_long(json_object_get(u, "cached_tokens"));
	r->usage.price_unknown = !json_is_number(cost);
	if (json_is_number(cost) && json_number_value(cost) >= 0)
		r->usage.cost_usd = json_number_value(cost);
}

static enum err parse_turn(const char *file, size_t k, json_t *t,
			   struct model_reply *r, struct errmsg *e)
{
	json_t *text = json_object_get(t, "text");
	enum err rc;

	if (!json_is_object(t))
		return bad(e, file, k, "a turn must be an object");
	if (text && !json_is_string(text) && !json_is_null(text))
		return bad(e, file, k, "'text' must be a string");
	r->text = model_pj_dup_str(text);
	rc = parse_calls(file, k, json_object_get(t, "tool_calls"), r, e);
	if (!rc)
		rc = parse_stop(file, k, json_object_get(t, "stop"), r, e);
	if (!rc)
		rc = parse_fail(file, k, t, r, e);
	parse_usage(json_object_get(t, "usage"), r);
	return rc;
}

static void replay_free(struct replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->n; i++) {
		struct model_reply *r = &rp->turns[i];
		free(r->error);
		free(r->text);
		for (size_t j = 0; j < r->n_calls; j++)
			model_tool_call_release(&r->calls[j]);
		free(r->calls);
	}
	free(rp->turns);
	free(rp);
}

static enum err parse_root(const char *file, json_t *root, struct replay *rp,
			   struct errmsg *e)
{
	json_t *turns = json_object_get(root, "turns");
	const char *fmt = json_string_value(json_object_get(root, "format"));
	size_t i;
	json_t *t;

	if (!json_is_object(root) || !fmt || strcmp(fmt, REPLAY_FORMAT))
		return err_set(e, ERR_PARSE,
			       "replay '%s': not an object with format '%s'",
			       file, REPLAY_FORMAT);
	if (!json_is_array(turns))
		return err_set(e, ERR_PARSE, "replay '%s': 'turns' must be a list",
			       file);
	rp->turns = xcalloc(json_array_size(turns) + 1, sizeof(*rp->turns));
	json_array_foreach(turns, i, t)
	{
		enum err rc = parse_turn(file, i, t, &rp->turns[i], e);
		rp->n++;
		if (rc)
			return rc;
	}
	return ERR_OK;
}

static enum err replay_open(struct model *m, const struct model_config *cfg,
			    struct errmsg *e)
{
	const char *file = m->model_id;
	struct replay *rp = xcalloc(1, sizeof(*rp));
	char *data = NULL;
	size_t len;
	json_error_t je;
	json_t *root;
	enum err rc;

	(void)cfg;
	m->endpoint = xasprintf("file:%s", file);
	m->priv = rp;
	rc = file_read(file, REPLAY_MAX_BYTES, &data, &len, e);
	if (rc) {
		err_prefix(e, "model '%s'", m->name);
		return rc;
	}
	root = json_loadb(data, len, 0, &je);
	free(data);
	if (!root)
		return err_set(e, ERR_PARSE, "replay '%s':%d: %s", file,
			       je.line, je.text);
	rc = parse_root(file, root, rp, e);
	json_decref(root);
	return rc;
}

static void replay_close(struct model *m)
{
	replay_free(m->priv);
	m->priv = NULL;
}

static void copy_turn(const struct model_reply *t, struct model_reply *r)
{
	r->fail = t->fail;
	r->error = xstrdup(t->error);
	r->stop = t->stop;
	r->text = xstrdup(t->text);
	r->calls = model_calls_dup(t->calls, t->n_calls);
	r->n_calls = t->n_calls;
	r->usage = t->usage;
}

static enum err replay_local(struct model *m, const struct model_request *req,
			     struct model_reply *r, struct errmsg *e)
{
	const struct replay *rp = m->priv;
	size_t turn = 0;

	(void)e;
	for (size_t i = 0; i < req->n_msgs; i++)
		turn += req->msgs[i].role == MODEL_ASSISTANT;
	if (turn >= rp->n) {
		r->fail = MODEL_FAIL_MODEL;
		r->stop = MODEL_STOP_ERROR;
		r->error = xasprintf("%s: replay exhausted after %zu turn%s",
				     m->name, rp->n, rp->n == 1 ? "" : "s");
		return ERR_OK;
	}
	copy_turn(&rp->turns[turn], r);
	return ERR_OK;
}

const struct provider_ops model_provider_replay = {
	.name = "replay",
	.open = replay_open,
	.close = replay_close,
	.local = replay_local,
};
