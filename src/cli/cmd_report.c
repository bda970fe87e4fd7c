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
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/num.h"
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
#include "base/banned.h"

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

enum { P_FORMAT, P_OUTPUT, P_JSON, P_REFERENCE, P_POLICY, P_STORE, P_SIGN,
       P_COSIGN, P_PASS };

static const struct cli_opt report_table[] = {
	[P_FORMAT] = { "format", 'f', CLI_CHOICE, NULL, "from -o's extension, "
		"else term", "the report's format", .choices = "term|md|json|html",
		.flags = CLI_DOC_DEFAULT },
	[P_OUTPUT] = { "output", 'o', CLI_STR, "FILE", NULL, "write the report "
		"to FILE (.html, .md, .json imply the format; default: stdout)",
		.flags = CLI_DASH_STDOUT },
	[P_JSON] = { "json", 0, CLI_FLAG, NULL, NULL, "the same as --format "
		"json (docs/FORMAT-report.md)", .flags = 0 },
	[P_REFERENCE] = { "reference", 'r', CLI_LIST, "RUN", NULL, "a reference "
		"run the policy compares against", .flags = 0 },
	[P_POLICY] = { "policy", 'p', CLI_STR, "NAME|FILE", "default", "the "
		"pre-registered policy: a file, or a shipped one by name", .flags = 0 },
	[P_STORE] = CLI_OPT_STORE_READ,
	[P_SIGN] = { "sign", 0, CLI_STR, "KEY", NULL, "write a signed result "
		"to -o instead: an in-toto statement in a DSSE envelope signed by "
		"KEY (a name from 'assay keys list' or a .key file), and "
		"FILE.minisig", .flags = 0 },
	[P_COSIGN] = { "cosign", 0, CLI_STR, "KEY", NULL, "with --sign: the "
		"admin's co-signature (a key name or a .key file)", .flags = 0 },
	[P_PASS] = CLI_OPT_PASSFILE,
};

/* "R.HTML" is an HTML file too. */
static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* -o FILE.html|.md|.json implies the format (an explicit one must agree). */
static int pick_format(const struct cli_args *c, struct report_args *a)
{
	static const char *const ext[][2] = { { ".html", "html" },
		{ ".htm", "html" }, { ".md", "md" }, { ".json", "json" } };
	const char *implied = NULL;

	for (size_t i = 0; a->out && i < ARRAY_SIZE(ext); i++)
		if (ends_with(a->out, ext[i][0]))
			implied = ext[i][1];
	if (cli_flag(c, P_JSON) && a->format && strcmp(a->format, "json"))
		return cli_usage(c, "--json contradicts --format %s", a->format);
	if (cli_flag(c, P_JSON))
		a->format = "json";
	if (a->format && implied && strcmp(a->format, implied) && !a->sign)
		return cli_usage(c, "--format %s contradicts -o '%s' (a .%s "
				 "file)", a->format, a->out, implied);
	if (!a->format)
		a->format = implied && !a->sign ? implied : "term";
	return 0;
}

static int parse_args(const struct cli_args *c, struct report_args *a)
{
	int x;

	*a = (struct report_args){ 0 };
	a->store = cli_str(c, P_STORE);
	a->format = cli_str(c, P_FORMAT);
	a->out = cli_str(c, P_OUTPUT);
	a->policy = cli_str(c, P_POLICY);
	a->sign = cli_str(c, P_SIGN);
	a->cosign = cli_str(c, P_COSIGN);
	a->pass_file = cli_str(c, P_PASS);
	if ((x = cli_list_into(c, P_REFERENCE, a->refs, MAX_REFERENCES,
			       &a->nrefs)))
		return x;
	if (a->cosign && !a->sign)
		return cli_usage(c, "--cosign needs --sign");
	if (a->sign && !a->out)
		return cli_usage(c, "--sign needs -o RESULT.json");
	if (!cli_parse_id(c, "run", c->pos[0], &a->run))
		return EXIT_USAGE;
	return pick_format(c, a);
}

static int load_reference(struct report_ctx *c, const char *arg)
{
	struct errmsg e;
	long long id;
	enum err rc;

	if (!num_ll(arg, 1, INT64_MAX, &id))
		return cli_fail(EXIT_USAGE, "bad reference run id '%s'", arg);
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
	char *found;
	struct errmsg e;
	enum err rc;
	int x;

	if ((x = cli_policy_resolve(path, &found)))
		return x;
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
	enum err rc = cli_store_open_read(path, &c->st, &e);
	int x;

	free(path);
	if (rc) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	if ((rc = report_load(c->st, a->run, &c->cand, &e)) ||
	    (rc = report_human_load(c->st, c->cand, &e))) {
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

/* Close a file (or flush stdout when path is NULL): an exit code. */
static int close_out(FILE *f, const char *path)
{
	int rc;

	if (path)
		rc = fclose(f);
	else
		rc = fflush(f);
	if (rc != 0) {
		cli_error("cannot write '%s'", path ? path : "standard output");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
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
	return close_out(f, path);
}

static int write_term(const struct report_ctx *c, const char *path)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (!f) {
		cli_error("cannot write '%s'", path);
		return EXIT_RUNTIME;
	}
	report_write_analysis_term(c->a, f);
	return close_out(f, path);
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
		snprintf(hex, 65, "none");
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

	return cli_run_audit("report.sign", f, ARRAY_SIZE(f));
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
	cli_note("wrote %s (DSSE, %s) and %s (minisign)\n", a->out,
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

static int report_main(const struct cli_args *args)
{
	struct report_ctx c = { 0 };
	struct report_args a;
	int rc = parse_args(args, &a);

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
		if (!rc && cli_run_audit("report", f, ARRAY_SIZE(f)))
			rc = EXIT_RUNTIME;
	}
	release(&c);
	return rc;
}

const struct cli_cmd cli_cmd_report = {
	.name = "report",
	.summary = "report a run: the determination under a policy and its "
		   "evidence",
	.operands = "RUN", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(report_table),
	.run = report_main,
	.notes = "A bad policy, a policy naming what the data lacks or a "
		 "missing reference run is\nbad input (exit 2). Every report is "
		 "recorded in the audit log.\n",
};
