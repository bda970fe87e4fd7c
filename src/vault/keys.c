/*
 * keys.c - key generation, the key file formats, passphrase protection.
 *
 * Threats handled here: a stolen key file (Argon2id makes guessing the
 * passphrase expensive; the header is associated data so the name, kind
 * and KDF parameters cannot be swapped); a hostile key file (KDF limits
 * and sizes are capped before use); secrets in swap or core dumps
 * (sodium_malloc locks and guards the pages; they are no-access while
 * idle and wiped on free).
 */
#include "vault/keys.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define SECRET_LEN (crypto_sign_SECRETKEYBYTES + crypto_box_SECRETKEYBYTES)
/* the key a passphrase seals the secret under */
#define PASS_KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES

_Static_assert(VAULT_SIG_LEN == crypto_sign_BYTES &&
	       VAULT_PK_LEN == crypto_sign_PUBLICKEYBYTES &&
	       VAULT_BOX_PK_LEN == crypto_box_PUBLICKEYBYTES,
	       "keys.h's sizes are libsodium's");
_Static_assert(VAULT_KEYID_LEN <= crypto_hash_sha256_BYTES,
	       "a key id is a prefix of a SHA-256");
#define KEYFILE_MAX 8192
#define KDF_OPS_MAX 16
#define KDF_MEM_MAX ((uint64_t)1 << 30)
#define HDR_LINE "assay secret key v1"

struct vault_seckey {
	struct vault_pubkey pub;
	unsigned char *secret; /* sodium_malloc: sign sk || box sk */
};

bool vault_key_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > VAULT_KEY_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *vault_key_kind_name(enum vault_key_kind kind)
{
	return kind == VAULT_KEY_CUSTODIAN ? "custodian" : "sign";
}

void vault_keyid_hex(const unsigned char keyid[VAULT_KEYID_LEN],
		     char out[VAULT_KEYID_HEX_SIZE])
{
	sodium_bin2hex(out, VAULT_KEYID_HEX_SIZE, keyid, VAULT_KEYID_LEN);
}

void vault_pubkey_compute_keyid(struct vault_pubkey *pub)
{
	static const char dom[] = "assay-keyid"; /* with its NUL */
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)dom, sizeof(dom));
	crypto_hash_sha256_update(&st, pub->sign_pk, VAULT_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	memcpy(pub->keyid, h, VAULT_KEYID_LEN);
}

static struct vault_seckey *seckey_alloc(void)
{
	struct vault_seckey *k = xcalloc(1, sizeof(*k));

	k->secret = vault_secure_alloc(SECRET_LEN);
	return k;
}

void vault_seckey_free(struct vault_seckey *key)
{
	if (!key)
		return;
	sodium_free(key->secret); /* wipes before freeing */
	free(key);
}

const struct vault_pubkey *vault_seckey_public(const struct vault_seckey *key)
{
	return &key->pub;
}

enum err vault_key_generate(enum vault_key_kind kind, const char *name,
			    struct vault_seckey **key_out, struct errmsg *e)
{
	struct vault_seckey *k;
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	if (!vault_key_name_ok(name))
		return err_set(e, ERR_INVAL, "bad key name '%s' (use 1-64 of "
			       "A-Z a-z 0-9 . _ -)", name);
	k = seckey_alloc();
	k->pub.kind = kind;
	memcpy(k->pub.name, name, strlen(name) + 1);
	crypto_sign_keypair(k->pub.sign_pk, k->secret);
	if (kind == VAULT_KEY_CUSTODIAN)
		crypto_box_keypair(k->pub.box_pk,
				   k->secret + crypto_sign_SECRETKEYBYTES);
	vault_pubkey_compute_keyid(&k->pub);
	sodium_mprotect_noaccess(k->secret);
	*key_out = k;
	return ERR_OK;
}

void vault_seckey_sign(struct vault_seckey *key, const void *msg, size_t len,
		       unsigned char sig_out[VAULT_SIG_LEN])
{
	sodium_mprotect_readonly(key->secret);
	crypto_sign_detached(sig_out, NULL, msg, len, key->secret);
	sodium_mprotect_noaccess(key->secret);
}

