/*
 * task.c - load and validate a task directory (docs/FORMAT-task.md).
 */
#include "task/task.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "task/task_int.h"
#include "base/num.h"
#include "base/banned.h"

#define MANIFEST_MAX (1 << 20)

static const char *const category_names[CAT__COUNT] = {
	"pwn", "web", "crypto", "rev", "forensics", "misc",
	"patch", "detect", "triage", "harden",
};

const char *task_category_name(enum task_category c)
{
	return (unsigned)c < CAT__COUNT ? category_names[c] : "?";
}

bool task_category_is_defense(enum task_category c)
{
	return c >= CAT_PATCH && c < CAT__COUNT;
}

bool task_category_valid(const char *s)
{
	for (int i = 0; i < CAT__COUNT; i++)
		if (!strcmp(s, category_names[i]))
			return true;
	return false;
}

static enum err parse_category(struct tctx *c, const struct ynode *m,
			       struct task *t)
{
	char *s;
	enum err rc = task_get_str(c, m, "category", true, &s);

	if (rc)
		return rc;
	for (int i = 0; i < CAT__COUNT; i++)
		if (!strcmp(s, category_names[i])) {
			t->category = (enum task_category)i;
			free(s);
			return ERR_OK;
		}
	rc = task_fail(c, ymap_get(m, "category"),
		       "unknown category '%s' (want "
		       "pwn web crypto rev forensics misc patch detect triage "
		       "harden)",
		       s);
	free(s);
	return rc;
}

static bool is_guid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };

	for (size_t g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return false;
		if (g < 4 && *s++ != '-')
			return false;
	}
	return *s == '\0';
}

static enum err parse_minutes(struct tctx *c, const struct ynode *m,
			      struct task *t)
{
	const struct ynode *v = ymap_get(m, "expert_minutes");

	if (!v)
		return task_fail(c, m, "missing field 'expert_minutes'");
	if (v->kind != YNODE_SCALAR || v->quoted)
		return task_fail(c, v, "field 'expert_minutes' must be a number");
	if (!num_double(v->str, 0, 100000, &t->expert_minutes) ||
	    !(t->expert_minutes > 0))
		return task_fail(c, v,
				 "field 'expert_minutes' must be a number in "
				 "(0, 100000], not '%s'",
				 v->str);
	return ERR_OK;
}

static enum err check_ids(struct tctx *c, const struct ynode *m,
			  const char *key, char **v, const char *prefix)
{
	for (size_t i = 0; v[i]; i++) {
		const char *s = v[i];
		size_t n = strlen(prefix);
		if (strncmp(s, prefix, n) || !isdigit((unsigned char)s[n]))
			return task_fail(c, ymap_get(m, key),
					 "'%s' is not a valid "
					 "%s id",
					 s, key);
	}
	return ERR_OK;
}

static enum err parse_labels(struct tctx *c, const struct ynode *m,
			     struct task *t)
{
	enum err rc;

	if ((rc = task_get_strv(c, m, "attack", true, &t->attack)) ||
	    (rc = check_ids(c, m, "attack", t->attack, "T")) ||
	    (rc = task_get_strv(c, m, "cwe", false, &t->cwe)) ||
	    (rc = check_ids(c, m, "cwe", t->cwe, "CWE-")) ||
	    (rc = task_get_strv(c, m, "tags", false, &t->tags)))
		return rc;
	if (!t->attack[0])
		return task_fail(c, ymap_get(m, "attack"),
				 "'attack' must name at "
				 "least one ATT&CK technique");
	for (size_t i = 0; t->tags[i]; i++)
		if (!task_valid_name(t->tags[i], 64))
			return task_fail(c, ymap_get(m, "tags"), "bad tag '%s'",
					 t->tags[i]);
	return ERR_OK;
}

static enum err parse_prompts(struct tctx *c, const struct ynode *m,
			      struct task *t)
{
	static const char *const keys[] = { "hard", "easy", NULL };
	const struct ynode *p = ymap_get(m, "prompts");
	enum err rc;

