/*
 * store_program.h - the early-access program's records (issue 16; the
 * server part is their only user): organisations, people, sessions, API
 * tokens, terms and their acceptance.
 *
 * Every statement is prepared with bound parameters (no SQL is built from
 * input) and written in the portable subset of docs/internals/store.md
 * (INSERT ... RETURNING id, integer ms timestamps, booleans 0/1).
 * Strings in the structs are owned by them (free with the _free function).
 * A missing row is ERR_NOTFOUND. Each kind of record has the same few
 * declarations (add, get, list, its updates, the _free of one and of a
 * list), so the sections below look alike by design.
 */
#ifndef ASSAY_STORE_PROGRAM_H
#define ASSAY_STORE_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct store;

/* Roles, a bit set. */
enum sp_role {
	SP_ADMIN = 1 << 0,
	SP_EVALUATOR = 1 << 1,
	SP_LIAISON = 1 << 2,
	SP_AUDITOR = 1 << 3,
	SP_CUSTODIAN = 1 << 4,
	SP_DEVELOPER = 1 << 5,
};

struct sp_org {
	int64_t id;
	char *name;
	char *kind;            /* agency | developer | partner */
	int64_t created_ms;
	int64_t terms_version; /* highest version a member accepted; 0 none */
};

struct sp_user {
	int64_t id;
	char *login, *name;
	int64_t org_id;
	unsigned roles;        /* enum sp_role */
	char *pwhash;
	char *totp_secret;     /* base32; NULL: not enrolled */
	char *totp_pending;    /* enrolled, not yet confirmed */
	int64_t totp_last;     /* last accepted time step (no reuse) */
	int fails;             /* consecutive failed logins */
	int64_t locked_until_ms;
	bool disabled;
	int64_t created_ms;
};

struct sp_session {
	int64_t user_id;
	char *csrf;
	int64_t created_ms, seen_ms, expires_ms;
};

struct sp_token {
	int64_t id, user_id;
	char *name, *scope;    /* read | write */
	int64_t created_ms, expires_ms;
	bool revoked;
};

struct sp_terms {
	int64_t version;
	char *text;
	int64_t created_ms;
};

/* Organisations. */
enum err store_org_add(struct store *st, const char *name, const char *kind,
		       int64_t *id_out, struct errmsg *e) MUST_CHECK;
enum err store_org_get(struct store *st, int64_t id, struct sp_org *o,
		       struct errmsg *e) MUST_CHECK;
/* after: ids greater than it; limit rows at most. */
enum err store_org_list(struct store *st, int64_t after, int limit,
			struct sp_org **v, size_t *n, struct errmsg *e) MUST_CHECK;
void store_org_free(struct sp_org *o);
void store_orgs_free(struct sp_org *v, size_t n);

/* People. u->id is ignored by add. */
enum err store_user_add(struct store *st, const struct sp_user *u,
			int64_t *id_out, struct errmsg *e) MUST_CHECK;
enum err store_user_get(struct store *st, int64_t id, struct sp_user *u,
			struct errmsg *e) MUST_CHECK;
enum err store_user_by_login(struct store *st, const char *login,
			     struct sp_user *u, struct errmsg *e) MUST_CHECK;
/* org_id 0: every organisation. */
enum err store_user_list(struct store *st, int64_t org_id, int64_t after,
			 int limit, struct sp_user **v, size_t *n,
			 struct errmsg *e) MUST_CHECK;
int64_t store_user_count(struct store *st);
enum err store_user_set_login(struct store *st, int64_t id, int fails,
			      int64_t locked_until_ms,
			      struct errmsg *e) MUST_CHECK;
enum err store_user_set_pwhash(struct store *st, int64_t id, const char *h,
			       struct errmsg *e) MUST_CHECK;
enum err store_user_set_totp(struct store *st, int64_t id, const char *secret,
			     const char *pending, struct errmsg *e) MUST_CHECK;
enum err store_user_set_totp_last(struct store *st, int64_t id, int64_t step,
				  struct errmsg *e) MUST_CHECK;
enum err store_user_set_disabled(struct store *st, int64_t id, bool disabled,
				 struct errmsg *e) MUST_CHECK;
void store_user_free(struct sp_user *u);
void store_users_free(struct sp_user *v, size_t n);

