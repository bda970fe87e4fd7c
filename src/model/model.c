/*
 * model.c - the model context: calls, retries with backoff, and the
 * classification of every failure as infrastructure or model.
 *
 * A call is one model_call_start(). An HTTP call makes up to
 * 1 + max_retries attempts; between attempts it waits on a timer that
 * model_ctx_wait() folds into its poll timeout. Local providers compute
 * the reply at once and park it until the next model_ctx_run(), so a
 * callback never runs inside model_call_start() (the engine may hold
 * locks or be half-way through setting up an episode there).
 */
#include "model/model.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

/* A Retry-After beyond this is an endpoint's mistake (or a hostile one):
 * it is capped, and the error line says so. */
#define RETRY_AFTER_CAP_MS 300000
/* This many attempts in a row failing as infrastructure, across all calls
 * of a model, mean its endpoint is down. */
#define OUTAGE_STREAK 5
#define OUTAGE_DEFAULT_MS (30 * 60 * 1000)
/* While over the memory cap, a new attempt looks again this often. */
#define MEMORY_WAIT_MS 20

struct model_call {
	struct model_call *next, *prev;
	struct model *m;
	model_done_fn done;
	void *arg;
	char *body;
	size_t body_len;
	struct http_xfer *xfer;      /* attempt in flight */
	int64_t retry_at;            /* > 0: waiting to retry */
	int64_t started;
	int attempts;
	int rate_limited;
	bool preflight;              /* every failure is fatal */
	bool probe;                  /* this attempt probes a down endpoint */
	/* the last attempt got a 2xx that is no model reply (HTML, not
	 * JSON, the wrong shape): at the preflight, a wrong endpoint */
	bool wrong_answer;
	char last_error[MODEL_MAX_ERROR_LINE];
	long last_status;
	struct model_reply *reply;   /* set when finished */
};

struct model_ctx {
	struct http *http;
	struct model_call *calls;    /* all unfinished and undelivered */
	size_t n_calls;
	unsigned rate_limits;
	uint64_t rng;
	struct price_table *prices;
	bool prices_loaded;
	char *fatal;                 /* first fatal configuration error */
};

/* ---- context ---------------------------------------------------------- */

enum err model_ctx_new(struct model_ctx **ctx_out, struct errmsg *e)
{
	struct model_ctx *ctx = xcalloc(1, sizeof(*ctx));
	enum err rc;

	rc = random_bytes(&ctx->rng, sizeof(ctx->rng), e);
	if (rc == ERR_OK)
		rc = model_http_new(&ctx->http, e);
	if (rc) {
		free(ctx);
		return rc;
	}
	ctx->rng |= 1;
	*ctx_out = ctx;
	return ERR_OK;
}

static void call_unlink(struct model_ctx *ctx, struct model_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		ctx->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	ctx->n_calls--;
}

static void call_link(struct model_ctx *ctx, struct model_call *c)
{
	c->prev = NULL;
	c->next = ctx->calls;
	if (ctx->calls)
		ctx->calls->prev = c;
	ctx->calls = c;
	ctx->n_calls++;
}

static void call_free(struct model_ctx *ctx, struct model_call *c)
{
	if (c->xfer)
		model_http_cancel(ctx->http, c->xfer);
	free(c->body);
	if (c->reply)
		model_reply_release(c->reply);
	free(c);
}

void model_ctx_free(struct model_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->calls) {
		struct model_call *c = ctx->calls;
		call_unlink(ctx, c);
		call_free(ctx, c);
	}
	model_http_free(ctx->http);
	model_price_table_free(ctx->prices);
	free(ctx->fatal);
	free(ctx);
}

void model_ctx_cancel_all(struct model_ctx *ctx)
{
	while (ctx->calls) {
		struct model_call *c = ctx->calls;
		if (c->probe)
			c->m->probing = false;
		call_unlink(ctx, c);
		call_free(ctx, c);
	}
}

void model_sync_done(void *arg, struct model_reply *reply)
{
	struct model_sync *s = arg;

	s->reply = reply;
	s->done = true;
}

enum err model_sync_wait(struct model_ctx *ctx, struct model_sync *s,
			 int tick_ms, const volatile sig_atomic_t *stop,
			 struct errmsg *e)
{
	enum err rc = ERR_OK;

	while (rc == ERR_OK && !s->done && !(stop && *stop)) {
		rc = model_ctx_wait(ctx, NULL, 0, tick_ms, e);
		if (rc == ERR_OK)
			rc = model_ctx_run(ctx, e);
	}
	return rc;
}

size_t model_ctx_pending(const struct model_ctx *ctx)
{
	return ctx->n_calls;
}

