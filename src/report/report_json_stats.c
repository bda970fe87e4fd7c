/*
 * report_json_stats.c - the "determination" and "statistics" objects of
 * the JSON report (docs/FORMAT-report.md). Every number is finite; a
 * figure that could not be computed is null with a "note".
 */
#include "report/report_json_int.h"

#include <string.h>

#include "report/report_int.h"
#include "base/banned.h"

static json_t *num(double v)
{
	return json_real(report_finite(v));
}

static json_t *interval(const struct stats_interval *iv)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "est", num(iv->est), "lo",
			 num(iv->lo), "hi", num(iv->hi), "level", num(iv->level));
}

static json_t *summary(const struct stats_summary *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "tasks", json_integer((json_int_t)s->ntasks));
	json_object_set_new(o, "clusters", json_integer((json_int_t)s->nclusters));
	json_object_set_new(o, "trials", json_integer((json_int_t)s->ntrials));
	json_object_set_new(o, "successes", json_integer((json_int_t)s->nsuccesses));
	json_object_set_new(o, "solved_tasks", json_integer((json_int_t)s->nsolved));
	json_object_set_new(o, "min_epochs", json_integer(s->min_epochs));
	json_object_set_new(o, "max_epochs", json_integer(s->max_epochs));
	json_object_set_new(o, "pass1", num(s->pass1));
	json_object_set_new(o, "se", num(s->se));
	json_object_set_new(o, "wilson", interval(&s->wilson));
	json_object_set_new(o, "bootstrap", interval(&s->boot));
	json_object_set_new(o, "k", json_integer(s->k));
	json_object_set_new(o, "passk", num(s->passk));
	json_object_set_new(o, "passk_bootstrap", interval(&s->passk_boot));
	return o;
}

static json_t *note_or(json_t *v, bool ok, const char *note)
{
	if (ok)
		return v;
	json_decref(v);
	return json_pack("{s:n, s:s}", "value", "note", note);
}

static json_t *groups(const struct report_group *g, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = g[i].ok ? summary(&g[i].s) : json_object();
		if (g[i].category)
			json_object_set_new(o, "category", json_string(g[i].category));
		else
			json_object_set_new(o, "tier", json_integer(g[i].tier));
		if (!g[i].ok)
			json_object_set_new(o, "note", json_string(g[i].note));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *flags_json(unsigned flags)
{
	json_t *a = json_array();

	for (unsigned bit = 1; bit <= HZ_ONE_LENGTH; bit <<= 1)
		if (flags & bit)
			json_array_append_new(a, json_string(stats_horizon_flag_name(bit)));
	return a;
}

static json_t *horizon(const struct report_analysis *a)
{
	const struct stats_horizon *h = &a->horizon;
	json_t *o;

	if (!a->has_horizon)
		return json_pack("{s:s}", "note", a->horizon_note);
	o = json_object();
	json_object_set_new(o, "tasks", json_integer((json_int_t)h->ntasks));
	json_object_set_new(o, "excluded_default_minutes",
			    json_integer((json_int_t)h->ndefault));
	json_object_set_new(o, "min_minutes", num(h->min_minutes));
	json_object_set_new(o, "max_minutes", num(h->max_minutes));
	json_object_set_new(o, "mean_rate", num(h->mean_rate));
	json_object_set_new(o, "h50", interval(&h->h50));
	json_object_set_new(o, "h80", interval(&h->h80));
	json_object_set_new(o, "flags", flags_json(h->flags));
	json_object_set_new(o, "b0", num(h->fit.b0));
	json_object_set_new(o, "b1", num(h->fit.b1));
	json_object_set_new(o, "boot_degenerate", num(h->boot_degenerate));
	return o;
}

static json_t *irt(const struct report_analysis *a)
{
	json_t *o, *runs, *items;

	if (!a->irt)
		return json_pack("{s:s}", "note", a->irt_note);
	o = json_object();
	runs = json_array();
	items = json_array();
	for (size_t i = 0; i < a->irt->nmodels; i++) {
		const struct stats_irt_model *m = &a->irt->models[i];
		json_array_append_new(runs, json_pack("{s:s, s:s?, s:o, s:o, s:o, s:o}",
			"run", m->run, "model", m->model, "theta", num(m->theta),
			"se", num(m->se), "interval", interval(&m->ci),
			"points", num(stats_irt_points(m->theta))));
	}
	for (size_t i = 0; i < a->irt->nitems; i++) {
		const struct stats_irt_item *it = &a->irt->items[i];
		json_array_append_new(items, json_pack("{s:s, s:o, s:o, s:I}",
			"task", it->task, "a", num(it->a), "b", num(it->b),
			"runs", (json_int_t)it->nruns));
	}
	json_object_set_new(o, "runs", runs);
	json_object_set_new(o, "items", items);
	json_object_set_new(o, "converged", json_boolean(a->irt->converged));
	json_object_set_new(o, "connected", json_boolean(a->irt->connected));
	if (*a->irt_note)
		json_object_set_new(o, "note", json_string(a->irt_note));
	return o;
}

static json_t *paired(const struct stats_paired *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "common_tasks", json_integer((json_int_t)p->ncommon));
	json_object_set_new(o, "pass1_candidate", num(p->mean_a));
	json_object_set_new(o, "pass1_reference", num(p->mean_b));
	json_object_set_new(o, "difference", num(p->diff));
	json_object_set_new(o, "se", num(p->se));
	json_object_set_new(o, "wald", interval(&p->wald));
	json_object_set_new(o, "bootstrap", interval(&p->boot));
	json_object_set_new(o, "mcnemar", json_pack("{s:i, s:i, s:b, s:o, s:o}",
		"b", (int)p->mcnemar.b, "c", (int)p->mcnemar.c, "exact",
		p->mcnemar.exact, "statistic", num(p->mcnemar.statistic), "p",
		num(p->mcnemar.p)));
	return o;
}

