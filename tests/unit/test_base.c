/*
 * test_base.c - buffers with caps, file reading (also /proc), UTF-8
 * repair, constant-time comparison, trimming, the YAML tree's limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/num.h"
#include "base/safetext.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/ytree.h"

static void test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), ERR_OK);
	assert_int_equal(buf_addch(&b, '9'), ERR_LIMIT);
	assert_int_equal(b.len, 8);                 /* unchanged on failure */
	assert_string_equal(b.data, "12345678");
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), ERR_OK);
	assert_string_equal(b.data, "42-x");
	assert_int_equal(buf_printf(&b, "%s", "toolong"), ERR_LIMIT);
	buf_release(&b);
}

/* A released or detached buffer is empty and reusable (git's
 * strbuf_release): appending after release grows it again, never loops. */
static void test_buf_reuse(void **state)
{
	struct buf b;
	char *p;
	size_t n;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(buf_adds(&b, "first"), ERR_OK);
	buf_release(&b);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	buf_release(&b);                         /* twice is harmless */
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s-%d", "again", 2), ERR_OK);
	assert_string_equal(b.data, "again-2");
	assert_int_equal(buf_add(&b, "x", 2000), ERR_LIMIT); /* same cap */
	p = buf_detach(&b, &n);
	assert_string_equal(p, "again-2");
	assert_int_equal(n, 7);
	free(p);
	p = buf_detach(&b, &n);                  /* detach of an empty one */
	assert_string_equal(p, "");
	free(p);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_addch(&b, 'y'), ERR_OK);
	assert_int_equal(b.len, 100);
	buf_truncate(&b, 3);
	assert_string_equal(b.data, "yyy");
	buf_release(&b);
}

/* A broken contract is a BUG naming file, line and the condition in
 * debug builds (the ASan build); release builds compile it out. */
static void test_debugassert(void **state)
{
	int fds[2], status;
	char out[512] = "";
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct buf b;

		dup2(fds[1], 2);
		buf_init(&b, 16);
		buf_truncate(&b, 5);            /* past the end: a BUG */
		_exit(7);
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
	assert_non_null(strstr(out, "buf.c:"));
	assert_non_null(strstr(out, "assertion failed: "));
	assert_non_null(strstr(out, "len <= b->len"));
#endif
}

/* One executable-path lookup, one data-file lookup: $ASSAY_SOURCE_DIR
 * first, then beside the binary (the test runs from build/, inside the
 * tree), never a missing file. */
static void test_data_file(void **state)
{
	char dir[] = "/tmp/assay-datafile-XXXXXX", *p, *exe, *want;
	const char *old = getenv("ASSAY_SOURCE_DIR");
	char *saved = old ? xstrdup(old) : NULL;
	struct errmsg e;

	(void)state;
	exe = path_exe_dir();
	assert_non_null(exe);
	assert_true(is_dir(exe));
	assert_non_null(mkdtemp(dir));
	p = xasprintf("%s/policies", dir);
	assert_int_equal(mkdir_p(p, 0700, &e), ERR_OK);
	free(p);
	p = xasprintf("%s/policies/only-here.yaml", dir);
	assert_int_equal(file_write_atomic(p, "x", 1, 0600, &e), ERR_OK);
	setenv("ASSAY_SOURCE_DIR", dir, 1);
	want = p;
	p = path_data_file("policies/only-here.yaml");
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);
	assert_null(path_data_file("policies/nowhere.yaml"));
	/* without the variable: beside the binary (build/../policies) */
	unsetenv("ASSAY_SOURCE_DIR");
	assert_null(path_data_file("policies/only-here.yaml"));
	p = path_data_file("policies/default.yaml");
	assert_non_null(p);
	assert_true(path_exists(p));
	free(p);
	if (saved)
		setenv("ASSAY_SOURCE_DIR", saved, 1);
	free(saved);
	free(want);
	free(exe);
	assert_int_equal(rm_rf(dir, &e), ERR_OK);
}

