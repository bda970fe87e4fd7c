/*
 * cmd_keys.c - `assay keys`: create, list and export keys; custodians
 * approve unseal requests; evaluators and admins sign results.
 *
 *   assay keys create NAME [--custodian] [--dir D] [--plain]
 *                          [--passphrase-file F]
 *   assay keys list [--dir D]
 *   assay keys export NAME [--dir D] [--note]
 *   assay keys approve REQUEST --archive S.assay --key K [-o FILE]
 *   assay keys sign STATEMENT.json --key K -o RESULT.json
 *   assay keys cosign RESULT.json --key K
 *   assay keys minisign FILE --key K [--trusted-comment T]
 *   assay keys worker-new FILE, worker-revoke PUB (cmd_workerkey.c)
 *
 * Keys live in --dir, else $ASSAY_KEYS, else $ASSAY_HOME/keys, else
 * ~/.assay/keys. Secret keys are encrypted under the passphrase from
 * $ASSAY_PASSPHRASE or --passphrase-file unless --plain (a 0600 file).
 * Every key use is appended to the audit log ($ASSAY_AUDIT_LOG, ...).
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/safetext.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "cli/sealed.h"
#include "vault/approve.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/seal.h"
#include "vault/sign.h"
#include "vault/vault.h"
#include "base/banned.h"

struct kopts {
	const char *dir;
	const char *key;
	const char *pass_file;
	const char *out;
	const char *archive;
	const char *comment;
	const char *log;
	const char *sealer;
	int custodian;
	int plain;
	int note;
	int json;
};

#define O_DIR { "dir", 0, CLI_STR, "DIR", "$ASSAY_KEYS or $ASSAY_HOME/keys", \
	"the key directory", .flags = CLI_DOC_DEFAULT | CLI_PATH_DIR }
#define O_KEY(what) { "key", 'k', CLI_STR, "KEY", NULL, what, \
	.flags = CLI_REQUIRED }
#define O_AUDIT { "log", 0, CLI_STR, "DIR", "$ASSAY_AUDIT_LOG or " \
	"$ASSAY_HOME/audit", "the audit log the key use is recorded in", \
	.flags = CLI_DOC_DEFAULT }

static const struct cli_opt create_table[] = {
	{ "custodian", 'c', CLI_FLAG, NULL, NULL, "a custodian key (X25519, "
	  "approves unseals) instead of a signing key (Ed25519)", .flags = 0 },
	O_DIR,
	{ "plain", 'p', CLI_FLAG, NULL, NULL, "store the secret key "
	  "unencrypted (a 0600 file) instead of under a passphrase", .flags = 0 },
	CLI_OPT_PASSFILE,
	O_AUDIT,
};

static const struct cli_opt list_table[] = {
	O_DIR,
	CLI_OPT_JSON,
};

static const struct cli_opt export_table[] = {
	O_DIR,
	{ "note", 'n', CLI_FLAG, NULL, NULL, "print the signed-note verifier "
	  "key (for C2SP checkpoints) instead of the public key file", .flags = 0 },
};

static const struct cli_opt approve_table[] = {
	{ "archive", 0, CLI_STR, "S.assay", NULL, "the archive the request is "
	  "for", .flags = CLI_REQUIRED },
	O_KEY("the custodian's secret key"),
	CLI_OPT_PASSFILE,
	{ "output", 'o', CLI_STR, "FILE", NULL, "write the approval to FILE "
	  "(default: stdout)", .flags = CLI_DASH_STDOUT },
	SEALED_OPT_SEALER,
	O_AUDIT,
};

static const struct cli_opt sign_table[] = {
	O_KEY("the signer's secret key"),
	{ "output", 'o', CLI_STR, "RESULT.json", NULL, "the DSSE envelope to "
	  "write", .flags = CLI_REQUIRED },
	CLI_OPT_PASSFILE,
	O_AUDIT,
};

static const struct cli_opt cosign_table[] = {
	O_KEY("the co-signer's secret key"),
	CLI_OPT_PASSFILE,
	O_AUDIT,
};

static const struct cli_opt minisign_table[] = {
	O_KEY("the signer's secret key"),
	{ "trusted-comment", 0, CLI_STR, "TEXT", NULL, "the signed trusted "
	  "comment", .flags = 0 },
	CLI_OPT_PASSFILE,
	O_AUDIT,
};

/* The command's values into o (options it lacks read as unset). */
static void fill(const struct cli_args *a, struct kopts *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = cli_named_str(a, "dir");
	o->key = cli_named_str(a, "key");
	o->pass_file = cli_named_str(a, "passphrase-file");
	o->out = cli_named_str(a, "output");
	o->archive = cli_named_str(a, "archive");
	o->comment = cli_named_str(a, "trusted-comment");
	o->log = cli_named_str(a, "log");
	o->sealer = cli_named_str(a, "sealer");
	o->custodian = cli_named_flag(a, "custodian");
	o->plain = cli_named_flag(a, "plain");
	o->note = cli_named_flag(a, "note");
	o->json = cli_named_flag(a, "json");
}

