/*
 * tools.c - the bash, python and submit tools. Arguments come from the
 * model and are hostile: every failure to understand them becomes an
 * error observation, never a crash.
 */
#include "agent/agent_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* The tools both sets offer: a shell and Python in the box. */
#define TOOL_BASH_PYTHON \
	{ "bash", "Run a shell command (bash) in your Linux box and return " \
	  "its standard output, standard error and exit status.", \
	  "{\"type\":\"object\",\"properties\":{\"cmd\":{\"type\":\"string\"," \
	  "\"description\":\"the command line to run\"}}," \
	  "\"required\":[\"cmd\"],\"additionalProperties\":false}" }, \
	{ "python", "Run a Python 3 program in your Linux box and return its " \
	  "output. Print what you want to see.", \
	  "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"," \
	  "\"description\":\"the Python source to run\"}}," \
	  "\"required\":[\"code\"],\"additionalProperties\":false}" }

const struct model_tool agent_tools[] = {
	TOOL_BASH_PYTHON,
	{ "submit", "Submit your final answer: the flag, and answers to any "
	  "questions in order. This ends your attempt.",
	  "{\"type\":\"object\",\"properties\":{\"flag\":{\"type\":\"string\"},"
	  "\"answers\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
	  "\"required\":[\"flag\"],\"additionalProperties\":false}" },
};
const size_t agent_n_tools = sizeof(agent_tools) / sizeof(agent_tools[0]);

const struct model_tool agent_tools_seq[] = {
	TOOL_BASH_PYTHON,
	{ "answer", "Answer the open question. The next question (after the "
	  "last one, the request for the flag) follows; an answer cannot be "
	  "changed.",
	  "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":"
	  "\"string\"}},\"required\":[\"answer\"],"
	  "\"additionalProperties\":false}" },
	{ "submit", "Submit the flag once every question is answered and the "
	  "flag is asked for. This ends your attempt.",
	  "{\"type\":\"object\",\"properties\":{\"flag\":{\"type\":\"string\"}},"
	  "\"required\":[\"flag\"],\"additionalProperties\":false}" },
};
const size_t agent_n_tools_seq = sizeof(agent_tools_seq) /
				 sizeof(agent_tools_seq[0]);

const struct model_tool *agent_offered_tools(const struct agent *a, size_t *n)
{
	if (a->cfg.scaffold == AGENT_STRUCTURED) {
		*n = 0;
		return NULL;
	}
	*n = agent_seq(a) ? agent_n_tools_seq : agent_n_tools;
	return agent_seq(a) ? agent_tools_seq : agent_tools;
}

static json_t *parse_args(struct agent *a, const struct model_tool_call *call)
{
	json_error_t jerr;
	json_t *j;
	size_t n = call->arguments ? strlen(call->arguments) : 0;
	char msg[300];

	if (n > AGENT_ARGS_MAX) {
		snprintf(msg, sizeof(msg), "error: arguments of '%s' are %zu "
			 "bytes; the limit is %d", call->name, n, AGENT_ARGS_MAX);
		agent_push_tool_msg(a, call, msg, true);
		return NULL;
	}
	j = json_loadb(n ? call->arguments : "{}", n ? n : 2,
		       JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		snprintf(msg, sizeof(msg), "error: arguments of '%s' are not a "
			 "JSON object%s%s", call->name, j ? "" : ": ",
			 j ? "" : jerr.text);
		json_decref(j);
		agent_push_tool_msg(a, call, msg, true);
		return NULL;
	}
	return j;
}

const char *agent_tool_string(struct agent *a, const struct model_tool_call *c,
			      json_t *args, const char *key)
{
	json_t *v = json_object_get(args, key);
	char msg[200];

	if (json_is_string(v))
		return json_string_value(v);
	snprintf(msg, sizeof(msg), "error: '%s' needs a string argument '%s'",
		 c->name, key);
	agent_push_tool_msg(a, c, msg, true);
	return NULL;
}

static bool start_exec(struct agent *a, const struct model_tool_call *call,
		       const struct sbx_exec_req *req, const char *input)
{
	struct errmsg e;

	free(a->tool_input);
	a->tool_input = xstrdup(input);
	a->tool_started_us = now_us();
	switch (sbx_exec_begin(a->cfg.box, req, &e)) {
	case ERR_OK:
		break;
	case ERR_LIMIT:             /* the model's command is too large */
		agent_push_tool_msg(a, call, e.text, true);
		return false;
	case ERR_SANDBOX:           /* the box the agent held failed: see
				       agent_tool_collect */
		agent_finish(a, AGENT_END_BOX_FAILED, e.text);
		return false;
	default:
		agent_finish(a, AGENT_END_INFRA_ERROR, e.text);
		return false;
	}
	a->state = AGENT_WAIT_TOOL;
	return true;
}

static bool run_bash(struct agent *a, const struct model_tool_call *call,
		     json_t *args)
{
	const char *cmd = agent_tool_string(a, call, args, "cmd");
	struct sbx_exec_req req = { 0 };
	const char *argv[] = { "/bin/bash", "-c", NULL, NULL };

	if (!cmd)
		return false;
	argv[2] = cmd;
	req.argv = argv;
	req.timeout_ms = a->cfg.limits.cmd_timeout_ms;
	req.out_cap = a->cfg.limits.obs_cap;
	return start_exec(a, call, &req, cmd);
}

