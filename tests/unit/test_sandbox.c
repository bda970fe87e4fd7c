/*
 * test_sandbox.c - real boxes: spawn, exec, files, limits, services,
 * teardown. Needs root and namespaces; skips (with the reason) only when
 * the kernel refuses them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "sandbox/sandbox.h"

static bool skip_all;
static char skip_reason[600];

/* CI's machine has root, namespaces and the test tools: there a skip is
 * a failure (CI=true, set by .ci/run). */
static bool on_ci(void)
{
	const char *ci = getenv("CI");

	return ci && !strcmp(ci, "true");
}

#define NEED_BOX()                                                 \
	do {                                                       \
		if (skip_all) {                                    \
			print_message("SKIP: %s\n", skip_reason);  \
			skip();                                    \
		}                                                  \
	} while (0)

static int group_setup(void **state)
{
	struct errmsg e = { 0 };

	(void)state;
	if (geteuid() != 0) {
		if (on_ci()) {
			print_error("not root, and CI=true: the sandbox tests "
				    "must run on CI\n");
			return -1;
		}
		skip_all = true;
		snprintf(skip_reason, sizeof(skip_reason), "not root");
		return 0;
	}
	if (sbx_global_init(NULL, &e) != ERR_OK) {
		/* only a kernel refusal is a reason to skip; anything else fails */
		if (strstr(e.text, "namespaces") && !on_ci()) {
			skip_all = true;
			snprintf(skip_reason, sizeof(skip_reason), "%s", e.text);
			return 0;
		}
		print_error("sbx_global_init: %s\n", e.text);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sbx_global_cleanup();
	return 0;
}

static struct sbx_episode *new_agent_only(void)
{
	struct sbx_episode_spec spec = {
		.name = "t-agent",
		.agent = { .name = "agent", .image = "host", .user = "agent" },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };

	if (sbx_episode_new(&spec, &ep, &e) != ERR_OK)
		fail_msg("episode_new: %s", e.text);
	if (sbx_episode_start(ep, &e) != ERR_OK)
		fail_msg("episode_start: %s", e.text);
	return ep;
}

static struct sbx_exec_result run_req(struct sbx_box *b, struct sbx_exec_req *req)
{
	struct sbx_exec_result r;
	struct errmsg e = { 0 };

	if (sbx_exec(b, req, &r, &e) != ERR_OK)
		fail_msg("exec: %s", e.text);
	return r;
}

static struct sbx_exec_result run_sh(struct sbx_box *b, const char *cmd)
{
	struct sbx_exec_req req = { .shell = cmd, .timeout_ms = 20000 };

	return run_req(b, &req);
}

static void expect_out(struct sbx_box *b, const char *cmd, const char *want)
{
	struct sbx_exec_result r = run_sh(b, cmd);

	if (r.how != SBX_EXITED || r.exit_code != 0 || strcmp(r.out, want))
		fail_msg("'%s': how %d code %d out '%s' err '%s' (want '%s')", cmd,
			 r.how, r.exit_code, r.out, r.err, want);
	sbx_exec_result_release(&r);
}

static void test_spawn_exec(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;
	const char *argv[] = { "/bin/true", NULL };
	struct sbx_exec_req req = { .argv = argv };

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	assert_non_null(b);
	assert_string_equal(sbx_box_name(b), "agent");
	r = run_req(b, &req);
	assert_int_equal(r.how, SBX_EXITED);
	assert_int_equal(r.exit_code, 0);
	sbx_exec_result_release(&r);
	expect_out(b, "echo hello; echo err >&2; exit 0", "hello\n");
	r = run_sh(b, "echo oops >&2; exit 7");
	assert_int_equal(r.how, SBX_EXITED);
	assert_int_equal(r.exit_code, 7);
	assert_string_equal(r.err, "oops\n");
	sbx_exec_result_release(&r);
	r = run_sh(b, "kill -TERM $$");
	assert_int_equal(r.how, SBX_SIGNALED);
	assert_int_equal(r.term_signal, 15);
	sbx_exec_result_release(&r);
	/* what the box looks like */
	expect_out(b, "hostname", "agent\n");
	expect_out(b, "id -u; id -un; pwd", "1000\nagent\n/home/agent\n");
	/* the box starts commands with umask 022 (init builds the box with 0) */
	expect_out(b, "umask; touch f; stat -c %a f", "0022\n644\n");
	sbx_episode_free(ep);
}


static void test_stdin_env_cwd_user(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;
	const char *cat[] = { "cat", NULL };
	const char *env[] = { "FOO=bar baz", "HOME=/tmp", NULL };
	struct sbx_exec_req req = { .argv = cat, .stdin_data = "line1\nline2",
				    .stdin_len = 11 };
	char *big;

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	r = run_req(b, &req);
	assert_int_equal(r.how, SBX_EXITED);
	assert_string_equal(r.out, "line1\nline2");
	sbx_exec_result_release(&r);
	/* 1 MiB of stdin, echoed back through wc */
	big = xmalloc(1 << 20);
	memset(big, 'x', 1 << 20);
	req = (struct sbx_exec_req){ .shell = "wc -c", .stdin_data = big,
				     .stdin_len = 1 << 20 };
	r = run_req(b, &req);
	assert_string_equal(r.out, "1048576\n");
	sbx_exec_result_release(&r);
	free(big);
	req = (struct sbx_exec_req){ .shell = "echo \"$FOO|$HOME|$USER\"; pwd",
				     .env = env, .cwd = "/tmp" };
	r = run_req(b, &req);
	assert_string_equal(r.out, "bar baz|/tmp|agent\n/tmp\n");
	sbx_exec_result_release(&r);
	req = (struct sbx_exec_req){ .shell = "id -u; id -g; pwd; echo $HOME",
				     .user = "root" };
	r = run_req(b, &req);
	assert_string_equal(r.out, "0\n0\n/root\n/root\n");
	sbx_exec_result_release(&r);
	/* no such program, no such cwd */
	req = (struct sbx_exec_req){ .argv = (const char *[]){ "no-such-prog", NULL } };
	r = run_req(b, &req);
	assert_int_equal(r.how, SBX_EXITED);
	assert_int_equal(r.exit_code, 127);
	assert_non_null(strstr(r.err, "no-such-prog"));
	sbx_exec_result_release(&r);
	req = (struct sbx_exec_req){ .shell = "true", .cwd = "/root" };
	r = run_req(b, &req); /* agent may not enter /root */
	assert_int_equal(r.exit_code, 127);
	assert_non_null(strstr(r.err, "chdir"));
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

/* An agent box's env and cwd (an image's Env and WorkingDir) are the
 * defaults of its default user's commands, under each command's own;
 * commands as another user and built-in jobs get the plain defaults. */
static void test_box_defaults(void **state)
{
	const char *box_env[] = { "BOX_VAR=from-image", "LANG=C", NULL };
	const char *own[] = { "BOX_VAR=own", NULL };
	struct sbx_episode_spec spec = {
		.name = "t-defaults",
		.agent = { .name = "agent", .image = "host", .user = "agent",
			   .env = box_env, .cwd = "/tmp" },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_exec_req req;
	struct sbx_exec_result r;
	struct sbx_box *b;

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e) != ERR_OK)
		fail_msg("episode_new: %s", e.text);
	b = sbx_episode_box(ep, NULL);
	expect_out(b, "echo \"$BOX_VAR|$LANG|$HOME\"; pwd",
		   "from-image|C|/home/agent\n/tmp\n");
	req = (struct sbx_exec_req){ .shell = "echo \"$BOX_VAR|$LANG\"; pwd",
				     .env = own, .cwd = "/" };
	r = run_req(b, &req);
	assert_string_equal(r.out, "own|C\n/\n");
	sbx_exec_result_release(&r);
	req = (struct sbx_exec_req){ .shell = "echo \"$BOX_VAR|$LANG\"; pwd",
				     .user = "root" };
	r = run_req(b, &req);
	assert_string_equal(r.out, "|C.UTF-8\n/root\n");
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

static void test_timeout_kills_group(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;
	struct sbx_exec_req req = {
		.shell = "sleep 100 & sleep 101 & echo started; wait",
		.timeout_ms = 300,
	};
	int64_t t0;

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	t0 = now_ms();
	r = run_req(b, &req);
	assert_int_equal(r.how, SBX_TIMED_OUT);
	assert_true(now_ms() - t0 < 3000);
	assert_string_equal(r.out, "started\n");
	sbx_exec_result_release(&r);
	/* the whole group went: no sleep is left in the box */
	expect_out(b, "ps -eo comm= | grep -c sleep || true", "0\n");
	sbx_episode_free(ep);
}

static void test_output_truncation(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;
	struct sbx_exec_req req = {
		.shell = "echo HEAD; head -c 100000 /dev/zero | tr '\\0' x; "
			 "echo; echo TAIL; head -c 5000 /dev/zero | tr '\\0' e >&2",
		.out_cap = 1000,
	};

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	r = run_req(b, &req);
	assert_int_equal(r.how, SBX_EXITED);
	assert_true(r.out_truncated);
	assert_true(r.err_truncated);
	assert_true(strncmp(r.out, "HEAD\nxxx", 8) == 0);
	assert_non_null(strstr(r.out, "[... 99011 bytes truncated ...]"));
	assert_true(r.out_len > 1000 && r.out_len < 1100);
	assert_string_equal(r.out + r.out_len - 9, "xxx\nTAIL\n");
	assert_non_null(strstr(r.err, "[... 4000 bytes truncated ...]"));
	sbx_exec_result_release(&r);
	/* exactly at the cap: nothing cut */
	req = (struct sbx_exec_req){ .shell = "head -c 1000 /dev/zero | tr '\\0' y",
				     .out_cap = 1000 };
	r = run_req(b, &req);
	assert_false(r.out_truncated);
	assert_int_equal(r.out_len, 1000);
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

static void test_files(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct errmsg e = { 0 };
	char dir[] = "/tmp/sbx-test-XXXXXX", *data = NULL, *p;
	size_t len = 0;
	char bin[70000];

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	assert_int_equal(sbx_put_file(b, "/home/agent/a/b/hello.txt", "hi\n", 3,
				      0640, "agent", &e), ERR_OK);
	expect_out(b, "stat -c '%U %a' a/b/hello.txt; cat a/b/hello.txt",
		   "agent 640\nhi\n");
	assert_int_equal(sbx_put_file(b, "/root/flag.txt", "flag{x}", 7, 0400,
				      NULL, &e), ERR_OK);
	expect_out(b, "cat /root/flag.txt 2>/dev/null || echo denied", "denied\n");
	/* a host tree with a nested dir, a big file and an inside symlink */
	assert_non_null(mkdtemp(dir));
	p = xasprintf("%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7);
	p = xasprintf("%s/sub/bin", dir);
	assert_int_equal(file_write_atomic(p, bin, sizeof(bin), 0755, &e), ERR_OK);
	free(p);
	p = xasprintf("%s/link", dir);
	assert_int_equal(symlink("sub/bin", p), 0);
	free(p);
	assert_int_equal(sbx_copy_in(b, dir, "/home/agent/t", "agent", &e), ERR_OK);
	expect_out(b, "stat -c '%U %a %s' t/sub/bin; readlink t/link; cmp t/link t/sub/bin && echo same",
		   "agent 755 70000\nsub/bin\nsame\n");
	assert_int_equal(sbx_get_file(b, "/home/agent/t/sub/bin", 1 << 20, &data,
				      &len, &e), ERR_OK);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(data, bin, sizeof(bin));
	free(data);
	assert_int_equal(sbx_get_file(b, "/home/agent/t/sub/bin", 100, &data, &len, &e),
			 ERR_LIMIT);
	assert_int_equal(sbx_get_file(b, "/nope", 100, &data, &len, &e), ERR_NOTFOUND);
	/* a symlink leaving the tree is refused */
	p = xasprintf("%s/evil", dir);
	assert_int_equal(symlink("../../etc/passwd", p), 0);
	free(p);
	assert_int_equal(sbx_copy_in(b, dir, "/home/agent/u", "agent", &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "leaves the tree"));
	p = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(p), 0);
	free(p);
	sbx_episode_free(ep);
}

static const char listener_py[] =
	"import socket,sys\n"
	"s=socket.socket()\n"
	"s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
	"s.bind(('',int(sys.argv[1])))\n"
	"s.listen(16)\n"
	"while True:\n"
	"    c,_=s.accept()\n"
	"    c.sendall(open('/srv/msg.txt','rb').read())\n"
	"    c.close()\n";

static const char *const listener_argv[] = { "python3", "/srv/listen.py", "8000", NULL };

static void plant_listener(struct sbx_episode *ep, const char *name, const char *msg)
{
	struct sbx_box *b = sbx_episode_box(ep, name);
	struct errmsg e = { 0 };

	assert_non_null(b);
	if (sbx_put_file(b, "/srv/listen.py", listener_py, strlen(listener_py), 0644,
			 NULL, &e) || sbx_put_file(b, "/srv/msg.txt", msg, strlen(msg),
						   0400, NULL, &e))
		fail_msg("put: %s", e.text);
}

static struct sbx_box_spec service(const char *name)
{
	struct sbx_box_spec s = {
		.name = name, .image = "host", .argv = listener_argv,
		.ready = SBX_READY_TCP, .ready_port = 8000, .ready_timeout_ms = 10000,
	};

	return s;
}

static void test_service_tcp_by_name(void **state)
{
	struct sbx_box_spec svc = service("web");
	struct sbx_episode_spec spec = {
		.name = "t-svc", .agent = { .name = "agent", .image = "host" },
		.services = &svc, .n_services = 1,
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_box *a;

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e))
		fail_msg("episode_new: %s", e.text);
	plant_listener(ep, "web", "flag{web}\n");
	if (sbx_episode_start(ep, &e))
		fail_msg("start: %s", e.text);
	a = sbx_episode_box(ep, NULL);
	assert_string_equal(sbx_box_addr(a), "10.0.0.2");
	assert_string_equal(sbx_box_addr(sbx_episode_box(ep, "web")), "10.0.0.3");
	expect_out(a, "bash -c 'exec 3<>/dev/tcp/web/8000 && cat <&3'", "flag{web}\n");
	expect_out(a, "getent hosts web", "10.0.0.3        web\n");
	/* the service's files are not in the agent's box */
	expect_out(a, "test -e /srv/msg.txt && echo visible || echo absent", "absent\n");
	sbx_episode_free(ep);
}

static void test_services_bridge(void **state)
{
	struct sbx_box_spec svc[3] = { service("web"), service("db"), service("cache") };
	struct sbx_episode_spec spec = {
		.name = "t-bridge", .agent = { .name = "agent", .image = "host" },
		.services = svc, .n_services = 3,
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_box *a;

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e))
		fail_msg("episode_new: %s", e.text);
	plant_listener(ep, "web", "w\n");
	plant_listener(ep, "db", "d\n");
	plant_listener(ep, "cache", "c\n");
	if (sbx_episode_start(ep, &e))
		fail_msg("start: %s", e.text);
	a = sbx_episode_box(ep, NULL);
	expect_out(a, "bash -c 'for h in web db cache; do exec 3<>/dev/tcp/$h/8000; cat <&3; done'",
		   "w\nd\nc\n");
	/* services reach each other by name too */
	expect_out(sbx_episode_box(ep, "db"), "bash -c 'exec 3<>/dev/tcp/cache/8000 && cat <&3'",
		   "c\n");
	sbx_episode_free(ep);
}

static void test_service_never_ready(void **state)
{
	const char *const sleeper[] = { "sleep", "1000", NULL };
	struct sbx_box_spec svc = {
		.name = "slow", .image = "host", .argv = sleeper,
		.ready = SBX_READY_TCP, .ready_port = 9, .ready_timeout_ms = 300,
	};
	struct sbx_episode_spec spec = {
		.name = "t-slow", .agent = { .name = "agent", .image = "host" },
		.services = &svc, .n_services = 1,
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	int64_t t0;

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e))
		fail_msg("episode_new: %s", e.text);
	t0 = now_ms();
	assert_int_equal(sbx_episode_start(ep, &e), ERR_TIMEOUT);
	assert_true(now_ms() - t0 < 2000);
	assert_non_null(strstr(e.text, "service 'slow'"));
	assert_non_null(strstr(e.text, "t-slow"));
	sbx_episode_free(ep);
}

