/*
 * test_cli_transcript.c - the transcript renderer (src/cli/transcript.c):
 * events to turns, the submission, the score's reason, and text that
 * carries no terminal control from hostile events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/transcript.h"

static struct store_episode episode(const char *outcome, int score)
{
	struct store_episode ep = { .id = 7, .run_id = 2, .epoch = 1,
				    .attempt = 1, .score = score,
				    .has_flag = true, .flag_ok = score };

	ep.task_id = (char *)"files-only";
	ep.status = (char *)"done";
	ep.outcome = (char *)outcome;
	return ep;
}

static void test_reason(void **state)
{
	struct store_episode ep = episode("submitted-wrong", 0);
	char *r;

	(void)state;
	r = cli_transcript_reason(&ep, "flag{\"no\"}");
	assert_string_equal(r, "not solved: wrong flag: submitted \"flag{\\\"no\\\"}\"");
	free(r);
	ep.answers_total = 2;
	ep.answers_ok = 1;
	ep.has_check = true;
	r = cli_transcript_reason(&ep, NULL);
	assert_string_equal(r, "not solved: no flag submitted; the hidden check "
			    "failed; answers 1/2 right");
	free(r);
	ep.has_flag = ep.has_check = false;     /* answers only */
	r = cli_transcript_reason(&ep, NULL);
	assert_string_equal(r, "not solved: answers 1/2 right");
	free(r);
	ep = episode("solved", 1);
	r = cli_transcript_reason(&ep, "flag{x}");
	assert_string_equal(r, "solved: the flag matched");
	free(r);
	ep.has_flag = false;
	ep.has_check = true;
	ep.check_ok = true;
	r = cli_transcript_reason(&ep, NULL);
	assert_string_equal(r, "solved: the hidden check passed");
	free(r);
	ep = episode("limit-turns", 0);
	r = cli_transcript_reason(&ep, NULL);
	assert_string_equal(r, "not solved: the turn limit ended the attempt "
			    "before a submission");
	free(r);
	ep = episode("infra-error", 0);
	ep.error = (char *)"service 'web' exited";
	r = cli_transcript_reason(&ep, NULL);
	assert_string_equal(r, "not scored: infrastructure failure (infra-error), "
			    "attempted again: service 'web' exited");
	free(r);
	ep.error = NULL;           /* no ": " before nothing */
	r = cli_transcript_reason(&ep, NULL);
	assert_string_equal(r, "not scored: infrastructure failure (infra-error), "
			    "attempted again");
	free(r);
}

static void test_build(void **state)
{
	struct store_episode ep = episode("submitted-wrong", 0);
	struct store_event evs[] = {
		{ 0, (char *)"prompt", 0, (char *)"{\"scaffold\":\"react\","
		  "\"system\":\"SYS\",\"task\":\"TASK\",\"tools\":[]}" },
		{ 1, (char *)"model", 0, (char *)"{\"text\":\"hm\",\"fail\":\"none\","
		  "\"prompt_tokens\":10,\"completion_tokens\":2}" },
		{ 2, (char *)"tool", 0, (char *)"{\"name\":\"bash\",\"arguments\":"
		  "\"{\\\"cmd\\\":\\\"ls\\\"}\",\"output\":\"a\",\"wall_us\":2500,"
		  "\"exit\":{\"how\":\"exited\",\"status\":2}}" },
		{ 3, (char *)"model", 0, (char *)"{\"fail\":\"none\"}" },
		{ 4, (char *)"tool", 0, (char *)"{\"name\":\"submit\",\"arguments\":"
		  "\"{\\\"flag\\\":\\\"f\\\"}\",\"output\":\"submitted\"}" },
		{ 5, (char *)"note", 0, (char *)"{\"note\":\"hidden check passed\"}" },
		{ 6, (char *)"weird", 0, (char *)"not json" },
		{ 7, (char *)"service", 0, (char *)"{\"service\":\"web\",\"state\":"
		  "\"running\",\"alive\":true,\"stdout\":\"o\",\"stderr\":\"e\"}" },
	};
	json_t *t = cli_transcript_build(&ep, evs, sizeof(evs) / sizeof(evs[0]));
	json_t *turns = json_object_get(t, "turns"), *c;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(t, "system")), "SYS");
	assert_string_equal(json_string_value(json_object_get(t, "task_prompt")),
			    "TASK");
	assert_int_equal(json_array_size(turns), 2);
	c = json_array_get(json_object_get(json_array_get(turns, 0), "tool_calls"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "input")), "ls");
	assert_int_equal(json_integer_value(json_object_get(c, "duration_ms")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c,
			 "exit"), "status")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(t,
			    "submission"), "flag")), "f");
	assert_int_equal(json_array_size(json_object_get(t, "notes")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(t, "notes"), 1), "text")), "not json");
	assert_int_equal(json_array_size(json_object_get(t, "services")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(t,
		"score"), "reason")), "submitted \"f\""));
	json_decref(t);
}

