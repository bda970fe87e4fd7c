/*
 * seal.c - sealing a suite directory into a .assay archive.
 *
 * Task files are read with plain reads, serialised into one plaintext per
 * task (path, mode, size, bytes per file), encrypted as a secretstream and
 * the plaintext wiped. See docs/FORMAT-archive.md for every byte.
 */
#include "vault/seal.h"

#include <dirent.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/ytree.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

_Static_assert(VAULT_SUITE_KEY_LEN == crypto_kdf_KEYBYTES &&
	       VAULT_SUITE_KEY_LEN ==
	       crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "the suite key is a KDF key, its KEK an AEAD key");
_Static_assert(VAULT_STREAM_HEADER_LEN ==
	       crypto_secretstream_xchacha20poly1305_HEADERBYTES &&
	       VAULT_TASK_KEY_LEN ==
	       crypto_secretstream_xchacha20poly1305_KEYBYTES,
	       "secretstream sizes");
_Static_assert(VAULT_WRAP_NONCE_LEN ==
	       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES &&
	       VAULT_WRAP_MAC_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "XChaCha20-Poly1305 sizes");
_Static_assert(VAULT_SEAL_BOX_LEN == crypto_box_SEALBYTES, "sealed box size");
_Static_assert(VAULT_TASK_AD_LEN == crypto_generichash_BYTES, "BLAKE2b-256");

#define HEADER_MAX ((size_t)4 << 20)
#define PATH_MAX_LEN 4096

void vault_task_ad(const unsigned char archive_id[VAULT_ARCHIVE_ID_LEN],
		   uint32_t index, const char *id,
		   unsigned char out[VAULT_TASK_AD_LEN])
{
	static const char dom[] = "assay-task-v1";
	crypto_generichash_state st;
	unsigned char be[4] = { (unsigned char)(index >> 24),
				(unsigned char)(index >> 16),
				(unsigned char)(index >> 8), (unsigned char)index };

	crypto_generichash_init(&st, NULL, 0, VAULT_TASK_AD_LEN);
	crypto_generichash_update(&st, (const unsigned char *)dom, strlen(dom));
	crypto_generichash_update(&st, archive_id, VAULT_ARCHIVE_ID_LEN);
	crypto_generichash_update(&st, be, 4);
	crypto_generichash_update(&st, (const unsigned char *)id, strlen(id) + 1);
	crypto_generichash_final(&st, out, VAULT_TASK_AD_LEN);
}

void vault_archive_sigmsg(const unsigned char digest[VAULT_SHA256_LEN],
			  unsigned char out[VAULT_ARCHIVE_SIGMSG_LEN])
{
	memcpy(out, VAULT_ARCHIVE_SIGDOM, sizeof(VAULT_ARCHIVE_SIGDOM));
	memcpy(out + sizeof(VAULT_ARCHIVE_SIGDOM), digest, VAULT_SHA256_LEN);
}

void vault_suite_subkeys(const unsigned char suite_key[VAULT_SUITE_KEY_LEN],
			 unsigned char kek_out[VAULT_SUITE_KEY_LEN],
			 unsigned char check_out[VAULT_SUITE_KEY_LEN])
{
	crypto_kdf_derive_from_key(kek_out, VAULT_SUITE_KEY_LEN, 1, "BENCHKEK",
				   suite_key);
	crypto_kdf_derive_from_key(check_out, VAULT_SUITE_KEY_LEN, 2, "KEYCHECK",
				   suite_key);
}

bool vault_token_ok(const char *s, size_t len)
{
	if (len == 0 || len > VAULT_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == ':'))
			return false;
	}
	return true;
}

