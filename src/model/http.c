/*
 * http.c - the one libcurl multi handle of a model context. The only file
 * that includes curl/curl.h.
 *
 * One easy handle per attempt, all on one multi handle: no thread or
 * process per call. curl_multi_poll() waits on curl's sockets plus the
 * engine's fds. Timeouts:
 *   connect     CURLOPT_CONNECTTIMEOUT_MS
 *   first byte  our own deadline per transfer (curl has none): checked in
 *               model_http_run() and folded into model_http_wait()'s timeout, so it
 *               is exact to the millisecond
 *   stall       CURLOPT_LOW_SPEED_* (< 1 byte/s for the first-byte time,
 *               catches a body that stops half-way)
 *   total       CURLOPT_TIMEOUT_MS
 * The body is capped (CURLOPT_MAXFILESIZE for an announced length, the
 * write callback for a chunked one), and so is the sum of the bodies
 * buffered by all transfers (`cap`): a transfer whose next chunk would pass
 * it is paused (CURL_WRITEFUNC_PAUSE: curl stops reading its socket) until
 * others finish. One paused transfer at a time is privileged and may pass
 * the cap, so the transfers never all wait on each other: the bound is
 * cap + one body. Keys travel only in the header list given to curl;
 * CURLOPT_VERBOSE is never set.
 */
#include "model/model_int.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct http_xfer {
	struct http_xfer *next, *prev;
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *body;                 /* request body, owned */
	struct buf resp;
	bool got_byte;
	bool too_large;
	bool paused;                /* over the shared cap, waiting */
	bool privileged;            /* may pass the shared cap */
	int64_t started;
	int64_t first_byte_deadline;
	int64_t retry_after_ms;
	char curl_err[CURL_ERROR_SIZE]; /* curl's detail of a failure */
	http_done_fn done;
	void *arg;
};

struct http {
	CURLM *multi;
	struct http_xfer *xfers;
	size_t buffered;            /* bytes of all transfers' bodies */
	size_t cap;                 /* bound of `buffered` (+ one body) */
	size_t peak;                /* highest `buffered` seen */
	size_t n_paused;
	bool have_privileged;
};

static bool global_ready;

enum err model_http_new(struct http **h_out, struct errmsg *e)
{
	struct http *h;

	if (!global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return err_set(e, ERR_HTTP, "cannot initialise libcurl");
		global_ready = true;
	}
	h = xcalloc(1, sizeof(*h));
	h->multi = curl_multi_init();
	if (!h->multi) {
		free(h);
		return err_set(e, ERR_HTTP, "cannot create a curl multi handle");
	}
	h->cap = HTTP_DEFAULT_MEMORY_CAP;
	/* HTTP/2 multiplexing when the server offers it (api.openai.com) */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	*h_out = h;
	return ERR_OK;
}

static void xfer_unlink(struct http *h, struct http_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
}

static void xfer_free(struct http *h, struct http_xfer *x)
{
	h->buffered -= x->resp.len;
	if (x->paused)
		h->n_paused--;
	if (x->privileged)
		h->have_privileged = false;
	curl_multi_remove_handle(h->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	buf_release(&x->resp);
	free(x);
}

void model_http_cancel(struct http *h, struct http_xfer *x)
{
	xfer_unlink(h, x);
	xfer_free(h, x);
}

void model_http_free(struct http *h)
{
	if (!h)
		return;
	while (h->xfers)
		model_http_cancel(h, h->xfers);
	curl_multi_cleanup(h->multi);
	free(h);
}

/* ---- callbacks -------------------------------------------------------- */

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	x->got_byte = true;
	if (!x->privileged && x->h->buffered + n > x->h->cap) {
		if (!x->paused)
			x->h->n_paused++;
		x->paused = true;
		return CURL_WRITEFUNC_PAUSE; /* delivered again on unpause */
	}
	if (buf_add(&x->resp, p, n)) {
		x->too_large = true;
		return 0; /* aborts with CURLE_WRITE_ERROR */
	}
	x->h->buffered += n;
	if (x->h->buffered > x->h->peak)
		x->h->peak = x->h->buffered;
	return n;
}

