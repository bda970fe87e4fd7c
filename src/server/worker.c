/*
 * worker.c - the server runs campaigns through the existing engine: one
 * `assay run` child at a time (the worker), supervised from the main
 * loop once a second. The credential reaches it only as a 0600 key file
 * in a private directory, removed when the worker ends; the run's output
 * goes to $ASSAY_HOME/program-runs/campaign-ID.log. The run's id is the
 * first run created after the worker started (one worker at a time).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "vault/atrest.h"
#include "vault/vault.h"
#include "base/banned.h"


/* The campaign's `assay run` command line, NULL-terminated (it grows:
 * a campaign names up to 200 tasks, two words each). */
struct argv {
	char **v;
	size_t n, cap;
};

static void add(struct argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void argv_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The model's credential into a fresh 0600 file; its path, or NULL when
 * the model has none. */
static char *write_key(struct srv *s, int64_t model_id, const char *dir)
{
	char *sealed = NULL, *plain = NULL, *kp, *out, ad[48], name[64];
	struct vault_atrest *k;
	struct errmsg e;
	int fd;

	if (store_model_cred(s->st, model_id, &sealed, NULL))
		return NULL;
	snprintf(name, sizeof(name), "model-%lld.key", (long long)model_id);
	kp = path_join(s->key_dir, name);
	snprintf(ad, sizeof(ad), "model:%lld:credential", (long long)model_id);
	if (!path_exists(kp) || vault_atrest_load(kp, &k, &e)) {
		free(kp);
		free(sealed);
		return NULL;
	}
	free(kp);
	if (vault_atrest_open(k, ad, sealed, &plain, &e))
		plain = NULL;
	vault_atrest_free(k);
	free(sealed);
	if (!plain)
		return NULL;
	out = path_join(dir, "credential");
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, plain, strlen(plain)) != (ssize_t)strlen(plain)) {
		free(out);
		out = NULL;
	}
	if (fd >= 0)
		close(fd);
	explicit_bzero(plain, strlen(plain));
	free(plain);
	return out;
}

/* A campaign's limits (api_campaigns.c) as `assay run` options. */
static const char *const limit_opts[][2] = {
	{ "tokens", "--episode-tokens" },
	{ "seconds", "--episode-working-s" },
	{ "budget_tokens", "--budget-tokens" },
};

/* --executor slurm and its options; the workers' output goes to the
 * campaign's private directory dir. */
static void add_slurm(const struct server_opts *o, const char *dir,
		      struct argv *a)
{
	char num[24], *out;

	add(a, "--executor");
	add(a, "slurm");
	snprintf(num, sizeof(num), "%d", o->slurm_workers > 0 ? o->slurm_workers
							      : 2);
	add(a, "--workers");
	add(a, num);
	if (o->slurm_partition) {
		add(a, "--partition");
		add(a, o->slurm_partition);
	}
	out = xasprintf("--slurm-arg=--output=%s/slurm-assay-%%A_%%a.out", dir);
	add(a, out);
	free(out);
	for (size_t i = 0; i < o->n_slurm_args; i++) {
		out = xasprintf("--slurm-arg=%s", o->slurm_args[i]);
		add(a, out);
		free(out);
	}
}

/* Whether a campaign goes to a Slurm job array: with --executor slurm,
 * and for a sealed suite only when the nodes' worker keys are known (a
 * node unwraps the task keys with its own; without, the run is here). */
static bool on_slurm(const struct server_opts *o, bool sealed)
{
	if (!o->executor || strcmp(o->executor, "slurm"))
		return false;
	return !sealed || (o->n_worker_keys && o->worker_key_file);
}

/* sealed: the sealed suite's options (srv_sealed_args), NULL for the
 * shipped open suite. */