static void test_file_read(void **state)
{
	char *data;
	size_t len;
	struct errmsg e;

	(void)state;
	/* /proc files report size 0 and still have content */
	assert_int_equal(file_read("/proc/self/status", 1 << 20, &data, &len, &e),
			 ERR_OK);
	assert_true(len > 0);
	assert_non_null(strstr(data, "Pid:"));
	free(data);
	assert_int_equal(file_read("/proc/self/status", 10, &data, &len, &e),
			 ERR_LIMIT);
	assert_int_equal(file_read("/nonexistent/x", 10, &data, &len, &e),
			 ERR_NOTFOUND);
	assert_non_null(strstr(e.text, "/nonexistent/x"));
	assert_int_equal(file_read("/tmp", 10, &data, &len, &e), ERR_INVAL);
}

static void test_utf8(void **state)
{
	size_t n;
	char *s;

	(void)state;
	s = utf8_sanitize("ok \xc3\xa9", 5, &n);
	assert_string_equal(s, "ok \xc3\xa9");
	free(s);
	s = utf8_sanitize("a\xff" "b\0c", 5, &n);    /* bad byte and NUL */
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
	free(s);
	s = utf8_sanitize("\xed\xa0\x80", 3, &n);     /* surrogate */
	assert_int_equal(n, 9);
	free(s);
}

static void test_ct_trim(void **state)
{
	size_t n;
	const char *p;

	(void)state;
	assert_true(ct_equal("abc", 3, "abc", 3));
	assert_false(ct_equal("abc", 3, "abd", 3));
	assert_false(ct_equal("abc", 3, "ab", 2));
	p = trim_span("  x y\n", 6, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "x y", 3);
	p = trim_span(" \t\n", 3, &n);
	assert_int_equal(n, 0);
}

static void test_ytree(void **state)
{
	struct ynode *root = NULL;
	struct errmsg e;
	char *deep;
	struct buf b;

	(void)state;
	assert_int_equal(ytree_parse("t.yaml", "a: 1\nb: [x, y]\n", 15, &root, &e),
			 ERR_OK);
	assert_string_equal(ymap_get(root, "a")->str, "1");
	assert_int_equal(ymap_get(root, "b")->n, 2);
	assert_int_equal(ymap_get(root, "b")->line, 2);
	ytree_free(root);
	assert_int_equal(ytree_parse("t.yaml", "a: 1\na: 2\n", 10, &root, &e),
			 ERR_PARSE);
	assert_string_equal(e.text, "t.yaml:2: duplicate key 'a'");
	assert_int_equal(ytree_parse("t.yaml", "a: 1\n---\nb: 2\n", 14, &root, &e),
			 ERR_PARSE);
	assert_non_null(strstr(e.text, "more than one YAML document"));
	/* nesting past the cap is refused, not recursed into */
	buf_init(&b, 1 << 20);
	for (int i = 0; i < YTREE_MAX_DEPTH + 5; i++)
		assert_int_equal(buf_addch(&b, '['), ERR_OK);
	deep = buf_detach(&b, NULL);
	assert_int_equal(ytree_parse("d.yaml", deep, strlen(deep), &root, &e),
			 ERR_LIMIT);
	assert_non_null(strstr(e.text, "nesting deeper than"));
	free(deep);
}

