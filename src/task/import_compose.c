/*
 * import_compose.c - the subset of a Docker compose file that assay can
 * represent (docs/IMPORT.md, "Compose subset").
 *
 * Kept: image (by name: an image imported with `assay image import`),
 * command / entrypoint (-> run), environment (-> env), ports and expose
 * (the container side -> ports), user (the agent box: agent or root; a
 * service: its `user`), healthcheck.test (-> ready.cmd).
 * Refused with the reason: privileged, cap_add, devices, network_mode
 * host (host networking), an external network or a network_mode other
 * than none/bridge/default (external network), a build without an image
 * name, and host bind mounts. Harmless keys (init, tty, restart, cpus,
 * mem_limit, depends_on, working_dir, ...) are ignored; any other key is
 * refused as unsupported rather than silently dropped.
 */
#include "task/import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

static const char *const ignored_keys[] = {
	"init", "tty", "stdin_open", "restart", "cpus", "mem_limit",
	"memswap_limit", "mem_reservation", "depends_on", "working_dir",
	"hostname", "container_name", "labels", "platform", "x-local",
	"x-default", "domainname", "stop_signal", "stop_grace_period",
	"shm_size", "logging", "pull_policy", "deploy", "networks",
	"image", "command", "entrypoint", "environment", "ports", "expose",
	"user", "healthcheck", "build", "volumes", "privileged", "cap_add",
	"devices", "network_mode", "cap_drop", "security_opt", "ulimits",
	"extra_hosts", "dns", "env_file", NULL,
};

static bool known_key(const char *k)
{
	for (size_t i = 0; ignored_keys[i]; i++)
		if (!strcmp(k, ignored_keys[i]))
			return true;
	return false;
}

static bool truthy(const struct ynode *v)
{
	return v && v->kind == YNODE_SCALAR && !strcmp(v->str, "true");
}

static bool has_items(const struct ynode *v)
{
	return v && !yscalar_is_null(v) && (v->kind != YNODE_SCALAR || *v->str);
}

/* The refusals that concern one service s named name. */
static bool service_ok(struct imp_task *t, const char *name,
		       const struct ynode *s, bool is_agent)
{
	const char *nm = task_imp_str(s, "network_mode"), *so;
	const struct ynode *vols = ymap_get(s, "volumes");

	if (truthy(ymap_get(s, "privileged")))
		return task_imp_refuse(t, REFUSE_PRIVILEGED, "service '%s' is "
				       "privileged", name);
	if (has_items(ymap_get(s, "cap_add")))
		return task_imp_refuse(t, REFUSE_CAP_ADD, "service '%s' adds "
				       "capabilities (cap_add)", name);
	if (has_items(ymap_get(s, "devices")))
		return task_imp_refuse(t, REFUSE_DEVICES,
				       "service '%s' maps host "
				       "devices",
				       name);
	if (nm && !strcmp(nm, "host"))
		return task_imp_refuse(t, REFUSE_HOST_NETWORK,
				       "service '%s' uses "
				       "the host's network",
				       name);
	if (nm && strcmp(nm, "none") && strcmp(nm, "bridge") &&
	    strcmp(nm, "default"))
		return task_imp_refuse(t, REFUSE_EXTERNAL_NETWORK,
				       "service '%s' "
				       "has network_mode '%s'",
				       name, nm);
	for (size_t i = 0; vols && vols->kind == YNODE_SEQ && i < vols->n; i++) {
		so = vols->items[i]->kind == YNODE_SCALAR ? vols->items[i]->str : "";
		if (*so == '/' || *so == '.' || *so == '~')
			return task_imp_refuse(t, REFUSE_UNSUPPORTED,
					       "service '%s' "
					       "bind-mounts a host path",
					       name);
	}
	for (size_t i = 0; i < s->n; i++)
		if (!known_key(s->pairs[i].key->str))
			return task_imp_refuse(t, REFUSE_UNSUPPORTED, "service '%s': "
					       "compose key '%s' is not supported",
					       name, s->pairs[i].key->str);
	if (!is_agent && !task_imp_str(s, "image"))
		return task_imp_refuse(t, REFUSE_IMAGE,
				       "service '%s' is built from "
				       "a Dockerfile and names no image (build it, "
				       "then assay image import)",
				       name);
	return true;
}