static void build_argv(struct srv *s, const struct sp_campaign *c,
		       json_t *doc, json_t *mdoc, const char *keyfile,
		       const char *dir, char **sealed, struct argv *a)
{
	json_t *ep = json_object_get(mdoc, "endpoint"), *v;
	const char *prov = json_string_value(json_object_get(ep, "provider"));
	const char *mname = json_string_value(json_object_get(ep, "model"));
	const char *url = json_string_value(json_object_get(ep, "base_url"));
	char *model = xasprintf("%s/%s", prov, mname ? mname : "model");
	char *suite = path_data_file("tasks"), num[24], org[32];
	size_t i;

	add(a, s->assay_path);
	add(a, "run");
	if (sealed) {
		for (i = 0; sealed[i]; i++)
			add(a, sealed[i]);
	} else {
		add(a, "--suite");
		add(a, suite ? suite : "tasks");
	}
	add(a, "--model");
	add(a, model);
	snprintf(num, sizeof(num), "%lld",
		 (long long)json_integer_value(json_object_get(doc, "epochs")));
	add(a, "--epochs");
	add(a, num);
	add(a, "--policy");
	add(a, json_string_value(json_object_get(doc, "policy")));
	add(a, "--json");
	add(a, "--store");
	add(a, s->o->store_path);
	snprintf(org, sizeof(org), "org-%lld", (long long)c->org_id);
	add(a, "--developer");
	add(a, org);
	if (url && *url) {
		add(a, "--base-url");
		add(a, url);
	}
	if (keyfile) {
		add(a, "--key-file");
		add(a, keyfile);
	}
	if (on_slurm(s->o, sealed != NULL))
		add_slurm(s->o, dir, a);
	if (sealed && on_slurm(s->o, true)) {
		for (i = 0; i < s->o->n_worker_keys; i++) {
			add(a, "--worker-key");
			add(a, s->o->worker_keys[i]);
		}
		add(a, "--worker-key-file");
		add(a, s->o->worker_key_file);
	}
	for (i = 0; i < ARRAY_SIZE(limit_opts); i++) {
		json_t *n = json_object_get(json_object_get(doc, "limits"),
					    limit_opts[i][0]);
		if (!json_is_integer(n))
			continue;
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(n));
		add(a, limit_opts[i][1]);
		add(a, num);
	}
	v = json_array_get(json_object_get(doc, "scaffolds"), 0);
	if (json_is_string(v)) {
		add(a, "--agent");
		add(a, json_string_value(v));
	}
	json_array_foreach(json_object_get(doc, "tasks"), i, v) {
		add(a, "--task");
		add(a, json_string_value(v));
	}
	free(model);
	free(suite);
}

static void worker_done(struct srv *s, int status);

static void spawn(struct srv *s, struct sp_campaign *c)
{
	json_t *doc = json_loads(c->doc, 0, NULL), *mdoc = NULL;
	struct sp_model m;
	struct argv a = { 0 };
	char *dir = vault_home_path("program-runs", NULL), *logp, *priv;
	char **sealed = NULL;
	char name[64];
	struct errmsg e;
	pid_t pid, parent;
	int fd;

	memset(&m, 0, sizeof(m));
	if (!doc || store_model_get(s->st, c->model_id, &m, &e) ||
	    !(mdoc = json_loads(m.doc, 0, NULL)) || mkdir_p(dir, 0700, &e)) {
		log_error("server: campaign %lld cannot start", (long long)c->id);
		if (store_campaign_set(s->st, c->id, "failed", 0, NULL))
			log_error("server: campaign state not saved");
		goto out;
	}
	snprintf(name, sizeof(name), "campaign-%lld.d", (long long)c->id);
	priv = path_join(dir, name);
	if (mkdir(priv, 0700) && errno != EEXIST)
		log_warn("server: %s: %s", priv, strerror(errno));
	s->worker_keyfile = write_key(s, c->model_id, priv);
	s->worker_dir = priv;
	s->worker_sealed = campaign_sealed(c);
	if (s->worker_sealed &&
	    !(sealed = srv_sealed_args(s, c->id, priv, &e))) {
		log_error("server: campaign %lld cannot start: %s",
			  (long long)c->id, e.text);
		s->worker_campaign = c->id;
		s->worker_run_before = store_last_run_id(s->st);
	s->worker_run_known = false;
		worker_done(s, 3 << 8); /* as a run that failed (exit 3) */
		goto out;
	}
	if (sealed && s->o->executor && !strcmp(s->o->executor, "slurm") &&
	    !on_slurm(s->o, true))
		log_info("server: campaign %lld: its sealed suite runs on this "
			 "machine (serve has no --worker-key for Slurm's nodes)",
			 (long long)c->id);
	build_argv(s, c, doc, mdoc, s->worker_keyfile, priv, sealed, &a);
	snprintf(name, sizeof(name), "campaign-%lld.log", (long long)c->id);
	logp = path_join(dir, name);
	s->worker_run_before = store_last_run_id(s->st);
	s->worker_run_known = false;
	parent = getpid();
	pid = fork();
	if (pid == 0) {
		/* the run stops (interrupted, resumable) when the service dies:
		 * nobody would follow it, and its files are removed at the next
		 * start (srv_worker_recover) */
		sigset_t none;

		/* the service blocks SIGINT and SIGTERM for its sigtimedwait;
		 * the run must see them (srv_worker_stop, the death signal) */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
			_exit(127);
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(a.v[0], a.v);
		_exit(127);
	}
	free(logp);
	if (pid < 0) {
		log_error("server: fork: %s", strerror(errno));
		goto out;
	}
	s->worker_pid = pid;
	s->worker_campaign = c->id;
	if (store_campaign_set(s->st, c->id, "running", 0, &e))
		log_error("server: campaign %lld: %s", (long long)c->id, e.text);
out:
	srv_sealed_args_free(sealed);
	argv_free(&a);
	json_decref(doc);
	json_decref(mdoc);
	store_model_free(&m);
	free(dir);
}