	if ((rc = task_get_str(c, m, "prompt", true, &t->prompt)))
		return rc;
	if (!*t->prompt)
		return task_fail(c, ymap_get(m, "prompt"), "prompt must not be empty");
	if (!p || yscalar_is_null(p))
		return ERR_OK;
	if ((rc = task_get_map(c, p, "'prompts'")) ||
	    (rc = task_check_keys(c, p, "prompts", keys)) ||
	    (rc = task_get_str(c, p, "hard", false, &t->prompt_hard)) ||
	    (rc = task_get_str(c, p, "easy", false, &t->prompt_easy)))
		return rc;
	return ERR_OK;
}

static enum err parse_agent(struct tctx *c, const struct ynode *m,
			    struct task *t)
{
	static const char *const keys[] = { "image", "user", "tools",
					    "packet_sockets", NULL };
	const struct ynode *a = ymap_get(m, "agent");
	char *img = NULL;
	enum err rc;

	t->agent_image = xstrdup("host");
	t->agent_user = xstrdup("agent");
	t->agent_tools = xcalloc(1, sizeof(char *));
	if (!a || yscalar_is_null(a))
		return ERR_OK;
	if ((rc = task_get_map(c, a, "'agent'")) ||
	    (rc = task_check_keys(c, a, "agent", keys)) ||
	    (rc = task_get_str(c, a, "image", false, &img)))
		return rc;
	free(img);
	if (ymap_get(a, "image")) {
		free(t->agent_image);
		t->agent_image = NULL;
		if ((rc = task_parse_image(c, a, t->dir, &t->agent_image)))
			return rc;
	}
	if (ymap_get(a, "user")) {
		free(t->agent_user);
		if ((rc = task_get_str(c, a, "user", true, &t->agent_user)))
			return rc;
		if (strcmp(t->agent_user, "agent") && strcmp(t->agent_user, "root"))
			return task_fail(c, ymap_get(a, "user"), "agent user must be "
					 "'agent' or 'root', not '%s'", t->agent_user);
	}
	if ((rc = task_get_bool(c, a, "packet_sockets", &t->agent_packet_sockets)))
		return rc;
	free(t->agent_tools);
	return task_get_strv(c, a, "tools", false, &t->agent_tools);
}

static bool is_hex64(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
			return false;
	return n == 64;
}

static enum err parse_answer(struct tctx *c, const struct ynode *m,
			     struct task_answer *a)
{
	static const char *const keys[] = { "question", "answer",
					    "answer_sha256", "hints", NULL };
	enum err rc;

	if ((rc = task_get_map(c, m, "an answer")) ||
	    (rc = task_check_keys(c, m, "answer", keys)) ||
	    (rc = task_get_str(c, m, "question", true, &a->question)) ||
	    (rc = task_get_str(c, m, "answer", false, &a->answer)) ||
	    (rc = task_get_str(c, m, "answer_sha256", false, &a->answer_sha256)) ||
	    (rc = task_get_strv(c, m, "hints", false, &a->hints)))
		return rc;
	if (!a->answer == !a->answer_sha256)
		return task_fail(c, m, "an answer needs exactly one of 'answer' and "
				 "'answer_sha256'");
	if (a->answer_sha256 && !is_hex64(a->answer_sha256))
		return task_fail(c, ymap_get(m, "answer_sha256"),
				 "'answer_sha256' "
				 "must be 64 lower-case hex digits");
	return ERR_OK;
}

/* The same steps as task_parse_services() (task_parts.c) for another
 * element type: a checked list, then one parsed entry each. */
static enum err parse_answers(struct tctx *c, const struct ynode *n,
			      struct task *t)
{
	enum err rc;
	bool none;

	if ((rc = task_get_coll(c, n, YNODE_SEQ, "answers", 64, "answers",
				&none)) || none)
		return rc;
	t->answers = xcalloc(n->n ? n->n : 1, sizeof(*t->answers));
	for (size_t i = 0; i < n->n; i++) {
		t->n_answers = i + 1;
		if ((rc = parse_answer(c, n->items[i], &t->answers[i])))
			return rc;
	}
	return ERR_OK;
}

