/*
 * cmd_exposure.c - `assay suite exposure S --developer D [--store PATH]`:
 * the exposure ledger. Lists, for each task of suite S (a directory, a
 * suite.yaml or a sealed archive, whose task ids are read from its
 * metadata without unsealing), every endpoint its text was sent to, and
 * ends with the tasks never exposed to developer D: the ones still fit for
 * a held-out evaluation of D's models.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/sealed.h"
#include "store/store.h"
#include "task/task.h"
#include "vault/seal.h"
#include "base/banned.h"

/* The suite's task ids, sorted as the suite lists them. */
static enum err task_ids(const char *path, char ***ids_out, size_t *n_out,
			 struct errmsg *e)
{
	struct vault_archive *a;
	struct suite *s;
	char **ids;
	enum err rc;

	if (cli_sealed_is_archive(path)) {
		if ((rc = vault_archive_open(path, &a, e)))
			return rc;
		ids = xcalloc(a->ntasks + 1, sizeof(*ids));
		for (size_t i = 0; i < a->ntasks; i++)
			ids[i] = xstrdup(a->tasks[i].id);
		*n_out = a->ntasks;
		vault_archive_free(a);
	} else {
		if ((rc = task_suite_load(path, &s, e)))
			return rc;
		ids = xcalloc(s->n_tasks + 1, sizeof(*ids));
		for (size_t i = 0; i < s->n_tasks; i++)
			ids[i] = xstrdup(s->tasks[i]->id);
		*n_out = s->n_tasks;
		task_suite_free(s);
	}
	*ids_out = ids;
	return ERR_OK;
}

static size_t print_task(const char *id, const struct store_exposure *xs,
			 size_t n, const char *developer)
{
	size_t to_dev = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(xs[i].task_id, id))
			continue;
		printf("  %-28s run %-5lld %-14s %s (%s)\n", id,
		       (long long)xs[i].run_id, xs[i].developer, xs[i].model,
		       xs[i].endpoint);
		to_dev += !strcmp(xs[i].developer, developer);
	}
	return to_dev;
}

/* --json: each task with the endpoints its text was sent to. */
static void print_json(const char *suite, const char *developer, char **ids,
		       size_t n_ids, const struct store_exposure *xs, size_t n)
{
	json_t *tasks = json_array(), *fresh = json_array(), *j;

	for (size_t i = 0; i < n_ids; i++) {
		json_t *to = json_array();
		bool dev = false;
		for (size_t k = 0; k < n; k++) {
			if (strcmp(xs[k].task_id, ids[i]))
				continue;
			dev |= !strcmp(xs[k].developer, developer);
			json_array_append_new(to, json_pack("{s:I, s:s, s:s, s:s}",
				"run", (json_int_t)xs[k].run_id, "developer",
				xs[k].developer, "model", xs[k].model, "endpoint",
				xs[k].endpoint));
		}
		json_array_append_new(tasks, json_pack("{s:s, s:b, s:o}", "id",
			ids[i], "exposed_to_developer", dev, "exposures", to));
		if (!dev)
			json_array_append_new(fresh, json_string(ids[i]));
	}
	j = json_pack("{s:s, s:s, s:I, s:o, s:o}", "suite", suite,
		      "developer", developer, "tasks_total", (json_int_t)n_ids,
		      "tasks", tasks, "never_exposed", fresh);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

static int report(const char *suite, const char *developer, struct store *st,
		  bool json)
{
	struct store_exposure *xs = NULL;
	char **ids = NULL;
	size_t n_ids = 0, n = 0, fresh = 0;
	struct errmsg e;
	bool *unexposed;

	if (task_ids(suite, &ids, &n_ids, &e) != ERR_OK ||
	    store_exposure_list(st, NULL, &xs, &n, &e) != ERR_OK) {
		cli_error("%s", e.text);
		strv_free(ids);
		return cli_exit_for(e.code);
	}
	if (json) {
		print_json(suite, developer, ids, n_ids, xs, n);
		store_exposures_free(xs, n);
		strv_free(ids);
		return EXIT_OK;
	}
	unexposed = xcalloc(n_ids + 1, sizeof(*unexposed));
	printf("exposure of suite '%s':\n", suite);
	for (size_t i = 0; i < n_ids; i++)
		unexposed[i] = print_task(ids[i], xs, n, developer) == 0;
	printf("\nnever exposed to developer '%s':\n", developer);
	for (size_t i = 0; i < n_ids; i++)
		if (unexposed[i]) {
			printf("  %s\n", ids[i]);
			fresh++;
		}
	printf("%zu of %zu tasks never exposed to '%s'\n", fresh, n_ids,
	       developer);
	free(unexposed);
	store_exposures_free(xs, n);
	strv_free(ids);
	return EXIT_OK;
}

enum { X_DEVELOPER, X_STORE, X_JSON };

static const struct cli_opt exposure_table[] = {
	[X_DEVELOPER] = { "developer", 'd', CLI_STR, "NAME", NULL, "the "
		"developer whose exposure to the suite's tasks is listed",
		.flags = CLI_REQUIRED },
	[X_STORE] = CLI_OPT_STORE_READ,
	[X_JSON] = CLI_OPT_JSON,
};

static int exposure_main(const struct cli_args *a)
{
	struct store *st;
	struct errmsg e;
	int rc;

	if (cli_store_open_read(cli_str(a, X_STORE), &st, &e) != ERR_OK)
		return cli_fail_err(&e);
	rc = report(a->pos[0], cli_str(a, X_DEVELOPER), st, cli_flag(a, X_JSON));
	store_close(st);
	return rc;
}

const struct cli_cmd cli_cmd_suite_exposure = {
	.name = "exposure",
	.summary = "which of a suite's tasks a developer's endpoints have seen",
	.operands = "SUITE", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(exposure_table),
	.run = exposure_main,
};
