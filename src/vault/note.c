/*
 * note.c - C2SP signed notes carrying tlog checkpoints, and the text form
 * of Merkle proofs.
 *
 * signed-note: TEXT "\n" SIGLINES where each signature line is
 *   "\u2014 " NAME " " base64(keyid[4] || ed25519(TEXT)) "\n"
 * and TEXT ends with "\n". The note splits at the last "\n\n".
 * tlog-checkpoint TEXT: origin, decimal size, base64 root, extensions.
 */
#include "vault/auditlog.h"

#include <sodium.h>
#include <string.h>

#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define EMDASH "\xe2\x80\x94 "
#define NOTE_MAX_SIGS 100

void vault_note_keyid(const char *name, const unsigned char pk[VAULT_PK_LEN],
		      unsigned char out[4])
{
	static const unsigned char sep[2] = { 0x0a, 0x01 };
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, crypto_sign_PUBLICKEYBYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, 4);
}

enum err vault_note_vkey(const struct vault_pubkey *pub, struct buf *out)
{
	unsigned char id[4], raw[1 + crypto_sign_PUBLICKEYBYTES];
	char hex[9];

	vault_note_keyid(pub->name, pub->sign_pk, id);
	sodium_bin2hex(hex, sizeof(hex), id, 4);
	raw[0] = 0x01; /* Ed25519 */
	memcpy(raw + 1, pub->sign_pk, crypto_sign_PUBLICKEYBYTES);
	if (buf_printf(out, "%s+%s+", pub->name, hex) ||
	    vault_b64_add(out, raw, sizeof(raw)))
		return ERR_LIMIT;
	return ERR_OK;
}

static bool origin_ok(const char *s, size_t n)
{
	return n > 0 && n <= VAULT_ORIGIN_MAX && vault_text_printable(s, n);
}

enum err vault_checkpoint_sign(const struct vault_checkpoint *c,
			       struct vault_seckey *key, struct buf *out,
			       struct errmsg *e)
{
	const struct vault_pubkey *pub = vault_seckey_public(key);
	unsigned char sig[4 + VAULT_SIG_LEN];
	struct buf body;
	enum err rc;

	if (!origin_ok(c->origin, strlen(c->origin)))
		return err_set(e, ERR_INVAL, "bad checkpoint origin");
	buf_init(&body, VAULT_NOTE_MAX);
	rc = buf_printf(&body, "%s\n%llu\n", c->origin,
			(unsigned long long)c->size);
	if (!rc)
		rc = vault_b64_add(&body, c->root, VAULT_HASH_LEN);
	if (!rc)
		rc = buf_addch(&body, '\n');
	if (!rc) {
		vault_note_keyid(pub->name, pub->sign_pk, sig);
		vault_seckey_sign(key, body.data, body.len, sig + 4);
		rc = buf_add(out, body.data, body.len);
	}
	if (!rc)
		rc = buf_printf(out, "\n" EMDASH "%s ", pub->name);
	if (!rc)
		rc = vault_b64_add(out, sig, sizeof(sig));
	if (!rc)
		rc = buf_addch(out, '\n');
	buf_release(&body);
	if (rc)
		return err_set(e, rc, "checkpoint too large");
	return ERR_OK;
}

/* The checkpoint body (TEXT of the note). */
static enum err parse_body(const char *text, size_t len,
			   struct vault_checkpoint *out, struct errmsg *e)
{
	struct vlines l;
	const char *line;
	size_t n;
	bool unterm;
	struct vfields f;
	enum err rc;

	memset(out, 0, sizeof(*out));
	vault_lines_init(&l, text, len);
	if (!vault_lines_next(&l, &line, &n, &unterm) || !origin_ok(line, n))
		return err_set(e, ERR_PARSE, "checkpoint: bad origin line");
	memcpy(out->origin, line, n);
	if (!vault_lines_next(&l, &line, &n, &unterm) ||
	    vault_fields_split(line, n, &f, e) || f.n != 1 ||
	    vault_field_u64(&f, 0, &out->size, e))
		return err_set(e, ERR_PARSE, "checkpoint: bad size line");
	if (!vault_lines_next(&l, &line, &n, &unterm))
		return err_set(e, ERR_PARSE, "checkpoint: no root line");
	rc = vault_b64_decode_exact(line, n, out->root, VAULT_HASH_LEN,
				    "checkpoint root", e);
	if (rc)
		return rc;
	while (vault_lines_next(&l, &line, &n, &unterm))
		if (n == 0 || unterm || !vault_text_printable(line, n))
			return err_set(e, ERR_PARSE,
				       "checkpoint: bad extension line");
	return ERR_OK;
}

