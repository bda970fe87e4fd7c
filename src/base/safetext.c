/*
 * safetext.c - hostile text made safe to show (see safetext.h for what is
 * escaped and why).
 */
#include "base/safetext.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* Code points shown as \uNNNN although they are valid UTF-8: the C1
 * controls (a terminal in UTF-8 mode may still act on U+009B as CSI) and
 * the characters that reorder or split what a reader sees. */
static bool hidden_cp(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static unsigned decode(const unsigned char *s, size_t k)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned cp = s[0] & lead_mask[k];

	for (size_t i = 1; i < k; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

static bool kept_control(unsigned char c, unsigned flags)
{
	return (c == '\n' && (flags & SAFE_KEEP_NEWLINE)) ||
	       (c == '\t' && (flags & SAFE_KEEP_TAB));
}

/* Bytes of the sequence at u (n available) as they may be shown: *k gets
 * the bytes consumed; returns true when they must be escaped. */
static bool needs_escape(const unsigned char *u, size_t n, unsigned flags,
			 size_t *k, unsigned *cp)
{
	if (u[0] < 0x80) {
		*k = 1;
		*cp = u[0];
		return (u[0] < 0x20 || u[0] == 0x7f) && !kept_control(u[0], flags);
	}
	*k = utf8_seq_len(u, n);
	if (!*k) {                  /* not UTF-8: one byte as \xNN */
		*k = 1;
		*cp = u[0];
		return true;
	}
	*cp = decode(u, *k);
	return hidden_cp(*cp);
}

char *safe_text(const char *s, size_t n, unsigned flags, size_t *len_out)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(n * 6 + 1);   /* at most 6 bytes per input byte */
	size_t o = 0, k;
	unsigned cp;

	for (size_t i = 0; i < n; i += k) {
		if (!needs_escape(u + i, n - i, flags, &k, &cp)) {
			memcpy(out + o, u + i, k);
			o += k;
		} else if (k == 1 && u[i] >= 0x80) {  /* not UTF-8 */
			o += (size_t)snprintf(out + o, 5, "\\x%02x", u[i]);
		} else {
			o += (size_t)snprintf(out + o, 7, "\\u%04x", cp);
		}
	}
	out[o] = '\0';
	if (len_out)
		*len_out = o;
	return out;
}

char *safe_str(const char *s, unsigned flags)
{
	return safe_text(s, s ? strlen(s) : 0, flags, NULL);
}

bool safe_text_is_clean(const char *s, size_t n, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k;
	unsigned cp;

	for (size_t i = 0; i < n; i += k)
		if (needs_escape(u + i, n - i, flags, &k, &cp))
			return false;
	return true;
}
