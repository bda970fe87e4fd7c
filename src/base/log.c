#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include "base/banned.h"

static enum log_level level = LOG_WARN;

void log_set_level(enum log_level lvl)
{
	level = lvl;
}

enum log_level log_get_level(void)
{
	return level;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char line[1024];
	va_list ap;

	if (lvl < level || lvl >= LOG_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "level=%s %s\n", names[lvl], line);
}
