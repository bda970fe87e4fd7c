/*
 * report_html_int.h - pieces of the HTML report shared by report_html.c
 * and report_html_tasks.c only.
 */
#ifndef ASSAY_REPORT_HTML_INT_H
#define ASSAY_REPORT_HTML_INT_H

#include "report/report_int.h"

/* Cap on one journaled text shown in a transcript (the rest is cut and
 * marked; `assay show` prints it whole). */
#define REPORT_HTML_TEXT_CAP 8000

void report_html_ref_row(struct out *o, const struct report_refcmp *c);
/* Elicitation settings of the run, tokens, cost and time, failures. */
void report_html_usage(struct out *o, const struct report_analysis *a);
/* The per-task table; rows are anchored task-N, episodes link to ep-ID. */
void report_html_tasks(struct out *o, const struct report *r);
/* One section per episode with its journaled events (when loaded). */
void report_html_transcripts(struct out *o, const struct report *r);

#endif