/* Split a note at its last "\n\n": text keeps its final "\n". */
static enum err note_split(const char *note, size_t len, size_t *text_len,
			   struct errmsg *e)
{
	if (len > VAULT_NOTE_MAX)
		return err_set(e, ERR_LIMIT, "note larger than %d bytes",
			       VAULT_NOTE_MAX);
	if (memchr(note, '\0', len))
		return err_set(e, ERR_PARSE, "note contains NUL");
	for (size_t i = len; i >= 2; i--) {
		if (note[i - 1] == '\n' && note[i - 2] == '\n') {
			*text_len = i - 1;
			if (*text_len < 2 || len == i || note[len - 1] != '\n')
				return err_set(e, ERR_PARSE, "malformed note");
			return ERR_OK;
		}
	}
	return err_set(e, ERR_PARSE, "note has no signatures");
}

enum err vault_checkpoint_parse(const char *text, size_t len,
				struct vault_checkpoint *out, struct errmsg *e)
{
	size_t tl;
	enum err rc = note_split(text, len, &tl, e);

	if (!rc)
		rc = vault_init(e);
	return rc ? rc : parse_body(text, tl, out, e);
}

/* One signature line against the trusted keys: 1 verified, 0 unknown. */
static enum err check_sig_line(const char *line, size_t n, const char *text,
			       size_t tl, const struct vault_pubkey *keys,
			       size_t nkeys, int *verified, struct errmsg *e)
{
	unsigned char raw[4 + VAULT_SIG_LEN], id[4];
	const char *sp;
	size_t nl;

	*verified = 0;
	if (n < 4 || memcmp(line, EMDASH, 4) != 0)
		return err_set(e, ERR_PARSE, "bad signature line");
	line += 4;
	n -= 4;
	sp = memchr(line, ' ', n);
	if (!sp || sp == line)
		return err_set(e, ERR_PARSE, "bad signature line");
	nl = (size_t)(sp - line);
	for (size_t k = 0; k < nkeys; k++) {
		if (strlen(keys[k].name) != nl || memcmp(keys[k].name, line, nl))
			continue;
		vault_note_keyid(keys[k].name, keys[k].sign_pk, id);
		/* Other algorithms or lengths are unknown keys: ignored. */
		if (vault_b64_decode_exact(sp + 1, n - nl - 1, raw, sizeof(raw),
					   "signature", NULL) ||
		    memcmp(raw, id, 4) != 0)
			continue;
		if (crypto_sign_verify_detached(raw + 4,
						(const unsigned char *)text,
						tl, keys[k].sign_pk) != 0)
			return err_set(e, ERR_CRYPTO, "checkpoint signature "
				       "by '%s' is invalid", keys[k].name);
		*verified = 1;
	}
	return ERR_OK;
}

enum err vault_checkpoint_verify(const char *text, size_t len,
				 const struct vault_pubkey *keys, size_t nkeys,
				 struct vault_checkpoint *out,
				 size_t *nsigned_out, struct errmsg *e)
{
	struct vlines l;
	const char *line;
	size_t tl, n, nsig = 0, good = 0;
	bool unterm;
	int v;
	enum err rc = vault_checkpoint_parse(text, len, out, e);

	if (rc)
		return rc;
	(void)note_split(text, len, &tl, NULL);
	vault_lines_init(&l, text + tl + 1, len - tl - 1);
	while (vault_lines_next(&l, &line, &n, &unterm)) {
		if (++nsig > NOTE_MAX_SIGS)
			return err_set(e, ERR_LIMIT, "too many signatures");
		rc = check_sig_line(line, n, text, tl, keys, nkeys, &v, e);
		if (rc)
			return rc;
		good += (size_t)v;
	}
	if (nsigned_out)
		*nsigned_out = good;
	if (!good)
		return err_set(e, ERR_CRYPTO, "checkpoint is not signed by "
			       "any trusted key");
	return ERR_OK;
}

