/*
 * cli.h - the command line: one tree of commands and subcommands, one
 * option table per command, one parser, one way to fail.
 *
 * Every command is a `struct cli_cmd` with a table of `struct cli_opt`.
 * The dispatcher (cli.c) walks argv down the tree (`assay task check`),
 * parses the options of the command it reaches against its table and
 * calls run() with the parsed values; usage lines, `--help`, `assay help
 * CMD` and docs/CLI.md (`assay help --markdown-all`) are all generated
 * from the same tables, so they cannot drift from what is parsed.
 *
 * Conventions (git's and curl's):
 *   --name VALUE, --name=VALUE, -x VALUE, -xVALUE; flags cluster (-qv);
 *   options and operands mix in any order; `--` ends the options;
 *   `-h`/`--help` anywhere before `--` prints the help on stdout, exit 0;
 *   a word that reads as an option (-x, --x) is never a value (write
 *   --name=-x); a repeated flag counts once; an unknown option, a repeated
 *   single-value option, an empty or bad value, an empty, missing or extra
 *   operand is a usage error naming the word, exit 2.
 * Every command also takes the common options -q/--quiet, -v/--verbose
 * and -h/--help.
 *
 * Values are borrowed from argv (or the tables) and live as long as the
 * process; a list's array is owned by struct cli_args.
 */
#ifndef ASSAY_CLI_H
#define ASSAY_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

enum cli_kind {
	CLI_FLAG,     /* no argument: true when given */
	CLI_STR,      /* a string */
	CLI_INT,      /* a whole number in [lo, hi] (base/num.h) */
	CLI_REAL,     /* a finite decimal number in [rlo, rhi] */
	CLI_CHOICE,   /* one of choices, "a|b|c" */
	CLI_LIST,     /* a string, repeatable: every value is kept in order */
};

enum cli_opt_flags {
	CLI_REQUIRED = 1 << 0,   /* the command cannot run without it */
	CLI_DOC_DEFAULT = 1 << 1, /* def describes the default; not parsed */
	CLI_HIDDEN = 1 << 2,     /* parsed, but not in help or docs */
	CLI_PATH_FILE = 1 << 3,  /* a path (not a URL) that is no directory */
	CLI_PATH_EXISTS = 1 << 4, /* a path (not a URL) that exists */
	CLI_PATH_DIR = 1 << 5,   /* a path that, if it exists, is a directory */
	CLI_DASH_STDOUT = 1 << 6, /* "-" is stdout: given, but reads as unset */
};

struct cli_opt {
	const char *name;        /* long name, without "--" */
	char short_name;         /* 0: none */
	enum cli_kind kind;
	const char *arg;         /* metavariable in help ("N"); NULL: choices */
	const char *def;         /* default value (parsed like a given one
				  * unless CLI_DOC_DEFAULT); NULL: none */
	const char *help;        /* one line, lower case, no full stop */
	long long lo, hi;        /* CLI_INT range */
	double rlo, rhi;         /* CLI_REAL range */
	const char *choices;     /* CLI_CHOICE: "a|b|c" */
	unsigned flags;          /* enum cli_opt_flags */
};

struct cli_val {
	bool given;              /* on the command line */
	bool set;                /* given, or has a parsed default */
	const char *str;         /* STR, CHOICE; the text of INT and REAL */
	long long i;             /* INT */
	double d;                /* REAL */
	const char **list;       /* LIST, in command-line order */
	size_t n;                /* LIST length */
};

struct cli_cmd;

struct cli_args {
	const struct cli_cmd *cmd;
	char path[64];           /* "assay task check" */
	struct cli_val *v;       /* one per cmd->opts entry */
	char **pos;              /* the operands */
	int npos;
	bool quiet, verbose;     /* the common options */
};

/* A command is data. Every cmd_*.c writes out its option table, its
 * descriptors (one per subcommand), the struct its options are parsed
 * into and one run function per subcommand in full, as git's command
 * table does, so these files repeat one shape with other names and help
 * text (a duplicate-code scan pairs them). That is by design: what they
 * share is in this header and cli.c, and a macro or a generic table would
 * hide the help text each entry exists to carry. */
struct cli_cmd {
	const char *name;
	const char *summary;     /* one line, lower case */
	const char *operands;    /* usage of the operands ("RUN"); NULL: none */
	int min_pos, max_pos;    /* operand count; max_pos < 0: any */
	const struct cli_opt *opts;
	size_t nopts;
	int (*run)(const struct cli_args *a);
	const struct cli_cmd *const *subs; /* a group: NULL-terminated */
	const char *notes;       /* paragraphs after the options; may be NULL */
};

#define CLI_OPTS(t) .opts = (t), .nopts = sizeof(t) / sizeof((t)[0])

/* The options many commands share, spelled once: the journal of a command
 * that may create it, and of one that only reads (or amends) it. */
#define CLI_STORE_DEFAULT "$ASSAY_STORE, else $XDG_DATA_HOME/assay/assay.db " \
	"or ~/.local/share/assay/assay.db"
