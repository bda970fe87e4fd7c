#include "ytree.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fsutil.h"
#include "xalloc.h"
#include "base/banned.h"

struct parser {
	yaml_parser_t yp;
	const char *name;
	size_t nodes;
	struct errmsg *e;
};

static enum err parse_node(struct parser *p, yaml_event_t *ev, int depth,
			   struct ynode **out);

static struct ynode *node_new(enum ynode_kind kind, const yaml_event_t *ev)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = (int)ev->start_mark.line + 1;
	return n;
}

static enum err next_event(struct parser *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->yp, ev)) {
		int line = (int)p->yp.problem_mark.line + 1;
		return err_set(p->e, ERR_PARSE, "%s:%d: %s", p->name, line,
			       p->yp.problem ? p->yp.problem : "invalid YAML");
	}
	return ERR_OK;
}

static enum err check_limits(struct parser *p, const yaml_event_t *ev,
			     int depth)
{
	int line = (int)ev->start_mark.line + 1;

	if (depth > YTREE_MAX_DEPTH)
		return err_set(p->e, ERR_LIMIT, "%s:%d: nesting deeper than %d",
			       p->name, line, YTREE_MAX_DEPTH);
	if (++p->nodes > YTREE_MAX_NODES)
		return err_set(p->e, ERR_LIMIT, "%s:%d: more than %d nodes",
			       p->name, line, YTREE_MAX_NODES);
	return ERR_OK;
}

/* The next node inside a sequence or mapping (*out), or NULL in *out
 * at the event that ends it (end). */
static enum err next_node(struct parser *p, yaml_event_type_t end, int depth,
			  struct ynode **out)
{
	yaml_event_t ev;
	enum err rc = next_event(p, &ev);

	if (rc)
		return rc;
	*out = NULL;
	if (ev.type != end)
		rc = parse_node(p, &ev, depth + 1, out);
	yaml_event_delete(&ev);
	return rc;
}

static enum err parse_seq(struct parser *p, struct ynode *n, int depth)
{
	size_t cap = 0;

	for (;;) {
		struct ynode *child;
		enum err rc = next_node(p, YAML_SEQUENCE_END_EVENT, depth, &child);

		if (rc || !child)
			return rc;
		n->items = xgrow(n->items, &cap, n->n + 1, sizeof(*n->items));
		n->items[n->n++] = child;
	}
}

static enum err parse_map(struct parser *p, struct ynode *n, int depth)
{
	size_t cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct ynode *key, *val;
		enum err rc = next_node(p, YAML_MAPPING_END_EVENT, depth, &key);

		if (rc || !key)
			return rc;
		if (key->kind != YNODE_SCALAR) {
			rc = err_set(p->e, ERR_PARSE,
				     "%s:%d: mapping keys must be scalars",
				     p->name, key->line);
			ytree_free(key);
			return rc;
		}
		if (ymap_get(n, key->str)) {
			rc = err_set(p->e, ERR_PARSE, "%s:%d: duplicate key '%s'",
				     p->name, key->line, key->str);
			ytree_free(key);
			return rc;
		}
		rc = next_event(p, &ev);
		if (rc == ERR_OK) {
			rc = parse_node(p, &ev, depth + 1, &val);
			yaml_event_delete(&ev);
		}
		if (rc) {
			ytree_free(key);
			return rc;
		}
		n->pairs = xgrow(n->pairs, &cap, n->n + 1, sizeof(*n->pairs));
		n->pairs[n->n].key = key;
		n->pairs[n->n].val = val;
		n->n++;
	}
}

static enum err parse_node(struct parser *p, yaml_event_t *ev, int depth,
			   struct ynode **out)
{
	struct ynode *n;
	enum err rc;
	int line = (int)ev->start_mark.line + 1;

