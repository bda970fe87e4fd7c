/*
 * merkle.h - RFC 6962 / RFC 9162 Merkle tree hashing and proofs.
 *
 * Leaf hash  = SHA-256(0x00 || entry)
 * Node hash  = SHA-256(0x01 || left || right)
 * Empty tree = SHA-256("")
 * For n > 1 leaves the left subtree holds the largest power of two k < n.
 *
 * Trees are given as arrays of leaf hashes. Proofs are arrays of at most
 * VAULT_MERKLE_MAX_PROOF hashes, ordered from the leaf upwards as in
 * RFC 6962 §2.1.1 and §2.1.2. Verification follows RFC 9162 §2.1.3.2 and
 * §2.1.4.2 (the transparency-dev/merkle algorithms). A consistency proof
 * from size 0 is refused. All functions are pure and thread safe.
 */
#ifndef ASSAY_VAULT_MERKLE_H
#define ASSAY_VAULT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define VAULT_HASH_LEN 32 /* crypto_hash_sha256_BYTES (merkle.c asserts it) */
#define VAULT_MERKLE_MAX_PROOF 128

typedef unsigned char vault_hash[VAULT_HASH_LEN];

void vault_merkle_leaf_hash(const void *entry, size_t len, vault_hash out);
void vault_merkle_node_hash(const vault_hash left, const vault_hash right,
			    vault_hash out);
/* Root of the tree whose leaf hashes are leaves[0..n). */
void vault_merkle_root(const vault_hash *leaves, uint64_t n, vault_hash out);

/* Audit path for leaf `index` in the tree of the first `size` leaves.
 * proof_out holds VAULT_MERKLE_MAX_PROOF hashes. ERR_INVAL if
 * index >= size. */
enum err vault_merkle_inclusion_proof(const vault_hash *leaves, uint64_t size,
				      uint64_t index, vault_hash *proof_out,
				      size_t *len_out,
				      struct errmsg *e) MUST_CHECK;
/* Consistency proof between the first `old_size` and `new_size` leaves.
 * ERR_INVAL unless 0 < old_size <= new_size. */
enum err vault_merkle_consistency_proof(const vault_hash *leaves,
					uint64_t old_size, uint64_t new_size,
					vault_hash *proof_out, size_t *len_out,
					struct errmsg *e) MUST_CHECK;

/* ERR_CRYPTO when the proof does not lead to root; ERR_INVAL on
 * impossible parameters (index >= size, wrong proof length). */
enum err vault_merkle_verify_inclusion(uint64_t index, uint64_t size,
				       const vault_hash leaf,
				       const vault_hash *proof, size_t len,
				       const vault_hash root,
				       struct errmsg *e) MUST_CHECK;
enum err vault_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
					 const vault_hash old_root,
					 const vault_hash new_root,
					 const vault_hash *proof, size_t len,
					 struct errmsg *e) MUST_CHECK;

#endif
