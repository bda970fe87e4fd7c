/*
 * main.c - `assay <command>`: the tree of commands (cli.c walks it, as
 * git.c walks its table) and the environment the program reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/cmd.h"
#include "cli/safeout.h"
#include "store/store.h"
#include "base/banned.h"

#ifndef ASSAY_BUILD_INFO
#define ASSAY_BUILD_INFO "unknown build"
#endif

static const struct cli_cmd *const commands[] = {
	&cli_cmd_run, &cli_cmd_resume, &cli_cmd_runs, &cli_cmd_show,
	&cli_cmd_report, &cli_cmd_task, &cli_cmd_suite, &cli_cmd_keys,
	&cli_cmd_audit, &cli_cmd_verify, &cli_cmd_import, &cli_cmd_export,
	&cli_cmd_serve, &cli_cmd_admin, &cli_cmd_episode, &cli_cmd_image,
	&cli_cmd_worker, &cli_cmd_human, NULL,
};

static const struct cli_cmd root = {
	.name = "assay",
	.summary = "evaluate AI models for cyber capability in sealed, "
		   "sandboxed task suites",
	.subs = commands,
	.notes = "'assay --version' prints the version, the build and the "
		 "journal's schema version.\n",
};

/* Every variable the program reads (docs/CLI.md lists them). */
static const struct cli_env env[] = {
	{ "ASSAY_LOG", "how much is logged on stderr: debug, info, warn "
	  "(default), error or quiet; --verbose and --quiet override it" },
	{ "ASSAY_HOME", "the home of keys, the audit log and the at-rest key "
	  "(default ~/.assay)" },
	{ "ASSAY_KEYS", "the key directory (default $ASSAY_HOME/keys)" },
	{ "ASSAY_AUDIT_LOG", "the audit log directory (default "
	  "$ASSAY_HOME/audit)" },
	{ "ASSAY_STORE_KEY", "the file of the key that encrypts transcripts at "
	  "rest (default $ASSAY_HOME/store.key, created on first use)" },
	{ "ASSAY_IMAGES", "the image store (default "
	  "$XDG_DATA_HOME/assay/images or ~/.local/share/assay/images)" },
	{ "ASSAY_PASSPHRASE", "the passphrase of encrypted secret keys" },
	{ "ASSAY_PASSPHRASE_FILE", "a file holding that passphrase" },
	{ "ASSAY_PRICES", "the model price table (default data/prices.yaml)" },
	{ "ASSAY_SOURCE_DIR", "the source tree, for the shipped policies, "
	  "prices and data when the binary runs from a build directory" },
	{ "ASSAY_LEASE_TTL_S", "seconds a run's lease lasts without a "
	  "heartbeat before another process may take the run over" },
	{ "ASSAY_STORE", "the default journal: a SQLite file or a "
	  "postgres:// URL (before $XDG_DATA_HOME)" },
	{ "PGOPTIONS", "server options of PostgreSQL sessions (libpq's); "
	  "replaces assay's defaults: sessions idle in a transaction end "
	  "after 60 s, server keepalives after 10 s" },
	{ "ASSAY_INIT", "the in-box init binary (default: beside assay)" },
	{ "OPENAI_API_KEY", "the key for openai/ models (or --key-file)" },
	{ "OPENAI_BASE_URL", "the endpoint for openai/ models (or --base-url)" },
	{ "ANTHROPIC_API_KEY", "the key for anthropic/ models (or --key-file)" },
	{ "ANTHROPIC_BASE_URL", "the endpoint for anthropic/ models (or "
	  "--base-url)" },
	{ "XDG_DATA_HOME", "the default journal is "
	  "$XDG_DATA_HOME/assay/assay.db (else ~/.local/share/assay/assay.db)" },
	{ "NO_COLOR", "assay prints no colour; NO_COLOR is honoured by "
	  "construction" },
	{ "TERM", "TERM=dumb draws progress as plain lines, never a redrawn "
	  "bar" },
	{ "HOME", "where ~/.assay and ~/.local/share/assay are" },
	{ "USER", "the author written by 'assay task new'" },
};

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
static int set_log_level(void)
{
	static const char *const names[] = { "debug", "info", "warn", "error",
					     "quiet" };
	const char *v = getenv("ASSAY_LOG");

	if (!v || !*v)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i])) {
			log_set_level((enum log_level)i);
			return 0;
		}
	return cli_fail(EXIT_USAGE, "ASSAY_LOG='%s' is not one of debug, "
			"info, warn, error or quiet", v);
}

int main(int argc, char **argv)
{
	int rc;

	raise_nofile();
	if ((rc = set_log_level()))
		return rc;
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		if (argc > 2)
			return cli_fail(EXIT_USAGE, "--version takes no "
					"argument: unexpected argument '%s'",
					argv[2]);
		printf("assay %s\nbuild %s\nstore schema %d\n", ASSAY_VERSION,
		       ASSAY_BUILD_INFO, store_schema_version());
		return fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
	}
	cli_safe_stdout();  /* no byte of a box's or a model's on stdout raw */
	rc = cli_main(&root, env, ARRAY_SIZE(env), argc, argv);
	cli_safe_stdout_end();
	return rc;
}
