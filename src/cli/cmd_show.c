/*
 * cmd_show.c - `assay runs` and `assay show RUN [--episode ID]
 * [--transcript]` (the report is cmd_report.c).
 */
#include <getopt.h>
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

static int open_store(const char *path, struct store **st)
{
	struct errmsg e;
	enum err rc = cli_store_open(path, st, &e);

	if (rc) {
		cli_error("%s", e.text);
		return EXIT_RUNTIME;
	}
	return 0;
}

static bool parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v <= 0) {
		cli_error("bad id '%s'", s);
		return false;
	}
	*out = v;
	return true;
}

int cmd_runs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	const char *path = NULL;
	struct store_run *runs;
	struct store *st;
	struct errmsg e;
	size_t n;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's') {
			fputs("usage: assay runs [--store PATH]\n", stderr);
			return EXIT_USAGE;
		}
		path = optarg;
	}
	if ((rc = open_store(path, &st)))
		return rc;
	if (store_run_list(st, &runs, &n, &e) != ERR_OK) {
		cli_error("%s", e.text);
		store_close(st);
		return EXIT_RUNTIME;
	}
	printf("%-6s %-20s %-12s %-28s %-24s %s\n", "run", "created", "status",
	       "model", "suite", "epochs");
	for (size_t i = 0; i < n; i++) {
		char when[40];
		iso8601(runs[i].created_ms, when, sizeof(when));
		printf("%-6lld %-20s %-12s %-28s %-24s %d\n",
		       (long long)runs[i].id, when, runs[i].status, runs[i].model,
		       runs[i].suite_id, runs[i].epochs);
	}
	store_runs_free(runs, n);
	store_close(st);
	return EXIT_OK;
}

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
	t = transcript_build(ep, evs, n);
	if (mode == SHOW_JSON)
		json_dumpf(t, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	else
		transcript_write_text(t, stdout);
	if (mode == SHOW_JSON)
		putchar('\n');
	json_decref(t);
}

static int show_episode(struct store *st, int64_t id, enum show_mode mode)
{
	struct store_episode ep = { 0 };
	struct store_event *evs = NULL;
	struct errmsg e;
	size_t n = 0;

	if (store_episode_get(st, id, &ep, &e) != ERR_OK) {
		cli_error("%s", e.text);
		return cli_exit_for(e.code);
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

static int show_run(struct store *st, int64_t id)
{
	struct report *r;
	struct errmsg e;

	if (report_load(st, id, &r, &e) != ERR_OK) {
		cli_error("%s", e.text);
		return cli_exit_for(e.code);
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

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "episode", required_argument, NULL, 'e' },
		{ "transcript", no_argument, NULL, 't' },
		{ "raw", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 } };
	const char *path = NULL, *epi = NULL;
	bool transcript = false, raw = false, json = false;
	enum show_mode mode;
	int64_t run_id = 0, ep_id;
	struct store *st;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			path = optarg;
		else if (c == 'e')
			epi = optarg;
		else if (c == 't')
			transcript = true;
		else if (c == 'r')
			raw = true;
		else if (c == 'j')
			json = true;
		else
			goto usage;
	}
	if (epi ? optind > argc : optind != argc - 1)
		goto usage;
	if ((raw && json) || ((raw || json || transcript) && !epi))
		goto usage;
	mode = raw ? SHOW_RAW : json ? SHOW_JSON : transcript ? SHOW_TEXT :
	       SHOW_SUMMARY;
	if (optind < argc && !parse_id(argv[optind], &run_id))
		return EXIT_USAGE;
	if ((rc = open_store(path, &st)))
		return rc;
	if (epi)
		rc = parse_id(epi, &ep_id) ? show_episode(st, ep_id, mode) :
		     EXIT_USAGE;
	else
		rc = show_run(st, run_id);
	store_close(st);
	return rc;
usage:
	fputs("usage: assay show RUN [--episode ID [--transcript | --raw | "
	      "--json]] [--store PATH]\n", stderr);
	return EXIT_USAGE;
}
