/*
 * cmd_suite.c - `assay suite`: seal a suite directory, list an archive's
 * metadata, ask custodians for an unseal, and check an unseal in memory.
 *
 *   assay suite seal DIR -o S.assay --custodian PUB... --threshold K
 *                        --sign KEY [--private-image NAME...]
 *                        [--passphrase-file F]
 *   assay suite ls S.assay
 *   assay suite request S.assay --run RUN --reason TEXT [--expires-in SECS]
 *                        -o REQ          (writes REQ and REQ.key, 0600)
 *   assay suite unseal S.assay --request-key REQ.key --approval A...
 *                        [--run RUN]     (in memory; prints file digests)
 *
 * Seal and unseal are recorded in the audit log ($ASSAY_AUDIT_LOG or
 * --log). Task content is never printed or written by this command.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/carry.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "cli/sealed.h"
#include "engine/engine.h"
#include "task/task.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/seal.h"
#include "vault/vault.h"
#include "base/banned.h"

#define MAX_MULTI 255

struct sopts {
	const char *out;
	const char *sign;
	const char *pass_file;
	const char *run;
	const char *reason;
	const char *request_key;
	const char *log;
	const char *sealer;
	long threshold;
	long expires_in;
	size_t ncust, napp, npriv;
	const char *cust[MAX_MULTI];
	const char *app[MAX_MULTI];
	const char *priv[MAX_MULTI];
};

/* The options of the subcommands, each table a subset. */
#define O_OUT(what) { "output", 'o', CLI_STR, "FILE", NULL, what, \
	.flags = CLI_REQUIRED }
#define O_RUN(what) { "run", 0, CLI_STR, "RUN", NULL, what, .flags = 0 }
#define O_REQKEY { "request-key", 0, CLI_STR, "REQ.key", NULL, "the secret " \
	"key written by 'assay suite request'", .flags = CLI_REQUIRED }

static const struct cli_opt seal_table[] = {
	O_OUT("the archive to write (S.assay)"),
	{ "custodian", 0, CLI_LIST, "PUB", NULL, "a custodian's public key "
	  "(assay keys create NAME --custodian)", .flags = CLI_REQUIRED },
	{ "threshold", 0, CLI_INT, "K", NULL, "custodian approvals an unseal "
	  "needs (1 to 255)", .lo = 1, .hi = 255, .flags = CLI_REQUIRED },
	{ "sign", 0, CLI_STR, "KEY", NULL, "the sealer's secret key",
	  .flags = CLI_REQUIRED },
	{ "private-image", 0, CLI_LIST, "NAME", NULL, "carry this imported "
	  "image's private layers (those no other imported image has) in the "
	  "archive, encrypted", .flags = 0 },
	CLI_OPT_PASSFILE,
	CLI_OPT_LOG,
};

static const struct cli_opt ls_table[] = {
	CLI_OPT_JSON,
};

static const struct cli_opt request_table[] = {
	O_OUT("the request to write (and FILE.key, 0600)"),
	O_RUN("the run the unseal is for"),
	{ "reason", 0, CLI_STR, "TEXT", NULL, "why, shown to the custodians",
	  .flags = CLI_REQUIRED },
	{ "expires-in", 0, CLI_INT, "SECONDS", "86400", "how long the request "
	  "stays valid (1 to 7776000)", .lo = 1, .hi = 90LL * 86400 },
};

static const struct cli_opt unseal_table[] = {
	O_REQKEY,
	{ "approval", 0, CLI_LIST, "FILE", NULL, "a custodian's approval "
	  "(assay keys approve)", .flags = 0 },
	O_RUN("the run the request named"),
	SEALED_OPT_SEALER,
	CLI_OPT_LOG,
};

