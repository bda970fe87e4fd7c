#include "bug.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/banned.h"

void bug_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "assay: BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