/* An entrypoint that exits fails the start at once, with its status and
 * the end of its stderr, long before the ready timeout; its output is
 * kept and its state read back. */
static void test_service_exits(void **state)
{
	const char *const crash[] = { "sh", "-c", "echo up; echo line1 >&2; "
				      "printf 'bad\\033[2Jthing\\n' >&2; exit 4", NULL };
	struct sbx_box_spec svc = {
		.name = "crash", .image = "host", .argv = crash,
		.ready = SBX_READY_TCP, .ready_port = 9, .ready_timeout_ms = 60000,
	};
	struct sbx_episode_spec spec = {
		.name = "t-crash", .agent = { .name = "agent", .image = "host" },
		.services = &svc, .n_services = 1,
	};
	struct sbx_episode *ep = NULL;
	struct sbx_service_state st;
	struct errmsg e = { 0 };
	int64_t t0;

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e))
		fail_msg("episode_new: %s", e.text);
	t0 = now_ms();
	assert_int_equal(sbx_episode_start(ep, &e), ERR_SANDBOX);
	assert_true(now_ms() - t0 < 30000);
	assert_non_null(strstr(e.text, "service 'crash' exited before it was "
			       "ready (exited with status 4); its stderr ends: "
			       "line1 | bad?[2Jthing"));
	assert_int_equal(sbx_service_state(sbx_episode_box(ep, "crash"), true,
					   &st, &e), ERR_OK);
	assert_true(st.started && st.exited && !st.alive);
	assert_int_equal(st.how, SBX_EXITED);
	assert_int_equal(st.exit_code, 4);
	assert_string_equal(st.out, "up\n");
	assert_string_equal(st.err, "line1\nbad\033[2Jthing\n");
	assert_false(st.out_truncated || st.err_truncated);
	sbx_service_state_release(&st);
	/* the agent box has no entrypoint */
	assert_int_equal(sbx_service_state(sbx_episode_box(ep, NULL), false,
					   &st, &e), ERR_OK);
	assert_false(st.started);
	sbx_episode_free(ep);
}

