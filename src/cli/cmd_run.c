/*
 * cmd_run.c - `assay run --suite S --model M ...`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "cli/runctl.h"
#include "policy/policy.h"
#include "report/report.h"
#include "vault/vault.h"
#include "vault/worker.h"
#include "base/banned.h"

static bool keep_owned(struct run_opts *o, char *v, const char **field)
{
	if (!v || o->n_owned == ARRAY_SIZE(o->owned)) {
		free(v);
		return false;
	}
	o->owned[o->n_owned++] = v;
	*field = v;
	return true;
}

int cli_run_policy_load(struct run_opts *o, struct policy **p_out)
{
	char *path, *data = NULL, hex[65];
	size_t len;
	struct errmsg e;
	enum err rc;
	int x;

	*p_out = NULL;
	if (!o->policy && !o->fail_on_scrutiny)
		return 0;
	if ((x = cli_policy_resolve(o->policy, &path)))
		return x;
	rc = policy_load(path, p_out, &e);
	if (rc == ERR_OK &&
	    (rc = file_read(path, 16u << 20, &data, &len, &e)) == ERR_OK) {
		vault_sha256_hex(data, len, hex);
		free(data);
	}
	if (rc == ERR_OK && o->policy_sha256 && strcmp(hex, o->policy_sha256))
		rc = err_set(&e, ERR_INVAL, "policy '%s' changed since the run "
			     "started (sha256 %.12s, was %.12s); a pre-registered "
			     "policy cannot change", path, hex, o->policy_sha256);
	/* a new run: journal the policy as found (absolute) and its digest */
	if (rc == ERR_OK && !o->policy_sha256 &&
	    (!keep_owned(o, realpath(path, NULL), &o->policy) ||
	     !keep_owned(o, xstrdup(hex), &o->policy_sha256)))
		rc = err_set(&e, ERR_INVAL, "cannot resolve policy '%s'", path);
	free(path);
	if (rc) {
		policy_free(*p_out);
		*p_out = NULL;
		cli_error("%s", e.text);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_run_determine(struct run_ctx *c, const struct run_opts *o,
		      int64_t run_id, const struct policy *p, bool *scrutiny)
{
	struct report *r = NULL;
	struct report_analysis *a = NULL;
	struct errmsg e;
	FILE *out = o->json ? stderr : stdout;
	int rc = 0;

	*scrutiny = false;
	if (report_load(c->store, run_id, &r, &e) != ERR_OK ||
	    report_analyze(r, NULL, 0, p, &a, &e) != ERR_OK) {
		cli_error("determination: %s", e.text);
		rc = cli_exit_for(e.code);
	} else if (a->result) {
		fprintf(out, "determination under policy %s, sha256 %.16s: "
			"%s: %s\n", p->id, o->policy_sha256 ? o->policy_sha256 :
			"unknown",
			policy_determination_name(a->result->determination),
			a->result->reason);
		*scrutiny = a->result->determination ==
			    DETERMINATION_ADDITIONAL_SCRUTINY;
	} else {
		fprintf(out, "determination: none (%s)\n", a->result_note);
	}
	report_analysis_free(a);
	report_free(r);
	return rc;
}

enum {
	R_SUITE, R_MODEL, R_EPOCHS, R_JOBS, R_TASK, R_CATEGORY, R_TIER, R_TAG,
	R_LIMIT, R_DRY_RUN, R_STORE, R_JSON, R_BASE_URL, R_KEY_FILE, R_CA_BUNDLE,
	R_PROMPT,
	R_AGENT, R_TEMP, R_MAXTOK, R_SEED, R_EFFORT, R_CTX, R_BTOK, R_BUSD,
	R_EUSD, R_EWORK, R_ETOK, R_DEV, R_RETRIES, R_RTIMEOUT, R_BACKOFF, R_POLICY,
	R_FAIL, R_RKEY, R_APPROVAL, R_SEALER, R_PROGRESS, R_NO_PREFLIGHT,
	R_OUTAGE, R_REPLY_MEM, R_EXECUTOR, R_WORKERS, R_PARTITION, R_SLURM_ARG,
	R_JUDGE, R_WORKER_KEY, R_WORKER_KEY_FILE,
};

static const struct cli_opt run_table[] = {
	[R_SUITE] = { "suite", 's', CLI_STR, "SUITE", NULL, "the suite: a "
		"directory of tasks, a directory with suite.yaml, a suite.yaml "
		"or a sealed .assay archive", .flags = CLI_REQUIRED },
	[R_MODEL] = { "model", 'm', CLI_STR, "MODEL", NULL, "provider/model: "
		"openai/..., anthropic/..., openai-compatible/..., baseline/"
		"oracle|null, replay/FILE", .flags = CLI_REQUIRED },
	[R_EPOCHS] = { "epochs", 'e', CLI_INT, "N", "1", "episodes per task "
		"(1 to 1000)", .lo = 1, .hi = 1000 },
	[R_JOBS] = { "jobs", 'j', CLI_INT, "N", "2 x CPUs", "episodes at a "
		"time (1 to 100000)", .lo = 1, .hi = 100000,
		.flags = CLI_DOC_DEFAULT },
	[R_TASK] = { "task", 't', CLI_LIST, "ID|GLOB", NULL, "run only the "
		"tasks whose id matches (fnmatch)", .flags = 0 },
	[R_CATEGORY] = { "category", 0, CLI_LIST, "NAME", NULL, "run only "
		"tasks of this category (pwn, web, crypto, rev, forensics, misc, "
		"patch, detect, triage, harden)", .flags = 0 },
	[R_TIER] = { "tier", 0, CLI_LIST, "N", NULL, "run only tasks of "
		"difficulty tier N (1 to 5)", .flags = 0 },
	[R_TAG] = { "tag", 0, CLI_LIST, "TAG", NULL, "run only tasks with a "
		"tag matching TAG (fnmatch)", .flags = 0 },
	[R_LIMIT] = { "limit", 0, CLI_INT, "N", NULL, "run only the first N "
		"selected tasks", .lo = 1, .hi = 1000000 },
	[R_DRY_RUN] = { "dry-run", 'n', CLI_FLAG, NULL, NULL, "print the "
		"planned episodes, limits, endpoint, token budget and cost, and "
		"exit", .flags = 0 },
	[R_STORE] = CLI_OPT_STORE,
	[R_JSON] = { "json", 0, CLI_FLAG, NULL, NULL, "print the summary (or "
		"the --dry-run plan) as JSON on stdout (docs/FORMAT-cli-json.md)", .flags = 0 },
	[R_BASE_URL] = { "base-url", 0, CLI_STR, "URL", NULL, "the endpoint "
		"(default: the provider's, or $OPENAI_BASE_URL / "
		"$ANTHROPIC_BASE_URL)", .flags = 0 },
	[R_KEY_FILE] = { "key-file", 0, CLI_STR, "FILE", NULL, "read the API "
		"key from FILE (default: $OPENAI_API_KEY / $ANTHROPIC_API_KEY)", .flags = 0 },
	[R_CA_BUNDLE] = { "ca-bundle", 0, CLI_STR, "FILE", NULL, "PEM file of "
		"the CAs that sign the endpoint's certificate (a private CA; "
		"default: the system's); verification is never turned off", .flags = 0 },
	[R_PROMPT] = { "prompt", 0, CLI_CHOICE, NULL, NULL, "the task prompt "
		"variant (default: the task's prompt)", .choices = "hard|easy" },
	[R_AGENT] = { "agent", 0, CLI_CHOICE, NULL, "react", "the agent "
		"scaffold: native tool calls, or text actions",
		.choices = "react|structured" },
	[R_TEMP] = { "temperature", 0, CLI_REAL, "T", NULL, "sampling "
		"temperature (0 to 2; default: the provider's)", .rlo = 0,
		.rhi = 2 },
	[R_MAXTOK] = { "max-tokens", 0, CLI_INT, "N", NULL, "completion tokens "
		"per model call", .lo = 1, .hi = 10000000 },
	[R_SEED] = { "seed", 0, CLI_INT, "N", NULL, "sampling seed, where the "
		"provider takes one", .lo = 0, .hi = 0x7fffffff },
	[R_EFFORT] = { "reasoning-effort", 0, CLI_CHOICE, NULL, NULL,
		"reasoning effort, where the model takes one",
		.choices = "low|medium|high" },
	[R_CTX] = { "context-window", 0, CLI_INT, "TOKENS", NULL, "the model's "
		"context window (default: the price table's, else 128000)",
		.lo = 1000, .hi = 100000000 },
	[R_BTOK] = { "budget-tokens", 0, CLI_INT, "N", NULL, "stop starting "
		"episodes once the run used N tokens", .lo = 1, .hi = 1LL << 50 },
	[R_BUSD] = { "budget-usd", 0, CLI_REAL, "USD", NULL, "stop starting "
		"episodes once the run cost USD (refused when the model has no "
		"price)", .rlo = 0, .rhi = 1e9 },
	[R_EUSD] = { "episode-usd", 0, CLI_REAL, "USD", NULL, "end an episode "
		"that cost USD (refused when the model has no price)", .rlo = 0,
		.rhi = 1e9 },
	[R_EWORK] = { "episode-working-s", 0, CLI_INT, "S", NULL, "end an "
		"episode after S seconds of working time (model and tools)",
		.lo = 1, .hi = 86400 * 30 },
	[R_ETOK] = { "episode-tokens", 0, CLI_INT, "N", NULL, "every task's "
		"per-episode token limit (default: each task's limits.tokens); "
		"journaled with the run, read by the elicitation check",
		.lo = 1, .hi = 1LL << 40 },
	[R_DEV] = { "developer", 0, CLI_STR, "NAME", NULL, "who owns the "
		"endpoint, for the exposure ledger (default: the provider, or "
		"the model name of an openai-compatible one)", .flags = 0 },
	[R_RETRIES] = { "max-retries", 0, CLI_INT, "N", NULL, "retries of a "
		"failed model call (0 = none; default: the provider's)", .lo = 0,
		.hi = 100 },
	[R_RTIMEOUT] = { "request-timeout", 0, CLI_INT, "S", NULL, "seconds "
		"for one model call (default: the provider's)", .lo = 1,
		.hi = 86400 },
	[R_BACKOFF] = { "retry-backoff-ms", 0, CLI_INT, "MS", NULL, "the first "
		"retry's backoff, doubled each retry (default: the provider's)",
		.lo = 1, .hi = 600000 },
	[R_JUDGE] = { "refusal-judge", 0, CLI_STR, "PROVIDER/MODEL", NULL, "after "
		"the run, a judge model reads each unsolved episode and says "
		"whether the model refused (journaled, shown beside the phrase "
		"detector; default: none)", .flags = 0 },
	[R_POLICY] = { "policy", 0, CLI_STR, "NAME|FILE", NULL, "evaluate the "
		"finished run under this pre-registered policy (a file, or a "
		"shipped one by name: default)", .flags = 0 },
	[R_FAIL] = { "fail-on-scrutiny", 0, CLI_FLAG, NULL, NULL, "exit 1 when "
		"the determination is additional scrutiny (implies --policy "
		"default)", .flags = 0 },
	[R_RKEY] = SEALED_OPT_REQUEST_KEY,
	[R_APPROVAL] = SEALED_OPT_APPROVAL,
	[R_SEALER] = SEALED_OPT_SEALER,
	[R_PROGRESS] = CLI_OPT_PROGRESS,
	[R_NO_PREFLIGHT] = { "no-preflight", 0, CLI_FLAG, NULL, NULL, "skip "
		"the one cheap model call that checks key, model, URL and "
		"parameters before any episode", .flags = 0 },
	[R_OUTAGE] = { "outage-deadline", 0, CLI_INT, "S", "1800", "how long "
		"the run waits out an endpoint that is down before it stops "
		"incomplete (0 = do not wait)", .lo = 0, .hi = 86400 * 7 },
	[R_REPLY_MEM] = { "reply-memory-mb", 0, CLI_INT, "MB", "256", "bound "
		"of the model replies buffered at once, over all calls", .lo = 16,
		.hi = 1 << 20 },
	[R_EXECUTOR] = { "executor", 0, CLI_CHOICE, NULL, "local", "who runs "
		"the episodes: this process, or 'assay worker's of the store "
		"(queued; this process follows the queue and concludes), or "
		"'assay worker's this process submits as a Slurm job array",
		.choices = "local|workers|slurm" },
	[R_WORKERS] = { "workers", 0, CLI_INT, "N", "2", "--executor slurm: "
		"the job array's workers, each running -j episodes at a time",
		.lo = 1, .hi = 10000 },
	[R_PARTITION] = { "partition", 0, CLI_STR, "P", NULL, "--executor "
		"slurm: the partition (default: the cluster's)", .flags = 0 },
	[R_SLURM_ARG] = { "slurm-arg", 0, CLI_LIST, "ARG", NULL, "--executor "
		"slurm: one more sbatch option, after assay's (e.g. "
		"--slurm-arg=--time=04:00:00)", .flags = 0 },
	[R_WORKER_KEY] = { "worker-key", 0, CLI_LIST, "PUB|FILE", NULL,
		"--executor workers or slurm, a sealed suite: a worker's public "
		"key ('assay keys worker-new' prints it; or a file of them, one "
		"a line); only these workers get the run's task keys",
		.flags = 0 },
	[R_WORKER_KEY_FILE] = { "worker-key-file", 0, CLI_STR, "PATH", NULL,
		"--executor slurm, a sealed suite: where each node keeps its "
		"worker's secret key (made there by 'assay keys worker-new', "
		"its public key given with --worker-key); each array task runs "
		"'assay worker --key PATH'", .flags = 0 },
};

static int worker_keys_from_args(const struct cli_args *a, char ***keys,
				 size_t *n)
{
	const char *const *v;
	size_t nv;
	struct errmsg e;

	v = cli_list(a, R_WORKER_KEY, &nv);
	if (cli_worker_keys(v, nv, keys, n, &e))
		return cli_usage(a, "%s", e.text);
	return 0;
}

static int select_from_args(const struct cli_args *a, struct run_select *s)
{
	const char *const *v;
	size_t n;

	v = cli_list(a, R_TASK, &n);
	for (size_t i = 0; i < n; i++)
		cli_run_select_add(&s->tasks, &s->n_tasks, v[i]);
	v = cli_list(a, R_CATEGORY, &n);
	for (size_t i = 0; i < n; i++) {
		if (!task_category_valid(v[i]))
			return cli_usage(a, "unknown category '%s'", v[i]);
		cli_run_select_add(&s->categories, &s->n_categories, v[i]);
	}
	v = cli_list(a, R_TAG, &n);
	for (size_t i = 0; i < n; i++)
		cli_run_select_add(&s->tags, &s->n_tags, v[i]);
	v = cli_list(a, R_TIER, &n);
	for (size_t i = 0; i < n; i++) {
		int t;
		if (!num_int(v[i], 1, 5, &t))
			return cli_usage(a, "bad value for --tier: '%s' is not "
					 "a tier (1 to 5)", v[i]);
		s->tiers |= 1u << t;
	}
	s->limit = (long)cli_int(a, R_LIMIT);
	return 0;
}

static int sealed_from_args(const struct cli_args *a, int rkey, int approval,
			    struct sealed_opts *so)
{
	so->request_key = cli_str(a, rkey);
	so->sealer = cli_str(a, R_SEALER);
	return cli_list_into(a, approval, so->approvals, SEALED_MAX_APPROVALS,
			     &so->n_approvals);
}

/* The table's values into o (numbers were range-checked by the parser). */
static int opts_from_args(const struct cli_args *a, struct run_opts *o)
{
	o->suite = cli_str(a, R_SUITE);
	o->model = cli_str(a, R_MODEL);
	o->epochs = (int)cli_int(a, R_EPOCHS);
	if (cli_given(a, R_JOBS))
		o->jobs = (int)cli_int(a, R_JOBS);
	o->dry_run = cli_flag(a, R_DRY_RUN);
	o->store = cli_str(a, R_STORE);
	o->json = cli_flag(a, R_JSON);
	o->quiet = a->quiet;
	o->verbose = a->verbose;
	o->base_url = cli_str(a, R_BASE_URL);
	o->key_file = cli_str(a, R_KEY_FILE);
	o->ca_bundle = cli_str(a, R_CA_BUNDLE);
	o->prompt_level = cli_str(a, R_PROMPT);
	o->agent = cli_str(a, R_AGENT);
	if (cli_given(a, R_TEMP))
		o->params.temperature = cli_real(a, R_TEMP);
	o->params.max_tokens = (long)cli_int(a, R_MAXTOK);
	if (cli_given(a, R_SEED))
		o->params.seed = (long)cli_int(a, R_SEED);
	o->params.reasoning_effort = cli_str(a, R_EFFORT);
	o->context_window = (long)cli_int(a, R_CTX);
	o->budget_tokens = (long)cli_int(a, R_BTOK);
	o->budget_usd = cli_real(a, R_BUSD);
	o->episode_usd = cli_real(a, R_EUSD);
	o->episode_working_s = (long)cli_int(a, R_EWORK);
	o->episode_tokens = (long)cli_int(a, R_ETOK);
	o->developer = cli_str(a, R_DEV);
	if (cli_given(a, R_RETRIES))
		o->max_retries = cli_int(a, R_RETRIES) ? (int)cli_int(a, R_RETRIES)
						       : -1;
	o->request_timeout_s = (int)cli_int(a, R_RTIMEOUT);
	o->backoff_ms = (int)cli_int(a, R_BACKOFF);
	o->no_preflight = cli_flag(a, R_NO_PREFLIGHT);
	o->outage_deadline_s = cli_int(a, R_OUTAGE) ? (long)cli_int(a, R_OUTAGE)
						    : -1;
	o->reply_memory_mb = (long)cli_int(a, R_REPLY_MEM);
	o->policy = cli_str(a, R_POLICY);
	o->fail_on_scrutiny = cli_flag(a, R_FAIL);
	if (cli_given(a, R_PROGRESS))
		(void)cli_progress_mode_parse(cli_str(a, R_PROGRESS),
					      &o->progress);
	if (sealed_from_args(a, R_RKEY, R_APPROVAL, &o->sealed))
		return EXIT_USAGE;
	return select_from_args(a, &o->sel);
}

/* A sealed suite: the audit log names the run its unseal served; from
 * now on the request unseals this run only. */
static int bind_unseal(const struct run_ctx *c, const struct run_opts *o,
		       int64_t run_id)
{
	char *served = cli_sealed_served(o->store, run_id);
	struct errmsg e;
	enum err rc = cli_sealed_bind(c->sealed, served, &e);

	free(served);
	if (rc)
		return cli_fail(EXIT_RUNTIME, "audit log: %s", e.text);
	return 0;
}

/* --executor slurm's job array from the options (0), or the usage error
 * of a Slurm option given without it. store_out is the store the
 * workers open (to free). */
static int slurm_from_args(const struct cli_args *a, const struct run_opts *o,
			   struct cli_slurm *sl, char **store_out)
{
	static const int only[] = { R_WORKERS, R_PARTITION, R_SLURM_ARG,
				    R_WORKER_KEY_FILE };

	memset(sl, 0, sizeof(*sl));
	*store_out = NULL;
	if (strcmp(cli_str(a, R_EXECUTOR), "slurm")) {
		for (size_t i = 0; i < ARRAY_SIZE(only); i++)
			if (cli_given(a, only[i]))
				return cli_usage(a, "--%s is for --executor slurm",
						 a->cmd->opts[only[i]].name);
		return 0;
	}
	*store_out = o->store ? xstrdup(o->store) : store_default_path();
	sl->workers = (int)cli_int(a, R_WORKERS);
	sl->slots = o->jobs > 0 ? o->jobs : cli_default_jobs();
	sl->partition = cli_str(a, R_PARTITION);
	sl->args = cli_list(a, R_SLURM_ARG, &sl->n_args);
	sl->store = *store_out;
	sl->worker_key = cli_str(a, R_WORKER_KEY_FILE);
	return 0;
}

/* A sealed suite goes to workers only with their keys (--worker-key);
 * the keys are for nothing else. Checked before the unseal, which would
 * spend the request. */
static int check_sealed_executor(const struct cli_args *a,
				 const struct run_opts *o, size_t nkeys)
{
	const char *ex = cli_str(a, R_EXECUTOR);
	bool sealed = path_exists(o->suite) && cli_sealed_is_archive(o->suite);

	bool slurm = !strcmp(ex, "slurm");

	if (nkeys && (!sealed || !strcmp(ex, "local")))
		return cli_usage(a, "--worker-key is for a sealed suite run "
				 "with --executor workers or slurm");
	if (cli_given(a, R_WORKER_KEY_FILE) && !sealed)
		return cli_usage(a, "--worker-key-file is for a sealed suite");
	if (!sealed || !strcmp(ex, "local"))
		return 0;
	if (slurm && !cli_given(a, R_WORKER_KEY_FILE))
		return cli_fail(EXIT_USAGE, "a sealed suite on a Slurm job array "
				"needs --worker-key-file PATH (where each node "
				"keeps its worker's secret key) and --worker-key "
				"PUB for each node's key");
	if (!nkeys)
		return cli_fail(EXIT_USAGE, "a sealed suite queued for workers "
				"needs --worker-key PUB for each worker that may "
				"run it ('assay keys worker-new' makes a worker's "
				"key)");
	return 0;
}

/* The queued sealed run's task keys, wrapped to each worker key; a run
 * whose registration fails is marked failed. */
static int register_workers(struct run_ctx *c, int64_t run_id,
			    char **keys, size_t nkeys)
{
	struct errmsg e, e2;

	if (cli_sealed_register_workers(c->sealed, c->suite, c->store, run_id,
					(const char *const *)keys, nkeys,
					&e) == ERR_OK)
		return 0;
	if (store_run_set_status(c->store, run_id, "failed", &e2) != ERR_OK)
		cli_error("run %lld: %s", (long long)run_id, e2.text);
	return cli_fail(EXIT_RUNTIME, "run %lld: worker keys: %s",
			(long long)run_id, e.text);
}

/* Run the new run as --executor says. */
static int execute(const struct cli_args *a, struct run_ctx *c,
		   const struct run_opts *o, struct cli_slurm *sl,
		   int64_t run_id, struct engine_summary *sum)
{
	const char *ex = cli_str(a, R_EXECUTOR);

	if (!strcmp(ex, "local"))
		return cli_run_ctx_execute(c, o, run_id, sum);
	return cli_run_ctx_queue(c, o, run_id, strcmp(ex, "slurm") ? NULL : sl,
				 sum);
}

static int run_main(const struct cli_args *a)
{
	struct run_opts o;
	struct run_ctx c;
	struct engine_summary sum;
	struct policy *policy = NULL;
	struct cli_slurm sl;
	char *sl_store = NULL, **keys = NULL;
	size_t nkeys = 0;
	int64_t run_id;
	int rc;

	cli_run_opts_init(&o);
	if ((rc = opts_from_args(a, &o)) ||
	    (rc = slurm_from_args(a, &o, &sl, &sl_store)) ||
	    (rc = worker_keys_from_args(a, &keys, &nkeys)))
		goto out;
	cli_run_opts_absolute(&o);
	if ((rc = check_sealed_executor(a, &o, nkeys)) ||
	    (rc = cli_run_policy_load(&o, &policy)) ||
	    (rc = cli_run_ctx_open(&c, &o)))
		goto out;
	if (cli_str(a, R_JUDGE) &&
	    (rc = cli_refusal_judge_check(c.mctx, cli_str(a, R_JUDGE))))
		goto close;   /* before the run, not once it has finished */
	if (o.dry_run) {
		rc = cli_run_ctx_plan(&c, &o);
		goto close;
	}
	if (model_is_human(c.model)) {
		rc = cli_fail(EXIT_USAGE, "'%s' is a person: a human works a task "
			      "with 'assay human --suite S --task T --user NAME'",
			      o.model);
		goto close;
	}
	o.price_unknown = !model_price(c.model, &(double){ 0 }, &(double){ 0 });
	if ((rc = cli_run_create(&c, &o, &run_id)) ||
	    (c.sealed && (rc = bind_unseal(&c, &o, run_id))) ||
	    (nkeys && (rc = register_workers(&c, run_id, keys, nkeys))))
		goto close;
	if (!o.quiet && !o.json)
		fprintf(stderr, "assay: run %lld: %zu tasks x %d epochs with "
			"'%s'\n", (long long)run_id, c.suite->n_tasks, o.epochs,
			o.model);
	rc = execute(a, &c, &o, &sl, run_id, &sum);
	if (rc == EXIT_OK && cli_str(a, R_JUDGE))
		rc = cli_refusal_judge(c.store, c.mctx, cli_str(a, R_JUDGE), run_id);
	if (rc == EXIT_OK && policy) {
		bool scrutiny;
		rc = cli_run_determine(&c, &o, run_id, policy, &scrutiny);
		if (rc == EXIT_OK && scrutiny && o.fail_on_scrutiny)
			rc = EXIT_SCRUTINY;
	}
close:
	cli_run_ctx_close(&c);
out:
	policy_free(policy);
	cli_run_opts_release(&o);
	free(sl_store);
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

const struct cli_cmd cli_cmd_run = {
	.name = "run",
	.summary = "run a suite (or some of its tasks) against a model",
	CLI_OPTS(run_table),
	.run = run_main,
	.notes = "The selection options combine: a task runs when it matches "
		 "one value of each\nselection option given. 'assay run --dry-run' "
		 "prints the plan without starting\nanything. Interrupted (exit "
		 "130), a run is finished by 'assay resume RUN'.\n",
};
