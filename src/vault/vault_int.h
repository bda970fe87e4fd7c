/*
 * vault_int.h - helpers shared only inside src/vault: canonical base64,
 * a strict line reader for the vault's text formats, Shamir sharing.
 *
 * The text formats (keys, approvals, notes, archive headers) are parsed
 * here with fixed keywords and field counts; every length from outside is
 * capped before anything is allocated.
 */
#ifndef ASSAY_VAULT_INT_H
#define ASSAY_VAULT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "vault/seal.h"
#include "vault/vault.h"

/* Standard base64 with padding (RFC 4648 §4), as used by DSSE, minisign
 * and signed notes. Decoding is strict: no whitespace, canonical only. */
enum err vault_b64_add(struct buf *b, const void *p, size_t n) MUST_CHECK;
/* Decode exactly `want` bytes (ERR_PARSE otherwise). */
enum err vault_b64_decode_exact(const char *s, size_t slen, void *out,
				size_t want, const char *what,
				struct errmsg *e) MUST_CHECK;
/* Decode at most max bytes into a fresh xmalloc'd buffer. */
enum err vault_b64_decode_alloc(const char *s, size_t slen, size_t max,
				unsigned char **out, size_t *len_out,
				const char *what, struct errmsg *e) MUST_CHECK;

/* The one secure allocation: sodium_malloc(n) (guard pages, mlock where
 * the limit allows, canary), freed with sodium_free (which wipes); running
 * out of memory aborts as xmalloc does. */
void *vault_secure_alloc(size_t n);

/* JSON is written with base/jsonw.h (DSSE envelopes, audit entries); the
 * vault never parses JSON except DSSE envelopes, through base/ytree. */

/* A cursor over "\n"-terminated lines. Each of the vault's line formats
 * (keys, notes, proofs, requests, archives) has its own small parser, so
 * they all open with the same declarations (cursor, line, length, fields)
 * and read the same way; the shared steps are the functions below. */
struct vlines {
	const char *p;
	const char *end;
	int lineno;
};

void vault_lines_init(struct vlines *l, const char *data, size_t len);
/* Next line without its "\n". false at the end. A final line without
 * "\n" sets *unterminated_out. */
bool vault_lines_next(struct vlines *l, const char **line_out, size_t *len_out,
		      bool *unterminated_out);
/* vault_lines_init, then read the first line: whether it is exactly
 * first (a format's header line). */
bool vault_lines_open(struct vlines *l, const char *data, size_t len,
		      const char *first);

#define VFIELDS_MAX 12
struct vfields {
	size_t n;
	const char *s[VFIELDS_MAX];
	size_t len[VFIELDS_MAX];
};

/* Split on single spaces. ERR_PARSE on empty fields or too many. */
enum err vault_fields_split(const char *line, size_t len, struct vfields *f,
			    struct errmsg *e) MUST_CHECK;
bool vault_field_is(const struct vfields *f, size_t i, const char *word);
/* Parse field i as an unsigned decimal without leading zeros. */
enum err vault_field_u64(const struct vfields *f, size_t i, uint64_t *out,
			 struct errmsg *e) MUST_CHECK;
/* Field i as a key id: exactly 2 * VAULT_KEYID_LEN hex digits into
 * keyid. false (keyid undefined) when it is not. */
bool vault_field_keyid(const struct vfields *f, size_t i,
		       unsigned char keyid[VAULT_KEYID_LEN]);
/* Copy field i (checking it is printable ASCII) into a fresh string. */
char *vault_field_dup(const struct vfields *f, size_t i);
bool vault_text_printable(const char *s, size_t len);

/* Shamir secret sharing over GF(2^8) (shamir.c). A share is one x byte
 * (1..255) followed by `len` y bytes. Split writes n shares of len + 1
 * bytes into shares (n * (len + 1) bytes). Combine takes k shares with
 * distinct non-zero x and writes the secret into out. */
enum err vault_shamir_split(const unsigned char *secret, size_t len,
			    unsigned k, unsigned n, unsigned char *shares,
			    struct errmsg *e) MUST_CHECK;
enum err vault_shamir_combine(const unsigned char *shares, unsigned k,
			      size_t len, unsigned char *out,
			      struct errmsg *e) MUST_CHECK;

struct vault_pubkey;
/* Set pub->keyid from pub->sign_pk (keys.c). */
void vault_pubkey_compute_keyid(struct vault_pubkey *pub);

/* Sealed archives (seal.c, archive.c, unseal.c). */
#define VAULT_ARCHIVE_MAGIC "assay sealed suite v1"
#define VAULT_ARCHIVE_SIGDOM "assay-sealed-suite-v1"

#define VAULT_ARCHIVE_SIGMSG_LEN \
	(sizeof(VAULT_ARCHIVE_SIGDOM) + VAULT_SHA256_LEN)
#define VAULT_TASK_AD_LEN 32 /* crypto_generichash_BYTES */

/* Associated data of every chunk and of the wrapped key of task `index`:
 * BLAKE2b-256("assay-task-v1" || archive_id || be32(index) || id || 0). */
void vault_task_ad(const unsigned char archive_id[VAULT_ARCHIVE_ID_LEN],
		   uint32_t index, const char *id,
		   unsigned char out[VAULT_TASK_AD_LEN]);
/* The message the sealer signs: "assay-sealed-suite-v1" || 0 || digest. */
void vault_archive_sigmsg(const unsigned char digest[VAULT_SHA256_LEN],
			  unsigned char out[VAULT_ARCHIVE_SIGMSG_LEN]);
/* KEK (subkey 1, "BENCHKEK") and the public key check (subkey 2,
 * "KEYCHECK") derived from the suite key. */
void vault_suite_subkeys(const unsigned char suite_key[VAULT_SUITE_KEY_LEN],
			 unsigned char kek_out[VAULT_SUITE_KEY_LEN],
			 unsigned char check_out[VAULT_SUITE_KEY_LEN]);
/* Task i's key, unwrapped under the archive's KEK (unseal.c). */
enum err vault_task_key_unwrap(const struct vault_archive *a, uint32_t i,
			       const unsigned char kek[VAULT_SUITE_KEY_LEN],
			       unsigned char key_out[VAULT_TASK_KEY_LEN],
			       struct errmsg *e) MUST_CHECK;
/* Decrypt task i of a under its key into t (t->plain in locked memory;
 * on failure t holds what to free with the content). */
enum err vault_task_decrypt(const struct vault_archive *a, uint32_t i,
			    const unsigned char key[VAULT_TASK_KEY_LEN],
			    struct vault_task_content *t,
			    struct errmsg *e) MUST_CHECK;
/* [A-Za-z0-9._:-]{1,128} */
bool vault_token_ok(const char *s, size_t len);
/* ERR_INVAL unless the file at path is private to its owner (no group or
 * other bits); what names the file in the message ("worker" key file). */
enum err vault_check_private(const char *path, const char *what,
			     struct errmsg *e) MUST_CHECK;

#endif
