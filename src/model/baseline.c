/*
 * baseline.c - baseline/oracle and baseline/null: local "models" that
 * drive the same agent loop and tools as a real one, without HTTP.
 *
 * Both are stateless: the turn is chosen by the number of assistant
 * messages already in the conversation, so one model serves any number of
 * concurrent episodes.
 *
 * baseline/oracle, turn 1: one bash call running the task's solve.sh. Its
 * stdout goes to a file, and the command prints that file encoded between
 * markers (base64, or hex from od where base64 is missing):
 *
 *   ASSAY-ORACLE-BEGIN b64 LEN
 *   ...encoded stdout...
 *   ASSAY-ORACLE-END STATUS
 *
 * solve.sh's stderr is copied to the command's stderr and its exit status
 * becomes the command's. The agent's observation is "stdout, [stderr] +
 * stderr, [exit status N]"; since our stdout comes first, the first BEGIN
 * marker is ours, and the encoding means solve.sh's output can neither
 * contain our markers nor be confused with the agent's "[stderr]" lines.
 * LEN detects an observation that the agent truncated.
 * Turn 2: submit {"flag": last non-empty stdout line that is not an
 * answer line, "answers": [...]} from lines "answer[N]: TEXT" (N from 1).
 *
 * Questions asked one at a time (an "answer" tool is offered): each turn
 * after the first answers the next question, the K-th answer call
 * (K = the answer calls made so far) giving answer K + 1, then the
 * submit. In text mode every turn after the first repeats the whole
 * submission ("Flag:" and every "Answer N:" line); the structured
 * scaffold takes the open question's line from it, or the flag once it
 * is asked for. baseline/null only ever submits an empty flag, which a
 * task that asks its questions first refuses: it fails them.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

#define MAX_ANSWERS 1000
#define MARK_BEGIN "ASSAY-ORACLE-BEGIN "
#define MARK_END "ASSAY-ORACLE-END"

static enum err baseline_open(struct model *m, const struct model_config *cfg,
			      struct errmsg *e)
{
	(void)cfg;
	(void)e;
	m->endpoint = xasprintf("local:%s", m->name);
	m->price_known = true; /* free */
	memset(&m->price, 0, sizeof(m->price));
	return ERR_OK;
}

/* Shell single-quoting: 'a'\''b' */
static char *shell_quote(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	BUF_IGNORE(buf_addch(&b, '\''));
	for (; *s; s++)
		BUF_IGNORE(*s == '\'' ? buf_adds(&b, "'\\''")
					: buf_addch(&b, *s));
	BUF_IGNORE(buf_addch(&b, '\''));
	return buf_take(&b, NULL);
}

char *model_oracle_command(const char *solution_path)
{
	char *q = shell_quote(solution_path);
	char *cmd = xasprintf(
		"cd /home/agent && bash %s </dev/null >/tmp/.oracle.out "
		"2>/tmp/.oracle.err; s=$?; "
		"if command -v base64 >/dev/null 2>&1; then "
		"echo \"" MARK_BEGIN "b64 $(wc -c </tmp/.oracle.out)\"; "
		"base64 </tmp/.oracle.out; else "
		"echo \"" MARK_BEGIN "hex $(wc -c </tmp/.oracle.out)\"; "
		"od -An -v -tx1 </tmp/.oracle.out; fi; "
		"echo \"" MARK_END " $s\"; cat /tmp/.oracle.err >&2; exit $s",
		q);
	free(q);
	return cmd;
}

static int b64_val(char c)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tab, c) : NULL;
	return p ? (int)(p - tab) : -1;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Decode [s, end) skipping whitespace; false on a bad character. */
static bool decode(bool b64, const char *s, const char *end, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0;

	for (; s < end; s++) {
		int v;
		if (is_ws(*s) || (b64 && *s == '='))
			continue;
		v = b64 ? b64_val(*s) : hex_digit(*s);
		if (v < 0)
			return false;
		acc = (acc << (b64 ? 6 : 4)) | (unsigned)v;
		bits += b64 ? 6 : 4;
		if (bits >= 8) {
			bits -= 8;
			if (buf_addch(out, (char)((acc >> bits) & 0xff)))
				return false;
		}
	}
	return true;
}

enum err model_oracle_recover_stdout(const char *obs, char **out,
				     size_t *len_out, struct errmsg *e)
{
	const char *p = obs ? strstr(obs, MARK_BEGIN) : NULL;
	const char *data, *end;
	unsigned long want;
	struct buf b;
	bool b64;
	char *num_end;

	if (!p)
		return err_set(e, ERR_PARSE, "no oracle output marker in the "
					     "observation");
	p += strlen(MARK_BEGIN);
	b64 = !strncmp(p, "b64 ", 4);
	if (!b64 && strncmp(p, "hex ", 4))
		return err_set(e, ERR_PARSE, "unknown oracle output encoding");
	want = strtoul(p + 4, &num_end, 10);
	data = strchr(p, '\n');
	end = data ? strstr(data, MARK_END) : NULL;
	if (!data || !end || num_end == p + 4)
		return err_set(e, ERR_PARSE,
			       "oracle output is incomplete (observation "
			       "truncated?)");
	buf_init(&b, MODEL_MAX_BODY);
	if (!decode(b64, data + 1, end, &b) || b.len != want) {
		buf_release(&b);
		return err_set(e, ERR_PARSE,
			       "oracle output is damaged: expected %lu bytes "
			       "(observation truncated?)",
			       want);
	}
	*out = buf_detach(&b, len_out);
	buf_release(&b);
	return ERR_OK;
}

