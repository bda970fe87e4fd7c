/*
 * api_sealed.c - campaigns of a sealed suite (docs/API.md, "Sealed
 * campaigns"). The archive is a file NAME.assay of the service's suites
 * directory ($ASSAY_HOME/program-suites, or $ASSAY_PROGRAM_SUITES). At
 * creation the service makes the campaign's unseal request (vault/seal.h:
 * run "campaign-ID", a reason naming the campaign, 30 days to approve);
 * its public text is what custodians approve, offline, with their own
 * keys (`assay keys approve`); its secret is sealed at rest under a key of
 * the campaign's own (KEY_DIR/campaign-ID.key). Each approval is checked
 * when it is uploaded (signed by a custodian the archive lists, for this
 * request, one per custodian and per person). The worker hands the
 * request's secret and the approvals to `assay run` as 0600 files in its
 * private directory; when the run ends they are removed and the
 * campaign's key is destroyed, so the request can never be opened again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "vault/atrest.h"
#include "vault/seal.h"
#include "vault/vault.h"
#include "base/banned.h"

#define REQUEST_TTL_S (30 * 86400LL)
#define APPROVAL_MAX 16384
#define SEALED_MIN_APPROVALS 2

static char *campaign_key_path(struct srv *s, int64_t id)
{
	char name[64];

	snprintf(name, sizeof(name), "campaign-%lld.key", (long long)id);
	return path_join(s->key_dir, name);
}

static void campaign_ad(int64_t id, char ad[64])
{
	snprintf(ad, 64, "campaign:%lld:unseal-request", (long long)id);
}

/* NAME.assay: at most 128 bytes of a-z A-Z 0-9 - _ . , no leading dot. */
bool srv_sealed_name_ok(const char *n)
{
	size_t len = strlen(n);

	return len > 6 && len <= 128 && n[0] != '.' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_.") == len &&
	       !strcmp(n + len - 6, ".assay");
}

static char *archive_path(struct srv *s, const char *name)
{
	return path_join(s->suites_dir, name);
}

static bool archive_has_task(const struct vault_archive *a, const char *id)
{
	for (size_t i = 0; i < a->ntasks; i++)
		if (!strcmp(a->tasks[i].id, id))
			return true;
	return false;
}

bool srv_sealed_open(struct srv *s, const char *name, json_t *tasks,
		     struct vault_archive **a_out, struct reply *y)
{
	struct errmsg e;
	char *path;
	json_t *v;
	size_t i;

	*a_out = NULL;
	if (!srv_sealed_name_ok(name)) {
		reply_err(y, 400, "invalid_field", "suite", "a sealed suite is "
			  "NAME.assay (a-z A-Z 0-9 - _ .)");
		return false;
	}
	path = archive_path(s, name);
	if (!path_exists(path)) {
		reply_err(y, 400, "invalid_field", "suite", "no sealed suite "
			  "'%s' on this server (its suites directory holds the "
			  "archives it runs)", name);
	} else if (vault_archive_open(path, a_out, &e)) {
		log_warn("campaign: %s: %s", path, e.text);
		reply_err(y, 400, "invalid_field", "suite", "sealed suite '%s' "
			  "does not open: %s", name, e.text);
	}
	free(path);
	if (!*a_out)
		return false;
	json_array_foreach(tasks, i, v) {
		if (!archive_has_task(*a_out, json_string_value(v))) {
			reply_err(y, 400, "invalid_field", "tasks", "no task '%s' "
				  "in sealed suite '%s'", json_string_value(v),
				  name);
			vault_archive_free(*a_out);
			*a_out = NULL;
			return false;
		}
	}
	return true;
}

int64_t srv_sealed_approvals_needed(const struct vault_archive *a)
{
	size_t k = a->threshold > SEALED_MIN_APPROVALS ? a->threshold
						       : SEALED_MIN_APPROVALS;

	return (int64_t)(k < a->ncustodians ? k : a->ncustodians);
}

enum err srv_sealed_request(struct srv *s, const struct vault_archive *a,
			    const char *name, int64_t id, const char *reason,
			    struct errmsg *e)
{
	struct buf req, secret;
	struct vault_atrest *k = NULL;
	struct sp_unseal u = { 0 };
	char run[32], ad[64], *kp = campaign_key_path(s, id);
	enum err rc;

