/*
 * report_svgdoc.c - one chart of the HTML report as a standalone SVG
 * document, for the program's pages (web/, issue 17), which import it
 * into the page as nodes and style it with the report's chart classes
 * (web/app.css). The drawing is report_charts.c's, so the pages and the
 * report never disagree; every text in it is escaped by out_html.
 */
#include "report/report.h"

#include <string.h>

#include "report/report_int.h"
#include "base/banned.h"

/* The charts by the names the pages ask for. */
static const char *const chart_names[] = {
	"categories", "tiers", "horizon", "refs", "diffs", "irt", "outcomes", NULL,
};

bool report_chart_known(const char *name)
{
	for (size_t i = 0; name && chart_names[i]; i++)
		if (!strcmp(name, chart_names[i]))
			return true;
	return false;
}

/* Why the chart has nothing to draw, or NULL when it has data. */
static const char *missing(const struct report_analysis *a, const char *name)
{
	if (!strcmp(name, "horizon") && !a->has_horizon)
		return *a->horizon_note ? a->horizon_note : "no time horizon";
	if ((!strcmp(name, "refs") || !strcmp(name, "diffs")) && !a->nrefs)
		return "no reference runs";
	if (!strcmp(name, "refs") && !a->has_overall)
		return *a->overall_note ? a->overall_note : "no overall figures";
	if (!strcmp(name, "irt") && !a->irt)
		return *a->irt_note ? a->irt_note : "no item response fit";
	return NULL;
}

/* Draws the chart, or a one-line SVG saying why there is none. */
static void draw(struct out *o, const struct report_analysis *a, const char *name)
{
	const char *why = missing(a, name);

	if (why) {
		svg_open(o, 640, 40, name);
		svg_text(o, 8, 24, "start", "note", why);
		svg_close(o);
	} else if (!strcmp(name, "categories")) {
		report_chart_groups(o, "Solve rate per category", a->categories, a->ncategories);
	} else if (!strcmp(name, "tiers")) {
		report_chart_groups(o, "Solve rate per difficulty tier", a->tiers, a->ntiers);
	} else if (!strcmp(name, "horizon")) {
		report_chart_horizon(o, a);
	} else if (!strcmp(name, "refs")) {
		report_chart_refs(o, a);
	} else if (!strcmp(name, "diffs")) {
		report_chart_diffs(o, a);
	} else if (!strcmp(name, "irt")) {
		report_chart_irt(o, a);
	} else {
		report_chart_outcomes(o, a->cand.rep);
	}
}

enum err report_chart_svg(const struct report_analysis *a, const char *name,
			  char **doc, struct errmsg *e)
{
	struct out o;

	if (!report_chart_known(name))
		return err_set(e, ERR_INVAL, "no chart named '%s' (categories, tiers, "
			       "horizon, refs, diffs, irt, outcomes)", name ? name : "");
	out_init(&o, REPORT_MAX_DOC);
	out_puts(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	draw(&o, a, name);
	return out_finish(&o, doc, e);
}
