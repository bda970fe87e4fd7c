/*
 * mockmodel - a scripted model server on 127.0.0.1 for tests and benches.
 *
 *   mockmodel --script FILE [--port N] [--log FILE] [--loop]
 *             [--idle-exit SECONDS]
 *
 * Speaks both wire formats: POST /v1/chat/completions (OpenAI) and
 * POST /v1/messages (Anthropic); the reply shape follows the path. Prints
 * the port on stdout (one line) once listening. Each request takes the
 * next entry of the script (JSON lines; '#' lines and blank lines are
 * skipped; with --loop the script repeats, else a request past its end
 * gets HTTP 418 "mock script exhausted"). Entries:
 *
 *   {"kind":"tool_call","name":"bash","arguments":{"cmd":"ls"}}
 *       (arguments may be a string: sent raw, so malformed JSON works;
 *        "calls":[{name,arguments},...] gives several)
 *   {"kind":"text","text":"done"}
 *   {"kind":"status","status":429,"retry_after":"1"}   also 500, 529...
 *   {"kind":"hang"}         read the request, never answer
 *   {"kind":"close"}        close the connection without an answer
 *   {"kind":"truncated"}    announce more bytes than sent, then close
 *   {"kind":"malformed"}    200 application/json that is not JSON
 *   {"kind":"content_type"} 200 text/html
 *   {"kind":"huge","bytes":9000000,"chunked":false}
 *       ("stream":true with "chunked":true generates the body 64 KiB at a
 *        time instead of holding it: 64 replies of 50 MB at once)
 *   {"kind":"refusal"}
 *   {"kind":"overflow"}     the provider's context-length error (400)
 * Hostile entries (the endpoint's faults, tests/integration/hostile.sh):
 *   {"kind":"status","status":401,"message":"Incorrect API key provided",
 *    "code":"invalid_api_key"}   the provider's error body, in the wire
 *                           format of the path ("message" and "code" are
 *                           optional; "retry_after" may be absurd)
 *   {"kind":"trickle","interval_ms":200}  200 application/json announcing
 *                           1,000,000 bytes, sent one byte per interval
 *                           (headers included): never finishes
 *   {"kind":"stall"}        headers and half a body, then silence with the
 *                           connection open
 *   {"kind":"raw","body":"...","status":200,"content_type":"..."}
 *                           the body verbatim, application/json unless
 *                           said (legal-but-odd JSON, a wrong shape, a
 *                           proxy's HTML page sent as 200)
 *   {"kind":"trickle","interval_ms":1000,"body_only":true}  headers at
 *                           once, then the body one byte per interval
 *   {"kind":"reset"}        headers and half a body, then a TCP reset
 *                           (SO_LINGER 0): the connection dies mid-body
 *   {"kind":"headers","interval_ms":0}  a status line, then header lines
 *                           that never end (one per interval; 0 = as fast
 *                           as the socket takes them)
 *   {"kind":"outage","ms":3000,"fault":{...}}  from this request on, for
 *                           ms, every request (preflights too) is answered
 *                           with the fault entry (default: a 503) without
 *                           using the script; then the script goes on
 * Any entry may add "latency_ms", "gate":"PATH" (the reply is held until
 * PATH exists: a test decides when episodes may go on, instead of guessing
 * a latency) and "usage":{"prompt","completion","cached"}. An entry with
 * "when":"TEXT" answers only a request whose body contains TEXT (a task's
 * prompt: the episodes of two tasks each get their own entries, in order,
 * each once, whatever the order of their requests). An entry with "for":"preflight" is only used for harness
 * preflight requests (bodies containing "assay preflight"), in order; a
 * preflight with none left is answered "OK" without using the script.
 *
 * --log FILE appends one JSON line per request: n, path, the auth headers
 * as received, and the body (parsed when it is JSON), so tests can check
 * what was sent. The server exits on SIGTERM/SIGINT or after --idle-exit
 * seconds (default 600) without a request.
 *
 * Why raw sockets and not libmicrohttpd: the faults are the point. A
 * connection that hangs, a body cut short of its Content-Length, a close
 * with no answer and a latency that must not block other connections need
 * control below what an HTTP server library exposes; one poll() loop with
 * per-connection state also serves a thousand concurrent connections
 * (bench/engine) from one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/util.h"
#include "base/xalloc.h"

#define MAX_CONNS 4096
#define MAX_REQUEST ((size_t)64 << 20)

enum conn_state { C_READ, C_DELAY, C_WRITE, C_HANG };

struct conn {
	int fd;
	enum conn_state st;
	struct buf in;
	char *out;
	size_t out_len, out_off;
	bool close_after;
	bool hang_after;       /* after writing, keep the connection silent */
	int trickle_ms;        /* > 0: one byte per this many ms */
	size_t trickle_from;   /* ... once this many bytes are out */
	bool reset_after;      /* after writing, close with a TCP reset */
	int header_ms;         /* >= 0: header lines forever, this often */
	unsigned long header_n;
	size_t gen_left;       /* streamed "huge": body bytes still to make */
	bool gen_started;
	int64_t due;
	char *gate;            /* C_DELAY: also until this path exists */
};