enum err vault_seckey_box_open(struct vault_seckey *key,
			       const unsigned char *c, size_t clen,
			       unsigned char *out, struct errmsg *e)
{
	int r;

	if (key->pub.kind != VAULT_KEY_CUSTODIAN)
		return err_set(e, ERR_INVAL, "key '%s' is not a custodian key",
			       key->pub.name);
	if (clen < crypto_box_SEALBYTES)
		return err_set(e, ERR_PARSE, "sealed share is too short");
	sodium_mprotect_readonly(key->secret);
	r = crypto_box_seal_open(out, c, clen, key->pub.box_pk,
				 key->secret + crypto_sign_SECRETKEYBYTES);
	sodium_mprotect_noaccess(key->secret);
	if (r != 0)
		return err_set(e, ERR_CRYPTO, "share is not sealed to "
			       "custodian '%s' or was modified", key->pub.name);
	return ERR_OK;
}

enum err vault_seal_to(const struct vault_pubkey *pub, const void *msg,
		       size_t len, unsigned char *out, struct errmsg *e)
{
	if (pub->kind != VAULT_KEY_CUSTODIAN)
		return err_set(e, ERR_INVAL, "key '%s' is not a custodian key",
			       pub->name);
	if (crypto_box_seal(out, msg, len, pub->box_pk) != 0)
		return err_set(e, ERR_CRYPTO, "cannot seal to '%s'", pub->name);
	return ERR_OK;
}

bool vault_pubkey_verify(const struct vault_pubkey *pub, const void *msg,
			 size_t len, const unsigned char sig[VAULT_SIG_LEN])
{
	return crypto_sign_verify_detached(sig, msg, len, pub->sign_pk) == 0;
}

/* ---- key file ---- */

static size_t secret_len(enum vault_key_kind kind)
{
	return kind == VAULT_KEY_CUSTODIAN ? SECRET_LEN
					   : crypto_sign_SECRETKEYBYTES;
}

/* The header lines, which are the associated data of the encryption. */
static enum err key_header(const struct vault_seckey *k, const char *prot,
			   unsigned long long ops, size_t mem,
			   const unsigned char *salt, const unsigned char *nonce,
			   struct buf *b)
{
	char id[VAULT_KEYID_HEX_SIZE];
	enum err rc;

	vault_keyid_hex(k->pub.keyid, id);
	rc = buf_printf(b, HDR_LINE "\nkind %s\nname %s\nkeyid %s\n"
			"protection %s\n", vault_key_kind_name(k->pub.kind),
			k->pub.name, id, prot);
	if (!rc && salt) {
		rc = buf_printf(b, "kdf argon2id13 %llu %zu ", ops, mem);
		if (!rc)
			rc = vault_b64_add(b, salt, crypto_pwhash_SALTBYTES);
		if (!rc)
			rc = buf_adds(b, "\nnonce ");
		if (!rc)
			rc = vault_b64_add(b, nonce,
					   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
		if (!rc)
			rc = buf_addch(b, '\n');
	}
	return rc;
}

static enum err derive_key(const char *pass, const unsigned char *salt,
			   unsigned long long ops, size_t mem,
			   unsigned char *key, struct errmsg *e)
{
	if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
			  pass, strlen(pass), salt, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return err_set(e, ERR_NOMEM, "argon2id: out of memory");
	return ERR_OK;
}

/* Append "secret BASE64\n": plain or sealed under the passphrase. */
static enum err add_secret(const struct vault_seckey *k, const char *pass,
			   const unsigned char *salt, const unsigned char *nonce,
			   struct buf *b, struct errmsg *e)
{
	size_t n = secret_len(k->pub.kind);
	size_t clen = n + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned char *key = vault_secure_alloc(PASS_KEY_LEN),
		      *ct = vault_secure_alloc(clen);
	enum err rc = ERR_OK;

