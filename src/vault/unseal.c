/*
 * unseal.c - from an archive, a request secret and k approvals to the
 * tasks' files in locked memory.
 *
 * Order matters: the pinned sealer and every approval are checked before
 * any share is opened for combination, the request must not be spent
 * (spend.c), the audit entry is written before the shares are combined,
 * and all tasks decrypt or none is returned. A refusal and a failure
 * after the entry are audited too. Chunk failures name the task
 * and chunk, since the associated data and per-task keys make a chunk moved
 * from another task or archive fail exactly where it was put.
 */
#include "vault/seal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "vault/approve.h"
#include "vault/spend.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

struct gathered {
	unsigned char *shares; /* sodium_malloc, threshold shares */
	unsigned count;
	int *from;             /* approval index per custodian, -1 none */
};

static enum err check_request(const struct vault_archive *a,
			      const struct vault_request *r,
			      const char *run_id, int64_t now,
			      struct errmsg *e)
{
	if (!r->secret)
		return err_set(e, ERR_INVAL, "this is a request without its "
			       "secret key (use the .key file the request "
			       "created)");
	if (strcmp(r->digest, a->digest))
		return err_set(e, ERR_INVAL, "the request is for suite "
			       "%.16s..., not this archive (%.16s...)",
			       r->digest, a->digest);
	if (run_id && strcmp(run_id, r->run))
		return err_set(e, ERR_INVAL, "the request is for run '%s', "
			       "not '%s'", r->run, run_id);
	if (r->expires <= now)
		return err_set(e, ERR_INVAL, "the request has expired");
	return ERR_OK;
}

static int custodian_by_keyid(const struct vault_archive *a,
			      const unsigned char keyid[8])
{
	for (size_t i = 0; i < a->ncustodians; i++)
		if (!memcmp(a->custodians[i].pub.keyid, keyid, 8))
			return (int)i;
	return -1;
}

/* The approval must name exactly what the request names. */
static enum err same_request(const struct vault_request *q,
			     const struct vault_request *r, struct errmsg *e)
{
	if (strcmp(q->digest, r->digest))
		return err_set(e, ERR_INVAL, "it approves another suite");
	if (strcmp(q->run, r->run))
		return err_set(e, ERR_INVAL, "it approves run '%s', not '%s'",
			       q->run, r->run);
	if (strcmp(q->reason, r->reason))
		return err_set(e, ERR_INVAL, "it approves another reason");
	if (q->expires != r->expires)
		return err_set(e, ERR_INVAL, "its expiry differs from the "
			       "request's");
	if (memcmp(q->pk, r->pk, sizeof(q->pk)))
		return err_set(e, ERR_INVAL, "it answers another request");
	return ERR_OK;
}

/* Approval ap (text: its bytes) is signed by a custodian of a (*c_out:
 * which), names exactly request r and has not expired. */
static enum err verify_approval(const struct vault_archive *a,
				const struct vault_request *r,
				const struct vault_approval *ap,
				const char *text, int64_t now, int *c_out,
				struct errmsg *e)
{
	int c = custodian_by_keyid(a, ap->keyid);
	enum err rc;

	if (c < 0)
		return err_set(e, ERR_INVAL, "'%s' is not a custodian of this "
			       "suite", ap->name);
	if (!vault_pubkey_verify(&a->custodians[c].pub, text, ap->signed_len,
				 ap->sig))
		return err_set(e, ERR_CRYPTO, "signature by custodian '%s' does "
			       "not verify", a->custodians[c].pub.name);
	if ((rc = same_request(&ap->req, r, e)))
		return rc;
	if (ap->req.expires <= now)
		return err_set(e, ERR_INVAL, "it has expired");
	*c_out = c;
	return ERR_OK;
}

enum err vault_approval_check(const struct vault_archive *a,
			      const char *request, size_t request_len,
			      const char *approval, size_t approval_len,
			      int64_t now_unix,
			      char custodian_out[VAULT_KEY_NAME_MAX + 1],
			      struct errmsg *e)
{
	struct vault_request r;
	struct vault_approval ap;
	int c = -1;
	enum err rc = vault_request_parse(request, request_len, &r, e);

