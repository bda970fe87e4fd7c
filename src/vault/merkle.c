/*
 * merkle.c - RFC 6962 tree hashing, proof generation (RFC 6962 §2.1.1,
 * §2.1.2) and verification (RFC 9162 §2.1.3.2, §2.1.4.2).
 *
 * Generation is the recursive definition from the RFC; it is O(n) per
 * proof, which is fine for logs of millions of entries checked offline.
 */
#include "vault/merkle.h"

#include <sodium.h>
#include <string.h>
#include "base/banned.h"

_Static_assert(VAULT_HASH_LEN == crypto_hash_sha256_BYTES,
	       "the tree hashes with SHA-256");

void vault_merkle_leaf_hash(const void *entry, size_t len, vault_hash out)
{
	crypto_hash_sha256_state st;
	static const unsigned char prefix = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	if (len)
		crypto_hash_sha256_update(&st, entry, len);
	crypto_hash_sha256_final(&st, out);
}

void vault_merkle_node_hash(const vault_hash left, const vault_hash right,
			    vault_hash out)
{
	crypto_hash_sha256_state st;
	static const unsigned char prefix = 0x01;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, left, VAULT_HASH_LEN);
	crypto_hash_sha256_update(&st, right, VAULT_HASH_LEN);
	crypto_hash_sha256_final(&st, out);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

void vault_merkle_root(const vault_hash *leaves, uint64_t n, vault_hash out)
{
	vault_hash l, r;
	uint64_t k;

	if (n == 0) {
		crypto_hash_sha256(out, (const unsigned char *)"", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], VAULT_HASH_LEN);
		return;
	}
	k = split_point(n);
	vault_merkle_root(leaves, k, l);
	vault_merkle_root(leaves + k, n - k, r);
	vault_merkle_node_hash(l, r, out);
}

static void push(vault_hash *proof, size_t *len, const vault_hash h)
{
	/* Depth is at most 64 for 64-bit sizes, so the cap is never hit. */
	if (*len < VAULT_MERKLE_MAX_PROOF)
		memcpy(proof[(*len)++], h, VAULT_HASH_LEN);
}

/* RFC 6962 PATH(m, D[n]) */
static void path(const vault_hash *d, uint64_t n, uint64_t m,
		 vault_hash *proof, size_t *len)
{
	vault_hash sub;
	uint64_t k;

	if (n <= 1)
		return;
	k = split_point(n);
	if (m < k) {
		path(d, k, m, proof, len);
		vault_merkle_root(d + k, n - k, sub);
	} else {
		path(d + k, n - k, m - k, proof, len);
		vault_merkle_root(d, k, sub);
	}
	push(proof, len, sub);
}

/* RFC 6962 SUBPROOF(m, D[n], b) */
static void subproof(const vault_hash *d, uint64_t n, uint64_t m, int b,
		     vault_hash *proof, size_t *len)
{
	vault_hash sub;
	uint64_t k;

	if (m == n) {
		if (!b) {
			vault_merkle_root(d, n, sub);
			push(proof, len, sub);
		}
		return;
	}
	k = split_point(n);
	if (m <= k) {
		subproof(d, k, m, b, proof, len);
		vault_merkle_root(d + k, n - k, sub);
	} else {
		subproof(d + k, n - k, m - k, 0, proof, len);
		vault_merkle_root(d, k, sub);
	}
	push(proof, len, sub);
}

enum err vault_merkle_inclusion_proof(const vault_hash *leaves, uint64_t size,
				      uint64_t index, vault_hash *proof_out,
				      size_t *len_out, struct errmsg *e)
{
	if (index >= size)
		return err_set(e, ERR_INVAL,
			       "leaf %llu is not in a tree of size %llu",
			       (unsigned long long)index,
			       (unsigned long long)size);
	*len_out = 0;
	path(leaves, size, index, proof_out, len_out);
	return ERR_OK;
}