/* The command's values into o (options it lacks read as unset). */
static void fill(const struct cli_args *a, struct sopts *o)
{
	const char *const *v;
	size_t n;

	memset(o, 0, sizeof(*o));
	o->out = cli_named_str(a, "output");
	o->sign = cli_named_str(a, "sign");
	o->pass_file = cli_named_str(a, "passphrase-file");
	o->run = cli_named_str(a, "run");
	o->reason = cli_named_str(a, "reason");
	o->request_key = cli_named_str(a, "request-key");
	o->log = cli_named_str(a, "log");
	o->sealer = cli_named_str(a, "sealer");
	o->threshold = (long)cli_named_int(a, "threshold");
	o->expires_in = (long)cli_named_int(a, "expires-in");
	v = cli_named_list(a, "custodian", &n);
	for (size_t i = 0; i < n && o->ncust < MAX_MULTI; i++)
		o->cust[o->ncust++] = v[i];
	v = cli_named_list(a, "approval", &n);
	for (size_t i = 0; i < n && o->napp < MAX_MULTI; i++)
		o->app[o->napp++] = v[i];
	v = cli_named_list(a, "private-image", &n);
	for (size_t i = 0; i < n && o->npriv < MAX_MULTI; i++)
		o->priv[o->npriv++] = v[i];
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

/* Every image the suite's tasks name is imported here, and the images of
 * --private-image are carried (*carry_out: their files; NULL with none).
 * The sealer archives any directory (FORMAT-archive.md: suite.yaml may
 * give only id and version, tasks need not parse yet), so a directory
 * that does not load as a task suite is sealed as before, its tasks
 * failing at `run`, unless it must carry images. */
static enum err images_imported(const char *dir, const struct sopts *o,
				struct cli_carry **carry_out, struct errmsg *e)
{
	struct suite *su;
	struct errmsg why;
	enum err rc;

	*carry_out = NULL;
	if (task_suite_load(dir, &su, &why) != ERR_OK)
		return o->npriv ? err_set(e, ERR_INVAL, "--private-image needs "
					  "a suite whose tasks load: %s", why.text)
				: ERR_OK;
	rc = engine_images_pin_suite(su, e);
	if (!rc && o->npriv)
		rc = cli_carry_build(su, o->priv, o->npriv, carry_out, e);
	task_suite_free(su);
	return rc;
}

static int suite_seal(const struct cli_args *args)
{
	struct sopts o;
	struct vault_pubkey *pubs;
	struct vault_seal_opts so;
	struct vault_seckey *k = NULL;
	struct cli_carry *carry = NULL;
	struct errmsg e;
	char digest[65];
	enum err rc;

	fill(args, &o);
	pubs = xcalloc(o.ncust, sizeof(*pubs));
	rc = images_imported(args->pos[0], &o, &carry, &e);
	if (!rc)
		rc = load_custodians(&o, pubs, &e);
	if (!rc)
		rc = cli_seckey_open(o.sign, NULL, o.pass_file, &k, &e);
	if (!rc) {
		memset(&so, 0, sizeof(so));
		so.suite_dir = args->pos[0];
		so.custodians = pubs;
		so.ncustodians = o.ncust;
		so.threshold = (unsigned)o.threshold;
		so.signer = k;
		so.extra = cli_carry_extra(carry, &so.nextra);
		rc = vault_suite_seal(&so, o.out, digest, &e);
	}
	cli_carry_free(carry);
	if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("suite", digest),
			VAULT_AUDIT_S("archive", o.out),
			VAULT_AUDIT_S("sealer", vault_seckey_public(k)->name),
			VAULT_AUDIT_I("threshold", o.threshold),
			VAULT_AUDIT_I("custodians", o.ncust),
		};
		rc = cli_audit_record(o.log, "seal", f, ARRAY_SIZE(f), &e);
	}
	vault_seckey_free(k);
	free(pubs);
	if (rc)
		return cli_fail_err(&e);
	cli_note("sealed %s\n  suite digest: %s\n  unseal needs %ld of %zu "
	         "custodians\n", o.out, digest, o.threshold, o.ncust);
	return EXIT_OK;
}

static void ls_archive_text(const char *path, const struct vault_archive *a)
{
	char id[17];

	vault_keyid_hex(a->sealer.keyid, id);
	printf("archive   %s\nformat    assay sealed suite v1\nsuite     %s "
	       "version %s\ndigest    %s\ncreated   %s\nsealer    %s (%s)\n"
	       "unseal    %u of %zu custodians:", path, a->suite_id,
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
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(j);
}

static void ls_archive_json(const char *path, const struct vault_archive *a)
{
	json_t *cust = json_array(), *tasks = json_array();
	char id[17];

	vault_keyid_hex(a->sealer.keyid, id);
	for (size_t c = 0; c < a->ncustodians; c++)
		json_array_append_new(cust, json_string(a->custodians[c].pub.name));
	for (size_t t = 0; t < a->ntasks; t++)
		json_array_append_new(tasks, json_pack("{s:s, s:I, s:I, s:I}",
			"id", a->tasks[t].id, "files", (json_int_t)a->tasks[t].files,
			"bytes", (json_int_t)a->tasks[t].plain_len, "chunks",
			(json_int_t)a->tasks[t].chunks));
	print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:i, "
		"s:o, s:o}", "path", path, "kind", "sealed", "suite", a->suite_id,
		"version", a->suite_version, "digest", a->digest, "created",
		a->created, "sealer", "name", a->sealer.name, "key_id", id,
		"threshold", (int)a->threshold, "custodians", cust, "tasks", tasks));
}

static int ls_archive(const char *path, bool json)
{
	struct vault_archive *a = NULL;
	struct errmsg e;

	if (vault_archive_open(path, &a, &e))
		return cli_fail_err(&e);
	if (json)
		ls_archive_json(path, a);
	else
		ls_archive_text(path, a);
	vault_archive_free(a);
	return EXIT_OK;
}

static void ls_open_json(const char *path, const struct suite *su)
{
	json_t *tasks = json_array();

	for (size_t t = 0; t < su->n_tasks; t++) {
		const struct task *k = su->tasks[t];
		json_array_append_new(tasks, json_pack("{s:s, s:s, s:s, s:i}",
			"id", k->id, "title", k->title ? k->title : "",
			"category", task_category_name(k->category), "tier",
			k->difficulty));
	}
	print_json(json_pack("{s:s, s:s, s:s, s:s, s:o}", "path", path, "kind",
			     "open", "suite", su->id, "version", su->version,
			     "tasks", tasks));
}