struct server {
	int lfd;
	json_t **script;
	size_t n_script;
	size_t next;
	size_t next_pf;            /* next entry to look at for a preflight */
	bool loop;
	FILE *log;
	struct conn *conns[MAX_CONNS];
	size_t n_conns;
	unsigned long n_req;
	int64_t outage_until;      /* > 0: answer outage_fault until then */
	json_t *outage_fault;
	int64_t last_activity;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *msg)
{
	fprintf(stderr, "mockmodel: %s\n", msg);
	exit(2);
}

/* ---- script ----------------------------------------------------------- */

static void load_script(struct server *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;

	if (!f)
		die("cannot open the script");
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t je;
		json_t *j;
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		j = json_loads(line, JSON_ALLOW_NUL, &je);
		if (!json_is_object(j)) {
			fprintf(stderr, "mockmodel: %s:%d: %s\n", path, lineno,
				je.text);
			exit(2);
		}
		s->script = xrealloc(s->script,
				     (s->n_script + 1) * sizeof(*s->script));
		s->script[s->n_script++] = j;
	}
	free(line);
	fclose(f);
}

static bool for_preflight(json_t *e)
{
	const char *f = json_string_value(json_object_get(e, "for"));
	return (f && !strcmp(f, "preflight")) || json_object_get(e, "when");
}

/* The first unused "when" entry whose TEXT the body contains; NULL when
 * there is none (the request then takes the next plain entry). */
static json_t *next_when(struct server *s, const char *body, size_t len)
{
	for (size_t i = 0; i < s->n_script; i++) {
		json_t *e = s->script[i];
		const char *w = json_string_value(json_object_get(e, "when"));

		if (w && *w && !json_is_true(json_object_get(e, "used")) &&
		    memmem(body, len, w, strlen(w))) {
			json_object_set_new(e, "used", json_true());
			return e;
		}
	}
	return NULL;
}

/* The next entry for an episode's request: entries marked
 * "for":"preflight" or "when" are skipped. */
static json_t *next_entry(struct server *s)
{
	for (size_t tries = 0; tries <= s->n_script; tries++) {
		json_t *e;
		if (s->next >= s->n_script) {
			if (!s->loop || !s->n_script)
				return NULL;
			s->next = 0;
		}
		e = s->script[s->next++];
		if (!for_preflight(e))
			return e;
	}
	return NULL;
}

/* A preflight request takes the first unused "for":"preflight" entry, in
 * order; without one it is answered "OK" (so scripts written for the
 * episodes need not know about it). */
static json_t *next_preflight(struct server *s)
{
	static json_t *ok;

	for (; s->next_pf < s->n_script; s->next_pf++)
		if (for_preflight(s->script[s->next_pf]) &&
		    !json_object_get(s->script[s->next_pf], "when"))
			return s->script[s->next_pf++];
	if (!ok)
		ok = json_pack("{s:s, s:s}", "kind", "text", "text", "OK");
	return ok;
}

/* ---- request parsing -------------------------------------------------- */

struct request {
	char path[256];
	const char *body;
	size_t body_len;
	char auth[512], api_key[512], version[64];
	size_t total;      /* bytes of this request in the input buffer */
};

