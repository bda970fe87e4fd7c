/*
 * seal.h - sealed suite archives (.assay), custodian approvals and
 * unsealing into memory. The file format is docs/FORMAT-archive.md.
 *
 * Sealing: each task directory (a directory holding task.yaml) becomes one
 * secretstream (XChaCha20-Poly1305) of 64 KiB chunks under its own random
 * key, the last chunk tagged FINAL; every chunk's associated data is a
 * BLAKE2b-256 digest binding the archive id, the task's index and id, so
 * chunks cannot move between tasks or archives. Task keys are wrapped
 * (XChaCha20-Poly1305, random nonce) under a KEK derived from a random
 * suite key; the suite key exists only as Shamir k-of-n shares, each
 * sealed (crypto_box_seal) to one custodian's X25519 key. The sealer signs
 * the SHA-256 of everything before the signature line; that hash, in hex,
 * is the suite digest approvals name.
 *
 * Unsealing: the run creates a request (suite digest, run id, reason,
 * expiry and a fresh X25519 key); each custodian checks it, opens their
 * share with their own secret key, re-seals it to the request key and
 * signs an approval naming the same fields. With k approvals from k
 * distinct custodians and the request's secret key, vault_suite_unseal
 * returns every task's files in sodium_malloc memory -- never on disk --
 * or nothing at all.
 */
#ifndef ASSAY_VAULT_SEAL_H
#define ASSAY_VAULT_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/vault.h"

#define VAULT_SEAL_CHUNK 65536
#define VAULT_SEAL_MAX_TASKS 4096
#define VAULT_SEAL_MAX_FILES 10000            /* per task */
#define VAULT_SEAL_MAX_TASK_BYTES ((uint64_t)1 << 30)
#define VAULT_ARCHIVE_MAX ((size_t)4 << 30)
#define VAULT_ID_MAX 128

/* libsodium's sizes, for the header (no sodium.h here); seal.c asserts
 * each against its constant. */
/* crypto_kdf_KEYBYTES: the suite key, its KEK and its key check */
#define VAULT_SUITE_KEY_LEN 32
/* crypto_secretstream_xchacha20poly1305_HEADERBYTES and _KEYBYTES */
#define VAULT_STREAM_HEADER_LEN 24
#define VAULT_TASK_KEY_LEN 32
/* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES and _ABYTES */
#define VAULT_WRAP_NONCE_LEN 24
#define VAULT_WRAP_MAC_LEN 16
/* a task key wrapped under the KEK: nonce || ciphertext || MAC */
#define VAULT_WRAP_LEN \
	(VAULT_WRAP_NONCE_LEN + VAULT_TASK_KEY_LEN + VAULT_WRAP_MAC_LEN)
/* a Shamir share of the suite key: its x coordinate, then the bytes */
#define VAULT_SHARE_LEN (1 + VAULT_SUITE_KEY_LEN)
#define VAULT_SEAL_BOX_LEN 48  /* crypto_box_SEALBYTES */
#define VAULT_SEALED_SHARE_LEN (VAULT_SHARE_LEN + VAULT_SEAL_BOX_LEN)
#define VAULT_ARCHIVE_ID_LEN 16 /* random: unique, not a key */

struct vault_archive_custodian {
	struct vault_pubkey pub;
	unsigned char sealed_share[VAULT_SEALED_SHARE_LEN];
};

struct vault_archive_task {
	char *id;
	uint64_t files;
	uint64_t plain_len;
	uint64_t chunks;
	uint64_t offset; /* within the data section */
	uint64_t length;
	unsigned char stream_header[VAULT_STREAM_HEADER_LEN];
	unsigned char wrapped_key[VAULT_WRAP_LEN];
};

/* A parsed archive. The sealer's signature has been verified against the
 * key named in the archive (integrity); authenticity comes from pinning
 * that key (vault_archive_check_signer) or from custodians approving the
 * digest. */
struct vault_archive {
	char *path;
	unsigned char archive_id[VAULT_ARCHIVE_ID_LEN];
	char *suite_id;
	char *suite_version;
	char *created;
	struct vault_pubkey sealer;
	unsigned threshold;
	size_t ncustodians;
	struct vault_archive_custodian *custodians;
	size_t ntasks;
	struct vault_archive_task *tasks;
	unsigned char key_check[VAULT_SUITE_KEY_LEN];
	char digest[VAULT_SHA256_HEX_SIZE]; /* hex SHA-256 of the signed body */
	unsigned char *data; /* the whole file */
	size_t len;
	size_t data_off; /* start of the data section */
};

/* Files a task's stream carries besides its directory's: the images it
 * carries (FORMAT-archive.md, "Images"), under VAULT_CARRY_DIR, a name
 * no sealed task directory may hold. */
#define VAULT_CARRY_DIR ".assay-image"
struct vault_seal_extra {
	const char *task;          /* the task's id */
	const char *path;          /* VAULT_CARRY_DIR "/..." */
	const void *data;
	size_t len;
};

struct vault_seal_opts {
	const char *suite_dir;
	const struct vault_pubkey *custodians;
	size_t ncustodians;
	unsigned threshold;
	struct vault_seckey *signer;
	const struct vault_seal_extra *extra;  /* may be NULL */
	size_t nextra;
};

