/*
 * init.h - the parts of assay-init (a static program of its own, built
 * without the project library).
 */
#ifndef ASSAY_INIT_H
#define ASSAY_INIT_H

#include <stdbool.h>
#include <stdint.h>

/* The box's socket memory: the counter of what its cgroup was charged
 * (memory.kmem.tcp on cgroup v1; fd -1 where memory.max charges it), the
 * cap init holds that plus what no cgroup was charged (sockmem.c) under,
 * and how fast it may grow (bytes per ms); cap 0: no memory limit. */
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

/* sockmem.c: what the sockets of the box's network namespace hold
 * outside every memory cgroup (connections not accepted, minisockets,
 * netlink, raw and packet queues), in bytes: a bound read cheaply, and
 * the sum with as many kinds of socket summed as it takes to show it
 * within ROOM (all, if it is not), where the last, slow sum (every TCP
 * socket) is left out while the TCP part is bounded within SLACK. open
 * is called by a thread in the box's network namespace, with PROC an fd
 * of a procfs that shows it (its thread-self), before any command runs;
 * exact after a bound. */
#define LISTEN_BACKLOG 128     /* the box's net.core.somaxconn (setup.c) */
int init_sockmem_open(int proc, bool packet_sockets);
uint64_t init_sockmem_bound(void);
uint64_t init_sockmem_exact(uint64_t room, uint64_t slack);

/* ringwatch.c: in a box that may open packet sockets, stop the calls
 * that make their rings and make them in a thread of init, within the
 * room init_ringwatch_room last published (bytes under the socket
 * memory cap). start is called after the box's own filter is loaded;
 * 0 or -1. */
int init_ringwatch_start(void);
void init_ringwatch_room(uint64_t bytes);

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
