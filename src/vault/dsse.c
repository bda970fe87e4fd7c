/*
 * dsse.c - DSSE envelopes: PAE, signing, co-signing, strict parsing and
 * t-of-n verification.
 */
#include "vault/sign.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/bug.h"
#include "base/jsonw.h"
#include "base/xalloc.h"
#include "base/ytree.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

enum err vault_dsse_pae(const char *type, const void *body, size_t len,
			struct buf *out)
{
	enum err rc = buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(type), type,
				 len);

	return rc ? rc : buf_add(out, body, len);
}

static enum err sign_one(const char *type, const unsigned char *payload,
			 size_t len, struct vault_seckey *key,
			 struct vault_dsse_sig *out)
{
	struct buf pae;
	char id[VAULT_KEYID_HEX_SIZE];
	enum err rc;

	buf_init(&pae, VAULT_DSSE_MAX + 1024);
	rc = vault_dsse_pae(type, payload, len, &pae);
	if (!rc)
		vault_seckey_sign(key, pae.data, pae.len, out->sig);
	buf_release(&pae);
	vault_keyid_hex(vault_seckey_public(key)->keyid, id);
	out->keyid = xstrdup(id);
	out->sig_ok_len = 1;
	return rc;
}

/* key: base64 of p as a JSON string */
static void add_b64(struct jsonw *w, const char *key, const void *p, size_t n)
{
	struct buf t;

	buf_init(&t, (n / 3 + 1) * 4 + 1);
	jsonw_key(w, key);
	if (vault_b64_add(&t, p, n))
		BUG("base64 of %zu bytes does not fit its buffer", n);
	jsonw_strn(w, t.data, t.len);
	buf_release(&t);
}

static enum err envelope_format(const struct vault_dsse *env, struct buf *out)
{
	struct jsonw w;
	enum err rc;

	jsonw_init(&w, out, 0);
	jsonw_obj(&w);
	jsonw_kstr(&w, "payloadType", env->payload_type);
	add_b64(&w, "payload", env->payload, env->payload_len);
	jsonw_key(&w, "signatures");
	jsonw_arr(&w);
	for (size_t i = 0; i < env->nsigs; i++) {
		jsonw_obj(&w);
		jsonw_kstr(&w, "keyid", env->sigs[i].keyid);
		add_b64(&w, "sig", env->sigs[i].sig, VAULT_SIG_LEN);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	rc = jsonw_finish(&w, NULL);
	return rc ? rc : buf_addch(out, '\n');
}

enum err vault_dsse_sign(const char *payload_type, const void *payload,
			 size_t len, struct vault_seckey *const *keys,
			 size_t nkeys, struct buf *envelope_out,
			 struct errmsg *e)
{
	struct vault_dsse env;
	enum err rc = ERR_OK;

	if (len > VAULT_DSSE_MAX || nkeys > VAULT_DSSE_MAX_SIGS)
		return err_set(e, ERR_LIMIT, "payload or signature count too "
			       "large");
	env.payload_type = (char *)payload_type;
	env.payload = (unsigned char *)payload;
	env.payload_len = len;
	env.nsigs = nkeys;
	env.sigs = xcalloc(nkeys + 1, sizeof(*env.sigs));
	for (size_t i = 0; !rc && i < nkeys; i++)
		rc = sign_one(payload_type, payload, len, keys[i], &env.sigs[i]);
	if (!rc)
		rc = envelope_format(&env, envelope_out);
	for (size_t i = 0; i < nkeys; i++)
		free(env.sigs[i].keyid);
	free(env.sigs);
	if (rc)
		return err_set(e, rc, "cannot build the DSSE envelope");
	return ERR_OK;
}

enum err vault_dsse_cosign(const char *envelope, size_t len,
			   struct vault_seckey *key, struct buf *out,
			   struct errmsg *e)
{
	struct vault_dsse *env;
	enum err rc = vault_dsse_parse(envelope, len, &env, e);

