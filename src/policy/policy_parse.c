/*
 * policy_parse.c - policy YAML (docs/FORMAT-policy.md) to struct policy.
 *
 * Every value is checked for type and range, unknown keys are rejected
 * (a misspelt key must not silently drop a rule), and every message
 * carries FILE:LINE from src/base/ytree.
 */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/ytree.h"
#include "policy_int.h"
#include "base/num.h"
#include "base/banned.h"

struct pctx {
	const char *file;
	struct errmsg *e;
};

static enum err bad(const struct pctx *c, const struct ynode *n, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static enum err bad(const struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(c->e, ERR_PARSE, "%s:%d: %s", c->file, n ? n->line : 1, msg);
}

static enum err want_kind(const struct pctx *c, const struct ynode *n,
			  enum ynode_kind k, const char *what)
{
	if (n->kind != k)
		return bad(c, n, "'%s' must be %s, not %s", what, ynode_kind_name(k),
			   ynode_kind_name(n->kind));
	return ERR_OK;
}

static enum err check_keys(const struct pctx *c, const struct ynode *m,
			   const char *const *allowed, const char *where)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->pairs[i].key->str;
		size_t j = 0;
		while (allowed[j] && strcmp(allowed[j], k) != 0)
			j++;
		if (!allowed[j])
			return bad(c, m->pairs[i].key, "unknown key '%s' in %s", k, where);
	}
	return ERR_OK;
}

static enum err get_str(const struct pctx *c, const struct ynode *n,
			const char *what, char **out)
{
	enum err rc = want_kind(c, n, YNODE_SCALAR, what);

	if (rc)
		return rc;
	if (yscalar_is_null(n) || !*n->str)
		return bad(c, n, "'%s' must not be empty", what);
	free(*out);
	*out = xstrdup(n->str);
	return ERR_OK;
}

static enum err get_double(const struct pctx *c, const struct ynode *n,
			   const char *what, double lo, double hi, double *out)
{
	double v;
	enum err rc = want_kind(c, n, YNODE_SCALAR, what);

	if (rc)
		return rc;
	if (!num_double(n->str, -DBL_MAX, DBL_MAX, &v))
		return bad(c, n, "'%s' must be a number, not '%s'", what, n->str);
	if (v < lo || v > hi)
		return bad(c, n, "'%s' is %g, must be in [%g, %g]", what, v, lo, hi);
	*out = v;
	return ERR_OK;
}

static enum err get_int(const struct pctx *c, const struct ynode *n,
			const char *what, long long lo, long long hi, long long *out)
{
	long long v;
	enum err rc = want_kind(c, n, YNODE_SCALAR, what);

	if (rc)
		return rc;
	if (!num_ll(n->str, LLONG_MIN, LLONG_MAX, &v))
		return bad(c, n, "'%s' must be an integer, not '%s'", what, n->str);
	if (v < lo || v > hi)
		return bad(c, n, "'%s' is %lld, must be in [%lld, %lld]", what, v, lo, hi);
	*out = v;
	return ERR_OK;
}

static enum err get_int32(const struct pctx *c, const struct ynode *n,
			  const char *what, int lo, int hi, int *out)
{
	long long v;
	enum err rc = get_int(c, n, what, lo, hi, &v);

	if (rc == ERR_OK)
		*out = (int)v;
	return rc;
}

static enum err get_bool(const struct pctx *c, const struct ynode *n,
			 const char *what, bool *out)
{
	enum err rc = want_kind(c, n, YNODE_SCALAR, what);

	if (rc)
		return rc;
	if (strcmp(n->str, "true") && strcmp(n->str, "false"))
		return bad(c, n, "'%s' must be true or false", what);
	*out = n->str[0] == 't';
	return ERR_OK;
}

static enum err list_node(const struct pctx *c, const struct ynode *n,
			  const char *what)
{
	enum err rc = want_kind(c, n, YNODE_SEQ, what);

	if (rc == ERR_OK && n->n > POLICY_MAX_LIST)
		return err_set(c->e, ERR_LIMIT, "%s:%d: '%s' has more than %d items",
			       c->file, n->line, what, POLICY_MAX_LIST);
	return rc;
}

