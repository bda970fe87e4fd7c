/*
 * test_agent.c - the structured scaffold's reply parser, the scaffold
 * names, and questions asked one at a time (the loop driven by a replay
 * model without a box: answer and submit run no command). (Loops with
 * commands run against real boxes and the mock model in
 * tests/integration.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/xalloc.h"

/* The question open while parsing (0: none). */
static size_t open_q;

/* The action of `text`: "bash:<cmd>", "submit:<flag>|<a1>|<a2>...",
 * "answer:<text>" or "none". Caller frees. */
static char *act(const char *text)
{
	struct model_tool_call c;
	json_t *j, *v;
	char *out;

	if (!agent_structured_action(text, 7, open_q, &c))
		return strdup("none");
	assert_string_equal(c.id, "step-7");
	j = json_loads(c.arguments, 0, NULL);
	assert_non_null(j);
	if (!strcmp(c.name, "bash")) {
		v = json_object_get(j, "cmd");
		assert_true(json_is_string(v));
		assert_int_not_equal(asprintf(&out, "bash:%s", json_string_value(v)), -1);
	} else if (!strcmp(c.name, "answer")) {
		v = json_object_get(j, "answer");
		assert_true(json_is_string(v));
		assert_int_not_equal(asprintf(&out, "answer:%s", json_string_value(v)), -1);
	} else {
		size_t len;
		FILE *f = open_memstream(&out, &len);

		assert_string_equal(c.name, "submit");
		fprintf(f, "submit:%s", json_string_value(json_object_get(j, "flag")));
		v = json_object_get(j, "answers");
		for (size_t i = 0; i < json_array_size(v); i++)
			fprintf(f, "|%s", json_string_value(json_array_get(v, i)));
		fclose(f);
	}
	json_decref(j);
	model_tool_call_release(&c);
	return out;
}

static void expect(const char *text, const char *want)
{
	char *got = act(text);

	assert_string_equal(got, want);
	free(got);
}

static void test_commands(void **state)
{
	(void)state;
	expect("Reflection: none yet\nPlan: look around\nThought: list\n"
	       "Command:\nls -la /home/agent\n", "bash:ls -la /home/agent");
	expect("Command: id", "bash:id");
	expect("  **Command:**\n```bash\necho a\necho b\n```\n",
	       "bash:echo a\necho b");
	expect("Command: cat x <END>\nObservation: made up\n", "bash:cat x");
	/* a made-up observation or a new section ends the command */
	expect("Command:\nnc -z web 80\nObservation:\nopen\n", "bash:nc -z web 80");
	expect("Command:\nwhoami\nThought: then more\n", "bash:whoami");
	/* the last command block is the one run */
	expect("Plan: Command: is how I act\nCommand: first\nCommand: second\n",
	       "bash:second");
	/* case and markdown of the label do not matter */
	expect("### COMMAND:\npwd\n", "bash:pwd");
}

static void test_submit(void **state)
{
	(void)state;
	expect("Thought: got it\nFlag: flag{abc}\n", "submit:flag{abc}");
	expect("Answer: flag{cybench-style}\n", "submit:flag{cybench-style}");
	expect("Flag: f\n**Answer 2:** two\nAnswer 1: one\n", "submit:f|one|two");
	expect("Answer 1: only answers\n", "submit:|only answers");
	/* an empty flag is still a submission (the attempt ends) */
	expect("Flag:\n", "submit:");
	/* the final answer wins over a command in the same reply */
	expect("Command: ls\nFlag: x\n", "submit:x");
}

static void test_nothing(void **state)
{
	char *big = malloc(1 << 20);

	(void)state;
	expect("I think I should look at the files first.", "none");
	expect("Command:\n\n   \n", "none");
	expect("Command:\n```\n```\n", "none");
	expect("", "none");
	/* "Flag" or "Answer" inside a line is not a label */
	expect("Thought: once found I will write Flag: here\n", "none");
	/* answer numbers beyond the cap are ignored */
	expect("Answer 999: x\n", "none");
	memset(big, 'A', (1 << 20) - 1);
	big[(1 << 20) - 1] = 0;
	expect(big, "none");
	memcpy(big, "Command: ", 9);
	{
		char *got = act(big);

		assert_int_equal(strncmp(got, "bash:AAAA", 9), 0);
		free(got);
	}
	free(big);
}

