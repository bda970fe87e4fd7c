/*
 * atrest.c - see atrest.h.
 */
#include "vault/atrest.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define KEYLEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define PREFIX "enc1:"
#define B64 sodium_base64_VARIANT_ORIGINAL

struct vault_atrest {
	unsigned char *key;        /* sodium_malloc, KEYLEN */
};

static enum err read_key(const char *path, unsigned char *key, struct errmsg *e)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return err_sys(e, ERR_CRYPTO, "store key '%s'", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return err_set(e, ERR_CRYPTO, "store key '%s' must be a regular "
			       "file of mode 0600", path);
	}
	n = read(fd, key, KEYLEN);
	close(fd);
	if (n != (ssize_t)KEYLEN)
		return err_set(e, ERR_CRYPTO, "store key '%s' is not %d bytes",
			       path, (int)KEYLEN);
	return ERR_OK;
}

static enum err create_key(const char *path, unsigned char *key,
			   struct errmsg *e)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	enum err rc = ERR_OK;
	int fd;

	if (slash && slash != dir) {
		*slash = '\0';
		rc = mkdir_p(dir, 0700, e);
	}
	free(dir);
	if (rc)
		return rc;
	randombytes_buf(key, KEYLEN);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? read_key(path, key, e) :
		       err_sys(e, ERR_CRYPTO, "cannot create store key '%s'", path);
	if (write(fd, key, KEYLEN) != (ssize_t)KEYLEN || fsync(fd) < 0)
		rc = err_sys(e, ERR_CRYPTO, "cannot write store key '%s'", path);
	close(fd);
	return rc;
}

enum err vault_atrest_load(const char *path, struct vault_atrest **k_out,
			   struct errmsg *e)
{
	char *p = path ? xstrdup(path) : vault_home_path("store.key",
							 "ASSAY_STORE_KEY");
	struct vault_atrest *k;
	enum err rc;

	if ((rc = vault_init(e))) {
		free(p);
		return rc;
	}
	k = xcalloc(1, sizeof(*k));
	k->key = vsecure_alloc(KEYLEN);
	rc = path_exists(p) ? read_key(p, k->key, e) : create_key(p, k->key, e);
	free(p);
	if (rc) {
		vault_atrest_free(k);
		return rc;
	}
	*k_out = k;
	return ERR_OK;
}

void vault_atrest_free(struct vault_atrest *k)
{
	if (!k)
		return;
	sodium_free(k->key);      /* wipes */
	free(k);
}

char *vault_atrest_seal(const struct vault_atrest *k, const char *ad,
			const char *plain)
{
	size_t n = strlen(plain), blen = NONCE + n + TAG;
	unsigned char *bin = xmalloc(blen);
	size_t b64 = sodium_base64_ENCODED_LEN(blen, B64);
	char *out = xmalloc(strlen(PREFIX) + b64);

	randombytes_buf(bin, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(bin + NONCE, NULL,
		(const unsigned char *)plain, n, (const unsigned char *)ad,
		strlen(ad), NULL, bin, k->key);
	memcpy(out, PREFIX, strlen(PREFIX));
	sodium_bin2base64(out + strlen(PREFIX), b64, bin, blen, B64);
	free(bin);
	return out;
}

enum err vault_atrest_open(const struct vault_atrest *k, const char *ad,
			   const char *text, char **plain_out, struct errmsg *e)
{
	size_t tlen, blen = 0, n;
	unsigned char *bin;
	char *plain;
	unsigned long long plen;

	if (strncmp(text, PREFIX, strlen(PREFIX)))
		return err_set(e, ERR_CRYPTO, "journal row %s is not encrypted",
			       ad);
	text += strlen(PREFIX);
	tlen = strlen(text);
	bin = xmalloc(tlen + 1);
	if (sodium_base642bin(bin, tlen, text, tlen, NULL, &blen, NULL, B64) ||
	    blen < NONCE + TAG) {
		free(bin);
		return err_set(e, ERR_CRYPTO, "journal row %s is corrupt", ad);
	}
	n = blen - NONCE - TAG;
	plain = xmalloc(n + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain,
		&plen, NULL, bin + NONCE, blen - NONCE, (const unsigned char *)ad,
		strlen(ad), bin, k->key)) {
		free(bin);
		free(plain);
		return err_set(e, ERR_CRYPTO, "journal row %s does not decrypt "
			       "(wrong store key, or the row was altered or moved)",
			       ad);
	}
	plain[plen] = '\0';
	free(bin);
	*plain_out = plain;
	return ERR_OK;
}

enum err vault_atrest_destroy(const char *path, struct errmsg *e)
{
	unsigned char zero[KEYLEN];
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	enum err rc = ERR_OK;

	if (fd < 0)
		return errno == ENOENT ? ERR_OK
				       : err_sys(e, ERR_IO, "key '%s'", path);
	memset(zero, 0, sizeof(zero));
	if (write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero) ||
	    fsync(fd) < 0)
		rc = err_sys(e, ERR_IO, "cannot overwrite key '%s'", path);
	close(fd);
	if (!rc && unlink(path) < 0)
		rc = err_sys(e, ERR_IO, "cannot remove key '%s'", path);
	return rc;
}
