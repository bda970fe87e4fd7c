/*
 * sealed.c - run a sealed suite: unseal with custodian approvals into
 * locked memory, load each task from memory, wipe it all afterwards.
 */
#include "cli/sealed.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/carry.h"
#include "cli/keyref.h"
#include "engine/engine.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "vault/seal.h"
#include "vault/vault.h"
#include "base/banned.h"

struct sealed {
	char request[65];                  /* the request's fingerprint */
	struct vault_archive *archive;
	struct vault_suite_content *content;
	struct task_file **files;          /* per task, views into content */
	size_t n_tasks;
	bool carried;                      /* images registered with the engine */
};

bool cli_sealed_is_archive(const char *path)
{
	size_t n = strlen(path);

	return !is_dir(path) && !(n > 5 && !strcmp(path + n - 5, ".yaml")) &&
	       !(n > 4 && !strcmp(path + n - 4, ".yml"));
}

enum err cli_sealed_read_approvals(const char *const *paths, size_t n,
				   struct vault_approval_in *in,
				   struct errmsg *e)
{
	for (size_t i = 0; i < n; i++) {
		char *text;
		size_t len;
		enum err rc = file_read(paths[i], SEALED_APPROVAL_MAX, &text,
					&len, e);
		if (rc)
			return rc;
		in[i].name = paths[i];
		in[i].text = text;
		in[i].len = len;
	}
	return ERR_OK;
}

static enum err unseal(struct sealed *s, const char *path,
		       const struct sealed_opts *o, struct errmsg *e)
{
	struct vault_approval_in in[SEALED_MAX_APPROVALS] = { { 0 } };
	struct vault_unseal_use use = { .served = o->served };
	struct vault_pubkey pin;
	struct vault_audit *log = NULL;
	char *secret = NULL, *dir = cli_audit_dir(NULL);
	size_t slen = 0;
	enum err rc;

	if (!o->request_key || !o->n_approvals) {
		free(dir);
		return err_set(e, ERR_INVAL, "'%s' is sealed: give the run's "
			       "--request-key and one --approval per custodian",
			       path);
	}
	rc = vault_archive_open(path, &s->archive, e);
	if (!rc && o->sealer && !(rc = cli_pubkey_load(o->sealer, NULL, &pin, e))) {
		use.sealers = &pin;
		use.nsealers = 1;
	}
	if (!rc)
		rc = file_read(o->request_key, 16384, &secret, &slen, e);
	if (!rc)
		rc = cli_sealed_read_approvals(o->approvals, o->n_approvals, in,
					       e);
	if (!rc)
		rc = vault_audit_open(dir, 0, &log, e);
	if (!rc)
		rc = vault_suite_unseal(s->archive, secret, slen, NULL, in,
					o->n_approvals, (int64_t)time(NULL), log,
					&use, &s->content, e);
	memcpy(s->request, use.request, sizeof(s->request));
	vault_audit_close(log);
	for (size_t i = 0; i < o->n_approvals; i++)
		free((char *)in[i].text);
	if (secret)
		explicit_bzero(secret, slen);
	free(secret);
	free(dir);
	return rc;
}

/* Views of t's files into v: the task's own first (their count is
 * returned), then the images it carries, which are not the task's
 * files (its content digest is the directory's). */
static size_t task_views(const struct vault_task_content *t, struct task_file *v)
{
	size_t own = 0, k = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t f = 0; f < t->nfiles; f++) {
			if (cli_carry_is_carried(t->files[f].path) != (pass == 1))
				continue;
			v[k].path = t->files[f].path;
			v[k].mode = t->files[f].mode;
			v[k].data = t->files[f].data;
			v[k++].len = t->files[f].len;
			own += pass == 0;
		}
	return own;
}

/* The wrapped keys of the store (hex) as the vault takes them; the bytes
 * are ciphertexts, not secrets. */
