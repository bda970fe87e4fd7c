/*
 * sandbox.h - per-episode isolated boxes on a private network.
 *
 * An episode is one agent box plus zero or more service boxes. Every box has
 * its own user, mount, pid, ipc, uts, net and cgroup namespaces, a tmpfs or
 * overlay root over its image, a small init as pid 1 (assay-init) that runs
 * commands sent over a socketpair, and cgroup limits. The boxes of one
 * episode share a private network that exists only for that episode:
 * names resolve through /etc/hosts, there is no default route, and nothing
 * outside the episode is reachable.
 *
 * This part is the only one that touches namespaces, mounts, cgroups,
 * seccomp or netlink. Nothing here prints; every failure is returned as an
 * enum err with a message naming the box.
 *
 * Ownership: sbx_episode_new() returns an episode that the caller must pass
 * to sbx_episode_free(), which kills every process, removes every cgroup,
 * mount and temp dir, and never fails. Strings in the specs are borrowed
 * for the duration of the call only.
 *
 * Threads: the harness is single-threaded; an episode is used by one thread.
 */
#ifndef ASSAY_SANDBOX_H
#define ASSAY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Process-wide set-up: compile the seccomp filter once, find assay-init
 * (init_path, or $ASSAY_INIT, or "assay-init" beside /proc/self/exe),
 * check the kernel features, and remove leftovers (cgroups, mounts, temp
 * dirs, uid-slot locks) of harness processes that no longer exist.
 * state_dir holds per-process scratch and locks (default: see
 * sbx_state_dir). */
struct sbx_config {
	const char *init_path;
	const char *state_dir;
};
enum err sbx_global_init(const struct sbx_config *cfg, struct errmsg *e) MUST_CHECK;
void sbx_global_cleanup(void);
/* The state dir in use (after sbx_global_init): /run/assay when /run is a
 * tmpfs, else /dev/shm/assay, or sbx_config.state_dir. Borrowed. */
const char *sbx_state_dir(void);

struct sbx_limits {
	int memory_mb;     /* per box; 0 = default 512 */
	int pids;          /* per box; 0 = default 256 */
	int cpu_percent;   /* per box, 100 = one core; 0 = default 100 */
	int disk_mb;       /* size of the box's writable tmpfs; 0 = 256 */
	int nofile;        /* RLIMIT_NOFILE; 0 = 1024 */
};

enum sbx_ready_kind { SBX_READY_NONE, SBX_READY_TCP, SBX_READY_CMD };

struct sbx_box_spec {
	const char *name;              /* [a-z0-9-]+: hostname, /etc/hosts name */
	const char *image;             /* "host" or absolute rootfs directory
	                                  (with layers: the directory that
	                                  holds them) */
	const char *const *layers;     /* NULL, or the image's layers as
	                                  directory names under image, top
	                                  first: each box mounts them as the
	                                  read-only lower layers of its
	                                  overlay (at most 48) */
	unsigned svc_uid, svc_gid;     /* the entrypoint's ids (0: root) */
	const char *user;              /* default exec user: "agent" (uid 1000,
	                                  home /home/agent) or "root" */
	const char *const *argv;       /* service entrypoint (NULL for agent);
	                                  started by sbx_episode_start() */
	const char *const *env;        /* KEY=VALUE for the entrypoint, or NULL;
	                                  a box without argv (the agent's):
	                                  defaults of every command run as
	                                  its default user (under the
	                                  command's own env) */
	const char *cwd;               /* entrypoint cwd; NULL = /srv; a box
	                                  without argv: its default user's
	                                  commands' cwd (NULL = home) */
	enum sbx_ready_kind ready;
	int ready_port;                /* SBX_READY_TCP: port on this box */
	const char *const *ready_argv; /* SBX_READY_CMD: run in this box */
	int ready_timeout_ms;          /* 0 = 30000 */
	bool packet_sockets;           /* allow AF_PACKET sockets (raw frames
	                                  on the box's own links); other
	                                  boxes get EAFNOSUPPORT, and every
	                                  box does for AF_XDP */
	struct sbx_limits limits;
};

struct sbx_episode_spec {
	const char *name;              /* for messages and leftovers */
	struct sbx_box_spec agent;
	const struct sbx_box_spec *services;
	size_t n_services;
};

struct sbx_episode;
struct sbx_box;

/* Create the network and every box (each with its init running, no
 * entrypoint yet). The caller then copies files and plants flags, and calls
 * sbx_episode_start(). On error nothing is left behind. */
enum err sbx_episode_new(const struct sbx_episode_spec *spec,
			 struct sbx_episode **ep_out, struct errmsg *e) MUST_CHECK;
/* Start every service's entrypoint and wait (bounded) until the links are
 * up and each service is ready. ERR_TIMEOUT names the service that never
 * became ready. */