	if (rc)
		return rc;
	if (strcmp(r.digest, a->digest))
		rc = err_set(e, ERR_INVAL, "the request is for another suite");
	else if (!(rc = vault_approval_parse(approval, approval_len, &ap, e))) {
		rc = verify_approval(a, &r, &ap, approval, now_unix, &c, e);
		if (!rc)
			snprintf(custodian_out, VAULT_KEY_NAME_MAX + 1, "%s",
				 a->custodians[c].pub.name);
		vault_approval_release(&ap);
	}
	vault_request_release(&r);
	return rc;
}

static enum err take_approval(const struct vault_archive *a,
			      const struct vault_request *r,
			      const struct vault_approval_in *in, int index,
			      int64_t now, struct gathered *g, struct errmsg *e)
{
	struct vault_approval ap;
	unsigned char *share;
	int c = -1;
	enum err rc = vault_approval_parse(in->text, in->len, &ap, e);

	if (rc)
		return rc;
	rc = verify_approval(a, r, &ap, in->text, now, &c, e);
	if (!rc && g->from[c] >= 0)
		rc = err_set(e, ERR_INVAL, "custodian '%s' already approved "
			     "(the same custodian cannot count twice)",
			     a->custodians[c].pub.name);
	if (rc || g->count == a->threshold) {
		if (!rc)
			g->from[c] = index;
		vault_approval_release(&ap);
		return rc;
	}
	share = g->shares + g->count * VAULT_SHARE_LEN;
	if (crypto_box_seal_open(share, ap.sealed_share, VAULT_SEALED_SHARE_LEN,
				 r->pk, r->secret) != 0)
		rc = err_set(e, ERR_CRYPTO, "its share does not open with the "
			     "request key");
	else if (share[0] != (unsigned char)(c + 1))
		rc = err_set(e, ERR_CRYPTO, "its share is not custodian "
			     "'%s''s share", a->custodians[c].pub.name);
	if (!rc) {
		g->from[c] = index;
		g->count++;
	}
	vault_approval_release(&ap);
	return rc;
}

/* The names of the custodians whose approvals count; caller frees. */
static const char **approvers(const struct vault_archive *a,
			      const struct gathered *g, size_t *n_out)
{
	const char **names = xcalloc(a->ncustodians + 1, sizeof(*names));
	size_t n = 0;

	for (size_t i = 0; i < a->ncustodians; i++)
		if (g->from[i] >= 0)
			names[n++] = a->custodians[i].pub.name;
	*n_out = n;
	return names;
}

static enum err append_unseal(struct vault_audit *log,
			      const struct vault_archive *a,
			      const struct vault_request *r,
			      const struct gathered *g,
			      const struct vault_unseal_use *use,
			      struct errmsg *e)
{
	size_t n;
	const char **names = approvers(a, g, &n);
	char sealer[2 * VAULT_KEYID_LEN + 1];
	struct vault_audit_field f[] = {
		VAULT_AUDIT_S("suite", a->digest),
		VAULT_AUDIT_S("suite_id", a->suite_id),
		VAULT_AUDIT_S("sealer", sealer),
		VAULT_AUDIT_S("run", r->run),
		VAULT_AUDIT_S("reason", r->reason),
		VAULT_AUDIT_L("custodians", names, n),
		VAULT_AUDIT_S("request", use->request),
		VAULT_AUDIT_S("served", use->served),
		VAULT_AUDIT_B("dry_run", use->dry_run),
	};
	enum err rc;

	hex_encode(a->sealer.keyid, VAULT_KEYID_LEN, sealer);
	rc = vault_audit_append(log, "unseal", f, ARRAY_SIZE(f), e);
	free(names);
	return rc;
}

/* A refused or failed unseal, with why (ids and digests only: the
 * messages name tasks, files, custodians and approvals, never content).
 * Best effort: the caller reports the first error. */
static void audit_outcome(struct vault_audit *log, const char *kind,
			  const struct vault_archive *a, const char *run,
			  const struct vault_unseal_use *use, const char *why)
{
	struct vault_audit_field f[] = {
		VAULT_AUDIT_S("suite", a->digest),
		VAULT_AUDIT_S("suite_id", a->suite_id),
		VAULT_AUDIT_S("run", run),
		VAULT_AUDIT_S("request", use->request[0] ? use->request : NULL),
		VAULT_AUDIT_S("served", use->served),
		VAULT_AUDIT_B("dry_run", use->dry_run),
		VAULT_AUDIT_S("error", why),
	};
	struct errmsg e2;

	if (vault_audit_append(log, kind, f, ARRAY_SIZE(f), &e2) != ERR_OK) {
		/* nothing more to do: the unseal is refused anyway */
	}
}

