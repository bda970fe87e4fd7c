/*
 * task_lint.c - static rules a hidden check must follow so that what the
 * agent controls cannot stand in for what the check relies on.
 *
 *  1. Every Python the check starts runs isolated: `python3 -I` (no
 *     script directory, PYTHON* variables or user site on sys.path, all
 *     of which an agent or a rooted box could have written). Checked in
 *     check.run and in every text file of check/: each word python,
 *     python3 or python3.N used as a command (in a shell line, or as a
 *     string in an argv list) must be followed by -I (or a flag cluster
 *     holding I).
 *  2. Nothing the check keeps to itself is shipped to the agent: no file
 *     of check/ (16 bytes or more) has the content of a file in files/
 *     (the agent's home) or services/NAME/ (reachable by a rooted
 *     service), where the agent could read it all episode long. A
 *     fixture the check keeps a pristine copy of on purpose (the public
 *     files of a site it serves) is named, one path relative to check/
 *     per line, in check/PUBLIC.
 *
 * Whether a check reads data at run time from where the agent's code can
 * reach it (e.g. labels beside the input of the agent's detector) cannot
 * be seen statically; the open suite was audited by hand for it
 * (docs/SECURITY.md).
 */
#include "task/task.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define LINT_FILE_MAX (8u << 20)
#define LINT_FILES_MAX 4096
#define SAME_MIN 16

struct lfile {
	char *path;
	char *data;
	size_t len;
};

struct lset {
	struct lfile *f;
	size_t n, cap;
};

static void lset_free(struct lset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->f[i].path);
		free(s->f[i].data);
	}
	free(s->f);
	memset(s, 0, sizeof(*s));
}

/* Every regular file under dir (no links followed), read. */
static void collect(const char *dir, int depth, struct lset *s)
{
	DIR *dp = depth < 32 ? opendir(dir) : NULL;
	struct dirent *d;

	while (dp && (d = readdir(dp)) && s->n < LINT_FILES_MAX) {
		struct stat sb;
		struct errmsg e;
		char *p;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		p = path_join(dir, d->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			collect(p, depth + 1, s);
		} else if (S_ISREG(sb.st_mode)) {
			if (s->n == s->cap) {
				s->cap = s->cap ? 2 * s->cap : 32;
				s->f = xrealloc(s->f, s->cap * sizeof(*s->f));
			}
			s->f[s->n].path = p;
			p = NULL;
			if (file_read(s->f[s->n].path, LINT_FILE_MAX, &s->f[s->n].data,
				      &s->f[s->n].len, &e) != ERR_OK) {
				s->f[s->n].data = NULL;
				s->f[s->n].len = 0;
			}
			s->n++;
		}
		free(p);
	}
	if (dp)
		closedir(dp);
}

static bool word_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/';
}

/* Is the python command word at p..p+n followed by -I? */
static bool isolated_after(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'' ||
			   *p == ',' || *p == '\\' || *p == '\n'))
		p++;
	if (p + 1 >= end || p[0] != '-' || p[1] == '-')
		return false;
	for (p++; p < end && isalpha((unsigned char)*p); p++)
		if (*p == 'I')
			return true;
	return false;
}

/* Length of a python command word at p (python, python3, python3.11,
 * /usr/bin/python3: the last path component), or 0. */
static size_t python_word(const char *p, const char *end)
{
	const char *q = p;

	if ((size_t)(end - p) < 6 || strncmp(p, "python", 6))
		return 0;
	q += 6;
	while (q < end && (isdigit((unsigned char)*q) || *q == '.'))
		q++;
	if (q < end && word_char((unsigned char)*q))
		return 0;       /* python3-foo, pythonic, python3.py */
	if (q > p + 6 && q[-1] == '.')
		return 0;
	return (size_t)(q - p);
}

static bool is_shell(const char *path, const char *data, size_t len)
{
	size_t n = strlen(path);

	if (n > 3 && !strcmp(path + n - 3, ".sh"))
		return true;
	return len > 2 && data[0] == '#' && data[1] == '!' &&
	       (memmem(data, len < 80 ? len : 80, "sh\n", 3) ||
		memmem(data, len < 80 ? len : 80, "bash", 4));
}

/* First line of a text that runs python without -I: 0 when none. A
 * command word is a whole quoted string ("python3" in an argv list, any
 * file), or in a shell script also a bare word after a separator. */
