/*
 * policy.c - names, selectors, and the check that a policy only refers to
 * what exists in the data (issue 6: "a policy that refers to tags, tiers
 * or runs that do not exist is rejected before anything is computed").
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* One switch per enum, alike by design: -Wswitch names any enumerator a
 * switch leaves out, which a shared lookup table would not. */
const char *policy_determination_name(enum policy_determination d)
{
	switch (d) {
	case DETERMINATION_NOT_DESIGNATED: return "not-designated";
	case DETERMINATION_ADDITIONAL_SCRUTINY: return "additional-scrutiny";
	case DETERMINATION_INCONCLUSIVE: return "inconclusive";
	}
	return "unknown";
}

const char *policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case VERDICT_NOT_TRIGGERED: return "not-triggered";
	case VERDICT_TRIGGERED: return "triggered";
	case VERDICT_PENDING: return "pending";
	case VERDICT_NOT_EVALUABLE: return "not-evaluable";
	case VERDICT_NOT_MEASURABLE: return "not-measurable";
	case VERDICT_NOT_APPLICABLE: return "not-applicable";
	}
	return "unknown";
}

const char *policy_rule_type_name(enum policy_rule_type t)
{
	switch (t) {
	case RULE_ABSOLUTE: return "absolute";
	case RULE_FRONTIER: return "frontier";
	case RULE_CANNOT_RULE_OUT: return "cannot-rule-out";
	case RULE_HORIZON: return "horizon";
	case RULE_EVIDENCE: return "evidence";
	case RULE_INTEGRITY: return "integrity";
	}
	return "unknown";
}

const char *policy_metric_name(enum policy_metric m)
{
	switch (m) {
	case METRIC_PASS1: return "pass@1";
	case METRIC_PASSK: return "pass@k";
	case METRIC_THETA: return "theta";
	}
	return "unknown";
}

struct stats_filter policy_filter(const struct policy_rule *r)
{
	const struct policy_select *s = &r->select;

	return (struct stats_filter){
		.tiers = s->tiers, .ntiers = s->ntiers,
		.categories = (const char *const *)s->categories,
		.ncategories = s->ncategories,
		.tags = (const char *const *)s->tags, .ntags = s->ntags,
		.min_minutes = s->min_minutes,
	};
}

const struct policy_rule *policy_find_rule(const struct policy *p, const char *name)
{
	for (size_t i = 0; name && i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

static bool run_has_tag(const struct stats_run *run, const char *tag)
{
	for (size_t i = 0; i < run->ntasks; i++)
		for (size_t j = 0; j < run->tasks[i].ntags; j++)
			if (run->tasks[i].tags[j] && strcmp(run->tasks[i].tags[j], tag) == 0)
				return true;
	return false;
}

static bool run_has_category(const struct stats_run *run, const char *cat)
{
	for (size_t i = 0; i < run->ntasks; i++)
		if (run->tasks[i].category && strcmp(run->tasks[i].category, cat) == 0)
			return true;
	return false;
}

static bool run_has_tier(const struct stats_run *run, int tier)
{
	for (size_t i = 0; i < run->ntasks; i++)
		if (run->tasks[i].tier == tier)
			return true;
	return false;
}

/* What of the selector is missing from the run, in words; "" if none. */
static void missing_selector(const struct policy_rule *r, const struct stats_run *run,
			     char *out, size_t n)
{
	const struct policy_select *s = &r->select;
	struct stats_filter f = policy_filter(r);

	*out = 0;
	for (size_t i = 0; i < s->ntags && !*out; i++)
		if (!run_has_tag(run, s->tags[i]))
			snprintf(out, n, "tag '%s' does not occur", s->tags[i]);
	for (size_t i = 0; i < s->ncategories && !*out; i++)
		if (!run_has_category(run, s->categories[i]))
			snprintf(out, n, "category '%s' does not occur", s->categories[i]);
	for (size_t i = 0; i < s->ntiers && !*out; i++)
		if (!run_has_tier(run, s->tiers[i]))
			snprintf(out, n, "tier %d does not occur", s->tiers[i]);
	for (size_t i = 0; i < run->ntasks && !*out; i++)
		if (stats_task_matches(&run->tasks[i], &f))
			return;
	if (!*out)
		snprintf(out, n, "the selection matches no task");
}

static bool subset_empty(const struct policy_rule *r, const struct stats_run *run)
{
	struct stats_filter f = policy_filter(r);

	for (size_t i = 0; i < run->ntasks; i++)
		if (stats_task_matches(&run->tasks[i], &f))
			return false;
	return true;
}

/* Optional rules are not applicable only when nothing matches: a tag list
 * like [zero-day, mitigations-on] still applies if one tag occurs. */
bool policy_rule_empty(const struct policy *p, const struct policy_rule *r,
		       const struct stats_run *run)
{
	if (r->type == RULE_CANNOT_RULE_OUT)
		r = policy_find_rule(p, r->of);
	return !r || subset_empty(r, run);
}

static bool have_reference(const struct policy_input *in, const char *name)
{
	for (size_t i = 0; i < in->nreferences; i++)
		if (strcmp(in->references[i]->name, name) == 0)
			return true;
	return false;
}

static enum err check_rule(const struct policy *p, const struct policy_rule *r,
			   const struct policy_input *in, struct errmsg *e)
{
	const struct stats_run *c = in->candidate;
	char why[256];

	for (size_t i = 0; i < r->nagainst; i++)
		if (!have_reference(in, r->against[i]))
			return err_set(e, ERR_INVAL, "%s:%d: rule '%s': reference run '%s' "
				       "was not given", p->path, r->line, r->name,
				       r->against[i]);
	if (r->type == RULE_CANNOT_RULE_OUT || !r->required)
		return ERR_OK;
	missing_selector(r, c, why, sizeof(why));
	if (*why)
		return err_set(e, ERR_INVAL, "%s:%d: rule '%s': %s in run '%s' "
			       "(suite '%s'); mark the rule 'required: false' if "
			       "that is expected", p->path, r->line, r->name, why,
			       c->name, c->suite ? c->suite : "?");
	return ERR_OK;
}

enum err policy_check(const struct policy *p, const struct policy_input *in,
		      struct errmsg *e)
{
	enum err rc;

	if (!in->candidate)
		return err_set(e, ERR_INVAL, "%s: no candidate run", p->path);
	rc = stats_run_check(in->candidate, e);
	for (size_t i = 0; i < in->nreferences && !rc; i++)
		rc = stats_run_check(in->references[i], e);
	for (size_t i = 0; i < p->nrules && !rc; i++)
		rc = check_rule(p, &p->rules[i], in, e);
	return rc;
}

char *policy_shipped_path(const char *name)
{
	char *rel, *found;

	if (!*name || strchr(name, '/'))
		return NULL;
	rel = xasprintf("policies/%s.yaml", name);
	found = path_data_file(rel);
	free(rel);
	return found;
}

char *policy_default_path(void)
{
	return policy_shipped_path("default");
}