	buf_init(&req, 1 << 16);
	buf_init(&secret, 1 << 16);
	snprintf(run, sizeof(run), "campaign-%lld", (long long)id);
	rc = vault_request_create(a, run, reason, wall_ms() / 1000 +
				  REQUEST_TTL_S, &req, &secret, e);
	if (!rc)
		rc = mkdir_p(s->key_dir, 0700, e);
	if (!rc)
		rc = vault_atrest_load(kp, &k, e);
	if (!rc) {
		campaign_ad(id, ad);
		u.archive = (char *)name;
		u.request = req.data;
		u.secret = vault_atrest_seal(k, ad, secret.data);
		rc = store_unseal_add(srv_st(s), id, &u, e);
		free(u.secret);
		vault_atrest_free(k);
	}
	free(kp);
	buf_release(&req);
	if (secret.data)
		explicit_bzero(secret.data, secret.len);
	buf_release(&secret);
	return rc;
}

static json_t *unseal_json(const struct sp_unseal *u,
			   const struct vault_archive *a,
			   const struct sp_approval *v, size_t n)
{
	json_t *cust = json_array(), *apps = json_array();

	for (size_t i = 0; a && i < a->ncustodians; i++)
		json_array_append_new(cust, json_string(a->custodians[i].pub.name));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(apps, json_pack("{s:s?, s:I, s:I}",
			"custodian", v[i].custodian, "user_id",
			(json_int_t)v[i].user_id, "at_ms", (json_int_t)v[i].at_ms));
	return json_pack("{s:s, s:s, s:s?, s:I, s:o, s:o, s:b}", "archive",
			 u->archive, "request", u->request, "suite_digest",
			 a ? a->digest : NULL, "threshold",
			 (json_int_t)(a ? a->threshold : 0), "custodians", cust,
			 "approvals", apps, "secret_erased", u->secret == NULL);
}

/* The campaign's unseal request and its archive (ERR_NOTFOUND for a
 * campaign of the open suite). */
static enum err load_unseal(struct srv *s, int64_t id, struct sp_unseal *u,
			    struct vault_archive **a, struct errmsg *e)
{
	char *path;
	enum err rc = store_unseal_get(srv_st(s), id, u, e);

	*a = NULL;
	if (rc)
		return rc;
	path = archive_path(s, u->archive);
	rc = vault_archive_open(path, a, e);
	free(path);
	if (rc)
		store_unseal_free(u);
	return rc;
}

/* GET /campaigns/{id}/unseal (as JSON) and .../unseal/request (its
 * text, for `assay keys approve`). */
static void unseal_reply(struct srv *s, struct req *r, struct reply *y,
			 bool text)
{
	struct sp_campaign c;
	struct sp_unseal u;
	struct sp_approval *v = NULL;
	struct vault_archive *a;
	size_t n = 0;
	struct errmsg e;
	enum err rc;

	if (!visible_campaign(s, r, y, &c))
		return;
	rc = load_unseal(s, c.id, &u, &a, &e);
	if (rc == ERR_NOTFOUND) {
		reply_err(y, 409, "conflict", NULL, "campaign %lld is of the "
			  "open suite: it has no unseal request",
			  (long long)c.id);
	} else if (!rc && text) {
		reply_raw(y, "text/plain; charset=utf-8", u.request,
			  strlen(u.request));
	} else if (rc || store_campaign_approvals(srv_st(s), c.id, &v, &n, &e)) {
		reply_fail(y, &e);
	} else {
		reply_json(y, 200, unseal_json(&u, a, v, n));
		store_approvals_free(v, n);
	}
	if (!rc) {
		store_unseal_free(&u);
		vault_archive_free(a);
	}
	store_campaign_free(&c);
}

void api_campaigns_unseal(struct srv *s, struct req *r, struct reply *y)
{
	unseal_reply(s, r, y, false);
}

void api_campaigns_unseal_request(struct srv *s, struct req *r,
				  struct reply *y)
{
	unseal_reply(s, r, y, true);
}

/* A custodian's approval of a sealed campaign c (body {"approval"}):
 * checked against the archive and the request before it is kept. */