/* ---- walking the suite ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (without . and ..). */
static enum err list_dir(const char *dir, char ***names_out, size_t *n_out,
			 struct errmsg *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return err_sys(e, ERR_IO, "cannot open directory '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		v = xgrow(v, &cap, n + 2, sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*names_out = v;
	*n_out = n;
	return ERR_OK;
}

struct taskdirs {
	char **paths;
	size_t n, cap;
};

static enum err find_tasks(const char *dir, struct taskdirs *t, int depth,
			   struct errmsg *e)
{
	char *manifest = path_join(dir, "task.yaml"), **names;
	size_t n;
	enum err rc;

	if (path_exists(manifest)) {
		free(manifest);
		t->paths = xgrow(t->paths, &t->cap, t->n + 1, sizeof(char *));
		t->paths[t->n++] = xstrdup(dir);
		return t->n > VAULT_SEAL_MAX_TASKS
			       ? err_set(e, ERR_LIMIT, "more than %d tasks",
					 VAULT_SEAL_MAX_TASKS) : ERR_OK;
	}
	free(manifest);
	if (depth > 8)
		return ERR_OK;
	rc = list_dir(dir, &names, &n, e);
	for (size_t i = 0; !rc && i < n; i++) {
		char *sub = path_join(dir, names[i]);
		struct stat st;
		if (names[i][0] != '.' && lstat(sub, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			rc = find_tasks(sub, t, depth + 1, e);
		free(sub);
	}
	strv_free(names);
	return rc;
}

/* ---- serialising one task ---- */

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* One serialised file: path, mode, size, bytes. */
static enum err add_bytes(struct buf *plain, const char *rel, mode_t mode,
			  const void *data, size_t len, uint64_t *nfiles,
			  struct errmsg *e)
{
	unsigned char hdr[2 + 4 + 8];
	size_t rl = strlen(rel);

	if (++*nfiles > VAULT_SEAL_MAX_FILES)
		return err_set(e, ERR_LIMIT, "more than %d files",
			       VAULT_SEAL_MAX_FILES);
	if (rl > PATH_MAX_LEN)
		return err_set(e, ERR_LIMIT, "path '%s' too long", rel);
	put_be(hdr, rl, 2);
	put_be(hdr + 2, mode & 07777, 4);
	put_be(hdr + 6, len, 8);
	if (buf_add(plain, hdr, 2) || buf_add(plain, rel, rl) ||
	    buf_add(plain, hdr + 2, 12) || buf_add(plain, data, len))
		return err_set(e, ERR_LIMIT, "task larger than %llu bytes",
			       (unsigned long long)VAULT_SEAL_MAX_TASK_BYTES);
	return ERR_OK;
}

static enum err add_file(struct buf *plain, const char *path,
			 const char *rel, mode_t mode, uint64_t *nfiles,
			 struct errmsg *e)
{
	size_t len;
	char *data;
	enum err rc = file_read(path, VAULT_SEAL_MAX_TASK_BYTES, &data, &len, e);

	if (rc)
		return rc;
	rc = add_bytes(plain, rel, mode, data, len, nfiles, e);
	sodium_memzero(data, len);
	free(data);
	return rc;
}

/* The task's carried files (vault_seal_opts.extra), after its own. */
static enum err add_extra(struct buf *plain, const struct vault_seal_opts *o,
			  const char *id, uint64_t *nfiles, struct errmsg *e)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < o->nextra && !rc; i++)
		if (!strcmp(o->extra[i].task, id))
			rc = add_bytes(plain, o->extra[i].path, 0600,
				       o->extra[i].data, o->extra[i].len, nfiles, e);
	return rc;
}

static enum err add_tree(struct buf *plain, const char *dir, const char *rel,
			 uint64_t *nfiles, int depth, struct errmsg *e)
{
	char **names;
	size_t n;
	enum err rc;

	if (depth > 32)
		return err_set(e, ERR_LIMIT, "'%s' nested too deeply", dir);
	rc = list_dir(dir, &names, &n, e);
	for (size_t i = 0; !rc && i < n; i++) {
		char *p = path_join(dir, names[i]);
		char *r = *rel ? xasprintf("%s/%s", rel, names[i])
			       : xstrdup(names[i]);
		struct stat st;
		if (!*rel && !strcmp(names[i], VAULT_CARRY_DIR))
			rc = err_set(e, ERR_INVAL, "'%s': the name '%s' is "
				     "reserved for images a task carries", p,
				     VAULT_CARRY_DIR);
		else if (lstat(p, &st) < 0)
			rc = err_sys(e, ERR_IO, "cannot stat '%s'", p);
		else if (S_ISDIR(st.st_mode))
			rc = add_tree(plain, p, r, nfiles, depth + 1, e);
		else if (S_ISREG(st.st_mode))
			rc = add_file(plain, p, r, st.st_mode, nfiles, e);
		else
			rc = err_set(e, ERR_INVAL, "'%s' is not a regular file "
				     "or directory (symlinks are not sealed)",
				     p);
		free(p);
		free(r);
	}
	strv_free(names);
	return rc;
}

/* ---- encrypting ---- */

struct sealing {
	unsigned char archive_id[VAULT_ARCHIVE_ID_LEN];
	unsigned char *suite_key; /* sodium_malloc, VAULT_SUITE_KEY_LEN */
	unsigned char kek[VAULT_SUITE_KEY_LEN];
	struct buf header;
	struct buf data;
};

static enum err encrypt_stream(const unsigned char *plain, size_t len,
			       const unsigned char *key,
			       const unsigned char ad[VAULT_TASK_AD_LEN],
			       struct vault_archive_task *t, struct buf *data)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char *out = xmalloc(VAULT_SEAL_CHUNK +
				     crypto_secretstream_xchacha20poly1305_ABYTES);
	size_t off = 0;
	enum err rc = ERR_OK;

	crypto_secretstream_xchacha20poly1305_init_push(&st, t->stream_header, key);
	t->offset = data->len;
	t->chunks = 0;
	do {
		size_t n = len - off > VAULT_SEAL_CHUNK ? VAULT_SEAL_CHUNK : len - off;
		unsigned char tag = off + n == len
			? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
		unsigned long long clen;
		crypto_secretstream_xchacha20poly1305_push(
			&st, out, &clen, plain + off, n, ad, VAULT_TASK_AD_LEN,
			tag);
		rc = buf_add(data, out, (size_t)clen);
		off += n;
		t->chunks++;
	} while (!rc && off < len);
	t->length = data->len - t->offset;
	sodium_memzero(&st, sizeof(st));
	free(out);
	return rc;
}