const char *task_answers_mode_name(enum task_answers_mode m)
{
	return m == TASK_ANSWERS_SEQUENTIAL ? "sequential" : "together";
}

static enum err parse_answers_mode(struct tctx *c, const struct ynode *root,
				   struct task *t)
{
	const struct ynode *n = ymap_get(root, "answers_mode");
	char *v = NULL;
	enum err rc = task_get_str(c, root, "answers_mode", false, &v);

	if (rc || !v)
		return rc;
	if (!strcmp(v, "sequential"))
		t->answers_mode = TASK_ANSWERS_SEQUENTIAL;
	else if (strcmp(v, "together"))
		rc = task_fail(c, n, "field 'answers_mode' must be 'together' or "
			       "'sequential', not '%.64s'", v);
	free(v);
	if (rc == ERR_OK && t->answers_mode == TASK_ANSWERS_SEQUENTIAL &&
	    !t->n_answers)
		rc = task_fail(c, n, "'answers_mode: sequential' needs questions "
			       "in 'answers'");
	return rc;
}

static bool check_box_ok(const struct task *t, const char *box)
{
	if (!strcmp(box, "agent") || !strcmp(box, "fresh"))
		return true;
	for (size_t i = 0; i < t->n_services; i++)
		if (!strcmp(box, t->services[i].name))
			return true;
	return false;
}

static enum err parse_check(struct tctx *c, const struct ynode *n,
			    struct task *t)
{
	static const char *const keys[] = { "run", "box", "timeout_s", NULL };
	long timeout = 60;
	enum err rc;

	if (!n || yscalar_is_null(n))
		return ERR_OK;
	if ((rc = task_get_map(c, n, "'check'")) ||
	    (rc = task_check_keys(c, n, "check", keys)) ||
	    (rc = task_get_strv(c, n, "run", true, &t->check_run)) ||
	    (rc = task_get_str(c, n, "box", false, &t->check_box)) ||
	    (rc = task_get_int(c, n, "timeout_s", 1, 3600, &timeout)))
		return rc;
	if (!t->check_run[0])
		return task_fail(c, n, "'check.run' must not be empty");
	if (!t->check_box)
		t->check_box = xstrdup("agent");
	if (!check_box_ok(t, t->check_box))
		return task_fail(c, ymap_get(n, "box"), "check box '%s' is not "
				 "'agent', 'fresh' or a service", t->check_box);
	t->check_timeout_s = (int)timeout;
	rc = task_path(c, n, t->dir, "check", true, &t->check_dir);
	if (rc == ERR_OK && !task_is_dir(c, t->check_dir))
		rc = task_fail(c, n, "'check/' must be a directory");
	return rc;
}

static enum err parse_limits(struct tctx *c, const struct ynode *n,
			     struct task_limits *l)
{
	static const char *const keys[] = { "turns", "tokens", "wall_s",
		"cmd_timeout_s", "memory_mb", "pids", "disk_mb", NULL };
	long turns = 30, tokens = 200000, wall = 900, cmd = 60, mem = 512,
	     pids = 256, disk = 256;
	enum err rc = ERR_OK;

	if (n && !yscalar_is_null(n)) {
		if ((rc = task_get_map(c, n, "'limits'")) ||
		    (rc = task_check_keys(c, n, "limits", keys)) ||
		    (rc = task_get_int(c, n, "turns", 1, 1000, &turns)) ||
		    (rc = task_get_int(c, n, "tokens", 1, 100000000, &tokens)) ||
		    (rc = task_get_int(c, n, "wall_s", 1, 86400, &wall)) ||
		    (rc = task_get_int(c, n, "cmd_timeout_s", 1, 3600, &cmd)) ||
		    (rc = task_get_int(c, n, "memory_mb", 16, 65536, &mem)) ||
		    (rc = task_get_int(c, n, "pids", 8, 65536, &pids)) ||
		    (rc = task_get_int(c, n, "disk_mb", 1, 65536, &disk)))
			return rc;
	}
	*l = (struct task_limits){ (int)turns, tokens, (int)wall, (int)cmd,
				   (int)mem, (int)pids, (int)disk };
	return ERR_OK;
}

