/*
 * cmd_human.c - `assay human --suite S --task T [--user NAME]`: a human
 * expert works one task in its agent box, on this terminal.
 *
 * The session is a run of its own whose model is human/NAME, with one
 * episode set up by the engine as a model's (engine_human_run): the
 * services run, the flag is planted, each command is journaled, `submit
 * FLAG` is scored by the same rules and the shell's lifetime is the
 * working time. show, report and export read it as any run; the report
 * uses such runs to calibrate the tasks' expert_minutes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"
#include "base/banned.h"

enum { H_SUITE, H_TASK, H_USER, H_PROMPT, H_STORE };

static const struct cli_opt human_table[] = {
	[H_SUITE] = { "suite", 's', CLI_STR, "PATH", NULL, "the suite (a "
		      "directory, a suite.yaml or a task directory)",
		      .flags = CLI_REQUIRED },
	[H_TASK] = { "task", 't', CLI_STR, "ID", NULL, "the task to work",
		     .flags = CLI_REQUIRED },
	[H_USER] = { "user", 'u', CLI_STR, "NAME", "$USER", "who works it: the "
		     "run's model is human/NAME ([A-Za-z0-9._-])",
		     .flags = CLI_DOC_DEFAULT },
	[H_PROMPT] = { "prompt", 0, CLI_CHOICE, NULL, NULL, "the task prompt "
		       "variant, as run's (default: the task's prompt)",
		       .choices = "hard|easy" },
	[H_STORE] = CLI_OPT_STORE,
};

/* The task, shown once its services are up. */
static void show_prompt(void *arg, const char *prompt)
{
	const char *task = arg;

	fprintf(stderr, "assay: task %s\n\n%s\n\n", task, prompt ? prompt : "");
	fflush(stderr);
}

static int session(struct run_ctx *c, const struct run_opts *o,
		   const char *user, int64_t run_id)
{
	struct engine_config ec = { 0 };
	struct engine_human h = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO,
		.user = user, .on_ready = show_prompt,
		.arg = c->suite->tasks[0]->id, .stopped = cli_run_stopped };
	struct engine_human_result res;
	struct errmsg e, se;
	enum err rc;

	ec.store = c->store;
	ec.suite = c->suite;
	ec.mctx = c->mctx;
	ec.model = c->model;
	ec.run_id = run_id;
	ec.epochs = 1;
	ec.jobs = 1;
	ec.prompt_level = o->prompt_level;
	ec.developer = "human";
	cli_run_signals();      /* SIGTERM, SIGHUP: hang the shell up, record */
	rc = engine_human_run(&ec, c->suite->tasks[0], &h, &res, &e);
	if (store_run_set_status(c->store, run_id, rc ? "failed" :
				 !strcmp(res.outcome, "infra-error") ?
				 "incomplete" : "done", &se) != ERR_OK && !rc) {
		rc = se.code;
		e = se;
	}
	if (rc) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	fprintf(stderr, "\nassay: run %lld episode %lld: %s (score %d) after "
		"%.1f min, %d commands%s%s\n", (long long)run_id,
		(long long)res.episode_id, res.outcome, res.score,
		(double)res.working_ms / 60000.0, res.commands,
		*res.error ? ": " : "", res.error);
	return EXIT_OK;
}

static int human_main(const struct cli_args *a)
{
	const char *user = cli_str(a, H_USER);
	struct run_opts o;
	struct run_ctx c;
	char *model;
	int64_t run_id;
	int rc;

	if (!user)
		user = getenv("USER");
	if (!user || !*user)
		return cli_fail(EXIT_USAGE, "no --user given and $USER is unset");
	model = xasprintf("human/%s", user);
	cli_run_opts_init(&o);
	o.suite = cli_str(a, H_SUITE);
	o.model = model;
	o.agent = "human";        /* shown with the run; no scaffold runs */
	o.store = cli_str(a, H_STORE);
	o.prompt_level = cli_str(a, H_PROMPT);
	o.epochs = 1;
	o.jobs = 1;
	cli_run_select_add(&o.sel.tasks, &o.sel.n_tasks, cli_str(a, H_TASK));
	cli_run_opts_absolute(&o);
	if ((rc = cli_run_ctx_open(&c, &o)))
		goto out;
	if (c.suite->n_tasks != 1)
		rc = cli_fail(EXIT_USAGE, "--task '%s' selects %zu tasks of the "
			      "suite; a human session works one",
			      cli_str(a, H_TASK), c.suite->n_tasks);
	else if (!(rc = cli_run_create(&c, &o, &run_id))) {
		fprintf(stderr, "assay: run %lld: task %s for %s\n",
			(long long)run_id, c.suite->tasks[0]->id, model);
		rc = session(&c, &o, user, run_id);
	}
	cli_run_ctx_close(&c);
out:
	cli_run_opts_release(&o);
	free(model);
	return rc;
}

const struct cli_cmd cli_cmd_human = {
	.name = "human",
	.summary = "a human baseline: work one task in its agent box, on this "
		   "terminal",
	CLI_OPTS(human_table),
	.run = human_main,
	.notes = "The shell runs in the task's agent box with its services up, "
		 "as a model's episode.\nEach command is journaled; 'submit FLAG' "
		 "submits and ends the session, 'exit'\ngives up. The run's model "
		 "is human/NAME: assay show, report and export read it,\nand "
		 "assay report RUN... calibrates expert_minutes from such runs.\n",
};