/* A chatty service: its output is kept within the cap, head and tail. */
static void test_service_output_capped(void **state)
{
	const char *const chatty[] = { "sh", "-c", "echo first; head -c 100000 "
				       "/dev/zero | tr '\\0' x; echo; echo last; "
				       "sleep 1000", NULL };
	struct sbx_box_spec svc = {
		.name = "chatty", .image = "host", .argv = chatty,
	};
	struct sbx_episode_spec spec = {
		.name = "t-chatty", .agent = { .name = "agent", .image = "host" },
		.services = &svc, .n_services = 1,
	};
	struct sbx_episode *ep = NULL;
	struct sbx_service_state st;
	struct errmsg e = { 0 };

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e))
		fail_msg("start: %s", e.text);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(sbx_service_state(sbx_episode_box(ep, "chatty"),
						   true, &st, &e), ERR_OK);
		if (st.out_len > 6 && strstr(st.out, "last\n"))
			break;
		sbx_service_state_release(&st);
		usleep(20000);
	}
	assert_true(st.started && st.alive && !st.exited);
	assert_true(st.out_truncated);
	assert_true(st.out_len < SBX_SERVICE_CAP + 100);
	assert_memory_equal(st.out, "first\n", 6);
	assert_non_null(strstr(st.out, "bytes truncated ...]"));
	assert_non_null(strstr(st.out, "x\nlast\n"));
	sbx_service_state_release(&st);
	sbx_episode_free(ep);
}

