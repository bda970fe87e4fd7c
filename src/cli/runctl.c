/*
 * runctl.c - shared plumbing of the commands that run episodes.
 */
#include "cli/runctl.h"

#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "sandbox/sandbox.h"
#include "vault/auditlog.h"
#include "vault/vault.h"
#include "base/banned.h"

static volatile sig_atomic_t stop_flag;

/* SIGINT, SIGTERM, SIGHUP: stop cleanly; a second one: stop now (the
 * journal stays consistent: only waiting for owed replies is skipped). */
static void on_signal(int sig)
{
	static const char msg[] = "\nassay: stopping now (second signal)\n";

	(void)sig;
	if (stop_flag < 2)
		stop_flag++;
	if (stop_flag == 2 && write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		stop_flag = 2;
}

void cli_run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->epochs = 1;
	o->jobs = cli_default_jobs();
	o->params.temperature = -1;
	o->params.seed = -1;
}

int cli_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n * 2 : 2;
}

void cli_run_select_add(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static json_t *strings_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The selection, stored with the run so that resume runs the same tasks. */
static void select_to_json(json_t *j, const struct run_select *s)
{
	if (s->n_tasks)
		json_object_set_new(j, "tasks", strings_json(s->tasks, s->n_tasks));
	if (s->n_categories)
		json_object_set_new(j, "categories",
				    strings_json(s->categories, s->n_categories));
	if (s->n_tags)
		json_object_set_new(j, "tags", strings_json(s->tags, s->n_tags));
	if (s->tiers)
		json_object_set_new(j, "tiers", json_integer(s->tiers));
	if (s->limit)
		json_object_set_new(j, "limit", json_integer(s->limit));
}

static void strings_from_json(json_t *j, const char *key, char ***v, size_t *n)
{
	json_t *a = json_object_get(j, key), *x;
	size_t i;

	json_array_foreach(a, i, x)
		if (json_is_string(x))
			cli_run_select_add(v, n, json_string_value(x));
}

static void select_from_json(json_t *j, struct run_select *s)
{
	json_t *v;

	strings_from_json(j, "tasks", &s->tasks, &s->n_tasks);
	strings_from_json(j, "categories", &s->categories, &s->n_categories);
	strings_from_json(j, "tags", &s->tags, &s->n_tags);
	if ((v = json_object_get(j, "tiers")) && json_is_integer(v))
		s->tiers = (unsigned)json_integer_value(v);
	if ((v = json_object_get(j, "limit")) && json_is_integer(v))
		s->limit = (long)json_integer_value(v);
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void make_absolute(struct run_opts *o, const char **field)
{
	char *abs;

	if (!*field || **field == '/' || o->n_owned == ARRAY_SIZE(o->owned))
		return;
	abs = realpath(*field, NULL);
	if (!abs)
		return;    /* opening it fails later with a clear message */
	o->owned[o->n_owned++] = abs;
	*field = abs;
}

void cli_run_opts_absolute(struct run_opts *o)
{
	make_absolute(o, &o->suite);
	make_absolute(o, &o->key_file);
	make_absolute(o, &o->ca_bundle);
	make_absolute(o, &o->policy);
}

char *cli_run_opts_to_json(const struct run_opts *o)
{
	json_t *j = json_object();
	char *s;

	json_object_set_new(j, "suite", json_string(o->suite));
	json_object_set_new(j, "model", json_string(o->model));
	json_object_set_new(j, "agent", json_string(o->agent ? o->agent : "react"));
	json_object_set_new(j, "epochs", json_integer(o->epochs));
	json_object_set_new(j, "jobs", json_integer(o->jobs));
	if (o->base_url)
		json_object_set_new(j, "base_url", json_string(o->base_url));
	if (o->key_file)
		json_object_set_new(j, "key_file", json_string(o->key_file));
	if (o->ca_bundle)
		json_object_set_new(j, "ca_bundle", json_string(o->ca_bundle));
	if (o->prompt_level)
		json_object_set_new(j, "prompt", json_string(o->prompt_level));
	if (o->developer)
		json_object_set_new(j, "developer", json_string(o->developer));
	if (o->params.temperature >= 0)
		json_object_set_new(j, "temperature", json_real(o->params.temperature));
	if (o->params.max_tokens)
		json_object_set_new(j, "max_tokens", json_integer(o->params.max_tokens));
	if (o->params.seed >= 0)
		json_object_set_new(j, "seed", json_integer(o->params.seed));
	if (o->params.reasoning_effort)
		json_object_set_new(j, "reasoning_effort",
				    json_string(o->params.reasoning_effort));
	if (o->policy)
		json_object_set_new(j, "policy", json_string(o->policy));
	if (o->policy_sha256)
		json_object_set_new(j, "policy_sha256",
				    json_string(o->policy_sha256));
	if (o->fail_on_scrutiny)
		json_object_set_new(j, "fail_on_scrutiny", json_true());
	json_object_set_new(j, "max_retries", json_integer(o->max_retries));
	json_object_set_new(j, "context_window", json_integer(o->context_window));
	json_object_set_new(j, "request_timeout_s", json_integer(o->request_timeout_s));
	json_object_set_new(j, "backoff_ms", json_integer(o->backoff_ms));
	json_object_set_new(j, "budget_tokens", json_integer(o->budget_tokens));
	json_object_set_new(j, "budget_usd", json_real(o->budget_usd));
	json_object_set_new(j, "episode_usd", json_real(o->episode_usd));
	json_object_set_new(j, "episode_working_s", json_integer(o->episode_working_s));
	json_object_set_new(j, "episode_tokens", json_integer(o->episode_tokens));
	json_object_set_new(j, "outage_deadline_s", json_integer(o->outage_deadline_s));
	json_object_set_new(j, "reply_memory_mb", json_integer(o->reply_memory_mb));
	select_to_json(j, &o->sel);
	if (o->price_unknown)
		json_object_set_new(j, "price_known", json_false());
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* A string restored from JSON, owned by o until cli_run_opts_release. */
static const char *keep(struct run_opts *o, json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	char *s;

	if (!json_is_string(v) || o->n_owned == ARRAY_SIZE(o->owned))
		return NULL;
	s = xstrdup(json_string_value(v));
	o->owned[o->n_owned++] = s;
	return s;
}

/* A number restored from JSON, left as it was when absent or not one. */
static void take_int(json_t *j, const char *key, int *out)
{
	json_t *v = json_object_get(j, key);

	if (json_is_integer(v))
		*out = (int)json_integer_value(v);
}

static void take_long(json_t *j, const char *key, long *out)
{
	json_t *v = json_object_get(j, key);

	if (json_is_integer(v))
		*out = (long)json_integer_value(v);
}

static void take_real(json_t *j, const char *key, double *out)
{
	json_t *v = json_object_get(j, key);

	if (json_is_number(v))
		*out = json_number_value(v);
}

void cli_run_opts_release(struct run_opts *o)
{
	for (size_t i = 0; i < o->n_owned; i++)
		free(o->owned[i]);
	o->n_owned = 0;
	strings_free(o->sel.tasks, o->sel.n_tasks);
	strings_free(o->sel.categories, o->sel.n_categories);
	strings_free(o->sel.tags, o->sel.n_tags);
	memset(&o->sel, 0, sizeof(o->sel));
}

enum err cli_run_opts_from_json(struct run_opts *o, const char *text,
				struct errmsg *e)
{
	json_error_t jerr;
	json_t *j = json_loads(text ? text : "", 0, &jerr);

	if (!j || !json_is_object(j)) {
		json_decref(j);
		return err_set(e, ERR_STORE, "the run's stored configuration "
			       "is not valid JSON");
	}
	o->suite = keep(o, j, "suite");
	o->model = keep(o, j, "model");
	o->base_url = keep(o, j, "base_url");
	o->key_file = keep(o, j, "key_file");
	o->ca_bundle = keep(o, j, "ca_bundle");
	o->prompt_level = keep(o, j, "prompt");
	o->agent = keep(o, j, "agent");
	if (o->agent && !agent_scaffold_parse(o->agent, &(enum agent_scaffold){ 0 })) {
		json_decref(j);
		return err_set(e, ERR_STORE, "the run's stored configuration names "
			       "an unknown agent scaffold '%s'", o->agent);
	}
	o->developer = keep(o, j, "developer");
	select_from_json(j, &o->sel);
	o->policy = keep(o, j, "policy");
	o->policy_sha256 = keep(o, j, "policy_sha256");
	o->fail_on_scrutiny = json_is_true(json_object_get(j, "fail_on_scrutiny"));
	o->params.reasoning_effort = keep(o, j, "reasoning_effort");
	take_int(j, "epochs", &o->epochs);
	take_int(j, "jobs", &o->jobs);
	take_real(j, "temperature", &o->params.temperature);
	take_long(j, "max_tokens", &o->params.max_tokens);
	take_long(j, "seed", &o->params.seed);
	take_long(j, "context_window", &o->context_window);
	take_int(j, "max_retries", &o->max_retries);
	take_int(j, "request_timeout_s", &o->request_timeout_s);
	take_int(j, "backoff_ms", &o->backoff_ms);
	take_long(j, "budget_tokens", &o->budget_tokens);
	take_real(j, "budget_usd", &o->budget_usd);
	take_real(j, "episode_usd", &o->episode_usd);
	take_long(j, "episode_working_s", &o->episode_working_s);
	take_long(j, "episode_tokens", &o->episode_tokens);
	take_long(j, "outage_deadline_s", &o->outage_deadline_s);
	take_long(j, "reply_memory_mb", &o->reply_memory_mb);
	json_decref(j);
	if (!o->suite || !o->model)
		return err_set(e, ERR_STORE, "the run's stored configuration "
			       "lacks the suite or the model");
	return ERR_OK;
}

int cli_run_opts_sealed(struct sealed_opts *o, int c, const char *arg)
{
	if (c == 'k') {
		o->request_key = arg;
		return 0;
	}
	if (o->n_approvals == SEALED_MAX_APPROVALS) {
		cli_error("more than %d approvals", SEALED_MAX_APPROVALS);
		return EXIT_USAGE;
	}
	o->approvals[o->n_approvals++] = arg;
	return 0;
}

int cli_run_audit(const char *kind, const struct vault_audit_field *f, size_t nf)
{
	char *dir = cli_audit_dir(NULL);
	struct errmsg e;
	enum err rc = vault_audit_record(dir, kind, f, nf, &e);

	free(dir);
	if (rc) {
		cli_error("audit log: %s", e.text);
		return EXIT_RUNTIME;
	}
	return 0;
}

static enum err load_suite(struct run_ctx *c, const struct run_opts *o,
			   struct errmsg *e)
{
	enum err rc;

	if (path_exists(o->suite) && cli_sealed_is_archive(o->suite))
		rc = cli_sealed_open(o->suite, &o->sealed, &c->suite, &c->sealed, e);
	else
		rc = task_suite_load(o->suite, &c->suite, e);
	return rc;
}

/* --episode-tokens N: every task's per-episode token limit is N, for the
 * agent, the task snapshot (so the report's elicitation check reads it
 * from the journal) and the dry run alike. The content digest is of the
 * task's files, so it does not change. */
static void apply_episode_tokens(struct run_ctx *c, const struct run_opts *o)
{
	for (size_t i = 0; o->episode_tokens > 0 && i < c->suite->n_tasks; i++)
		c->suite->tasks[i]->limits.tokens = o->episode_tokens;
}

/* A cost limit cannot be enforced without a price: refuse to start. */
static enum err check_price(const struct run_ctx *c, const struct run_opts *o,
			    struct errmsg *e)
{
	double in, out;

	if (model_price(c->model, &in, &out))
		return ERR_OK;
	if (o->budget_usd > 0 || o->episode_usd > 0)
		return err_set(e, ERR_INVAL, "model '%s' has no price in the "
			       "price table ($ASSAY_PRICES or data/prices.yaml), "
			       "so %s cannot be enforced; add its price or drop "
			       "the option", model_name(c->model),
			       o->budget_usd > 0 ? "--budget-usd" : "--episode-usd");
	if (!o->quiet && !o->json)
		cli_error("warning: model '%s' has no price in the price table; "
			  "its cost is reported as unknown", model_name(c->model));
	return ERR_OK;
}

static bool any_match(char **pats, size_t n, const char *s, int flags)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(pats[i], s, flags) == 0)
			return true;
	return false;
}

static bool has_tag(const struct task *t, char **tags, size_t n)
{
	for (char **g = t->tags; g && *g; g++)
		if (any_match(tags, n, *g, 0))
			return true;
	return false;
}

static bool selected(const struct task *t, const struct run_select *s)
{
	if (s->n_tasks && !any_match(s->tasks, s->n_tasks, t->id, 0))
		return false;
	if (s->n_categories && !any_match(s->categories, s->n_categories,
					  task_category_name(t->category), 0))
		return false;
	if (s->tiers && !(t->difficulty >= 0 && t->difficulty < 32 &&
			  (s->tiers & (1u << t->difficulty))))
		return false;
	return !s->n_tags || has_tag(t, s->tags, s->n_tags);
}

/* Pin the images of the tasks the run selects (the first --limit of
 * them, in suite order), before the digest: a run names the images it
 * runs. A task the selection leaves out needs no image here, so running
 * the host tasks of a suite does not need the suite's other images
 * imported; its digest keeps the name as written. The same selection
 * (resume, a worker) pins the same tasks, so the digest is stable. */
static enum err pin_selected(struct suite *su, const struct run_select *s,
			     struct errmsg *e)
{
	enum err rc = ERR_OK;
	long k = 0;

	for (size_t i = 0; i < su->n_tasks && rc == ERR_OK; i++) {
		if (!selected(su->tasks[i], s))
			continue;
		if (s->limit && k++ >= s->limit)
			break;
		rc = engine_images_pin(su->tasks[i], e);
	}
	return rc;
}

/* Move the selected tasks to the front, in suite order, and shorten the
 * suite to them; cli_run_ctx_close restores the count so every task is freed.
 * A --task that matches nothing is an error naming it. */
static enum err select_tasks(struct run_ctx *c, const struct run_select *s,
			     struct errmsg *e)
{
	struct suite *su = c->suite;
	size_t k = 0;

	c->n_loaded = su->n_tasks;
	for (size_t i = 0; i < s->n_tasks; i++) {
		size_t j = 0;
		while (j < su->n_tasks && fnmatch(s->tasks[i], su->tasks[j]->id, 0))
			j++;
		if (j == su->n_tasks)
			return err_set(e, ERR_INVAL, "--task '%s' matches no task "
				       "of suite '%s'", s->tasks[i], su->id);
	}
	for (size_t i = 0; i < su->n_tasks; i++)
		if (selected(su->tasks[i], s)) {
			struct task *t = su->tasks[i];
			su->tasks[i] = su->tasks[k];
			su->tasks[k++] = t;
		}
	if (s->limit && (size_t)s->limit < k)
		k = (size_t)s->limit;
	if (!k)
		return err_set(e, ERR_INVAL, "no task of suite '%s' matches the "
			       "selection (--task, --category, --tier, --tag)",
			       su->id);
	su->n_tasks = k;
	return ERR_OK;
}

int cli_run_ctx_open(struct run_ctx *c, const struct run_opts *o)
{
	struct model_config mc = { 0 };
	struct sbx_config sc = { 0 };
	struct errmsg e;
	enum err rc;

	memset(c, 0, sizeof(*c));
	rc = load_suite(c, o, &e);
	if (rc == ERR_OK)
		apply_episode_tokens(c, o);
	if (rc == ERR_OK)
		rc = pin_selected(c->suite, &o->sel, &e);
	if (rc == ERR_OK)
		rc = engine_suite_digest(c->suite, c->digest, &e);
	if (rc == ERR_OK)
		rc = select_tasks(c, &o->sel, &e);
	if (rc == ERR_OK && !o->dry_run && o->store_handle) {
		c->store = o->store_handle;
		c->store_borrowed = true;
	} else if (rc == ERR_OK && !o->dry_run) {
		rc = cli_store_open(o->store, &c->store, &e);
	}
	if (rc == ERR_OK)
		rc = model_ctx_new(&c->mctx, &e);
	if (rc == ERR_OK) {
		/* field by field: the model part's config is not the run's
		 * options (a scan pairs such copies; there is nothing to share) */
		mc.name = o->model;
		mc.base_url = o->base_url;
		mc.key_file = o->key_file;
		mc.ca_bundle = o->ca_bundle;
		mc.params = o->params;
		mc.max_retries = o->max_retries;
		mc.total_timeout_ms = o->request_timeout_s * 1000;
		mc.first_byte_timeout_ms = o->request_timeout_s * 1000;
		mc.backoff_base_ms = o->backoff_ms;
		mc.context_window = o->context_window;
		mc.outage_deadline_ms = o->outage_deadline_s * 1000;
		model_ctx_set_memory_cap(c->mctx, (size_t)o->reply_memory_mb << 20);
		rc = model_open(c->mctx, &mc, &c->model, &e);
		if (rc && rc != ERR_NOMEM)
			rc = ERR_INVAL;
	}
	if (rc == ERR_OK)
		rc = check_price(c, o, &e);
	if (rc == ERR_OK && !o->dry_run &&
	    (rc = sbx_global_init(&sc, &e)) == ERR_OK)
		c->sandbox_up = true;
	if (rc) {
		cli_error("%s", e.text);
		cli_run_ctx_close(c);
		return cli_exit_for(rc);
	}
	return 0;
}

void cli_run_ctx_close(struct run_ctx *c)
{
	/* Wait for every box to be gone before the process exits, so no box
	 * outlives the command that started it. */
	if (c->sandbox_up)
		sbx_global_cleanup();
	model_close(c->model);
	model_ctx_free(c->mctx);
	if (!c->store_borrowed)
		store_close(c->store);
	if (c->suite && c->n_loaded)
		c->suite->n_tasks = c->n_loaded;
	if (c->sealed)
		cli_sealed_close(c->sealed, c->suite);
	else
		task_suite_free(c->suite);
	memset(c, 0, sizeof(*c));
}

static void print_summary(const struct run_opts *o, int64_t run_id,
			  const char *status, const struct store_pairs *p,
			  const struct engine_summary *s)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	if (o->json) {
		printf("{\"run\":%lld,\"status\":\"%s\",\"pairs\":%d,"
		       "\"unscored\":%d,\"episodes\":%d,\"solved\":%d,"
		       "\"model_failures\":%d,\"infra_failures\":%d,"
		       "\"interrupted\":%d,\"gave_up\":%d,\"turns\":%ld,"
		       "\"tokens\":%ld,\"cost_usd\":%.6f,\"stopped\":%s,"
		       "\"harness_cpu_ms\":%.1f,\"harness_maxrss_kb\":%ld}\n",
		       (long long)run_id, status, p->total, p->total - p->scored,
		       s->done, s->solved, s->failed_model, s->failed_infra,
		       s->interrupted, s->gave_up, s->turns, s->tokens,
		       s->cost_usd, s->stopped ? "true" : "false",
		       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
		       ru.ru_maxrss);
		return;
	}
	if (o->quiet)
		return;
	printf("run %lld %s: %d episodes, %d solved, %d model failures, "
	       "%d infrastructure failures, %d interrupted; %ld tokens, "
	       "$%.4f\n", (long long)run_id, status, s->done, s->solved,
	       s->failed_model, s->failed_infra, s->interrupted, s->tokens,
	       s->cost_usd);
}

