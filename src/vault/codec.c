/*
 * codec.c - base64 through libsodium, the strict line/field reader used
 * by the vault's text formats, and the secure allocation.
 */
#include "vault/vault_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

void *vault_secure_alloc(size_t n)
{
	void *p = sodium_malloc(n ? n : 1);

	if (!p)
		xalloc_die(n);
	return p;
}

enum err vault_b64_add(struct buf *b, const void *p, size_t n)
{
	size_t blen = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *tmp = xmalloc(blen);
	enum err rc;

	sodium_bin2base64(tmp, blen, p, n, sodium_base64_VARIANT_ORIGINAL);
	rc = buf_adds(b, tmp);
	free(tmp);
	return rc;
}

/* Decode into out (max bytes); checks the encoding is canonical by
 * re-encoding, so one value has exactly one spelling. */
static enum err b64_decode(const char *s, size_t slen, unsigned char *out,
			   size_t max, size_t *len_out, const char *what,
			   struct errmsg *e)
{
	const char *end = NULL;
	size_t n = 0;
	char *again;
	bool ok;

	if (sodium_base642bin(out, max, s, slen, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + slen)
		return err_set(e, ERR_PARSE, "%s: bad base64", what);
	again = xmalloc(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL));
	sodium_bin2base64(again, sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL),
			  out, n, sodium_base64_VARIANT_ORIGINAL);
	ok = strlen(again) == slen && memcmp(again, s, slen) == 0;
	free(again);
	if (!ok)
		return err_set(e, ERR_PARSE, "%s: non-canonical base64", what);
	*len_out = n;
	return ERR_OK;
}

enum err vault_b64_decode_exact(const char *s, size_t slen, void *out,
				size_t want, const char *what, struct errmsg *e)
{
	size_t n = 0;   /* set on success (-O3 cannot see it) */
	enum err rc;

	if (slen != sodium_base64_encoded_len(want, sodium_base64_VARIANT_ORIGINAL) - 1)
		return err_set(e, ERR_PARSE, "%s: expected %zu bytes", what,
			       want);
	rc = b64_decode(s, slen, out, want, &n, what, e);
	if (rc)
		return rc;
	if (n != want)
		return err_set(e, ERR_PARSE, "%s: expected %zu bytes", what,
			       want);
	return ERR_OK;
}

enum err vault_b64_decode_alloc(const char *s, size_t slen, size_t max,
				unsigned char **out, size_t *len_out,
				const char *what, struct errmsg *e)
{
	size_t cap = slen / 4 * 3 + 3;
	unsigned char *p;
	enum err rc;

	if (cap > max + 3)
		return err_set(e, ERR_LIMIT, "%s: more than %zu bytes", what,
			       max);
	p = xmalloc(cap + 1);
	rc = b64_decode(s, slen, p, cap, len_out, what, e);
	if (rc == ERR_OK && *len_out > max)
		rc = err_set(e, ERR_LIMIT, "%s: more than %zu bytes", what,
			     max);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return ERR_OK;
}

void vault_lines_init(struct vlines *l, const char *data, size_t len)
{
	l->p = data;
	l->end = data + len;
	l->lineno = 0;
}

bool vault_lines_next(struct vlines *l, const char **line_out, size_t *len_out,
		      bool *unterminated_out)
{
	const char *nl;

	*unterminated_out = false;
	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	*line_out = l->p;
	if (!nl) {
		*len_out = (size_t)(l->end - l->p);
		*unterminated_out = true;
		l->p = l->end;
	} else {
		*len_out = (size_t)(nl - l->p);
		l->p = nl + 1;
	}
	l->lineno++;
	return true;
}

bool vault_lines_open(struct vlines *l, const char *data, size_t len,
		      const char *first)
{
	const char *line;
	size_t n;
	bool unterm;

	vault_lines_init(l, data, len);
	return vault_lines_next(l, &line, &n, &unterm) && n == strlen(first) &&
	       memcmp(line, first, n) == 0;
}

enum err vault_fields_split(const char *line, size_t len, struct vfields *f,
			    struct errmsg *e)
{
	size_t start = 0;

	f->n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (i == start)
			return err_set(e, ERR_PARSE, "empty field");
		if (f->n == VFIELDS_MAX)
			return err_set(e, ERR_PARSE, "too many fields");
		f->s[f->n] = line + start;
		f->len[f->n++] = i - start;
		start = i + 1;
	}
	return ERR_OK;
}

bool vault_field_is(const struct vfields *f, size_t i, const char *word)
{
	return i < f->n && strlen(word) == f->len[i] &&
	       memcmp(f->s[i], word, f->len[i]) == 0;
}

bool vault_field_keyid(const struct vfields *f, size_t i,
		       unsigned char keyid[VAULT_KEYID_LEN])
{
	return i < f->n && f->len[i] == 2 * VAULT_KEYID_LEN &&
	       sodium_hex2bin(keyid, VAULT_KEYID_LEN, f->s[i], f->len[i], NULL,
			      NULL, NULL) == 0;
}

enum err vault_field_u64(const struct vfields *f, size_t i, uint64_t *out,
			 struct errmsg *e)
{
	uint64_t v = 0;

	if (i >= f->n || f->len[i] == 0 || f->len[i] > 19 ||
	    (f->len[i] > 1 && f->s[i][0] == '0'))
		return err_set(e, ERR_PARSE, "bad number");
	for (size_t j = 0; j < f->len[i]; j++) {
		if (f->s[i][j] < '0' || f->s[i][j] > '9')
			return err_set(e, ERR_PARSE, "bad number");
		v = v * 10 + (uint64_t)(f->s[i][j] - '0');
	}
	*out = v;
	return ERR_OK;
}

bool vault_text_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

char *vault_field_dup(const struct vfields *f, size_t i)
{
	return xstrndup(f->s[i], f->len[i]);
}
