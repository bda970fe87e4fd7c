/*
 * report.h - what a run produced, gathered from the journal and rendered
 * for people (terminal table) and programs (JSON, docs/FORMAT-report.md).
 *
 * report_load() reads everything it needs into plain structs; renderers
 * only format. report_analyze() turns a loaded report (plus reference
 * reports) into statistics and, given a policy, a determination; the
 * renderers below take both (docs/FORMAT-report.md). The per-task
 * figures count, for each (task, epoch), the last finished attempt that
 * is not an infrastructure failure; infrastructure failures are counted
 * apart and never as model failures, and never dropped: every renderer
 * shows them per task, with the epochs left without a scored attempt
 * (`unscored`). What the agent did to its own boxes (class agent-caused)
 * is a failure of the model, counted in model_failures.
 */
#ifndef ASSAY_REPORT_H
#define ASSAY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "policy/policy.h"
#include "stats/stats.h"
#include "store/store.h"

#define REPORT_MAX_OUTCOMES 16

struct report_task {
	const struct store_task *meta;   /* borrowed from the report */
	int epochs;                      /* scored epochs */
	int successes;
	int answers_ok, answers_total;
	int infra_failures;              /* attempts lost to infrastructure */
	int interrupted;                 /* epochs whose final state is cut
					    off (resumable; rerun: scored) */
	int model_failures;              /* model errors, limits and
					    agent-caused failures */
	int agent_caused;                /* of which the agent broke its box
					    or blocked the check */
	int unscored;                    /* planned epochs with no scored
					    attempt */
	int invalidated;                 /* finished attempts judged invalid
					    (harness, task) or indeterminate:
					    kept, not counted */
	long tokens;
	double cost_usd;
	int64_t wall_ms;                 /* summed over scored epochs */
	struct report_outcome {
		char name[24];
		int n;
	} outcomes[REPORT_MAX_OUTCOMES]; /* scored epochs by outcome */
	size_t n_outcomes;
};

struct report {
	struct store_run run;
	struct store_task *tasks;
	size_t n_tasks;
	struct store_episode *eps;
	size_t n_eps;
	struct report_task *rows;        /* one per task, same order */
	int scored, solved, infra_failures, model_failures;
	int interrupted;                 /* pairs whose final state is cut off
	                                    (a pair rerun is not counted) */
	int interrupted_attempts;        /* every attempt cut off */
	int agent_caused, unscored;
	int attempts;                    /* every finished attempt */
	struct store_pairs pairs;        /* the run's pairs by final state */
	struct report_validity {         /* every finished attempt */
		int valid, indeterminate;
		int infrastructure, harness, task, agent_caused; /* invalid */
	} validity;
	struct store_review *reviews;    /* the run's review log, oldest first */
	size_t n_reviews;
	struct report_review {           /* one per eps (report_review.c) */
		bool refused;            /* the model declined the task */
		char signal[160];        /* a shortcut or tampering signal,
					    "" when none */
		char judge[16];          /* the refusal judge's verdict:
					    refused | attempted | unclear |
					    error; "" when not judged */
	} *review;
	int counted_episodes;            /* episodes that count (reviewed) */
	int refusals, flagged;           /* of which refused; flagged for
					    human review (refusal, signal or
					    the judge's refusal) */
	int unsolved;                    /* counted and unsolved: what the
					    refusal judge reads */
	int judged, judge_refusals;      /* episodes the refusal judge read;
					    of which it judged refused */
	int either_refusals;             /* refused by the detector or the
					    judge */
	int judge_errors;                /* judged, but the judge failed */
	int judge_agree;                 /* its refused/attempted verdicts
					    that match the phrase detector */
	char judge_model[96];            /* the judge, "" when none */
	long prompt_tokens, completion_tokens, cached_tokens;
	double cost_usd;
	int64_t wall_ms, working_ms;
	struct report_human {            /* one per task (report_human.c) */
		int attempts, solved;    /* counted sessions of human runs
					    on the same task content */
		double median_minutes;   /* working time of the solved ones;
					    -1 when none */
	} *humans;                       /* NULL: not loaded, or no human run */
	int human_runs;
	struct report_transcript {
		struct store_event *evs;
		size_t n;
		bool omitted;            /* over the byte cap: not loaded */
	} *transcripts;                  /* one per eps, or NULL (not loaded) */
};

enum err report_load(struct store *st, int64_t run_id, struct report **r_out,
		     struct errmsg *e) MUST_CHECK;
void report_free(struct report *r);
/* Refusals and shortcut/tampering signals of every counted episode, from
 * its journaled model turns (report_review.c; report_load calls it). */
enum err report_review_load(struct store *st, struct report *r,
			    struct errmsg *e) MUST_CHECK;
/* Human baselines of the report's tasks from every run of the store
 * whose model is human/NAME (assay human): r->humans, left NULL when
 * there is none. */
enum err report_human_load(struct store *st, struct report *r,
			   struct errmsg *e) MUST_CHECK;
/* The table of human baselines beside the declared expert_minutes and
 * the run's own success (nothing when r->humans is NULL). */
void report_write_humans_term(const struct report *r, FILE *out);
/* Refused episodes over counted episodes (0 when none counted). */
double report_refusal_rate(const struct report *r);
/* The refusal counts a policy reads (policy_input.refusals). */
struct policy_refusals report_refusals(const struct report *r);

/* Load the journaled events of every episode, in episode order, until
 * their data exceeds max_bytes in total; later episodes are marked
 * omitted (the HTML then names the command that shows them). */
