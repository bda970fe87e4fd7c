/*
 * cmd_verify.c - `assay verify`: check signed results, sealed archives and
 * the audit log offline against pinned public keys.
 *
 *   assay verify RESULT.json --key PUB... [--threshold N] [--minisig F]
 *   assay verify S.assay --key PUB...
 *   assay verify audit [--log DIR] --key PUB... [--checkpoint PINNED]
 *   assay verify audit --proof P --checkpoint C --key PUB...
 *                      [--old-checkpoint O] [--entry FILE]
 *
 * A result needs --threshold distinct trusted signatures, by default the
 * number its statement declares (predicate.signatures.required, covered
 * by the signatures), or 2 (evaluator and admin) when it declares none.
 * RESULT.json.minisig, when present, must verify too. Nothing is printed
 * on stdout unless everything verified; each failed signature is named on
 * stderr with the reason.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "report/report.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/seal.h"
#include "vault/sign.h"
#include "vault/vault.h"
#include "base/banned.h"

#define MAX_KEYS 32

struct vopts {
	const char *log;
	const char *checkpoint;
	const char *old_checkpoint;
	const char *proof;
	const char *entry;
	const char *minisig;
	long threshold;            /* 0: what the result declares */
	bool current;              /* --current: against the journal too */
	const char *store;
	json_t *doc;               /* --json: the document; NULL: text */
	size_t nkeys;
	struct vault_pubkey keys[MAX_KEYS];
};

enum { V_KEY, V_THRESHOLD, V_MINISIG, V_LOG, V_CHECKPOINT, V_OLDCP, V_PROOF,
       V_ENTRY, V_CURRENT, V_STORE, V_JSON };

static const struct cli_opt verify_table[] = {
	[V_KEY] = { "key", 'k', CLI_LIST, "NAME|PUB", NULL, "a trusted public "
		"key: a name from 'assay keys list' or a .pub file",
		.flags = CLI_REQUIRED },
	[V_THRESHOLD] = { "threshold", 0, CLI_INT, "N", "what the result "
		"declares, else 2", "a result: distinct trusted signatures needed "
		"(1 to 32)", .lo = 1, .hi = MAX_KEYS, .flags = CLI_DOC_DEFAULT },
	[V_MINISIG] = { "minisig", 0, CLI_STR, "FILE", "RESULT.json.minisig "
		"when present", "a result: the minisign signature to check too",
		.flags = CLI_DOC_DEFAULT },
	[V_LOG] = CLI_OPT_LOG,
	[V_CHECKPOINT] = { "checkpoint", 0, CLI_STR, "FILE", NULL, "audit: the "
		"pinned checkpoint the log must extend (or the proof is for)", .flags = 0 },
	[V_OLDCP] = { "old-checkpoint", 0, CLI_STR, "FILE", NULL, "audit "
		"--proof: the older checkpoint of a consistency proof", .flags = 0 },
	[V_PROOF] = { "proof", 0, CLI_STR, "FILE", NULL, "audit: check this "
		"proof offline instead of the whole log", .flags = 0 },
	[V_ENTRY] = { "entry", 0, CLI_STR, "FILE", NULL, "audit --proof: the "
		"entry an inclusion proof is for", .flags = 0 },
	[V_CURRENT] = { "current", 0, CLI_FLAG, NULL, NULL, "a result: also "
		"require that the journal has not changed since it was signed "
		"(no review, no new attempt)", .flags = 0 },
	[V_STORE] = CLI_OPT_STORE_READ,
	[V_JSON] = { "json", 0, CLI_FLAG, NULL, NULL, "print the verdict as "
		"JSON on stdout, also when it fails (docs/FORMAT-cli-json.md)",
		.flags = 0 },
};

/* A signature or proof that does not verify is bad input (exit 2). */
static int verify_exit(enum err code)
{
	return code == ERR_CRYPTO ? EXIT_USAGE : cli_exit_for(code);
}

