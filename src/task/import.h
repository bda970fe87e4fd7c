/*
 * import.h - `assay import FORMAT SRC -o DIR`: other harnesses' tasks as
 * assay task directories (docs/IMPORT.md).
 *
 * task_import_run() reads every task of SRC in FORMAT, converts what assay can
 * represent into DIR/ID/ (task.yaml, files/, services/, check/, solution/)
 * and lists those tasks in DIR/suite.yaml. A task that cannot be
 * represented is refused with a reason and the rest still import; every
 * written task has passed task_load(). The source is untrusted: its files
 * are copied only when they are regular files inside SRC (no symlink is
 * followed), documents are size-capped, and nothing of it is run.
 */
#ifndef ASSAY_IMPORT_H
#define ASSAY_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/ytree.h"

enum import_format {
	IMPORT_INSPECT_CYBER, IMPORT_CYBENCH, IMPORT_INTERCODE,
	IMPORT_NYU_CTF, IMPORT_HARBOR,
	IMPORT__COUNT
};

/* "inspect-cyber", "cybench", ...; false for an unknown name. */
bool task_import_format_parse(const char *name, enum import_format *out);
const char *task_import_format_name(enum import_format f);

/* How Cybench's subtasks become questions (docs/IMPORT.md, "Subtasks"). */
enum import_subtasks {
	IMPORT_SUBTASKS_GUIDED,    /* one at a time before the flag
				      (answers_mode: sequential): Cybench's
				      default, subtask-guided mode */
	IMPORT_SUBTASKS_UNGUIDED,  /* the flag only, no question: Cybench's
				      unguided mode */
	IMPORT_SUBTASKS_TOGETHER,  /* every question in the first prompt
				      (answers_mode: together), as assay
				      imported them before */
};

/* "guided" / "unguided" / "together"; false for an unknown name. */
bool task_import_subtasks_parse(const char *name, enum import_subtasks *out);

struct import_opts {
	/* The agent box's image for every task ("host" or an image name),
	 * instead of the source's default service image; NULL keeps it. */
	const char *agent_image;
	/* Whether an image NAME is imported (assay image import); NULL: none
	 * is. "host" never asks. */
	bool (*image_imported)(void *arg, const char *name);
	void *image_arg;
	enum import_subtasks subtasks;   /* Cybench; 0: guided */
};

/* Reasons a task is refused (docs/IMPORT.md). */
enum import_refusal {
	REFUSE_NONE, REFUSE_PRIVILEGED, REFUSE_CAP_ADD, REFUSE_DEVICES,
	REFUSE_HOST_NETWORK, REFUSE_EXTERNAL_NETWORK, REFUSE_REMOTE_HOST,
	REFUSE_IMAGE, REFUSE_UNSUPPORTED, REFUSE_INVALID,
	REFUSE__COUNT
};
const char *task_import_refusal_name(enum import_refusal r);

struct import_item {
	char *id;              /* assay id, or the source's name if refused early */
	char *source;          /* where in SRC it came from */
	enum import_refusal refused;
	char *why;             /* detail of a refusal, or NULL */
	bool no_oracle;        /* imported with oracle: none */
	bool defaults;         /* carries a *-default tag */
};

struct import_result {
	struct import_item *items;
	size_t n, cap;
};

/* Import SRC into DIR (created; must be empty or absent). ERR_* for what
 * stops the whole import (SRC unreadable, DIR not empty); per-task
 * problems are refusals in *res. */
enum err task_import_run(enum import_format f, const char *src, const char *dir,
			 const struct import_opts *o, struct import_result *res,
			 struct errmsg *e) MUST_CHECK;
void task_import_result_release(struct import_result *r);

/* Source documents as a ytree (for the importers and their fuzzers):
 * JSON through jansson, TOML through the bounded subset parser of
 * import_toml.c. `name` is used in messages. */
enum err task_import_json_tree(const char *name, const char *data, size_t len,
			       struct ynode **root_out, struct errmsg *e) MUST_CHECK;
enum err task_import_toml_tree(const char *name, const char *data, size_t len,
			       struct ynode **root_out, struct errmsg *e) MUST_CHECK;

#endif
