/*
 * safeout.c - stdout through safe_text (base/safetext.h).
 *
 * Every command prints text that came, at least in part, from a box or a
 * model: transcripts, tool output, errors quoting a box's stderr, task ids
 * and file names of a suite, JSON documents holding all of those. Rather
 * than trusting each printf to remember, stdout itself is replaced by a
 * stream (fopencookie) whose writes go through safe_text before they
 * reach fd 1: no control character but newline and tab, no C1, no bidi
 * control and no invalid UTF-8 leaves the process on stdout. JSON keeps
 * its meaning (safe_text escapes in JSON's \uNNNN form, and the JSON
 * writers never emit a raw control). A UTF-8 sequence split across two
 * writes is held back until the next one, so the split does not make it
 * look invalid. stderr carries the progress bar's own escapes and is
 * sanitized per message instead (cli_error, base/log.c).
 */
#include "cli/safeout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/safetext.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct safeout {
	int fd;
	char held[4];          /* the start of a UTF-8 sequence cut by a write */
	size_t nheld;
};

static FILE *real_stdout;

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes at the end of p[0..n) that begin a UTF-8 sequence the write cut
 * short (0 when the end is complete or not UTF-8 at all). */
static size_t cut_tail(const unsigned char *p, size_t n)
{
	for (size_t back = 1; back <= 3 && back <= n; back++) {
		unsigned char c = p[n - back];
		size_t need = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ?
			      3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if ((c & 0xc0) == 0x80)
			continue;          /* a continuation byte: look further */
		return need > back ? back : 0;
	}
	return 0;
}

static int emit(struct safeout *s, const char *p, size_t n)
{
	size_t len;
	char *clean = safe_text(p, n, SAFE_MULTILINE, &len);
	int rc = write_all(s->fd, clean, len);

	free(clean);
	return rc;
}

static ssize_t safe_write(void *cookie, const char *p, size_t n)
{
	struct safeout *s = cookie;
	size_t all = s->nheld + n, keep;
	char *b = xmalloc(all + 1);
	int rc;

	memcpy(b, s->held, s->nheld);
	memcpy(b + s->nheld, p, n);
	keep = cut_tail((const unsigned char *)b, all);
	rc = emit(s, b, all - keep);
	memcpy(s->held, b + all - keep, keep);
	s->nheld = keep;
	free(b);
	return rc < 0 ? -1 : (ssize_t)n;
}

static int safe_close(void *cookie)
{
	struct safeout *s = cookie;
	int rc = s->nheld ? emit(s, s->held, s->nheld) : 0;

	free(s);
	return rc;
}

void cli_safe_stdout(void)
{
	static const cookie_io_functions_t io = { .write = safe_write,
						  .close = safe_close };
	struct safeout *s = xcalloc(1, sizeof(*s));
	FILE *f;

	s->fd = STDOUT_FILENO;
	fflush(stdout);
	f = fopencookie(s, "w", io);
	if (!f) {
		free(s);
		return;
	}
	if (isatty(STDOUT_FILENO))
		setvbuf(f, NULL, _IOLBF, 0);
	real_stdout = stdout;
	stdout = f;
}

void cli_safe_stdout_end(void)
{
	if (!real_stdout)
		return;
	fclose(stdout);
	stdout = real_stdout;
	real_stdout = NULL;
}
