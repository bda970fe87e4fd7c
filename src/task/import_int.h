/*
 * import_int.h - the importers' common model of one task (filled by each
 * import_FORMAT.c, written by import_write.c) and shared helpers.
 */
#ifndef ASSAY_IMPORT_INT_H
#define ASSAY_IMPORT_INT_H

#include "task/import.h"

#define IMP_MAX_SERVICES 8
#define IMP_MAX_PORTS 16
#define IMP_MAX_ANSWERS 64
#define IMP_DOC_MAX (4u << 20)      /* one source document */
#define IMP_DEFAULT_MINUTES 30
#define IMP_DEFAULT_DIFFICULTY 2

/* One file to place: copied from a host path inside SRC, or literal. */
struct imp_file {
	char *src;             /* host path (regular file or directory), or NULL */
	char *data;            /* literal content when src is NULL */
	size_t len;
	char *dest;            /* relative to the task directory */
};

struct imp_svc {
	char *name, *image;
	char *user;            /* or NULL (root) */
	char **run, **env;     /* NULL-terminated; env KEY=VALUE */
	int ports[IMP_MAX_PORTS];
	size_t n_ports;
	char **ready_cmd;      /* or NULL */
	int ready_port;        /* 0: none */
};

struct imp_answer {
	char *question, *answer;
	char **hints;
};

struct imp_task {
	char *id, *title, *author, *category;
	char *prompt, *prompt_hard, *prompt_easy;
	int difficulty;        /* 0: default */
	double minutes;        /* 0: default */
	char **tags, **attack, **meta;   /* meta KEY=VALUE */
	char *agent_image, *agent_user;
	struct imp_svc svc[IMP_MAX_SERVICES];
	size_t n_svc;
	char *flag;            /* static flag, or NULL */
	struct imp_answer ans[IMP_MAX_ANSWERS];
	size_t n_ans;
	bool sequential;       /* answers_mode: sequential */
	struct imp_file *files;
	size_t n_files, cap_files;
	char *solve;           /* path of the solve script inside the task
				  ("solution/solve.sh"), NULL: oracle none */
	char **check_run;      /* or NULL */
	int wall_s, memory_mb; /* 0: default */
	enum import_refusal refused;
	char *why;
	bool unimported_image; /* refused only because a named image is not
				  imported: written with the reference */
};

/* Shared state of one import. */
struct imp_ctx {
	const char *src;       /* SRC as given */
	const char *dir;       /* output directory */
	const struct import_opts *o;
	struct import_result *res;
	char **written;        /* ids listed in suite.yaml */
	size_t n_written;
};

/* The per-format entry points (import_FORMAT.c). */
enum err task_import_inspect_cyber(struct imp_ctx *c, struct errmsg *e) MUST_CHECK;
enum err task_import_cybench(struct imp_ctx *c, struct errmsg *e) MUST_CHECK;
enum err task_import_intercode(struct imp_ctx *c, struct errmsg *e) MUST_CHECK;
enum err task_import_nyu_ctf(struct imp_ctx *c, struct errmsg *e) MUST_CHECK;
enum err task_import_harbor(struct imp_ctx *c, struct errmsg *e) MUST_CHECK;

/* ---- import_util.c ---- */
void task_imp_task_init(struct imp_task *t);
void task_imp_task_release(struct imp_task *t);
/* First refusal wins; returns false so callers can `return task_imp_refuse()`. */
bool task_imp_refuse(struct imp_task *t, enum import_refusal r, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));
void task_imp_strv_add(char ***v, const char *s);
void task_imp_meta(struct imp_task *t, const char *key, const char *val);
void task_imp_tag(struct imp_task *t, const char *tag);
void task_imp_file_path(struct imp_task *t, const char *src, const char *dest);
void task_imp_file_data(struct imp_task *t, const char *data, size_t len,
			const char *dest);
/* A source string as an id part: [a-z0-9-], at most max characters. */
char *task_imp_slug(const char *s, size_t max);
/* A free-text category ("Web Exploitation", "reverse") as an assay one
 * ("web", "rev"), "misc" when nothing matches. */
const char *task_imp_category(const char *s);
/* Scalar text of m[key], NULL when absent or not a scalar. */
const char *task_imp_str(const struct ynode *m, const char *key);
/* Load a document of SRC as a tree: JSON, YAML or TOML by kind. */
enum imp_doc { IMP_JSON, IMP_YAML, IMP_TOML };
enum err task_imp_load(const char *path, enum imp_doc kind, struct ynode **out,
		       struct errmsg *e) MUST_CHECK;
/* The text names a host on the internet: a URL that is not loopback or
 * a dotted name ending in a common TLD (picoctf.net). */
bool task_imp_mentions_remote(const char *s);
/* Every file named `name` under dir (at most 8 levels, no links
 * followed, hidden directories skipped), sorted. */
char **task_imp_find(const char *dir, const char *name);
/* Import every file named `name` under c->src (task_imp_find) with one;
 * ERR_NOTFOUND, "no NAME under 'SRC'", when there is none. */
enum err task_imp_each(struct imp_ctx *c, const char *name,
		       void (*one)(struct imp_ctx *c, const char *path),
		       struct errmsg *e);
/* a with every `from` replaced by `to`. Caller frees. */
char *task_imp_replace(const char *a, const char *from, const char *to);
/* path relative to src when it lies under it (no leading '/'), else path. */
const char *task_imp_rel(const char *path, const char *src);
/* path is a regular file (no symlink on its last component). */
bool task_imp_is_file(const char *path);
bool task_imp_is_dir(const char *path);

/* A source's image name ("org/name:tag") as an assay image reference:
 * lower case, every character outside [a-z0-9._:-] becomes '-'.
 * Caller frees. */
char *task_imp_image_ref(const char *name);

/* ---- import_compose.c ---- */
/* Services of a compose document: the default one (named "default",
 * else x-default: true, else the first; or the one named `agent_name`
 * when not NULL) becomes the agent box, the others services. Refusals go
 * into t. */
void task_imp_compose(struct imp_task *t, const struct ynode *compose,
		      const char *agent_name);
/* The compose file of dir (docker-compose.yml, docker-compose.yaml,
 * compose.yml or compose.yaml, the first that is a file), loaded; NULL
 * when there is none. One that does not parse is refused into t (and NULL
 * is returned). Caller frees with ytree_free. */
struct ynode *task_imp_compose_file(struct imp_task *t, const char *dir);

/* ---- import_write.c ---- */
/* Fill defaults (tagged), check images, write DIR/ID and load it back
 * with task_load; records the outcome in c->res. */
void task_imp_emit(struct imp_ctx *c, struct imp_task *t, const char *source);

#endif
