/*
 * report_term.c - the terminal table.
 */
#include "report/report.h"

#include <string.h>

static void outcomes(const struct report_task *t, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->n_outcomes && used < n; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%s:%d",
					 i ? " " : "", t->outcomes[i].name,
					 t->outcomes[i].n);
}

void report_write_term(const struct report *r, FILE *out)
{
	fprintf(out, "run %lld  model %s  suite %s (%.12s)  status %s\n",
		(long long)r->run.id, r->run.model, r->run.suite_id,
		r->run.suite_digest ? r->run.suite_digest : "", r->run.status);
	fprintf(out, "%-28s %-9s %4s %9s %8s %9s %6s  %s\n", "task", "category",
		"tier", "solved", "wall s", "tokens", "infra", "outcomes");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_task *t = &r->rows[i];
		char solved[24], oc[200];
		snprintf(solved, sizeof(solved), "%d/%d", t->successes, t->epochs);
		outcomes(t, oc, sizeof(oc));
		fprintf(out, "%-28.28s %-9s %4d %9s %8.1f %9ld %6d  %s\n",
			t->meta->task_id, t->meta->category, t->meta->difficulty,
			solved, (double)t->wall_ms / 1000.0, t->tokens,
			t->infra_failures, oc);
	}
	fprintf(out, "total: %d/%d episodes solved (%.1f%%), %d model "
		"failures, %d infrastructure failures (not counted), "
		"%d interrupted\n", r->solved, r->scored,
		r->scored ? 100.0 * r->solved / r->scored : 0.0,
		r->model_failures, r->infra_failures, r->interrupted);
	fprintf(out, "usage: %ld prompt + %ld completion tokens (%ld cached), "
		"$%.4f, %.1f s wall, %.1f s working\n", r->prompt_tokens,
		r->completion_tokens, r->cached_tokens, r->cost_usd,
		(double)r->wall_ms / 1000.0, (double)r->working_ms / 1000.0);
}
