/*
 * runctl.c - shared plumbing of the commands that run episodes.
 */
#include "cli/runctl.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "sandbox/sandbox.h"
#include "vault/auditlog.h"
#include "vault/vault.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->epochs = 1;
	o->jobs = default_jobs();
	o->params.temperature = -1;
	o->params.seed = -1;
}

int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n * 2 : 2;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

enum { OPT_BASE_URL = 256, OPT_KEY_FILE, OPT_PROMPT, OPT_TEMP, OPT_MAXTOK,
       OPT_SEED, OPT_EFFORT, OPT_BTOK, OPT_BUSD, OPT_EUSD, OPT_JSON,
       OPT_STORE, OPT_RETRIES, OPT_RTIMEOUT, OPT_BACKOFF, OPT_DEV,
       OPT_RKEY, OPT_APPROVAL, OPT_CTX, OPT_EWORK, OPT_POLICY, OPT_FAIL,
       OPT_AGENT, OPT_PROGRESS };

static const struct option long_opts[] = {
	{ "suite", required_argument, NULL, 's' },
	{ "model", required_argument, NULL, 'm' },
	{ "epochs", required_argument, NULL, 'e' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "base-url", required_argument, NULL, OPT_BASE_URL },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "temperature", required_argument, NULL, OPT_TEMP },
	{ "max-tokens", required_argument, NULL, OPT_MAXTOK },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "reasoning-effort", required_argument, NULL, OPT_EFFORT },
	{ "budget-tokens", required_argument, NULL, OPT_BTOK },
	{ "budget-usd", required_argument, NULL, OPT_BUSD },
	{ "episode-usd", required_argument, NULL, OPT_EUSD },
	{ "episode-working-s", required_argument, NULL, OPT_EWORK },
	{ "developer", required_argument, NULL, OPT_DEV },
	{ "context-window", required_argument, NULL, OPT_CTX },
	{ "request-key", required_argument, NULL, OPT_RKEY },
	{ "approval", required_argument, NULL, OPT_APPROVAL },
	{ "max-retries", required_argument, NULL, OPT_RETRIES },
	{ "request-timeout", required_argument, NULL, OPT_RTIMEOUT },
	{ "retry-backoff-ms", required_argument, NULL, OPT_BACKOFF },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "fail-on-scrutiny", no_argument, NULL, OPT_FAIL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *opt, const char *val)
{
	cli_error("bad value '%s' for --%s", val, opt);
	return EXIT_USAGE;
}