unsigned model_ctx_take_rate_limits(struct model_ctx *ctx)
{
	unsigned n = ctx->rate_limits;
	ctx->rate_limits = 0;
	return n;
}

const char *model_ctx_fatal(const struct model_ctx *ctx)
{
	return ctx->fatal;
}

void model_ctx_set_memory_cap(struct model_ctx *ctx, size_t bytes)
{
	model_http_set_memory_cap(ctx->http, bytes);
}

size_t model_ctx_peak_buffered(const struct model_ctx *ctx)
{
	return model_http_peak_buffered(ctx->http);
}

bool model_down(const struct model *m)
{
	return m->down_since > 0;
}

bool model_gave_up(const struct model *m)
{
	return m->gave_up;
}

static uint64_t ctx_random(struct model_ctx *ctx)
{
	/* xorshift64*: jitter only, not security */
	ctx->rng ^= ctx->rng >> 12;
	ctx->rng ^= ctx->rng << 25;
	ctx->rng ^= ctx->rng >> 27;
	return ctx->rng * 0x2545F4914F6CDD1DULL;
}

/* ---- opening a model -------------------------------------------------- */

static const struct {
	const char *prefix;
	const struct provider_ops *ops;
} providers[] = {
	{"openai", &model_provider_openai},
	{"openai-compatible", &model_provider_openai_compat},
	{"anthropic", &model_provider_anthropic},
	{"baseline", NULL}, /* resolved by name below */
	{"replay", &model_provider_replay},
	{"human", &model_provider_human},
};

static const struct provider_ops *find_provider(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t n = (size_t)(slash - name);

	if (!strcmp(name, "baseline/oracle"))
		return &model_provider_baseline_oracle;
	if (!strcmp(name, "baseline/null"))
		return &model_provider_baseline_null;
	for (size_t i = 0; i < ARRAY_SIZE(providers); i++)
		if (providers[i].ops && strlen(providers[i].prefix) == n &&
		    !strncmp(name, providers[i].prefix, n))
			return providers[i].ops;
	return NULL;
}

static enum err resolve_name(const struct model_config *cfg,
			     const struct provider_ops **ops_out,
			     struct errmsg *e)
{
	const char *name = cfg->name;
	const char *slash = name ? strchr(name, '/') : NULL;

	if (!slash || slash == name || !slash[1])
		return err_set(e, ERR_INVAL,
			       "model '%s': expected 'provider/model' (providers: "
			       "openai, openai-compatible, anthropic, baseline, "
			       "replay, human)",
			       name ? name : "");
	*ops_out = find_provider(name);
	if (!*ops_out) {
		if (!strncmp(name, "baseline/", 9))
			return err_set(e, ERR_INVAL,
				       "model '%s': unknown baseline (known: "
				       "baseline/oracle, baseline/null)",
				       name);
		return err_set(e, ERR_INVAL,
			       "model '%s': unknown provider '%.*s' (known: "
			       "openai, openai-compatible, anthropic, "
			       "baseline, replay, human)",
			       name, (int)(slash - name), name);
	}
	return ERR_OK;
}

static enum err load_prices(struct model *m, const struct model_config *cfg,
			    struct errmsg *e)
{
	struct model_ctx *ctx = m->ctx;
	struct price_table *own = NULL;
	const struct price_table *t;
	enum err rc;

	if (cfg->price_table) {
		rc = model_price_table_load(cfg->price_table, &own, e);
		if (rc)
			return rc;
		t = own;
	} else {
		if (!ctx->prices_loaded) {
			rc = model_price_table_load(NULL, &ctx->prices, e);
			if (rc)
				return rc;
			ctx->prices_loaded = true;
		}
		t = ctx->prices;
	}
	m->price_known = t && model_price_table_find(t, m->name, &m->price);
	model_price_table_free(own);
	return ERR_OK;
}

