/*
 * runplan.c - `assay run --dry-run`: what a run would do, without a box,
 * a model call or a journal write: the selected tasks and their limits,
 * the endpoint, the token budget and its cost from the price table.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "cli/runctl.h"
#include "base/banned.h"

struct plan_totals {
	long long episodes;
	long long tokens;          /* sum of the per-episode token limits */
	bool unbounded;            /* some task has no token limit */
	bool price_known;
	double in, out;            /* USD per million tokens */
};

static void totals(const struct run_ctx *c, const struct run_opts *o,
		   struct plan_totals *t)
{
	*t = (struct plan_totals){ 0 };
	t->episodes = (long long)c->suite->n_tasks * o->epochs;
	for (size_t i = 0; i < c->suite->n_tasks; i++) {
		long lim = c->suite->tasks[i]->limits.tokens;
		if (lim <= 0)
			t->unbounded = true;
		t->tokens += (long long)lim * o->epochs;
	}
	if (o->budget_tokens && (t->unbounded || o->budget_tokens < t->tokens)) {
		t->tokens = o->budget_tokens;
		t->unbounded = false;
	}
	t->price_known = model_price(c->model, &t->in, &t->out);
}

static int plan_json(const struct run_ctx *c, const struct run_opts *o,
		     const struct plan_totals *t)
{
	json_t *j = json_object(), *tasks = json_array();
	char *text;

	for (size_t i = 0; i < c->suite->n_tasks; i++) {
		const struct task *k = c->suite->tasks[i];
		json_array_append_new(tasks, json_pack(
			"{s:s, s:s, s:i, s:{s:i, s:I, s:i}}", "id", k->id,
			"category", task_category_name(k->category), "tier",
			k->difficulty, "limits", "turns", k->limits.turns,
			"tokens", (json_int_t)k->limits.tokens, "wall_s",
			k->limits.wall_s));
	}
	json_object_set_new(j, "suite", json_string(c->suite->id));
	json_object_set_new(j, "suite_digest", json_string(c->digest));
	json_object_set_new(j, "tasks_total", json_integer((json_int_t)c->n_loaded));
	json_object_set_new(j, "tasks", tasks);
	json_object_set_new(j, "epochs", json_integer(o->epochs));
	json_object_set_new(j, "episodes", json_integer(t->episodes));
	json_object_set_new(j, "jobs", json_integer(o->jobs));
	json_object_set_new(j, "model", json_string(model_name(c->model)));
	json_object_set_new(j, "endpoint", json_string(model_endpoint(c->model)));
	json_object_set_new(j, "token_budget", t->unbounded ? json_null() :
			    json_integer(t->tokens));
	json_object_set_new(j, "price_known", json_boolean(t->price_known));
	if (t->price_known && !t->unbounded) {
		json_object_set_new(j, "cost_usd_min", json_real(t->tokens * t->in / 1e6));
		json_object_set_new(j, "cost_usd_max", json_real(t->tokens * t->out / 1e6));
	}
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	puts(text);
	free(text);
	return EXIT_OK;
}

static void plan_cost(const struct plan_totals *t, const char *model)
{
	if (t->unbounded)
		printf("token budget: unbounded (a task has no token limit; "
		       "set --budget-tokens)\n");
	else
		printf("token budget: %lld tokens (per-episode limits x epochs"
		       ", capped by --budget-tokens)\n", t->tokens);
	if (!t->price_known)
		printf("cost: unknown: model '%s' has no price in the price "
		       "table ($ASSAY_PRICES or data/prices.yaml)\n", model);
	else if (!t->unbounded)
		printf("cost: at most $%.2f if every token is billed at the "
		       "output price ($%.2f/Mtok), $%.2f at the input price "
		       "($%.2f/Mtok)\n", t->tokens * t->out / 1e6, t->out,
		       t->tokens * t->in / 1e6, t->in);
}

int cli_run_ctx_plan(const struct run_ctx *c, const struct run_opts *o)
{
	struct plan_totals t;

	totals(c, o, &t);
	if (o->json)
		return plan_json(c, o, &t);
	printf("dry run: nothing is started\n"
	       "suite: %s (digest %.16s), %zu of %zu tasks x %d epochs = %lld "
	       "episodes, %d at a time\nmodel: %s at %s\n",
	       c->suite->id, c->digest, c->suite->n_tasks, c->n_loaded,
	       o->epochs, t.episodes, o->jobs, model_name(c->model),
	       model_endpoint(c->model));
	printf("\n  %-32s %-10s %4s %6s %10s %7s\n", "TASK", "CATEGORY", "TIER",
	       "TURNS", "TOKENS", "WALL_S");
	for (size_t i = 0; i < c->suite->n_tasks; i++) {
		const struct task *k = c->suite->tasks[i];
		printf("  %-32s %-10s %4d %6d %10ld %7d\n", k->id,
		       task_category_name(k->category), k->difficulty,
		       k->limits.turns, k->limits.tokens, k->limits.wall_s);
	}
	putchar('\n');
	plan_cost(&t, model_name(c->model));
	return fflush(stdout) ? EXIT_RUNTIME : EXIT_OK;
}
