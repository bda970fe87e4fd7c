/*
 * ytree.h - a YAML document as a plain tree with line numbers.
 *
 * libyaml's header lives only in ytree.c; task manifests, suites and policy
 * files are read through this tree so every error can say FILE:LINE.
 * Anchors and aliases are rejected (no billion-laughs), nesting is capped
 * at YTREE_MAX_DEPTH and the node count at YTREE_MAX_NODES.
 * The tree owns all its strings; ytree_free() releases everything.
 */
#ifndef ASSAY_YTREE_H
#define ASSAY_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 100000

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode;

struct ypair {
	struct ynode *key; /* always a scalar */
	struct ynode *val;
};

struct ynode {
	enum ynode_kind kind;
	int line;          /* 1-based */
	bool quoted;       /* scalar was written in quotes */
	char *str;         /* scalar text (NUL-terminated), else NULL */
	size_t n;          /* items or pairs */
	struct ynode **items;
	struct ypair *pairs;
};

/* Parse a YAML document of at most max bytes from memory. `name` is used
 * in messages ("NAME:LINE: ..."). An empty document gives an empty map. */
enum err ytree_parse(const char *name, const char *data, size_t len,
		     struct ynode **root_out, struct errmsg *e) MUST_CHECK;
enum err ytree_load(const char *path, size_t max, struct ynode **root_out,
		    struct errmsg *e) MUST_CHECK;
void ytree_free(struct ynode *n);

/* Map lookup by key; NULL when absent or when m is not a map. */
struct ynode *ymap_get(const struct ynode *m, const char *key);
/* Scalar is YAML null (~, null, empty unquoted). */
bool yscalar_is_null(const struct ynode *n);
const char *ynode_kind_name(enum ynode_kind k);

#endif
