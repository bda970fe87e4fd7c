/*
 * pwhash.h - password hashes and constant-time comparison for the
 * program's accounts (server/).
 *
 * vault_pw_hash: Argon2id (libsodium crypto_pwhash_str, its INTERACTIVE
 * limits: 2 passes over 64 MiB), the result a self-describing "$argon2id$"
 * string. vault_pw_verify takes the same time for a missing hash (a dummy
 * is checked), so an unknown login cannot be told from a wrong password by
 * timing.
 */
#ifndef ASSAY_VAULT_PWHASH_H
#define ASSAY_VAULT_PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define VAULT_PWHASH_MAX 128

/* Hash pw (len bytes) into out. ERR_NOMEM when the memory limit cannot be
 * had. */
enum err vault_pw_hash(const char *pw, size_t len, char out[VAULT_PWHASH_MAX],
		       struct errmsg *e) MUST_CHECK;
/* Whether pw matches hash; hash NULL checks a dummy and returns false. */
bool vault_pw_verify(const char *hash, const char *pw, size_t len);
/* Constant-time equality of n bytes. */
bool vault_ct_equal(const void *a, const void *b, size_t n);

#endif