static void test_last_lines(void **state)
{
	const char *log = "a\nb\nc\nd\ne\nf\n\n";
	char *t;

	(void)state;
	t = sbx_last_lines(log, strlen(log), 3, 100);
	assert_string_equal(t, "d | e | f");
	free(t);
	t = sbx_last_lines(log, strlen(log), 3, 4);
	assert_string_equal(t, "e | f");
	free(t);
	t = sbx_last_lines("x\x1b[31my", 7, 5, 100);
	assert_string_equal(t, "x?[31my");
	free(t);
	t = sbx_last_lines("", 0, 5, 100);
	assert_string_equal(t, "");
	free(t);
}

static void test_ready_cmd(void **state)
{
	const char *const entry[] = { "sh", "-c", "sleep 0.2; touch /tmp/up; sleep 1000", NULL };
	const char *const probe[] = { "test", "-e", "/tmp/up", NULL };
	struct sbx_box_spec svc = {
		.name = "svc", .image = "host", .argv = entry,
		.ready = SBX_READY_CMD, .ready_argv = probe, .ready_timeout_ms = 5000,
	};
	struct sbx_episode_spec spec = {
		.name = "t-cmd", .agent = { .name = "agent", .image = "host" },
		.services = &svc, .n_services = 1,
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e))
		fail_msg("episode_new: %s", e.text);
	if (sbx_episode_start(ep, &e))
		fail_msg("start: %s", e.text);
	expect_out(sbx_episode_box(ep, "svc"), "test -e /tmp/up && echo up", "up\n");
	sbx_episode_free(ep);
}

