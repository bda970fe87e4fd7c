/*
 * keyref.c - key names or paths on the command line (keyref.h).
 */
#include "cli/keyref.h"

#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/keys.h"
#include "vault/vault.h"
#include "vault/worker.h"
#include "base/banned.h"

char *cli_key_path(const char *arg, const char *ext, const char *dir,
		   struct errmsg *e)
{
	char *d, *p;

	if (strchr(arg, '/') || path_exists(arg))
		return xstrdup(arg);
	if (!vault_key_name_ok(arg)) {
		err_set(e, ERR_NOTFOUND, "key '%s': no such file, and not a key "
			"name", arg);
		return NULL;
	}
	d = dir ? xstrdup(dir) : vault_home_path("keys", "ASSAY_KEYS");
	p = xasprintf("%s/%s.%s", d, arg, ext);
	if (!path_exists(p)) {
		err_set(e, ERR_NOTFOUND, "key '%s': no such file, and no %s key "
			"'%s' in %s (see 'assay keys list')", arg,
			!strcmp(ext, "pub") ? "public" : "secret", arg, d);
		free(p);
		p = NULL;
	}
	free(d);
	return p;
}

enum err cli_seckey_open(const char *arg, const char *dir,
			 const char *passphrase_file,
			 struct vault_seckey **key_out, struct errmsg *e)
{
	char *path = cli_key_path(arg, "key", dir, e);
	enum err rc = path ? vault_seckey_open(path, passphrase_file, key_out,
					       e) : e->code;

	free(path);
	return rc;
}

enum err cli_pubkey_load(const char *arg, const char *dir,
			 struct vault_pubkey *out, struct errmsg *e)
{
	char *path = cli_key_path(arg, "pub", dir, e);
	enum err rc = path ? vault_pubkey_load(path, out, e) : e->code;

	free(path);
	return rc;
}

char *cli_audit_dir(const char *opt)
{
	return opt ? xstrdup(opt) : vault_home_path("audit", "ASSAY_AUDIT_LOG");
}

enum err cli_audit_record(const char *opt, const char *kind,
			  const struct vault_audit_field *f, size_t nf,
			  struct errmsg *e)
{
	char *dir = cli_audit_dir(opt);
	enum err rc = vault_audit_record(dir, kind, f, nf, e);

	free(dir);
	return rc ? err_prefix(e, "audit log") : ERR_OK;
}

static void keys_add(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

/* One --worker-key: a key, or a file of keys (one a line, '#' comments). */
static enum err worker_key_add(const char *arg, char ***v, size_t *n,
			       struct errmsg *e)
{
	char canon[VAULT_WORKER_PUB_SIZE], *text = NULL, *line, *save = NULL;
	size_t len;
	enum err rc;

	if (!strncmp(arg, VAULT_WORKER_PUB_PREFIX, strlen(VAULT_WORKER_PUB_PREFIX))) {
		if ((rc = vault_worker_pub_parse(arg, strlen(arg), canon, e)))
			return err_prefix(e, "--worker-key");
		keys_add(v, n, canon);
		return ERR_OK;
	}
	if ((rc = file_read(arg, 1 << 20, &text, &len, e)))
		return err_prefix(e, "--worker-key");
	for (line = strtok_r(text, "\n", &save); line && !rc;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!*line || *line == '#')
			continue;
		if (!(rc = vault_worker_pub_parse(line, strlen(line), canon, e)))
			keys_add(v, n, canon);
	}
	free(text);
	return rc ? err_prefix(e, "--worker-key '%s'", arg) : ERR_OK;
}

enum err cli_worker_keys(const char *const *args, size_t nargs,
			 char ***keys_out, size_t *n_out, struct errmsg *e)
{
	enum err rc;

	for (size_t i = 0; i < nargs; i++)
		if ((rc = worker_key_add(args[i], keys_out, n_out, e)))
			return rc;
	for (size_t i = 0; i < *n_out; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp((*keys_out)[i], (*keys_out)[j]))
				return err_set(e, ERR_INVAL, "--worker-key "
					       "%.32s... is given twice",
					       (*keys_out)[i]);
	return ERR_OK;
}
