/*
 * pwhash.c - Argon2id password hashes (see pwhash.h).
 */
#include <sodium.h>
#include <string.h>

#include "vault/pwhash.h"
#include "vault/vault.h"
#include "base/banned.h"

_Static_assert(crypto_pwhash_STRBYTES <= VAULT_PWHASH_MAX,
	       "VAULT_PWHASH_MAX too small");

enum err vault_pw_hash(const char *pw, size_t len, char out[VAULT_PWHASH_MAX],
		       struct errmsg *e)
{
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	if (crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return err_set(e, ERR_NOMEM, "password hash: out of memory");
	return ERR_OK;
}

/* A hash of a password no one knows, computed once, for unknown logins. */
static const char *dummy_hash(void)
{
	static char h[VAULT_PWHASH_MAX];
	static const char pw[] = "assay-dummy-password-never-used";

	if (!h[0] && crypto_pwhash_str(h, pw, sizeof(pw) - 1,
				       crypto_pwhash_OPSLIMIT_INTERACTIVE,
				       crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		h[0] = 0;
	return h;
}

bool vault_pw_verify(const char *hash, const char *pw, size_t len)
{
	bool real = hash && *hash;

	if (vault_init(NULL))
		return false;
	if (!real)
		hash = dummy_hash();
	if (!*hash)
		return false;
	return crypto_pwhash_str_verify(hash, pw, len) == 0 && real;
}

bool vault_ct_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}