static void test_bad_input(void **state)
{
	struct sbx_episode_spec spec = {
		.name = "t-bad", .agent = { .name = "agent", .image = "/no/such/dir" },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };

	(void)state;
	NEED_BOX();
	assert_int_equal(sbx_episode_new(&spec, &ep, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "t-bad"));
	assert_non_null(strstr(e.text, "'agent'"));
	assert_non_null(strstr(e.text, "/no/such/dir"));
	spec.agent.image = "host";
	spec.agent.limits.memory_mb = 1 << 30;
	assert_int_equal(sbx_episode_new(&spec, &ep, &e), ERR_LIMIT);
	assert_non_null(strstr(e.text, "memory"));
	spec.agent.limits.memory_mb = 0;
	spec.agent.name = "Bad_Name";
	assert_int_equal(sbx_episode_new(&spec, &ep, &e), ERR_INVAL);
}

static struct sbx_episode *new_limited(struct sbx_limits lim)
{
	struct sbx_episode_spec spec = {
		.name = "t-lim",
		.agent = { .name = "agent", .image = "host", .limits = lim },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };

	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e))
		fail_msg("episode: %s", e.text);
	return ep;
}

static void test_oom(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;

	(void)state;
	NEED_BOX();
	ep = new_limited((struct sbx_limits){ .memory_mb = 64 });
	b = sbx_episode_box(ep, NULL);
	r = run_sh(b, "python3 -c 'a = bytearray(32 << 20); print(len(a))'");
	assert_int_equal(r.how, SBX_EXITED);
	sbx_exec_result_release(&r);
	r = run_sh(b, "python3 -c 'a = b\"x\" * (300 << 20); print(len(a))'");
	assert_int_equal(r.how, SBX_OOM_KILLED);
	sbx_exec_result_release(&r);
	/* the box survives its OOM */
	expect_out(b, "echo alive", "alive\n");
	sbx_episode_free(ep);
	/* the next box reuses the emptied cgroups: the old kill is not its */
	sbx_reap(true);
	ep = new_limited((struct sbx_limits){ .memory_mb = 512 });
	r = run_sh(sbx_episode_box(ep, NULL),
		   "python3 -c 'a = bytearray(128 << 20); print(len(a))'");
	assert_int_equal(r.how, SBX_EXITED);
	assert_int_equal(r.exit_code, 0);
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

static void test_pids_limit(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;

	(void)state;
	NEED_BOX();
	ep = new_limited((struct sbx_limits){ .pids = 16 });
	b = sbx_episode_box(ep, NULL);
	r = run_sh(b, "for i in $(seq 40); do sleep 2 & done 2>/dev/null; wait; echo done");
	assert_true(r.pids_limited);
	sbx_exec_result_release(&r);
	expect_out(b, "echo alive", "alive\n");
	sbx_episode_free(ep);
}

static void test_disk_limit(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;

	(void)state;
	NEED_BOX();
	ep = new_limited((struct sbx_limits){ .disk_mb = 8 });
	b = sbx_episode_box(ep, NULL);
	r = run_sh(b, "head -c 20000000 /dev/zero > /tmp/big");
	assert_int_equal(r.how, SBX_EXITED);
	assert_int_not_equal(r.exit_code, 0);
	assert_non_null(strstr(r.err, "No space left"));
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

static void test_kill_all(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct errmsg e = { 0 };

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	expect_out(b, "setsid sleep 1000 >/dev/null 2>&1 & nohup sleep 999 >/dev/null 2>&1 & echo ok",
		   "ok\n");
	/* a backgrounded child may not have exec'd sleep yet on a loaded
	 * machine: wait for both (bounded), then count */
	expect_out(b, "for i in $(seq 200); do [ \"$(ps -eo comm= | grep -c sleep)\" = 2 ] && break;"
		   " sleep 0.05; done; ps -eo comm= | grep -c sleep", "2\n");
	assert_int_equal(sbx_box_kill_all(b, &e), ERR_OK);
	expect_out(b, "ps -eo comm= | grep -c sleep || true", "0\n");
	expect_out(b, "ps -p 1 -o comm=", "assay-init\n");
	sbx_episode_free(ep);
}

static void test_async_many(void **state)
{
	enum { N = 8 };
	struct sbx_episode *eps[N];
	struct sbx_box *bx[N];
	bool done[N] = { 0 };
	int n_done = 0;
	struct errmsg e = { 0 };

	(void)state;
	NEED_BOX();
	for (int i = 0; i < N; i++) {
		struct sbx_exec_req req = { .shell = "sleep 0.2; echo $((6*7))" };

		eps[i] = new_agent_only();
		bx[i] = sbx_episode_box(eps[i], NULL);
		assert_int_equal(sbx_exec_begin(bx[i], &req, &e), ERR_OK);
		assert_int_equal(sbx_exec_begin(bx[i], &req, &e), ERR_SANDBOX);
	}
	while (n_done < N) {
		struct pollfd pf[N];

		for (int i = 0; i < N; i++)
			pf[i] = (struct pollfd){ .fd = done[i] ? -1 : sbx_box_fd(bx[i]),
						 .events = POLLIN };
		assert_true(poll(pf, N, 5000) > 0);
		for (int i = 0; i < N; i++) {
			struct sbx_exec_result r;
			bool d = false;

			if (done[i] || !pf[i].revents)
				continue;
			assert_int_equal(sbx_exec_poll(bx[i], &d, &r, &e), ERR_OK);
			if (!d)
				continue;
			assert_string_equal(r.out, "42\n");
			sbx_exec_result_release(&r);
			done[i] = true;
			n_done++;
		}
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(sbx_exec_timeout_ms(bx[i]), -1);
		sbx_episode_free(eps[i]);
	}
}

static int popen_int(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	int n = -1;

	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/* processes in the cgroups of harness process `owner` (all its boxes'
 * processes are there; other harnesses running at the same time are not
 * counted) */
static int box_processes(pid_t owner)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup/pids -path '*assay-%ld-*' "
		 "-name cgroup.procs -exec cat {} + 2>/dev/null | wc -l", (long)owner);
	return popen_int(cmd);
}

static int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += !needle || strstr(line, needle);
	if (f)
		fclose(f);
	return n;
}

