/*
 * atrest.h - encryption at rest of what the journal stores about task
 * content (transcripts: prompts, commands, outputs, check results).
 *
 * One 32-byte key per installation in $ASSAY_STORE_KEY or
 * $ASSAY_HOME/store.key (created 0600 on first use, held in sodium_malloc
 * memory). Each text is sealed with XChaCha20-Poly1305 under a fresh random
 * nonce, with associated data naming its row, so a row cannot be moved to
 * another episode or position unseen. Sealed text is "enc1:" + base64.
 */
#ifndef ASSAY_VAULT_ATREST_H
#define ASSAY_VAULT_ATREST_H

/* The opening of every header of an opaque handle (as store.h's): guard,
 * err.h, the struct, its load and free. */

#include "base/err.h"

struct vault_atrest;

/* Load the key at path (NULL = the default above), creating it if absent. */
enum err vault_atrest_load(const char *path, struct vault_atrest **k_out,
			   struct errmsg *e) MUST_CHECK;
void vault_atrest_free(struct vault_atrest *k);
/* Caller frees the result. */
char *vault_atrest_seal(const struct vault_atrest *k, const char *ad,
			const char *plain);
/* ERR_CRYPTO for a wrong key, a moved row or any altered byte. */
enum err vault_atrest_open(const struct vault_atrest *k, const char *ad,
			   const char *text, char **plain_out,
			   struct errmsg *e) MUST_CHECK;

/* Crypto-erasure: overwrite the key file at path and remove it, so what
 * it sealed can never be opened again. A missing file is ERR_OK. */
enum err vault_atrest_destroy(const char *path, struct errmsg *e) MUST_CHECK;

#endif
