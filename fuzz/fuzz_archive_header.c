/*
 * fuzz_archive_header.c - vault_archive_parse on arbitrary bytes: the
 * header parser, layout checks and signature check of sealed archives.
 */
#include <stddef.h>
#include <stdint.h>

#include "vault/seal.h"
#include "vault/vault.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct errmsg e;

	(void)argc;
	(void)argv;
	return vault_init(&e) ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault_archive *a = NULL;
	struct errmsg e;

	if (size > (1u << 20))
		return 0;
	if (vault_archive_parse("fuzz.assay", data, size, &a, &e) == ERR_OK)
		vault_archive_free(a);
	return 0;
}
