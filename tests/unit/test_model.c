/*
 * test_model.c - providers, HTTP, retries, baselines and replay.
 *
 * The end-to-end tests start the mock model server (tests/lib/
 * mockmodel_main.c) named by $MOCKMODEL and skip when it is unset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "model/model.h"
#include "model/model_int.h"

/* ---- helpers ---------------------------------------------------------- */

static const char BASH_SCHEMA[] =
	"{\"type\":\"object\",\"properties\":{\"cmd\":{\"type\":\"string\"}},"
	"\"required\":[\"cmd\"]}";
static const char SUBMIT_SCHEMA[] =
	"{\"type\":\"object\",\"properties\":{\"flag\":{\"type\":\"string\"},"
	"\"answers\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
	"\"required\":[\"flag\"]}";

static const struct model_tool tools[] = {
	{"bash", "Run a shell command", BASH_SCHEMA},
	{"python", "Run Python code",
	 "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"}}}"},
	{"submit", "Submit the flag", SUBMIT_SCHEMA},
};

struct got {
	struct model_reply *r;
	int n;
};

static void on_done(void *arg, struct model_reply *r)
{
	struct got *g = arg;
	g->r = r;
	g->n++;
}

/* Run one call to completion; the reply belongs to the caller. */
static struct model_reply *run_call(struct model_ctx *ctx, struct model *m,
				    const struct model_request *req)
{
	struct errmsg e = {0};
	struct got g = {0};
	int64_t t0 = now_ms();

	assert_int_equal(model_call_start(m, req, on_done, &g, &e), ERR_OK);
	assert_int_equal(g.n, 0); /* never from inside model_call_start */
	while (!g.n) {
		assert_int_equal(model_ctx_wait(ctx, NULL, 0, 1000, &e), ERR_OK);
		assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
		assert_true(now_ms() - t0 < 60000);
	}
	assert_int_equal(g.n, 1);
	assert_int_equal(model_ctx_pending(ctx), 0);
	return g.r;
}

static struct model *open_model(struct model_ctx *ctx, const char *name)
{
	struct model_config cfg = {.name = name};
	struct model *m = NULL;
	struct errmsg e = {0};

	cfg.params.temperature = -1;
	cfg.params.seed = -1;
	if (model_open(ctx, &cfg, &m, &e))
		fail_msg("model_open(%s): %s", name, e.text);
	return m;
}

static struct model_ctx *new_ctx(void)
{
	struct model_ctx *ctx = NULL;
	struct errmsg e = {0};

	assert_int_equal(model_ctx_new(&ctx, &e), ERR_OK);
	return ctx;
}

static json_t *args_of(const struct model_tool_call *c)
{
	json_t *j = json_loads(c->arguments, 0, NULL);
	assert_non_null(j);
	return j;
}

static char *write_tmp(const char *content)
{
	char path[] = "/tmp/assay-test-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
	return xstrdup(path);
}

/* ---- baselines -------------------------------------------------------- */

/* Run `cmd` through bash like the agent's bash tool and format the
 * observation the way the agent does. */
static char *observe(const char *cmd)
{
	char *script = xasprintf("out=$(mktemp); err=$(mktemp); "
				 "bash -c \"$1\" >$out 2>$err; s=$?; cat $out; "
				 "if [ -s $err ]; then echo '[stderr]'; cat $err; fi; "
				 "if [ $s -ne 0 ]; then echo \"[exit status $s]\"; fi; "
				 "rm -f $out $err");
	const char *argv[] = {"bash", "-c", script, "x", cmd, NULL};
	int pfd[2];
	struct buf b;
	char tmp[4096];
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execvp("bash", (char **)argv);
		_exit(127);
	}
	close(pfd[1]);
	buf_init(&b, 0);
	while ((n = read(pfd[0], tmp, sizeof(tmp))) > 0)
		assert_int_equal(buf_add(&b, tmp, (size_t)n), ERR_OK);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	free(script);
	{
		char *r = buf_detach(&b, NULL);
		buf_release(&b);
		return r;
	}
}

static const char SOLVE[] = "echo '[stderr]'\necho 'answer[2]: two'\n"
			    "echo ASSAY-ORACLE-END 0\necho noise >&2\n"
			    "echo 'answer[1]:  one '\necho 'flag{x y}'\n"
			    "echo; echo '   '\nexit 3\n";

static void test_oracle(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model *m = open_model(ctx, "baseline/oracle");
	char dir[] = "/tmp/assay-oracle-XXXXXX";
	char *sol, *cmd, *obs;
	struct model_msg msgs[4] = {0};
	struct model_request req = {msgs, 2, tools, 3, NULL, false};
	struct model_reply *r1, *r2, *r3;
	json_t *a;

	(void)state;
	assert_true(model_needs_solution(m));
	assert_non_null(mkdtemp(dir));
	sol = xasprintf("%s/it's solve.sh", dir);
	/* stdout has our own markers' look-alikes, a fake [stderr] line,
	 * answers, trailing blank lines and a non-zero exit */
	assert_int_equal(file_write_atomic(sol, SOLVE, sizeof(SOLVE) - 1, 0755,
					   NULL),
			 ERR_OK);
	msgs[0] = (struct model_msg){.role = MODEL_SYSTEM, .text = "sys"};
	msgs[1] = (struct model_msg){.role = MODEL_USER, .text = "solve it"};
	req.solution_path = sol;
	r1 = run_call(ctx, m, &req);
	assert_int_equal(r1->fail, MODEL_FAIL_NONE);
	assert_int_equal(r1->stop, MODEL_STOP_TOOL_CALLS);
	assert_int_equal(r1->n_calls, 1);
	assert_string_equal(r1->calls[0].name, "bash");
	a = args_of(&r1->calls[0]);
	cmd = xstrdup(json_string_value(json_object_get(a, "cmd")));
	json_decref(a);
	assert_non_null(strstr(cmd, "cd /home/agent && "));
	/* run it here with a writable "home" stand-in */
	{
		char *local = xasprintf("cd /tmp%s", cmd + 14);
		obs = observe(local);
		free(local);
	}
	assert_non_null(strstr(obs, "[exit status 3]"));
	msgs[2] = (struct model_msg){.role = MODEL_ASSISTANT,
				     .calls = r1->calls, .n_calls = 1};
	msgs[3] = (struct model_msg){.role = MODEL_TOOL, .text = obs,
				     .tool_call_id = r1->calls[0].id,
				     .tool_name = "bash"};
	req.n_msgs = 4;
	r2 = run_call(ctx, m, &req);
	assert_int_equal(r2->fail, MODEL_FAIL_NONE);
	assert_int_equal(r2->n_calls, 1);
	assert_string_equal(r2->calls[0].name, "submit");
	a = args_of(&r2->calls[0]);
	assert_string_equal(json_string_value(json_object_get(a, "flag")),
			    "flag{x y}");
	assert_int_equal(json_array_size(json_object_get(a, "answers")), 2);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(a, "answers"), 0)),
			    "one");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(a, "answers"), 1)),
			    "two");
	json_decref(a);
	/* a third turn has nothing to do */
	msgs[2].calls = r2->calls; /* any assistant turns count */
	req.n_msgs = 4;
	{
		struct model_msg more[6];
		memcpy(more, msgs, sizeof(msgs));
		more[4] = (struct model_msg){.role = MODEL_ASSISTANT,
					     .calls = r2->calls, .n_calls = 1};
		more[5] = (struct model_msg){.role = MODEL_TOOL, .text = "ok",
					     .tool_call_id = r2->calls[0].id};
		req.msgs = more;
		req.n_msgs = 6;
		r3 = run_call(ctx, m, &req);
		assert_int_equal(r3->stop, MODEL_STOP_END_TURN);
		assert_int_equal(r3->n_calls, 0);
	}
	model_reply_release(r1);
	model_reply_release(r2);
	model_reply_release(r3);
	free(obs);
	free(cmd);
	unlink(sol);
	unlink("/tmp/.oracle.out");
	unlink("/tmp/.oracle.err");
	rmdir(dir);
	free(sol);
	model_close(m);
	model_ctx_free(ctx);
}

static void test_oracle_truncated(void **state)
{
	struct errmsg e = {0};
	char *out = NULL;
	size_t len;

	(void)state;
	/* "hello\n" is aGVsbG8K */
	assert_int_equal(
		model_oracle_recover_stdout("ASSAY-ORACLE-BEGIN b64 6\n"
					    "aGVsbG8K\nASSAY-ORACLE-END 0\n",
					    &out, &len, &e),
		ERR_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "hello\n", 6);
	free(out);
	assert_int_equal(model_oracle_recover_stdout("ASSAY-ORACLE-BEGIN hex 2\n"
						     " 68 69\nASSAY-ORACLE-END 1\n",
						     &out, &len, &e),
			 ERR_OK);
	assert_memory_equal(out, "hi", 2);
	free(out);
	assert_int_equal(model_oracle_recover_stdout("ASSAY-ORACLE-BEGIN b64 60\n"
						     "aGVsbG8K\n...[truncated]...\n"
						     "ASSAY-ORACLE-END 0\n",
						     &out, &len, &e),
			 ERR_PARSE);
	assert_int_equal(model_oracle_recover_stdout("ASSAY-ORACLE-BEGIN b64 6\n"
						     "aGVsbG8K\n",
						     &out, &len, &e),
			 ERR_PARSE);
	assert_int_equal(model_oracle_recover_stdout("no markers", &out, &len, &e),
			 ERR_PARSE);
	assert_int_equal(model_oracle_recover_stdout(NULL, &out, &len, &e),
			 ERR_PARSE);
}

