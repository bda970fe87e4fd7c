/*
 * model.h - model providers behind one asynchronous interface.
 *
 * A `struct model_ctx` owns the single libcurl multi handle of a run and is
 * driven by the engine's event loop: model_ctx_wait() waits on curl's
 * sockets plus the caller's extra fds (sandbox exec channels), and
 * model_ctx_run() advances transfers and retry timers and invokes the
 * completion callbacks of finished calls. There is no thread or process
 * per call.
 *
 * Providers (ops tables, like curl's struct Curl_ssl):
 *   openai/MODEL             Chat Completions with tools (OPENAI_API_KEY,
 *                            --base-url or OPENAI_BASE_URL)
 *   openai-compatible/MODEL  same wire format, base URL required
 *   anthropic/MODEL          Messages API with tool use (ANTHROPIC_API_KEY)
 *   baseline/oracle          runs the task's reference solution through
 *                            the bash tool, then submits its last line
 *   baseline/null            looks around once, then submits nothing
 *   replay/FILE              plays back a recorded transcript
 *
 * Failures are classified: MODEL_FAIL_INFRA (after retries; the episode is
 * not the model's fault and is rerun or reported as infrastructure) versus
 * MODEL_FAIL_MODEL (refusal, context overflow, malformed output: counted
 * against the model). Two kinds of infrastructure failure stop the whole
 * run rather than one episode: a fatal configuration error
 * (model_reply.fatal: 401/403/404, a rejected parameter, no connection
 * ever made; model_ctx_fatal()) and an outage that outlived its deadline
 * (model_reply.outage; model_gave_up()). While an endpoint looks down
 * (model_down()) calls pause and one probe at a time is sent. API keys are
 * never logged, journaled or put into an error message.
 *
 * Ownership: requests and their messages are borrowed for the duration of
 * model_call_start() (the provider serialises them at once). The reply
 * passed to the callback is owned by the callback, which releases it with
 * model_reply_release().
 */
#ifndef ASSAY_MODEL_H
#define ASSAY_MODEL_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum model_role { MODEL_SYSTEM, MODEL_USER, MODEL_ASSISTANT, MODEL_TOOL };

struct model_tool_call {
	char *id;          /* provider's call id (generated if absent) */
	char *name;        /* tool name as the model wrote it */
	char *arguments;   /* raw JSON text as the model wrote it: hostile */
};

struct model_msg {
	enum model_role role;
	char *text;                    /* may be NULL */
	struct model_tool_call *calls; /* MODEL_ASSISTANT only */
	size_t n_calls;
	char *tool_call_id;            /* MODEL_TOOL: answers this call */
	char *tool_name;               /* MODEL_TOOL */
	bool tool_error;               /* MODEL_TOOL: observation is an error */
	/* MODEL_ASSISTANT: copy of model_reply.opaque (provider state that
	 * must be sent back, e.g. Anthropic thinking blocks); may be NULL. */
	char *opaque;
	/* Provider's cache of this message's wire form; owned here, filled by
	 * the provider on first use, dropped by model_msg_changed(). */
	char *wire;
	size_t wire_len;
	const void *wire_kind;
};

struct model_tool {
	const char *name;
	const char *description;
	const char *schema_json;       /* JSON Schema of the arguments object */
};

struct model_params {
	double temperature;            /* < 0 = provider default */
	long max_tokens;               /* 0 = provider default */
	const char *reasoning_effort;  /* NULL or low|medium|high */
	long seed;                     /* < 0 = unset */
};

#define MODEL_TEXT_OBSERVATION "Observation:\n"

struct model_request {
	const struct model_msg *msgs;  /* msgs[0] may be MODEL_SYSTEM */
	size_t n_msgs;
	/* none: the caller's scaffold works in text (the baselines then
	 * answer with "Command:" / "Flag:" lines and read the output from
	 * the last user message starting with MODEL_TEXT_OBSERVATION) */
	const struct model_tool *tools;
	size_t n_tools;
	/* For providers whose model_needs_solution() is true: the path of the
	 * task's solve.sh inside the agent box, else NULL. */
	const char *solution_path;
	/* The messages are the caller's own, writable conversation: the
	 * provider may keep each message's wire form in model_msg.wire so an
	 * unchanged message is serialised once, not on every call. */
	bool cache_wire;
};

