/*
 * cmd_resume.c - `assay resume RUN [--store PATH] [-j N] [endpoint
 * options]`: finish a run that is not done (interrupted by SIGINT, kill -9
 * or power loss, failed on its endpoint's configuration, or left
 * incomplete, by an outage or otherwise) without rerunning finished
 * episodes. Episodes cut off midway are kept, marked infra-interrupted, and
 * attempted again; the run's pre-registered policy (if any) is evaluated
 * again at the end. The endpoint options (--base-url, --key-file,
 * --ca-bundle, timeouts, retries, --no-preflight, --outage-deadline)
 * replace the stored ones for this resume.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"
#include "policy/policy.h"
#include "base/banned.h"

enum { S_STORE, S_JOBS, S_JSON, S_RKEY, S_APPROVAL, S_SEALER, S_PROGRESS,
       S_BASE_URL, S_KEY_FILE, S_CA_BUNDLE, S_RETRIES, S_RTIMEOUT, S_BACKOFF,
       S_NO_PREFLIGHT, S_OUTAGE, S_REPLY_MEM };

/* Most are run's options again, each defaulting to what the run was
 * started with ("the run's"): the same shape as run's table, other
 * words. */
static const struct cli_opt resume_table[] = {
	[S_STORE] = CLI_OPT_STORE_READ,
	[S_JOBS] = { "jobs", 'j', CLI_INT, "N", "the run's", "episodes at a "
		"time (1 to 100000)", .lo = 1, .hi = 100000,
		.flags = CLI_DOC_DEFAULT },
	[S_JSON] = { "json", 0, CLI_FLAG, NULL, NULL, "print the summary as "
		"JSON on stdout (docs/FORMAT-cli-json.md)", .flags = 0 },
	[S_RKEY] = SEALED_OPT_REQUEST_KEY,
	[S_APPROVAL] = SEALED_OPT_APPROVAL,
	[S_SEALER] = SEALED_OPT_SEALER,
	[S_PROGRESS] = CLI_OPT_PROGRESS,
	[S_BASE_URL] = { "base-url", 0, CLI_STR, "URL", NULL, "a corrected "
		"endpoint (default: the run's)", .flags = 0 },
	[S_KEY_FILE] = { "key-file", 0, CLI_STR, "FILE", NULL, "read the API "
		"key from FILE (default: the run's, else the environment)", .flags = 0 },
	[S_CA_BUNDLE] = { "ca-bundle", 0, CLI_STR, "FILE", NULL, "PEM file of "
		"the CAs that sign the endpoint's certificate (default: the "
		"run's, else the system's)", .flags = 0 },
	[S_RETRIES] = { "max-retries", 0, CLI_INT, "N", NULL, "retries of a "
		"failed model call (0 = none; default: the run's)", .lo = 0,
		.hi = 100 },
	[S_RTIMEOUT] = { "request-timeout", 0, CLI_INT, "S", NULL, "seconds "
		"for one model call (default: the run's)", .lo = 1, .hi = 86400 },
	[S_BACKOFF] = { "retry-backoff-ms", 0, CLI_INT, "MS", NULL, "the first "
		"retry's backoff (default: the run's)", .lo = 1, .hi = 600000 },
	[S_NO_PREFLIGHT] = { "no-preflight", 0, CLI_FLAG, NULL, NULL, "skip "
		"the preflight model call", .flags = 0 },
	[S_OUTAGE] = { "outage-deadline", 0, CLI_INT, "S", NULL, "how long to "
		"wait out an endpoint that is down (0 = do not wait; default: "
		"the run's)", .lo = 0, .hi = 86400 * 7 },
	[S_REPLY_MEM] = { "reply-memory-mb", 0, CLI_INT, "MB", NULL, "bound of "
		"the model replies buffered at once (default: the run's)",
		.lo = 16, .hi = 1 << 20 },
};

/* Endpoint options given to this resume replace the stored ones (a
 * fixed URL, key or timeout after a failed run). */
