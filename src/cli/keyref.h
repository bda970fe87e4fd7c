/*
 * keyref.h - a key given on the command line by name (as `assay keys
 * list` shows it) or by path, and the audit log a command records to.
 */
#ifndef ASSAY_CLI_KEYREF_H
#define ASSAY_CLI_KEYREF_H

#include "base/err.h"
#include "vault/auditlog.h"
#include "vault/keys.h"

/* The file of key `arg`: a path (it has a '/' or names an existing file)
 * is used as it is; otherwise a valid key name is DIR/NAME.EXT, DIR being
 * dir or the key directory ($ASSAY_KEYS, else $ASSAY_HOME/keys). ext is
 * "key" (secret) or "pub". Caller frees; NULL with *e when arg is neither
 * a file nor a key there. */
char *cli_key_path(const char *arg, const char *ext, const char *dir,
		   struct errmsg *e);

/* vault_seckey_open / vault_pubkey_load of a key given by name or path. */
enum err cli_seckey_open(const char *arg, const char *dir,
			 const char *passphrase_file,
			 struct vault_seckey **key_out,
			 struct errmsg *e) MUST_CHECK;
enum err cli_pubkey_load(const char *arg, const char *dir,
			 struct vault_pubkey *out, struct errmsg *e) MUST_CHECK;

/* The audit log's directory: opt when given, else $ASSAY_AUDIT_LOG, else
 * $ASSAY_HOME/audit. Caller frees. */
char *cli_audit_dir(const char *opt);
/* Record one event there; "audit log: ..." in *e when it cannot be
 * written (the command then fails: an unrecorded key use is refused). */
enum err cli_audit_record(const char *opt, const char *kind,
			  const struct vault_audit_field *f, size_t nf,
			  struct errmsg *e) MUST_CHECK;

/* The worker public keys of --worker-key arguments, each a key
 * ("assay-worker-v1:...") or a file of keys, one a line: appended to
 * *keys_out in canonical form (caller frees each and the array); a
 * malformed or repeated key is an error naming it. */
enum err cli_worker_keys(const char *const *args, size_t nargs,
			 char ***keys_out, size_t *n_out,
			 struct errmsg *e) MUST_CHECK;

#endif
