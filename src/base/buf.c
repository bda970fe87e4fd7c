#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "xalloc.h"
#include "base/banned.h"

/* What a released buffer points at: empty, never written (cap 0). */
static char empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->cap = 64;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
	b->max = max ? max : BUF_MAX_DEFAULT;
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->data);
	b->data = empty;
	b->len = b->cap = 0;
}

void buf_truncate(struct buf *b, size_t len)
{
	DEBUGASSERT(b->data && len <= b->len);
	b->len = len;
	if (b->cap)
		b->data[len] = '\0';
}

void buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p = b->cap ? b->data : xstrdup("");

	if (len_out)
		*len_out = b->len;
	b->data = empty;
	b->len = b->cap = 0;
	return p;
}

static enum err reserve(struct buf *b, size_t extra)
{
	size_t need;

	DEBUGASSERT(b->data && b->len <= b->max);
	if (extra > b->max - b->len)
		return ERR_LIMIT;
	need = b->len + extra + 1;
	if (need > b->cap) {
		/* a released buffer (cap 0) starts again from 64 bytes */
		size_t c = b->cap ? b->cap : 64;
		while (c < need)
			c = c > SIZE_MAX / 2 ? need : c * 2;
		b->data = b->cap ? xrealloc(b->data, c) : xmalloc(c);
		b->data[b->len] = '\0';
		b->cap = c;
	}
	return ERR_OK;
}

enum err buf_add(struct buf *b, const void *p, size_t n)
{
	if (reserve(b, n))
		return ERR_LIMIT;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return ERR_OK;
}

enum err buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

enum err buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

enum err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return ERR_INVAL;
	if (reserve(b, (size_t)n))
		return ERR_LIMIT;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return ERR_OK;
}

enum err buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	enum err rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}
