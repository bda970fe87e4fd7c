/*
 * report_human.c - human baselines beside a run: for each task of the
 * report, the sessions of `assay human` (runs whose model is human/NAME)
 * on the same task content (same task digest), their success and the
 * median working time of the solved ones, beside the task's declared
 * expert_minutes. A session counts as any attempt does
 * (store_episode_counts); a human's time on another version of a task
 * is not this task's.
 */
#include "report/report_int.h"
#include "report/report_json_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The task of this report with this id and digest, or -1. */
static long task_index(const struct report *r, const struct store_task *t)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i].task_id, t->task_id) &&
		    r->tasks[i].digest && t->digest &&
		    !strcmp(r->tasks[i].digest, t->digest))
			return (long)i;
	return -1;
}

/* One human run's counted sessions into r->humans (times[i] gathers the
 * solved sessions' minutes of task i). */
static enum err add_run(struct store *st, struct report *r, int64_t run_id,
			double **times, struct errmsg *e)
{
	struct store_task *tasks = NULL;
	struct store_episode *eps = NULL;
	size_t nt = 0, ne = 0;
	enum err rc = store_task_list(st, run_id, &tasks, &nt, e);

	if (!rc)
		rc = store_episode_list(st, run_id, &eps, &ne, e);
	for (size_t k = 0; !rc && k < ne; k++) {
		const struct store_task *t = NULL;
		struct report_human *h;
		long i;

		for (size_t j = 0; j < nt && !t; j++)
			if (!strcmp(tasks[j].task_id, eps[k].task_id))
				t = &tasks[j];
		if (!t || !store_episode_counts(&eps[k]) ||
		    (i = task_index(r, t)) < 0)
			continue;
		h = &r->humans[i];
		h->attempts++;
		if (eps[k].score) {
			times[i] = xrealloc(times[i], (size_t)(h->solved + 1) *
					    sizeof(double));
			times[i][h->solved++] = (double)eps[k].working_ms / 60000.0;
		}
	}
	store_episodes_free(eps, ne);
	store_tasks_free(tasks, nt);
	return rc;
}

enum err report_human_load(struct store *st, struct report *r, struct errmsg *e)
{
	struct store_run *runs = NULL;
	size_t n = 0;
	double **times;
	enum err rc = store_run_list(st, &runs, &n, e);

	if (rc)
		return rc;
	free(r->humans);
	r->humans = xcalloc(r->n_tasks ? r->n_tasks : 1, sizeof(*r->humans));
	r->human_runs = 0;
	times = xcalloc(r->n_tasks ? r->n_tasks : 1, sizeof(*times));
	for (size_t k = 0; !rc && k < n; k++) {
		if (!runs[k].model || strncmp(runs[k].model, "human/", 6))
			continue;
		r->human_runs++;
		rc = add_run(st, r, runs[k].id, times, e);
	}
	for (size_t i = 0; i < r->n_tasks; i++) {
		r->humans[i].median_minutes = r->humans[i].solved ?
			median(times[i], (size_t)r->humans[i].solved) : -1;
		free(times[i]);
	}
	free(times);
	store_runs_free(runs, n);
	if (rc || !r->human_runs) {
		free(r->humans);
		r->humans = NULL;
	}
	return rc;
}

void report_write_humans_term(const struct report *r, FILE *out)
{
	if (!r->humans)
		return;
	fprintf(out, "human baselines (%d run%s of human/*; sessions on the "
		"same task content):\n", r->human_runs,
		r->human_runs == 1 ? "" : "s");
	fprintf(out, "  %-28s %9s %13s %13s %12s\n", "task", "declared",
		"human median", "humans", "this run");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_human *h = &r->humans[i];
		const struct report_task *t = &r->rows[i];
		char med[32], hum[32], mod[32];

		if (h->median_minutes >= 0)
			snprintf(med, sizeof(med), "%.1f min", h->median_minutes);
		else
			snprintf(med, sizeof(med), "-");
		snprintf(hum, sizeof(hum), "%d/%d solved", h->solved, h->attempts);
		snprintf(mod, sizeof(mod), "%d/%d solved", t->successes, t->epochs);
		fprintf(out, "  %-28.28s %5.0f min %13s %13s %12s\n",
			t->meta->task_id, t->meta->expert_minutes, med,
			h->attempts ? hum : "none", mod);
	}
}

json_t *report_json_humans(const struct report *r)
{
	json_t *o = json_object(), *tasks = json_array();

	json_object_set_new(o, "runs", json_integer(r->human_runs));
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_human *h = &r->humans[i];
		json_t *t = json_object();

		json_object_set_new(t, "task_id", json_string(r->rows[i].meta->task_id));
		json_object_set_new(t, "expert_minutes",
				    json_real(r->rows[i].meta->expert_minutes));
		json_object_set_new(t, "human_attempts", json_integer(h->attempts));
		json_object_set_new(t, "human_solved", json_integer(h->solved));
		json_object_set_new(t, "human_median_minutes",
				    h->median_minutes >= 0 ?
				    json_real(h->median_minutes) : json_null());
		json_object_set_new(t, "epochs", json_integer(r->rows[i].epochs));
		json_object_set_new(t, "successes", json_integer(r->rows[i].successes));
		json_array_append_new(tasks, t);
	}
	json_object_set_new(o, "tasks", tasks);
	return o;
}
