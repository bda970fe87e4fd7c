/*
 * import_toml.c - the subset of TOML that Harbor's task.toml uses, as a
 * ytree (docs/IMPORT.md, "TOML subset").
 *
 * Debian ships no C TOML library (only C++ ones: cpptoml, toml11,
 * toml++), so this is a deliberately small, bounded parser
 * (docs/ARCHITECTURE.md): tables `[a.b]`, arrays of tables `[[a.b]]`,
 * `key = value` with bare, quoted and dotted keys, basic and literal
 * strings (single- and multi-line), decimal integers and floats,
 * booleans, arrays (across lines) and one-line inline tables. Dates,
 * times, hex/octal/binary integers, inf and nan are refused with the
 * line. Input is capped by the caller (IMP_DOC_MAX); nesting at
 * TOML_MAX_DEPTH, values at YTREE_MAX_NODES, a key path at 8 parts.
 * Duplicate keys are errors. Strings become quoted scalars, the rest
 * plain ones, so importers read numbers and strings as they would YAML.
 * Fuzzed by fuzz/fuzz_import.c.
 */
#include "task/import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define TOML_MAX_DEPTH 16
#define TOML_MAX_PATH 8
#define TOML_MAX_STR (1u << 20)

struct tp {
	const char *name, *p, *end;
	int line;
	size_t nodes;
	struct errmsg *e;
};

static enum err bad(struct tp *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum err bad(struct tp *t, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(t->e, ERR_PARSE, "%s:%d: %s", t->name, t->line, msg);
}

static struct ynode *node(struct tp *t, enum ynode_kind k)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	t->nodes++;
	n->kind = k;
	n->line = t->line;
	return n;
}

static int peek(const struct tp *t)
{
	return t->p < t->end ? (unsigned char)*t->p : -1;
}

static void skip_ws(struct tp *t)
{
	while (peek(t) == ' ' || peek(t) == '\t')
		t->p++;
}

/* Spaces, newlines and comments (inside arrays). */
static void skip_all(struct tp *t)
{
	for (;;) {
		skip_ws(t);
		if (peek(t) == '#')
			while (peek(t) != -1 && peek(t) != '\n')
				t->p++;
		if (peek(t) == '\r' || peek(t) == '\n') {
			t->line += *t->p == '\n';
			t->p++;
			continue;
		}
		return;
	}
}

static bool starts(const struct tp *t, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(t->end - t->p) >= n && !memcmp(t->p, s, n);
}

static enum err add_utf8(struct tp *t, struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
		return bad(t, "bad unicode escape");
	if (cp < 0x80) { u[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { u[0] = (char)(0xc0 | cp >> 6); n = 2; }
	else if (cp < 0x10000) { u[0] = (char)(0xe0 | cp >> 12); n = 3; }
	else { u[0] = (char)(0xf0 | cp >> 18); n = 4; }
	for (size_t i = 1; i < n; i++)
		u[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	return buf_add(b, u, n) ? bad(t, "string too long") : ERR_OK;
}

static enum err escape(struct tp *t, struct buf *b)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *k;
	int digits;
	unsigned long cp = 0;

	if (peek(t) == -1)
		return bad(t, "unterminated string");
	k = strchr(from, *t->p);
	if (k && *t->p) {
		t->p++;
		return buf_addch(b, to[k - from]) ? bad(t, "string too long") : ERR_OK;
	}
	if (*t->p != 'u' && *t->p != 'U')
		return bad(t, "bad escape '\\%c'", *t->p);
	digits = *t->p++ == 'u' ? 4 : 8;
	for (int i = 0; i < digits; i++, t->p++) {
		if (peek(t) == -1 || !isxdigit((unsigned char)*t->p))
			return bad(t, "bad unicode escape");
		cp = cp * 16 + (unsigned long)(isdigit((unsigned char)*t->p) ?
			*t->p - '0' : (tolower((unsigned char)*t->p) - 'a' + 10));
	}
	return add_utf8(t, b, cp);
}

/* A string of either kind at t->p (the opening quote). */
static enum err string(struct tp *t, char **out)
{
	char q = *t->p;
	bool multi = starts(t, q == '"' ? "\"\"\"" : "'''");
	const char *close = q == '"' ? "\"\"\"" : "'''";
	struct buf b;
	enum err rc = ERR_OK;

	buf_init(&b, TOML_MAX_STR);
	t->p += multi ? 3 : 1;
	if (multi && peek(t) == '\n') {
		t->p++;
		t->line++;
	}
	for (;;) {
		int ch = peek(t);
		if (ch == -1 || (!multi && ch == '\n')) {
			rc = bad(t, "unterminated string");
			break;
		}
		if (multi ? starts(t, close) : ch == q) {
			t->p += multi ? 3 : 1;
			break;
		}
		t->p++;
		t->line += ch == '\n';
		if (ch == '\\' && q == '"')
			rc = escape(t, &b);
		else if (buf_addch(&b, (char)ch))
			rc = bad(t, "string longer than %u bytes", TOML_MAX_STR);
		if (rc)
			break;
	}
	if (rc) {
		buf_release(&b);
		return rc;
	}
	*out = buf_detach(&b, NULL);
	return ERR_OK;
}

static enum err value(struct tp *t, int depth, struct ynode **out);

static enum err bare_key(struct tp *t, char **out)
{
	const char *s = t->p;

	if (peek(t) == '"' || peek(t) == '\'')
		return string(t, out);
	while (peek(t) != -1 && (isalnum((unsigned char)*t->p) || *t->p == '_' ||
				 *t->p == '-'))
		t->p++;
	if (t->p == s)
		return bad(t, "expected a key");
	*out = xstrndup(s, (size_t)(t->p - s));
	return ERR_OK;
}

/* a.b."c" into parts; *n set. */
static enum err key_path(struct tp *t, char **parts, size_t *n)
{
	enum err rc;

	*n = 0;
	for (;;) {
		skip_ws(t);
		if (*n == TOML_MAX_PATH)
			return bad(t, "key path longer than %d parts", TOML_MAX_PATH);
		if ((rc = bare_key(t, &parts[*n])))
			return rc;
		(*n)++;
		skip_ws(t);
		if (peek(t) != '.')
			return ERR_OK;
		t->p++;
	}
}

static void parts_free(char **parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
}

static struct ypair *map_find(struct ynode *m, const char *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->pairs[i].key->str, k))
			return &m->pairs[i];
	return NULL;
}

