/*
 * worker.h - a worker's own X25519 key pair, and the task keys of an
 * unsealed suite wrapped to it (issue 15: sealed suites on many machines;
 * docs/FORMAT-archive.md, "Worker keys").
 *
 * The coordinator unseals the archive with the custodians' approvals as a
 * local run does (vault_suite_unseal; the content keeps the archive's KEK
 * in locked memory), then wraps the key of each task the run uses to each
 * registered worker's public key (crypto_box_seal). A worker holding the
 * matching secret key unwraps them and decrypts those tasks, and only
 * those, from the archive's bytes into locked memory. The plaintext of a
 * wrapped key names the archive and the task's index, so a wrapped key
 * copied to another task's or archive's row is refused.
 *
 * Files: the secret key file (mode 0600, refused when group or others can
 * read it) is three lines:
 *   assay worker key v1
 *   public assay-worker-v1:HEX      (the X25519 public key, 64 hex digits)
 *   secret HEX                      (the X25519 secret key)
 * The public key's text form is that one token, printable and pasted
 * as is (assay run --worker-key).
 *
 * Secret material lives in sodium_malloc memory and is wiped when freed.
 * Nothing here logs.
 */
#ifndef ASSAY_VAULT_WORKER_H
#define ASSAY_VAULT_WORKER_H

#include <stddef.h>

#include "base/err.h"
#include "vault/keys.h"
#include "vault/seal.h"

#define VAULT_WORKER_PUB_PREFIX "assay-worker-v1:"
/* the text form of a public key, with its NUL */
#define VAULT_WORKER_PUB_SIZE \
	(sizeof(VAULT_WORKER_PUB_PREFIX) - 1 + 2 * VAULT_BOX_PK_LEN + 1)
/* a wrapped task key: crypto_box_seal of archive id || be32(index) || key */
#define VAULT_WORKER_WRAP_PLAIN_LEN \
	(VAULT_ARCHIVE_ID_LEN + 4 + VAULT_TASK_KEY_LEN)
#define VAULT_WORKER_WRAP_LEN \
	(VAULT_WORKER_WRAP_PLAIN_LEN + VAULT_SEAL_BOX_LEN)

struct vault_worker_key;

/* A fresh key pair. */
enum err vault_worker_key_generate(struct vault_worker_key **k_out,
				   struct errmsg *e) MUST_CHECK;
/* Write the secret key file (mode 0600, atomically); refuses to replace
 * an existing file. */
enum err vault_worker_key_save(const struct vault_worker_key *k,
			       const char *path, struct errmsg *e) MUST_CHECK;
/* Read a secret key file. ERR_INVAL when others may read it, ERR_PARSE
 * when it is not one, ERR_CRYPTO when its secret does not give its
 * public key. */
enum err vault_worker_key_load(const char *path,
			       struct vault_worker_key **k_out,
			       struct errmsg *e) MUST_CHECK;
void vault_worker_key_free(struct vault_worker_key *k);
/* The public key's text form; borrowed until vault_worker_key_free. */
const char *vault_worker_key_public(const struct vault_worker_key *k);

/* Parse a public key's text form (len bytes; surrounding white space is
 * ignored) into its canonical text (lower-case hex). ERR_PARSE naming
 * what is wrong. */
enum err vault_worker_pub_parse(const char *text, size_t len,
				char canon_out[VAULT_WORKER_PUB_SIZE],
				struct errmsg *e) MUST_CHECK;

/* Wrap the key of task `index` of archive a, unsealed as c (its KEK), to
 * the worker public key pub (text form). ERR_INVAL when c holds no KEK
 * (a content opened by a worker) or index is out of range. */
enum err vault_task_key_wrap(const struct vault_archive *a,
			     const struct vault_suite_content *c,
			     size_t index, const char *pub,
			     unsigned char out[VAULT_WORKER_WRAP_LEN],
			     struct errmsg *e) MUST_CHECK;

struct vault_wrapped_task {
	size_t index;                  /* the task's index in the archive */
	const unsigned char *wrapped;  /* VAULT_WORKER_WRAP_LEN bytes */
};

/* Decrypt the n tasks of a whose keys w holds, wrapped to k, into locked
 * memory: content_out holds those tasks only, in the order of w, and no
 * KEK. All or nothing; a key that does not open with k (sealed to another
 * worker, or modified) is ERR_CRYPTO naming the task. */
enum err vault_suite_open_wrapped(const struct vault_archive *a,
				  const struct vault_wrapped_task *w, size_t n,
				  const struct vault_worker_key *k,
				  struct vault_suite_content **content_out,
				  struct errmsg *e) MUST_CHECK;

#endif