static char *keys_dir(const struct kopts *o)
{
	return o->dir ? xstrdup(o->dir) : vault_home_path("keys", "ASSAY_KEYS");
}

static enum err write_text(const char *path, const struct buf *b, mode_t mode,
			   struct errmsg *e)
{
	if (path_exists(path))
		return err_set(e, ERR_INVAL, "'%s' already exists", path);
	return file_write_atomic(path, b->data, b->len, mode, e);
}

static int keys_create(const struct cli_args *args)
{
	struct kopts o;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf pub;
	char *dir, *kp = NULL, *pp = NULL, *pass = NULL, id[17];
	enum err rc;

	fill(args, &o);
	dir = keys_dir(&o);
	rc = o.plain ? ERR_OK : vault_passphrase_read(o.pass_file, &pass, &e);
	if (rc == ERR_NOTFOUND && !o.pass_file && !getenv("ASSAY_PASSPHRASE_FILE"))
		rc = err_set(&e, ERR_INVAL, "no passphrase: set ASSAY_PASSPHRASE,"
			     " use --passphrase-file, or --plain for a 0600 "
			     "key file");
	if (!rc)
		rc = mkdir_p(dir, 0700, &e);
	if (!rc)
		rc = vault_key_generate(o.custodian ? VAULT_KEY_CUSTODIAN
				       : VAULT_KEY_SIGN, args->pos[0], &k, &e);
	buf_init(&pub, 4096);
	if (!rc) {
		kp = xasprintf("%s/%s.key", dir, args->pos[0]);
		pp = xasprintf("%s/%s.pub", dir, args->pos[0]);
		rc = path_exists(pp) ? err_set(&e, ERR_INVAL, "'%s' already "
					      "exists", pp)
				     : vault_seckey_save(k, kp, pass, &e);
	}
	if (!rc && vault_pubkey_format(vault_seckey_public(k), &pub))
		rc = err_set(&e, ERR_LIMIT, "public key too large");
	if (!rc)
		rc = write_text(pp, &pub, 0644, &e);
	if (!rc) {
		vault_keyid_hex(vault_seckey_public(k)->keyid, id);
		cli_note("created %s key '%s' (id %s)\n  secret: %s (%s)\n"
		         "  public: %s\n", o.custodian ? "custodian" : "signing",
		         args->pos[0], id, kp, pass ? "argon2id passphrase" : "plain, 0600",
		         pp);
	}
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("key", args->pos[0]),
			VAULT_AUDIT_S("keyid", id),
			VAULT_AUDIT_S("kind", o.custodian ? "custodian" : "sign"),
		};
		rc = cli_audit_record(o.log, "key-create", f, ARRAY_SIZE(f), &e);
	}
	vault_passphrase_free(pass);
	vault_seckey_free(k);
	buf_release(&pub);
	free(dir);
	free(kp);
	free(pp);
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static int keys_list(const struct cli_args *args)
{
	struct kopts o;
	json_t *arr;
	char *dir;
	DIR *d;
	struct dirent *de;

	fill(args, &o);
	dir = keys_dir(&o);
	d = opendir(dir);
	if (!d && errno != ENOENT) {
		cli_error("cannot open key directory '%s': %s", dir,
			  strerror(errno));
		free(dir);
		return EXIT_RUNTIME;
	}
	if (!o.json)
		printf("%-24s %-10s %-16s %s\n", "NAME", "KIND", "KEY ID",
		       "SECRET");
	arr = json_array();
	/* no key directory yet (no key created): an empty list */
	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct vault_pubkey pub;
		struct errmsg e;
		char *p, *sk, id[17];
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub"))
			continue;
		p = path_join(dir, de->d_name);
		sk = xstrdup(p);
		memcpy(sk + strlen(sk) - 4, ".key", 4);
		if (vault_pubkey_load(p, &pub, &e) == ERR_OK) {
			vault_keyid_hex(pub.keyid, id);
			if (o.json)
				json_array_append_new(arr, json_pack("{s:s, s:s, "
					"s:s, s:b, s:s}", "name", pub.name, "kind",
					vault_key_kind_name(pub.kind), "key_id", id,
					"secret", path_exists(sk), "public", p));
			else
				printf("%-24s %-10s %-16s %s\n", pub.name,
				       vault_key_kind_name(pub.kind), id,
				       path_exists(sk) ? "yes" : "no");
		} else {
			cli_error("%s", e.text);
		}
		free(p);
		free(sk);
	}
	if (d)
		closedir(d);
	free(dir);
	if (o.json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	return EXIT_OK;
}

