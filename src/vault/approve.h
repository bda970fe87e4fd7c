/*
 * approve.h - parsed unseal requests and approvals (see approve.c for the
 * text formats). Used by unsealing and by the CLI to show what a custodian
 * is asked to approve.
 */
#ifndef ASSAY_VAULT_APPROVE_H
#define ASSAY_VAULT_APPROVE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "vault/keys.h"
#include "vault/seal.h"

struct vault_request {
	char digest[VAULT_SHA256_HEX_SIZE];
	char *run;
	char *reason;
	int64_t expires;
	unsigned char pk[VAULT_BOX_PK_LEN];
	unsigned char *secret; /* sodium_malloc; only in the secret file */
	size_t secret_len;     /* bytes of request text before the secret */
};

struct vault_approval {
	struct vault_request req;
	char name[VAULT_KEY_NAME_MAX + 1];
	unsigned char keyid[VAULT_KEYID_LEN];
	unsigned char sealed_share[VAULT_SEALED_SHARE_LEN];
	unsigned char sig[VAULT_SIG_LEN];
	size_t signed_len;
};

enum err vault_request_parse(const char *text, size_t len,
			     struct vault_request *r,
			     struct errmsg *e) MUST_CHECK;
void vault_request_release(struct vault_request *r);
enum err vault_approval_parse(const char *text, size_t len,
			      struct vault_approval *ap,
			      struct errmsg *e) MUST_CHECK;
void vault_approval_release(struct vault_approval *ap);

#endif