enum err sbx_episode_start(struct sbx_episode *ep, struct errmsg *e) MUST_CHECK;
/* The same without blocking, for an event loop: begin waits for the links
 * (a millisecond) and starts the entrypoints; then call poll, which makes
 * one non-blocking readiness probe per service that is due, until *done.
 * sbx_episode_start_next_ms() says when a probe is next due (-1: nothing
 * pending). Errors as for sbx_episode_start. */
enum err sbx_episode_start_begin(struct sbx_episode *ep,
				 struct errmsg *e) MUST_CHECK;
enum err sbx_episode_start_poll(struct sbx_episode *ep, bool *done,
				struct errmsg *e) MUST_CHECK;
int sbx_episode_start_next_ms(const struct sbx_episode *ep);
void sbx_episode_free(struct sbx_episode *ep);
/* sbx_episode_free() kills every process at once and returns; the kernel
 * dismantles the namespaces in the background. This reaps the boxes that
 * are gone and removes their cgroups (block: wait for all of them). Called
 * by sbx_episode_new() (not blocking) and sbx_global_cleanup() (blocking);
 * call it with block = true before checking that nothing is left. */
void sbx_reap(bool block);

/* Borrowed until sbx_episode_free(). NULL name = the agent box. */
struct sbx_box *sbx_episode_box(struct sbx_episode *ep, const char *name);
const char *sbx_box_name(const struct sbx_box *b);
/* Address of a box on the episode network ("10.x.y.z"), borrowed. */
const char *sbx_box_addr(const struct sbx_box *b);

/* --- exec ---------------------------------------------------------- */

/* Built-in jobs of the box's init (no program of the box runs), for
 * making a box safe before a hidden check; argv = { DIR, NULL }, run as
 * root, results like a command's (stderr says what was done):
 *   SBX_TIDY: remove from the tree DIR every symlink that could resolve
 *     outside it (absolute, or with a ".." component), FIFO, socket and
 *     device node, and clear setuid/setgid bits; never follows a link.
 *     Exit 0; SBX_TIDY_EXIT_TOO_MANY (more than 200000 entries),
 *     SBX_TIDY_EXIT_TOO_DEEP (deeper than 64), SBX_TIDY_EXIT_NOT_DIR
 *     (DIR or a parent is not a real directory).
 *   SBX_FRESH_DIR: make DIR a new empty root-owned 0700 directory, its
 *     parents real directories owned by and writable only by root; what
 *     was at DIR is renamed aside (".NAME.stale-N"), not descended. */
enum sbx_builtin { SBX_RUN_PROGRAM, SBX_TIDY, SBX_FRESH_DIR };
#define SBX_TIDY_EXIT_TOO_MANY 3
#define SBX_TIDY_EXIT_TOO_DEEP 4
#define SBX_TIDY_EXIT_NOT_DIR 5

struct sbx_exec_req {
	enum sbx_builtin builtin;  /* SBX_RUN_PROGRAM (0): argv/shell */
	const char *const *argv;   /* program and args, or NULL with shell */
	const char *shell;         /* run with /bin/sh -c SHELL */
	const void *stdin_data;    /* may be NULL */
	size_t stdin_len;
	const char *const *env;    /* NULL = the user's default env */
	const char *cwd;           /* NULL = the user's home */
	const char *user;          /* NULL = the box's default user */
	int timeout_ms;            /* kills the whole process group; 0 = 60000 */
	size_t out_cap;            /* bytes kept per stream; 0 = 64 KiB.
	                              Longer output keeps head and tail around
	                              a "[... N bytes truncated ...]" marker */
	bool pty;                  /* stdio is a terminal of the box (its
	                              controlling tty; no stdin_data): see
	                              sbx_exec_pty */
};

enum sbx_exit {
	SBX_EXITED,        /* exit_code is valid */
	SBX_SIGNALED,      /* term_signal is valid */
	SBX_TIMED_OUT,     /* per-command timeout; process group killed */
	SBX_OOM_KILLED,    /* the box's memory cgroup killed it */
	SBX_BOX_DIED,      /* the box's init is gone (episode is unusable) */
};

struct sbx_exec_result {
	enum sbx_exit how;
	int exit_code;
	int term_signal;
	bool pids_limited;         /* a fork failed on the pids limit */
	char *out;                 /* NUL-terminated, owned */
	size_t out_len;
	bool out_truncated;
	char *err;
	size_t err_len;
	bool err_truncated;
	int64_t wall_us;
};

/* Asynchronous exec: one command at a time per box. After begin, poll
 * sbx_box_fd() for readability and call sbx_exec_poll() until *done. A box
 * that stops answering past timeout_ms plus a grace period is reported as
 * SBX_BOX_DIED. */
enum err sbx_exec_begin(struct sbx_box *b, const struct sbx_exec_req *req,
			struct errmsg *e) MUST_CHECK;
