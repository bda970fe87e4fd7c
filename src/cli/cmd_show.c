/*
 * cmd_show.c - `assay runs` and `assay show RUN [--episode ID]
 * [--transcript]` (the report is cmd_report.c).
 */
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/transcript.h"
#include "report/report.h"
#include "store/store.h"
#include "base/banned.h"

static int open_store(const char *path, struct store **st)
{
	struct errmsg e;
	enum err rc = cli_store_open_read(path, st, &e);

	if (rc) {
		cli_error("%s", e.text);
		return cli_exit_for(rc);
	}
	return 0;
}

static json_t *run_json(const struct store_run *r)
{
	char when[40], fin[40];

	iso8601(r->created_ms, when, sizeof(when));
	if (r->finished_ms)
		iso8601(r->finished_ms, fin, sizeof(fin));
	return json_pack("{s:I, s:s, s:s, s:b, s:s?, s:s, s:s?, s:s?, s:i, "
			 "s:s, s:s?}", "id", (json_int_t)r->id, "created", when,
			 "status", r->status, "orphaned", r->orphaned,
			 "model", r->model, "suite",
			 r->suite_id, "suite_digest", r->suite_digest,
			 "endpoint", r->endpoint, "epochs", r->epochs,
			 "harness", r->harness_version ? r->harness_version : "",
			 "finished", r->finished_ms ? fin : NULL);
}

static void print_runs(const struct store_run *runs, size_t n, bool json)
{
	json_t *arr;

	if (json) {
		arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, run_json(&runs[i]));
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(arr);
		return;
	}
	printf("%-6s %-20s %-18s %-28s %-24s %s\n", "run", "created", "status",
	       "model", "suite", "epochs");
	for (size_t i = 0; i < n; i++) {
		char when[40];
		iso8601(runs[i].created_ms, when, sizeof(when));
		/* a run whose owner died says so: resume it */
		printf("%-6lld %-20s %-18s %-28s %-24s %d\n",
		       (long long)runs[i].id, when, runs[i].orphaned ?
		       "running (no owner)" : runs[i].status, runs[i].model,
		       runs[i].suite_id, runs[i].epochs);
	}
}

enum { L_STORE, L_JSON, L_LIMIT };

static const struct cli_opt runs_table[] = {
	[L_STORE] = CLI_OPT_STORE_READ,
	[L_JSON] = CLI_OPT_JSON,
	[L_LIMIT] = { "limit", 0, CLI_INT, "N", NULL, "list only the N most "
		"recent runs (default: all)", .lo = 1, .hi = INT64_MAX },
};

static int runs_main(const struct cli_args *a)
{
	struct store_run *runs;
	struct store *st;
	struct errmsg e;
	size_t n, skip = 0;
	int rc;

	if ((rc = open_store(cli_str(a, L_STORE), &st)))
		return rc;
	if (store_run_list(st, &runs, &n, &e) != ERR_OK) {
		store_close(st);
		return cli_fail(EXIT_RUNTIME, "%s", e.text);
	}
	if (cli_given(a, L_LIMIT) && (unsigned long long)cli_int(a, L_LIMIT) < n)
		skip = n - (size_t)cli_int(a, L_LIMIT);
	print_runs(runs + skip, n - skip, cli_flag(a, L_JSON));
	store_runs_free(runs, n);
	store_close(st);
	return fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
}

const struct cli_cmd cli_cmd_runs = {
	.name = "runs",
	.summary = "list the runs in the journal",
	CLI_OPTS(runs_table),
	.run = runs_main,
};

static void print_event(const struct store_event *ev)
{
	json_error_t jerr;
	json_t *j = json_loads(ev->data ? ev->data : "{}", 0, &jerr);
	char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	printf("--- #%d %s\n%s\n", ev->seq, ev->kind,
	       pretty ? pretty : (ev->data ? ev->data : ""));
	free(pretty);
	json_decref(j);
}

enum show_mode { SHOW_SUMMARY, SHOW_TEXT, SHOW_RAW, SHOW_JSON };

static void print_events(const struct store_episode *ep,
			 const struct store_event *evs, size_t n,
			 enum show_mode mode)
{
	json_t *t;

	if (mode == SHOW_RAW) {
		for (size_t i = 0; i < n; i++)
			print_event(&evs[i]);
		return;
	}
	t = cli_transcript_build(ep, evs, n);
	if (mode == SHOW_JSON)
		json_dumpf(t, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	else
		cli_transcript_write_text(t, stdout);
	if (mode == SHOW_JSON)
		putchar('\n');
	json_decref(t);
}

/* Episode id of run run_id (0: of any run). */
static int show_episode(struct store *st, int64_t run_id, int64_t id,
			enum show_mode mode)
{
	struct store_episode ep = { 0 };
	struct store_event *evs = NULL;
	struct errmsg e;
	size_t n = 0;

