/*
 * cmd_image.c - `assay image`: the image store.
 *
 *   assay image import PATH [--name NAME] [--max-mb N]
 *   assay image ls [--json]
 *   assay image inspect REF [--json]
 *   assay image rm NAME...
 *   assay image gc
 *
 * Every subcommand takes --images DIR (default $ASSAY_IMAGES, else
 * beside the journal's default, docs/internals/image.md).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cli/cmd.h"
#include "image/image.h"
#include "base/banned.h"

/* The image store: import creates it, the rest only use it. */
#define O_IMAGES { "images", 0, CLI_STR, "DIR", \
	"$ASSAY_IMAGES or ~/.local/share/assay/images", \
	"the image store", .flags = CLI_DOC_DEFAULT | CLI_PATH_DIR }
#define O_IMAGES_READ { "images", 0, CLI_STR, "DIR", \
	"$ASSAY_IMAGES or ~/.local/share/assay/images", \
	"the image store (an existing directory)", \
	.flags = CLI_DOC_DEFAULT | CLI_PATH_DIR | CLI_PATH_EXISTS }

/* Every image command: open the store (--images; created only by
 * import), run fn on it, close it. fn prints its own failure
 * (cli_fail_err) and returns the exit code. */
static int with_store(const struct cli_args *a, bool create,
		      int (*fn)(const struct cli_args *a, struct image_store *st))
{
	const char *dir = cli_named_str(a, "images");
	struct image_store *st;
	struct errmsg e;
	int rc;

	if (create ? image_store_open(dir, &st, &e)
		   : image_store_open_existing(dir, &st, &e))
		return cli_fail_err(&e);
	rc = fn(a, st);
	image_store_close(st);
	return rc;
}

static json_t *strv_json(char *const *v)
{
	json_t *a;

	if (!v)
		return json_null();
	a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *info_json(const struct image_info *im, bool full)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "name", im->name, "digest",
			      im->digest, "format", im->format, "layers",
			      (json_int_t)im->n_layers);
	json_t *ls, *c, *ports;
	uint64_t size = 0;

	for (size_t i = 0; i < im->n_layers; i++)
		size += im->layers[i].unpacked;
	json_object_set_new(j, "size", json_integer((json_int_t)size));
	json_object_set_new(j, "imported", json_integer(im->imported));
	if (!full)
		return j;
	json_object_set_new(j, "config_digest", json_string(im->config_digest));
	json_object_set_new(j, "source", json_string(im->source));
	ls = json_array();
	for (size_t i = 0; i < im->n_layers; i++)
		json_array_append_new(ls, json_pack("{s:s, s:s, s:I, s:I}", "digest",
			im->layers[i].digest, "diff_id", im->layers[i].diff_id,
			"size", (json_int_t)im->layers[i].size, "unpacked",
			(json_int_t)im->layers[i].unpacked));
	json_object_set_new(j, "layers", ls);
	ports = json_array();
	for (size_t i = 0; i < im->config.n_ports; i++)
		json_array_append_new(ports, json_integer(im->config.ports[i]));
	c = json_pack("{s:o, s:o, s:o, s:s?, s:s?, s:o}", "entrypoint",
		      strv_json(im->config.entrypoint), "cmd", strv_json(im->config.cmd),
		      "env", strv_json(im->config.env), "workdir", im->config.workdir,
		      "user", im->config.user, "ports", ports);
	json_object_set_new(j, "config", c);
	return j;
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

static void print_strv(const char *key, char *const *v)
{
	printf("%-12s", key);
	for (size_t i = 0; v && v[i]; i++)
		printf(" %s", v[i]);
	fputc('\n', stdout);
}

static void print_inspect(const struct image_info *im)
{
	char when[32];

	iso8601((int64_t)im->imported * 1000, when, sizeof(when));
	printf("%-12s %s\n%-12s %s\n%-12s %s\n%-12s %s\n%-12s %s\n%-12s %s\n",
	       "name", im->name, "digest", im->digest, "config", im->config_digest,
	       "format", im->format, "source", im->source, "imported", when);
	for (size_t i = 0; i < im->n_layers; i++)
		printf("layer %-6zu %s (%llu bytes unpacked)\n", i + 1,
		       im->layers[i].diff_id,
		       (unsigned long long)im->layers[i].unpacked);
	print_strv("entrypoint", im->config.entrypoint);
	print_strv("cmd", im->config.cmd);
	print_strv("env", im->config.env);
	printf("%-12s %s\n%-12s %s\n%-12s", "workdir",
	       im->config.workdir ? im->config.workdir : "", "user",
	       im->config.user ? im->config.user : "", "ports");
	for (size_t i = 0; i < im->config.n_ports; i++)
		printf(" %d", im->config.ports[i]);
	fputc('\n', stdout);
}

static int do_import(const struct cli_args *a, struct image_store *st)
{
	struct image_limits lim = { 0 };
	struct image_info *im;
	struct errmsg e;

	if (cli_named_int(a, "max-mb"))
		lim.max_bytes = (uint64_t)cli_named_int(a, "max-mb") << 20;
	if (image_import(st, a->pos[0], cli_named_str(a, "name"), &lim, &im, &e))
		return cli_fail_err(&e);
	if (cli_named_flag(a, "json"))
		print_json(info_json(im, true));
	else if (!a->quiet)
		printf("imported %s %s (%zu layers, %s)\n", im->name, im->digest,
		       im->n_layers, im->format);
	image_info_free(im);
	return 0;
}