static void apply_config(struct model *m, const struct model_config *cfg)
{
	m->params = cfg->params;
	m->ca_bundle = cfg->ca_bundle ? xstrdup(cfg->ca_bundle) : NULL;
	m->reasoning_effort = xstrdup(cfg->params.reasoning_effort);
	m->params.reasoning_effort = m->reasoning_effort;
	m->connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
						    : 10000;
	m->first_byte_ms = cfg->first_byte_timeout_ms > 0
				   ? cfg->first_byte_timeout_ms
				   : 120000;
	m->total_ms = cfg->total_timeout_ms > 0 ? cfg->total_timeout_ms
						: 600000;
	m->max_retries = cfg->max_retries == 0  ? 6
			 : cfg->max_retries < 0 ? 0
						: cfg->max_retries;
	m->backoff_base_ms = cfg->backoff_base_ms > 0 ? cfg->backoff_base_ms
						      : 1000;
	m->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms
						    : 60000;
	m->retry_after_cap_ms = cfg->retry_after_cap_ms > 0
				? cfg->retry_after_cap_ms : RETRY_AFTER_CAP_MS;
	m->outage_ms = cfg->outage_deadline_ms > 0 ? cfg->outage_deadline_ms
		       : cfg->outage_deadline_ms < 0 ? 0 : OUTAGE_DEFAULT_MS;
	if (cfg->context_window > 0)
		m->context_window = cfg->context_window;
	else if (m->price_known && m->price.context_window > 0)
		m->context_window = m->price.context_window;
	else
		m->context_window = 128000;
}

static enum err check_params(const struct model_config *cfg, struct errmsg *e)
{
	const char *r = cfg->params.reasoning_effort;
	FILE *f;

	/* a bundle that cannot be read is said now, not as a TLS error of
	 * the first call */
	if (cfg->ca_bundle) {
		f = fopen(cfg->ca_bundle, "r");
		if (!f)
			return err_sys(e, ERR_INVAL, "model '%s': cannot read "
				       "the CA bundle '%s'", cfg->name,
				       cfg->ca_bundle);
		fclose(f);
	}

	if (r && strcmp(r, "low") && strcmp(r, "medium") && strcmp(r, "high"))
		return err_set(e, ERR_INVAL,
			       "model '%s': reasoning effort '%s' is not one "
			       "of low, medium, high",
			       cfg->name, r);
	return ERR_OK;
}

enum err model_open(struct model_ctx *ctx, const struct model_config *cfg,
		    struct model **m_out, struct errmsg *e)
{
	const struct provider_ops *ops;
	struct model *m;
	enum err rc;

	rc = resolve_name(cfg, &ops, e);
	if (rc == ERR_OK)
		rc = check_params(cfg, e);
	if (rc)
		return rc;
	m = xcalloc(1, sizeof(*m));
	m->ctx = ctx;
	m->ops = ops;
	m->name = xstrdup(cfg->name);
	m->model_id = xstrdup(strchr(cfg->name, '/') + 1);
	rc = load_prices(m, cfg, e);
	if (rc == ERR_OK) {
		apply_config(m, cfg);
		rc = ops->open(m, cfg, e);
	}
	if (rc) {
		model_close(m);
		return rc;
	}
	*m_out = m;
	return ERR_OK;
}

void model_close(struct model *m)
{
	struct model_call *c, *next;

	if (!m)
		return;
	/* Calls still pending for this model are dropped without callback. */
	for (c = m->ctx->calls; c; c = next) {
		next = c->next;
		if (c->m == m) {
			call_unlink(m->ctx, c);
			call_free(m->ctx, c);
		}
	}
	if (m->ops && m->ops->close)
		m->ops->close(m);
	if (m->key) {
		explicit_bzero(m->key, strlen(m->key));
		free(m->key);
	}
	free(m->name);
	free(m->model_id);
	free(m->endpoint);
	free(m->ca_bundle);
	free(m->reasoning_effort);
	free(m->tools_wire);
	free(m);
}

const char *model_name(const struct model *m)
{
	return m->name;
}

const char *model_endpoint(const struct model *m)
{
	return m->endpoint ? m->endpoint : m->name;
}

bool model_is_remote(const struct model *m)
{
	return m->ops == &model_provider_openai || m->ops == &model_provider_openai_compat ||
	       m->ops == &model_provider_anthropic;
}

bool model_price(const struct model *m, double *input, double *output)
{
	if (!model_is_remote(m)) {
		*input = *output = 0;
		return true;
	}
	*input = m->price.input;
	*output = m->price.output;
	return m->price_known;
}

bool model_is_human(const struct model *m)
{
	return m->ops == &model_provider_human;
}

bool model_needs_solution(const struct model *m)
{
	return m->ops == &model_provider_baseline_oracle;
}

int64_t model_context_window(const struct model *m)
{
	return m->context_window;
}

/* ---- finishing a call ------------------------------------------------- */

static struct model_reply *reply_new(void)
{
	struct model_reply *r = xcalloc(1, sizeof(*r));
	r->stop = MODEL_STOP_ERROR;
	return r;
}

static void finish(struct model_call *c, struct model_reply *r)
{
	r->attempts = c->attempts;
	r->rate_limited = c->rate_limited;
	r->total_ms = now_ms() - c->started;
	c->retry_at = 0;
	c->reply = r;
}