static char *task_id_of(const char *dir)
{
	char *manifest = path_join(dir, "task.yaml");
	struct ynode *root = NULL;
	struct errmsg e;
	const struct ynode *id;
	char *out = NULL;

	if (ytree_load(manifest, 1 << 20, &root, &e) == ERR_OK) {
		id = ymap_get(root, "id");
		if (id && id->kind == YNODE_SCALAR && id->str)
			out = xstrdup(id->str);
	}
	ytree_free(root);
	free(manifest);
	if (!out) {
		const char *slash = strrchr(dir, '/');
		out = xstrdup(slash ? slash + 1 : dir);
	}
	return out;
}

static enum err seal_task(struct sealing *s, const struct vault_seal_opts *o,
			  const char *dir, uint32_t index,
			  struct vault_archive_task *t, struct errmsg *e)
{
	unsigned char ad[VAULT_TASK_AD_LEN],
		      *key = vault_secure_alloc(VAULT_TASK_KEY_LEN);
	struct buf plain;
	enum err rc;

	t->id = task_id_of(dir);
	if (!vault_token_ok(t->id, strlen(t->id))) {
		sodium_free(key);
		return err_set(e, ERR_INVAL, "task '%s': bad id '%s'", dir, t->id);
	}
	buf_init(&plain, VAULT_SEAL_MAX_TASK_BYTES);
	t->files = 0;
	rc = add_tree(&plain, dir, "", &t->files, 0, e);
	if (!rc)
		rc = add_extra(&plain, o, t->id, &t->files, e);
	if (!rc) {
		crypto_secretstream_xchacha20poly1305_keygen(key);
		vault_task_ad(s->archive_id, index, t->id, ad);
		t->plain_len = plain.len;
		if (encrypt_stream((unsigned char *)plain.data, plain.len, key,
				   ad, t, &s->data))
			rc = err_set(e, ERR_LIMIT, "archive too large");
		randombytes_buf(t->wrapped_key, VAULT_WRAP_NONCE_LEN);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			t->wrapped_key + VAULT_WRAP_NONCE_LEN, NULL, key,
			VAULT_TASK_KEY_LEN, ad, sizeof(ad), NULL,
			t->wrapped_key, s->kek);
	}
	sodium_memzero(plain.data, plain.len);
	buf_release(&plain);
	sodium_free(key);
	if (rc)
		return err_prefix(e, "task '%s'", dir);
	return ERR_OK;
}