static void header_value(const char *hdrs, const char *name, char *out,
			 size_t n)
{
	size_t nl = strlen(name);
	const char *p = hdrs;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *end = strstr(v, "\r\n");
			size_t len;
			while (*v == ' ')
				v++;
			len = end ? (size_t)(end - v) : strlen(v);
			snprintf(out, n, "%.*s", (int)len, v);
			return;
		}
	}
}

/* 1 = complete request parsed, 0 = need more, -1 = bad request */
static int parse_request(struct conn *c, struct request *rq)
{
	char *end = strstr(c->in.data, "\r\n\r\n");
	char cl[32], method[16];
	size_t hlen, blen;
	char *hdrs;

	if (!end)
		return c->in.len > 65536 ? -1 : 0;
	hlen = (size_t)(end - c->in.data) + 4;
	hdrs = xstrndup(c->in.data, hlen);
	if (sscanf(hdrs, "%15s %255s", method, rq->path) != 2) {
		free(hdrs);
		return -1;
	}
	header_value(hdrs, "content-length", cl, sizeof(cl));
	header_value(hdrs, "authorization", rq->auth, sizeof(rq->auth));
	header_value(hdrs, "x-api-key", rq->api_key, sizeof(rq->api_key));
	header_value(hdrs, "anthropic-version", rq->version,
		     sizeof(rq->version));
	free(hdrs);
	blen = (size_t)strtoul(cl, NULL, 10);
	if (c->in.len < hlen + blen)
		return 0;
	rq->body = c->in.data + hlen;
	rq->body_len = blen;
	rq->total = hlen + blen;
	return 1;
}

static void log_request(struct server *s, const struct request *rq)
{
	json_t *body, *o;
	char *line;

	if (!s->log)
		return;
	body = json_loadb(rq->body, rq->body_len, 0, NULL);
	if (!body)
		body = json_stringn_nocheck(rq->body, rq->body_len);
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "n",
		      (json_int_t)s->n_req, "path", rq->path, "authorization",
		      rq->auth, "x_api_key", rq->api_key, "anthropic_version",
		      rq->version, "body", body);
	line = json_dumps(o, JSON_COMPACT);
	fprintf(s->log, "%s\n", line);
	fflush(s->log);
	free(line);
	json_decref(o);
}

/* ---- responses -------------------------------------------------------- */

static void set_response(struct conn *c, int status, const char *ctype,
			 const char *body, size_t len, size_t announce,
			 bool close_after)
{
	struct buf b;

	buf_init(&b, MAX_REQUEST);
	if (buf_printf(&b,
		       "HTTP/1.1 %d Mock\r\nContent-Type: %s\r\n"
		       "Content-Length: %zu\r\n%s\r\n",
		       status, ctype, announce,
		       close_after ? "Connection: close\r\n" : "") ||
	    buf_add(&b, body, len))
		die("response too large");
	free(c->out);
	c->out = buf_detach(&b, &c->out_len);
	buf_release(&b);
	c->out_off = 0;
	c->close_after = close_after;
}

static void set_json(struct conn *c, int status, json_t *j,
		     const char *extra_headers)
{
	char *s = json_dumps(j, JSON_COMPACT);
	struct buf b;

	buf_init(&b, MAX_REQUEST);
	if (buf_printf(&b,
		       "HTTP/1.1 %d Mock\r\nContent-Type: application/json\r\n"
		       "Content-Length: %zu\r\n%s\r\n%s",
		       status, strlen(s), extra_headers, s))
		die("response too large");
	free(c->out);
	c->out = buf_detach(&b, &c->out_len);
	buf_release(&b);
	c->out_off = 0;
	c->close_after = false;
	free(s);
	json_decref(j);
}