/* `oracle: none` stands for the solution of a task that has none (an
 * imported task whose source ships no runnable one). */
static enum err parse_oracle(struct tctx *c, const struct ynode *m,
			     struct task *t)
{
	char *v;
	enum err rc = task_get_str(c, m, "oracle", false, &v);

	if (rc || !v)
		return rc;
	if (strcmp(v, "none"))
		rc = task_fail(c, ymap_get(m, "oracle"), "field 'oracle' can only be "
			       "'none', not '%s'", v);
	else if (ymap_get(m, "solution"))
		rc = task_fail(c, ymap_get(m, "oracle"), "'oracle: none' and "
			       "'solution' exclude each other");
	t->oracle_none = rc == ERR_OK;
	free(v);
	return rc;
}

static enum err parse_solution(struct tctx *c, const struct ynode *m,
			       struct task *t)
{
	char *rel, *slash;
	enum err rc = parse_oracle(c, m, t);

	if (rc || t->oracle_none)
		return rc;
	if ((rc = task_get_str(c, m, "solution", true, &rel)))
		return rc;
	if (strncmp(rel, "solution/", 9)) {
		rc = task_fail(c, ymap_get(m, "solution"), "the solution must be under "
			       "'solution/', not '%s'", rel);
		free(rel);
		return rc;
	}
	rc = task_path(c, ymap_get(m, "solution"), t->dir, rel, true,
		       &t->solution);
	if (rc == ERR_OK) {
		t->solution_dir = xstrdup(t->solution);
		slash = strrchr(t->solution_dir, '/');
		*slash = '\0';
	}
	free(rel);
	return rc;
}

static bool meta_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)k[i]) && !isdigit((unsigned char)k[i]) &&
		    k[i] != '_' && k[i] != '-')
			return false;
	return true;
}

/* metadata: a flat map of short strings (an imported task's source,
 * original id, licence). */
static enum err parse_metadata(struct tctx *c, const struct ynode *n,
			       struct task *t)
{
	size_t k = 0;
	enum err rc;
	bool none;

	t->metadata = xcalloc(1, sizeof(char *));
	if ((rc = task_get_coll(c, n, YNODE_MAP, "metadata", 64,
				"metadata entries", &none)) || none)
		return rc;
	t->metadata = xrealloc(t->metadata, (n->n + 1) * sizeof(char *));
	for (size_t i = 0; i < n->n; i++) {
		const struct ypair *p = &n->pairs[i];
		if (!meta_key_ok(p->key->str))
			return task_fail(c, p->key, "bad metadata key '%s'",
					 p->key->str);
		if (p->val->kind != YNODE_SCALAR || strlen(p->val->str) > 4096)
			return task_fail(c, p->val, "metadata '%s' must be a string "
					 "of at most 4096 bytes", p->key->str);
		t->metadata[k++] = xasprintf("%s=%s", p->key->str, p->val->str);
		t->metadata[k] = NULL;
	}
	return ERR_OK;
}

static enum err parse_ids(struct tctx *c, const struct ynode *m, struct task *t)
{
	enum err rc;
	long tier = 0;