static void test_oracle_args(void **state)
{
	const char out[] = "answer[3]: c\nflag{a}\nanswer[1]: a\n\n";
	char *s = model_oracle_submit_args(out, sizeof(out) - 1);
	json_t *j = json_loads(s, 0, NULL);
	json_t *ans = json_object_get(j, "answers");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "flag")),
			    "flag{a}");
	assert_int_equal(json_array_size(ans), 3);
	assert_string_equal(json_string_value(json_array_get(ans, 0)), "a");
	assert_string_equal(json_string_value(json_array_get(ans, 1)), "");
	assert_string_equal(json_string_value(json_array_get(ans, 2)), "c");
	json_decref(j);
	free(s);
	/* invalid UTF-8 and no trailing newline */
	s = model_oracle_submit_args("x\n\xff\xfe", 4);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "flag")),
			    "\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
	free(s);
	/* questions one at a time: answer K + 1 after K answer calls */
	s = model_oracle_answer_args("{\"flag\":\"f\",\"answers\":[\"a\",\"b\"]}", 1);
	assert_string_equal(s, "{\"answer\":\"b\"}");
	free(s);
	assert_null(model_oracle_answer_args("{\"flag\":\"f\",\"answers\":[\"a\"]}", 1));
	assert_null(model_oracle_answer_args("{\"flag\":\"f\"}", 0));
	assert_null(model_oracle_answer_args("not json", 0));
}

static void test_null(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model *m = open_model(ctx, "baseline/null");
	struct model_msg msgs[4] = {{.role = MODEL_USER, .text = "go"}};
	struct model_request req = {msgs, 1, tools, 3, NULL, false};
	struct model_reply *r;
	json_t *a;

	(void)state;
	assert_false(model_needs_solution(m));
	r = run_call(ctx, m, &req);
	assert_int_equal(r->n_calls, 1);
	assert_string_equal(r->calls[0].name, "bash");
	a = args_of(&r->calls[0]);
	assert_string_equal(json_string_value(json_object_get(a, "cmd")),
			    "ls -la /home/agent");
	json_decref(a);
	assert_int_equal(r->attempts, 1);
	assert_int_equal(r->http_status, 0);
	assert_false(r->usage.price_unknown);
	msgs[1] = (struct model_msg){.role = MODEL_ASSISTANT,
				     .calls = r->calls, .n_calls = 1};
	msgs[2] = (struct model_msg){.role = MODEL_TOOL, .text = "total 0",
				     .tool_call_id = r->calls[0].id};
	req.n_msgs = 3;
	{
		struct model_reply *r2 = run_call(ctx, m, &req);
		assert_int_equal(r2->n_calls, 1);
		assert_string_equal(r2->calls[0].name, "submit");
		a = args_of(&r2->calls[0]);
		assert_string_equal(
			json_string_value(json_object_get(a, "flag")), "");
		json_decref(a);
		model_reply_release(r2);
	}
	model_reply_release(r);
	model_close(m);
	model_ctx_free(ctx);
}

/* Many calls in flight at once, all delivered from model_ctx_run. */
static void test_baseline_many(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model *m = open_model(ctx, "baseline/null");
	struct model_msg msg = {.role = MODEL_USER, .text = "go"};
	struct model_request req = {&msg, 1, tools, 3, NULL, false};
	struct got g[50] = {{0}};
	struct errmsg e = {0};
	int64_t t0;

	(void)state;
	for (int i = 0; i < 50; i++)
		assert_int_equal(model_call_start(m, &req, on_done, &g[i], &e),
				 ERR_OK);
	assert_int_equal(model_ctx_pending(ctx), 50);
	t0 = now_ms();
	/* parked local replies: the wait returns at once */
	assert_int_equal(model_ctx_wait(ctx, NULL, 0, 10000, &e), ERR_OK);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(g[i].n, 1);
		model_reply_release(g[i].r);
	}
	assert_int_equal(model_ctx_pending(ctx), 0);
	model_close(m);
	model_ctx_free(ctx);
}

static void test_open_errors(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = {0};
	struct model *m = NULL;
	struct errmsg e = {0};
	const char *bad[] = {"gpt-4", "nope/x", "baseline/magic", "openai/",
			     "/x"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg.name = bad[i];
		assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, bad[i]));
	}
	/* missing key names the model and the variable, never a key */
	unsetenv("OPENAI_API_KEY");
	cfg.name = "openai/gpt-4o";
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "openai/gpt-4o"));
	assert_non_null(strstr(e.text, "OPENAI_API_KEY"));
	unsetenv("ANTHROPIC_API_KEY");
	cfg.name = "anthropic/claude-sonnet-4";
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "ANTHROPIC_API_KEY"));
	/* compatible servers need a base URL */
	unsetenv("OPENAI_BASE_URL");
	cfg.name = "openai-compatible/llama";
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "base URL"));
	/* credentials in a URL are refused without echoing them */
	cfg.base_url = "http://user:sekrit@127.0.0.1:9/v1";
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	assert_null(strstr(e.text, "sekrit"));
	cfg.base_url = "ftp://x";
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	/* a key with a newline would inject a header */
	cfg.base_url = "http://127.0.0.1:9";
	setenv("OPENAI_API_KEY", "sk-abc\r\nX-Evil: 1", 1);
	cfg.name = "openai/gpt-4o";
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	assert_null(strstr(e.text, "sk-abc"));
	unsetenv("OPENAI_API_KEY");
	cfg.name = "openai/gpt-4o";
	cfg.params.reasoning_effort = "extreme";
	setenv("OPENAI_API_KEY", "sk-test", 1);
	assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_INVAL);
	unsetenv("OPENAI_API_KEY");
	cfg.params.reasoning_effort = NULL;
	cfg.name = "replay//nonexistent/file.json";
	assert_int_not_equal(model_open(ctx, &cfg, &m, &e), ERR_OK);
	model_ctx_free(ctx);
}


/* ---- request serialisation -------------------------------------------- */

static struct model *open_http(struct model_ctx *ctx, const char *name,
			       const char *base, struct model_config *over)
{
	struct model_config cfg = {.name = name, .base_url = base};
	struct model *m = NULL;
	struct errmsg e = {0};

	if (over)
		cfg = *over;
	cfg.name = name;
	cfg.base_url = base;
	if (!over) {
		cfg.params.temperature = -1;
		cfg.params.seed = -1;
	}
	if (model_open(ctx, &cfg, &m, &e))
		fail_msg("model_open(%s): %s", name, e.text);
	return m;
}

static struct model_tool_call hist_call = {"call_1", "bash",
					   "{\"cmd\":\"id\"}"};
static struct model_tool_call bad_call = {"call_2", "bash", "{not json"};

static const struct model_msg history[] = {
	{.role = MODEL_SYSTEM, .text = "you are a tester"},
	{.role = MODEL_USER, .text = "find the flag \xff"},
	{.role = MODEL_ASSISTANT, .text = "looking", .calls = &hist_call,
	 .n_calls = 1},
	{.role = MODEL_TOOL, .text = "uid=1000", .tool_call_id = "call_1",
	 .tool_name = "bash"},
	{.role = MODEL_ASSISTANT, .calls = &bad_call, .n_calls = 1},
	{.role = MODEL_TOOL, .text = "invalid JSON", .tool_call_id = "call_2",
	 .tool_name = "bash", .tool_error = true},
	{.role = MODEL_USER, .text = "keep going"},
};

static json_t *build_json(struct model *m, const struct model_request *req)
{
	struct buf b;
	struct errmsg e = {0};
	json_t *j;

	buf_init(&b, 0);
	assert_int_equal(m->ops->build(m, req, &b, &e), ERR_OK);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	buf_release(&b);
	return j;
}

/* With cache_wire the body is the same, each message is serialised once,
 * and an edited message (model_msg_changed) is serialised anew. */
static void test_openai_wire_cache(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = {0};
	struct model_msg msgs[ARRAY_SIZE(history)];
	struct model_request plain = {history, ARRAY_SIZE(history), tools, 3,
				      NULL, false};
	struct model_request cached = {msgs, ARRAY_SIZE(history), tools, 3,
				       NULL, true};
	struct model *m;
	json_t *a, *b;

	(void)state;
	memcpy(msgs, history, sizeof(msgs));
	setenv("OPENAI_API_KEY", "sk-unit-KEY", 1);
	m = open_http(ctx, "openai/gpt-4o", "http://127.0.0.1:9/v1/", &cfg);
	a = build_json(m, &plain);
	b = build_json(m, &cached);
	assert_true(json_equal(a, b));
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++)
		assert_non_null(msgs[i].wire);
	json_decref(b);
	b = build_json(m, &cached);            /* from the cache */
	assert_true(json_equal(a, b));
	json_decref(b);
	msgs[1].text = (char *)"edited";
	model_msg_changed(&msgs[1]);
	b = build_json(m, &cached);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(b, "messages"), 1), "content")), "edited");
	json_decref(a);
	json_decref(b);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++)
		free(msgs[i].wire);
	model_close(m);
	model_ctx_free(ctx);
}

