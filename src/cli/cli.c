/*
 * cli.c - the dispatcher, the option parser, help and docs generation
 * (see cli.h for the conventions).
 */
#include "cli/cli.h"

#include "cli/cmd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bug.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/num.h"
#include "base/safetext.h"
#include "base/xalloc.h"
#include "store/store.h"
#include "base/banned.h"

/* The options every command takes besides its table. */
enum { COMMON_QUIET = -1, COMMON_VERBOSE = -2, COMMON_HELP = -3, NONE = -100 };

static const struct cli_opt common[] = {
	{ .name = "quiet", .short_name = 'q', .kind = CLI_FLAG,
	  .help = "print only errors and the data asked for" },
	{ .name = "verbose", .short_name = 'v', .kind = CLI_FLAG,
	  .help = "log debug detail on stderr (as ASSAY_LOG=debug)" },
	{ .name = "help", .short_name = 'h', .kind = CLI_FLAG,
	  .help = "print this help on stdout and exit" },
};

#define HELP_COL 30

/* ---- failing ---- */

static void vsay(const char *prefix, const char *fmt, va_list ap)
	PRINTF_LIKE(2, 0);

/* One line on stderr. Messages quote boxes and models (a tar's stderr, a
 * reply, a file name of a suite): every control but tab is escaped
 * (base/safetext.h), newlines included, so a message is one line. */
static void say_line(const char *prefix, const char *msg, size_t n)
{
	char *clean = safe_text(msg, n, SAFE_KEEP_TAB, NULL);

	fprintf(stderr, "%s: %s\n", prefix, clean);
	free(clean);
}

static void vsay(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL;
	int n = vasprintf(&msg, fmt, ap);

	say_line(prefix, n < 0 ? "" : msg, n < 0 ? 0 : (size_t)n);
	free(msg);
}

static bool quiet_notes;   /* the running command's --quiet */

void cli_note(const char *fmt, ...)
{
	va_list ap;

	if (quiet_notes)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("assay", fmt, ap);
	va_end(ap);
	return code;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("assay", fmt, ap);
	va_end(ap);
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
	case ERR_INTERRUPTED:
		return EXIT_INTERRUPTED;
	default:
		return EXIT_RUNTIME;
	}
}

int cli_fail_err(const struct errmsg *e)
{
	say_line("assay", e->text, strlen(e->text));
	return cli_exit_for(e->code);
}

static void usage_line(FILE *f, const char *path, const struct cli_cmd *c);

int cli_usage(const struct cli_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(a->path, fmt, ap);
	va_end(ap);
	usage_line(stderr, a->path, a->cmd);
	fprintf(stderr, "run '%s --help' for the options\n", a->path);
	return EXIT_USAGE;
}

bool cli_parse_id(const struct cli_args *a, const char *what, const char *s,
		  int64_t *out)
{
	long long v;

	if (!num_ll(s, 1, INT64_MAX, &v)) {
		cli_usage(a, "bad %s id '%s'", what, s);
		return false;
	}
	*out = v;
	return true;
}

bool cli_tty(FILE *f)
{
	const char *term = getenv("TERM");

	return isatty(fileno(f)) && !(term && !strcmp(term, "dumb"));
}

bool cli_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	return !(nc && *nc) && cli_tty(f);
}

/* ---- accessors ---- */

static const struct cli_val *val(const struct cli_args *a, int id)
{
	if (id < 0 || (size_t)id >= a->cmd->nopts)
		BUG("'%s' asked for option %d of %zu", a->path, id, a->cmd->nopts);
	return &a->v[id];
}

bool cli_given(const struct cli_args *a, int id)
{
	return val(a, id)->given;
}

bool cli_flag(const struct cli_args *a, int id)
{
	return val(a, id)->given;
}

const char *cli_str(const struct cli_args *a, int id)
{
	return val(a, id)->set ? val(a, id)->str : NULL;
}

long long cli_int(const struct cli_args *a, int id)
{
	return val(a, id)->set ? val(a, id)->i : 0;
}

double cli_real(const struct cli_args *a, int id)
{
	return val(a, id)->set ? val(a, id)->d : 0;
}

