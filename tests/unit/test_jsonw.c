/*
 * test_jsonw.c - the JSON writer: every string field round-trips through
 * jansson's parser for hostile inputs (quotes, backslashes, every control
 * character, DEL, invalid UTF-8, NUL, 1 MB values); caps are errors, never
 * cuts; misuse is a BUG in debug builds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "base/util.h"
#include "base/xalloc.h"

/* Write {"k": s} and parse it back with jansson: the value must be s. */
static void roundtrip(const char *s, size_t n, unsigned flags,
		      const char *want, size_t want_len)
{
	struct buf b;
	struct jsonw w;
	struct errmsg e;
	json_error_t je;
	json_t *j, *v;

	buf_init(&b, 8 * n + 64);
	jsonw_init(&w, &b, flags);
	jsonw_obj(&w);
	jsonw_key(&w, "k");
	jsonw_strn(&w, s, n);
	jsonw_obj_end(&w);
	assert_int_equal(jsonw_finish(&w, &e), ERR_OK);
	assert_int_equal(strlen(b.data), b.len);       /* no raw NUL */
	for (size_t i = 0; i < b.len; i++)              /* no raw control */
		assert_true((unsigned char)b.data[i] >= 0x20);
	j = json_loadb(b.data, b.len, 0, &je);
	assert_non_null(j);
	v = json_object_get(j, "k");
	assert_true(json_is_string(v));
	assert_int_equal(json_string_length(v), want_len);
	assert_memory_equal(json_string_value(v), want, want_len);
	json_decref(j);
	buf_release(&b);
}