/* With question 2 open: "Answer 2:" (else a bare "Answer:") answers it;
 * anything else is what it was (a submit the agent then refuses). */
static void test_open_question(void **state)
{
	(void)state;
	open_q = 2;
	expect("Answer 2: two\n", "answer:two");
	expect("**Answer 2:** two\nAnswer 1: one\nFlag: f\n", "answer:two");
	expect("Thought: done\nAnswer: Trithemius\n", "answer:Trithemius");
	expect("Answer 3: three\nAnswer: bare\n", "answer:bare");
	expect("Command: ls\nAnswer 2: x\n", "answer:x");
	expect("Answer 1: one\n", "submit:|one");
	expect("Flag: f\n", "submit:f");
	expect("Command: ls\n", "bash:ls");
	expect("nothing to do", "none");
	open_q = 0;
	expect("Answer: flag{x}\n", "submit:flag{x}");
	expect("Answer 2: two\n", "submit:||two");
}

/* ---- questions one at a time: the loop on a replay model ------------- */

struct answers_seen {
	size_t n;
	size_t index[8];
	char text[8][64];
};

static void on_answer(void *arg, size_t index, const char *answer)
{
	struct answers_seen *s = arg;

	assert_true(s->n < 8);
	s->index[s->n] = index;
	snprintf(s->text[s->n++], 64, "%s", answer);
}