/* One request, one run (spend.c): refused once spent, but by a resume of
 * the run it served. */
static enum err check_spent(struct vault_audit *log,
			    const struct vault_unseal_use *use,
			    struct errmsg *e)
{
	struct vault_spend sp;
	enum err rc = vault_spend_scan(log, use->request, use->served, &sp, e);

	if (rc)
		return rc;
	if (sp.bound_here && !sp.bound_elsewhere && !use->dry_run)
		return ERR_OK;
	if (sp.spent || sp.bound_elsewhere)
		return err_set(e, ERR_INVAL, "this request and its approvals "
			       "were already used (audit entry %llu): a request "
			       "unseals one run; ask the custodians to approve "
			       "a new one", (unsigned long long)sp.seq);
	return ERR_OK;
}

/* Under the spend lock: not spent, then the "unseal" entry. */
static enum err spend(struct vault_audit *log, const struct vault_archive *a,
		      const struct vault_request *r, const struct gathered *g,
		      const struct vault_unseal_use *use, struct errmsg *e)
{
	int fd;
	enum err rc;

	if (!log)
		return ERR_OK;
	if ((fd = vault_spend_lock(log, e)) < 0)
		return ERR_IO;
	rc = check_spent(log, use, e);
	if (!rc)
		rc = append_unseal(log, a, r, g, use, e);
	vault_spend_unlock(fd);
	return rc;
}

enum err vault_unseal_bind(struct vault_audit *log, const char *request,
			   const char *served, struct errmsg *e)
{
	struct vault_audit_field f[] = {
		VAULT_AUDIT_S("request", request),
		VAULT_AUDIT_S("served", served),
	};

	return vault_audit_append(log, "unseal.run", f, ARRAY_SIZE(f), e);
}

/* ---- decrypting ---- */

static uint64_t get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static bool rel_path_ok(const char *p, size_t n)
{
	size_t start = 0;

	if (n == 0 || p[0] == '/' || memchr(p, '\0', n))
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i == start || (i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

static enum err split_files(struct vault_task_content *t, uint64_t want,
			    struct errmsg *e)
{
	const unsigned char *p = t->plain, *end = t->plain + t->plain_len;

	t->files = xcalloc(want + 1, sizeof(*t->files));
	while (p < end) {
		struct vault_file *f = &t->files[t->nfiles];
		size_t pl;
		uint64_t size;

		if (t->nfiles == want || end - p < 2 ||
		    (size_t)(end - p) < 2 + (pl = get_be(p, 2)) + 12)
			return err_set(e, ERR_PARSE, "file list is malformed");
		if (!rel_path_ok((const char *)p + 2, pl))
			return err_set(e, ERR_PARSE, "bad file path");
		f->path = xstrndup((const char *)p + 2, pl);
		t->nfiles++;
		f->mode = (uint32_t)get_be(p + 2 + pl, 4) & 07777;
		size = get_be(p + 6 + pl, 8);
		p += 14 + pl;
		if (size > (uint64_t)(end - p))
			return err_set(e, ERR_PARSE, "file '%s' is cut short",
				       f->path);
		f->data = p;
		f->len = (size_t)size;
		p += size;
	}
	if (t->nfiles != want)
		return err_set(e, ERR_PARSE, "expected %llu files, found %zu",
			       (unsigned long long)want, t->nfiles);
	return ERR_OK;
}

static enum err pull_chunks(const struct vault_archive *a,
			    const struct vault_archive_task *at,
			    crypto_secretstream_xchacha20poly1305_state *st,
			    const unsigned char ad[VAULT_TASK_AD_LEN],
			    struct vault_task_content *t, struct errmsg *e)
{
	const unsigned char *in = a->data + a->data_off + at->offset;
	size_t off = 0;

	for (uint64_t c = 0; c < at->chunks; c++) {
		size_t n = at->plain_len - off > VAULT_SEAL_CHUNK
				   ? VAULT_SEAL_CHUNK : at->plain_len - off;
		unsigned long long mlen;
		unsigned char tag;

		if (crypto_secretstream_xchacha20poly1305_pull(
			    st, t->plain + off, &mlen, &tag, in, n + ABYTES,
			    ad, VAULT_TASK_AD_LEN) != 0)
			return err_set(e, ERR_CRYPTO, "chunk %llu of %llu fails "
				       "authentication (modified, reordered "
				       "or moved from another task)",
				       (unsigned long long)c + 1,
				       (unsigned long long)at->chunks);
		if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) !=
		    (c + 1 == at->chunks))
			return err_set(e, ERR_CRYPTO, "chunk %llu: %s",
				       (unsigned long long)c + 1,
				       c + 1 == at->chunks
					       ? "no final tag (truncated)"
					       : "final tag too early");
		in += n + ABYTES;
		off += n;
	}
	return ERR_OK;
}

