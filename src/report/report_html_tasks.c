/*
 * report_html_tasks.c - the lower half of the HTML report: references
 * table rows, elicitation and usage, failures, the per-task table and
 * the per-episode transcripts. Transcript events are JSON written by the
 * agent and the engine (src/agent/journal.c); they hold model output and
 * tool output, the most hostile text there is: every field is escaped,
 * capped, and unknown shapes are shown as escaped raw text.
 */
#include "report/report_html_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

void report_html_ref_row(struct out *o, const struct report_refcmp *c)
{
	char d[96];

	report_out_printf(o, "<tr><td>run %s</td><td>", c->ref->name);
	report_out_html(o, c->ref->rep->run.model);
	report_out_puts(o, "</td><td>");
	report_out_html(o, c->ref->suite);
	if (!c->ok) {
		report_out_puts(o, "</td><td colspan=\"3\" class=\"note\">");
		report_out_html(o, c->note);
		report_out_puts(o, "</td></tr>\n");
		return;
	}
	report_fmt_interval(&c->paired.wald, 3, d, sizeof(d));
	report_out_printf(o,
			  "</td><td class=\"n\">%zu</td><td class=\"n\">%s</td>"
			  "<td class=\"n\">%.3g</td></tr>\n",
			  c->paired.ncommon, d,
			  report_finite(c->paired.mcnemar.p));
}

/* ---- elicitation, usage, failures ---------------------------------------------- */

/* The suite as the run was given it, without this machine's directories:
 * its last path component. */
static const char *last_part(const char *path)
{
	size_t n = strlen(path);
	const char *p;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (p = path + n; p > path && p[-1] != '/'; p--)
		;
	return p;
}

static void config_rows(struct out *o, const struct report *r)
{
	json_error_t jerr;
	json_t *j = json_loads(r->run.config_json ? r->run.config_json : "{}", 0, &jerr);
	const char *key;
	json_t *v;

	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	json_object_foreach(j, key, v) {
		char *text;
		if (!strcmp(key, "key_file") || json_is_object(v) || json_is_array(v))
			continue;
		text = json_dumps(v, JSON_ENCODE_ANY);
		report_out_puts(o, "<tr><td>");
		report_out_html(o, key);
		report_out_puts(o, "</td><td>");
		/* the run's own paths as given, without this machine's
		 * directories (the policy's digest is its own row) */
		if ((!strcmp(key, "suite") || !strcmp(key, "policy")) &&
		    json_is_string(v))
			report_out_html(o, last_part(json_string_value(v)));
		else
			report_out_html(o, json_is_string(v) ? json_string_value(v) : text);
		report_out_puts(o, "</td></tr>\n");
		free(text);
	}
	json_decref(j);
}

/* The review of what the model did, each flagged episode linked to its
 * section (its transcript). v[first] is the summary line. */
static void html_flagged(struct out *o, const struct report *r, char **v,
			 size_t n)
{
	size_t k = (r->n_reviews ? 2 : 1) + r->n_reviews;

	if (k >= n)
		return;
	report_out_puts(o, "<h3>Review of what the model did</h3>\n<p>");
	report_out_html(o, v[k++]);
	if (r->judged && k < n) {   /* the refusal judge's summary */
		report_out_puts(o, "</p>\n<p>");
		report_out_html(o, v[k++]);
	}
	report_out_puts(o, "</p>\n<ul>\n");
	for (size_t i = 0; r->review && i < r->n_eps && k < n; i++) {
		if (!report_review_flagged(&r->review[i]))
			continue;
		report_out_printf(o, "<li><a href=\"#ep-%lld\">",
				  (long long)r->eps[i].id);
		report_out_html(o, v[k++]);
		report_out_puts(o, "</a></li>\n");
	}
	report_out_puts(o, "</ul>\n");
}

/* The attempts by validity and the review log, each review linked to
 * its episode's section. */