/* The strict number parser: all of the string, in range, nothing else. */
static void test_num(void **state)
{
	struct errmsg e;
	long long v = 7;
	unsigned long long u;
	double d;
	int i;

	(void)state;
	assert_int_equal(num_parse_ll("42", 0, 100, &v, &e), ERR_OK);
	assert_int_equal(v, 42);
	assert_int_equal(num_parse_ll("-5", -10, 10, &v, &e), ERR_OK);
	assert_int_equal(v, -5);
	v = 7;
	assert_int_equal(num_parse_ll("", 0, 100, &v, &e), ERR_INVAL);
	assert_int_equal(num_parse_ll("12x", 0, 100, &v, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "'12x'"));
	assert_int_equal(num_parse_ll(" 1", 0, 100, &v, &e), ERR_INVAL);
	assert_int_equal(num_parse_ll("1 ", 0, 100, &v, &e), ERR_INVAL);
	assert_int_equal(num_parse_ll("+1", 0, 100, &v, &e), ERR_INVAL);
	assert_int_equal(num_parse_ll("0x10", 0, 100, &v, &e), ERR_INVAL);
	assert_int_equal(num_parse_ll("101", 0, 100, &v, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "0 to 100"));
	assert_int_equal(num_parse_ll("-1", 0, 100, &v, &e), ERR_INVAL);
	assert_int_equal(num_parse_ll("99999999999999999999", 0, LLONG_MAX, &v,
				      &e), ERR_INVAL);
	assert_int_equal(v, 7);                     /* untouched on failure */
	assert_int_equal(num_parse_ull("18446744073709551615", ULLONG_MAX, &u,
				       &e), ERR_OK);
	assert_true(u == ULLONG_MAX);
	assert_int_equal(num_parse_ull("-1", ULLONG_MAX, &u, &e), ERR_INVAL);
	assert_int_equal(num_parse_ull("18446744073709551616", ULLONG_MAX, &u,
				       &e), ERR_INVAL);
	assert_int_equal(num_parse_double("0.5", 0, 2, &d, &e), ERR_OK);
	assert_true(d == 0.5);
	assert_int_equal(num_parse_double("1e-3", 0, 2, &d, &e), ERR_OK);
	assert_int_equal(num_parse_double(".5", 0, 2, &d, &e), ERR_OK);
	assert_int_equal(num_parse_double("inf", 0, 1e300, &d, &e), ERR_INVAL);
	assert_int_equal(num_parse_double("nan", 0, 2, &d, &e), ERR_INVAL);
	assert_int_equal(num_parse_double("0x1p1", 0, 2, &d, &e), ERR_INVAL);
	assert_int_equal(num_parse_double("1e999", 0, 1e300, &d, &e), ERR_INVAL);
	assert_int_equal(num_parse_double("3", 0, 2, &d, &e), ERR_INVAL);
	assert_int_equal(num_parse_double("1.", 0, 2, &d, &e), ERR_OK);
	assert_int_equal(num_parse_double("e5", 0, 2, &d, &e), ERR_INVAL);
	assert_int_equal(num_parse_double("1e", 0, 2, &d, &e), ERR_INVAL);
	assert_true(num_double("-1.5", -2, 0, &d));
	assert_true(d == -1.5);
	assert_false(num_double(" 1", 0, 2, &d));
	assert_false(num_double("0x1", 0, 2, &d));
	/* fields of a line */
	{
		const char *end = NULL, *line = "123 -4\n";
		assert_true(num_field_ll(line, " \n", 0, 1000, &v, &end));
		assert_int_equal(v, 123);
		assert_true(*end == ' ');
		assert_true(num_field_ll(end + 1, " \n", -10, 10, &v, &end));
		assert_int_equal(v, -4);
		assert_true(*end == '\n');
		assert_true(num_field_ull("77", " ", 100, &u, NULL));
		assert_int_equal(u, 77);
		assert_false(num_field_ll("12x 3", " ", 0, 100, &v, NULL));
		assert_false(num_field_ll(" 3", " ", 0, 100, &v, NULL));
		assert_false(num_field_ll("", " ", 0, 100, &v, NULL));
		assert_false(num_field_ll("101\n", "\n", 0, 100, &v, NULL));
		assert_false(num_field_ull("-1\n", "\n", 100, &u, NULL));
		assert_false(num_field_ull("18446744073709551616", "\n",
					   ULLONG_MAX, &u, NULL));
		assert_false(num_field_ll("00000000000000000000000000000000000000001",
					  " ", 0, 100, &v, NULL));
	}
	assert_true(num_int("2147483647", 0, INT_MAX, &i));
	assert_false(num_int("2147483648", 0, INT_MAX, &i));
}
/* ---- safe_text: hostile bytes for a terminal ---------------------------- */

static void want_safe(const char *in, size_t n, unsigned flags, const char *want)
{
	size_t len;
	char *got = safe_text(in, n, flags, &len);

	if (strcmp(got, want) != 0 || len != strlen(want))
		fail_msg("safe_text: got '%s' (%zu), want '%s'", got, len, want);
	assert_true(safe_text_is_clean(got, len, flags));
	free(got);
}

/* Nothing a terminal acts on survives: no byte < 0x20 but the kept ones,
 * no DEL, no C1, no bidi control, valid UTF-8 throughout. */
