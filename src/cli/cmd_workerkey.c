/*
 * cmd_workerkey.c - workers' own key pairs, listed by `assay keys`:
 *
 *   assay keys worker-new FILE     FILE (secret, 0600) and FILE.pub; the
 *                                  public key printed on stdout
 *   assay keys worker-revoke PUB --store URL [--run RUN]
 *
 * A sealed run queued for workers wraps its task keys only to the public
 * keys its coordinator registered (assay run --worker-key, sealed.c);
 * revoking a key marks it revoked and deletes its wrapped keys, so its
 * worker claims nothing more of those runs (store_queue_claim) and can
 * unwrap nothing (the keys are gone). Both are audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "vault/worker.h"
#include "base/banned.h"

enum { WN_LOG };

static const struct cli_opt new_table[] = {
	[WN_LOG] = CLI_OPT_LOG,
};

static int record(const char *log, const char *kind,
		  const struct vault_audit_field *f, size_t n)
{
	char *dir = cli_audit_dir(log);
	struct errmsg e;
	enum err rc = vault_audit_record(dir, kind, f, n, &e);

	free(dir);
	return rc ? cli_fail(EXIT_RUNTIME, "audit log: %s", e.text) : 0;
}

static int worker_new(const struct cli_args *a)
{
	const char *path = a->pos[0];
	char *pubpath = xasprintf("%s.pub", path), *line;
	struct vault_worker_key *k = NULL;
	struct errmsg e;
	enum err rc = path_exists(pubpath)
		? err_set(&e, ERR_INVAL, "'%s' already exists", pubpath)
		: vault_worker_key_generate(&k, &e);
	int x = 0;

	if (!rc)
		rc = vault_worker_key_save(k, path, &e);
	line = k ? xasprintf("%s\n", vault_worker_key_public(k)) : NULL;
	if (!rc)
		rc = file_write_atomic(pubpath, line, strlen(line), 0644, &e);
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("key", vault_worker_key_public(k)),
		};
		x = record(cli_str(a, WN_LOG), "worker.keygen", f, ARRAY_SIZE(f));
		fputs(line, stdout);
	}
	free(line);
	free(pubpath);
	vault_worker_key_free(k);
	return rc ? cli_fail_err(&e) : x;
}

enum { WR_STORE, WR_RUN, WR_LOG };

static const struct cli_opt revoke_table[] = {
	[WR_STORE] = CLI_OPT_STORE_READ,
	[WR_RUN] = { "run", 0, CLI_INT, "RUN", NULL, "revoke it for this run "
		"only (default: for every run it is registered for)",
		.lo = 1, .hi = INT64_MAX },
	[WR_LOG] = CLI_OPT_LOG,
};

/* PUB: the key itself or its .pub file. */
static enum err pub_from_arg(const char *arg, char canon[VAULT_WORKER_PUB_SIZE],
			     struct errmsg *e)
{
	char *text;
	size_t len;
	enum err rc;

	if (!strncmp(arg, VAULT_WORKER_PUB_PREFIX, strlen(VAULT_WORKER_PUB_PREFIX)))
		return vault_worker_pub_parse(arg, strlen(arg), canon, e);
	if ((rc = file_read(arg, 4096, &text, &len, e)))
		return rc;
	rc = vault_worker_pub_parse(text, len, canon, e);
	free(text);
	return rc ? err_prefix(e, "'%s'", arg) : ERR_OK;
}

static int worker_revoke(const struct cli_args *a)
{
	char pub[VAULT_WORKER_PUB_SIZE];
	int64_t run = cli_given(a, WR_RUN) ? cli_int(a, WR_RUN) : 0;
	struct store *st = NULL;
	struct errmsg e;
	int n = 0, x;

	if (pub_from_arg(a->pos[0], pub, &e) != ERR_OK)
		return cli_fail(EXIT_USAGE, "%s", e.text);
	if (cli_store_open(cli_str(a, WR_STORE), &st, &e) != ERR_OK ||
	    store_worker_key_revoke(st, run, pub, &n, &e) != ERR_OK) {
		store_close(st);
		return cli_fail_err(&e);
	}
	store_close(st);
	{
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("key", pub),
			VAULT_AUDIT_I("run", run),
			VAULT_AUDIT_I("runs", n),
		};
		if ((x = record(cli_str(a, WR_LOG), "worker.revoke", f,
				ARRAY_SIZE(f))))
			return x;
	}
	if (!n)
		return cli_fail(EXIT_USAGE, "worker key %.32s... is not registered "
				"(or already revoked) for %s", pub,
				run ? "that run" : "any run");
	if (!a->quiet)
		fprintf(stderr, "assay: worker key %.32s... revoked for %d run%s\n",
			pub, n, n == 1 ? "" : "s");
	return 0;
}

const struct cli_cmd cli_cmd_keys_worker_new = {
	.name = "worker-new",
	.summary = "create a worker's key pair (sealed runs on workers)",
	.operands = "FILE", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(new_table),
	.run = worker_new,
	.notes = "Writes FILE (the secret key, mode 0600) and FILE.pub, and "
		 "prints the public key:\ngive it to the coordinator "
		 "('assay run --worker-key') and FILE to the worker\n"
		 "('assay worker --key FILE').\n",
};

const struct cli_cmd cli_cmd_keys_worker_revoke = {
	.name = "worker-revoke",
	.summary = "revoke a worker's key: it claims and unwraps nothing more",
	.operands = "PUB|FILE", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(revoke_table),
	.run = worker_revoke,
};
