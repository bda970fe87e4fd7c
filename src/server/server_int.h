/*
 * server_int.h - inside the server: one request, one reply, the route
 * table, the principal and the helpers every api_*.c uses.
 *
 * Files: http.c (libmicrohttpd: limits, headers, bodies, static files),
 * router.c (the route table and dispatch), auth.c (login, sessions, CSRF,
 * API tokens, rate limits), totp.c (RFC 6238 through liboath), authz.c
 * (roles and object checks, denials audited), json.c (reading request
 * fields), api_*.c (the endpoints).
 */
#ifndef ASSAY_SERVER_INT_H
#define ASSAY_SERVER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "server/server.h"
#include "store/store_program.h"

#define SRV_BODY_MAX (64 * 1024)
#define SRV_HEADERS_MAX (16 * 1024)
#define SRV_TIMEOUT_S 30
#define SRV_SESSION_IDLE_MS (30LL * 60 * 1000)
#define SRV_SESSION_MAX_MS (12LL * 3600 * 1000)
#define SRV_LOCK_FAILS 5
#define SRV_LOCK_MS (15LL * 60 * 1000)
#define SRV_IP_FAILS 10
#define SRV_IP_WINDOW_MS (5LL * 60 * 1000)
#define SRV_TOKEN_DAYS_MAX 90
#define SRV_COOKIE "assay_session"

struct vault_audit;

/* Failed logins per client address (auth.c). */
struct srv_ipfail {
	char ip[64];
	int64_t first_ms;
	int n;
};
#define SRV_IPFAIL_SLOTS 256

/* Live event streams (GET /campaigns/{id}/events, http.c): at most
 * SRV_STREAMS_MAX at once; each is re-checked once a second by the main
 * loop (authentication, need-to-know, the campaign's figures) and sent an
 * event when the figures change, a comment every SRV_STREAM_KEEP_MS. */
#define SRV_STREAMS_MAX 16
#define SRV_STREAM_KEEP_MS 15000
#define SRV_STREAM_RETRY_MS 2000
struct srv;
struct store;
/* The store of the request this thread serves: its own read handle during
 * a GET or HEAD, else the shared s->st (under s->lock). */
struct store *srv_st(struct srv *s);

struct srv_stream {
	struct srv *owner;
	bool used, suspended, ended;
	void *conn;               /* the MHD connection */
	char path[64], ip[64];    /* the request, replayed at each check */
	char *cookie, *authz;     /* its session cookie / Authorization */
	char *out;                /* events not yet sent: out_len - sent */
	size_t out_len, sent;
	char *last;               /* the figures last sent (no ETA) */
	int64_t last_ms;
};

/* Request threads (libmicrohttpd's pool): each has a store handle of its
 * own for reads (http.c). */
#define SRV_THREADS 4

struct srv {
	struct store *st;         /* the shared handle: under lock */
	struct vault_audit *audit;
	pthread_mutex_t lock;     /* st, writes, worker and ipfail */
	pthread_mutex_t audit_lock; /* audit (inside lock when both) */
	/* GET and HEAD run outside lock, each on its thread's own handle
	 * (SQLite WAL readers never wait for a writer): opened lazily by
	 * o->open_store, closed at the end (http.c) */
	pthread_mutex_t readers_lock;
	struct store *readers[SRV_THREADS];
	const struct server_opts *o;
	char *web_dir;            /* NULL: no pages */
	char *key_dir;            /* per-model credential keys, per-campaign
				     unseal-request keys */
	char *suites_dir;         /* sealed suites campaigns may name */
	char *assay_path;         /* this binary, for the worker */
	pid_t worker_pid;         /* 0: none (worker.c) */
	int64_t worker_campaign, worker_run_before;
	bool worker_run_known;    /* its run id is in the campaign row */
	char *worker_keyfile, *worker_dir;
	bool worker_sealed;       /* its campaign's suite is sealed */
	bool tls;
	struct srv_ipfail ipfail[SRV_IPFAIL_SLOTS];
	pthread_mutex_t sse_lock; /* streams (inside lock when both) */
	struct srv_stream streams[SRV_STREAMS_MAX];
};

/* Who is asking (auth.c fills it). */
struct principal {
	bool ok;                  /* authenticated */
	struct sp_user u;
	bool via_token;
	bool token_write;         /* a token of scope write */
	char session_hash[65];    /* cookie session; "" otherwise */
	char *csrf;               /* the session's CSRF token */
	int64_t session_expires_ms, session_idle_ms;
};

