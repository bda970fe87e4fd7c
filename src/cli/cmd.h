/*
 * cmd.h - one function per `assay` command, one file per command.
 *
 * Commands print, exit codes are theirs to choose:
 *   0 ok, 1 run finished but the determination says additional scrutiny
 *   (with --fail-on-scrutiny), 2 usage or bad input, 3 runtime error.
 */
#ifndef ASSAY_CMD_H
#define ASSAY_CMD_H

#include "base/err.h"

enum exit_code { EXIT_OK = 0, EXIT_SCRUTINY = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);   /* argv[0] is the command name */
	const char *summary;
};

/* Print "assay: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map an error code to the exit code: bad input is usage, the rest runtime. */
int cli_exit_for(enum err code);

struct store;
/* Open the journal at path (NULL = default) with transcripts encrypted at
 * rest (clistore.c). Every command opens the store through this. */
enum err cli_store_open(const char *path, struct store **st_out,
			struct errmsg *e) MUST_CHECK;

int cmd_run(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_task(int argc, char **argv);
/* `assay suite exposure` (cmd_exposure.c), dispatched by cmd_suite. */
int suite_exposure(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