static json_t *usage_of(json_t *e, bool anthropic)
{
	json_t *u = json_object_get(e, "usage");
	json_int_t p = json_integer_value(json_object_get(u, "prompt"));
	json_int_t k = json_integer_value(json_object_get(u, "completion"));
	json_int_t ca = json_integer_value(json_object_get(u, "cached"));

	if (!u) {
		p = 100;
		k = 20;
	}
	if (anthropic)
		return json_pack("{s:I, s:I, s:I, s:I}", "input_tokens", p - ca,
				 "output_tokens", k, "cache_read_input_tokens",
				 ca, "cache_creation_input_tokens",
				 (json_int_t)0);
	return json_pack("{s:I, s:I, s:I, s:{s:I}}", "prompt_tokens", p,
			 "completion_tokens", k, "total_tokens", p + k,
			 "prompt_tokens_details", "cached_tokens", ca);
}

static json_t *calls_of(json_t *e)
{
	json_t *calls = json_object_get(e, "calls");

	if (json_is_array(calls))
		return json_incref(calls);
	return json_pack("[O]", e);
}

static json_t *openai_reply(json_t *e, json_t *text, json_t *calls,
			    const char *finish, json_t *refusal)
{
	json_t *msg = json_pack("{s:s, s:O}", "role", "assistant", "content",
				text ? text : json_null());
	size_t i;
	json_t *c;

	if (refusal)
		json_object_set(msg, "refusal", refusal);
	if (calls) {
		json_t *tc = json_array();
		json_array_foreach(calls, i, c)
		{
			json_t *a = json_object_get(c, "arguments");
			char *as = json_is_string(a)
					   ? xstrdup(json_string_value(a))
					   : json_dumps(a ? a : json_object(),
							JSON_COMPACT);
			char *id = xasprintf("call_mock_%zu", i);
			json_array_append_new(
				tc, json_pack("{s:s, s:s, s:{s:O, s:s}}", "id",
					      id, "type", "function",
					      "function", "name",
					      json_object_get(c, "name"),
					      "arguments", as));
			free(as);
			free(id);
		}
		json_object_set_new(msg, "tool_calls", tc);
	}
	return json_pack("{s:s, s:s, s:s, s:[{s:i, s:o, s:s}], s:o}", "id",
			 "chatcmpl-mock", "object", "chat.completion", "model",
			 "mock", "choices", "index", 0, "message", msg,
			 "finish_reason", finish, "usage", usage_of(e, false));
}

static json_t *anthropic_reply(json_t *e, json_t *text, json_t *calls,
			       const char *stop_reason)
{
	json_t *content = json_array();
	size_t i;
	json_t *c;

	if (text)
		json_array_append_new(content, json_pack("{s:s, s:O}", "type",
							 "text", "text", text));
	json_array_foreach(calls, i, c)
	{
		json_t *a = json_object_get(c, "arguments");
		json_t *input = json_is_object(a) ? json_incref(a)
			: json_is_string(a)
				? json_loads(json_string_value(a), 0, NULL)
				: json_object();
		char *id = xasprintf("toolu_mock_%zu", i);
		json_array_append_new(
			content,
			json_pack("{s:s, s:s, s:O, s:o}", "type", "tool_use",
				  "id", id, "name", json_object_get(c, "name"),
				  "input", input ? input : json_object()));
		free(id);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id",
			 "msg_mock", "type", "message", "role", "assistant",
			 "model", "mock", "content", content, "stop_reason",
			 stop_reason, "usage", usage_of(e, true));
}

static void reply_ok(struct conn *c, json_t *e, bool anth, const char *kind)
{
	json_t *text = json_object_get(e, "text"), *calls = NULL;
	json_t *refusal = NULL;
	const char *fin, *sr;

	if (!strcmp(kind, "tool_call")) {
		calls = calls_of(e);
		fin = "tool_calls";
		sr = "tool_use";
	} else if (!strcmp(kind, "refusal")) {
		refusal = json_string("I can't help with that.");
		fin = "stop";
		sr = "refusal";
		text = anth ? refusal : NULL;
	} else {
		fin = "stop";
		sr = "end_turn";
		if (!text)
			text = json_string("done");
		else
			json_incref(text);
		set_json(c, 200,
			 anth ? anthropic_reply(e, text, NULL, sr)
			      : openai_reply(e, text, NULL, fin, NULL),
			 "");
		json_decref(text);
		return;
	}
	set_json(c, 200,
		 anth ? anthropic_reply(e, text, calls, sr)
		      : openai_reply(e, text, calls, fin, refusal),
		 "");
	json_decref(calls);
	json_decref(refusal);
}

