/*
 * cmd_report.c - `assay report RUN [--reference RUN...] [--policy P]
 *                [--format term|md|json|html] [-o FILE] [--store PATH]`
 *
 * Loads the run and its references from the journal, applies the policy
 * (the shipped default unless --policy) and renders the determination
 * with its evidence. Bad input (a malformed policy, a policy naming what
 * the data lacks, a reference that does not exist) exits 2.
 *
 * With --sign KEY [--cosign KEY] -o RESULT.json it instead writes the
 * signed result: an in-toto Statement in a DSSE envelope signed by the
 * evaluator (and co-signed by an admin), plus RESULT.json.minisig signed
 * by the evaluator, verifiable offline with `assay verify` or `minisign
 * -V`. Every report is recorded in the audit log.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "cli/runctl.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/sign.h"
#include "vault/vault.h"
#include "policy/policy.h"
#include "report/report.h"
#include "store/store.h"

#define MAX_REFERENCES 64
/* Transcript bytes embedded in an HTML report; later episodes name the
 * `assay show` command instead. */
#define HTML_TRANSCRIPT_BYTES ((size_t)32 << 20)

struct report_args {
	const char *store, *format, *out, *policy;
	const char *sign, *cosign, *pass_file;
	const char *refs[MAX_REFERENCES];
	size_t nrefs;
	int64_t run;
};

struct report_ctx {
	struct store *st;
	struct report *cand;
	struct report *refs[MAX_REFERENCES];
	size_t nrefs;
	struct policy *policy;
	struct report_analysis *a;
};

static int usage(void)
{
	fputs("usage: assay report RUN [--reference RUN]... [--policy FILE] "
	      "[--format term|md|json|html] [-o FILE] [--store PATH]\n"
	      "       assay report RUN [--reference RUN]... [--policy FILE] "
	      "--sign KEY [--cosign KEY] [--passphrase-file F] -o RESULT.json\n"
	      "  (KEY: a key name from 'assay keys list', or a .key file)\n",
	      stderr);
	return EXIT_USAGE;
}

static bool parse_run_id(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v <= 0) {
		cli_error("bad run id '%s'", s);
		return false;
	}
	*out = v;
	return true;
}

static bool known_format(const char *f)
{
	return !strcmp(f, "term") || !strcmp(f, "md") || !strcmp(f, "json") ||
	       !strcmp(f, "html");
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "reference", required_argument, NULL, 'r' },
		{ "policy", required_argument, NULL, 'p' },
		{ "sign", required_argument, NULL, 'S' },
		{ "cosign", required_argument, NULL, 'C' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 } };
	int c;

	*a = (struct report_args){ .format = "term" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 's')
			a->store = optarg;
		else if (c == 'f')
			a->format = optarg;
		else if (c == 'o')
			a->out = optarg;
		else if (c == 'p')
			a->policy = optarg;
		else if (c == 'S')
			a->sign = optarg;
		else if (c == 'C')
			a->cosign = optarg;
		else if (c == 'P')
			a->pass_file = optarg;
		else if (c == 'r' && a->nrefs < MAX_REFERENCES)
			a->refs[a->nrefs++] = optarg;
		else
			return usage();
	}
	if (optind != argc - 1 || !known_format(a->format) ||
	    ((a->sign || a->cosign) && (!a->sign || !a->out)))
		return usage();
	return parse_run_id(argv[optind], &a->run) ? 0 : EXIT_USAGE;
}

static int load_reference(struct report_ctx *c, const char *arg)
{
	struct errmsg e;
	int64_t id;
	enum err rc;

	if (!parse_run_id(arg, &id))
		return EXIT_USAGE;
	rc = report_load(c->st, id, &c->refs[c->nrefs], &e);
	if (rc == ERR_NOTFOUND) {
		cli_error("reference run %lld does not exist in this store "
			  "(see `assay runs`)", (long long)id);
		return EXIT_USAGE;
	}
	if (rc) {
		cli_error("reference run %lld: %s", (long long)id, e.text);
		return cli_exit_for(rc);
	}
	c->nrefs++;
	return 0;
}