static void test_openai_request(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = {0};
	struct model_request req = {history, ARRAY_SIZE(history), tools, 3,
				    NULL, false};
	struct model *m;
	json_t *j, *msgs, *t;

	(void)state;
	setenv("OPENAI_API_KEY", "sk-unit-KEY", 1);
	cfg.params = (struct model_params){0.5, 1000, "high", 7};
	m = open_http(ctx, "openai/gpt-4o", "http://127.0.0.1:9/v1/", &cfg);
	assert_string_equal(model_endpoint(m),
			    "http://127.0.0.1:9/v1/chat/completions");
	assert_int_equal(model_context_window(m), 128000);
	j = build_json(m, &req);
	assert_string_equal(json_string_value(json_object_get(j, "model")),
			    "gpt-4o");
	assert_int_equal(json_integer_value(
				 json_object_get(j, "max_completion_tokens")),
			 1000);
	assert_string_equal(
		json_string_value(json_object_get(j, "reasoning_effort")),
		"high");
	assert_int_equal(json_integer_value(json_object_get(j, "seed")), 7);
	msgs = json_object_get(j, "messages");
	assert_int_equal(json_array_size(msgs), 7);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(msgs, 0), "role")),
			    "system");
	/* invalid UTF-8 from the sandbox is replaced, not dropped */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(msgs, 1), "content")),
			    "find the flag \xef\xbf\xbd");
	t = json_array_get(json_object_get(json_array_get(msgs, 2),
					   "tool_calls"),
			   0);
	assert_string_equal(json_string_value(json_object_get(t, "id")),
			    "call_1");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(t, "function"), "arguments")),
			    "{\"cmd\":\"id\"}");
	/* malformed arguments go back exactly as the model wrote them */
	t = json_array_get(json_object_get(json_array_get(msgs, 4),
					   "tool_calls"),
			   0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(t, "function"), "arguments")),
			    "{not json");
	assert_true(json_is_null(
		json_object_get(json_array_get(msgs, 4), "content")));
	t = json_array_get(msgs, 3);
	assert_string_equal(json_string_value(json_object_get(t, "role")),
			    "tool");
	assert_string_equal(
		json_string_value(json_object_get(t, "tool_call_id")), "call_1");
	t = json_array_get(json_object_get(j, "tools"), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(t, "function"), "name")),
			    "submit");
	assert_true(json_is_object(json_object_get(
		json_object_get(t, "function"), "parameters")));
	json_decref(j);
	model_close(m);
	/* a key file: its first line, trimmed */
	{
		char *kf = write_tmp("  sk-from-file \nsecond line\n");
		cfg.key_file = kf;
		m = open_http(ctx, "openai/gpt-4o", "http://127.0.0.1:9/v1", &cfg);
		assert_string_equal(m->key, "sk-from-file");
		model_close(m);
		unlink(kf);
		free(kf);
		cfg.key_file = "/nonexistent/key";
		assert_int_not_equal(model_open(ctx, &cfg, &m, NULL), ERR_OK);
		cfg.key_file = NULL;
	}
	/* compatible servers: max_tokens, and no key needed */
	unsetenv("OPENAI_API_KEY");
	cfg.params = (struct model_params){-1, 50, NULL, -1};
	m = open_http(ctx, "openai-compatible/llama", "http://127.0.0.1:9/v1",
		      &cfg);
	assert_null(m->key);
	j = build_json(m, &req);
	assert_int_equal(json_integer_value(json_object_get(j, "max_tokens")),
			 50);
	assert_null(json_object_get(j, "temperature"));
	assert_null(json_object_get(j, "seed"));
	json_decref(j);
	model_close(m);
	model_ctx_free(ctx);
}

static void test_anthropic_request(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = {0};
	struct model_request req = {history, ARRAY_SIZE(history), tools, 3,
				    NULL, false};
	struct model *m;
	json_t *j, *msgs, *b;

	(void)state;
	setenv("ANTHROPIC_API_KEY", "ant-unit-KEY", 1);
	cfg.params = (struct model_params){0.2, 0, NULL, 3};
	m = open_http(ctx, "anthropic/claude-sonnet-4-20250514",
		      "http://127.0.0.1:9", &cfg);
	assert_string_equal(model_endpoint(m), "http://127.0.0.1:9/v1/messages");
	assert_int_equal(model_context_window(m), 200000);
	j = build_json(m, &req);
	assert_string_equal(json_string_value(json_object_get(j, "system")),
			    "you are a tester");
	assert_int_equal(json_integer_value(json_object_get(j, "max_tokens")),
			 8192);
	assert_null(json_object_get(j, "seed"));
	msgs = json_object_get(j, "messages");
	/* user, assistant, user(tool_result), assistant, user(result+text) */
	assert_int_equal(json_array_size(msgs), 5);
	b = json_array_get(json_object_get(json_array_get(msgs, 1), "content"),
			   1);
	assert_string_equal(json_string_value(json_object_get(b, "type")),
			    "tool_use");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(b, "input"), "cmd")),
			    "id");
	b = json_array_get(json_object_get(json_array_get(msgs, 2), "content"),
			   0);
	assert_string_equal(json_string_value(json_object_get(b, "type")),
			    "tool_result");
	assert_string_equal(json_string_value(json_object_get(b, "tool_use_id")),
			    "call_1");
	b = json_array_get(json_object_get(json_array_get(msgs, 3), "content"),
			   0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(b, "input"),
				    "invalid_arguments")),
			    "{not json");
	b = json_object_get(json_array_get(msgs, 4), "content");
	assert_int_equal(json_array_size(b), 2);
	assert_true(json_is_true(
		json_object_get(json_array_get(b, 0), "is_error")));
	assert_true(json_is_object(json_object_get(
		json_array_get(json_object_get(j, "tools"), 0), "input_schema")));
	json_decref(j);
	model_close(m);
	/* thinking: budget below max_tokens, no temperature */
	cfg.params = (struct model_params){0.2, 1000, "low", -1};
	m = open_http(ctx, "anthropic/claude-sonnet-4", "http://127.0.0.1:9",
		      &cfg);
	j = build_json(m, &req);
	assert_null(json_object_get(j, "temperature"));
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(j, "thinking"), "budget_tokens")),
			 2048);
	assert_true(json_integer_value(json_object_get(j, "max_tokens")) >
		    2048);
	json_decref(j);
	model_close(m);
	unsetenv("ANTHROPIC_API_KEY");
	model_ctx_free(ctx);
}

/* ---- reply parsing ---------------------------------------------------- */

static struct model_reply *parse(bool anth, const char *body, enum err want)
{
	struct model_reply *r = xcalloc(1, sizeof(*r));
	struct errmsg e = {0};
	enum err rc =
		anth ? model_anthropic_parse_reply(body, strlen(body), r, &e)
		     : model_openai_parse_reply(body, strlen(body), r, &e);

	assert_int_equal(rc, want);
	return r;
}

