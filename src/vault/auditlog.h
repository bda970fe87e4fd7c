/*
 * auditlog.h - the append-only Merkle audit log, signed checkpoints and
 * proofs.
 *
 * A log is a directory holding
 *   log         "assay audit log v1\n", then frames:
 *               u32be len || entry (len bytes) || SHA-256(0x00 || entry)
 *   checkpoint  the latest signed checkpoint (C2SP tlog-checkpoint in a
 *               C2SP signed note), written atomically.
 * Entry i (0-based) is the text
 *   {"seq":i,"time":"ISO-8601","kind":"KIND","data":{FIELDS}}\n
 * where FIELDS are the caller's typed fields (ids and digests, never task
 * content), written by the vault with base/jsonw.h: a string holding `"`
 * or a newline is escaped, and an entry with invalid UTF-8, a bad or
 * repeated key, or more than VAULT_AUDIT_ENTRY_MAX bytes is refused, never
 * cut. Entry hashes are RFC 6962 leaves; the tree head is the RFC 6962
 * root.
 *
 * Appends are serialised by a mutex (threads) and flock (processes), and
 * fsync'd before vault_audit_append returns. Opening read-write cuts a torn
 * tail (an incomplete or unhashed last frame after a crash) back to the
 * last good frame, never below the checkpoint's size, and appends a
 * "recovery" entry recording the cut. Opening read-only reports a torn tail
 * as an error instead.
 */
#ifndef ASSAY_VAULT_AUDITLOG_H
#define ASSAY_VAULT_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "vault/keys.h"
#include "vault/merkle.h"

#define VAULT_AUDIT_ENTRY_MAX (64 * 1024)
#define VAULT_ORIGIN_MAX 255
#define VAULT_NOTE_MAX (64 * 1024)

struct vault_audit;

enum vault_audit_flags { VAULT_AUDIT_READONLY = 1 << 0 };

/* Open (creating when read-write) the log directory dir. */
enum err vault_audit_open(const char *dir, unsigned flags,
			  struct vault_audit **log_out,
			  struct errmsg *e) MUST_CHECK;
void vault_audit_close(struct vault_audit *log);

/* One field of an entry's data: key [a-z0-9_]{1,32} and a typed value. */
enum vault_audit_type {
	VAULT_AUDIT_STR = 1, /* s (NULL writes null) */
	VAULT_AUDIT_INT,     /* i */
	VAULT_AUDIT_BOOL,    /* b */
	VAULT_AUDIT_STRS,    /* list[0..n) of strings */
};

struct vault_audit_field {
	const char *key;
	enum vault_audit_type type;
	const char *s;
	int64_t i;
	bool b;
	const char *const *list;
	size_t n;
};

#define VAULT_AUDIT_S(k, v) \
	{ .key = (k), .type = VAULT_AUDIT_STR, .s = (v) }
#define VAULT_AUDIT_I(k, v) \
	{ .key = (k), .type = VAULT_AUDIT_INT, .i = (int64_t)(v) }
#define VAULT_AUDIT_B(k, v) \
	{ .key = (k), .type = VAULT_AUDIT_BOOL, .b = (v) }
#define VAULT_AUDIT_L(k, l, cnt) \
	{ .key = (k), .type = VAULT_AUDIT_STRS, .list = (l), .n = (cnt) }

/* Append one entry of kind [a-z0-9._-]{1,32} with the nf fields f (nf may
 * be 0: data is {}). *seq_out (may be NULL) receives the entry's index.
 * Refuses (ERR_INVAL, ERR_LIMIT; nothing written) a bad kind or key, a
 * repeated key, a string that is not valid UTF-8 and an entry larger than
 * VAULT_AUDIT_ENTRY_MAX. Thread safe. */
enum err vault_audit_append(struct vault_audit *log, const char *kind,
			    const struct vault_audit_field *f, size_t nf,
			    struct errmsg *e) MUST_CHECK;
enum err vault_audit_append_seq(struct vault_audit *log, const char *kind,
				const struct vault_audit_field *f, size_t nf,
				uint64_t *seq_out,
				struct errmsg *e) MUST_CHECK;

/* Open the log at dir, append one entry, close it (for one-shot
 * commands). */
enum err vault_audit_record(const char *dir, const char *kind,
			    const struct vault_audit_field *f, size_t nf,
			    struct errmsg *e) MUST_CHECK;

uint64_t vault_audit_size(struct vault_audit *log);
/* Read what other processes appended since the log was opened (or last
 * refreshed), so vault_audit_size and vault_audit_entry see it. */
enum err vault_audit_refresh(struct vault_audit *log,
			     struct errmsg *e) MUST_CHECK;
