/*
 * report_data.c - gather a run's figures from the journal.
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

static bool is_infra(const struct store_episode *ep)
{
	return !ep->error_class || !strcmp(ep->error_class, "infra");
}

/* The scored attempt of (task, epoch): the last finished, non-infra one. */
static bool is_scored(const struct report *r, size_t i)
{
	const struct store_episode *ep = &r->eps[i];

	if (strcmp(ep->status, "done") || is_infra(ep))
		return false;
	for (size_t j = 0; j < r->n_eps; j++) {
		const struct store_episode *o = &r->eps[j];
		if (j != i && o->epoch == ep->epoch &&
		    !strcmp(o->task_id, ep->task_id) &&
		    !strcmp(o->status, "done") && !is_infra(o) &&
		    o->attempt > ep->attempt)
			return false;
	}
	return true;
}

static void add_outcome(struct report_task *row, const char *outcome)
{
	const char *name = outcome ? outcome : "?";
	struct report_outcome *o;

	for (size_t i = 0; i < row->n_outcomes; i++)
		if (!strcmp(row->outcomes[i].name, name)) {
			row->outcomes[i].n++;
			return;
		}
	if (row->n_outcomes == REPORT_MAX_OUTCOMES)
		return;
	o = &row->outcomes[row->n_outcomes++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->n = 1;
}

static struct report_task *row_of(struct report *r, const char *task_id)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i].task_id, task_id))
			return &r->rows[i];
	return NULL;
}

static void count_episode(struct report *r, size_t i)
{
	const struct store_episode *ep = &r->eps[i];
	struct report_task *row = row_of(r, ep->task_id);
	long tok = ep->prompt_tokens + ep->completion_tokens;

	r->prompt_tokens += ep->prompt_tokens;
	r->completion_tokens += ep->completion_tokens;
	r->cached_tokens += ep->cached_tokens;
	r->cost_usd += ep->cost_usd;
	r->wall_ms += ep->wall_ms;
	r->working_ms += ep->working_ms;
	if (!row)
		return;
	row->tokens += tok;
	row->cost_usd += ep->cost_usd;
	if (strcmp(ep->status, "pending") && strcmp(ep->status, "running"))
		r->attempts++;
	if (!strcmp(ep->status, "interrupted")) {
		r->interrupted_attempts++;
		return;         /* pairs by final state: count_cut_off */
	}
	if (is_infra(ep)) {
		row->infra_failures++;
		r->infra_failures++;
		return;
	}
	if (!is_scored(r, i))
		return;
	row->epochs++;
	row->successes += ep->score;
	row->answers_ok += ep->answers_ok;
	row->answers_total += ep->answers_total;
	row->wall_ms += ep->wall_ms;
	if (!strcmp(ep->error_class, "agent-caused")) {
		row->agent_caused++;
		r->agent_caused++;
	}
	if (!strcmp(ep->error_class, "model") ||
	    !strcmp(ep->error_class, "agent-caused")) {
		row->model_failures++;
		r->model_failures++;
	}
	r->scored++;
	r->solved += ep->score;
	add_outcome(row, ep->outcome);
}

/* Pairs whose final state is cut off: no scored attempt, the last one
 * interrupted (or left running by a dead harness). The journal lists
 * attempts by task, epoch and attempt, so each pair is one stretch. */
static void count_cut_off(struct report *r)
{
	for (size_t i = 0; i < r->n_eps;) {
		const struct store_episode *ep = &r->eps[i];
		struct report_task *row = row_of(r, ep->task_id);
		bool scored = false;
		size_t j = i;

		for (; j < r->n_eps && r->eps[j].epoch == ep->epoch &&
		       !strcmp(r->eps[j].task_id, ep->task_id); j++)
			scored |= !strcmp(r->eps[j].status, "done") &&
				  !is_infra(&r->eps[j]);
		ep = &r->eps[j - 1];       /* the last attempt of the pair */
		if (row && !scored && ep->epoch >= 1 &&
		    ep->epoch <= r->run.epochs &&
		    (!strcmp(ep->status, "interrupted") ||
		     !strcmp(ep->status, "running") ||
		     !strcmp(ep->status, "pending"))) {
			row->interrupted++;
			r->interrupted++;
		}
		i = j;
	}
}

enum err report_load(struct store *st, int64_t run_id, struct report **r_out,
		     struct errmsg *e)
{
	struct report *r = xcalloc(1, sizeof(*r));
	enum err rc;

	if ((rc = store_run_get(st, run_id, &r->run, e)) ||
	    (rc = store_task_list(st, run_id, &r->tasks, &r->n_tasks, e)) ||
	    (rc = store_episode_list(st, run_id, &r->eps, &r->n_eps, e)) ||
	    (rc = store_run_pairs(st, run_id, &r->pairs, e))) {
		report_free(r);
		return rc;
	}
	r->rows = xcalloc(r->n_tasks + 1, sizeof(*r->rows));
	for (size_t i = 0; i < r->n_tasks; i++)
		r->rows[i].meta = &r->tasks[i];
	for (size_t i = 0; i < r->n_eps; i++)
		count_episode(r, i);
	for (size_t i = 0; i < r->n_tasks; i++) {
		struct report_task *row = &r->rows[i];

		row->unscored = r->run.epochs > row->epochs ?
				r->run.epochs - row->epochs : 0;
		r->unscored += row->unscored;
	}
	count_cut_off(r);
	*r_out = r;
	return ERR_OK;
}

static size_t events_bytes(const struct report_transcript *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += (t->evs[i].data ? strlen(t->evs[i].data) : 0) + 64;
	return n;
}

enum err report_load_transcripts(struct store *st, struct report *r,
				 size_t max_bytes, struct errmsg *e)
{
	size_t used = 0;
	enum err rc;

	if (r->transcripts)
		return ERR_OK;
	r->transcripts = xcalloc(r->n_eps + 1, sizeof(*r->transcripts));
	for (size_t i = 0; i < r->n_eps; i++) {
		struct report_transcript *t = &r->transcripts[i];
		if (used >= max_bytes) {
			t->omitted = true;
			continue;
		}
		rc = store_event_list(st, r->eps[i].id, &t->evs, &t->n, e);
		if (rc)
			return rc;
		used += events_bytes(t);
	}
	return ERR_OK;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->transcripts && i < r->n_eps; i++)
		store_events_free(r->transcripts[i].evs, r->transcripts[i].n);
	free(r->transcripts);
	store_run_release(&r->run);
	store_tasks_free(r->tasks, r->n_tasks);
	store_episodes_free(r->eps, r->n_eps);
	free(r->rows);
	free(r);
}
