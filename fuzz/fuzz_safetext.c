/*
 * fuzz_safetext - safe_text over arbitrary bytes (tool output, model text:
 * hostile). The result must be valid UTF-8 holding no C0 control but the
 * kept newline and tab, no DEL, no C1 and no bidi control, must be stable
 * (escaping it again changes nothing) and must say so itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/safetext.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t n, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len(u + i, n - i);
		if (u[i] == '\n' && (flags & SAFE_KEEP_NEWLINE)) {
			i++;
			continue;
		}
		if (u[i] == '\t' && (flags & SAFE_KEEP_TAB)) {
			i++;
			continue;
		}
		if (!k || u[i] < 0x20 || u[i] == 0x7f)
			abort();
		if (k == 2 && u[i] == 0xc2 && u[i + 1] <= 0x9f)
			abort();   /* C1 */
		if (k == 3 && u[i] == 0xe2 && ((u[i + 1] == 0x80 &&
		    (u[i + 2] == 0x8e || u[i + 2] == 0x8f ||
		     (u[i + 2] >= 0xa8 && u[i + 2] <= 0xae))) ||
		    (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
			abort();   /* bidi */
		i += k;
	}
	if (!safe_text_is_clean(s, n, flags))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size ? data[0] & SAFE_MULTILINE : 0;
	size_t n, n2;
	char *out = safe_text((const char *)data, size, flags, &n);
	char *again = safe_text(out, n, flags, &n2);

	check(out, n, flags);
	if (n2 != n || memcmp(out, again, n))
		abort();   /* not stable */
	if (strlen(out) != n)
		abort();   /* a NUL survived */
	free(again);
	free(out);
	return 0;
}