static void test_hostile_strings(void **state)
{
	static const char *cases[] = {
		"", "plain", "\"", "\\", "\"}\n{\"kind\":\"forged\"",
		"a\\\"b\\\\\"c", "tab\there", "line\nbreak\r\n", "\b\f\x01\x1f",
		"\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "/etc/\"x\n",
		"\\u0000", "</script>",
	};
	char ctl[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		roundtrip(cases[i], strlen(cases[i]), 0, cases[i],
			  strlen(cases[i]));
	for (int c = 1; c < 32; c++)
		ctl[c - 1] = (char)c;
	roundtrip(ctl, 31, 0, ctl, 31);
}

static void test_invalid_utf8(void **state)
{
	static const char *bad[] = {
		"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82", "ok\x80ok",
	};
	struct buf b;
	struct jsonw w;
	struct errmsg e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t n = strlen(bad[i]), sl;
		char *s = utf8_sanitize(bad[i], n, &sl);

		/* strict: refused, and nothing of it stays in the buffer */
		buf_init(&b, 1024);
		assert_int_equal(buf_adds(&b, "prefix"), ERR_OK);
		jsonw_init(&w, &b, 0);
		jsonw_arr(&w);
		jsonw_str(&w, bad[i]);
		jsonw_arr_end(&w);
		assert_int_equal(jsonw_finish(&w, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, "UTF-8"));
		assert_string_equal(b.data, "prefix");
		buf_release(&b);
		/* lossy: U+FFFD, as utf8_sanitize repairs it */
		roundtrip(bad[i], n, JSONW_LOSSY, s, sl);
		free(s);
	}
	/* a NUL inside a counted string */
	buf_init(&b, 1024);
	jsonw_init(&w, &b, 0);
	jsonw_strn(&w, "a\0b", 3);
	assert_int_equal(jsonw_finish(&w, &e), ERR_INVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	roundtrip("a\0b", 3, JSONW_LOSSY, "a\xef\xbf\xbd" "b", 5);
}

static void test_megabyte(void **state)
{
	size_t n = 1 << 20;
	char *s = xmalloc(n);
	static const char pat[] = "\"\\\n\x01\x7f" "abc\xc3\xa9";

	(void)state;
	for (size_t i = 0; i < n; i++)
		s[i] = pat[i % (sizeof(pat) - 1)];
	n -= n % (sizeof(pat) - 1);     /* end on a whole character */
	roundtrip(s, n, 0, s, n);
	free(s);
}

static void test_cap_is_an_error(void **state)
{
	struct buf b;
	struct jsonw w;
	struct errmsg e;
	char big[300];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 256);
	assert_int_equal(buf_adds(&b, "keep"), ERR_OK);
	jsonw_init(&w, &b, 0);
	jsonw_obj(&w);
	jsonw_kstr(&w, "path", big);
	jsonw_kint(&w, "n", 1);         /* ignored after the error */
	jsonw_obj_end(&w);
	assert_int_equal(jsonw_finish(&w, &e), ERR_LIMIT);
	assert_string_equal(b.data, "keep");
	/* the escaping of one control char also counts against the cap */
	buf_reset(&b);
	assert_int_equal(jsonw_quote(&b, "\x01\x01\x01", 3, 0), ERR_OK);
	assert_string_equal(b.data, "\"\\u0001\\u0001\\u0001\"");
	buf_release(&b);
	buf_init(&b, 5);
	assert_int_equal(jsonw_quote(&b, "\x01", 1, 0), ERR_LIMIT);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_values_and_shape(void **state)
{
	struct buf b;
	struct jsonw w;
	struct errmsg e;
	json_t *j;

	(void)state;
	buf_init(&b, 4096);
	jsonw_init(&w, &b, 0);
	jsonw_obj(&w);
	jsonw_kint(&w, "min", INT64_MIN);
	jsonw_kuint(&w, "umax", UINT64_MAX);
	jsonw_kdouble(&w, "d", 0.1);
	jsonw_kbool(&w, "t", true);
	jsonw_kstr(&w, "null", NULL);
	jsonw_key(&w, "a");
	jsonw_arr(&w);
	jsonw_int(&w, 1);
	jsonw_arr(&w);
	jsonw_arr_end(&w);
	jsonw_obj(&w);
	jsonw_obj_end(&w);
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	assert_int_equal(jsonw_finish(&w, &e), ERR_OK);
	assert_string_equal(b.data, "{\"min\":-9223372036854775808,\"umax\":"
			    "18446744073709551615,\"d\":0.10000000000000001,"
			    "\"t\":true,\"null\":null,\"a\":[1,[],{}]}");
	/* jansson's integers are signed 64-bit: parse the rest without umax */
	buf_reset(&b);
	jsonw_init(&w, &b, 0);
	jsonw_arr(&w);
	jsonw_int(&w, INT64_MIN);
	jsonw_double(&w, 0.1);
	jsonw_double(&w, -2.5e-300);
	jsonw_arr_end(&w);
	assert_int_equal(jsonw_finish(&w, &e), ERR_OK);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_true(json_integer_value(json_array_get(j, 0)) == INT64_MIN);
	assert_true(json_real_value(json_array_get(j, 1)) == 0.1);
	assert_true(json_real_value(json_array_get(j, 2)) == -2.5e-300);
	json_decref(j);

	buf_reset(&b);
	jsonw_init(&w, &b, 0);
	jsonw_double(&w, 1.0 / 0.0);
	assert_int_equal(jsonw_finish(&w, &e), ERR_INVAL);

	jsonw_init(&w, &b, 0);
	jsonw_obj(&w);
	assert_int_equal(jsonw_finish(&w, &e), ERR_INVAL);   /* unclosed */
	assert_int_equal(b.len, 0);
	jsonw_init(&w, &b, 0);
	assert_int_equal(jsonw_finish(&w, &e), ERR_INVAL);   /* empty */

	jsonw_init(&w, &b, 0);
	for (int i = 0; i < JSONW_MAX_DEPTH + 1; i++)
		jsonw_arr(&w);
	assert_int_equal(jsonw_finish(&w, &e), ERR_LIMIT);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* A value with no key in an object: a BUG (abort naming file and line)
 * in debug builds, ERR_INVAL in release builds. */
static void test_misuse(void **state)
{
	struct buf b;
	struct jsonw w;
	struct errmsg e;
	int fds[2], status;
	char out[512] = "";
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		buf_init(&b, 64);
		jsonw_init(&w, &b, 0);
		jsonw_obj(&w);
		jsonw_int(&w, 1);
		_exit(jsonw_finish(&w, &e) == ERR_INVAL ? 7 : 8);
	}
	close(fds[1]);
	assert_true(read(fds[0], out, sizeof(out) - 1) >= 0);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef NDEBUG
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
#else
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	assert_non_null(strstr(out, "assay: BUG: "));
	assert_non_null(strstr(out, "jsonw.c:"));
	assert_non_null(strstr(out, "without a key"));
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_megabyte),
		cmocka_unit_test(test_cap_is_an_error),
		cmocka_unit_test(test_values_and_shape),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