	sodium_mprotect_readonly(k->secret);
	if (pass) {
		rc = derive_key(pass, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				crypto_pwhash_MEMLIMIT_INTERACTIVE, key, e);
		if (!rc)
			crypto_aead_xchacha20poly1305_ietf_encrypt(
				ct, NULL, k->secret, n,
				(const unsigned char *)b->data, b->len, NULL,
				nonce, key);
	} else {
		memcpy(ct, k->secret, n);
		clen = n;
	}
	sodium_mprotect_noaccess(k->secret);
	if (!rc && (buf_adds(b, "secret ") || vault_b64_add(b, ct, clen) ||
		    buf_addch(b, '\n')))
		rc = err_set(e, ERR_LIMIT, "key file too large");
	sodium_free(key);
	sodium_free(ct);
	return rc;
}

enum err vault_seckey_save(const struct vault_seckey *key, const char *path,
			   const char *passphrase, struct errmsg *e)
{
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	struct buf b;
	enum err rc;

	if (path_exists(path))
		return err_set(e, ERR_INVAL, "key file '%s' already exists",
			       path);
	if (passphrase && !*passphrase)
		return err_set(e, ERR_INVAL, "empty passphrase");
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	/* sodium_malloc is not needed: the buffer holds only ciphertext, or
	 * the plain key that is being written to disk anyway; still wiped. */
	buf_init(&b, KEYFILE_MAX);
	rc = key_header(key, passphrase ? "argon2id" : "none",
			crypto_pwhash_OPSLIMIT_INTERACTIVE,
			crypto_pwhash_MEMLIMIT_INTERACTIVE,
			passphrase ? salt : NULL, nonce, &b);
	if (rc)
		rc = err_set(e, rc, "key file too large");
	if (!rc)
		rc = add_secret(key, passphrase, salt, nonce, &b, e);
	if (!rc)
		rc = file_write_atomic(path, b.data, b.len, 0600, e);
	sodium_memzero(b.data, b.len);
	buf_release(&b);
	return rc;
}

/* ---- loading ---- */

struct keyfile {
	enum vault_key_kind kind;
	char name[VAULT_KEY_NAME_MAX + 1];
	unsigned char keyid[VAULT_KEYID_LEN];
	bool encrypted;
	unsigned long long ops;
	size_t mem;
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	const char *secret_b64;
	size_t secret_b64_len;
	size_t header_len; /* bytes of associated data */
};

static enum err parse_kdf(const struct vfields *f, struct keyfile *kf,
			  struct errmsg *e)
{
	uint64_t ops, mem;
	enum err rc;

	if (f->n != 5 || !vault_field_is(f, 1, "argon2id13"))
		return err_set(e, ERR_PARSE, "bad 'kdf' line");
	rc = vault_field_u64(f, 2, &ops, e);
	if (!rc)
		rc = vault_field_u64(f, 3, &mem, e);
	if (rc)
		return rc;
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > KDF_OPS_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > KDF_MEM_MAX)
		return err_set(e, ERR_LIMIT, "kdf parameters out of range");
	kf->ops = ops;
	kf->mem = (size_t)mem;
	return vault_b64_decode_exact(f->s[4], f->len[4], kf->salt,
				      sizeof(kf->salt), "kdf salt", e);
}

static enum err parse_key_line(const struct vfields *f, struct keyfile *kf,
			       int lineno, struct errmsg *e)
{
	static const char *const order[] = { "kind", "name", "keyid",
					     "protection" };

	if (lineno >= 2 && lineno <= 5) {
		const char *want = order[lineno - 2];
		if (!vault_field_is(f, 0, want) || f->n != 2)
			return err_set(e, ERR_PARSE, "expected '%s'", want);
	} else if (!vault_field_is(f, 0, "kdf") &&
		   !vault_field_is(f, 0, "nonce")) {
		return err_set(e, ERR_PARSE, "unexpected line");
	}
	if (vault_field_is(f, 0, "kind") && vault_field_is(f, 1, "sign"))
		kf->kind = VAULT_KEY_SIGN;
	else if (vault_field_is(f, 0, "kind") && vault_field_is(f, 1, "custodian"))
		kf->kind = VAULT_KEY_CUSTODIAN;
	else if (vault_field_is(f, 0, "kind"))
		return err_set(e, ERR_PARSE, "unknown key kind");
	else if (vault_field_is(f, 0, "name")) {
		if (f->len[1] > VAULT_KEY_NAME_MAX)
			return err_set(e, ERR_PARSE, "name too long");
		memcpy(kf->name, f->s[1], f->len[1]);
		kf->name[f->len[1]] = '\0';
		if (!vault_key_name_ok(kf->name))
			return err_set(e, ERR_PARSE, "bad key name");
	} else if (vault_field_is(f, 0, "keyid")) {
		if (!vault_field_keyid(f, 1, kf->keyid))
			return err_set(e, ERR_PARSE, "bad keyid");
	} else if (vault_field_is(f, 0, "protection")) {
		kf->encrypted = vault_field_is(f, 1, "argon2id");
		if (!kf->encrypted && !vault_field_is(f, 1, "none"))
			return err_set(e, ERR_PARSE, "unknown protection");
	} else if (vault_field_is(f, 0, "kdf") && kf->encrypted && lineno == 6) {
		return parse_kdf(f, kf, e);
	} else if (vault_field_is(f, 0, "nonce") && kf->encrypted &&
		   lineno == 7 && f->n == 2) {
		return vault_b64_decode_exact(f->s[1], f->len[1], kf->nonce,
					      sizeof(kf->nonce), "nonce", e);
	} else {
		return err_set(e, ERR_PARSE, "unexpected line");
	}
	return ERR_OK;
}

