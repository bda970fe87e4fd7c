/*
 * cmd_export.c - `assay export inspect RUN -o FILE.eval` and `assay export
 *                jsonl RUN [-o FILE]` (docs/EXPORT.md).
 *
 * inspect writes the run as an Inspect eval log that Inspect's log viewer
 * opens; jsonl one flat line per episode attempt. A run of a sealed suite
 * is exported without any task text (prompts, messages and tool output
 * withheld) unless --include-content is given, which needs a --reason;
 * every export is recorded in the audit log (run, format, sealed,
 * content, reason), never the text itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"
#include "cli/sealed.h"
#include "report/report.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "base/banned.h"

/* Transcript bytes loaded for an Inspect export. */
#define EXPORT_TRANSCRIPT_BYTES ((size_t)1 << 30)

enum { K_OUT, K_STORE, K_CONTENT, K_REASON };

static const struct cli_opt export_opts[] = {
	[K_OUT] = { "output", 'o', CLI_STR, "FILE", NULL, "write here (inspect: "
		"required, a .eval file; jsonl: default stdout)",
		.flags = CLI_DASH_STDOUT },
	[K_STORE] = CLI_OPT_STORE_READ,
	[K_CONTENT] = { "include-content", 0, CLI_FLAG, NULL, NULL, "a sealed "
		"suite's run: include the task text (prompts, messages, tool "
		"output); needs --reason and is audited", .flags = 0 },
	[K_REASON] = { "reason", 0, CLI_STR, "TEXT", NULL, "why the task text "
		"of a sealed suite leaves the store (recorded in the audit log)",
		.flags = 0 },
};

/* A run of a sealed suite: its suite path is an .assay archive. */
static bool run_sealed(const struct store_run *run)
{
	const char *p = run->suite_path ? run->suite_path : "";
	size_t n = strlen(p);

	return (n > 6 && !strcmp(p + n - 6, ".assay")) ||
	       cli_sealed_is_archive(p);
}

static int audit_export(int64_t run, const char *format, bool sealed,
			bool content, const char *reason)
{
	struct vault_audit_field f[] = {
		VAULT_AUDIT_I("run", run),
		VAULT_AUDIT_S("format", format),
		VAULT_AUDIT_B("sealed", sealed),
		VAULT_AUDIT_B("content", content),
		VAULT_AUDIT_S("reason", reason ? reason : ""),
	};

	return cli_run_audit("export", f, ARRAY_SIZE(f)) ? EXIT_RUNTIME : 0;
}

static int write_jsonl(const struct report *r, const char *out)
{
	FILE *f = out ? fopen(out, "w") : stdout;
	struct errmsg e;
	enum err rc;

	if (!f)
		return cli_fail(EXIT_RUNTIME, "cannot write '%s'", out);
	rc = report_export_jsonl(r, f, &e);
	if (out && fclose(f) && rc == ERR_OK)
		return cli_fail(EXIT_RUNTIME, "cannot write '%s'", out);
	return rc ? cli_fail_err(&e) : 0;
}

static int export_run(const struct cli_args *a, struct store *st, int64_t id,
		      bool inspect)
{
	struct report *r = NULL;
	struct report_export_opts o = { 0 };
	bool sealed, content = cli_flag(a, K_CONTENT);
	struct errmsg e;
	int rc = 0;

	if (report_load(st, id, &r, &e) != ERR_OK)
		return cli_fail_err(&e);
	sealed = run_sealed(&r->run);
	if (content && !sealed)
		rc = cli_usage(a, "--include-content is for a sealed suite's run; "
			       "run %lld's suite is not sealed", (long long)id);
	o.withhold = sealed && !content;
	if (!rc && inspect &&
	    report_load_transcripts(st, r, EXPORT_TRANSCRIPT_BYTES, &e) != ERR_OK)
		rc = cli_fail_err(&e);
	if (!rc)
		rc = audit_export(id, inspect ? "inspect" : "jsonl", sealed, content,
				  cli_str(a, K_REASON));
	if (!rc && inspect &&
	    report_export_inspect(r, &o, cli_str(a, K_OUT), &e) != ERR_OK)
		rc = cli_fail_err(&e);
	else if (!rc && !inspect)
		rc = write_jsonl(r, cli_str(a, K_OUT));
	if (!rc && sealed && !content && !a->quiet)
		fprintf(stderr, "assay: run %lld is of a sealed suite: task text "
			"withheld (--include-content --reason TEXT to include it)\n",
			(long long)id);
	report_free(r);
	return rc;
}

/* "x.eval" (any case), the only name the viewer opens as an eval log. */
static bool is_eval_name(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && !strcasecmp(path + n - 5, ".eval");
}

static int run_export(const struct cli_args *a)
{
	bool inspect = !strcmp(a->pos[0], "inspect");
	struct store *st;
	struct errmsg e;
	int64_t id;
	int rc;

	if (!inspect && strcmp(a->pos[0], "jsonl"))
		return cli_usage(a, "unknown export format '%s' (want inspect or "
				 "jsonl)", a->pos[0]);
	if (!cli_parse_id(a, "run", a->pos[1], &id))
		return EXIT_USAGE;
	if (inspect && !cli_str(a, K_OUT))
		return cli_usage(a, "export inspect needs -o FILE.eval");
	if (inspect && !is_eval_name(cli_str(a, K_OUT)))
		return cli_usage(a, "export inspect writes a zip that Inspect's "
				 "viewer opens by its .eval name: -o '%s' is not "
				 "FILE.eval", cli_str(a, K_OUT));
	if (cli_flag(a, K_CONTENT) && !cli_str(a, K_REASON))
		return cli_usage(a, "--include-content needs --reason TEXT (it is "
				 "recorded in the audit log)");
	if (cli_store_open_read(cli_str(a, K_STORE), &st, &e) != ERR_OK)
		return cli_fail_err(&e);
	rc = export_run(a, st, id, inspect);
	store_close(st);
	return rc;
}

const struct cli_cmd cli_cmd_export = {
	.name = "export",
	.summary = "export a run as an Inspect eval log or as JSON lines",
	.operands = "inspect|jsonl RUN",
	.min_pos = 2, .max_pos = 2,
	CLI_OPTS(export_opts),
	.run = run_export,
	.notes = "inspect writes Inspect's .eval zip (header, one sample per "
		"task and epoch with its messages, tool calls, events, score C/I, "
		"usage, timings, limits and errors; summaries; reductions), "
		"which `inspect view` opens; jsonl writes one flat JSON object "
		"per episode attempt (docs/EXPORT.md). A sealed suite's run is "
		"exported without task text unless --include-content --reason "
		"TEXT; every export is recorded in the audit log.",
};
