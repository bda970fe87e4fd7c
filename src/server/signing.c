/*
 * signing.c - the program's signatures (docs/API.md "Signing keys").
 *
 * Each person who signs (an evaluator's determination, an admin's
 * co-signature, a liaison's report, an admin's release) has one Ed25519
 * key, of one of two kinds:
 *
 *  - held by the service: made at the person's first signature, kept in
 *    the key directory (KEY_DIR/signer-USERID.key, 0600), never exported;
 *    the service signs when the person asks;
 *  - the person's own: its public half registered once (POST /keys,
 *    KEY_DIR/signer-USERID.pub); the service never holds its secret. A
 *    signing request without a signature is answered 409 sign_offline
 *    with the exact bytes to sign (the statement, or the envelope to
 *    co-sign); the person signs offline (`assay keys sign` / `cosign`)
 *    and repeats the request with {"envelope": ...}, which is checked:
 *    the same statement (but for its issued time, at most a day old) or
 *    the same signed payload byte for byte, the earlier signatures
 *    unchanged, and exactly one more, valid under the registered key.
 *
 * Either way the public halves are listed for anyone to verify with.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "vault/keys.h"
#include "vault/sign.h"
#include "base/banned.h"

#define SIGNERS_MAX 500
#define PUB_TEXT_MAX 4096

static char *signer_path(struct srv *s, int64_t user_id, const char *ext)
{
	char name[64];

	snprintf(name, sizeof(name), "signer-%lld.%s", (long long)user_id, ext);
	return path_join(s->key_dir, name);
}

bool srv_signer_own(struct srv *s, int64_t user_id)
{
	char *path = signer_path(s, user_id, "pub");
	bool own = path_exists(path);

	free(path);
	return own;
}

/* The key the service holds for the principal, made (and audited) at its
 * first use. */
static enum err held_key(struct srv *s, struct req *r,
			 struct vault_seckey **k, struct errmsg *e)
{
	char *path = signer_path(s, r->who.u.id, "key");
	char name[VAULT_KEY_NAME_MAX + 1];
	enum err rc;

	if (path_exists(path)) {
		rc = vault_seckey_load(path, NULL, k, e);
		free(path);
		return rc;
	}
	snprintf(name, sizeof(name), "program-%.40s", r->who.u.login);
	if (!vault_key_name_ok(name))
		snprintf(name, sizeof(name), "program-user-%lld",
			 (long long)r->who.u.id);
	rc = mkdir_p(s->key_dir, 0700, e);
	if (!rc)
		rc = vault_key_generate(VAULT_KEY_SIGN, name, k, e);
	if (!rc && (rc = vault_seckey_save(*k, path, NULL, e))) {
		vault_seckey_free(*k);
		*k = NULL;
	}
	if (!rc)
		srv_audit(s, r, "key.create", "name", name, r->who.u.id);
	free(path);
	return rc;
}

enum err srv_signer_pub(struct srv *s, struct req *r, int64_t user_id,
			struct vault_pubkey *pub, struct errmsg *e)
{
	char *path = signer_path(s, user_id, "pub");
	struct vault_seckey *k = NULL;
	enum err rc;

	if (path_exists(path)) {
		rc = vault_pubkey_load(path, pub, e);
		free(path);
		return rc;
	}
	free(path);
	if (r) {
		rc = held_key(s, r, &k, e);
	} else {
		path = signer_path(s, user_id, "key");
		rc = path_exists(path) ? vault_seckey_load(path, NULL, &k, e)
				       : err_set(e, ERR_NOTFOUND, "no key");
		free(path);
	}
	if (!rc)
		*pub = *vault_seckey_public(k);
	vault_seckey_free(k);
	return rc;
}

/* ---- GET and POST /keys ---- */

