/*
 * report_data.c - gather a run's figures from the journal.
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

/* The validity of a finished attempt and its cause (old rows: from the
 * error class). */
static void validity_of(const struct store_episode *ep, const char **v,
			const char **cause)
{
	*v = ep->validity;
	*cause = ep->validity_cause;
	if (!*v)
		store_validity_of_class(ep->error_class, v, cause);
}

static bool is_infra(const struct store_episode *ep)
{
	const char *v, *cause;

	validity_of(ep, &v, &cause);
	return !strcmp(v, "invalid") && cause &&
	       !strcmp(cause, "infrastructure");
}

static bool is_valid(const struct store_episode *ep)
{
	const char *v, *cause;

	validity_of(ep, &v, &cause);
	return !strcmp(v, "valid");
}

/* The scored attempt of (task, epoch): the last one that counts. */
static bool is_scored(const struct report *r, size_t i)
{
	const struct store_episode *ep = &r->eps[i];

	if (!store_episode_counts(ep))
		return false;
	for (size_t j = 0; j < r->n_eps; j++) {
		const struct store_episode *o = &r->eps[j];
		if (j != i && o->epoch == ep->epoch &&
		    !strcmp(o->task_id, ep->task_id) &&
		    store_episode_counts(o) && o->attempt > ep->attempt)
			return false;
	}
	return true;
}

/* Every finished attempt by validity (report.validity). */
static void count_validity(struct report *r, const struct store_episode *ep)
{
	struct report_validity *c = &r->validity;
	const char *v, *cause;

	if (!strcmp(ep->status, "pending") || !strcmp(ep->status, "running"))
		return;
	validity_of(ep, &v, &cause);
	if (!strcmp(v, "valid"))
		c->valid++;
	else if (!strcmp(v, "indeterminate"))
		c->indeterminate++;
	else if (cause && !strcmp(cause, "agent-caused"))
		c->agent_caused++;
	else if (cause && !strcmp(cause, "harness"))
		c->harness++;
	else if (cause && !strcmp(cause, "task"))
		c->task++;
	else
		c->infrastructure++;
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
	count_validity(r, ep);
	if (!strcmp(ep->status, "interrupted")) {
		r->interrupted_attempts++;
		return;         /* pairs by final state: count_cut_off */
	}
	if (is_infra(ep)) {
		row->infra_failures++;
		r->infra_failures++;
		return;
	}
	if (!store_episode_counts(ep)) {
		if (strcmp(ep->status, "pending") && strcmp(ep->status, "running"))
			row->invalidated++;   /* harness, task, indeterminate */
		return;
	}
	if (!is_scored(r, i))
		return;
	row->epochs++;
	row->successes += ep->score;
	row->answers_ok += ep->answers_ok;
	row->answers_total += ep->answers_total;
	row->wall_ms += ep->wall_ms;
	/* a counted attempt that is invalid was broken by the agent */
	if (!is_valid(ep)) {
		row->agent_caused++;
		r->agent_caused++;
	}
	if (!is_valid(ep) || !strcmp(ep->error_class ? ep->error_class : "",
				     "model")) {
		row->model_failures++;
		r->model_failures++;
	}
	r->scored++;
	r->solved += ep->score;
	/* a re-score that changed the verdict is shown as such */
	add_outcome(row, (ep->score == 1) != !strcmp(ep->outcome ? ep->outcome :
						      "", "solved") ?
		    "rescored" : ep->outcome);
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
			scored |= store_episode_counts(&r->eps[j]);
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
	    (rc = store_run_pairs(st, run_id, &r->pairs, e)) ||
	    (rc = store_review_list(st, run_id, &r->reviews, &r->n_reviews,
				    e))) {
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
	if ((rc = report_review_load(st, r, e))) {
		report_free(r);
		return rc;
	}
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
	store_reviews_free(r->reviews, r->n_reviews);
	free(r->review);
	free(r->humans);
	free(r->rows);
	free(r);
}
