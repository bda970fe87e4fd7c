/*
 * report_elicit.c - what the journal says about elicitation (scaffolds,
 * per-episode token budget) and where the default policy lives.
 *
 * The token budget is the smallest per-episode token limit of the run's
 * tasks as journaled with the run. Runs journaled before limits were
 * (store schema 1) fall back to the suite directory the run recorded; if
 * that suite is gone or sealed the budget is reported unknown (0) rather
 * than guessed.
 */
#include "report/report_int.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "policy/policy.h"
#include "task/task.h"
#include "vault/vault.h"
#include "base/banned.h"

char *report_scaffold(const struct report *r)
{
	json_error_t jerr;
	json_t *j = json_loads(r->run.config_json ? r->run.config_json : "{}",
			       0, &jerr);
	json_t *v = j ? json_object_get(j, "agent") : NULL;
	char *s = xstrdup(json_is_string(v) ? json_string_value(v) : "react");

	json_decref(j);
	return s;
}

void report_policy_label(const struct policy *p, char *out, size_t n)
{
	char *data, hex[65];
	size_t len;
	struct errmsg e;

	if (p->path && file_read(p->path, 16u << 20, &data, &len, &e) == ERR_OK) {
		vault_sha256_hex(data, len, hex);
		free(data);
		snprintf(out, n, "sha256 %.16s", hex);
	} else {
		snprintf(out, n, "digest unavailable");
	}
}

bool report_price_unknown(const struct report *r)
{
	json_error_t jerr;
	json_t *j = json_loads(r->run.config_json ? r->run.config_json : "{}",
			       0, &jerr);
	json_t *v = j ? json_object_get(j, "price_known") : NULL;
	bool unknown = json_is_false(v);

	json_decref(j);
	return unknown;
}

int report_scaffolds(const struct report *const *runs, size_t n)
{
	char **seen = xcalloc(n + 1, sizeof(*seen));
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		char *s;
		bool dup = false;
		if (!runs[i]->run.model || !runs[0]->run.model ||
		    strcmp(runs[i]->run.model, runs[0]->run.model))
			continue;
		s = report_scaffold(runs[i]);
		for (int j = 0; j < count && !dup; j++)
			dup = !strcmp(seen[j], s);
		if (dup)
			free(s);
		else
			seen[count++] = s;
	}
	for (int j = 0; j < count; j++)
		free(seen[j]);
	free(seen);
	return count;
}

static bool in_run(const struct report *r, const char *id)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i].task_id, id))
			return true;
	return false;
}

/* From the journal; 0 when any task's limit was not journaled. */
static long long journaled_budget(const struct report *r)
{
	long long min = 0;

	for (size_t i = 0; i < r->n_tasks; i++) {
		long long v = r->tasks[i].limit_tokens;

		if (v <= 0)
			return 0;
		if (!min || v < min)
			min = v;
	}
	return min;
}

long long report_token_budget(const struct report *r, char *note, size_t n)
{
	const char *path = r->run.suite_path;
	struct suite *s = NULL;
	struct errmsg e;
	long long min = journaled_budget(r);

	if (min) {
		snprintf(note, n, "smallest per-episode token limit (limits.tokens) "
			 "of the run's tasks, as journaled with the run");
		return min;
	}
	if (!path || !is_dir(path)) {
		snprintf(note, n, "the per-episode token limit is not journaled "
			 "and the suite directory is not available");
		return 0;
	}
	if (task_suite_load(path, &s, &e) != ERR_OK) {
		snprintf(note, n, "the per-episode token limit is not journaled "
			 "and the suite cannot be read: %s", e.text);
		return 0;
	}
	for (size_t i = 0; i < s->n_tasks; i++)
		if (in_run(r, s->tasks[i]->id) &&
		    (!min || s->tasks[i]->limits.tokens < min))
			min = s->tasks[i]->limits.tokens;
	snprintf(note, n, "smallest per-episode token limit (limits.tokens) of "
		 "the run's tasks, read from the suite directory as it is now");
	task_suite_free(s);
	return min;
}