/* "answer[N]: TEXT" -> N and TEXT, else 0. */
static long answer_line(const char *s, size_t n, const char **text,
			size_t *tlen)
{
	char *end;
	long k;

	if (n < 10 || strncmp(s, "answer[", 7) || s[7] < '0' || s[7] > '9')
		return 0;
	k = strtol(s + 7, &end, 10);
	if (k < 1 || k > MAX_ANSWERS || (size_t)(end - s) + 2 > n ||
	    end[0] != ']' || end[1] != ':')
		return 0;
	*text = trim_span(end + 2, n - (size_t)(end + 2 - s), tlen);
	return k;
}

static json_t *jstrn(const char *s, size_t n)
{
	char *f = model_utf8_fix(s, n);
	json_t *j = json_string(f);

	free(f);
	return j;
}

char *model_oracle_submit_args(const char *out, size_t len)
{
	json_t *answers = json_array();
	const char *flag = "";
	size_t flag_len = 0;
	const char *p = out, *end = out + len;
	json_t *root;
	char *s;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *t;
		size_t tl;
		long k = answer_line(p, n, &t, &tl);
		if (k > 0) {
			while (json_array_size(answers) < (size_t)k)
				json_array_append_new(answers, json_string(""));
			json_array_set_new(answers, (size_t)k - 1,
					   jstrn(t, tl));
		} else {
			t = trim_span(p, n, &tl);
			if (tl) {
				flag = t;
				flag_len = tl;
			}
		}
		p += n + 1;
	}
	root = json_object();
	json_object_set_new(root, "flag", jstrn(flag, flag_len));
	json_object_set_new(root, "answers", answers);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s ? s : xstrdup("{\"flag\":\"\"}");
}

/* ---- turns ------------------------------------------------------------ */

static size_t assistant_turns(const struct model_request *req)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_msgs; i++)
		n += req->msgs[i].role == MODEL_ASSISTANT;
	return n;
}

static void one_call(struct model_reply *r, const char *tool, char *args)
{
	r->calls = xcalloc(1, sizeof(*r->calls));
	r->n_calls = 1;
	r->calls[0].id = model_gen_call_id();
	r->calls[0].name = xstrdup(tool);
	r->calls[0].arguments = args;
	r->stop = MODEL_STOP_TOOL_CALLS;
}

static char *bash_args(const char *cmd)
{
	json_t *o = json_pack("{s:s}", "cmd", cmd);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s ? s : xstrdup("{}");
}

static void end_turn(struct model_reply *r, const char *name)
{
	r->stop = MODEL_STOP_END_TURN;
	r->text = xasprintf("%s has already submitted", name);
}

/* The observation answering the oracle's bash call, its first: the
 * first tool message, or in text mode the first user message that is an
 * observation. */
static const char *first_observation(const struct model_request *req)
{
	size_t pl = strlen(MODEL_TEXT_OBSERVATION);

	for (size_t i = 0; i < req->n_msgs; i++) {
		const char *t = req->msgs[i].text ? req->msgs[i].text : "";

		if (req->n_tools && req->msgs[i].role == MODEL_TOOL)
			return t;
		if (!req->n_tools && req->msgs[i].role == MODEL_USER &&
		    !strncmp(t, MODEL_TEXT_OBSERVATION, pl))
			return t + pl;
	}
	return NULL;
}

/* Text mode (no tools offered): the structured scaffold's protocol. */
static void text_reply(struct model_reply *r, char *text)
{
	r->text = text;
	r->stop = MODEL_STOP_END_TURN;
}

static void text_command(struct model_reply *r, const char *cmd)
{
	text_reply(r, xasprintf("Thought: run it.\nCommand:\n%s", cmd));
}

static const char *str_or_empty(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

/* {"flag":...,"answers":[...]} (ours) as "Flag:" and "Answer N:" lines. */
static char *submit_text(const char *args)
{
	json_t *j = json_loads(args, 0, NULL), *a;
	struct buf b;

	buf_init(&b, 1 << 20);
	if (buf_printf(&b, "Flag: %s\n", str_or_empty(json_object_get(j, "flag"))))
		goto done;
	a = json_object_get(j, "answers");
	for (size_t i = 0; i < json_array_size(a); i++)
		if (buf_printf(&b, "Answer %zu: %s\n", i + 1,
			       str_or_empty(json_array_get(a, i))))
			break;
done:
	json_decref(j);
	return buf_detach(&b, NULL);
}

static void submit_reply(struct model_reply *r, const struct model_request *req,
			 char *args)
{
	if (req->n_tools) {
		one_call(r, "submit", args);
		return;
	}
	text_reply(r, submit_text(args));
	free(args);
}

static void bash_reply(struct model_reply *r, const struct model_request *req,
		       const char *cmd)
{
	if (req->n_tools)
		one_call(r, "bash", bash_args(cmd));
	else
		text_command(r, cmd);
}

static bool offers_tool(const struct model_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_tools; i++)
		if (!strcmp(req->tools[i].name, name))
			return true;
	return false;
}

