/*
 * import_json.c - a JSON source document (InterCode's ic_ctf.json, NYU CTF
 * Bench's challenge.json, Cybench's metadata.json) as a ytree, so every
 * importer reads one kind of tree. jansson parses; this file only walks.
 * Strings become quoted scalars, numbers and booleans plain ones, null
 * the plain scalar "null". Nesting and node count have the ytree caps;
 * jansson's values never leave this file.
 */
#include "task/import.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

struct jwalk {
	const char *name;
	size_t nodes;
	struct errmsg *e;
};

static struct ynode *scalar(const char *s, bool quoted)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = YNODE_SCALAR;
	n->line = 1;
	n->quoted = quoted;
	n->str = xstrdup(s);
	return n;
}

static enum err convert(struct jwalk *w, json_t *j, int depth,
			struct ynode **out);

static enum err convert_obj(struct jwalk *w, json_t *j, int depth,
			    struct ynode *n)
{
	const char *k;
	json_t *v;
	enum err rc;

	n->kind = YNODE_MAP;
	n->pairs = xcalloc(json_object_size(j) + 1, sizeof(*n->pairs));
	json_object_foreach(j, k, v) {
		n->pairs[n->n].key = scalar(k, true);
		n->n++;
		if ((rc = convert(w, v, depth + 1, &n->pairs[n->n - 1].val)))
			return rc;
	}
	return ERR_OK;
}

static enum err convert_arr(struct jwalk *w, json_t *j, int depth,
			    struct ynode *n)
{
	enum err rc;

	n->kind = YNODE_SEQ;
	n->items = xcalloc(json_array_size(j) + 1, sizeof(*n->items));
	for (size_t i = 0; i < json_array_size(j); i++) {
		n->n++;
		if ((rc = convert(w, json_array_get(j, i), depth + 1,
				  &n->items[i])))
			return rc;
	}
	return ERR_OK;
}

static enum err convert(struct jwalk *w, json_t *j, int depth,
			struct ynode **out)
{
	char num[64];
	struct ynode *n;

	*out = NULL;
	if (depth > YTREE_MAX_DEPTH || ++w->nodes > YTREE_MAX_NODES)
		return err_set(w->e, ERR_LIMIT, "%s: nested deeper than %d or "
			       "more than %d values", w->name, YTREE_MAX_DEPTH,
			       YTREE_MAX_NODES);
	switch (json_typeof(j)) {
	case JSON_STRING:
		*out = scalar(json_string_value(j), true);
		return ERR_OK;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(j));
		*out = scalar(num, false);
		return ERR_OK;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		*out = scalar(num, false);
		return ERR_OK;
	case JSON_TRUE:
	case JSON_FALSE:
		*out = scalar(json_is_true(j) ? "true" : "false", false);
		return ERR_OK;
	case JSON_NULL:
		*out = scalar("null", false);
		return ERR_OK;
	default:
		break;
	}
	n = *out = xcalloc(1, sizeof(*n));
	n->line = 1;
	if (json_is_object(j))
		return convert_obj(w, j, depth, n);
	return convert_arr(w, j, depth, n);
}

enum err import_json_tree(const char *name, const char *data, size_t len,
			  struct ynode **root_out, struct errmsg *e)
{
	struct jwalk w = { .name = name, .e = e };
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	struct ynode *root = NULL;
	enum err rc;

	if (!j)
		return err_set(e, ERR_PARSE, "%s:%d: %s", name, je.line, je.text);
	rc = convert(&w, j, 0, &root);
	json_decref(j);
	if (rc) {
		ytree_free(root);
		return rc;
	}
	*root_out = root;
	return ERR_OK;
}