#define CLI_OPT_STORE { .name = "store", .kind = CLI_STR, .arg = "PATH", \
	.def = CLI_STORE_DEFAULT, .flags = CLI_DOC_DEFAULT | CLI_PATH_FILE, \
	.help = "the journal: a SQLite file (created if need be) or a " \
	"postgres:// URL" }
#define CLI_OPT_STORE_READ { .name = "store", .kind = CLI_STR, .arg = "PATH", \
	.def = CLI_STORE_DEFAULT, \
	.flags = CLI_DOC_DEFAULT | CLI_PATH_FILE | CLI_PATH_EXISTS, \
	.help = "the journal: an existing SQLite file or a postgres:// URL" }
#define CLI_OPT_PROGRESS { .name = "progress", .kind = CLI_CHOICE, \
	.def = "bar on a terminal, else line", .help = "how progress is shown " \
	"on stderr (none with --quiet or --json)", .choices = "none|line|bar", \
	.flags = CLI_DOC_DEFAULT }
#define CLI_OPT_JSON { .name = "json", .kind = CLI_FLAG, \
	.help = "print JSON on stdout instead of text (docs/FORMAT-cli-json.md)" }
#define CLI_OPT_LOG { .name = "log", .kind = CLI_STR, .arg = "DIR", \
	.def = "$ASSAY_AUDIT_LOG or $ASSAY_HOME/audit", \
	.flags = CLI_DOC_DEFAULT | CLI_PATH_DIR, \
	.help = "the audit log directory" }
#define CLI_OPT_PASSFILE { .name = "passphrase-file", .kind = CLI_STR, \
	.arg = "FILE", .def = "$ASSAY_PASSPHRASE_FILE or $ASSAY_PASSPHRASE", \
	.flags = CLI_DOC_DEFAULT | CLI_PATH_FILE | CLI_PATH_EXISTS, \
	.help = "read the key's passphrase from FILE" }

/* Exit codes (README "Exit codes"). */
enum exit_code {
	EXIT_OK = 0,
	EXIT_SCRUTINY = 1,      /* --fail-on-scrutiny and the determination is
				 * additional scrutiny */
	EXIT_USAGE = 2,         /* usage or bad input: a bad option, a bad
				 * task, policy or signature */
	EXIT_RUNTIME = 3,       /* the environment failed: I/O, store, network */
	EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM; the run can be resumed */
};

/* An environment variable the program reads, for the docs. */
struct cli_env {
	const char *name;
	const char *meaning;
};

/* Run the command argv names in the tree under root (env: the variables
 * for `assay help --markdown-all`); returns the exit code. */
int cli_main(const struct cli_cmd *root, const struct cli_env *env,
	     size_t nenv, int argc, char **argv);

/* Accessors by index into the command's option table. */
bool cli_given(const struct cli_args *a, int id);
bool cli_flag(const struct cli_args *a, int id);
const char *cli_str(const struct cli_args *a, int id);  /* NULL: unset */
long long cli_int(const struct cli_args *a, int id);    /* 0: unset */
double cli_real(const struct cli_args *a, int id);
const char *const *cli_list(const struct cli_args *a, int id, size_t *n);
/* Append option id's values to out[*n_out...]; a usage error (exit code
 * returned) when there are more than max, else 0. */
int cli_list_into(const struct cli_args *a, int id, const char **out,
		  size_t max, size_t *n_out);

/* The same by long name, for commands whose subcommands share one options
 * struct: an option the command's table lacks reads as unset. */
const char *cli_named_str(const struct cli_args *a, const char *name);
long long cli_named_int(const struct cli_args *a, const char *name);
bool cli_named_flag(const struct cli_args *a, const char *name);
const char *const *cli_named_list(const struct cli_args *a, const char *name,
				  size_t *n);

/* Print a confirmation of what was done ("wrote FILE") on stdout, unless
 * the command was given --quiet: -q leaves only errors and the data asked
 * for. */
void cli_note(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Print "assay: MESSAGE" on stderr and return code: how commands fail. */
int cli_fail(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Print e's message and return the exit code for its error code. */
int cli_fail_err(const struct errmsg *e);
/* A usage error of this command: the message, the usage line and the way
 * to the help on stderr; returns EXIT_USAGE. */
int cli_usage(const struct cli_args *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* An id (of a run, an episode, ...) given as s: a whole number from 1 to
 * INT64_MAX into *out. Anything else is a usage error "bad WHAT id 'S'"
 * (cli_usage) and false. */
bool cli_parse_id(const struct cli_args *a, const char *what, const char *s,
		  int64_t *out);

/* Whether stdout/stderr may carry colour: a terminal, NO_COLOR unset or
 * empty, TERM not "dumb". */
bool cli_color(FILE *f);
/* Whether f is a terminal that can redraw a line (TERM is not "dumb"). */
bool cli_tty(FILE *f);

/* Write the help of cmd (path "assay task check") to f. */
void cli_help(FILE *f, const char *path, const struct cli_cmd *cmd);
/* Write docs/CLI.md for the whole tree and its environment to f. */
void cli_markdown(FILE *f, const struct cli_cmd *root,
		  const struct cli_env *env, size_t nenv);

#endif