/* ---- proofs ---- */

enum err vault_proof_format(const struct vault_proof *p, struct buf *out)
{
	enum err rc = buf_printf(out, "assay audit proof v1\n%s %llu %llu\n",
				 p->kind == VAULT_PROOF_INCLUSION
					 ? "inclusion" : "consistency",
				 (unsigned long long)p->a,
				 (unsigned long long)p->size);

	if (!rc && p->kind == VAULT_PROOF_INCLUSION) {
		rc = buf_adds(out, "leaf ");
		if (!rc)
			rc = vault_b64_add(out, p->leaf, VAULT_HASH_LEN);
		if (!rc)
			rc = buf_addch(out, '\n');
	}
	for (size_t i = 0; !rc && i < p->len; i++) {
		rc = buf_adds(out, "hash ");
		if (!rc)
			rc = vault_b64_add(out, p->hashes[i], VAULT_HASH_LEN);
		if (!rc)
			rc = buf_addch(out, '\n');
	}
	return rc;
}

static enum err proof_line(struct vault_proof *p, const struct vfields *f,
			   int lineno, struct errmsg *e)
{
	if (lineno == 2) {
		if (f->n != 3 || (!vault_field_is(f, 0, "inclusion") &&
				  !vault_field_is(f, 0, "consistency")))
			return err_set(e, ERR_PARSE, "bad proof kind line");
		p->kind = vault_field_is(f, 0, "inclusion")
				  ? VAULT_PROOF_INCLUSION
				  : VAULT_PROOF_CONSISTENCY;
		if (vault_field_u64(f, 1, &p->a, e) ||
		    vault_field_u64(f, 2, &p->size, e))
			return err_set(e, ERR_PARSE, "bad proof numbers");
		return ERR_OK;
	}
	if (lineno == 3 && p->kind == VAULT_PROOF_INCLUSION) {
		if (f->n != 2 || !vault_field_is(f, 0, "leaf"))
			return err_set(e, ERR_PARSE, "expected 'leaf'");
		return vault_b64_decode_exact(f->s[1], f->len[1], p->leaf,
					      VAULT_HASH_LEN, "leaf", e);
	}
	if (f->n != 2 || !vault_field_is(f, 0, "hash"))
		return err_set(e, ERR_PARSE, "expected 'hash'");
	if (p->len == VAULT_MERKLE_MAX_PROOF)
		return err_set(e, ERR_LIMIT, "proof too long");
	return vault_b64_decode_exact(f->s[1], f->len[1], p->hashes[p->len++],
				      VAULT_HASH_LEN, "hash", e);
}

enum err vault_proof_parse(const char *text, size_t len,
			   struct vault_proof *out, struct errmsg *e)
{
	static const char hdr[] = "assay audit proof v1";
	/* a line reader's locals (vault_int.h), as parse_body()'s above */
	struct vlines l;
	const char *line;
	size_t n;
	bool unterm;
	struct vfields f;
	enum err rc;

	memset(out, 0, sizeof(*out));
	if (!vault_lines_open(&l, text, len, hdr))
		return err_set(e, ERR_PARSE, "not an assay audit proof");
	while (vault_lines_next(&l, &line, &n, &unterm)) {
		rc = unterm ? err_set(e, ERR_PARSE, "truncated")
			    : vault_fields_split(line, n, &f, e);
		if (!rc)
			rc = proof_line(out, &f, l.lineno, e);
		if (rc)
			return err_prefix(e, "proof line %d", l.lineno);
	}
	if (!out->kind || (out->kind == VAULT_PROOF_INCLUSION && l.lineno < 3))
		return err_set(e, ERR_PARSE, "proof is incomplete");
	return ERR_OK;
}
