/*
 * worker.c - workers' key pairs and the task keys wrapped to them
 * (worker.h). The wrap is crypto_box_seal, as custodian shares are: a
 * fresh ephemeral key per wrap, so only the worker's secret opens it and
 * no two wraps of one key look alike.
 */
#include "vault/worker.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

_Static_assert(VAULT_BOX_PK_LEN == crypto_box_PUBLICKEYBYTES &&
		       VAULT_SEAL_BOX_LEN == crypto_box_SEALBYTES,
	       "X25519 sizes");

#define HDR_LINE "assay worker key v1"
#define PREFIX_LEN (sizeof(VAULT_WORKER_PUB_PREFIX) - 1)
#define SK_LEN crypto_box_SECRETKEYBYTES
#define KEYFILE_MAX 1024

struct vault_worker_key {
	unsigned char pk[crypto_box_PUBLICKEYBYTES];
	unsigned char *sk;          /* sodium_malloc, no access while idle */
	char pub[VAULT_WORKER_PUB_SIZE];
};

static struct vault_worker_key *key_alloc(void)
{
	struct vault_worker_key *k = xcalloc(1, sizeof(*k));

	k->sk = vault_secure_alloc(SK_LEN);
	return k;
}

static void pub_text(struct vault_worker_key *k)
{
	memcpy(k->pub, VAULT_WORKER_PUB_PREFIX, PREFIX_LEN);
	sodium_bin2hex(k->pub + PREFIX_LEN, sizeof(k->pub) - PREFIX_LEN, k->pk,
		       sizeof(k->pk));
}

void vault_worker_key_free(struct vault_worker_key *k)
{
	if (!k)
		return;
	sodium_free(k->sk); /* wipes */
	free(k);
}

const char *vault_worker_key_public(const struct vault_worker_key *k)
{
	return k->pub;
}

enum err vault_worker_key_generate(struct vault_worker_key **k_out,
				   struct errmsg *e)
{
	struct vault_worker_key *k;
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	k = key_alloc();
	crypto_box_keypair(k->pk, k->sk);
	sodium_mprotect_noaccess(k->sk);
	pub_text(k);
	*k_out = k;
	return ERR_OK;
}

enum err vault_worker_key_save(const struct vault_worker_key *k,
			       const char *path, struct errmsg *e)
{
	size_t n = sizeof(HDR_LINE) + 8 + VAULT_WORKER_PUB_SIZE + 8 + 2 * SK_LEN + 2;
	char *text = vault_secure_alloc(n);
	int len;
	enum err rc;

	if (path_exists(path)) {
		sodium_free(text);
		return err_set(e, ERR_INVAL, "key file '%s' already exists",
			       path);
	}
	len = snprintf(text, n, HDR_LINE "\npublic %s\nsecret ", k->pub);
	sodium_mprotect_readonly(k->sk);
	sodium_bin2hex(text + len, n - (size_t)len, k->sk, SK_LEN);
	sodium_mprotect_noaccess(k->sk);
	len += 2 * SK_LEN;
	text[len++] = '\n';
	rc = file_write_atomic(path, text, (size_t)len, 0600, e);
	sodium_free(text); /* wipes */
	return rc;
}

/* A public key's 64 hex digits after the prefix into pk. */
static bool pub_hex(const char *s, size_t n,
		    unsigned char pk[crypto_box_PUBLICKEYBYTES])
{
	size_t got = 0;

	if (n != PREFIX_LEN + 2 * crypto_box_PUBLICKEYBYTES ||
	    memcmp(s, VAULT_WORKER_PUB_PREFIX, PREFIX_LEN))
		return false;
	for (size_t i = PREFIX_LEN; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	return sodium_hex2bin(pk, crypto_box_PUBLICKEYBYTES, s + PREFIX_LEN,
			      n - PREFIX_LEN, NULL, &got, NULL) == 0 &&
	       got == crypto_box_PUBLICKEYBYTES;
}

enum err vault_worker_pub_parse(const char *text, size_t len,
				char canon_out[VAULT_WORKER_PUB_SIZE],
				struct errmsg *e)
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES];
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	while (len && strchr(" \t\r\n", text[0]) && text[0]) {
		text++;
		len--;
	}
	while (len && strchr(" \t\r\n", text[len - 1]) && text[len - 1])
		len--;
	if (!pub_hex(text, len, pk))
		return err_set(e, ERR_PARSE, "not a worker public key (want "
			       "'" VAULT_WORKER_PUB_PREFIX "' and 64 hex "
			       "digits, as 'assay keys worker-new' prints)");
	memcpy(canon_out, VAULT_WORKER_PUB_PREFIX, PREFIX_LEN);
	sodium_bin2hex(canon_out + PREFIX_LEN, VAULT_WORKER_PUB_SIZE - PREFIX_LEN,
		       pk, sizeof(pk));
	return ERR_OK;
}

