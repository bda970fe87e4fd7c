/*
 * sealed.h - a sealed suite (.assay) opened for one run: unsealed into
 * memory with k custodian approvals, then loaded as in-memory tasks.
 * Nothing of the content is written to disk; cli_sealed_close() wipes it.
 */
#ifndef ASSAY_SEALED_H
#define ASSAY_SEALED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "task/task.h"
#include "vault/worker.h"

#define SEALED_MAX_APPROVALS 32

struct sealed_opts {
	const char *request_key;                 /* REQ.key from suite request */
	const char *approvals[SEALED_MAX_APPROVALS];
	size_t n_approvals;
	const char *sealer;      /* --sealer: the key the archive must be
				    sealed by (name or .pub path), or NULL */
	const char *served;      /* the run it serves ("RUN@STORE") when it
				    exists (resume); NULL for a new run */
	/* a worker's open of a queued sealed run (no request, no
	   approvals): its key, the task keys wrapped to it (the store's)
	   and the archive digest the run names */
	const struct vault_worker_key *worker_key;
	const struct store_wrapped *wrapped;
	size_t n_wrapped;
	const char *archive_digest;
};

/* --request-key and --approval, for every command that unseals. */
#define SEALED_OPT_REQUEST_KEY \
	{ "request-key", 0, CLI_STR, "REQ.key", NULL, "a sealed suite: the " \
	  "key of the unseal request (assay suite request)", .flags = 0 }
#define SEALED_OPT_APPROVAL \
	{ "approval", 0, CLI_LIST, "FILE", NULL, "a sealed suite: a " \
	  "custodian's approval (assay keys approve)", .flags = 0 }

/* --sealer, for every command that opens an archive to use it. */
#define SEALED_OPT_SEALER \
	{ "sealer", 0, CLI_STR, "PUB", NULL, "refuse unless the archive was " \
	  "sealed by this key (a key name or a .pub file)", .flags = 0 }

struct sealed;
struct vault_approval_in;

/* The approval files paths[0..n) into in[] (each's text to free). */
#define SEALED_APPROVAL_MAX 65536
enum err cli_sealed_read_approvals(const char *const *paths, size_t n,
				   struct vault_approval_in *in,
				   struct errmsg *e) MUST_CHECK;

/* True when path names an archive rather than a directory or suite.yaml. */
bool cli_sealed_is_archive(const char *path);
/* Unseal and load; prints nothing. On error *msg_out holds the message. */
enum err cli_sealed_open(const char *path, const struct sealed_opts *o,
			 struct suite **suite_out, struct sealed **s_out,
			 struct errmsg *e) MUST_CHECK;
/* Name the run a new run's unseal served (audit "unseal.run"), once the
 * run exists: the request is then spent for every other run. */
enum err cli_sealed_bind(const struct sealed *s, const char *served,
			 struct errmsg *e) MUST_CHECK;
/* "RUN@STORE" for run_id of the store at path (NULL: the default). Caller
 * frees. */
char *cli_sealed_served(const char *store_path, int64_t run_id);
/* The coordinator of a queued sealed run: mark run_id sealed, register
 * each of the n worker public keys (text form) and store the key of each
 * task of suite (the run's selection) wrapped to it, in one transaction;
 * each registration is audited ("worker.key"). */
enum err cli_sealed_register_workers(const struct sealed *s,
				     const struct suite *suite,
				     struct store *st, int64_t run_id,
				     const char *const *pubs, size_t n,
				     struct errmsg *e) MUST_CHECK;
/* The archive's digest (the one approvals name); borrowed. */
const char *cli_sealed_digest(const struct sealed *s);
/* Free the suite's tasks and wipe the content. */
void cli_sealed_close(struct sealed *s, struct suite *suite);

#endif