	if (rc)
		return rc;
	if (env->nsigs == VAULT_DSSE_MAX_SIGS) {
		vault_dsse_free(env);
		return err_set(e, ERR_LIMIT, "envelope has too many signatures");
	}
	env->sigs = xrealloc(env->sigs, (env->nsigs + 1) * sizeof(*env->sigs));
	rc = sign_one(env->payload_type, env->payload, env->payload_len, key,
		      &env->sigs[env->nsigs++]);
	if (!rc)
		rc = envelope_format(env, out);
	vault_dsse_free(env);
	if (rc)
		return err_set(e, rc, "cannot build the DSSE envelope");
	return ERR_OK;
}

void vault_dsse_free(struct vault_dsse *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->nsigs; i++)
		free(env->sigs[i].keyid);
	free(env->sigs);
	free(env->payload_type);
	free(env->payload);
	free(env);
}

/* ---- parsing ---- */

static const char *qstr(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR && n->quoted ? n->str : NULL;
}

static enum err parse_sig(const struct ynode *n, struct vault_dsse_sig *s,
			  struct errmsg *e)
{
	const char *sig;

	if (!n || n->kind != YNODE_MAP)
		return err_set(e, ERR_PARSE, "signature is not an object");
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->pairs[i].key->str;
		if (strcmp(k, "keyid") && strcmp(k, "sig"))
			return err_set(e, ERR_PARSE, "unknown field '%s'", k);
		if (!qstr(n->pairs[i].val))
			return err_set(e, ERR_PARSE, "'%s' is not a string", k);
	}
	sig = qstr(ymap_get(n, "sig"));
	if (!sig)
		return err_set(e, ERR_PARSE, "signature without 'sig'");
	s->keyid = xstrdup(qstr(ymap_get(n, "keyid")) ? qstr(ymap_get(n, "keyid")) : "");
	/* Other algorithms' signatures are kept but can never verify. */
	s->sig_ok_len = vault_b64_decode_exact(sig, strlen(sig), s->sig,
					       VAULT_SIG_LEN, "sig", NULL) == ERR_OK;
	return ERR_OK;
}

static enum err parse_fields(const struct ynode *root, struct vault_dsse *env,
			     struct errmsg *e)
{
	const struct ynode *sigs = ymap_get(root, "signatures");
	const char *type = qstr(ymap_get(root, "payloadType"));
	const char *payload = qstr(ymap_get(root, "payload"));
	enum err rc;

	if (root->kind != YNODE_MAP || root->n != 3 || !type || !payload ||
	    !sigs || sigs->kind != YNODE_SEQ)
		return err_set(e, ERR_PARSE, "not a DSSE envelope (want "
			       "payloadType, payload, signatures)");
	if (sigs->n == 0 || sigs->n > VAULT_DSSE_MAX_SIGS)
		return err_set(e, ERR_PARSE, "envelope has %zu signatures",
			       sigs->n);
	env->payload_type = xstrdup(type);
	rc = vault_b64_decode_alloc(payload, strlen(payload), VAULT_DSSE_MAX,
				    &env->payload, &env->payload_len, "payload", e);
	env->sigs = xcalloc(sigs->n, sizeof(*env->sigs));
	for (size_t i = 0; !rc && i < sigs->n; i++) {
		rc = parse_sig(sigs->items[i], &env->sigs[i], e);
		if (!rc)
			env->nsigs++;
	}
	return rc;
}

enum err vault_dsse_parse(const char *text, size_t len,
			  struct vault_dsse **env_out, struct errmsg *e)
{
	struct vault_dsse *env;
	struct ynode *root;
	enum err rc;

	rc = vault_init(e);
	if (rc)
		return rc;
	if (len > VAULT_DSSE_MAX * 2)
		return err_set(e, ERR_LIMIT, "envelope larger than %u bytes",
			       VAULT_DSSE_MAX * 2);
	if (len == 0 || memchr(text, '\0', len) || text[0] != '{')
		return err_set(e, ERR_PARSE, "not a JSON DSSE envelope");
	rc = ytree_parse("envelope", text, len, &root, e);
	if (rc)
		return rc;
	env = xcalloc(1, sizeof(*env));
	rc = parse_fields(root, env, e);
	ytree_free(root);
	if (rc) {
		vault_dsse_free(env);
		return rc;
	}
	*env_out = env;
	return ERR_OK;
}