const char *const *cli_list(const struct cli_args *a, int id, size_t *n)
{
	*n = val(a, id)->n;
	return val(a, id)->list;
}

int cli_list_into(const struct cli_args *a, int id, const char **out,
		  size_t max, size_t *n_out)
{
	const struct cli_val *v = val(a, id);

	if (v->n > max)
		return cli_usage(a, "more than %zu --%s", max,
				 a->cmd->opts[id].name);
	for (size_t i = 0; i < v->n; i++)
		out[(*n_out)++] = v->list[i];
	return 0;
}

static int find_long(const struct cli_cmd *c, const char *name, size_t n);

static const struct cli_val *named(const struct cli_args *a, const char *name)
{
	int id = find_long(a->cmd, name, strlen(name));

	return id >= 0 ? &a->v[id] : NULL;
}

const char *cli_named_str(const struct cli_args *a, const char *name)
{
	const struct cli_val *v = named(a, name);

	return v && v->set ? v->str : NULL;
}

long long cli_named_int(const struct cli_args *a, const char *name)
{
	const struct cli_val *v = named(a, name);

	return v && v->set ? v->i : 0;
}

bool cli_named_flag(const struct cli_args *a, const char *name)
{
	const struct cli_val *v = named(a, name);

	return v && v->given;
}

const char *const *cli_named_list(const struct cli_args *a, const char *name,
				  size_t *n)
{
	const struct cli_val *v = named(a, name);

	*n = v ? v->n : 0;
	return v ? v->list : NULL;
}

/* ---- parsing ---- */

struct parser {
	struct cli_args *a;
	const struct cli_cmd *c;
	int argc;
	char **argv;
	int i;                  /* the word being read */
	bool help;
};

static bool choice_ok(const char *choices, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t k = bar ? (size_t)(bar - p) : strlen(p);
		if (k == n && !strncmp(p, s, n))
			return true;
		p += k + (bar != NULL);
	}
	return false;
}

/* "a, b or c" from "a|b|c". */
static void choice_list(const char *choices, char *out, size_t n)
{
	size_t used = 0;
	const char *p = choices;

	out[0] = '\0';
	while (*p && used < n) {
		const char *bar = strchr(p, '|');
		int k = bar ? (int)(bar - p) : (int)strlen(p);
		used += (size_t)snprintf(out + used, n - used, "%s%.*s",
					 p == choices ? "" : bar ? ", " : " or ",
					 k, p);
		p += k + (bar != NULL);
	}
}

/* A URL (SCHEME://...) names no file of this machine. */
static bool is_url(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	return n > 0 && !strncmp(s + n, "://", 3);
}

/* CLI_PATH_FILE, CLI_PATH_DIR, CLI_PATH_EXISTS: what the path a string
 * names must be. */
static int check_path(struct parser *p, const struct cli_opt *o,
		      const char *text)
{
	if (is_url(text))
		return 0;
	if ((o->flags & CLI_PATH_FILE) && is_dir(text))
		return cli_usage(p->a, "bad value for --%s: '%s' is a directory",
				 o->name, text);
	if ((o->flags & CLI_PATH_DIR) && path_exists(text) && !is_dir(text))
		return cli_usage(p->a, "bad value for --%s: '%s' is not a "
				 "directory", o->name, text);
	if ((o->flags & CLI_PATH_EXISTS) && !path_exists(text))
		return cli_usage(p->a, "bad value for --%s: '%s' does not exist",
				 o->name, text);
	return 0;
}

/* "given twice", the values as messages show them: a journal URL's
 * password masked (store_display_name), as every message about it. */
static int repeated(struct parser *p, const struct cli_opt *o,
		    const char *before, const char *text)
{
	char *a = store_display_name(before), *b = store_display_name(text);
	int rc = cli_usage(p->a, "option '--%s' given twice ('%s', then '%s'); "
			   "give it once", o->name, a, b);

	free(a);
	free(b);
	return rc;
}