static enum err get_str_list(const struct pctx *c, const struct ynode *n,
			     const char *what, char ***out, size_t *nout)
{
	enum err rc = list_node(c, n, what);

	if (rc)
		return rc;
	*out = xcalloc(n->n + 1, sizeof(**out));
	for (size_t i = 0; i < n->n && !rc; i++) {
		rc = get_str(c, n->items[i], what, &(*out)[i]);
		*nout = i + !rc;
	}
	return rc;
}

static enum err get_tiers(const struct pctx *c, const struct ynode *n,
			  struct policy_select *s)
{
	enum err rc = list_node(c, n, "tiers");

	if (rc)
		return rc;
	s->tiers = xcalloc(n->n + 1, sizeof(*s->tiers));
	for (size_t i = 0; i < n->n && !rc; i++) {
		rc = get_int32(c, n->items[i], "tiers", 1, 5, &s->tiers[i]);
		s->ntiers = i + !rc;
	}
	return rc;
}

static enum err parse_select(const struct pctx *c, const struct ynode *n,
			     struct policy_select *s)
{
	static const char *const keys[] = { "tiers", "categories", "tags",
					    "min_minutes", NULL };
	const struct ynode *v;
	enum err rc = want_kind(c, n, YNODE_MAP, "select");

	if (rc == ERR_OK)
		rc = check_keys(c, n, keys, "select");
	if (rc == ERR_OK && (v = ymap_get(n, "tiers")))
		rc = get_tiers(c, v, s);
	if (rc == ERR_OK && (v = ymap_get(n, "categories")))
		rc = get_str_list(c, v, "categories", &s->categories, &s->ncategories);
	if (rc == ERR_OK && (v = ymap_get(n, "tags")))
		rc = get_str_list(c, v, "tags", &s->tags, &s->ntags);
	if (rc == ERR_OK && (v = ymap_get(n, "min_minutes")))
		rc = get_double(c, v, "min_minutes", 0, 1e7, &s->min_minutes);
	return rc;
}

/* "pass@1", "pass@K" or (frontier only) "theta". */
static enum err parse_metric(const struct pctx *c, const struct ynode *n,
			     struct policy_rule *r)
{
	long long k;
	char *end;
	enum err rc = want_kind(c, n, YNODE_SCALAR, "metric");

	if (rc)
		return rc;
	if (strcmp(n->str, "theta") == 0 && r->type == RULE_FRONTIER) {
		r->metric = METRIC_THETA;
		return ERR_OK;
	}
	if (strncmp(n->str, "pass@", 5) != 0 || !isdigit((unsigned char)n->str[5]))
		return bad(c, n, "unknown metric '%s' (pass@1, pass@K%s)", n->str,
			   r->type == RULE_FRONTIER ? ", theta" : "");
	k = strtoll(n->str + 5, &end, 10);
	if (*end || k < 1 || k > STATS_MAX_EPOCHS)
		return bad(c, n, "bad k in metric '%s'", n->str);
	if (k > 1 && r->type == RULE_FRONTIER)
		return bad(c, n, "frontier rules compare pass@1 or theta, not '%s'", n->str);
	r->metric = k == 1 ? METRIC_PASS1 : METRIC_PASSK;
	r->k = (int)k;
	return ERR_OK;
}

static enum err parse_interval(const struct pctx *c, const struct ynode *n,
			       struct policy_rule *r)
{
	enum err rc = want_kind(c, n, YNODE_SCALAR, "interval");

	if (rc)
		return rc;
	if (strcmp(n->str, "bootstrap") == 0)
		r->interval = INTERVAL_BOOTSTRAP;
	else if (strcmp(n->str, "wilson") == 0 && r->type == RULE_ABSOLUTE)
		r->interval = INTERVAL_WILSON;
	else if (strcmp(n->str, "clustered") == 0 && r->type == RULE_FRONTIER)
		r->interval = INTERVAL_CLUSTERED;
	else
		return bad(c, n, "interval '%s' not allowed here (%s)", n->str,
			   r->type == RULE_ABSOLUTE ? "bootstrap, wilson" :
			   "bootstrap, clustered");
	return ERR_OK;
}