struct model_usage {
	long prompt_tokens;
	long completion_tokens;
	long cached_tokens;
	double cost_usd;               /* from the price table; 0 if unknown */
	bool price_unknown;            /* no price for this model */
};

enum model_stop {
	MODEL_STOP_TOOL_CALLS,
	MODEL_STOP_END_TURN,
	MODEL_STOP_MAX_TOKENS,
	MODEL_STOP_REFUSAL,
	MODEL_STOP_CONTEXT_OVERFLOW,
	MODEL_STOP_ERROR,
};

enum model_fail { MODEL_FAIL_NONE, MODEL_FAIL_INFRA, MODEL_FAIL_MODEL };

struct model_reply {
	enum model_fail fail;
	char *error;                   /* one line when fail != NONE */
	enum model_stop stop;
	char *text;                    /* assistant text, may be NULL */
	struct model_tool_call *calls;
	size_t n_calls;
	struct model_usage usage;
	int http_status;               /* last attempt; 0 for local providers */
	int attempts;                  /* 1 + retries */
	int rate_limited;              /* how many attempts got 429/529 */
	int64_t latency_ms;            /* the successful attempt only */
	int64_t total_ms;              /* including retries and backoff */
	/* MODEL_FAIL_INFRA only: the endpoint's configuration is wrong (bad
	 * key, unknown model or path, rejected parameter, unreachable from
	 * the start); no call can succeed, the run must stop */
	bool fatal;
	/* MODEL_FAIL_INFRA only: the endpoint was down past the outage
	 * deadline; the episode was not attempted in any fair sense */
	bool outage;
	/* Provider state the agent copies into the assistant model_msg's
	 * `opaque` (Anthropic thinking blocks); may be NULL. */
	char *opaque;
};

struct model_ctx;
struct model;

struct model_config {
	const char *name;              /* "provider/model" */
	const char *base_url;          /* NULL = env or provider default */
	const char *key_file;          /* NULL = environment variable */
	/* PEM file of the CAs that sign the endpoint's certificate (a lab's
	 * private CA; CURLOPT_CAINFO); NULL = the system's store. The peer
	 * and its host name are always verified. */
	const char *ca_bundle;
	struct model_params params;
	const char *price_table;       /* NULL = built-in data/prices.yaml */
	int connect_timeout_ms;        /* 0 = 10000 */
	int first_byte_timeout_ms;     /* 0 = 120000 */
	int total_timeout_ms;          /* 0 = 600000 */
	int max_retries;               /* 0 = 6; < 0 = none */
	int64_t context_window;        /* tokens; 0 = from price table or 128k */
	int backoff_base_ms;           /* 0 = 1000: first retry delay */
	int backoff_max_ms;            /* 0 = 60000: cap of one delay */
	/* How long calls wait out an outage (most attempts failing as
	 * infrastructure) before giving up; 0 = 30 min, < 0 = never wait */
	int64_t outage_deadline_ms;
	int retry_after_cap_ms;        /* 0 = 300000: longest Retry-After
	                                  honoured (longer ones are capped) */
};

enum err model_ctx_new(struct model_ctx **ctx_out, struct errmsg *e) MUST_CHECK;
void model_ctx_free(struct model_ctx *ctx);

/* Resolve cfg->name to a provider and check its key and endpoint. Errors
 * name the model and the endpoint (never the key). */
enum err model_open(struct model_ctx *ctx, const struct model_config *cfg,
		    struct model **m_out, struct errmsg *e) MUST_CHECK;