enum err report_load_transcripts(struct store *st, struct report *r,
				 size_t max_bytes, struct errmsg *e) MUST_CHECK;

void report_write_term(const struct report *r, FILE *out);
/* The JSON document of docs/FORMAT-report.md. Caller frees. */
char *report_json(const struct report *r);

/* ---- statistics and determination ---------------------------------------- */

#define REPORT_LEVEL 0.95        /* two-sided level of the descriptive intervals */

/* A report as input to the statistics. Tasks with no scored epoch are
 * left out (counted in n_excluded). Strings are borrowed from `rep`. */
struct report_srun {
	const struct report *rep;
	char name[24];               /* the run id in decimal: what a policy's
					`against` names */
	char suite[200];             /* suite id and digest prefix */
	struct stats_run run;
	struct stats_task *tasks;
	const char **tagv;           /* storage of the tasks' tag lists */
	char **tagcopy;              /* one split copy per task */
	size_t n_excluded;
};

struct report_group {            /* a tier or a category */
	char name[48];
	int tier;                    /* 0 for a category */
	const char *category;        /* NULL for a tier */
	bool ok;
	struct stats_summary s;
	char note[512];              /* why !ok */
};

struct report_refcmp {           /* candidate versus one reference */
	const struct report_srun *ref;
	bool has_summary;
	struct stats_summary s;      /* the reference on all its tasks */
	bool ok;
	struct stats_paired paired;  /* candidate - reference, common tasks */
	char note[512];              /* why !ok / !has_summary */
};

struct report_analysis {
	struct stats_boot_opts boot; /* level REPORT_LEVEL; policy's seed */
	struct report_srun cand;
	struct report_srun *refs;
	size_t nrefs;
	bool has_overall;
	struct stats_summary overall;
	char overall_note[512];
	struct report_group *tiers, *categories;
	size_t ntiers, ncategories;
	bool has_horizon;
	struct stats_horizon horizon;
	char horizon_note[512];
	struct stats_irt *irt;       /* candidate + references, or NULL */
	char irt_note[512];
	struct report_refcmp *cmps;  /* nrefs */
	int scaffolds;               /* distinct agent scaffolds for the model */
	long long token_budget;      /* per-episode token limit, 0 = unknown */
	char token_note[512];        /* where token_budget comes from */
	const struct policy *policy; /* borrowed; NULL: no determination */
	struct policy_result *result;/* NULL when no policy or no data */
	char result_note[512];       /* why result is NULL */
};

/* Statistics of cand against refs and, when p is given, its determination.
 * Degenerate data give notes, never errors or NaN; errors are a reference
 * equal to the candidate or given twice (ERR_INVAL) and a policy that
 * names what the data lacks ("FILE:LINE: ...", ERR_INVAL). The result
 * borrows cand, refs and p: keep them alive while it is used. */
enum err report_analyze(const struct report *cand,
			const struct report *const *refs, size_t nrefs,
			const struct policy *p, struct report_analysis **out,
			struct errmsg *e) MUST_CHECK;
void report_analysis_free(struct report_analysis *a);

/* Determination and statistics, then the table of report_write_term. */
void report_write_analysis_term(const struct report_analysis *a, FILE *out);
/* report_json plus "determination" and "statistics" (a may be NULL). */
/* The in-toto Statement of a signed result (report_statement.c): scores,
 * determination, policy digest, a Merkle commitment to the task set, the
 * harness version; no task ids or text. Caller frees. */
char *report_statement(const struct report *r, const struct report_analysis *a,
		       const char *policy_sha256, const char *report_sha256);
char *report_json_full(const struct report *r, const struct report_analysis *a);
/* SHA-256 (hex) of the run's review log (report_validity.c): what a
 * signed result commits to (predicate.reviews.digest), so that a result
 * signed before an invalidation or re-score no longer verifies as current
 * (assay verify --current). */
void report_reviews_digest(const struct report *r, char hex[65]);
/* Markdown and self-contained HTML documents. Hostile text from tasks,
 * models and transcripts is escaped. ERR_LIMIT past REPORT_MAX_DOC. */
#define REPORT_MAX_DOC ((size_t)256 << 20)
enum err report_markdown(const struct report_analysis *a, char **out,
			 struct errmsg *e) MUST_CHECK;
enum err report_html(const struct report_analysis *a, char **out,
		     struct errmsg *e) MUST_CHECK;
/* One chart of the HTML report as a standalone SVG document (for the
 * program's pages): categories, tiers, horizon, refs, diffs, irt or
 * outcomes; a chart without data says why in its place. ERR_INVAL for
 * another name. */
bool report_chart_known(const char *name);
enum err report_chart_svg(const struct report_analysis *a, const char *name,
			  char **out, struct errmsg *e) MUST_CHECK;

/* ---- export (docs/EXPORT.md) ------------------------------------------------ */

struct report_export_opts {
	bool withhold;    /* write no task text (a sealed suite exported
			     without --include-content) */
};

/* The run as an Inspect eval log (.eval zip) at path, written to a
 * temporary file and renamed. Needs report_load_transcripts first (an
 * episode without one gets no messages). ERR_IO naming the file. */
enum err report_export_inspect(const struct report *r,
			       const struct report_export_opts *o,
			       const char *path, struct errmsg *e) MUST_CHECK;
/* One JSON object per episode attempt, flat columns, no task text. */
enum err report_export_jsonl(const struct report *r, FILE *out,
			     struct errmsg *e) MUST_CHECK;

#endif