bool srv_sealed_approve(struct srv *s, struct req *r, struct reply *y,
			const struct sp_campaign *c)
{
	json_t *b = body_object(r, y);
	const char *text;
	char name[VAULT_KEY_NAME_MAX + 1];
	struct sp_unseal u;
	struct vault_archive *a;
	struct errmsg e;
	bool ok = false;

	if (!b)
		return false;
	if (!jstr(b, "approval", APPROVAL_MAX, false, &text, y))
		goto out;
	if (load_unseal(s, c->id, &u, &a, &e)) {
		reply_fail(y, &e);
		goto out;
	}
	if (vault_approval_check(a, u.request, strlen(u.request), text,
				 strlen(text), wall_ms() / 1000, name, &e)) {
		reply_err(y, 400, "invalid_field", "approval", "the approval is "
			  "refused: %s", e.text);
	} else if (store_campaign_approve_sealed(srv_st(s), c->id, r->who.u.id,
						 name, text, &e)) {
		reply_err(y, 409, "conflict", "approval", "%s", e.text);
	} else {
		srv_audit(s, r, "campaign.approve", "custodian", name, c->id);
		ok = true;
	}
	store_unseal_free(&u);
	vault_archive_free(a);
out:
	json_decref(b);
	return ok;
}

/* Write text to dir/name, 0600, refusing to follow or replace anything. */
static char *write_private(const char *dir, const char *name,
			   const char *text, struct errmsg *e)
{
	char *path = path_join(dir, name);
	size_t n = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		      O_NOFOLLOW, 0600);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* The request's secret text, opened with the campaign's key. */
static char *open_secret(struct srv *s, int64_t id, const char *sealed,
			 struct errmsg *e)
{
	char *kp = campaign_key_path(s, id), ad[64], *plain = NULL;
	struct vault_atrest *k;

	if (!sealed) {
		err_set(e, ERR_INVAL, "the campaign's unseal request was erased");
	} else if (!path_exists(kp)) {
		err_set(e, ERR_INVAL, "the campaign's key is gone");
	} else if (!vault_atrest_load(kp, &k, e)) {
		campaign_ad(id, ad);
		if (vault_atrest_open(k, ad, sealed, &plain, e))
			plain = NULL;
		vault_atrest_free(k);
	}
	free(kp);
	return plain;
}

static void add_arg(char ***v, size_t *n, const char *a)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(a);
	(*v)[*n] = NULL;
}

char **srv_sealed_args(struct srv *s, int64_t id, const char *dir,
		       struct errmsg *e)
{
	struct sp_unseal u;
	struct sp_approval *v = NULL;
	char **args = NULL, *secret, *p, name[32];
	size_t n = 0, na = 0;

	if (store_unseal_get(srv_st(s), id, &u, e))
		return NULL;
	secret = open_secret(s, id, u.secret, e);
	if (secret && !store_campaign_approvals(srv_st(s), id, &v, &na, e)) {
		p = archive_path(s, u.archive);
		add_arg(&args, &n, "--suite");
		add_arg(&args, &n, p);
		free(p);
		if ((p = write_private(dir, "request.key", secret, e))) {
			add_arg(&args, &n, "--request-key");
			add_arg(&args, &n, p);
			free(p);
		}
		for (size_t i = 0; p && i < na; i++) {
			if (!v[i].approval)
				continue;
			snprintf(name, sizeof(name), "approval-%zu", i + 1);
			if ((p = write_private(dir, name, v[i].approval, e))) {
				add_arg(&args, &n, "--approval");
				add_arg(&args, &n, p);
				free(p);
			}
		}
		if (!p) {
			srv_sealed_args_free(args);
			args = NULL;
		}
		store_approvals_free(v, na);
	}
	if (secret)
		explicit_bzero(secret, strlen(secret));
	free(secret);
	store_unseal_free(&u);
	return args;
}

void srv_sealed_args_free(char **args)
{
	for (size_t i = 0; args && args[i]; i++)
		free(args[i]);
	free(args);
}

/* Remove what srv_sealed_args wrote into dir. */
static void remove_staged(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, "request.key") ||
		    !strncmp(de->d_name, "approval-", 9))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
}

void srv_sealed_end(struct srv *s, int64_t id, const char *dir)
{
	char *kp = campaign_key_path(s, id);
	struct sp_unseal u;
	struct errmsg e;

	if (dir)
		remove_staged(dir);
	if (store_unseal_get(srv_st(s), id, &u, &e) == ERR_OK) {
		if (vault_atrest_destroy(kp, &e) ||
		    store_unseal_erase(srv_st(s), id, &e))
			log_error("server: campaign %lld: the unseal request "
				  "was not erased: %s", (long long)id, e.text);
		store_unseal_free(&u);
	}
	free(kp);
}