static enum err parse_keyfile(const char *data, size_t len,
			      struct keyfile *kf, struct errmsg *e)
{
	struct vlines l;
	const char *line;
	size_t n;
	bool unterminated;
	struct vfields f;
	enum err rc;

	memset(kf, 0, sizeof(*kf));
	if (!vault_lines_open(&l, data, len, HDR_LINE))
		return err_set(e, ERR_PARSE, "not an assay secret key");
	while (vault_lines_next(&l, &line, &n, &unterminated)) {
		if (unterminated)
			return err_set(e, ERR_PARSE, "truncated");
		rc = vault_fields_split(line, n, &f, e);
		if (rc)
			return err_prefix(e, "line %d", l.lineno);
		if (vault_field_is(&f, 0, "secret") && f.n == 2 &&
		    l.lineno == (kf->encrypted ? 8 : 6) && l.p == l.end) {
			kf->secret_b64 = f.s[1];
			kf->secret_b64_len = f.len[1];
			kf->header_len = (size_t)(line - data);
			return ERR_OK;
		}
		rc = parse_key_line(&f, kf, l.lineno, e);
		if (rc)
			return err_prefix(e, "line %d", l.lineno);
	}
	return err_set(e, ERR_PARSE, "no 'secret' line");
}

enum err vault_check_private(const char *path, const char *what,
			     struct errmsg *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return err_sys(e, ERR_IO, "cannot stat '%s'", path);
	if (st.st_mode & 077)
		return err_set(e, ERR_INVAL, "%s key file '%s' is accessible by "
			       "group or others (chmod 600)", what, path);
	return ERR_OK;
}

/* Decrypt (or copy) the secret of kf into k->secret. */
static enum err open_secret(const struct keyfile *kf, const char *data,
			    const char *pass, struct vault_seckey *k,
			    struct errmsg *e)
{
	size_t n = secret_len(kf->kind);
	size_t clen = n + (kf->encrypted ? crypto_aead_xchacha20poly1305_ietf_ABYTES : 0);
	unsigned char *ct = vault_secure_alloc(clen),
		      *key = vault_secure_alloc(PASS_KEY_LEN);
	enum err rc;

	rc = vault_b64_decode_exact(kf->secret_b64, kf->secret_b64_len, ct,
				    clen, "secret", e);
	if (!rc && kf->encrypted) {
		rc = derive_key(pass, kf->salt, kf->ops, kf->mem, key, e);
		if (!rc && crypto_aead_xchacha20poly1305_ietf_decrypt(
				   k->secret, (unsigned long long *)NULL, NULL,
				   ct, clen, (const unsigned char *)data,
				   kf->header_len, kf->nonce, key) != 0)
			rc = err_set(e, ERR_CRYPTO, "wrong passphrase or "
				     "modified key file");
	} else if (!rc) {
		memcpy(k->secret, ct, n);
	}
	sodium_free(ct);
	sodium_free(key);
	return rc;
}

/* The public halves follow from the secret; they must match the keyid. */
static enum err derive_public(struct vault_seckey *k, struct errmsg *e,
			      const unsigned char want_id[VAULT_KEYID_LEN])
{
	crypto_sign_ed25519_sk_to_pk(k->pub.sign_pk, k->secret);
	if (k->pub.kind == VAULT_KEY_CUSTODIAN)
		crypto_scalarmult_base(k->pub.box_pk,
				       k->secret + crypto_sign_SECRETKEYBYTES);
	vault_pubkey_compute_keyid(&k->pub);
	if (sodium_memcmp(k->pub.keyid, want_id, VAULT_KEYID_LEN) != 0)
		return err_set(e, ERR_CRYPTO, "secret does not match keyid");
	return ERR_OK;
}

static enum err load_parsed(const char *path, const char *data,
			    const struct keyfile *kf, const char *pass,
			    struct vault_seckey **key_out, struct errmsg *e)
{
	struct vault_seckey *k;
	enum err rc;