static enum err decode_wrapped(const struct sealed_opts *o,
			       struct vault_wrapped_task *w,
			       unsigned char (*bytes)[VAULT_WORKER_WRAP_LEN],
			       struct errmsg *e)
{
	for (size_t i = 0; i < o->n_wrapped; i++) {
		const char *hex = o->wrapped[i].wrapped_hex;
		if (!hex || strlen(hex) != 2 * VAULT_WORKER_WRAP_LEN ||
		    !hex_decode(hex, bytes[i], VAULT_WORKER_WRAP_LEN) ||
		    o->wrapped[i].task_index < 0)
			return err_set(e, ERR_STORE, "the store's wrapped key of "
				       "task '%s' is malformed",
				       o->wrapped[i].task_id);
		w[i].index = (size_t)o->wrapped[i].task_index;
		w[i].wrapped = bytes[i];
	}
	return ERR_OK;
}

static void audit_unwrap(const struct sealed_opts *o,
			 const struct vault_archive *a)
{
	char *dir = cli_audit_dir(NULL);
	struct vault_audit_field f[] = {
		VAULT_AUDIT_S("suite", a->digest),
		VAULT_AUDIT_S("served", o->served),
		VAULT_AUDIT_S("key", vault_worker_key_public(o->worker_key)),
		VAULT_AUDIT_I("tasks", o->n_wrapped),
	};
	struct errmsg e;

	if (vault_audit_record(dir, "worker.unwrap", f, ARRAY_SIZE(f), &e))
		log_warn("msg=\"audit log\" err=\"%s\"", e.text);
	free(dir);
}

/* A worker: the run's tasks, with the keys wrapped to this worker. */
static enum err open_wrapped(struct sealed *s, const char *path,
			     const struct sealed_opts *o, struct errmsg *e)
{
	size_t n = o->n_wrapped;
	struct vault_wrapped_task *w = xcalloc(n + 1, sizeof(*w));
	unsigned char (*bytes)[VAULT_WORKER_WRAP_LEN] = xcalloc(n + 1, sizeof(*bytes));
	struct vault_pubkey pin;
	enum err rc = vault_archive_open(path, &s->archive, e);

	if (!rc && o->archive_digest && strcmp(s->archive->digest, o->archive_digest))
		rc = err_set(e, ERR_INVAL, "'%s' is not the run's archive (its "
			     "digest is %.16s..., the run's %.16s...)", path,
			     s->archive->digest, o->archive_digest);
	if (!rc && o->sealer && !(rc = cli_pubkey_load(o->sealer, NULL, &pin, e)))
		rc = vault_archive_check_signer(s->archive, &pin, 1, e);
	if (!rc)
		rc = decode_wrapped(o, w, bytes, e);
	if (!rc)
		rc = vault_suite_open_wrapped(s->archive, w, n, o->worker_key,
					      &s->content, e);
	if (!rc)
		audit_unwrap(o, s->archive);
	free(w);
	free(bytes);
	return rc;
}

static enum err load_tasks(struct sealed *s, const char *path,
			   struct suite *suite, struct errmsg *e)
{
	const struct vault_suite_content *c = s->content;

