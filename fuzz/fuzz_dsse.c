/*
 * fuzz_dsse.c - the DSSE envelope parser and t-of-n verifier on
 * arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vault/keys.h"
#include "vault/sign.h"
#include "vault/vault.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vault_pubkey keys[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The keys that signed corpus/dsse/two-sigs.json. */
	static const char ev[] = "untrusted comment: assay sign key evaluator\n"
		"RWRf3fiV+k/QOdHqkHX6OSQdt0jFk7WIQx/Y9EglluAw5WxXUFAIUlwI\n";
	static const char ad[] = "untrusted comment: assay sign key admin\n"
		"RWSdiAovT3d6u+YXSHq1NW8iaCdos3t+dTfS0vwrTVoxFxxmF41IGMDV\n";
	struct errmsg e;

	(void)argc;
	(void)argv;
	if (vault_pubkey_parse("ev", ev, sizeof(ev) - 1, &keys[0], &e) ||
	    vault_pubkey_parse("ad", ad, sizeof(ad) - 1, &keys[1], &e))
		return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault_dsse *env = NULL;
	struct errmsg e;
	size_t n;
	int signer[2];

	if (size > (1u << 20))
		return 0;
	if (vault_dsse_parse((const char *)data, size, &env, &e) != ERR_OK)
		return 0;
	(void)vault_dsse_verify(env, keys, 2, 2, &n, signer, &e);
	vault_dsse_free(env);
	return 0;
}