static void html_validity(struct out *o, const struct report *r)
{
	size_t n;
	char **v = report_validity_lines(r, &n);

	report_out_puts(o, "<section id=\"validity\"><h2>Validity and reviews</h2>\n<p>");
	report_out_html(o, v[0]);
	report_out_puts(o, "</p>\n");
	if (r->n_reviews) {
		report_out_puts(o, "<p><b>");
		report_out_html(o, v[1]);
		report_out_puts(o, "</b></p>\n<ul>\n");
	}
	for (size_t i = 2; i < 2 + r->n_reviews && i < n; i++) {
		report_out_printf(o, "<li><a href=\"#ep-%lld\">",
				  (long long)r->reviews[i - 2].episode_id);
		report_out_html(o, v[i]);
		report_out_puts(o, "</a></li>\n");
	}
	report_out_puts(o, r->n_reviews ? "</ul>\n" : "");
	html_flagged(o, r, v, n);
	report_out_puts(o, "</section>\n");
	report_validity_lines_free(v, n);
}

/* Human baselines (report_human.c) beside the declared expert minutes. */
static void html_humans(struct out *o, const struct report *r)
{
	if (!r->humans)
		return;
	report_out_printf(o, "<section id=\"humans\"><h2>Human baselines</h2>\n"
			  "<p>%d run%s of <code>assay human</code> (sessions on "
			  "the same task content).</p>\n<table><tr><th>task</th>"
			  "<th>declared min</th><th>human median min</th><th>humans "
			  "solved</th><th>this run solved</th></tr>\n",
			  r->human_runs, r->human_runs == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct report_human *h = &r->humans[i];
		const struct report_task *t = &r->rows[i];

		report_out_puts(o, "<tr><td>");
		report_out_html(o, t->meta->task_id);
		report_out_printf(o, "</td><td>%g</td><td>",
				  report_finite(t->meta->expert_minutes));
		if (h->median_minutes >= 0)
			report_out_printf(o, "%.1f", report_finite(h->median_minutes));
		else
			report_out_puts(o, "-");
		report_out_printf(o, "</td><td>%d/%d</td><td>%d/%d</td></tr>\n",
				  h->solved, h->attempts, t->successes, t->epochs);
	}
	report_out_puts(o, "</table></section>\n");
}

void report_html_usage(struct out *o, const struct report_analysis *a)
{
	const struct report *r = a->cand.rep;

	report_out_printf(
		o,
		"<section id=\"elicitation\"><h2>Elicitation</h2>\n<p>%d "
		"epoch(s) per task requested; %d agent scaffold(s) tried for this "
		"model among the runs in this report; per-episode token budget "
		"%lld. ",
		r->run.epochs, a->scaffolds, a->token_budget);
	report_out_html(o, a->token_note);
	report_out_puts(o, ".</p>\n<table><tr><th>run setting</th><th>value</th></tr>\n");
	config_rows(o, r);
	report_out_puts(o, "</table></section>\n");
	report_out_printf(o, "<section id=\"usage\"><h2>Tokens, cost and time</h2>\n<table>"
			  "<tr><th>prompt tokens</th><th>completion tokens</th><th>cached</th>"
			  "<th>cost</th><th>wall time</th><th>working time</th></tr>\n<tr>"
			  "<td class=\"n\">%ld</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td>"
			  "<td class=\"n\">$%.4f</td><td class=\"n\">%.1f s</td><td class=\"n\">"
			  "%.1f s</td></tr></table>\n<p class=\"small\">Usage includes attempts "
			  "lost to infrastructure: they were spent.</p></section>\n",
			  r->prompt_tokens, r->completion_tokens, r->cached_tokens, r->cost_usd,
			  r->wall_ms / 1000.0, r->working_ms / 1000.0);
	report_out_printf(o, "<section id=\"failures\"><h2>Failures by class</h2>\n<p>%d of "
			  "%d scored episodes solved; <b>%d model failures</b> (refusals, errors, "
			  "limits, and %d the agent caused in its own boxes: counted against "
			  "the model); <b>%d infrastructure failures</b> (retried, never "
			  "counted); %d interrupted; <b>%d epochs without a scored attempt"
			  "</b>.</p>\n<figure>",
			  r->solved, r->scored, r->model_failures, r->agent_caused,
			  r->infra_failures, r->interrupted, r->unscored);
	report_chart_outcomes(o, r);
	report_out_puts(o, "<figcaption>Scored episodes by outcome, plus attempts lost to "
			"infrastructure.</figcaption></figure></section>\n");
	html_validity(o, r);
	html_humans(o, r);
}