/* ---- the header ---- */

static enum err add_b64_field(struct buf *b, const void *p, size_t n)
{
	enum err rc = buf_addch(b, ' ');
	return rc ? rc : vault_b64_add(b, p, n);
}

static enum err header_start(struct sealing *s, const struct vault_seal_opts *o,
			     const char *suite_id, const char *version)
{
	const struct vault_pubkey *sp = vault_seckey_public(o->signer);
	char when[40], id[VAULT_KEYID_HEX_SIZE];
	struct buf *h = &s->header;
	enum err rc;

	iso8601(wall_ms(), when, sizeof(when));
	vault_keyid_hex(sp->keyid, id);
	rc = buf_adds(h, VAULT_ARCHIVE_MAGIC "\narchive-id");
	if (!rc)
		rc = add_b64_field(h, s->archive_id, sizeof(s->archive_id));
	if (!rc)
		rc = buf_printf(h, "\nsuite %s %s\ncreated %s\nsealer %s %s",
				suite_id, version, when, sp->name, id);
	if (!rc)
		rc = add_b64_field(h, sp->sign_pk, sizeof(sp->sign_pk));
	if (!rc)
		rc = buf_printf(h, "\nthreshold %u %zu\n", o->threshold,
				o->ncustodians);
	return rc;
}

static enum err header_custodians(struct sealing *s,
				  const struct vault_seal_opts *o,
				  struct errmsg *e)
{
	size_t n = o->ncustodians;
	unsigned char *shares = vault_secure_alloc(n * VAULT_SHARE_LEN);
	unsigned char sealed[VAULT_SEALED_SHARE_LEN];
	enum err rc;

	rc = vault_shamir_split(s->suite_key, VAULT_SUITE_KEY_LEN, o->threshold,
				(unsigned)n, shares, e);
	for (size_t i = 0; !rc && i < n; i++) {
		const struct vault_pubkey *c = &o->custodians[i];
		rc = vault_seal_to(c, shares + i * VAULT_SHARE_LEN,
				   VAULT_SHARE_LEN, sealed, e);
		if (!rc && (buf_printf(&s->header, "custodian %s", c->name) ||
			    add_b64_field(&s->header, c->sign_pk,
					  sizeof(c->sign_pk)) ||
			    add_b64_field(&s->header, c->box_pk,
					  sizeof(c->box_pk)) ||
			    add_b64_field(&s->header, sealed, sizeof(sealed)) ||
			    buf_addch(&s->header, '\n')))
			rc = err_set(e, ERR_LIMIT, "header too large");
	}
	sodium_free(shares);
	return rc;
}

static enum err header_task(struct buf *h, uint32_t i,
			    const struct vault_archive_task *t)
{
	enum err rc = buf_printf(h, "task %u %s %llu %llu %llu %llu %llu", i,
				 t->id, (unsigned long long)t->files,
				 (unsigned long long)t->plain_len,
				 (unsigned long long)t->chunks,
				 (unsigned long long)t->offset,
				 (unsigned long long)t->length);
	if (!rc)
		rc = add_b64_field(h, t->stream_header,
				   sizeof(t->stream_header));
	if (!rc)
		rc = add_b64_field(h, t->wrapped_key, VAULT_WRAP_LEN);
	return rc ? rc : buf_addch(h, '\n');
}