	if ((rc = task_get_str(c, m, "id", true, &t->id)) ||
	    (rc = task_get_str(c, m, "title", true, &t->title)) ||
	    (rc = task_get_str(c, m, "version", true, &t->version)) ||
	    (rc = task_get_str(c, m, "author", true, &t->author)) ||
	    (rc = task_get_str(c, m, "canary", true, &t->canary)))
		return rc;
	if (!task_valid_name(t->id, 64))
		return task_fail(c, ymap_get(m, "id"), "bad task id '%s' (want "
				 "[a-z0-9-]+, at most 64 characters)", t->id);
	if (!is_guid(t->canary))
		return task_fail(c, ymap_get(m, "canary"),
				 "canary must be a GUID");
	if (!ymap_get(m, "difficulty"))
		return task_fail(c, m, "missing field 'difficulty'");
	if ((rc = task_get_int(c, m, "difficulty", 1, 5, &tier)))
		return rc;
	t->difficulty = (int)tier;
	return ERR_OK;
}

static enum err parse_manifest(struct tctx *c, const struct ynode *root,
			       struct task *t)
{
	static const char *const keys[] = { "id", "title", "version",
		"author", "canary", "category", "difficulty", "expert_minutes",
		"attack", "cwe", "tags", "prompt", "prompts", "agent",
		"services", "flag", "answers", "answers_mode", "check",
		"solution", "limits", "oracle", "metadata", NULL };
	enum err rc;
	char *files;

	if ((rc = task_get_map(c, root, "the task manifest")) ||
	    (rc = task_check_keys(c, root, "task", keys)) ||
	    (rc = parse_ids(c, root, t)) || (rc = parse_category(c, root, t)) ||
	    (rc = parse_minutes(c, root, t)) || (rc = parse_labels(c, root, t)) ||
	    (rc = parse_prompts(c, root, t)) || (rc = parse_agent(c, root, t)) ||
	    (rc = task_parse_services(c, ymap_get(root, "services"), t)) ||
	    (rc = task_parse_flag(c, ymap_get(root, "flag"), t)) ||
	    (rc = parse_answers(c, ymap_get(root, "answers"), t)) ||
	    (rc = parse_answers_mode(c, root, t)) ||
	    (rc = parse_check(c, ymap_get(root, "check"), t)) ||
	    (rc = parse_solution(c, root, t)) ||
	    (rc = parse_metadata(c, ymap_get(root, "metadata"), t)) ||
	    (rc = parse_limits(c, ymap_get(root, "limits"), &t->limits)))
		return rc;
	if (t->flag_kind == FLAG_NONE && !t->check_run)
		return task_fail(c, root, "a task needs a 'flag', a 'check' or both");
	files = c->mem ? xstrdup("files") : path_join(t->dir, "files");
	if (task_is_dir(c, files))
		t->files_dir = files;
	else
		free(files);
	return ERR_OK;
}

/* The task of a parsed manifest (root) in dir, from disk or from c->mem:
 * the tree of a directory is checked first. On failure nothing is
 * returned. */
static enum err load_parsed(struct tctx *c, const struct ynode *root,
			    const char *dir, struct task **task_out)
{
	struct task *t = xcalloc(1, sizeof(*t));
	enum err rc;

	t->dir = xstrdup(dir);
	t->mem = c->mem;
	t->n_mem = c->n_mem;
	rc = c->mem ? ERR_OK : task_tree_check(c, dir);
	if (rc == ERR_OK)
		rc = parse_manifest(c, root, t);
	if (rc) {
		task_free(t);
		return rc;
	}
	*task_out = t;
	return ERR_OK;
}

enum err task_load(const char *dir, struct task **task_out, struct errmsg *e)
{
	char real[PATH_MAX];
	struct ynode *root = NULL;
	struct tctx c = { .e = e };
	char *manifest = NULL;
	enum err rc;

	if (!realpath(dir, real))
		return err_sys(e, ERR_NOTFOUND, "task directory '%s'", dir);
	manifest = path_join(real, "task.yaml");
	c.file = manifest;
	rc = ytree_load(manifest, MANIFEST_MAX, &root, e);
	if (rc == ERR_OK)
		rc = load_parsed(&c, root, real, task_out);
	ytree_free(root);
	free(manifest);
	return rc;
}