int sbx_box_fd(const struct sbx_box *b);
/* Milliseconds until this box's pending exec must be given up (for the
 * caller's poll timeout); -1 when nothing is pending. */
int sbx_exec_timeout_ms(const struct sbx_box *b);
enum err sbx_exec_poll(struct sbx_box *b, bool *done,
		       struct sbx_exec_result *res, struct errmsg *e) MUST_CHECK;
/* Blocking convenience: begin + poll until done. */
enum err sbx_exec(struct sbx_box *b, const struct sbx_exec_req *req,
		  struct sbx_exec_result *res, struct errmsg *e) MUST_CHECK;
void sbx_exec_result_release(struct sbx_exec_result *r);
/* An interactive command (req->pty): begin it and wait (bounded) until
 * the box's init hands over the master of its terminal, *master_out
 * (owned by the caller; non-blocking, close-on-exec). Nothing is
 * captured: what the command writes is read from the master. Then poll
 * sbx_exec_poll as for any command until it ends (out and err empty).
 * A command that could not start is ERR_SANDBOX. */
enum err sbx_exec_pty(struct sbx_box *b, const struct sbx_exec_req *req,
		      int *master_out, struct errmsg *e) MUST_CHECK;

/* A service box's entrypoint: whether it runs, how it ended, and what it
 * wrote (stdout and stderr, each kept within 16 KiB, head and tail around
 * a "[... N bytes truncated ...]" marker, as a command's). */
#define SBX_SERVICE_CAP (16 * 1024)   /* bytes kept per stream */
struct sbx_service_state {
	bool started;              /* an entrypoint was started */
	bool exited;               /* the entrypoint process ended: how,
	                              exit_code / term_signal are valid */
	bool alive;                /* some process still runs in the box (the
	                              entrypoint, or what it left behind) */
	enum sbx_exit how;         /* SBX_EXITED or SBX_SIGNALED */
	int exit_code, term_signal;
	char *out, *err;           /* with_output only; NUL-terminated */
	size_t out_len, err_len;
	bool out_truncated, err_truncated;
};
/* Ask the box's init (not while a command runs in the box). */
enum err sbx_service_state(struct sbx_box *b, bool with_output,
			   struct sbx_service_state *st,
			   struct errmsg *e) MUST_CHECK;
void sbx_service_state_release(struct sbx_service_state *st);
/* "exited with status 3", "killed by signal 9", "running", ... */
const char *sbx_service_state_text(const struct sbx_service_state *st,
				   char *buf, size_t n);
/* The last lines of s (at most max_lines lines, max_bytes bytes), on one
 * line: control characters shown as '?', lines joined with " | ". Empty
 * when s is. Caller frees. */
char *sbx_last_lines(const char *s, size_t len, int max_lines, size_t max_bytes);

/* Kill every process in the box except its init (before a hidden check
 * runs, so nothing the agent left behind can touch the checker). */
enum err sbx_box_kill_all(struct sbx_box *b, struct errmsg *e) MUST_CHECK;

/* --- files (through the box's init, inside the box's root) ----------- */

/* Write a file inside the box, creating parent dirs; owner is "agent" or
 * "root" (NULL = root). */
enum err sbx_put_file(struct sbx_box *b, const char *path, const void *data,
		      size_t len, unsigned mode, const char *owner,
		      struct errmsg *e) MUST_CHECK;
/* Copy a host directory tree (regular files, dirs, symlinks that stay
 * inside it) to box_dir, owned by owner. */
enum err sbx_copy_in(struct sbx_box *b, const char *host_dir,
		     const char *box_dir, const char *owner,
		     struct errmsg *e) MUST_CHECK;
/* Read a regular file from the box, at most max bytes (ERR_LIMIT beyond). */
enum err sbx_get_file(struct sbx_box *b, const char *path, size_t max,
		      char **data_out, size_t *len_out,
		      struct errmsg *e) MUST_CHECK;

/* --- memory-only directories (memfs.c) -------------------------------- */

/* A tmpfs that never swaps ("noswap", Linux 6.4) and is mounted
 * nowhere: a detached mount (fsopen/fsmount) held only by the returned
 * fd, root directory mode 0700. Its files are reached as
 * "/proc/self/fd/FD/..." by this process alone; it is freed when the fd
 * is closed and the last box that mounted a clone of it is gone, or
 * when the process dies, however it dies. */
enum err sbx_memfs_new(int *fd_out, struct errmsg *e) MUST_CHECK;
/* Bind the host directory src (read-only) at rel, an empty directory
 * inside the memfs fd (made here): a box mounting the memfs as its
 * image (sbx_box_spec.image "/proc/self/fd/FD/...") sees src there. */
enum err sbx_memfs_bind(int fd, const char *rel, const char *src,
			struct errmsg *e) MUST_CHECK;

#endif