static bool endpoint_overrides(const struct cli_args *a, struct run_opts *o)
{
	bool any = false;

	for (int id = S_BASE_URL; id <= S_REPLY_MEM; id++)
		any = any || (id != S_NO_PREFLIGHT && cli_given(a, id));
	if (cli_given(a, S_BASE_URL))
		o->base_url = cli_str(a, S_BASE_URL);
	if (cli_given(a, S_KEY_FILE))
		o->key_file = cli_str(a, S_KEY_FILE);
	if (cli_given(a, S_CA_BUNDLE))
		o->ca_bundle = cli_str(a, S_CA_BUNDLE);
	if (cli_given(a, S_RETRIES))
		o->max_retries = cli_int(a, S_RETRIES) ? (int)cli_int(a, S_RETRIES)
						       : -1;
	if (cli_given(a, S_RTIMEOUT))
		o->request_timeout_s = (int)cli_int(a, S_RTIMEOUT);
	if (cli_given(a, S_BACKOFF))
		o->backoff_ms = (int)cli_int(a, S_BACKOFF);
	if (cli_given(a, S_OUTAGE))
		o->outage_deadline_s = cli_int(a, S_OUTAGE) ?
				       (long)cli_int(a, S_OUTAGE) : -1;
	if (cli_given(a, S_REPLY_MEM))
		o->reply_memory_mb = (long)cli_int(a, S_REPLY_MEM);
	o->no_preflight = cli_flag(a, S_NO_PREFLIGHT);
	/* journaled absolute, as assay run does */
	cli_run_opts_absolute(o);
	return any;
}

static int parse(const struct cli_args *a, int64_t *run_id, struct run_opts *o)
{
	const char *const *v;
	size_t n;

	if (!cli_parse_id(a, "run", a->pos[0], run_id))
		return EXIT_USAGE;
	o->sealed.request_key = cli_str(a, S_RKEY);
	o->sealed.sealer = cli_str(a, S_SEALER);
	v = cli_list(a, S_APPROVAL, &n);
	if (n > SEALED_MAX_APPROVALS)
		return cli_usage(a, "more than %d --approval", SEALED_MAX_APPROVALS);
	for (size_t i = 0; i < n; i++)
		o->sealed.approvals[o->sealed.n_approvals++] = v[i];
	return 0;
}

/* Open the journal, read the run and take its lease, before anything of
 * the run is opened: a resume of a run another live process executes
 * refuses without unsealing its suite (which may spend single-use
 * custodian approvals), starting its model or touching its episodes. */
static int load_run(const char *store_path, int64_t run_id,
		    struct store **st_out, struct store_run *run)
{
	struct store *st = NULL;
	struct errmsg e;
	enum err rc = cli_store_open_read(store_path, &st, &e);
	int x;

	if (rc == ERR_OK)
		rc = store_run_get(st, run_id, run, &e);
	if (rc) {
		store_close(st);
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	if ((x = cli_run_lease_take(st, run_id))) {
		store_run_release(run);
		store_close(st);
		return x;
	}
	*st_out = st;
	return 0;
}

/* Under the lease, in one transaction: attempts left running by a dead
 * owner become interrupted, a task snapshot cut short by a store of an
 * older assay is completed (the suite's digest matched), the run is
 * running again. Then count what is left. */
static enum err prepare(struct run_ctx *c, int64_t run_id, int *n_cut,
			struct store_pairs *pairs, const char *new_cfg,
			struct errmsg *e)
{
	struct store_task *tasks = NULL;
	size_t n_tasks = 0;
	enum err rc = store_tx_begin(c->store, e);

