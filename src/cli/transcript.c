/*
 * transcript.c - an episode's journal as a conversation: what the model
 * was told (the `prompt` event), numbered turns with the model's text and
 * each tool call's command, exit and output, the notes, the submission
 * and the score with its reason.
 *
 * Everything in the journal came from the model, the box or the task and
 * is hostile: it is parsed with jansson, every field is checked for its
 * type, and text goes to the terminal only through put_text().
 */
#include "cli/transcript.h"

#include <stdlib.h>
#include <string.h>

#include "base/safetext.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* --- building -------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static json_t *str_or_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_incref(v) : json_null();
}

static json_int_t int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* The command of a tool call, from its raw arguments: bash's cmd,
 * python's code; NULL (no string) otherwise. */
static json_t *call_input(json_t *args)
{
	json_t *v = json_object_get(args, "cmd");

	if (!json_is_string(v))
		v = json_object_get(args, "code");
	return json_is_string(v) ? json_incref(v) : json_null();
}

static json_t *parse_obj(const char *s)
{
	json_t *j = s ? json_loads(s, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *tool_of(json_t *ev)
{
	json_t *t = json_object(), *args, *name = json_object_get(ev, "name");
	const char *raw = json_string_value(json_object_get(ev, "arguments"));

	args = parse_obj(raw);
	json_object_set_new(t, "id", str_or_null(ev, "id"));
	json_object_set_new(t, "name", str_or_null(ev, "name"));
	json_object_set_new(t, "input", args ? call_input(args) : json_null());
	json_object_set_new(t, "arguments", str_or_null(ev, "arguments"));
	if (json_is_string(name) && !strcmp(json_string_value(name), "submit") &&
	    args) {
		json_object_set_new(t, "flag", str_or_null(args, "flag"));
		if (json_is_array(json_object_get(args, "answers")))
			json_object_set(t, "answers",
					json_object_get(args, "answers"));
	}
	json_object_set(t, "exit", json_is_object(json_object_get(ev, "exit")) ?
			json_object_get(ev, "exit") : json_null());
	json_object_set_new(t, "duration_ms",
			    json_integer(int_of(ev, "wall_us") / 1000));
	json_object_set_new(t, "error", json_boolean(
		json_is_true(json_object_get(ev, "error"))));
	json_object_set_new(t, "output", str_or_null(ev, "output"));
	json_object_set_new(t, "truncated", json_boolean(
		json_is_true(json_object_get(ev, "truncated"))));
	json_decref(args);
	return t;
}

static json_t *turn_of(json_t *ev, json_int_t n)
{
	json_t *t = json_object();

	json_object_set_new(t, "turn", json_integer(n));
	json_object_set_new(t, "role", json_string("assistant"));
	json_object_set_new(t, "text", str_or_null(ev, "text"));
	json_object_set_new(t, "stop", str_or_null(ev, "stop"));
	json_object_set_new(t, "fail", str_or_null(ev, "fail"));
	json_object_set_new(t, "error", str_or_null(ev, "error"));
	json_object_set_new(t, "prompt_tokens",
			    json_integer(int_of(ev, "prompt_tokens")));
	json_object_set_new(t, "completion_tokens",
			    json_integer(int_of(ev, "completion_tokens")));
	json_object_set_new(t, "latency_ms", json_integer(int_of(ev, "latency_ms")));
	json_object_set_new(t, "attempts", json_integer(int_of(ev, "attempts")));
	json_object_set_new(t, "tool_calls", json_array());
	return t;
}

struct building {
	json_t *root, *turns, *notes, *services, *last_turn, *submission;
	json_t *given;          /* answers accepted one at a time */
	bool sequential;        /* the task asked its questions so */
	json_int_t n_turns;
};

static void add_note(struct building *b, const char *kind, const char *text)
{
	json_t *n = json_object();

	json_object_set_new(n, "after_turn", json_integer(b->n_turns));
	json_object_set_new(n, "kind", json_string(kind ? kind : "?"));
	json_object_set_new(n, "text", text ? json_string(text) : json_null());
	json_array_append_new(b->notes, n);
}

/* The answer tool's accepted answers, for the submission of a task
 * asking its questions one at a time. */
static void take_answer(struct building *b, const json_t *t)
{
	json_t *args = parse_obj(jstr(t, "arguments"));
	const json_t *a = json_object_get(args, "answer");

	if (json_is_string(a) && !json_is_true(json_object_get(t, "error")))
		json_array_append(b->given, (json_t *)a);
	json_decref(args);
}

/* A sequential task's question turns and answer results, as notes. */
static bool take_sequential(struct building *b, const char *kind, json_t *j)
{
	char *s;

	if (!strcmp(kind, "question")) {
		add_note(b, kind, jstr(j, "text"));
		return true;
	}
	if (strcmp(kind, "answer") || !json_is_boolean(json_object_get(j, "ok")))
		return false;
	s = xasprintf("answer to question %lld of %lld: %s",
		      (long long)jint(j, "question"), (long long)jint(j, "of"),
		      json_is_true(json_object_get(j, "ok")) ? "right" : "wrong");
	add_note(b, kind, s);
	free(s);
	return true;
}

static void take_event(struct building *b, const struct store_event *ev)
{
	const char *kind = ev->kind ? ev->kind : "";
	json_t *j = parse_obj(ev->data);

	if (!j) {
		add_note(b, kind, ev->data);      /* undecodable: shown as is */
		return;
	}
	if (take_sequential(b, kind, j)) {
		json_decref(j);
		return;
	}
	if (!strcmp(kind, "prompt")) {
		b->sequential = jstr(j, "answers_mode") &&
				!strcmp(jstr(j, "answers_mode"), "sequential");
		json_object_set_new(b->root, "scaffold", str_or_null(j, "scaffold"));
		json_object_set_new(b->root, "system", str_or_null(j, "system"));
		json_object_set_new(b->root, "task_prompt", str_or_null(j, "task"));
	} else if (!strcmp(kind, "model")) {
		b->last_turn = turn_of(j, ++b->n_turns);
		json_array_append_new(b->turns, b->last_turn);
	} else if (!strcmp(kind, "tool")) {
		json_t *t = tool_of(j);
		if (!b->last_turn) {      /* a tool before any turn: keep it */
			json_t *none = json_object();
			b->last_turn = turn_of(none, ++b->n_turns);
			json_decref(none);
			json_array_append_new(b->turns, b->last_turn);
		}
		json_array_append(json_object_get(b->last_turn, "tool_calls"), t);
		if (jstr(t, "name") && !strcmp(jstr(t, "name"), "answer"))
			take_answer(b, t);
		if (json_is_string(json_object_get(t, "flag")) &&
		    !json_is_true(json_object_get(t, "error"))) {
			json_decref(b->submission);
			json_t *ans = json_object_get(t, "answers");
			b->submission = json_pack("{s:O,s:o}", "flag",
				json_object_get(t, "flag"), "answers",
				ans ? json_incref(ans) : json_array());
		}
		json_decref(t);
	} else if (!strcmp(kind, "service")) {
		json_t *v = json_object();
		json_object_set_new(v, "service", str_or_null(j, "service"));
		json_object_set_new(v, "state", str_or_null(j, "state"));
		json_object_set_new(v, "alive", json_boolean(
			json_is_true(json_object_get(j, "alive"))));
		json_object_set(v, "exit", json_is_object(json_object_get(j,
				"exit")) ? json_object_get(j, "exit") : json_null());
		json_object_set_new(v, "stdout", str_or_null(j, "stdout"));
		json_object_set_new(v, "stdout_truncated", json_boolean(
			json_is_true(json_object_get(j, "stdout_truncated"))));
		json_object_set_new(v, "stderr", str_or_null(j, "stderr"));
		json_object_set_new(v, "stderr_truncated", json_boolean(
			json_is_true(json_object_get(j, "stderr_truncated"))));
		json_array_append_new(b->services, v);
	} else if (!strcmp(kind, "score")) {
		json_object_set(b->root, "score_event", j);
	} else if (json_is_string(json_object_get(j, "note"))) {
		add_note(b, kind, json_string_value(json_object_get(j, "note")));
	} else {
		char *s = json_dumps(j, JSON_COMPACT);
		add_note(b, kind, s);
		free(s);
	}
	json_decref(j);
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *episode_of(const struct store_episode *ep)
{
	return json_pack("{s:I,s:I,s:o,s:i,s:i,s:o,s:o,s:o,s:o}",
			 "id", (json_int_t)ep->id, "run", (json_int_t)ep->run_id,
			 "task", opt_str(ep->task_id), "epoch", ep->epoch,
			 "attempt", ep->attempt, "status", opt_str(ep->status),
			 "outcome", opt_str(ep->outcome),
			 "class", opt_str(ep->error_class),
			 "error", opt_str(ep->error));
}

static json_t *score_of(const struct store_episode *ep, json_t *submission)
{
	const char *flag = json_string_value(json_object_get(submission, "flag"));
	char *why = cli_transcript_reason(ep, flag);
	json_t *s = json_object();

	json_object_set_new(s, "score", json_integer(ep->score));
	json_object_set_new(s, "flag_ok", ep->has_flag ?
			    json_boolean(ep->flag_ok) : json_null());
	json_object_set_new(s, "check_ok", ep->has_check ?
			    json_boolean(ep->check_ok) : json_null());
	json_object_set_new(s, "answers_ok", json_integer(ep->answers_ok));
	json_object_set_new(s, "answers_total", json_integer(ep->answers_total));
	json_object_set_new(s, "reason", json_string(why));
	free(why);
	return s;
}

json_t *cli_transcript_build(const struct store_episode *ep,
			     const struct store_event *evs, size_t n)
{
	struct building b = { 0 };

	b.root = json_object();
	b.turns = json_array();
	b.notes = json_array();
	b.services = json_array();
	b.submission = json_null();
	json_object_set_new(b.root, "episode", episode_of(ep));
	json_object_set_new(b.root, "scaffold", json_null());
	json_object_set_new(b.root, "system", json_null());
	json_object_set_new(b.root, "task_prompt", json_null());
	b.given = json_array();
	for (size_t i = 0; i < n; i++)
		take_event(&b, &evs[i]);
	if (b.sequential && json_is_object(b.submission))
		json_object_set(b.submission, "answers", b.given);
	json_decref(b.given);
	json_object_del(b.root, "score_event");
	json_object_set_new(b.root, "turns", b.turns);
	json_object_set_new(b.root, "notes", b.notes);
	json_object_set_new(b.root, "services", b.services);
	json_object_set_new(b.root, "score", score_of(ep, b.submission));
	json_object_set_new(b.root, "submission", b.submission);
	return b.root;
}

/* --- the reason ------------------------------------------------------ */

static const char *limit_name(const char *outcome)
{
	static const char *const names[][2] = {
		{ "limit-turns", "turn" }, { "limit-tokens", "token" },
		{ "limit-cost", "cost" }, { "limit-wall", "wall-time" },
		{ "limit-working", "working-time" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(outcome, names[i][0]))
			return names[i][1];
	return NULL;
}

static char *quoted(const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	return q ? q : xstrdup("\"?\"");
}

/* Solved or submitted: which criteria held, joined by "; ". */
static char *criteria(const struct store_episode *ep, const char *submitted)
{
	char *parts[3] = { NULL, NULL, NULL }, *out;
	size_t n = 0;

	if (ep->has_flag && ep->flag_ok) {
		parts[n++] = xstrdup("the flag matched");
	} else if (ep->has_flag) {
		char *q = submitted ? quoted(submitted) : NULL;
		parts[n++] = q ? xasprintf("wrong flag: submitted %.300s", q) :
			     xstrdup("no flag submitted");
		free(q);
	}
	if (ep->has_check)
		parts[n++] = xstrdup(ep->check_ok ? "the hidden check passed" :
				     "the hidden check failed");
	if (ep->answers_total)
		parts[n++] = xasprintf("answers %d/%d right", ep->answers_ok,
				       ep->answers_total);
	out = xasprintf("%s%s%s%s%s", n > 0 ? parts[0] : "", n > 1 ? "; " : "",
			n > 1 ? parts[1] : "", n > 2 ? "; " : "",
			n > 2 ? parts[2] : "");
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	return out;
}

char *cli_transcript_reason(const struct store_episode *ep, const char *submitted)
{
	const char *o = ep->outcome ? ep->outcome : ep->status ? ep->status : "?";
	const char *err = ep->error && *ep->error ? ep->error : NULL;
	const char *lim = limit_name(o);

	if (!strcmp(o, "solved") || !strcmp(o, "submitted-wrong")) {
		char *c = criteria(ep, submitted), *r;
		r = xasprintf("%s%s%s", ep->score ? "solved" : "not solved",
			      *c ? ": " : "", c);
		free(c);
		return r;
	}
	if (lim)
		return xasprintf("not solved: the %s limit ended the attempt "
				 "before a submission", lim);
	if (!strcmp(o, "no-submit"))
		return xstrdup("not solved: the model stopped without "
			       "submitting");
	if (!strcmp(o, "flag-leak"))
		return xasprintf("not scored: the flag was readable by the agent "
				 "before it started (a task bug)%s%.300s",
				 err ? ": " : "", err ? err : "");
	if (!strncmp(o, "infra", 5))
		return xasprintf("not scored: infrastructure failure (%s), "
				 "attempted again%s%.300s", o, err ? ": " : "",
				 err ? err : "");
	return xasprintf("not solved: %s%s%.300s", o, err ? ": " : "",
			 err ? err : "");
}

/* --- rendering ------------------------------------------------------- */

/* Text from the journal onto the terminal through safe_text (every
 * control but tab and newline, C1, bidi controls and invalid UTF-8
 * escaped: base/safetext.h); each line after a newline gets the indent. */
static void put_text(FILE *f, const char *s, const char *indent)
{
	char *clean = safe_str(s, SAFE_MULTILINE);
	const char *p = clean;

	fputs(indent, f);
	for (; *p; p++) {
		fputc(*p, f);
		if (*p == '\n' && p[1])
			fputs(indent, f);
	}
	if (p == clean || p[-1] != '\n')
		fputc('\n', f);
	free(clean);
}

/* One line of journal text through safe_text, newlines escaped too; no
 * newline added. */
static void put_inline(FILE *f, const char *s)
{
	char *clean = safe_str(s, 0);

	fputs(clean, f);
	free(clean);
}

static void write_exit(FILE *f, const json_t *t)
{
	const json_t *x = json_object_get(t, "exit");
	const char *how = jstr(x, "how");
	double s = (double)jint(t, "duration_ms") / 1000.0;

	if (!how)
		fprintf(f, "    -> %s, %.2f s\n", json_is_true(json_object_get(
			t, "error")) ? "refused" : "done", s);
	else if (!strcmp(how, "exited"))
		fprintf(f, "    -> exit %lld, %.2f s\n",
			(long long)jint(x, "status"), s);
	else if (!strcmp(how, "signaled"))
		fprintf(f, "    -> killed by signal %lld, %.2f s\n",
			(long long)jint(x, "signal"), s);
	else {
		fputs("    -> ", f);
		put_inline(f, how);
		fprintf(f, ", %.2f s\n", s);
	}
}

static void write_tool(FILE *f, const json_t *t)
{
	const char *name = jstr(t, "name"), *in = jstr(t, "input");
	const char *out = jstr(t, "output");

	fputs("  tool call: ", f);
	put_text(f, name ? name : "(no name)", "");
	if (jstr(t, "flag")) {
		const json_t *ans = json_object_get(t, "answers");
		size_t i;
		json_t *a;
		fputs("    flag: ", f);
		put_text(f, jstr(t, "flag"), "");
		json_array_foreach(ans, i, a) {
			fprintf(f, "    answer %zu: ", i + 1);
			put_text(f, json_is_string(a) ? json_string_value(a) : "", "");
		}
	} else if (in) {
		fprintf(f, "    ```%s\n", name && !strcmp(name, "python") ?
			"python" : "bash");
		put_text(f, in, "    ");
		fputs("    ```\n", f);
	} else if (jstr(t, "arguments")) {
		fputs("    arguments: ", f);
		put_text(f, jstr(t, "arguments"), "");
	}
	write_exit(f, t);
	if (out && *out && !(jstr(t, "flag") && !strcmp(out, "submitted")))
		put_text(f, out, "    | ");
	if (json_is_true(json_object_get(t, "truncated")))
		fputs("    [output truncated in the box: the middle was cut]\n", f);
}

static void write_turn(FILE *f, const json_t *t)
{
	const json_t *calls = json_object_get(t, "tool_calls");
	const char *text = jstr(t, "text"), *fail = jstr(t, "fail");
	size_t i;
	json_t *c;

	fprintf(f, "\n--- turn %lld  ", (long long)jint(t, "turn"));
	put_inline(f, jstr(t, "role") ? jstr(t, "role") : "?");
	fprintf(f, "  %lld+%lld tokens  %.2f s",
		(long long)jint(t, "prompt_tokens"),
		(long long)jint(t, "completion_tokens"),
		(double)jint(t, "latency_ms") / 1000.0);
	if (jstr(t, "stop")) {
		fputs("  stop ", f);
		put_inline(f, jstr(t, "stop"));
	}
	fputc('\n', f);
	if (fail && strcmp(fail, "none")) {
		fputs("  model call failed (", f);
		put_inline(f, fail);
		fputs("): ", f);
		put_text(f, jstr(t, "error") ? jstr(t, "error") : "", "");
	}
	if (text && *text)
		put_text(f, text, "  ");
	else if (!fail || !strcmp(fail, "none"))
		fputs("  (no text)\n", f);
	json_array_foreach(calls, i, c)
		write_tool(f, c);
}

static void write_head(FILE *f, const json_t *t)
{
	if (jstr(t, "scaffold")) {
		fputs("agent ", f);
		put_inline(f, jstr(t, "scaffold"));
		fputc('\n', f);
	}
	if (jstr(t, "system")) {
		fputs("\n--- system\n", f);
		put_text(f, jstr(t, "system"), "  ");
	}
	if (jstr(t, "task_prompt")) {
		fputs("\n--- user (the task)\n", f);
		put_text(f, jstr(t, "task_prompt"), "  ");
	}
	if (!jstr(t, "system") && !jstr(t, "task_prompt"))
		fputs("\n(the prompts were not journaled: a run of an older "
		      "assay)\n", f);
}

static void write_services(FILE *f, const json_t *svcs)
{
	static const char *const streams[] = { "stdout", "stderr" };
	size_t i;
	json_t *v;

	json_array_foreach(svcs, i, v) {
		fputs("\n--- service '", f);
		put_inline(f, jstr(v, "service") ? jstr(v, "service") : "?");
		fputs("': ", f);
		put_inline(f, jstr(v, "state") ? jstr(v, "state") : "?");
		fputc('\n', f);
		for (int k = 0; k < 2; k++) {
			char key[32];
			const char *text = jstr(v, streams[k]);
			if (!text || !*text)
				continue;
			snprintf(key, sizeof(key), "  %s | ", streams[k]);
			put_text(f, text, key);
			snprintf(key, sizeof(key), "%s_truncated", streams[k]);
			if (json_is_true(json_object_get(v, key)))
				fprintf(f, "  [%s truncated: the middle was cut]\n",
					streams[k]);
		}
	}
}

void cli_transcript_write_text(const json_t *t, FILE *f)
{
	const json_t *turns = json_object_get(t, "turns");
	const json_t *notes = json_object_get(t, "notes");
	const json_t *score = json_object_get(t, "score");
	const json_t *ep = json_object_get(t, "episode");
	size_t i, k = 0, nn = json_array_size(notes);
	json_t *v;

	write_head(f, t);
	json_array_foreach(turns, i, v) {
		for (; k < nn && jint(json_array_get(notes, k), "after_turn") <=
		     (json_int_t)i; k++) {
			fputs("\n--- note\n", f);
			put_text(f, jstr(json_array_get(notes, k), "text") ?
				 jstr(json_array_get(notes, k), "text") : "", "  ");
		}
		write_turn(f, v);
	}
	for (; k < nn; k++) {
		fputs("\n--- note\n", f);
		put_text(f, jstr(json_array_get(notes, k), "text") ?
			 jstr(json_array_get(notes, k), "text") : "", "  ");
	}
	write_services(f, json_object_get(t, "services"));
	fprintf(f, "\n--- score %lld  outcome ", (long long)jint(score, "score"));
	put_text(f, jstr(ep, "outcome") ? jstr(ep, "outcome") :
		 jstr(ep, "status") ? jstr(ep, "status") : "?", "");
	put_text(f, jstr(score, "reason") ? jstr(score, "reason") : "", "  ");
}
