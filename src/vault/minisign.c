/*
 * minisign.c - detached signatures in minisign's format (prehashed
 * Ed25519, "ED"), so developers can check results with a stock tool:
 *
 *   untrusted comment: <text>
 *   base64("ED" || keyid[8] || Ed25519(BLAKE2b-512(data)))
 *   trusted comment: <text>
 *   base64(Ed25519(signature[64] || trusted comment))
 */
#include "vault/sign.h"

#include <sodium.h>
#include <string.h>

#include "vault/vault_int.h"
#include "base/banned.h"

#define TC_PREFIX "trusted comment: "
#define UC_PREFIX "untrusted comment: "
#define TC_MAX 1024

/* minisign's prehash: BLAKE2b-512 */
#define PREHASH_LEN crypto_generichash_BYTES_MAX

static void prehash(const void *data, size_t len,
		    unsigned char out[PREHASH_LEN])
{
	crypto_generichash(out, PREHASH_LEN, data, len, NULL, 0);
}

enum err vault_minisign_sign(struct vault_seckey *key, const void *data,
			     size_t len, const char *trusted_comment,
			     struct buf *out, struct errmsg *e)
{
	const struct vault_pubkey *pub = vault_seckey_public(key);
	unsigned char raw[2 + VAULT_KEYID_LEN + VAULT_SIG_LEN];
	unsigned char h[PREHASH_LEN], gsig[VAULT_SIG_LEN];
	unsigned char gmsg[VAULT_SIG_LEN + TC_MAX];
	size_t tcl = strlen(trusted_comment);
	enum err rc;

	if (tcl > TC_MAX || !vault_text_printable(trusted_comment, tcl))
		return err_set(e, ERR_INVAL, "trusted comment must be one "
			       "printable line of at most %d bytes", TC_MAX);
	if (pub->kind != VAULT_KEY_SIGN)
		return err_set(e, ERR_INVAL, "'%s' is not a signing key",
			       pub->name);
	prehash(data, len, h);
	memcpy(raw, "ED", 2);
	memcpy(raw + 2, pub->keyid, VAULT_KEYID_LEN);
	vault_seckey_sign(key, h, sizeof(h), raw + 2 + VAULT_KEYID_LEN);
	memcpy(gmsg, raw + 2 + VAULT_KEYID_LEN, VAULT_SIG_LEN);
	memcpy(gmsg + VAULT_SIG_LEN, trusted_comment, tcl);
	vault_seckey_sign(key, gmsg, VAULT_SIG_LEN + tcl, gsig);
	rc = buf_printf(out, UC_PREFIX "signature from assay key %s\n",
			pub->name);
	if (!rc)
		rc = vault_b64_add(out, raw, sizeof(raw));
	if (!rc)
		rc = buf_printf(out, "\n" TC_PREFIX "%s\n", trusted_comment);
	if (!rc)
		rc = vault_b64_add(out, gsig, sizeof(gsig));
	if (!rc)
		rc = buf_addch(out, '\n');
	if (rc)
		return err_set(e, rc, "signature too large");
	return ERR_OK;
}

struct minisig {
	unsigned char raw[2 + VAULT_KEYID_LEN + VAULT_SIG_LEN];
	const char *tc;
	size_t tcl;
	unsigned char gsig[VAULT_SIG_LEN];
};

static enum err minisig_parse(const char *s, size_t n, struct minisig *m,
			      struct errmsg *e)
{
	struct vlines l;
	const char *line[4];
	size_t len[4];
	bool unterm;
	int i = 0;

	vault_lines_init(&l, s, n);
	while (i < 4 && vault_lines_next(&l, &line[i], &len[i], &unterm))
		i++;
	if (i < 4 || l.p != l.end)
		return err_set(e, ERR_PARSE, "signature must have 4 lines");
	if (len[0] < strlen(UC_PREFIX) || memcmp(line[0], UC_PREFIX, strlen(UC_PREFIX)) ||
	    len[2] < strlen(TC_PREFIX) || memcmp(line[2], TC_PREFIX, strlen(TC_PREFIX)))
		return err_set(e, ERR_PARSE, "missing comment lines");
	if (vault_b64_decode_exact(line[1], len[1], m->raw, sizeof(m->raw),
				   "signature", e) ||
	    vault_b64_decode_exact(line[3], len[3], m->gsig, sizeof(m->gsig),
				   "global signature", e))
		return ERR_PARSE;
	if (memcmp(m->raw, "ED", 2) != 0)
		return err_set(e, ERR_PARSE, "only prehashed (ED) signatures "
			       "are supported");
	m->tc = line[2] + strlen(TC_PREFIX);
	m->tcl = len[2] - strlen(TC_PREFIX);
	if (m->tcl > TC_MAX)
		return err_set(e, ERR_LIMIT, "trusted comment too long");
	return ERR_OK;
}

enum err vault_minisign_keyid(const char *sig, size_t sig_len,
			      unsigned char keyid[VAULT_KEYID_LEN],
			      struct errmsg *e)
{
	struct minisig m;
	enum err rc = minisig_parse(sig, sig_len, &m, e);

	if (!rc)
		memcpy(keyid, m.raw + 2, VAULT_KEYID_LEN);
	return rc;
}

enum err vault_minisign_verify(const struct vault_pubkey *pub,
			       const void *data, size_t len, const char *sig,
			       size_t sig_len, struct buf *tc_out,
			       struct errmsg *e)
{
	struct minisig m;
	unsigned char h[PREHASH_LEN], gmsg[VAULT_SIG_LEN + TC_MAX];
	const unsigned char *s64;
	enum err rc = minisig_parse(sig, sig_len, &m, e);

	if (rc)
		return rc;
	if (memcmp(m.raw + 2, pub->keyid, VAULT_KEYID_LEN) != 0)
		return err_set(e, ERR_CRYPTO, "signature is by another key "
			       "than '%s'", pub->name);
	s64 = m.raw + 2 + VAULT_KEYID_LEN;
	prehash(data, len, h);
	if (!vault_pubkey_verify(pub, h, sizeof(h), s64))
		return err_set(e, ERR_CRYPTO, "signature verification failed");
	memcpy(gmsg, s64, VAULT_SIG_LEN);
	memcpy(gmsg + VAULT_SIG_LEN, m.tc, m.tcl);
	if (!vault_pubkey_verify(pub, gmsg, VAULT_SIG_LEN + m.tcl, m.gsig))
		return err_set(e, ERR_CRYPTO, "trusted comment verification "
			       "failed");
	if (tc_out && buf_add(tc_out, m.tc, m.tcl))
		return err_set(e, ERR_LIMIT, "trusted comment too long");
	return ERR_OK;
}