static void reply_status(struct conn *c, json_t *e, bool anth)
{
	int st = (int)json_integer_value(json_object_get(e, "status"));
	const char *ra = json_string_value(json_object_get(e, "retry_after"));
	const char *given = json_string_value(json_object_get(e, "message"));
	const char *code = json_string_value(json_object_get(e, "code"));
	char *hdr = ra ? xasprintf("Retry-After: %s\r\n", ra) : xstrdup("");
	char *msg = given ? xstrdup(given) : xasprintf("mock status %d", st);
	json_t *j;

	if (anth)
		j = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
			      "type", st == 529 ? "overloaded_error" :
			      st == 401 ? "authentication_error" :
			      st == 404 ? "not_found_error" :
			      st == 400 ? "invalid_request_error" : "api_error",
			      "message", msg);
	else
		j = json_pack("{s:{s:s, s:s, s:s?}}", "error", "message", msg,
			      "type", st >= 500 ? "server_error" :
			      "invalid_request_error", "code", code);
	set_json(c, st ? st : 500, j, hdr);
	free(hdr);
	free(msg);
}

static void reply_overflow(struct conn *c, bool anth)
{
	json_t *j;

	if (anth)
		j = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
			      "type", "invalid_request_error", "message",
			      "prompt is too long: 210000 tokens > 200000 "
			      "maximum");
	else
		j = json_pack("{s:{s:s, s:s, s:s}}", "error", "message",
			      "This model's maximum context length is 128000 "
			      "tokens. However, your messages resulted in "
			      "130000 tokens.",
			      "type", "invalid_request_error", "code",
			      "context_length_exceeded");
	set_json(c, 400, j, "");
}

static void reply_huge(struct conn *c, json_t *e)
{
	json_int_t n = json_integer_value(json_object_get(e, "bytes"));
	bool chunked = json_is_true(json_object_get(e, "chunked"));
	size_t len = n > 0 ? (size_t)n : (size_t)9 << 20;
	char *body;
	struct buf b;

	if (chunked && json_is_true(json_object_get(e, "stream"))) {
		static const char hdr[] = "HTTP/1.1 200 Mock\r\nContent-Type: "
			"application/json\r\nTransfer-Encoding: chunked\r\n"
			"Connection: close\r\n\r\n";
		free(c->out);
		c->out = xstrdup(hdr);
		c->out_len = sizeof(hdr) - 1;
		c->out_off = 0;
		c->close_after = true;
		c->gen_left = len;
		c->gen_started = false;
		return;
	}
	body = xmalloc(len + 64);
	memset(body, 'x', len + 64);
	memcpy(body, "{\"pad\":\"", 8);
	memcpy(body + len - 2, "\"}", 2);
	if (!chunked) {
		set_response(c, 200, "application/json", body, len, len, true);
		free(body);
		return;
	}
	buf_init(&b, MAX_REQUEST);
	if (buf_printf(&b, "HTTP/1.1 200 Mock\r\nContent-Type: "
			   "application/json\r\nTransfer-Encoding: chunked\r\n"
			   "Connection: close\r\n\r\n%zx\r\n",
		       len) ||
	    buf_add(&b, body, len) || buf_adds(&b, "\r\n0\r\n\r\n"))
		die("response too large");
	free(c->out);
	c->out = buf_detach(&b, &c->out_len);
	buf_release(&b);
	c->out_off = 0;
	c->close_after = true;
	free(body);
}

static void reply_trickle(struct conn *c, json_t *e)
{
	json_int_t ms = json_integer_value(json_object_get(e, "interval_ms"));
	size_t len = 1000000;
	char *body = xmalloc(len);

	memset(body, ' ', len);   /* JSON whitespace: never a complete reply */
	set_response(c, 200, "application/json", body, len, len, true);
	free(body);
	c->trickle_ms = ms > 0 ? (int)ms : 200;
	if (json_is_true(json_object_get(e, "body_only")))
		c->trickle_from = c->out_len - len;
}