static int count_cgroups(pid_t owner)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup -type d -path '*assay-%ld-*' "
		 "2>/dev/null | wc -l", (long)owner);
	return popen_int(cmd);
}

/* A box whose set-up fails before init has read GO (here: its init
 * cannot be executed) is reported with the failing step and errno, not
 * as "init exited" or a failed release: the harness reads the child's
 * own report even when the child died first. Twenty tries, as the child
 * races the harness's writes. */
static void test_setup_failure_named(void **state)
{
	struct sbx_episode_spec spec = {
		.name = "t-badinit", .agent = { .name = "agent", .image = "host" },
	};
	char path[] = "/tmp/assay-badinit-XXXXXX";
	struct sbx_config cfg = { .init_path = path };
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	int fd;

	(void)state;
	NEED_BOX();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not an ELF\n", 11), 11);
	close(fd);
	sbx_global_cleanup();
	assert_int_equal(sbx_global_init(&cfg, &e), ERR_OK);
	for (int i = 0; i < 20; i++) {
		memset(&e, 0, sizeof(e));
		assert_int_not_equal(sbx_episode_new(&spec, &ep, &e), ERR_OK);
		if (!strstr(e.text, "setup failed at exec of init: Exec format error"))
			fail_msg("try %d: %s", i, e.text);
	}
	sbx_global_cleanup();
	unlink(path);
	assert_int_equal(sbx_global_init(NULL, &e), ERR_OK);
}

