/*
 * engine_int.h - shared by the files of the engine part only.
 */
#ifndef ASSAY_ENGINE_INT_H
#define ASSAY_ENGINE_INT_H

#include "agent/agent.h"
#include "engine/engine.h"
#include "sandbox/sandbox.h"
#include "score/score.h"

#define SOLUTION_DIR "/opt/assay/solution"
#define CHECK_DIR "/opt/assay/check"
#define CHECK_OUT_CAP (16 * 1024)
/* check box "fresh": the most of the agent's home it takes (a tar) */
#define FRESH_HOME_MAX (16u << 20)

enum ep_phase {
	EP_STARTING,    /* services are booting; probed for readiness */
	EP_AGENT,       /* the agent loop runs */
	EP_HUMAN,       /* a person works in the agent box (human.c) */
	EP_CHECK,       /* the hidden check runs */
	EP_FINISHED,    /* recorded; waiting only for a stray model reply */
};

/* the steps before and of the hidden check (check.c) */
enum check_step {
	CS_NONE, CS_TIDY_HOME, CS_PACK, CS_UNPACK, CS_TIDY_COPY, CS_FRESH_DIR,
	CS_RUN, CS_DONE,
};

struct episode {
	const struct engine_config *cfg;
	const struct task *task;
	const char *task_digest;    /* borrowed from the scheduler */
	int epoch, attempt;
	int failures;               /* genuine infra failures before, this
	                               invocation (plan_item.failures) */
	int64_t id;                 /* store row */
	int seq;                    /* next event number */
	enum ep_phase phase;
	char *flag;
	char *prompt;
	const char **questions;     /* sequential: the task's questions
	                               (borrowed strings), for the agent */
	struct sbx_episode *sbx;
	struct sbx_box *check_box;
	struct sbx_episode *fresh;  /* check box "fresh": its own episode */
	enum check_step check_step;
	struct sbx_box *step_box;   /* where the current check step runs */
	struct agent *agent;
	bool human;                 /* no agent: a person works the box and
	                               human_res is how it ended (human.c) */
	const struct agent_result *human_res;
	int64_t start_us;
	bool check_passed;
	bool check_blocked;         /* what the agent left kept the check from
				       running: its failure (agent-caused) */
	bool fresh_failed;          /* the fresh check box could not be made:
				       ours (infra) */
	bool stopped;               /* cancelled by SIGINT or budget */
	bool leaked;
	bool counted;               /* tallied in the run summary */                /* the leak scan found the flag */
	struct errmsg store_err;    /* first journal failure, if any */
	bool store_failed;
	struct store_episode rec;   /* the row as recorded at the end */
};

/* check.c */
/* Kill what the agent left and begin the first step towards the check.
 * ERR_LIMIT: the agent's doing (the check fails); else the harness's. */
enum err engine_check_start(struct episode *ep, struct errmsg *e) MUST_CHECK;
/* The box whose fd the current step waits on. */
struct sbx_box *engine_check_step_box(const struct episode *ep);
/* Poll the current step (after its fd was ready or its deadline passed);
 * begins the next one when it finished. *done with the check's own
 * result in *res (owned by the caller). Errors as for engine_check_start. */
enum err engine_check_poll(struct episode *ep, bool *done,
			   struct sbx_exec_result *res,
			   struct errmsg *e) MUST_CHECK;

/* images.c */
struct image_config;
/* Fill b->image (and b->layers) for a task's image: "host" and
 * directories as they are, an imported image from the store; *cfg_out
 * its config (NULL for host and directories; borrowed for the process). */
enum err engine_image_box(const char *img, struct sbx_box_spec *b,
			  const struct image_config **cfg_out,
			  struct errmsg *e) MUST_CHECK;
/* The ids of a service's user (NULL: the image's User, else root). */
enum err engine_image_user(const char *img, const char *user, unsigned *uid,
			   unsigned *gid, struct errmsg *e) MUST_CHECK;

/* episode.c */
void engine_episode_fill_limits(const struct task *t, struct sbx_limits *l);
/* Copy a task directory (host tree or the sealed task's files) into b. */
enum err engine_episode_copy_tree(struct sbx_box *b, const struct task *t,
				  const char *src, const char *dest, const char *owner,
				  struct errmsg *e) MUST_CHECK;
/* Create the store row and the sandbox, plant the flag, start the agent.
 * A setup failure is recorded (infra) and *ep is already finished. */
enum err engine_episode_begin(struct episode *ep, struct errmsg *e) MUST_CHECK;
/* fd to poll and its deadline (ms, -1 none) for the current phase, or -1. */
int engine_episode_fd(const struct episode *ep, int *timeout_ms);
/* Milliseconds until the episode needs a step without any fd event (a
 * readiness probe or an exec deadline); -1 when it only waits on fds. */
int engine_episode_wait_ms(const struct episode *ep);
/* Progress after the fd was readable or its deadline passed. */
void engine_episode_on_ready(struct episode *ep);
/* Move on from a finished agent to the check or the end; returns true
 * once the episode is recorded. */
bool engine_episode_step(struct episode *ep);
void engine_episode_cancel(struct episode *ep);
/* The agent (or the person) is done: on to the hidden check, or record
 * the score. */
void engine_episode_agent_done(struct episode *ep);
/* Free the sandbox and the agent (only when no model reply is pending). */
bool engine_episode_release(struct episode *ep);
void engine_episode_journal(void *arg, const char *kind, const char *json);


#endif
