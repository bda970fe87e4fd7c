/*
 * test_agent.c - the structured scaffold's reply parser and the scaffold
 * names. (The loops themselves run against real boxes and the mock model
 * in tests/integration.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

/* The action of `text`: "bash:<cmd>", "submit:<flag>|<a1>|<a2>..." or
 * "none". Caller frees. */
static char *act(const char *text)
{
	struct model_tool_call c;
	json_t *j, *v;
	char *out;

	if (!agent_structured_action(text, 7, 0, &c))
		return strdup("none");
	assert_string_equal(c.id, "step-7");
	j = json_loads(c.arguments, 0, NULL);
	assert_non_null(j);
	if (!strcmp(c.name, "bash")) {
		v = json_object_get(j, "cmd");
		assert_true(json_is_string(v));
		assert_int_not_equal(asprintf(&out, "bash:%s", json_string_value(v)), -1);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