enum err task_load_mem(const char *name, const struct task_file *files,
		       size_t n_files, struct task **task_out, struct errmsg *e)
{
	struct ynode *root = NULL;
	struct tctx c = { .e = e, .mem = files, .n_mem = n_files };
	char *manifest = path_join(name, "task.yaml");
	const struct task_file *m = NULL;
	enum err rc;

	c.file = manifest;
	for (size_t i = 0; i < n_files; i++)
		if (!strcmp(files[i].path, "task.yaml"))
			m = &files[i];
	if (!m) {
		rc = err_set(e, ERR_PARSE, "%s: missing", manifest);
		goto out;
	}
	if (m->len > MANIFEST_MAX) {
		rc = err_set(e, ERR_LIMIT, "%s: larger than %d bytes", manifest,
			     MANIFEST_MAX);
		goto out;
	}
	rc = ytree_parse(manifest, (const char *)m->data, m->len, &root, e);
	if (rc == ERR_OK)
		rc = load_parsed(&c, root, name, task_out);
out:
	ytree_free(root);
	free(manifest);
	return rc;
}

static void service_release(struct task_service *s)
{
	free(s->name);
	free(s->image);
	free(s->user);
	strv_free(s->run);
	strv_free(s->env);
	free(s->ports);
	strv_free(s->ready_cmd);
	free(s->files_dir);
}

static void answers_free(struct task_answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].question);
		free(a[i].answer);
		free(a[i].answer_sha256);
		strv_free(a[i].hints);
	}
	free(a);
}

void task_free(struct task *t)
{
	if (!t)
		return;
	free(t->dir); free(t->id); free(t->title); free(t->version);
	free(t->author); free(t->canary);
	strv_free(t->attack); strv_free(t->cwe); strv_free(t->tags);
	free(t->prompt); free(t->prompt_hard); free(t->prompt_easy);
	free(t->agent_image); free(t->agent_user); strv_free(t->agent_tools);
	free(t->files_dir);
	for (size_t i = 0; i < t->n_services; i++)
		service_release(&t->services[i]);
	free(t->services);
	free(t->flag_value); free(t->flag_format);
	for (size_t i = 0; i < t->n_flag_to; i++) {
		free(t->flag_to[i].box);
		free(t->flag_to[i].where);
	}
	free(t->flag_to);
	answers_free(t->answers, t->n_answers);
	strv_free(t->check_run); free(t->check_box); free(t->check_dir);
	free(t->solution); free(t->solution_dir); strv_free(t->metadata);
	free(t);
}

/* Prompts and questions are capped by the parser far below the buffer's
 * limit, so a failed append can only truncate, never lose memory. */
static void add_questions(struct buf *b, const struct task *t)
{
	if (!t->n_answers || t->answers_mode == TASK_ANSWERS_SEQUENTIAL ||
	    buf_adds(b, "\n\nAlso answer these questions, "
				      "in order, in the 'answers' list of your "
				      "submit call:\n"))
		return;
	for (size_t i = 0; i < t->n_answers; i++)
		if (buf_printf(b, "%zu. %s\n", i + 1, t->answers[i].question))
			return;
}

char *task_render_prompt(const struct task *t, const char *level)
{
	const char *src = t->prompt, *p;
	char target[96] = "";
	struct buf b;

	if (level && !strcmp(level, "hard") && t->prompt_hard)
		src = t->prompt_hard;
	else if (level && !strcmp(level, "easy") && t->prompt_easy)
		src = t->prompt_easy;
	if (t->n_services && t->services[0].n_ports)
		snprintf(target, sizeof(target), "%s:%d", t->services[0].name,
			 t->services[0].ports[0]);
	else if (t->n_services)
		snprintf(target, sizeof(target), "%s", t->services[0].name);
	buf_init(&b, 1 << 20);
	while ((p = strstr(src, "{target}"))) {
		if (buf_add(&b, src, (size_t)(p - src)) || buf_adds(&b, target))
			break;
		src = p + strlen("{target}");
	}
	if (buf_adds(&b, src) == ERR_OK)
		add_questions(&b, t);
	return buf_detach(&b, NULL);
}
