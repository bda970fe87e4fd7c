#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/banned.h"

static void vfill(struct errmsg *e, enum err code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vfill(struct errmsg *e, enum err code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
}

enum err err_set(struct errmsg *e, enum err code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	vfill(e, code, fmt, ap);
	va_end(ap);
	e->sys_errno = 0;
	return code;
}

/* Starts like err_set(): a variadic function must open its own va_list,
 * so the three lines around vfill() are written in both. */
enum err err_sys(struct errmsg *e, enum err code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e)
		return code;
	va_start(ap, fmt);
	vfill(e, code, fmt, ap);
	va_end(ap);
	n = strlen(e->text);
	snprintf(e->text + n, sizeof(e->text) - n, ": %s", strerror(saved));
	e->sys_errno = saved;
	errno = saved;
	return code;
}

enum err err_prefix(struct errmsg *e, const char *fmt, ...)
{
	char old[sizeof(e->text)];
	va_list ap;
	size_t n;

	if (!e)
		return ERR_INVAL;  /* the code is lost with e; never report OK */
	memcpy(old, e->text, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	n = strlen(e->text);
	snprintf(e->text + n, sizeof(e->text) - n, ": %s", old);
	return e->code;
}

const char *err_name(enum err code)
{
	static const char *const names[] = {
		[ERR_OK] = "ok", [ERR_NOMEM] = "nomem", [ERR_INVAL] = "invalid",
		[ERR_IO] = "io", [ERR_PARSE] = "parse", [ERR_LIMIT] = "limit",
		[ERR_SANDBOX] = "sandbox", [ERR_PROVIDER] = "provider",
		[ERR_HTTP] = "http", [ERR_STORE] = "store",
		[ERR_CRYPTO] = "crypto", [ERR_TIMEOUT] = "timeout",
		[ERR_NOTFOUND] = "notfound", [ERR_INTERRUPTED] = "interrupted",
	};
	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}
