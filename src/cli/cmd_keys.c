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
 *
 * Keys live in --dir, else $ASSAY_KEYS, else $ASSAY_HOME/keys, else
 * ~/.assay/keys. Secret keys are encrypted under the passphrase from
 * $ASSAY_PASSPHRASE or --passphrase-file unless --plain (a 0600 file).
 * Every key use is appended to the audit log ($ASSAY_AUDIT_LOG, ...).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "vault/approve.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/seal.h"
#include "vault/sign.h"
#include "vault/vault.h"

struct kopts {
	const char *dir;
	const char *key;
	const char *pass_file;
	const char *out;
	const char *archive;
	const char *comment;
	const char *log;
	int custodian;
	int plain;
	int note;
};

enum { O_DIR = 256, O_PASSFILE, O_ARCHIVE, O_TC, O_LOG };

static const struct option kopts_long[] = {
	{ "dir", required_argument, NULL, O_DIR },
	{ "key", required_argument, NULL, 'k' },
	{ "passphrase-file", required_argument, NULL, O_PASSFILE },
	{ "output", required_argument, NULL, 'o' },
	{ "archive", required_argument, NULL, O_ARCHIVE },
	{ "trusted-comment", required_argument, NULL, O_TC },
	{ "log", required_argument, NULL, O_LOG },
	{ "custodian", no_argument, NULL, 'c' },
	{ "plain", no_argument, NULL, 'p' },
	{ "note", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("usage: assay keys create NAME [--custodian] [--dir D] [--plain] "
	      "[--passphrase-file F]\n"
	      "       assay keys list [--dir D]\n"
	      "       assay keys export NAME [--dir D] [--note]\n"
	      "       assay keys approve REQUEST --archive S.assay --key K "
	      "[-o FILE]\n"
	      "       assay keys sign STATEMENT.json --key K -o RESULT.json\n"
	      "       assay keys cosign RESULT.json --key K\n"
	      "       assay keys minisign FILE --key K [--trusted-comment T]\n",
	      stderr);
}

/* Parse options; returns the index of the first operand or -1. */
static int parse(int argc, char **argv, struct kopts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	while ((c = getopt_long(argc, argv, "k:o:h", kopts_long, NULL)) != -1) {
		switch (c) {
		case O_DIR: o->dir = optarg; break;
		case 'k': o->key = optarg; break;
		case O_PASSFILE: o->pass_file = optarg; break;
		case 'o': o->out = optarg; break;
		case O_ARCHIVE: o->archive = optarg; break;
		case O_TC: o->comment = optarg; break;
		case O_LOG: o->log = optarg; break;
		case 'c': o->custodian = 1; break;
		case 'p': o->plain = 1; break;
		case 'n': o->note = 1; break;
		default: usage(); return -1;
		}
	}
	return optind;
}

static int fail(struct errmsg *e)
{
	cli_error("%s", e->text);
	return cli_exit_for(e->code);
}

/* Record a key use; a log that cannot be written fails the command. */
static enum err audit(const struct kopts *o, const char *kind,
		      const struct vault_audit_field *f, size_t nf,
		      struct errmsg *e)
{
	char *dir = o->log ? xstrdup(o->log)
			   : vault_home_path("audit", "ASSAY_AUDIT_LOG");
	enum err rc = vault_audit_record(dir, kind, f, nf, e);

	free(dir);
	return rc ? err_prefix(e, "audit log") : ERR_OK;
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

static int keys_create(int argc, char **argv)
{
	struct kopts o;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf pub;
	char *dir, *kp = NULL, *pp = NULL, *pass = NULL, id[17];
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc) {
		usage();
		return EXIT_USAGE;
	}
	dir = keys_dir(&o);
	rc = o.plain ? ERR_OK : vault_passphrase_read(o.pass_file, &pass, &e);
	if (rc == ERR_NOTFOUND)
		rc = err_set(&e, ERR_INVAL, "no passphrase: set ASSAY_PASSPHRASE,"
			     " use --passphrase-file, or --plain for a 0600 "
			     "key file");
	if (!rc)
		rc = mkdir_p(dir, 0700, &e);
	if (!rc)
		rc = vault_key_generate(o.custodian ? VAULT_KEY_CUSTODIAN
				       : VAULT_KEY_SIGN, argv[i], &k, &e);
	buf_init(&pub, 4096);
	if (!rc) {
		kp = xasprintf("%s/%s.key", dir, argv[i]);
		pp = xasprintf("%s/%s.pub", dir, argv[i]);
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
		printf("created %s key '%s' (id %s)\n  secret: %s (%s)\n"
		       "  public: %s\n", o.custodian ? "custodian" : "signing",
		       argv[i], id, kp, pass ? "argon2id passphrase" : "plain, 0600",
		       pp);
	}
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("key", argv[i]),
			VAULT_AUDIT_S("keyid", id),
			VAULT_AUDIT_S("kind", o.custodian ? "custodian" : "sign"),
		};
		rc = audit(&o, "key-create", f, ARRAY_SIZE(f), &e);
	}
	vault_passphrase_free(pass);
	vault_seckey_free(k);
	buf_release(&pub);
	free(dir);
	free(kp);
	free(pp);
	return rc ? fail(&e) : EXIT_OK;
}