enum err vault_merkle_consistency_proof(const vault_hash *leaves,
					uint64_t old_size, uint64_t new_size,
					vault_hash *proof_out, size_t *len_out,
					struct errmsg *e)
{
	if (old_size == 0 || old_size > new_size)
		return err_set(e, ERR_INVAL,
			       "no consistency proof from size %llu to %llu",
			       (unsigned long long)old_size,
			       (unsigned long long)new_size);
	*len_out = 0;
	if (old_size < new_size)
		subproof(leaves, new_size, old_size, 1, proof_out, len_out);
	return ERR_OK;
}

static int same(const vault_hash a, const vault_hash b)
{
	return sodium_memcmp(a, b, VAULT_HASH_LEN) == 0;
}

enum err vault_merkle_verify_inclusion(uint64_t index, uint64_t size,
				       const vault_hash leaf,
				       const vault_hash *proof, size_t len,
				       const vault_hash root, struct errmsg *e)
{
	uint64_t fn = index, sn = size - 1;
	vault_hash r;

	if (index >= size)
		return err_set(e, ERR_INVAL, "inclusion proof: index %llu "
			       "outside tree of size %llu",
			       (unsigned long long)index,
			       (unsigned long long)size);
	memcpy(r, leaf, VAULT_HASH_LEN);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return err_set(e, ERR_INVAL,
				       "inclusion proof: too many hashes");
		if ((fn & 1) || fn == sn) {
			vault_merkle_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			vault_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return err_set(e, ERR_INVAL, "inclusion proof: too few hashes");
	if (!same(r, root))
		return err_set(e, ERR_CRYPTO,
			       "inclusion proof does not lead to the root");
	return ERR_OK;
}

/* The walk of RFC 9162 §2.1.4.2 once the start node is chosen. It is
 * the inclusion walk above (§2.1.3.2) with a second hash carried along;
 * the two stay separate, each written step for step as its section so
 * it can be checked against the RFC. */
static enum err consistency_walk(uint64_t fn, uint64_t sn, vault_hash fr,
				 vault_hash sr, const vault_hash *proof,
				 size_t len, struct errmsg *e)
{
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return err_set(e, ERR_INVAL,
				       "consistency proof: too many hashes");
		if ((fn & 1) || fn == sn) {
			vault_merkle_node_hash(proof[i], fr, fr);
			vault_merkle_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			vault_merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return err_set(e, ERR_INVAL,
			       "consistency proof: too few hashes");
	return ERR_OK;
}

enum err vault_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
					 const vault_hash old_root,
					 const vault_hash new_root,
					 const vault_hash *proof, size_t len,
					 struct errmsg *e)
{
	uint64_t fn, sn;
	vault_hash fr, sr;
	size_t start = 1;
	enum err rc;

	if (old_size == 0 || old_size > new_size)
		return err_set(e, ERR_INVAL, "no consistency proof from size "
			       "%llu to %llu", (unsigned long long)old_size,
			       (unsigned long long)new_size);
	if (old_size == new_size) {
		if (len != 0)
			return err_set(e, ERR_INVAL, "consistency proof "
				       "between equal sizes must be empty");
		if (!same(old_root, new_root))
			return err_set(e, ERR_CRYPTO, "roots differ at the "
				       "same tree size");
		return ERR_OK;
	}
	if (len == 0)
		return err_set(e, ERR_INVAL, "consistency proof is empty");
	fn = old_size - 1;
	sn = new_size - 1;
	/* An exact power of two: the old root is itself the first node. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, VAULT_HASH_LEN);
		start = 0;
	} else {
		memcpy(fr, proof[0], VAULT_HASH_LEN);
	}
	memcpy(sr, fr, VAULT_HASH_LEN);
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	rc = consistency_walk(fn, sn, fr, sr, proof + start, len - start, e);
	if (rc)
		return rc;
	if (!same(fr, old_root) || !same(sr, new_root))
		return err_set(e, ERR_CRYPTO, "consistency proof does not "
			       "match the roots (log rewritten or forked?)");
	return ERR_OK;
}
