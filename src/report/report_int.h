/*
 * report_int.h - shared inside src/report only: an output buffer that
 * remembers its first failure, escaping, number formatting, the SVG
 * primitives of the HTML charts, and elicitation helpers.
 */
#ifndef ASSAY_REPORT_INT_H
#define ASSAY_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "report/report.h"

/* report_review.c: a refusal (the detector's or the judge's) or a
 * shortcut signal: listed for human review */
bool report_review_flagged(const struct report_review *rv);

/* A document under construction. Appends after the first failure (the
 * cap) are dropped; report_out_finish reports it. */
struct out {
	struct buf b;
	enum err rc;
};

void report_out_init(struct out *o, size_t max);
void report_out_puts(struct out *o, const char *s);
void report_out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text escaped for HTML element content and quoted attribute values:
 * & < > " ' become entities, invalid UTF-8 and control characters (but
 * newline and tab) become U+FFFD. NULL prints as "". */
void report_out_html(struct out *o, const char *s);
/* Text escaped for a Markdown table cell (also HTML-escaped, newlines
 * become spaces, | ` * _ [ ] \ # are backslash-escaped). */
void report_out_md(struct out *o, const char *s);
/* Hand over the document (*doc_out) or return the failure. */
enum err report_out_finish(struct out *o, char **doc_out,
			   struct errmsg *e) MUST_CHECK;

/* Finite number for printing (NaN/inf -> 0: the statistics promise
 * finite values; this is the last line of defence). */
double report_finite(double v);

/* report_validity.c: the attempts by validity and the review log, one
 * line each, made inert for a terminal (report_validity_lines_free). */
char **report_validity_lines(const struct report *r, size_t *n_out);
void report_validity_lines_free(char **v, size_t n);


/* Distinct agent scaffolds ("agent" of the stored configuration, default
 * "react") among the runs that used the model of runs[0]. */
int report_scaffolds(const struct report *const *runs, size_t n);
/* The agent scaffold of a run's stored configuration ("react" when the
 * run predates the choice). Caller frees. */
char *report_scaffold(const struct report *r);
/* True when the run's model had no price in the price table: its costs
 * read 0 and are unknown. */
bool report_price_unknown(const struct report *r);
struct policy;
/* How a report names the policy's file: by its content digest
 * ("sha256 0123456789abcdef"), never by a path on this machine. */
void report_policy_label(const struct policy *p, char *out, size_t n);
/* The smallest per-episode token limit of the run's tasks, read from the
 * suite directory the run recorded; 0 (with the reason in note) when that
 * suite is not available. */
long long report_token_budget(const struct report *r, char *note, size_t n);

/* ---- SVG ------------------------------------------------------------------ */

/* A linear (or log2) map from data to pixels. */
struct svg_scale {
	double d0, d1;               /* data domain */
	double p0, p1;               /* pixel range */
	bool log2;
};
double report_svg_map(const struct svg_scale *s, double v);

/* An <svg> element of w x h with role="img" and an accessible title. */
void report_svg_open(struct out *o, int w, int h, const char *title);
void report_svg_close(struct out *o);
void report_svg_line(struct out *o, double x1, double y1, double x2, double y2,
		     const char *cls);
void report_svg_rect(struct out *o, double x, double y, double w, double h,
		     const char *cls);
/* A data mark: circle with a <title> tooltip (escaped). */
void report_svg_dot(struct out *o, double cx, double cy, double r,
		    const char *cls, const char *tip);
/* anchor: "start", "middle" or "end"; text is escaped. */
void report_svg_text(struct out *o, double x, double y, const char *anchor,
		     const char *cls, const char *text);
/* A horizontal interval (whisker) with end caps from x0 to x1 at y. */
void report_svg_whisker(struct out *o, double x0, double x1, double y, const char *cls);
/* An x axis at y with grid lines up to top and labelled ticks (digits
 * after the decimal point). */
void report_svg_xaxis(struct out *o, const struct svg_scale *s, double y,
		      double top, const double *ticks, size_t n, int digits);

/* Scored epochs by outcome over all tasks, most frequent first. */
size_t report_outcome_totals(const struct report *r, struct report_outcome *out,
			     size_t max);
/* A rule's value as text: an interval, a count of successes, or "-"
 * when the rule was not evaluated. Returns buf. */
const char *report_verdict_value(const struct policy_rule_result *rr,
				 char *buf, size_t n);

/* ---- the HTML charts (report_charts.c) ------------------------------------- */

void report_chart_groups(struct out *o, const char *title,
			 const struct report_group *g, size_t n);
/* Needs a->has_horizon. */
void report_chart_horizon(struct out *o, const struct report_analysis *a);
/* Need a->has_overall. */
void report_chart_refs(struct out *o, const struct report_analysis *a);
void report_chart_diffs(struct out *o, const struct report_analysis *a);
/* Needs a->irt. */
void report_chart_irt(struct out *o, const struct report_analysis *a);
void report_chart_outcomes(struct out *o, const struct report *r);

/* Interval text "0.42 [0.31, 0.55]". */
void report_fmt_interval(const struct stats_interval *iv, int digits,
			 char *out, size_t n);

#endif