/* Calls named `name` in the assistant messages so far. */
static size_t calls_named(const struct model_request *req, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_msgs; i++)
		for (size_t j = 0; req->msgs[i].role == MODEL_ASSISTANT &&
		     j < req->msgs[i].n_calls; j++)
			n += req->msgs[i].calls[j].name &&
			     !strcmp(req->msgs[i].calls[j].name, name);
	return n;
}

char *model_oracle_answer_args(const char *submit_args, size_t k)
{
	json_t *j = json_loads(submit_args, 0, NULL);
	json_t *v = json_array_get(json_object_get(j, "answers"), k);
	json_t *o = json_is_string(v) ? json_pack("{s:O}", "answer", v) : NULL;
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	json_decref(j);
	return s;
}

/* Questions asked one at a time: the next answer while there is one,
 * then the flag alone. */
static bool oracle_answer(const struct model_request *req, const char *args,
			  struct model_reply *r)
{
	json_t *j;
	char *s;

	if (!req->n_tools || !offers_tool(req, "answer"))
		return false;
	s = model_oracle_answer_args(args, calls_named(req, "answer"));
	if (s) {
		one_call(r, "answer", s);
		return true;
	}
	j = json_loads(args, 0, NULL);
	json_object_del(j, "answers");
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	one_call(r, "submit", s ? s : xstrdup("{\"flag\":\"\"}"));
	return true;
}

static enum err oracle_submit(struct model *m, const struct model_request *req,
			      struct model_reply *r)
{
	const char *obs = first_observation(req);
	char *args;
	struct errmsg pe = {0};
	char *out = NULL;
	size_t len = 0;

	if (model_oracle_recover_stdout(obs, &out, &len, &pe)) {
		r->fail = MODEL_FAIL_MODEL;
		r->stop = MODEL_STOP_ERROR;
		r->error = xasprintf("%s: cannot read solve.sh's output: %s",
				     m->name, pe.text);
		return ERR_OK;
	}
	args = model_oracle_submit_args(out, len);
	free(out);
	if (oracle_answer(req, args, r))
		free(args);
	else
		submit_reply(r, req, args);
	return ERR_OK;
}

static enum err oracle_local(struct model *m, const struct model_request *req,
			     struct model_reply *r, struct errmsg *e)
{
	size_t turn = assistant_turns(req);
	char *cmd;

	if (turn == 0) {
		if (!req->solution_path)
			return err_set(e, ERR_INVAL,
				       "baseline/oracle needs the task's "
				       "solution path");
		cmd = model_oracle_command(req->solution_path);
		bash_reply(r, req, cmd);
		free(cmd);
		return ERR_OK;
	}
	/* text mode: the whole submission again (see the top); one at a
	 * time: the next answer */
	if (turn == 1 || !req->n_tools || offers_tool(req, "answer"))
		return oracle_submit(m, req, r);
	end_turn(r, m->name);
	return ERR_OK;
}

static enum err null_local(struct model *m, const struct model_request *req,
			   struct model_reply *r, struct errmsg *e)
{
	size_t turn = assistant_turns(req);

	(void)e;
	if (turn == 0)
		bash_reply(r, req, "ls -la /home/agent");
	else if (turn == 1)
		submit_reply(r, req, xstrdup("{\"flag\":\"\"}"));
	else
		end_turn(r, m->name);
	return ERR_OK;
}

const struct provider_ops model_provider_baseline_oracle = {
	.name = "baseline",
	.open = baseline_open,
	.local = oracle_local,
};

const struct provider_ops model_provider_baseline_null = {
	.name = "baseline",
	.open = baseline_open,
	.local = null_local,
};

static enum err human_open(struct model *m, const struct model_config *cfg,
			   struct errmsg *e)
{
	const char *n = m->name + strlen("human/");

	if (!*n || strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789._-") != strlen(n) || strlen(n) > 64)
		return err_set(e, ERR_INVAL, "model '%s': a human's name is 1 to 64 "
			       "of [A-Za-z0-9._-]", m->name);
	return baseline_open(m, cfg, e);
}

static enum err human_local(struct model *m, const struct model_request *req,
			    struct model_reply *r, struct errmsg *e)
{
	(void)req;
	(void)r;
	return err_set(e, ERR_INVAL, "model '%s' is a person: only `assay human` "
		       "runs it", m->name);
}

const struct provider_ops model_provider_human = {
	.name = "human",
	.open = human_open,
	.local = human_local,
};