static void worker_done(struct srv *s, int status)
{
	int64_t run = store_last_run_id(s->st);
	bool ok = WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
					WEXITSTATUS(status) == 1);
	struct req r;
	struct errmsg e;

	if (run <= s->worker_run_before)
		run = 0;
	if (store_campaign_set(s->st, s->worker_campaign, ok && run ? "done" :
			       "failed", run, &e))
		log_error("server: campaign %lld: %s",
			  (long long)s->worker_campaign, e.text);
	memset(&r, 0, sizeof(r));
	r.method = "WORKER";
	r.path = "/campaigns";
	r.client_ip = "local";
	srv_audit(s, &r, "campaign.end", "result", ok ? "done" : "failed",
		  s->worker_campaign);
	if (s->worker_sealed)
		srv_sealed_end(s, s->worker_campaign, s->worker_dir);
	s->worker_sealed = false;
	if (s->worker_keyfile) {
		unlink(s->worker_keyfile);
		free(s->worker_keyfile);
		s->worker_keyfile = NULL;
	}
	if (s->worker_dir) {
		rmdir(s->worker_dir);
		free(s->worker_dir);
		s->worker_dir = NULL;
	}
	s->worker_pid = 0;
	s->worker_campaign = 0;
}

void srv_worker_tick(struct srv *s)
{
	struct sp_campaign *v = NULL;
	size_t n = 0;
	int status;

	if (s->worker_pid) {
		pid_t p = waitpid(s->worker_pid, &status, WNOHANG);
		int64_t run;

		if (p == s->worker_pid) {
			worker_done(s, status);
		} else if (!s->worker_run_known &&
			   (run = store_last_run_id(s->st)) > s->worker_run_before) {
			/* once: a write each second would queue every request
			 * behind the run's own commits */
			if (store_campaign_set(s->st, s->worker_campaign,
					       "running", run, NULL))
				log_warn("server: could not record the campaign's run");
			else
				s->worker_run_known = true;
		}
		return;
	}
	if (store_campaign_list(s->st, 0, 0, 500, &v, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].state, "queued")) {
			spawn(s, &v[i]);
			break;
		}
	store_campaigns_free(v, n);
}

/* Remove what a worker left in dir (its credential, and a sealed
 * campaign's request key and approvals), then dir if it is empty. */
static void remove_private(struct srv *s, int64_t id, const char *dir)
{
	char *p = path_join(dir, "credential");

	unlink(p);
	free(p);
	if (id)
		srv_sealed_end(s, id, dir);
	if (rmdir(dir) && errno != ENOENT && errno != ENOTEMPTY)
		log_warn("server: %s: %s", dir, strerror(errno));
}

/* A campaign id from a private directory's name, "campaign-ID.d"; 0 for
 * another name. */
static int64_t private_dir_id(const char *name)
{
	long long id = 0;
	size_t n = strlen(name);
	char num[24];

	if (strncmp(name, "campaign-", 9) || n < 12 || n - 11 >= sizeof(num) ||
	    strcmp(name + n - 2, ".d"))
		return 0;
	memcpy(num, name + 9, n - 11);
	num[n - 11] = 0;
	return num_ll(num, 1, INT64_MAX, &id) ? id : 0;
}

/* A campaign left running by a service that died (kill -9, power loss):
 * nobody runs it now. It ends failed, audited; a sealed one's request is
 * erased (its run spent it). */
static void end_orphan(struct srv *s, const struct sp_campaign *c)
{
	struct req r;
	struct errmsg e;

	if (store_campaign_set(s->st, c->id, "failed", c->run_id, &e))
		log_error("server: campaign %lld: %s", (long long)c->id, e.text);
	if (campaign_sealed(c))
		srv_sealed_end(s, c->id, NULL);
	memset(&r, 0, sizeof(r));
	r.method = "WORKER";
	r.path = "/campaigns";
	r.client_ip = "local";
	srv_audit(s, &r, "campaign.end", "result", "failed: the service "
		  "stopped during its run", c->id);
	log_warn("server: campaign %lld was running when the service stopped: "
		 "failed", (long long)c->id);
}

void srv_worker_recover(struct srv *s)
{
	char *dir = vault_home_path("program-runs", NULL);
	struct sp_campaign *v = NULL;
	struct dirent *de;
	int64_t after = 0;
	size_t n = 0;
	DIR *d;

	do {
		if (store_campaign_list(s->st, 0, after, 500, &v, &n, NULL))
			break;
		for (size_t i = 0; i < n; i++) {
			after = v[i].id;
			if (!strcmp(v[i].state, "running"))
				end_orphan(s, &v[i]);
		}
		store_campaigns_free(v, n);
	} while (n == 500);
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			int64_t id = private_dir_id(de->d_name);
			char *p;

			if (!id)
				continue;
			p = path_join(dir, de->d_name);
			remove_private(s, id, p);
			free(p);
		}
		closedir(d);
	}
	free(dir);
}

void srv_worker_stop(struct srv *s)
{
	int status;

	if (!s->worker_pid)
		return;
	kill(s->worker_pid, SIGTERM);
	if (waitpid(s->worker_pid, &status, 0) == s->worker_pid)
		worker_done(s, status);
}
