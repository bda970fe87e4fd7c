/*
 * archive.c - reading a .assay archive: strict header parsing, layout
 * checks, and the sealer's signature. Everything in the header is capped
 * and cross-checked before use: task streams must tile the data section
 * exactly and each stream's length must follow from its plaintext size.
 */
#include "vault/seal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define HEADER_MAX ((size_t)4 << 20)
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

void vault_archive_free(struct vault_archive *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ntasks; i++)
		free(a->tasks[i].id);
	free(a->tasks);
	free(a->custodians);
	free(a->suite_id);
	free(a->suite_version);
	free(a->created);
	free(a->path);
	free(a->data);
	free(a);
}

static enum err b64f(const struct vfields *f, size_t i, void *out, size_t n,
		     const char *what, struct errmsg *e)
{
	return vault_b64_decode_exact(f->s[i], f->len[i], out, n, what, e);
}

static char *token_dup(const struct vfields *f, size_t i)
{
	return vault_token_ok(f->s[i], f->len[i]) ? vault_field_dup(f, i) : NULL;
}

static enum err parse_sealer(struct vault_archive *a, const struct vfields *f,
			     struct errmsg *e)
{
	unsigned char id[VAULT_KEYID_LEN];

	if (f->n != 4 || f->len[1] > VAULT_KEY_NAME_MAX ||
	    !vault_field_keyid(f, 2, id))
		return err_set(e, ERR_PARSE, "bad 'sealer' line");
	memcpy(a->sealer.name, f->s[1], f->len[1]);
	a->sealer.kind = VAULT_KEY_SIGN;
	if (!vault_key_name_ok(a->sealer.name) ||
	    b64f(f, 3, a->sealer.sign_pk, sizeof(a->sealer.sign_pk),
		 "sealer key", e))
		return err_set(e, ERR_PARSE, "bad 'sealer' line");
	vault_pubkey_compute_keyid(&a->sealer);
	if (memcmp(id, a->sealer.keyid, sizeof(id)))
		return err_set(e, ERR_PARSE, "sealer key id does not match");
	return ERR_OK;
}

static enum err parse_custodian(struct vault_archive *a,
				const struct vfields *f, struct errmsg *e)
{
	struct vault_archive_custodian *c = &a->custodians[a->ncustodians];

	if (f->n != 5 || f->len[1] > VAULT_KEY_NAME_MAX)
		return err_set(e, ERR_PARSE, "bad 'custodian' line");
	memset(c, 0, sizeof(*c));
	memcpy(c->pub.name, f->s[1], f->len[1]);
	c->pub.kind = VAULT_KEY_CUSTODIAN;
	if (!vault_key_name_ok(c->pub.name) ||
	    b64f(f, 2, c->pub.sign_pk, sizeof(c->pub.sign_pk), "custodian key",
		 e) ||
	    b64f(f, 3, c->pub.box_pk, sizeof(c->pub.box_pk), "custodian key",
		 e) ||
	    b64f(f, 4, c->sealed_share, sizeof(c->sealed_share), "share", e))
		return err_set(e, ERR_PARSE, "bad 'custodian' line");
	vault_pubkey_compute_keyid(&c->pub);
	for (size_t i = 0; i < a->ncustodians; i++)
		if (!memcmp(a->custodians[i].pub.sign_pk, c->pub.sign_pk,
			    VAULT_PK_LEN))
			return err_set(e, ERR_PARSE, "custodian listed twice");
	a->ncustodians++;
	return ERR_OK;
}

/* The stream length that plain_len bytes must have. */
static bool layout_ok(const struct vault_archive_task *t, uint64_t expect_off)
{
	uint64_t chunks = t->plain_len == 0 ? 1
			  : (t->plain_len + VAULT_SEAL_CHUNK - 1) / VAULT_SEAL_CHUNK;

	return t->plain_len <= VAULT_SEAL_MAX_TASK_BYTES &&
	       t->files <= VAULT_SEAL_MAX_FILES && t->chunks == chunks &&
	       t->offset == expect_off &&
	       t->length == t->plain_len + chunks * ABYTES;
}

static enum err parse_task(struct vault_archive *a, const struct vfields *f,
			   struct errmsg *e)
{
	struct vault_archive_task *t;
	uint64_t idx, end = 0;