static int keys_list(int argc, char **argv)
{
	struct kopts o;
	char *dir;
	DIR *d;
	struct dirent *de;
	int i = parse(argc, argv, &o);

	if (i < 0 || i != argc) {
		usage();
		return EXIT_USAGE;
	}
	dir = keys_dir(&o);
	d = opendir(dir);
	if (!d) {
		cli_error("cannot open key directory '%s'", dir);
		free(dir);
		return EXIT_RUNTIME;
	}
	printf("%-24s %-10s %-16s %s\n", "NAME", "KIND", "KEY ID", "SECRET");
	while ((de = readdir(d)) != NULL) {
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
			printf("%-24s %-10s %-16s %s\n", pub.name,
			       vault_key_kind_name(pub.kind), id,
			       path_exists(sk) ? "yes" : "no");
		} else {
			cli_error("%s", e.text);
		}
		free(p);
		free(sk);
	}
	closedir(d);
	free(dir);
	return EXIT_OK;
}

static int keys_export(int argc, char **argv)
{
	struct kopts o;
	struct vault_pubkey pub;
	struct errmsg e;
	struct buf b;
	char *dir, *p;
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc) {
		usage();
		return EXIT_USAGE;
	}
	dir = keys_dir(&o);
	p = strchr(argv[i], '/') ? xstrdup(argv[i])
				 : xasprintf("%s/%s.pub", dir, argv[i]);
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
	return rc ? fail(&e) : EXIT_OK;
}

static void show_request(const struct vault_archive *a, const char *text,
			 size_t len)
{
	struct vault_request r;
	struct errmsg e;
	char when[40];

	if (vault_request_parse(text, len, &r, &e))
		return;
	iso8601(r.expires * 1000, when, sizeof(when));
	fprintf(stderr, "approving unseal of suite '%s' (%s)\n  run: %s\n"
		"  reason: %s\n  expires: %s\n", a->suite_id, a->digest, r.run,
		r.reason, when);
	vault_request_release(&r);
}

static int keys_approve(int argc, char **argv)
{
	struct kopts o;
	struct vault_archive *a = NULL;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf out;
	char *req = NULL;
	size_t rlen = 0;
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc || !o.archive || !o.key) {
		usage();
		return EXIT_USAGE;
	}
	buf_init(&out, 1 << 16);
	rc = file_read(argv[i], 16384, &req, &rlen, &e);
	if (!rc)
		rc = vault_archive_open(o.archive, &a, &e);
	if (!rc)
		rc = cli_seckey_open(o.key, o.dir, o.pass_file, &k, &e);
	if (!rc) {
		show_request(a, req, rlen);
		rc = vault_approve(a, req, rlen, k, (int64_t)time(NULL), &out, &e);
		if (rc)
			rc = err_prefix(&e, "request '%s'", argv[i]);
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
		rc = audit(&o, "approve", f, ARRAY_SIZE(f), &e);
	}
	buf_release(&out);
	free(req);
	vault_seckey_free(k);
	vault_archive_free(a);
	return rc ? fail(&e) : EXIT_OK;
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

static int keys_sign_common(int argc, char **argv, enum sign_mode m)
{
	struct kopts o;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf out;
	char *data = NULL, *dest = NULL, digest[65];
	size_t len = 0;
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc || !o.key || (m == SIGN_NEW && !o.out)) {
		usage();
		return EXIT_USAGE;
	}
	buf_init(&out, VAULT_DSSE_MAX * 2);
	rc = file_read(argv[i], VAULT_DSSE_MAX, &data, &len, &e);
	if (!rc)
		rc = cli_seckey_open(o.key, o.dir, o.pass_file, &k, &e);
	if (!rc)
		rc = make_sig(m, &o, data, len, k, &out, &e);
	if (!rc) {
		dest = m == SIGN_NEW ? xstrdup(o.out)
		       : m == SIGN_CO ? xstrdup(argv[i])
				      : xasprintf("%s.minisig", argv[i]);
		if (m == SIGN_CO)
			rc = file_write_atomic(dest, out.data, out.len, 0644, &e);
		else
			rc = write_text(dest, &out, 0644, &e);
	}
	if (!rc) {
		vault_sha256_hex(data, len, digest);
		printf("wrote %s\n", dest);
	}
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("key", vault_seckey_public(k)->name),
			VAULT_AUDIT_S("sha256", digest),
			VAULT_AUDIT_S("as", m == SIGN_NEW ? "dsse"
				      : m == SIGN_CO ? "dsse-cosign" : "minisign"),
		};
		rc = audit(&o, "sign", f, ARRAY_SIZE(f), &e);
	}
	buf_release(&out);
	free(data);
	free(dest);
	vault_seckey_free(k);
	return rc ? fail(&e) : EXIT_OK;
}

static int keys_sign(int argc, char **argv)
{
	return keys_sign_common(argc, argv, SIGN_NEW);
}

static int keys_cosign(int argc, char **argv)
{
	return keys_sign_common(argc, argv, SIGN_CO);
}

static int keys_minisign(int argc, char **argv)
{
	return keys_sign_common(argc, argv, SIGN_MINI);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} subs[] = {
	{ "create", keys_create },   { "list", keys_list },
	{ "export", keys_export },   { "approve", keys_approve },
	{ "sign", keys_sign },       { "cosign", keys_cosign },
	{ "minisign", keys_minisign },
};

int cmd_keys(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	cli_error("unknown keys command '%s'", argv[1]);
	usage();
	return EXIT_USAGE;
}