struct req {
	const char *method;       /* GET POST PUT PATCH DELETE */
	const char *path;         /* below /api/v1, e.g. "/orgs/3" */
	const char *client_ip;
	const char *(*header)(void *conn, const char *name);
	const char *(*query)(void *conn, const char *name);
	const char *(*cookie)(void *conn, const char *name);
	void *conn;
	const char *body;         /* NUL-terminated; len bytes */
	size_t len;
	const char *content_type;
	int64_t ids[4];           /* {id} path parameters, in order */
	int nids;
	char name[48];            /* the {name} path parameter */
	const struct route *route;
	struct principal who;
	bool passive;             /* a stream's re-check: the session's idle
				     clock does not move */
};

struct reply {
	int status;
	json_t *body;             /* owned; NULL: {} */
	char *set_cookie;         /* owned; a Set-Cookie value */
	char *content_type;       /* owned; NULL: application/json */
	char *raw;                /* owned; a non-JSON body (raw_len bytes) */
	size_t raw_len;
	/* an event stream: body is the PROGRESS to send; sse_end: the last */
	bool sse, sse_end;
};

typedef void (*srv_handler)(struct srv *s, struct req *r, struct reply *y);

/* Role letters of docs/API.md: A admin, E evaluator, L liaison, U auditor,
 * C custodian, D developer; ANY: any authenticated user; NONE: no login. */
enum route_flags {
	R_PUBLIC = 1 << 0,        /* no authentication (login) */
	R_PLANNED = 1 << 1,       /* 501 not_implemented */
};

struct route {
	const char *method;
	const char *pattern;      /* "/orgs/{id}" */
	unsigned roles;           /* enum sp_role bits; ~0u: any */
	unsigned flags;
	srv_handler fn;
};

#define ROLES_ANY (~0u)

extern const struct route srv_routes[];
extern const size_t srv_nroutes;

/* http.c: whether rel (a URL path without its leading '/') may name a
 * file of web/: [A-Za-z0-9._/-], no segment starting with '.', no empty
 * segment, at most 200 bytes. */
bool srv_static_path_ok(const char *rel);

/* router.c: match r->path against the table (fills ids and route);
 * 0 found, 404 no path, 405 path without that method. */
int srv_route_match(struct req *r);
/* The whole of one API request: route, authenticate, authorise, run. */
void srv_dispatch(struct srv *s, struct req *r, struct reply *y);

/* http.c: once a second from the main loop, under the lock: re-check
 * every live event stream and queue what changed. */
void srv_streams_tick(struct srv *s);

/* reply helpers (router.c) */
void reply_json(struct reply *y, int status, json_t *body);
void reply_err(struct reply *y, int status, const char *code,
	       const char *field, const char *fmt, ...) PRINTF_LIKE(5, 6);
/* Map an errmsg from a lower part to a reply (not found, bad input, ...). */
void reply_fail(struct reply *y, const struct errmsg *e);
void reply_free(struct reply *y);

/* auth.c */
void srv_authenticate(struct srv *s, struct req *r);
bool srv_csrf_ok(struct srv *s, struct req *r);
void principal_free(struct principal *p);
void api_login(struct srv *s, struct req *r, struct reply *y);
void api_logout(struct srv *s, struct req *r, struct reply *y);
void api_session(struct srv *s, struct req *r, struct reply *y);
void api_password(struct srv *s, struct req *r, struct reply *y);
void api_totp_begin(struct srv *s, struct req *r, struct reply *y);
void api_totp_confirm(struct srv *s, struct req *r, struct reply *y);
void api_tokens_list(struct srv *s, struct req *r, struct reply *y);
void api_tokens_add(struct srv *s, struct req *r, struct reply *y);
void api_tokens_del(struct srv *s, struct req *r, struct reply *y);
/* Random token of n bytes as hex into out (2n+1). */
enum err srv_random_hex(size_t n, char *out, struct errmsg *e) MUST_CHECK;
void srv_sha256_hex(const char *s, char out[65]);

