/*
 * prices.c - the price table (data/prices.yaml): USD per million tokens
 * for input, output and cached input, and the context window, per model.
 *
 *   models:
 *     openai/gpt-4o: {input: 2.5, output: 10, cached_input: 1.25,
 *                     context_window: 128000}
 *
 * Where no table is named, $ASSAY_PRICES, else data/prices.yaml as the
 * one data-file lookup finds it (path_data_file, base/fsutil.h: the
 * source tree, beside the executable, the installed share/assay). No table
 * at all is not an error: every model's cost is then unknown.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/ytree.h"
#include "model/model_int.h"
#include "base/num.h"
#include "base/banned.h"

#define PRICES_MAX_BYTES ((size_t)1 << 20)

struct price_entry {
	char *name;
	struct price p;
};

struct price_table {
	struct price_entry *e;
	size_t n;
};

void model_price_table_free(struct price_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	free(t);
}

static enum err get_num(const char *file, const struct ynode *m,
			const char *key, bool required, double max,
			double *out, struct errmsg *e)
{
	const struct ynode *v = ymap_get(m, key);
	double d;

	if (!v) {
		if (required)
			return err_set(e, ERR_PARSE, "%s:%d: missing '%s'",
				       file, m->line, key);
		*out = 0;
		return ERR_OK;
	}
	if (v->kind != YNODE_SCALAR || !v->str[0])
		return err_set(e, ERR_PARSE, "%s:%d: '%s' must be a number",
			       file, v->line, key);
	if (!num_double(v->str, 0, max, &d))
		return err_set(e, ERR_PARSE,
			       "%s:%d: '%s' must be a number from 0 to %g",
			       file, v->line, key, max);
	*out = d;
	return ERR_OK;
}

static enum err parse_entry(const char *file, const struct ypair *pr,
			    struct price_entry *pe, struct errmsg *e)
{
	const struct ynode *m = pr->val;
	double cw = 0;
	enum err rc;

	if (m->kind != YNODE_MAP)
		return err_set(e, ERR_PARSE, "%s:%d: price of '%s' must be a map",
			       file, m->line, pr->key->str);
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->pairs[i].key->str;
		if (strcmp(k, "input") && strcmp(k, "output") &&
		    strcmp(k, "cached_input") && strcmp(k, "context_window"))
			return err_set(e, ERR_PARSE, "%s:%d: unknown field '%s'",
				       file, m->pairs[i].key->line, k);
	}
	rc = get_num(file, m, "input", true, 1e6, &pe->p.input, e);
	if (!rc)
		rc = get_num(file, m, "output", true, 1e6, &pe->p.output, e);
	if (!rc)
		rc = get_num(file, m, "cached_input", false, 1e6,
			     &pe->p.cached_input, e);
	if (!rc)
		rc = get_num(file, m, "context_window", false, 1e9, &cw, e);
	if (rc)
		return rc;
	if (!ymap_get(m, "cached_input"))
		pe->p.cached_input = pe->p.input;
	pe->p.context_window = (int64_t)cw;
	pe->name = xstrdup(pr->key->str);
	return ERR_OK;
}

static enum err from_tree(const char *file, const struct ynode *root,
			  struct price_table *t, struct errmsg *e)
{
	const struct ynode *models = ymap_get(root, "models");

	if (root->kind != YNODE_MAP || !models || models->kind != YNODE_MAP)
		return err_set(e, ERR_PARSE, "%s: expected a map 'models'",
			       file);
	t->e = xcalloc(models->n ? models->n : 1, sizeof(*t->e));
	for (size_t i = 0; i < models->n; i++) {
		enum err rc = parse_entry(file, &models->pairs[i], &t->e[i], e);
		if (rc)
			return rc;
		t->n++;
	}
	return ERR_OK;
}

enum err model_price_table_parse(const char *name, const char *data, size_t len,
				 struct price_table **t_out, struct errmsg *e)
{
	struct ynode *root = NULL;
	struct price_table *t;
	enum err rc;

	rc = ytree_parse(name, data, len, &root, e);
	if (rc)
		return rc;
	t = xcalloc(1, sizeof(*t));
	rc = from_tree(name, root, t, e);
	ytree_free(root);
	if (rc) {
		model_price_table_free(t);
		return rc;
	}
	*t_out = t;
	return ERR_OK;
}

static enum err load_file(const char *path, struct price_table **t_out,
			  struct errmsg *e)
{
	char *data = NULL;
	size_t len = 0;
	enum err rc;

	rc = file_read(path, PRICES_MAX_BYTES, &data, &len, e);
	if (rc) {
		err_prefix(e, "price table");
		return rc;
	}
	rc = model_price_table_parse(path, data, len, t_out, e);
	free(data);
	return rc;
}

static char *default_path(void)
{
	const char *env = getenv("ASSAY_PRICES");

	if (env && *env)
		return xstrdup(env);
	return path_data_file("data/prices.yaml");
}

enum err model_price_table_load(const char *path, struct price_table **t_out,
				struct errmsg *e)
{
	char *def = NULL;
	enum err rc;

	*t_out = NULL;
	if (!path) {
		def = default_path();
		if (!def)
			return ERR_OK;
		path = def;
	}
	rc = load_file(path, t_out, e);
	free(def);
	return rc;
}

static const struct price_entry *find_exact(const struct price_table *t,
					    const char *name, size_t n)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->e[i].name) == n && !strncmp(t->e[i].name, name, n))
			return &t->e[i];
	return NULL;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* Length of name without a "-2024-08-06", "-20250514" or "-latest"
 * suffix; the full length when there is none. */
static size_t strip_version(const char *name)
{
	size_t n = strlen(name);

	if (n > 11 && name[n - 11] == '-' && name[n - 6] == '-' &&
	    name[n - 3] == '-' && all_digits(name + n - 10, 4) &&
	    all_digits(name + n - 5, 2) && all_digits(name + n - 2, 2))
		return n - 11;
	if (n > 9 && name[n - 9] == '-' && all_digits(name + n - 8, 8))
		return n - 9;
	if (n > 7 && !strcmp(name + n - 7, "-latest"))
		return n - 7;
	return n;
}

bool model_price_table_find(const struct price_table *t, const char *name,
			    struct price *p_out)
{
	const struct price_entry *pe;

	if (!t)
		return false;
	pe = find_exact(t, name, strlen(name));
	if (!pe)
		pe = find_exact(t, name, strip_version(name));
	if (!pe)
		return false;
	*p_out = pe->p;
	return true;
}

double model_price_cost(const struct price *p, const struct model_usage *u)
{
	long cached = u->cached_tokens < 0 ? 0 : u->cached_tokens;
	long uncached = u->prompt_tokens - cached;

	if (uncached < 0)
		uncached = 0;
	return ((double)uncached * p->input +
		(double)cached * p->cached_input +
		(double)(u->completion_tokens < 0 ? 0 : u->completion_tokens) *
			p->output) /
	       1e6;
}