	if (a->ntasks == VAULT_SEAL_MAX_TASKS)
		return err_set(e, ERR_LIMIT, "too many tasks");
	if (a->ntasks)
		end = a->tasks[a->ntasks - 1].offset + a->tasks[a->ntasks - 1].length;
	a->tasks = xrealloc(a->tasks, (a->ntasks + 1) * sizeof(*a->tasks));
	t = &a->tasks[a->ntasks];
	memset(t, 0, sizeof(*t));
	if (f->n != 10 || vault_field_u64(f, 1, &idx, e) || idx != a->ntasks ||
	    !(t->id = token_dup(f, 2)) || vault_field_u64(f, 3, &t->files, e) ||
	    vault_field_u64(f, 4, &t->plain_len, e) ||
	    vault_field_u64(f, 5, &t->chunks, e) || vault_field_u64(f, 6, &t->offset, e) ||
	    vault_field_u64(f, 7, &t->length, e) ||
	    b64f(f, 8, t->stream_header, sizeof(t->stream_header),
		 "stream header", e) ||
	    b64f(f, 9, t->wrapped_key, VAULT_WRAP_LEN, "wrapped key", e)) {
		free(t->id);
		return err_set(e, ERR_PARSE, "bad 'task' line");
	}
	a->ntasks++;
	for (size_t i = 0; i + 1 < a->ntasks; i++)
		if (!strcmp(a->tasks[i].id, t->id))
			return err_set(e, ERR_PARSE, "two tasks with id '%s'",
				       t->id);
	if (!layout_ok(t, end))
		return err_set(e, ERR_PARSE, "task '%s': stream layout is "
			       "inconsistent", t->id);
	return ERR_OK;
}

/* Lines of the header in their fixed order. */
enum hstate { H_ID, H_SUITE, H_CREATED, H_SEALER, H_THRESHOLD, H_CUST,
	      H_TASKS, H_DATA, H_END, H_DONE };

static enum err parse_line(struct vault_archive *a, enum hstate *st,
			   const struct vfields *f, uint64_t *data_len,
			   struct errmsg *e)
{
	uint64_t k, n;

	switch (*st) {
	case H_ID:
		*st = H_SUITE;
		if (!vault_field_is(f, 0, "archive-id") || f->n != 2)
			break;
		return b64f(f, 1, a->archive_id, sizeof(a->archive_id),
			    "archive-id", e);
	case H_SUITE:
		*st = H_CREATED;
		if (!vault_field_is(f, 0, "suite") || f->n != 3 ||
		    !(a->suite_id = token_dup(f, 1)) ||
		    !(a->suite_version = token_dup(f, 2)))
			break;
		return ERR_OK;
	case H_CREATED:
		*st = H_SEALER;
		if (!vault_field_is(f, 0, "created") || f->n != 2 ||
		    !(a->created = token_dup(f, 1)))
			break;
		return ERR_OK;
	case H_SEALER:
		*st = H_THRESHOLD;
		if (!vault_field_is(f, 0, "sealer"))
			break;
		return parse_sealer(a, f, e);
	case H_THRESHOLD:
		*st = H_CUST;
		if (!vault_field_is(f, 0, "threshold") || f->n != 3 ||
		    vault_field_u64(f, 1, &k, e) ||
		    vault_field_u64(f, 2, &n, e) || k < 1 || k > n || n > 255)
			break;
		a->threshold = (unsigned)k;
		a->custodians = xcalloc(n, sizeof(*a->custodians));
		a->ncustodians = 0;
		*data_len = n; /* custodians still expected */
		return ERR_OK;
	case H_CUST:
		if (!vault_field_is(f, 0, "custodian"))
			break;
		if (a->ncustodians + 1 == *data_len)
			*st = H_TASKS;
		return parse_custodian(a, f, e);
	case H_TASKS:
		if (vault_field_is(f, 0, "task"))
			return parse_task(a, f, e);
		if (!a->ntasks || !vault_field_is(f, 0, "key-check") || f->n != 2)
			break;
		*st = H_DATA;
		return b64f(f, 1, a->key_check, sizeof(a->key_check),
			    "key-check", e);
	case H_DATA:
		*st = H_END;
		if (!vault_field_is(f, 0, "data") || f->n != 2 ||
		    vault_field_u64(f, 1, data_len, e))
			break;
		return ERR_OK;
	case H_END:
		*st = H_DONE;
		if (!vault_field_is(f, 0, "end") || f->n != 1)
			break;
		return ERR_OK;
	case H_DONE:
		break;
	}
	return err_set(e, ERR_PARSE, "unexpected or malformed line");
}

bool vault_archive_damaged(const void *data, size_t len)
{
	static const char second[] = "\narchive-id ";
	const char *p = data;
	const char *nl = memchr(p, '\n', len < 4096 ? len : 4096);

	/* the magic with a byte changed, or an archive's second line after
	 * a first line that is not the magic */
	if (len >= sizeof(VAULT_ARCHIVE_MAGIC) - 1 &&
	    !memcmp(p, "assay sealed suite", 18))
		return true;
	return nl && (size_t)(p + len - nl) >= sizeof(second) - 1 &&
	       !memcmp(nl, second, sizeof(second) - 1);
}

