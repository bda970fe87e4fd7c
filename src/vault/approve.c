/*
 * approve.c - unseal requests and custodian approvals.
 *
 * request (sent to custodians)        approval (returned by a custodian)
 *   assay unseal request v1             assay unseal approval v1
 *   suite DIGEST                        suite DIGEST
 *   run RUN                             run RUN
 *   reason TEXT...                      reason TEXT...
 *   expires UNIX                        expires UNIX
 *   request-key B64(X25519 pk)          request-key B64
 *                                       custodian NAME KEYID
 *                                       share B64(box_seal(share, request-key))
 *                                       signature B64(Ed25519 of all above)
 * The request secret file is the request followed by
 *   request-secret B64(X25519 sk)
 * A custodian's secret share never leaves them unsealed: it moves from
 * being sealed to their key to being sealed to the run's one-time key.
 */
#include "vault/approve.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "vault/vault.h"
#include "vault/vault_int.h"
#include "base/banned.h"

#define REASON_MAX 512
#define REQ_MAGIC "assay unseal request v1"
#define APP_MAGIC "assay unseal approval v1"

void vault_request_release(struct vault_request *r)
{
	free(r->run);
	free(r->reason);
	if (r->secret)
		sodium_free(r->secret);
	memset(r, 0, sizeof(*r));
}

static enum err add_request_body(struct buf *b, const char *digest,
				 const char *run, const char *reason,
				 int64_t expires,
				 const unsigned char *pk)
{
	enum err rc = buf_printf(b, "suite %s\nrun %s\nreason %s\nexpires %lld\n"
				 "request-key ", digest, run, reason,
				 (long long)expires);
	if (!rc)
		rc = vault_b64_add(b, pk, crypto_box_PUBLICKEYBYTES);
	return rc ? rc : buf_addch(b, '\n');
}

enum err vault_request_create(const struct vault_archive *a,
			      const char *run_id, const char *reason,
			      int64_t expires_unix, struct buf *request_out,
			      struct buf *secret_out, struct errmsg *e)
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES],
		      *sk = vault_secure_alloc(crypto_box_SECRETKEYBYTES);
	enum err rc;

	if (!vault_token_ok(run_id, strlen(run_id)))
		rc = err_set(e, ERR_INVAL, "bad run id '%s'", run_id);
	else if (!*reason || strlen(reason) > REASON_MAX ||
		 !vault_text_printable(reason, strlen(reason)))
		rc = err_set(e, ERR_INVAL, "the reason must be one printable "
			     "line of at most %d bytes", REASON_MAX);
	else
		rc = ERR_OK;
	if (!rc) {
		crypto_box_keypair(pk, sk);
		if (buf_adds(request_out, REQ_MAGIC "\n") ||
		    add_request_body(request_out, a->digest, run_id, reason,
				     expires_unix, pk) ||
		    buf_add(secret_out, request_out->data, request_out->len) ||
		    buf_adds(secret_out, "request-secret ") ||
		    vault_b64_add(secret_out, sk, crypto_box_SECRETKEYBYTES) ||
		    buf_addch(secret_out, '\n'))
			rc = err_set(e, ERR_LIMIT, "request too large");
	}
	sodium_free(sk);
	return rc;
}

/* ---- parsing requests and approvals ---- */

static enum err parse_common(const struct vfields *f, const char *line,
			     size_t n, int lineno, struct vault_request *r,
			     struct errmsg *e)
{
	uint64_t exp;

	switch (lineno) {
	case 2:
		if (f->n != 2 || !vault_field_is(f, 0, "suite") ||
		    f->len[1] != sizeof(r->digest) - 1)
			break;
		memcpy(r->digest, f->s[1], sizeof(r->digest) - 1);
		return ERR_OK;
	case 3:
		if (f->n != 2 || !vault_field_is(f, 0, "run") ||
		    !vault_token_ok(f->s[1], f->len[1]))
			break;
		r->run = vault_field_dup(f, 1);
		return ERR_OK;
	case 4:
		if (n < 8 || memcmp(line, "reason ", 7) || n - 7 > REASON_MAX ||
		    !vault_text_printable(line + 7, n - 7))
			break;
		r->reason = xstrndup(line + 7, n - 7);
		return ERR_OK;
	case 5:
		if (f->n != 2 || !vault_field_is(f, 0, "expires") ||
		    vault_field_u64(f, 1, &exp, e) || exp > INT64_MAX)
			break;
		r->expires = (int64_t)exp;
		return ERR_OK;
	case 6:
		if (f->n != 2 || !vault_field_is(f, 0, "request-key"))
			break;
		return vault_b64_decode_exact(f->s[1], f->len[1], r->pk,
					      sizeof(r->pk),
					      "request-key", e);
	default:
		break;
	}
	return err_set(e, ERR_PARSE, "line %d is malformed", lineno);
}

