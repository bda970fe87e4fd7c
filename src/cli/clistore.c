/*
 * clistore.c - open the journal the way every command must: with the
 * at-rest codec set, so transcripts are sealed on write and opened on read.
 */
#include "cli/cmd.h"

#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "policy/policy.h"
#include "report/report.h"
#include "store/store.h"
#include "vault/atrest.h"
#include "base/banned.h"

static struct vault_atrest *key;   /* one per process, wiped at exit */

static void drop_key(void)
{
	vault_atrest_free(key);
	key = NULL;
}

static char *seal(void *arg, const char *ad, const char *plain)
{
	return vault_atrest_seal(arg, ad, plain);
}

static enum err open_text(void *arg, const char *ad, const char *text,
			  char **plain_out, struct errmsg *e)
{
	return vault_atrest_open(arg, ad, text, plain_out, e);
}

enum err cli_store_open(const char *path, struct store **st_out,
			struct errmsg *e)
{
	char *p = path ? xstrdup(path) : store_default_path();
	struct store_codec codec = { seal, open_text, NULL };
	enum err rc;

	if (!key) {
		if ((rc = vault_atrest_load(NULL, &key, e))) {
			free(p);
			return rc;
		}
		atexit(drop_key);
	}
	rc = store_open(p, st_out, e);
	free(p);
	if (rc)
		return rc;
	codec.arg = key;
	store_set_codec(*st_out, &codec);
	return ERR_OK;
}

/* A command that only reads (or amends) the journal never creates one: the
 * default journal that does not exist yet is a usage error, as an explicit
 * --store that does not exist is (CLI_OPT_STORE_READ). */
enum err cli_store_open_read(const char *path, struct store **st_out,
			     struct errmsg *e)
{
	char *p = path ? xstrdup(path) : store_default_path();
	enum err rc;

	if (!store_is_pg(p) && !path_exists(p))
		rc = err_set(e, ERR_NOTFOUND, "no journal at '%s' yet (assay run "
			     "creates it; or give --store PATH)", p);
	else
		rc = cli_store_open(p, st_out, e);
	free(p);
	return rc;
}

int cli_policy_resolve(const char *arg, char **path_out)
{
	char *found;

	*path_out = NULL;
	if (!arg) {
		if (!(found = policy_default_path()))
			return cli_fail(EXIT_USAGE, "no default policy found "
					"(looked in $ASSAY_SOURCE_DIR/policies and "
					"beside the binary); pass --policy FILE");
	} else if (strchr(arg, '/') || path_exists(arg)) {
		found = xstrdup(arg);
	} else if (!(found = policy_shipped_path(arg))) {
		return cli_fail(EXIT_USAGE, "policy '%s' is neither a file nor a "
				"shipped policy (policies/NAME.yaml)", arg);
	}
	*path_out = found;
	return 0;
}