static int set_value(struct parser *p, int id, const char *text, bool dflt)
{
	const struct cli_opt *o = &p->c->opts[id];
	struct cli_val *v = &p->a->v[id];
	struct errmsg e;
	char list[256];
	int rc;

	if (!dflt && v->given && o->kind != CLI_LIST && o->kind != CLI_FLAG)
		return repeated(p, o, v->str, text);
	if (!*text && (o->kind == CLI_STR || o->kind == CLI_LIST))
		return cli_usage(p->a, "option '--%s' needs a value, not an "
				 "empty word", o->name);
	switch (o->kind) {
	case CLI_FLAG:
		break;
	case CLI_STR:
		if (!dflt && (o->flags & CLI_DASH_STDOUT) && !strcmp(text, "-")) {
			v->str = text;   /* named in a "given twice" */
			v->given = true;
			return 0;
		}
		if (!dflt && (rc = check_path(p, o, text)))
			return rc;
		break;
	case CLI_INT:
		if (num_parse_ll(text, o->lo, o->hi, &v->i, &e))
			return cli_usage(p->a, "bad value for --%s: %s", o->name,
					 e.text);
		break;
	case CLI_REAL:
		if (num_parse_double(text, o->rlo, o->rhi, &v->d, &e))
			return cli_usage(p->a, "bad value for --%s: %s", o->name,
					 e.text);
		break;
	case CLI_CHOICE:
		if (!choice_ok(o->choices, text)) {
			choice_list(o->choices, list, sizeof(list));
			return cli_usage(p->a, "bad value '%s' for --%s; choose "
					 "%s", text, o->name, list);
		}
		break;
	case CLI_LIST:
		v->list = xrealloc(v->list, (v->n + 1) * sizeof(*v->list));
		v->list[v->n++] = text;
		break;
	}
	v->str = text;
	v->set = true;
	v->given = !dflt;
	return 0;
}