/* ---- per-task table ------------------------------------------------------------------ */

static void outcome_list(struct out *o, const struct report_task *t)
{
	for (size_t i = 0; i < t->n_outcomes; i++) {
		report_out_puts(o, i ? ", " : "");
		report_out_html(o, t->outcomes[i].name);
		report_out_printf(o, " %d", t->outcomes[i].n);
	}
}

static void episode_links(struct out *o, const struct report *r, const char *task)
{
	for (size_t i = 0; i < r->n_eps; i++) {
		const struct store_episode *ep = &r->eps[i];
		if (strcmp(ep->task_id, task))
			continue;
		report_out_printf(o, "<a href=\"#ep-%lld\" title=\"epoch %d attempt %d: ",
				  (long long)ep->id, ep->epoch, ep->attempt);
		report_out_html(o, ep->outcome ? ep->outcome : ep->status);
		report_out_printf(o, "\">%s%lld</a> ", ep->score ? "&#10003;" : "&#183;",
				  (long long)ep->id);
	}
}

static void task_row(struct out *o, const struct report *r, size_t i)
{
	const struct report_task *t = &r->rows[i];
	double rate = t->epochs ? (double)t->successes / t->epochs : 0;

	report_out_printf(o, "<tr id=\"task-%zu\"><td>", i);
	report_out_html(o, t->meta->task_id);
	report_out_puts(o, "</td><td>");
	report_out_html(o, t->meta->category);
	report_out_printf(
		o,
		"</td><td class=\"n\">%d</td><td class=\"n\">%g</td>"
		"<td class=\"n\"><span class=\"bar0\"><span class=\"bar\" "
		"style=\"width:%.0fpx;position:absolute;left:0;top:0\"></span></span>"
		"%d/%d</td><td>",
		t->meta->difficulty, report_finite(t->meta->expert_minutes),
		60 * rate, t->successes, t->epochs);
	outcome_list(o, t);
	report_out_printf(
		o,
		"</td><td class=\"n\">%ld</td><td class=\"n\">$%.4f</td>"
		"<td class=\"n\">%.1f</td><td class=\"n\">%d</td><td class=\"n\">"
		"%d</td><td>",
		t->tokens, t->cost_usd, t->wall_ms / 1000.0,
		t->infra_failures + t->interrupted, t->unscored);
	episode_links(o, r, t->meta->task_id);
	report_out_puts(o, "</td></tr>\n");
}

void report_html_tasks(struct out *o, const struct report *r)
{
	report_out_printf(o, "<section id=\"tasks\"><h2>Tasks</h2>\n<table><tr><th>task</th>"
			  "<th>category</th><th class=\"n\">tier</th><th class=\"n\">expert min"
			  "</th><th class=\"n\">solved</th><th>outcomes</th><th class=\"n\">"
			  "tokens</th><th class=\"n\">cost</th><th class=\"n\">wall s</th>"
			  "<th class=\"n\">infra</th><th class=\"n\">unscored</th>"
			  "<th>episodes (transcripts)</th></tr>\n");
	for (size_t i = 0; i < r->n_tasks; i++)
		task_row(o, r, i);
	report_out_printf(o, "</table>\n<p class=\"small\">Every transcript can also be "
			  "printed with <code>assay show %lld --episode ID --transcript</code>."
			  "</p></section>\n", (long long)r->run.id);
}

/* ---- transcripts ----------------------------------------------------------------------- */

static void pre(struct out *o, const char *label, const char *text)
{
	size_t n;
	char *cut;

	if (!text || !*text)
		return;
	n = strlen(text);
	cut = xstrndup(text, n < REPORT_HTML_TEXT_CAP ? n : REPORT_HTML_TEXT_CAP);
	report_out_printf(o, "<div class=\"small\">%s</div><pre>", label);
	report_out_html(o, cut);
	if (n > REPORT_HTML_TEXT_CAP)
		report_out_printf(o, "\n[... %zu more bytes: see assay show]", n - REPORT_HTML_TEXT_CAP);
	report_out_puts(o, "</pre>");
	free(cut);
}