static enum err parse_header(struct vault_archive *a, size_t *hlen_out,
			     uint64_t *data_len, struct errmsg *e)
{
	const char *p = (const char *)a->data;
	struct vlines l;
	const char *line;
	size_t n;
	bool unterm;
	struct vfields f;
	enum hstate st = H_ID;
	enum err rc;

	if (!vault_lines_open(&l, p, a->len < HEADER_MAX ? a->len : HEADER_MAX,
			      VAULT_ARCHIVE_MAGIC))
		return vault_archive_damaged(p, a->len) ?
		       err_set(e, ERR_CRYPTO, "the archive is damaged: its first "
			       "line is not '" VAULT_ARCHIVE_MAGIC "'") :
		       err_set(e, ERR_PARSE, "not a sealed assay suite (v1)");
	while (st != H_DONE && vault_lines_next(&l, &line, &n, &unterm)) {
		if (unterm)
			return err_set(e, ERR_PARSE, "header is truncated");
		rc = vault_fields_split(line, n, &f, e);
		if (!rc)
			rc = parse_line(a, &st, &f, data_len, e);
		if (rc)
			return err_prefix(e, "header line %d", l.lineno);
	}
	if (st != H_DONE)
		return err_set(e, ERR_PARSE, "header is truncated");
	*hlen_out = (size_t)(l.p - p);
	return ERR_OK;
}

static enum err check_layout_and_sig(struct vault_archive *a, size_t hlen,
				     uint64_t data_len, struct errmsg *e)
{
	const struct vault_archive_task *last = &a->tasks[a->ntasks - 1];
	unsigned char digest[crypto_hash_sha256_BYTES];
	unsigned char msg[VAULT_ARCHIVE_SIGMSG_LEN], sig[crypto_sign_BYTES];
	unsigned char id[VAULT_KEYID_LEN];
	struct vfields f;
	const char *tail;
	size_t tlen;

	if (last->offset + last->length != data_len)
		return err_set(e, ERR_PARSE, "task streams do not fill the data "
			       "section");
	if (data_len > a->len - hlen)
		return err_set(e, ERR_PARSE, "truncated: data section needs "
			       "%llu bytes, %zu present",
			       (unsigned long long)data_len, a->len - hlen);
	a->data_off = hlen;
	tail = (const char *)a->data + hlen + data_len;
	tlen = a->len - hlen - (size_t)data_len;
	if (tlen == 0 || tail[tlen - 1] != '\n' ||
	    memchr(tail, '\n', tlen) != tail + tlen - 1 ||
	    vault_fields_split(tail, tlen - 1, &f, e) || f.n != 3 ||
	    !vault_field_is(&f, 0, "signature") ||
	    !vault_field_keyid(&f, 1, id) ||
	    b64f(&f, 2, sig, sizeof(sig), "signature", e))
		return err_set(e, ERR_PARSE, "missing or malformed signature "
			       "line (truncated or extended?)");
	crypto_hash_sha256(digest, a->data, hlen + (size_t)data_len);
	sodium_bin2hex(a->digest, sizeof(a->digest), digest, sizeof(digest));
	vault_archive_sigmsg(digest, msg);
	if (memcmp(id, a->sealer.keyid, sizeof(id)) ||
	    !vault_pubkey_verify(&a->sealer, msg, sizeof(msg), sig))
		return err_set(e, ERR_CRYPTO, "signature does not verify: the "
			       "archive was modified");
	return ERR_OK;
}

enum err vault_archive_parse(const char *name, const void *data, size_t len,
			     struct vault_archive **a_out, struct errmsg *e)
{
	struct vault_archive *a;
	uint64_t data_len = 0;
	size_t hlen = 0;
	enum err rc = vault_init(e);

	if (rc)
		return rc;
	if (len > VAULT_ARCHIVE_MAX)
		return err_set(e, ERR_LIMIT, "'%s': archive too large", name);
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(name);
	a->data = xmalloc(len + 1);
	memcpy(a->data, data, len);
	a->len = len;
	rc = parse_header(a, &hlen, &data_len, e);
	if (!rc)
		rc = check_layout_and_sig(a, hlen, data_len, e);
	if (rc) {
		vault_archive_free(a);
		return err_prefix(e, "archive '%s'", name);
	}
	*a_out = a;
	return ERR_OK;
}

enum err vault_archive_open(const char *path, struct vault_archive **a_out,
			    struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc = file_read(path, VAULT_ARCHIVE_MAX, &data, &len, e);

	if (rc)
		return rc;
	rc = vault_archive_parse(path, data, len, a_out, e);
	free(data);
	return rc;
}

enum err vault_archive_check_signer(const struct vault_archive *a,
				    const struct vault_pubkey *keys,
				    size_t nkeys, struct errmsg *e)
{
	for (size_t i = 0; i < nkeys; i++)
		if (!memcmp(keys[i].sign_pk, a->sealer.sign_pk, VAULT_PK_LEN))
			return ERR_OK;
	return err_set(e, ERR_CRYPTO, "archive '%s' was sealed by '%s', which "
		       "is not a trusted key", a->path, a->sealer.name);
}