static void test_openai_parse(void **state)
{
	struct model_reply *r;

	(void)state;
	r = parse(false,
		  "{\"choices\":[{\"message\":{\"content\":\"x\",\"tool_calls\":"
		  "[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":"
		  "\"bash\",\"arguments\":\"{\\\"cmd\\\": 1\"}},{\"function\":"
		  "{\"name\":\"python\",\"arguments\":{\"code\":\"1\"}}}]},"
		  "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":"
		  "1000,\"completion_tokens\":50,\"prompt_tokens_details\":"
		  "{\"cached_tokens\":400}}}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_TOOL_CALLS);
	assert_string_equal(r->text, "x");
	assert_int_equal(r->n_calls, 2);
	assert_string_equal(r->calls[0].id, "c1");
	assert_string_equal(r->calls[0].arguments, "{\"cmd\": 1");
	assert_non_null(r->calls[1].id); /* generated */
	assert_string_equal(r->calls[1].arguments, "{\"code\":\"1\"}");
	assert_int_equal(r->usage.prompt_tokens, 1000);
	assert_int_equal(r->usage.completion_tokens, 50);
	assert_int_equal(r->usage.cached_tokens, 400);
	model_reply_release(r);
	r = parse(false,
		  "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":"
		  "\"no\"},\"finish_reason\":\"stop\"}]}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_REFUSAL);
	assert_string_equal(r->text, "no");
	model_reply_release(r);
	r = parse(false,
		  "{\"choices\":[{\"message\":{\"content\":\"a\"},"
		  "\"finish_reason\":\"length\"}]}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_MAX_TOKENS);
	model_reply_release(r);
	r = parse(false,
		  "{\"choices\":[{\"message\":{\"content\":\"\"},"
		  "\"finish_reason\":\"content_filter\"}]}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_REFUSAL);
	model_reply_release(r);
	model_reply_release(parse(false, "{\"choices\":[]}", ERR_PARSE));
	/* a message with nothing in it is the endpoint's fault, not an
	 * empty turn of the model */
	model_reply_release(parse(false, "{\"choices\":[{\"message\":"
				  "{\"role\":\"assistant\"}}]}", ERR_PARSE));
	model_reply_release(parse(false, "[1]", ERR_PARSE));
	model_reply_release(parse(false, "{\"choices\":[{\"message\":", ERR_PARSE));
	model_reply_release(
		parse(false, "{\"error\":{\"message\":\"boom\"}}", ERR_PARSE));
}

static void test_anthropic_parse(void **state)
{
	struct model_reply *r;

	(void)state;
	r = parse(true,
		  "{\"type\":\"message\",\"content\":[{\"type\":\"thinking\","
		  "\"thinking\":\"hm\",\"signature\":\"sig\"},{\"type\":\"text\","
		  "\"text\":\"ok\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\","
		  "\"name\":\"bash\",\"input\":{\"cmd\":\"ls\"}}],\"stop_reason\":"
		  "\"tool_use\",\"usage\":{\"input_tokens\":10,\"output_tokens\":"
		  "5,\"cache_read_input_tokens\":100,"
		  "\"cache_creation_input_tokens\":20}}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_TOOL_CALLS);
	assert_string_equal(r->text, "ok");
	assert_int_equal(r->n_calls, 1);
	assert_string_equal(r->calls[0].id, "toolu_1");
	assert_string_equal(r->calls[0].arguments, "{\"cmd\":\"ls\"}");
	assert_int_equal(r->usage.prompt_tokens, 130);
	assert_int_equal(r->usage.cached_tokens, 100);
	assert_int_equal(r->usage.completion_tokens, 5);
	assert_non_null(strstr(r->opaque, "\"signature\":\"sig\""));
	model_reply_release(r);
	r = parse(true,
		  "{\"content\":[{\"type\":\"text\",\"text\":\"no\"}],"
		  "\"stop_reason\":\"refusal\"}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_REFUSAL);
	model_reply_release(r);
	r = parse(true, "{\"content\":[],\"stop_reason\":\"max_tokens\"}",
		  ERR_OK);
	assert_int_equal(r->stop, MODEL_STOP_MAX_TOKENS);
	assert_null(r->text);
	model_reply_release(r);
	model_reply_release(parse(true,
				  "{\"type\":\"error\",\"error\":{\"type\":"
				  "\"overloaded_error\",\"message\":\"x\"}}",
				  ERR_PARSE));
	model_reply_release(parse(true, "nope", ERR_PARSE));
}

static void test_overflow_detect(void **state)
{
	static const char oa[] =
		"{\"error\":{\"code\":\"context_length_exceeded\"}}";
	static const char an[] = "{\"error\":{\"message\":\"prompt is too "
				 "long: 300000 tokens > 200000 maximum\"}}";
	static const char other[] = "{\"error\":{\"message\":\"bad key\"}}";

	(void)state;
	assert_true(model_openai_is_overflow(400, oa, strlen(oa)));
	assert_false(model_openai_is_overflow(500, oa, strlen(oa)));
	assert_false(model_openai_is_overflow(400, other, strlen(other)));
	assert_true(model_anthropic_is_overflow(400, an, strlen(an)));
	assert_false(model_anthropic_is_overflow(401, an, strlen(an)));
	assert_false(model_anthropic_is_overflow(400, other, strlen(other)));
}

/* ---- small pieces ----------------------------------------------------- */

static void test_retry_after(void **state)
{
	int64_t now = 1700000000; /* 2023-11-14T22:13:20Z */

	(void)state;
	assert_int_equal(model_http_parse_retry_after("5", now), 5000);
	assert_int_equal(model_http_parse_retry_after(" 12 \r\n", now), 12000);
	assert_int_equal(model_http_parse_retry_after("0", now), 0);
	assert_int_equal(model_http_parse_retry_after(
				 "Tue, 14 Nov 2023 22:13:50 GMT", now),
			 30000);
	assert_int_equal(model_http_parse_retry_after(
				 "Tue, 14 Nov 2023 22:00:00 GMT", now),
			 0);
	assert_int_equal(model_http_parse_retry_after("soon", now), -1);
	assert_int_equal(model_http_parse_retry_after("-3", now), -1);
	assert_int_equal(model_http_parse_retry_after("5s", now), -1);
	assert_int_equal(model_http_parse_retry_after("", now), -1);
	/* absurd, not absent: past every cap */
	assert_true(model_http_parse_retry_after("99999999999999999999", now) >
		    (int64_t)1000 * 1000 * 1000 * 1000);
}

static void test_redact(void **state)
{
	char *s;

	(void)state;
	s = model_redact("Incorrect API key provided: sk-proj-abc1***wxyz. "
			 "See docs.", NULL);
	assert_null(strstr(s, "abc1"));
	assert_non_null(strstr(s, "[redacted]"));
	assert_non_null(strstr(s, "See docs."));
	free(s);
	s = model_redact("key ant-SECRET-1 seen twice ant-SECRET-1", "ant-SECRET-1");
	assert_string_equal(s, "key [redacted] seen twice [redacted]");
	free(s);
}

static enum err parse_prices(const char *y, struct price_table **t,
			     struct errmsg *e)
{
	return model_price_table_parse("t.yaml", y, strlen(y), t, e);
}

static void test_prices(void **state)
{
	static const char y[] =
		"models:\n"
		"  openai/gpt-4o: {input: 2.5, output: 10, cached_input: 1.25,"
		" context_window: 128000}\n"
		"  anthropic/claude-sonnet-4: {input: 3, output: 15}\n";
	struct price_table *t = NULL;
	struct errmsg e = {0};
	struct price p;
	struct model_usage u = {1000000, 100000, 400000, 0, false};

	(void)state;
	assert_int_equal(model_price_table_parse("t.yaml", y, strlen(y), &t, &e),
			 ERR_OK);
	assert_true(model_price_table_find(t, "openai/gpt-4o-2024-08-06", &p));
	assert_true(p.input == 2.5);
	assert_int_equal(p.context_window, 128000);
	/* 600k uncached * 2.5 + 400k * 1.25 + 100k * 10, per million */
	assert_float_equal(model_price_cost(&p, &u), 1.5 + 0.5 + 1.0, 1e-9);
	assert_true(model_price_table_find(
		t, "anthropic/claude-sonnet-4-20250514", &p));
	assert_true(p.cached_input == 3); /* defaults to input */
	assert_false(model_price_table_find(t, "openai/gpt-4o-mini", &p));
	assert_false(model_price_table_find(t, "openai-compatible/gpt-4o", &p));
	model_price_table_free(t);
	assert_int_equal(parse_prices("models: {a/b: {input: -1, output: 1}}",
				      &t, &e),
			 ERR_PARSE);
	assert_non_null(strstr(e.text, "t.yaml:1"));
	assert_int_equal(parse_prices("models: {a/b: {input: 1}}", &t, &e),
			 ERR_PARSE);
	assert_int_equal(parse_prices("models: {a/b: {input: 1, output: 1, "
				      "color: 2}}",
				      &t, &e),
			 ERR_PARSE);
	assert_int_equal(parse_prices("models: [1]", &t, &e), ERR_PARSE);
	/* the shipped table parses and knows the common models */
	{
		const char *src = getenv("ASSAY_SOURCE_DIR");
		char *path;
		if (!src)
			return;
		path = xasprintf("%s/data/prices.yaml", src);
		assert_int_equal(model_price_table_load(path, &t, &e), ERR_OK);
		assert_true(model_price_table_find(t, "openai/gpt-4.1", &p));
		assert_true(model_price_table_find(t, "anthropic/claude-sonnet-4-5", &p));
		model_price_table_free(t);
		free(path);
	}
}

static void test_utf8_fix(void **state)
{
	char *s;

	(void)state;
	s = model_utf8_fix("a\xc3\xa9" "b", 4);
	assert_string_equal(s, "a\xc3\xa9" "b");
	free(s);
	s = model_utf8_fix("\xc3(\xed\xa0\x80z", 6); /* bad, surrogate */
	assert_string_equal(s, "\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd"
			       "\xef\xbf\xbdz");
	free(s);
	s = model_utf8_fix("a\0b", 3);       /* NUL cannot travel in JSON */
	assert_string_equal(s, "a\xef\xbf\xbd" "b");
	free(s);
}

/* ---- replay ----------------------------------------------------------- */


static void test_replay(void **state)
{
	char *f = write_tmp(
		"{\"format\":\"assay-replay/1\",\"turns\":["
		"{\"text\":\"look\",\"tool_calls\":[{\"id\":\"r1\",\"name\":"
		"\"bash\",\"arguments\":{\"cmd\":\"ls\"}}],\"usage\":"
		"{\"prompt_tokens\":10,\"completion_tokens\":2,\"cost_usd\":0.5}},"
		"{\"tool_calls\":[{\"name\":\"bash\",\"arguments\":\"{oops\"}]},"
		"{\"fail\":\"infra\",\"error\":\"HTTP 500 recorded\"}]}");
	char *name = xasprintf("replay/%s", f);
	struct model_ctx *ctx = new_ctx();
	struct model *m = open_model(ctx, name);
	struct model_msg msgs[5] = {{.role = MODEL_USER, .text = "go"}};
	struct model_request req = {msgs, 1, tools, 3, NULL, false};
	struct model_reply *r;

	(void)state;
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_NONE);
	assert_string_equal(r->text, "look");
	assert_string_equal(r->calls[0].id, "r1");
	assert_string_equal(r->calls[0].arguments, "{\"cmd\":\"ls\"}");
	assert_int_equal(r->usage.prompt_tokens, 10);
	assert_float_equal(r->usage.cost_usd, 0.5, 1e-12);
	msgs[1] = (struct model_msg){.role = MODEL_ASSISTANT,
				     .calls = r->calls, .n_calls = 1};
	req.n_msgs = 2;
	{
		struct model_reply *r2 = run_call(ctx, m, &req);
		assert_string_equal(r2->calls[0].arguments, "{oops");
		assert_int_equal(r2->stop, MODEL_STOP_TOOL_CALLS);
		model_reply_release(r2);
	}
	msgs[2] = msgs[1];
	req.n_msgs = 3;
	{
		struct model_reply *r3 = run_call(ctx, m, &req);
		assert_int_equal(r3->fail, MODEL_FAIL_INFRA);
		assert_string_equal(r3->error, "HTTP 500 recorded");
		model_reply_release(r3);
	}
	msgs[3] = msgs[1];
	req.n_msgs = 4;
	{
		struct model_reply *r4 = run_call(ctx, m, &req);
		assert_int_equal(r4->fail, MODEL_FAIL_MODEL);
		assert_non_null(strstr(r4->error, "replay exhausted"));
		model_reply_release(r4);
	}
	model_reply_release(r);
	model_close(m);
	free(name);
	unlink(f);
	free(f);
	/* bad files name the file */
	{
		const char *bad[] = {
			"{\"format\":\"x\",\"turns\":[]}",
			"{\"format\":\"assay-replay/1\",\"turns\":[{\"tool_calls\":[{}]}]}",
			"{\"format\":\"assay-replay/1\",\"turns\":[{\"stop\":\"maybe\"}]}",
			"{\"format\":\"assay-replay/1\",\"turns\":[{\"fail\":\"x\"}]}",
			"not json",
		};
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			struct model_config cfg = {0};
			struct errmsg e = {0};
			f = write_tmp(bad[i]);
			name = xasprintf("replay/%s", f);
			cfg.name = name;
			assert_int_equal(model_open(ctx, &cfg, &m, &e), ERR_PARSE);
			assert_non_null(strstr(e.text, f));
			unlink(f);
			free(f);
			free(name);
		}
	}
	model_ctx_free(ctx);
}


/* ---- end to end against the mock server -------------------------------- */

struct mock {
	pid_t pid;
	int port;
	char *script, *log;
	char base[64];
};

/* $MOCKMODEL, else the mockmodel built next to this test. */
static const char *mock_path(void)
{
	static char path[4096];
	const char *env = getenv("MOCKMODEL");
	ssize_t n;
	char *slash;

	if (env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "%s",
		 "mockmodel");
	return access(path, X_OK) == 0 ? path : NULL;
}

static bool mock_start(struct mock *mk, const char *script)
{
	const char *bin = mock_path();
	int pfd[2];
	char line[32] = {0};
	ssize_t n;

	if (!bin || !*bin)
		return false;
	memset(mk, 0, sizeof(*mk));
	mk->script = write_tmp(script);
	mk->log = xasprintf("%s.log", mk->script);
	assert_int_equal(pipe(pfd), 0);
	mk->pid = fork();
	if (mk->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(bin, bin, "--script", mk->script, "--log", mk->log,
		      "--idle-exit", "120", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	assert_true(n > 0);
	mk->port = (int)strtol(line, NULL, 10);
	assert_true(mk->port > 0);
	snprintf(mk->base, sizeof(mk->base), "http://127.0.0.1:%d", mk->port);
	return true;
}

static char *mock_log(const struct mock *mk)
{
	char *data = NULL;
	size_t len;
	struct errmsg e = {0};

	if (file_read(mk->log, 64 << 20, &data, &len, &e))
		return xstrdup("");
	return data;
}

/* Request i (from 0) as the mock logged it; caller decrefs. */
static json_t *mock_request(const struct mock *mk, size_t i)
{
	char *log = mock_log(mk), *p = log;
	json_t *j = NULL;

	for (size_t k = 0; p && *p; k++) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (k == i) {
			j = json_loads(p, 0, NULL);
			break;
		}
		p = nl ? nl + 1 : NULL;
	}
	free(log);
	assert_non_null(j);
	return j;
}

/* How many logged request bodies contain `needle`. */
static int count_in_bodies(const struct mock *mk, const char *needle)
{
	char *log = mock_log(mk), *p = log;
	int hits = 0;

	while (p && *p) {
		char *nl = strchr(p, '\n');
		json_t *j;
		char *body;
		if (nl)
			*nl = '\0';
		j = json_loads(p, 0, NULL);
		assert_non_null(j);
		body = json_dumps(json_object_get(j, "body"), JSON_ENCODE_ANY);
		hits += strstr(body, needle) != NULL;
		free(body);
		json_decref(j);
		p = nl ? nl + 1 : NULL;
	}
	free(log);
	return hits;
}

static void mock_stop(struct mock *mk)
{
	kill(mk->pid, SIGTERM);
	waitpid(mk->pid, NULL, 0);
	unlink(mk->script);
	unlink(mk->log);
	free(mk->script);
	free(mk->log);
}

#define NEED_MOCK(mk, script)                                               \
	do {                                                                \
		if (!mock_start(mk, script)) {                              \
			if (getenv("CI") && !strcmp(getenv("CI"), "true"))  \
				fail_msg("MOCKMODEL is not set, and CI=true"); \
			print_message("SKIP: MOCKMODEL is not set (path of " \
				      "the built mockmodel tool)\n");       \
			skip();                                             \
		}                                                           \
	} while (0)

static struct model_config fast_cfg(int retries)
{
	struct model_config cfg = {0};

	cfg.params.temperature = -1;
	cfg.params.seed = -1;
	cfg.max_retries = retries;
	cfg.backoff_base_ms = 10;
	cfg.backoff_max_ms = 40;
	cfg.first_byte_timeout_ms = 2000;
	cfg.total_timeout_ms = 10000;
	cfg.connect_timeout_ms = 2000;
	return cfg;
}

static const struct model_msg short_conv[] = {
	{.role = MODEL_SYSTEM, .text = "sys"},
	{.role = MODEL_USER, .text = "hello"},
	{.role = MODEL_ASSISTANT, .text = "t", .calls = &hist_call,
	 .n_calls = 1},
	{.role = MODEL_TOOL, .text = "uid=1000(agent)",
	 .tool_call_id = "call_1", .tool_name = "bash"},
};

static void test_e2e_openai(void **state)
{
	struct mock mk;
	struct model_ctx *ctx;
	struct model_config cfg = fast_cfg(2);
	struct model_request req = {short_conv, 4, tools, 3, NULL, false};
	struct model *m;
	struct model_reply *r;
	char *log, *base;
	json_t *log_req, *body;

	(void)state;
	NEED_MOCK(&mk, "{\"kind\":\"tool_call\",\"name\":\"bash\","
		       "\"arguments\":{\"cmd\":\"cat /flag\"},\"usage\":"
		       "{\"prompt\":1000,\"completion\":100,\"cached\":200}}\n"
		       "{\"kind\":\"text\",\"text\":\"bye\",\"latency_ms\":300}\n");
	ctx = new_ctx();
	setenv("OPENAI_API_KEY", "sk-e2e-SECRET-123", 1);
	base = xasprintf("%s/v1", mk.base);
	m = open_http(ctx, "openai/gpt-4o", base, &cfg);
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_NONE);
	assert_int_equal(r->stop, MODEL_STOP_TOOL_CALLS);
	assert_int_equal(r->n_calls, 1);
	assert_string_equal(r->calls[0].name, "bash");
	assert_string_equal(r->calls[0].arguments, "{\"cmd\":\"cat /flag\"}");
	assert_int_equal(r->usage.prompt_tokens, 1000);
	assert_int_equal(r->usage.cached_tokens, 200);
	assert_int_equal(r->http_status, 200);
	assert_int_equal(r->attempts, 1);
	if (getenv("ASSAY_SOURCE_DIR")) {
		/* 800*2.5 + 200*1.25 + 100*10 per million */
		assert_false(r->usage.price_unknown);
		assert_float_equal(r->usage.cost_usd, 0.00325, 1e-12);
	}
	model_reply_release(r);
	r = run_call(ctx, m, &req);
	assert_string_equal(r->text, "bye");
	assert_int_equal(r->stop, MODEL_STOP_END_TURN);
	assert_true(r->latency_ms >= 300);
	model_reply_release(r);
	log_req = mock_request(&mk, 0);
	assert_string_equal(json_string_value(json_object_get(log_req, "path")),
			    "/v1/chat/completions");
	assert_string_equal(
		json_string_value(json_object_get(log_req, "authorization")),
		"Bearer sk-e2e-SECRET-123");
	body = json_object_get(log_req, "body");
	assert_string_equal(json_string_value(json_object_get(body, "model")),
			    "gpt-4o");
	assert_int_equal(json_array_size(json_object_get(body, "messages")), 4);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(body, "messages"), 3),
			"tool_call_id")),
		"call_1");
	json_decref(log_req);
	log = mock_log(&mk);
	assert_non_null(strstr(log, "\"n\":2"));
	assert_int_equal(count_in_bodies(&mk, "SECRET"), 0);
	free(log);
	model_close(m);
	unsetenv("OPENAI_API_KEY");
	model_ctx_free(ctx);
	free(base);
	mock_stop(&mk);
}

