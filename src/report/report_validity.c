/*
 * report_validity.c - the run's attempts by validity and its review log
 * (invalidations and re-scores), for every format, and the digest of the
 * log that a signed result commits to (docs/FORMAT-report.md, "Reviews
 * and signatures").
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/safetext.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "report/report_int.h"
#include "report/report_json_int.h"
#include "vault/vault.h"
#include "base/banned.h"

static const struct store_episode *episode_of(const struct report *r,
					      int64_t id)
{
	for (size_t i = 0; i < r->n_eps; i++)
		if (r->eps[i].id == id)
			return &r->eps[i];
	return NULL;
}

void report_reviews_digest(const struct report *r, char hex[65])
{
	struct buf b;
	char rs[65];

	buf_init(&b, (size_t)1 << 30);
	for (size_t i = 0; i < r->n_reviews; i++) {
		const struct store_review *v = &r->reviews[i];
		vault_sha256_hex(v->reason, strlen(v->reason), rs);
		if (buf_printf(&b, "%lld %d %s %s %s %d %s %s %d %lld %s %s\n",
			       (long long)v->episode_id, v->seq, v->action,
			       v->validity_before ? v->validity_before : "-",
			       v->cause_before ? v->cause_before : "-",
			       v->score_before, v->validity_after,
			       v->cause_after ? v->cause_after : "-",
			       v->score_after, (long long)v->at_ms,
			       v->reviewer ? v->reviewer : "-", rs))
			break;           /* 1 GiB of reviews: cannot happen */
	}
	vault_sha256_hex(b.data ? b.data : "", b.len, hex);
	buf_release(&b);
}

static void state(char *out, size_t n, const char *v, const char *cause,
		  int score)
{
	snprintf(out, n, "%s%s%s%s, score %d", v ? v : "?", cause ? " (" : "",
		 cause ? cause : "", cause ? ")" : "", score);
}

static char *review_line(const struct report *r, const struct store_review *v)
{
	const struct store_episode *ep = episode_of(r, v->episode_id);
	char when[40], before[96], after[96];
	char *who = safe_str(v->reviewer, 0), *why = safe_str(v->reason, 0);
	char *line;

	iso8601(v->at_ms, when, sizeof(when));
	state(before, sizeof(before), v->validity_before, v->cause_before,
	      v->score_before);
	state(after, sizeof(after), v->validity_after, v->cause_after,
	      v->score_after);
	line = xasprintf("%s episode %lld (%s, epoch %d) %s by %s: %s -> %s: %s",
			 when, (long long)v->episode_id,
			 ep ? ep->task_id : "?", ep ? ep->epoch : 0, v->action,
			 who, before, after, why);
	free(who);
	free(why);
	return line;
}

static char *flagged_line(const struct report *r, size_t i)
{
	const struct store_episode *ep = &r->eps[i];
	const struct report_review *rv = &r->review[i];

	char what[300];

	snprintf(what, sizeof(what), "%s%s%s", rv->refused ? "refusal" : "",
		 rv->refused && rv->signal[0] ? ", " : "",
		 rv->signal[0] ? rv->signal : "");
	return xasprintf("flagged: episode %lld (%s, epoch %d, %s): %s%s%s%s; "
			 "transcript: assay show %lld --episode %lld --transcript",
			 (long long)ep->id, ep->task_id, ep->epoch,
			 ep->outcome ? ep->outcome : "?", what,
			 rv->judge[0] ? (what[0] ? "; judge: " : "judge: ") : "",
			 rv->judge, "", (long long)r->run.id, (long long)ep->id);
}

