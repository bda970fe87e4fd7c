/*
 * policy_int.h - shared inside src/policy only.
 */
#ifndef ASSAY_POLICY_INT_H
#define ASSAY_POLICY_INT_H

#include "policy.h"

/* The rule's selector as a stats filter (borrows the rule's arrays). */
struct stats_filter policy_filter(const struct policy_rule *r);
const struct policy_rule *policy_find_rule(const struct policy *p,
					   const char *name);
/* The subset of an optional rule is empty in the data (or it depends on
 * such a rule). */
bool policy_rule_empty(const struct policy *p, const struct policy_rule *r,
		       const struct stats_run *run);

/* Evaluation context shared by the rule evaluators. */
struct policy_ectx {
	const struct policy *p;
	const struct policy_input *in;
};

/* Boot options of rule r: policy's seed/resamples, level 2c - 1. */
struct stats_boot_opts policy_boot_for(const struct policy_ectx *x,
				       const struct policy_rule *r);
/* Candidate task ids in r's subset into out->task_ids / ntasks. */
void policy_subset_ids(const struct policy_ectx *x, const struct policy_rule *r,
		       struct policy_rule_result *out);
void policy_eval_frontier(const struct policy_ectx *x, const struct policy_rule *r,
			  struct policy_rule_result *out);

#endif