static struct model_reply *finish_fail(struct model_call *c,
				       enum model_fail fail,
				       enum model_stop stop, const char *what)
{
	struct model_reply *r = reply_new();
	char *line = xasprintf("%s at %s: %s", c->m->name,
			       model_endpoint(c->m), what);

	r->fail = fail;
	r->stop = stop;
	r->error = model_redact(line, c->m->key);
	r->http_status = (int)c->last_status;
	free(line);
	finish(c, r);
	return r;
}

/* The run cannot go on: no call to this endpoint can succeed. */
static void finish_fatal(struct model_call *c, const char *what)
{
	struct model_ctx *ctx = c->m->ctx;
	struct model_reply *r = finish_fail(c, MODEL_FAIL_INFRA,
					    MODEL_STOP_ERROR, what);

	r->fatal = true;
	if (!ctx->fatal)
		ctx->fatal = xstrdup(r->error);
}

static int64_t backoff_ms(struct model_call *c, int64_t retry_after)
{
	struct model *m = c->m;
	int64_t d = m->backoff_base_ms;
	uint64_t rnd = ctx_random(m->ctx);

	if (retry_after >= 0) {
		if (retry_after > m->retry_after_cap_ms) {
			log_warn("model=%s msg=\"Retry-After of %lld s capped "
				 "at %lld s\"", m->name,
				 (long long)(retry_after / 1000),
				 (long long)(m->retry_after_cap_ms / 1000));
			retry_after = m->retry_after_cap_ms;
		}
		/* up to 10% extra so that many episodes do not return at
		 * the same instant */
		return retry_after + (int64_t)(rnd % (uint64_t)(retry_after / 10 + 1));
	}
	for (int i = 1; i < c->attempts && d < m->backoff_max_ms; i++)
		d *= 2;
	if (d > m->backoff_max_ms)
		d = m->backoff_max_ms;
	/* "equal jitter": half fixed, half random */
	return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

/* ---- endpoint health -------------------------------------------------- */

static bool outage_expired(const struct model *m)
{
	return m->down_since > 0 && now_ms() - m->down_since >= m->outage_ms;
}

/* Calls pause, one probe at a time goes, until an answer or the outage
 * deadline. */
static void go_down(struct model *m, int64_t now)
{
	m->down_since = m->streak_start;
	m->probe_delay = m->backoff_base_ms;
	m->next_probe = now + m->probe_delay;
	log_warn("model=%s endpoint=%s msg=\"endpoint down (%d attempts in a "
		 "row failed); pausing calls, probing, giving up after %lld s\"",
		 m->name, model_endpoint(m), m->streak,
		 (long long)(m->outage_ms / 1000));
}

/* An attempt failed as infrastructure (may be retried). */
static void note_failure(struct model *m)
{
	int64_t now = now_ms();

	if (m->streak++ == 0)
		m->streak_start = now;
	if (m->down_since || m->streak < OUTAGE_STREAK || !m->outage_ms)
		return;
	go_down(m, now);
}

/* The endpoint answered something that was not an endpoint fault: it is
 * up. Calls paused by an outage go again, spread over a second. */
static void note_alive(struct model *m)
{
	m->streak = 0;
	m->answered = true;
	if (!m->down_since)
		return;
	/* said as loudly as the outage was: the log must show it ended */
	log_warn("model=%s msg=\"endpoint back after %lld s; calls go "
		 "again\"", m->name,
		 (long long)((now_ms() - m->down_since) / 1000));
	m->down_since = 0;
	for (struct model_call *c = m->ctx->calls; c; c = c->next)
		if (c->m == m && c->retry_at > 0)
			c->retry_at = now_ms() + (int64_t)(ctx_random(m->ctx) % 1000);
}

/* The attempt in flight of a call has ended. */
static void attempt_ended(struct model_call *c)
{
	struct model *m = c->m;

	if (!c->probe)
		return;
	c->probe = false;
	m->probing = false;
	if (m->probe_delay < m->backoff_max_ms)
		m->probe_delay *= 2;
	if (m->probe_delay > m->backoff_max_ms)
		m->probe_delay = m->backoff_max_ms;
	m->next_probe = now_ms() + m->probe_delay;
}

static void finish_outage(struct model_call *c)
{
	char what[MODEL_MAX_ERROR_LINE + 96];
	struct model_reply *r;

	c->m->gave_up = true;
	if (c->m->down_since)
		snprintf(what, sizeof(what), "endpoint down for %lld s, gave "
			 "up (outage deadline): %s",
			 (long long)((now_ms() - c->m->down_since) / 1000),
			 c->last_error);
	else    /* the preflight, with no outage waited for */
		snprintf(what, sizeof(what), "endpoint failing, not waited "
			 "for (outage deadline 0): %s (after %d attempt%s)",
			 c->last_error, c->attempts, c->attempts == 1 ? "" : "s");
	r = finish_fail(c, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, what);
	r->outage = true;
}

static void retry_or_fail(struct model_call *c, int64_t retry_after)
{
	struct model *m = c->m;
	char what[MODEL_MAX_ERROR_LINE + 64];

	if (m->down_since && outage_expired(m)) {
		finish_outage(c);
		return;
	}
	/* The preflight is the run's only call, so its own failures in a
	 * row are the streak: past its retries the endpoint is down and is
	 * waited out like an outage mid-run (a 5xx storm, timeouts, resets
	 * are not a configuration error; those were made fatal above). */
	if (c->preflight && !m->down_since && c->attempts > m->max_retries) {
		if (c->wrong_answer) {
			snprintf(what, sizeof(what), "%s (after %d attempt%s)",
				 c->last_error, c->attempts,
				 c->attempts == 1 ? "" : "s");
			finish_fatal(c, what);
			return;
		}
		if (!m->outage_ms) {
			finish_outage(c);
			return;
		}
		go_down(m, now_ms());
	}
	if (c->attempts <= m->max_retries || m->down_since) {
		/* while down, the shared probe schedule replaces the call's
		 * own backoff (a Retry-After still holds) */
		c->retry_at = m->down_since && retry_after < 0
				      ? m->next_probe
				      : now_ms() + backoff_ms(c, retry_after);
		if (m->down_since && c->retry_at < m->next_probe)
			c->retry_at = m->next_probe;
		if (c->retry_at <= 0)
			c->retry_at = 1;
		return;
	}
	snprintf(what, sizeof(what), "%s (after %d attempt%s)", c->last_error,
		 c->attempts, c->attempts == 1 ? "" : "s");
	finish_fail(c, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, what);
}

static const char *fail_text(enum http_fail f)
{
	switch (f) {
	case HTTP_FAIL_CONNECT: return "connection failed";
	case HTTP_FAIL_TIMEOUT: return "timed out";
	case HTTP_FAIL_FIRST_BYTE: return "no response within the first-byte timeout";
	case HTTP_FAIL_TRUNCATED: return "truncated response body";
	case HTTP_FAIL_TOO_LARGE: return "response too large";
	case HTTP_FAIL_TLS_VERIFY: return "TLS verification failed";
	case HTTP_FAIL_OTHER: return "transfer failed";
	case HTTP_OK: break;
	}
	return "ok";
}

static bool retryable_status(long s)
{
	return s == 408 || s == 429 || s == 529 || (s >= 500 && s <= 599);
}

/* A 2xx that is no model reply: an endpoint fault mid-run (a proxy's
 * page), retried. At the preflight it does not count toward an outage:
 * past the retries it is a wrong endpoint, fatal. */
static void wrong_answer(struct model_call *c)
{
	c->wrong_answer = true;
	if (!c->preflight)
		note_failure(c->m);
	retry_or_fail(c, -1);
}

static void on_success(struct model_call *c, const struct http_result *res)
{
	struct model *m = c->m;
	struct model_reply *r;
	struct errmsg pe = {0};

	if (!strstr(res->content_type, "json")) {
		snprintf(c->last_error, sizeof(c->last_error),
			 "HTTP %ld with wrong content type '%.60s'",
			 res->status, res->content_type);
		wrong_answer(c);
		return;
	}
	r = reply_new();
	if (m->ops->parse(res->body->data, res->body->len, r, &pe)) {
		model_reply_release(r);
		snprintf(c->last_error, sizeof(c->last_error),
			 "malformed reply: %.200s", pe.text);
		wrong_answer(c);
		return;
	}
	note_alive(m);
	m->succeeded = true;
	r->http_status = (int)res->status;
	r->latency_ms = res->elapsed_ms;
	r->usage.price_unknown = !m->price_known;
	if (m->price_known)
		r->usage.cost_usd = model_price_cost(&m->price, &r->usage);
	if (r->stop == MODEL_STOP_REFUSAL && !r->error) {
		r->fail = MODEL_FAIL_MODEL;
		r->error = xasprintf("%s at %s: refused to answer", m->name,
				     model_endpoint(m));
	}
	if (r->stop == MODEL_STOP_CONTEXT_OVERFLOW && !r->error) {
		r->fail = MODEL_FAIL_MODEL;
		r->error = xasprintf("%s at %s: context window exceeded",
				     m->name, model_endpoint(m));
	}
	finish(c, r);
}

static bool m_is_overflow(const struct model_call *c,
			  const struct http_result *res)
{
	return c->m->ops->overflow &&
	       c->m->ops->overflow(res->status, res->body->data,
				   res->body->len);
}

/* An error status that no retry can fix and that stops the run: the key,
 * the account, the model name or path, or a parameter is wrong. A 400
 * counts once the endpoint never succeeded (or its text names a
 * parameter): after successes, a 400 belongs to one conversation. */
static bool fatal_status(const struct model_call *c,
			 const struct http_result *res)
{
	static const char *const quota[] = {
		"insufficient_quota", "exceeded your current quota", "billing",
		"credit balance",
	};
	static const char *const param[] = {
		"unsupported parameter", "unsupported_parameter",
		"unsupported value", "unsupported_value", "unknown parameter",
		"unknown_parameter", "unrecognized request argument",
		"model_not_found", "does not exist", "not supported with this model",
		"extra inputs are not permitted",
	};
	const char *b = res->body->data;
	size_t n = res->body->len;

	switch (res->status) {
	case 401: case 402: case 403: case 404: case 405: case 407:
		return true;
	case 429:
		return model_pj_contains_any(b, n, quota, ARRAY_SIZE(quota));
	case 400: case 422:
		return c->preflight || !c->m->succeeded ||
		       model_pj_contains_any(b, n, param, ARRAY_SIZE(param));
	default:
		return false;
	}
}

static void fatal_hint(const struct model *m, long status, char *out,
		       size_t n)
{
	if (status == 401 || status == 403)
		snprintf(out, n, "check %s", !m->key_env ? "the key"
			 : m->key_from_file ? "the key file" : m->key_env);
	else if (status == 404)
		snprintf(out, n, "check the model name and the base URL");
	else if (status == 402 || status == 429)
		snprintf(out, n, "check the account's quota or billing");
	else
		snprintf(out, n, "check the model's parameters");
}

static void on_error_status(struct model_call *c, const struct http_result *res)
{
	char msg[MODEL_MAX_ERROR_LINE];

	model_error_message(res->body->data, res->body->len, msg, sizeof(msg));
	if (m_is_overflow(c, res)) {
		note_alive(c->m);
		snprintf(c->last_error, sizeof(c->last_error),
			 "context length exceeded: %.250s", msg);
		finish_fail(c, MODEL_FAIL_MODEL, MODEL_STOP_CONTEXT_OVERFLOW,
			    c->last_error);
		return;
	}
	snprintf(c->last_error, sizeof(c->last_error), "HTTP %ld%s%.230s",
		 res->status, msg[0] ? ": " : "", msg);
	if (fatal_status(c, res)) {
		char what[MODEL_MAX_ERROR_LINE + 128], hint[64];

		note_alive(c->m);
		fatal_hint(c->m, res->status, hint, sizeof(hint));
		snprintf(what, sizeof(what), "%s \xe2\x80\x94 %s", c->last_error,
			 hint);
		finish_fatal(c, what);
		return;
	}
	if (res->status == 429 || res->status == 529) {
		c->rate_limited++;
		c->m->ctx->rate_limits++;
	}
	if (retryable_status(res->status)) {
		if (res->retry_after_ms > c->m->retry_after_cap_ms) {
			size_t l = strlen(c->last_error);
			snprintf(c->last_error + l, sizeof(c->last_error) - l,
				 " (Retry-After %lld s capped at %lld s)",
				 (long long)(res->retry_after_ms / 1000),
				 (long long)(c->m->retry_after_cap_ms / 1000));
		}
		note_failure(c->m);
		retry_or_fail(c, res->retry_after_ms);
		return;
	}
	/* other 4xx after successes: this conversation's problem */
	note_alive(c->m);
	finish_fail(c, MODEL_FAIL_INFRA, MODEL_STOP_ERROR, c->last_error);
}

static void http_done(void *arg, const struct http_result *res)
{
	struct model_call *c = arg;
	struct model *m = c->m;

	c->xfer = NULL;
	attempt_ended(c);
	c->last_status = res->status;
	c->wrong_answer = false;
	if (res->fail == HTTP_FAIL_TOO_LARGE) {
		note_alive(m);
		snprintf(c->last_error, sizeof(c->last_error),
			 "response too large (over %zu bytes)", MODEL_MAX_BODY);
		finish_fail(c, MODEL_FAIL_INFRA, MODEL_STOP_ERROR,
			    c->last_error);
		return;
	}
	if (res->fail != HTTP_OK) {
		snprintf(c->last_error, sizeof(c->last_error), "%s: %s",
			 fail_text(res->fail), res->errtext);
		if (res->fail == HTTP_FAIL_TLS_VERIFY) {
			/* the endpoint is not the one the CAs vouch for (or
			 * the bundle is wrong): no retry can fix it */
			char what[MODEL_MAX_ERROR_LINE + 96];
			snprintf(what, sizeof(what), "%s \xe2\x80\x94 check "
				 "--ca-bundle (the CAs that sign the endpoint's "
				 "certificate) and the base URL", c->last_error);
			finish_fatal(c, what);
			return;
		}
		if (!res->connected && !m->answered) {
			/* never reached it: a wrong URL, a DNS name that does
			 * not resolve, nothing listening */
			char what[MODEL_MAX_ERROR_LINE + 64];
			snprintf(what, sizeof(what), "%s \xe2\x80\x94 check the base "
				 "URL", c->last_error);
			finish_fatal(c, what);
			return;
		}
		note_failure(m);
		retry_or_fail(c, -1);
		return;
	}
	if (res->status >= 200 && res->status < 300)
		on_success(c, res);
	else
		on_error_status(c, res);
}

/* ---- attempts --------------------------------------------------------- */

static void strv_wipe_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		explicit_bzero(v[i], strlen(v[i]));
	strv_free(v);
}

