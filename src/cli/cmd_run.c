/*
 * cmd_run.c - `assay run --suite S --model M ...`
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "cli/cmd.h"
#include "cli/runctl.h"

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run_ctx c;
	struct store_run run = { 0 };
	struct engine_summary sum;
	struct errmsg e;
	char *cfg;
	int rc;

	run_opts_init(&o);
	if ((rc = run_opts_parse(&o, argc, argv, true)))
		return rc;
	if ((rc = run_ctx_open(&c, &o)))
		return rc;
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
	if (store_run_create(c.store, &run, &e) != ERR_OK ||
	    engine_snapshot_tasks(c.store, run.id, c.suite, &e) != ERR_OK) {
		cli_error("%s", e.text);
		free(cfg);
		run_ctx_close(&c);
		return EXIT_RUNTIME;
	}
	free(cfg);
	if (!o.quiet && !o.json)
		fprintf(stderr, "assay: run %lld: %zu tasks x %d epochs with "
			"'%s'\n", (long long)run.id, c.suite->n_tasks, o.epochs,
			o.model);
	rc = run_ctx_execute(&c, &o, run.id, &sum);
	run_ctx_close(&c);
	return rc;
}