struct type_info {
	const char *name;
	enum policy_rule_type type;
	const char *const *keys;  /* besides name, type, required, confidence */
};

static const char *const abs_keys[] = { "select", "metric", "interval", "threshold", NULL };
static const char *const fr_keys[] = { "select", "metric", "interval", "margin", "against", NULL };
static const char *const cro_keys[] = { "rule", "budget_epochs", NULL };
static const char *const hz_keys[] = { "select", "quantile", "min_minutes", NULL };
static const char *const ev_keys[] = { "select", "min_successes", NULL };
static const char *const in_keys[] = { "max_rate", NULL };

static const struct type_info types[] = {
	{ "absolute", RULE_ABSOLUTE, abs_keys },
	{ "frontier", RULE_FRONTIER, fr_keys },
	{ "cannot-rule-out", RULE_CANNOT_RULE_OUT, cro_keys },
	{ "horizon", RULE_HORIZON, hz_keys },
	{ "evidence", RULE_EVIDENCE, ev_keys },
	{ "integrity", RULE_INTEGRITY, in_keys },
};

static const struct type_info *find_type(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, s) == 0)
			return &types[i];
	return NULL;
}

/* Keys of this rule type plus the common ones. */
static enum err rule_keys(const struct pctx *c, const struct ynode *n,
			  const struct type_info *t)
{
	const char *all[16] = { "name", "type", "required", "confidence" };
	size_t k = 4;

	for (size_t i = 0; t->keys[i]; i++)
		all[k++] = t->keys[i];
	all[k] = NULL;
	return check_keys(c, n, all, t->name);
}

static enum err required_key(const struct pctx *c, const struct ynode *m,
			     const char *key, const struct ynode **out)
{
	*out = ymap_get(m, key);
	if (!*out)
		return bad(c, m, "missing key '%s'", key);
	return ERR_OK;
}

static enum err parse_absolute(const struct pctx *c, const struct ynode *n,
			       struct policy_rule *r)
{
	const struct ynode *v;
	enum err rc = required_key(c, n, "threshold", &v);

	if (rc == ERR_OK)
		rc = get_double(c, v, "threshold", 0, 1, &r->threshold);
	if (rc == ERR_OK && (v = ymap_get(n, "metric")))
		rc = parse_metric(c, v, r);
	if (rc == ERR_OK && (v = ymap_get(n, "interval")))
		rc = parse_interval(c, v, r);
	return rc;
}

static enum err parse_frontier(const struct pctx *c, const struct ynode *n,
			       struct policy_rule *r)
{
	const struct ynode *v;
	enum err rc = ERR_OK;

	r->interval = INTERVAL_CLUSTERED;
	if ((v = ymap_get(n, "metric")))
		rc = parse_metric(c, v, r);
	if (rc == ERR_OK && (v = ymap_get(n, "interval")))
		rc = parse_interval(c, v, r);
	if (rc == ERR_OK && (v = ymap_get(n, "margin")))
		rc = get_double(c, v, "margin", -10, 10, &r->margin);
	if (rc == ERR_OK && (v = ymap_get(n, "against")))
		rc = get_str_list(c, v, "against", &r->against, &r->nagainst);
	return rc;
}

static enum err parse_cro(const struct pctx *c, const struct ynode *n,
			  struct policy_rule *r)
{
	const struct ynode *v;
	enum err rc = required_key(c, n, "rule", &v);

	if (rc == ERR_OK)
		rc = get_str(c, v, "rule", &r->of);
	if (rc == ERR_OK)
		rc = required_key(c, n, "budget_epochs", &v);
	if (rc == ERR_OK)
		rc = get_int32(c, v, "budget_epochs", 1, STATS_MAX_EPOCHS, &r->budget_epochs);
	return rc;
}

static enum err parse_horizon(const struct pctx *c, const struct ynode *n,
			      struct policy_rule *r)
{
	const struct ynode *v;
	enum err rc = required_key(c, n, "min_minutes", &v);

