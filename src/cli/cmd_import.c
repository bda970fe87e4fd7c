/*
 * cmd_import.c - `assay import FORMAT SRC -o DIR [--agent-image IMG]
 *                [--subtasks guided|unguided|together] [--report] [--json]`
 *
 * Converts another harness's tasks into assay task directories and a
 * suite.yaml (task/import.h, docs/IMPORT.md). Every task is listed with
 * what became of it: imported, imported without a reference solution
 * (oracle: none), or refused with the reason; `--report` adds the counts.
 * Exit 0 when the import ran (even if tasks were refused), 2 on bad
 * usage or an unreadable source, 3 on I/O failure.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "image/image.h"
#include "task/import.h"
#include "base/banned.h"

enum { K_OUT, K_AGENT_IMAGE, K_IMAGES, K_SUBTASKS, K_REPORT, K_JSON };

static const struct cli_opt import_opts[] = {
	[K_OUT] = { "output", 'o', CLI_STR, "DIR", NULL, "write the tasks and "
		"suite.yaml here (a new or empty directory)",
		.flags = CLI_REQUIRED },
	[K_AGENT_IMAGE] = { "agent-image", 0, CLI_STR, "IMAGE", NULL,
		"the agent box's image for every task ('host' or an imported "
		"image), instead of the source's default service", .flags = 0 },
	[K_IMAGES] = { "images", 0, CLI_STR, "DIR", "$ASSAY_IMAGES or "
		"~/.local/share/assay/images", "the image store that says which "
		"images are imported (none when it does not exist)",
		.flags = CLI_DOC_DEFAULT | CLI_PATH_DIR },
	[K_SUBTASKS] = { "subtasks", 0, CLI_CHOICE, NULL, "guided", "Cybench's "
		"subtasks: asked one at a time before the flag (Cybench's "
		"default), not asked (its unguided mode), or all in the first "
		"prompt", .choices = "guided|unguided|together" },
	[K_REPORT] = { "report", 0, CLI_FLAG, NULL, NULL, "also print the "
		"counts: imported, without oracle, refused by reason",
		.flags = 0 },
	[K_JSON] = CLI_OPT_JSON,
};

static void counts(const struct import_result *r, size_t *ok, size_t *noor,
		   size_t by[REFUSE__COUNT])
{
	*ok = *noor = 0;
	memset(by, 0, REFUSE__COUNT * sizeof(*by));
	for (size_t i = 0; i < r->n; i++) {
		by[r->items[i].refused]++;
		if (!r->items[i].refused) {
			(*ok)++;
			*noor += r->items[i].no_oracle;
		}
	}
}

/* quiet: only the refusals (what needs a look) and the counts asked for */
static void print_text(const struct import_result *r, bool report, bool quiet)
{
	size_t ok, noor, by[REFUSE__COUNT];

	for (size_t i = 0; i < r->n; i++) {
		const struct import_item *it = &r->items[i];
		if (it->refused)
			printf("refused   %s (%s): %s: %s\n", it->id, it->source,
			       task_import_refusal_name(it->refused), it->why);
		else if (!quiet)
			printf("imported  %s (%s)%s%s\n", it->id, it->source,
			       it->no_oracle ? "  oracle: none" : "",
			       it->defaults ? "  defaults tagged" : "");
	}
	if (!report)
		return;
	counts(r, &ok, &noor, by);
	printf("\nimported: %zu (without oracle: %zu)\nrefused: %zu\n", ok, noor,
	       r->n - ok);
	for (int k = 1; k < REFUSE__COUNT; k++)
		if (by[k])
			printf("  %s: %zu\n", task_import_refusal_name((enum import_refusal)k),
			       by[k]);
}

static void print_json(const struct import_result *r)
{
	json_t *items = json_array(), *refused = json_object(), *j;
	size_t ok, noor, by[REFUSE__COUNT];

	counts(r, &ok, &noor, by);
	for (size_t i = 0; i < r->n; i++) {
		const struct import_item *it = &r->items[i];
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s?, s:b, "
			"s:b}", "id", it->id, "source", it->source, "status",
			it->refused ? task_import_refusal_name(it->refused) : "imported",
			"why", it->why, "oracle", !it->no_oracle && !it->refused,
			"defaults", it->defaults));
	}
	for (int k = 1; k < REFUSE__COUNT; k++)
		if (by[k])
			json_object_set_new(refused, task_import_refusal_name(
				(enum import_refusal)k), json_integer((json_int_t)by[k]));
	j = json_pack("{s:o, s:I, s:I, s:o}", "tasks", items, "imported",
		      (json_int_t)ok, "without_oracle", (json_int_t)noor,
		      "refused", refused);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(j);
}

/* The image store, opened at the first question (an import of tasks
 * that name no image never creates one). */
struct images {
	const char *dir;
	struct image_store *st;
	bool failed;
};

static bool image_imported(void *arg, const char *ref)
{
	struct images *im = arg;
	struct image_info *info;
	struct errmsg e;

	if (!im->st && !im->failed &&
	    image_store_open(im->dir, &im->st, &e) != ERR_OK) {
		cli_error("%s", e.text);
		im->failed = true;
	}
	if (!im->st || image_find(im->st, ref, &info, &e) != ERR_OK)
		return false;
	image_info_free(info);
	return true;
}

static int run_import(const struct cli_args *a)
{
	struct images im = { .dir = cli_str(a, K_IMAGES) };
	struct import_opts o = { .agent_image = cli_str(a, K_AGENT_IMAGE),
				 .image_imported = image_imported,
				 .image_arg = &im };
	struct import_result r;
	enum import_format f;
	struct errmsg e;

	if (!task_import_subtasks_parse(cli_str(a, K_SUBTASKS), &o.subtasks))
		o.subtasks = IMPORT_SUBTASKS_GUIDED;   /* the choice's default */
	if (!task_import_format_parse(a->pos[0], &f))
		return cli_usage(a, "unknown format '%s' (want inspect-cyber, "
				 "cybench, intercode, nyu-ctf or harbor)",
				 a->pos[0]);
	if (task_import_run(f, a->pos[1], cli_str(a, K_OUT), &o, &r, &e) !=
	    ERR_OK) {
		task_import_result_release(&r);
		if (im.st)
			image_store_close(im.st);
		return cli_fail_err(&e);
	}
	if (im.st)
		image_store_close(im.st);
	if (cli_flag(a, K_JSON))
		print_json(&r);
	else
		print_text(&r, cli_flag(a, K_REPORT), a->quiet);
	task_import_result_release(&r);
	return EXIT_OK;
}

const struct cli_cmd cli_cmd_import = {
	.name = "import",
	.summary = "convert another harness's tasks into an assay suite",
	.operands = "FORMAT SRC",
	.min_pos = 2, .max_pos = 2,
	CLI_OPTS(import_opts),
	.run = run_import,
	.notes = "FORMAT is inspect-cyber, cybench, intercode, nyu-ctf or "
		"harbor (docs/IMPORT.md: the field mapping and what is "
		"refused). A task that cannot be represented (privileged, "
		"cap_add, devices, host networking, external network, a live "
		"remote host, an image that is not imported) is refused with "
		"the reason and the rest still imports. Defaults for missing "
		"fields are tagged (expert-minutes-default, difficulty-default, "
		"attack-default); a task without a runnable reference solution "
		"gets oracle: none, which task check reports as unverified.",
};