/* totp.c */
enum err totp_new_secret(char **b32_out, struct errmsg *e) MUST_CHECK;
/* The time step the code matches (±1 step of now), or -1. */
int64_t totp_check(const char *b32, const char *code, int64_t now_s);
/* The current code of b32 (tests, demo). */
enum err totp_now(const char *b32, int64_t now_s, char out[8],
		  struct errmsg *e) MUST_CHECK;

/* authz.c: roles and objects. Deny = reply set and audited; returns
 * false. */
bool authz_route(struct srv *s, struct req *r, struct reply *y);
/* The organisation a list is limited to: a developer's own; 0 (all) for
 * agency staff, whose lists the handlers filter object by object. */
int64_t authz_org_scope(const struct principal *p);
/* Whether the principal may see organisation org_id's objects. */
bool authz_sees_org(const struct principal *p, int64_t org_id);
/* Deny access to an object: 404 when the principal may not see it at all,
 * 403 when it may see it. Audited. */
void authz_deny(struct srv *s, struct req *r, struct reply *y, bool visible,
		int64_t object, const char *reason);
bool has_role(const struct principal *p, unsigned roles);
/* A failed load of an object from the store: 404 as authz_deny (audited,
 * with reason) when it does not exist, else reply_fail. It is the shared
 * half of every visible_*() (load the object, then check that the
 * principal may see it, else free it and authz_deny): those stay one per
 * record type, as their store calls, rules and reasons differ. */
void reply_load_fail(struct srv *s, struct req *r, struct reply *y,
		     const struct errmsg *e, int64_t object, const char *reason);

/* audit (authz.c): append kind with the principal and fields. */
void srv_audit(struct srv *s, struct req *r, const char *kind,
	       const char *k1, const char *v1, int64_t object);

/* json.c: the body as an object, or a 400 reply and NULL. */
json_t *body_object(struct req *r, struct reply *y);
/* Field readers: false (and a 400 reply naming the field) when missing
 * (unless optional), of the wrong type or out of bounds. */
bool jstr(json_t *o, const char *k, size_t max, bool optional,
	  const char **out, struct reply *y);
bool jint(json_t *o, const char *k, int64_t lo, int64_t hi, bool optional,
	  int64_t *out, struct reply *y);
bool jbool(json_t *o, const char *k, bool optional, bool *out,
	   struct reply *y);
/* One page of a list request (docs/API.md, "Lists"). Every listing
 * endpoint (api_*.c) takes the same steps: list_begin, its store_*_list,
 * list_add for each record read (its JSON, or NULL where the principal
 * may not see it), list_end. The store calls, record types and
 * visibility rules stay in each endpoint: a generic lister over void
 * pointers would hide them. */
struct list_page {
	int limit;                /* ?limit: 1..500, 100 if absent */
	int64_t after;            /* ?after: the cursor, 0 if absent */
	int64_t last;             /* the id of the last record read */
	json_t *items;            /* owned until list_end; NULL: none yet */
};
/* Read ?limit and ?after into pg; false: a 400 reply was made. */
bool list_begin(struct req *r, struct reply *y, struct list_page *pg);
/* Record id was read; o (owned; NULL: not shown) is appended. */
void list_add(struct list_page *pg, int64_t id, json_t *o);
/* Whether the page holds limit items. */
bool list_full(const struct list_page *pg);
/* Reply 200 {items, next} with the page (consumes its items). */
void list_end(struct reply *y, struct list_page *pg);
json_t *list_reply(json_t *items, int limit, int64_t last_id);

/* api_people.c */
json_t *user_json(const struct sp_user *u);
const char *role_name(unsigned bit);
unsigned role_parse(const char *name);
void api_orgs_list(struct srv *s, struct req *r, struct reply *y);
void api_orgs_add(struct srv *s, struct req *r, struct reply *y);
void api_orgs_get(struct srv *s, struct req *r, struct reply *y);
void api_users_list(struct srv *s, struct req *r, struct reply *y);
void api_users_add(struct srv *s, struct req *r, struct reply *y);
void api_users_get(struct srv *s, struct req *r, struct reply *y);
void api_users_disable(struct srv *s, struct req *r, struct reply *y);
void api_terms_get(struct srv *s, struct req *r, struct reply *y);
void api_terms_add(struct srv *s, struct req *r, struct reply *y);
void api_terms_accept(struct srv *s, struct req *r, struct reply *y);

/* api_models.c */
bool authz_sees_model(struct srv *s, const struct principal *p,
		      const struct sp_model *m);