	if (kf->encrypted && !pass)
		return err_set(e, ERR_INVAL, "key '%s' needs a passphrase "
			       "(set ASSAY_PASSPHRASE or --passphrase-file)",
			       path);
	if (!kf->encrypted) {
		rc = vault_check_private(path, "unencrypted", e);
		if (rc)
			return rc;
	}
	k = seckey_alloc();
	k->pub.kind = kf->kind;
	memcpy(k->pub.name, kf->name, sizeof(k->pub.name));
	rc = open_secret(kf, data, pass, k, e);
	if (!rc)
		rc = derive_public(k, e, kf->keyid);
	if (rc) {
		vault_seckey_free(k);
		return err_prefix(e, "key '%s'", path);
	}
	sodium_mprotect_noaccess(k->secret);
	*key_out = k;
	return ERR_OK;
}

enum err vault_seckey_load(const char *path, const char *passphrase,
			   struct vault_seckey **key_out, struct errmsg *e)
{
	struct keyfile kf;
	char *data;
	size_t len;
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	rc = file_read(path, KEYFILE_MAX, &data, &len, e);
	if (rc)
		return rc;
	rc = parse_keyfile(data, len, &kf, e);
	if (rc)
		rc = err_prefix(e, "key file '%s'", path);
	else
		rc = load_parsed(path, data, &kf, passphrase, key_out, e);
	sodium_memzero(data, len);
	free(data);
	return rc;
}

/* ---- passphrases ---- */

