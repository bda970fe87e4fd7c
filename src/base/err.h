/*
 * err.h - error codes and messages returned through every layer.
 *
 * A function that can fail returns enum err and takes `struct errmsg *e`
 * as its last argument. On failure it fills e->text with one lower-case
 * line naming what went wrong and where (git's message rules) and returns
 * the code; on success it leaves e untouched. Only cli/ and server/ print.
 */
#ifndef ASSAY_ERR_H
#define ASSAY_ERR_H

#include <stdarg.h>

#define MUST_CHECK __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

enum err {
	ERR_OK = 0,
	ERR_NOMEM,
	ERR_INVAL,    /* bad input from a user or a file */
	ERR_IO,
	ERR_PARSE,
	ERR_LIMIT,    /* a size or count from outside exceeded its cap */
	ERR_SANDBOX,
	ERR_PROVIDER,
	ERR_HTTP,
	ERR_STORE,
	ERR_CRYPTO,
	ERR_TIMEOUT,
	ERR_NOTFOUND,
	ERR_INTERRUPTED,
};

struct errmsg {
	enum err code;
	int sys_errno;
	char text[512];
};

/* Fill e (may be NULL) and return code. */
enum err err_set(struct errmsg *e, enum err code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* Like err_set, and append ": strerror(errno)"; saves errno in e. */
enum err err_sys(struct errmsg *e, enum err code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* Prefix the existing message with "fmt: " (adds context on the way up)
 * and return e->code (ERR_INVAL when e is NULL). */
enum err err_prefix(struct errmsg *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

const char *err_name(enum err code);

#endif
