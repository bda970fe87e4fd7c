/*
 * model_int.h - shared only inside src/model/.
 *
 * Layers inside the part:
 *   model.c      the context, calls, retries, failure classification
 *   http.c       the one libcurl multi handle (the only file with curl.h)
 *   provider_*.c wire formats: build a request body, parse a reply body
 *   baseline.c   baseline/oracle and baseline/null (local, no HTTP)
 *   replay.c     replay/FILE (local)
 *   prices.c     data/prices.yaml
 *
 * Providers are ops tables (curl's struct Curl_ssl). An HTTP provider fills
 * `build`, `headers`, `parse` and `overflow`; a local one fills `local`
 * (its presence is what makes a provider local).
 * Parsers take hostile bytes and must never crash on any input (they are
 * fuzzed: fuzz/fuzz_openai_reply.c, fuzz/fuzz_anthropic_reply.c).
 */
#ifndef ASSAY_MODEL_INT_H
#define ASSAY_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "model/model.h"

#define MODEL_MAX_BODY ((size_t)8 << 20)   /* response cap */
#define MODEL_MAX_REQUEST ((size_t)64 << 20)
#define MODEL_MAX_ERROR_LINE 300

/* For appends to buffers whose cap cannot be reached (or where a cut
 * text is acceptable): gcc ignores a (void) cast on warn_unused_result. */
#define BUF_IGNORE(x) \
	do { \
		if (x) { \
		} \
	} while (0)

/* buf_detach() and release the buffer: the caller owns the text. */
static inline char *buf_take(struct buf *b, size_t *len_out)
{
	char *p = buf_detach(b, len_out);

	buf_release(b);
	return p;
}

/* ---- http.c ---------------------------------------------------------- */

enum http_fail {
	HTTP_OK = 0,
	HTTP_FAIL_CONNECT,     /* resolve/connect/reset/empty reply */
	HTTP_FAIL_TIMEOUT,     /* connect or total timeout */
	HTTP_FAIL_FIRST_BYTE,  /* no byte within first_byte_ms */
	HTTP_FAIL_TRUNCATED,   /* body shorter than announced */
	HTTP_FAIL_TOO_LARGE,   /* body over max_body */
	HTTP_FAIL_TLS_VERIFY,  /* the peer's certificate does not verify, or
	                          the CA bundle cannot be read */
	HTTP_FAIL_OTHER,
};

struct http_result {
	enum http_fail fail;
	char errtext[200];        /* curl's description when fail != OK */
	long status;              /* 0 when no response */
	char content_type[128];   /* "" when absent */
	struct buf *body;         /* borrowed for the callback */
	bool connected;           /* a connection was made (or answered) */
	int64_t retry_after_ms;   /* -1 when absent or unparsable */
	int64_t elapsed_ms;
};

struct http_req {
	const char *url;
	char *const *headers;     /* NULL-terminated "Name: value" lines */
	const char *body;
	size_t body_len;
	int connect_ms, first_byte_ms, total_ms;
	size_t max_body;
	const char *ca_bundle;    /* NULL = the system's CA store */
};

struct http;
struct http_xfer;
typedef void (*http_done_fn)(void *arg, const struct http_result *res);

enum err model_http_new(struct http **h_out, struct errmsg *e) MUST_CHECK;
void model_http_free(struct http *h);
/* Start a POST; `done` runs from model_http_run(). */
enum err model_http_start(struct http *h, const struct http_req *req,
			  http_done_fn done, void *arg, struct http_xfer **x_out,
			  struct errmsg *e) MUST_CHECK;
/* Abort a transfer without calling its callback. */
void model_http_cancel(struct http *h, struct http_xfer *x);
/* Bound of the bodies buffered by all transfers together (0 = default). */
#define HTTP_DEFAULT_MEMORY_CAP ((size_t)256 << 20)
void model_http_set_memory_cap(struct http *h, size_t cap);
/* True when the buffered bodies reach the cap: start nothing new. */
bool model_http_over_cap(const struct http *h);
size_t model_http_peak_buffered(const struct http *h);
enum err model_http_wait(struct http *h, struct pollfd *extra, unsigned n_extra,
			 int timeout_ms, struct errmsg *e) MUST_CHECK;
enum err model_http_run(struct http *h, struct errmsg *e) MUST_CHECK;
/* Retry-After value (delta-seconds or HTTP-date) in ms from now, or -1.
 * `now_s` is the current wall time in seconds since the epoch. */