struct fault_case {
	const char *what;
	bool anthropic;
	const char *script;
	int retries;
	int first_byte_ms;
	enum model_fail fail;
	enum model_stop stop;
	int attempts;
	int rate_limited;
	const char *error_has;     /* NULL: no error expected */
	int64_t min_total_ms;
};

static const struct fault_case faults[] = {
	{"429 with Retry-After then ok", false,
	 "{\"kind\":\"status\",\"status\":429,\"retry_after\":\"1\"}\n"
	 "{\"kind\":\"text\",\"text\":\"ok\"}\n",
	 3, 0, MODEL_FAIL_NONE, MODEL_STOP_END_TURN, 2, 1, NULL, 1000},
	{"500 twice then a tool call", false,
	 "{\"kind\":\"status\",\"status\":500}\n"
	 "{\"kind\":\"status\",\"status\":500}\n"
	 "{\"kind\":\"tool_call\",\"name\":\"bash\",\"arguments\":{}}\n",
	 3, 0, MODEL_FAIL_NONE, MODEL_STOP_TOOL_CALLS, 3, 0, NULL, 0},
	{"529 until retries run out", true,
	 "{\"kind\":\"status\",\"status\":529}\n"
	 "{\"kind\":\"status\",\"status\":529}\n"
	 "{\"kind\":\"status\",\"status\":529}\n",
	 2, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 3, 3, "HTTP 529", 0},
	{"hang hits the first-byte timeout", false,
	 "{\"kind\":\"hang\"}\n{\"kind\":\"hang\"}\n",
	 1, 300, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 2, 0, "first-byte", 600},
	{"hang then ok", true,
	 "{\"kind\":\"hang\"}\n{\"kind\":\"text\",\"text\":\"ok\"}\n",
	 1, 300, MODEL_FAIL_NONE, MODEL_STOP_END_TURN, 2, 0, NULL, 300},
	{"truncated body", false,
	 "{\"kind\":\"truncated\"}\n{\"kind\":\"truncated\"}\n",
	 1, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 2, 0, "truncated", 0},
	{"malformed JSON", true,
	 "{\"kind\":\"malformed\"}\n{\"kind\":\"malformed\"}\n",
	 1, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 2, 0, "malformed", 0},
	{"wrong content type", false,
	 "{\"kind\":\"content_type\"}\n{\"kind\":\"content_type\"}\n",
	 1, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 2, 0, "content type", 0},
	{"enormous body", false, "{\"kind\":\"huge\"}\n",
	 3, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 1, 0, "too large", 0},
	{"enormous chunked body", true,
	 "{\"kind\":\"huge\",\"chunked\":true}\n",
	 3, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 1, 0, "too large", 0},
	{"connection closed", false, "{\"kind\":\"close\"}\n{\"kind\":\"close\"}\n",
	 1, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 2, 0, "connection", 0},
	{"refusal (openai)", false, "{\"kind\":\"refusal\"}\n",
	 3, 0, MODEL_FAIL_MODEL, MODEL_STOP_REFUSAL, 1, 0, "refused", 0},
	{"refusal (anthropic)", true, "{\"kind\":\"refusal\"}\n",
	 3, 0, MODEL_FAIL_MODEL, MODEL_STOP_REFUSAL, 1, 0, "refused", 0},
	{"context overflow (openai)", false, "{\"kind\":\"overflow\"}\n",
	 3, 0, MODEL_FAIL_MODEL, MODEL_STOP_CONTEXT_OVERFLOW, 1, 0,
	 "maximum context length", 0},
	{"context overflow (anthropic)", true, "{\"kind\":\"overflow\"}\n",
	 3, 0, MODEL_FAIL_MODEL, MODEL_STOP_CONTEXT_OVERFLOW, 1, 0,
	 "prompt is too long", 0},
	{"401 is the operator's problem", false,
	 "{\"kind\":\"status\",\"status\":401}\n",
	 3, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 1, 0, "HTTP 401", 0},
	{"malformed tool call is the model's output", false,
	 "{\"kind\":\"tool_call\",\"name\":\"bash\",\"arguments\":\"{cmd: ls\"}\n",
	 3, 0, MODEL_FAIL_NONE, MODEL_STOP_TOOL_CALLS, 1, 0, NULL, 0},
	{"script exhausted (418)", true, "",
	 3, 0, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, 1, 0, "HTTP 418", 0},
};