	s->n_tasks = c->ntasks;
	s->files = xcalloc(c->ntasks + 1, sizeof(*s->files));
	suite->tasks = xcalloc(c->ntasks + 1, sizeof(*suite->tasks));
	for (size_t i = 0; i < c->ntasks; i++) {
		const struct vault_task_content *t = &c->tasks[i];
		char *name = xasprintf("%s:%s", path, t->id);
		enum err rc;

		size_t own;

		s->files[i] = xcalloc(t->nfiles + 1, sizeof(**s->files));
		own = task_views(t, s->files[i]);
		rc = task_load_mem(name, s->files[i], own,
				   &suite->tasks[suite->n_tasks], e);
		free(name);
		if (rc)
			return rc;
		suite->n_tasks++;
		rc = cli_carry_register(t->id, s->files[i] + own,
					t->nfiles - own, &s->carried, e);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

enum err cli_sealed_open(const char *path, const struct sealed_opts *o,
			 struct suite **suite_out, struct sealed **s_out,
			 struct errmsg *e)
{
	struct sealed *s = xcalloc(1, sizeof(*s));
	struct suite *suite = xcalloc(1, sizeof(*suite));
	enum err rc = o->worker_key ? open_wrapped(s, path, o, e)
				    : unseal(s, path, o, e);

	suite->path = xstrdup(path);
	if (rc == ERR_OK) {
		suite->id = xstrdup(s->content->suite_id);
		suite->version = xstrdup(s->content->suite_version);
		rc = load_tasks(s, path, suite, e);
	}
	if (rc) {
		cli_sealed_close(s, suite);
		return rc;
	}
	*suite_out = suite;
	*s_out = s;
	return ERR_OK;
}

enum err cli_sealed_bind(const struct sealed *s, const char *served,
			 struct errmsg *e)
{
	char *dir = cli_audit_dir(NULL);
	struct vault_audit *log = NULL;
	enum err rc = vault_audit_open(dir, 0, &log, e);

	if (!rc)
		rc = vault_unseal_bind(log, s->request, served, e);
	vault_audit_close(log);
	free(dir);
	return rc;
}

char *cli_sealed_served(const char *store_path, int64_t run_id)
{
	char *path = store_path ? xstrdup(store_path) : store_default_path();
	char *real = store_is_pg(path) ? store_display_name(path) :
		     realpath(path, NULL);
	char *s = xasprintf("%lld@%s", (long long)run_id, real ? real : path);

	free(real);
	free(path);
	return s;
}

const char *cli_sealed_digest(const struct sealed *s)
{
	return s->archive->digest;
}

static int archive_index(const struct vault_archive *a, const char *id)
{
	for (size_t i = 0; i < a->ntasks; i++)
		if (!strcmp(a->tasks[i].id, id))
			return (int)i;
	return -1;
}

/* Every task of suite wrapped to pub, into the store. */
static enum err wrap_for(const struct sealed *s, const struct suite *suite,
			 struct store *st, int64_t run_id, const char *pub,
			 struct errmsg *e)
{
	unsigned char w[VAULT_WORKER_WRAP_LEN];
	char hex[2 * VAULT_WORKER_WRAP_LEN + 1];
	enum err rc = store_worker_key_add(st, run_id, pub, e);

	for (size_t i = 0; !rc && i < suite->n_tasks; i++) {
		int k = archive_index(s->archive, suite->tasks[i]->id);
		if (k < 0)
			return err_set(e, ERR_INVAL, "task '%s' is not in the "
				       "archive", suite->tasks[i]->id);
		rc = vault_task_key_wrap(s->archive, s->content, (size_t)k, pub,
					 w, e);
		if (!rc) {
			hex_encode(w, sizeof(w), hex);
			rc = store_wrapped_key_put(st, run_id, pub, k,
						   suite->tasks[i]->id, hex, e);
		}
	}
	return rc;
}

static enum err audit_keys(const struct sealed *s, int64_t run_id,
			   const char *const *pubs, size_t n,
			   size_t ntasks, struct errmsg *e)
{
	char *dir = cli_audit_dir(NULL);
	enum err rc = ERR_OK;

	for (size_t i = 0; !rc && i < n; i++) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_I("run", run_id),
			VAULT_AUDIT_S("suite", s->archive->digest),
			VAULT_AUDIT_S("key", pubs[i]),
			VAULT_AUDIT_I("tasks", ntasks),
		};
		rc = vault_audit_record(dir, "worker.key", f, ARRAY_SIZE(f), e);
	}
	free(dir);
	return rc;
}

enum err cli_sealed_register_workers(const struct sealed *s,
				     const struct suite *suite,
				     struct store *st, int64_t run_id,
				     const char *const *pubs, size_t n,
				     struct errmsg *e)
{
	enum err rc = store_tx_begin(st, e);

	if (!rc)
		rc = store_run_set_sealed(st, run_id, s->archive->digest, e);
	for (size_t i = 0; !rc && i < n; i++)
		rc = wrap_for(s, suite, st, run_id, pubs[i], e);
	if (!rc)
		rc = store_tx_commit(st, e);
	else
		store_tx_rollback(st);
	/* audited once stored: a registration that failed gave nothing */
	return rc ? rc : audit_keys(s, run_id, pubs, n, suite->n_tasks, e);
}

void cli_sealed_close(struct sealed *s, struct suite *suite)
{
	task_suite_free(suite);     /* tasks first: they borrow the content */
	if (!s)
		return;
	if (s->carried)
		engine_images_carry_end();
	for (size_t i = 0; i < s->n_tasks; i++)
		free(s->files[i]);
	free(s->files);
	vault_suite_content_free(s->content);
	vault_archive_free(s->archive);
	free(s);
}