static int unisolated_line(const char *path, const char *data, size_t len)
{
	const char *end;
	bool shell;
	int line = 1;

	if (!data || memchr(data, 0, len))
		return 0; /* not text */
	end = data + len;
	shell = is_shell(path, data, len);
	for (const char *p = data; p < end; p++) {
		const char *prev = p > data ? p - 1 : "\n";
		char before = *prev;
		bool quoted = before == '"' || before == '\'';
		size_t n;

		if (*p == '\n') {
			line++;
			continue;
		}
		if (!quoted && !(shell && strchr(" \t\n;|&(`/", before)))
			continue;
		n = python_word(p, end);
		if (!n || (quoted && (p + n >= end || p[n] != before)))
			continue;
		/* a shebang names the interpreter only for direct runs */
		if (line == 1 && data[0] == '#' && data[1] == '!')
			continue;
		if (!isolated_after(p + n + quoted, end))
			return line;
		p += n - 1;
	}
	return 0;
}

static enum err rule_isolated(const struct task *t, const struct lset *check,
			      struct errmsg *e)
{
	for (size_t i = 0; t->check_run && t->check_run[i]; i++) {
		const char *a = t->check_run[i], *b = strrchr(a, '/');
		const char *w = b ? b + 1 : a;
		size_t n = python_word(w, w + strlen(w));

		if (n && n == strlen(w) && (!t->check_run[i + 1] ||
		    !isolated_after(t->check_run[i + 1],
				    t->check_run[i + 1] + strlen(t->check_run[i + 1]))))
			return err_set(e, ERR_INVAL, "task '%s': check.run starts "
				       "%s without -I (isolated: nothing the agent "
				       "can write on sys.path)", t->id, a);
	}
	for (size_t i = 0; i < check->n; i++) {
		int line = unisolated_line(check->f[i].path, check->f[i].data,
					   check->f[i].len);

		if (line)
			return err_set(e, ERR_INVAL, "%s:%d: the check runs python "
				       "without -I (isolated: nothing the agent can "
				       "write on sys.path)", check->f[i].path, line);
	}
	return ERR_OK;
}

/* Is check file path (under check_dir) listed in check/PUBLIC? */
static bool declared_public(const struct task *t, const struct lset *check,
			    const char *path)
{
	size_t n = strlen(t->check_dir), k;
	const char *rel = path + n + 1, *list = NULL, *end, *p, *q;
	size_t len = 0;

	for (size_t i = 0; i < check->n; i++) {
		const char *f = check->f[i].path;

		if (!strcmp(f + n, "/PUBLIC") && check->f[i].data) {
			list = check->f[i].data;
			len = check->f[i].len;
		}
	}
	if (!list || strncmp(path, t->check_dir, n) || path[n] != '/')
		return false;
	k = strlen(rel);
	for (p = list, end = list + len; p < end; p = q ? q + 1 : end) {
		size_t l;

		q = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((q ? q : end) - p);
		if (l == k && !memcmp(p, rel, k))
			return true;
	}
	return false;
}

static enum err rule_not_shipped(const struct task *t, const struct lset *check,
				 struct errmsg *e)
{
	struct lset vis = { 0 };
	enum err rc = ERR_OK;

	if (t->files_dir)
		collect(t->files_dir, 0, &vis);
	for (size_t i = 0; i < t->n_services; i++)
		if (t->services[i].files_dir)
			collect(t->services[i].files_dir, 0, &vis);
	for (size_t i = 0; i < check->n && !rc; i++) {
		const struct lfile *c = &check->f[i];

		if (!c->data || c->len < SAME_MIN ||
		    declared_public(t, check, c->path))
			continue;
		for (size_t j = 0; j < vis.n && !rc; j++)
			if (vis.f[j].data && vis.f[j].len == c->len &&
			    !memcmp(vis.f[j].data, c->data, c->len))
				rc = err_set(e, ERR_INVAL, "check file '%s' is also "
					     "shipped as '%s', which the agent can "
					     "read", c->path, vis.f[j].path);
	}
	lset_free(&vis);
	return rc;
}

enum err task_lint_check(const struct task *t, struct errmsg *e)
{
	struct lset check = { 0 };
	enum err rc;

	if (!t->check_run)
		return ERR_OK;
	if (t->check_dir && !t->mem)
		collect(t->check_dir, 0, &check);
	rc = rule_isolated(t, &check, e);
	if (!rc)
		rc = rule_not_shipped(t, &check, e);
	lset_free(&check);
	return rc;
}