static void run_fault(const struct fault_case *fc)
{
	struct mock mk;
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(fc->retries);
	struct model_request req = {short_conv, 4, tools, 3, NULL, false};
	struct model *m;
	struct model_reply *r;
	char *base;

	if (!mock_start(&mk, fc->script)) {
		model_ctx_free(ctx);
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("MOCKMODEL is not set, and CI=true");
		print_message("SKIP: MOCKMODEL is not set\n");
		skip();
	}
	if (fc->first_byte_ms)
		cfg.first_byte_timeout_ms = fc->first_byte_ms;
	setenv("OPENAI_API_KEY", "sk-fault-SECRET", 1);
	setenv("ANTHROPIC_API_KEY", "ant-fault-SECRET", 1);
	base = fc->anthropic ? xstrdup(mk.base) : xasprintf("%s/v1", mk.base);
	m = open_http(ctx, fc->anthropic ? "anthropic/claude-sonnet-4"
					 : "openai/gpt-4o",
		      base, &cfg);
	r = run_call(ctx, m, &req);
	print_message("  %s: fail=%d stop=%d attempts=%d rl=%d total=%lldms "
		      "error=%s\n",
		      fc->what, r->fail, r->stop, r->attempts, r->rate_limited,
		      (long long)r->total_ms, r->error ? r->error : "-");
	assert_int_equal(r->fail, fc->fail);
	assert_int_equal(r->stop, fc->stop);
	assert_int_equal(r->attempts, fc->attempts);
	assert_int_equal(r->rate_limited, fc->rate_limited);
	assert_true(r->total_ms >= fc->min_total_ms);
	assert_int_equal(model_ctx_take_rate_limits(ctx),
			 (unsigned)fc->rate_limited);
	assert_int_equal(model_ctx_take_rate_limits(ctx), 0);
	if (fc->error_has) {
		assert_non_null(r->error);
		assert_non_null(strstr(r->error, fc->error_has));
		assert_null(strstr(r->error, "SECRET"));
		/* failures name the model and the endpoint */
		assert_non_null(strstr(r->error, model_name(m)));
		assert_non_null(strstr(r->error, mk.base));
	} else {
		assert_true(r->fail == MODEL_FAIL_NONE);
	}
	assert_int_equal(count_in_bodies(&mk, "SECRET"), 0);
	if (!strcmp(fc->what, "malformed tool call is the model's output"))
		assert_string_equal(r->calls[0].arguments, "{cmd: ls");
	model_reply_release(r);
	model_close(m);
	model_ctx_free(ctx);
	unsetenv("OPENAI_API_KEY");
	unsetenv("ANTHROPIC_API_KEY");
	free(base);
	mock_stop(&mk);
}

static void test_e2e_faults(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(faults); i++)
		run_fault(&faults[i]);
}

static void test_e2e_anthropic(void **state)
{
	struct mock mk;
	struct model_ctx *ctx;
	struct model_config cfg = fast_cfg(1);
	struct model_request req = {short_conv, 4, tools, 3, NULL, false};
	struct model *m;
	struct model_reply *r;
	json_t *lr, *body;

	(void)state;
	NEED_MOCK(&mk, "{\"kind\":\"tool_call\",\"name\":\"submit\","
		       "\"arguments\":{\"flag\":\"f{1}\"},\"usage\":{\"prompt\":"
		       "500,\"completion\":10,\"cached\":100}}\n");
	ctx = new_ctx();
	setenv("ANTHROPIC_API_KEY", "ant-e2e-SECRET", 1);
	m = open_http(ctx, "anthropic/claude-sonnet-4", mk.base, &cfg);
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_NONE);
	assert_int_equal(r->stop, MODEL_STOP_TOOL_CALLS);
	assert_string_equal(r->calls[0].name, "submit");
	assert_string_equal(r->calls[0].arguments, "{\"flag\":\"f{1}\"}");
	assert_int_equal(r->usage.prompt_tokens, 500);
	assert_int_equal(r->usage.cached_tokens, 100);
	model_reply_release(r);
	lr = mock_request(&mk, 0);
	assert_string_equal(json_string_value(json_object_get(lr, "path")),
			    "/v1/messages");
	assert_string_equal(json_string_value(json_object_get(lr, "x_api_key")),
			    "ant-e2e-SECRET");
	assert_string_equal(
		json_string_value(json_object_get(lr, "anthropic_version")),
		"2023-06-01");
	assert_string_equal(json_string_value(json_object_get(lr, "authorization")),
			    "");
	body = json_object_get(lr, "body");
	assert_string_equal(json_string_value(json_object_get(body, "system")),
			    "sys");
	assert_int_equal(count_in_bodies(&mk, "SECRET"), 0);
	json_decref(lr);
	model_close(m);
	unsetenv("ANTHROPIC_API_KEY");
	model_ctx_free(ctx);
	mock_stop(&mk);
}

/* Calls overlap on the one multi handle; extra fds wake the wait. */
static void test_e2e_concurrent(void **state)
{
	struct mock mk;
	struct model_ctx *ctx;
	struct model_config cfg = fast_cfg(1);
	struct model_request req = {short_conv, 2, tools, 3, NULL, false};
	struct model *m;
	struct got g[20] = {{0}};
	struct errmsg e = {0};
	struct buf script;
	int64_t t0;
	int pfd[2];
	struct pollfd pf;
	bool all;

	(void)state;
	buf_init(&script, 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(buf_adds(&script, "{\"kind\":\"text\","
						   "\"latency_ms\":500}\n"),
				 ERR_OK);
	assert_int_equal(buf_adds(&script, "{\"kind\":\"hang\"}\n"), ERR_OK);
	if (!mock_start(&mk, script.data)) {
		buf_release(&script);
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("MOCKMODEL is not set, and CI=true");
		print_message("SKIP: MOCKMODEL is not set\n");
		skip();
	}
	buf_release(&script);
	ctx = new_ctx();
	m = open_http(ctx, "openai-compatible/local", mk.base, &cfg);
	t0 = now_ms();
	for (int i = 0; i < 20; i++)
		assert_int_equal(model_call_start(m, &req, on_done, &g[i], &e),
				 ERR_OK);
	do {
		assert_int_equal(model_ctx_wait(ctx, NULL, 0, 1000, &e), ERR_OK);
		assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
		all = true;
		for (int i = 0; i < 20; i++)
			all = all && g[i].n == 1;
	} while (!all && now_ms() - t0 < 10000);
	assert_true(all);
	/* 20 x 500 ms in parallel, not in series */
	assert_true(now_ms() - t0 < 3000);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(g[i].r->fail, MODEL_FAIL_NONE);
		assert_true(g[i].r->usage.price_unknown);
		assert_true(g[i].r->usage.cost_usd == 0);
		model_reply_release(g[i].r);
	}
	/* a hanging call in flight; a pipe becoming readable wakes us */
	memset(g, 0, sizeof(g));
	assert_int_equal(model_call_start(m, &req, on_done, &g[0], &e), ERR_OK);
	assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], "x", 1), 1);
	pf = (struct pollfd){.fd = pfd[0], .events = POLLIN};
	t0 = now_ms();
	assert_int_equal(model_ctx_wait(ctx, &pf, 1, 5000, &e), ERR_OK);
	assert_true(now_ms() - t0 < 1000);
	assert_true(pf.revents & POLLIN);
	assert_int_equal(model_ctx_pending(ctx), 1);
	/* closing the model drops the call without a callback */
	model_close(m);
	assert_int_equal(model_ctx_pending(ctx), 0);
	assert_int_equal(g[0].n, 0);
	close(pfd[0]);
	close(pfd[1]);
	model_ctx_free(ctx);
	mock_stop(&mk);
}