bool visible_model(struct srv *s, struct req *r, struct reply *y, int64_t id,
		   struct sp_model *m);
/* Close every window past its end, erasing its model's credential. */
void srv_sweep_windows(struct srv *s);
void api_models_list(struct srv *s, struct req *r, struct reply *y);
void api_models_add(struct srv *s, struct req *r, struct reply *y);
void api_models_get(struct srv *s, struct req *r, struct reply *y);
void api_models_cred(struct srv *s, struct req *r, struct reply *y);
void api_partners_list(struct srv *s, struct req *r, struct reply *y);
void api_partners_add(struct srv *s, struct req *r, struct reply *y);
void api_windows_list(struct srv *s, struct req *r, struct reply *y);
void api_windows_add(struct srv *s, struct req *r, struct reply *y);
void api_windows_close(struct srv *s, struct req *r, struct reply *y);
void api_grants_list(struct srv *s, struct req *r, struct reply *y);
void api_grants_add(struct srv *s, struct req *r, struct reply *y);
void api_grants_del(struct srv *s, struct req *r, struct reply *y);

/* api_campaigns.c */
void api_campaigns_list(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_add(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_get(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_approve(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_start(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_events(struct srv *s, struct req *r, struct reply *y);

/* api_sealed.c: campaigns of a sealed suite. */
struct vault_archive;
/* Whether n is a sealed suite's name: NAME.assay, a-z A-Z 0-9 - _ . */
bool srv_sealed_name_ok(const char *n);
/* Open archive name of the suites directory and check that every name of
 * tasks (may be NULL) is one of its tasks; false: a 400 reply. */
bool srv_sealed_open(struct srv *s, const char *name, json_t *tasks,
		     struct vault_archive **a_out, struct reply *y);
/* Distinct custodians' approvals a campaign of archive a needs: the
 * archive's threshold, at least two where it has two custodians. */
int64_t srv_sealed_approvals_needed(const struct vault_archive *a);
/* Make and keep campaign id's unseal request (reason: one line). */
enum err srv_sealed_request(struct srv *s, const struct vault_archive *a,
			    const char *name, int64_t id, const char *reason,
			    struct errmsg *e) MUST_CHECK;
/* api_runs.c: load the campaign of run r->ids[0] when the principal has
 * need-to-know on it; false: a 404 (audited) was replied. */
bool visible_run(struct srv *s, struct req *r, struct reply *y,
		 struct sp_campaign *c);
/* api_export.c */
void api_runs_export(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_unseal(struct srv *s, struct req *r, struct reply *y);
void api_campaigns_unseal_request(struct srv *s, struct req *r,
				  struct reply *y);
/* api_campaigns.c: whether c is a campaign of a sealed suite. */
bool campaign_sealed(const struct sp_campaign *c);
/* POST /campaigns/{id}/approve of a sealed campaign c: check and keep the
 * body's approval; false: an error reply was made. */
bool srv_sealed_approve(struct srv *s, struct req *r, struct reply *y,
			const struct sp_campaign *c);
/* `assay run` options for sealed campaign id (--suite, --request-key,
 * --approval...), writing the secret and approvals 0600 into dir;
 * NULL-terminated, free with srv_sealed_args_free; NULL: e says why. */
char **srv_sealed_args(struct srv *s, int64_t id, const char *dir,
		       struct errmsg *e);
void srv_sealed_args_free(char **args);
/* The run ended: remove the staged files of dir (may be NULL), destroy the
 * campaign's key and forget the request's secret. */
void srv_sealed_end(struct srv *s, int64_t id, const char *dir);

/* api_campaigns.c: load the campaign r->ids[0] when the principal sees
 * it; else reply (404, audited) and false. */
bool visible_campaign(struct srv *s, struct req *r, struct reply *y,
		      struct sp_campaign *c);
/* Whether the principal has need-to-know on campaign c's content (its
 * runs, episodes, transcripts): an evaluator or admin holding a grant on
 * its model, or the evaluator who created it. */
bool authz_campaign_content(struct srv *s, const struct principal *p,
			    const struct sp_campaign *c);
/* The policy name NAME as a file of the shipped policies, or NULL. */
char *srv_policy_path(const char *name);

/* api_runs.c */
struct report;
struct policy;
struct report_analysis;
/* The campaign's run analysed under its frozen policy (ERR_INVAL when
 * the policy file no longer has the frozen digest). Free with
 * srv_analysis_free, also after a failure. */
enum err srv_analyze(struct srv *s, const struct sp_campaign *c,
		     struct report **rep, struct policy **pol,
		     struct report_analysis **a, struct errmsg *e) MUST_CHECK;
void srv_analysis_free(struct report *rep, struct policy *pol,
		       struct report_analysis *a);
/* ERR_INVAL unless the file at path has SHA-256 digest (hex). */
enum err srv_policy_check(const char *path, const char *digest,
			  struct errmsg *e) MUST_CHECK;
void api_runs_get(struct srv *s, struct req *r, struct reply *y);
void api_episodes_list(struct srv *s, struct req *r, struct reply *y);
void api_episodes_get(struct srv *s, struct req *r, struct reply *y);
void api_events_list(struct srv *s, struct req *r, struct reply *y);
void api_runs_chart(struct srv *s, struct req *r, struct reply *y);
void api_policies_get(struct srv *s, struct req *r, struct reply *y);

/* api_results.c: determinations, developer reports, signing keys */
void api_det_get(struct srv *s, struct req *r, struct reply *y);
void api_det_sign(struct srv *s, struct req *r, struct reply *y);
void api_det_cosign(struct srv *s, struct req *r, struct reply *y);
void api_det_download(struct srv *s, struct req *r, struct reply *y);
void api_reports_list(struct srv *s, struct req *r, struct reply *y);
void api_reports_add(struct srv *s, struct req *r, struct reply *y);
void api_reports_approve(struct srv *s, struct req *r, struct reply *y);
void api_reports_download(struct srv *s, struct req *r, struct reply *y);
/* signing.c: each signature is its person's, made with the key the
 * service holds for them or offline with their own (POST /keys). */
struct vault_pubkey;
struct buf;
void api_keys_list(struct srv *s, struct req *r, struct reply *y);
void api_keys_get(struct srv *s, struct req *r, struct reply *y);
void api_keys_add(struct srv *s, struct req *r, struct reply *y);
/* Whether user_id registered their own key. */
bool srv_signer_own(struct srv *s, int64_t user_id);
/* user_id's public key: their own, else the one the service holds (with
 * r, the principal's: made at first use). */
enum err srv_signer_pub(struct srv *s, struct req *r, int64_t user_id,
			struct vault_pubkey *pub, struct errmsg *e) MUST_CHECK;
/* One signing request (sign, co-sign, release): its optional body
 * {"envelope": ...} and the envelope it makes. srv_signing_begin reads
 * the body (false: answered, nothing to release); srv_signing_end
 * releases both. */
struct srv_signing {
	json_t *body;             /* owned; NULL: none sent */
	const char *sent;         /* the sent envelope, in body; or NULL */
	struct buf env;           /* the envelope made (VAULT_DSSE_MAX * 2) */
};
bool srv_signing_begin(struct req *r, struct reply *y, struct srv_signing *sg);
void srv_signing_end(struct srv_signing *sg);
/* The principal's signature into env: a new envelope over stmt, or one
 * more on prior; made here, or sent (checked) when their key is their
 * own. False: answered (409 sign_offline asks for it, 400 a bad one). */
bool srv_sign_new(struct srv *s, struct req *r, struct reply *y,
		  const char *sent, const char *stmt, struct buf *env);
bool srv_sign_more(struct srv *s, struct req *r, struct reply *y,
		   const char *sent, const char *prior, struct buf *env);

/* A raw (non-JSON) 200 reply of n bytes of data (copied). */
void reply_raw(struct reply *y, const char *type, const char *data, size_t n);

/* worker.c: once a second from the main loop, under the lock */
/* At start: campaigns a dead service left running end failed (audited),
 * and the private files of its workers are removed. */
void srv_worker_recover(struct srv *s);
void srv_worker_tick(struct srv *s);
void srv_worker_stop(struct srv *s);

/* api_audit.c */
void api_audit_list(struct srv *s, struct req *r, struct reply *y);
void api_audit_checkpoint(struct srv *s, struct req *r, struct reply *y);
void api_audit_proof(struct srv *s, struct req *r, struct reply *y);
void api_exposure(struct srv *s, struct req *r, struct reply *y);

#endif