/* What is left of an incomplete run, on stderr whatever the format. */
static void explain_unscored(int64_t run_id, const struct store_pairs *p,
			     const struct engine_summary *s)
{
	fprintf(stderr, "assay: run %lld is incomplete: %d of %d (task, epoch) "
		"pairs have no scored attempt (%d cut off, %d failed on "
		"infrastructure%s, %d not started%s); finish it with 'assay "
		"resume %lld'\n", (long long)run_id, p->total - p->scored,
		p->total, p->cut_off, p->failed_infra,
		s->gave_up ? " at the retry cap" : "", p->unstarted,
		s->stopped && !s->gave_up && !s->outage
			? ": the run budget is spent" : "",
		(long long)run_id);
}

int64_t cli_run_lease_ttl_ms(void)
{
	const char *v = getenv("ASSAY_LEASE_TTL_S");
	long s;

	if (v && *v && num_long(v, 1, 86400, &s))
		return (int64_t)s * 1000;
	return STORE_LEASE_TTL_MS;
}

int cli_run_lease_take(struct store *st, int64_t run_id)
{
	struct errmsg e;

	if (store_lease_take(st, "run", run_id, cli_run_lease_ttl_ms(), NULL,
			     &e) != ERR_OK) {
		cli_error("cannot execute run %lld: %s", (long long)run_id,
			  e.text);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* The run, its lease and its whole task snapshot in one transaction: a
 * kill at any point leaves either no run or all of it. */
int cli_run_create(struct run_ctx *c, const struct run_opts *o,
		   int64_t *run_id)
{
	struct store_run run = { 0 };
	struct errmsg e;
	char *cfg = cli_run_opts_to_json(o);
	int rc = 0;

	run.model = (char *)model_name(c->model);
	run.endpoint = (char *)model_endpoint(c->model);
	run.suite_id = c->suite->id;
	run.suite_path = (char *)o->suite;
	run.suite_digest = c->digest;
	run.config_json = cfg;
	run.harness_version = (char *)"assay " ASSAY_VERSION;
	run.epochs = o->epochs;
	run.created_ms = wall_ms();
	if (store_tx_begin(c->store, &e) != ERR_OK ||
	    store_run_create(c->store, &run, &e) != ERR_OK ||
	    (rc = cli_run_lease_take(c->store, run.id)) ||
	    engine_snapshot_tasks(c->store, run.id, c->suite, &e) != ERR_OK ||
	    store_tx_commit(c->store, &e) != ERR_OK) {
		if (!rc)
			cli_error("%s", e.text);
		store_tx_rollback(c->store);
		rc = EXIT_RUNTIME;
	}
	free(cfg);
	*run_id = run.id;
	return rc;
}

/* run.start / run.finish in the audit log: what ran against what, never
 * any task text. */
static int audit_run(const struct run_ctx *c, const char *kind,
		     int64_t run_id, const char *status,
		     const struct engine_summary *sum)
{
	struct vault_audit_field f[9] = {
		VAULT_AUDIT_I("run", run_id),
		VAULT_AUDIT_S("model", model_name(c->model)),
		VAULT_AUDIT_S("endpoint", model_endpoint(c->model)),
		VAULT_AUDIT_S("suite", c->suite->id),
		VAULT_AUDIT_S("suite_digest", c->digest),
		VAULT_AUDIT_B("sealed", c->sealed != NULL),
	};
	size_t n = 6;

	if (status)
		f[n++] = (struct vault_audit_field)VAULT_AUDIT_S("status", status);
	if (sum) {
		f[n++] = (struct vault_audit_field)VAULT_AUDIT_I("episodes",
								 sum->done);
		f[n++] = (struct vault_audit_field)VAULT_AUDIT_I("solved",
								 sum->solved);
	}
	return cli_run_audit(kind, f, n);
}

/* The developer behind a model when --developer is not given: the
 * provider for the hosted APIs, the model's name for a self-hosted one. */
static const char *default_developer(const char *model, char *buf, size_t n)
{
	const char *slash = strchr(model, '/');

	if (!slash)
		return model;
	if (!strncmp(model, "openai-compatible/", 18))
		snprintf(buf, n, "%s", slash + 1);
	else
		snprintf(buf, n, "%.*s", (int)(slash - model), model);
	return buf;
}

/* A worker's share of a queued run is over: the run's status is its
 * coordinator's, but an endpoint's fatal error fails the run for every
 * worker (none claims from a failed run). */
static int worker_done(struct run_ctx *c, int64_t run_id, enum err rc,
		       const struct errmsg *e)
{
	struct errmsg ignored;

	if (audit_run(c, "worker.finish", run_id, rc ? "failed" : "ok", NULL))
		return EXIT_RUNTIME;
	if (!rc)
		return stop_flag ? EXIT_INTERRUPTED : EXIT_OK;
	cli_error("run %lld: %s", (long long)run_id, e->text);
	if (rc == ERR_PROVIDER &&
	    store_run_set_status(c->store, run_id, "failed", &ignored))
		log_debug("msg=\"run status not written\" err=\"%s\"",
			  ignored.text);
	return rc == ERR_PROVIDER ? EXIT_OK : EXIT_RUNTIME;
}

bool cli_run_stopped(void)
{
	return stop_flag != 0;
}

void cli_run_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cli_run_ctx_execute(struct run_ctx *c, const struct run_opts *o,
			int64_t run_id, struct engine_summary *sum)
{
	char buf[128];
	struct engine_config ec = { 0 };
	struct progress_view pv;
	struct sigaction sa = { 0 };
	struct store_pairs pairs = { 0 };
	struct errmsg e;
	enum err rc;
	const char *status;

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ec.store = c->store;
	ec.suite = c->suite;
	ec.mctx = c->mctx;
	ec.model = c->model;
	ec.run_id = run_id;
	ec.epochs = o->epochs;
	ec.jobs = o->jobs;
	ec.prompt_level = o->prompt_level;
	if (o->agent) /* checked by run_opts_parse / cli_run_opts_from_json */
		(void)agent_scaffold_parse(o->agent, &ec.scaffold);
	ec.developer = o->developer ? o->developer : default_developer(o->model, buf, sizeof(buf));
	ec.budget_tokens = o->budget_tokens;
	ec.budget_usd = o->budget_usd;
	ec.episode_usd = o->episode_usd;
	ec.episode_working_ms = (int64_t)o->episode_working_s * 1000;
	cli_progress_view_init(&pv,
			       cli_progress_mode_resolve(o->progress, o->quiet,
							 o->json, cli_tty(stderr)),
			       stderr);
	ec.progress = cli_progress_view_update;
	ec.progress_arg = &pv;
	ec.stop = &stop_flag;
	ec.no_preflight = o->no_preflight;
	ec.worker_id = o->worker_id;
	if (audit_run(c, o->worker_id ? "worker.start" : "run.start", run_id,
		      NULL, NULL))
		return EXIT_RUNTIME;
	rc = engine_run(&ec, sum, &e);
	if (o->worker_id)
		return worker_done(c, run_id, rc, &e);
	if (rc == ERR_OK)
		rc = store_run_pairs(c->store, run_id, &pairs, &e);
	status = rc ? "failed" : stop_flag ? "interrupted" :
		 pairs.scored < pairs.total ? "incomplete" : "done";
	if (rc) {
		/* keep the first error; the status write may fail the same way */
		struct errmsg ignored;
		if (store_run_set_status(c->store, run_id, status, &ignored))
			log_debug("msg=\"run status not written\" err=\"%s\"",
				  ignored.text);
	} else if (store_run_set_status(c->store, run_id, status, &e) != ERR_OK) {
		rc = e.code;
	}
	if (audit_run(c, "run.finish", run_id, status, sum) && !rc)
		return EXIT_RUNTIME;
	if (rc) {
		cli_error("run %lld: %s", (long long)run_id, e.text);
		if (rc == ERR_PROVIDER)
			fprintf(stderr, "assay: run %lld marked failed; fix the "
				"endpoint, then 'assay resume %lld' (--base-url, "
				"--key-file, --ca-bundle and the timeouts may be "
				"given again)\n", (long long)run_id, (long long)run_id);
		return EXIT_RUNTIME;
	}
	print_summary(o, run_id, status, &pairs, sum);
	if (stop_flag) {
		fprintf(stderr, "assay: interrupted; finish it with 'assay "
			"resume %lld'\n", (long long)run_id);
		return EXIT_INTERRUPTED;
	}
	if (sum->outage)
		fprintf(stderr, "assay: run %lld: the endpoint %s stayed down "
			"past the outage deadline; the run stops incomplete\n",
			(long long)run_id, model_endpoint(c->model));
	if (pairs.scored < pairs.total) {
		explain_unscored(run_id, &pairs, sum);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* The engine's view of a queued run, from its journal (the workers ran
 * it): what the summary prints. */
static void sum_from_store(struct run_ctx *c, int64_t run_id,
			   struct engine_summary *s)
{
	struct store_episode *eps = NULL;
	size_t n = 0;
	struct errmsg e;

	memset(s, 0, sizeof(*s));
	if (store_episode_list(c->store, run_id, &eps, &n, &e) != ERR_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct store_episode *r = &eps[i];
		s->tokens += r->prompt_tokens + r->completion_tokens;
		s->turns += r->turns;
		s->cost_usd += r->cost_usd;
		if (!strcmp(r->status, "interrupted")) {
			s->interrupted++;
		} else if (r->error_class && !strcmp(r->error_class, "infra")) {
			s->failed_infra++;
		} else if (!strcmp(r->status, "done")) {
			s->done++;
			s->solved += r->score;
			s->failed_model += r->error_class &&
				(!strcmp(r->error_class, "model") ||
				 !strcmp(r->error_class, "agent-caused"));
		}
	}
	store_episodes_free(eps, n);
}

/* Queue every pair, then mark the run queued: one transaction. */
static enum err enqueue(struct run_ctx *c, const struct run_opts *o,
			int64_t run_id, const char *executor, int *n,
			struct errmsg *e)
{
	struct engine_config ec = { 0 };
	enum err rc = store_tx_begin(c->store, e);

	ec.store = c->store;
	ec.suite = c->suite;
	ec.run_id = run_id;
	ec.epochs = o->epochs;
	if (rc == ERR_OK)
		rc = engine_enqueue(&ec, n, e);
	if (rc == ERR_OK)
		rc = store_run_set_executor(c->store, run_id, executor, e);
	if (rc == ERR_OK)
		rc = store_run_set_status(c->store, run_id, "queued", e);
	if (rc == ERR_OK)
		rc = store_tx_commit(c->store, e);
	else
		store_tx_rollback(c->store);
	return rc;
}

/* The Slurm job array of a queue (sl): every SLURM_POLL_MS, whether its
 * workers are still there; an array that ended with attempts still
 * queued is submitted again, CLI_SLURM_RESUBMITS times; *gone when it
 * will not be. A failing squeue is reported and retried (slurmctld may
 * be restarting). */
#define SLURM_POLL_MS 3000
#define SLURM_CANCEL_WAIT_MS 60000

static enum err watch_slurm(struct cli_slurm *sl, const struct run_opts *o,
			    int64_t run_id, int pending, bool *gone,
			    struct errmsg *e)
{
	int live;

	if (cli_slurm_live(sl, &live, e) != ERR_OK) {
		if (++sl->query_failures % 10 == 1)
			cli_error("run %lld: %s (retrying)", (long long)run_id,
				  e->text);
		return ERR_OK;
	}
	sl->query_failures = 0;
	if (live || !pending)
		return ERR_OK;
	if (sl->submissions > CLI_SLURM_RESUBMITS) {
		*gone = true;
		cli_error("run %lld: Slurm job %s ended with %d attempts still "
			  "queued, after %d submissions; the workers' output is "
			  "in slurm-assay-%s_*.out", (long long)run_id,
			  sl->job_id, pending, sl->submissions, sl->job_id);
		return ERR_OK;
	}
	if (!o->quiet)
		cli_error("run %lld: Slurm job %s ended with %d attempts still "
			  "queued: submitting its workers again",
			  (long long)run_id, sl->job_id, pending);
	return cli_slurm_submit(sl, run_id, e);
}

/* Until the queue drains (or a signal, or sl's workers are gone for
 * good): keep the run's lease, reap dead workers, show how far it is. */
static enum err follow(struct run_ctx *c, const struct run_opts *o,
		       int64_t run_id, struct cli_slurm *sl, struct errmsg *e)
{
	int64_t last = 0, polled = now_ms();
	enum err rc = ERR_OK;
	bool gone = false;

	while (rc == ERR_OK && !stop_flag && !gone) {
		int pending, running, reaped;
		struct timespec ts = { 0, 250 * 1000000L };
		if ((rc = store_lease_heartbeat(c->store, e)) ||
		    (rc = store_queue_reap(c->store, &reaped, e)) ||
		    (rc = store_queue_counts(c->store, run_id, &pending,
					     &running, e)))
			break;
		if (!pending && !running)
			break;
		if (sl && now_ms() - polled >= SLURM_POLL_MS) {
			rc = watch_slurm(sl, o, run_id, pending, &gone, e);
			polled = now_ms();
		}
		if (!o->quiet && !o->json && now_ms() - last > 10000) {
			fprintf(stderr, "assay: run %lld: %d attempts queued, %d "
				"running on workers\n", (long long)run_id,
				pending, running);
			last = now_ms();
		}
		nanosleep(&ts, NULL);
	}
	return rc;
}

/* Submit sl's job array for the queued run (none: plain workers). */
static enum err launch(struct cli_slurm *sl, const struct run_opts *o,
		       int64_t run_id, struct errmsg *e)
{
	enum err rc;

	if (!sl)
		return ERR_OK;
	rc = cli_slurm_submit(sl, run_id, e);
	if (rc == ERR_OK && !o->quiet && !o->json)
		fprintf(stderr, "assay: run %lld: Slurm job %s, %d workers x %d "
			"slots\n", (long long)run_id, sl->job_id, sl->workers,
			sl->slots);
	return rc;
}

/* Ctrl-C (or a failure) with a Slurm job: cancel it, and wait until its
 * workers have handed their attempts back to the queue. */
static void cancel(struct cli_slurm *sl, int64_t run_id)
{
	struct errmsg e;

	if (!sl || !sl->job_id[0])
		return;
	if (cli_slurm_cancel(sl, &e) != ERR_OK) {
		cli_error("run %lld: %s; cancel the job by hand: scancel %s",
			  (long long)run_id, e.text, sl->job_id);
		return;
	}
	cli_error("run %lld: cancelled Slurm job %s", (long long)run_id,
		  sl->job_id);
	for (int64_t t0 = now_ms(); now_ms() - t0 < SLURM_CANCEL_WAIT_MS;) {
		struct timespec ts = { 0, 500 * 1000000L };
		int live = 1;
		if (cli_slurm_live(sl, &live, &e) == ERR_OK && !live)
			return;
		nanosleep(&ts, NULL);
	}
	cli_error("run %lld: Slurm job %s still has workers after %d s",
		  (long long)run_id, sl->job_id, SLURM_CANCEL_WAIT_MS / 1000);
}

int cli_run_ctx_queue(struct run_ctx *c, const struct run_opts *o,
		      int64_t run_id, struct cli_slurm *sl,
		      struct engine_summary *sum)
{
	struct store_pairs pairs = { 0 };
	struct errmsg e;
	const char *status;
	char *store = store_display_name(o->store ? o->store : "$ASSAY_STORE");
	enum err rc;
	int n = 0;

	cli_run_signals();
	rc = enqueue(c, o, run_id, sl ? "slurm" : "workers", &n, &e);
	if (rc == ERR_OK && !o->quiet && !o->json && !sl)
		fprintf(stderr, "assay: run %lld queued: %d episodes for workers "
			"('assay worker --store %s')\n", (long long)run_id, n,
			store);
	free(store);
	if (rc == ERR_OK)
		rc = launch(sl, o, run_id, &e);
	if (rc == ERR_OK)
		rc = follow(c, o, run_id, sl, &e);
	if (rc || stop_flag)
		cancel(sl, run_id);
	if (rc == ERR_OK)
		rc = store_run_pairs(c->store, run_id, &pairs, &e);
	status = rc ? "failed" : stop_flag ? "interrupted" :
		 pairs.scored < pairs.total ? "incomplete" : "done";
	if (rc == ERR_OK)
		rc = store_run_set_status(c->store, run_id, status, &e);
	if (rc) {
		struct errmsg e2;
		/* failed, not left queued: resumable after the fix */
		if (store_run_set_status(c->store, run_id, "failed", &e2))
			log_debug("msg=\"run status not recorded\" err=\"%s\"",
				  e2.text);
		cli_error("run %lld: %s", (long long)run_id, e.text);
		return EXIT_RUNTIME;
	}
	sum_from_store(c, run_id, sum);
	print_summary(o, run_id, status, &pairs, sum);
	if (strcmp(status, "done"))
		explain_unscored(run_id, &pairs, sum);
	return stop_flag ? EXIT_INTERRUPTED : strcmp(status, "done") ? EXIT_RUNTIME
								    : EXIT_OK;
}