/* Sessions, keyed by the SHA-256 (hex) of the cookie's token. */
enum err store_session_add(struct store *st, const char *hash, int64_t user_id,
			   const char *csrf, int64_t now, int64_t expires_ms,
			   struct errmsg *e) MUST_CHECK;
enum err store_session_get(struct store *st, const char *hash,
			   struct sp_session *s, struct errmsg *e) MUST_CHECK;
enum err store_session_touch(struct store *st, const char *hash, int64_t now,
			     struct errmsg *e) MUST_CHECK;
enum err store_session_del(struct store *st, const char *hash,
			   struct errmsg *e) MUST_CHECK;
/* Every session of user_id but keep (NULL: all). */
enum err store_session_del_user(struct store *st, int64_t user_id,
				const char *keep, struct errmsg *e) MUST_CHECK;
void store_session_free(struct sp_session *s);

/* API tokens, by the SHA-256 (hex) of the token. */
enum err store_token_add(struct store *st, const struct sp_token *t,
			 const char *hash, int64_t *id_out,
			 struct errmsg *e) MUST_CHECK;
enum err store_token_by_hash(struct store *st, const char *hash,
			     struct sp_token *t, struct errmsg *e) MUST_CHECK;
enum err store_token_list(struct store *st, int64_t user_id,
			  struct sp_token **v, size_t *n,
			  struct errmsg *e) MUST_CHECK;
/* ERR_NOTFOUND unless token id belongs to user_id. */
enum err store_token_revoke(struct store *st, int64_t id, int64_t user_id,
			    struct errmsg *e) MUST_CHECK;
void store_token_free(struct sp_token *t);
void store_tokens_free(struct sp_token *v, size_t n);

/* Terms: versions 1, 2, ...; the current is the highest. */
enum err store_terms_add(struct store *st, const char *text, int64_t by,
			 int64_t *version_out, struct errmsg *e) MUST_CHECK;
enum err store_terms_current(struct store *st, struct sp_terms *t,
			     struct errmsg *e) MUST_CHECK;
enum err store_terms_accept(struct store *st, int64_t user_id, int64_t version,
			    struct errmsg *e) MUST_CHECK;
/* The highest version user_id accepted; 0: none. */
int64_t store_terms_accepted(struct store *st, int64_t user_id);
void store_terms_free(struct sp_terms *t);

/* ---- models, access windows, need-to-know grants, partners ---- */

struct sp_model {
	int64_t id, org_id;
	char *doc;             /* JSON: name, version, release_date, access,
				* card, endpoint (never the credential) */
	char *release_date;    /* YYYY-MM-DD */
	bool has_credential;
	int64_t created_by, created_ms;
};

struct sp_window {
	int64_t id, model_id, start_ms, end_ms;
	int64_t closed_ms;     /* 0: not closed */
	bool erased;           /* the model's credential was destroyed */
	int64_t created_by, created_ms;
};

struct sp_grant {
	int64_t id, user_id, model_id;
	char *suite, *scope;   /* scope: run | read */
	int64_t expires_ms, granted_by, created_ms;
	bool revoked;
};

struct sp_partner {
	int64_t model_id, org_id;
	bool by_admin, by_developer;
};

enum err store_model_add(struct store *st, int64_t org_id, const char *doc,
			 const char *release_date, int64_t by, int64_t *id_out,
			 struct errmsg *e) MUST_CHECK;
enum err store_model_get(struct store *st, int64_t id, struct sp_model *m,
			 struct errmsg *e) MUST_CHECK;
/* org_id 0: every organisation. */
enum err store_model_list(struct store *st, int64_t org_id, int64_t after,
			  int limit, struct sp_model **v, size_t *n,
			  struct errmsg *e) MUST_CHECK;
/* The sealed credential text (NULL: erase it). */
enum err store_model_set_cred(struct store *st, int64_t id, const char *sealed,
			      struct errmsg *e) MUST_CHECK;
enum err store_model_cred(struct store *st, int64_t id, char **sealed_out,
			  struct errmsg *e) MUST_CHECK;
void store_model_free(struct sp_model *m);
void store_models_free(struct sp_model *v, size_t n);

enum err store_window_add(struct store *st, int64_t model_id, int64_t start_ms,
			  int64_t end_ms, int64_t by, int64_t *id_out,
			  struct errmsg *e) MUST_CHECK;
