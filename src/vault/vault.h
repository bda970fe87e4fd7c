/*
 * vault.h - the vault part: hashing helpers every other part may use, and
 * the entry point to libsodium. The rest of the vault's contract lives in
 * keys.h (signing and custodian keys), sign.h (DSSE and minisign),
 * auditlog.h (the Merkle audit log) and seal.h (sealed suite archives).
 *
 * sodium.h is included only by the .c files of src/vault; no libsodium type appears in
 * any vault header. Every function here is thread safe once vault_init()
 * has run; the hashing helpers call it themselves.
 */
#ifndef ASSAY_VAULT_H
#define ASSAY_VAULT_H

#include <stddef.h>

#include "base/err.h"

/* Initialise libsodium (idempotent, thread safe). ERR_CRYPTO if the
 * library cannot start (no entropy source). */
enum err vault_init(struct errmsg *e) MUST_CHECK;

/* libsodium's crypto_hash_sha256_BYTES, for headers that cannot include
 * sodium.h (hash.c asserts they agree), and its lower-case hex with NUL. */
#define VAULT_SHA256_LEN 32
#define VAULT_SHA256_HEX_SIZE (2 * VAULT_SHA256_LEN + 1)

/* SHA-256 of data into out. data may be NULL when len is 0. */
void vault_sha256(const void *data, size_t len,
		  unsigned char out[VAULT_SHA256_LEN]);
/* Lower-case hex SHA-256 of data into out (64 hex digits + NUL). */
void vault_sha256_hex(const void *data, size_t len,
		      char out[VAULT_SHA256_HEX_SIZE]);

/* Streaming SHA-256: init, update any number of times, final (which
 * writes lower-case hex and leaves the state unusable until init). The
 * state is plain memory the caller owns (no allocation, no release). */
struct vault_sha256 {
	_Alignas(16) unsigned char opaque[128];
};
void vault_sha256_init(struct vault_sha256 *h);
void vault_sha256_update(struct vault_sha256 *h, const void *data, size_t len);
void vault_sha256_final_hex(struct vault_sha256 *h,
			    char out[VAULT_SHA256_HEX_SIZE]);

/* Where vault state lives by default: the value of environment variable
 * env if set, else $ASSAY_HOME/sub, else $HOME/.assay/sub. Caller frees. */
char *vault_home_path(const char *sub, const char *env);

#endif