/* A command: a list is argv, a string runs through sh -c. */
static char **argv_of(const struct ynode *v)
{
	char **out = xcalloc(1, sizeof(char *));

	if (!v || yscalar_is_null(v))
		return out;
	if (v->kind == YNODE_SCALAR) {
		task_imp_strv_add(&out, "sh");
		task_imp_strv_add(&out, "-c");
		task_imp_strv_add(&out, v->str);
		return out;
	}
	for (size_t i = 0; v->kind == YNODE_SEQ && i < v->n; i++)
		if (v->items[i]->kind == YNODE_SCALAR) {
			size_t n = strv_len(out);   /* duplicates allowed */
			out = xrealloc(out, (n + 2) * sizeof(char *));
			out[n] = xstrdup(v->items[i]->str);
			out[n + 1] = NULL;
		}
	return out;
}

static void env_of(struct imp_svc *s, const struct ynode *env)
{
	s->env = xcalloc(1, sizeof(char *));
	if (env && env->kind == YNODE_MAP)
		for (size_t i = 0; i < env->n; i++) {
			char *kv = xasprintf("%s=%s", env->pairs[i].key->str,
					     env->pairs[i].val->kind == YNODE_SCALAR &&
					     !yscalar_is_null(env->pairs[i].val) ?
					     env->pairs[i].val->str : "");
			task_imp_strv_add(&s->env, kv);
			free(kv);
		}
	if (env && env->kind == YNODE_SEQ)
		for (size_t i = 0; i < env->n; i++)
			if (env->items[i]->kind == YNODE_SCALAR &&
			    strchr(env->items[i]->str, '='))
				task_imp_strv_add(&s->env, env->items[i]->str);
}

/* "8080:80/tcp" -> 80; 80 -> 80; 0 when unreadable. */
static int container_port(const char *s)
{
	const char *c = strrchr(s, ':'), *num = c ? c + 1 : s;
	size_t n = strlen(num);
	char text[16];
	int p;

	if (n > 4 && !strcmp(num + n - 4, "/tcp"))
		n -= 4;
	if (n >= sizeof(text))
		return 0;
	memcpy(text, num, n);
	text[n] = '\0';
	return num_int(text, 1, 65535, &p) ? p : 0;
}

static void ports_of(struct imp_svc *s, const struct ynode *v)
{
	for (size_t i = 0; v && v->kind == YNODE_SEQ && i < v->n; i++) {
		int p = v->items[i]->kind == YNODE_SCALAR
				? container_port(v->items[i]->str)
				: container_port(
					  task_imp_str(v->items[i], "target")
						  ? task_imp_str(v->items[i],
								 "target")
						  : "");
		bool dup = false;
		for (size_t k = 0; k < s->n_ports; k++)
			dup |= s->ports[k] == p;
		if (p && !dup && s->n_ports < IMP_MAX_PORTS)
			s->ports[s->n_ports++] = p;
	}
}

/* healthcheck.test: ["CMD", argv...], ["CMD-SHELL", "line"] or a line. */
static char **ready_of(const struct ynode *hc)
{
	const struct ynode *test = ymap_get(hc, "test");
	char **v;

	if (!test || yscalar_is_null(test))
		return NULL;
	v = argv_of(test);
	if (test->kind == YNODE_SEQ && v[0] && !strcmp(v[0], "NONE")) {
		strv_free(v);
		return NULL;
	}
	if (test->kind == YNODE_SEQ && v[0] && (!strcmp(v[0], "CMD") ||
						!strcmp(v[0], "CMD-SHELL"))) {
		bool shell = !strcmp(v[0], "CMD-SHELL");
		char **r = xcalloc(1, sizeof(char *));
		if (shell) {
			task_imp_strv_add(&r, "sh");
			task_imp_strv_add(&r, "-c");
		}
		for (size_t i = 1; v[i]; i++) {
			size_t n = strv_len(r);
			r = xrealloc(r, (n + 2) * sizeof(char *));
			r[n] = xstrdup(v[i]);
			r[n + 1] = NULL;
		}
		strv_free(v);
		return r;
	}
	return v;
}