static int keys_export(const struct cli_args *args)
{
	struct kopts o;
	struct vault_pubkey pub;
	struct errmsg e;
	struct buf b;
	char *dir, *p;
	enum err rc;

	fill(args, &o);
	dir = keys_dir(&o);
	p = strchr(args->pos[0], '/') ? xstrdup(args->pos[0])
				 : xasprintf("%s/%s.pub", dir, args->pos[0]);
	rc = vault_pubkey_load(p, &pub, &e);
	buf_init(&b, 4096);
	if (!rc && (o.note ? vault_note_vkey(&pub, &b) || buf_addch(&b, '\n')
			   : vault_pubkey_format(&pub, &b)))
		rc = err_set(&e, ERR_LIMIT, "key too large");
	if (!rc)
		fputs(b.data, stdout);
	buf_release(&b);
	free(p);
	free(dir);
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static void show_request(const struct vault_archive *a, const char *text,
			 size_t len, bool pinned)
{
	struct vault_request r;
	struct errmsg e;
	char when[40], keyid[2 * VAULT_KEYID_LEN + 1];
	char *sid, *sname, *run, *why;
	struct buf pk;

	if (vault_request_parse(text, len, &r, &e))
		return;
	iso8601(r.expires * 1000, when, sizeof(when));
	hex_encode(a->sealer.keyid, VAULT_KEYID_LEN, keyid);
	buf_init(&pk, 4096);
	if (vault_pubkey_format(&a->sealer, &pk))
		buf_reset(&pk);
	/* what the custodian approves, all of it, before the approval:
	 * the suite by digest, who sealed it, for which run and why (the
	 * archive's and the request's strings escaped: safetext.h) */
	sid = safe_str(a->suite_id, 0);
	sname = safe_str(a->sealer.name, 0);
	run = safe_str(r.run, 0);
	why = safe_str(r.reason, 0);
	fprintf(stderr, "approving unseal of suite '%s'\n  digest: %s\n"
		"  sealed by: '%s' (key id %s)%s\n  sealer key: %.*s\n"
		"  run: %s\n  reason: %s\n  expires: %s\n", sid, a->digest,
		sname, keyid, pinned ? ", the key given with --sealer" :
		"; not pinned: check it is the key you expect, or give "
		"--sealer", (int)(pk.len && pk.data[pk.len - 1] == '\n' ?
		pk.len - 1 : pk.len), pk.data, run, why, when);
	free(sid);
	free(sname);
	free(run);
	free(why);
	buf_release(&pk);
	vault_request_release(&r);
}

/* --sealer: refuse to approve an archive another key sealed. */
static enum err check_sealer(const struct vault_archive *a, const char *sealer,
			     struct errmsg *e)
{
	struct vault_pubkey pin;
	enum err rc = cli_pubkey_load(sealer, NULL, &pin, e);

	return rc ? rc : vault_archive_check_signer(a, &pin, 1, e);
}

static int keys_approve(const struct cli_args *args)
{
	struct kopts o;
	struct vault_archive *a = NULL;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf out;
	char *req = NULL;
	size_t rlen = 0;
	enum err rc;

	fill(args, &o);
	buf_init(&out, 1 << 16);
	rc = file_read(args->pos[0], 16384, &req, &rlen, &e);
	if (!rc)
		rc = vault_archive_open(o.archive, &a, &e);
	if (!rc && o.sealer)
		rc = check_sealer(a, o.sealer, &e);
	if (!rc)
		rc = cli_seckey_open(o.key, o.dir, o.pass_file, &k, &e);
	if (!rc) {
		show_request(a, req, rlen, o.sealer != NULL);
		rc = vault_approve(a, req, rlen, k, (int64_t)time(NULL), &out, &e);
		if (rc)
			rc = err_prefix(&e, "request '%s'", args->pos[0]);
	}
	if (!rc && o.out)
		rc = write_text(o.out, &out, 0644, &e);
	else if (!rc)
		fputs(out.data, stdout);
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("custodian", vault_seckey_public(k)->name),
			VAULT_AUDIT_S("suite", a->digest),
		};
		rc = cli_audit_record(o.log, "approve", f, ARRAY_SIZE(f), &e);
	}
	buf_release(&out);
	free(req);
	vault_seckey_free(k);
	vault_archive_free(a);
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

