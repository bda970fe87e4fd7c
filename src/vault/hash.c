/*
 * hash.c - libsodium start-up and the SHA-256 helpers of vault.h.
 */
#include "vault/vault.h"

#include <sodium.h>
#include <stdlib.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

enum err vault_init(struct errmsg *e)
{
	/* sodium_init is itself thread safe and returns 1 once initialised. */
	if (sodium_init() < 0)
		return err_set(e, ERR_CRYPTO, "cannot initialise libsodium");
	return ERR_OK;
}

_Static_assert(VAULT_SHA256_LEN == crypto_hash_sha256_BYTES, "SHA-256 size");

void vault_sha256(const void *data, size_t len,
		  unsigned char out[VAULT_SHA256_LEN])
{
	static const unsigned char empty;

	/* crypto_hash_sha256 needs no sodium_init; tolerate data == NULL. */
	crypto_hash_sha256(out, data ? data : &empty, len);
}

void vault_sha256_hex(const void *data, size_t len,
		      char out[VAULT_SHA256_HEX_SIZE])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	vault_sha256(data, len, h);
	hex_encode(h, sizeof(h), out);
}

_Static_assert(sizeof(crypto_hash_sha256_state) <=
	       sizeof(((struct vault_sha256 *)0)->opaque),
	       "struct vault_sha256 too small for libsodium's state");

void vault_sha256_init(struct vault_sha256 *h)
{
	crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)h->opaque);
}

void vault_sha256_update(struct vault_sha256 *h, const void *data, size_t len)
{
	if (len)
		crypto_hash_sha256_update(
			(crypto_hash_sha256_state *)(void *)h->opaque, data, len);
}

void vault_sha256_final_hex(struct vault_sha256 *h,
			    char out[VAULT_SHA256_HEX_SIZE])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)h->opaque, d);
	hex_encode(d, sizeof(d), out);
}

char *vault_home_path(const char *sub, const char *env)
{
	const char *v = env ? getenv(env) : NULL;
	const char *home = getenv("ASSAY_HOME");
	char *base, *out;

	if (v && *v)
		return xstrdup(v);
	if (home && *home)
		return path_join(home, sub);
	home = getenv("HOME");
	base = path_join(home && *home ? home : ".", ".assay");
	out = path_join(base, sub);
	free(base);
	return out;
}
