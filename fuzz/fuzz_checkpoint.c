/*
 * fuzz_checkpoint.c - the C2SP signed-note / checkpoint parser and
 * verifier, and the audit proof parser, on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/auditlog.h"
#include "vault/keys.h"
#include "vault/vault.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vault_pubkey key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct errmsg e;
	/* The key that signed corpus/checkpoint/signed.note. */
	static const char pub[] = "untrusted comment: assay sign key logkey\n"
		"RWQSNJLce9W4t8/G2KzTWFdAZ2pPZMYbbJogIFsHSQ69tY9SOSb2UBbJ\n";

	(void)argc;
	(void)argv;
	return vault_pubkey_parse("fuzz", pub, sizeof(pub) - 1, &key, &e) ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault_checkpoint cp;
	struct vault_proof *p;
	struct errmsg e;
	size_t n;

	(void)vault_checkpoint_verify((const char *)data, size, &key, 1, &cp,
				      &n, &e);
	p = malloc(sizeof(*p));
	if (p) {
		(void)vault_proof_parse((const char *)data, size, p, &e);
		free(p);
	}
	return 0;
}