enum err vault_dsse_verify(const struct vault_dsse *env,
			   const struct vault_pubkey *keys, size_t nkeys,
			   size_t threshold, size_t *nvalid_out,
			   int *signer_out, struct errmsg *e)
{
	struct buf pae;
	size_t valid = 0;
	enum err rc;

	if (threshold == 0)
		return err_set(e, ERR_INVAL, "signature threshold must be > 0");
	buf_init(&pae, VAULT_DSSE_MAX + 1024);
	rc = vault_dsse_pae(env->payload_type, env->payload, env->payload_len,
			    &pae);
	for (size_t k = 0; !rc && k < nkeys; k++) {
		int ok = 0;
		for (size_t s = 0; s < env->nsigs && !ok; s++)
			ok = env->sigs[s].sig_ok_len &&
			     vault_pubkey_verify(&keys[k], pae.data, pae.len,
						 env->sigs[s].sig);
		/* the same key given twice counts once */
		for (size_t j = 0; ok && j < k; j++)
			if (!memcmp(keys[j].sign_pk, keys[k].sign_pk, VAULT_PK_LEN))
				ok = 0;
		if (signer_out)
			signer_out[k] = ok;
		valid += (size_t)ok;
	}
	buf_release(&pae);
	if (rc)
		return err_set(e, rc, "envelope too large");
	if (nvalid_out)
		*nvalid_out = valid;
	if (valid < threshold)
		return err_set(e, ERR_CRYPTO, "%zu valid signature%s by trusted "
			       "keys, %zu required", valid,
			       valid == 1 ? "" : "s", threshold);
	return ERR_OK;
}

static int hinted_key(const char *keyid, const struct vault_pubkey *keys,
		      size_t nkeys)
{
	char hex[VAULT_KEYID_HEX_SIZE];

	for (size_t k = 0; keyid && k < nkeys; k++) {
		vault_keyid_hex(keys[k].keyid, hex);
		if (!strcmp(hex, keyid))
			return (int)k;
	}
	return -1;
}

void vault_dsse_check(const struct vault_dsse *env,
		      const struct vault_pubkey *keys, size_t nkeys,
		      struct vault_sig_check *out)
{
	struct buf pae;
	bool *counted = xcalloc(nkeys + 1, sizeof(*counted));

	buf_init(&pae, VAULT_DSSE_MAX + 1024);
	if (vault_dsse_pae(env->payload_type, env->payload, env->payload_len,
			   &pae))
		buf_reset(&pae);
	for (size_t s = 0; s < env->nsigs; s++) {
		struct vault_sig_check *c = &out[s];
		c->key = -1;
		c->status = VAULT_SIG_UNTRUSTED;
		if (!env->sigs[s].sig_ok_len) {
			c->status = VAULT_SIG_MALFORMED;
			continue;
		}
		for (size_t k = 0; pae.len && k < nkeys && c->key < 0; k++)
			if (vault_pubkey_verify(&keys[k], pae.data, pae.len,
						env->sigs[s].sig))
				c->key = (int)k;
		if (c->key < 0) {
			c->key = hinted_key(env->sigs[s].keyid, keys, nkeys);
			c->status = c->key < 0 ? VAULT_SIG_UNTRUSTED :
				    VAULT_SIG_INVALID;
			continue;
		}
		/* the same public key given twice, or signing twice */
		for (size_t j = 0; j < (size_t)c->key; j++)
			if (!memcmp(keys[j].sign_pk, keys[c->key].sign_pk,
				    VAULT_PK_LEN))
				c->key = (int)j;
		c->status = counted[c->key] ? VAULT_SIG_DUPLICATE : VAULT_SIG_VALID;
		counted[c->key] = true;
	}
	free(counted);
	buf_release(&pae);
}