	if (store_episode_get(st, id, &ep, &e) != ERR_OK) {
		cli_error("%s", e.text);
		return cli_exit_for(e.code);
	}
	if (run_id && ep.run_id != run_id) {
		cli_error("episode %lld is of run %lld, not of run %lld",
			  (long long)id, (long long)ep.run_id, (long long)run_id);
		store_episode_release(&ep);
		return EXIT_USAGE;
	}
	if (mode != SHOW_JSON)
		printf("episode %lld  run %lld  task %s  epoch %d  attempt %d\n"
	       "status %s  outcome %s  class %s  score %d  flag %s  check %s  "
	       "answers %d/%d\nturns %d  model calls %d  tool calls %d  "
	       "retries %d\ntokens %ld prompt + %ld completion (%ld cached)  "
	       "$%.4f  wall %.1f s  working %.1f s\n",
	       (long long)ep.id, (long long)ep.run_id, ep.task_id, ep.epoch,
	       ep.attempt, ep.status, ep.outcome ? ep.outcome : "-",
	       ep.error_class ? ep.error_class : "-", ep.score,
	       !ep.has_flag ? "n/a" : ep.flag_ok ? "ok" : "wrong",
	       !ep.has_check ? "n/a" : ep.check_ok ? "passed" : "failed",
	       ep.answers_ok, ep.answers_total, ep.turns, ep.model_calls,
	       ep.tool_calls, ep.infra_retries, ep.prompt_tokens,
	       ep.completion_tokens, ep.cached_tokens, ep.cost_usd,
	       ep.wall_ms / 1000.0, ep.working_ms / 1000.0);
	if (ep.error && mode != SHOW_JSON)
		printf("error: %s\n", ep.error);
	if (mode != SHOW_SUMMARY &&
	    store_event_list(st, id, &evs, &n, &e) != ERR_OK) {
		store_episode_release(&ep);
		cli_error("%s", e.text);
		return EXIT_RUNTIME;
	}
	if (mode != SHOW_SUMMARY)
		print_events(&ep, evs, n, mode);
	store_events_free(evs, n);
	store_episode_release(&ep);
	return EXIT_OK;
}

static int show_run(struct store *st, int64_t id, bool json)
{
	struct report *r;
	struct errmsg e;
	char *doc;

	if (report_load(st, id, &r, &e) != ERR_OK) {
		cli_error("%s", e.text);
		return cli_exit_for(e.code);
	}
	if (json) {
		doc = report_json(r);
		puts(doc);
		free(doc);
		report_free(r);
		return EXIT_OK;
	}
	report_write_term(r, stdout);
	printf("\n%-8s %-28s %5s %7s %-18s %5s %9s\n", "episode", "task", "epoch",
	       "attempt", "outcome", "score", "tokens");
	for (size_t i = 0; i < r->n_eps; i++) {
		const struct store_episode *ep = &r->eps[i];
		printf("%-8lld %-28.28s %5d %7d %-18s %5d %9ld\n",
		       (long long)ep->id, ep->task_id, ep->epoch, ep->attempt,
		       ep->outcome ? ep->outcome : ep->status, ep->score,
		       ep->prompt_tokens + ep->completion_tokens);
	}
	report_free(r);
	return EXIT_OK;
}

enum { W_EPISODE, W_TRANSCRIPT, W_RAW, W_JSON, W_STORE };

static const struct cli_opt show_table[] = {
	[W_EPISODE] = { "episode", 'e', CLI_STR, "ID", NULL, "show one episode "
		"(RUN may then be left out)", .flags = 0 },
	[W_TRANSCRIPT] = { "transcript", 't', CLI_FLAG, NULL, NULL, "with "
		"--episode: the conversation, turn by turn", .flags = 0 },
	[W_RAW] = { "raw", 0, CLI_FLAG, NULL, NULL, "with --episode: every "
		"journaled event as JSON", .flags = 0 },
	[W_JSON] = { "json", 0, CLI_FLAG, NULL, NULL, "JSON on stdout: the run's "
		"report document, or with --episode the structured transcript "
		"(docs/FORMAT-cli-json.md)", .flags = 0 },
	[W_STORE] = CLI_OPT_STORE_READ,
};

static int show_main(const struct cli_args *a)
{
	const char *epi = cli_str(a, W_EPISODE);
	bool transcript = cli_flag(a, W_TRANSCRIPT), raw = cli_flag(a, W_RAW);
	bool json = cli_flag(a, W_JSON);
	enum show_mode mode;
	int64_t run_id = 0, ep_id = 0;
	struct store *st;
	int rc;

	if (!epi && a->npos != 1)
		return cli_usage(a, "missing RUN (or --episode ID)");
	if (raw && (json || transcript))
		return cli_usage(a, "--raw does not combine with --%s",
				 json ? "json" : "transcript");
	if ((raw || transcript) && !epi)
		return cli_usage(a, "--%s needs --episode ID",
				 raw ? "raw" : "transcript");
	mode = raw ? SHOW_RAW : json ? SHOW_JSON : transcript ? SHOW_TEXT :
	       SHOW_SUMMARY;
	if (a->npos && !cli_parse_id(a, "run", a->pos[0], &run_id))
		return EXIT_USAGE;
	if (epi && !cli_parse_id(a, "episode", epi, &ep_id))
		return EXIT_USAGE;
	if ((rc = open_store(cli_str(a, W_STORE), &st)))
		return rc;
	rc = epi ? show_episode(st, run_id, ep_id, mode) :
	     show_run(st, run_id, json);
	store_close(st);
	return rc;
}

const struct cli_cmd cli_cmd_show = {
	.name = "show",
	.summary = "show a run, an episode or an episode's transcript",
	.operands = "RUN", .min_pos = 0, .max_pos = 1,
	CLI_OPTS(show_table),
	.run = show_main,
};
