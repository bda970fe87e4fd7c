/*
 * sealed.c - run a sealed suite: unseal with custodian approvals into
 * locked memory, load each task from memory, wipe it all afterwards.
 */
#include "cli/sealed.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cli/keyref.h"
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
};

bool cli_sealed_is_archive(const char *path)
{
	size_t n = strlen(path);

	return !is_dir(path) && !(n > 5 && !strcmp(path + n - 5, ".yaml")) &&
	       !(n > 4 && !strcmp(path + n - 4, ".yml"));
}

static enum err read_approvals(const struct sealed_opts *o,
			       struct vault_approval_in *in, struct errmsg *e)
{
	for (size_t i = 0; i < o->n_approvals; i++) {
		char *text;
		size_t len;
		enum err rc = file_read(o->approvals[i], 65536, &text, &len, e);
		if (rc)
			return rc;
		in[i].name = o->approvals[i];
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
		rc = read_approvals(o, in, e);
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

		s->files[i] = xcalloc(t->nfiles + 1, sizeof(**s->files));
		for (size_t f = 0; f < t->nfiles; f++) {
			s->files[i][f].path = t->files[f].path;
			s->files[i][f].mode = t->files[f].mode;
			s->files[i][f].data = t->files[f].data;
			s->files[i][f].len = t->files[f].len;
		}
		rc = task_load_mem(name, s->files[i], t->nfiles,
				   &suite->tasks[suite->n_tasks], e);
		free(name);
		if (rc)
			return rc;
		suite->n_tasks++;
	}
	return ERR_OK;
}

enum err cli_sealed_open(const char *path, const struct sealed_opts *o,
			 struct suite **suite_out, struct sealed **s_out,
			 struct errmsg *e)
{
	struct sealed *s = xcalloc(1, sizeof(*s));
	struct suite *suite = xcalloc(1, sizeof(*suite));
	enum err rc = unseal(s, path, o, e);

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

void cli_sealed_close(struct sealed *s, struct suite *suite)
{
	task_suite_free(suite);     /* tasks first: they borrow the content */
	if (!s)
		return;
	for (size_t i = 0; i < s->n_tasks; i++)
		free(s->files[i]);
	free(s->files);
	vault_suite_content_free(s->content);
	vault_archive_free(s->archive);
	free(s);
}
