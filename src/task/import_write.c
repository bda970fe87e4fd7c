/*
 * import_write.c - one imported task to DIR/ID: defaults (each tagged),
 * image checks, files copied without following links, task.yaml written
 * with every string quoted, then loaded back with task_load so that only
 * tasks the parser accepts are listed in the suite.
 */
#include "task/import_int.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonw.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "task/task.h"
#include "base/banned.h"

#define COPY_MAX_FILES 10000
#define COPY_MAX_BYTES ((size_t)64 << 20)   /* one file */
#define COPY_MAX_DEPTH 32

/* Default ATT&CK technique per category (tagged attack-default). */
static const char *default_attack(const char *cat)
{
	static const struct { const char *cat, *id; } map[] = {
		{ "web", "T1190" }, { "pwn", "T1203" }, { "crypto", "T1600" },
		{ "rev", "T1027" }, { "forensics", "T1005" }, { "misc", "T1059" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(cat, map[i].cat))
			return map[i].id;
	return "T1059";
}

static void fill_defaults(const struct imp_ctx *c, struct imp_task *t)
{
	if (!t->title)
		t->title = xstrdup(t->id);
	if (!t->author)
		t->author = xstrdup("unknown");
	if (!t->category || !task_category_valid(t->category)) {
		free(t->category);
		t->category = xstrdup("misc");
	}
	if (t->difficulty < 1 || t->difficulty > 5) {
		t->difficulty = IMP_DEFAULT_DIFFICULTY;
		task_imp_tag(t, "difficulty-default");
	}
	if (!(t->minutes > 0) || t->minutes > 100000) {
		t->minutes = IMP_DEFAULT_MINUTES;
		task_imp_tag(t, "expert-minutes-default");
	}
	if (!t->attack[0]) {
		task_imp_strv_add(&t->attack, default_attack(t->category));
		task_imp_tag(t, "attack-default");
	}
	if (c->o->agent_image) {
		free(t->agent_image);
		t->agent_image = xstrdup(c->o->agent_image);
	}
	if (!t->agent_image)
		t->agent_image = xstrdup("host");
	if (!t->agent_user)
		t->agent_user = xstrdup("agent");
}

/* *img becomes the assay reference of the source's name; refused when
 * that image is not imported. */
static bool image_ok(const struct imp_ctx *c, struct imp_task *t,
		     char **img, const char *box)
{
	char *ref;

	if (!strcmp(*img, "host"))
		return true;
	ref = task_imp_image_ref(*img);
	if (strcmp(ref, *img))
		task_imp_meta(t, "source_image", *img);
	free(*img);
	*img = ref;
	if (c->o->image_imported && c->o->image_imported(c->o->image_arg, ref))
		return true;
	t->unimported_image = true;
	return task_imp_refuse(t, REFUSE_IMAGE, "%s image '%s' is not imported "
			       "(assay image import ARCHIVE --name %s)", box, ref, ref);
}

static void check_images(const struct imp_ctx *c, struct imp_task *t)
{
	if (!image_ok(c, t, &t->agent_image, "the agent's"))
		return;
	for (size_t i = 0; i < t->n_svc; i++)
		if (!image_ok(c, t, &t->svc[i].image, t->svc[i].name))
			return;
}

/* ---- task.yaml ----------------------------------------------------------- */

/* The manifest being written; `bad` once anything failed to fit. */
struct ybuf {
	struct buf b;
	bool bad;
};

static void put(struct ybuf *y, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct ybuf *y, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(&y->b, fmt, ap) != ERR_OK)
		y->bad = true;
	va_end(ap);
}

/* Every string is written as a JSON string literal, which YAML reads as
 * a double-quoted scalar with the same escapes. */
static void q(struct ybuf *y, const char *s)
{
	if (jsonw_quote(&y->b, s, strlen(s), JSONW_LOSSY) != ERR_OK)
		y->bad = true;
}

static void kq(struct ybuf *b, const char *indent, const char *key, const char *s)
{
	put(b, "%s%s: ", indent, key);
	q(b, s);
	put(b, "\n");
}

static void list(struct ybuf *b, char *const *v)
{
	put(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			put(b, "%s", ", ");
		q(b, v[i]);
	}
	put(b, "%s", "]");
}

