/*
 * cmd_run.c - `assay run --suite S --model M ...`
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"
#include "policy/policy.h"
#include "report/report.h"

/* The pre-registered policy, read before anything runs so a malformed one
 * costs nothing (NULL when no evaluation was asked for). */
static int load_policy(const struct run_opts *o, struct policy **p_out)
{
	char *path;
	struct errmsg e;
	enum err rc;

	*p_out = NULL;
	if (!o->policy && !o->fail_on_scrutiny)
		return 0;
	path = o->policy ? xstrdup(o->policy) : report_default_policy_path();
	if (!path) {
		cli_error("no default policy found; pass --policy FILE");
		return EXIT_USAGE;
	}
	rc = policy_load(path, p_out, &e);
	free(path);
	if (rc) {
		cli_error("%s", e.text);
		return EXIT_USAGE;
	}
	return 0;
}

/* The determination of the finished run under the policy (no reference
 * runs: `assay report --reference` compares). Sets *scrutiny. */
static int determine(struct run_ctx *c, const struct run_opts *o,
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
		fprintf(out, "determination under '%s': %s: %s\n", p->path,
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

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run_ctx c;
	struct store_run run = { 0 };
	struct engine_summary sum;
	struct policy *policy = NULL;
	struct errmsg e;
	char *cfg;
	int rc;

	run_opts_init(&o);
	if ((rc = run_opts_parse(&o, argc, argv, true)) ||
	    (rc = load_policy(&o, &policy)))
		return rc;
	if ((rc = run_ctx_open(&c, &o))) {
		policy_free(policy);
		return rc;
	}
	cfg = run_opts_to_json(&o);
	run.model = (char *)model_name(c.model);
	run.endpoint = (char *)model_endpoint(c.model);
	run.suite_id = c.suite->id;
	run.suite_path = (char *)o.suite;
	run.suite_digest = c.digest;
	run.config_json = cfg;
	run.harness_version = (char *)"assay " ASSAY_VERSION;
	run.epochs = o.epochs;
	run.created_ms = wall_ms();
	/* The run, its lease and its whole task snapshot in one transaction:
	 * a kill at any point leaves either no run or all of it. */
	rc = 0;
	if (store_tx_begin(c.store, &e) != ERR_OK ||
	    store_run_create(c.store, &run, &e) != ERR_OK ||
	    (rc = run_lease_take(&c, run.id)) ||
	    engine_snapshot_tasks(c.store, run.id, c.suite, &e) != ERR_OK ||
	    store_tx_commit(c.store, &e) != ERR_OK) {
		if (!rc)
			cli_error("%s", e.text);
		store_tx_rollback(c.store);
		free(cfg);
		policy_free(policy);
		run_ctx_close(&c);
		return EXIT_RUNTIME;
	}
	free(cfg);
	if (!o.quiet && !o.json)
		fprintf(stderr, "assay: run %lld: %zu tasks x %d epochs with "
			"'%s'\n", (long long)run.id, c.suite->n_tasks, o.epochs,
			o.model);
	rc = run_ctx_execute(&c, &o, run.id, &sum);
	if (rc == EXIT_OK && policy) {
		bool scrutiny;
		rc = determine(&c, &o, run.id, policy, &scrutiny);
		if (rc == EXIT_OK && scrutiny && o.fail_on_scrutiny)
			rc = EXIT_SCRUTINY;
	}
	policy_free(policy);
	run_ctx_close(&c);
	return rc;
}
