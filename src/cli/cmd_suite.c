/*
 * cmd_suite.c - `assay suite`: seal a suite directory, list an archive's
 * metadata, ask custodians for an unseal, and check an unseal in memory.
 *
 *   assay suite seal DIR -o S.assay --custodian PUB... --threshold K
 *                        --sign KEY [--passphrase-file F]
 *   assay suite ls S.assay
 *   assay suite request S.assay --run RUN --reason TEXT [--expires-in SECS]
 *                        -o REQ          (writes REQ and REQ.key, 0600)
 *   assay suite unseal S.assay --request-key REQ.key --approval A...
 *                        [--run RUN]     (in memory; prints file digests)
 *
 * Seal and unseal are recorded in the audit log ($ASSAY_AUDIT_LOG or
 * --log). Task content is never printed or written by this command.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/seal.h"
#include "vault/vault.h"

#define MAX_MULTI 255

struct sopts {
	const char *out;
	const char *sign;
	const char *pass_file;
	const char *run;
	const char *reason;
	const char *request_key;
	const char *log;
	long threshold;
	long expires_in;
	size_t ncust, napp;
	const char *cust[MAX_MULTI];
	const char *app[MAX_MULTI];
};

enum { O_CUST = 256, O_THR, O_SIGN, O_PASS, O_RUN, O_REASON, O_EXP, O_RKEY,
       O_APP, O_LOG };

static const struct option sopts_long[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "custodian", required_argument, NULL, O_CUST },
	{ "threshold", required_argument, NULL, O_THR },
	{ "sign", required_argument, NULL, O_SIGN },
	{ "passphrase-file", required_argument, NULL, O_PASS },
	{ "run", required_argument, NULL, O_RUN },
	{ "reason", required_argument, NULL, O_REASON },
	{ "expires-in", required_argument, NULL, O_EXP },
	{ "request-key", required_argument, NULL, O_RKEY },
	{ "approval", required_argument, NULL, O_APP },
	{ "log", required_argument, NULL, O_LOG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("usage: assay suite seal DIR -o S.assay --custodian PUB... "
	      "--threshold K --sign KEY\n"
	      "       assay suite ls S.assay\n"
	      "       assay suite request S.assay --run RUN --reason TEXT "
	      "[--expires-in SECONDS] -o REQ\n"
	      "       assay suite unseal S.assay --request-key REQ.key "
	      "--approval FILE... [--run RUN]\n"
	      "       assay suite exposure S --developer D [--store PATH]\n",
	      stderr);
}

static bool num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int add_multi(const char **v, size_t *n, const char *arg)
{
	if (*n == MAX_MULTI)
		return -1;
	v[(*n)++] = arg;
	return 0;
}

static int parse_one(struct sopts *o, int c)
{
	switch (c) {
	case 'o': o->out = optarg; return 0;
	case O_CUST: return add_multi(o->cust, &o->ncust, optarg);
	case O_THR: return num(optarg, 1, 255, &o->threshold) ? 0 : -1;
	case O_SIGN: o->sign = optarg; return 0;
	case O_PASS: o->pass_file = optarg; return 0;
	case O_RUN: o->run = optarg; return 0;
	case O_REASON: o->reason = optarg; return 0;
	case O_EXP: return num(optarg, 1, 90L * 86400, &o->expires_in) ? 0 : -1;
	case O_RKEY: o->request_key = optarg; return 0;
	case O_APP: return add_multi(o->app, &o->napp, optarg);
	case O_LOG: o->log = optarg; return 0;
	default: return -1;
	}
}

static int parse(int argc, char **argv, struct sopts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->expires_in = 86400;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", sopts_long, NULL)) != -1) {
		if (parse_one(o, c)) {
			if (c != 'h')
				cli_error("bad option or value");
			usage();
			return -1;
		}
	}
	return optind;
}

static int fail(struct errmsg *e)
{
	cli_error("%s", e->text);
	return cli_exit_for(e->code);
}

static enum err audit(const struct sopts *o, const char *kind,
		      const struct vault_audit_field *f, size_t nf,
		      struct errmsg *e)
{
	char *dir = o->log ? xstrdup(o->log)
			   : vault_home_path("audit", "ASSAY_AUDIT_LOG");
	enum err rc = vault_audit_record(dir, kind, f, nf, e);

	free(dir);
	return rc ? err_prefix(e, "audit log") : ERR_OK;
}

static enum err load_custodians(const struct sopts *o,
				struct vault_pubkey *pubs, struct errmsg *e)
{
	for (size_t i = 0; i < o->ncust; i++) {
		enum err rc = cli_pubkey_load(o->cust[i], NULL, &pubs[i], e);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

static int suite_seal(int argc, char **argv)
{
	struct sopts o;
	struct vault_pubkey *pubs;
	struct vault_seal_opts so;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	char digest[65];
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc || !o.out || !o.sign || !o.ncust ||
	    !o.threshold) {
		usage();
		return EXIT_USAGE;
	}
	pubs = xcalloc(o.ncust, sizeof(*pubs));
	rc = load_custodians(&o, pubs, &e);
	if (!rc)
		rc = cli_seckey_open(o.sign, NULL, o.pass_file, &k, &e);
	if (!rc) {
		memset(&so, 0, sizeof(so));
		so.suite_dir = argv[i];
		so.custodians = pubs;
		so.ncustodians = o.ncust;
		so.threshold = (unsigned)o.threshold;
		so.signer = k;
		rc = vault_suite_seal(&so, o.out, digest, &e);
	}
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("suite", digest),
			VAULT_AUDIT_S("archive", o.out),
			VAULT_AUDIT_S("sealer", vault_seckey_public(k)->name),
			VAULT_AUDIT_I("threshold", o.threshold),
			VAULT_AUDIT_I("custodians", o.ncust),
		};
		rc = audit(&o, "seal", f, ARRAY_SIZE(f), &e);
	}
	vault_seckey_free(k);
	free(pubs);
	if (rc)
		return fail(&e);
	printf("sealed %s\n  suite digest: %s\n  unseal needs %ld of %zu "
	       "custodians\n", o.out, digest, o.threshold, o.ncust);
	return EXIT_OK;
}

static int suite_ls(int argc, char **argv)
{
	struct sopts o;
	struct vault_archive *a = NULL;
	struct errmsg e;
	char id[17];
	int i = parse(argc, argv, &o);

	if (i < 0 || i + 1 != argc) {
		usage();
		return EXIT_USAGE;
	}
	if (vault_archive_open(argv[i], &a, &e))
		return fail(&e);
	vault_keyid_hex(a->sealer.keyid, id);
	printf("archive   %s\nformat    assay sealed suite v1\nsuite     %s "
	       "version %s\ndigest    %s\ncreated   %s\nsealer    %s (%s)\n"
	       "unseal    %u of %zu custodians:", argv[i], a->suite_id,
	       a->suite_version, a->digest, a->created, a->sealer.name, id,
	       a->threshold, a->ncustodians);
	for (size_t c = 0; c < a->ncustodians; c++)
		printf(" %s", a->custodians[c].pub.name);
	printf("\ntasks     %zu\n  %-32s %6s %12s %7s\n", a->ntasks, "ID",
	       "FILES", "BYTES", "CHUNKS");
	for (size_t t = 0; t < a->ntasks; t++)
		printf("  %-32s %6llu %12llu %7llu\n", a->tasks[t].id,
		       (unsigned long long)a->tasks[t].files,
		       (unsigned long long)a->tasks[t].plain_len,
		       (unsigned long long)a->tasks[t].chunks);
	vault_archive_free(a);
	return EXIT_OK;
}

static int suite_request(int argc, char **argv)
{
	struct sopts o;
	struct vault_archive *a = NULL;
	struct errmsg e;
	struct buf req, sec;
	char *keyp = NULL;
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc || !o.run || !o.reason || !o.out) {
		usage();
		return EXIT_USAGE;
	}
	buf_init(&req, 1 << 16);
	buf_init(&sec, 1 << 16);
	rc = vault_archive_open(argv[i], &a, &e);
	if (!rc)
		rc = vault_request_create(a, o.run, o.reason,
					  (int64_t)time(NULL) + o.expires_in,
					  &req, &sec, &e);
	keyp = xasprintf("%s.key", o.out);
	if (!rc && (path_exists(o.out) || path_exists(keyp)))
		rc = err_set(&e, ERR_INVAL, "'%s' or '%s' already exists", o.out,
			     keyp);
	if (!rc)
		rc = file_write_atomic(keyp, sec.data, sec.len, 0600, &e);
	if (!rc)
		rc = file_write_atomic(o.out, req.data, req.len, 0644, &e);
	if (!rc)
		printf("request %s (send to custodians)\nsecret  %s (keep; "
		       "needed to unseal)\n", o.out, keyp);
	explicit_bzero(sec.data, sec.len); /* the request's secret key */
	buf_release(&req);
	buf_release(&sec);
	free(keyp);
	vault_archive_free(a);
	return rc ? fail(&e) : EXIT_OK;
}

