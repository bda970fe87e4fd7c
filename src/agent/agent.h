/*
 * agent.h - the agent scaffolds: loops of model calls and tool calls.
 *
 * Two scaffolds share this state machine: "react" (native tool calls) and
 * "structured" (no tools offered; the model writes labelled sections and
 * a "Command:" or its "Flag:", see structured.c).
 *
 * An agent is a state machine driven by the engine's event loop: it starts
 * model calls (completed through model_ctx_run callbacks) and commands in
 * the agent box (completed when sbx_box_fd() is readable and the engine
 * calls agent_on_box_ready()). It never blocks.
 *
 * Tools offered to the model: bash {cmd}, python {code}, submit {flag,
 * answers}; with sequential questions answer {answer} too, and submit
 * takes only the flag (sequential.c). Tool arguments are hostile: invalid JSON, unknown tools and
 * oversized arguments become an error observation for the model.
 *
 * Every model call and tool call is reported through the journal callback
 * as a JSON event, with outputs capped. Strings in the config are borrowed
 * and must outlive the agent.
 */
#ifndef ASSAY_AGENT_H
#define ASSAY_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "model/model.h"
#include "sandbox/sandbox.h"

struct agent_limits {
	int turns;               /* model calls */
	long tokens;             /* prompt + completion tokens, summed */
	double cost_usd;         /* 0 = unlimited */
	int64_t wall_ms;         /* from agent_start */
	int64_t working_ms;      /* model + tool time, 0 = unlimited */
	int cmd_timeout_ms;
	size_t obs_cap;          /* bytes of each stream shown to the model */
};

/* Event kinds: "model" (one model call), "tool" (one tool call), "note". */
typedef void (*agent_journal_fn)(void *arg, const char *kind,
				 const char *json);

enum agent_scaffold { AGENT_REACT, AGENT_STRUCTURED };

/* "react" / "structured"; parse returns false for an unknown name. */
const char *agent_scaffold_name(enum agent_scaffold s);
bool agent_scaffold_parse(const char *name, enum agent_scaffold *out);

struct agent_config {
	enum agent_scaffold scaffold;
	const char *system_prompt;   /* NULL = the scaffold's built-in one */
	const char *task_prompt;     /* rendered task prompt */
	struct model *model;
	struct sbx_box *box;
	const char *solution_path;   /* for baseline/oracle, else NULL */
	struct agent_limits limits;
	agent_journal_fn journal;
	void *journal_arg;
	/* Sequential questions (a task's answers_mode: sequential), borrowed:
	 * question 1 follows task_prompt in the first user turn; each next
	 * one is the user turn after the model answered the open one (the
	 * answer tool; "Answer K:" in the structured scaffold), and after the
	 * last the model is asked for the flag. Until then submit is refused.
	 * NULL/0: any questions are in task_prompt and answered in submit's
	 * answers list. */
	const char *const *questions;
	size_t n_questions;
	/* Called with each answer as it is accepted (index from 0), before
	 * the next question is asked; NULL: not called. Whether it was right
	 * never reaches the model. */
	void (*on_answer)(void *arg, size_t index, const char *answer);
	void *answer_arg;
};

enum agent_state { AGENT_IDLE, AGENT_WAIT_MODEL, AGENT_WAIT_TOOL, AGENT_DONE };

/* How an episode's agent phase ended. */
enum agent_end {
	AGENT_END_SUBMITTED,
	AGENT_END_NO_SUBMIT,         /* the model stopped calling tools */
	AGENT_END_LIMIT_TURNS,
	AGENT_END_LIMIT_TOKENS,
	AGENT_END_LIMIT_COST,
	AGENT_END_LIMIT_WALL,
	AGENT_END_LIMIT_WORKING,
	AGENT_END_MODEL_ERROR,       /* refusal, overflow, ...: the model's */
	AGENT_END_INFRA_ERROR,       /* provider failure, or a command that
	                                could not be started: not the model's;
	                                the engine retries */
	AGENT_END_BOX_FAILED,        /* the agent's box died or stopped
	                                answering while the agent held it: the
	                                agent's doing, never retried */
	AGENT_END_CANCELLED,
};

const char *agent_end_name(enum agent_end end);

struct agent_result {
	enum agent_end end;
	char *error;                 /* one line or NULL */
	char *flag;                  /* submitted flag, NULL if none */
	char **answers;              /* NULL-terminated, may be NULL; with
	                                sequential questions the answers
	                                given, in order (n_answers of them) */
	size_t n_answers;
	int turns;
	int model_calls, tool_calls, infra_retries;
	long prompt_tokens, completion_tokens, cached_tokens;
	double cost_usd;
	int64_t working_ms;
};

struct agent;

struct agent *agent_new(const struct agent_config *cfg);
void agent_free(struct agent *a);
/* Issue the first model call. */
enum err agent_start(struct agent *a, struct errmsg *e) MUST_CHECK;
enum agent_state agent_state(const struct agent *a);
/* The engine calls this when the box fd is readable or its deadline
 * passed (while AGENT_WAIT_TOOL). */
void agent_on_box_ready(struct agent *a);
/* The tools a scaffold offers the model (NULL, 0 for none). */
const struct model_tool *agent_tool_table(enum agent_scaffold s, size_t *n);
/* Check the wall-clock limit; ends the agent if it passed. Time spent
 * waiting on an endpoint's faults (model_reply.total_ms - latency_ms) does
 * not count, and the limit is checked between model calls. */
void agent_tick(struct agent *a, int64_t now);
/* Stop now (SIGINT, run budget): AGENT_END_CANCELLED. A pending model call
 * is left to complete and be ignored. */
void agent_cancel(struct agent *a);
/* Borrowed; valid once agent_state() is AGENT_DONE, until agent_free. */
const struct agent_result *agent_result(const struct agent *a);
/* The model context dropped this agent's pending call
 * (model_ctx_cancel_all): no callback will arrive. */
void agent_forget_model_call(struct agent *a);
/* True while a model callback may still arrive for this agent. */
bool agent_model_pending(const struct agent *a);

#endif