static void add_service(struct imp_task *t, const char *name,
			const struct ynode *s)
{
	struct imp_svc *v;
	char **ep = argv_of(ymap_get(s, "entrypoint"));
	char **cmd = argv_of(ymap_get(s, "command"));
	const char *user = task_imp_str(s, "user");
	size_t ne = strv_len(ep), nc = strv_len(cmd);

	if (t->n_svc == IMP_MAX_SERVICES) {
		task_imp_refuse(t, REFUSE_UNSUPPORTED, "more than %d services",
				IMP_MAX_SERVICES);
		strv_free(ep);
		strv_free(cmd);
		return;
	}
	v = &t->svc[t->n_svc++];
	v->name = task_imp_slug(name, 40);
	v->image = xstrdup(task_imp_str(s, "image"));
	v->run = xrealloc(ep, (ne + nc + 1) * sizeof(char *));
	memcpy(v->run + ne, cmd, (nc + 1) * sizeof(char *));
	free(cmd);
	if (!v->run[0])
		task_imp_refuse(t, REFUSE_UNSUPPORTED, "service '%s' gives no "
				"command or entrypoint (assay needs 'run')", name);
	if (user && strcmp(user, "root") && strcmp(user, "0"))
		v->user = xstrdup(user);
	env_of(v, ymap_get(s, "environment"));
	ports_of(v, ymap_get(s, "ports"));
	ports_of(v, ymap_get(s, "expose"));
	v->ready_cmd = ready_of(ymap_get(s, "healthcheck"));
	if (!v->ready_cmd && v->n_ports)
		v->ready_port = v->ports[0];
}

static bool networks_ok(struct imp_task *t, const struct ynode *root)
{
	const struct ynode *nets = ymap_get(root, "networks");

	for (size_t i = 0; nets && nets->kind == YNODE_MAP && i < nets->n; i++) {
		const struct ynode *n = nets->pairs[i].val;
		if (truthy(ymap_get(n, "external")))
			return task_imp_refuse(t, REFUSE_EXTERNAL_NETWORK,
					       "network "
					       "'%s' is external",
					       nets->pairs[i].key->str);
	}
	return true;
}

static size_t default_index(const struct ynode *svcs, const char *agent_name)
{
	for (size_t i = 0; i < svcs->n; i++)
		if (!strcmp(svcs->pairs[i].key->str, agent_name ? agent_name :
			    "default"))
			return i;
	for (size_t i = 0; !agent_name && i < svcs->n; i++)
		if (truthy(ymap_get(svcs->pairs[i].val, "x-default")))
			return i;
	return agent_name ? svcs->n : 0;
}

struct ynode *task_imp_compose_file(struct imp_task *t, const char *dir)
{
	static const char *const names[] = { "docker-compose.yml",
		"docker-compose.yaml", "compose.yml", "compose.yaml", NULL };
	struct ynode *compose = NULL;
	struct errmsg e;

	for (size_t i = 0; names[i] && !compose; i++) {
		char *p = path_join(dir, names[i]);
		if (task_imp_is_file(p) &&
		    task_imp_load(p, IMP_YAML, &compose, &e))
			task_imp_refuse(t, REFUSE_INVALID, "%s", e.text);
		free(p);
	}
	return compose;
}

void task_imp_compose(struct imp_task *t, const struct ynode *compose,
		      const char *agent_name)
{
	const struct ynode *svcs = ymap_get(compose, "services");
	size_t def;

	if (!svcs || svcs->kind != YNODE_MAP || !svcs->n) {
		task_imp_refuse(t, REFUSE_INVALID, "the compose file has no services");
		return;
	}
	if (!networks_ok(t, compose))
		return;
	def = default_index(svcs, agent_name);
	for (size_t i = 0; i < svcs->n; i++) {
		const char *name = svcs->pairs[i].key->str;
		const struct ynode *s = svcs->pairs[i].val;
		if (s->kind != YNODE_MAP) {
			task_imp_refuse(t, REFUSE_INVALID, "service '%s' is not a map",
					name);
			return;
		}
		if (!service_ok(t, name, s, i == def))
			return;
		if (i == def) {
			const char *u = task_imp_str(s, "user");
			free(t->agent_image);
			t->agent_image =
				xstrdup(task_imp_str(s, "image")
						? task_imp_str(s, "image")
						: "?");
			free(t->agent_user);
			t->agent_user = xstrdup(u && (!strcmp(u, "root") ||
						!strcmp(u, "0")) ? "root" : "agent");
			continue;
		}
		add_service(t, name, s);
	}
}