static void klist(struct ybuf *b, const char *indent, const char *key,
		  char *const *v)
{
	put(b, "%s%s: ", indent, key);
	list(b, v);
	put(b, "\n");
}

static void write_service(struct ybuf *b, const struct imp_svc *s)
{
	kq(b, "  - ", "name", s->name);
	kq(b, "    ", "image", s->image);
	if (s->user)
		kq(b, "    ", "user", s->user);
	klist(b, "    ", "run", s->run);
	if (s->env && s->env[0]) {
		put(b, "%s", "    env:\n");
		for (size_t i = 0; s->env[i]; i++) {
			const char *eq = strchr(s->env[i], '=');
			char *k = xstrndup(s->env[i], (size_t)(eq - s->env[i]));
			put(b, "%s", "      ");
			q(b, k);
			put(b, "%s", ": ");
			q(b, eq + 1);
			put(b, "\n");
			free(k);
		}
	}
	if (s->n_ports) {
		put(b, "%s", "    ports: [");
		for (size_t i = 0; i < s->n_ports; i++)
			put(b, "%s%d", i ? ", " : "", s->ports[i]);
		put(b, "%s", "]\n");
	}
	if (s->ready_cmd) {
		put(b, "%s", "    ready: {cmd: ");
		list(b, s->ready_cmd);
		put(b, "%s", ", timeout_s: 120}\n");
	} else if (s->ready_port)
		put(b, "    ready: {tcp: %d, timeout_s: 120}\n",
				 s->ready_port);
}

static void write_answers(struct ybuf *b, const struct imp_task *t)
{
	if (!t->n_ans)
		return;
	put(b, "%s", "answers:\n");
	for (size_t i = 0; i < t->n_ans; i++) {
		kq(b, "  - ", "question", t->ans[i].question);
		kq(b, "    ", "answer", t->ans[i].answer);
		if (t->ans[i].hints && t->ans[i].hints[0])
			klist(b, "    ", "hints", t->ans[i].hints);
	}
	if (t->sequential)
		put(b, "%s", "answers_mode: sequential\n");
}

static void write_meta(struct ybuf *b, const struct imp_task *t)
{
	put(b, "%s", "metadata:\n");
	for (size_t i = 0; t->meta[i]; i++) {
		const char *eq = strchr(t->meta[i], '=');
		char *k = xstrndup(t->meta[i], (size_t)(eq - t->meta[i]));
		kq(b, "  ", k, eq + 1);
		free(k);
	}
}

static void write_head(struct ybuf *b, const struct imp_task *t,
		       const char *canary)
{
	put(b, "%s", "# Written by assay import (docs/IMPORT.md).\n");
	kq(b, "", "id", t->id);
	kq(b, "", "title", t->title);
	kq(b, "", "version", "1");
	kq(b, "", "author", t->author);
	kq(b, "", "canary", canary);
	kq(b, "", "category", t->category);
	put(b, "difficulty: %d\nexpert_minutes: %.6g\n",
			 t->difficulty, t->minutes);
	klist(b, "", "attack", t->attack);
	if (t->tags[0])
		klist(b, "", "tags", t->tags);
	kq(b, "", "prompt", t->prompt);
	if (t->prompt_hard || t->prompt_easy) {
		put(b, "%s", "prompts:\n");
		if (t->prompt_hard)
			kq(b, "  ", "hard", t->prompt_hard);
		if (t->prompt_easy)
			kq(b, "  ", "easy", t->prompt_easy);
	}
}

