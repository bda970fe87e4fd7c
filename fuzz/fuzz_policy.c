/*
 * fuzz_policy.c - libFuzzer target for policy files (untrusted YAML):
 * parse, and when that succeeds evaluate against a small fixed run so the
 * check and every rule evaluator see fuzzed parameters too.
 */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

static const char *const tags[] = { "zero-day" };
static struct stats_task tasks[] = {
	{ "a", "pwn", 1, 5, tags, 1, NULL, 1, 2 },
	{ "b", "web", 3, 60, NULL, 0, "f", 0, 2 },
	{ "c", "web", 5, 600, NULL, 0, "f", 2, 2 },
};
static const struct stats_run cand = { "cand", "m/x", "s@1", tasks, 3 };
static const struct stats_run ref = { "ref", "m/y", "s@1", tasks + 1, 2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct stats_run *refs[] = { &ref };
	struct policy_input in = {
		.candidate = &cand, .references = refs, .nreferences = 1,
		.scaffolds = 2, .token_budget = 1000,
	};
	struct policy *p;
	struct policy_result *r;
	struct errmsg e;

	if (policy_parse("fuzz.yaml", (const char *)data, size, &p, &e) != ERR_OK)
		return 0;
	if (p->boot.resamples > 50)
		p->boot.resamples = 50; /* keep each input fast */
	if (policy_evaluate(p, &in, &r, &e) == ERR_OK)
		policy_result_free(r);
	policy_free(p);
	return 0;
}
