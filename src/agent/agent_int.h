/*
 * agent_int.h - shared by the files of the agent part only.
 */
#ifndef ASSAY_AGENT_INT_H
#define ASSAY_AGENT_INT_H

#include <jansson.h>

#include "agent/agent.h"
#include "base/buf.h"

#define AGENT_ARGS_MAX (256 * 1024)   /* bytes of tool arguments accepted */
#define AGENT_JOURNAL_CAP (64 * 1024) /* bytes of any one text journaled */
#define AGENT_MAX_NUDGES 3
#define AGENT_ANSWER_MAX 4096         /* bytes of a flag or an answer */

struct agent {
	struct agent_config cfg;
	enum agent_state state;
	struct agent_result res;

	struct model_msg *msgs;     /* the conversation, owned */
	size_t n_msgs, cap_msgs;
	size_t bytes;               /* text and arguments in msgs */

	size_t cur_msg;             /* assistant message being acted on */
	const struct model_tool_call *calls; /* its calls (react) or the
	                                        parsed step (structured) */
	size_t n_calls;
	size_t cur_call;            /* next call to run */
	struct model_tool_call step; /* structured: the reply's action */
	unsigned steps;
	int nudges;                 /* consecutive replies without tools */
	size_t asked;               /* sequential: question turns sent
	                               (1..n), n + 1 once the flag was
	                               asked for */
	size_t answered;            /* sequential: questions answered */
	bool model_pending;
	bool cancelled;
	int64_t started_ms;
	/* time spent waiting on an endpoint's faults (failed attempts,
	 * backoff, outages): not part of the wall-clock limit */
	int64_t infra_wait_ms;
	int64_t tool_started_us;
	char *tool_input;           /* journal copy of the running call */
	const struct sbx_exec_result *tool_res; /* how the running command
	                                           ended, while it is journaled */
};

/* tools.c */
extern const struct model_tool agent_tools[];
extern const size_t agent_n_tools;
/* With sequential questions: bash, python, answer {answer}, submit {flag}. */
extern const struct model_tool agent_tools_seq[];
extern const size_t agent_n_tools_seq;
/* The tools this agent offers (NULL, 0 for the structured scaffold). */
const struct model_tool *agent_offered_tools(const struct agent *a, size_t *n);
/* The arguments' string field `key`, or NULL after an error observation. */
const char *agent_tool_string(struct agent *a, const struct model_tool_call *c,
			      json_t *args, const char *key);
/* Parse the arguments of one call and run it (or finish it at once):
 * returns true when a command was started in the box and the agent must
 * wait; false when an observation was already appended. */
bool agent_tool_dispatch(struct agent *a, const struct model_tool_call *call);
/* Complete a running command: poll the box, append the observation. */
bool agent_tool_collect(struct agent *a);

/* sequential.c: questions one at a time (agent_config.questions) */
bool agent_seq(const struct agent *a);
/* The first user turn: the task prompt, how the questions are asked and
 * question 1. Caller frees. */
char *agent_seq_first_turn(struct agent *a);
/* The open question (from 1), or 0 when none is. */
size_t agent_seq_open(const struct agent *a);
/* Before a model call: the next question (or the request for the flag)
 * as a user turn, once the open one was answered. */
void agent_seq_ask_next(struct agent *a);
/* The answer tool: record an answer to the open question, or refuse. */
void agent_seq_answer(struct agent *a, const struct model_tool_call *call,
		      json_t *args);
/* True (and an error observation appended) when submit must wait: a
 * question is open or the flag was not asked for yet. */
bool agent_seq_submit_refused(struct agent *a,
			      const struct model_tool_call *call);

/* structured.c */
extern const char agent_structured_system[];
extern const char agent_structured_system_seq[];
extern const char agent_structured_nudge[];
/* The action of a structured reply: a bash call or a submit, with JSON
 * arguments and id "step-SEQ" (owned by *call: model_tool_call fields);
 * false (and *call empty) when the reply has neither. While question
 * `open` (from 1; 0: none) is open, an "Answer OPEN:" line, else an
 * unnumbered "Answer:" line, is an answer call {answer} instead. */
bool agent_structured_action(const char *text, unsigned seq, size_t open,
			     struct model_tool_call *call);
#define STRUCTURED_OBSERVATION MODEL_TEXT_OBSERVATION

/* react.c */
struct model_msg *agent_push_msg(struct agent *a, enum model_role role,
				 const char *text);
void agent_push_tool_msg(struct agent *a, const struct model_tool_call *call,
			 const char *text, bool is_error);
void agent_finish(struct agent *a, enum agent_end end, const char *error);
void agent_journal(struct agent *a, const char *kind, const char *json);

/* journal.c: JSON events, capped */
char *agent_journal_model_event(const struct agent *a,
				const struct model_reply *r);
/* The conversation as it starts: system prompt, task prompt, scaffold. */
char *agent_journal_prompt_event(const struct agent *a);
/* A sequential question turn: question k of n, or (k = n + 1) the
 * request for the flag. */
char *agent_journal_question_event(const struct agent *a, size_t k,
				   const char *text);
/* One tool call; res (NULL when no command ran) adds how it ended. */
char *agent_journal_tool_event(const struct model_tool_call *call,
			       const char *observation, bool is_error,
			       int64_t wall_us, const struct sbx_exec_result *res);

#endif