int64_t model_http_parse_retry_after(const char *v, int64_t now_s)
{
	char tmp[64];
	size_t n;
	const char *s = trim_span(v, strlen(v), &n);
	char *end;
	long long secs;
	time_t t;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (tmp[0] >= '0' && tmp[0] <= '9') {
		secs = strtoll(tmp, &end, 10);
		if (*end)
			return -1;
		/* past 64 bits (strtoll saturates) is absurd, not absent:
		 * the caller caps it and says so */
		if (secs > INT64_MAX / 1000)
			return INT64_MAX / 1000 * 1000;
		return (int64_t)secs * 1000;
	}
	t = curl_getdate(tmp, NULL);
	if (t == (time_t)-1)
		return -1;
	return t <= now_s ? 0 : ((int64_t)t - now_s) * 1000;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	char val[64];

	x->got_byte = true;
	if (n > sizeof(name) - 1 && n - (sizeof(name) - 1) < sizeof(val) &&
	    !strncasecmp(p, name, sizeof(name) - 1)) {
		size_t vl = n - (sizeof(name) - 1);
		memcpy(val, p + sizeof(name) - 1, vl);
		val[vl] = '\0';
		x->retry_after_ms = model_http_parse_retry_after(val, wall_ms() / 1000);
	} else if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after a 100 Continue): forget old headers */
		x->retry_after_ms = -1;
	}
	return n;
}

/* ---- starting --------------------------------------------------------- */

static enum err set_options(struct http_xfer *x, const struct http_req *req)
{
	CURL *c = x->easy;
	long stall_s = (req->first_byte_ms + 999) / 1000;
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(c, CURLOPT_URL, req->url);
	rc |= curl_easy_setopt(c, CURLOPT_POST, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
	rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			       (curl_off_t)req->body_len);
	rc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
	rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	rc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	rc |= curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_ms);
	rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)req->total_ms);
	rc |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_s ? stall_s : 1L);
	rc |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
			       (curl_off_t)req->max_body);
	rc |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(c, CURLOPT_USERAGENT, "assay/" ASSAY_VERSION);
	rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_err);
	/* verification stays on (curl's default); only the trusted CAs may
	 * be named */
	if (req->ca_bundle)
		rc |= curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_bundle);
	return rc == CURLE_OK ? ERR_OK : ERR_HTTP;
}

static struct curl_slist *make_headers(char *const *lines)
{
	struct curl_slist *l = NULL, *t;

	l = curl_slist_append(l, "Content-Type: application/json");
	/* no "Expect: 100-continue" round trip for large prompts */
	if (l && (t = curl_slist_append(l, "Expect:")))
		l = t;
	for (size_t i = 0; lines && lines[i] && l; i++) {
		t = curl_slist_append(l, lines[i]);
		if (!t) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = t;
	}
	return l;
}

enum err model_http_start(struct http *h, const struct http_req *req,
			  http_done_fn done, void *arg, struct http_xfer **x_out,
			  struct errmsg *e)
{
	struct http_xfer *x = xcalloc(1, sizeof(*x));

	x->h = h;
	buf_init(&x->resp, req->max_body);
	x->done = done;
	x->arg = arg;
	x->retry_after_ms = -1;
	x->body = xmalloc(req->body_len + 1);
	memcpy(x->body, req->body, req->body_len);
	x->body[req->body_len] = '\0';
	x->easy = curl_easy_init();
	x->headers = make_headers(req->headers);
	if (!x->easy || !x->headers || set_options(x, req) ||
	    curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		free(x->body);
		buf_release(&x->resp);
		free(x);
		return err_set(e, ERR_HTTP, "cannot set up a request to '%s'",
			       req->url);
	}
	x->started = now_ms();
	x->first_byte_deadline = x->started + req->first_byte_ms;
	x->next = h->xfers;
	if (h->xfers)
		h->xfers->prev = x;
	h->xfers = x;
	*x_out = x;
	return ERR_OK;
}

/* ---- waiting and running ---------------------------------------------- */

static int64_t first_byte_due(const struct http *h)
{
	int64_t t = 0;

	for (const struct http_xfer *x = h->xfers; x; x = x->next)
		if (!x->got_byte && (t == 0 || x->first_byte_deadline < t))
			t = x->first_byte_deadline;
	return t;
}

#define MAX_EXTRA 4096

enum err model_http_wait(struct http *h, struct pollfd *extra, unsigned n_extra,
			 int timeout_ms, struct errmsg *e)
{
	struct curl_waitfd *w = NULL;
	int64_t due = first_byte_due(h);
	CURLMcode mc;

	if (n_extra > MAX_EXTRA)
		return err_set(e, ERR_LIMIT, "more than %d fds to wait on",
			       MAX_EXTRA);
	timeout_ms = model_wait_until(timeout_ms, due);
	if (n_extra) {
		w = xcalloc(n_extra, sizeof(*w));
		for (unsigned i = 0; i < n_extra; i++) {
			w[i].fd = extra[i].fd;
			w[i].events = (short)extra[i].events;
		}
	}
	mc = curl_multi_poll(h->multi, w, n_extra, timeout_ms, NULL);
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = (short)w[i].revents;
	free(w);
	if (mc != CURLM_OK)
		return err_set(e, ERR_HTTP, "waiting for model traffic: %s",
			       curl_multi_strerror(mc));
	return ERR_OK;
}