/* A status line now; header lines forever from on_writable. */
static void reply_headers(struct conn *c, json_t *e)
{
	json_int_t ms = json_integer_value(json_object_get(e, "interval_ms"));
	static const char line[] = "HTTP/1.1 200 Mock\r\n"
		"Content-Type: application/json\r\n";

	free(c->out);
	c->out = xstrdup(line);
	c->out_len = sizeof(line) - 1;
	c->out_off = 0;
	c->header_ms = ms > 0 ? (int)ms : 0;
	c->header_n = 0;
}

/* The next header line of an endless header block. */
static void next_header(struct conn *c)
{
	free(c->out);
	c->out = xasprintf("X-Mock-Pad-%lu: %s\r\n", c->header_n++,
			   "never the last header line");
	c->out_len = strlen(c->out);
	c->out_off = 0;
	if (c->header_ms > 0) {
		c->st = C_DELAY;
		c->due = now_ms() + c->header_ms;
	}
}

/* Fill c->out for entry e; false = close the connection now. */
static bool respond(struct conn *c, json_t *e, bool anth)
{
	const char *kind = e ? json_string_value(json_object_get(e, "kind"))
			     : NULL;
	static const char junk[] = "{\"choices\": [{\"message\": ";
	static const char html[] = "<html><body>502 Bad Gateway</body></html>";

	if (!e) {
		set_json(c, 418, json_pack("{s:{s:s}}", "error", "message",
					   "mock script exhausted"),
			 "");
		return true;
	}
	if (!kind || !strcmp(kind, "text") || !strcmp(kind, "tool_call") ||
	    !strcmp(kind, "refusal"))
		reply_ok(c, e, anth, kind ? kind : "text");
	else if (!strcmp(kind, "status"))
		reply_status(c, e, anth);
	else if (!strcmp(kind, "overflow"))
		reply_overflow(c, anth);
	else if (!strcmp(kind, "malformed"))
		set_response(c, 200, "application/json", junk, sizeof(junk) - 1,
			     sizeof(junk) - 1, false);
	else if (!strcmp(kind, "content_type"))
		set_response(c, 200, "text/html", html, sizeof(html) - 1,
			     sizeof(html) - 1, false);
	else if (!strcmp(kind, "truncated"))
		set_response(c, 200, "application/json", junk, sizeof(junk) - 1,
			     sizeof(junk) - 1 + 100, true);
	else if (!strcmp(kind, "huge"))
		reply_huge(c, e);
	else if (!strcmp(kind, "hang"))
		c->st = C_HANG;
	else if (!strcmp(kind, "trickle"))
		reply_trickle(c, e);
	else if (!strcmp(kind, "stall")) {
		set_response(c, 200, "application/json", junk, sizeof(junk) - 1,
			     sizeof(junk) - 1 + 100, false);
		c->hang_after = true;
	} else if (!strcmp(kind, "raw")) {
		json_t *b = json_object_get(e, "body");
		int st = (int)json_integer_value(json_object_get(e, "status"));
		const char *ct = json_string_value(
			json_object_get(e, "content_type"));
		set_response(c, st ? st : 200, ct ? ct : "application/json",
			     json_string_value(b), json_string_length(b),
			     json_string_length(b), false);
	}
	else if (!strcmp(kind, "reset")) {
		set_response(c, 200, "application/json", junk, sizeof(junk) - 1,
			     sizeof(junk) - 1 + 100, false);
		c->reset_after = true;
	} else if (!strcmp(kind, "headers"))
		reply_headers(c, e);
	else if (!strcmp(kind, "close"))
		return false;
	else
		set_json(c, 418, json_pack("{s:{s:s}}", "error", "message",
					   "unknown mock kind"),
			 "");
	return true;
}

/* ---- the loop --------------------------------------------------------- */

static void conn_close(struct server *s, size_t i)
{
	struct conn *c = s->conns[i];

	close(c->fd);
	buf_release(&c->in);
	free(c->out);
	free(c->gate);
	free(c);
	s->conns[i] = s->conns[--s->n_conns];
}

static bool is_kind(json_t *e, const char *kind)
{
	const char *k = json_string_value(json_object_get(e, "kind"));
	return k && !strcmp(k, kind);
}