	/* corrected endpoint options are what later resumes use */
	if (rc == ERR_OK && new_cfg)
		rc = store_run_set_endpoint(c->store, run_id,
					    model_endpoint(c->model), new_cfg, e);
	if (rc == ERR_OK)
		rc = store_mark_interrupted(c->store, run_id, n_cut, e);
	if (rc == ERR_OK)
		rc = store_task_list(c->store, run_id, &tasks, &n_tasks, e);
	if (rc == ERR_OK && n_tasks != c->suite->n_tasks)
		rc = engine_snapshot_tasks(c->store, run_id, c->suite, e);
	store_tasks_free(tasks, n_tasks);
	if (rc == ERR_OK)
		rc = store_run_set_status(c->store, run_id, "running", e);
	if (rc == ERR_OK)
		rc = store_run_pairs(c->store, run_id, pairs, e);
	if (rc == ERR_OK)
		rc = store_tx_commit(c->store, e);
	else
		store_tx_rollback(c->store);
	return rc;
}

/* What will be rerun, and why. */
static void tell(int64_t run_id, int n_cut, const struct store_pairs *p)
{
	fprintf(stderr, "assay: resuming run %lld: %d of %d (task, epoch) pairs "
		"have no scored attempt and are run now: %d cut off (%d "
		"attempt%s found running, now marked interrupted), %d failed "
		"on infrastructure, %d not started\n", (long long)run_id,
		p->total - p->scored, p->total, p->cut_off, n_cut,
		n_cut == 1 ? "" : "s", p->failed_infra, p->unstarted);
}

static int resume_main(const struct cli_args *a)
{
	struct store_run run = { 0 };
	struct store_pairs pairs;
	struct engine_summary sum;
	struct run_opts o;
	struct run_ctx c;
	struct policy *policy = NULL;
	struct store *st = NULL;
	const char *store = cli_str(a, S_STORE);
	int64_t run_id = 0;
	char *served = NULL;
	int n = 0, rc;
	char *new_cfg = NULL;
	struct errmsg e;

	cli_run_opts_init(&o);
	if ((rc = parse(a, &run_id, &o)) ||
	    (rc = load_run(store, run_id, &st, &run)))
		return rc;
	if (run.model && !strncmp(run.model, "human/", 6)) {
		rc = cli_fail(EXIT_USAGE, "run %lld is a human session (%s): it is "
			      "not resumed; start a new one with 'assay human'",
			      (long long)run_id, run.model);
		store_run_release(&run);
		cli_run_opts_release(&o);
		store_close(st);
		return rc;
	}
	if (cli_run_opts_from_json(&o, run.config_json, &e) != ERR_OK) {
		cli_error("run %lld: %s", (long long)run_id, e.text);
		store_run_release(&run);
		cli_run_opts_release(&o);
		store_close(st);
		return EXIT_RUNTIME;
	}
	o.store = store;
	o.store_handle = st;   /* it holds the lease */
	/* a sealed suite's request may unseal this run again, no other */
	served = cli_sealed_served(store, run_id);
	o.sealed.served = served;
	o.json = cli_flag(a, S_JSON);
	if (cli_given(a, S_PROGRESS))
		(void)cli_progress_mode_parse(cli_str(a, S_PROGRESS),
					      &o.progress);
	o.quiet = a->quiet;
	if (endpoint_overrides(a, &o))
		new_cfg = cli_run_opts_to_json(&o);
	if (cli_given(a, S_JOBS))
		o.jobs = (int)cli_int(a, S_JOBS);
	/* the run's pre-registered policy, unchanged, evaluated at the end */
	if ((rc = cli_run_policy_load(&o, &policy)) || (rc = cli_run_ctx_open(&c, &o))) {
		policy_free(policy);
		free(new_cfg);
		store_run_release(&run);
		cli_run_opts_release(&o);
		free(served);
		store_close(st);
		return rc;
	}
	rc = EXIT_RUNTIME;
	if (strcmp(c.digest, run.suite_digest)) {
		cli_error("run %lld: suite '%s' changed since the run started "
			  "(digest %.12s, was %.12s); refusing to mix results",
			  (long long)run_id, o.suite, c.digest, run.suite_digest);
		rc = EXIT_USAGE;
		goto out;
	}
	if (prepare(&c, run_id, &n, &pairs, new_cfg, &e) != ERR_OK) {
		cli_error("%s", e.text);
		goto out;
	}
	if (!o.quiet)
		tell(run_id, n, &pairs);
	rc = cli_run_ctx_execute(&c, &o, run_id, &sum);
	if (rc == EXIT_OK && policy) {
		bool scrutiny;
		rc = cli_run_determine(&c, &o, run_id, policy, &scrutiny);
		if (rc == EXIT_OK && scrutiny && o.fail_on_scrutiny)
			rc = EXIT_SCRUTINY;
	}
out:
	free(served);
	policy_free(policy);
	free(new_cfg);
	cli_run_ctx_close(&c);
	store_close(st);
	store_run_release(&run);
	cli_run_opts_release(&o);
	return rc;
}

const struct cli_cmd cli_cmd_resume = {
	.name = "resume",
	.summary = "finish a run that is not done (interrupted, incomplete) "
		   "without rerunning finished episodes",
	.operands = "RUN", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(resume_table),
	.run = resume_main,
	.notes = "The run's own options (model, epochs, selection, limits, "
		 "policy) are reused; the\nsuite and the policy file must be "
		 "unchanged (same digest). One process at a\ntime executes a "
		 "run: a resume of a run held by a live process refuses. The\n"
		 "endpoint options replace the run's for this resume: a run that "
		 "failed on a\nwrong URL, key or timeout is finished with the "
		 "corrected one.\n",
};
