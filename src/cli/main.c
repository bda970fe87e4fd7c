/*
 * main.c - `assay <command>`: dispatch through a table (as git.c does).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/log.h"
#include "cli/cmd.h"

static const struct cmd commands[] = {
	{ "run", cmd_run, "run a suite against a model" },
	{ "resume", cmd_resume, "finish an interrupted run" },
	{ "runs", cmd_runs, "list runs" },
	{ "show", cmd_show, "show a run, an episode or a transcript" },
	{ "report", cmd_report, "report a run" },
	{ "task", cmd_task, "check or scaffold tasks" },
	{ "suite", cmd_suite, "seal, list or unseal a suite archive" },
	{ "keys", cmd_keys, "signing and custodian keys, approvals, signatures" },
	{ "audit", cmd_audit, "the audit log: entries, proofs, checkpoints" },
	{ "verify", cmd_verify, "verify a signed result, an archive or the audit log" },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("assay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_exit_for(enum err code)
{
	switch (code) {
	case ERR_OK:
		return EXIT_OK;
	case ERR_INVAL:
	case ERR_PARSE:
	case ERR_NOTFOUND:
		return EXIT_USAGE;
	default:
		return EXIT_RUNTIME;
	}
}

static void usage(FILE *f)
{
	fputs("usage: assay <command> [options]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nrun 'assay <command> --help' for a command's options\n", f);
}

/* A thousand live episodes need a few thousand descriptors (a model
 * connection and an exec channel each): lift the soft limit to the hard. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ASSAY_LOG=debug|info|warn|error|quiet: how much goes to stderr. */
static void set_log_level(void)
{
	static const char *const names[] = { "debug", "info", "warn", "error",
					     "quiet" };
	const char *v = getenv("ASSAY_LOG");

	for (size_t i = 0; v && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i]))
			log_set_level((enum log_level)i);
}

int main(int argc, char **argv)
{
	raise_nofile();
	set_log_level();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("assay %s\n", ASSAY_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
