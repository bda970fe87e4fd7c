/*
 * sign.h - signed results: DSSE envelopes (an in-toto Statement as the
 * payload) with t-of-n Ed25519 signatures, and minisign-compatible
 * detached signatures that Debian's `minisign -V` accepts.
 *
 * DSSE (secure-systems-lab/dsse protocol.md): every signature covers
 *   PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body
 * The envelope is JSON: {"payloadType","payload"(base64),"signatures":
 * [{"keyid","sig"(base64)}]}. keyid is the hex assay key id, a hint only:
 * verification tries every trusted key and counts each key at most once,
 * so one key signing twice is still one signature.
 * The envelope is read through base/ytree (JSON is YAML 1.2 flow syntax),
 * strictly: a map of quoted strings, known fields only, no duplicates.
 *
 * minisign: "ED" || keyid || Ed25519(BLAKE2b-512(data)), then a trusted
 * comment signed together with that signature (minisign 0.11 format).
 */
#ifndef ASSAY_VAULT_SIGN_H
#define ASSAY_VAULT_SIGN_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "vault/keys.h"

#define VAULT_DSSE_INTOTO "application/vnd.in-toto+json"
#define VAULT_DSSE_MAX (16u << 20)
#define VAULT_DSSE_MAX_SIGS 16

struct vault_dsse_sig {
	char *keyid;        /* as found, may be "" */
	unsigned char sig[VAULT_SIG_LEN];
	int sig_ok_len;     /* 1 when the sig decoded to 64 bytes */
};

struct vault_dsse {
	char *payload_type;
	unsigned char *payload;
	size_t payload_len;
	size_t nsigs;
	struct vault_dsse_sig *sigs;
};

/* Append the pre-authentication encoding of (type, body) to out. */
enum err vault_dsse_pae(const char *type, const void *body, size_t len,
			struct buf *out) MUST_CHECK;

/* A new envelope over payload, signed by each of keys[0..nkeys). */
enum err vault_dsse_sign(const char *payload_type, const void *payload,
			 size_t len, struct vault_seckey *const *keys,
			 size_t nkeys, struct buf *envelope_out,
			 struct errmsg *e) MUST_CHECK;
/* Add key's signature to an existing envelope (the admin co-signature). */
enum err vault_dsse_cosign(const char *envelope, size_t len,
			   struct vault_seckey *key, struct buf *out,
			   struct errmsg *e) MUST_CHECK;

enum err vault_dsse_parse(const char *text, size_t len,
			  struct vault_dsse **env_out,
			  struct errmsg *e) MUST_CHECK;
void vault_dsse_free(struct vault_dsse *env);
/* Succeeds when at least `threshold` distinct keys among keys[0..nkeys)
 * have a valid signature; ERR_CRYPTO otherwise, naming how many did.
 * *nvalid_out (may be NULL) gets the count; signer_out (may be NULL,
 * nkeys entries) is set to 1 for each key that signed. */
enum err vault_dsse_verify(const struct vault_dsse *env,
			   const struct vault_pubkey *keys, size_t nkeys,
			   size_t threshold, size_t *nvalid_out,
			   int *signer_out, struct errmsg *e) MUST_CHECK;

/* What became of each signature of an envelope, for saying which one
 * failed and why. */
enum vault_sig_status {
	VAULT_SIG_VALID,        /* by keys[key] */
	VAULT_SIG_DUPLICATE,    /* valid, by a key already counted */
	VAULT_SIG_MALFORMED,    /* not 64 bytes of base64 */
	VAULT_SIG_UNTRUSTED,    /* no trusted key made it (nor claims it) */
	VAULT_SIG_INVALID,      /* its keyid names keys[key], which did not
	                           make it: payload or signature altered */
};
struct vault_sig_check {
	enum vault_sig_status status;
	int key;                /* index into keys, or -1 */
};
/* One entry of out (env->nsigs entries) per signature of env. */
void vault_dsse_check(const struct vault_dsse *env,
		      const struct vault_pubkey *keys, size_t nkeys,
		      struct vault_sig_check *out);

/* The key id a .minisig claims (ERR_PARSE when it is not one). */
enum err vault_minisign_keyid(const char *sig, size_t sig_len,
			      unsigned char keyid[VAULT_KEYID_LEN],
			      struct errmsg *e) MUST_CHECK;

/* A .minisig for data with the given trusted comment (one line). */
enum err vault_minisign_sign(struct vault_seckey *key, const void *data,
			     size_t len, const char *trusted_comment,
			     struct buf *out, struct errmsg *e) MUST_CHECK;
/* Verify a .minisig; the trusted comment is appended to tc_out (may be
 * NULL). ERR_CRYPTO when a signature does not verify. */
enum err vault_minisign_verify(const struct vault_pubkey *pub,
			       const void *data, size_t len, const char *sig,
			       size_t sig_len, struct buf *tc_out,
			       struct errmsg *e) MUST_CHECK;

#endif