static char *manifest(const struct imp_task *t, const char *canary)
{
	struct ybuf b = { .bad = false };

	buf_init(&b.b, (size_t)1 << 20);
	write_head(&b, t, canary);
	put(&b, "%s", "agent:\n");
	kq(&b, "  ", "image", t->agent_image);
	kq(&b, "  ", "user", t->agent_user);
	if (t->n_svc)
		put(&b, "%s", "services:\n");
	for (size_t i = 0; i < t->n_svc; i++)
		write_service(&b, &t->svc[i]);
	if (t->flag) {
		put(&b, "%s", "flag: {value: ");
		q(&b, t->flag);
		put(&b, "%s", "}\n");
	}
	write_answers(&b, t);
	if (t->check_run) {
		put(&b, "%s", "check: {run: ");
		list(&b, t->check_run);
		put(&b, "%s", ", box: agent, timeout_s: 600}\n");
	}
	if (t->solve)
		kq(&b, "", "solution", t->solve);
	else
		put(&b, "%s", "oracle: none\n");
	if (t->wall_s || t->memory_mb)
		put(&b, "limits: {wall_s: %d, memory_mb: %d}\n",
				 t->wall_s ? t->wall_s : 900,
				 t->memory_mb ? t->memory_mb : 512);
	write_meta(&b, t);
	if (b.bad) {
		buf_release(&b.b);
		return NULL;
	}
	return buf_detach(&b.b, NULL);
}

/* ---- files --------------------------------------------------------------- */

struct copy {
	size_t files;
	struct errmsg *e;
};

static bool dest_ok(const char *d)
{
	if (!*d || *d == '/' || strstr(d, "//"))
		return false;
	for (const char *p = d; p; p = strchr(p, '/')) {
		p += *p == '/';
		if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2]))
			return false;
		if (!strncmp(p, ".", 1) && (p[1] == '/' || !p[1]))
			return false;
	}
	return true;
}

static enum err copy_tree(struct copy *cp, const char *src, const char *dst,
			  int depth);

static enum err copy_file(struct copy *cp, const char *src, const char *dst)
{
	char *data, *slash = strrchr(dst, '/'), *parent;
	size_t len;
	struct stat sb;
	enum err rc;

	if (++cp->files > COPY_MAX_FILES)
		return err_set(cp->e, ERR_LIMIT, "more than %d files",
			       COPY_MAX_FILES);
	if (lstat(src, &sb) || !S_ISREG(sb.st_mode))
		return err_set(cp->e, ERR_INVAL, "'%s' is not a regular file "
			       "(links are not followed)", src);
	parent = xstrndup(dst, (size_t)(slash - dst));
	rc = mkdir_p(parent, 0755, cp->e);
	free(parent);
	if (rc || (rc = file_read(src, COPY_MAX_BYTES, &data, &len, cp->e)))
		return rc;
	rc = file_write_atomic(dst, data, len, (sb.st_mode & 0111) ? 0755 : 0644,
			       cp->e);
	free(data);
	return rc;
}

static enum err copy_tree(struct copy *cp, const char *src, const char *dst,
			  int depth)
{
	DIR *dp;
	struct dirent *d;
	enum err rc = ERR_OK;

	if (!task_imp_is_dir(src))
		return copy_file(cp, src, dst);
	if (depth > COPY_MAX_DEPTH)
		return err_set(cp->e, ERR_LIMIT, "'%s' is nested too deep", src);
	if ((rc = mkdir_p(dst, 0755, cp->e)))
		return rc;
	if (!(dp = opendir(src)))
		return err_sys(cp->e, ERR_IO, "open '%s'", src);
	while (rc == ERR_OK && (d = readdir(dp))) {
		char *s, *t;
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		s = path_join(src, d->d_name);
		t = path_join(dst, d->d_name);
		rc = copy_tree(cp, s, t, depth + 1);
		free(s);
		free(t);
	}
	closedir(dp);
	return rc;
}

static enum err place_files(const struct imp_task *t, const char *tdir,
			    struct errmsg *e)
{
	struct copy cp = { .e = e };
	enum err rc = ERR_OK;

	for (size_t i = 0; rc == ERR_OK && i < t->n_files; i++) {
		const struct imp_file *f = &t->files[i];
		char *dst;
		if (!dest_ok(f->dest))
			return err_set(e, ERR_INVAL, "file destination '%s' leaves "
				       "the task", f->dest);
		dst = path_join(tdir, f->dest);
		if (f->src)
			rc = copy_tree(&cp, f->src, dst, 0);
		else {
			char *slash = strrchr(dst, '/');
			char *parent = xstrndup(dst, (size_t)(slash - dst));
			rc = mkdir_p(parent, 0755, e);
			if (rc == ERR_OK)
				rc = file_write_atomic(dst, f->data, f->len,
					!strncmp(f->dest, "solution/", 9) ||
					!strncmp(f->dest, "check/", 6) ? 0755 : 0644, e);
			free(parent);
		}
		free(dst);
	}
	return rc;
}

