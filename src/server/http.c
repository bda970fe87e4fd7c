/*
 * http.c - libmicrohttpd: the daemon, its limits (docs/API.md
 * "Transport"), request bodies, security headers, static pages, and the
 * signal that stops it.
 *
 * Every request is handled under one lock (s->lock), which serialises the
 * store and the audit log; handlers are short (the password hash drops
 * the lock, auth.c). libmicrohttpd runs a small thread pool on epoll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "vault/vault.h"
#include "base/banned.h"

#define CSP "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; " \
	"form-action 'self'"
#define STATIC_MAX ((off_t)16 << 20)

/* One connection's request in progress. */
struct conn_ctx {
	struct buf body;
	bool too_big;
};

/* ---- the request's accessors ---- */

static const char *get_kind(void *conn, enum MHD_ValueKind k, const char *n)
{
	return MHD_lookup_connection_value(conn, k, n);
}

static const char *get_header(void *conn, const char *n)
{
	return get_kind(conn, MHD_HEADER_KIND, n);
}

static const char *get_query(void *conn, const char *n)
{
	return get_kind(conn, MHD_GET_ARGUMENT_KIND, n);
}

static const char *get_cookie(void *conn, const char *n)
{
	return get_kind(conn, MHD_COOKIE_KIND, n);
}