static const char *str_of(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void model_event(struct out *o, json_t *j)
{
	json_t *calls = json_object_get(j, "tool_calls"), *c;
	size_t i;

	report_out_puts(o, "<div class=\"small\">stop ");
	report_out_html(o, str_of(j, "stop"));
	report_out_printf(
		o, " &middot; %lld prompt + %lld completion tokens</div>",
		(long long)json_integer_value(json_object_get(j, "prompt_tokens")),
		(long long)json_integer_value(
			json_object_get(j, "completion_tokens")));
	pre(o, "text", str_of(j, "text"));
	pre(o, "error", str_of(j, "error"));
	json_array_foreach(calls, i, c) {
		report_out_puts(o, "<div class=\"small\">tool call <b>");
		report_out_html(o, str_of(c, "name"));
		report_out_puts(o, "</b></div>");
		pre(o, "arguments", str_of(c, "arguments"));
	}
}

static void tool_event(struct out *o, json_t *j)
{
	report_out_puts(o, "<div class=\"small\">tool <b>");
	report_out_html(o, str_of(j, "name"));
	report_out_printf(o, "</b>%s</div>", json_is_true(json_object_get(j, "error")) ?
			  " (error)" : "");
	pre(o, "arguments", str_of(j, "arguments"));
	pre(o, "output", str_of(j, "output"));
}

static void raw_event(struct out *o, const char *data)
{
	pre(o, "data", data);
}

static void event(struct out *o, const struct store_event *ev)
{
	json_error_t jerr;
	json_t *j = json_loads(ev->data ? ev->data : "", 0, &jerr);
	char when[40];

	iso8601(ev->at_ms, when, sizeof(when));
	report_out_printf(o, "<li class=\"ev ev-");
	report_out_html(o, ev->kind);
	report_out_printf(o, "\"><span class=\"evh\">#%d ", ev->seq);
	report_out_html(o, ev->kind);
	report_out_printf(o, "</span> <span class=\"small\">%s</span>", when);
	if (json_is_object(j) && ev->kind && !strcmp(ev->kind, "model"))
		model_event(o, j);
	else if (json_is_object(j) && ev->kind && !strcmp(ev->kind, "tool"))
		tool_event(o, j);
	else if (json_is_object(j) && str_of(j, "note"))
		pre(o, "note", str_of(j, "note"));
	else
		raw_event(o, ev->data);
	report_out_puts(o, "</li>\n");
	json_decref(j);
}

static void episode(struct out *o, const struct report *r, size_t i)
{
	const struct store_episode *ep = &r->eps[i];
	const struct report_transcript *t = r->transcripts ? &r->transcripts[i] : NULL;

	report_out_printf(o, "<section class=\"episode\" id=\"ep-%lld\"><h3>episode %lld "
			  "&middot; ", (long long)ep->id, (long long)ep->id);
	report_out_html(o, ep->task_id);
	report_out_printf(o, " &middot; epoch %d attempt %d &middot; ", ep->epoch, ep->attempt);
	report_out_html(o, ep->outcome ? ep->outcome : ep->status);
	report_out_printf(o, " &middot; score %d</h3>\n<p class=\"small\">%d turns, %ld "
			  "tokens, %.1f s", ep->score, ep->turns,
			  ep->prompt_tokens + ep->completion_tokens, ep->wall_ms / 1000.0);
	if (ep->error) {
		report_out_puts(o, "; error: ");
		report_out_html(o, ep->error);
	}
	report_out_printf(o, ". <code>assay show %lld --episode %lld --transcript</code></p>\n",
			  (long long)r->run.id, (long long)ep->id);
	if (!t || t->omitted)
		report_out_puts(o, "<p class=\"note\">transcript not embedded: run the command "
				"above</p>\n");
	else {
		report_out_printf(o, "<details><summary>%zu journaled events</summary><ol "
				  "class=\"events\">\n", t->n);
		for (size_t k = 0; k < t->n; k++)
			event(o, &t->evs[k]);
		report_out_puts(o, "</ol></details>\n");
	}
	report_out_puts(o, "</section>\n");
}

void report_html_transcripts(struct out *o, const struct report *r)
{
	report_out_puts(o, "<section id=\"transcripts\"><h2>Transcripts</h2>\n");
	for (size_t i = 0; i < r->n_eps; i++)
		episode(o, r, i);
	report_out_puts(o, "</section>\n");
}