/* sign, cosign and minisign share: load file and key, make, write. */
enum sign_mode { SIGN_NEW, SIGN_CO, SIGN_MINI };

static enum err make_sig(enum sign_mode m, const struct kopts *o,
			 const char *data, size_t len, struct vault_seckey *k,
			 struct buf *out, struct errmsg *e)
{
	switch (m) {
	case SIGN_NEW:
		return vault_dsse_sign(VAULT_DSSE_INTOTO, data, len, &k, 1, out, e);
	case SIGN_CO:
		return vault_dsse_cosign(data, len, k, out, e);
	case SIGN_MINI:
	default:
		return vault_minisign_sign(k, data, len, o->comment ? o->comment
					   : "assay signed result", out, e);
	}
}

/* A co-signature rewrites the envelope: a minisign signature of the old
 * bytes beside it no longer verifies (nor, by default, does the result). */
static void warn_stale_minisig(const char *result)
{
	char *sig = xasprintf("%s.minisig", result);

	if (path_exists(sig))
		cli_error("%s signed the envelope before this co-signature and no "
			  "longer verifies: remove it and sign again (assay keys "
			  "minisign %s --key KEY)", sig, result);
	free(sig);
}

static int keys_sign_common(const struct cli_args *args, enum sign_mode m)
{
	struct kopts o;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf out;
	char *data = NULL, *dest = NULL, digest[65];
	size_t len = 0;
	enum err rc;

	fill(args, &o);
	buf_init(&out, VAULT_DSSE_MAX * 2);
	rc = file_read(args->pos[0], VAULT_DSSE_MAX, &data, &len, &e);
	if (!rc)
		rc = cli_seckey_open(o.key, o.dir, o.pass_file, &k, &e);
	if (!rc)
		rc = make_sig(m, &o, data, len, k, &out, &e);
	if (!rc) {
		dest = m == SIGN_NEW ? xstrdup(o.out)
		       : m == SIGN_CO ? xstrdup(args->pos[0])
				      : xasprintf("%s.minisig", args->pos[0]);
		if (m == SIGN_CO)
			rc = file_write_atomic(dest, out.data, out.len, 0644, &e);
		else
			rc = write_text(dest, &out, 0644, &e);
	}
	if (!rc) {
		vault_sha256_hex(data, len, digest);
		cli_note("wrote %s\n", dest);
		if (m == SIGN_CO)
			warn_stale_minisig(dest);
	}
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("key", vault_seckey_public(k)->name),
			VAULT_AUDIT_S("sha256", digest),
			VAULT_AUDIT_S("as", m == SIGN_NEW ? "dsse"
				      : m == SIGN_CO ? "dsse-cosign" : "minisign"),
		};
		rc = cli_audit_record(o.log, "sign", f, ARRAY_SIZE(f), &e);
	}
	buf_release(&out);
	free(data);
	free(dest);
	vault_seckey_free(k);
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static int keys_sign(const struct cli_args *args)
{
	return keys_sign_common(args, SIGN_NEW);
}