/* Questions asked one at a time: the question turns and answer results
 * are notes, and the submission's answers are those given one at a time
 * (accepted ones only), not a list sent with the flag. */
static void test_sequential(void **state)
{
	struct store_episode ep = episode("solved", 1);
	struct store_event evs[] = {
		{ 0, (char *)"prompt", 0, (char *)"{\"scaffold\":\"react\","
		  "\"task\":\"T\",\"answers_mode\":\"sequential\",\"questions\":2}" },
		{ 1, (char *)"model", 0, (char *)"{\"fail\":\"none\"}" },
		{ 2, (char *)"tool", 0, (char *)"{\"name\":\"answer\",\"arguments\":"
		  "\"{\\\"answer\\\":\\\"a1\\\"}\",\"output\":\"recorded\"}" },
		{ 3, (char *)"tool", 0, (char *)"{\"name\":\"answer\",\"arguments\":"
		  "\"{\\\"answer\\\":\\\"no\\\"}\",\"output\":\"error: x\","
		  "\"error\":true}" },
		{ 4, (char *)"answer", 0, (char *)"{\"question\":1,\"of\":2,\"ok\":false}" },
		{ 5, (char *)"question", 0, (char *)"{\"ask\":\"question\",\"question\":2,"
		  "\"of\":2,\"text\":\"Question 2 of 2: Q2\"}" },
		{ 6, (char *)"model", 0, (char *)"{\"fail\":\"none\"}" },
		{ 7, (char *)"tool", 0, (char *)"{\"name\":\"submit\",\"arguments\":"
		  "\"{\\\"flag\\\":\\\"f\\\",\\\"answers\\\":[\\\"z\\\",\\\"z\\\"]}\","
		  "\"output\":\"submitted\"}" },
	};
	json_t *t = cli_transcript_build(&ep, evs, sizeof(evs) / sizeof(evs[0]));
	json_t *notes = json_object_get(t, "notes");
	json_t *ans = json_object_get(json_object_get(t, "submission"), "answers");

	(void)state;
	assert_int_equal(json_array_size(notes), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		notes, 0), "text")), "answer to question 1 of 2: wrong");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		notes, 1), "text")), "Question 2 of 2: Q2");
	assert_int_equal(json_array_size(ans), 1);
	assert_string_equal(json_string_value(json_array_get(ans, 0)), "a1");
	json_decref(t);
}

/* Hostile bytes in any field never reach the terminal raw. */
static void test_text_is_safe(void **state)
{
	struct store_episode ep = episode("submitted-wrong", 0);
	struct store_event evs[] = {
		{ 0, (char *)"prompt", 0, (char *)"{\"scaffold\":\"x\\u001b[2J\","
		  "\"system\":\"a\\u009b31m\",\"task\":\"t\\u0007\"}" },
		{ 1, (char *)"model", 0, (char *)"{\"text\":\"\\u001b]52;c;QQ==\\u0007\","
		  "\"fail\":\"mod\\u001bel\",\"stop\":\"\\u001b[H\"}" },
		{ 2, (char *)"tool", 0, (char *)"{\"name\":\"ba\\u001bsh\",\"arguments\":"
		  "\"{\\\"cmd\\\":\\\"\\\\u001b[1m\\\"}\",\"output\":\"\\u001b[31m\","
		  "\"exit\":{\"how\":\"\\u001b[K\"}}" },
		{ 3, (char *)"service", 0, (char *)"{\"service\":\"w\\u001b\",\"state\":"
		  "\"\\u001b\",\"stderr\":\"\\u001b[5m\"}" },
	};
	json_t *t = cli_transcript_build(&ep, evs, sizeof(evs) / sizeof(evs[0]));
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	cli_transcript_write_text(t, f);
	fclose(f);
	assert_null(memchr(out, 0x1b, len));
	assert_null(memchr(out, 0x07, len));
	assert_null(strstr(out, "\xc2\x9b"));
	assert_non_null(strstr(out, "\\u001b[31m"));
	free(out);
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_text_is_safe),
	};
	return cmocka_run_group_tests_name("cli_transcript", tests, NULL, NULL);
}