static bool in_outage(struct server *s)
{
	if (s->outage_until && now_ms() >= s->outage_until) {
		s->outage_until = 0;
		json_decref(s->outage_fault);
		s->outage_fault = NULL;
	}
	return s->outage_until > 0;
}

/* An "outage" entry: its fault answers every request for its ms. */
static json_t *start_outage(struct server *s, json_t *e)
{
	json_t *f = json_object_get(e, "fault");
	json_int_t ms = json_integer_value(json_object_get(e, "ms"));

	json_decref(s->outage_fault);
	s->outage_fault = json_is_object(f) ? json_incref(f)
		: json_pack("{s:s, s:i}", "kind", "status", "status", 503);
	s->outage_until = now_ms() + (ms > 0 ? ms : 3000);
	return s->outage_fault;
}

static bool handle_request(struct server *s, struct conn *c)
{
	struct request rq = {0};
	int r = parse_request(c, &rq);
	json_t *e;
	int64_t lat;

	if (r < 0)
		return false;
	if (r == 0)
		return true;
	s->n_req++;
	s->last_activity = now_ms();
	log_request(s, &rq);
	e = in_outage(s) ? s->outage_fault
	    : memmem(rq.body, rq.body_len, "assay preflight", 15)
		    ? next_preflight(s) : NULL;
	if (!e && !(e = next_when(s, rq.body, rq.body_len)))
		e = next_entry(s);
	if (is_kind(e, "outage"))
		e = start_outage(s, e);
	lat = json_integer_value(json_object_get(e, "latency_ms"));
	c->st = C_WRITE;
	c->trickle_ms = 0;
	c->trickle_from = 0;
	c->hang_after = false;
	c->reset_after = false;
	c->header_ms = -1;
	if (!respond(c, e, strstr(rq.path, "/messages") != NULL))
		return false;
	/* drop this request from the input buffer (keep-alive) */
	memmove(c->in.data, c->in.data + rq.total, c->in.len - rq.total + 1);
	c->in.len -= rq.total;
	free(c->gate);
	c->gate = NULL;
	if (json_is_string(json_object_get(e, "gate")))
		c->gate = xstrdup(json_string_value(json_object_get(e, "gate")));
	if (c->st == C_WRITE && (lat > 0 || c->gate)) {
		c->st = C_DELAY;
		c->due = now_ms() + (lat > 0 ? lat : 0);
	}
	return true;
}

static bool on_readable(struct server *s, struct conn *c)
{
	char tmp[65536];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;
	if (n < 0)
		return true;
	if (c->st == C_HANG)
		return true; /* swallow */
	if (buf_add(&c->in, tmp, (size_t)n))
		return false;
	return c->st == C_READ ? handle_request(s, c) : true;
}

/* The next chunk of a streamed "huge" body; false when it is all sent. */
static bool gen_chunk(struct conn *c)
{
	size_t n = c->gen_left < 65536 ? c->gen_left : 65536;
	struct buf b;

	if (!c->gen_left) {
		if (!c->gen_started)
			return false;
		c->gen_started = false;   /* the last chunk goes once */
		free(c->out);
		c->out = xstrdup("0\r\n\r\n");
		c->out_len = 5;
		c->out_off = 0;
		return true;
	}
	buf_init(&b, 1 << 20);
	if (buf_printf(&b, "%zx\r\n", n))
		die("chunk");
	for (size_t i = 0; i < n; i++)
		if (buf_addch(&b, !c->gen_started && i == 0 ? '[' :
			      c->gen_left == n && i == n - 1 ? ']' : ' '))
			die("chunk");
	if (buf_adds(&b, "\r\n"))
		die("chunk");
	free(c->out);
	c->out = buf_detach(&b, &c->out_len);
	buf_release(&b);
	c->out_off = 0;
	c->gen_started = true;
	c->gen_left -= n;
	return true;
}