enum err store_window_get(struct store *st, int64_t id, struct sp_window *w,
			  struct errmsg *e) MUST_CHECK;
/* model_id 0: all; org_id non-zero: only windows of that org's models. */
enum err store_window_list(struct store *st, int64_t model_id, int64_t org_id,
			   int64_t after, int limit, struct sp_window **v,
			   size_t *n, struct errmsg *e) MUST_CHECK;
/* Windows not closed whose end is at or before now. */
enum err store_window_due(struct store *st, int64_t now, struct sp_window **v,
			  size_t *n, struct errmsg *e) MUST_CHECK;
enum err store_window_close(struct store *st, int64_t id, int64_t at_ms,
			    bool erased, struct errmsg *e) MUST_CHECK;
/* Whether an open window of model_id covers now. */
bool store_window_open_now(struct store *st, int64_t model_id, int64_t now);

enum err store_grant_add(struct store *st, const struct sp_grant *g,
			 int64_t *id_out, struct errmsg *e) MUST_CHECK;
/* user_id 0: everyone's. */
enum err store_grant_list(struct store *st, int64_t user_id, int64_t after,
			  int limit, struct sp_grant **v, size_t *n,
			  struct errmsg *e) MUST_CHECK;
enum err store_grant_revoke(struct store *st, int64_t id,
			    struct errmsg *e) MUST_CHECK;
/* Whether user_id holds an unexpired, unrevoked grant on model_id and
 * suite ("open", "NAME.assay"; a grant of suite "*" covers every suite)
 * of scope (or of scope "run", which includes "read"). */
bool store_grant_holds(struct store *st, int64_t user_id, int64_t model_id,
		       const char *suite, const char *scope, int64_t now);
void store_grants_free(struct sp_grant *v, size_t n);

/* Set one side's consent to org_id as a partner for model_id. */
enum err store_partner_set(struct store *st, int64_t model_id, int64_t org_id,
			   bool admin_side, struct errmsg *e) MUST_CHECK;
enum err store_partner_list(struct store *st, int64_t model_id,
			    struct sp_partner **v, size_t *n,
			    struct errmsg *e) MUST_CHECK;
/* Whether org_id is a partner of model_id with both consents. */
bool store_partner_active(struct store *st, int64_t model_id, int64_t org_id);

/* ---- campaigns ---- */

struct sp_campaign {
	int64_t id, model_id, org_id;  /* org_id: the model's organisation */
	int64_t created_by;
	char *state;           /* pending_approval | ready | queued | running |
				* done | failed */
	char *doc;             /* JSON: suite, sealed, scaffolds, epochs,
				* limits, policy */
	char *policy_digest;   /* sha256 of the policy text, frozen at creation */
	int64_t approvals_needed, approvals;
	int64_t run_id;        /* 0: none yet */
	int64_t created_ms;
};

enum err store_campaign_add(struct store *st, const struct sp_campaign *c,
			    int64_t *id_out, struct errmsg *e) MUST_CHECK;
enum err store_campaign_get(struct store *st, int64_t id,
			    struct sp_campaign *c, struct errmsg *e) MUST_CHECK;
/* org_id 0: all. */
enum err store_campaign_list(struct store *st, int64_t org_id, int64_t after,
			     int limit, struct sp_campaign **v, size_t *n,
			     struct errmsg *e) MUST_CHECK;
enum err store_campaign_set(struct store *st, int64_t id, const char *state,
			    int64_t run_id, struct errmsg *e) MUST_CHECK;
void store_campaign_free(struct sp_campaign *c);
void store_campaigns_free(struct sp_campaign *v, size_t n);

/* A sealed campaign's unseal request (docs/API.md, "Sealed campaigns"). */
struct sp_unseal {
	char *archive;  /* the archive's file name in the suites directory */
	char *request;  /* the request's text, which custodians approve */
	char *secret;   /* its secret text sealed at rest; NULL once erased */
};

/* A custodian's approval; custodian and approval are NULL for an
 * approval given before sealed campaigns (store schema 9). */
struct sp_approval {
	int64_t user_id, at_ms;
	char *custodian; /* the archive's custodian who signed it */
	char *approval;  /* its text (vault/approve.c) */
};