/* "public P\nsecret S\n" after the header line, into k. */
static enum err parse_keyfile(const char *data, size_t len,
			      struct vault_worker_key *k, struct errmsg *e)
{
	static const char pubw[] = "\npublic ", secw[] = "\nsecret ";
	const char *p = data + sizeof(HDR_LINE) - 1, *end = data + len;
	unsigned char pk[crypto_box_PUBLICKEYBYTES];
	size_t publen = PREFIX_LEN + 2 * crypto_box_PUBLICKEYBYTES, got = 0;
	int r;

	if (len < sizeof(HDR_LINE) - 1 || memcmp(data, HDR_LINE, sizeof(HDR_LINE) - 1))
		return err_set(e, ERR_PARSE, "not an assay worker key");
	if ((size_t)(end - p) != 2 * (sizeof(pubw) - 1) + publen + 2 * SK_LEN + 1 ||
	    memcmp(p, pubw, sizeof(pubw) - 1) ||
	    !pub_hex(p + sizeof(pubw) - 1, publen, pk) ||
	    memcmp(p + sizeof(pubw) - 1 + publen, secw, sizeof(secw) - 1) ||
	    end[-1] != '\n')
		return err_set(e, ERR_PARSE, "malformed worker key file");
	p += sizeof(pubw) - 1 + publen + sizeof(secw) - 1;
	r = sodium_hex2bin(k->sk, SK_LEN, p, 2 * SK_LEN, NULL, &got, NULL);
	if (r != 0 || got != SK_LEN)
		return err_set(e, ERR_PARSE, "malformed worker key file");
	crypto_scalarmult_base(k->pk, k->sk);
	if (sodium_memcmp(k->pk, pk, sizeof(pk)) != 0)
		return err_set(e, ERR_CRYPTO, "its secret does not give its "
			       "public key (modified)");
	return ERR_OK;
}

enum err vault_worker_key_load(const char *path,
			       struct vault_worker_key **k_out,
			       struct errmsg *e)
{
	struct vault_worker_key *k;
	char *data = NULL;
	size_t len = 0;
	enum err rc = vault_init(e);

	if (!rc)
		rc = file_read(path, KEYFILE_MAX, &data, &len, e);
	if (!rc)
		rc = vault_check_private(path, "worker", e);
	if (rc) {
		free(data);
		return rc;
	}
	k = key_alloc();
	rc = parse_keyfile(data, len, k, e);
	sodium_memzero(data, len);
	free(data);
	if (rc) {
		vault_worker_key_free(k);
		return err_prefix(e, "worker key '%s'", path);
	}
	sodium_mprotect_noaccess(k->sk);
	pub_text(k);
	*k_out = k;
	return ERR_OK;
}

/* archive id || be32(index): what a wrapped key's plaintext opens with */
static void wrap_prefix(const struct vault_archive *a, uint32_t index,
			unsigned char *out)
{
	memcpy(out, a->archive_id, VAULT_ARCHIVE_ID_LEN);
	for (int i = 0; i < 4; i++)
		out[VAULT_ARCHIVE_ID_LEN + i] = (unsigned char)(index >> (24 - 8 * i));
}