/* Nothing listens and nothing ever answered: a wrong URL, fatal at once
 * (not retried), and the context remembers it for the engine. */
static void test_e2e_unreachable(void **state)
{
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(2);
	struct model_msg msg = {.role = MODEL_USER, .text = "x"};
	struct model_request req = {&msg, 1, NULL, 0, NULL, false};
	struct model *m;
	struct model_reply *r;

	(void)state;
	/* port 1 on loopback: refused */
	m = open_http(ctx, "openai-compatible/x", "http://127.0.0.1:1/v1", &cfg);
	assert_null(model_ctx_fatal(ctx));
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_INFRA);
	assert_true(r->fatal);
	assert_int_equal(r->attempts, 1);
	assert_non_null(strstr(r->error, "connection failed"));
	assert_non_null(strstr(r->error, "http://127.0.0.1:1/v1"));
	assert_non_null(strstr(r->error, "check the base URL"));
	assert_non_null(model_ctx_fatal(ctx));
	assert_string_equal(model_ctx_fatal(ctx), r->error);
	model_reply_release(r);
	model_close(m);
	model_ctx_free(ctx);
}

/* Once the endpoint answered, losing it is an outage, not a wrong URL:
 * retried, never fatal. */
static void test_e2e_lost_later(void **state)
{
	struct mock mk;
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(2);
	struct model_msg msg = {.role = MODEL_USER, .text = "x"};
	struct model_request req = {&msg, 1, NULL, 0, NULL, false};
	struct model *m;
	struct model_reply *r;

	(void)state;
	NEED_MOCK(&mk, "{\"kind\":\"text\",\"text\":\"hi\"}\n");
	m = open_http(ctx, "openai-compatible/x", mk.base, &cfg);
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_NONE);
	model_reply_release(r);
	mock_stop(&mk);
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_INFRA);
	assert_false(r->fatal);
	assert_int_equal(r->attempts, 3);
	assert_null(model_ctx_fatal(ctx));
	model_reply_release(r);
	model_close(m);
	model_ctx_free(ctx);
}

struct fatal_case {
	const char *what;
	bool anthropic;
	const char *script;
	bool fatal;
	int attempts;
	const char *error_has;
};

static const struct fatal_case fatal_cases[] = {
	{"401 names the status, the message and the key variable", false,
	 "{\"kind\":\"status\",\"status\":401,\"message\":\"Incorrect API "
	 "key provided: sk-abc***xyz\",\"code\":\"invalid_api_key\"}\n",
	 true, 1, "HTTP 401: Incorrect API key provided"},
	{"401 (anthropic)", true,
	 "{\"kind\":\"status\",\"status\":401,\"message\":\"invalid x-api-key\"}\n",
	 true, 1, "check ANTHROPIC_API_KEY"},
	{"403", false, "{\"kind\":\"status\",\"status\":403}\n", true, 1,
	 "HTTP 403"},
	{"404 unknown model", false,
	 "{\"kind\":\"status\",\"status\":404,\"message\":\"The model "
	 "'gpt-x' does not exist\",\"code\":\"model_not_found\"}\n",
	 true, 1, "check the model name and the base URL"},
	{"400 before any success: a parameter", false,
	 "{\"kind\":\"status\",\"status\":400,\"message\":\"Unsupported "
	 "parameter: 'temperature'\"}\n", true, 1, "check the model's parameters"},
	{"429 out of quota", false,
	 "{\"kind\":\"status\",\"status\":429,\"message\":\"You exceeded "
	 "your current quota\",\"code\":\"insufficient_quota\"}\n",
	 true, 1, "quota"},
	{"429 rate limit is not fatal", false,
	 "{\"kind\":\"status\",\"status\":429,\"retry_after\":\"0\"}\n"
	 "{\"kind\":\"text\"}\n", false, 2, NULL},
	{"absurd Retry-After is capped and said", false,
	 "{\"kind\":\"status\",\"status\":503,\"retry_after\":\"99999999\"}\n"
	 "{\"kind\":\"status\",\"status\":503,\"retry_after\":\"99999999\"}\n",
	 false, 2, "Retry-After 99999999 s capped at 0 s"},
	{"\\u0000, a lone surrogate and a huge integer are a valid reply", false,
	 "{\"kind\":\"raw\",\"body\":\"{\\\"choices\\\":[{\\\"message\\\":"
	 "{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"a\\\\u0000b"
	 "\\\\ud800c\\\"},\\\"finish_reason\\\":\\\"stop\\\"}],\\\"usage\\\":"
	 "{\\\"prompt_tokens\\\":123456789012345678901234567890}}\"}\n",
	 false, 1, NULL},
	{"odd JSON (anthropic)", true,
	 "{\"kind\":\"raw\",\"body\":\"{\\\"type\\\":\\\"message\\\","
	 "\\\"content\\\":[{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
	 "\\\"x\\\\u0000y\\\"}],\\\"stop_reason\\\":\\\"end_turn\\\"}\"}\n",
	 false, 1, NULL},
};

static void run_fatal(const struct fatal_case *fc)
{
	struct mock mk;
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(1);
	struct model_request req = {short_conv, 2, tools, 3, NULL, false};
	struct model *m;
	struct model_reply *r;
	char *base;
	int64_t t0;

	if (!mock_start(&mk, fc->script)) {
		model_ctx_free(ctx);
		print_message("SKIP: MOCKMODEL is not set\n");
		skip();
	}
	cfg.retry_after_cap_ms = 1; /* "capped at 0 s" */
	setenv("OPENAI_API_KEY", "sk-fatal-SECRET", 1);
	setenv("ANTHROPIC_API_KEY", "ant-fatal-SECRET", 1);
	base = fc->anthropic ? xstrdup(mk.base) : xasprintf("%s/v1", mk.base);
	m = open_http(ctx, fc->anthropic ? "anthropic/claude-sonnet-4"
					 : "openai/gpt-4o", base, &cfg);
	t0 = now_ms();
	r = run_call(ctx, m, &req);
	print_message("  %s: fail=%d fatal=%d attempts=%d error=%s\n", fc->what,
		      r->fail, r->fatal, r->attempts, r->error ? r->error : "-");
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(r->fatal, fc->fatal);
	assert_int_equal(r->attempts, fc->attempts);
	if (fc->fatal) {
		assert_int_equal(r->fail, MODEL_FAIL_INFRA);
		assert_non_null(model_ctx_fatal(ctx));
		assert_non_null(strstr(r->error, fc->anthropic ?
				       "anthropic/claude-sonnet-4 at " :
				       "openai/gpt-4o at "));
		assert_non_null(strstr(r->error, base));
		assert_null(strstr(r->error, "SECRET"));
		assert_null(strstr(r->error, "sk-abc"));
	} else {
		assert_null(model_ctx_fatal(ctx));
	}
	if (fc->error_has) {
		assert_non_null(r->error);
		assert_non_null(strstr(r->error, fc->error_has));
	}
	if (!fc->error_has && !fc->fatal) {
		assert_int_equal(r->fail, MODEL_FAIL_NONE);
		if (strstr(fc->what, "u0000")) {
			/* nothing after the NUL is lost */
			assert_string_equal(r->text, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
		}
		if (fc->anthropic)
			assert_string_equal(r->text, "x\xef\xbf\xbdy");
	}
	model_reply_release(r);
	model_close(m);
	model_ctx_free(ctx);
	unsetenv("OPENAI_API_KEY");
	unsetenv("ANTHROPIC_API_KEY");
	free(base);
	mock_stop(&mk);
}

static void test_e2e_fatal(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fatal_cases); i++)
		run_fatal(&fatal_cases[i]);
}

/* A 400 after the endpoint succeeded belongs to one conversation: not
 * fatal. At the preflight a 400 is fatal, a 5xx storm an outage. */
static void test_e2e_400_later_and_preflight(void **state)
{
	struct mock mk;
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(1);
	struct model_request req = {short_conv, 2, NULL, 0, NULL, false};
	struct model *m;
	struct model_reply *r;
	struct got g = {0};
	struct errmsg e = {0};
	json_t *lr;

	(void)state;
	NEED_MOCK(&mk, "{\"kind\":\"text\",\"for\":\"preflight\"}\n"
		       "{\"kind\":\"status\",\"status\":400,\"message\":\"bad "
		       "tool_call_id\"}\n"
		       "{\"kind\":\"status\",\"status\":503,\"for\":\"preflight\"}\n"
		       "{\"kind\":\"status\",\"status\":503,\"for\":\"preflight\"}\n");
	m = open_http(ctx, "openai-compatible/x", mk.base, &cfg);
	assert_int_equal(model_preflight_start(m, tools, 3, on_done, &g, &e), ERR_OK);
	while (!g.n) {
		assert_int_equal(model_ctx_wait(ctx, NULL, 0, 1000, &e), ERR_OK);
		assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
	}
	assert_int_equal(g.r->fail, MODEL_FAIL_NONE);
	model_reply_release(g.r);
	lr = mock_request(&mk, 0);
	assert_non_null(strstr(json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(lr, "body"),
			"messages"), 0), "content")), "assay preflight"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(lr,
		"body"), "max_tokens")), 16);
	assert_non_null(json_object_get(json_object_get(lr, "body"), "tools"));
	json_decref(lr);
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_INFRA);
	assert_false(r->fatal);
	assert_int_equal(r->attempts, 1);
	model_reply_release(r);
	/* a preflight that runs out of retries on 5xx is not fatal: the
	 * endpoint is down, and the next probe (answered) succeeds */
	memset(&g, 0, sizeof(g));
	assert_int_equal(model_preflight_start(m, NULL, 0, on_done, &g, &e), ERR_OK);
	while (!g.n) {
		assert_int_equal(model_ctx_wait(ctx, NULL, 0, 1000, &e), ERR_OK);
		assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
	}
	assert_int_equal(g.r->fail, MODEL_FAIL_NONE);
	assert_int_equal(g.r->attempts, 3);
	model_reply_release(g.r);
	model_close(m);
	model_ctx_free(ctx);
	mock_stop(&mk);
}