enum err store_unseal_add(struct store *st, int64_t campaign_id,
			  const struct sp_unseal *u,
			  struct errmsg *e) MUST_CHECK;
/* ERR_NOTFOUND: the campaign has no unseal request (an open suite). */
enum err store_unseal_get(struct store *st, int64_t campaign_id,
			  struct sp_unseal *u, struct errmsg *e) MUST_CHECK;
/* Forget the request's secret (its at-rest key is destroyed as well). */
enum err store_unseal_erase(struct store *st, int64_t campaign_id,
			    struct errmsg *e) MUST_CHECK;
void store_unseal_free(struct sp_unseal *u);
/* ERR_INVAL when user_id or custodian approved the campaign already. */
enum err store_campaign_approve_sealed(struct store *st, int64_t id,
				       int64_t user_id, const char *custodian,
				       const char *approval,
				       struct errmsg *e) MUST_CHECK;
enum err store_campaign_approvals(struct store *st, int64_t id,
				  struct sp_approval **v, size_t *n,
				  struct errmsg *e) MUST_CHECK;
void store_approvals_free(struct sp_approval *v, size_t n);
/* The highest run id (0: none). */
int64_t store_last_run_id(struct store *st);
/* A run's episodes planned (tasks x epochs), finished and solved. */
void store_run_progress(struct store *st, int64_t run_id, int64_t *total,
			int64_t *done, int64_t *solved, char **status);

/* ---- the campaign of a run, determinations, developer reports ---- */

/* The campaign whose run is run_id (ERR_NOTFOUND: a run of no campaign). */
enum err store_campaign_by_run(struct store *st, int64_t run_id,
			       struct sp_campaign *c, struct errmsg *e) MUST_CHECK;

/* A campaign's signed determination: the DSSE envelope (signed by the
 * evaluator, then co-signed by an admin who is not the signer). */
struct sp_det {
	int64_t campaign_id, run_id;
	char *result;          /* the policy's verdict */
	char *envelope;        /* DSSE JSON */
	int64_t signed_by, signed_ms;
	int64_t cosigned_by, cosigned_ms;  /* 0: not yet */
};

/* ERR_INVAL when the campaign's determination is signed already. */
enum err store_det_add(struct store *st, const struct sp_det *d,
		       struct errmsg *e) MUST_CHECK;
enum err store_det_get(struct store *st, int64_t campaign_id,
		       struct sp_det *d, struct errmsg *e) MUST_CHECK;
/* ERR_INVAL when co-signed already or when by is the signer. */
enum err store_det_cosign(struct store *st, int64_t campaign_id,
			  const char *envelope, int64_t by,
			  struct errmsg *e) MUST_CHECK;
void store_det_free(struct sp_det *d);

/* A redacted report for the model's developer organisation. */
struct sp_report {
	int64_t id, campaign_id, org_id;
	char *level;           /* determination | category | tier */
	bool transcripts;      /* transcripts released with it */
	char *envelope;        /* DSSE JSON */
	int64_t created_by, created_ms;
	int64_t approved_by, approved_ms;  /* 0: not released */
};

enum err store_report_add(struct store *st, const struct sp_report *r,
			  int64_t *id_out, struct errmsg *e) MUST_CHECK;
enum err store_report_get(struct store *st, int64_t id, struct sp_report *r,
			  struct errmsg *e) MUST_CHECK;
/* org_id 0: all. */
enum err store_report_list(struct store *st, int64_t org_id, int64_t after,
			   int limit, struct sp_report **v, size_t *n,
			   struct errmsg *e) MUST_CHECK;
/* ERR_INVAL when released already or when by prepared it. */
enum err store_report_approve(struct store *st, int64_t id,
			      const char *envelope, int64_t by,
			      struct errmsg *e) MUST_CHECK;
void store_report_free(struct sp_report *r);
void store_reports_free(struct sp_report *v, size_t n);

/* A run's episodes so far: tokens and cost, how many run now, how many
 * failed for the engine (interrupted or an infrastructure error), and
 * when the first started (0: none yet). Zeros when unknown. */
struct sp_run_totals {
	int64_t tokens, running, failed, first_start_ms;
	double cost_usd;
};
void store_run_totals(struct store *st, int64_t run_id, struct sp_run_totals *t);

#endif
