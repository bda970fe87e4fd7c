/*
 * cmd_audit.c - `assay audit`: read the audit log, emit proofs, sign
 * checkpoints.
 *
 *   assay audit log [--log DIR] [--from N]
 *   assay audit proof --inclusion INDEX [--size N] [--log DIR] [-o FILE]
 *   assay audit proof --consistency OLD [--size N] [--log DIR] [-o FILE]
 *   assay audit checkpoint --key KEY [--origin NAME] [--log DIR]
 *
 * The log is --log, else $ASSAY_AUDIT_LOG, else $ASSAY_HOME/audit, else
 * ~/.assay/audit. Proofs default to the size of the stored checkpoint, so
 * they can be checked offline against it (`assay verify audit --proof`).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/vault.h"

struct aopts {
	const char *log;
	const char *key;
	const char *pass_file;
	const char *origin;
	const char *out;
	long long from, size, inclusion, consistency;
};

enum { O_LOG = 256, O_FROM, O_SIZE, O_INC, O_CONS, O_KEY, O_PASS, O_ORIGIN };

static const struct option aopts_long[] = {
	{ "log", required_argument, NULL, O_LOG },
	{ "from", required_argument, NULL, O_FROM },
	{ "size", required_argument, NULL, O_SIZE },
	{ "inclusion", required_argument, NULL, O_INC },
	{ "consistency", required_argument, NULL, O_CONS },
	{ "key", required_argument, NULL, O_KEY },
	{ "passphrase-file", required_argument, NULL, O_PASS },
	{ "origin", required_argument, NULL, O_ORIGIN },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("usage: assay audit log [--log DIR] [--from N]\n"
	      "       assay audit proof --inclusion INDEX | --consistency OLD "
	      "[--size N] [--log DIR] [-o FILE]\n"
	      "       assay audit checkpoint --key KEY [--origin NAME] "
	      "[--log DIR]\n", stderr);
}

static bool num(const char *s, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

static int parse(int argc, char **argv, struct aopts *o)
{
	int c, bad = 0;

	memset(o, 0, sizeof(*o));
	o->size = o->inclusion = o->consistency = -1;
	optind = 0;
	while (!bad && (c = getopt_long(argc, argv, "o:h", aopts_long,
					NULL)) != -1) {
		switch (c) {
		case O_LOG: o->log = optarg; break;
		case O_FROM: bad = !num(optarg, &o->from); break;
		case O_SIZE: bad = !num(optarg, &o->size); break;
		case O_INC: bad = !num(optarg, &o->inclusion); break;
		case O_CONS: bad = !num(optarg, &o->consistency); break;
		case O_KEY: o->key = optarg; break;
		case O_PASS: o->pass_file = optarg; break;
		case O_ORIGIN: o->origin = optarg; break;
		case 'o': o->out = optarg; break;
		default: bad = 1; break;
		}
	}
	if (bad || optind != argc) {
		usage();
		return -1;
	}
	return 0;
}

static int fail(struct errmsg *e)
{
	cli_error("%s", e->text);
	return cli_exit_for(e->code);
}

static enum err open_log(const struct aopts *o, unsigned flags,
			 struct vault_audit **log, struct errmsg *e)
{
	char *dir = o->log ? xstrdup(o->log)
			   : vault_home_path("audit", "ASSAY_AUDIT_LOG");
	enum err rc = vault_audit_open(dir, flags, log, e);

	free(dir);
	return rc;
}

static int audit_log(int argc, char **argv)
{
	struct aopts o;
	struct vault_audit *log;
	struct errmsg e;
	struct buf b;
	enum err rc = ERR_OK;

	if (parse(argc, argv, &o))
		return EXIT_USAGE;
	if (open_log(&o, VAULT_AUDIT_READONLY, &log, &e))
		return fail(&e);
	buf_init(&b, VAULT_AUDIT_ENTRY_MAX + 1);
	for (uint64_t i = (uint64_t)o.from; !rc && i < vault_audit_size(log); i++) {
		buf_reset(&b);
		rc = vault_audit_entry(log, i, &b, &e);
		if (!rc)
			fwrite(b.data, 1, b.len, stdout);
	}
	buf_release(&b);
	vault_audit_close(log);
	return rc ? fail(&e) : EXIT_OK;
}

/* The stored checkpoint's size, or the log's size without one. */
static uint64_t default_size(struct vault_audit *log)
{
	const char *cp = vault_audit_checkpoint_path(log);
	struct vault_checkpoint c;
	struct errmsg e;
	char *data;
	size_t len;
	uint64_t n = vault_audit_size(log);

	if (path_exists(cp) && file_read(cp, VAULT_NOTE_MAX, &data, &len, &e) == ERR_OK) {
		if (vault_checkpoint_parse(data, len, &c, &e) == ERR_OK && c.size <= n)
			n = c.size;
		free(data);
	}
	return n;
}