int64_t model_http_parse_retry_after(const char *value, int64_t now_s);

/* ---- providers ------------------------------------------------------- */

struct price {
	double input, output, cached_input;  /* USD per million tokens */
	int64_t context_window;
};

struct model;

struct provider_ops {
	const char *name;            /* "openai", "baseline", ... */
	enum err (*open)(struct model *m, const struct model_config *cfg,
			 struct errmsg *e);
	void (*close)(struct model *m);
	/* HTTP providers */
	enum err (*build)(const struct model *m,
			  const struct model_request *req, struct buf *out,
			  struct errmsg *e);
	char **(*headers)(const struct model *m);  /* strv, caller wipes */
	enum err (*parse)(const char *body, size_t len,
			  struct model_reply *r, struct errmsg *e);
	/* True when an error answer means the prompt is too long. */
	bool (*overflow)(long status, const char *body, size_t len);
	/* Local providers: compute the whole reply at once. */
	enum err (*local)(struct model *m, const struct model_request *req,
			  struct model_reply *r, struct errmsg *e);
};

struct model {
	struct model_ctx *ctx;
	const struct provider_ops *ops;
	char *name;          /* "provider/model" */
	char *model_id;      /* the part after the first '/' */
	char *endpoint;      /* URL of a call, never with a key */
	char *key;           /* secret or NULL; wiped on close */
	char *ca_bundle;     /* CA file for the endpoint, or NULL */
	struct model_params params;
	char *reasoning_effort;
	int connect_ms, first_byte_ms, total_ms, max_retries;
	int backoff_base_ms, backoff_max_ms;
	int64_t outage_ms;   /* how long to wait out an outage; 0 = never */
	int64_t retry_after_cap_ms;
	/* endpoint health (model.c) */
	bool answered;       /* some attempt got an HTTP response */
	bool succeeded;      /* some call got a 2xx reply */
	int streak;          /* attempts in a row failed as infrastructure */
	int64_t streak_start;
	int64_t down_since;  /* > 0: down (calls paused, probed) */
	int64_t next_probe;  /* while down: when the next probe may go */
	int64_t probe_delay;
	bool probing;        /* while down: a probe is in flight */
	bool gave_up;        /* down past outage_ms */
	const char *key_env; /* the key's variable, for error hints */
	bool key_from_file;
	int64_t context_window;
	struct price price;
	bool price_known;
	bool compat;         /* openai-compatible: max_tokens, optional key */
	void *priv;          /* provider state (replay) */
	/* the request's tools as JSON, built once for the tool table it was
	 * built from (the agent passes the same static table every call) */
	char *tools_wire;
	const struct model_tool *tools_key;
	size_t tools_n;
};

extern const struct provider_ops model_provider_openai;
extern const struct provider_ops model_provider_openai_compat;
extern const struct provider_ops model_provider_anthropic;
extern const struct provider_ops model_provider_baseline_oracle;
extern const struct provider_ops model_provider_baseline_null;
extern const struct provider_ops model_provider_replay;
extern const struct provider_ops model_provider_human;

/* Reply parsers (also the fuzz targets). On ERR_PARSE the reply may be
 * partly filled; the caller releases it either way. */
enum err model_openai_parse_reply(const char *body, size_t len,
				  struct model_reply *r, struct errmsg *e) MUST_CHECK;
enum err model_anthropic_parse_reply(const char *body, size_t len,
				     struct model_reply *r,
				     struct errmsg *e) MUST_CHECK;
bool model_openai_is_overflow(long status, const char *body, size_t len);
bool model_anthropic_is_overflow(long status, const char *body, size_t len);
/* The provider's own error message of an error body ("" when none),
 * cut to one line of at most n-1 bytes. */
void model_error_message(const char *body, size_t len, char *out, size_t n);

/* ---- shared helpers (model.c) ---------------------------------------- */

/* Read an API key from key_file (first line) or the environment variable;
 * ERR_INVAL naming the model and the variable when missing. */
enum err model_load_key(const char *model_name, const char *key_file,
			const char *env_var, bool required, char **key_out,
			struct errmsg *e) MUST_CHECK;
/* timeout_ms (a poll timeout) cut to the time left until due_ms (now_ms
 * clock; 0 when past); due_ms <= 0 leaves it as it is. */
int model_wait_until(int timeout_ms, int64_t due_ms);
/* "call_" + 24 hex digits. */
char *model_gen_call_id(void);
/* Copy of s with every occurrence of `key` (may be NULL) and every
 * "sk-..." token replaced by "[redacted]"; caller frees. */