static enum http_fail classify(CURLcode cc, const struct http_xfer *x)
{
	switch (cc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return x->too_large || cc == CURLE_FILESIZE_EXCEEDED
			       ? HTTP_FAIL_TOO_LARGE
			       : HTTP_FAIL_OTHER;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_FAIL_TIMEOUT;
	case CURLE_PARTIAL_FILE:
		return HTTP_FAIL_TRUNCATED;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return HTTP_FAIL_TLS_VERIFY;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HTTP_FAIL_CONNECT;
	default:
		return HTTP_FAIL_OTHER;
	}
}

static void complete(struct http *h, struct http_xfer *x,
		     enum http_fail fail, const char *why)
{
	struct http_result res = {0};
	long status = 0;
	char *ct = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	res.fail = fail;
	res.status = status;
	snprintf(res.errtext, sizeof(res.errtext), "%s", why ? why : "");
	snprintf(res.content_type, sizeof(res.content_type), "%s",
		 ct ? ct : "");
	{
		curl_off_t ct_us = 0;
		curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &ct_us);
		res.connected = ct_us > 0 || status > 0;
	}
	res.body = &x->resp;
	res.retry_after_ms = x->retry_after_ms;
	res.elapsed_ms = now_ms() - x->started;
	xfer_unlink(h, x);
	curl_multi_remove_handle(h->multi, x->easy);
	x->done(x->arg, &res);
	xfer_free(h, x);
}

static void check_first_byte(struct http *h)
{
	int64_t now = now_ms();
	struct http_xfer *x, *next;

	for (x = h->xfers; x; x = next) {
		next = x->next;
		if (!x->got_byte && now >= x->first_byte_deadline)
			complete(h, x, HTTP_FAIL_FIRST_BYTE,
				 "no response byte in time");
	}
}

static void unpause(struct http_xfer *x)
{
	x->paused = false;
	x->h->n_paused--;
	/* may deliver the held chunk at once, which may pause it again */
	curl_easy_pause(x->easy, CURLPAUSE_CONT);
}

/* Paused transfers go on while there is room under the cap; when there is
 * none and no transfer is privileged, the paused one with the most bytes
 * (the nearest to done) becomes privileged: someone always progresses. */
static void resume_paused(struct http *h)
{
	struct http_xfer *x, *best = NULL;

	if (!h->n_paused)
		return;
	for (x = h->xfers; x && h->buffered < h->cap; x = x->next)
		if (x->paused)
			unpause(x);
	if (h->have_privileged || !h->n_paused)
		return;
	for (x = h->xfers; x; x = x->next)
		if (x->paused && (!best || x->resp.len > best->resp.len))
			best = x;
	if (best) {
		best->privileged = true;
		h->have_privileged = true;
		unpause(best);
	}
}

enum err model_http_run(struct http *h, struct errmsg *e)
{
	CURLMcode mc;
	CURLMsg *msg;
	int running, left;

	mc = curl_multi_perform(h->multi, &running);
	if (mc != CURLM_OK)
		return err_set(e, ERR_HTTP, "model traffic: %s",
			       curl_multi_strerror(mc));
	while ((msg = curl_multi_info_read(h->multi, &left))) {
		char *priv = NULL;
		struct http_xfer *x;
		enum http_fail f;
		CURLcode cc;
		if (msg->msg != CURLMSG_DONE)
			continue;
		cc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct http_xfer *)(void *)priv;
		if (!x)
			continue;
		/* the TLS verification error's detail ("unable to get local
		 * issuer certificate") is what the operator needs */
		f = classify(cc, x);
		complete(h, x, f, f == HTTP_FAIL_TLS_VERIFY && x->curl_err[0]
			 ? x->curl_err : curl_easy_strerror(cc));
	}
	check_first_byte(h);
	resume_paused(h);
	return ERR_OK;
}

void model_http_set_memory_cap(struct http *h, size_t cap)
{
	h->cap = cap ? cap : HTTP_DEFAULT_MEMORY_CAP;
}

bool model_http_over_cap(const struct http *h)
{
	return h->buffered >= h->cap;
}

size_t model_http_peak_buffered(const struct http *h)
{
	return h->peak;
}