/* An open suite: a directory of tasks, a directory with suite.yaml or a
 * suite.yaml. */
static int ls_open(const char *path, bool json)
{
	struct suite *su;
	struct errmsg e;

	if (task_suite_load(path, &su, &e))
		return cli_fail_err(&e);
	if (json) {
		ls_open_json(path, su);
	} else {
		printf("suite     %s version %s (%s)\ntasks     %zu\n  %-32s "
		       "%-10s %4s  %s\n", su->id, su->version, path, su->n_tasks,
		       "ID", "CATEGORY", "TIER", "TITLE");
		for (size_t t = 0; t < su->n_tasks; t++)
			printf("  %-32s %-10s %4d  %s\n", su->tasks[t]->id,
			       task_category_name(su->tasks[t]->category),
			       su->tasks[t]->difficulty,
			       su->tasks[t]->title ? su->tasks[t]->title : "");
	}
	task_suite_free(su);
	return EXIT_OK;
}

static int suite_ls(const struct cli_args *args)
{
	const char *path = args->pos[0];
	bool json = cli_named_flag(args, "json");

	if (path_exists(path) && cli_sealed_is_archive(path))
		return ls_archive(path, json);
	return ls_open(path, json);
}

static int suite_request(const struct cli_args *args)
{
	struct sopts o;
	struct vault_archive *a = NULL;
	struct errmsg e;
	struct buf req, sec;
	char *keyp = NULL;
	enum err rc;

	fill(args, &o);
	if (!o.run)
		return cli_usage(args, "missing option --run");
	buf_init(&req, 1 << 16);
	buf_init(&sec, 1 << 16);
	rc = vault_archive_open(args->pos[0], &a, &e);
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
		cli_note("request %s (send to custodians)\nsecret  %s (keep; "
		         "needed to unseal)\n", o.out, keyp);
	explicit_bzero(sec.data, sec.len); /* the request's secret key */
	buf_release(&req);
	buf_release(&sec);
	free(keyp);
	vault_archive_free(a);
	return rc ? cli_fail_err(&e) : EXIT_OK;
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

static int suite_unseal(const struct cli_args *args)
{
	struct sopts o;
	struct vault_archive *a = NULL;
	struct vault_suite_content *c = NULL;
	struct vault_approval_in *in;
	struct vault_audit *log = NULL;
	/* a dry run: audited, spends nothing, refused once the request is
	 * spent (vault_suite_unseal) */
	struct vault_unseal_use use = { .dry_run = true };
	struct vault_pubkey pin;
	struct errmsg e;
	char *sec = NULL, *dir;
	size_t slen = 0;
	enum err rc;

	fill(args, &o);
	in = xcalloc(o.napp + 1, sizeof(*in));
	dir = cli_audit_dir(o.log);
	rc = vault_archive_open(args->pos[0], &a, &e);
	if (!rc && o.sealer && !(rc = cli_pubkey_load(o.sealer, NULL, &pin, &e))) {
		use.sealers = &pin;
		use.nsealers = 1;
	}
	if (!rc)
		rc = file_read(o.request_key, 16384, &sec, &slen, &e);
	if (!rc)
		rc = cli_sealed_read_approvals(o.app, o.napp, in, &e);
	if (!rc)
		rc = vault_audit_open(dir, 0, &log, &e);
	if (!rc)
		rc = vault_suite_unseal(a, sec, slen, o.run, in, o.napp,
					(int64_t)time(NULL), log, &use, &c, &e);
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
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static const struct cli_cmd seal_cmd = {
	.name = "seal",
	.summary = "seal a suite directory into an encrypted, signed archive",
	.operands = "DIR", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(seal_table),
	.run = suite_seal,
};

static const struct cli_cmd ls_cmd = {
	.name = "ls",
	.summary = "list a suite's tasks, or a sealed archive's metadata "
		   "(never its content)",
	.operands = "SUITE", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(ls_table),
	.run = suite_ls,
	.notes = "SUITE is a directory of tasks, a directory with suite.yaml, "
		 "a suite.yaml or a\nsealed .assay archive.\n",
};

static const struct cli_cmd request_cmd = {
	.name = "request",
	.summary = "ask the custodians to approve unsealing an archive for a run",
	.operands = "S.assay", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(request_table),
	.run = suite_request,
};

static const struct cli_cmd unseal_cmd = {
	.name = "unseal",
	.summary = "check an unseal in memory: print the file digests, write "
		   "nothing",
	.operands = "S.assay", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(unseal_table),
	.run = suite_unseal,
};

static const struct cli_cmd *const suite_subs[] = {
	&seal_cmd, &ls_cmd, &request_cmd, &unseal_cmd, &cli_cmd_suite_exposure,
	NULL,
};

const struct cli_cmd cli_cmd_suite = {
	.name = "suite",
	.summary = "seal, list, request, unseal a suite; its exposure to "
		   "developers",
	.subs = suite_subs,
	.notes = "Seal and unseal are recorded in the audit log. Task content "
		 "is never printed or\nwritten by these commands.\n",
};
