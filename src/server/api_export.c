/*
 * api_export.c - a campaign's run exported for the tools evaluators use
 * (docs/EXPORT.md): GET /runs/{id}/export/inspect.eval (an Inspect eval
 * log) and /runs/{id}/export/episodes.jsonl (one flat line per attempt),
 * for those with need-to-know on the run's campaign. A run of a sealed
 * suite is exported without any task text: the service never hands out
 * sealed content (`assay export --include-content --reason` on the
 * machine that holds the store does, audited). Every export is audited
 * (`run.export`, its format and whether task text was withheld; the
 * jsonl lines never hold any).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "report/report.h"
#include "server/server_int.h"
#include "vault/vault.h"
#include "base/banned.h"

/* transcripts read for one export; an episode past it gets no messages */
#define EXPORT_TRANSCRIPT_BYTES ((size_t)64 << 20)
#define EXPORT_MAX ((size_t)256 << 20)

/* The Inspect log of r, through a private temporary file. */
static enum err inspect_bytes(const struct report *r,
			      const struct report_export_opts *o, char **out,
			      size_t *n, struct errmsg *e)
{
	char *dir = vault_home_path("program-runs", NULL), *path;
	enum err rc = mkdir_p(dir, 0700, e);
	int fd;

	*out = NULL;
	*n = 0;
	if (rc) {
		free(dir);
		return rc;
	}
	path = path_join(dir, "export-XXXXXX");
	free(dir);
	if ((fd = mkstemp(path)) < 0) {
		rc = err_set(e, ERR_IO, "%s: cannot create", path);
	} else {
		close(fd);
		rc = report_export_inspect(r, o, path, e);
		if (!rc)
			rc = file_read(path, EXPORT_MAX, out, n, e);
		unlink(path);
	}
	free(path);
	return rc;
}

static enum err jsonl_bytes(const struct report *r, char **out, size_t *n,
			    struct errmsg *e)
{
	FILE *f = open_memstream(out, n);
	enum err rc;

	if (!f)
		return err_set(e, ERR_IO, "open_memstream failed");
	rc = report_export_jsonl(r, f, e);
	if (fclose(f) && !rc)
		rc = err_set(e, ERR_IO, "export failed");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

void api_runs_export(struct srv *s, struct req *r, struct reply *y)
{
	bool inspect = !strcmp(r->name, "inspect.eval");
	struct report_export_opts o = { 0 };
	struct sp_campaign c;
	struct report *rep = NULL;
	char *data = NULL;
	size_t n = 0;
	struct errmsg e;
	enum err rc;

	if (!inspect && strcmp(r->name, "episodes.jsonl")) {
		reply_err(y, 404, "not_found", NULL, "exports are inspect.eval "
			  "and episodes.jsonl");
		return;
	}
	if (!visible_run(s, r, y, &c))
		return;
	o.withhold = campaign_sealed(&c);
	rc = report_load(srv_st(s), r->ids[0], &rep, &e);
	if (!rc && inspect)
		rc = report_load_transcripts(srv_st(s), rep, EXPORT_TRANSCRIPT_BYTES, &e);
	if (!rc)
		rc = inspect ? inspect_bytes(rep, &o, &data, &n, &e)
			     : jsonl_bytes(rep, &data, &n, &e);
	if (rc) {
		reply_fail(y, &e);
	} else {
		srv_audit(s, r, "run.export", "format", !inspect ? "jsonl" :
			  o.withhold ? "inspect, task text withheld" : "inspect",
			  r->ids[0]);
		reply_raw(y, inspect ? "application/zip" : "application/x-ndjson",
			  data, n);
	}
	free(data);
	report_free(rep);
	store_campaign_free(&c);
}