/* Parse REQ_MAGIC/APP_MAGIC and the five common lines; *rest_out points
 * after them. */
static enum err parse_head(const char *text, size_t len, const char *magic,
			   struct vault_request *r, struct vlines *l,
			   struct errmsg *e)
{
	const char *line;
	size_t n;
	bool unterm;
	struct vfields f;
	enum err rc;

	memset(r, 0, sizeof(*r));
	if (len > 16384 || !vault_lines_open(l, text, len, magic))
		return err_set(e, ERR_PARSE, "not an '%s'", magic);
	for (int i = 2; i <= 6; i++) {
		if (!vault_lines_next(l, &line, &n, &unterm) || unterm)
			return err_set(e, ERR_PARSE, "truncated");
		rc = i == 4 ? ERR_OK : vault_fields_split(line, n, &f, e);
		if (!rc)
			rc = parse_common(&f, line, n, i, r, e);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

enum err vault_request_parse(const char *text, size_t len,
			     struct vault_request *r, struct errmsg *e)
{
	struct vlines l;
	const char *line;
	size_t n;
	bool unterm;
	struct vfields f;
	enum err rc = parse_head(text, len, REQ_MAGIC, r, &l, e);

	if (!rc && vault_lines_next(&l, &line, &n, &unterm)) {
		/* the secret file: one more line */
		r->secret = vault_secure_alloc(crypto_box_SECRETKEYBYTES);
		if (unterm || l.p != l.end || vault_fields_split(line, n, &f, e) ||
		    f.n != 2 || !vault_field_is(&f, 0, "request-secret") ||
		    vault_b64_decode_exact(f.s[1], f.len[1], r->secret,
					   crypto_box_SECRETKEYBYTES,
					   "request-secret", e))
			rc = err_set(e, ERR_PARSE, "bad 'request-secret' line");
		else
			r->secret_len = (size_t)(line - text);
	}
	if (rc)
		vault_request_release(r);
	return rc;
}

void vault_approval_release(struct vault_approval *ap)
{
	vault_request_release(&ap->req);
	memset(ap, 0, sizeof(*ap));
}

static enum err parse_tail(struct vlines *l, const char *text,
			   struct vault_approval *ap, struct errmsg *e)
{
	const char *line;
	size_t n;
	bool unterm;
	struct vfields f;

	if (!vault_lines_next(l, &line, &n, &unterm) || unterm ||
	    vault_fields_split(line, n, &f, e) || f.n != 3 ||
	    !vault_field_is(&f, 0, "custodian") ||
	    f.len[1] > VAULT_KEY_NAME_MAX ||
	    !vault_field_keyid(&f, 2, ap->keyid))
		return err_set(e, ERR_PARSE, "bad 'custodian' line");
	memcpy(ap->name, f.s[1], f.len[1]);
	ap->name[f.len[1]] = '\0';
	if (!vault_lines_next(l, &line, &n, &unterm) || unterm ||
	    vault_fields_split(line, n, &f, e) || f.n != 2 ||
	    !vault_field_is(&f, 0, "share") ||
	    vault_b64_decode_exact(f.s[1], f.len[1], ap->sealed_share,
				   VAULT_SEALED_SHARE_LEN, "share", e))
		return err_set(e, ERR_PARSE, "bad 'share' line");
	ap->signed_len = (size_t)(l->p - text);
	if (!vault_lines_next(l, &line, &n, &unterm) || unterm ||
	    l->p != l->end || vault_fields_split(line, n, &f, e) || f.n != 2 ||
	    !vault_field_is(&f, 0, "signature") ||
	    vault_b64_decode_exact(f.s[1], f.len[1], ap->sig, sizeof(ap->sig),
				   "signature", e))
		return err_set(e, ERR_PARSE, "bad 'signature' line");
	return ERR_OK;
}

enum err vault_approval_parse(const char *text, size_t len,
			      struct vault_approval *ap, struct errmsg *e)
{
	struct vlines l;
	enum err rc;

	memset(ap, 0, sizeof(*ap));
	rc = parse_head(text, len, APP_MAGIC, &ap->req, &l, e);
	if (!rc)
		rc = parse_tail(&l, text, ap, e);
	if (rc)
		vault_approval_release(ap);
	return rc;
}

/* ---- approving ---- */

static const struct vault_archive_custodian *
find_custodian(const struct vault_archive *a, const unsigned char *sign_pk,
	       size_t *index_out)
{
	for (size_t i = 0; i < a->ncustodians; i++)
		if (!memcmp(a->custodians[i].pub.sign_pk, sign_pk,
			    VAULT_PK_LEN)) {
			*index_out = i;
			return &a->custodians[i];
		}
	return NULL;
}

static enum err build_approval(const struct vault_request *r,
			       struct vault_seckey *cust,
			       const unsigned char *sealed, struct buf *out,
			       struct errmsg *e)
{
	const struct vault_pubkey *pub = vault_seckey_public(cust);
	unsigned char sig[crypto_sign_BYTES];
	char id[VAULT_KEYID_HEX_SIZE];
	size_t start = out->len;

	vault_keyid_hex(pub->keyid, id);
	if (buf_adds(out, APP_MAGIC "\n") ||
	    add_request_body(out, r->digest, r->run, r->reason, r->expires,
			     r->pk) ||
	    buf_printf(out, "custodian %s %s\nshare ", pub->name, id) ||
	    vault_b64_add(out, sealed, VAULT_SEALED_SHARE_LEN) ||
	    buf_addch(out, '\n'))
		return err_set(e, ERR_LIMIT, "approval too large");
	vault_seckey_sign(cust, out->data + start, out->len - start, sig);
	if (buf_adds(out, "signature ") ||
	    vault_b64_add(out, sig, sizeof(sig)) ||
	    buf_addch(out, '\n'))
		return err_set(e, ERR_LIMIT, "approval too large");
	return ERR_OK;
}

enum err vault_approve(const struct vault_archive *a,
		       const char *request_text, size_t request_len,
		       struct vault_seckey *custodian, int64_t now_unix,
		       struct buf *approval_out, struct errmsg *e)
{
	const struct vault_archive_custodian *c;
	unsigned char *share = vault_secure_alloc(VAULT_SHARE_LEN);
	unsigned char sealed[VAULT_SEALED_SHARE_LEN];
	struct vault_request r;
	size_t idx;
	enum err rc;

	rc = vault_request_parse(request_text, request_len, &r, e);
	if (rc) {
		sodium_free(share);
		return err_prefix(e, "request");
	}
	c = find_custodian(a, vault_seckey_public(custodian)->sign_pk, &idx);
	if (r.secret)
		rc = err_set(e, ERR_INVAL, "this is the request's secret file; "
			     "custodians get the request only");
	else if (strcmp(r.digest, a->digest))
		rc = err_set(e, ERR_INVAL, "the request names suite %.16s..., "
			     "the archive is %.16s...", r.digest, a->digest);
	else if (r.expires <= now_unix)
		rc = err_set(e, ERR_INVAL, "the request has expired");
	else if (!c)
		rc = err_set(e, ERR_INVAL, "'%s' is not a custodian of this "
			     "suite", vault_seckey_public(custodian)->name);
	if (!rc)
		rc = vault_seckey_box_open(custodian, c->sealed_share,
					   VAULT_SEALED_SHARE_LEN, share, e);
	if (!rc && crypto_box_seal(sealed, share, VAULT_SHARE_LEN, r.pk) != 0)
		rc = err_set(e, ERR_CRYPTO, "cannot seal to the request key");
	if (!rc)
		rc = build_approval(&r, custodian, sealed, approval_out, e);
	sodium_free(share);
	vault_request_release(&r);
	return rc;
}