char *model_redact(const char *s, const char *key);
/* Copy of s[0..n) with every invalid UTF-8 sequence replaced by U+FFFD
 * (jansson refuses invalid UTF-8; sandbox output can be anything). */
char *model_utf8_fix(const char *s, size_t n);
struct model_tool_call *model_calls_dup(const struct model_tool_call *c,
					size_t n);

/* ---- provider_json.c: jansson glue shared by the providers ----------- */

#define PJ_MAX_CALLS 128     /* tool calls kept from one reply */

/* A JSON string of s (NULL = ""), invalid UTF-8 replaced. */
json_t *model_pj_str(const char *s);
/* The tool's schema as an object ({"type":"object"} when NULL). */
enum err model_pj_schema(const struct model_tool *t, json_t **out,
			 struct errmsg *e) MUST_CHECK;
/* The request's tools as a JSON array, one describe(t, schema) each (it
 * takes the schema's reference); a bad schema fails the whole array. */
enum err model_pj_tools(const struct model_request *req,
			json_t *(*describe)(const struct model_tool *t,
					    json_t *schema),
			json_t **out, struct errmsg *e) MUST_CHECK;
/* Compact JSON of root appended to out (ERR_LIMIT past its cap). */
enum err model_pj_dump(json_t *root, struct buf *out, struct errmsg *e) MUST_CHECK;
/* Parse a reply body: legal-but-odd JSON (\u0000, lone surrogates,
 * integers past 64 bits) is accepted. NULL when it is not JSON. */
json_t *model_pj_load(const char *body, size_t len);
char *model_pj_dup_str(json_t *j);           /* string value copy (NUL becomes
					  U+FFFD), else NULL */
char *model_pj_dup_any(json_t *j);           /* string as is, other JSON dumped,
					  absent = "" */
char *model_pj_text(json_t *j);              /* string, or joined text parts */
long model_pj_long(json_t *j);               /* non-negative integer, else 0 */
void model_pj_error_of(json_t *root, char *out, size_t n); /* error.message */
bool model_pj_contains_any(const char *body, size_t len, const char *const *marks,
			   size_t n_marks); /* case-insensitive */
/* A tool call of a reply from its id (absent or empty: a generated one),
 * name (absent: "") and arguments (model_pj_dup_any). */
void model_pj_call_set(struct model_tool_call *d, json_t *id, json_t *name,
		       json_t *arguments);
/* Whether a reply says the prompt overflowed the context: a 400 or 413
 * whose body names one of marks (the provider's own wordings). */
bool model_pj_overflow(long status, const char *body, size_t len,
		       const char *const *marks, size_t n_marks);
/* m->endpoint = base (no trailing '/') + path; base must be http(s) and
 * carry no credentials. */
enum err model_pj_endpoint(struct model *m, const char *base, const char *path,
			   struct errmsg *e) MUST_CHECK;

/* ---- prices.c -------------------------------------------------------- */

struct price_table;
/* path NULL = the default search (see docs/internals/model.md); a missing
 * default table is not an error (*t_out = NULL). */
enum err model_price_table_load(const char *path, struct price_table **t_out,
				struct errmsg *e) MUST_CHECK;
enum err model_price_table_parse(const char *name, const char *data, size_t len,
				 struct price_table **t_out,
				 struct errmsg *e) MUST_CHECK;
void model_price_table_free(struct price_table *t);
/* Look up "provider/model" or the bare model id; longest dated-suffix
 * match ("gpt-4o-2024-08-06" finds "gpt-4o"). */
bool model_price_table_find(const struct price_table *t, const char *name,
			    struct price *p_out);
double model_price_cost(const struct price *p, const struct model_usage *u);

/* ---- baseline.c ------------------------------------------------------ */

/* The oracle's bash command for a solution path (caller frees). */
char *model_oracle_command(const char *solution_path);
/* Recover solve.sh's stdout from the bash observation the oracle's command
 * produced; ERR_PARSE when the markers are missing or damaged. */
enum err model_oracle_recover_stdout(const char *observation, char **out,
				     size_t *len_out, struct errmsg *e) MUST_CHECK;
/* {"flag": LAST_NONEMPTY_LINE, "answers": [...]} from solve.sh's stdout. */
char *model_oracle_submit_args(const char *out, size_t len);
/* {"answer": answers[k]} of such arguments, or NULL when there is none. */
char *model_oracle_answer_args(const char *submit_args, size_t k);

#endif