char **report_validity_lines(const struct report *r, size_t *n_out)
{
	const struct report_validity *c = &r->validity;
	int invalid = c->infrastructure + c->harness + c->task + c->agent_caused;
	char **v = xcalloc(r->n_reviews + 3, sizeof(*v));
	size_t n = 0;
	char dig[65], when[40];

	v[n++] = xasprintf("validity: %d valid, %d invalid (%d infrastructure, "
		"%d harness, %d task, %d agent-caused), %d indeterminate; the "
		"statistics count valid attempts and agent-caused ones (as the "
		"model's failures), nothing else", c->valid, invalid,
		c->infrastructure, c->harness, c->task, c->agent_caused,
		c->indeterminate);
	if (r->n_reviews) {
		report_reviews_digest(r, dig);
		iso8601(r->reviews[r->n_reviews - 1].at_ms, when, sizeof(when));
		v[n++] = xasprintf("reviews: %zu (digest %.16s); a result signed "
			"before %s no longer verifies as current: sign a new one",
			r->n_reviews, dig, when);
	}
	for (size_t i = 0; i < r->n_reviews; i++)
		v[n++] = review_line(r, &r->reviews[i]);
	v = xrealloc(v, (n + (size_t)r->flagged + 3) * sizeof(*v));
	v[n++] = xasprintf("review of what the model did: %d of %d counted "
		"episodes refused (refusal rate %.1f%%); %d flagged for human "
		"review (refusals, shortcut or tampering signals)", r->refusals,
		r->counted_episodes, 100 * report_refusal_rate(r), r->flagged);
	if (r->judged)
		v[n++] = xasprintf("refusal judge %s: %d of %d unsolved episodes "
			"judged refused; agrees with the phrase detector on %d "
			"of %d", r->judge_model, r->judge_refusals, r->judged,
			r->judge_agree, r->judged);
	for (size_t i = 0; r->review && i < r->n_eps; i++)
		if (report_review_flagged(&r->review[i]))
			v[n++] = flagged_line(r, i);
	*n_out = n;
	return v;
}

void report_validity_lines_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static json_t *state_json(const char *v, const char *cause, int score)
{
	return json_pack("{s:s?,s:s?,s:i}", "validity", v, "cause", cause,
			 "score", score);
}

static json_t *review_json(const struct report *r, const struct store_review *v)
{
	const struct store_episode *ep = episode_of(r, v->episode_id);
	char when[40];

	iso8601(v->at_ms, when, sizeof(when));
	return json_pack("{s:I,s:s?,s:i,s:i,s:s,s:o,s:o,s:s,s:s?,s:s}",
		"episode", (json_int_t)v->episode_id,
		"task", ep ? ep->task_id : NULL, "epoch", ep ? ep->epoch : 0,
		"seq", v->seq, "action", v->action,
		"before", state_json(v->validity_before, v->cause_before,
				     v->score_before),
		"after", state_json(v->validity_after, v->cause_after,
				    v->score_after),
		"reason", v->reason, "reviewer", v->reviewer, "at", when);
}

static json_t *review_summary_json(const struct report *r)
{
	json_t *list = json_array();

	for (size_t i = 0; r->review && i < r->n_eps; i++) {
		const struct report_review *rv = &r->review[i];
		char cmd[96];
		if (!report_review_flagged(rv))
			continue;
		snprintf(cmd, sizeof(cmd), "assay show %lld --episode %lld "
			 "--transcript", (long long)r->run.id,
			 (long long)r->eps[i].id);
		json_array_append_new(list, json_pack("{s:I,s:s,s:i,s:b,s:s?,s:s?,s:s}",
			"episode", (json_int_t)r->eps[i].id, "task",
			r->eps[i].task_id, "epoch", r->eps[i].epoch, "refusal",
			rv->refused, "signal", rv->signal[0] ? rv->signal : NULL,
			"judge", rv->judge[0] ? rv->judge : NULL,
			"transcript", cmd));
	}
	return json_pack("{s:i,s:i,s:f,s:o,s:o}", "episodes", r->counted_episodes,
			 "refusals", r->refusals, "refusal_rate",
			 report_refusal_rate(r), "flagged", list, "judge",
			 r->judged ? json_pack("{s:s,s:i,s:i,s:i}", "model",
					       r->judge_model, "judged", r->judged,
					       "refused", r->judge_refusals,
					       "agree", r->judge_agree) :
			 json_null());
}

json_t *report_json_validity(const struct report *r)
{
	const struct report_validity *c = &r->validity;
	json_t *o = json_object(), *list = json_array();
	char dig[65];

	for (size_t i = 0; i < r->n_reviews; i++)
		json_array_append_new(list, review_json(r, &r->reviews[i]));
	report_reviews_digest(r, dig);
	json_object_set_new(o, "valid", json_integer(c->valid));
	json_object_set_new(o, "indeterminate", json_integer(c->indeterminate));
	json_object_set_new(o, "invalid", json_pack("{s:i,s:i,s:i,s:i}",
		"infrastructure", c->infrastructure, "harness", c->harness,
		"task", c->task, "agent-caused", c->agent_caused));
	json_object_set_new(o, "reviews", list);
	json_object_set_new(o, "review", review_summary_json(r));
	json_object_set_new(o, "reviews_digest", json_string(dig));
	return o;
}
