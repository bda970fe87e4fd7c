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
#include <jansson.h>
#include <stdint.h>
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
#include "base/banned.h"

struct aopts {
	const char *log;
	const char *key;
	const char *pass_file;
	const char *origin;
	const char *out;
	long long from, size, inclusion, consistency;
	bool json;
};

static const struct cli_opt log_table[] = {
	CLI_OPT_LOG,
	{ "from", 0, CLI_INT, "N", "0", "start at entry N", .lo = 0,
	  .hi = INT64_MAX },
	CLI_OPT_JSON,
};

static const struct cli_opt proof_table[] = {
	{ "inclusion", 0, CLI_INT, "INDEX", NULL, "prove that entry INDEX is "
	  "in the log", .lo = 0, .hi = INT64_MAX },
	{ "consistency", 0, CLI_INT, "OLD", NULL, "prove that the log of size "
	  "OLD is a prefix of this one", .lo = 0, .hi = INT64_MAX },
	{ "size", 0, CLI_INT, "N", "the stored checkpoint's", "the tree size "
	  "the proof is for", .lo = 0, .hi = INT64_MAX, .flags = CLI_DOC_DEFAULT },
	CLI_OPT_LOG,
	{ "output", 'o', CLI_STR, "FILE", NULL, "write the proof to FILE "
	  "(default: stdout)", .flags = CLI_DASH_STDOUT },
};

static const struct cli_opt checkpoint_table[] = {
	{ "key", 'k', CLI_STR, "KEY", NULL, "the signing key of the checkpoint",
	  .flags = CLI_REQUIRED },
	{ "origin", 0, CLI_STR, "NAME", "the last checkpoint's, else assay/audit", "the checkpoint's "
	  "origin line", .flags = CLI_DOC_DEFAULT },
	CLI_OPT_PASSFILE,
	CLI_OPT_LOG,
};

/* The command's values into o (options it lacks read as unset). */
static void fill(const struct cli_args *a, struct aopts *o)
{
	memset(o, 0, sizeof(*o));
	o->log = cli_named_str(a, "log");
	o->key = cli_named_str(a, "key");
	o->pass_file = cli_named_str(a, "passphrase-file");
	o->origin = cli_named_str(a, "origin");
	o->out = cli_named_str(a, "output");
	o->from = cli_named_int(a, "from");
	o->json = cli_named_flag(a, "json");
	o->size = cli_named_str(a, "size") ? cli_named_int(a, "size") : -1;
	o->inclusion = cli_named_str(a, "inclusion") ?
		       cli_named_int(a, "inclusion") : -1;
	o->consistency = cli_named_str(a, "consistency") ?
			 cli_named_int(a, "consistency") : -1;
}

static enum err open_log(const struct aopts *o, unsigned flags,
			 struct vault_audit **log, struct errmsg *e)
{
	char *dir = cli_audit_dir(o->log);
	enum err rc = vault_audit_open(dir, flags, log, e);

	free(dir);
	return rc;
}

/* One entry as an element of a JSON array: {"index": N, "entry": ...},
 * the entry parsed when it is JSON, else its text. */
static void print_entry_json(uint64_t i, const struct buf *b, bool first)
{
	json_error_t jerr;
	json_t *v = json_loadb(b->data, b->len, 0, &jerr), *o;

	if (!v)
		v = json_stringn(b->data, b->len);
	o = json_pack("{s:I, s:o}", "index", (json_int_t)i, "entry", v);
	fputs(first ? "\n  " : ",\n  ", stdout);
	json_dumpf(o, stdout, JSON_COMPACT);
	json_decref(o);
}

static int audit_log(const struct cli_args *args)
{
	struct aopts o;
	struct vault_audit *log;
	struct errmsg e;
	struct buf b;
	enum err rc = ERR_OK;

	fill(args, &o);
	if (open_log(&o, VAULT_AUDIT_READONLY, &log, &e))
		return cli_fail_err(&e);
	buf_init(&b, VAULT_AUDIT_ENTRY_MAX + 1);
	if (o.json)
		fputs("[", stdout);
	for (uint64_t i = (uint64_t)o.from; !rc && i < vault_audit_size(log); i++) {
		buf_reset(&b);
		rc = vault_audit_entry(log, i, &b, &e);
		if (!rc && o.json)
			print_entry_json(i, &b, i == (uint64_t)o.from);
		else if (!rc)
			fwrite(b.data, 1, b.len, stdout);
	}
	if (o.json)
		fputs("\n]\n", stdout);
	buf_release(&b);
	vault_audit_close(log);
	return rc ? cli_fail_err(&e) : EXIT_OK;
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

static int audit_proof(const struct cli_args *args)
{
	struct aopts o;
	struct vault_audit *log;
	struct vault_proof *p;
	struct errmsg e;
	struct buf b;
	enum err rc;

	fill(args, &o);
	if ((o.inclusion >= 0) == (o.consistency >= 0)) {
		return cli_usage(args, "give one of --inclusion INDEX or "
				 "--consistency OLD");
	}
	if (open_log(&o, VAULT_AUDIT_READONLY, &log, &e))
		return cli_fail_err(&e);
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
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static int audit_checkpoint(const struct cli_args *args)
{
	struct aopts o;
	struct vault_audit *log = NULL;
	struct vault_seckey *k = NULL;
	struct errmsg e;
	struct buf note;
	enum err rc;

	fill(args, &o);
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
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static const struct cli_cmd log_cmd = {
	.name = "log",
	.summary = "print the audit log's entries",
	.max_pos = 0,
	CLI_OPTS(log_table),
	.run = audit_log,
};

static const struct cli_cmd proof_cmd = {
	.name = "proof",
	.summary = "an inclusion or consistency proof, checkable offline",
	.max_pos = 0,
	CLI_OPTS(proof_table),
	.run = audit_proof,
};

static const struct cli_cmd checkpoint_cmd = {
	.name = "checkpoint",
	.summary = "sign a checkpoint of the log (a C2SP signed note)",
	.max_pos = 0,
	CLI_OPTS(checkpoint_table),
	.run = audit_checkpoint,
};

static const struct cli_cmd *const audit_subs[] = {
	&log_cmd, &proof_cmd, &checkpoint_cmd, NULL,
};

const struct cli_cmd cli_cmd_audit = {
	.name = "audit",
	.summary = "the audit log: entries, proofs, checkpoints",
	.subs = audit_subs,
	.notes = "The log is --log, else $ASSAY_AUDIT_LOG, else "
		 "$ASSAY_HOME/audit, else ~/.assay/audit.\n",
};