static struct model_reply *preflight_of(const char *script, int64_t outage_ms)
{
	struct mock mk;
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(1);
	struct model *m;
	struct got g = {0};
	struct errmsg e = {0};

	cfg.outage_deadline_ms = outage_ms;
	if (!mock_start(&mk, script)) {
		model_ctx_free(ctx);
		return NULL;
	}
	m = open_http(ctx, "openai-compatible/x", mk.base, &cfg);
	assert_int_equal(model_preflight_start(m, NULL, 0, on_done, &g, &e), ERR_OK);
	while (!g.n) {
		assert_int_equal(model_ctx_wait(ctx, NULL, 0, 1000, &e), ERR_OK);
		assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
	}
	model_close(m);
	model_ctx_free(ctx);
	mock_stop(&mk);
	return g.r;
}

/* The preflight under an outage: waited out up to the deadline, then an
 * outage reply (not fatal); with no waiting asked, an outage after its
 * retries. A 2xx that is no model reply stays a wrong endpoint: fatal. */
static void test_e2e_preflight_outage(void **state)
{
	static const char storm[] =
		"{\"kind\":\"outage\",\"ms\":600000,\"for\":\"preflight\"}\n";
	struct model_reply *r;

	(void)state;
	if (!(r = preflight_of(storm, 300))) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("MOCKMODEL is not set, and CI=true");
		skip();
	}
	assert_int_equal(r->fail, MODEL_FAIL_INFRA);
	assert_true(r->outage);
	assert_false(r->fatal);
	assert_true(r->attempts > 2);  /* probed past its one retry */
	assert_non_null(strstr(r->error, "outage deadline"));
	assert_non_null(strstr(r->error, "HTTP 503"));
	model_reply_release(r);
	r = preflight_of(storm, -1);
	assert_true(r->outage);
	assert_false(r->fatal);
	assert_int_equal(r->attempts, 2);
	model_reply_release(r);
	r = preflight_of("{\"kind\":\"raw\",\"body\":\"<html>\",\"for\":\"preflight\"}\n"
			 "{\"kind\":\"raw\",\"body\":\"<html>\",\"for\":\"preflight\"}\n", 0);
	assert_true(r->fatal);
	assert_false(r->outage);
	assert_int_equal(r->attempts, 2);
	assert_non_null(strstr(r->error, "malformed reply"));
	model_reply_release(r);
}

/* Many attempts in a row failing: the endpoint is down, calls pause past
 * their retries and give up (outage) only at the deadline; an answer
 * ends the outage. */
static void test_e2e_outage(void **state)
{
	struct mock mk;
	struct model_ctx *ctx = new_ctx();
	struct model_config cfg = fast_cfg(6);
	struct model_msg msg = {.role = MODEL_USER, .text = "x"};
	struct model_request req = {&msg, 1, NULL, 0, NULL, false};
	struct model *m;
	struct model_reply *r;
	struct buf script;
	int64_t t0;

	(void)state;
	buf_init(&script, 0);
	assert_int_equal(buf_adds(&script, "{\"kind\":\"text\"}\n"), ERR_OK);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf_adds(&script, "{\"kind\":\"status\","
						   "\"status\":503}\n"), ERR_OK);
	assert_int_equal(buf_adds(&script, "{\"kind\":\"text\",\"text\":"
					   "\"back\"}\n"), ERR_OK);
	for (int i = 0; i < 400; i++)
		assert_int_equal(buf_adds(&script, "{\"kind\":\"close\"}\n"),
				 ERR_OK);
	if (!mock_start(&mk, script.data)) {
		buf_release(&script);
		model_ctx_free(ctx);
		skip();
	}
	buf_release(&script);
	cfg.outage_deadline_ms = 1500;
	m = open_http(ctx, "openai-compatible/x", mk.base, &cfg);
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_NONE);
	model_reply_release(r);
	/* 8 failures: more than the 7 attempts a call has, yet it waits
	 * the outage out (down after 5) and gets the answer */
	r = run_call(ctx, m, &req);
	print_message("  outage: fail=%d attempts=%d error=%s\n", r->fail,
		      r->attempts, r->error ? r->error : "-");
	assert_int_equal(r->fail, MODEL_FAIL_NONE);
	assert_string_equal(r->text, "back");
	assert_int_equal(r->attempts, 9);
	assert_false(model_down(m));
	model_reply_release(r);
	/* now down for good: gives up at the deadline, not before */
	t0 = now_ms();
	r = run_call(ctx, m, &req);
	assert_int_equal(r->fail, MODEL_FAIL_INFRA);
	assert_true(r->outage);
	assert_false(r->fatal);
	assert_true(model_gave_up(m));
	assert_true(now_ms() - t0 >= 1000);
	assert_true(now_ms() - t0 < 5000);
	assert_non_null(strstr(r->error, "outage deadline"));
	model_reply_release(r);
	model_close(m);
	model_ctx_free(ctx);
	mock_stop(&mk);
}

/* The bodies buffered by all calls together stay under the shared cap
 * (plus one body), and every call still finishes. */
static void test_e2e_memory_cap(void **state)
{
	struct mock mk;
	struct model_ctx *ctx;
	struct model_config cfg = fast_cfg(-1);
	struct model_msg msg = {.role = MODEL_USER, .text = "x"};
	struct model_request req = {&msg, 1, NULL, 0, NULL, false};
	struct model *m;
	struct got g[8] = {{0}};
	struct errmsg e = {0};
	struct buf script;
	int64_t t0;
	bool all;

	(void)state;
	buf_init(&script, 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf_adds(&script, "{\"kind\":\"huge\",\"bytes\":"
			"3000000,\"chunked\":true,\"stream\":true}\n"), ERR_OK);
	if (!mock_start(&mk, script.data)) {
		buf_release(&script);
		skip();
	}
	buf_release(&script);
	ctx = new_ctx();
	model_ctx_set_memory_cap(ctx, (size_t)4 << 20);
	cfg.outage_deadline_ms = -1;
	/* calls wait for the cap in turn: on a loaded machine under ASan the
	 * last one starts many seconds in (fast_cfg's 10 s timed it out) */
	cfg.first_byte_timeout_ms = 30000;
	cfg.total_timeout_ms = 55000;
	m = open_http(ctx, "openai-compatible/x", mk.base, &cfg);
	t0 = now_ms();
	for (int i = 0; i < 8; i++)
		assert_int_equal(model_call_start(m, &req, on_done, &g[i], &e),
				 ERR_OK);
	do {
		assert_int_equal(model_ctx_wait(ctx, NULL, 0, 1000, &e), ERR_OK);
		assert_int_equal(model_ctx_run(ctx, &e), ERR_OK);
		all = true;
		for (int i = 0; i < 8; i++)
			all = all && g[i].n == 1;
	} while (!all && now_ms() - t0 < 60000);
	assert_true(all);
	print_message("  peak buffered %zu bytes (8 x 3,000,000 at once would "
		      "be 24,000,000)\n", model_ctx_peak_buffered(ctx));
	/* 3,000,000-byte bodies read whole: each was buffered once */
	assert_true(model_ctx_peak_buffered(ctx) >= 3000000);
	assert_true(model_ctx_peak_buffered(ctx) <= ((size_t)4 << 20) + 3000000);
	for (int i = 0; i < 8; i++) {
		/* "[   ]" is JSON but not a reply: read whole, then refused */
		assert_int_equal(g[i].r->fail, MODEL_FAIL_INFRA);
		assert_non_null(strstr(g[i].r->error, "malformed"));
		model_reply_release(g[i].r);
	}
	model_close(m);
	model_ctx_free(ctx);
	mock_stop(&mk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracle),
		cmocka_unit_test(test_oracle_truncated),
		cmocka_unit_test(test_oracle_args),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_baseline_many),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_openai_request),
		cmocka_unit_test(test_openai_wire_cache),
		cmocka_unit_test(test_anthropic_request),
		cmocka_unit_test(test_openai_parse),
		cmocka_unit_test(test_anthropic_parse),
		cmocka_unit_test(test_overflow_detect),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_prices),
		cmocka_unit_test(test_utf8_fix),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_e2e_openai),
		cmocka_unit_test(test_e2e_anthropic),
		cmocka_unit_test(test_e2e_faults),
		cmocka_unit_test(test_e2e_concurrent),
		cmocka_unit_test(test_e2e_unreachable),
		cmocka_unit_test(test_e2e_lost_later),
		cmocka_unit_test(test_e2e_fatal),
		cmocka_unit_test(test_e2e_400_later_and_preflight),
		cmocka_unit_test(test_e2e_preflight_outage),
		cmocka_unit_test(test_e2e_outage),
		cmocka_unit_test(test_e2e_memory_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