static json_t *key_json(int64_t uid, const struct vault_pubkey *pub,
			const struct buf *text, bool own)
{
	char id[17];

	vault_keyid_hex(pub->keyid, id);
	return json_pack("{s:I, s:I, s:s, s:s, s:s%, s:s}", "id", (json_int_t)uid,
			 "user_id", (json_int_t)uid, "name", pub->name, "keyid",
			 id, "public", text->data, text->len, "held",
			 own ? "person" : "service");
}

static enum err pub_text(struct srv *s, int64_t user_id, struct buf *out,
			 struct vault_pubkey *pub, struct errmsg *e)
{
	enum err rc = srv_signer_pub(s, NULL, user_id, pub, e);

	if (!rc && vault_pubkey_format(pub, out))
		rc = err_set(e, ERR_NOMEM, "cannot format the key");
	return rc;
}

void api_keys_list(struct srv *s, struct req *r, struct reply *y)
{
	struct sp_user *v = NULL;
	size_t n = 0;
	struct errmsg e;
	json_t *items;

	(void)r;
	if (store_user_list(srv_st(s), 0, 0, SIGNERS_MAX, &v, &n, &e)) {
		reply_fail(y, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		struct vault_pubkey pub;
		struct buf b;

		buf_init(&b, PUB_TEXT_MAX);
		if (!pub_text(s, v[i].id, &b, &pub, &e))
			json_array_append_new(items, key_json(v[i].id, &pub, &b,
					      srv_signer_own(s, v[i].id)));
		buf_release(&b);
	}
	store_users_free(v, n);
	reply_json(y, 200, list_reply(items, SIGNERS_MAX + 1, 0));
}

/* One public key as a .pub file (`assay verify --key FILE`). */
void api_keys_get(struct srv *s, struct req *r, struct reply *y)
{
	struct vault_pubkey pub;
	struct errmsg e;
	struct buf b;

	buf_init(&b, PUB_TEXT_MAX);
	if (pub_text(s, r->ids[0], &b, &pub, &e))
		authz_deny(s, r, y, false, r->ids[0], "no such key");
	else
		reply_raw(y, "text/plain; charset=utf-8", b.data, b.len);
	buf_release(&b);
}

/* Whether a person's key (of any kind) has this key id. */
static bool keyid_taken(struct srv *s, const struct vault_pubkey *pub)
{
	struct sp_user *v = NULL;
	size_t n = 0;
	bool taken = false;

	if (store_user_list(srv_st(s), 0, 0, SIGNERS_MAX, &v, &n, NULL))
		return true;
	for (size_t i = 0; i < n && !taken; i++) {
		struct vault_pubkey k;

		taken = !srv_signer_pub(s, NULL, v[i].id, &k, NULL) &&
			!memcmp(k.keyid, pub->keyid, sizeof(k.keyid));
	}
	store_users_free(v, n);
	return taken;
}

/* The principal's own public key, once: never beside one the service
 * holds (its signatures would stop verifying), never replaced, never
 * another person's (a signature names one person). */
void api_keys_add(struct srv *s, struct req *r, struct reply *y)
{
	json_t *b = body_object(r, y);
	const char *text = NULL;
	struct vault_pubkey pub;
	struct errmsg e;
	struct buf out;
	char *held = NULL, *path = NULL, id[17];

	if (!b || !jstr(b, "public", PUB_TEXT_MAX, false, &text, y))
		goto out;
	held = signer_path(s, r->who.u.id, "key");
	path = signer_path(s, r->who.u.id, "pub");
	if (path_exists(held) || path_exists(path)) {
		reply_err(y, 409, "conflict", NULL, "you have a signing key "
			  "already (GET /keys)");
		goto out;
	}
	if (vault_pubkey_parse("public", text, strlen(text), &pub, &e) ||
	    pub.kind != VAULT_KEY_SIGN) {
		reply_err(y, 400, "invalid_field", "public", "not a signing "
			  "key's public half (assay keys export NAME)");
		goto out;
	}
	if (keyid_taken(s, &pub)) {
		reply_err(y, 409, "conflict", "public", "that key is another "
			  "person's");
		goto out;
	}
	buf_init(&out, PUB_TEXT_MAX);
	if (vault_pubkey_format(&pub, &out) || mkdir_p(s->key_dir, 0700, &e) ||
	    file_write_atomic(path, out.data, out.len, 0644, &e)) {
		reply_err(y, 500, "internal", NULL, "cannot keep the key");
	} else {
		vault_keyid_hex(pub.keyid, id);
		srv_audit(s, r, "key.register", "keyid", id, r->who.u.id);
		reply_json(y, 201, key_json(r->who.u.id, &pub, &out, true));
	}
	buf_release(&out);
out:
	free(held);
	free(path);
	json_decref(b);
}

/* ---- signing ---- */

/* 409 sign_offline: what the person signs, and how to send it. */
static void ask_offline(struct reply *y, const char *what, const char *text)
{
	json_t *err = json_pack("{s:s, s:s, s:s}", "code", "sign_offline",
				"message", "your key is your own: sign this "
				"offline and send it again as {\"envelope\": "
				"...}", what, text);

	reply_json(y, 409, json_pack("{s:o}", "error", err));
}

static void bad_envelope(struct reply *y, const char *why)
{
	reply_err(y, 400, "invalid_field", "envelope", "%s", why);
}

/* The statement a person signed offline is the one to sign, but for the
 * time it was issued (predicate.issued: asked for, then signed later): not
 * after now, not before a day ago. ISO 8601 UTC of fixed width compares
 * as text. */
#define OFFLINE_MAX_MS (24LL * 3600 * 1000)

static const char *issued_of(json_t *stmt)
{
	const char *t = json_string_value(json_object_get(
		json_object_get(stmt, "predicate"), "issued"));

	return t && strlen(t) == 20 && t[10] == 'T' && t[19] == 'Z' ? t : NULL;
}

static bool same_statement(const unsigned char *got, size_t len,
			   const char *stmt)
{
	json_t *a = json_loadb((const char *)got, len, 0, NULL);
	json_t *b = json_loads(stmt, 0, NULL);
	const char *ta = issued_of(a), *tb = issued_of(b);
	char oldest[40];
	bool ok;

	iso8601(wall_ms() - OFFLINE_MAX_MS, oldest, sizeof(oldest));
	ok = ta && tb && strcmp(ta, tb) <= 0 && strcmp(ta, oldest) >= 0;
	if (ok) {
		json_object_del(json_object_get(a, "predicate"), "issued");
		json_object_del(json_object_get(b, "predicate"), "issued");
		ok = json_equal(a, b);
	}
	json_decref(a);
	json_decref(b);
	return ok;
}

/* sent is prior (or, with no prior, a statement stmt) with exactly one
 * more signature, valid under pub. */
static const char *offline_check(const char *sent, const char *stmt,
				 const char *prior,
				 const struct vault_pubkey *pub)
{
	struct vault_dsse *got = NULL, *was = NULL;
	const char *why = NULL;
	size_t before = 0;

	if (vault_dsse_parse(sent, strlen(sent), &got, NULL))
		return "not a DSSE envelope";
	if (prior && vault_dsse_parse(prior, strlen(prior), &was, NULL))
		why = "the earlier envelope does not parse";
	else if (was) {
		before = was->nsigs;
		if (strcmp(got->payload_type, was->payload_type) ||
		    got->payload_len != was->payload_len ||
		    memcmp(got->payload, was->payload, was->payload_len))
			why = "its payload is not the signed one";
	} else if (strcmp(got->payload_type, VAULT_DSSE_INTOTO) ||
		   !same_statement(got->payload, got->payload_len, stmt)) {
		why = "its payload is not the statement to sign (or it was "
		      "issued over a day ago)";
	}
	if (!why && got->nsigs != before + 1)
		why = "it must add exactly one signature";
	for (size_t i = 0; !why && i < before; i++)
		if (strcmp(got->sigs[i].keyid, was->sigs[i].keyid) ||
		    memcmp(got->sigs[i].sig, was->sigs[i].sig, VAULT_SIG_LEN))
			why = "it changes an earlier signature";
	if (!why) {
		struct vault_sig_check c[VAULT_DSSE_MAX_SIGS];

		if (got->nsigs > VAULT_DSSE_MAX_SIGS)
			why = "too many signatures";
		else {
			vault_dsse_check(got, pub, 1, c);
			if (c[before].status != VAULT_SIG_VALID)
				why = "the new signature is not your "
				      "registered key's";
		}
	}
	vault_dsse_free(got);
	vault_dsse_free(was);
	return why;
}

/* A body is optional on signing routes; with one, sg->body holds it. */
bool srv_signing_begin(struct req *r, struct reply *y, struct srv_signing *sg)
{
	sg->body = NULL;
	sg->sent = NULL;
	if (r->len) {
		if (!(sg->body = body_object(r, y)))
			return false;
		if (!jstr(sg->body, "envelope", SRV_BODY_MAX, true, &sg->sent,
			  y)) {
			json_decref(sg->body);
			return false;
		}
	}
	buf_init(&sg->env, VAULT_DSSE_MAX * 2);
	return true;
}

void srv_signing_end(struct srv_signing *sg)
{
	buf_release(&sg->env);
	json_decref(sg->body);
	sg->body = NULL;
}

static bool sign_offline(struct srv *s, struct req *r, struct reply *y,
			 const char *sent, const char *stmt,
			 const char *prior, struct buf *env)
{
	struct vault_pubkey pub;
	struct errmsg e;
	const char *why;

	if (!sent) {
		ask_offline(y, prior ? "envelope" : "statement",
			    prior ? prior : stmt);
		return false;
	}
	if (srv_signer_pub(s, NULL, r->who.u.id, &pub, &e)) {
		reply_fail(y, &e);
		return false;
	}
	if ((why = offline_check(sent, stmt, prior, &pub))) {
		bad_envelope(y, why);
		return false;
	}
	if (buf_add(env, sent, strlen(sent))) {
		reply_err(y, 413, "too_large", "envelope", "too large");
		return false;
	}
	return true;
}

static bool sign_here(struct srv *s, struct req *r, struct reply *y,
		      const char *stmt, const char *prior, struct buf *env)
{
	struct vault_seckey *k = NULL;
	struct errmsg e;
	enum err rc = held_key(s, r, &k, &e);

	if (!rc && prior)
		rc = vault_dsse_cosign(prior, strlen(prior), k, env, &e);
	else if (!rc)
		rc = vault_dsse_sign(VAULT_DSSE_INTOTO, stmt, strlen(stmt), &k,
				     1, env, &e);
	vault_seckey_free(k);
	if (rc)
		reply_fail(y, &e);
	return !rc;
}

static bool sign(struct srv *s, struct req *r, struct reply *y,
		 const char *sent, const char *stmt, const char *prior,
		 struct buf *env)
{
	if (srv_signer_own(s, r->who.u.id))
		return sign_offline(s, r, y, sent, stmt, prior, env);
	if (sent) {
		bad_envelope(y, "the service holds your key: send no envelope "
			     "(or register your own key first, POST /keys)");
		return false;
	}
	return sign_here(s, r, y, stmt, prior, env);
}

bool srv_sign_new(struct srv *s, struct req *r, struct reply *y,
		  const char *sent, const char *stmt, struct buf *env)
{
	return sign(s, r, y, sent, stmt, NULL, env);
}

bool srv_sign_more(struct srv *s, struct req *r, struct reply *y,
		   const char *sent, const char *prior, struct buf *env)
{
	return sign(s, r, y, sent, NULL, prior, env);
}
