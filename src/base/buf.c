#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

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
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p = b->data;

	if (len_out)
		*len_out = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

static enum err reserve(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > b->max - b->len)
		return ERR_LIMIT;
	need = b->len + extra + 1;
	if (need > b->cap) {
		size_t c = b->cap;
		while (c < need)
			c *= 2;
		b->data = xrealloc(b->data, c);
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