static int parse_one(struct run_opts *o, int c, const char *arg)
{
	long l;

	switch (c) {
	case 's': o->suite = arg; break;
	case 'm': o->model = arg; break;
	case 'e':
		if (!parse_long(arg, 1, 1000, &l))
			return bad("epochs", arg);
		o->epochs = (int)l;
		break;
	case 'j':
		if (!parse_long(arg, 1, 100000, &l))
			return bad("jobs", arg);
		o->jobs = (int)l;
		break;
	case OPT_STORE: o->store = arg; break;
	case OPT_BASE_URL: o->base_url = arg; break;
	case OPT_KEY_FILE: o->key_file = arg; break;
	case OPT_PROMPT:
		if (strcmp(arg, "hard") && strcmp(arg, "easy"))
			return bad("prompt", arg);
		o->prompt_level = arg;
		break;
	case OPT_AGENT: {
		enum agent_scaffold sc;

		if (!agent_scaffold_parse(arg, &sc))
			return bad("agent (react or structured)", arg);
		o->agent = arg;
		break;
	}
	case OPT_TEMP:
		if (!parse_double(arg, 0, 2, &o->params.temperature))
			return bad("temperature", arg);
		break;
	case OPT_MAXTOK:
		if (!parse_long(arg, 1, 10000000, &o->params.max_tokens))
			return bad("max-tokens", arg);
		break;
	case OPT_SEED:
		if (!parse_long(arg, 0, 0x7fffffff, &o->params.seed))
			return bad("seed", arg);
		break;
	case OPT_EFFORT:
		if (strcmp(arg, "low") && strcmp(arg, "medium") && strcmp(arg, "high"))
			return bad("reasoning-effort", arg);
		o->params.reasoning_effort = arg;
		break;
	case OPT_BTOK:
		if (!parse_long(arg, 1, 1L << 50, &o->budget_tokens))
			return bad("budget-tokens", arg);
		break;
	case OPT_BUSD:
		if (!parse_double(arg, 0, 1e9, &o->budget_usd))
			return bad("budget-usd", arg);
		break;
	case OPT_EUSD:
		if (!parse_double(arg, 0, 1e9, &o->episode_usd))
			return bad("episode-usd", arg);
		break;
	case OPT_DEV: o->developer = arg; break;
	case OPT_CTX:
		if (!parse_long(arg, 1000, 100000000, &o->context_window))
			return bad("context-window", arg);
		break;
	case OPT_RKEY:
	case OPT_APPROVAL:
		return run_opts_sealed(&o->sealed, c == OPT_RKEY ? 'k' : 'a', arg);
	case OPT_RETRIES:
		if (!parse_long(arg, 0, 100, &l))
			return bad("max-retries", arg);
		o->max_retries = l ? (int)l : -1;
		break;
	case OPT_RTIMEOUT:
		if (!parse_long(arg, 1, 86400, &l))
			return bad("request-timeout", arg);
		o->request_timeout_s = (int)l;
		break;
	case OPT_BACKOFF:
		if (!parse_long(arg, 1, 600000, &l))
			return bad("retry-backoff-ms", arg);
		o->backoff_ms = (int)l;
		break;
	case OPT_EWORK:
		if (!parse_long(arg, 1, 86400 * 30, &o->episode_working_s))
			return bad("episode-working-s", arg);
		break;
	case OPT_POLICY: o->policy = arg; break;
	case OPT_FAIL: o->fail_on_scrutiny = true; break;
	case OPT_JSON: o->json = true; break;
	case 'q': o->quiet = true; break;
	case OPT_PROGRESS:
		if (!progress_mode_parse(arg, &o->progress))
			return bad("progress (none, line or bar)", arg);
		break;
	default:
		return EXIT_USAGE;
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: assay run --suite S --model M [--epochs N] [-j N] "
	      "[--store PATH]\n"
	      "         [--base-url URL] [--key-file F] [--prompt hard|easy]\n"
	      "         [--agent react|structured]\n"
	      "         [--temperature T] [--max-tokens N] [--seed N] "
	      "[--reasoning-effort low|medium|high]\n"
	      "         [--budget-tokens N] [--budget-usd X] [--episode-usd X] "
	      "[--episode-working-s S]\n"
	      "         [--policy P] [--fail-on-scrutiny] [--json] [--quiet]\n"
	      "         [--progress none|line|bar]\n"
	      "         [--request-key REQ.key --approval FILE...]   (sealed suites)\n"
	      "         [--context-window TOKENS] [--developer NAME]\n"
	      "         [--max-retries N] [--request-timeout S] "
	      "[--retry-backoff-ms N]\n", stderr);
}

int run_opts_parse(struct run_opts *o, int argc, char **argv, bool need_suite)
{
	int c, rc;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "s:m:e:j:qh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return EXIT_USAGE;
		}
		if (c == '?' || (rc = parse_one(o, c, optarg))) {
			usage();
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (need_suite && (!o->suite || !o->model)) {
		cli_error("--suite and --model are required");
		usage();
		return EXIT_USAGE;
	}
	return 0;
}

char *run_opts_to_json(const struct run_opts *o)
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
	json_object_set_new(j, "max_retries", json_integer(o->max_retries));
	json_object_set_new(j, "context_window", json_integer(o->context_window));
	json_object_set_new(j, "request_timeout_s", json_integer(o->request_timeout_s));
	json_object_set_new(j, "backoff_ms", json_integer(o->backoff_ms));
	json_object_set_new(j, "budget_tokens", json_integer(o->budget_tokens));
	json_object_set_new(j, "budget_usd", json_real(o->budget_usd));
	json_object_set_new(j, "episode_usd", json_real(o->episode_usd));
	json_object_set_new(j, "episode_working_s", json_integer(o->episode_working_s));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* A string restored from JSON, owned by o until run_opts_release. */
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

