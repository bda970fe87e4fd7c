/*
 * report.h - what a run produced, gathered from the journal and rendered
 * for people (terminal table) and programs (JSON, docs/FORMAT-report.md).
 *
 * report_load() reads everything it needs into plain structs; renderers
 * only format. The per-task figures count, for each (task, epoch), the
 * last finished attempt that is not an infrastructure failure;
 * infrastructure failures are counted apart and never as model failures.
 */
#ifndef ASSAY_REPORT_H
#define ASSAY_REPORT_H

#include <stdio.h>

#include "base/err.h"
#include "store/store.h"

#define REPORT_MAX_OUTCOMES 16

struct report_task {
	const struct store_task *meta;   /* borrowed from the report */
	int epochs;                      /* scored epochs */
	int successes;
	int answers_ok, answers_total;
	int infra_failures;              /* attempts lost to infrastructure */
	int model_failures;              /* model errors and limits */
	long tokens;
	double cost_usd;
	int64_t wall_ms;                 /* summed over scored epochs */
	struct report_outcome {
		char name[24];
		int n;
	} outcomes[REPORT_MAX_OUTCOMES]; /* scored epochs by outcome */
	size_t n_outcomes;
};

struct report {
	struct store_run run;
	struct store_task *tasks;
	size_t n_tasks;
	struct store_episode *eps;
	size_t n_eps;
	struct report_task *rows;        /* one per task, same order */
	int scored, solved, infra_failures, model_failures, interrupted;
	long prompt_tokens, completion_tokens, cached_tokens;
	double cost_usd;
	int64_t wall_ms, working_ms;
};

enum err report_load(struct store *st, int64_t run_id, struct report **r_out,
		     struct errmsg *e) MUST_CHECK;
void report_free(struct report *r);

void report_write_term(const struct report *r, FILE *out);
/* The JSON document of docs/FORMAT-report.md. Caller frees. */
char *report_json(const struct report *r);

#endif