static enum err attempt_start(struct model_call *c, struct errmsg *e)
{
	struct model *m = c->m;
	struct http_req req = {
		.url = m->endpoint,
		.body = c->body,
		.body_len = c->body_len,
		.connect_ms = m->connect_ms,
		.first_byte_ms = m->first_byte_ms,
		.total_ms = m->total_ms,
		.max_body = MODEL_MAX_BODY,
		.ca_bundle = m->ca_bundle,
	};
	char **headers = m->ops->headers(m);
	enum err rc;

	req.headers = headers;
	c->retry_at = 0;
	c->attempts++;
	rc = model_http_start(m->ctx->http, &req, http_done, c, &c->xfer, e);
	strv_wipe_free(headers);
	return rc;
}

/* Start the next attempt unless it must wait: while the endpoint is down
 * only one probe at a time goes (global backoff), and while the buffered
 * replies of all calls are over the memory cap nothing new starts. */
static enum err try_attempt(struct model_call *c, struct errmsg *e)
{
	struct model *m = c->m;
	int64_t now = now_ms();
	enum err rc;

	if (m->down_since) {
		if (outage_expired(m)) {
			finish_outage(c);
			return ERR_OK;
		}
		if (m->probing || now < m->next_probe) {
			c->retry_at = m->next_probe > now + 100 ? m->next_probe
								: now + 100;
			return ERR_OK;
		}
		c->probe = true;
		m->probing = true;
	} else if (model_http_over_cap(m->ctx->http)) {
		c->retry_at = now + MEMORY_WAIT_MS;
		return ERR_OK;
	}
	rc = attempt_start(c, e);
	/* a probe that never went out must not hold the others back */
	if (rc && c->probe)
		attempt_ended(c);
	return rc;
}

