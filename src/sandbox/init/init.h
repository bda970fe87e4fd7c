/*
 * init.h - the parts of assay-init (a static program of its own, built
 * without the project library).
 */
#ifndef ASSAY_INIT_H
#define ASSAY_INIT_H

#include <stdint.h>

/* The box's socket memory counter (cgroup v1), the cap init holds it to
 * and how fast it may grow (bytes per ms); fd -1 and cap 0 where the
 * memory limit charges sockets itself. */
struct init_sock_watch {
	int fd;
	uint64_t cap, rate;
};

/* setup.c: wait for SBX_M_GO (and SBX_M_SOCKWATCH, into *sw) on fd
 * SBX_CTL_FD and build the box; returns inside the finished box (root
 * pivoted, capabilities dropped, seccomp on) with an fd of the box's
 * network namespace for the harness, or reports the failing step to the
 * harness and exits. */
int init_box_setup(struct init_sock_watch *sw);

/* tidy.c: built-in jobs, run in a forked child of init; return the exit
 * status (SBX_TIDY_* of sandbox_int.h), messages on stderr. */
int init_tidy(const char *dir);
int init_fresh_dir(const char *path);

/* procview.c: with cwd at the new root and its proc mounted at "proc",
 * bind the box's own view over the host-wide counters of /proc (the
 * harness's files beside etc_dir, null_dev, the empty directory);
 * -1 with errno. */
int proc_view(const char *etc_dir, const char *null_dev, unsigned memory_mb);

#endif