static void assert_inert(const char *s, size_t n, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++) {
		if (u[i] == '\n' && (flags & SAFE_KEEP_NEWLINE))
			continue;
		if (u[i] == '\t' && (flags & SAFE_KEEP_TAB))
			continue;
		assert_true(u[i] >= 0x20 && u[i] != 0x7f);
		if (u[i] == 0xc2)
			assert_false(u[i + 1] >= 0x80 && u[i + 1] <= 0x9f);
		if (u[i] == 0xe2 && u[i + 1] == 0x80)
			assert_false(u[i + 2] == 0x8e || u[i + 2] == 0x8f ||
				     (u[i + 2] >= 0xa8 && u[i + 2] <= 0xae));
		if (u[i] == 0xe2 && u[i + 1] == 0x81)
			assert_false(u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9);
	}
	assert_true(safe_text_is_clean(s, n, flags));
}

static void test_safe_text(void **state)
{
	static const char hostile[] =
		"\x1b[2J\x1b[H"                       /* CSI: clear, home */
		"\x1b]52;c;cGF5bG9hZA==\x07"          /* OSC 52: clipboard */
		"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\" /* OSC 8 link, ST */
		"\x1bP1$r\x1b\\"                      /* DCS */
		"\xc2\x9b" "31m"                      /* C1 CSI */
		"\xc2\x9d" "0;title\xc2\x9c"          /* C1 OSC ... ST */
		"\x9b" "6n"                           /* raw 8-bit CSI */
		"\xe2\x80\xae" "evil\xe2\x80\xac"     /* RLO ... PDF */
		"\xe2\x81\xa6" "iso\xe2\x81\xa9"      /* LRI ... PDI */
		"\xd8\x9c\xe2\x80\x8f"                /* ALM, RLM */
		"\r\b\x7f\x05"
		"a\0b";                               /* NUL inside */
	size_t n = sizeof(hostile) - 1, len;
	char *out;

	(void)state;
	want_safe("plain text, caf\xc3\xa9 \xe2\x9c\x93 C:\\dir", 28, 0,
		  "plain text, caf\xc3\xa9 \xe2\x9c\x93 C:\\dir");
	want_safe("\x1b[31mred", 8, 0, "\\u001b[31mred");
	want_safe("a\nb\tc", 5, 0, "a\\u000ab\\u0009c");
	want_safe("a\nb\tc", 5, SAFE_MULTILINE, "a\nb\tc");
	want_safe("a\nb", 3, SAFE_KEEP_TAB, "a\\u000ab");
	want_safe("x\xc2\x9by", 4, 0, "x\\u009by");
	want_safe("\xe2\x80\xae" "abc", 6, 0, "\\u202eabc");
	want_safe("\xe2\x81\xa6\xe2\x81\xa9", 6, 0, "\\u2066\\u2069");
	want_safe("\xe2\x80\xa8", 3, 0, "\\u2028");
	want_safe("\xd8\x9c", 2, 0, "\\u061c");
	want_safe("a\0b", 3, 0, "a\\u0000b");
	want_safe("\xff\xfe", 2, 0, "\\xff\\xfe");
	want_safe("\xe2\x80", 2, 0, "\\xe2\\x80");      /* truncated */
	want_safe("\xc0\xaf", 2, 0, "\\xc0\\xaf");      /* overlong '/' */
	want_safe("\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80"); /* surrogate */
	want_safe(NULL, 0, 0, "");
	out = safe_text(hostile, n, SAFE_MULTILINE, &len);
	assert_inert(out, len, SAFE_MULTILINE);
	assert_non_null(strstr(out, "a\\u0000b"));      /* nothing cut at NUL */
	assert_non_null(strstr(out, "\\u001b]52;c;"));
	assert_false(safe_text_is_clean(hostile, n, SAFE_MULTILINE));
	free(out);
	/* every single byte and every 2-byte pair comes out inert */
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b++) {
			char in[2] = { (char)a, (char)b };
			out = safe_text(in, 2, 0, &len);
			assert_inert(out, len, 0);
			free(out);
		}
	}
	out = safe_str(NULL, 0);
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_reuse),
		cmocka_unit_test(test_debugassert),
		cmocka_unit_test(test_data_file),
		cmocka_unit_test(test_num),
		cmocka_unit_test(test_file_read),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_safe_text),
		cmocka_unit_test(test_ct_trim),
		cmocka_unit_test(test_ytree),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