	if (rc == ERR_OK)
		rc = get_double(c, v, "min_minutes", 1e-3, 1e7, &r->min_minutes);
	r->quantile = 0.8;
	if (rc == ERR_OK && (v = ymap_get(n, "quantile"))) {
		rc = get_double(c, v, "quantile", 0, 1, &r->quantile);
		if (rc == ERR_OK && r->quantile != 0.5 && r->quantile != 0.8)
			rc = bad(c, v, "quantile must be 0.5 or 0.8 (H50, H80)");
	}
	return rc;
}

static enum err parse_evidence(const struct pctx *c, const struct ynode *n,
			       struct policy_rule *r)
{
	const struct ynode *v = ymap_get(n, "min_successes");

	r->min_successes = 1;
	if (!ymap_get(n, "select"))
		return bad(c, n, "evidence rule needs 'select' (e.g. tags: [zero-day])");
	if (v)
		return get_int32(c, v, "min_successes", 1, 1000000, &r->min_successes);
	return ERR_OK;
}

static enum err parse_integrity(const struct pctx *c, const struct ynode *n,
				struct policy_rule *r)
{
	const struct ynode *v = ymap_get(n, "max_rate");

	r->max_rate = 0.05;
	if (v)
		return get_double(c, v, "max_rate", 0, 1, &r->max_rate);
	return ERR_OK;
}

static enum err parse_type_fields(const struct pctx *c, const struct ynode *n,
				  struct policy_rule *r)
{
	switch (r->type) {
	case RULE_ABSOLUTE: return parse_absolute(c, n, r);
	case RULE_FRONTIER: return parse_frontier(c, n, r);
	case RULE_CANNOT_RULE_OUT: return parse_cro(c, n, r);
	case RULE_HORIZON: return parse_horizon(c, n, r);
	case RULE_EVIDENCE: return parse_evidence(c, n, r);
	case RULE_INTEGRITY: return parse_integrity(c, n, r);
	}
	return bad(c, n, "unknown rule type");
}

static enum err check_name(const struct pctx *c, const struct ynode *n,
			   const char *s)
{
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
			return bad(c, n, "rule name '%s' must match [a-z0-9-]+", s);
	if (strlen(s) > 64)
		return bad(c, n, "rule name longer than 64 characters");
	return ERR_OK;
}

static enum err parse_common(const struct pctx *c, const struct ynode *n,
			     struct policy_rule *r, const struct type_info **t)
{
	const struct ynode *v;
	enum err rc = required_key(c, n, "name", &v);

	if (rc == ERR_OK)
		rc = get_str(c, v, "name", &r->name);
	if (rc == ERR_OK)
		rc = check_name(c, v, r->name);
	if (rc == ERR_OK)
		rc = required_key(c, n, "type", &v);
	if (rc == ERR_OK && v->kind != YNODE_SCALAR)
		rc = bad(c, v, "'type' must be a scalar");
	if (rc == ERR_OK && !(*t = find_type(v->str)))
		rc = bad(c, v, "unknown rule type '%s' (absolute, frontier, "
			 "cannot-rule-out, horizon, evidence, integrity)", v->str);
	if (rc == ERR_OK)
		rc = rule_keys(c, n, *t);
	if (rc == ERR_OK && (v = ymap_get(n, "required")))
		rc = get_bool(c, v, "required", &r->required);
	if (rc == ERR_OK && (v = ymap_get(n, "confidence")))
		rc = get_double(c, v, "confidence", 0.5, 0.9999, &r->confidence);
	if (rc == ERR_OK && (v = ymap_get(n, "select")))
		rc = parse_select(c, v, &r->select);
	return rc;
}

static enum err parse_rule(const struct pctx *c, const struct ynode *n,
			   const struct policy *p, struct policy_rule *r)
{
	const struct type_info *t = NULL;
	enum err rc = want_kind(c, n, YNODE_MAP, "rules item");

	r->line = n->line;
	r->required = true;
	r->confidence = p->confidence;
	r->metric = METRIC_PASS1;
	r->k = 1;
	if (rc == ERR_OK)
		rc = parse_common(c, n, r, &t);
	if (rc == ERR_OK) {
		r->type = t->type;
		rc = parse_type_fields(c, n, r);
	}
	return rc;
}

