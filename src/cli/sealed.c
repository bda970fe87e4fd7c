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
	if (s->carried)
		engine_images_carry_end();
	for (size_t i = 0; i < s->n_tasks; i++)
		free(s->files[i]);
	free(s->files);
	vault_suite_content_free(s->content);
	vault_archive_free(s->archive);
	free(s);
}