static void client_ip(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, n, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

/* ---- replies ---- */

static void add_headers(struct srv *s, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	if (s->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=31536000");
}

static enum MHD_Result send_reply(struct srv *s, struct MHD_Connection *c,
				  struct reply *y)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;

	if (y->raw) {
		resp = MHD_create_response_from_buffer(y->raw_len, y->raw,
						       MHD_RESPMEM_MUST_FREE);
		y->raw = NULL;
	} else {
		text = json_dumps(y->body ? y->body : json_object(), JSON_COMPACT);
		if (!text)
			return MHD_NO;
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_FREE);
	}
	if (!resp)
		return MHD_NO;
	add_headers(s, resp);
	MHD_add_response_header(resp, "Content-Type", y->content_type ?
				y->content_type : "application/json; charset=utf-8");
	if (y->set_cookie)
		MHD_add_response_header(resp, "Set-Cookie", y->set_cookie);
	ret = MHD_queue_response(c, (unsigned)y->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- static pages ---- */

static const char *mime_of(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".json", "application/json; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

bool srv_static_path_ok(const char *rel)
{
	size_t n = strlen(rel);
	const char *seg = rel;

	if (n == 0 || n > 200 ||
	    strspn(rel, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789._/-") != n)
		return false;
	while (*seg) {
		if (*seg == '.' || *seg == '/')
			return false; /* ".x", "..", "//" or a leading "/" */
		seg += strcspn(seg, "/");
		if (*seg == '/')
			seg++;
		else
			break;
	}
	return rel[n - 1] != '/';
}

static enum MHD_Result send_static(struct srv *s, struct MHD_Connection *c,
				   const char *url)
{
	const char *rel = strcmp(url, "/") ? url + 1 : "index.html";
	struct MHD_Response *resp;
	struct reply y = { 0 };
	enum MHD_Result ret;
	struct stat sb;
	char *path;
	int fd = -1;

	if (s->web_dir && srv_static_path_ok(rel)) {
		path = path_join(s->web_dir, rel);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		free(path);
		if (fd >= 0 && (fstat(fd, &sb) || !S_ISREG(sb.st_mode) ||
				sb.st_size > STATIC_MAX)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		y.raw = xstrdup("not found\n");
		y.raw_len = strlen(y.raw);
		y.content_type = xstrdup("text/plain; charset=utf-8");
		y.status = 404;
		ret = send_reply(s, c, &y);
		reply_free(&y);
		return ret;
	}
	resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	add_headers(s, resp);
	MHD_add_response_header(resp, "Content-Type", mime_of(rel));
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- live event streams (GET /campaigns/{id}/events) ----
 *
 * The first reply is made by the handler in the access callback. While
 * the campaign is live, the response is a content-reader stream: the
 * reader hands out queued events and, with none queued, suspends the
 * connection (no thread waits on a client and nothing spins). The main
 * loop re-runs the request once a second (srv_streams_tick: the session
 * and need-to-know checked again, the figures read from the store),
 * queues an event when the figures change, and resumes the connection.
 * A stream ends with an `end` event when the campaign is no longer live,
 * or the session or grant is gone; a client that went away is noticed
 * at the next write, at the latest after SRV_STREAM_KEEP_MS. */

/* "event: progress" with the PROGRESS, and "event: end" when last. */
static char *sse_text(const struct reply *y, bool first)
{
	char *data = json_dumps(y->body ? y->body : json_object(), JSON_COMPACT);
	char retry[32] = "";
	char *t;

	if (first)
		snprintf(retry, sizeof(retry), "retry: %d\n", SRV_STREAM_RETRY_MS);
	t = xasprintf("%sevent: progress\ndata: %s\n\n%s", retry,
		      data ? data : "{}", y->sse_end ?
			    "event: end\ndata: {}\n\n" : "");

	free(data);
	return t;
}

/* The figures without the ETA (which moves every second): what decides
 * whether an event is sent. */
static char *sse_key(const struct reply *y)
{
	json_t *c = json_deep_copy(y->body ? y->body : json_object());
	char *k;

	json_object_del(c, "eta_s");
	k = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(c);
	return k ? k : xstrdup("");
}

static void stream_queue(struct srv_stream *t, const char *text)
{
	size_t n = strlen(text);

	if (t->sent == t->out_len)
		t->sent = t->out_len = 0;
	t->out = xrealloc(t->out, t->out_len + n + 1);
	memcpy(t->out + t->out_len, text, n + 1);
	t->out_len += n;
	t->last_ms = wall_ms();
}

static void stream_clear(struct srv_stream *t)
{
	free(t->cookie);
	free(t->authz);
	free(t->out);
	free(t->last);
	memset(t, 0, sizeof(*t));
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct srv_stream *t = cls;
	struct srv *s = t->owner;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&s->sse_lock);
	if (t->sent < t->out_len) {
		n = (ssize_t)(t->out_len - t->sent < max ? t->out_len - t->sent
							  : max);
		memcpy(buf, t->out + t->sent, (size_t)n);
		t->sent += (size_t)n;
	} else if (t->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		t->suspended = true;
		MHD_suspend_connection(t->conn);
		n = 0;
	}
	pthread_mutex_unlock(&s->sse_lock);
	return n;
}

static void stream_free(void *cls)
{
	struct srv_stream *t = cls;
	struct srv *s = t->owner;

	pthread_mutex_lock(&s->sse_lock);
	stream_clear(t);
	pthread_mutex_unlock(&s->sse_lock);
}

/* A copy of header name of connection c, or NULL. */
static char *header_dup(struct MHD_Connection *c, enum MHD_ValueKind k,
			const char *name)
{
	const char *v = MHD_lookup_connection_value(c, k, name);

	return v ? xstrdup(v) : NULL;
}

/* Take a stream slot for request r on connection c (its first events
 * queued), or NULL when all SRV_STREAMS_MAX are in use. */
static struct srv_stream *stream_open(struct srv *s, struct MHD_Connection *c,
				      const struct req *r,
				      const struct reply *y)
{
	struct srv_stream *t = NULL;
	char *first;

	pthread_mutex_lock(&s->sse_lock);
	for (size_t i = 0; i < SRV_STREAMS_MAX && !t; i++)
		if (!s->streams[i].used && strlen(r->path) < sizeof(t->path))
			t = &s->streams[i];
	if (t) {
		t->owner = s;
		t->used = true;
		t->conn = c;
		snprintf(t->path, sizeof(t->path), "%s", r->path);
		snprintf(t->ip, sizeof(t->ip), "%s", r->client_ip);
		t->cookie = header_dup(c, MHD_COOKIE_KIND, SRV_COOKIE);
		t->authz = header_dup(c, MHD_HEADER_KIND, "Authorization");
		t->last = sse_key(y);
		first = sse_text(y, true);
		stream_queue(t, first);
		free(first);
	}
	pthread_mutex_unlock(&s->sse_lock);
	return t;
}

/* The replayed request's accessors: conn is the stream. */
static const char *stream_header(void *conn, const char *n)
{
	const struct srv_stream *t = conn;

	return !strcasecmp(n, "Authorization") ? t->authz : NULL;
}

static const char *stream_query(void *conn, const char *n)
{
	(void)conn;
	(void)n;
	return NULL;
}

static const char *stream_cookie(void *conn, const char *n)
{
	const struct srv_stream *t = conn;

	return !strcmp(n, SRV_COOKIE) ? t->cookie : NULL;
}

/* Re-run stream t's request; queue an event when the figures changed,
 * `end` when it is over, a comment when nothing was sent for a while.
 * Whether anything was queued. */
static bool stream_check(struct srv *s, struct srv_stream *t, int64_t now)
{
	struct req r;
	struct reply y = { 0 };
	char *k, *text;
	bool queued = false;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = t->path;
	r.client_ip = t->ip;
	r.header = stream_header;
	r.query = stream_query;
	r.cookie = stream_cookie;
	r.conn = t;
	r.passive = true;
	srv_dispatch(s, &r, &y);
	principal_free(&r.who);
	if (y.status != 200 || !y.sse) {
		/* the session ended, or the grant: say so, then end */
		json_t *b = json_object_get(json_object_get(y.body, "error"),
					    "code");
		text = xasprintf("event: end\ndata: {\"status\":%d,\"code\":\"%s\"}"
				 "\n\n", y.status, json_is_string(b) ?
				 json_string_value(b) : "ended");
		stream_queue(t, text);
		free(text);
		t->ended = queued = true;
	} else if (strcmp((k = sse_key(&y)), t->last) || y.sse_end) {
		free(t->last);
		t->last = k;
		text = sse_text(&y, false);
		stream_queue(t, text);
		free(text);
		t->ended = y.sse_end;
		queued = true;
	} else {
		free(k);
		if (now - t->last_ms >= SRV_STREAM_KEEP_MS) {
			stream_queue(t, ": keep-alive\n\n");
			queued = true;
		}
	}
	reply_free(&y);
	return queued;
}

void srv_streams_tick(struct srv *s)
{
	struct MHD_Connection *wake[SRV_STREAMS_MAX];
	size_t nw = 0;
	int64_t now = wall_ms();

	pthread_mutex_lock(&s->sse_lock);
	for (size_t i = 0; i < SRV_STREAMS_MAX; i++) {
		struct srv_stream *t = &s->streams[i];

		if (!t->used || t->ended)
			continue;
		if (stream_check(s, t, now) && t->suspended) {
			t->suspended = false;
			wake[nw++] = t->conn;
		}
	}
	pthread_mutex_unlock(&s->sse_lock);
	/* outside sse_lock: a suspended connection stays until resumed */
	for (size_t i = 0; i < nw; i++)
		MHD_resume_connection(wake[i]);
}

/* Before the daemon stops: end every stream, resume it, and give the
 * pool threads a moment to finish them (MHD_stop_daemon must not meet a
 * suspended connection). */
static void streams_stop(struct srv *s)
{
	struct MHD_Connection *wake[SRV_STREAMS_MAX];
	size_t nw = 0, left = 1;

	pthread_mutex_lock(&s->sse_lock);
	for (size_t i = 0; i < SRV_STREAMS_MAX; i++) {
		struct srv_stream *t = &s->streams[i];

		if (!t->used)
			continue;
		t->ended = true;
		if (t->suspended) {
			t->suspended = false;
			wake[nw++] = t->conn;
		}
	}
	pthread_mutex_unlock(&s->sse_lock);
	for (size_t i = 0; i < nw; i++)
		MHD_resume_connection(wake[i]);
	for (int tries = 0; tries < 100 && left; tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		left = 0;
		pthread_mutex_lock(&s->sse_lock);
		for (size_t i = 0; i < SRV_STREAMS_MAX; i++)
			left += s->streams[i].used;
		pthread_mutex_unlock(&s->sse_lock);
		nanosleep(&ts, NULL);
	}
}

/* Send an event-stream reply: a live stream when the campaign is live
 * and a slot is free, else the events at once and the end of the
 * response (the browser's EventSource reconnects after the retry). */
static enum MHD_Result send_events(struct srv *s, struct MHD_Connection *c,
				   const struct req *r, struct reply *y)
{
	struct srv_stream *t = y->sse_end ? NULL : stream_open(s, c, r, y);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!t) {
		char *text = sse_text(y, true);

		reply_raw(y, "text/event-stream; charset=utf-8", text,
			  strlen(text));
		free(text);
		return send_reply(s, c, y);
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
						 stream_read, t, stream_free);
	if (!resp) {
		stream_free(t);
		return MHD_NO;
	}
	add_headers(s, resp);
	MHD_add_response_header(resp, "Content-Type",
				"text/event-stream; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- the access handler ---- */

static bool method_known(const char *m)
{
	static const char *const ok[] = { "GET", "HEAD", "POST", "PUT", "PATCH",
					  "DELETE" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(m, ok[i]))
			return true;
	return false;
}

static bool is_json(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* ---- read handles ---- */

static __thread struct store *tl_reader;   /* set only around a read */

struct store *srv_st(struct srv *s)
{
	return tl_reader ? tl_reader : s->st;
}

/* This thread's own store handle for reads, opened on first use; NULL
 * (the request then waits for the shared one) when the pool is full or
 * it cannot be opened. */
static struct store *reader(struct srv *s)
{
	static __thread struct store *mine;
	static __thread bool tried;
	struct errmsg e;

	if (mine || tried || !s->o->open_store)
		return mine;
	tried = true;
	pthread_mutex_lock(&s->readers_lock);
	for (size_t i = 0; i < SRV_THREADS && !mine; i++)
		if (!s->readers[i]) {
			if (s->o->open_store(s->o->store_path, &s->readers[i], &e))
				log_warn("server: no read handle: %s", e.text);
			mine = s->readers[i];
			break;
		}
	pthread_mutex_unlock(&s->readers_lock);
	return mine;
}

static void readers_close(struct srv *s)
{
	for (size_t i = 0; i < SRV_THREADS; i++) {
		store_close(s->readers[i]);
		s->readers[i] = NULL;
	}
}

static bool is_read(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/* A read runs on the thread's own handle, outside s->lock, so a write
 * waiting for the journal's lock (a campaign's run commits to the same
 * file) never queues it; the rest under s->lock on the shared handle. */
static void dispatch(struct srv *s, struct req *r, struct reply *y)
{
	struct store *own = is_read(r->method) ? reader(s) : NULL;

	if (own) {
		tl_reader = own;
		srv_dispatch(s, r, y);
		tl_reader = NULL;
		return;
	}
	pthread_mutex_lock(&s->lock);
	srv_dispatch(s, r, y);
	pthread_mutex_unlock(&s->lock);
}

/* The whole of one request once its body is in. */
static enum MHD_Result handle(struct srv *s, struct MHD_Connection *c,
			      const char *url, const char *method,
			      struct conn_ctx *cc)
{
	struct req r;
	struct reply y = { 0 };
	char ip[64];
	enum MHD_Result ret;

	if (strncmp(url, "/api/", 5) && method_known(method) &&
	    (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
		return send_static(s, c, url);
	memset(&r, 0, sizeof(r));
	client_ip(c, ip, sizeof(ip));
	r.method = method;
	r.client_ip = ip;
	r.header = get_header;
	r.query = get_query;
	r.cookie = get_cookie;
	r.conn = c;
	r.content_type = get_header(c, "Content-Type");
	r.body = cc->body.data ? cc->body.data : "";
	r.len = cc->body.len;
	if (cc->too_big)
		reply_err(&y, 413, "too_large", NULL, "the body is over %d bytes",
			  SRV_BODY_MAX);
	else if (!method_known(method))
		reply_err(&y, 405, "method_not_allowed", NULL, "unknown method");
	else if (strncmp(url, "/api/v1/", 8))
		reply_err(&y, 404, "not_found", NULL, "no such endpoint (the API "
			  "is under /api/v1)");
	else if (r.len && !is_json(r.content_type))
		reply_err(&y, 415, "unsupported_media_type", NULL, "bodies are "
			  "application/json");
	else {
		r.path = url + 7;
		dispatch(s, &r, &y);
		principal_free(&r.who);
	}
	if (y.sse && y.status == 200)
		ret = send_events(s, c, &r, &y);
	else
		ret = send_reply(s, c, &y);
	reply_free(&y);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct srv *s = cls;
	struct conn_ctx *cc = *con_cls;

	(void)version;
	if (!cc) {
		cc = xcalloc(1, sizeof(*cc));
		buf_init(&cc->body, SRV_BODY_MAX);
		*con_cls = cc;
		return MHD_YES;
	}
	if (*data_size) {
		if (!cc->too_big && buf_add(&cc->body, data, *data_size))
			cc->too_big = true;
		*data_size = 0;
		return MHD_YES;
	}
	if (!cc->too_big && buf_addch(&cc->body, 0) == ERR_OK)
		cc->body.len--; /* NUL-terminated for the JSON parser */
	else
		cc->too_big = true;
	return handle(s, c, url, method, cc);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *cc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cc) {
		buf_release(&cc->body);
		free(cc);
		*con_cls = NULL;
	}
}

/* ---- the daemon ---- */

bool server_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* One ADDR or ADDR/PREFIX of a --trust-proxy-from list as 16 bytes (v4
 * as v4-mapped v6) and a prefix length in those 128 bits. */
static bool net_parse(const char *item, size_t n, unsigned char net[16],
		      int *bits)
{
	char tmp[64];
	const char *slash;
	struct in_addr a4;
	long long p = -1;
	bool v4;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, item, n);
	tmp[n] = 0;
	slash = strchr(tmp, '/');
	if (slash) {
		if (num_parse_ll(slash + 1, 0, 128, &p, NULL))
			return false;
		tmp[slash - tmp] = 0;
	}
	memset(net, 0, 16);
	v4 = inet_pton(AF_INET, tmp, &a4) == 1;
	if (v4) {
		net[10] = net[11] = 0xff;
		memcpy(net + 12, &a4, 4);
		if (p > 32)
			return false;
		*bits = p < 0 ? 128 : 96 + (int)p;
	} else if (inet_pton(AF_INET6, tmp, net) == 1) {
		*bits = p < 0 ? 128 : (int)p;
	} else {
		return false;
	}
	return true;
}

static bool net_has(const unsigned char net[16], int bits,
		    const unsigned char a[16])
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(net, a, (size_t)whole))
		return false;
	return rest == 0 ||
	       ((net[whole] ^ a[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

enum err server_proxy_spec_check(const char *spec, struct errmsg *e)
{
	unsigned char net[16];
	int bits;

	for (const char *p = spec;; p++) {
		size_t n = strcspn(p, ",");

		if (!net_parse(p, n, net, &bits))
			return err_set(e, ERR_INVAL, "--trust-proxy-from: '%.*s' "
				       "is not an address or ADDRESS/PREFIX",
				       (int)(n < 64 ? n : 64), p);
		p += n;
		if (!*p)
			return ERR_OK;
	}
}

bool server_proxy_trusted(const char *spec, const char *ip)
{
	unsigned char a[16], net[16];
	int bits, abits;

	if (!spec || !net_parse(ip, strlen(ip), a, &abits))
		return false;
	for (const char *p = spec;; p++) {
		size_t n = strcspn(p, ",");

		if (net_parse(p, n, net, &bits) && net_has(net, bits, a))
			return true;
		p += n;
		if (!*p)
			return false;
	}
}

enum err server_parse_listen(const char *s, char *host, int *port,
			     struct errmsg *e)
{
	const char *colon;
	size_t hn;
	long long p;
	char tmp[8];

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return err_set(e, ERR_INVAL, "--listen: expected "
				       "[ADDRESS]:PORT");
		hn = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return err_set(e, ERR_INVAL, "--listen: expected "
				       "HOST:PORT");
		hn = (size_t)(colon - s);
	}
	if (hn == 0 || hn >= 64 || strlen(colon + 1) >= sizeof(tmp) ||
	    num_parse_ll(colon + 1, 0, 65535, &p, NULL))
		return err_set(e, ERR_INVAL, "--listen: bad address or port");
	memcpy(host, s, hn);
	host[hn] = 0;
	if (!strcmp(host, "localhost"))
		snprintf(host, 64, "127.0.0.1");
	*port = (int)p;
	return ERR_OK;
}

static enum err read_pem(const char *path, char **out, struct errmsg *e)
{
	size_t n;

	return file_read(path, 1 << 20, out, &n, e);
}

static enum err write_ready(const char *path, const char *host, int port,
			    struct errmsg *e)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return err_sys(e, ERR_IO, "'%s'", path);
	fprintf(f, "%s:%d\n", host, port);
	if (fclose(f))
		return err_sys(e, ERR_IO, "'%s'", path);
	return ERR_OK;
}

struct daemon_cfg {
	char host[64];
	int port;
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} sa;
	bool v6;
	char *cert, *key;
};

static enum err prepare(const struct server_opts *o, struct daemon_cfg *d,
			struct errmsg *e)
{
	enum err rc = server_parse_listen(o->listen ? o->listen
						    : "127.0.0.1:8740",
					  d->host, &d->port, e);
	if (rc)
		return rc;
	if (!o->tls_cert != !o->tls_key)
		return err_set(e, ERR_INVAL, "--tls-cert and --tls-key go "
			       "together");
	if (!o->tls_cert && !server_is_loopback(d->host))
		return err_set(e, ERR_INVAL, "refusing to listen on %s without "
			       "TLS (give --tls-cert and --tls-key, or listen "
			       "on loopback)", d->host);
	memset(&d->sa, 0, sizeof(d->sa));
	if (inet_pton(AF_INET, d->host, &d->sa.v4.sin_addr) == 1) {
		d->sa.v4.sin_family = AF_INET;
		d->sa.v4.sin_port = htons((uint16_t)d->port);
	} else if (inet_pton(AF_INET6, d->host, &d->sa.v6.sin6_addr) == 1) {
		d->sa.v6.sin6_family = AF_INET6;
		d->sa.v6.sin6_port = htons((uint16_t)d->port);
		d->v6 = true;
	} else {
		return err_set(e, ERR_INVAL, "--listen: '%s' is not an IP "
			       "address", d->host);
	}
	if (o->tls_cert && ((rc = read_pem(o->tls_cert, &d->cert, e)) ||
			    (rc = read_pem(o->tls_key, &d->key, e))))
		return rc;
	return ERR_OK;
}

static struct MHD_Daemon *start(struct srv *s, const struct server_opts *o,
				struct daemon_cfg *d)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	int maxc = o->max_conn > 0 ? o->max_conn : 512;

	if (d->v6)
		flags |= MHD_USE_IPv6;
	if (d->cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, (uint16_t)d->port, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&d->sa,
		MHD_OPTION_THREAD_POOL_SIZE, 4u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_HEADERS_MAX + 16384,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SRV_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)maxc,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(o->per_ip > 0 ? o->per_ip : 0),
		MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
		d->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, d->cert,
		MHD_OPTION_HTTPS_MEM_KEY, d->key,
		MHD_OPTION_END);
}

enum err server_run(struct store *st, const struct server_opts *o,
		    struct errmsg *e)
{
	struct srv s;
	struct daemon_cfg d;
	struct MHD_Daemon *dm;
	const union MHD_DaemonInfo *di;
	sigset_t set, old;
	enum err rc;
	int sig = 0;

	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	s.st = st;
	s.o = o;
	s.tls = o->tls_cert != NULL;
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.audit_lock, NULL);
	pthread_mutex_init(&s.readers_lock, NULL);
	pthread_mutex_init(&s.sse_lock, NULL);
	if ((rc = prepare(o, &d, e)))
		goto out;
	if ((rc = vault_audit_open(o->audit_dir, 0, &s.audit, e)))
		goto out;
	s.web_dir = o->web_dir ? xstrdup(o->web_dir) : path_data_file("web");
	s.key_dir = vault_home_path("program-keys", "ASSAY_PROGRAM_KEYS");
	s.suites_dir = vault_home_path("program-suites", "ASSAY_PROGRAM_SUITES");
	{
		char *exe = path_exe_dir();
		s.assay_path = exe ? path_join(exe, "assay") : xstrdup("assay");
		free(exe);
	}
	/* the daemon's threads inherit the mask: only this one takes them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	srv_worker_recover(&s);
	dm = start(&s, o, &d);
	if (!dm) {
		rc = err_set(e, ERR_IO, "cannot listen on %s:%d (in use, or no "
			     "permission?)", d.host, d.port);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	di = MHD_get_daemon_info(dm, MHD_DAEMON_INFO_BIND_PORT);
	if (di && di->port)
		d.port = di->port;
	log_info("serving the program on %s://%s:%d/", s.tls ? "https" : "http",
		 d.host, d.port);
	if (o->ready_file && (rc = write_ready(o->ready_file, d.host, d.port, e)))
		sig = -1;
	/* once a second: close windows past their end (crypto-erasure) */
	while (sig == 0) {
		struct timespec ts = { 1, 0 };
		int got = sigtimedwait(&set, NULL, &ts);

		if (got == SIGINT || got == SIGTERM)
			break;
		pthread_mutex_lock(&s.lock);
		srv_sweep_windows(&s);
		srv_worker_tick(&s);
		srv_streams_tick(&s);
		pthread_mutex_unlock(&s.lock);
	}
	streams_stop(&s);
	MHD_stop_daemon(dm);
	readers_close(&s);
	srv_worker_stop(&s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_info("server stopped");
out:
	if (s.audit)
		vault_audit_close(s.audit);
	free(s.web_dir);
	free(s.key_dir);
	free(s.suites_dir);
	free(s.assay_path);
	if (d.key)
		explicit_bzero(d.key, strlen(d.key));
	free(d.cert);
	free(d.key);
	pthread_mutex_destroy(&s.sse_lock);
	pthread_mutex_destroy(&s.readers_lock);
	pthread_mutex_destroy(&s.audit_lock);
	pthread_mutex_destroy(&s.lock);
	return rc;
}
