/*
 * import_util.c - helpers shared by the importers.
 */
#include "task/import_int.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const char *const refusal_names[REFUSE__COUNT] = {
	"none", "privileged", "cap-add", "devices", "host-network",
	"external-network", "remote-host", "image-not-imported",
	"unsupported", "invalid",
};

const char *task_import_refusal_name(enum import_refusal r)
{
	return (unsigned)r < REFUSE__COUNT ? refusal_names[r] : "?";
}

void task_imp_task_init(struct imp_task *t)
{
	memset(t, 0, sizeof(*t));
	t->tags = xcalloc(1, sizeof(char *));
	t->attack = xcalloc(1, sizeof(char *));
	t->meta = xcalloc(1, sizeof(char *));
}

/* Field by field like task.c's service_release(): struct imp_svc is the
 * importer's draft of a service, written out as YAML and loaded back as a
 * struct task_service (import_write.c), so the two stay apart. */
static void svc_release(struct imp_svc *s)
{
	free(s->name);
	free(s->image);
	free(s->user);
	strv_free(s->run);
	strv_free(s->env);
	strv_free(s->ready_cmd);
}

void task_imp_task_release(struct imp_task *t)
{
	free(t->id); free(t->title); free(t->author); free(t->category);
	free(t->prompt); free(t->prompt_hard); free(t->prompt_easy);
	strv_free(t->tags); strv_free(t->attack); strv_free(t->meta);
	free(t->agent_image); free(t->agent_user);
	for (size_t i = 0; i < t->n_svc; i++)
		svc_release(&t->svc[i]);
	free(t->flag);
	for (size_t i = 0; i < t->n_ans; i++) {
		free(t->ans[i].question);
		free(t->ans[i].answer);
		strv_free(t->ans[i].hints);
	}
	for (size_t i = 0; i < t->n_files; i++) {
		free(t->files[i].src);
		free(t->files[i].data);
		free(t->files[i].dest);
	}
	free(t->files);
	free(t->solve);
	strv_free(t->check_run);
	free(t->why);
	memset(t, 0, sizeof(*t));
}

bool task_imp_refuse(struct imp_task *t, enum import_refusal r, const char *fmt,
		     ...)
{
	char msg[600];
	va_list ap;

	if (t->refused)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->refused = r;
	t->why = xstrdup(msg);
	return false;
}