static char *replay_file(const char *turns)
{
	char *path = xstrdup("/tmp/assay-test-agent-XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "{\"format\":\"assay-replay/1\",\"turns\":[%s]}", turns);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Run an agent with two questions (n_q of them: 0 asks them together)
 * over the recorded turns to its end. */
static struct agent *run_n(enum agent_scaffold sc, size_t n_q,
			   const char *turns, struct answers_seen *seen,
			   struct model **m_out, struct model_ctx **ctx_out)
{
	static const char *const qs[] = { "Which cipher?", "Which key?" };
	char *path = replay_file(turns), *name = xasprintf("replay/%s", path);
	struct model_config mc = { .name = name };
	struct agent_config ac = { 0 };
	struct errmsg e;
	struct agent *a;

	assert_int_equal(model_ctx_new(ctx_out, &e), ERR_OK);
	if (model_open(*ctx_out, &mc, m_out, &e) != ERR_OK)
		fail_msg("%s", e.text);
	ac.scaffold = sc;
	ac.task_prompt = "Find the flag.";
	ac.model = *m_out;
	ac.limits.turns = 20;
	ac.questions = n_q ? qs : NULL;
	ac.n_questions = n_q;
	ac.on_answer = on_answer;
	ac.answer_arg = seen;
	a = agent_new(&ac);
	assert_int_equal(agent_start(a, &e), ERR_OK);
	for (int i = 0; i < 100 && agent_state(a) != AGENT_DONE; i++)
		assert_int_equal(model_ctx_run(*ctx_out, &e), ERR_OK);
	assert_int_equal(agent_state(a), AGENT_DONE);
	unlink(path);
	free(path);
	free(name);
	return a;
}

static struct agent *run_seq(enum agent_scaffold sc, const char *turns,
			     struct answers_seen *seen, struct model **m_out,
			     struct model_ctx **ctx_out)
{
	return run_n(sc, 2, turns, seen, m_out, ctx_out);
}

static void done_seq(struct agent *a, struct model *m, struct model_ctx *ctx)
{
	agent_free(a);
	model_close(m);
	model_ctx_free(ctx);
}

/* The text of the tool result (react) or observation (structured) that
 * answered the model's k-th call overall, from 1. */
static const char *result_of(const struct agent *a, int k)
{
	for (size_t i = 0; i < a->n_msgs; i++) {
		const char *t = a->msgs[i].text ? a->msgs[i].text : "";
		bool obs = a->msgs[i].role == MODEL_TOOL ||
			   (a->msgs[i].role == MODEL_USER &&
			    !strncmp(t, "Observation:", 12));
		if (obs && --k == 0)
			return t;
	}
	return "";
}

/* The index of the first message whose text holds `needle`, or -1. */
static int msg_with(const struct agent *a, const char *needle)
{
	for (size_t i = 0; i < a->n_msgs; i++)
		if (a->msgs[i].text && strstr(a->msgs[i].text, needle))
			return (int)i;
	return -1;
}

#define CALL(name, args) "{\"name\":\"" name "\",\"arguments\":" args "}"
#define TURN(...) "{\"tool_calls\":[" __VA_ARGS__ "]}"

/* A hostile model: submits early, answers twice in one reply, answers
 * after the last question, sends a huge answer and an answers list; it
 * can skip nothing and change no answer. */
static void test_sequential_react(void **state)
{
	char big[6000];
	char *turns;
	struct answers_seen seen = { 0 };
	struct model *m;
	struct model_ctx *ctx;
	struct agent *a;
	const struct agent_result *r;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	turns = xasprintf(
		TURN(CALL("submit", "{\"flag\":\"F\"}")) ","
		TURN(CALL("answer", "{\"answer\":\"%s\"}")) ","
		TURN(CALL("answer", "{\"answer\":\" a1 \"}") ","
		     CALL("answer", "{\"answer\":\"early\"}") ","
		     CALL("submit", "{\"flag\":\"F\"}")) ","
		TURN(CALL("answer", "{\"answer\":7}")) ","
		TURN(CALL("answer", "{\"answer\":\"b\"}")) ","
		TURN(CALL("answer", "{\"answer\":\"late\"}")) ","
		TURN(CALL("submit", "{\"flag\":\"F\",\"answers\":[\"z\",\"z\"]}")),
		big);
	a = run_seq(AGENT_REACT, turns, &seen, &m, &ctx);
	r = agent_result(a);
	assert_int_equal(r->end, AGENT_END_SUBMITTED);
	assert_string_equal(r->flag, "F");
	assert_int_equal(r->n_answers, 2);
	assert_string_equal(r->answers[0], " a1 ");
	assert_string_equal(r->answers[1], "b");
	assert_null(r->answers[2]);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.index[0], 0);
	assert_string_equal(seen.text[1], "b");
	assert_int_equal(r->turns, 7);
	/* question 1 in the first turn, alone */
	assert_non_null(strstr(a->msgs[1].text, "Find the flag."));
	assert_non_null(strstr(a->msgs[1].text, "Question 1 of 2:\nWhich cipher?"));
	assert_null(strstr(a->msgs[1].text, "Which key?"));
	assert_non_null(strstr(result_of(a, 1), "error: question 1 of 2 is open"));
	assert_non_null(strstr(result_of(a, 2), "the limit is 4096"));
	assert_non_null(strstr(result_of(a, 3), "question 1 recorded"));
	assert_non_null(strstr(result_of(a, 4), "error: question 1 was answered; "
			       "question 2 is asked after this turn"));
	assert_non_null(strstr(result_of(a, 5), "error: the flag is asked for "
			       "after the last question"));
	assert_non_null(strstr(result_of(a, 6), "needs a string argument"));
	assert_non_null(strstr(result_of(a, 8), "error: every question is "
			       "answered"));
	assert_non_null(strstr(result_of(a, 9), "'answers' list is ignored"));
	/* question 2 is asked after every result of the reply that answered 1 */
	assert_true(msg_with(a, "Question 2 of 2:\nWhich key?") >
		    msg_with(a, "error: the flag is asked for"));
	assert_true(msg_with(a, "All 2 questions are answered") >
		    msg_with(a, "question 2 recorded"));
	assert_int_equal(a->msgs[msg_with(a, "Question 2 of 2")].role, MODEL_USER);
	done_seq(a, m, ctx);
	free(turns);
}

/* Questions together: the answer tool is unknown, and a long flag or
 * answer is kept whole for scoring, never cut to a prefix. */
static void test_together(void **state)
{
	char pad[5001];
	char *turns;
	struct answers_seen seen = { 0 };
	struct model *m;
	struct model_ctx *ctx;
	struct agent *a;
	const struct agent_result *r;

	(void)state;
	memset(pad, ' ', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	turns = xasprintf(TURN(CALL("answer", "{\"answer\":\"a\"}")) ","
			  TURN(CALL("submit", "{\"flag\":\"F%sx\",\"answers\":"
				    "[\"a%sjunk\"]}")), pad, pad);
	a = run_n(AGENT_REACT, 0, turns, &seen, &m, &ctx);
	r = agent_result(a);
	assert_int_equal(r->end, AGENT_END_SUBMITTED);
	assert_non_null(strstr(result_of(a, 1), "error: unknown tool 'answer'; "
			       "the tools are bash, python and submit"));
	assert_int_equal(strlen(r->flag), 5002);
	assert_int_equal(strlen(r->answers[0]), 5005);
	assert_int_equal(seen.n, 0);
	done_seq(a, m, ctx);
	free(turns);
}


#define TEXT(s) "{\"text\":\"" s "\"}"

/* The structured scaffold: "Answer K:" for the open question, the flag
 * only once asked for; a reply answering another question is refused. */
static void test_sequential_structured(void **state)
{
	struct answers_seen seen = { 0 };
	struct model *m;
	struct model_ctx *ctx;
	struct agent *a;
	const struct agent_result *r;

	(void)state;
	a = run_seq(AGENT_STRUCTURED,
		    TEXT("Answer 2: two") ","
		    TEXT("Answer: one") ","
		    TEXT("Answer 2: two\\nFlag: F") ","
		    TEXT("Answer 1: changed\\nFlag: F"), &seen, &m, &ctx);
	r = agent_result(a);
	assert_int_equal(r->end, AGENT_END_SUBMITTED);
	assert_string_equal(r->flag, "F");
	assert_int_equal(r->n_answers, 2);
	assert_string_equal(r->answers[0], "one");
	assert_string_equal(r->answers[1], "two");
	assert_int_equal(seen.n, 2);
	assert_non_null(strstr(a->msgs[1].text, "\"Answer N: <answer>\""));
	assert_string_equal(a->msgs[0].text, agent_structured_system_seq);
	assert_non_null(strstr(result_of(a, 1), "question 1 of 2 is open"));
	assert_string_equal(result_of(a, 2), "Observation:\nanswer to question 1 "
			    "recorded; question 2 follows");
	assert_non_null(strstr(result_of(a, 4), "'answers' list is ignored"));
	done_seq(a, m, ctx);
	memset(&seen, 0, sizeof(seen));
	a = run_seq(AGENT_STRUCTURED,
		    TEXT("Answer 2: two") "," TEXT("Flag: F"), &seen, &m, &ctx);
	r = agent_result(a);
	/* nothing accepted: the replay runs out, the model's failure */
	assert_int_equal(r->end, AGENT_END_MODEL_ERROR);
	assert_int_equal(r->n_answers, 0);
	assert_null(r->flag);
	assert_non_null(strstr(result_of(a, 1), "question 1 of 2 is open: answer "
			       "it first with a line \"Answer 1: <answer>\""));
	assert_non_null(strstr(result_of(a, 2), "question 1 of 2 is open"));
	done_seq(a, m, ctx);
}

static void test_scaffold_names(void **state)
{
	enum agent_scaffold s;

	(void)state;
	assert_true(agent_scaffold_parse("react", &s));
	assert_int_equal(s, AGENT_REACT);
	assert_true(agent_scaffold_parse("structured", &s));
	assert_int_equal(s, AGENT_STRUCTURED);
	assert_false(agent_scaffold_parse("Structured", &s));
	assert_false(agent_scaffold_parse("", &s));
	assert_false(agent_scaffold_parse(NULL, &s));
	assert_string_equal(agent_scaffold_name(AGENT_STRUCTURED), "structured");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_submit),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_scaffold_names),
		cmocka_unit_test(test_open_question),
		cmocka_unit_test(test_sequential_react),
		cmocka_unit_test(test_sequential_structured),
		cmocka_unit_test(test_together),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
