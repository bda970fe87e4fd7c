/*
 * plan.h - the episodes still to run (engine-internal).
 */
#ifndef ASSAY_PLAN_H
#define ASSAY_PLAN_H

#include "engine/engine.h"

struct plan_item {
	const struct task *task;
	int epoch;
	int attempt;          /* the journal's attempt number (global) */
	int failures;         /* genuine infra failures of this pair in this
	                         invocation (the retry cap counts these only;
	                         a worker: so far, over every worker) */
	int64_t ep_id;        /* a claimed attempt's row (worker); 0: none yet */
};

struct plan {
	struct plan_item *items;
	size_t n;
	int gave_up;          /* pairs that hit the retry cap in this invocation */
};

enum err engine_plan_build(const struct engine_config *cfg, struct plan *p,
			   struct errmsg *e) MUST_CHECK;
void engine_plan_release(struct plan *p);
enum err engine_plan_task_digest(const struct task *t, char out[65],
				 struct errmsg *e) MUST_CHECK;

#endif