	rc = check_limits(p, ev, depth);
	if (rc)
		return rc;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			break;
		n = node_new(YNODE_SCALAR, ev);
		n->str = xstrndup((const char *)ev->data.scalar.value,
				  ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		*out = n;
		return ERR_OK;
	case YAML_SEQUENCE_START_EVENT:
		if (ev->data.sequence_start.anchor)
			break;
		n = node_new(YNODE_SEQ, ev);
		rc = parse_seq(p, n, depth);
		goto done;
	case YAML_MAPPING_START_EVENT:
		if (ev->data.mapping_start.anchor)
			break;
		n = node_new(YNODE_MAP, ev);
		rc = parse_map(p, n, depth);
		goto done;
	case YAML_ALIAS_EVENT:
		return err_set(p->e, ERR_PARSE,
			       "%s:%d: YAML aliases are not allowed", p->name,
			       line);
	default:
		return err_set(p->e, ERR_PARSE, "%s:%d: unexpected YAML event",
			       p->name, line);
	}
	return err_set(p->e, ERR_PARSE, "%s:%d: YAML anchors are not allowed",
		       p->name, line);
done:
	if (rc) {
		ytree_free(n);
		return rc;
	}
	*out = n;
	return ERR_OK;
}

/* Skip stream/document start, parse one node, reject a second document. */
static enum err parse_document(struct parser *p, struct ynode **root_out)
{
	yaml_event_t ev;
	struct ynode *root = NULL;
	enum err rc;

	for (;;) {
		rc = next_event(p, &ev);
		if (rc)
			goto fail;
		if (ev.type == YAML_STREAM_START_EVENT ||
		    ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		break;
	}
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		root = node_new(YNODE_MAP, &ev);
		*root_out = root;
		return ERR_OK;
	}
	rc = parse_node(p, &ev, 0, &root);
	yaml_event_delete(&ev);
	if (rc)
		goto fail;
	rc = next_event(p, &ev);
	if (rc)
		goto fail;
	yaml_event_delete(&ev); /* DOCUMENT_END */
	rc = next_event(p, &ev);
	if (rc)
		goto fail;
	if (ev.type != YAML_STREAM_END_EVENT) {
		rc = err_set(p->e, ERR_PARSE, "%s:%d: more than one YAML document",
			     p->name, (int)ev.start_mark.line + 1);
		yaml_event_delete(&ev);
		goto fail;
	}
	yaml_event_delete(&ev);
	*root_out = root;
	return ERR_OK;
fail:
	ytree_free(root);
	return rc;
}

enum err ytree_parse(const char *name, const char *data, size_t len,
		     struct ynode **root_out, struct errmsg *e)
{
	struct parser p = { .name = name, .e = e };
	enum err rc;

	if (!yaml_parser_initialize(&p.yp))
		return err_set(e, ERR_NOMEM, "%s: cannot initialise YAML parser",
			       name);
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)data, len);
	rc = parse_document(&p, root_out);
	yaml_parser_delete(&p.yp);
	return rc;
}

enum err ytree_load(const char *path, size_t max, struct ynode **root_out,
		    struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc;

	rc = file_read(path, max, &data, &len, e);
	if (rc)
		return rc;
	rc = ytree_parse(path, data, len, root_out, e);
	free(data);
	return rc;
}

void ytree_free(struct ynode *n)
{
	if (!n)
		return;
	free(n->str);
	for (size_t i = 0; n->kind == YNODE_SEQ && i < n->n; i++)
		ytree_free(n->items[i]);
	for (size_t i = 0; n->kind == YNODE_MAP && i < n->n; i++) {
		ytree_free(n->pairs[i].key);
		ytree_free(n->pairs[i].val);
	}
	free(n->items);
	free(n->pairs);
	free(n);
}

struct ynode *ymap_get(const struct ynode *m, const char *key)
{
	if (!m || m->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->pairs[i].key->str, key) == 0)
			return m->pairs[i].val;
	return NULL;
}

bool yscalar_is_null(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || n->quoted)
		return false;
	return !*n->str || !strcmp(n->str, "~") || !strcmp(n->str, "null");
}

const char *ynode_kind_name(enum ynode_kind k)
{
	return k == YNODE_SCALAR ? "a scalar" : k == YNODE_SEQ ? "a list" : "a mapping";
}