enum err vault_task_key_unwrap(const struct vault_archive *a, uint32_t i,
			       const unsigned char kek[VAULT_SUITE_KEY_LEN],
			       unsigned char key_out[VAULT_TASK_KEY_LEN],
			       struct errmsg *e)
{
	const struct vault_archive_task *at = &a->tasks[i];
	unsigned char ad[VAULT_TASK_AD_LEN];

	vault_task_ad(a->archive_id, i, at->id, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    key_out, NULL, NULL, at->wrapped_key + VAULT_WRAP_NONCE_LEN,
		    VAULT_WRAP_LEN - VAULT_WRAP_NONCE_LEN, ad, sizeof(ad),
		    at->wrapped_key, kek) != 0)
		return err_set(e, ERR_CRYPTO, "its key does not unwrap "
			       "(modified, or moved from another task)");
	return ERR_OK;
}

enum err vault_task_decrypt(const struct vault_archive *a, uint32_t i,
			    const unsigned char key[VAULT_TASK_KEY_LEN],
			    struct vault_task_content *t, struct errmsg *e)
{
	const struct vault_archive_task *at = &a->tasks[i];
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char ad[VAULT_TASK_AD_LEN];
	enum err rc = ERR_OK;

	t->id = xstrdup(at->id);
	t->plain_len = (size_t)at->plain_len;
	t->plain = vault_secure_alloc(t->plain_len ? t->plain_len : 1);
	vault_task_ad(a->archive_id, i, at->id, ad);
	if (crypto_secretstream_xchacha20poly1305_init_pull(
		    &st, at->stream_header, key) != 0)
		rc = err_set(e, ERR_CRYPTO, "bad stream header");
	if (!rc)
		rc = pull_chunks(a, at, &st, ad, t, e);
	if (!rc)
		rc = split_files(t, at->files, e);
	sodium_memzero(&st, sizeof(st));
	return rc;
}

static enum err open_task(const struct vault_archive *a, uint32_t i,
			  const unsigned char kek[VAULT_SUITE_KEY_LEN],
			  struct vault_task_content *t, struct errmsg *e)
{
	unsigned char *key = vault_secure_alloc(VAULT_TASK_KEY_LEN);
	enum err rc = vault_task_key_unwrap(a, i, kek, key, e);

	if (rc == ERR_OK)
		rc = vault_task_decrypt(a, i, key, t, e);
	else
		t->id = xstrdup(a->tasks[i].id);
	sodium_free(key);
	if (rc)
		return err_prefix(e, "task '%s'", a->tasks[i].id);
	return ERR_OK;
}

void vault_suite_content_free(struct vault_suite_content *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct vault_task_content *t = &c->tasks[i];
		for (size_t f = 0; f < t->nfiles; f++)
			free(t->files[f].path);
		free(t->files);
		free(t->id);
		if (t->plain)
			sodium_free(t->plain); /* wipes */
	}
	free(c->tasks);
	if (c->kek)
		sodium_free(c->kek); /* wipes */
	free(c->suite_id);
	free(c->suite_version);
	free(c);
}

static enum err decrypt_all(const struct vault_archive *a,
			    const struct gathered *g,
			    struct vault_suite_content **out, struct errmsg *e)
{
	unsigned char *sk = vault_secure_alloc(VAULT_SUITE_KEY_LEN),
		      *kek = vault_secure_alloc(VAULT_SUITE_KEY_LEN);
	unsigned char check[VAULT_SUITE_KEY_LEN];
	struct vault_suite_content *c = xcalloc(1, sizeof(*c));
	enum err rc;

