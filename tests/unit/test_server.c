/*
 * test_server.c - the server's pure parts: route matching and path ids,
 * the static-file path rule, --listen parsing and the loopback test,
 * TOTP round trips and refusals, JSON field readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/server_int.h"

static int match(const char *method, const char *path, struct req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = path;
	return srv_route_match(r);
}

static void test_routes(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(match("GET", "/orgs/42", &r), 0);
	assert_string_equal(r.route->pattern, "/orgs/{id}");
	assert_int_equal(r.nids, 1);
	assert_int_equal(r.ids[0], 42);
	assert_int_equal(match("POST", "/models/7/partners", &r), 0);
	assert_int_equal(r.ids[0], 7);
	assert_int_equal(match("PUT", "/orgs", &r), 405);
	assert_int_equal(match("GET", "/nothing", &r), 404);
	assert_int_equal(match("GET", "/orgs/0", &r), 404);
	assert_int_equal(match("GET", "/orgs/-1", &r), 404);
	assert_int_equal(match("GET", "/orgs/9007199254740992", &r), 404);
	assert_int_equal(match("GET", "/orgs/1/", &r), 404);
	assert_int_equal(match("GET", "/orgs//1", &r), 404);
	assert_int_equal(match("GET", "orgs", &r), 404);
	assert_int_equal(match("GET", "", &r), 404);
	/* two ids; a {name} of [a-z0-9.-], not starting with '.' or '-' */
	assert_int_equal(match("GET", "/runs/3/episodes/9/events", &r), 0);
	assert_int_equal(r.nids, 2);
	assert_int_equal(r.ids[0], 3);
	assert_int_equal(r.ids[1], 9);
	assert_int_equal(match("GET", "/runs/3/charts/categories.svg", &r), 0);
	assert_string_equal(r.route->pattern, "/runs/{id}/charts/{name}");
	assert_string_equal(r.name, "categories.svg");
	assert_int_equal(match("GET", "/policies/default", &r), 0);
	assert_string_equal(r.name, "default");
	assert_int_equal(match("GET", "/policies/.hidden", &r), 404);
	assert_int_equal(match("GET", "/policies/-x", &r), 404);
	assert_int_equal(match("GET", "/policies/Default", &r), 404);
	assert_int_equal(match("GET", "/policies/a%2fb", &r), 404);
	assert_int_equal(match("GET", "/policies/", &r), 404);
	assert_int_equal(match("GET", "/policies/"
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &r), 404);
	assert_int_equal(match("GET", "/policies/"
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &r), 0);
	/* every route has a handler unless it is planned */
	for (size_t i = 0; i < srv_nroutes; i++)
		assert_true((srv_routes[i].flags & R_PLANNED) || srv_routes[i].fn);
}

static void test_static_paths(void **state)
{
	(void)state;
	assert_true(srv_static_path_ok("index.html"));
	assert_true(srv_static_path_ok("css/app.css"));
	assert_true(srv_static_path_ok("b.."));
	assert_false(srv_static_path_ok(""));
	assert_false(srv_static_path_ok("../etc/passwd"));
	assert_false(srv_static_path_ok("a/../../b"));
	assert_false(srv_static_path_ok(".git/config"));
	assert_false(srv_static_path_ok("a//b"));
	assert_false(srv_static_path_ok("/etc/passwd"));
	assert_false(srv_static_path_ok("dir/"));
	assert_false(srv_static_path_ok("a%2e%2e"));
	assert_false(srv_static_path_ok("a b"));
}

static void test_listen(void **state)
{
	char host[64];
	int port;
	struct errmsg e;

	(void)state;
	assert_int_equal(server_parse_listen("127.0.0.1:8740", host, &port, &e), ERR_OK);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8740);
	assert_int_equal(server_parse_listen("[::1]:0", host, &port, &e), ERR_OK);
	assert_string_equal(host, "::1");
	assert_int_equal(server_parse_listen("localhost:1", host, &port, &e), ERR_OK);
	assert_string_equal(host, "127.0.0.1");
	assert_int_not_equal(server_parse_listen("nonsense", host, &port, &e), ERR_OK);
	assert_int_not_equal(server_parse_listen("1.2.3.4:65536", host, &port, &e), ERR_OK);
	assert_int_not_equal(server_parse_listen(":80", host, &port, &e), ERR_OK);
	assert_int_not_equal(server_parse_listen("[::1:80", host, &port, &e), ERR_OK);
	assert_true(server_is_loopback("127.0.0.1"));
	assert_true(server_is_loopback("127.255.0.9"));
	assert_true(server_is_loopback("::1"));
	assert_false(server_is_loopback("0.0.0.0"));
	assert_false(server_is_loopback("10.0.0.1"));
	assert_false(server_is_loopback("::"));
	assert_false(server_is_loopback("example.org"));
}

static void test_totp(void **state)
{
	char *sec = NULL, code[8];
	struct errmsg e;
	int64_t t = 1700000000, step;

	(void)state;
	assert_int_equal(totp_new_secret(&sec, &e), ERR_OK);
	assert_int_equal(totp_now(sec, t, code, &e), ERR_OK);
	step = totp_check(sec, code, t);
	assert_int_equal(step, t / 30);
	/* one step either side is accepted, two are not */
	assert_int_equal(totp_check(sec, code, t + 30), t / 30);
	assert_int_equal(totp_check(sec, code, t + 90), -1);
	assert_int_equal(totp_check(sec, "12345", t), -1);
	assert_int_equal(totp_check(sec, "12345a", t), -1);
	assert_int_equal(totp_check(sec, NULL, t), -1);
	assert_int_equal(totp_check("not base32!", code, t), -1);
	/* RFC 6238 appendix B, SHA-1, 8 digits truncated to our 6 */
	assert_int_equal(totp_now("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, code, &e), ERR_OK);
	assert_string_equal(code, "287082");
	free(sec);
}

static void test_fields(void **state)
{
	struct reply y = { 0 };
	json_t *o = json_loads("{\"s\":\"abc\",\"n\":5,\"b\":true,\"x\":\"\"}", 0, NULL);
	const char *s;
	int64_t n = 0;
	bool b = false;

	(void)state;
	assert_true(jstr(o, "s", 3, false, &s, &y));
	assert_string_equal(s, "abc");
	assert_false(jstr(o, "s", 2, false, &s, &y));
	assert_int_equal(y.status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(y.body, "error"), "field")), "s");
	reply_free(&y);
	assert_false(jstr(o, "x", 10, false, &s, &y));
	reply_free(&y);
	assert_true(jstr(o, "missing", 10, true, &s, &y));
	assert_null(s);
	assert_true(jint(o, "n", 1, 5, false, &n, &y));
	assert_int_equal(n, 5);
	assert_false(jint(o, "n", 6, 9, false, &n, &y));
	reply_free(&y);
	assert_false(jint(o, "s", 0, 9, false, &n, &y));
	reply_free(&y);
	assert_true(jbool(o, "b", false, &b, &y));
	assert_true(b);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_static_paths),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_totp),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
