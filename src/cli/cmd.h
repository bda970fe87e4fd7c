/*
 * cmd.h - one `struct cli_cmd` per `assay` command, one file per command
 * (the tree and the exit codes are in cli.h; main.c lists the commands).
 */
#ifndef ASSAY_CMD_H
#define ASSAY_CMD_H

#include "base/err.h"
#include "cli/cli.h"

/* Print "assay: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Map an error code to the exit code: bad input is usage, an interruption
 * 130, the rest runtime (verify maps a failed signature to usage). */
int cli_exit_for(enum err code);

struct store;
/* Open the journal at path (NULL = default) with transcripts encrypted at
 * rest (clistore.c). Every command opens the store through this. */
enum err cli_store_open(const char *path, struct store **st_out,
			struct errmsg *e) MUST_CHECK;
/* The same for a command that only reads or amends it: a journal that does
 * not exist is ERR_NOTFOUND, never created. */
enum err cli_store_open_read(const char *path, struct store **st_out,
			     struct errmsg *e) MUST_CHECK;

/* The policy file for --policy ARG: a path, else the shipped policy named
 * ARG (policies/ARG.yaml); NULL: the shipped default. Prints and returns
 * EXIT_USAGE when there is none, else 0 with *path_out to free. */
int cli_policy_resolve(const char *arg, char **path_out);

extern const struct cli_cmd cli_cmd_run;
extern const struct cli_cmd cli_cmd_resume;
extern const struct cli_cmd cli_cmd_runs;
extern const struct cli_cmd cli_cmd_show;
extern const struct cli_cmd cli_cmd_report;
extern const struct cli_cmd cli_cmd_task;
extern const struct cli_cmd cli_cmd_suite;
/* `assay suite exposure` (cmd_exposure.c), listed by cli_cmd_suite. */
extern const struct cli_cmd cli_cmd_suite_exposure;
extern const struct cli_cmd cli_cmd_keys;
/* `assay keys worker-new` and `worker-revoke` (cmd_workerkey.c). */
extern const struct cli_cmd cli_cmd_keys_worker_new;
extern const struct cli_cmd cli_cmd_keys_worker_revoke;
extern const struct cli_cmd cli_cmd_audit;
extern const struct cli_cmd cli_cmd_verify;
extern const struct cli_cmd cli_cmd_import;
extern const struct cli_cmd cli_cmd_export;
extern const struct cli_cmd cli_cmd_serve;
extern const struct cli_cmd cli_cmd_admin;
extern const struct cli_cmd cli_cmd_episode;
extern const struct cli_cmd cli_cmd_image;
extern const struct cli_cmd cli_cmd_worker;
extern const struct cli_cmd cli_cmd_human;

#endif
