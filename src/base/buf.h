/*
 * buf.h - a growable byte buffer with a hard cap (curl's dynbuf, git's
 * strbuf).
 *
 * Invariants: `data` is never NULL after buf_init and is always
 * NUL-terminated; `len` excludes the terminator; `len <= max`.
 * Appends past `max` fail with ERR_LIMIT and leave the buffer unchanged.
 * buf_release() frees the memory and buf_detach() hands it to the caller
 * (who frees it); both leave the buffer empty and reusable with the same
 * cap, `data` pointing at a shared empty string until the next append
 * (git's strbuf_release, curl's Curl_dyn_free).
 * A buffer must be buf_init'ed before any other call.
 */
#ifndef ASSAY_BUF_H
#define ASSAY_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);                  /* len = 0, keep memory */
void buf_truncate(struct buf *b, size_t len);   /* len <= b->len */
char *buf_detach(struct buf *b, size_t *len_out); /* caller frees */

enum err buf_add(struct buf *b, const void *p, size_t n) MUST_CHECK;
enum err buf_adds(struct buf *b, const char *s) MUST_CHECK;
enum err buf_addch(struct buf *b, char c) MUST_CHECK;
enum err buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) MUST_CHECK;
enum err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0))) MUST_CHECK;

#endif