void model_close(struct model *m);
const char *model_name(const struct model *m);      /* borrowed */
const char *model_endpoint(const struct model *m);  /* borrowed, no key */
bool model_needs_solution(const struct model *m);   /* baseline/oracle */
/* human/NAME: the person of an `assay human` session, never called */
bool model_is_human(const struct model *m);
/* True when requests leave this process for an endpoint (task text is
 * then exposed to whoever runs it); false for baselines and replay. */
bool model_is_remote(const struct model *m);
int64_t model_context_window(const struct model *m);
/* The price in USD per million input and output tokens from the price
 * table; false when the table has none for a remote model (a baseline or
 * a replay costs nothing: true, zeros). */
bool model_price(const struct model *m, double *input, double *output);

typedef void (*model_done_fn)(void *arg, struct model_reply *reply);

/* Start a call; `done` runs later from model_ctx_run(), never from inside
 * this function. */
enum err model_call_start(struct model *m, const struct model_request *req,
			  model_done_fn done, void *arg,
			  struct errmsg *e) MUST_CHECK;

/* Wait up to timeout_ms for curl's sockets, due retry timers or any of the
 * extra fds. Returns at once when local replies are pending. */
enum err model_ctx_wait(struct model_ctx *ctx, struct pollfd *extra,
			unsigned n_extra, int timeout_ms,
			struct errmsg *e) MUST_CHECK;
/* Advance transfers and timers; invoke callbacks of finished calls. */
enum err model_ctx_run(struct model_ctx *ctx, struct errmsg *e) MUST_CHECK;
/* Calls started and not yet completed. */
size_t model_ctx_pending(const struct model_ctx *ctx);
/* Number of 429/529 answers seen since the last call (for the engine's
 * adaptive concurrency); resets the counter. */
unsigned model_ctx_take_rate_limits(struct model_ctx *ctx);
/* The first fatal configuration error seen (one line naming the model,
 * the endpoint, the HTTP status and the provider's message), or NULL. */
const char *model_ctx_fatal(const struct model_ctx *ctx);
/* Bound of the reply bodies buffered by all calls together; past it new
 * attempts wait (0 = 256 MiB). */
void model_ctx_set_memory_cap(struct model_ctx *ctx, size_t bytes);
/* The most reply bytes that were buffered at once. */
size_t model_ctx_peak_buffered(const struct model_ctx *ctx);

/* The endpoint looks down (several attempts in a row failed as
 * infrastructure): calls are paused and probed; start no new work. */
bool model_down(const struct model *m);
/* It stayed down past the outage deadline; pending calls fail with
 * model_reply.outage. */
bool model_gave_up(const struct model *m);
/* One cheap call with the model's parameters and the given tools (a
 * one-line prompt, few output tokens): a wrong key, model, URL or
 * parameter is found before any episode starts. Any failure of it is
 * fatal. Local providers answer at once. */
enum err model_preflight_start(struct model *m, const struct model_tool *tools,
			       size_t n_tools, model_done_fn done, void *arg,
			       struct errmsg *e) MUST_CHECK;

/* Drop every pending call of the context without its callback (a second
 * signal: nothing more is waited for); the callers' args are not used
 * again. */
void model_ctx_cancel_all(struct model_ctx *ctx);

/* One call waited for on its own (the judge, the preflight): start it
 * with model_sync_done and a zeroed struct model_sync as its argument,
 * then model_sync_wait. The reply is the caller's to release. */
struct model_sync {
	bool done;
	struct model_reply *reply;
};
void model_sync_done(void *arg, struct model_reply *reply);
/* Run ctx until s is done, waiting at most tick_ms a turn. With stop, it
 * also returns, ERR_OK and s->done false, once *stop is set. */
enum err model_sync_wait(struct model_ctx *ctx, struct model_sync *s,
			 int tick_ms, const volatile sig_atomic_t *stop,
			 struct errmsg *e) MUST_CHECK;

void model_reply_release(struct model_reply *r);
void model_msg_release(struct model_msg *m);
/* The message's content was edited in place: drop the cached wire form. */
void model_msg_changed(struct model_msg *m);
void model_tool_call_release(struct model_tool_call *c);

#endif
