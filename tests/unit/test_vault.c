/*
 * test_vault.c - the vault: hashing, RFC 6962 vectors and proofs, Shamir,
 * the audit log (torn tails, edits, rollback), keys, DSSE, minisign,
 * checkpoints, sealed archives and every unseal refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/merkle.h"
#include "vault/seal.h"
#include "vault/approve.h"
#include <time.h>
#include "vault/sign.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "vault/worker.h"

/* ---- helpers ---- */

static char tmpdir[64];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_vault.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown_tmp(void **state)
{
	struct errmsg e;
	(void)state;
	assert_int_equal(rm_rf(tmpdir, &e), ERR_OK);
	return 0;
}

static char *tpath(const char *name)
{
	return path_join(tmpdir, name);
}

static void hex_of(const unsigned char *h, size_t n, char *out)
{
	hex_encode(h, n, out);
}

static void assert_hash_hex(const unsigned char *h, const char *want)
{
	char got[65];

	hex_of(h, 32, got);
	assert_string_equal(got, want);
}

static void unhex(const char *s, unsigned char *out)
{
	for (size_t i = 0; i < strlen(s) / 2; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

static void write_file(const char *path, const void *data, size_t len)
{
	struct errmsg e;
	(void)unlink(path);
	assert_int_equal(file_write_atomic(path, data, len, 0600, &e), ERR_OK);
}

static void flip_byte_in_file(const char *path, off_t off, unsigned char mask)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= mask;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* ---- sha256 ---- */

static void test_sha256(void **state)
{
	char hex[65];
	(void)state;

	vault_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	vault_sha256_hex(NULL, 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
}

/* ---- RFC 6962 known answers (transparency-dev/merkle rfc6962_test.go,
 * and the 8-leaf reference tree of certificate-transparency) ---- */

static const char *const ref_leaves[] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *const ref_roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ref_tree(vault_hash *leaves)
{
	for (size_t i = 0; i < 8; i++) {
		unsigned char raw[16];
		unhex(ref_leaves[i], raw);
		vault_merkle_leaf_hash(raw, strlen(ref_leaves[i]) / 2, leaves[i]);
	}
}

static void test_rfc6962_vectors(void **state)
{
	vault_hash h, l, r, leaves[8];
	(void)state;

	vault_merkle_root(NULL, 0, h);
	assert_hash_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	vault_merkle_leaf_hash("", 0, h);
	assert_hash_hex(h, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
	vault_merkle_leaf_hash("L123456", 7, h);
	assert_hash_hex(h, "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
	memcpy(l, "N123", 4);
	memcpy(r, "N456", 4);
	/* node("N123","N456") hashes the raw strings: build it by hand */
	{
		unsigned char buf[9] = { 0x01, 'N', '1', '2', '3', 'N', '4', '5', '6' };
		vault_sha256(buf, sizeof(buf), h);
		assert_hash_hex(h, "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
	}
	ref_tree(leaves);
	for (size_t n = 1; n <= 8; n++) {
		vault_merkle_root(leaves, n, h);
		assert_hash_hex(h, ref_roots[n - 1]);
	}
	/* node hash of two hashes equals the size-2 root */
	vault_merkle_node_hash(leaves[0], leaves[1], h);
	assert_hash_hex(h, ref_roots[1]);
}

static void test_rfc6962_proof_vectors(void **state)
{
	vault_hash leaves[8], proof[VAULT_MERKLE_MAX_PROOF], root;
	size_t len;
	char hex[65];
	struct errmsg e;
	static const char *const inc58[] = {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const con68[] = {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const con25[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	};
	(void)state;

	ref_tree(leaves);
	assert_int_equal(vault_merkle_inclusion_proof(leaves, 8, 5, proof, &len, &e), ERR_OK);
	assert_int_equal(len, 3);
	for (size_t i = 0; i < 3; i++) {
		hex_of(proof[i], 32, hex);
		assert_string_equal(hex, inc58[i]);
	}
	assert_int_equal(vault_merkle_consistency_proof(leaves, 6, 8, proof, &len, &e), ERR_OK);
	assert_int_equal(len, 3);
	for (size_t i = 0; i < 3; i++) {
		hex_of(proof[i], 32, hex);
		assert_string_equal(hex, con68[i]);
	}
	assert_int_equal(vault_merkle_consistency_proof(leaves, 2, 5, proof, &len, &e), ERR_OK);
	assert_int_equal(len, 2);
	for (size_t i = 0; i < 2; i++) {
		hex_of(proof[i], 32, hex);
		assert_string_equal(hex, con25[i]);
	}
	/* a proof from size 0 is refused */
	assert_int_equal(vault_merkle_consistency_proof(leaves, 0, 5, proof, &len, &e), ERR_INVAL);
	vault_merkle_root(leaves, 5, root);
	assert_int_equal(vault_merkle_verify_consistency(0, 5, root, root, proof, 0, &e), ERR_INVAL);
}

/* Every inclusion and consistency proof for sizes up to 64 verifies, and
 * every single flipped bit (or a wrong index or size) makes it fail. */
static void test_proofs_exhaustive(void **state)
{
	enum { N = 64 };
	vault_hash *leaves = xcalloc(N, sizeof(vault_hash));
	vault_hash roots[N + 1], proof[VAULT_MERKLE_MAX_PROOF];
	size_t len;
	struct errmsg e;
	(void)state;

	for (int i = 0; i < N; i++) {
		char s[16];
		snprintf(s, sizeof(s), "entry %d", i);
		vault_merkle_leaf_hash(s, strlen(s), leaves[i]);
	}
	for (int n = 0; n <= N; n++)
		vault_merkle_root(leaves, (uint64_t)n, roots[n]);
	for (uint64_t n = 1; n <= N; n++) {
		for (uint64_t i = 0; i < n; i++) {
			assert_int_equal(vault_merkle_inclusion_proof(leaves, n, i, proof, &len, &e), ERR_OK);
			assert_int_equal(vault_merkle_verify_inclusion(i, n, leaves[i], proof, len, roots[n], &e), ERR_OK);
			if (n > 1)
				assert_int_not_equal(vault_merkle_verify_inclusion((i + 1) % n, n, leaves[i], proof, len, roots[n], &e), ERR_OK);
			assert_int_not_equal(vault_merkle_verify_inclusion(i, n + 1, leaves[i], proof, len, roots[n + 1], &e), ERR_OK);
			for (size_t p = 0; p < len; p++) {
				proof[p][(i + p) % 32] ^= 1;
				assert_int_not_equal(vault_merkle_verify_inclusion(i, n, leaves[i], proof, len, roots[n], &e), ERR_OK);
				proof[p][(i + p) % 32] ^= 1;
			}
		}
		for (uint64_t m = 1; m <= n; m++) {
			assert_int_equal(vault_merkle_consistency_proof(leaves, m, n, proof, &len, &e), ERR_OK);
			assert_int_equal(vault_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len, &e), ERR_OK);
			if (m < n) {
				/* the roots swapped, or the old root of another size */
				assert_int_not_equal(vault_merkle_verify_consistency(m, n, roots[m - 1 ? m - 1 : n], roots[n], proof, len, &e), ERR_OK);
				assert_int_not_equal(vault_merkle_verify_consistency(m, n, roots[m], roots[n - 1], proof, len, &e), ERR_OK);
				/* dropping the last hash fails */
				assert_int_not_equal(vault_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len - 1, &e), ERR_OK);
			}
			for (size_t p = 0; p < len; p++) {
				proof[p][(m + p) % 32] ^= 0x80;
				assert_int_not_equal(vault_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len, &e), ERR_OK);
				proof[p][(m + p) % 32] ^= 0x80;
			}
		}
	}
	free(leaves);
}

/* ---- Shamir ---- */

static void test_shamir(void **state)
{
	unsigned char secret[32], shares[5 * 33], pick[3 * 33], out[32];
	struct errmsg e;
	(void)state;

	for (int i = 0; i < 32; i++)
		secret[i] = (unsigned char)(i * 7 + 3);
	assert_int_equal(vault_shamir_split(secret, 32, 3, 5, shares, &e), ERR_OK);
	/* every 3-subset of the 5 shares gives the secret back */
	for (int a = 0; a < 5; a++)
		for (int b = a + 1; b < 5; b++)
			for (int c = b + 1; c < 5; c++) {
				memcpy(pick, shares + a * 33, 33);
				memcpy(pick + 33, shares + b * 33, 33);
				memcpy(pick + 66, shares + c * 33, 33);
				assert_int_equal(vault_shamir_combine(pick, 3, 32, out, &e), ERR_OK);
				assert_memory_equal(out, secret, 32);
			}
	/* two shares (below threshold) give something else */
	assert_int_equal(vault_shamir_combine(shares, 2, 32, out, &e), ERR_OK);
	assert_memory_not_equal(out, secret, 32);
	/* a modified share gives something else */
	memcpy(pick, shares, 3 * 33);
	pick[40] ^= 1;
	assert_int_equal(vault_shamir_combine(pick, 3, 32, out, &e), ERR_OK);
	assert_memory_not_equal(out, secret, 32);
	/* the same share twice is refused */
	memcpy(pick + 33, shares, 33);
	assert_int_equal(vault_shamir_combine(pick, 3, 32, out, &e), ERR_INVAL);
	assert_int_equal(vault_shamir_split(secret, 32, 3, 2, shares, &e), ERR_INVAL);
	assert_int_equal(vault_shamir_split(secret, 32, 0, 2, shares, &e), ERR_INVAL);
	/* 1-of-1 is the secret itself */
	assert_int_equal(vault_shamir_split(secret, 32, 1, 1, shares, &e), ERR_OK);
	assert_memory_equal(shares + 1, secret, 32);
}

/* ---- keys ---- */

static struct vault_seckey *new_key(enum vault_key_kind kind, const char *name)
{
	struct vault_seckey *k = NULL;
	struct errmsg e;

	assert_int_equal(vault_key_generate(kind, name, &k, &e), ERR_OK);
	return k;
}

static void test_keys_plain(void **state)
{
	struct vault_seckey *k = new_key(VAULT_KEY_SIGN, "eval-1"), *k2 = NULL;
	char *p = tpath("eval-1.key");
	unsigned char sig[64];
	struct errmsg e;
	(void)state;

	assert_int_equal(vault_seckey_save(k, p, NULL, &e), ERR_OK);
	assert_int_equal(file_size(p) > 0, 1);
	/* never overwrites */
	assert_int_equal(vault_seckey_save(k, p, NULL, &e), ERR_INVAL);
	assert_int_equal(vault_seckey_load(p, NULL, &k2, &e), ERR_OK);
	assert_memory_equal(vault_seckey_public(k), vault_seckey_public(k2), sizeof(struct vault_pubkey));
	vault_seckey_sign(k2, "msg", 3, sig);
	assert_true(vault_pubkey_verify(vault_seckey_public(k), "msg", 3, sig));
	assert_false(vault_pubkey_verify(vault_seckey_public(k), "msh", 3, sig));
	vault_seckey_free(k2);
	/* a plain key readable by others is refused */
	assert_int_equal(chmod(p, 0644), 0);
	k2 = NULL;
	assert_int_equal(vault_seckey_load(p, NULL, &k2, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "chmod 600"));
	assert_non_null(strstr(e.text, "unencrypted key file '"));
	assert_non_null(strstr(e.text, "' is accessible by group or others "
			       "(chmod 600)"));
	assert_null(k2);
	vault_seckey_free(k);
	free(p);
}

static void test_keys_passphrase(void **state)
{
	struct vault_seckey *k = new_key(VAULT_KEY_CUSTODIAN, "cust-a"), *k2 = NULL;
	char *p = tpath("cust-a.key");
	unsigned char msg[16] = "share", sealed[16 + 48], opened[16];
	struct errmsg e;
	char *data;
	size_t len;
	(void)state;

	assert_int_equal(vault_seckey_save(k, p, "correct horse", &e), ERR_OK);
	assert_int_equal(file_read(p, 8192, &data, &len, &e), ERR_OK);
	assert_null(strstr(data, "protection none"));
	assert_int_equal(vault_seckey_load(p, NULL, &k2, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "needs a passphrase"));
	assert_int_equal(vault_seckey_load(p, "wrong horse", &k2, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.text, "wrong passphrase"));
	assert_non_null(strstr(e.text, p));
	assert_int_equal(vault_seckey_load(p, "correct horse", &k2, &e), ERR_OK);
	assert_memory_equal(vault_seckey_public(k), vault_seckey_public(k2), sizeof(struct vault_pubkey));
	vault_seckey_free(k2);
	/* renaming the key in the header breaks the associated data */
	{
		char *n = strstr(data, "name cust-a");
		n[10] = 'b';
		write_file(p, data, len);
		assert_int_not_equal(vault_seckey_load(p, "correct horse", &k2, &e), ERR_OK);
	}
	free(data);
	/* the X25519 half opens what was sealed to the public key */
	{
		struct buf b;
		struct vault_pubkey pub;
		buf_init(&b, 4096);
		assert_int_equal(vault_pubkey_format(vault_seckey_public(k), &b), ERR_OK);
		assert_int_equal(vault_pubkey_parse("mem", b.data, b.len, &pub, &e), ERR_OK);
		assert_memory_equal(&pub, vault_seckey_public(k), sizeof(pub));
		buf_release(&b);
		assert_int_equal(vault_seal_to(&pub, msg, sizeof(msg), sealed, &e), ERR_OK);
		assert_int_equal(vault_seckey_box_open(k, sealed, sizeof(sealed), opened, &e), ERR_OK);
		assert_memory_equal(opened, msg, sizeof(msg));
		sealed[20] ^= 1;
		assert_int_equal(vault_seckey_box_open(k, sealed, sizeof(sealed), opened, &e), ERR_CRYPTO);
	}
	vault_seckey_free(k);
	free(p);
}

static void test_pubkey_parse_errors(void **state)
{
	struct vault_seckey *k = new_key(VAULT_KEY_SIGN, "adm");
	struct vault_pubkey pub;
	struct errmsg e;
	struct buf b;
	(void)state;

	buf_init(&b, 4096);
	assert_int_equal(vault_pubkey_format(vault_seckey_public(k), &b), ERR_OK);
	assert_true(strncmp(b.data, "untrusted comment: assay sign key adm\nRWQ", 41) == 0 ||
		    strncmp(b.data, "untrusted comment: assay sign key adm\nRW", 40) == 0);
	/* a different name changes nothing cryptographic but must still parse */
	b.data[b.len - 5] ^= 1; /* corrupt the key bytes -> key id mismatch or bad base64 */
	assert_int_not_equal(vault_pubkey_parse("mem", b.data, b.len, &pub, &e), ERR_OK);
	assert_non_null(strstr(e.text, "public key 'mem'"));
	assert_int_not_equal(vault_pubkey_parse("mem", "hello\n", 6, &pub, &e), ERR_OK);
	buf_release(&b);
	vault_seckey_free(k);
}

/* ---- audit log ---- */

static struct vault_audit *open_log(const char *dir, unsigned flags)
{
	struct vault_audit *log = NULL;
	struct errmsg e;
	enum err rc = vault_audit_open(dir, flags, &log, &e);

	if (rc)
		fail_msg("open: %s", e.text);
	return log;
}

static void append_n(struct vault_audit *log, int n)
{
	struct errmsg e;
	for (int i = 0; i < n; i++) {
		struct vault_audit_field f[] = { VAULT_AUDIT_I("i", i) };
		if (vault_audit_append(log, "test", f, 1, &e))
			fail_msg("append: %s", e.text);
	}
}

static void test_audit_append_proofs(void **state)
{
	char *dir = tpath("audit1");
	struct vault_audit *log = open_log(dir, 0);
	struct vault_seckey *k = new_key(VAULT_KEY_SIGN, "log-key");
	const struct vault_pubkey *pub = vault_seckey_public(k);
	vault_hash root, leaf, proof[VAULT_MERKLE_MAX_PROOF];
	struct vault_audit_check chk;
	struct vault_checkpoint cp;
	struct errmsg e;
	struct buf b, note;
	size_t len;
	(void)state;

	append_n(log, 13);
	assert_int_equal(vault_audit_size(log), 13);
	buf_init(&b, 1 << 20);
	assert_int_equal(vault_audit_entry(log, 4, &b, &e), ERR_OK);
	assert_true(strncmp(b.data, "{\"seq\":4,\"time\":\"", 17) == 0);
	assert_non_null(strstr(b.data, "\"kind\":\"test\",\"data\":{\"i\":4}}\n"));
	vault_merkle_leaf_hash(b.data, b.len, leaf);
	assert_int_equal(vault_audit_root(log, 13, root, &e), ERR_OK);
	assert_int_equal(vault_audit_inclusion(log, 4, 13, proof, &len, &e), ERR_OK);
	assert_int_equal(vault_merkle_verify_inclusion(4, 13, leaf, proof, len, root, &e), ERR_OK);
	assert_int_equal(vault_audit_append(log, "Bad Kind", NULL, 0, &e), ERR_INVAL);
	buf_init(&note, 1 << 16);
	assert_int_equal(vault_audit_checkpoint(log, "example.org/assay", k, &note, &e), ERR_OK);
	assert_int_equal(vault_checkpoint_verify(note.data, note.len, pub, 1, &cp, NULL, &e), ERR_OK);
	assert_int_equal(cp.size, 13);
	assert_memory_equal(cp.root, root, 32);
	assert_string_equal(cp.origin, "example.org/assay");
	vault_audit_close(log);
	/* reopen: same tree */
	log = open_log(dir, VAULT_AUDIT_READONLY);
	assert_int_equal(vault_audit_size(log), 13);
	assert_int_equal(vault_audit_root(log, 13, leaf, &e), ERR_OK);
	assert_memory_equal(leaf, root, 32);
	vault_audit_close(log);
	assert_int_equal(vault_audit_verify(dir, pub, 1, true, &chk, &e), ERR_OK);
	assert_int_equal(chk.entries, 13);
	assert_int_equal(chk.signed_size, 13);
	/* grow, checkpoint again, prove consistency between the two */
	log = open_log(dir, 0);
	append_n(log, 7);
	buf_reset(&note);
	assert_int_equal(vault_audit_checkpoint(log, NULL, k, &note, &e), ERR_OK);
	assert_int_equal(vault_checkpoint_verify(note.data, note.len, pub, 1, &cp, NULL, &e), ERR_OK);
	assert_int_equal(cp.size, 20);
	assert_string_equal(cp.origin, "example.org/assay");
	assert_int_equal(vault_audit_consistency(log, 13, 20, proof, &len, &e), ERR_OK);
	assert_int_equal(vault_merkle_verify_consistency(13, 20, root, cp.root, proof, len, &e), ERR_OK);
	vault_audit_close(log);
	buf_release(&note);
	buf_release(&b);
	vault_seckey_free(k);
	free(dir);
}

static void test_audit_torn_tail(void **state)
{
	char *dir = tpath("audit2"), *lp;
	struct vault_audit *log = open_log(dir, 0);
	struct vault_audit *ro = NULL;
	struct errmsg e;
	struct buf b;
	off_t before;
	int fd;
	(void)state;

	append_n(log, 5);
	vault_audit_close(log);
	lp = path_join(dir, "log");
	before = file_size(lp);
	/* a crash mid-append: a length and half an entry */
	fd = open(lp, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "\0\0\0\x40{\"seq\":5,\"ti", 16), 16);
	close(fd);
	/* read-only opening reports the torn tail and changes nothing */
	assert_int_equal(vault_audit_open(dir, VAULT_AUDIT_READONLY, &ro, &e), ERR_PARSE);
	assert_non_null(strstr(e.text, "torn tail of 16 bytes"));
	assert_int_equal(file_size(lp), before + 16);
	/* read-write opening cuts it and logs the cut */
	log = open_log(dir, 0);
	assert_int_equal(vault_audit_size(log), 6);
	buf_init(&b, 1 << 20);
	assert_int_equal(vault_audit_entry(log, 5, &b, &e), ERR_OK);
	assert_non_null(strstr(b.data, "\"kind\":\"recovery\""));
	assert_non_null(strstr(b.data, "\"cut_bytes\":16"));
	vault_audit_close(log);
	/* a complete last frame whose hash is wrong is also a torn tail */
	flip_byte_in_file(lp, file_size(lp) - 1, 0xff);
	log = open_log(dir, 0);
	assert_int_equal(vault_audit_size(log), 6); /* cut 1, recovery 1 */
	buf_reset(&b);
	assert_int_equal(vault_audit_entry(log, 5, &b, &e), ERR_OK);
	assert_non_null(strstr(b.data, "\"kind\":\"recovery\""));
	vault_audit_close(log);
	buf_release(&b);
	free(lp);
	free(dir);
}

/* Typed fields: whatever a string holds, the entry is one line of JSON
 * that gives it back; what cannot be written is refused, never cut. */
static void test_audit_typed(void **state)
{
	static const char *hostile[] = {
		"/tmp/a\"b", "/tmp/line\nbreak", "\"},\"kind\":\"forged\",\"x\":{\"",
		"back\\slash", "\x01\x1f\x7f\t\r", "caf\xc3\xa9",
	};
	const char *list[] = { "alice", "b\"ob" };
	char *dir = tpath("audit-typed"), *big;
	struct vault_audit *log = open_log(dir, 0);
	struct errmsg e;
	struct buf b;
	uint64_t seq;
	(void)state;

	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		struct vault_audit_field f[] = {
			VAULT_AUDIT_S("path", hostile[i]),
			VAULT_AUDIT_I("n", -5),
			VAULT_AUDIT_B("ok", true),
			VAULT_AUDIT_L("who", list, 2),
			VAULT_AUDIT_S("none", NULL),
		};
		json_t *j, *d;

		assert_int_equal(vault_audit_append_seq(log, "seal", f,
				 ARRAY_SIZE(f), &seq, &e), ERR_OK);
		assert_int_equal(seq, i);
		buf_reset(&b);
		assert_int_equal(vault_audit_entry(log, i, &b, &e), ERR_OK);
		/* one line: the only newline ends it */
		assert_ptr_equal(strchr(b.data, '\n'), b.data + b.len - 1);
		j = json_loadb(b.data, b.len, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "kind")), "seal");
		d = json_object_get(j, "data");
		assert_string_equal(json_string_value(json_object_get(d, "path")), hostile[i]);
		assert_int_equal(json_integer_value(json_object_get(d, "n")), -5);
		assert_true(json_is_true(json_object_get(d, "ok")));
		assert_string_equal(json_string_value(json_array_get(
			json_object_get(d, "who"), 1)), "b\"ob");
		assert_true(json_is_null(json_object_get(d, "none")));
		assert_int_equal(json_object_size(d), 5);
		json_decref(j);
	}
	/* refused: invalid UTF-8, a bad key, a repeated key, too large */
	{
		struct vault_audit_field bad_utf8[] = { VAULT_AUDIT_S("p", "a\xff") };
		struct vault_audit_field bad_key[] = { VAULT_AUDIT_S("Bad\"", "x") };
		struct vault_audit_field twice[] = { VAULT_AUDIT_I("a", 1),
						     VAULT_AUDIT_I("a", 2) };
		struct vault_audit_field large[1];

		assert_int_equal(vault_audit_append(log, "x", bad_utf8, 1, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, "UTF-8"));
		assert_int_equal(vault_audit_append(log, "x", bad_key, 1, &e), ERR_INVAL);
		assert_int_equal(vault_audit_append(log, "x", twice, 2, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, "twice"));
		big = xmalloc(VAULT_AUDIT_ENTRY_MAX);
		memset(big, 'x', VAULT_AUDIT_ENTRY_MAX - 1);
		big[VAULT_AUDIT_ENTRY_MAX - 1] = '\0';
		large[0] = (struct vault_audit_field)VAULT_AUDIT_S("big", big);
		assert_int_equal(vault_audit_append(log, "x", large, 1, &e), ERR_LIMIT);
		assert_non_null(strstr(e.text, "larger than"));
		free(big);
	}
	assert_int_equal(vault_audit_size(log), ARRAY_SIZE(hostile));
	vault_audit_close(log);
	/* nothing half-written: the log reopens whole */
	log = open_log(dir, VAULT_AUDIT_READONLY);
	assert_int_equal(vault_audit_size(log), ARRAY_SIZE(hostile));
	vault_audit_close(log);
	buf_release(&b);
	free(dir);
}

static void test_audit_tamper(void **state)
{
	char *dir = tpath("audit3"), *lp, *copy;
	struct vault_audit *log = open_log(dir, 0), *l2 = NULL;
	struct vault_seckey *k = new_key(VAULT_KEY_SIGN, "log-key");
	const struct vault_pubkey *pub = vault_seckey_public(k);
	struct vault_audit_check chk;
	struct errmsg e;
	struct buf note;
	char *data;
	size_t len;
	(void)state;

	append_n(log, 8);
	buf_init(&note, 1 << 16);
	assert_int_equal(vault_audit_checkpoint(log, NULL, k, &note, &e), ERR_OK);
	vault_audit_close(log);
	lp = path_join(dir, "log");
	assert_int_equal(file_read(lp, 1 << 20, &data, &len, &e), ERR_OK);
	/* 1: an edited entry in the middle (frame hash no longer matches) */
	{
		char *p = memmem(data, len, "{\"i\":3}", 7);
		p[5] = '9';
		write_file(lp, data, len);
		assert_int_equal(vault_audit_open(dir, 0, &l2, &e), ERR_CRYPTO);
		assert_non_null(strstr(e.text, "entry 3"));
		assert_int_equal(vault_audit_verify(dir, pub, 1, true, &chk, &e), ERR_CRYPTO);
		p[5] = '3';
	}
	/* 2: an edited entry with its frame hash recomputed: the signed
	 * checkpoint catches it */
	{
		char *p = memmem(data, len, "{\"i\":3}", 7);
		size_t off = (size_t)(p - data);
		/* frame of entry 3: find its length prefix by walking frames */
		size_t fo = strlen("assay audit log v1\n");
		for (int i = 0; i < 3; i++)
			fo += 4 + (((unsigned char)data[fo] << 24) | ((unsigned char)data[fo + 1] << 16) |
				   ((unsigned char)data[fo + 2] << 8) | (unsigned char)data[fo + 3]) + 32;
		size_t el = ((unsigned char)data[fo + 2] << 8) | (unsigned char)data[fo + 3];
		assert_true(off > fo && off < fo + 4 + el);
		data[off + 5] = '7';
		vault_merkle_leaf_hash(data + fo + 4, el, (unsigned char *)data + fo + 4 + el);
		write_file(lp, data, len);
		assert_int_equal(vault_audit_verify(dir, pub, 1, true, &chk, &e), ERR_CRYPTO);
		assert_non_null(strstr(e.text, "do not match the signed checkpoint"));
		data[off + 5] = '3';
		vault_merkle_leaf_hash(data + fo + 4, el, (unsigned char *)data + fo + 4 + el);
		write_file(lp, data, len);
		assert_int_equal(vault_audit_verify(dir, pub, 1, true, &chk, &e), ERR_OK);
	}
	/* 3: truncation below the checkpoint (whole frames removed) */
	{
		size_t fo = strlen("assay audit log v1\n");
		for (int i = 0; i < 6; i++)
			fo += 4 + (((unsigned char)data[fo + 2] << 8) | (unsigned char)data[fo + 3]) + 32;
		write_file(lp, data, fo);
		assert_int_equal(vault_audit_open(dir, 0, &l2, &e), ERR_CRYPTO);
		assert_non_null(strstr(e.text, "truncated or rolled back"));
		write_file(lp, data, len);
	}
	/* 4: a checkpoint signed by an unknown key, or modified */
	{
		struct vault_seckey *other = new_key(VAULT_KEY_SIGN, "log-key");
		struct vault_checkpoint cp;
		assert_int_equal(vault_checkpoint_verify(note.data, note.len, vault_seckey_public(other), 1, &cp, NULL, &e), ERR_CRYPTO);
		copy = xstrdup(note.data);
		copy[strlen(copy) - 10] ^= 1;
		assert_int_not_equal(vault_checkpoint_verify(copy, strlen(copy), pub, 1, &cp, NULL, &e), ERR_OK);
		free(copy);
		copy = xstrdup(note.data);
		copy[0] ^= 1; /* origin changed */
		assert_int_equal(vault_checkpoint_verify(copy, strlen(copy), pub, 1, &cp, NULL, &e), ERR_CRYPTO);
		free(copy);
		vault_seckey_free(other);
	}
	assert_int_equal(vault_audit_verify(dir, pub, 1, true, &chk, &e), ERR_OK);
	free(data);
	buf_release(&note);
	vault_seckey_free(k);
	free(lp);
	free(dir);
}

static void test_checkpoint_c2sp_vector(void **state)
{
	/* Key id derivation from C2SP signed-note: name "PeterNeumann",
	 * vkey PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW */
	struct vault_pubkey pub;
	unsigned char raw[33], id[4];
	char hex[9];
	struct errmsg e;
	struct buf b;
	const char *b64 = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
	(void)state;

	assert_int_equal(vault_b64_decode_exact(b64, strlen(b64), raw, 33, "vkey", &e), ERR_OK);
	memset(&pub, 0, sizeof(pub));
	snprintf(pub.name, sizeof(pub.name), "PeterNeumann");
	memcpy(pub.sign_pk, raw + 1, 32);
	vault_note_keyid(pub.name, pub.sign_pk, id);
	hex_encode(id, 4, hex);
	assert_string_equal(hex, "c74f20a3");
	buf_init(&b, 4096);
	assert_int_equal(vault_note_vkey(&pub, &b), ERR_OK);
	assert_string_equal(b.data, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
	buf_release(&b);
}

static void test_proof_text(void **state)
{
	struct vault_proof p, q;
	struct errmsg e;
	struct buf b;
	(void)state;

	memset(&p, 0, sizeof(p));
	p.kind = VAULT_PROOF_INCLUSION;
	p.a = 3;
	p.size = 9;
	p.len = 2;
	memset(p.leaf, 1, 32);
	memset(p.hashes[0], 2, 32);
	memset(p.hashes[1], 3, 32);
	buf_init(&b, 4096);
	assert_int_equal(vault_proof_format(&p, &b), ERR_OK);
	assert_int_equal(vault_proof_parse(b.data, b.len, &q, &e), ERR_OK);
	assert_memory_equal(&p, &q, sizeof(p));
	b.data[b.len - 3] = '!';
	assert_int_equal(vault_proof_parse(b.data, b.len, &q, &e), ERR_PARSE);
	buf_release(&b);
}

/* ---- DSSE and minisign ---- */

static void test_dsse_pae_vector(void **state)
{
	struct buf b;
	(void)state;

	/* secure-systems-lab/dsse protocol.md test vector */
	buf_init(&b, 4096);
	assert_int_equal(vault_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &b), ERR_OK);
	assert_string_equal(b.data, "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
	buf_release(&b);
}

/* Is offset i inside the value of a "keyid" field? */
static int in_keyid(const char *env, size_t i)
{
	const char *p = env;

	while ((p = strstr(p, "\"keyid\":\"")) != NULL) {
		size_t start = (size_t)(p - env) + 9;
		const char *end = strchr(env + start, '"');
		if (i >= start && i < (size_t)(end - env))
			return 1;
		p = end;
	}
	return 0;
}

static void test_dsse_two_signatures(void **state)
{
	struct vault_seckey *ev = new_key(VAULT_KEY_SIGN, "evaluator");
	struct vault_seckey *ad = new_key(VAULT_KEY_SIGN, "admin");
	struct vault_pubkey keys[2], dup[2];
	const char *stmt = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
	struct vault_dsse *env;
	struct buf one, two;
	struct errmsg e;
	size_t nvalid;
	int signer[2];
	(void)state;

	keys[0] = *vault_seckey_public(ev);
	keys[1] = *vault_seckey_public(ad);
	buf_init(&one, 1 << 20);
	buf_init(&two, 1 << 20);
	assert_int_equal(vault_dsse_sign(VAULT_DSSE_INTOTO, stmt, strlen(stmt), &ev, 1, &one, &e), ERR_OK);
	assert_int_equal(vault_dsse_parse(one.data, one.len, &env, &e), ERR_OK);
	assert_memory_equal(env->payload, stmt, strlen(stmt));
	assert_string_equal(env->payload_type, VAULT_DSSE_INTOTO);
	/* one signature where two are required fails */
	assert_int_equal(vault_dsse_verify(env, keys, 2, 2, &nvalid, signer, &e), ERR_CRYPTO);
	assert_int_equal(nvalid, 1);
	assert_non_null(strstr(e.text, "1 valid signature by trusted keys, 2 required"));
	assert_int_equal(vault_dsse_verify(env, keys, 2, 1, NULL, NULL, &e), ERR_OK);
	vault_dsse_free(env);
	/* the evaluator co-signing again still counts once */
	assert_int_equal(vault_dsse_cosign(one.data, one.len, ev, &two, &e), ERR_OK);
	assert_int_equal(vault_dsse_parse(two.data, two.len, &env, &e), ERR_OK);
	assert_int_equal(env->nsigs, 2);
	assert_int_equal(vault_dsse_verify(env, keys, 2, 2, &nvalid, NULL, &e), ERR_CRYPTO);
	dup[0] = keys[0];
	dup[1] = keys[0];
	assert_int_equal(vault_dsse_verify(env, dup, 2, 2, &nvalid, NULL, &e), ERR_CRYPTO);
	vault_dsse_free(env);
	/* admin co-signature: 2 of 2 */
	buf_reset(&two);
	assert_int_equal(vault_dsse_cosign(one.data, one.len, ad, &two, &e), ERR_OK);
	assert_int_equal(vault_dsse_parse(two.data, two.len, &env, &e), ERR_OK);
	assert_int_equal(vault_dsse_verify(env, keys, 2, 2, &nvalid, signer, &e), ERR_OK);
	assert_int_equal(signer[0] + signer[1], 2);
	vault_dsse_free(env);
	/* every single changed byte of the envelope breaks it (or its parse) */
	for (size_t i = 0; i < two.len - 1; i++) {
		char *copy = xstrndup(two.data, two.len);
		copy[i] ^= 0x01;
		if (vault_dsse_parse(copy, two.len, &env, &e) == ERR_OK) {
			/* keyids are unauthenticated hints (DSSE): skip them */
			if (!in_keyid(two.data, i))
				assert_int_not_equal(vault_dsse_verify(env, keys, 2, 2, NULL, NULL, &e), ERR_OK);
			vault_dsse_free(env);
		}
		free(copy);
	}
	/* strictness: unknown fields, non-strings, not an object */
	assert_int_equal(vault_dsse_parse("{\"payloadType\":\"x\",\"payload\":\"\",\"signatures\":[],\"extra\":1}", 66, &env, &e), ERR_PARSE);
	assert_int_equal(vault_dsse_parse("[1,2]", 5, &env, &e), ERR_PARSE);
	assert_int_equal(vault_dsse_parse("{\"payloadType\":1,\"payload\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}", 61, &env, &e), ERR_PARSE);
	buf_release(&one);
	buf_release(&two);
	vault_seckey_free(ev);
	vault_seckey_free(ad);
}

/* Which signature failed and why: valid, repeated, by an untrusted key,
 * claiming a trusted key but not verifying, not a signature at all. */
static void test_dsse_check(void **state)
{
	struct vault_seckey *ev = new_key(VAULT_KEY_SIGN, "evaluator");
	struct vault_seckey *ad = new_key(VAULT_KEY_SIGN, "admin");
	struct vault_seckey *other = new_key(VAULT_KEY_SIGN, "other");
	struct vault_seckey *three[3] = { ev, ad, other };
	const char *stmt = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
	struct vault_pubkey keys[2];
	struct vault_sig_check chk[4];
	struct vault_dsse *env;
	unsigned char id[VAULT_KEYID_LEN];
	struct buf b, mini;
	struct errmsg e;
	(void)state;

	keys[0] = *vault_seckey_public(ev);
	keys[1] = *vault_seckey_public(ad);
	buf_init(&b, 1 << 20);
	buf_init(&mini, 1 << 16);
	assert_int_equal(vault_dsse_sign(VAULT_DSSE_INTOTO, stmt, strlen(stmt),
					 three, 3, &b, &e), ERR_OK);
	assert_int_equal(vault_dsse_parse(b.data, b.len, &env, &e), ERR_OK);
	vault_dsse_check(env, keys, 2, chk);
	assert_int_equal(chk[0].status, VAULT_SIG_VALID);
	assert_int_equal(chk[0].key, 0);
	assert_int_equal(chk[1].status, VAULT_SIG_VALID);
	assert_int_equal(chk[1].key, 1);
	assert_int_equal(chk[2].status, VAULT_SIG_UNTRUSTED);
	assert_int_equal(chk[2].key, -1);
	/* the admin's signature altered: it still claims the admin's key */
	env->sigs[1].sig[5] ^= 1;
	vault_dsse_check(env, keys, 2, chk);
	assert_int_equal(chk[1].status, VAULT_SIG_INVALID);
	assert_int_equal(chk[1].key, 1);
	/* the evaluator's signature twice counts once */
	memcpy(env->sigs[1].sig, env->sigs[0].sig, VAULT_SIG_LEN);
	vault_dsse_check(env, keys, 2, chk);
	assert_int_equal(chk[1].status, VAULT_SIG_DUPLICATE);
	assert_int_equal(chk[1].key, 0);
	env->sigs[2].sig_ok_len = 0;
	vault_dsse_check(env, keys, 2, chk);
	assert_int_equal(chk[2].status, VAULT_SIG_MALFORMED);
	vault_dsse_free(env);

	assert_int_equal(vault_minisign_sign(ad, "x", 1, "t", &mini, &e), ERR_OK);
	assert_int_equal(vault_minisign_keyid(mini.data, mini.len, id, &e), ERR_OK);
	assert_memory_equal(id, keys[1].keyid, VAULT_KEYID_LEN);
	assert_int_not_equal(vault_minisign_keyid("junk\n", 5, id, &e), ERR_OK);
	buf_release(&b);
	buf_release(&mini);
	vault_seckey_free(ev);
	vault_seckey_free(ad);
	vault_seckey_free(other);
}

static void test_minisign_roundtrip(void **state)
{
	struct vault_seckey *k = new_key(VAULT_KEY_SIGN, "evaluator");
	struct vault_seckey *other = new_key(VAULT_KEY_SIGN, "evaluator");
	const char *data = "the result\n";
	struct buf sig, tc;
	struct errmsg e;
	(void)state;

	buf_init(&sig, 4096);
	buf_init(&tc, 4096);
	assert_int_equal(vault_minisign_sign(k, data, strlen(data), "run 7 determination not-designated", &sig, &e), ERR_OK);
	assert_int_equal(vault_minisign_verify(vault_seckey_public(k), data, strlen(data), sig.data, sig.len, &tc, &e), ERR_OK);
	assert_string_equal(tc.data, "run 7 determination not-designated");
	assert_int_equal(vault_minisign_verify(vault_seckey_public(k), "the resulT\n", 11, sig.data, sig.len, NULL, &e), ERR_CRYPTO);
	assert_int_equal(vault_minisign_verify(vault_seckey_public(other), data, strlen(data), sig.data, sig.len, NULL, &e), ERR_CRYPTO);
	/* editing the trusted comment is caught */
	{
		char *p = strstr(sig.data, "not-designated");
		p[0] = 'N';
		assert_int_equal(vault_minisign_verify(vault_seckey_public(k), data, strlen(data), sig.data, sig.len, NULL, &e), ERR_CRYPTO);
		assert_non_null(strstr(e.text, "trusted comment"));
	}
	assert_int_equal(vault_minisign_sign(k, data, 3, "two\nlines", &sig, &e), ERR_INVAL);
	buf_release(&sig);
	buf_release(&tc);
	vault_seckey_free(k);
	vault_seckey_free(other);
}

/* ---- sealed suites ---- */

struct sealfx {
	struct vault_seckey *sealer, *cust[3], *outsider;
	struct vault_pubkey custpub[3];
	char *suite, *archive;
	unsigned char big[200000];
};

static void mkfile(const char *dir, const char *rel, const void *data, size_t len, mode_t mode)
{
	char *p = path_join(dir, rel), *slash;
	struct errmsg e;

	slash = strrchr(p, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(p, 0755, &e), ERR_OK);
	*slash = '/';
	write_file(p, data, len);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static struct sealfx *seal_fixture(unsigned threshold)
{
	struct sealfx *fx = xcalloc(1, sizeof(*fx));
	struct vault_seal_opts o;
	char digest[65];
	struct errmsg e;
	static const char *const names[] = { "cust-a", "cust-b", "cust-c" };

	fx->sealer = new_key(VAULT_KEY_SIGN, "sealer");
	fx->outsider = new_key(VAULT_KEY_CUSTODIAN, "outsider");
	for (int i = 0; i < 3; i++) {
		fx->cust[i] = new_key(VAULT_KEY_CUSTODIAN, names[i]);
		fx->custpub[i] = *vault_seckey_public(fx->cust[i]);
	}
	for (size_t i = 0; i < sizeof(fx->big); i++)
		fx->big[i] = (unsigned char)(i * 31 + i / 251);
	fx->suite = tpath("suite");
	fx->archive = tpath("suite.assay");
	(void)unlink(fx->archive);
	mkfile(fx->suite, "suite.yaml", "id: calib\nversion: 3\n", 21, 0644);
	mkfile(fx->suite, "web-01/task.yaml", "id: web-01\ntitle: x\n", 20, 0644);
	mkfile(fx->suite, "web-01/files/app.py", "print('hi')\n", 12, 0755);
	mkfile(fx->suite, "web-01/solution/solve.sh", "echo flag{abc}\n", 15, 0700);
	mkfile(fx->suite, "web-01/files/big.bin", fx->big, sizeof(fx->big), 0644);
	mkfile(fx->suite, "tasks/pwn-02/task.yaml", "id: pwn-02\n", 11, 0644);
	mkfile(fx->suite, "tasks/pwn-02/files/blob", fx->big + 7, sizeof(fx->big) - 7, 0600);
	memset(&o, 0, sizeof(o));
	o.suite_dir = fx->suite;
	o.custodians = fx->custpub;
	o.ncustodians = 3;
	o.threshold = threshold;
	o.signer = fx->sealer;
	if (vault_suite_seal(&o, fx->archive, digest, &e))
		fail_msg("seal: %s", e.text);
	return fx;
}

static void free_fixture(struct sealfx *fx)
{
	struct errmsg e;
	vault_seckey_free(fx->sealer);
	vault_seckey_free(fx->outsider);
	for (int i = 0; i < 3; i++)
		vault_seckey_free(fx->cust[i]);
	assert_int_equal(rm_rf(fx->suite, &e), ERR_OK);
	free(fx->suite);
	free(fx->archive);
	free(fx);
}

static struct vault_archive *open_archive(const char *path)
{
	struct vault_archive *a = NULL;
	struct errmsg e;
	if (vault_archive_open(path, &a, &e))
		fail_msg("open archive: %s", e.text);
	return a;
}

static void approve(struct vault_archive *a, const struct buf *req, struct vault_seckey *c, struct buf *out)
{
	struct errmsg e;
	if (vault_approve(a, req->data, req->len, c, (int64_t)time(NULL), out, &e))
		fail_msg("approve: %s", e.text);
}

/* An unseal request for run (its text in req, its secret in sec) and the
 * approvals of custodians c0 and c1 in apps[0] and apps[1]; the buffers
 * are initialised here. */
static void approved_request(struct sealfx *fx, struct vault_archive *a,
			     const char *run, const char *reason, int64_t expires,
			     int c0, int c1, struct buf *req, struct buf *sec,
			     struct buf *apps)
{
	struct errmsg e;

	buf_init(req, 1 << 16);
	buf_init(sec, 1 << 16);
	buf_init(&apps[0], 1 << 16);
	buf_init(&apps[1], 1 << 16);
	if (vault_request_create(a, run, reason, expires, req, sec, &e))
		fail_msg("request: %s", e.text);
	approve(a, req, fx->cust[c0], &apps[0]);
	approve(a, req, fx->cust[c1], &apps[1]);
}

static void request_release(struct buf *req, struct buf *sec, struct buf *apps)
{
	buf_release(req);
	buf_release(sec);
	buf_release(&apps[0]);
	buf_release(&apps[1]);
}

static enum err try_unseal(struct vault_archive *a, const struct buf *secret,
			   struct buf *apps, size_t n, int64_t now,
			   struct vault_suite_content **out, struct errmsg *e)
{
	struct vault_approval_in in[4];
	for (size_t i = 0; i < n; i++) {
		in[i].name = i == 0 ? "A1" : i == 1 ? "A2" : "A3";
		in[i].text = apps[i].data;
		in[i].len = apps[i].len;
	}
	return vault_suite_unseal(a, secret->data, secret->len, "run-42", in, n, now, NULL, NULL, out, e);
}

static const struct vault_file *find_file(const struct vault_suite_content *c, const char *task, const char *path)
{
	for (size_t i = 0; i < c->ntasks; i++)
		for (size_t f = 0; strcmp(c->tasks[i].id, task) == 0 && f < c->tasks[i].nfiles; f++)
			if (!strcmp(c->tasks[i].files[f].path, path))
				return &c->tasks[i].files[f];
	return NULL;
}

/* vault_approval_check: what the program service checks when a custodian
 * uploads an approval, before any unseal. */
static void test_approval_check(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = open_archive(fx->archive);
	struct buf req, sec, req2, sec2, app, app2;
	char name[VAULT_KEY_NAME_MAX + 1];
	struct errmsg e;
	int64_t now = (int64_t)time(NULL);
	(void)state;
	buf_init(&req, 1 << 16);
	buf_init(&sec, 1 << 16);
	buf_init(&req2, 1 << 16);
	buf_init(&sec2, 1 << 16);
	buf_init(&app, 1 << 16);
	buf_init(&app2, 1 << 16);
	assert_int_equal(vault_request_create(a, "campaign-7", "program", now + 600, &req, &sec, &e), ERR_OK);
	assert_int_equal(vault_request_create(a, "campaign-7", "program", now + 600, &req2, &sec2, &e), ERR_OK);
	approve(a, &req, fx->cust[1], &app);
	approve(a, &req2, fx->cust[0], &app2);
	assert_int_equal(vault_approval_check(a, req.data, req.len, app.data, app.len, now, name, &e), ERR_OK);
	assert_string_equal(name, "cust-b");
	/* the same run and reason under another request key */
	assert_int_equal(vault_approval_check(a, req.data, req.len, app2.data, app2.len, now, name, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "another request"));
	/* expired */
	assert_int_equal(vault_approval_check(a, req.data, req.len, app.data, app.len, now + 601, name, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "expired"));
	/* the request's secret text passes as the request too; garbage does not */
	assert_int_equal(vault_approval_check(a, sec.data, sec.len, app.data, app.len, now, name, &e), ERR_OK);
	assert_int_not_equal(vault_approval_check(a, req.data, req.len, "x", 1, now, name, &e), ERR_OK);
	assert_int_not_equal(vault_approval_check(a, "x", 1, app.data, app.len, now, name, &e), ERR_OK);
	/* any flipped byte of the approval is refused */
	for (size_t i = 0; i < app.len - 1; i++) {
		app.data[i] ^= 0x04;
		assert_int_not_equal(vault_approval_check(a, req.data, req.len, app.data, app.len, now, name, &e), ERR_OK);
		app.data[i] ^= 0x04;
	}
	buf_release(&req);
	buf_release(&sec);
	buf_release(&req2);
	buf_release(&sec2);
	buf_release(&app);
	buf_release(&app2);
	vault_archive_free(a);
	free_fixture(fx);
}

static void test_seal_roundtrip(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = open_archive(fx->archive);
	struct vault_suite_content *c = NULL;
	struct buf req, sec, apps[3];
	const struct vault_file *f;
	struct errmsg e;
	int64_t now = (int64_t)time(NULL);
	char *raw;
	size_t rawlen;
	(void)state;

	assert_string_equal(a->suite_id, "calib");
	assert_string_equal(a->suite_version, "3");
	assert_int_equal(a->ntasks, 2);
	assert_string_equal(a->tasks[0].id, "pwn-02");
	assert_string_equal(a->tasks[1].id, "web-01");
	assert_int_equal(a->tasks[1].files, 4);
	assert_int_equal(a->threshold, 2);
	assert_int_equal(a->ncustodians, 3);
	assert_int_equal(vault_archive_check_signer(a, vault_seckey_public(fx->sealer), 1, &e), ERR_OK);
	assert_int_equal(vault_archive_check_signer(a, &fx->custpub[0], 1, &e), ERR_CRYPTO);
	/* no task content in the clear */
	assert_int_equal(file_read(fx->archive, 1 << 24, &raw, &rawlen, &e), ERR_OK);
	assert_null(memmem(raw, rawlen, "flag{abc}", 9));
	assert_null(memmem(raw, rawlen, "print('hi')", 11));
	assert_null(memmem(raw, rawlen, fx->big + 1000, 64));
	free(raw);

	approved_request(fx, a, "run-42", "calibration run", now + 3600, 0, 2,
			 &req, &sec, apps);
	buf_init(&apps[2], 1 << 16);
	assert_int_equal(try_unseal(a, &sec, apps, 2, now, &c, &e), ERR_OK);
	assert_int_equal(c->ntasks, 2);
	f = find_file(c, "web-01", "files/app.py");
	assert_non_null(f);
	assert_int_equal(f->len, 12);
	assert_memory_equal(f->data, "print('hi')\n", 12);
	assert_int_equal(f->mode, 0755);
	f = find_file(c, "web-01", "files/big.bin");
	assert_non_null(f);
	assert_int_equal(f->len, sizeof(fx->big));
	assert_memory_equal(f->data, fx->big, sizeof(fx->big));
	f = find_file(c, "pwn-02", "files/blob");
	assert_non_null(f);
	assert_memory_equal(f->data, fx->big + 7, sizeof(fx->big) - 7);
	assert_non_null(find_file(c, "web-01", "solution/solve.sh"));
	assert_non_null(find_file(c, "web-01", "task.yaml"));
	vault_suite_content_free(c);

	/* with an audit log: the unseal is recorded, naming the custodians */
	{
		char *dir = tpath("audit-unseal");
		struct vault_audit *log = open_log(dir, 0);
		struct vault_approval_in in[2] = {
			{ "A1", apps[0].data, apps[0].len }, { "A2", apps[1].data, apps[1].len } };
		struct buf ent;
		assert_int_equal(vault_suite_unseal(a, sec.data, sec.len, NULL, in, 2, now, log, NULL, &c, &e), ERR_OK);
		vault_suite_content_free(c);
		buf_init(&ent, 1 << 16);
		assert_int_equal(vault_audit_entry(log, 0, &ent, &e), ERR_OK);
		assert_non_null(strstr(ent.data, "\"kind\":\"unseal\""));
		assert_non_null(strstr(ent.data, "\"custodians\":[\"cust-a\",\"cust-c\"]"));
		assert_non_null(strstr(ent.data, a->digest));
		buf_release(&ent);
		vault_audit_close(log);
		free(dir);
	}
	buf_release(&req);
	buf_release(&sec);
	for (int i = 0; i < 3; i++)
		buf_release(&apps[i]);
	vault_archive_free(a);
	free_fixture(fx);
}

/* Count entries of log whose text holds every one of the strings. */
static int count_entries(struct vault_audit *log, const char *a, const char *b)
{
	struct buf ent;
	struct errmsg e;
	int n = 0;

	assert_int_equal(vault_audit_refresh(log, &e), ERR_OK);
	buf_init(&ent, 1 << 17);
	for (uint64_t i = 0; i < vault_audit_size(log); i++) {
		buf_reset(&ent);
		assert_int_equal(vault_audit_entry(log, i, &ent, &e), ERR_OK);
		if (strstr(ent.data, a) && (!b || strstr(ent.data, b)))
			n++;
	}
	buf_release(&ent);
	return n;
}

static enum err unseal_as(struct vault_archive *a, const struct buf *sec,
			  struct vault_approval_in *in, struct vault_audit *log,
			  const char *served, bool dry, struct errmsg *e)
{
	struct vault_unseal_use use = { .served = served, .dry_run = dry };
	struct vault_suite_content *c = NULL;
	enum err rc = vault_suite_unseal(a, sec->data, sec->len, NULL, in, 2,
					 (int64_t)time(NULL), log, &use, &c, e);

	vault_suite_content_free(c);
	return rc;
}

/* One request and its approvals unseal exactly one run: a dry run spends
 * nothing, the first run spends it, a resume of that run may unseal again,
 * any other run is refused; refusals and failures are audited. */
static void test_unseal_single_use(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = open_archive(fx->archive);
	struct buf req, sec, apps[2];
	struct errmsg e;
	int64_t now = (int64_t)time(NULL);
	char *dir = tpath("audit-single-use");
	struct vault_audit *log = open_log(dir, 0);
	struct vault_approval_in in[2];
	struct vault_unseal_use use = { 0 };
	struct vault_suite_content *c = NULL;
	struct vault_pubkey other;
	(void)state;

	approved_request(fx, a, "campaign-7", "r", now + 600, 0, 1, &req, &sec,
			 apps);
	for (int i = 0; i < 2; i++)
		in[i] = (struct vault_approval_in){ i ? "A2" : "A1", apps[i].data, apps[i].len };

	assert_int_equal(unseal_as(a, &sec, in, log, NULL, true, &e), ERR_OK);
	/* a new run: spends the request, then names itself */
	assert_int_equal(vault_suite_unseal(a, sec.data, sec.len, NULL, in, 2, now, log, &use, &c, &e), ERR_OK);
	vault_suite_content_free(c);
	assert_int_equal(strlen(use.request), 64);
	assert_int_equal(vault_unseal_bind(log, use.request, "1@/j/a.db", &e), ERR_OK);
	assert_int_equal(count_entries(log, "\"kind\":\"unseal.run\"", "\"served\":\"1@/j/a.db\""), 1);
	/* a second run with the same request and approvals */
	assert_int_equal(unseal_as(a, &sec, in, log, NULL, false, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "already used"));
	assert_int_equal(unseal_as(a, &sec, in, log, "2@/j/a.db", false, &e), ERR_INVAL);
	assert_int_equal(unseal_as(a, &sec, in, log, NULL, true, &e), ERR_INVAL);
	assert_int_equal(count_entries(log, "\"kind\":\"unseal.refused\"", "already used"), 3);
	/* the run it served may unseal again (resume) */
	assert_int_equal(unseal_as(a, &sec, in, log, "1@/j/a.db", false, &e), ERR_OK);
	assert_int_equal(count_entries(log, "\"kind\":\"unseal\"", "\"served\":\"1@/j/a.db\""), 1);
	/* a pinned sealer that is not the archive's: refused and audited */
	other = *vault_seckey_public(fx->cust[0]);
	use = (struct vault_unseal_use){ .served = "1@/j/a.db", .sealers = &other, .nsealers = 1 };
	assert_int_equal(vault_suite_unseal(a, sec.data, sec.len, NULL, in, 2, now, log, &use, &c, &e), ERR_CRYPTO);
	assert_int_equal(count_entries(log, "\"kind\":\"unseal.refused\"", "\"served\":\"1@/j/a.db\""), 1);
	/* a bad approval: refused, audited */
	/* another base64 letter inside the signature (a flipped bit may make
	 * the line unparseable instead, which is a different refusal) */
	{
		char *ch = &apps[1].data[apps[1].len - 10];
		*ch = *ch == 'A' ? 'B' : 'A';
	}
	in[1].text = apps[1].data;
	assert_int_equal(unseal_as(a, &sec, in, log, "1@/j/a.db", false, &e), ERR_CRYPTO);
	assert_int_equal(count_entries(log, "\"kind\":\"unseal.refused\"", "does not verify"), 1);
	vault_audit_close(log);
	free(dir);
	request_release(&req, &sec, apps);
	vault_archive_free(a);
	free_fixture(fx);
}

static void test_unseal_refusals(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = open_archive(fx->archive);
	struct vault_suite_content *c = NULL;
	struct buf req, sec, req2, sec2, apps[3], other;
	struct errmsg e;
	int64_t now = (int64_t)time(NULL);
	(void)state;

	approved_request(fx, a, "run-42", "calibration run", now + 600, 0, 1,
			 &req, &sec, apps);
	buf_init(&apps[2], 1 << 16);
	buf_init(&req2, 1 << 16);
	buf_init(&sec2, 1 << 16);
	buf_init(&other, 1 << 16);

	/* one custodian is not enough */
	assert_int_equal(try_unseal(a, &sec, apps, 1, now, &c, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "1 approval from distinct custodians, 2 required"));
	assert_non_null(strstr(e.text, fx->archive));
	/* the same custodian twice */
	buf_reset(&apps[2]);
	approve(a, &req, fx->cust[0], &apps[2]);
	{
		struct buf two[2] = { apps[0], apps[2] };
		assert_int_equal(try_unseal(a, &sec, two, 2, now, &c, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, "custodian 'cust-a' already approved"));
		assert_non_null(strstr(e.text, "approval 'A2'"));
	}
	/* expired: the run tries after the expiry */
	assert_int_equal(try_unseal(a, &sec, apps, 2, now + 601, &c, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "expired"));
	/* a custodian refuses an expired request */
	assert_int_equal(vault_approve(a, req.data, req.len, fx->cust[2], now + 601, &other, &e), ERR_INVAL);
	/* the request without its secret cannot unseal */
	assert_int_equal(try_unseal(a, &req, apps, 2, now, &c, &e), ERR_INVAL);
	/* another run id than the request's */
	{
		struct vault_approval_in in[2] = { { "A1", apps[0].data, apps[0].len }, { "A2", apps[1].data, apps[1].len } };
		assert_int_equal(vault_suite_unseal(a, sec.data, sec.len, "run-43", in, 2, now, NULL, NULL, &c, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, "run 'run-42', not 'run-43'"));
	}
	/* an approval for another request (another run) is mismatched */
	assert_int_equal(vault_request_create(a, "run-99", "other", now + 600, &req2, &sec2, &e), ERR_OK);
	approve(a, &req2, fx->cust[2], &other);
	{
		struct buf two[2] = { apps[0], other };
		assert_int_equal(try_unseal(a, &sec, two, 2, now, &c, &e), ERR_INVAL);
		assert_non_null(strstr(e.text, "approves run 'run-99'"));
	}
	/* a non-custodian cannot approve, and a forged approval is refused */
	assert_int_equal(vault_approve(a, req.data, req.len, fx->outsider, now, &other, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "not a custodian"));
	{
		char *p = strstr(apps[1].data, "reason calibration");
		p[7] = 'C';
		assert_int_equal(try_unseal(a, &sec, apps, 2, now, &c, &e), ERR_CRYPTO);
		assert_non_null(strstr(e.text, "signature by custodian 'cust-b' does not verify"));
		p[7] = 'c';
		/* every flipped byte of an approval is refused */
		for (size_t i = 0; i < apps[1].len - 1; i++) {
			apps[1].data[i] ^= 0x04;
			assert_int_not_equal(try_unseal(a, &sec, apps, 2, now, &c, &e), ERR_OK);
			apps[1].data[i] ^= 0x04;
		}
	}
	assert_int_equal(try_unseal(a, &sec, apps, 2, now, &c, &e), ERR_OK);
	vault_suite_content_free(c);
	buf_release(&req);
	buf_release(&sec);
	buf_release(&req2);
	buf_release(&sec2);
	buf_release(&other);
	for (int i = 0; i < 3; i++)
		buf_release(&apps[i]);
	vault_archive_free(a);
	free_fixture(fx);
}

/* Any flipped bit or truncation of the archive is refused at open. */
static void test_archive_bitflips(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = NULL;
	struct errmsg e;
	char *data;
	size_t len;
	(void)state;

	assert_int_equal(file_read(fx->archive, 1 << 24, &data, &len, &e), ERR_OK);
	for (size_t i = 0; i < len; i += (i < 4096 ? 1 : 997)) {
		data[i] ^= (char)(1 << (i % 8));
		assert_int_not_equal(vault_archive_parse("x.assay", data, len, &a, &e), ERR_OK);
		data[i] ^= (char)(1 << (i % 8));
	}
	for (size_t n = 0; n < len; n += (n < 2048 ? 7 : 4099)) {
		assert_int_not_equal(vault_archive_parse("x.assay", data, n, &a, &e), ERR_OK);
	}
	assert_int_not_equal(vault_archive_parse("x.assay", data, len - 1, &a, &e), ERR_OK);
	assert_non_null(strstr(e.text, "archive 'x.assay'"));
	assert_int_equal(vault_archive_parse("x.assay", data, len, &a, &e), ERR_OK);
	vault_archive_free(a);
	free(data);
	free_fixture(fx);
}

/* Re-sign a modified archive with the sealer key (an insider with that key
 * still cannot move chunks: the AEAD layers catch it). */
static void resign(char *data, size_t len, struct vault_seckey *sealer)
{
	unsigned char digest[32], msg[sizeof(VAULT_ARCHIVE_SIGDOM) + 32], sig[64];
	size_t body = len - (27 + 88 + 1); /* "signature KEYID B64\n" */
	struct buf b;

	assert_memory_equal(data + body, "signature ", 10);
	vault_sha256(data, body, digest);
	vault_archive_sigmsg(digest, msg);
	vault_seckey_sign(sealer, msg, sizeof(msg), sig);
	buf_init(&b, 1024);
	assert_int_equal(vault_b64_add(&b, sig, 64), ERR_OK);
	assert_int_equal(len - 1 - (body + 27), b.len);
	memcpy(data + body + 27, b.data, b.len);
	buf_release(&b);
}

static void swap(char *p, char *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char t = p[i];
		p[i] = q[i];
		q[i] = t;
	}
}

static void test_chunks_swapped(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = open_archive(fx->archive), *b = NULL;
	struct vault_suite_content *c = NULL;
	struct buf req, sec, apps[2];
	struct errmsg e;
	int64_t now = (int64_t)time(NULL);
	size_t full = VAULT_SEAL_CHUNK + 17, base = a->data_off;
	char *data;
	size_t len;
	(void)state;

	assert_true(a->tasks[0].chunks >= 3 && a->tasks[1].chunks >= 3);
	assert_int_equal(file_read(fx->archive, 1 << 24, &data, &len, &e), ERR_OK);
	/* swap chunk 1 of task 0 with chunk 1 of task 1 */
	swap(data + base + a->tasks[0].offset, data + base + a->tasks[1].offset, full);
	resign(data, len, fx->sealer);
	assert_int_equal(vault_archive_parse("swapped.assay", data, len, &b, &e), ERR_OK);
	buf_init(&req, 1 << 16);
	buf_init(&sec, 1 << 16);
	buf_init(&apps[0], 1 << 16);
	buf_init(&apps[1], 1 << 16);
	assert_int_equal(vault_request_create(b, "run-42", "r", now + 600, &req, &sec, &e), ERR_OK);
	approve(b, &req, fx->cust[0], &apps[0]);
	approve(b, &req, fx->cust[1], &apps[1]);
	assert_int_equal(try_unseal(b, &sec, apps, 2, now, &c, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.text, "task 'pwn-02': chunk 1 of"));
	assert_non_null(strstr(e.text, "swapped.assay"));
	assert_null(c);
	/* with a log: the unseal entry, then its failure, both audited */
	{
		char *dir = tpath("audit-swapped");
		struct vault_audit *log = open_log(dir, 0);
		struct vault_approval_in in[2] = {
			{ "A1", apps[0].data, apps[0].len }, { "A2", apps[1].data, apps[1].len } };
		assert_int_equal(vault_suite_unseal(b, sec.data, sec.len, NULL, in, 2, now, log, NULL, &c, &e), ERR_CRYPTO);
		assert_null(c);
		assert_int_equal(count_entries(log, "\"kind\":\"unseal\"", NULL), 1);
		assert_int_equal(count_entries(log, "\"kind\":\"unseal.failed\"", "fails authentication"), 1);
		vault_audit_close(log);
		free(dir);
	}
	vault_archive_free(b);
	/* reorder chunks 1 and 2 inside task 1 */
	swap(data + base + a->tasks[0].offset, data + base + a->tasks[1].offset, full);
	swap(data + base + a->tasks[1].offset, data + base + a->tasks[1].offset + full, full);
	resign(data, len, fx->sealer);
	assert_int_equal(vault_archive_parse("reordered.assay", data, len, &b, &e), ERR_OK);
	buf_reset(&req); buf_reset(&sec); buf_reset(&apps[0]); buf_reset(&apps[1]);
	assert_int_equal(vault_request_create(b, "run-42", "r", now + 600, &req, &sec, &e), ERR_OK);
	approve(b, &req, fx->cust[0], &apps[0]);
	approve(b, &req, fx->cust[1], &apps[1]);
	assert_int_equal(try_unseal(b, &sec, apps, 2, now, &c, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.text, "task 'web-01': chunk 1 of"));
	vault_archive_free(b);
	/* swap the wrapped keys of the two tasks in the header */
	swap(data + base + a->tasks[1].offset, data + base + a->tasks[1].offset + full, full);
	{
		char *t0 = strstr(data, "\ntask 0 "), *t1 = strstr(data, "\ntask 1 ");
		char *w0 = strchr(t1 + 1, '\n') - 96, *w1 = strstr(t1 + 1, "\nkey-check") - 96;
		(void)t0;
		w0 = strchr(t0 + 1, '\n') - 96;
		swap(w0, w1, 96);
	}
	resign(data, len, fx->sealer);
	assert_int_equal(vault_archive_parse("keys.assay", data, len, &b, &e), ERR_OK);
	buf_reset(&req); buf_reset(&sec); buf_reset(&apps[0]); buf_reset(&apps[1]);
	assert_int_equal(vault_request_create(b, "run-42", "r", now + 600, &req, &sec, &e), ERR_OK);
	approve(b, &req, fx->cust[0], &apps[0]);
	approve(b, &req, fx->cust[1], &apps[1]);
	assert_int_equal(try_unseal(b, &sec, apps, 2, now, &c, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.text, "does not unwrap"));
	vault_archive_free(b);
	request_release(&req, &sec, apps);
	free(data);
	vault_archive_free(a);
	free_fixture(fx);
}

/* ---- worker keys (issue 15: sealed suites on many machines) ---- */

static struct vault_worker_key *worker_key_at(const char *name)
{
	struct vault_worker_key *k = NULL, *back = NULL;
	char *path = tpath(name);
	struct errmsg e;

	(void)unlink(path);
	assert_int_equal(vault_worker_key_generate(&k, &e), ERR_OK);
	assert_int_equal(vault_worker_key_save(k, path, &e), ERR_OK);
	assert_int_equal(vault_worker_key_load(path, &back, &e), ERR_OK);
	assert_string_equal(vault_worker_key_public(k), vault_worker_key_public(back));
	vault_worker_key_free(k);
	free(path);
	return back;
}

static void test_worker_key_files(void **state)
{
	struct vault_worker_key *k = worker_key_at("w1.key"), *x = NULL;
	char *path = tpath("w1.key"), *data, canon[VAULT_WORKER_PUB_SIZE], *up;
	const char *pub = vault_worker_key_public(k);
	size_t len;
	struct errmsg e;
	(void)state;

	assert_int_equal(strlen(pub), VAULT_WORKER_PUB_SIZE - 1);
	assert_int_equal(strncmp(pub, VAULT_WORKER_PUB_PREFIX, strlen(VAULT_WORKER_PUB_PREFIX)), 0);
	/* the file is 0600 and not replaced */
	{
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(vault_worker_key_save(k, path, &e), ERR_INVAL);
	}
	/* readable by others: refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(vault_worker_key_load(path, &x, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "chmod 600"));
	assert_non_null(strstr(e.text, "worker key file '"));
	assert_non_null(strstr(e.text, "' is accessible by group or others "
			       "(chmod 600)"));
	assert_int_equal(chmod(path, 0600), 0);
	/* a secret that does not give the public key: refused */
	assert_int_equal(file_read(path, 4096, &data, &len, &e), ERR_OK);
	data[len - 2] = data[len - 2] == '0' ? '1' : '0';
	assert_int_equal(unlink(path), 0);
	assert_int_equal(file_write_atomic(path, data, len, 0600, &e), ERR_OK);
	assert_int_equal(vault_worker_key_load(path, &x, &e), ERR_CRYPTO);
	assert_int_equal(file_write_atomic(path, data, len - 3, 0600, &e), ERR_OK);
	assert_int_equal(vault_worker_key_load(path, &x, &e), ERR_PARSE);
	free(data);
	/* public text: white space and upper case accepted, canonical out */
	up = xasprintf("  %s\n", pub);
	for (char *c = up + 2 + strlen(VAULT_WORKER_PUB_PREFIX); *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	assert_int_equal(vault_worker_pub_parse(up, strlen(up), canon, &e), ERR_OK);
	assert_string_equal(canon, pub);
	assert_int_equal(vault_worker_pub_parse(pub, strlen(pub) - 1, canon, &e), ERR_PARSE);
	assert_int_equal(vault_worker_pub_parse("assay-worker-v1:zz", 18, canon, &e), ERR_PARSE);
	assert_int_equal(vault_worker_pub_parse(pub + 1, strlen(pub) - 1, canon, &e), ERR_PARSE);
	free(up);
	free(path);
	vault_worker_key_free(k);
}

/* Unseal as the coordinator does, wrap to worker 1, open as worker 1
 * (only the wrapped tasks) and refuse everything else. */
static void test_worker_wrap(void **state)
{
	struct sealfx *fx = seal_fixture(2);
	struct vault_archive *a = open_archive(fx->archive);
	struct vault_worker_key *w1 = worker_key_at("wa.key"), *w2 = worker_key_at("wb.key");
	struct vault_suite_content *c = NULL, *wc = NULL;
	unsigned char wrapped[2][VAULT_WORKER_WRAP_LEN];
	struct vault_wrapped_task w[2];
	struct buf req, sec, apps[2];
	const struct vault_file *f;
	struct errmsg e;
	int64_t now = (int64_t)time(NULL);
	(void)state;

	approved_request(fx, a, "run-42", "workers", now + 3600, 0, 1, &req,
			 &sec, apps);
	assert_int_equal(try_unseal(a, &sec, apps, 2, now, &c, &e), ERR_OK);
	assert_non_null(c->kek);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(vault_task_key_wrap(a, c, i, vault_worker_key_public(w1), wrapped[i], &e), ERR_OK);
		w[i].index = i;
		w[i].wrapped = wrapped[i];
	}
	assert_int_equal(vault_task_key_wrap(a, c, 2, vault_worker_key_public(w1), wrapped[0] + 0, &e), ERR_INVAL);
	assert_int_equal(vault_task_key_wrap(a, c, 0, "assay-worker-v1:00", wrapped[1] + 0, &e), ERR_PARSE);
	/* worker 1 opens task 1 (web-01) only: the same bytes as the unseal */
	assert_int_equal(vault_suite_open_wrapped(a, &w[1], 1, w1, &wc, &e), ERR_OK);
	assert_int_equal(wc->ntasks, 1);
	assert_null(wc->kek);
	assert_string_equal(wc->tasks[0].id, "web-01");
	f = find_file(wc, "web-01", "files/big.bin");
	assert_non_null(f);
	assert_memory_equal(f->data, fx->big, sizeof(fx->big));
	assert_null(find_file(wc, "pwn-02", "files/blob"));
	/* a worker's content holds no KEK: it cannot wrap further */
	assert_int_equal(vault_task_key_wrap(a, wc, 0, vault_worker_key_public(w2), wrapped[0] + 0, &e), ERR_INVAL);
	vault_suite_content_free(wc);
	wc = NULL;
	/* worker 2 (not the one wrapped to) gets nothing */
	assert_int_equal(vault_suite_open_wrapped(a, w, 2, w2, &wc, &e), ERR_CRYPTO);
	assert_non_null(strstr(e.text, "another worker"));
	assert_null(wc);
	/* task 0's wrapped key given as task 1's: refused, not mis-decrypted */
	{
		struct vault_wrapped_task moved = { 1, wrapped[0] };
		assert_int_equal(vault_suite_open_wrapped(a, &moved, 1, w1, &wc, &e), ERR_CRYPTO);
		assert_non_null(strstr(e.text, "another task's or another archive's"));
	}
	/* any flipped byte of a wrapped key is refused */
	for (size_t i = 0; i < VAULT_WORKER_WRAP_LEN; i += 7) {
		wrapped[1][i] ^= 0x20;
		assert_int_equal(vault_suite_open_wrapped(a, &w[1], 1, w1, &wc, &e), ERR_CRYPTO);
		wrapped[1][i] ^= 0x20;
	}
	/* an index out of range, and one given twice */
	{
		struct vault_wrapped_task out[2] = { { 5, wrapped[0] }, { 0, wrapped[0] } };
		assert_int_equal(vault_suite_open_wrapped(a, out, 1, w1, &wc, &e), ERR_INVAL);
		out[0].index = 0;
		assert_int_equal(vault_suite_open_wrapped(a, out, 2, w1, &wc, &e), ERR_INVAL);
	}
	assert_int_equal(vault_suite_open_wrapped(a, w, 2, w1, &wc, &e), ERR_OK);
	assert_int_equal(wc->ntasks, 2);
	vault_suite_content_free(wc);
	vault_suite_content_free(c);
	vault_worker_key_free(w1);
	vault_worker_key_free(w2);
	request_release(&req, &sec, apps);
	vault_archive_free(a);
	free_fixture(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_rfc6962_vectors),
		cmocka_unit_test(test_rfc6962_proof_vectors),
		cmocka_unit_test(test_proofs_exhaustive),
		cmocka_unit_test(test_shamir),
		cmocka_unit_test(test_keys_plain),
		cmocka_unit_test(test_keys_passphrase),
		cmocka_unit_test(test_pubkey_parse_errors),
		cmocka_unit_test(test_audit_append_proofs),
		cmocka_unit_test(test_audit_torn_tail),
		cmocka_unit_test(test_audit_typed),
		cmocka_unit_test(test_audit_tamper),
		cmocka_unit_test(test_checkpoint_c2sp_vector),
		cmocka_unit_test(test_proof_text),
		cmocka_unit_test(test_dsse_pae_vector),
		cmocka_unit_test(test_dsse_two_signatures),
		cmocka_unit_test(test_dsse_check),
		cmocka_unit_test(test_minisign_roundtrip),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_approval_check),
		cmocka_unit_test(test_unseal_refusals),
		cmocka_unit_test(test_unseal_single_use),
		cmocka_unit_test(test_archive_bitflips),
		cmocka_unit_test(test_chunks_swapped),
		cmocka_unit_test(test_worker_key_files),
		cmocka_unit_test(test_worker_wrap),
	};
	struct errmsg e;

	if (vault_init(&e))
		return 1;
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