static int load_policy(struct report_ctx *c, const char *path)
{
	char *found = path ? xstrdup(path) : report_default_policy_path();
	struct errmsg e;
	enum err rc;

	if (!found) {
		cli_error("no default policy found (looked in $ASSAY_SOURCE_DIR/"
			  "policies and beside the binary); pass --policy FILE");
		return EXIT_USAGE;
	}
	rc = policy_load(found, &c->policy, &e);
	free(found);
	if (rc) {
		cli_error("%s", e.text);
		return EXIT_USAGE;      /* a missing or malformed policy is bad input */
	}
	return 0;
}

static int load_all(struct report_ctx *c, const struct report_args *a)
{
	char *path = a->store ? xstrdup(a->store) : store_default_path();
	struct errmsg e;
	enum err rc = cli_store_open(path, &c->st, &e);
	int x;

	free(path);
	if (rc) {
		cli_error("%s", e.text);
		return EXIT_RUNTIME;
	}
	if ((rc = report_load(c->st, a->run, &c->cand, &e))) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	for (size_t i = 0; i < a->nrefs; i++)
		if ((x = load_reference(c, a->refs[i])))
			return x;
	if ((x = load_policy(c, a->policy)))
		return x;
	rc = report_analyze(c->cand, (const struct report *const *)c->refs,
			    c->nrefs, c->policy, &c->a, &e);
	if (rc) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	return 0;
}

