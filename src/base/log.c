#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/safetext.h"
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
	char *clean;
	int n;

	if (lvl < level || lvl >= LOG_QUIET)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	/* log lines quote boxes and models: one line, nothing a terminal
	 * acts on (safetext.h) */
	clean = safe_text(line, (size_t)n < sizeof(line) ? (size_t)n :
			  sizeof(line) - 1, SAFE_KEEP_TAB, NULL);
	fprintf(stderr, "level=%s %s\n", names[lvl], clean);
	free(clean);
}
