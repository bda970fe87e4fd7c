/*
 * keys.h - signing keys (Ed25519) and custodian keys (Ed25519 + X25519).
 *
 * Evaluators and admins hold signing keys; custodians hold a pair: an
 * Ed25519 key that signs unseal approvals and an X25519 key their suite
 * shares are sealed to. Both halves are generated together and live in one
 * file.
 *
 * Files:
 *   NAME.pub  public half, two lines. For signing keys this is exactly a
 *             minisign public key ("Ed" || keyid || pk), so `minisign -V -p`
 *             reads it. Custodian keys use "Cu" || keyid || sign_pk || box_pk.
 *   NAME.key  secret half, "assay secret key v1" text, either encrypted with
 *             XChaCha20-Poly1305 under an Argon2id key from a passphrase
 *             (the header lines are associated data) or stored plainly with
 *             mode 0600 (loading refuses a plain key readable by others).
 * The key id is the first 8 bytes of SHA-256("assay-keyid" || 0 || sign_pk).
 *
 * Secret material lives in sodium_malloc memory, is no-access while idle,
 * and is wiped when freed. A struct vault_seckey may be used by one thread
 * at a time. Nothing here logs.
 */
#ifndef ASSAY_VAULT_KEYS_H
#define ASSAY_VAULT_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define VAULT_KEY_NAME_MAX 64
#define VAULT_KEYID_LEN 8 /* the first bytes of a SHA-256: not a primitive's */
#define VAULT_KEYID_HEX_SIZE (2 * VAULT_KEYID_LEN + 1)
/* libsodium's sizes, for headers that cannot include sodium.h; keys.c
 * asserts they agree. */
#define VAULT_SIG_LEN 64    /* crypto_sign_BYTES (Ed25519) */
#define VAULT_PK_LEN 32     /* crypto_sign_PUBLICKEYBYTES */
#define VAULT_BOX_PK_LEN 32 /* crypto_box_PUBLICKEYBYTES (X25519) */

enum vault_key_kind { VAULT_KEY_SIGN = 1, VAULT_KEY_CUSTODIAN = 2 };

struct vault_pubkey {
	enum vault_key_kind kind;
	char name[VAULT_KEY_NAME_MAX + 1];
	unsigned char keyid[VAULT_KEYID_LEN];
	unsigned char sign_pk[VAULT_PK_LEN];
	unsigned char box_pk[VAULT_BOX_PK_LEN]; /* custodian keys only */
};

struct vault_seckey;

/* Names are 1..64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool vault_key_name_ok(const char *name);
const char *vault_key_kind_name(enum vault_key_kind kind);
void vault_keyid_hex(const unsigned char keyid[VAULT_KEYID_LEN],
		     char out[VAULT_KEYID_HEX_SIZE]);

enum err vault_key_generate(enum vault_key_kind kind, const char *name,
			    struct vault_seckey **key_out,
			    struct errmsg *e) MUST_CHECK;
void vault_seckey_free(struct vault_seckey *key);
/* Borrowed; valid until vault_seckey_free. */
const struct vault_pubkey *vault_seckey_public(const struct vault_seckey *key);

/* Write the secret key to path (mode 0600, atomically; refuses to replace
 * an existing file). passphrase NULL stores the key plainly. */
enum err vault_seckey_save(const struct vault_seckey *key, const char *path,
			   const char *passphrase,
			   struct errmsg *e) MUST_CHECK;
/* passphrase may be NULL for plain keys; an encrypted key then fails with
 * ERR_INVAL "needs a passphrase". A wrong passphrase is ERR_CRYPTO. */
enum err vault_seckey_load(const char *path, const char *passphrase,
			   struct vault_seckey **key_out,
			   struct errmsg *e) MUST_CHECK;
/* Detached Ed25519 signature of msg. */
void vault_seckey_sign(struct vault_seckey *key, const void *msg, size_t len,
		       unsigned char sig_out[VAULT_SIG_LEN]);

/* The passphrase: from file if non-NULL, else $ASSAY_PASSPHRASE, else the
 * file named by $ASSAY_PASSPHRASE_FILE; ERR_NOTFOUND if none is set. One
 * trailing newline is dropped. Free with vault_passphrase_free. */
enum err vault_passphrase_read(const char *file, char **pass_out,
			       struct errmsg *e) MUST_CHECK;
void vault_passphrase_free(char *pass);

/* Load a secret key, reading the passphrase (vault_passphrase_read with
 * passphrase_file) only when the file is encrypted. */
enum err vault_seckey_open(const char *path, const char *passphrase_file,
			   struct vault_seckey **key_out,
			   struct errmsg *e) MUST_CHECK;

enum err vault_pubkey_format(const struct vault_pubkey *pub,
			     struct buf *out) MUST_CHECK;
/* `what` names the source in messages. Also accepts a stock minisign
 * public key (named "minisign-KEYID"). */
enum err vault_pubkey_parse(const char *what, const char *text, size_t len,
			    struct vault_pubkey *pub_out,
			    struct errmsg *e) MUST_CHECK;
enum err vault_pubkey_load(const char *path, struct vault_pubkey *pub_out,
			   struct errmsg *e) MUST_CHECK;
/* Ed25519 verification of a detached signature by pub's signing key. */
bool vault_pubkey_verify(const struct vault_pubkey *pub, const void *msg,
			 size_t len, const unsigned char sig[VAULT_SIG_LEN]);

/* Seal msg to a custodian's X25519 key (crypto_box_seal): out receives
 * len + 48 bytes. ERR_INVAL for a signing key. */
enum err vault_seal_to(const struct vault_pubkey *pub, const void *msg,
		       size_t len, unsigned char *out,
		       struct errmsg *e) MUST_CHECK;

/* Custodian keys: open a crypto_box_seal ciphertext sealed to the key's
 * X25519 half into out (clen - 48 bytes). ERR_CRYPTO if it does not open. */
enum err vault_seckey_box_open(struct vault_seckey *key,
			       const unsigned char *c, size_t clen,
			       unsigned char *out, struct errmsg *e) MUST_CHECK;

#endif