static void map_add(struct tp *t, struct ynode *m, const char *k,
		    struct ynode *v)
{
	struct ynode *key = node(t, YNODE_SCALAR);

	key->quoted = true;
	key->str = xstrdup(k);
	m->pairs = xrealloc(m->pairs, (m->n + 1) * sizeof(*m->pairs));
	m->pairs[m->n].key = key;
	m->pairs[m->n++].val = v;
}

/* The map at parts[0..n) below m, made where missing; the last element of
 * an array of tables stands for it. */
static enum err descend(struct tp *t, struct ynode *m, char **parts, size_t n,
			struct ynode **out)
{
	for (size_t i = 0; i < n; i++) {
		struct ypair *p = map_find(m, parts[i]);
		if (!p) {
			map_add(t, m, parts[i], node(t, YNODE_MAP));
			p = &m->pairs[m->n - 1];
		}
		m = p->val;
		if (m->kind == YNODE_SEQ && m->n && m->items[m->n - 1]->kind == YNODE_MAP)
			m = m->items[m->n - 1];
		if (m->kind != YNODE_MAP)
			return bad(t, "key '%s' is not a table", parts[i]);
	}
	*out = m;
	return ERR_OK;
}

static enum err inline_table(struct tp *t, int depth, struct ynode *m);

static enum err keyval(struct tp *t, struct ynode *m, int depth)
{
	char *parts[TOML_MAX_PATH];
	size_t n = 0;
	struct ynode *where, *v = NULL;
	enum err rc;

	if ((rc = key_path(t, parts, &n)) ||
	    (rc = descend(t, m, parts, n - 1, &where)))
		goto out;
	skip_ws(t);
	if (peek(t) != '=') {
		rc = bad(t, "expected '=' after key '%s'", parts[n - 1]);
		goto out;
	}
	t->p++;
	skip_ws(t);
	if (map_find(where, parts[n - 1])) {
		rc = bad(t, "duplicate key '%s'", parts[n - 1]);
		goto out;
	}
	if ((rc = value(t, depth, &v)))
		goto out;
	map_add(t, where, parts[n - 1], v);
out:
	parts_free(parts, n);
	return rc;
}

static enum err inline_table(struct tp *t, int depth, struct ynode *m)
{
	enum err rc;

	t->p++;
	skip_ws(t);
	if (peek(t) == '}') {
		t->p++;
		return ERR_OK;
	}
	for (;;) {
		if ((rc = keyval(t, m, depth + 1)))
			return rc;
		skip_ws(t);
		if (peek(t) == '}') {
			t->p++;
			return ERR_OK;
		}
		if (peek(t) != ',')
			return bad(t, "expected ',' or '}' in an inline table");
		t->p++;
		skip_ws(t);
	}
}

static enum err array(struct tp *t, int depth, struct ynode *a)
{
	struct ynode *v;
	enum err rc;

	t->p++;
	for (;;) {
		skip_all(t);
		if (peek(t) == ']') {
			t->p++;
			return ERR_OK;
		}
		if ((rc = value(t, depth + 1, &v)))
			return rc;
		a->items = xrealloc(a->items, (a->n + 1) * sizeof(*a->items));
		a->items[a->n++] = v;
		skip_all(t);
		if (peek(t) == ',')
			t->p++;
		else if (peek(t) != ']')
			return bad(t, "expected ',' or ']' in an array");
	}
}

/* An integer, float or boolean: plain scalar, checked with strtod. */
static enum err plain(struct tp *t, struct ynode **out)
{
	const char *s = t->p;
	char *txt, *end;
	size_t k = 0;