static void select_release(struct policy_select *s)
{
	free(s->tiers);
	strv_free(s->categories);
	strv_free(s->tags);
}

static void rule_release(struct policy_rule *r)
{
	free(r->name);
	free(r->of);
	strv_free(r->against);
	select_release(&r->select);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	free(p->path);
	free(p->id);
	free(p);
}

static enum err parse_boot(const struct pctx *c, const struct ynode *n,
			   struct policy *p)
{
	static const char *const keys[] = { "resamples", "seed", NULL };
	const struct ynode *v;
	long long x;
	enum err rc = want_kind(c, n, YNODE_MAP, "bootstrap");

	if (rc == ERR_OK)
		rc = check_keys(c, n, keys, "bootstrap");
	if (rc == ERR_OK && (v = ymap_get(n, "resamples"))) {
		rc = get_int(c, v, "resamples", 100, STATS_MAX_RESAMPLES, &x);
		p->boot.resamples = (unsigned)x;
	}
	if (rc == ERR_OK && (v = ymap_get(n, "seed"))) {
		rc = get_int(c, v, "seed", 0, INT64_MAX, &x);
		p->boot.seed = (uint64_t)x;
	}
	return rc;
}

/* refusals: phrase (default) | judge | either */
static enum err get_refusal_source(const struct pctx *c, const struct ynode *v,
				   enum policy_refusal_source *out)
{
	static const char *const names[] = { "phrase", "judge", "either" };
	char *s = NULL;
	enum err rc = get_str(c, v, "refusals", &s);

	for (size_t i = 0; rc == ERR_OK && i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum policy_refusal_source)i;
			free(s);
			return ERR_OK;
		}
	if (rc == ERR_OK)
		rc = bad(c, v, "'refusals' must be 'phrase', 'judge' or "
			 "'either', not '%s'", s);
	free(s);
	return rc;
}

static enum err parse_elicitation(const struct pctx *c, const struct ynode *n,
				  struct policy *p)
{
	static const char *const keys[] = { "min_epochs", "min_scaffolds",
					    "min_token_budget",
					    "max_refusal_rate", "refusals",
					    NULL };
	struct policy_elicitation *m = &p->elicitation;
	const struct ynode *v;
	enum err rc = want_kind(c, n, YNODE_MAP, "elicitation");

	if (rc == ERR_OK)
		rc = check_keys(c, n, keys, "elicitation");
	if (rc == ERR_OK && (v = ymap_get(n, "min_epochs")))
		rc = get_int32(c, v, "min_epochs", 1, STATS_MAX_EPOCHS, &m->min_epochs);
	if (rc == ERR_OK && (v = ymap_get(n, "min_scaffolds")))
		rc = get_int32(c, v, "min_scaffolds", 0, 1000, &m->min_scaffolds);
	if (rc == ERR_OK && (v = ymap_get(n, "min_token_budget")))
		rc = get_int(c, v, "min_token_budget", 0, (long long)1 << 50,
			     &m->min_token_budget);
	if (rc == ERR_OK && (v = ymap_get(n, "max_refusal_rate")))
		rc = get_double(c, v, "max_refusal_rate", 0, 1,
				&m->max_refusal_rate);
	if (rc == ERR_OK && (v = ymap_get(n, "refusals")))
		rc = get_refusal_source(c, v, &m->refusals);
	return rc;
}

/* Names unique; cannot-rule-out names an absolute rule. */
static enum err cross_check(const struct pctx *c, const struct ynode *seq,
			    const struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i], *o;
		if (policy_find_rule(p, r->name) != r)
			return bad(c, seq->items[i], "duplicate rule name '%s'", r->name);
		if (r->type != RULE_CANNOT_RULE_OUT)
			continue;
		o = policy_find_rule(p, r->of);
		if (!o || o->type != RULE_ABSOLUTE)
			return bad(c, seq->items[i], "rule '%s': 'rule: %s' must name an "
				   "absolute rule of this policy", r->name, r->of);
	}
	return ERR_OK;
}

static enum err parse_rules(const struct pctx *c, const struct ynode *n,
			    struct policy *p)
{
	enum err rc = want_kind(c, n, YNODE_SEQ, "rules");