void run_opts_release(struct run_opts *o)
{
	for (size_t i = 0; i < o->n_owned; i++)
		free(o->owned[i]);
	o->n_owned = 0;
}

enum err run_opts_from_json(struct run_opts *o, const char *text,
			    struct errmsg *e)
{
	json_error_t jerr;
	json_t *j = json_loads(text ? text : "", 0, &jerr), *v;

	if (!j || !json_is_object(j)) {
		json_decref(j);
		return err_set(e, ERR_STORE, "the run's stored configuration "
			       "is not valid JSON");
	}
	o->suite = keep(o, j, "suite");
	o->model = keep(o, j, "model");
	o->base_url = keep(o, j, "base_url");
	o->key_file = keep(o, j, "key_file");
	o->prompt_level = keep(o, j, "prompt");
	o->agent = keep(o, j, "agent");
	if (o->agent && !agent_scaffold_parse(o->agent, &(enum agent_scaffold){ 0 })) {
		json_decref(j);
		return err_set(e, ERR_STORE, "the run's stored configuration names "
			       "an unknown agent scaffold '%s'", o->agent);
	}
	o->developer = keep(o, j, "developer");
	o->params.reasoning_effort = keep(o, j, "reasoning_effort");
	if ((v = json_object_get(j, "epochs")) && json_is_integer(v))
		o->epochs = (int)json_integer_value(v);
	if ((v = json_object_get(j, "jobs")) && json_is_integer(v))
		o->jobs = (int)json_integer_value(v);
	if ((v = json_object_get(j, "temperature")) && json_is_number(v))
		o->params.temperature = json_number_value(v);
	if ((v = json_object_get(j, "max_tokens")) && json_is_integer(v))
		o->params.max_tokens = (long)json_integer_value(v);
	if ((v = json_object_get(j, "seed")) && json_is_integer(v))
		o->params.seed = (long)json_integer_value(v);
	if ((v = json_object_get(j, "context_window")) && json_is_integer(v))
		o->context_window = (long)json_integer_value(v);
	if ((v = json_object_get(j, "max_retries")) && json_is_integer(v))
		o->max_retries = (int)json_integer_value(v);
	if ((v = json_object_get(j, "request_timeout_s")) && json_is_integer(v))
		o->request_timeout_s = (int)json_integer_value(v);
	if ((v = json_object_get(j, "backoff_ms")) && json_is_integer(v))
		o->backoff_ms = (int)json_integer_value(v);
	if ((v = json_object_get(j, "budget_tokens")) && json_is_integer(v))
		o->budget_tokens = (long)json_integer_value(v);
	if ((v = json_object_get(j, "budget_usd")) && json_is_number(v))
		o->budget_usd = json_number_value(v);
	if ((v = json_object_get(j, "episode_usd")) && json_is_number(v))
		o->episode_usd = json_number_value(v);
	if ((v = json_object_get(j, "episode_working_s")) && json_is_integer(v))
		o->episode_working_s = (long)json_integer_value(v);
	json_decref(j);
	if (!o->suite || !o->model)
		return err_set(e, ERR_STORE, "the run's stored configuration "
			       "lacks the suite or the model");
	return ERR_OK;
}

int run_opts_sealed(struct sealed_opts *o, int c, const char *arg)
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

int run_audit(const char *kind, const struct vault_audit_field *f, size_t nf)
{
	char *dir = vault_home_path("audit", "ASSAY_AUDIT_LOG");
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
	if (path_exists(o->suite) && sealed_is_archive(o->suite))
		return sealed_open(o->suite, &o->sealed, &c->suite, &c->sealed, e);
	return suite_load(o->suite, &c->suite, e);
}

