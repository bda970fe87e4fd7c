/*
 * policy.h - a pre-registered decision rule and its determination.
 *
 * A policy file (YAML, docs/FORMAT-policy.md) fixes, before any run, the
 * rules that designate a model for additional scrutiny and the elicitation
 * minimums without which a negative result cannot clear it. Evaluating it
 * on a candidate run (plus reference runs) yields one of
 *   additional-scrutiny  some rule triggered
 *   inconclusive         no rule triggered, but elicitation was below the
 *                        minimums, the run is incomplete (a planned
 *                        (task, epoch) has no scored attempt) or some
 *                        rule could not be decided
 *   not-designated       every applicable rule decided "not triggered"
 *                        with adequate elicitation
 * together with every rule's verdict, numbers and the tasks behind it.
 *
 * Ownership: policy_load/parse -> policy_free; policy_evaluate ->
 * policy_result_free. A result borrows rule names from the policy and task
 * ids / run names from the input runs: keep both alive while it is used.
 * Errors: malformed files give "FILE:LINE: message"; a policy naming tags,
 * categories, tiers or runs absent from the data is rejected by
 * policy_check (called by policy_evaluate) before anything is computed.
 */
#ifndef ASSAY_POLICY_H
#define ASSAY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "stats/stats.h"

#define POLICY_MAX_BYTES ((size_t)1 << 20)
#define POLICY_MAX_RULES 256
#define POLICY_MAX_LIST 256
/* `interval: bootstrap` uses Wilson when the subset has fewer clusters
 * than this: the percentile bootstrap under-covers for small n, Wilson
 * keeps near-nominal coverage (reference doc §b rule 1: "task-clustered
 * bootstrap, or Wilson when n is small"; Brown, Cai & DasGupta 2001). */
#define POLICY_WILSON_BELOW 20

enum policy_rule_type {
	RULE_ABSOLUTE,        /* lower bound of a metric on a subset >= threshold */
	RULE_FRONTIER,        /* paired lower bound vs every reference > margin */
	RULE_CANNOT_RULE_OUT, /* an absolute rule's interval straddles its
				 threshold after the epoch budget is spent */
	RULE_HORIZON,         /* lower bound of H_q >= min_minutes */
	RULE_EVIDENCE,        /* >= min_successes successes on the subset */
	RULE_INTEGRITY,       /* the share of attempts lost to infrastructure
				 or interruption is at most max_rate; above,
				 not-evaluable: the run cannot clear a model */
};

enum policy_metric { METRIC_PASS1, METRIC_PASSK, METRIC_THETA };
enum policy_interval { INTERVAL_BOOTSTRAP, INTERVAL_WILSON, INTERVAL_CLUSTERED };

struct policy_select {
	int *tiers;
	size_t ntiers;
	char **categories;
	size_t ncategories;
	char **tags;
	size_t ntags;
	double min_minutes;   /* 0 = no bound */
};

struct policy_rule {
	char *name;
	int line;
	enum policy_rule_type type;
	bool required;        /* false: a selector that matches nothing in the
				 data makes the rule not-applicable instead of
				 rejecting the policy */
	struct policy_select select;
	enum policy_metric metric;
	int k;                /* for METRIC_PASSK */
	enum policy_interval interval;
	double confidence;    /* one-sided, e.g. 0.95 */
	double threshold;     /* absolute */
	double margin;        /* frontier: in the metric's units */
	char **against;       /* frontier: reference run names; none = all */
	size_t nagainst;
	char *of;             /* cannot-rule-out: name of an absolute rule */
	int budget_epochs;    /* cannot-rule-out: budget spent at this many */
	double quantile;      /* horizon: 0.5 or 0.8 */
	double min_minutes;   /* horizon threshold */
	int min_successes;    /* evidence */
	double max_rate;      /* integrity: 0..1 */
};

/* Which detector's refusals the refusal rate counts. */
enum policy_refusal_source {
	REFUSALS_PHRASE,          /* the report's phrase detector (default) */
	REFUSALS_JUDGE,           /* the refusal judge's verdicts; a run whose
				     unsolved episodes were not all judged
				     is under-elicited */
	REFUSALS_EITHER,          /* refused by either; judge required too */
};

struct policy_elicitation {
	int min_epochs;
	int min_scaffolds;
	long long min_token_budget;
	double max_refusal_rate;  /* refused episodes over counted ones above
				     this: under-elicited (default 1: none) */
	enum policy_refusal_source refusals;
};

struct policy {
	char *path;           /* as given to policy_load / parse name */
	char *id;
	double confidence;    /* default one-sided confidence of rules */
	struct stats_boot_opts boot;
	struct policy_elicitation elicitation;
	struct policy_rule *rules;
	size_t nrules;
	bool not_measurable_ignored; /* `not_measurable: ignore`: a
					not-measurable rule does not keep the
					determination inconclusive */
};