static char *pass_dup(const char *s, size_t n)
{
	char *p;

	if (n && s[n - 1] == '\n')
		n--;
	p = vault_secure_alloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

enum err vault_passphrase_read(const char *file, char **pass_out,
			       struct errmsg *e)
{
	const char *env = getenv("ASSAY_PASSPHRASE");
	char *data;
	size_t len;
	enum err rc;

	rc = vault_init(e);
	if (rc)
		return rc;
	if (!file && env && *env) {
		*pass_out = pass_dup(env, strlen(env));
		return ERR_OK;
	}
	if (!file)
		file = getenv("ASSAY_PASSPHRASE_FILE");
	if (!file || !*file)
		return err_set(e, ERR_NOTFOUND, "no passphrase given (set "
			       "ASSAY_PASSPHRASE or use --passphrase-file)");
	rc = file_read(file, 4096, &data, &len, e);
	if (rc)
		return rc;
	if (memchr(data, '\0', len) || len == 0 || (len == 1 && data[0] == '\n'))
		rc = err_set(e, ERR_INVAL, "passphrase file '%s' is empty or "
			     "binary", file);
	else
		*pass_out = pass_dup(data, len);
	sodium_memzero(data, len);
	free(data);
	return rc;
}

void vault_passphrase_free(char *pass)
{
	if (pass)
		sodium_free(pass);
}

enum err vault_seckey_open(const char *path, const char *passphrase_file,
			   struct vault_seckey **key_out, struct errmsg *e)
{
	struct errmsg first;
	char *pass = NULL;
	enum err rc = vault_seckey_load(path, NULL, key_out, &first);

	if (rc != ERR_INVAL || !strstr(first.text, "needs a passphrase")) {
		if (rc && e)
			*e = first;
		return rc;
	}
	rc = vault_passphrase_read(passphrase_file, &pass, e);
	if (rc)
		return err_prefix(e, "key '%s'", path);
	rc = vault_seckey_load(path, pass, key_out, e);
	vault_passphrase_free(pass);
	return rc;
}

/* ---- public key files ---- */

#define PUB_SIGN_LEN (2 + VAULT_KEYID_LEN + VAULT_PK_LEN)
#define PUB_CUST_LEN (PUB_SIGN_LEN + VAULT_PK_LEN)

enum err vault_pubkey_format(const struct vault_pubkey *pub, struct buf *out)
{
	unsigned char raw[PUB_CUST_LEN];
	size_t n = PUB_SIGN_LEN;
	enum err rc;

	raw[0] = pub->kind == VAULT_KEY_CUSTODIAN ? 'C' : 'E';
	raw[1] = pub->kind == VAULT_KEY_CUSTODIAN ? 'u' : 'd';
	memcpy(raw + 2, pub->keyid, VAULT_KEYID_LEN);
	memcpy(raw + 2 + VAULT_KEYID_LEN, pub->sign_pk, VAULT_PK_LEN);
	if (pub->kind == VAULT_KEY_CUSTODIAN) {
		memcpy(raw + PUB_SIGN_LEN, pub->box_pk, VAULT_PK_LEN);
		n = PUB_CUST_LEN;
	}
	rc = buf_printf(out, "untrusted comment: assay %s key %s\n",
			vault_key_kind_name(pub->kind), pub->name);
	if (!rc)
		rc = vault_b64_add(out, raw, n);
	if (!rc)
		rc = buf_addch(out, '\n');
	return rc;
}

/* Name and kind from the comment line; stock minisign keys get a name. */
static enum err parse_comment(const char *line, size_t n,
			      struct vault_pubkey *pub, struct errmsg *e)
{
	static const char uc[] = "untrusted comment: ";
	static const char as[] = "untrusted comment: assay ";
	size_t k;

	if (n < strlen(uc) || memcmp(line, uc, strlen(uc)) != 0)
		return err_set(e, ERR_PARSE, "not a public key file");
	pub->name[0] = '\0';
	if (n < strlen(as) || memcmp(line, as, strlen(as)) != 0)
		return ERR_OK; /* stock minisign: named after the key id */
	line += strlen(as);
	n -= strlen(as);
	k = n > 9 && !memcmp(line, "sign key ", 9) ? 9
	    : n > 14 && !memcmp(line, "custodian key ", 14) ? 14 : 0;
	if (!k || n - k > VAULT_KEY_NAME_MAX)
		return err_set(e, ERR_PARSE, "bad comment line");
	memcpy(pub->name, line + k, n - k);
	pub->name[n - k] = '\0';
	if (!vault_key_name_ok(pub->name))
		return err_set(e, ERR_PARSE, "bad key name");
	pub->kind = k == 9 ? VAULT_KEY_SIGN : VAULT_KEY_CUSTODIAN;
	return ERR_OK;
}

static enum err parse_pub_raw(const char *b64, size_t n,
			      struct vault_pubkey *pub, struct errmsg *e)
{
	unsigned char raw[PUB_CUST_LEN];
	size_t want = pub->kind == VAULT_KEY_CUSTODIAN ? PUB_CUST_LEN : PUB_SIGN_LEN;
	unsigned char id[VAULT_KEYID_LEN];
	enum err rc = vault_b64_decode_exact(b64, n, raw, want, "public key", e);

	if (rc)
		return rc;
	if (memcmp(raw, pub->kind == VAULT_KEY_CUSTODIAN ? "Cu" : "Ed", 2))
		return err_set(e, ERR_PARSE, "unknown key algorithm");
	memcpy(pub->keyid, raw + 2, VAULT_KEYID_LEN);
	memcpy(pub->sign_pk, raw + 2 + VAULT_KEYID_LEN, VAULT_PK_LEN);
	if (pub->kind == VAULT_KEY_CUSTODIAN)
		memcpy(pub->box_pk, raw + PUB_SIGN_LEN, VAULT_PK_LEN);
	if (!pub->name[0]) {
		/* stock minisign key: keep its random key number */
		char hex[VAULT_KEYID_HEX_SIZE];
		vault_keyid_hex(pub->keyid, hex);
		snprintf(pub->name, sizeof(pub->name), "minisign-%s", hex);
		return ERR_OK;
	}
	memcpy(id, pub->keyid, VAULT_KEYID_LEN);
	vault_pubkey_compute_keyid(pub);
	if (memcmp(id, pub->keyid, VAULT_KEYID_LEN) != 0)
		return err_set(e, ERR_PARSE, "key id does not match the key");
	return ERR_OK;
}

enum err vault_pubkey_parse(const char *what, const char *text, size_t len,
			    struct vault_pubkey *pub_out, struct errmsg *e)
{
	struct vlines l;
	const char *line;
	size_t n;
	bool unterm;
	enum err rc;

	memset(pub_out, 0, sizeof(*pub_out));
	rc = vault_init(e);
	if (rc)
		return rc;
	pub_out->kind = VAULT_KEY_SIGN;
	vault_lines_init(&l, text, len);
	if (!vault_lines_next(&l, &line, &n, &unterm))
		return err_set(e, ERR_PARSE, "'%s': empty public key", what);
	rc = parse_comment(line, n, pub_out, e);
	if (!rc && !vault_lines_next(&l, &line, &n, &unterm))
		rc = err_set(e, ERR_PARSE, "missing key line");
	if (!rc)
		rc = parse_pub_raw(line, n, pub_out, e);
	if (!rc && l.p != l.end)
		rc = err_set(e, ERR_PARSE, "trailing data");
	if (rc)
		return err_prefix(e, "public key '%s'", what);
	return ERR_OK;
}

enum err vault_pubkey_load(const char *path, struct vault_pubkey *pub_out,
			   struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc = file_read(path, 4096, &data, &len, e);

	if (rc)
		return rc;
	rc = vault_pubkey_parse(path, data, len, pub_out, e);
	free(data);
	return rc;
}
