/*
 * sealed.h - a sealed suite (.assay) opened for one run: unsealed into
 * memory with k custodian approvals, then loaded as in-memory tasks.
 * Nothing of the content is written to disk; sealed_close() wipes it.
 */
#ifndef ASSAY_SEALED_H
#define ASSAY_SEALED_H

#include <stdbool.h>
#include <stddef.h>

#include "task/task.h"

#define SEALED_MAX_APPROVALS 32

struct sealed_opts {
	const char *request_key;                 /* REQ.key from suite request */
	const char *approvals[SEALED_MAX_APPROVALS];
	size_t n_approvals;
};

struct sealed;

/* True when path names an archive rather than a directory or suite.yaml. */
bool sealed_is_archive(const char *path);
/* Unseal and load; prints nothing. On error *msg_out holds the message. */
enum err sealed_open(const char *path, const struct sealed_opts *o,
		     struct suite **suite_out, struct sealed **s_out,
		     struct errmsg *e) MUST_CHECK;
/* Free the suite's tasks and wipe the content. */
void sealed_close(struct sealed *s, struct suite *suite);

#endif