static enum err start_local(struct model_call *c,
			    const struct model_request *req, struct errmsg *e)
{
	struct model_reply *r = reply_new();
	int64_t t0 = now_ms();
	enum err rc;

	rc = c->m->ops->local(c->m, req, r, e);
	if (rc) {
		model_reply_release(r);
		return rc;
	}
	c->attempts = 1;
	r->latency_ms = now_ms() - t0;
	finish(c, r);
	return ERR_OK;
}

static enum err start_http(struct model_call *c,
			   const struct model_request *req, struct errmsg *e)
{
	struct buf body;
	enum err rc;

	buf_init(&body, MODEL_MAX_REQUEST);
	rc = c->m->ops->build(c->m, req, &body, e);
	if (rc) {
		buf_release(&body);
		return rc;
	}
	c->body = buf_detach(&body, &c->body_len);
	buf_release(&body);
	return try_attempt(c, e);
}

static enum err call_start(struct model *m, const struct model_request *req,
			   model_done_fn done, void *arg, bool preflight,
			   struct errmsg *e)
{
	struct model_call *c = xcalloc(1, sizeof(*c));
	enum err rc;

	c->m = m;
	c->preflight = preflight;
	c->done = done;
	c->arg = arg;
	c->started = now_ms();
	if (m->ops->local)
		rc = start_local(c, req, e);
	else
		rc = start_http(c, req, e);
	if (rc) {
		if (c->probe)
			m->probing = false;
		err_prefix(e, "model '%s'", m->name);
		call_free(m->ctx, c);
		return rc;
	}
	call_link(m->ctx, c);
	return ERR_OK;
}

