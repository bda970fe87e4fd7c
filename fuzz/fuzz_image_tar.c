/*
 * fuzz_image_tar.c - libFuzzer target for layer tar entries (untrusted:
 * headers declare names, link targets, types and sizes): every entry
 * read from the (possibly compressed) tar goes through the same check an
 * import applies before writing anything.
 */
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_limits lim = { .max_entry_bytes = 1 << 20 };
	struct errmsg e;
	size_t n;

	(void)image_tar_check_mem(data, size, &lim, &n, &e);
	return 0;
}