enum err vault_task_key_wrap(const struct vault_archive *a,
			     const struct vault_suite_content *c,
			     size_t index, const char *pub,
			     unsigned char out[VAULT_WORKER_WRAP_LEN],
			     struct errmsg *e)
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES], *plain;
	enum err rc;

	if (!c->kek || index >= a->ntasks)
		return err_set(e, ERR_INVAL, "no task key %zu to wrap", index);
	if (!pub_hex(pub, strlen(pub), pk))
		return err_set(e, ERR_PARSE, "'%s' is not a worker public key",
			       pub);
	plain = vault_secure_alloc(VAULT_WORKER_WRAP_PLAIN_LEN);
	wrap_prefix(a, (uint32_t)index, plain);
	rc = vault_task_key_unwrap(a, (uint32_t)index, c->kek,
				   plain + VAULT_ARCHIVE_ID_LEN + 4, e);
	if (rc == ERR_OK &&
	    crypto_box_seal(out, plain, VAULT_WORKER_WRAP_PLAIN_LEN, pk) != 0)
		rc = err_set(e, ERR_CRYPTO, "cannot wrap a task key");
	sodium_free(plain);
	if (rc)
		return err_prefix(e, "task '%s'", a->tasks[index].id);
	return ERR_OK;
}

/* Unwrap w's key with k and check it is the key of task w->index of a. */
static enum err unwrap_one(const struct vault_archive *a,
			   const struct vault_wrapped_task *w,
			   const struct vault_worker_key *k,
			   unsigned char *plain, struct errmsg *e)
{
	unsigned char want[VAULT_ARCHIVE_ID_LEN + 4];
	int r;

	sodium_mprotect_readonly(k->sk);
	r = crypto_box_seal_open(plain, w->wrapped, VAULT_WORKER_WRAP_LEN,
				 k->pk, k->sk);
	sodium_mprotect_noaccess(k->sk);
	if (r != 0)
		return err_set(e, ERR_CRYPTO, "its key does not open with this "
			       "worker's key (wrapped to another worker, or "
			       "modified)");
	wrap_prefix(a, (uint32_t)w->index, want);
	if (sodium_memcmp(plain, want, sizeof(want)) != 0)
		return err_set(e, ERR_CRYPTO, "its wrapped key is another "
			       "task's or another archive's");
	return ERR_OK;
}

static enum err open_one(const struct vault_archive *a,
			 const struct vault_wrapped_task *w,
			 const struct vault_worker_key *k,
			 struct vault_task_content *t, struct errmsg *e)
{
	unsigned char *plain = vault_secure_alloc(VAULT_WORKER_WRAP_PLAIN_LEN);
	enum err rc = ERR_OK;

	if (w->index >= a->ntasks)
		rc = err_set(e, ERR_INVAL, "the archive has no task %zu",
			     w->index);
	else if (!(rc = unwrap_one(a, w, k, plain, e)))
		rc = vault_task_decrypt(a, (uint32_t)w->index,
					plain + VAULT_ARCHIVE_ID_LEN + 4, t, e);
	sodium_free(plain);
	if (rc && w->index < a->ntasks)
		return err_prefix(e, "task '%s'", a->tasks[w->index].id);
	return rc;
}

enum err vault_suite_open_wrapped(const struct vault_archive *a,
				  const struct vault_wrapped_task *w, size_t n,
				  const struct vault_worker_key *k,
				  struct vault_suite_content **content_out,
				  struct errmsg *e)
{
	struct vault_suite_content *c = xcalloc(1, sizeof(*c));
	enum err rc = vault_init(e);

	c->suite_id = xstrdup(a->suite_id);
	c->suite_version = xstrdup(a->suite_version);
	memcpy(c->digest, a->digest, sizeof(c->digest));
	c->tasks = xcalloc(n + 1, sizeof(*c->tasks));
	for (size_t i = 0; !rc && i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (w[j].index == w[i].index)
				rc = err_set(e, ERR_INVAL, "task %zu is given "
					     "twice", w[i].index);
		if (rc)
			break;
		c->ntasks++;
		rc = open_one(a, &w[i], k, &c->tasks[i], e);
	}
	if (rc) {
		vault_suite_content_free(c);
		return err_prefix(e, "cannot open '%s' with this worker's key",
				  a->path);
	}
	*content_out = c;
	return ERR_OK;
}
