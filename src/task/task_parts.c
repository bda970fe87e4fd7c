/*
 * task_parts.c - services and flags of a task manifest.
 */
#include "task/task_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

static enum err parse_env(struct tctx *c, const struct ynode *m, char ***out)
{
	const struct ynode *v = ymap_get(m, "env");
	char **r;

	*out = xcalloc(1, sizeof(char *));
	if (!v || yscalar_is_null(v))
		return ERR_OK;
	if (v->kind != YNODE_MAP)
		return task_fail(c, v,
				 "field 'env' must be a mapping of strings");
	free(*out);
	r = xcalloc(v->n + 1, sizeof(*r));
	*out = r;
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *k = v->pairs[i].key, *x = v->pairs[i].val;
		if (x->kind != YNODE_SCALAR)
			return task_fail(c, x, "env '%s' must be a string",
					 k->str);
		if (!*k->str || strchr(k->str, '='))
			return task_fail(c, k,
					 "bad environment variable name '%s'",
					 k->str);
		r[i] = xasprintf("%s=%s", k->str, x->str);
	}
	return ERR_OK;
}

static enum err parse_ports(struct tctx *c, const struct ynode *m,
			    struct task_service *s)
{
	const struct ynode *v = ymap_get(m, "ports");

	if (!v || yscalar_is_null(v))
		return ERR_OK;
	if (v->kind != YNODE_SEQ)
		return task_fail(c, v,
				 "field 'ports' must be a list of integers");
	s->ports = xcalloc(v->n ? v->n : 1, sizeof(int));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *p = v->items[i];
		long x;

		if (p->kind != YNODE_SCALAR || !num_long(p->str, 1, 65535, &x))
			return task_fail(c, p,
					 "port must be an integer 1..65535");
		s->ports[s->n_ports++] = (int)x;
	}
	return ERR_OK;
}

static enum err parse_ready(struct tctx *c, const struct ynode *m,
			    struct task_service *s)
{
	static const char *const keys[] = { "tcp", "cmd", "timeout_s", NULL };
	const struct ynode *v = ymap_get(m, "ready");
	long port = 0, timeout = 30;
	enum err rc;

	s->ready_timeout_s = 30;
	if (!v || yscalar_is_null(v))
		return ERR_OK;
	if ((rc = task_get_map(c, v, "'ready'")) || (rc = task_check_keys(c, v, "ready", keys)))
		return rc;
	if ((rc = task_get_int(c, v, "tcp", 1, 65535, &port)) ||
	    (rc = task_get_int(c, v, "timeout_s", 1, 600, &timeout)))
		return rc;
	if (ymap_get(v, "cmd")) {
		if ((rc = task_get_strv(c, v, "cmd", true, &s->ready_cmd)))
			return rc;
		if (!s->ready_cmd[0])
			return task_fail(c, v, "'ready.cmd' must not be empty");
		s->ready = TASK_READY_CMD;
	}
	if (port) {
		if (s->ready == TASK_READY_CMD)
			return task_fail(c, v, "'ready' takes 'tcp' or 'cmd', not both");
		s->ready = TASK_READY_TCP;
		s->ready_port = (int)port;
	}
	if (s->ready == TASK_READY_NONE)
		return task_fail(c, v, "'ready' needs 'tcp' or 'cmd'");
	s->ready_timeout_s = (int)timeout;
	return ERR_OK;
}

/* An image reference: NAME ([a-z0-9][a-z0-9._:-]*, at most 128) with an
 * optional "@sha256:" and 64 lower-case hex (the image part's grammar;
 * the engine resolves it against the image store). */
