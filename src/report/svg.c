/*
 * svg.c - the few SVG primitives the HTML charts are drawn with. Styling
 * is by class (the stylesheet is in report_html.c) so charts print in
 * black and white as well as on screen. Coordinates are clamped to the
 * drawing so a stray value can never produce NaN or a huge path.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdio.h>
#include "base/banned.h"

static double clampd(double v, double lo, double hi)
{
	if (!isfinite(v))
		return lo;
	return v < lo ? lo : v > hi ? hi : v;
}

double report_svg_map(const struct svg_scale *s, double v)
{
	double d0 = s->d0, d1 = s->d1, t;

	if (s->log2) {
		d0 = log2(d0 > 0 ? d0 : 1e-9);
		d1 = log2(d1 > 0 ? d1 : 1e-9);
		v = log2(v > 0 ? v : 1e-9);
	}
	if (!(d1 != d0))
		return (s->p0 + s->p1) / 2;
	t = (v - d0) / (d1 - d0);
	return s->p0 + clampd(t, -0.05, 1.05) * (s->p1 - s->p0);
}

void report_svg_open(struct out *o, int w, int h, const char *title)
{
	report_out_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
			  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
			  "aria-label=\"", w, h, w, h);
	report_out_html(o, title);
	report_out_puts(o, "\"><title>");
	report_out_html(o, title);
	report_out_puts(o, "</title>\n");
}

void report_svg_close(struct out *o)
{
	report_out_puts(o, "</svg>\n");
}

void report_svg_line(struct out *o, double x1, double y1, double x2, double y2,
		     const char *cls)
{
	report_out_printf(o,
			  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			  "class=\"%s\"/>\n",
			  clampd(x1, -1e4, 1e4), clampd(y1, -1e4, 1e4),
			  clampd(x2, -1e4, 1e4), clampd(y2, -1e4, 1e4), cls);
}

void report_svg_rect(struct out *o, double x, double y, double w, double h,
		     const char *cls)
{
	report_out_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			  "class=\"%s\"/>\n", clampd(x, -1e4, 1e4), clampd(y, -1e4, 1e4),
			  clampd(w, 0, 1e4), clampd(h, 0, 1e4), cls);
}

void report_svg_dot(struct out *o, double cx, double cy, double r,
		    const char *cls, const char *tip)
{
	report_out_printf(o,
			  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" class=\"%s\">"
			  "<title>",
			  clampd(cx, -1e4, 1e4), clampd(cy, -1e4, 1e4),
			  clampd(r, 0, 100), cls);
	report_out_html(o, tip);
	report_out_puts(o, "</title></circle>\n");
}

void report_svg_text(struct out *o, double x, double y, const char *anchor,
		     const char *cls, const char *text)
{
	report_out_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">",
			  clampd(x, -1e4, 1e4), clampd(y, -1e4, 1e4), anchor, cls);
	report_out_html(o, text);
	report_out_puts(o, "</text>\n");
}

void report_svg_whisker(struct out *o, double x0, double x1, double y,
			const char *cls)
{
	report_svg_line(o, x0, y, x1, y, cls);
	report_svg_line(o, x0, y - 4, x0, y + 4, cls);
	report_svg_line(o, x1, y - 4, x1, y + 4, cls);
}

void report_svg_xaxis(struct out *o, const struct svg_scale *s, double y,
		      double top, const double *ticks, size_t n, int digits)
{
	report_svg_line(o, s->p0, y, s->p1, y, "axis");
	for (size_t i = 0; i < n; i++) {
		double x = report_svg_map(s, ticks[i]);
		char label[32];
		snprintf(label, sizeof(label), "%.*f", digits, ticks[i]);
		report_svg_line(o, x, top, x, y, "grid");
		report_svg_line(o, x, y, x, y + 4, "axis");
		report_svg_text(o, x, y + 16, "middle", "tick", label);
	}
}