/* --json: the document with its verdict, on stdout. */
static void json_verdict(json_t *doc, const struct errmsg *e)
{
	if (!doc)
		return;
	json_object_set_new(doc, "ok", json_boolean(!e));
	json_object_set_new(doc, "error", e ? json_string(e->text) : json_null());
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

static int fail(struct errmsg *e)
{
	cli_error("%s", e->text);
	return verify_exit(e->code);
}

/* The text line on stdout, unless --json. */
static void say(const struct vopts *o, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void say(const struct vopts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->doc)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static int add_key(struct vopts *o, const char *path)
{
	struct errmsg e;

	if (o->nkeys == MAX_KEYS) {
		cli_error("too many --key options");
		return EXIT_USAGE;
	}
	if (cli_pubkey_load(path, NULL, &o->keys[o->nkeys], &e))
		return fail(&e);
	o->nkeys++;
	return 0;
}

static int parse(const struct cli_args *a, struct vopts *o)
{
	const char *const *keys;
	size_t n;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	o->threshold = (long)cli_int(a, V_THRESHOLD);
	o->log = cli_str(a, V_LOG);
	o->checkpoint = cli_str(a, V_CHECKPOINT);
	o->old_checkpoint = cli_str(a, V_OLDCP);
	o->proof = cli_str(a, V_PROOF);
	o->entry = cli_str(a, V_ENTRY);
	o->minisig = cli_str(a, V_MINISIG);
	o->current = cli_flag(a, V_CURRENT);
	o->store = cli_str(a, V_STORE);
	keys = cli_list(a, V_KEY, &n);
	for (size_t i = 0; !rc && i < n; i++)
		rc = add_key(o, keys[i]);
	return rc;
}

/* ---- results ---- */

static void keyid_of(const struct vopts *o, int k, const char *hint,
		     char out[17])
{
	if (k >= 0)
		vault_keyid_hex(o->keys[k].keyid, out);
	else
		snprintf(out, 17, "%.16s", hint && *hint ? hint : "none");
}

/* The .minisig (when there is one) by the trusted key it names. */
static enum err check_minisig(const struct vopts *o, const char *path,
			      const char *data, size_t len, struct buf *said,
			      struct errmsg *e)
{
	char *sp = o->minisig ? xstrdup(o->minisig) : xasprintf("%s.minisig", path);
	unsigned char id[VAULT_KEYID_LEN];
	char *sig = NULL, hex[17];
	size_t slen, k = 0;
	struct buf tc;
	enum err rc;

	if (!o->minisig && !path_exists(sp)) {
		free(sp);
		return ERR_OK;
	}
	if (o->doc)
		json_object_set_new(o->doc, "minisig", json_pack("{s:s}", "path", sp));
	buf_init(&tc, 4096);
	rc = file_read(sp, 4096, &sig, &slen, e);
	if (!rc)
		rc = vault_minisign_keyid(sig, slen, id, e);
	if (!rc) {
		vault_keyid_hex(id, hex);
		while (k < o->nkeys && memcmp(o->keys[k].keyid, id, VAULT_KEYID_LEN))
			k++;
		if (k == o->nkeys)
			rc = err_set(e, ERR_CRYPTO, "its key id %s is not among the "
				     "trusted keys (--key)", hex);
	}
	if (!rc && (rc = vault_minisign_verify(&o->keys[k], data, len, sig, slen,
					       &tc, e)))
		err_prefix(e, "by '%s' (key id %s)", o->keys[k].name, hex);
	if (rc)
		rc = err_prefix(e, "minisign signature '%s'", sp);
	else if (buf_printf(said, "minisign: %s verified by '%s' (key id %s; "
			    "trusted comment: %s)\n", sp, o->keys[k].name, hex,
			    tc.data))
		rc = err_set(e, ERR_LIMIT, "trusted comment too long");
	if (!rc && o->doc) {
		json_t *m = json_object_get(o->doc, "minisig");
		json_object_set_new(m, "key", json_string(o->keys[k].name));
		json_object_set_new(m, "key_id", json_string(hex));
		json_object_set_new(m, "trusted_comment", json_string(tc.data));
	}
	buf_release(&tc);
	free(sig);
	free(sp);
	return rc;
}

/* The signatures the statement declares it needs (0: none declared). */
static long declared_required(const struct vault_dsse *env, json_t **keys)
{
	json_t *j = json_loadb((const char *)env->payload, env->payload_len, 0,
			       NULL);
	json_t *sigs = json_object_get(json_object_get(j, "predicate"),
				       "signatures");
	json_t *req = json_object_get(sigs, "required");
	long n = json_is_integer(req) && json_integer_value(req) >= 1 &&
		 json_integer_value(req) <= MAX_KEYS ?
		 (long)json_integer_value(req) : 0;

	*keys = json_is_array(json_object_get(sigs, "keys")) ?
		json_incref(json_object_get(sigs, "keys")) : NULL;
	json_decref(j);
	return n;
}

static const char *sig_reason(enum vault_sig_status st)
{
	switch (st) {
	case VAULT_SIG_VALID:
		return "valid";
	case VAULT_SIG_DUPLICATE:
		return "valid, but by a key already counted";
	case VAULT_SIG_MALFORMED:
		return "malformed (not a 64-byte base64 signature)";
	case VAULT_SIG_UNTRUSTED:
		return "not by any trusted key (give its public key with --key)";
	case VAULT_SIG_INVALID:
		return "does not verify: the statement or the signature was "
		       "altered";
	}
	return "?";
}

/* Whether a valid signature is by the trusted key of id (hex). */
static bool declared_seen(const struct vopts *o, const struct vault_dsse *env,
			  const struct vault_sig_check *chk, const char *id)
{
	for (size_t s = 0; id && s < env->nsigs; s++) {
		char hex[17];
		if (chk[s].status != VAULT_SIG_VALID)
			continue;
		vault_keyid_hex(o->keys[chk[s].key].keyid, hex);
		if (!strcmp(hex, id))
			return true;
	}
	return false;
}

static const char *sig_status(enum vault_sig_status st)
{
	static const char *const names[] = {
		[VAULT_SIG_VALID] = "valid", [VAULT_SIG_DUPLICATE] = "duplicate",
		[VAULT_SIG_MALFORMED] = "malformed",
		[VAULT_SIG_UNTRUSTED] = "untrusted",
		[VAULT_SIG_INVALID] = "invalid",
	};

	return (size_t)st < ARRAY_SIZE(names) && names[st] ? names[st] : "?";
}

/* --json: each signature and each declared signer without a valid one. */
static void signatures_json(const struct vopts *o, const struct vault_dsse *env,
			    const struct vault_sig_check *chk, json_t *declared)
{
	json_t *sigs = json_array(), *missing = json_array(), *d;
	size_t i;

	for (size_t s = 0; s < env->nsigs; s++) {
		char id[17];
		keyid_of(o, chk[s].key, env->sigs[s].keyid, id);
		json_array_append_new(sigs, json_pack("{s:I, s:s, s:o, s:s, s:s}",
			"index", (json_int_t)s + 1, "key_id", id, "key",
			chk[s].key >= 0 ? json_string(o->keys[chk[s].key].name) :
			json_null(), "status", sig_status(chk[s].status),
			"reason", sig_reason(chk[s].status)));
	}
	json_array_foreach(declared, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *id = json_string_value(json_object_get(d, "keyid"));
		if (!declared_seen(o, env, chk, id))
			json_array_append_new(missing, json_pack("{s:s?, s:s?}",
				"name", name, "key_id", id));
	}
	json_object_set_new(o->doc, "signatures", sigs);
	json_object_set_new(o->doc, "missing_signers", missing);
}

/* One line per signature (and per declared signer without a valid one)
 * onto out (stdout on success, stderr on failure). */
static void describe(FILE *out, const char *lead, const struct vopts *o,
		     const struct vault_dsse *env,
		     const struct vault_sig_check *chk, json_t *declared)
{
	size_t i;
	json_t *d;

	for (size_t s = 0; s < env->nsigs; s++) {
		char id[17];
		keyid_of(o, chk[s].key, env->sigs[s].keyid, id);
		fprintf(out, "%ssignature %zu (key id %s%s%s%s): %s\n", lead, s + 1,
			id, chk[s].key >= 0 ? ", '" : "",
			chk[s].key >= 0 ? o->keys[chk[s].key].name : "",
			chk[s].key >= 0 ? "'" : "", sig_reason(chk[s].status));
	}
	json_array_foreach(declared, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *id = json_string_value(json_object_get(d, "keyid"));
		if (!declared_seen(o, env, chk, id))
			fprintf(out, "%sdeclared signer '%.64s' (key id %.16s): no "
				"valid signature by a trusted key\n", lead,
				name ? name : "?", id ? id : "?");
	}
}

/* What the signed statement says of the journal (predicate.reviews;
 * absent in results signed before validity states: no review, and the
 * attempts are not compared). */
static enum err signed_state(const struct vault_dsse *env, int64_t *run,
			     long long *count, const char **digest,
			     long long *attempts, json_t **doc,
			     struct errmsg *e)
{
	json_t *pred, *rv;

	*doc = json_loadb((const char *)env->payload, env->payload_len, 0, NULL);
	pred = json_object_get(*doc, "predicate");
	if (!json_is_integer(json_object_get(pred, "run")))
		return err_set(e, ERR_INVAL, "the statement names no run");
	*run = json_integer_value(json_object_get(pred, "run"));
	rv = json_object_get(pred, "reviews");
	*count = json_integer_value(json_object_get(rv, "count"));
	*digest = json_string_value(json_object_get(rv, "digest"));
	*attempts = json_is_integer(json_object_get(rv, "attempts")) ?
		    json_integer_value(json_object_get(rv, "attempts")) : -1;
	return ERR_OK;
}

/* --current: the run's review log and attempts in the journal now are
 * the ones the result was computed from. */
static enum err check_current(const struct vopts *o,
			      const struct vault_dsse *env, struct buf *said,
			      struct errmsg *e)
{
	struct store *st = NULL;
	struct report *r = NULL;
	const char *digest = NULL;
	long long count = 0, attempts = -1;
	int64_t run = 0;
	json_t *doc = NULL;
	char now[65];
	enum err rc = signed_state(env, &run, &count, &digest, &attempts,
				   &doc, e);

	if (!rc)
		rc = cli_store_open_read(o->store, &st, e);
	if (!rc)
		rc = report_load(st, run, &r, e);
	if (!rc) {
		report_reviews_digest(r, now);
		if ((size_t)count != r->n_reviews ||
		    (digest ? strcmp(digest, now) : r->n_reviews != 0))
			rc = err_set(e, ERR_CRYPTO, "stale: run %lld has %zu "
				     "review%s in the journal, the result was "
				     "signed over %lld; a new signature is "
				     "required (assay report %lld --sign KEY)",
				     (long long)run, r->n_reviews,
				     r->n_reviews == 1 ? "" : "s", count,
				     (long long)run);
		else if (attempts >= 0 && attempts != r->attempts)
			rc = err_set(e, ERR_CRYPTO, "stale: run %lld has %d "
				     "finished attempts in the journal, the "
				     "result was signed over %lld; a new "
				     "signature is required", (long long)run,
				     r->attempts, attempts);
		else if (o->doc)
			json_object_set_new(o->doc, "current", json_pack(
				"{s:I, s:I, s:i}", "run", (json_int_t)run,
				"reviews", (json_int_t)r->n_reviews, "attempts",
				r->attempts));
		else if (buf_printf(said, "current: run %lld, %zu review%s, "
				    "%d attempts, as signed\n", (long long)run,
				    r->n_reviews, r->n_reviews == 1 ? "" : "s",
				    r->attempts))
			rc = err_set(e, ERR_LIMIT, "too much to say");
	}
	report_free(r);
	store_close(st);
	json_decref(doc);
	return rc;
}

static int verify_result(const struct vopts *o, const char *path,
			 const char *data, size_t len)
{
	struct vault_sig_check chk[VAULT_DSSE_MAX_SIGS];
	struct vault_dsse *env = NULL;
	json_t *declared = NULL;
	size_t nvalid = 0;
	long need = 0, decl = 0;
	struct errmsg e;
	struct buf said;
	enum err rc = vault_dsse_parse(data, len, &env, &e);

	buf_init(&said, 1 << 16);
	if (!rc && env->nsigs > VAULT_DSSE_MAX_SIGS)
		rc = err_set(&e, ERR_INVAL, "%zu signatures; at most %d are read",
			     env->nsigs, VAULT_DSSE_MAX_SIGS);
	if (!rc && strcmp(env->payload_type, VAULT_DSSE_INTOTO))
		rc = err_set(&e, ERR_INVAL, "payload type is '%s', not an "
			     "in-toto statement", env->payload_type);
	if (!rc) {
		decl = declared_required(env, &declared);
		need = o->threshold ? o->threshold : decl ? decl : 2;
		vault_dsse_check(env, o->keys, o->nkeys, chk);
		rc = vault_dsse_verify(env, o->keys, o->nkeys, (size_t)need,
				       &nvalid, NULL, &e);
		if (rc == ERR_CRYPTO)
			rc = err_set(&e, ERR_CRYPTO, "%zu valid signature%s by "
				     "trusted keys, %ld required (%s)", nvalid,
				     nvalid == 1 ? "" : "s", need, o->threshold ?
				     "--threshold" : decl ? "declared by the "
				     "result" : "the default: the result "
				     "declares none");
	}
	if (!rc && buf_printf(&said, "%s: DSSE envelope, %zu valid signature%s "
			      "by trusted keys, %ld required (%s):", path,
			      nvalid, nvalid == 1 ? "" : "s", need,
			      o->threshold ? "--threshold" : decl ?
			      "declared by the result" : "the default"))
		rc = err_set(&e, ERR_LIMIT, "too much to say");
	for (size_t s = 0; !rc && s < env->nsigs; s++)
		if (chk[s].status == VAULT_SIG_VALID &&
		    buf_printf(&said, " %s", o->keys[chk[s].key].name))
			rc = err_set(&e, ERR_LIMIT, "too much to say");
	if (!rc && buf_addch(&said, '\n'))
		rc = err_set(&e, ERR_LIMIT, "too much to say");
	if (!rc)
		rc = check_minisig(o, path, data, len, &said, &e);
	if (!rc && o->current)
		rc = check_current(o, env, &said, &e);
	if (rc)
		err_prefix(&e, "'%s'", path);
	if (o->doc) {
		json_object_set_new(o->doc, "valid", json_integer((json_int_t)nvalid));
		json_object_set_new(o->doc, "required", json_integer(need));
		json_object_set_new(o->doc, "required_by", json_string(
			!need ? "none" : o->threshold ? "threshold" : decl ?
			"declared" : "default"));
		if (env && env->nsigs <= VAULT_DSSE_MAX_SIGS && need)
			signatures_json(o, env, chk, declared);
		json_verdict(o->doc, rc ? &e : NULL);
	}
	if (rc) {
		cli_error("%s", e.text);
		if (env && env->nsigs <= VAULT_DSSE_MAX_SIGS && need)
			describe(stderr, "assay:   ", o, env, chk, declared);
	} else if (!o->doc) {
		fputs(said.data, stdout);
		describe(stdout, "  ", o, env, chk, NULL);
	}
	json_decref(declared);
	buf_release(&said);
	vault_dsse_free(env);
	return rc ? verify_exit(e.code) : EXIT_OK;
}

static int verify_archive(const struct vopts *o, const char *path)
{
	struct vault_archive *a = NULL;
	struct errmsg e;
	enum err rc = vault_archive_open(path, &a, &e);

	if (!rc)
		rc = vault_archive_check_signer(a, o->keys, o->nkeys, &e);
	if (!rc)
		say(o, "%s: sealed suite '%s' (%s), signed by '%s'\n", path,
		    a->suite_id, a->digest, a->sealer.name);
	if (o->doc) {
		char hex[17];
		if (a) {
			vault_keyid_hex(a->sealer.keyid, hex);
			json_object_set_new(o->doc, "suite", json_string(a->suite_id));
			json_object_set_new(o->doc, "digest", json_string(a->digest));
			json_object_set_new(o->doc, "sealer", json_pack("{s:s, s:s}",
				"name", a->sealer.name, "key_id", hex));
		}
		json_verdict(o->doc, rc ? &e : NULL);
	}
	vault_archive_free(a);
	return rc ? fail(&e) : EXIT_OK;
}

/* ---- the audit log ---- */

static enum err load_checkpoint(const struct vopts *o, const char *path,
				struct vault_checkpoint *cp, struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc = file_read(path, VAULT_NOTE_MAX, &data, &len, e);

	if (rc)
		return rc;
	rc = vault_checkpoint_verify(data, len, o->keys, o->nkeys, cp, NULL, e);
	free(data);
	return rc ? err_prefix(e, "checkpoint '%s'", path) : ERR_OK;
}

static enum err verify_proof_offline(const struct vopts *o, struct errmsg *e)
{
	struct vault_checkpoint cp, old;
	struct vault_proof *p = xmalloc(sizeof(*p));
	char *data = NULL;
	size_t len;
	enum err rc = load_checkpoint(o, o->checkpoint, &cp, e);

	if (!rc)
		rc = file_read(o->proof, 1 << 20, &data, &len, e);
	if (!rc)
		rc = vault_proof_parse(data, len, p, e);
	if (!rc && p->size != cp.size)
		rc = err_set(e, ERR_INVAL, "the proof is for size %llu, the "
			     "checkpoint for %llu", (unsigned long long)p->size,
			     (unsigned long long)cp.size);
	if (!rc && p->kind == VAULT_PROOF_INCLUSION) {
		if (o->entry) {
			vault_hash leaf;
			free(data);
			data = NULL;
			rc = file_read(o->entry, VAULT_AUDIT_ENTRY_MAX, &data, &len, e);
			vault_merkle_leaf_hash(data, len, leaf);
			if (!rc && memcmp(leaf, p->leaf, VAULT_HASH_LEN))
				rc = err_set(e, ERR_CRYPTO, "entry '%s' is not "
					     "the proven leaf", o->entry);
		}
		if (!rc)
			rc = vault_merkle_verify_inclusion(p->a, p->size, p->leaf,
							   p->hashes, p->len,
							   cp.root, e);
	} else if (!rc) {
		rc = o->old_checkpoint ? load_checkpoint(o, o->old_checkpoint, &old, e)
			: err_set(e, ERR_INVAL, "a consistency proof needs "
				  "--old-checkpoint");
		if (!rc && old.size != p->a)
			rc = err_set(e, ERR_INVAL, "the proof starts at size "
				     "%llu, the old checkpoint is %llu",
				     (unsigned long long)p->a,
				     (unsigned long long)old.size);
		if (!rc)
			rc = vault_merkle_verify_consistency(p->a, p->size, old.root,
							     cp.root, p->hashes,
							     p->len, e);
	}
	if (!rc && o->doc)
		json_object_set_new(o->doc, "proof", json_pack("{s:s, s:I, s:I}",
			"kind", p->kind == VAULT_PROOF_INCLUSION ? "inclusion" :
			"consistency", p->kind == VAULT_PROOF_INCLUSION ? "index" :
			"old_size", (json_int_t)p->a, "size", (json_int_t)p->size));
	if (!rc)
		say(o, "%s proof verified: %s %llu in tree of size %llu\n",
		       p->kind == VAULT_PROOF_INCLUSION ? "inclusion" : "consistency",
		       p->kind == VAULT_PROOF_INCLUSION ? "entry" : "old size",
		       (unsigned long long)p->a, (unsigned long long)p->size);
	free(data);
	free(p);
	return rc ? err_prefix(e, "proof '%s'", o->proof) : ERR_OK;
}

/* A pinned older checkpoint must be a prefix of today's signed log. */
static enum err check_pinned(const struct vopts *o, const char *dir,
			     const struct vault_audit_check *chk,
			     struct errmsg *e)
{
	struct vault_checkpoint old;
	struct vault_audit *log;
	vault_hash root, proof[VAULT_MERKLE_MAX_PROOF];
	size_t len;
	enum err rc = load_checkpoint(o, o->checkpoint, &old, e);

	if (rc)
		return rc;
	if (old.size > chk->signed_size)
		return err_set(e, ERR_CRYPTO, "the log was rolled back: pinned "
			       "checkpoint has %llu entries, the log's signed "
			       "checkpoint %llu", (unsigned long long)old.size,
			       (unsigned long long)chk->signed_size);
	rc = vault_audit_open(dir, VAULT_AUDIT_READONLY, &log, e);
	if (rc)
		return rc;
	rc = vault_audit_root(log, chk->signed_size, root, e);
	if (!rc && old.size)
		rc = vault_audit_consistency(log, old.size, chk->signed_size,
					     proof, &len, e);
	if (!rc && old.size)
		rc = vault_merkle_verify_consistency(old.size, chk->signed_size,
						     old.root, root, proof, len, e);
	vault_audit_close(log);
	if (!rc && o->doc)
		json_object_set_new(o->doc, "pinned_size",
				    json_integer((json_int_t)old.size));
	if (!rc)
		say(o, "consistent with pinned checkpoint of size %llu\n",
		    (unsigned long long)old.size);
	return rc ? err_prefix(e, "pinned checkpoint '%s'", o->checkpoint) : ERR_OK;
}

static int verify_audit(const struct vopts *o)
{
	struct vault_audit_check chk;
	struct errmsg e;
	char *dir;
	enum err rc;

	if (o->proof) {
		if (!o->checkpoint) {
			cli_error("--proof needs --checkpoint");
			return EXIT_USAGE;
		}
		rc = verify_proof_offline(o, &e);
		json_verdict(o->doc, rc ? &e : NULL);
		return rc ? fail(&e) : EXIT_OK;
	}
	dir = cli_audit_dir(o->log);
	rc = vault_audit_verify(dir, o->keys, o->nkeys, true, &chk, &e);
	if (!rc) {
		char hex[65];
		hex_encode(chk.root, 32, hex);
		say(o, "audit log %s: %llu entries, signed checkpoint covers "
		    "%llu, root %s\n", dir, (unsigned long long)chk.entries,
		    (unsigned long long)chk.signed_size, hex);
		if (o->doc)
			json_object_set_new(o->doc, "log", json_pack(
				"{s:s, s:I, s:I, s:s}", "dir", dir, "entries",
				(json_int_t)chk.entries, "signed_size",
				(json_int_t)chk.signed_size, "root", hex));
	}
	if (!rc && o->checkpoint)
		rc = check_pinned(o, dir, &chk, &e);
	json_verdict(o->doc, rc ? &e : NULL);
	free(dir);
	return rc ? fail(&e) : EXIT_OK;
}

/* An archive, also one whose first line is damaged (which then fails as
 * a damaged archive, not as "not a JSON DSSE envelope"). */
static bool is_archive(const char *path)
{
	static const char magic[] = "assay sealed suite v1\n";
	char head[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return false;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return (n >= sizeof(magic) - 1 && !memcmp(head, magic, sizeof(magic) - 1)) ||
	       vault_archive_damaged(head, n);
}

static int verify_main(const struct cli_args *a)
{
	const char *what = a->pos[0];
	struct vopts *o;
	char *data = NULL;
	size_t len = 0;
	struct errmsg e;
	int rc;

	o = xcalloc(1, sizeof(*o));
	rc = parse(a, o);
	if (!rc && cli_flag(a, V_JSON))
		o->doc = json_pack("{s:s, s:s}", "kind", !strcmp(what, "audit") ?
				   (o->proof ? "proof" : "audit") :
				   is_archive(what) ? "archive" : "result",
				   "path", what);
	if (!rc && !strcmp(what, "audit"))
		rc = verify_audit(o);
	else if (!rc && is_archive(what))
		rc = verify_archive(o, what);
	else if (!rc && file_read(what, VAULT_DSSE_MAX * 2, &data, &len, &e)) {
		json_verdict(o->doc, &e);
		rc = fail(&e);
	} else if (!rc)
		rc = verify_result(o, what, data, len);
	json_decref(o->doc);
	free(data);
	free(o);
	return rc;
}

const struct cli_cmd cli_cmd_verify = {
	.name = "verify",
	.summary = "verify a signed result, a sealed archive or the audit log "
		   "offline",
	.operands = "RESULT.json|S.assay|audit", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(verify_table),
	.run = verify_main,
	.notes = "A signature that does not verify is bad input: exit 2.\n",
};
