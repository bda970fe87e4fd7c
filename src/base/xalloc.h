/*
 * xalloc.h - allocation that aborts when memory runs out (as git, Redis,
 * bubblewrap). Sizes that come from outside must be checked against a
 * limit *before* they reach these functions.
 */
#ifndef ASSAY_XALLOC_H
#define ASSAY_XALLOC_H

#include <stddef.h>

/* Print "assay: out of memory allocating N bytes" and abort: for other
 * allocators (libsodium's guarded memory) that run out. */
_Noreturn void xalloc_die(size_t n);

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of `size`-byte elements to hold at least `need` elements. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);             /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);  /* at most n bytes, as strndup */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free a NULL-terminated vector of strings and the vector itself. */
void strv_free(char **v);
size_t strv_len(char *const *v);
char **strv_dup(char *const *v);

#endif