static enum err check_opts(const struct vault_seal_opts *o, struct errmsg *e)
{
	if (o->ncustodians == 0)
		return err_set(e, ERR_INVAL, "at least one custodian is needed");
	if (o->threshold < 1 || o->threshold > o->ncustodians ||
	    o->ncustodians > 255)
		return err_set(e, ERR_INVAL, "threshold %u of %zu custodians is "
			       "not possible", o->threshold, o->ncustodians);
	for (size_t i = 0; i < o->ncustodians; i++) {
		if (o->custodians[i].kind != VAULT_KEY_CUSTODIAN)
			return err_set(e, ERR_INVAL, "'%s' is not a custodian "
				       "key", o->custodians[i].name);
		for (size_t j = 0; j < i; j++)
			if (!memcmp(o->custodians[i].sign_pk,
				    o->custodians[j].sign_pk, VAULT_PK_LEN))
				return err_set(e, ERR_INVAL, "custodian '%s' "
					       "listed twice",
					       o->custodians[i].name);
	}
	if (vault_seckey_public(o->signer)->kind != VAULT_KEY_SIGN)
		return err_set(e, ERR_INVAL, "the sealer needs a signing key");
	return ERR_OK;
}

/* suite id and version from DIR/suite.yaml, else the directory name. */
static void suite_names(const char *dir, char **id_out, char **ver_out)
{
	char *p = path_join(dir, "suite.yaml");
	struct ynode *root = NULL;
	struct errmsg e;
	const struct ynode *id = NULL, *ver = NULL;
	const char *slash;

	if (path_exists(p) && ytree_load(p, 1 << 20, &root, &e) == ERR_OK) {
		id = ymap_get(root, "id");
		ver = ymap_get(root, "version");
	}
	*id_out = id && id->str && vault_token_ok(id->str, strlen(id->str))
			  ? xstrdup(id->str) : NULL;
	*ver_out = xstrdup(ver && ver->str &&
			   vault_token_ok(ver->str, strlen(ver->str))
				   ? ver->str : "0");
	if (!*id_out) {
		char *copy = xstrdup(dir);
		size_t n = strlen(copy);
		while (n > 1 && copy[n - 1] == '/')
			copy[--n] = '\0';
		slash = strrchr(copy, '/');
		*id_out = xstrdup(slash && slash[1] ? slash + 1 : copy);
		free(copy);
		if (!vault_token_ok(*id_out, strlen(*id_out))) {
			free(*id_out);
			*id_out = xstrdup("suite");
		}
	}
	ytree_free(root);
	free(p);
}

static enum err seal_tasks(struct sealing *s, const struct vault_seal_opts *o,
			   const struct taskdirs *td, struct errmsg *e)
{
	struct vault_archive_task *t = xcalloc(td->n + 1, sizeof(*t));
	enum err rc = ERR_OK;

	for (size_t i = 0; !rc && i < td->n; i++) {
		rc = seal_task(s, o, td->paths[i], (uint32_t)i, &t[i], e);
		for (size_t j = 0; !rc && j < i; j++)
			if (!strcmp(t[i].id, t[j].id))
				rc = err_set(e, ERR_INVAL, "two tasks with id "
					     "'%s'", t[i].id);
	}
	for (size_t i = 0; !rc && i < td->n; i++)
		if (header_task(&s->header, (uint32_t)i, &t[i]))
			rc = err_set(e, ERR_LIMIT, "header too large");
	for (size_t i = 0; i < td->n; i++)
		free(t[i].id);
	free(t);
	return rc;
}

static enum err finish(struct sealing *s, const struct vault_seal_opts *o,
		       const char *out_path,
		       char digest_out[VAULT_SHA256_HEX_SIZE],
		       struct errmsg *e)
{
	unsigned char kek[VAULT_SUITE_KEY_LEN], check[VAULT_SUITE_KEY_LEN];
	unsigned char digest[crypto_hash_sha256_BYTES];
	unsigned char msg[VAULT_ARCHIVE_SIGMSG_LEN], sig[crypto_sign_BYTES];
	crypto_hash_sha256_state st;
	char id[VAULT_KEYID_HEX_SIZE];
	struct buf tail;
	enum err rc;