static bool on_writable(struct server *s, struct conn *c)
{
	size_t left = c->out_len - c->out_off;
	bool drip = c->trickle_ms && c->out_off >= c->trickle_from;
	ssize_t n;

	if (c->trickle_ms && !drip && left > c->trickle_from - c->out_off)
		left = c->trickle_from - c->out_off;
	n = write(c->fd, c->out + c->out_off, drip ? 1 : left);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->out_off += (size_t)n;
	if (c->out_off < c->out_len) {
		if (drip) {
			c->st = C_DELAY;
			c->due = now_ms() + c->trickle_ms;
		}
		return true;
	}
	if (c->hang_after) {
		c->st = C_HANG;
		return true;
	}
	if (c->reset_after) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		return false;
	}
	if (c->header_ms >= 0) {
		next_header(c);
		return true;
	}
	if ((c->gen_left || c->gen_started) && gen_chunk(c))
		return true;
	if (c->close_after)
		return false;
	c->st = C_READ;
	free(c->out);
	c->out = NULL;
	/* a pipelined request may already be buffered */
	return c->in.len ? handle_request(s, c) : true;
}

static void accept_all(struct server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		if (fd < 0)
			return;
		if (s->n_conns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		buf_init(&c->in, MAX_REQUEST);
		s->conns[s->n_conns++] = c;
		s->last_activity = now_ms();
	}
}

static int poll_timeout(const struct server *s)
{
	int64_t now = now_ms(), t = 1000;

	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i]->st == C_DELAY && s->conns[i]->due - now < t)
			t = s->conns[i]->due - now;
	return t < 0 ? 0 : (int)t;
}

static void step(struct server *s)
{
	static struct pollfd p[MAX_CONNS + 1];
	size_t n = s->n_conns;
	int64_t now;

	p[0] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
	for (size_t i = 0; i < n; i++) {
		struct conn *c = s->conns[i];
		p[i + 1] = (struct pollfd){.fd = c->fd, .events = POLLIN};
		if (c->st == C_WRITE)
			p[i + 1].events |= POLLOUT;
	}
	if (poll(p, n + 1, poll_timeout(s)) < 0 && errno != EINTR)
		die("poll failed");
	now = now_ms();
	/* walk backwards: conn_close moves the last entry into slot i */
	for (size_t i = n; i-- > 0;) {
		struct conn *c = s->conns[i];
		bool keep = true;
		if (c->st == C_DELAY && now >= c->due) {
			if (c->gate && access(c->gate, F_OK) != 0)
				c->due = now + 50;
			else
				c->st = C_WRITE;
		}
		if (p[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
			keep = on_readable(s, c);
		if (keep && c->st == C_WRITE && (p[i + 1].revents & POLLOUT))
			keep = on_writable(s, c);
		if (!keep)
			conn_close(s, i);
	}
	if (p[0].revents & POLLIN)
		accept_all(s);
}

static int listen_on(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket failed");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 1024) < 0)
		die("cannot listen on 127.0.0.1");
	getsockname(fd, (struct sockaddr *)&a, &al);
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

/* A thousand concurrent connections need more than the usual 1024 fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"script", required_argument, NULL, 's'},
		{"port", required_argument, NULL, 'p'},
		{"log", required_argument, NULL, 'l'},
		{"loop", no_argument, NULL, 'r'},
		{"idle-exit", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	struct server s = {0};
	const char *script = NULL;
	int port = 0, opt;
	long idle = 600;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': script = optarg; break;
		case 'p': port = (int)strtol(optarg, NULL, 10); break;
		case 'l':
			s.log = fopen(optarg, "a");
			if (!s.log)
				die("cannot open the log");
			break;
		case 'r': s.loop = true; break;
		case 'i': idle = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: mockmodel --script FILE [--port N] "
					"[--log FILE] [--loop] [--idle-exit S]\n");
			return 2;
		}
	}
	if (!script)
		die("--script is required");
	load_script(&s, script);
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	s.lfd = listen_on(port);
	s.last_activity = now_ms();
	while (!stop && now_ms() - s.last_activity < idle * 1000)
		step(&s);
	while (s.n_conns)
		conn_close(&s, s.n_conns - 1);
	json_decref(s.outage_fault);
	for (size_t i = 0; i < s.n_script; i++)
		json_decref(s.script[i]);
	free(s.script);
	if (s.log)
		fclose(s.log);
	close(s.lfd);
	return 0;
}
