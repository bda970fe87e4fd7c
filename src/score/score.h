/*
 * score.h - flags, subtask answers and the episode's final score.
 *
 * Pure functions: the engine runs the hidden check in the sandbox and
 * passes its verdict in. A task is solved when every primary criterion it
 * declares holds: the flag matches (if it has a flag) and the check passed
 * (if it has a check). Answers are subtasks, reported as a fraction.
 */
#ifndef ASSAY_SCORE_H
#define ASSAY_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "task/task.h"

#define FLAG_RANDOM_HEX 32

/* A fresh flag for one episode from a dynamic format ("flag{%s}" -> 32
 * random hex characters in place of %s). Caller frees. */
enum err score_make_flag(const char *format, char **flag_out,
			 struct errmsg *e) MUST_CHECK;

/* Constant-time comparison after trimming whitespace on both sides. */
bool score_flag_match(const char *expected, const char *submitted);
/* Trimmed plain answer, or SHA-256 of the trimmed answer. */
bool score_answer_match(const struct task_answer *a, const char *given);

struct score_input {
	const struct task *task;
	const char *flag;            /* expected flag for this episode */
	const char *submitted;       /* NULL: the agent never submitted */
	char *const *answers;        /* submitted answers, in order */
	size_t n_answers;
	bool check_passed;           /* only read when the task has a check */
};

struct score_result {
	bool has_flag, has_check;
	bool flag_ok, check_ok;
	int answers_ok, answers_total;
	int score;                   /* 1 solved, 0 not */
};

void score_episode(const struct score_input *in, struct score_result *out);

#endif