int run_ctx_open(struct run_ctx *c, const struct run_opts *o)
{
	struct model_config mc = { 0 };
	struct sbx_config sc = { 0 };
	struct errmsg e;
	enum err rc;

	memset(c, 0, sizeof(*c));
	rc = load_suite(c, o, &e);
	if (rc == ERR_OK)
		rc = engine_suite_digest(c->suite, c->digest, &e);
	if (rc == ERR_OK)
		rc = cli_store_open(o->store, &c->store, &e);
	if (rc == ERR_OK)
		rc = model_ctx_new(&c->mctx, &e);
	if (rc == ERR_OK) {
		mc.name = o->model;
		mc.base_url = o->base_url;
		mc.key_file = o->key_file;
		mc.params = o->params;
		mc.max_retries = o->max_retries;
		mc.total_timeout_ms = o->request_timeout_s * 1000;
		mc.first_byte_timeout_ms = o->request_timeout_s * 1000;
		mc.backoff_base_ms = o->backoff_ms;
		mc.context_window = o->context_window;
		rc = model_open(c->mctx, &mc, &c->model, &e);
		if (rc && rc != ERR_NOMEM)
			rc = ERR_INVAL;
	}
	if (rc == ERR_OK && (rc = sbx_global_init(&sc, &e)) == ERR_OK)
		c->sandbox_up = true;
	if (rc) {
		cli_error("%s", e.text);
		run_ctx_close(c);
		return cli_exit_for(rc);
	}
	return 0;
}

void run_ctx_close(struct run_ctx *c)
{
	/* Wait for every box to be gone before the process exits, so no box
	 * outlives the command that started it. */
	if (c->sandbox_up)
		sbx_global_cleanup();
	model_close(c->model);
	model_ctx_free(c->mctx);
	store_close(c->store);
	if (c->sealed)
		sealed_close(c->sealed, c->suite);
	else
		suite_free(c->suite);
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
		s->stopped && !s->gave_up ? ": the run budget is spent" : "",
		(long long)run_id);
}

/* How long a run's lease lasts without a heartbeat: ASSAY_LEASE_TTL_S or
 * the store's default. */
static int64_t lease_ttl_ms(void)
{
	const char *v = getenv("ASSAY_LEASE_TTL_S");
	long s;

	if (v && *v && parse_long(v, 1, 86400, &s))
		return (int64_t)s * 1000;
	return STORE_LEASE_TTL_MS;
}

int run_lease_take(struct run_ctx *c, int64_t run_id)
{
	struct errmsg e;

	if (store_lease_take(c->store, "run", run_id, lease_ttl_ms(), NULL,
			     &e) != ERR_OK) {
		cli_error("cannot execute run %lld: %s", (long long)run_id,
			  e.text);
		return EXIT_RUNTIME;
	}
	return 0;
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
	return run_audit(kind, f, n);
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

int run_ctx_execute(struct run_ctx *c, const struct run_opts *o,
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
	signal(SIGPIPE, SIG_IGN);
	ec.store = c->store;
	ec.suite = c->suite;
	ec.mctx = c->mctx;
	ec.model = c->model;
	ec.run_id = run_id;
	ec.epochs = o->epochs;
	ec.jobs = o->jobs;
	ec.prompt_level = o->prompt_level;
	if (o->agent) /* checked by run_opts_parse / run_opts_from_json */
		(void)agent_scaffold_parse(o->agent, &ec.scaffold);
	ec.developer = o->developer ? o->developer : default_developer(o->model, buf, sizeof(buf));
	ec.budget_tokens = o->budget_tokens;
	ec.budget_usd = o->budget_usd;
	ec.episode_usd = o->episode_usd;
	ec.episode_working_ms = (int64_t)o->episode_working_s * 1000;
	progress_view_init(&pv, progress_mode_resolve(o->progress, o->quiet,
			   o->json, isatty(STDERR_FILENO)), stderr);
	ec.progress = progress_view_update;
	ec.progress_arg = &pv;
	ec.stop = &stop_flag;
	if (audit_run(c, "run.start", run_id, NULL, NULL))
		return EXIT_RUNTIME;
	rc = engine_run(&ec, sum, &e);
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
		return EXIT_RUNTIME;
	}
	print_summary(o, run_id, status, &pairs, sum);
	if (stop_flag) {
		fprintf(stderr, "assay: interrupted; finish it with 'assay "
			"resume %lld'\n", (long long)run_id);
		return EXIT_RUNTIME;
	}
	if (pairs.scored < pairs.total) {
		explain_unscored(run_id, &pairs, sum);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