static enum err read_approvals(const struct sopts *o,
			       struct vault_approval_in *in, struct errmsg *e)
{
	for (size_t i = 0; i < o->napp; i++) {
		char *data;
		size_t len;
		enum err rc = file_read(o->app[i], 16384, &data, &len, e);
		if (rc)
			return rc;
		in[i].name = o->app[i];
		in[i].text = data;
		in[i].len = len;
	}
	return ERR_OK;
}

static void print_content(const struct vault_suite_content *c)
{
	printf("unsealed suite '%s' (%s) in memory: %zu tasks\n", c->suite_id,
	       c->digest, c->ntasks);
	for (size_t t = 0; t < c->ntasks; t++) {
		printf("  task %s: %zu files\n", c->tasks[t].id,
		       c->tasks[t].nfiles);
		for (size_t f = 0; f < c->tasks[t].nfiles; f++) {
			const struct vault_file *vf = &c->tasks[t].files[f];
			char hex[65];
			vault_sha256_hex(vf->data, vf->len, hex);
			printf("    %04o %10zu %s %s\n", (unsigned)vf->mode,
			       vf->len, hex, vf->path);
		}
	}
}

static int suite_unseal(int argc, char **argv)
{
	struct sopts o;
	struct vault_archive *a = NULL;
	struct vault_suite_content *c = NULL;
	struct vault_approval_in *in;
	struct vault_audit *log = NULL;
	struct errmsg e;
	char *sec = NULL, *dir;
	size_t slen = 0;
	int i = parse(argc, argv, &o);
	enum err rc;

	if (i < 0 || i + 1 != argc || !o.request_key) {
		usage();
		return EXIT_USAGE;
	}
	in = xcalloc(o.napp + 1, sizeof(*in));
	dir = o.log ? xstrdup(o.log) : vault_home_path("audit", "ASSAY_AUDIT_LOG");
	rc = vault_archive_open(argv[i], &a, &e);
	if (!rc)
		rc = file_read(o.request_key, 16384, &sec, &slen, &e);
	if (!rc)
		rc = read_approvals(&o, in, &e);
	if (!rc)
		rc = vault_audit_open(dir, 0, &log, &e);
	if (!rc)
		rc = vault_suite_unseal(a, sec, slen, o.run, in, o.napp,
					(int64_t)time(NULL), log, &c, &e);
	if (!rc)
		print_content(c);
	vault_suite_content_free(c);
	vault_audit_close(log);
	for (size_t k = 0; k < o.napp; k++)
		free((char *)in[k].text);
	free(in);
	if (sec)
		explicit_bzero(sec, slen);
	free(sec);
	free(dir);
	vault_archive_free(a);
	return rc ? fail(&e) : EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} subs[] = {
	{ "seal", suite_seal },
	{ "ls", suite_ls },
	{ "request", suite_request },
	{ "unseal", suite_unseal },
	{ "exposure", suite_exposure },
};

int cmd_suite(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	cli_error("unknown suite command '%s'", argv[1]);
	usage();
	return EXIT_USAGE;
}
