/*
 * report_json_int.h - JSON pieces of the report, shared by report_json.c
 * and report_json_stats.c only (json_t never leaves src/report).
 */
#ifndef ASSAY_REPORT_JSON_INT_H
#define ASSAY_REPORT_JSON_INT_H

#include <jansson.h>

#include "report/report.h"

json_t *report_json_determination(const struct report_analysis *a);
json_t *report_json_statistics(const struct report_analysis *a);
/* The attempts by validity and the review log (report_validity.c). */
json_t *report_json_validity(const struct report *r);
/* report_human.c: "human_baseline" (r->humans set) */
json_t *report_json_humans(const struct report *r);

#endif
