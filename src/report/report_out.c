/*
 * report_out.c - a capped document buffer and escaping for HTML and
 * Markdown. Everything that comes from a task, a model or a transcript
 * is hostile: it passes through report_out_html / report_out_md, never report_out_puts.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/safetext.h"
#include "base/util.h"
#include "base/banned.h"

void report_out_init(struct out *o, size_t max)
{
	buf_init(&o->b, max);
	o->rc = ERR_OK;
}

void report_out_puts(struct out *o, const char *s)
{
	if (!o->rc && s)
		o->rc = buf_adds(&o->b, s);
}

void report_out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->rc)
		return;
	va_start(ap, fmt);
	o->rc = buf_vprintf(&o->b, fmt, ap);
	va_end(ap);
}

static void add(struct out *o, const char *p, size_t n)
{
	if (!o->rc && n)
		o->rc = buf_add(&o->b, p, n);
}

static const char *html_entity(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	case '\n': case '\t': return NULL;
	default: return c < 0x20 || c == 0x7f ? "\xef\xbf\xbd" : NULL;
	}
}

static void html_clean(struct out *o, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *ent = html_entity((unsigned char)s[i]);
		if (!ent)
			continue;
		add(o, s + start, i - start);
		report_out_puts(o, ent);
		start = i + 1;
	}
	add(o, s + start, n - start);
}

void report_out_html(struct out *o, const char *s)
{
	size_t n;
	char *clean;

	if (!s || o->rc)
		return;
	/* the same characters a terminal gets escaped (base/safetext.h):
	 * a bidi override reorders a page as it does a terminal line */
	clean = safe_text(s, strlen(s), SAFE_MULTILINE, &n);
	html_clean(o, clean, n);
	free(clean);
}

static const char *md_escape(unsigned char c)
{
	switch (c) {
	case '|': return "\\|";
	case '`': return "\\`";
	case '*': return "\\*";
	case '_': return "\\_";
	case '[': return "\\[";
	case ']': return "\\]";
	case '\\': return "\\\\";
	case '#': return "\\#";
	case '\n': case '\r': case '\t': return " ";
	default: return NULL;
	}
}

void report_out_md(struct out *o, const char *s)
{
	size_t n, start = 0;
	char *clean;

	if (!s || o->rc)
		return;
	clean = safe_text(s, strlen(s), SAFE_MULTILINE, &n);
	for (size_t i = 0; i < n; i++) {
		const char *esc = md_escape((unsigned char)clean[i]);
		char one[2] = { clean[i], 0 };
		bool quote = clean[i] == '"' || clean[i] == '\'';
		if (!esc && (quote || !html_entity((unsigned char)clean[i])))
			continue;
		add(o, clean + start, i - start);
		if (esc)
			report_out_puts(o, esc);
		else
			html_clean(o, one, 1);
		start = i + 1;
	}
	add(o, clean + start, n - start);
	free(clean);
}

enum err report_out_finish(struct out *o, char **doc_out, struct errmsg *e)
{
	size_t max = o->b.max;

	if (o->rc) {
		buf_release(&o->b);
		return err_set(e, o->rc, "the report exceeds %zu bytes", max);
	}
	*doc_out = buf_detach(&o->b, NULL);
	return ERR_OK;
}

double report_finite(double v)
{
	return isfinite(v) ? v : 0.0;
}

void report_fmt_interval(const struct stats_interval *iv, int digits,
			 char *out, size_t n)
{
	snprintf(out, n, "%.*f [%.*f, %.*f]", digits, report_finite(iv->est),
		 digits, report_finite(iv->lo), digits, report_finite(iv->hi));
}

static int cmp_outcome(const void *a, const void *b)
{
	const struct report_outcome *x = a, *y = b;

	if (x->n != y->n)
		return y->n - x->n;
	return strcmp(x->name, y->name);
}

size_t report_outcome_totals(const struct report *r, struct report_outcome *out,
			     size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_tasks; i++)
		for (size_t j = 0; j < r->rows[i].n_outcomes; j++) {
			const struct report_outcome *o = &r->rows[i].outcomes[j];
			size_t k = 0;
			while (k < n && strcmp(out[k].name, o->name))
				k++;
			if (k == n && n == max)
				continue;
			if (k == n) {
				memset(&out[n], 0, sizeof(out[n]));
				n++;
			}
			snprintf(out[k].name, sizeof(out[k].name), "%s", o->name);
			out[k].n += o->n;
		}
	qsort(out, n, sizeof(*out), cmp_outcome);
	return n;
}

const char *report_verdict_value(const struct policy_rule_result *rr,
				 char *buf, size_t n)
{
	int digits = rr->rule->type == RULE_HORIZON ? 1 :
		     rr->rule->type == RULE_EVIDENCE ? 0 : 3;

	if (rr->verdict == VERDICT_NOT_APPLICABLE ||
	    (rr->verdict == VERDICT_NOT_EVALUABLE &&
	     (rr->rule->type != RULE_INTEGRITY || rr->value.level <= 0)))
		snprintf(buf, n, "-");
	else if (rr->rule->type == RULE_EVIDENCE)
		snprintf(buf, n, "%.0f successes", report_finite(rr->value.est));
	else if (rr->rule->type == RULE_INTEGRITY)
		snprintf(buf, n, "%.1f%% lost", 100 * report_finite(rr->value.est));
	else
		report_fmt_interval(&rr->value, digits, buf, n);
	return buf;
}