/* Seal suite_dir into out_path (written atomically, mode 0644; nothing is
 * left behind on failure). digest_out gets the suite digest. */
enum err vault_suite_seal(const struct vault_seal_opts *o,
			  const char *out_path,
			  char digest_out[VAULT_SHA256_HEX_SIZE],
			  struct errmsg *e) MUST_CHECK;

/* True when data (len bytes) is an archive whose first line is damaged:
 * the magic with a changed byte, or a first line that is not the magic
 * followed by an archive's "archive-id" line. */
bool vault_archive_damaged(const void *data, size_t len);
enum err vault_archive_open(const char *path, struct vault_archive **a_out,
			    struct errmsg *e) MUST_CHECK;
/* Parse from memory (copied); name is used in messages. */
enum err vault_archive_parse(const char *name, const void *data, size_t len,
			     struct vault_archive **a_out,
			     struct errmsg *e) MUST_CHECK;
void vault_archive_free(struct vault_archive *a);
/* ERR_CRYPTO unless the archive was sealed by one of keys. */
enum err vault_archive_check_signer(const struct vault_archive *a,
				    const struct vault_pubkey *keys,
				    size_t nkeys, struct errmsg *e) MUST_CHECK;

/* ---- requests and approvals ---- */

/* request_out: the text custodians see. secret_out: the same text plus
 * the request's X25519 secret; keep it 0600 until the run is done. */
enum err vault_request_create(const struct vault_archive *a,
			      const char *run_id, const char *reason,
			      int64_t expires_unix, struct buf *request_out,
			      struct buf *secret_out,
			      struct errmsg *e) MUST_CHECK;
/* A custodian's approval of request_text for archive a. */
enum err vault_approve(const struct vault_archive *a,
		       const char *request_text, size_t request_len,
		       struct vault_seckey *custodian, int64_t now_unix,
		       struct buf *approval_out, struct errmsg *e) MUST_CHECK;

/* Check one approval before any unseal: signed by a custodian listed in
 * a (custodian_out: their name), for exactly request (its public text),
 * whose suite is a, and not expired at now_unix. The share itself is not
 * opened (only the request's secret can). */
enum err vault_approval_check(const struct vault_archive *a,
			      const char *request, size_t request_len,
			      const char *approval, size_t approval_len,
			      int64_t now_unix,
			      char custodian_out[VAULT_KEY_NAME_MAX + 1],
			      struct errmsg *e) MUST_CHECK;

struct vault_approval_in {
	const char *name; /* file name for messages */
	const char *text;
	size_t len;
};

struct vault_file {
	char *path;             /* relative, '/'-separated */
	uint32_t mode;          /* permission bits */
	const unsigned char *data; /* inside the task's locked buffer */
	size_t len;
};

struct vault_task_content {
	char *id;
	size_t nfiles;
	struct vault_file *files;
	unsigned char *plain; /* sodium_malloc; wiped on free */
	size_t plain_len;
};

struct vault_suite_content {
	char *suite_id;
	char *suite_version;
	char digest[VAULT_SHA256_HEX_SIZE];
	size_t ntasks;
	struct vault_task_content *tasks;
	unsigned char *kek;  /* sodium_malloc: the archive's KEK, kept for
				vault_task_key_wrap (worker.h); NULL in a
				content opened with a worker's key */
};

/* What an unseal serves (for the audit log and single use). */
struct vault_unseal_use {
	const char *served;     /* the run the content is for, as
				   "RUN@STORE"; NULL for a run not created
				   yet (vault_unseal_bind names it after) */
	bool dry_run;           /* decrypt to check, use nothing: spends
				   nothing, refused once the request is spent */
	const struct vault_pubkey *sealers; /* pinned: the archive must be
				   sealed by one of these (nsealers > 0) */
	size_t nsealers;
	char request[VAULT_SHA256_HEX_SIZE]; /* out: the request key's
				   fingerprint */
};

/* Check the pinned sealer, the request secret and the approvals, then
 * decrypt every task into memory. run_id (may be NULL) must match the
 * request's. With a log (the CLI always passes one):
 *   - a request is spent by its first unseal: a later one is refused
 *     unless it serves the same run (a resume), so one request and its
 *     approvals unseal exactly one run;
 *   - an "unseal" entry (suite, request, custodians, the run served) is
 *     appended before the shares are combined; a refusal is recorded as
 *     "unseal.refused", a failure after it (a chunk that fails
 *     authentication) as "unseal.failed", each with the reason.
 * The check of earlier uses and the "unseal" entry are made under a lock
 * (DIR/unseal.lock), so two processes cannot both spend one request.
 * use may be NULL (nothing served, no pin). */
enum err vault_suite_unseal(const struct vault_archive *a,
			    const char *request_secret, size_t secret_len,
			    const char *run_id,
			    const struct vault_approval_in *approvals,
			    size_t napprovals, int64_t now_unix,
			    struct vault_audit *log,
			    struct vault_unseal_use *use,
			    struct vault_suite_content **content_out,
			    struct errmsg *e) MUST_CHECK;
/* Name the run an unseal of request (vault_unseal_use.request) served,
 * once it exists: an "unseal.run" entry {request, served}. */
enum err vault_unseal_bind(struct vault_audit *log, const char *request,
			   const char *served, struct errmsg *e) MUST_CHECK;
void vault_suite_content_free(struct vault_suite_content *c);

#endif
