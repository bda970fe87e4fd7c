/*
 * agent_int.h - shared by the files of the agent part only.
 */
#ifndef ASSAY_AGENT_INT_H
#define ASSAY_AGENT_INT_H

#include "agent/agent.h"
#include "base/buf.h"

#define AGENT_ARGS_MAX (256 * 1024)   /* bytes of tool arguments accepted */
#define AGENT_JOURNAL_CAP (64 * 1024) /* bytes of any one text journaled */
#define AGENT_MAX_NUDGES 3

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
/* Parse the arguments of one call and run it (or finish it at once):
 * returns true when a command was started in the box and the agent must
 * wait; false when an observation was already appended. */
bool agent_tool_dispatch(struct agent *a, const struct model_tool_call *call);
/* Complete a running command: poll the box, append the observation. */
bool agent_tool_collect(struct agent *a);

/* structured.c */
extern const char agent_structured_system[];
extern const char agent_structured_nudge[];
/* The action of a structured reply: a bash call or a submit, with JSON
 * arguments and id "step-SEQ" (owned by *call: model_tool_call fields);
 * false (and *call empty) when the reply has neither. */
bool agent_structured_action(const char *text, unsigned seq,
			     struct model_tool_call *call);
#define STRUCTURED_OBSERVATION MODEL_TEXT_OBSERVATION

/* react.c */
void agent_push_tool_msg(struct agent *a, const struct model_tool_call *call,
			 const char *text, bool is_error);
void agent_finish(struct agent *a, enum agent_end end, const char *error);
void agent_journal(struct agent *a, const char *kind, const char *json);

/* journal.c: JSON events, capped */
char *agent_journal_model_event(const struct agent *a,
				const struct model_reply *r);
/* The conversation as it starts: system prompt, task prompt, scaffold. */
char *agent_journal_prompt_event(const struct agent *a);
/* One tool call; res (NULL when no command ran) adds how it ended. */
char *agent_journal_tool_event(const struct model_tool_call *call,
			       const char *observation, bool is_error,
			       int64_t wall_us, const struct sbx_exec_result *res);

#endif