enum err policy_parse(const char *name, const char *data, size_t len,
		      struct policy **out, struct errmsg *e) MUST_CHECK;
enum err policy_load(const char *path, struct policy **out,
		     struct errmsg *e) MUST_CHECK;
void policy_free(struct policy *p);

/* The shipped policy NAME (policies/NAME.yaml, NAME without '/'), found by
 * the data-file lookup (path_data_file: the source tree, beside the
 * binary, share/assay). NULL when none exists. Caller frees. */
char *policy_shipped_path(const char *name);
/* policy_shipped_path("default"). */
char *policy_default_path(void);

/* What the candidate run's attempts came to. */
struct policy_attempts {
	bool given;               /* false: no counts (integrity rules are
				     then not-evaluable) */
	int attempts;             /* every finished attempt */
	int invalid;              /* of which lost to infrastructure or
				     interrupted: no score */
	int planned;              /* (task, epoch) pairs the run planned */
	int unscored;             /* of which have no scored attempt */
};

/* What the policy is applied to. */
struct policy_input {
	const struct stats_run *candidate;
	const struct stats_run *const *references;
	size_t nreferences;
	int scaffolds;            /* distinct agent scaffolds tried */
	long long token_budget;   /* per-episode token limit given */
	struct policy_refusals {  /* the candidate's (report_review.c) */
		int counted;      /* episodes that count */
		int unsolved;     /* of which unsolved: the judge reads these */
		int phrase;       /* refused by the phrase detector */
		int judged;       /* read by the refusal judge */
		int judge;        /* judged refused */
		int either;       /* refused by either */
	} refusals;
	struct policy_attempts attempts; /* of the candidate */
};

/* Reject references to tags, categories, tiers and runs absent from the
 * input ("FILE:LINE: rule 'NAME': ..."), before anything is computed. */
enum err policy_check(const struct policy *p, const struct policy_input *in,
		      struct errmsg *e) MUST_CHECK;

enum policy_determination {
	DETERMINATION_NOT_DESIGNATED,
	DETERMINATION_ADDITIONAL_SCRUTINY,
	DETERMINATION_INCONCLUSIVE,
};

enum policy_verdict {
	VERDICT_NOT_TRIGGERED,
	VERDICT_TRIGGERED,
	VERDICT_PENDING,          /* cannot-rule-out: add epochs */
	VERDICT_NOT_EVALUABLE,    /* data cannot decide (detail says why) */
	VERDICT_NOT_APPLICABLE,   /* optional rule whose subset is empty */
	VERDICT_NOT_MEASURABLE,   /* the threshold lies beyond what the suite
				     can measure (a horizon above its longest
				     task): neither triggered nor cleared */
};

/* Candidate versus one reference (frontier rules). */
struct policy_comparison {
	const char *reference;    /* run name (borrowed) */
	bool evaluable;
	size_t ncommon;           /* common tasks (pass@1) or 0 (theta) */
	struct stats_interval diff; /* candidate - reference */
	double mcnemar_p;         /* pass@1 only, else -1 */
	bool exceeds;             /* diff.lo > margin */
	char detail[512];
};

struct policy_rule_result {
	const struct policy_rule *rule;   /* borrowed from the policy */
	enum policy_verdict verdict;
	struct stats_interval value;      /* metric with its two-sided
					     (2c - 1) interval: lo is the
					     one-sided c lower bound */
	double threshold;                 /* what value was compared with */
	unsigned flags;                   /* horizon: stats_horizon_flags */
	size_t ntasks;                    /* tasks behind the verdict */
	const char **task_ids;            /* borrowed from the candidate */
	struct policy_comparison *cmps;   /* frontier: one per reference */
	size_t ncmps;
	char detail[1024];                /* one line in words and numbers */
};

struct policy_elicitation_result {
	int epochs;               /* fewest epochs of any candidate task */
	int scaffolds;
	long long token_budget;
	bool adequate;
	char detail[256];
};

/* A run with a planned (task, epoch) left without a scored attempt (the
 * store's status `incomplete`) cannot clear a model, whatever the rules. */
struct policy_completeness_result {
	bool complete;            /* also true when no counts were given */
	int planned, unscored;
	char detail[256];
};

struct policy_result {
	enum policy_determination determination;
	char reason[1024];
	const char *candidate;    /* run name (borrowed) */
	struct policy_elicitation_result elicitation;
	struct policy_completeness_result completeness;
	struct policy_rule_result *rules;  /* nrules, in policy order */
	size_t nrules;
};

enum err policy_evaluate(const struct policy *p, const struct policy_input *in,
			 struct policy_result **out, struct errmsg *e) MUST_CHECK;
void policy_result_free(struct policy_result *r);

const char *policy_determination_name(enum policy_determination d);
const char *policy_verdict_name(enum policy_verdict v);
const char *policy_rule_type_name(enum policy_rule_type t);
const char *policy_metric_name(enum policy_metric m);

#endif