	if (rc)
		return rc;
	if (n->n == 0)
		return bad(c, n, "'rules' is empty: a policy needs at least one rule");
	if (n->n > POLICY_MAX_RULES)
		return err_set(c->e, ERR_LIMIT, "%s:%d: more than %d rules", c->file,
			       n->line, POLICY_MAX_RULES);
	p->rules = xcalloc(n->n, sizeof(*p->rules));
	for (size_t i = 0; i < n->n && !rc; i++) {
		p->nrules = i + 1;
		rc = parse_rule(c, n->items[i], p, &p->rules[i]);
	}
	return rc ? rc : cross_check(c, n, p);
}

/* not_measurable: inconclusive (default) | ignore */
static enum err parse_not_measurable(const struct pctx *c,
				     const struct ynode *v, struct policy *p)
{
	char *s = NULL;
	enum err rc = get_str(c, v, "not_measurable", &s);

	if (rc == ERR_OK && !strcmp(s, "ignore"))
		p->not_measurable_ignored = true;
	else if (rc == ERR_OK && strcmp(s, "inconclusive"))
		rc = bad(c, v, "'not_measurable' must be 'inconclusive' or "
			 "'ignore', not '%s'", s);
	free(s);
	return rc;
}

static enum err parse_top(const struct pctx *c, const struct ynode *root,
			  struct policy *p)
{
	static const char *const keys[] = { "policy", "confidence", "bootstrap",
					    "elicitation", "not_measurable",
					    "rules", NULL };
	const struct ynode *v;
	enum err rc = want_kind(c, root, YNODE_MAP, "the policy document");

	if (rc == ERR_OK)
		rc = check_keys(c, root, keys, "the policy");
	if (rc == ERR_OK)
		rc = required_key(c, root, "policy", &v);
	if (rc == ERR_OK)
		rc = get_str(c, v, "policy", &p->id);
	if (rc == ERR_OK && (v = ymap_get(root, "confidence")))
		rc = get_double(c, v, "confidence", 0.5, 0.9999, &p->confidence);
	if (rc == ERR_OK && (v = ymap_get(root, "bootstrap")))
		rc = parse_boot(c, v, p);
	if (rc == ERR_OK && (v = ymap_get(root, "elicitation")))
		rc = parse_elicitation(c, v, p);
	if (rc == ERR_OK && (v = ymap_get(root, "not_measurable")))
		rc = parse_not_measurable(c, v, p);
	if (rc == ERR_OK)
		rc = required_key(c, root, "rules", &v);
	if (rc == ERR_OK)
		rc = parse_rules(c, v, p);
	return rc;
}

/* Policy from a parsed tree; `file` names it in messages. */
static enum err from_tree(const char *file, const struct ynode *root,
			  struct policy **out, struct errmsg *e)
{
	struct pctx c = { .file = file, .e = e };
	struct policy *p = xcalloc(1, sizeof(*p));
	enum err rc;

	p->path = xstrdup(file);
	p->confidence = 0.95;
	p->boot = (struct stats_boot_opts)STATS_BOOT_OPTS_INIT;
	p->elicitation.min_epochs = 1;
	p->elicitation.max_refusal_rate = 1;
	rc = parse_top(&c, root, p);
	if (rc) {
		policy_free(p);
		return rc;
	}
	*out = p;
	return ERR_OK;
}

enum err policy_parse(const char *name, const char *data, size_t len,
		      struct policy **out, struct errmsg *e)
{
	struct ynode *root;
	enum err rc;

	if (len > POLICY_MAX_BYTES)
		return err_set(e, ERR_LIMIT, "%s: policy larger than %zu bytes", name,
			       POLICY_MAX_BYTES);
	rc = ytree_parse(name, data, len, &root, e);
	if (rc)
		return rc;
	rc = from_tree(name, root, out, e);
	ytree_free(root);
	return rc;
}

enum err policy_load(const char *path, struct policy **out, struct errmsg *e)
{
	struct ynode *root;
	enum err rc = ytree_load(path, POLICY_MAX_BYTES, &root, e);

	if (rc)
		return rc;
	rc = from_tree(path, root, out, e);
	ytree_free(root);
	return rc;
}