	rc = vault_shamir_combine(g->shares, a->threshold, VAULT_SUITE_KEY_LEN,
				  sk, e);
	if (!rc) {
		vault_suite_subkeys(sk, kek, check);
		if (sodium_memcmp(check, a->key_check, sizeof(check)) != 0)
			rc = err_set(e, ERR_CRYPTO, "the shares do not give the "
				     "suite key");
	}
	c->suite_id = xstrdup(a->suite_id);
	c->suite_version = xstrdup(a->suite_version);
	memcpy(c->digest, a->digest, sizeof(c->digest));
	c->tasks = xcalloc(a->ntasks, sizeof(*c->tasks));
	for (size_t i = 0; !rc && i < a->ntasks; i++) {
		c->ntasks++;
		rc = open_task(a, (uint32_t)i, kek, &c->tasks[i], e);
	}
	sodium_free(sk);
	c->kek = kek;      /* kept: vault_task_key_wrap (worker.h) */
	if (rc) {
		vault_suite_content_free(c);
		return rc;
	}
	*out = c;
	return ERR_OK;
}

static enum err gather(const struct vault_archive *a,
		       const struct vault_request *r,
		       const struct vault_approval_in *approvals, size_t n,
		       int64_t now, struct gathered *g, struct errmsg *e)
{
	unsigned distinct = 0;
	enum err rc;

	for (size_t i = 0; i < n; i++) {
		rc = take_approval(a, r, &approvals[i], (int)i, now, g, e);
		if (rc)
			return err_prefix(e, "approval '%s'", approvals[i].name);
	}
	for (size_t i = 0; i < a->ncustodians; i++)
		distinct += g->from[i] >= 0;
	if (g->count < a->threshold)
		return err_set(e, ERR_INVAL, "%u approval%s from distinct "
			       "custodians, %u required", distinct,
			       distinct == 1 ? "" : "s", a->threshold);
	return ERR_OK;
}

static enum err check_sealer(const struct vault_archive *a,
			     const struct vault_unseal_use *use,
			     struct errmsg *e)
{
	if (!use->nsealers)
		return ERR_OK;
	return vault_archive_check_signer(a, use->sealers, use->nsealers, e);
}

/* The definition of seal.h's declaration (its contract is there). */
enum err vault_suite_unseal(const struct vault_archive *a,
			    const char *request_secret, size_t secret_len,
			    const char *run_id,
			    const struct vault_approval_in *approvals,
			    size_t napprovals, int64_t now_unix,
			    struct vault_audit *log,
			    struct vault_unseal_use *use,
			    struct vault_suite_content **content_out,
			    struct errmsg *e)
{
	struct vault_unseal_use none = { 0 };
	struct vault_request r = { 0 };
	struct gathered g = { 0 };
	bool parsed = false, logged = false;
	enum err rc;

	if (!use)
		use = &none;
	use->request[0] = '\0';
	rc = check_sealer(a, use, e);
	if (!rc && (rc = vault_request_parse(request_secret, secret_len, &r, e)))
		rc = err_prefix(e, "request key");
	else if (!rc)
		parsed = true;
	if (parsed)
		vault_sha256_hex(r.pk, sizeof(r.pk), use->request);
	if (!rc)
		rc = check_request(a, &r, run_id, now_unix, e);
	if (!rc) {
		g.shares = vault_secure_alloc((size_t)a->threshold * VAULT_SHARE_LEN);
		g.from = xmalloc(a->ncustodians * sizeof(int));
		for (size_t i = 0; i < a->ncustodians; i++)
			g.from[i] = -1;
		rc = gather(a, &r, approvals, napprovals, now_unix, &g, e);
	}
	if (!rc && !(rc = spend(log, a, &r, &g, use, e)))
		logged = log != NULL;
	if (!rc)
		rc = decrypt_all(a, &g, content_out, e);
	if (rc)
		rc = err_prefix(e, "cannot unseal '%s'", a->path);
	if (rc && log)
		audit_outcome(log, logged ? "unseal.failed" : "unseal.refused",
			      a, parsed ? r.run : NULL, use, e->text);
	if (g.shares)
		sodium_free(g.shares);
	free(g.from);
	if (parsed)
		vault_request_release(&r);
	return rc;
}