static json_t *references(const struct report_analysis *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->nrefs; i++) {
		const struct report_refcmp *c = &a->cmps[i];
		json_t *o = json_pack("{s:I, s:s?, s:s}", "run",
				      (json_int_t)c->ref->rep->run.id, "model",
				      c->ref->rep->run.model, "suite", c->ref->suite);
		if (c->has_summary)
			json_object_set_new(o, "overall", summary(&c->s));
		if (c->ok)
			json_object_set_new(o, "paired", paired(&c->paired));
		if (*c->note)
			json_object_set_new(o, "note", json_string(c->note));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *excluded(const struct report_srun *sr)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < sr->rep->n_tasks; i++)
		if (sr->rep->rows[i].epochs <= 0)
			json_array_append_new(arr, json_string(sr->rep->tasks[i].task_id));
	return arr;
}

json_t *report_json_statistics(const struct report_analysis *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "level", num(REPORT_LEVEL));
	json_object_set_new(o, "bootstrap", json_pack("{s:I, s:i}", "seed",
		(json_int_t)a->boot.seed, "resamples", (int)a->boot.resamples));
	json_object_set_new(o, "excluded_tasks", excluded(&a->cand));
	json_object_set_new(o, "overall", note_or(a->has_overall ?
		summary(&a->overall) : json_null(), a->has_overall, a->overall_note));
	json_object_set_new(o, "tiers", groups(a->tiers, a->ntiers));
	json_object_set_new(o, "categories", groups(a->categories, a->ncategories));
	json_object_set_new(o, "horizon", horizon(a));
	json_object_set_new(o, "irt", irt(a));
	json_object_set_new(o, "references", references(a));
	return o;
}

/* ---- determination --------------------------------------------------------- */

static json_t *strings(const char *const *v, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

static json_t *comparison(const struct policy_comparison *c)
{
	json_t *o = json_pack("{s:s, s:b, s:I, s:o, s:b, s:s}", "reference",
			      c->reference, "evaluable", c->evaluable, "common_tasks",
			      (json_int_t)c->ncommon, "difference", interval(&c->diff),
			      "exceeds", c->exceeds, "detail", c->detail);

	json_object_set_new(o, "mcnemar_p", c->mcnemar_p < 0 ? json_null() :
			    num(c->mcnemar_p));
	return o;
}

static json_t *rule(const struct policy_rule_result *rr)
{
	bool has_value = (rr->verdict != VERDICT_NOT_APPLICABLE &&
			  rr->verdict != VERDICT_NOT_EVALUABLE) ||
			 (rr->rule->type == RULE_INTEGRITY && rr->value.level > 0);
	json_t *cmps = json_array();
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}",
		"name", rr->rule->name, "type", policy_rule_type_name(rr->rule->type),
		"verdict", policy_verdict_name(rr->verdict),
		"value", has_value ? interval(&rr->value) : json_null(),
		"threshold", has_value ? num(rr->threshold) : json_null(),
		"flags", flags_json(rr->flags),
		"tasks", strings(rr->task_ids, rr->ntasks), "detail", rr->detail);

	json_object_set_new(o, "confidence", num(rr->rule->confidence));
	for (size_t i = 0; i < rr->ncmps; i++)
		json_array_append_new(cmps, comparison(&rr->cmps[i]));
	json_object_set_new(o, "comparisons", cmps);
	return o;
}

static json_t *elicitation(const struct report_analysis *a)
{
	const struct policy_elicitation_result *el = &a->result->elicitation;
	const struct policy_elicitation *m = &a->policy->elicitation;
	json_t *o = json_pack("{s:i, s:i, s:I, s:b, s:s}", "epochs", el->epochs,
			      "scaffolds", el->scaffolds, "token_budget",
			      (json_int_t)el->token_budget, "adequate", el->adequate,
			      "detail", el->detail);

	json_object_set_new(o, "minimums", json_pack("{s:i, s:i, s:I}", "epochs",
		m->min_epochs, "scaffolds", m->min_scaffolds, "token_budget",
		(json_int_t)m->min_token_budget));
	json_object_set_new(o, "token_budget_source", json_string(a->token_note));
	return o;
}

static json_t *strings_refs(const struct report_analysis *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->nrefs; i++)
		json_array_append_new(arr, json_string(a->refs[i].name));
	return arr;
}

json_t *report_json_determination(const struct report_analysis *a)
{
	json_t *o, *rules;
	char label[64];

	if (!a->result)
		return json_pack("{s:n, s:s}", "determination", "note", a->result_note);
	rules = json_array();
	for (size_t i = 0; i < a->result->nrules; i++)
		json_array_append_new(rules, rule(&a->result->rules[i]));
	report_policy_label(a->policy, label, sizeof(label));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "determination",
		      policy_determination_name(a->result->determination), "reason",
		      a->result->reason, "candidate", a->result->candidate,
		      "policy", a->policy->id, "policy_digest", label);
	json_object_set_new(o, "elicitation", elicitation(a));
	json_object_set_new(o, "completeness", json_pack("{s:b, s:i, s:i, s:s}",
		"complete", a->result->completeness.complete, "planned",
		a->result->completeness.planned, "unscored",
		a->result->completeness.unscored, "detail",
		a->result->completeness.detail));
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "references", strings_refs(a));
	return o;
}