/* The log's directory; borrowed for the log's lifetime. */
const char *vault_audit_dir(const struct vault_audit *log);
/* Entry i's bytes appended to out. */
enum err vault_audit_entry(struct vault_audit *log, uint64_t index,
			   struct buf *out, struct errmsg *e) MUST_CHECK;
enum err vault_audit_root(struct vault_audit *log, uint64_t size,
			  vault_hash root_out, struct errmsg *e) MUST_CHECK;
enum err vault_audit_leaf(struct vault_audit *log, uint64_t index,
			  vault_hash leaf_out, struct errmsg *e) MUST_CHECK;
enum err vault_audit_inclusion(struct vault_audit *log, uint64_t index,
			       uint64_t size, vault_hash *proof_out,
			       size_t *len_out, struct errmsg *e) MUST_CHECK;
enum err vault_audit_consistency(struct vault_audit *log, uint64_t old_size,
				 uint64_t new_size, vault_hash *proof_out,
				 size_t *len_out, struct errmsg *e) MUST_CHECK;

/* Sign a checkpoint of the whole log with key, store it as DIR/checkpoint
 * (temp file, fsync, rename, directory fsync) and append the note to
 * note_out. Refuses to sign a size smaller than the stored checkpoint. */
enum err vault_audit_checkpoint(struct vault_audit *log, const char *origin,
				struct vault_seckey *key, struct buf *note_out,
				struct errmsg *e) MUST_CHECK;
/* Path of DIR/checkpoint; borrowed for the log's lifetime. */
const char *vault_audit_checkpoint_path(const struct vault_audit *log);

/* ---- checkpoints as C2SP signed notes ---- */

struct vault_checkpoint {
	char origin[VAULT_ORIGIN_MAX + 1];
	uint64_t size;
	vault_hash root;
};

/* C2SP key id: SHA-256(name || 0x0A || 0x01 || pk)[:4]. */
void vault_note_keyid(const char *name, const unsigned char pk[VAULT_PK_LEN],
		      unsigned char out[4]);
/* The note verifier key "name+hex(keyid)+base64(0x01 || pk)". */
enum err vault_note_vkey(const struct vault_pubkey *pub,
			 struct buf *out) MUST_CHECK;

/* Body "origin\nsize\nbase64(root)\n", a blank line, one signature line. */
enum err vault_checkpoint_sign(const struct vault_checkpoint *c,
			       struct vault_seckey *key, struct buf *out,
			       struct errmsg *e) MUST_CHECK;
/* Parse a checkpoint note without checking signatures. */
enum err vault_checkpoint_parse(const char *text, size_t len,
				struct vault_checkpoint *out,
				struct errmsg *e) MUST_CHECK;
/* Parse and verify: signatures by unknown keys are ignored; a bad
 * signature by a known key, or no known signature at all, is ERR_CRYPTO.
 * *nsigned_out (may be NULL) counts trusted keys that signed. */
enum err vault_checkpoint_verify(const char *text, size_t len,
				 const struct vault_pubkey *keys, size_t nkeys,
				 struct vault_checkpoint *out,
				 size_t *nsigned_out,
				 struct errmsg *e) MUST_CHECK;

/* ---- proofs for offline checking ---- */

enum vault_proof_kind { VAULT_PROOF_INCLUSION = 1, VAULT_PROOF_CONSISTENCY };

struct vault_proof {
	enum vault_proof_kind kind;
	uint64_t a;    /* inclusion: leaf index; consistency: old size */
	uint64_t size; /* tree size the proof leads to */
	vault_hash leaf; /* inclusion only */
	size_t len;
	vault_hash hashes[VAULT_MERKLE_MAX_PROOF];
};

/* Text form:
 *   assay audit proof v1
 *   inclusion INDEX SIZE       | consistency OLD NEW
 *   leaf BASE64                (inclusion only)
 *   hash BASE64                (one per proof hash)          */
enum err vault_proof_format(const struct vault_proof *p,
			    struct buf *out) MUST_CHECK;
enum err vault_proof_parse(const char *text, size_t len,
			   struct vault_proof *out,
			   struct errmsg *e) MUST_CHECK;

/* ---- whole-log verification (assay verify audit) ---- */

struct vault_audit_check {
	uint64_t entries;       /* entries in the log file */
	uint64_t signed_size;   /* size of the verified checkpoint */
	vault_hash root;        /* root of all entries */
	bool have_checkpoint;
};

/* Re-read every frame, recompute every leaf, check sequence numbers, then
 * verify DIR/checkpoint with keys (if the file exists; required when
 * require_checkpoint) and that the log's root at its size matches. */
enum err vault_audit_verify(const char *dir, const struct vault_pubkey *keys,
			    size_t nkeys, bool require_checkpoint,
			    struct vault_audit_check *out,
			    struct errmsg *e) MUST_CHECK;

#endif