	while (peek(t) != -1 && (isalnum((unsigned char)*t->p) ||
				 strchr("+-._:", *t->p)))
		t->p++;
	txt = xstrndup(s, (size_t)(t->p - s));
	if (strcmp(txt, "true") && strcmp(txt, "false")) {
		for (size_t i = 0; txt[i]; i++)      /* 1_000 -> 1000 */
			if (txt[i] != '_')
				txt[k++] = txt[i];
		txt[k] = '\0';
		(void)strtod(txt, &end);
		if (!*txt || *end || strpbrk(txt, "xXoObBnN:iI") ||
		    (isalpha((unsigned char)txt[0]))) {
			enum err rc = bad(t, "unsupported TOML value '%.40s' "
					  "(dates, hex, inf and nan are not read)",
					  txt);
			free(txt);
			return rc;
		}
	}
	*out = node(t, YNODE_SCALAR);
	(*out)->str = txt;
	return ERR_OK;
}

static enum err value_of(struct tp *t, int depth, struct ynode **out)
{
	if (depth > TOML_MAX_DEPTH || t->nodes > YTREE_MAX_NODES)
		return bad(t, "nested deeper than %d or more than %d values",
			   TOML_MAX_DEPTH, YTREE_MAX_NODES);
	if (peek(t) == '"' || peek(t) == '\'') {
		*out = node(t, YNODE_SCALAR);
		(*out)->quoted = true;
		return string(t, &(*out)->str);
	}
	if (peek(t) == '[') {
		*out = node(t, YNODE_SEQ);
		return array(t, depth, *out);
	}
	if (peek(t) == '{') {
		*out = node(t, YNODE_MAP);
		return inline_table(t, depth, *out);
	}
	return plain(t, out);
}

/* A value; on failure nothing of it is left (*out NULL). */
static enum err value(struct tp *t, int depth, struct ynode **out)
{
	enum err rc;

	*out = NULL;
	if ((rc = value_of(t, depth, out))) {
		ytree_free(*out);
		*out = NULL;
	}
	return rc;
}

/* [a.b] or [[a.b]]: the table that following keys go into. */
static enum err header(struct tp *t, struct ynode *root, struct ynode **cur)
{
	bool aot = starts(t, "[[");
	char *parts[TOML_MAX_PATH];
	size_t n = 0;
	struct ynode *parent;
	struct ypair *p;
	enum err rc;

	t->p += aot ? 2 : 1;
	if ((rc = key_path(t, parts, &n)) ||
	    (rc = descend(t, root, parts, n - 1, &parent)))
		goto out;
	if (!(aot ? starts(t, "]]") : peek(t) == ']')) {
		rc = bad(t, "expected '%s' after a table name", aot ? "]]" : "]");
		goto out;
	}
	t->p += aot ? 2 : 1;
	p = map_find(parent, parts[n - 1]);
	if (!aot && p) {
		*cur = p->val;
		rc = p->val->kind == YNODE_MAP ? ERR_OK :
		     bad(t, "table '%s' is defined twice", parts[n - 1]);
		goto out;
	}
	if (!p) {
		map_add(t, parent, parts[n - 1], node(t, aot ? YNODE_SEQ : YNODE_MAP));
		p = &parent->pairs[parent->n - 1];
	}
	if (aot) {
		if (p->val->kind != YNODE_SEQ) {
			rc = bad(t, "'%s' is not an array of tables", parts[n - 1]);
			goto out;
		}
		p->val->items = xrealloc(p->val->items, (p->val->n + 1) *
					 sizeof(struct ynode *));
		p->val->items[p->val->n++] = node(t, YNODE_MAP);
		*cur = p->val->items[p->val->n - 1];
	} else
		*cur = p->val;
out:
	parts_free(parts, n);
	return rc;
}

static enum err line_end(struct tp *t)
{
	skip_ws(t);
	if (peek(t) == '#')
		while (peek(t) != -1 && peek(t) != '\n')
			t->p++;
	if (peek(t) == '\r')
		t->p++;
	if (peek(t) == -1)
		return ERR_OK;
	if (peek(t) != '\n')
		return bad(t, "unexpected text after a value");
	t->p++;
	t->line++;
	return ERR_OK;
}

enum err import_toml_tree(const char *name, const char *data, size_t len,
			  struct ynode **root_out, struct errmsg *e)
{
	struct tp t = { .name = name, .p = data, .end = data + len, .line = 1,
			.e = e };
	struct ynode *root = node(&t, YNODE_MAP), *cur = root;
	enum err rc = ERR_OK;

	if (memchr(data, '\0', len))
		rc = bad(&t, "NUL byte in the document");
	while (rc == ERR_OK) {
		skip_all(&t);
		if (peek(&t) == -1)
			break;
		if (peek(&t) == '[')
			rc = header(&t, root, &cur);
		else
			rc = keyval(&t, cur, 0);
		if (rc == ERR_OK)
			rc = line_end(&t);
	}
	if (rc) {
		ytree_free(root);
		return rc;
	}
	*root_out = root;
	return ERR_OK;
}
