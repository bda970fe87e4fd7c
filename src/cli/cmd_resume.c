/*
 * cmd_resume.c - `assay resume RUN [--store PATH] [-j N]`: finish a run
 * that was interrupted (SIGINT, kill -9, power loss) without rerunning
 * finished episodes. Episodes cut off midway are kept, marked
 * infra-interrupted, and attempted again.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"

static int parse(int argc, char **argv, int64_t *run_id, const char **store,
		 int *jobs, struct sealed_opts *so, enum progress_mode *pm)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "request-key", required_argument, NULL, 'k' },
		{ "approval", required_argument, NULL, 'a' },
		{ "progress", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j:", opts, NULL)) != -1) {
		if (c == 's')
			*store = optarg;
		else if (c == 'j' && atoi(optarg) > 0)
			*jobs = atoi(optarg);
		else if (c == 'p') {
			if (!progress_mode_parse(optarg, pm)) {
				cli_error("bad value '%s' for --progress (none, "
					  "line or bar)", optarg);
				return EXIT_USAGE;
			}
		} else if (c == 'k' || c == 'a') {
			if (run_opts_sealed(so, c, optarg))
				return EXIT_USAGE;
		}
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	*run_id = strtoll(argv[optind], &end, 10);
	if (*end || *run_id <= 0) {
		cli_error("bad run id '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
usage:
	fputs("usage: assay resume RUN [--store PATH] [-j N] "
	      "[--progress none|line|bar]\n"
	      "       [--request-key REQ.key --approval FILE...]\n", stderr);
	return EXIT_USAGE;
}

static int load_run(const char *store_path, int64_t run_id,
		    struct store_run *run)
{
	struct store *st;
	struct errmsg e;
	enum err rc = cli_store_open(store_path, &st, &e);

	if (rc == ERR_OK) {
		rc = store_run_get(st, run_id, run, &e);
		store_close(st);
	}
	if (rc) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	return 0;
}

/* Under the lease, in one transaction: attempts left running by a dead
 * owner become interrupted, a task snapshot cut short by a store of an
 * older assay is completed (the suite's digest matched), the run is
 * running again. Then count what is left. */
static enum err prepare(struct run_ctx *c, int64_t run_id, int *n_cut,
			struct store_pairs *pairs, struct errmsg *e)
{
	struct store_task *tasks = NULL;
	size_t n_tasks = 0;
	enum err rc = store_tx_begin(c->store, e);

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

int cmd_resume(int argc, char **argv)
{
	struct store_run run = { 0 };
	struct store_pairs pairs;
	struct engine_summary sum;
	struct run_opts o;
	struct run_ctx c;
	const char *store = NULL;
	int64_t run_id;
	int jobs = 0, n = 0, rc;
	enum progress_mode pm = PROGRESS_AUTO;
	struct errmsg e;

	run_opts_init(&o);
	if ((rc = parse(argc, argv, &run_id, &store, &jobs, &o.sealed, &pm)) ||
	    (rc = load_run(store, run_id, &run)))
		return rc;
	if (run_opts_from_json(&o, run.config_json, &e) != ERR_OK) {
		cli_error("run %lld: %s", (long long)run_id, e.text);
		store_run_release(&run);
		run_opts_release(&o);
		return EXIT_RUNTIME;
	}
	o.store = store;
	o.progress = pm;
	if (jobs)
		o.jobs = jobs;
	if ((rc = run_ctx_open(&c, &o))) {
		store_run_release(&run);
		run_opts_release(&o);
		return rc;
	}
	/* the lease first: nothing of a run another process executes is
	 * touched, not even its running episodes */
	if ((rc = run_lease_take(&c, run_id)))
		goto out;
	rc = EXIT_RUNTIME;
	if (strcmp(c.digest, run.suite_digest)) {
		cli_error("run %lld: suite '%s' changed since the run started "
			  "(digest %.12s, was %.12s); refusing to mix results",
			  (long long)run_id, o.suite, c.digest, run.suite_digest);
		rc = EXIT_USAGE;
		goto out;
	}
	if (prepare(&c, run_id, &n, &pairs, &e) != ERR_OK) {
		cli_error("%s", e.text);
		goto out;
	}
	if (!o.quiet)
		tell(run_id, n, &pairs);
	rc = run_ctx_execute(&c, &o, run_id, &sum);
out:
	run_ctx_close(&c);
	store_run_release(&run);
	run_opts_release(&o);
	return rc;
}