static int write_doc(const char *path, const char *doc)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (!f) {
		cli_error("cannot write '%s'", path);
		return EXIT_RUNTIME;
	}
	fputs(doc, f);
	if (doc[0] && doc[strlen(doc) - 1] != '\n')
		fputc('\n', f);
	if (path ? fclose(f) != 0 : fflush(f) != 0) {
		cli_error("cannot write '%s'", path ? path : "standard output");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int write_term(const struct report_ctx *c, const char *path)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (!f) {
		cli_error("cannot write '%s'", path);
		return EXIT_RUNTIME;
	}
	report_write_analysis_term(c->a, f);
	if (path ? fclose(f) != 0 : fflush(f) != 0) {
		cli_error("cannot write '%s'", path ? path : "standard output");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int render(struct report_ctx *c, const struct report_args *a)
{
	char *doc = NULL;
	struct errmsg e;
	enum err rc = ERR_OK;
	int x;

	if (!strcmp(a->format, "term"))
		return write_term(c, a->out);
	if (!strcmp(a->format, "json"))
		doc = report_json_full(c->cand, c->a);
	else if (!strcmp(a->format, "md"))
		rc = report_markdown(c->a, &doc, &e);
	else if (!(rc = report_load_transcripts(c->st, c->cand,
						  HTML_TRANSCRIPT_BYTES, &e)))
		rc = report_html(c->a, &doc, &e);
	if (rc) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	x = write_doc(a->out, doc);
	free(doc);
	return x;
}

static enum err policy_digest(const struct report_ctx *c, char hex[65],
			      struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc;

	if (!c->policy) {
		strcpy(hex, "none");
		return ERR_OK;
	}
	rc = file_read(c->policy->path, 16u << 20, &data, &len, e);
	if (rc == ERR_OK) {
		vault_sha256_hex(data, len, hex);
		free(data);
	}
	return rc;
}

/* The statement with the signatures it needs declared in its predicate
 * (covered by those signatures): `assay verify` requires that many by
 * default. Caller frees. */
static char *declare_signers(const char *stmt, struct vault_seckey *const *keys,
			     size_t n)
{
	json_t *j = json_loads(stmt, 0, NULL), *list = json_array();
	json_t *pred = json_object_get(j, "predicate");
	char *out;

	for (size_t i = 0; i < n; i++) {
		const struct vault_pubkey *pub = vault_seckey_public(keys[i]);
		char id[17];
		vault_keyid_hex(pub->keyid, id);
		json_array_append_new(list, json_pack("{s:s,s:s}", "name",
						      pub->name, "keyid", id));
	}
	json_object_set_new(pred, "signatures", json_pack("{s:I,s:o}",
			    "required", (json_int_t)n, "keys", list));
	out = json_is_object(pred) ? json_dumps(j, JSON_COMPACT |
						 JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return out ? out : xstrdup(stmt);
}

/* DSSE envelope signed by the evaluator (and the admin), and a minisign
 * signature of the envelope by the evaluator. */
static enum err sign_statement(const struct report_args *a, const char *stmt,
			       struct buf *env, struct buf *mini,
			       struct errmsg *e)
{
	struct vault_seckey *keys[2] = { NULL, NULL };
	size_t n = a->cosign ? 2 : 1;
	char *decl = NULL;
	enum err rc;

	rc = cli_seckey_open(a->sign, NULL, a->pass_file, &keys[0], e);
	if (!rc && a->cosign)
		rc = cli_seckey_open(a->cosign, NULL, a->pass_file, &keys[1], e);
	if (!rc) {
		decl = declare_signers(stmt, keys, n);
		rc = vault_dsse_sign(VAULT_DSSE_INTOTO, decl, strlen(decl), keys,
				     n, env, e);
	}
	if (!rc)
		rc = vault_minisign_sign(keys[0], env->data, env->len,
					 "assay signed result", mini, e);
	free(decl);
	vault_seckey_free(keys[0]);
	vault_seckey_free(keys[1]);
	return rc;
}

static int audit_signed(const struct report_ctx *c,
			const struct report_args *a, const char *rep,
			const char *pol)
{
	struct vault_audit_field f[] = {
		VAULT_AUDIT_I("run", c->cand->run.id),
		VAULT_AUDIT_B("signed", true),
		VAULT_AUDIT_B("cosigned", a->cosign),
		VAULT_AUDIT_S("report_sha256", rep),
		VAULT_AUDIT_S("policy_sha256", pol),
	};

	return run_audit("report.sign", f, ARRAY_SIZE(f));
}

static int signed_result(struct report_ctx *c, const struct report_args *a)
{
	char pol[65], rep[65], *json = report_json_full(c->cand, c->a), *stmt;
	char *sig_path = xasprintf("%s.minisig", a->out);
	struct buf env, mini;
	struct errmsg e;
	enum err rc;

	buf_init(&env, VAULT_DSSE_MAX * 2);
	buf_init(&mini, 1 << 16);
	vault_sha256_hex(json, strlen(json), rep);
	rc = policy_digest(c, pol, &e);
	stmt = rc ? NULL : report_statement(c->cand, c->a, pol, rep);
	if (!rc)
		rc = sign_statement(a, stmt, &env, &mini, &e);
	if (!rc)
		rc = file_write_atomic(a->out, env.data, env.len, 0644, &e);
	if (!rc)
		rc = file_write_atomic(sig_path, mini.data, mini.len, 0644, &e);
	buf_release(&env);
	buf_release(&mini);
	free(json);
	free(stmt);
	if (rc) {
		free(sig_path);
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	printf("wrote %s (DSSE, %s) and %s (minisign)\n", a->out,
	       a->cosign ? "signed and co-signed" : "signed", sig_path);
	free(sig_path);
	return audit_signed(c, a, rep, pol) ? EXIT_RUNTIME : EXIT_OK;
}

static void release(struct report_ctx *c)
{
	report_analysis_free(c->a);
	policy_free(c->policy);
	for (size_t i = 0; i < c->nrefs; i++)
		report_free(c->refs[i]);
	report_free(c->cand);
	if (c->st)
		store_close(c->st);
}

int cmd_report(int argc, char **argv)
{
	struct report_ctx c = { 0 };
	struct report_args a;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc;
	rc = load_all(&c, &a);
	if (!rc && a.sign)
		rc = signed_result(&c, &a);
	else if (!rc) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_I("run", a.run),
			VAULT_AUDIT_S("format", a.format),
		};
		rc = render(&c, &a);
		if (!rc && run_audit("report", f, ARRAY_SIZE(f)))
			rc = EXIT_RUNTIME;
	}
	release(&c);
	return rc;
}
