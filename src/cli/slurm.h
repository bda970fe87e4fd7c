/*
 * slurm.h - `assay run --executor slurm`: a run's workers as one Slurm job
 * array (sbatch), followed (squeue) and cancelled (scancel).
 */
#ifndef ASSAY_CLI_SLURM_H
#define ASSAY_CLI_SLURM_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Resubmissions of an array that ended with attempts still queued (its
 * workers failed, or all went idle before a dead worker's attempts were
 * queued again), after the first submission. */
#define CLI_SLURM_RESUBMITS 3

struct cli_slurm {
	/* what to submit (borrowed) */
	int workers;               /* array tasks */
	int slots;                 /* episodes at a time per worker */
	const char *partition;     /* NULL: the cluster's default */
	const char *const *args;   /* more sbatch options, after ours */
	size_t n_args;
	const char *store;         /* the store the workers open */
	const char *worker_key;    /* a sealed run: the nodes' key file */
	/* state */
	char job_id[32];           /* of the last submission; "" before */
	int submissions;
	int query_failures;        /* squeue failures in a row */
};

/* Submit the job array of run_id's workers; sets s->job_id. The error
 * names sbatch's exit status and what it printed. */
enum err cli_slurm_submit(struct cli_slurm *s, int64_t run_id,
			  struct errmsg *e) MUST_CHECK;
/* How many of the last job's array tasks are still pending or running
 * (0 once the job is gone). */
enum err cli_slurm_live(struct cli_slurm *s, int *live,
			struct errmsg *e) MUST_CHECK;
/* scancel the last job (its workers get SIGTERM and hand their attempts
 * back to the queue). */
enum err cli_slurm_cancel(const struct cli_slurm *s,
			  struct errmsg *e) MUST_CHECK;

#endif