void task_imp_strv_add(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	for (size_t i = 0; i < n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

void task_imp_meta(struct imp_task *t, const char *key, const char *val)
{
	char *kv;

	if (!val || strv_len(t->meta) >= 60)
		return;
	kv = xasprintf("%s=%.4000s", key, val);
	task_imp_strv_add(&t->meta, kv);
	free(kv);
}

void task_imp_tag(struct imp_task *t, const char *tag)
{
	char *s = task_imp_slug(tag, 64);

	if (*s && strv_len(t->tags) < 32)
		task_imp_strv_add(&t->tags, s);
	free(s);
}

static struct imp_file *new_file(struct imp_task *t, const char *dest)
{
	struct imp_file *f;

	t->files = xgrow(t->files, &t->cap_files, t->n_files + 1,
			 sizeof(*t->files));
	f = &t->files[t->n_files++];
	memset(f, 0, sizeof(*f));
	f->dest = xstrdup(dest);
	return f;
}

void task_imp_file_path(struct imp_task *t, const char *src, const char *dest)
{
	new_file(t, dest)->src = xstrdup(src);
}

void task_imp_file_data(struct imp_task *t, const char *data, size_t len,
			const char *dest)
{
	struct imp_file *f = new_file(t, dest);

	f->data = xmalloc(len + 1);
	memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
}

char *task_imp_slug(const char *s, size_t max)
{
	char *out = xmalloc(max + 1);
	size_t n = 0;

	for (; s && *s && n < max; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) && ch < 128)
			out[n++] = (char)tolower(ch);
		else if (n && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	return out;
}

static bool has(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

char *task_imp_image_ref(const char *name)
{
	char *r = xstrdup(name);

	for (char *p = r; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (!isalnum((unsigned char)*p) && !strchr("._:-", *p))
			*p = '-';
	}
	if (!isalnum((unsigned char)r[0]))
		r[0] = 'x';
	return r;
}

const char *task_imp_category(const char *s)
{
	static const struct { const char *word, *cat; } map[] = {
		{ "web", "web" }, { "pwn", "pwn" }, { "binary", "pwn" },
		{ "exploit", "pwn" }, { "crypt", "crypto" },
		{ "rev", "rev" }, { "forensic", "forensics" },
		{ "stego", "forensics" }, { "misc", "misc" },
		{ "general", "misc" },
	};

	for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
		if (has(s, map[i].word))
			return map[i].cat;
	return "misc";
}

const char *task_imp_str(const struct ynode *m, const char *key)
{
	const struct ynode *v = ymap_get(m, key);

	return v && v->kind == YNODE_SCALAR && !yscalar_is_null(v) ? v->str : NULL;
}

const char *task_imp_rel(const char *path, const char *src)
{
	size_t n = strlen(src);

	if (strncmp(path, src, n) || (path[n] && path[n] != '/' && src[n - 1] != '/'))
		return path;
	path += n;
	return path + strspn(path, "/");
}

bool task_imp_is_file(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool task_imp_is_dir(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void find_in(const char *dir, const char *name, int depth,
		    char ***out)
{
	DIR *dp = depth <= 8 ? opendir(dir) : NULL;
	struct dirent *d;

	while (dp && (d = readdir(dp)) && strv_len(*out) < 100000) {
		char *p;
		if (d->d_name[0] == '.')
			continue;
		p = path_join(dir, d->d_name);
		if (!strcmp(d->d_name, name) && task_imp_is_file(p))
			task_imp_strv_add(out, p);
		else if (task_imp_is_dir(p))
			find_in(p, name, depth + 1, out);
		free(p);
	}
	if (dp)
		closedir(dp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **task_imp_find(const char *dir, const char *name)
{
	char **out = xcalloc(1, sizeof(char *));

	find_in(dir, name, 0, &out);
	qsort(out, strv_len(out), sizeof(char *), cmp_str);
	return out;
}

enum err task_imp_each(struct imp_ctx *c, const char *name,
		       void (*one)(struct imp_ctx *c, const char *path),
		       struct errmsg *e)
{
	char **found = task_imp_find(c->src, name);
	bool none = !found[0];

	for (size_t i = 0; found[i]; i++)
		one(c, found[i]);
	strv_free(found);
	if (none)
		return err_set(e, ERR_NOTFOUND, "no %s under '%s'", name, c->src);
	return ERR_OK;
}

char *task_imp_replace(const char *a, const char *from, const char *to)
{
	struct buf b;
	const char *p;
	size_t n = strlen(from);

	buf_init(&b, (size_t)8 << 20);
	while (n && (p = strstr(a, from))) {
		if (buf_add(&b, a, (size_t)(p - a)) || buf_adds(&b, to))
			break;
		a = p + n;
	}
	if (buf_adds(&b, a) != ERR_OK)
		buf_truncate(&b, b.len);   /* over 8 MiB: cut, as the caller caps */
	return buf_detach(&b, NULL);
}

enum err task_imp_load(const char *path, enum imp_doc kind, struct ynode **out,
		       struct errmsg *e)
{
	char *data;
	size_t len;
	enum err rc;

	if (!task_imp_is_file(path))
		return err_set(e, ERR_INVAL, "'%s' is not a regular file", path);
	if ((rc = file_read(path, IMP_DOC_MAX, &data, &len, e)))
		return rc;
	if (kind == IMP_JSON)
		rc = task_import_json_tree(path, data, len, out, e);
	else if (kind == IMP_TOML)
		rc = task_import_toml_tree(path, data, len, out, e);
	else
		rc = ytree_parse(path, data, len, out, e);
	free(data);
	return rc;
}