static int apply_defaults(struct parser *p)
{
	for (size_t k = 0; k < p->c->nopts; k++) {
		const struct cli_opt *o = &p->c->opts[k];
		if (!o->def || (o->flags & CLI_DOC_DEFAULT) ||
		    o->kind == CLI_FLAG || o->kind == CLI_LIST)
			continue;
		if (set_value(p, (int)k, o->def, true)) {
			fprintf(stderr, "assay: BUG: bad default '%s' of --%s\n",
				o->def, o->name);
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

static int find_long(const struct cli_cmd *c, const char *name, size_t n)
{
	for (size_t k = 0; k < c->nopts; k++)
		if (strlen(c->opts[k].name) == n && !strncmp(c->opts[k].name, name, n))
			return (int)k;
	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		if (strlen(common[k].name) == n && !strncmp(common[k].name, name, n))
			return -1 - (int)k;
	return NONE;
}

static int find_short(const struct cli_cmd *c, char ch)
{
	for (size_t k = 0; k < c->nopts; k++)
		if (c->opts[k].short_name == ch)
			return (int)k;
	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		if (common[k].short_name == ch)
			return -1 - (int)k;
	return NONE;
}

static void set_common(struct parser *p, int id)
{
	if (id == COMMON_QUIET)
		p->a->quiet = true;
	else if (id == COMMON_VERBOSE)
		p->a->verbose = true;
	else
		p->help = true;
}

static bool takes_value(const struct cli_cmd *c, int id)
{
	return id >= 0 && c->opts[id].kind != CLI_FLAG;
}

/* Whether a word reads as an option: "--x" or "-x", not "-", "-1", "-.5". */
static bool looks_like_option(const char *w)
{
	return w[0] == '-' && w[1] && w[1] != '.' && !(w[1] >= '0' && w[1] <= '9');
}

/* The next word as the value of an option: never an option itself
 * (`-o -q` would write a file named "-q"); a negative number is a value. */
static int next_value(struct parser *p, const char *name, int id,
		      const char **out)
{
	const char *w = p->i + 1 < p->argc ? p->argv[p->i + 1] : NULL;

	if (!w)
		return cli_usage(p->a, "option '%s' needs a value", name);
	if (looks_like_option(w))
		return cli_usage(p->a, "option '%s' needs a value, not the "
				 "option '%s' (write --%s=VALUE for a value "
				 "that starts with -)", name, w,
				 p->c->opts[id].name);
	p->i++;
	*out = w;
	return 0;
}

static int long_option(struct parser *p, const char *word)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	int id = find_long(p->c, name, n);
	const char *value = eq ? eq + 1 : NULL;
	char shown[80];

	snprintf(shown, sizeof(shown), "--%.*s", (int)n, name);
	if (id == NONE)
		return cli_usage(p->a, "unknown option '%s'", shown);
	if (!takes_value(p->c, id)) {
		if (eq)
			return cli_usage(p->a, "option '%s' takes no value", shown);
		if (id < 0)
			set_common(p, id);
		else
			return set_value(p, id, "true", false);
		return 0;
	}
	if (!value) {
		int rc = next_value(p, shown, id, &value);
		if (rc)
			return rc;
	}
	return set_value(p, id, value, false);
}

static int short_options(struct parser *p, const char *word)
{
	for (const char *s = word + 1; *s; s++) {
		int id = find_short(p->c, *s);
		char shown[3] = { '-', *s, '\0' };
		const char *value = NULL;   /* set when next_value succeeds */
		int rc;

		if (id == NONE)
			return cli_usage(p->a, "unknown option '%s'", shown);
		if (!takes_value(p->c, id)) {
			if (id < 0)
				set_common(p, id);
			else if ((rc = set_value(p, id, "true", false)))
				return rc;
			continue;
		}
		if (s[1])
			return set_value(p, id, s + 1, false);
		if ((rc = next_value(p, shown, id, &value)))
			return rc;
		return set_value(p, id, value, false);
	}
	return 0;
}

static int operand(struct parser *p, char *w)
{
	p->a->pos[p->a->npos++] = w;
	if (!*w)
		return cli_usage(p->a, "argument %d is empty%s%s%s", p->a->npos,
				 p->c->operands ? " (" : "", p->c->operands ?
				 p->c->operands : "", p->c->operands ? ")" : "");
	return 0;
}

static int parse_words(struct parser *p)
{
	bool options = true;
	int rc;

	for (p->i = 0; p->i < p->argc; p->i++) {
		char *w = p->argv[p->i];
		if (options && !strcmp(w, "--")) {
			options = false;
			continue;
		}
		if (options && w[0] == '-' && w[1] == '-')
			rc = long_option(p, w);
		else if (options && w[0] == '-' && w[1])
			rc = short_options(p, w);
		else
			rc = operand(p, w);
		if (rc)
			return rc;
	}
	return 0;
}

/* `-h` or `--help` as a word before `--`: the help, whatever else is wrong
 * with the words (no value can be such a word: next_value refuses it). */
static bool help_asked(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int check_complete(struct parser *p)
{
	const struct cli_cmd *c = p->c;
	struct cli_args *a = p->a;

	for (size_t k = 0; k < c->nopts; k++)
		if ((c->opts[k].flags & CLI_REQUIRED) && !a->v[k].given)
			return cli_usage(a, "missing option --%s", c->opts[k].name);
	if (a->npos < c->min_pos)
		return cli_usage(a, "missing %s", c->operands ? c->operands :
				 "operand");
	if (c->max_pos >= 0 && a->npos > c->max_pos)
		return cli_usage(a, "unexpected argument '%s'", a->pos[c->max_pos]);
	if (a->quiet && a->verbose)
		return cli_usage(a, "--quiet and --verbose contradict each other");
	return 0;
}

static int run_cmd(const struct cli_cmd *c, const char *path, int argc,
		   char **argv)
{
	struct cli_args a = { .cmd = c };
	struct parser p = { .a = &a, .c = c, .argc = argc, .argv = argv };
	int rc;

	snprintf(a.path, sizeof(a.path), "%s", path);
	a.v = xcalloc(c->nopts + 1, sizeof(*a.v));
	a.pos = xcalloc((size_t)argc + 1, sizeof(*a.pos));
	rc = apply_defaults(&p);
	if (!rc && help_asked(argc, argv))
		p.help = true;
	else if (!rc)
		rc = parse_words(&p);
	if (!rc && p.help) {
		cli_help(stdout, path, c);
		rc = fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
	} else if (!rc && !(rc = check_complete(&p))) {
		if (a.verbose)
			log_set_level(LOG_DEBUG);
		else if (a.quiet)
			log_set_level(LOG_ERROR);
		quiet_notes = a.quiet;
		rc = c->run(&a);
	}
	for (size_t k = 0; k < c->nopts; k++)
		free(a.v[k].list);
	free(a.v);
	free(a.pos);
	return rc;
}

/* ---- help ---- */

static bool has_own_options(const struct cli_cmd *c, bool optional_only)
{
	for (size_t k = 0; k < c->nopts; k++)
		if (!(c->opts[k].flags & CLI_HIDDEN) &&
		    (!optional_only || !(c->opts[k].flags & CLI_REQUIRED)))
			return true;
	return false;
}

static const char *metavar(const struct cli_opt *o)
{
	return o->arg ? o->arg : o->choices ? o->choices : "";
}

static void usage_line(FILE *f, const char *path, const struct cli_cmd *c)
{
	if (c->subs) {
		fprintf(f, "usage: %s <command> [options]\n", path);
		return;
	}
	fprintf(f, "usage: %s", path);
	for (size_t k = 0; k < c->nopts; k++)
		if (c->opts[k].flags & CLI_REQUIRED)
			fprintf(f, " --%s %s", c->opts[k].name, metavar(&c->opts[k]));
	fputs(" [options]", f);
	if (c->operands)
		fprintf(f, " %s%s", c->max_pos >= 0 && c->max_pos > c->min_pos &&
			c->min_pos == 0 ? "[" : "", c->operands);
	if (c->operands && c->max_pos > c->min_pos && c->min_pos == 0)
		fputc(']', f);
	fputc('\n', f);
}

static void option_line(FILE *f, const struct cli_opt *o)
{
	char label[96];
	int n;

	n = snprintf(label, sizeof(label), "  %s%c%s--%s%s%s",
		     o->short_name ? "-" : "   ", o->short_name ? o->short_name : ' ',
		     o->short_name ? ", " : "", o->name,
		     o->kind == CLI_FLAG ? "" : " ", o->kind == CLI_FLAG ? "" :
		     metavar(o));
	if (!o->short_name)   /* "      --store": align with "  -s, --suite" */
		n = snprintf(label, sizeof(label), "      --%s%s%s", o->name,
			     o->kind == CLI_FLAG ? "" : " ",
			     o->kind == CLI_FLAG ? "" : metavar(o));
	fputs(label, f);
	if (n >= HELP_COL - 1)
		fprintf(f, "\n%*s", HELP_COL, "");
	else
		fprintf(f, "%*s", HELP_COL - n, "");
	fputs(o->help, f);
	if (o->flags & CLI_DASH_STDOUT)
		fputs("; - is stdout", f);
	if (o->kind == CLI_LIST)
		fputs("; repeatable", f);
	if (o->flags & CLI_REQUIRED)
		fputs(" (required)", f);
	else if (o->def)
		fprintf(f, " (default: %s)", o->def);
	fputc('\n', f);
}

static void help_group(FILE *f, const char *path, const struct cli_cmd *c)
{
	usage_line(f, path, c);
	fprintf(f, "\n%s\n\ncommands:\n", c->summary);
	for (const struct cli_cmd *const *s = c->subs; *s; s++)
		fprintf(f, "  %-12s %s\n", (*s)->name, (*s)->summary);
	if (c->notes)
		fprintf(f, "\n%s", c->notes);
	fprintf(f, "\nrun '%s <command> --help' (or 'assay help %s%s<command>') "
		"for a command's options\n", path, strcmp(path, "assay") ?
		path + 6 : "", strcmp(path, "assay") ? " " : "");
}

void cli_help(FILE *f, const char *path, const struct cli_cmd *c)
{
	if (c->subs) {
		help_group(f, path, c);
		return;
	}
	usage_line(f, path, c);
	fprintf(f, "\n%s\n", c->summary);
	if (has_own_options(c, false)) {
		fputs("\noptions:\n", f);
		for (size_t k = 0; k < c->nopts; k++)
			if (!(c->opts[k].flags & CLI_HIDDEN))
				option_line(f, &c->opts[k]);
	}
	fputs("\ncommon options:\n", f);
	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		option_line(f, &common[k]);
	if (c->notes)
		fprintf(f, "\n%s", c->notes);
}

/* ---- docs/CLI.md ---- */

static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void md_value(FILE *f, const struct cli_opt *o)
{
	if (o->kind == CLI_FLAG) {
		fputs("—", f);
		return;
	}
	if (o->arg) {
		fputc('`', f);
		md_text(f, o->arg);
		fputc('`', f);
		return;
	}
	for (const char *p = o->choices; *p;) {
		const char *bar = strchr(p, '|');
		int k = bar ? (int)(bar - p) : (int)strlen(p);
		fprintf(f, "%s`%.*s`", p == o->choices ? "" : ", ", k, p);
		p += k + (bar != NULL);
	}
}

static void md_option(FILE *f, const struct cli_opt *o)
{
	fputs("| ", f);
	if (o->short_name)
		fprintf(f, "`-%c`, ", o->short_name);
	fprintf(f, "`--%s` | ", o->name);
	md_value(f, o);
	fputs(" | ", f);
	if (o->flags & CLI_REQUIRED)
		fputs("required", f);
	else if (o->def) {
		fputc('`', f);
		md_text(f, o->def);
		fputc('`', f);
	} else
		fputs("—", f);
	fputs(" | ", f);
	md_text(f, o->help);
	if (o->flags & CLI_DASH_STDOUT)
		fputs("; `-` is stdout", f);
	if (o->kind == CLI_LIST)
		fputs("; repeatable", f);
	fputs(" |\n", f);
}

static void md_command(FILE *f, const char *path, const struct cli_cmd *c)
{
	char sub[64];

	fprintf(f, "## %s\n\n%s.\n\n```\n", path, c->summary);
	usage_line(f, path, c);
	fputs("```\n\n", f);
	if (c->subs) {
		fputs("| command | what it does |\n|---|---|\n", f);
		for (const struct cli_cmd *const *s = c->subs; *s; s++)
			fprintf(f, "| `%s %s` | %s |\n", path, (*s)->name,
				(*s)->summary);
		fputc('\n', f);
	} else if (has_own_options(c, false)) {
		fputs("| option | value | default | meaning |\n"
		      "|---|---|---|---|\n", f);
		for (size_t k = 0; k < c->nopts; k++)
			if (!(c->opts[k].flags & CLI_HIDDEN))
				md_option(f, &c->opts[k]);
		fputc('\n', f);
	}
	if (c->notes)
		fprintf(f, "%s\n", c->notes);
	for (const struct cli_cmd *const *s = c->subs; s && *s; s++) {
		snprintf(sub, sizeof(sub), "%s %s", path, (*s)->name);
		md_command(f, sub, *s);
	}
}

void cli_markdown(FILE *f, const struct cli_cmd *root,
		  const struct cli_env *env, size_t nenv)
{
	fputs("# The assay command line\n\n"
	      "<!-- Generated by `assay help --markdown-all` from the option "
	      "tables in src/cli/; do not edit by hand (tests/integration/"
	      "cli.sh compares). -->\n\n"
	      "Options follow git's and curl's conventions: `--name VALUE` or "
	      "`--name=VALUE`, `-x VALUE` or `-xVALUE`, flags may be "
	      "clustered (`-qv`), options and operands mix in any order, and "
	      "`--` ends the options. A single-value option given twice is an "
	      "error; a repeatable one keeps every value in order; a flag "
	      "given twice counts once. A separate word that reads as an "
	      "option (`-x`, `--x`; not `-` or a negative number) is never "
	      "taken as a value: write `--name=-x`. An empty value or operand, "
	      "an unknown option, a bad value, a missing or an extra operand "
	      "is a usage error naming the word (exit 2); `-h` or `--help` "
	      "anywhere before `--` prints the help instead.\n\n"
	      "Every command also takes the common options:\n\n"
	      "| option | value | default | meaning |\n|---|---|---|---|\n", f);
	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		md_option(f, &common[k]);
	fputs("\n`assay --version` prints the version, the build and the "
	      "journal's schema version.\n\n", f);
	md_command(f, "assay", root);
	fputs("## Environment\n\n| variable | meaning |\n|---|---|\n", f);
	for (size_t k = 0; k < nenv; k++) {
		fprintf(f, "| `%s` | ", env[k].name);
		md_text(f, env[k].meaning);
		fputs(" |\n", f);
	}
	fputs("\n## Exit codes\n\n| code | meaning |\n|---|---|\n"
	      "| 0 | success |\n"
	      "| 1 | the run finished and, with `--fail-on-scrutiny`, the "
	      "determination is additional scrutiny |\n"
	      "| 2 | usage or bad input: an option, a task, a suite, a policy, "
	      "a signature that does not verify, a `task check` that fails |\n"
	      "| 3 | runtime error: I/O, the journal, the network, the sandbox |\n"
	      "| 130 | interrupted (SIGINT or SIGTERM); `assay resume RUN` "
	      "finishes the run |\n", f);
}

/* ---- dispatch ---- */

static const struct cli_cmd *find_sub(const struct cli_cmd *c, const char *name)
{
	for (const struct cli_cmd *const *s = c->subs; s && *s; s++)
		if (!strcmp((*s)->name, name))
			return *s;
	return NULL;
}

static void join(char *path, size_t n, const char *name)
{
	size_t len = strlen(path);

	snprintf(path + len, n - len, " %s", name);
}

static void say(const char *prefix, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void say(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(prefix, fmt, ap);
	va_end(ap);
}

/* The word is the user's: escaped like every message (say_line). */
static int not_a_command(const char *path, const struct cli_cmd *c,
			 const char *word)
{
	if (word[0] == '-')
		say(path, "unknown option '%s'", word);
	else
		say(path, "'%s' is not a command", word);
	usage_line(stderr, path, c);
	fprintf(stderr, "run '%s --help' for the commands\n", path);
	return EXIT_USAGE;
}

/* `assay help [CMD [SUB]]` and the hidden `assay help --markdown-all`. */
static int help_cmd(const struct cli_cmd *root, int argc, char **argv,
		    const struct cli_env *env, size_t nenv)
{
	const struct cli_cmd *c = root;
	char path[64] = "assay";

	if (argc == 1 && !strcmp(argv[0], "--markdown-all")) {
		cli_markdown(stdout, root, env, nenv);
		return fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
	}
	for (int i = 0; i < argc; i++) {
		const struct cli_cmd *s = c->subs ? find_sub(c, argv[i]) : NULL;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			continue;   /* `assay help -h`: the help all the same */
		if (!s) {
			if (!c->subs)
				return cli_fail(EXIT_USAGE, "help: '%s %s' has no "
						"subcommands", path, argv[i]);
			return not_a_command(path, c, argv[i]);
		}
		join(path, sizeof(path), s->name);
		c = s;
	}
	cli_help(stdout, path, c);
	return fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
}

int cli_main(const struct cli_cmd *root, const struct cli_env *env,
	     size_t nenv, int argc, char **argv)
{
	const struct cli_cmd *c = root;
	char path[64] = "assay";
	int i = 1;

	while (c->subs) {
		const char *w = i < argc ? argv[i] : NULL;
		const struct cli_cmd *s;
		if (!w) {
			cli_help(stderr, path, c);
			return EXIT_USAGE;
		}
		if (w[0] == '-' && help_asked(argc - i, argv + i)) {
			cli_help(stdout, path, c);
			return fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
		}
		if (c == root && !strcmp(w, "help"))
			return help_cmd(root, argc - i - 1, argv + i + 1, env, nenv);
		if (!(s = find_sub(c, w)))
			return not_a_command(path, c, w);
		join(path, sizeof(path), s->name);
		c = s;
		i++;
	}
	return run_cmd(c, path, argc - i, argv + i);
}