static void test_teardown_leaves_nothing(void **state)
{
	struct sbx_box_spec svc[2] = { service("web"), service("db") };
	struct sbx_episode_spec spec = {
		.name = "t-down", .agent = { .name = "agent", .image = "host" },
		.services = svc, .n_services = 2,
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	int procs0, mounts0, links0, cg0;
	int64_t t0;

	(void)state;
	NEED_BOX();
	sbx_reap(true); /* earlier tests' boxes */
	procs0 = box_processes(getpid());
	mounts0 = count_lines("/proc/self/mountinfo", NULL);
	links0 = count_lines("/proc/net/dev", NULL);
	cg0 = count_cgroups(getpid());
	if (sbx_episode_new(&spec, &ep, &e))
		fail_msg("episode_new: %s", e.text);
	plant_listener(ep, "web", "w");
	plant_listener(ep, "db", "d");
	if (sbx_episode_start(ep, &e))
		fail_msg("start: %s", e.text);
	expect_out(sbx_episode_box(ep, NULL),
		   "sleep 1000 & setsid sleep 1000 >/dev/null 2>&1 & echo bg", "bg\n");
	assert_true(box_processes(getpid()) >= procs0 + 3 + 2);
	t0 = now_us();
	sbx_episode_free(ep);
	print_message("teardown of 3 boxes: %lld us\n", (long long)(now_us() - t0));
	sbx_reap(true);
	assert_int_equal(box_processes(getpid()), procs0);
	assert_int_equal(count_lines("/proc/self/mountinfo", NULL), mounts0);
	assert_int_equal(count_lines("/proc/net/dev", NULL), links0);
	/* emptied cgroups are kept for later boxes (at most these three
	 * boxes' sets) and go with the instance */
	assert_true(count_cgroups(getpid()) <= cg0 + 3 * 3);
	sbx_global_cleanup();
	assert_int_equal(count_cgroups(getpid()), 0);
	assert_int_equal(sbx_global_init(NULL, &e), ERR_OK);
}

/* Child mode: a harness that holds a box and is then SIGKILLed. */
static int crashed_harness_main(void)
{
	struct sbx_episode_spec spec = {
		.name = "t-crash", .agent = { .name = "agent", .image = "host" },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_exec_result r;
	struct sbx_exec_req req = { .shell = "sleep 1000 >/dev/null 2>&1 & echo ok" };

	if (sbx_global_init(NULL, &e) || sbx_episode_new(&spec, &ep, &e) ||
	    sbx_episode_start(ep, &e) || sbx_exec(sbx_episode_box(ep, NULL), &req, &r, &e))
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int count_inst_dirs(pid_t owner)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls -d %s/%ld-* 2>/dev/null | wc -l",
		 sbx_state_dir(), (long)owner);
	return popen_int(cmd);
}

static void test_leftovers_of_killed_harness(void **state)
{
	int pfd[2], cg0, dirs0, procs0, cg1, dirs1;
	bool got;
	char line[16] = "";
	pid_t pid;
	struct errmsg e = { 0 };
	FILE *f;

	(void)state;
	NEED_BOX();
	cg0 = 0;
	dirs0 = 0;
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(pfd[1], 1);
		dup2(null, 2);
		setenv("SBX_TEST_CRASHED_HARNESS", "1", 1);
		execl("/proc/self/exe", "test_sandbox", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	cg1 = count_cgroups(pid);
	dirs1 = count_inst_dirs(pid);
	procs0 = box_processes(pid);
	/* kill before any assertion, so a failure leaves no harness behind */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_true(got);
	assert_string_equal(line, "ready\n");
	assert_true(cg1 > cg0);
	assert_int_equal(dirs1, dirs0 + 1);
	assert_true(procs0 >= 2); /* init and the sleep */
	/* the box died with its harness (parent-death signal) */
	for (int i = 0; i < 100 && box_processes(pid) > 0; i++)
		usleep(10000);
	assert_int_equal(box_processes(pid), 0);
	/* its cgroups and state dir stay until the next start cleans them */
	assert_true(count_cgroups(pid) > 0);
	sbx_global_cleanup();
	assert_int_equal(sbx_global_init(NULL, &e), ERR_OK);
	assert_int_equal(count_cgroups(pid), 0);
	assert_int_equal(count_inst_dirs(pid), 0);
}

static struct sbx_exec_result run_builtin(struct sbx_box *b,
					  enum sbx_builtin what, const char *dir)
{
	const char *argv[] = { dir, NULL };
	struct sbx_exec_req req = { .builtin = what, .argv = argv,
				    .timeout_ms = 20000 };

	return run_req(b, &req);
}

/* What an agent leaves in its home cannot point a check elsewhere or
 * block it: tidy keeps the work, drops links that can leave the tree
 * (alone or chained), FIFOs, sockets, setuid bits; a tree too deep is
 * refused. */
static void test_tidy(void **state)
{
	struct sbx_episode *ep;
	struct sbx_box *b;
	struct sbx_exec_result r;

	(void)state;
	NEED_BOX();
	ep = new_agent_only();
	b = sbx_episode_box(ep, NULL);
	expect_out(b, "mkdir -p sub/d && echo work > sub/f && ln -s sub/f ok && "
		   "ln -s /etc/passwd abs && ln -s ../../etc/passwd up && "
		   "ln -s . self && ln -s self/.. chain && ln -s sub/d/../../.. up2 && "
		   "mkfifo sub/d/fifo && python3 -c 'import socket; "
		   "socket.socket(socket.AF_UNIX).bind(\"sock\")' && "
		   "cp /bin/true suid && chmod 6755 suid && ln sub/f hard && "
		   "touch \"$(printf 'odd\\nname\\033[1m')\" && echo done", "done\n");
	r = run_builtin(b, SBX_TIDY, "/home/agent");
	if (r.how != SBX_EXITED || r.exit_code != 0)
		fail_msg("tidy: how %d code %d: %s", r.how, r.exit_code, r.err);
	if (!strstr(r.err, "removed symlink 'abs' -> '/etc/passwd'"))
		fail_msg("tidy said: %s", r.err);
	assert_null(strstr(r.err, "\033"));
	sbx_exec_result_release(&r);
	expect_out(b, "ls -Ab | sort | tr '\\n' ' '; stat -c %a suid; cat ok",
		   "hard odd\\nname\\033[1m ok self sub suid 755\nwork\n");
	expect_out(b, "ls -A sub/d | wc -l", "0\n");
	/* deeper than 64 levels: refused, the agent's doing */
	expect_out(b, "p=deep; for i in $(seq 70); do p=$p/d; done; mkdir -p $p && echo ok",
		   "ok\n");
	r = run_builtin(b, SBX_TIDY, "/home/agent");
	assert_int_equal(r.exit_code, SBX_TIDY_EXIT_TOO_DEEP);
	sbx_exec_result_release(&r);
	/* a symlink where the directory should be */
	r = run_builtin(b, SBX_TIDY, "/home/agent/ok");
	assert_int_equal(r.exit_code, SBX_TIDY_EXIT_NOT_DIR);
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

/* A check's directory is made afresh even where a root agent planted
 * one, a link on its path, or loosened a parent's mode. */
static void test_fresh_dir(void **state)
{
	struct sbx_episode_spec spec = {
		.name = "t-fresh",
		.agent = { .name = "agent", .image = "host", .user = "root" },
	};
	struct sbx_episode *ep = NULL;
	struct sbx_exec_result r;
	struct errmsg e = { 0 };
	struct sbx_box *b;

	(void)state;
	NEED_BOX();
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e))
		fail_msg("episode: %s", e.text);
	b = sbx_episode_box(ep, NULL);
	expect_out(b, "mkdir -p /tmp/evil/check && touch /tmp/evil/check/os.py && "
		   "ln -s /tmp/evil /opt/assay && chmod 777 /opt && chown 1000 /opt && "
		   "echo ok", "ok\n");
	r = run_builtin(b, SBX_FRESH_DIR, "/opt/assay/check");
	if (r.how != SBX_EXITED || r.exit_code != 0)
		fail_msg("fresh: how %d code %d: %s", r.how, r.exit_code, r.err);
	sbx_exec_result_release(&r);
	expect_out(b, "stat -c '%F %U %a' /opt /opt/assay /opt/assay/check; "
		   "ls -A /opt/assay/check | wc -l; ls /tmp/evil/check",
		   "directory root 755\ndirectory root 755\ndirectory root 700\n0\nos.py\n");
	/* planted again, at the directory itself: moved aside */
	expect_out(b, "touch /opt/assay/check/planted && echo ok", "ok\n");
	r = run_builtin(b, SBX_FRESH_DIR, "/opt/assay/check");
	assert_int_equal(r.exit_code, 0);
	sbx_exec_result_release(&r);
	expect_out(b, "ls -A /opt/assay/check | wc -l; ls -A /opt/assay | tr '\\n' ' '",
		   "0\n.check.stale-0 check ");
	sbx_episode_free(ep);
}

static void test_dir_image(void **state)
{
	char dir[] = "/tmp/sbx-rootfs-XXXXXX", *cmd;
	struct sbx_episode_spec spec = {
		.name = "t-rootfs", .agent = { .name = "agent", .image = dir, .user = "root" },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_box *b;
	struct sbx_exec_result r;
	struct sbx_exec_req req = { .argv = (const char *[]){ "/bin/sh", "-c",
		"stat -c '%u' /bin/busybox; echo hi > /bin/new && cat /bin/new; "
		"echo x >> /data.txt && cat /data.txt", NULL }, .cwd = "/" };

	(void)state;
	NEED_BOX();
	/* busybox-static is a test dependency (tools/deps.sh) */
	if (!path_exists("/bin/busybox") && on_ci())
		fail_msg("/bin/busybox is missing, and CI=true");
	if (!path_exists("/bin/busybox"))
		skip();
	assert_non_null(mkdtemp(dir));
	cmd = xasprintf("mkdir -p %s/bin && cp /bin/busybox %s/bin/ && ln -s busybox "
			"%s/bin/sh && ln -s busybox %s/bin/stat && ln -s busybox %s/bin/cat "
			"&& echo data > %s/data.txt && chmod 644 %s/data.txt && chmod 755 %s",
			dir, dir, dir, dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e))
		fail_msg("episode: %s", e.text);
	b = sbx_episode_box(ep, NULL);
	r = run_req(b, &req);
	/* host root's files are box root's; writes land in the box only */
	assert_string_equal(r.out, "0\nhi\ndata\nx\n");
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
	cmd = xasprintf("test ! -e %s/bin/new && test \"$(cat %s/data.txt)\" = data "
			"&& rm -rf %s", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_exec),
		cmocka_unit_test(test_stdin_env_cwd_user),
		cmocka_unit_test(test_box_defaults),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_output_truncation),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_service_tcp_by_name),
		cmocka_unit_test(test_services_bridge),
		cmocka_unit_test(test_service_never_ready),
		cmocka_unit_test(test_ready_cmd),
		cmocka_unit_test(test_service_exits),
		cmocka_unit_test(test_service_output_capped),
		cmocka_unit_test(test_last_lines),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_dir_image),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_pids_limit),
		cmocka_unit_test(test_disk_limit),
		cmocka_unit_test(test_kill_all),
		cmocka_unit_test(test_async_many),
		cmocka_unit_test(test_tidy),
		cmocka_unit_test(test_fresh_dir),
		cmocka_unit_test(test_setup_failure_named),
		cmocka_unit_test(test_teardown_leaves_nothing),
		cmocka_unit_test(test_leftovers_of_killed_harness),
	};

	if (getenv("SBX_TEST_CRASHED_HARNESS"))
		return crashed_harness_main();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