enum err model_call_start(struct model *m, const struct model_request *req,
			  model_done_fn done, void *arg, struct errmsg *e)
{
	return call_start(m, req, done, arg, false, e);
}

enum err model_preflight_start(struct model *m, const struct model_tool *tools,
			       size_t n_tools, model_done_fn done, void *arg,
			       struct errmsg *e)
{
	struct model_msg msg = {
		.role = MODEL_USER,
		.text = "assay preflight: reply with the word OK.",
	};
	struct model_request req = {
		.msgs = &msg, .n_msgs = 1, .tools = tools, .n_tools = n_tools,
	};
	long max_tokens = m->params.max_tokens;
	enum err rc;

	/* the model's own parameters, few output tokens: the request the
	 * episodes will send, at the price of one short answer */
	m->params.max_tokens = 16;
	rc = call_start(m, &req, done, arg, true, e);
	m->params.max_tokens = max_tokens;
	return rc;
}

/* ---- the event loop --------------------------------------------------- */

static bool any_finished(const struct model_ctx *ctx)
{
	for (const struct model_call *c = ctx->calls; c; c = c->next)
		if (c->reply)
			return true;
	return false;
}

static int64_t next_timer(const struct model_ctx *ctx)
{
	int64_t t = 0;

	for (const struct model_call *c = ctx->calls; c; c = c->next)
		if (c->retry_at > 0 && (t == 0 || c->retry_at < t))
			t = c->retry_at;
	return t;
}

