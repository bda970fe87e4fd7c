/*
 * spend.h - spent unseal requests, read from the audit log (spend.c).
 * Internal to the vault.
 */
#ifndef ASSAY_VAULT_SPEND_H
#define ASSAY_VAULT_SPEND_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "vault/auditlog.h"

struct vault_spend {
	bool spent;              /* an earlier unseal (not a dry run) */
	bool bound_here;         /* ... served this very run */
	bool bound_elsewhere;    /* ... named another run */
	uint64_t seq;            /* the first entry that spent it */
};

/* Read every entry of log naming request (a fingerprint); served (may be
 * NULL) is the run asking now. */
enum err vault_spend_scan(struct vault_audit *log, const char *request,
			  const char *served, struct vault_spend *sp,
			  struct errmsg *e) MUST_CHECK;
/* Exclusive lock of DIR/unseal.lock (a descriptor), -1 with *e. */
int vault_spend_lock(struct vault_audit *log, struct errmsg *e);
void vault_spend_unlock(int fd);

#endif
