/*
 * carry.h - images a sealed archive carries (docs/FORMAT-archive.md,
 * "Images"): at `suite seal --private-image NAME`, the record of each
 * such image and its private layers re-tarred from the store, as files
 * of the stream of every task naming it; at a sealed run, those files
 * taken out of the unsealed tasks and handed to the engine.
 *
 * Ownership: a cli_carry owns its records and tars (plain memory on the
 * sealing machine, which holds them in its store anyway); the run side
 * borrows the unsealed content's locked memory.
 */
#ifndef ASSAY_CLI_CARRY_H
#define ASSAY_CLI_CARRY_H

#include <stddef.h>

#include "base/err.h"
#include "task/task.h"
#include "vault/seal.h"

struct cli_carry;

/* For a loaded suite whose images are pinned: every image of private
 * (n names) must be named by a task; each becomes files for the tasks
 * that name it. */
enum err cli_carry_build(const struct suite *su, const char *const *private,
			 size_t n, struct cli_carry **out,
			 struct errmsg *e) MUST_CHECK;
/* The files to seal, borrowed until cli_carry_free. */
const struct vault_seal_extra *cli_carry_extra(const struct cli_carry *c,
					       size_t *n_out);
void cli_carry_free(struct cli_carry *c);

/* A sealed task's files: true when path is one of the carried files,
 * not the task's own. */
bool cli_carry_is_carried(const char *path);
/* Hand the carried files of task (files, n) to the engine
 * (engine_images_carry); *any_out is set when there was one. */
enum err cli_carry_register(const char *task, const struct task_file *files,
			    size_t n, bool *any_out,
			    struct errmsg *e) MUST_CHECK;

#endif