enum err model_ctx_wait(struct model_ctx *ctx, struct pollfd *extra,
			unsigned n_extra, int timeout_ms, struct errmsg *e)
{
	int64_t due = next_timer(ctx);

	if (any_finished(ctx)) {
		/* keep the caller's revents meaningful */
		if (n_extra && poll(extra, n_extra, 0) < 0)
			for (unsigned i = 0; i < n_extra; i++)
				extra[i].revents = 0;
		return ERR_OK;
	}
	if (timeout_ms < 0)
		timeout_ms = INT_MAX;
	timeout_ms = model_wait_until(timeout_ms, due);
	return model_http_wait(ctx->http, extra, n_extra, timeout_ms, e);
}

static void run_timers(struct model_ctx *ctx)
{
	int64_t now = now_ms();

	for (struct model_call *c = ctx->calls; c; c = c->next) {
		struct errmsg e = {0};
		if (c->retry_at <= 0 || c->retry_at > now)
			continue;
		c->retry_at = 0;
		if (try_attempt(c, &e)) {
			snprintf(c->last_error, sizeof(c->last_error), "%.250s",
				 e.text);
			finish_fail(c, MODEL_FAIL_INFRA, MODEL_STOP_ERROR,
				    c->last_error);
		}
	}
}

static void deliver(struct model_ctx *ctx)
{
	struct model_call *ready = NULL, *c, *next;

	/* Unlink first: callbacks may start new calls or close models. */
	for (c = ctx->calls; c; c = next) {
		next = c->next;
		if (!c->reply)
			continue;
		call_unlink(ctx, c);
		c->next = ready;
		ready = c;
	}
	for (c = ready; c; c = next) {
		struct model_reply *r = c->reply;
		next = c->next;
		c->reply = NULL;
		c->done(c->arg, r);
		call_free(ctx, c);
	}
}

enum err model_ctx_run(struct model_ctx *ctx, struct errmsg *e)
{
	enum err rc = model_http_run(ctx->http, e);

	if (rc)
		return rc;
	run_timers(ctx);
	deliver(ctx);
	return ERR_OK;
}

/* ---- releasing -------------------------------------------------------- */

void model_tool_call_release(struct model_tool_call *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->arguments);
	c->id = c->name = c->arguments = NULL;
}

static void calls_free(struct model_tool_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		model_tool_call_release(&calls[i]);
	free(calls);
}

void model_msg_release(struct model_msg *m)
{
	if (!m)
		return;
	free(m->text);
	calls_free(m->calls, m->n_calls);
	free(m->tool_call_id);
	free(m->tool_name);
	free(m->opaque);
	free(m->wire);
	memset(m, 0, sizeof(*m));
}

void model_msg_changed(struct model_msg *m)
{
	free(m->wire);
	m->wire = NULL;
	m->wire_kind = NULL;
}

void model_reply_release(struct model_reply *r)
{
	if (!r)
		return;
	free(r->error);
	free(r->text);
	calls_free(r->calls, r->n_calls);
	free(r->opaque);
	free(r);
}