static bool run_python(struct agent *a, const struct model_tool_call *call,
		       json_t *args)
{
	const char *code = agent_tool_string(a, call, args, "code");
	static const char *const argv[] = { "python3", "-", NULL };
	struct sbx_exec_req req = { 0 };

	if (!code)
		return false;
	req.argv = argv;
	req.stdin_data = code;
	req.stdin_len = strlen(code);
	req.timeout_ms = a->cfg.limits.cmd_timeout_ms;
	req.out_cap = a->cfg.limits.obs_cap;
	return start_exec(a, call, &req, code);
}

static void take_answers(struct agent *a, json_t *arr)
{
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;

	if (n > 64)
		n = 64;
	a->res.answers = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		/* whole (the arguments are capped): a cut could turn a
		 * wrong answer into a right one ("right" + 5000 spaces +
		 * "junk" cut and trimmed is "right") */
		a->res.answers[i] = xstrdup(json_is_string(v) ?
					    json_string_value(v) : "");
	}
	a->res.n_answers = n;
}

static void do_submit(struct agent *a, const struct model_tool_call *call,
		      json_t *args)
{
	const char *flag = agent_tool_string(a, call, args, "flag");

	if (!flag || agent_seq_submit_refused(a, call))
		return;
	a->res.flag = xstrdup(flag);      /* whole, as the answers */
	if (!agent_seq(a)) {
		take_answers(a, json_object_get(args, "answers"));
		agent_push_tool_msg(a, call, "submitted", false);
	} else {
		/* the answers were given one at a time; a list cannot change
		 * them */
		agent_push_tool_msg(a, call, json_object_get(args, "answers") ?
				    "submitted (the 'answers' list is ignored: "
				    "this task's questions were answered one "
				    "at a time)" : "submitted", false);
	}
	agent_finish(a, AGENT_END_SUBMITTED, NULL);
}

/* answer is a tool only with sequential questions. */
static bool known_tool(const struct agent *a, const char *name)
{
	return name && (!strcmp(name, "bash") || !strcmp(name, "python") ||
			!strcmp(name, "submit") ||
			(agent_seq(a) && !strcmp(name, "answer")));
}

bool agent_tool_dispatch(struct agent *a, const struct model_tool_call *call)
{
	json_t *args;
	bool waiting = false;
	char msg[200];

	a->res.tool_calls++;
	if (!known_tool(a, call->name)) {
		snprintf(msg, sizeof(msg), "error: unknown tool '%.64s'; the "
			 "tools are bash, python%s and submit",
			 call->name ? call->name : "",
			 agent_seq(a) ? ", answer" : "");
		agent_push_tool_msg(a, call, msg, true);
		return false;
	}
	args = parse_args(a, call);
	if (!args)
		return false;
	if (!strcmp(call->name, "bash"))
		waiting = run_bash(a, call, args);
	else if (!strcmp(call->name, "python"))
		waiting = run_python(a, call, args);
	else if (!strcmp(call->name, "answer"))
		agent_seq_answer(a, call, args);
	else
		do_submit(a, call, args);
	json_decref(args);
	return waiting;
}

/* stdout, then "[stderr]" and stderr, then how it ended when not 0. */
static char *observation(const struct sbx_exec_result *r, int timeout_ms,
			 size_t *len_out)
{
	struct buf b;

	buf_init(&b, 8u << 20);
	if (buf_add(&b, r->out, r->out_len) ||
	    (r->err_len && (buf_adds(&b, r->out_len ? "\n[stderr]\n" :
				     "[stderr]\n") ||
			    buf_add(&b, r->err, r->err_len))))
		goto done;
	switch (r->how) {
	case SBX_EXITED:
		if (r->exit_code && buf_printf(&b, "\n[exit status %d]",
					       r->exit_code))
			goto done;
		break;
	case SBX_SIGNALED:
		if (buf_printf(&b, "\n[killed by signal %d]", r->term_signal))
			goto done;
		break;
	case SBX_TIMED_OUT:
		if (buf_printf(&b, "\n[command timed out after %d s and was "
			       "killed]", timeout_ms / 1000))
			goto done;
		break;
	case SBX_OOM_KILLED:
		if (buf_adds(&b, "\n[killed: out of memory]"))
			goto done;
		break;
	case SBX_BOX_DIED:
		break;
	}
	if (r->pids_limited && buf_adds(&b, "\n[process limit reached]"))
		goto done;
done:
	return buf_detach(&b, len_out);
}

bool agent_tool_collect(struct agent *a)
{
	const struct model_tool_call *call = &a->calls[a->cur_call - 1];
	struct sbx_exec_result r = { 0 };
	struct errmsg e;
	bool done = false;
	char *raw, *obs;
	size_t len;

	/* A box that dies or stops answering while the agent runs commands
	 * in it is the agent's doing: it may be root in the box, fill its
	 * memory and disk, fork to the limit. Blaming the infrastructure
	 * would hand it a fresh attempt (docs/SECURITY.md, "Scoring"). */
	if (sbx_exec_poll(a->cfg.box, &done, &r, &e) != ERR_OK) {
		agent_finish(a, AGENT_END_BOX_FAILED, e.text);
		return true;
	}
	if (!done)
		return false;
	a->res.working_ms += (now_us() - a->tool_started_us) / 1000;
	if (r.how == SBX_BOX_DIED) {
		sbx_exec_result_release(&r);
		agent_finish(a, AGENT_END_BOX_FAILED, "the agent box died");
		return true;
	}
	/* by length: a NUL the command printed must not cut the rest */
	raw = observation(&r, a->cfg.limits.cmd_timeout_ms, &len);
	obs = utf8_sanitize(raw, len, NULL);
	a->tool_res = &r;
	agent_push_tool_msg(a, call, obs, false);
	a->tool_res = NULL;
	free(raw);
	free(obs);
	sbx_exec_result_release(&r);
	return true;
}
