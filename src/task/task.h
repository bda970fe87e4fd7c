/*
 * task.h - the task format v1 (docs/FORMAT-task.md) as plain structs.
 *
 * task_load() parses DIR/task.yaml, validates every field and every path,
 * and returns a task that owns all its strings; task_free() releases it.
 * Errors are one line "FILE:LINE: message". Paths in a task never leave
 * its directory: "..", absolute paths and symlinks are rejected.
 */
#ifndef ASSAY_TASK_H
#define ASSAY_TASK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum task_category {
	CAT_PWN, CAT_WEB, CAT_CRYPTO, CAT_REV, CAT_FORENSICS, CAT_MISC,
	CAT_PATCH, CAT_DETECT, CAT_TRIAGE, CAT_HARDEN,
	CAT__COUNT
};

const char *task_category_name(enum task_category c);
bool task_category_is_defense(enum task_category c);
/* True when s names a category. */
bool task_category_valid(const char *s);

enum task_ready { TASK_READY_NONE, TASK_READY_TCP, TASK_READY_CMD };

struct task_service {
	char *name;
	char *image;           /* "host", an image reference (NAME or
				  NAME@sha256:HEX; the engine pins it), or
				  the absolute path of a rootfs dir */
	char *user;            /* entrypoint user: NULL (the image's User,
				  else root), "root", a name, UID[:GID] */
	char **run;            /* NULL-terminated argv; empty: the image's
				  Entrypoint + Cmd (imported images only) */
	char **env;            /* NULL-terminated KEY=VALUE */
	int *ports;
	size_t n_ports;
	enum task_ready ready;
	int ready_port;
	char **ready_cmd;      /* NULL-terminated argv */
	int ready_timeout_s;
	bool packet_sockets;   /* AF_PACKET allowed in its box */
	char *files_dir;       /* absolute host path of services/NAME, or NULL */
};

enum flag_kind { FLAG_NONE, FLAG_STATIC, FLAG_DYNAMIC };
enum flag_target_kind { FLAG_TO_FILE, FLAG_TO_ENV };

struct flag_target {
	enum flag_target_kind kind;
	char *box;             /* service name or "agent" */
	char *where;           /* file path in the box, or variable name */
};

struct task_answer {
	char *question;
	char *answer;          /* plain answer, or NULL */
	char *answer_sha256;   /* lower-case hex, or NULL */
	char **hints;          /* NULL-terminated, may be empty */
};

/* How the `answers` questions are asked (docs/FORMAT-task.md):
 * together, appended to the first prompt and answered in the submit
 * call's `answers` list; or sequential, one at a time before the flag
 * (Cybench's guided mode). */
enum task_answers_mode { TASK_ANSWERS_TOGETHER, TASK_ANSWERS_SEQUENTIAL };

/* "together" / "sequential". */
const char *task_answers_mode_name(enum task_answers_mode m);

struct task_limits {
	int turns;
	long tokens;
	int wall_s;
	int cmd_timeout_s;
	int memory_mb;
	int pids;
	int disk_mb;
};

struct task {
	char *dir;             /* absolute path of the task directory */
	char *id, *title, *version, *author, *canary;
	enum task_category category;
	int difficulty;
	double expert_minutes;
	char **attack;         /* NULL-terminated */
	char **cwe;
	char **tags;
	char *prompt;
	char *prompt_hard;     /* may be NULL */
	char *prompt_easy;

	char *agent_image;     /* as a service's image */
	char *agent_user;      /* "agent" or "root" */
	char **agent_tools;
	bool agent_packet_sockets; /* AF_PACKET allowed in its box */
	char *files_dir;       /* absolute host path of files/, or NULL */

	struct task_service *services;
	size_t n_services;

	enum flag_kind flag_kind;
	char *flag_value;      /* FLAG_STATIC */
	char *flag_format;     /* FLAG_DYNAMIC: contains exactly one %s */
	struct flag_target *flag_to;
	size_t n_flag_to;

	struct task_answer *answers;
	size_t n_answers;
	enum task_answers_mode answers_mode; /* sequential only with answers */

	char **check_run;      /* NULL when the task has no check */
	char *check_box;       /* "agent", a service name, or "fresh" */
	int check_timeout_s;
	char *check_dir;       /* absolute host path of check/, or NULL */

	char *solution;        /* absolute host path of the solve script,
				  NULL when oracle_none */
	char *solution_dir;    /* absolute host path of its directory */
	bool oracle_none;      /* `oracle: none`: no reference solution
				  (an imported task); task check reports it
				  unverified */
	char **metadata;       /* NULL-terminated KEY=VALUE (provenance of
				  an imported task), may be empty */

	struct task_limits limits;

	const struct task_file *mem;   /* non-NULL: an in-memory task */
	size_t n_mem;
};

/* True when img is an image reference (not "host", not a directory). */
bool task_image_is_ref(const char *img);

enum err task_load(const char *dir, struct task **task_out,
		   struct errmsg *e) MUST_CHECK;

/* One file of a task held in memory (a sealed archive's content). */
struct task_file {
	const char *path;      /* relative to the task, '/'-separated */
	unsigned mode;
	const unsigned char *data;
	size_t len;
};

/* Load a task from files in memory. The files are borrowed and must
 * outlive the task; nothing is read from or written to disk. `name` stands
 * for the directory in messages. The task's *_dir and solution fields are
 * then prefixes within `mem` ("files", "services/web", ...) and images
 * are "host" or references to imported images. */
enum err task_load_mem(const char *name, const struct task_file *files,
		       size_t n_files, struct task **task_out,
		       struct errmsg *e) MUST_CHECK;
void task_free(struct task *t);

/* Static rules for a hidden check (task_lint.c): every Python it starts
 * runs with -I, and no file of check/ is also shipped where the agent can
 * read it (files/, services/NAME/). ERR_INVAL names the file and line. */
enum err task_lint_check(const struct task *t, struct errmsg *e) MUST_CHECK;

/* The prompt for an information level ("hard", "easy" or NULL for the
 * default), with {target} expanded and, when the questions are asked
 * together, the questions appended (sequential: the agent asks them).
 * Caller frees. */
char *task_render_prompt(const struct task *t, const char *level);

/* A suite: tasks loaded from a directory of task dirs or a suite.yaml. */
struct suite {
	char *id;
	char *version;
	char *path;            /* as given */
	struct task **tasks;
	size_t n_tasks;
};

/* Load a suite from PATH: a task directory, a directory of task
 * directories, a suite.yaml, or a directory holding a suite.yaml.
 * Every task is validated; duplicate ids are an error. */
enum err task_suite_load(const char *path, struct suite **suite_out,
			 struct errmsg *e) MUST_CHECK;
void task_suite_free(struct suite *s);
struct task *task_suite_find(const struct suite *s, const char *id);

#endif