/* ---- outcome ------------------------------------------------------------- */

static struct import_item *add_item(struct imp_ctx *c, const char *id,
				    const char *source)
{
	struct import_result *r = c->res;
	struct import_item *it;

	r->items = xgrow(r->items, &r->cap, r->n + 1, sizeof(*r->items));
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->id = xstrdup(id ? id : "?");
	it->source = xstrdup(source);
	return it;
}

static bool id_taken(const struct imp_ctx *c, const char *id)
{
	for (size_t i = 0; i < c->res->n; i++)
		if (!strcmp(c->res->items[i].id, id))
			return true;
	return false;
}

static void unique_id(const struct imp_ctx *c, struct imp_task *t)
{
	char *base = t->id && *t->id ? task_imp_slug(t->id, 56) : xstrdup("task");

	if (!*base) {
		free(base);
		base = xstrdup("task");
	}
	free(t->id);
	t->id = xstrdup(base);
	for (int k = 2; id_taken(c, t->id) && k < 100000; k++) {
		free(t->id);
		t->id = xasprintf("%s-%d", base, k);
	}
	free(base);
}

static enum err new_canary(char *out, size_t n, struct errmsg *e)
{
	unsigned char r[16];
	enum err rc = random_bytes(r, sizeof(r), e);

	if (rc)
		return rc;
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
	return ERR_OK;
}

/* Write the task; ERR_* when it could not be written or does not load. */
static enum err write_task(struct imp_ctx *c, struct imp_task *t,
			   char *tdir, bool verify, struct errmsg *e)
{
	char canary[40], *yaml, *man;
	struct task *loaded;
	enum err rc;

	if ((rc = new_canary(canary, sizeof(canary), e)) ||
	    (rc = mkdir_p(tdir, 0755, e)) || (rc = place_files(t, tdir, e)))
		return rc;
	if (!(yaml = manifest(t, canary)))
		return err_set(e, ERR_LIMIT, "the manifest is larger than 1 MiB");
	man = path_join(tdir, "task.yaml");
	rc = file_write_atomic(man, yaml, strlen(yaml), 0644, e);
	free(man);
	free(yaml);
	if (rc || !verify)
		return rc;
	if ((rc = task_load(tdir, &loaded, e)) == ERR_OK)
		task_free(loaded);
	(void)c;
	return rc;
}

static void remember(struct imp_ctx *c, const char *id)
{
	c->written = xrealloc(c->written, (c->n_written + 1) * sizeof(char *));
	c->written[c->n_written++] = xstrdup(id);
}

void task_imp_emit(struct imp_ctx *c, struct imp_task *t, const char *source)
{
	struct import_item *it;
	struct errmsg e;
	char *tdir;

	if (!t->refused && !t->prompt)
		task_imp_refuse(t, REFUSE_INVALID, "no prompt");
	if (!t->refused && !t->flag && !t->check_run)
		task_imp_refuse(t, REFUSE_INVALID, "neither a flag nor a check");
	unique_id(c, t);
	it = add_item(c, t->id, source);
	if (t->refused)
		goto out;
	fill_defaults(c, t);
	task_imp_meta(t, "source", source);
	check_images(c, t);
	if (t->refused && !t->unimported_image)
		goto out;
	tdir = path_join(c->dir, t->id);
	/* A task refused only for its image is written (with the reference)
	 * but not listed: it loads once the image is imported. */
	if (write_task(c, t, tdir, !t->refused, &e) != ERR_OK) {
		struct errmsg r;
		t->refused = REFUSE_NONE;
		free(t->why);
		t->why = NULL;
		task_imp_refuse(t, REFUSE_INVALID, "%s", e.text);
		if (rm_rf(tdir, &r) != ERR_OK)
			task_imp_meta(t, "cleanup", r.text);
	} else if (!t->refused)
		remember(c, t->id);
	free(tdir);
out:
	it->refused = t->refused;
	it->why = xstrdup(t->why);
	it->no_oracle = !t->refused && !t->solve;
	for (size_t i = 0; t->tags && t->tags[i]; i++)
		it->defaults |= strstr(t->tags[i], "-default") != NULL;
}