	vault_suite_subkeys(s->suite_key, kek, check);
	sodium_memzero(kek, sizeof(kek));
	rc = buf_adds(&s->header, "key-check");
	if (!rc)
		rc = add_b64_field(&s->header, check, sizeof(check));
	if (!rc)
		rc = buf_printf(&s->header, "\ndata %zu\nend\n", s->data.len);
	if (rc)
		return err_set(e, ERR_LIMIT, "header too large");
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (unsigned char *)s->header.data, s->header.len);
	crypto_hash_sha256_update(&st, (unsigned char *)s->data.data, s->data.len);
	crypto_hash_sha256_final(&st, digest);
	hex_encode(digest, sizeof(digest), digest_out);
	vault_archive_sigmsg(digest, msg);
	vault_seckey_sign(o->signer, msg, sizeof(msg), sig);
	vault_keyid_hex(vault_seckey_public(o->signer)->keyid, id);
	buf_init(&tail, 1024);
	rc = buf_printf(&tail, "signature %s", id);
	if (!rc)
		rc = add_b64_field(&tail, sig, sizeof(sig));
	if (!rc)
		rc = buf_addch(&tail, '\n');
	if (!rc && (buf_add(&s->header, s->data.data, s->data.len) ||
		    buf_add(&s->header, tail.data, tail.len)))
		rc = err_set(e, ERR_LIMIT, "archive too large");
	buf_release(&tail);
	if (!rc)
		rc = file_write_atomic(out_path, s->header.data, s->header.len,
				       0644, e);
	return rc;
}

enum err vault_suite_seal(const struct vault_seal_opts *o,
			  const char *out_path,
			  char digest_out[VAULT_SHA256_HEX_SIZE],
			  struct errmsg *e)
{
	struct sealing s;
	struct taskdirs td = { 0 };
	char *suite_id, *version;
	enum err rc = vault_init(e);

	if (!rc)
		rc = check_opts(o, e);
	if (!rc && !is_dir(o->suite_dir))
		rc = err_set(e, ERR_INVAL, "'%s' is not a directory",
			     o->suite_dir);
	if (!rc)
		rc = find_tasks(o->suite_dir, &td, 0, e);
	if (!rc && td.n == 0)
		rc = err_set(e, ERR_INVAL, "no task (a directory with task.yaml)"
			     " under '%s'", o->suite_dir);
	if (rc) {
		for (size_t i = 0; i < td.n; i++)
			free(td.paths[i]);
		free(td.paths);
		return rc;
	}
	memset(&s, 0, sizeof(s));
	randombytes_buf(s.archive_id, sizeof(s.archive_id));
	s.suite_key = vault_secure_alloc(VAULT_SUITE_KEY_LEN);
	randombytes_buf(s.suite_key, VAULT_SUITE_KEY_LEN);
	{
		unsigned char check[VAULT_SUITE_KEY_LEN];
		vault_suite_subkeys(s.suite_key, s.kek, check);
	}
	buf_init(&s.header, VAULT_ARCHIVE_MAX);
	buf_init(&s.data, VAULT_ARCHIVE_MAX);
	suite_names(o->suite_dir, &suite_id, &version);
	if (header_start(&s, o, suite_id, version))
		rc = err_set(e, ERR_LIMIT, "header too large");
	if (!rc)
		rc = header_custodians(&s, o, e);
	if (!rc)
		rc = seal_tasks(&s, o, &td, e);
	if (!rc)
		rc = finish(&s, o, out_path, digest_out, e);
	sodium_memzero(s.kek, sizeof(s.kek));
	sodium_free(s.suite_key);
	buf_release(&s.header);
	buf_release(&s.data);
	for (size_t i = 0; i < td.n; i++)
		free(td.paths[i]);
	free(td.paths);
	free(suite_id);
	free(version);
	return rc;
}