static int do_ls(const struct cli_args *a, struct image_store *st)
{
	struct image_info **v;
	struct errmsg e;
	size_t n;

	if (image_list(st, &v, &n, &e))
		return cli_fail_err(&e);
	if (cli_named_flag(a, "json")) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, info_json(v[i], false));
		print_json(json_pack("{s:o}", "images", arr));
	} else {
		printf("%-24s %-20s %-6s %s\n", "NAME", "DIGEST", "LAYERS", "FORMAT");
		for (size_t i = 0; i < n; i++)
			printf("%-24s %-20.19s %-6zu %s\n", v[i]->name, v[i]->digest,
			       v[i]->n_layers, v[i]->format);
	}
	image_list_free(v, n);
	return 0;
}

static int do_inspect(const struct cli_args *a, struct image_store *st)
{
	struct image_info *im;
	struct errmsg e;

	if (image_find(st, a->pos[0], &im, &e))
		return cli_fail_err(&e);
	if (cli_named_flag(a, "json"))
		print_json(info_json(im, true));
	else
		print_inspect(im);
	image_info_free(im);
	return 0;
}

static int do_rm(const struct cli_args *a, struct image_store *st)
{
	struct errmsg e;
	int worst = 0;

	for (int i = 0; i < a->npos; i++)
		if (image_remove(st, a->pos[i], &e))
			worst = cli_fail_err(&e);
		else if (!a->quiet)
			printf("removed %s\n", a->pos[i]);
	return worst;
}

static int do_gc(const struct cli_args *a, struct image_store *st)
{
	struct errmsg e;
	size_t removed;
	uint64_t bytes;

	if (image_gc(st, &removed, &bytes, &e))
		return cli_fail_err(&e);
	if (cli_named_flag(a, "json"))
		print_json(json_pack("{s:I}", "removed", (json_int_t)removed));
	else if (!a->quiet)
		printf("removed %zu unused layers, blobs and work directories\n",
		       removed);
	return 0;
}

/* The subcommands' entries (struct cli_cmd.run takes only the arguments). */
static int run_import(const struct cli_args *a)
{
	return with_store(a, true, do_import);
}

static int run_ls(const struct cli_args *a)
{
	return with_store(a, false, do_ls);
}

static int run_inspect(const struct cli_args *a)
{
	return with_store(a, false, do_inspect);
}

static int run_rm(const struct cli_args *a)
{
	return with_store(a, false, do_rm);
}

static int run_gc(const struct cli_args *a)
{
	return with_store(a, false, do_gc);
}

static const struct cli_opt import_table[] = {
	O_IMAGES,
	{ "name", 0, CLI_STR, "NAME", NULL, "the name tasks use (default: the "
	  "archive's tag, else the file name)", .flags = 0 },
	{ "max-mb", 0, CLI_INT, "N", "16384", "refuse an image larger than N "
	  "MiB unpacked", .lo = 1, .hi = 1 << 24, .flags = 0 },
	CLI_OPT_JSON,
};
static const struct cli_opt list_table[] = { O_IMAGES_READ, CLI_OPT_JSON };
static const struct cli_opt plain_table[] = { O_IMAGES_READ };

static const struct cli_cmd import_cmd = {
	.name = "import", .summary = "import an OCI layout, oci-archive, "
	"docker-archive or rootfs tarball", .operands = "PATH",
	.min_pos = 1, .max_pos = 1, CLI_OPTS(import_table), .run = run_import,
	.notes = "Every digest is verified and every layer entry checked; a "
		 "refused image leaves\nnothing behind in the store.\n",
};
static const struct cli_cmd ls_cmd = {
	.name = "ls", .summary = "list imported images", .min_pos = 0,
	.max_pos = 0, CLI_OPTS(list_table), .run = run_ls,
};
static const struct cli_cmd inspect_cmd = {
	.name = "inspect", .summary = "show an image's layers and config",
	.operands = "NAME[@sha256:HEX]", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(list_table), .run = run_inspect,
};
static const struct cli_cmd rm_cmd = {
	.name = "rm", .summary = "forget imported images (layers stay until gc)",
	.operands = "NAME...", .min_pos = 1, .max_pos = -1,
	CLI_OPTS(plain_table), .run = run_rm,
};
static const struct cli_cmd gc_cmd = {
	.name = "gc", .summary = "remove layers and blobs no image uses",
	.min_pos = 0, .max_pos = 0, CLI_OPTS(list_table), .run = run_gc,
};

static const struct cli_cmd *const image_subs[] = {
	&import_cmd, &ls_cmd, &inspect_cmd, &rm_cmd, &gc_cmd, NULL,
};

const struct cli_cmd cli_cmd_image = {
	.name = "image",
	.summary = "import, list, inspect and remove OCI images",
	.subs = image_subs,
	.notes = "Images live in a content-addressed store shared by all tasks "
		 "($ASSAY_IMAGES).\n",
};