bool task_image_is_ref(const char *img)
{
	const char *at = strchr(img, '@');
	size_t n = at ? (size_t)(at - img) : strlen(img);

	if (!strcmp(img, "host") || n == 0 || n > 128 ||
	    !strchr("abcdefghijklmnopqrstuvwxyz0123456789", img[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._:-", img[i]))
			return false;
	if (!at)
		return true;
	if (strncmp(at + 1, "sha256:", 7) || strlen(at + 8) != 64)
		return false;
	return strspn(at + 8, "0123456789abcdef") == 64;
}

/* "host", an image reference (kept as written), or a root-filesystem
 * directory of the task (a path holding '/' or starting with '.'). */
enum err task_parse_image(struct tctx *c, const struct ynode *m,
			  const char *dir, char **out)
{
	char *img;
	enum err rc = task_get_str(c, m, "image", false, &img);

	if (rc)
		return rc;
	if (!img || !strcmp(img, "host") || (!strchr(img, '/') && img[0] != '.')) {
		*out = img ? img : xstrdup("host");
		if (strcmp(*out, "host") && !task_image_is_ref(*out))
			return task_fail(c, ymap_get(m, "image"), "image '%s' is not "
					 "'host', an image name (NAME or NAME@sha256:HEX, "
					 "lower case) or a directory ('./DIR')", *out);
		return ERR_OK;
	}
	if (c->mem) {
		free(img);
		return task_fail(
			c, ymap_get(m, "image"),
			"a sealed task can only "
			"use 'host' or an imported image, not a directory");
	}
	rc = task_path(c, ymap_get(m, "image"), dir, img, true, out);
	free(img);
	if (rc == ERR_OK && !task_is_dir(c, *out))
		rc = task_fail(c, ymap_get(m, "image"), "image '%s' is not a "
			       "directory", *out);
	return rc;
}

/* A service's user: "root", a name of the image, or UID[:GID]. */
static enum err parse_svc_user(struct tctx *c, const struct ynode *m,
			       struct task_service *s)
{
	enum err rc = task_get_str(c, m, "user", false, &s->user);

	if (rc || !s->user)
		return rc;
	if (!*s->user || strlen(s->user) > 64 ||
	    strspn(s->user, "abcdefghijklmnopqrstuvwxyz0123456789_.:-") != strlen(s->user))
		return task_fail(c, ymap_get(m, "user"), "service '%s': bad user '%s' "
				 "(root, a user of the image, or UID[:GID])", s->name,
				 s->user);
	if (strcmp(s->user, "root") && !task_image_is_ref(s->image) &&
	    strspn(s->user, "0123456789:") != strlen(s->user))
		return task_fail(c, ymap_get(m, "user"), "service '%s': user '%s' by "
				 "name needs an imported image (or give UID[:GID])",
				 s->name, s->user);
	return ERR_OK;
}

static enum err parse_service(struct tctx *c, const struct ynode *m,
			      const char *dir, struct task_service *s)
{
	static const char *const keys[] = { "name", "image", "run", "env",
					    "ports", "ready", "packet_sockets",
					    "user", NULL };
	enum err rc;
	char *files;

	if ((rc = task_get_map(c, m, "a service")) ||
	    (rc = task_check_keys(c, m, "service", keys)) ||
	    (rc = task_get_str(c, m, "name", true, &s->name)))
		return rc;
	if (!task_valid_name(s->name, 32) || !strcmp(s->name, "agent") ||
	    !strcmp(s->name, "fresh"))
		return task_fail(c, ymap_get(m, "name"),
				 "bad service name '%s' "
				 "(want [a-z0-9-]+, not 'agent' or 'fresh')",
				 s->name);
	if ((rc = task_parse_image(c, m, dir, &s->image)) ||
	    (rc = task_get_strv(c, m, "run", !task_image_is_ref(s->image), &s->run)) ||
	    (rc = parse_svc_user(c, m, s)) ||
	    (rc = parse_env(c, m, &s->env)) || (rc = parse_ports(c, m, s)) ||
	    (rc = parse_ready(c, m, s)) ||
	    (rc = task_get_bool(c, m, "packet_sockets", &s->packet_sockets)))
		return rc;
	if (!s->run[0] && !task_image_is_ref(s->image))
		return task_fail(c, m, "service '%s': 'run' must not be empty "
				 "(only an imported image's Entrypoint/Cmd can stand "
				 "in for it)", s->name);
	files = xasprintf("services/%s", s->name);
	if (c->mem) {
		s->files_dir = task_is_dir(c, files) ? files : NULL;
		if (!s->files_dir)
			free(files);
		return ERR_OK;
	}
	rc = task_path(c, m, dir, files, false, &s->files_dir);
	free(files);
	if (rc == ERR_OK && !task_is_dir(c, s->files_dir)) {
		free(s->files_dir);
		s->files_dir = NULL;
	}
	return rc;
}

enum err task_parse_services(struct tctx *c, const struct ynode *n,
			     struct task *t)
{
	enum err rc;
	bool none;

	if ((rc = task_get_coll(c, n, YNODE_SEQ, "services", 16, "services",
				&none)) || none)
		return rc;
	t->services = xcalloc(n->n ? n->n : 1, sizeof(*t->services));
	for (size_t i = 0; i < n->n; i++) {
		t->n_services = i + 1;
		rc = parse_service(c, n->items[i], t->dir, &t->services[i]);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->services[j].name, t->services[i].name))
				return task_fail(c, n->items[i],
						 "duplicate service '%s'",
						 t->services[i].name);
	}
	return ERR_OK;
}

static bool has_box(const struct task *t, const char *name)
{
	if (!strcmp(name, "agent"))
		return true;
	for (size_t i = 0; i < t->n_services; i++)
		if (!strcmp(t->services[i].name, name))
			return true;
	return false;
}

/* "SERVICE:/path" or "env:SERVICE:VAR" */
static enum err parse_target(struct tctx *c, const struct ynode *n,
			     const struct task *t, struct flag_target *ft)
{
	const char *s = n->str, *colon;

	if (!strncmp(s, "env:", 4)) {
		ft->kind = FLAG_TO_ENV;
		s += 4;
	}
	colon = strchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return task_fail(c, n,
				 "flag target '%s' must be SERVICE:/path or "
				 "env:SERVICE:VAR",
				 n->str);
	ft->box = xstrndup(s, (size_t)(colon - s));
	ft->where = xstrdup(colon + 1);
	if (!has_box(t, ft->box))
		return task_fail(c, n, "flag target names unknown box '%s'", ft->box);
	if (ft->kind == FLAG_TO_ENV && !strcmp(ft->box, "agent"))
		return task_fail(c, n, "the flag may not go into the agent's "
				 "environment");
	if (ft->kind == FLAG_TO_FILE &&
	    (ft->where[0] != '/' || strstr(ft->where, "/../") ||
	     !strcmp(ft->where + strlen(ft->where) - 3, "/..")))
		return task_fail(c, n,
				 "flag file '%s' must be an absolute path "
				 "without '..'",
				 ft->where);
	if (ft->kind == FLAG_TO_FILE && !strcmp(ft->box, "agent") &&
	    !strncmp(ft->where, "/home/agent", 11))
		return task_fail(c, n,
				 "the flag may not be planted in the agent's "
				 "home");
	return ERR_OK;
}

static enum err parse_dynamic(struct tctx *c, const struct ynode *d,
			      struct task *t)
{
	static const char *const keys[] = { "format", "to", NULL };
	const struct ynode *to;
	const char *p;
	enum err rc;

	if ((rc = task_get_map(c, d, "'flag.dynamic'")) ||
	    (rc = task_check_keys(c, d, "flag.dynamic", keys)) ||
	    (rc = task_get_str(c, d, "format", true, &t->flag_format)))
		return rc;
	p = strstr(t->flag_format, "%s");
	if (!p || strstr(p + 2, "%s") || strchr(t->flag_format, '%') != p ||
	    strchr(p + 2, '%'))
		return task_fail(c, ymap_get(d, "format"), "flag format must "
				 "contain exactly one '%%s' and no other '%%'");
	to = ymap_get(d, "to");
	if (!to || to->kind != YNODE_SEQ || to->n == 0)
		return task_fail(c, to ? to : d, "'flag.dynamic.to' must be a "
				 "non-empty list");
	t->flag_to = xcalloc(to->n, sizeof(*t->flag_to));
	for (size_t i = 0; i < to->n; i++) {
		if (to->items[i]->kind != YNODE_SCALAR)
			return task_fail(c, to->items[i],
					 "flag target must be a "
					 "string");
		t->n_flag_to = i + 1;
		rc = parse_target(c, to->items[i], t, &t->flag_to[i]);
		if (rc)
			return rc;
	}
	t->flag_kind = FLAG_DYNAMIC;
	return ERR_OK;
}

enum err task_parse_flag(struct tctx *c, const struct ynode *n, struct task *t)
{
	static const char *const keys[] = { "value", "dynamic", NULL };
	const struct ynode *d;
	enum err rc;

	if (!n || yscalar_is_null(n))
		return ERR_OK;
	if ((rc = task_get_map(c, n, "'flag'")) ||
	    (rc = task_check_keys(c, n, "flag", keys)))
		return rc;
	d = ymap_get(n, "dynamic");
	if (d && ymap_get(n, "value"))
		return task_fail(c, n, "'flag' takes 'value' or 'dynamic', not both");
	if (d)
		return parse_dynamic(c, d, t);
	if ((rc = task_get_str(c, n, "value", true, &t->flag_value)))
		return rc;
	if (!*t->flag_value)
		return task_fail(c, n, "flag value must not be empty");
	t->flag_kind = FLAG_STATIC;
	return ERR_OK;
}