static enum err make_proof(struct vault_audit *log, const struct aopts *o,
			   struct vault_proof *p, struct errmsg *e)
{
	memset(p, 0, sizeof(*p));
	p->size = o->size >= 0 ? (uint64_t)o->size : default_size(log);
	if (o->inclusion >= 0) {
		enum err rc;
		p->kind = VAULT_PROOF_INCLUSION;
		p->a = (uint64_t)o->inclusion;
		rc = vault_audit_leaf(log, p->a, p->leaf, e);
		return rc ? rc : vault_audit_inclusion(log, p->a, p->size,
						       p->hashes, &p->len, e);
	}
	p->kind = VAULT_PROOF_CONSISTENCY;
	p->a = (uint64_t)o->consistency;
	return vault_audit_consistency(log, p->a, p->size, p->hashes, &p->len, e);
}

static int audit_proof(int argc, char **argv)
{
	struct aopts o;
	struct vault_audit *log;
	struct vault_proof *p;
	struct errmsg e;
	struct buf b;
	enum err rc;

	if (parse(argc, argv, &o))
		return EXIT_USAGE;
	if ((o.inclusion >= 0) == (o.consistency >= 0)) {
		cli_error("give one of --inclusion INDEX or --consistency OLD");
		return EXIT_USAGE;
	}
	if (open_log(&o, VAULT_AUDIT_READONLY, &log, &e))
		return fail(&e);
	p = xmalloc(sizeof(*p));
	buf_init(&b, 1 << 20);
	rc = make_proof(log, &o, p, &e);
	if (!rc && vault_proof_format(p, &b))
		rc = err_set(&e, ERR_LIMIT, "proof too large");
	if (!rc && o.out)
		rc = file_write_atomic(o.out, b.data, b.len, 0644, &e);
	else if (!rc)
		fputs(b.data, stdout);
	buf_release(&b);
	free(p);
	vault_audit_close(log);
	return rc ? fail(&e) : EXIT_OK;
}

static int audit_checkpoint(int argc, char **argv)
{
	struct aopts o;
	struct vault_audit *log = NULL;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf note;
	enum err rc;

	if (parse(argc, argv, &o))
		return EXIT_USAGE;
	if (!o.key) {
		usage();
		return EXIT_USAGE;
	}
	buf_init(&note, VAULT_NOTE_MAX);
	rc = cli_seckey_open(o.key, NULL, o.pass_file, &k, &e);
	if (!rc)
		rc = open_log(&o, 0, &log, &e);
	if (!rc)
		rc = vault_audit_checkpoint(log, o.origin, k, &note, &e);
	if (!rc)
		fputs(note.data, stdout);
	buf_release(&note);
	vault_audit_close(log);
	vault_seckey_free(k);
	return rc ? fail(&e) : EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} subs[] = {
	{ "log", audit_log },
	{ "proof", audit_proof },
	{ "checkpoint", audit_checkpoint },
};

int cmd_audit(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	cli_error("unknown audit command '%s'", argv[1]);
	usage();
	return EXIT_USAGE;
}