static int keys_cosign(const struct cli_args *args)
{
	return keys_sign_common(args, SIGN_CO);
}

static int keys_minisign(const struct cli_args *args)
{
	return keys_sign_common(args, SIGN_MINI);
}

static const struct cli_cmd create_cmd = {
	.name = "create",
	.summary = "create a signing or custodian key pair",
	.operands = "NAME", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(create_table),
	.run = keys_create,
};

static const struct cli_cmd list_cmd = {
	.name = "list",
	.summary = "list the keys in the key directory",
	.max_pos = 0,
	CLI_OPTS(list_table),
	.run = keys_list,
};

static const struct cli_cmd export_cmd = {
	.name = "export",
	.summary = "print a public key (to pin on another machine)",
	.operands = "NAME|FILE", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(export_table),
	.run = keys_export,
};

static const struct cli_cmd approve_cmd = {
	.name = "approve",
	.summary = "approve an unseal request as a custodian",
	.operands = "REQUEST", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(approve_table),
	.run = keys_approve,
};

static const struct cli_cmd sign_cmd = {
	.name = "sign",
	.summary = "sign an in-toto statement into a DSSE envelope",
	.operands = "STATEMENT.json", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(sign_table),
	.run = keys_sign,
};

static const struct cli_cmd cosign_cmd = {
	.name = "cosign",
	.summary = "add a signature to a signed result",
	.operands = "RESULT.json", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(cosign_table),
	.run = keys_cosign,
};

static const struct cli_cmd minisign_cmd = {
	.name = "minisign",
	.summary = "write FILE.minisig, verifiable with minisign -V",
	.operands = "FILE", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(minisign_table),
	.run = keys_minisign,
};

static const struct cli_cmd *const keys_subs[] = {
	&create_cmd, &list_cmd, &export_cmd, &approve_cmd, &sign_cmd,
	&cosign_cmd, &minisign_cmd, &cli_cmd_keys_worker_new,
	&cli_cmd_keys_worker_revoke, NULL,
};

const struct cli_cmd cli_cmd_keys = {
	.name = "keys",
	.summary = "signing and custodian keys, unseal approvals, signatures",
	.subs = keys_subs,
	.notes = "Keys live in --dir, else $ASSAY_KEYS, else $ASSAY_HOME/keys, "
		 "else ~/.assay/keys.\nSecret keys are encrypted under the "
		 "passphrase from $ASSAY_PASSPHRASE or\n--passphrase-file unless "
		 "--plain. Every key use is recorded in the audit log.\n",
};
