/*
 * test_score.c - flags, answers and the episode score.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "score/score.h"

static void test_make_flag(void **state)
{
	char *a, *b;
	struct errmsg e;

	(void)state;
	assert_int_equal(score_make_flag("flag{%s}", &a, &e), ERR_OK);
	assert_int_equal(score_make_flag("flag{%s}", &b, &e), ERR_OK);
	assert_int_equal(strlen(a), strlen("flag{}") + FLAG_RANDOM_HEX);
	assert_memory_equal(a, "flag{", 5);
	assert_int_equal(a[strlen(a) - 1], '}');
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(score_make_flag("noformat", &a, &e), ERR_INVAL);
}

static void test_flag_match(void **state)
{
	(void)state;
	assert_true(score_flag_match("flag{x}", "flag{x}"));
	assert_true(score_flag_match("flag{x}", "  flag{x}\n"));
	assert_true(score_flag_match(" flag{x} ", "flag{x}"));
	assert_false(score_flag_match("flag{x}", "flag{X}"));
	assert_false(score_flag_match("flag{x}", "flag{x}y"));
	assert_false(score_flag_match("flag{x}", ""));
	assert_false(score_flag_match("flag{x}", NULL));
	assert_false(score_flag_match("", ""));       /* empty never matches */
	assert_false(score_flag_match("   ", " "));
}

static void test_answers(void **state)
{
	struct task_answer plain = { .answer = (char *)"users" };
	/* sha256("password") */
	struct task_answer hashed = { .answer_sha256 = (char *)
		"5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" };

	(void)state;
	assert_true(score_answer_match(&plain, "users"));
	assert_true(score_answer_match(&plain, " users\n"));
	assert_false(score_answer_match(&plain, "Users"));
	assert_true(score_answer_match(&hashed, "password"));
	assert_true(score_answer_match(&hashed, "password \n"));
	assert_false(score_answer_match(&hashed, "passwor"));
	assert_false(score_answer_match(&hashed, NULL));
}

static void test_episode(void **state)
{
	struct task_answer ans[2] = { { .answer = (char *)"a" },
				      { .answer = (char *)"b" } };
	struct task t = { .flag_kind = FLAG_DYNAMIC, .answers = ans, .n_answers = 2 };
	char *given[] = { (char *)"a", (char *)"wrong", NULL };
	struct score_input in = { .task = &t, .flag = "flag{1}",
				  .submitted = "flag{1}", .answers = given,
				  .n_answers = 2 };
	struct score_result r;
	char *run[] = { (char *)"true", NULL };

	(void)state;
	score_episode(&in, &r);
	assert_int_equal(r.score, 1);
	assert_true(r.flag_ok);
	assert_int_equal(r.answers_ok, 1);
	assert_int_equal(r.answers_total, 2);
	in.submitted = NULL;
	score_episode(&in, &r);
	assert_int_equal(r.score, 0);
	/* flag and check: both must hold */
	t.check_run = run;
	in.submitted = "flag{1}";
	in.check_passed = false;
	score_episode(&in, &r);
	assert_int_equal(r.score, 0);
	assert_true(r.flag_ok);
	in.check_passed = true;
	score_episode(&in, &r);
	assert_int_equal(r.score, 1);
	/* check only: the flag does not matter */
	t.flag_kind = FLAG_NONE;
	in.submitted = "";
	score_episode(&in, &r);
	assert_int_equal(r.score, 1);
	assert_false(r.has_flag);
	in.check_passed = false;
	score_episode(&in, &r);
	assert_int_equal(r.score, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_flag),
		cmocka_unit_test(test_flag_match),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_episode),
	};
	return cmocka_run_group_tests_name("score", tests, NULL, NULL);
}
