/*
 * sandbox_int.h - shared only inside src/sandbox/ (and, for the wire
 * protocol part, src/sandbox/init/init.c).
 *
 * Part 1 is the control protocol between the harness and assay-init (pid 1
 * of every box). It uses only libc types so that the static init can include
 * it with SBX_PROTO_ONLY defined. The harness treats every message coming
 * from init as hostile: lengths are checked against the message size and
 * against the caps the harness itself asked for, and every wait on init has
 * a deadline.
 *
 * Part 2 is the harness-side internals: global state, box and episode
 * structs, cgroups, netlink and the child set-up.
 */
#ifndef ASSAY_SANDBOX_INT_H
#define ASSAY_SANDBOX_INT_H

#include <stdint.h>

/* ---- part 1: wire protocol ---------------------------------------- */

/* init's end of the control socketpair (SOCK_SEQPACKET) */
#define SBX_CTL_FD 3
/* bytes in one message, header included; larger payloads are split into
 * SBX_M_DATA continuation messages */
#define SBX_MSG_MAX (64 * 1024)
#define SBX_PAYLOAD_MAX (SBX_MSG_MAX - (int)sizeof(struct sbx_msg))
/* caps the init enforces on what the harness sends */
#define SBX_STRINGS_MAX (1u << 20)  /* argv + env + cwd */
#define SBX_STDIN_MAX (16u << 20)
#define SBX_OUTCAP_MAX ((16u << 20) + 4096) /* bytes kept per stream:
                                              16 MiB and a little, to
                                              tell a 16 MiB stream from
                                              a longer one */
#define SBX_PATH_MAX 4096

enum sbx_msg_type {
	/* harness -> init */
	SBX_M_GO = 1,    /* struct sbx_m_setup + seccomp program: build the
	                    box (the first message; an image tree fd may
	                    ride along as SCM_RIGHTS) */
	SBX_M_EXEC,      /* struct sbx_m_exec, then the blob */
	SBX_M_DATA,      /* continuation of the current request's blob */
	SBX_M_PUT,       /* struct sbx_m_file + path; data follows as DATA */
	SBX_M_MKDIR,     /* struct sbx_m_file + path */
	SBX_M_SYMLINK,   /* struct sbx_m_file + path; blob = target */
	SBX_M_GET,       /* struct sbx_m_file (size = max) + path */
	SBX_M_KILLALL,   /* no payload */
	SBX_M_SVC,       /* uint32 want_output: the service entrypoint's
	                    state (and its captured output) */
	SBX_M_SOCKWATCH, /* no payload, right after GO when its sock_cap is
	                    set: the box's socket memory counter (cgroup v1
	                    memory.kmem.tcp.usage_in_bytes) rides along */
	/* init -> harness */
	SBX_M_HELLO = 100, /* init is up; no payload */
	SBX_M_SETUP_ERR,   /* struct sbx_m_setup_err (child or init set-up) */
	SBX_M_OUT,         /* struct sbx_m_out + bytes */
	SBX_M_EXIT,        /* struct sbx_m_exit */
	SBX_M_ACK,         /* struct sbx_m_ack */
	SBX_M_FDATA,       /* bytes of a file asked for by GET */
	SBX_M_SVC_STATE,   /* struct sbx_m_svc, after the OUT chunks of the
	                      entrypoint's output when asked for */
	SBX_M_PTY,         /* no payload; the master of a SBX_XF_PTY
	                      command's terminal rides along as SCM_RIGHTS */
};

struct sbx_msg {
	uint32_t type;
	uint32_t len;    /* payload bytes after this header */
};

enum sbx_exec_flags {
	SBX_XF_DETACH = 1 << 0,  /* service entrypoint: no capture, no wait */
	SBX_XF_TIDY = 1 << 1,    /* built-in job instead of exec: tidy argv[0] */
	SBX_XF_FRESH = 1 << 2,   /* built-in job: make argv[0] afresh */
	SBX_XF_PTY = 1 << 3,     /* the command's stdio is a terminal of the
	                            box's own devpts (its controlling tty);
	                            init sends the master as SBX_M_PTY and
	                            captures nothing; stdin_len must be 0 */
};

/* exit statuses of the built-in jobs (init/tidy.c) */
enum sbx_tidy_status {
	SBX_TIDY_FAILED = 1, SBX_TIDY_TOO_MANY = 3, /* = SBX_TIDY_EXIT_* */
	SBX_TIDY_TOO_DEEP = 4, SBX_TIDY_NOT_DIR = 5,
};

struct sbx_m_exec {
	uint32_t uid;
	uint32_t gid;
	int32_t timeout_ms;
	uint32_t out_cap;      /* bytes kept per stream */
	uint32_t argc;
	uint32_t envc;
	uint32_t strings_len;  /* argv\0... env\0... cwd\0 */
	uint32_t stdin_len;
	uint32_t flags;
};

enum sbx_how { SBX_HOW_EXITED = 1, SBX_HOW_SIGNALED, SBX_HOW_TIMEOUT };

struct sbx_m_exit {
	uint32_t how;
	int32_t code;          /* exit code or signal number */
	uint64_t out_total;    /* bytes the command wrote, kept or not */
	uint64_t err_total;
	int64_t wall_us;
	uint32_t sock_killed;  /* init killed the box's processes while the
	                          command ran: socket memory past sock_cap */
	uint32_t pad;
};

/* The service entrypoint of a box. Its stdout and stderr go to init
 * through pipes and are kept within SBX_SVC_CAP per stream (head and
 * tail, as a command's). */
#define SBX_SVC_CAP (16 * 1024)     /* = SBX_SERVICE_CAP */
struct sbx_m_svc {
	uint32_t started;      /* an entrypoint was started */
	uint32_t exited;       /* and its process was reaped: status valid */
	int32_t status;        /* wait status */
	uint32_t others;       /* processes besides init alive in the box */
	uint64_t out_total;    /* bytes it wrote, kept or not */
	uint64_t err_total;
};

struct sbx_m_out {
	uint8_t stream;        /* 1 stdout, 2 stderr */
	uint8_t tail;          /* 0 head part, 1 tail part */
	uint8_t pad[2];
};

struct sbx_m_file {
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t path_len;     /* path follows, not NUL-terminated */
	uint64_t size;         /* PUT: data bytes; SYMLINK: target bytes;
	                          GET: max bytes */
};

struct sbx_m_ack {
	int32_t err;           /* 0 or an errno value */
	uint32_t pad;
	uint64_t size;         /* GET: file size */
};

enum sbx_setup_step {
	SBX_STEP_IDS = 1, SBX_STEP_PDEATH, SBX_STEP_CGNS, SBX_STEP_ROOT,
	SBX_STEP_USR, SBX_STEP_ETC, SBX_STEP_DEV, SBX_STEP_PROC,
	SBX_STEP_PIVOT, SBX_STEP_HOST, SBX_STEP_LIMITS, SBX_STEP_CAPS,
	SBX_STEP_SECCOMP, SBX_STEP_EXEC, SBX_STEP_OVERLAY, SBX_STEP_CGROUP,
	SBX_STEP_GO, SBX_STEP_NS,
};

/* How init builds its box, before it serves anything. Strings are
 * NUL-terminated inside their arrays; bpf_len struct sock_filter
 * instructions (8 bytes each) follow the struct. */
#define SBX_SETUP_LINKS 4
#define SBX_LOWERS_MAX 3584           /* with the rest, one page of options */
struct sbx_m_setup {
	char name[64];                /* hostname */
	char tmpfs_opts[64];          /* root tmpfs: size (disk limit), mode */
	char mnt_dir[SBX_PATH_MAX];   /* host directory to build the root on */
	char etc_dir[SBX_PATH_MAX];   /* image "host": read-only /etc */
	char usr_links[SBX_SETUP_LINKS][16];        /* image "host": bin, ...*/
	char usr_link_targets[SBX_SETUP_LINKS][32]; /* "" = bind, not link */
	char hosts[4096];             /* /etc/hosts */
	char dev_dir[256];            /* where /dev/null etc. are bound from:
	                                 the box's uid slot's own nodes, or
	                                 the host's /dev */
	char lowers[SBX_LOWERS_MAX];  /* image layers: overlay lowerdir,
	                                 names relative to the tree fd's
	                                 directory, top first; "" = the
	                                 tree itself is the one lower */
	uint32_t host_image;          /* 1 "host", 0 the tree fd's directory */
	uint32_t nofile;              /* RLIMIT_NOFILE */
	uint32_t memory_mb;           /* the box's memory limit: /proc/meminfo */
	uint32_t cap_last;            /* highest capability the kernel has */
	uint32_t bpf_len;
	uint32_t packet_sockets;      /* 1: the box may open AF_PACKET
	                                 sockets (the task asks) */
	uint32_t sock_counted;        /* 1: SBX_M_SOCKWATCH follows GO with
	                                 the cgroup's socket memory counter
	                                 (v1; v2's memory.max charges it) */
	uint64_t sock_cap;            /* bytes of socket memory past which
	                                 init kills every process of the box
	                                 (0: no memory limit, no watch) */
	uint64_t sock_rate;           /* bytes per ms it may grow at most */
};

/* How fast one core's worth of a box's CPU can grow its socket memory,
 * twice what was measured: a burst of one send on each of 8000 idle
 * loopback connections added 133 MiB in 0.14 s (~1 GiB/s, 2026-12-06). */
#define SBX_SOCK_RATE_PER_CORE ((uint64_t)2 << 20)
#define SBX_BPF_MAX 4096              /* BPF_MAXINSNS */

struct sbx_m_setup_err {
	int32_t step;
	int32_t err;
};

/* Report a failed set-up step with errno and end the process (the cloned
 * child before its exec, and init while it builds the box). */
#define SBX_SETUP_FAIL(fd, step)                                            \
	do {                                                                \
		struct {                                                    \
			struct sbx_msg m;                                   \
			struct sbx_m_setup_err se;                          \
		} msg_ = { { SBX_M_SETUP_ERR,                              \
			     sizeof(struct sbx_m_setup_err) },              \
			   { (step), errno } };                             \
		(void)!send((fd), &msg_, sizeof(msg_), MSG_NOSIGNAL);       \
		_exit(127);                                                 \
	} while (0)

/* The one fd-passing pair (fdpass.c, linked into the harness and into
 * assay-init): sendmsg of iov[0..niov) carrying fd as SCM_RIGHTS when
 * fd >= 0; recvmsg with room for one fd, *fd_out the fd received or -1.
 * Both retry EINTR and return what sendmsg/recvmsg return. A received
 * message whose control data is anything but exactly one fd, or was
 * truncated (MSG_TRUNC, MSG_CTRUNC), closes what came and fails with
 * EPROTO. */
#include <sys/types.h>
#include <sys/uio.h>
ssize_t sbx_send_fd(int sock, const struct iovec *iov, int niov, int fd,
		    int flags);
ssize_t sbx_recv_fd(int sock, struct iovec *iov, int niov, int *fd_out,
		    int flags);

#ifndef SBX_PROTO_ONLY

/* ---- part 2: harness internals ------------------------------------- */

#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"
#include "sandbox/sandbox.h"

#define SBX_UID_FIRST 200000u    /* host uid of box root of slot 0 */
#define SBX_UID_RANGE 65536u
#define SBX_UID_SLOTS 4096u
#define SBX_AGENT_UID 1000u
#define SBX_GRACE_MS 5000        /* init must answer within this past a
                                    command's own timeout */
#define SBX_OP_TIMEOUT_MS 10000  /* file ops, kill-all */
#define SBX_SPAWN_TIMEOUT_MS 10000

enum sbx_cg_kind { SBX_CG_NONE, SBX_CG_V1, SBX_CG_V2 };

struct sbx_global {
	bool ready;
	char *state_dir;       /* sbx_state_dir() */
	char *inst_dir;        /* state_dir/<pid>-<start> */
	char *mnt_dir;         /* inst_dir/mnt: where children build roots */
	char inst_name[64];    /* assay-<pid>-<start> */
	int init_fd;           /* sealed memfd copy of assay-init */
	int host_netns;        /* our own netns, to return after setns */
	struct sock_filter *bpf[2];     /* [1]: with AF_PACKET */
	unsigned short bpf_len[2];
	int cap_last;
	uint64_t box_seq;
	/* image "host" */
	char usr_links[4][16]; /* bin, sbin, lib, lib64 if symlinks */
	char usr_link_targets[4][32];
	char *etc_dir;         /* inst_dir/etc: the host image's /etc, built
	                          once, bound read-only into every box */
	/* cgroups */
	enum sbx_cg_kind cg_kind;
	bool cg_sock_watch;    /* v1 with memory.kmem.tcp: init watches it */
	char *cg_base[3];      /* v1: memory, pids, cpu instance dirs;
	                          v2: [0] only */
};

extern struct sbx_global sbx_g;

/* procview.c: the box's own /proc counters in inst_dir/proc/ (stat,
 * vmstat, loadavg at sbx_global_init; meminfo-MB on first use). */
enum err sbx_procview_build(struct errmsg *e);
enum err sbx_procview_meminfo(int memory_mb, struct errmsg *e);
void sbx_procview_cleanup(void);

struct sbx_cg {
	char *dir[3];          /* NULL when unused */
	uint64_t oom_seen;     /* oom kills already attributed */
	uint64_t pids_seen;    /* pids-limit hits already attributed */
	bool fds_ready;        /* the fds below are valid (or -1) */
	int oom_fd, pids_fd;   /* counters, kept open: read after every exec */
	int sock_fd;           /* v1 memory.kmem.tcp.usage_in_bytes, for init */
	int mem_mb, pids, cpu_percent; /* limits written (a pooled set's
	                                  unchanged ones are not rewritten) */
};

/* Receive state of the exec in flight. */
struct sbx_pending {
	bool active;
	bool got_exit;
	size_t cap;            /* per stream */
	struct buf head[2];
	struct buf tail[2];
	struct sbx_m_exit exit;
	int start_err;         /* init could not start the command */
	int64_t start_us;
	int64_t deadline_ms;
};

/* What the cloned child needs between clone and exec of init (it shares
 * the harness's memory and runs while the harness waits). */
struct sbx_child_args {
	int ctl;               /* child's end */
	int parent_ctl;        /* closed in the child */
	int cg_tasks[3];       /* cgroup files to write "0" into, or -1 */
};

struct sbx_box {
	struct sbx_episode *ep;
	char *name;
	char *image;
	char *lowers;          /* "a:b:c" (top first) or NULL */
	uint32_t svc_uid, svc_gid;  /* the entrypoint's ids */
	char addr[16];
	char cg_id[48];
	uid_t def_uid;
	pid_t pid;
	int pidfd;
	int ctl;
	int netns;
	int slot_fd;
	unsigned slot;
	struct sbx_cg cg;
	struct sbx_limits lim;
	bool packet_sockets;   /* AF_PACKET allowed (seccomp [1]) */
	bool dead;
	/* service entrypoint and readiness (copied from the spec) */
	char **argv;
	char **env;
	char *cwd;
	enum sbx_ready_kind ready;
	int ready_port;
	char **ready_argv;
	int ready_timeout_ms;
	struct sbx_pending px;
	/* readiness probing (sbx_episode_start_begin / _poll) */
	bool is_ready;
	bool probe_open;       /* probe_fd holds a pending TCP connect */
	bool probe_exec;       /* the ready command is running */
	int probe_fd;
	int64_t probe_due;     /* us (monotonic): next probe */
	int64_t probe_until;   /* ms: this connect attempt gives up */
	int probe_backoff_us;
	int64_t svc_due;       /* ms: next look whether the entrypoint died */
};

struct sbx_episode {
	char *name;
	struct sbx_box *boxes; /* [0] agent, then services */
	size_t n;
	int switch_ns;         /* netns holding the bridge, or -1 */
	bool started;
	int64_t ready_start;   /* ms: entrypoints started */
};

/* global.c */
enum err sbx_require_init(struct errmsg *e) MUST_CHECK;
uint32_t sbx_uid_base(unsigned slot);
enum err sbx_slot_acquire(unsigned *slot_out, int *fd_out,
			  struct errmsg *e) MUST_CHECK;
/* A slot whose box is gone, every process reaped: kept locked for this
 * process's next box (or unlocked). */
void sbx_slot_release(unsigned slot, int fd);
enum err sbx_user_ids(const char *user, uid_t *uid_out, struct errmsg *e)
	MUST_CHECK;
/* The directory of the device nodes a box of this slot binds (state_dir/
 * dev/SLOT, made on first use: inodes no box of another slot sees), or
 * "/dev" when the state dir's filesystem cannot hold device nodes. */
const char *sbx_slot_dev_dir(unsigned slot);

/* seccomp.c */
enum err sbx_seccomp_compile(bool packet, struct sock_filter **prog_out,
			     unsigned short *len_out, struct errmsg *e) MUST_CHECK;

/* cgroup.c */
enum err sbx_cg_global_init(struct errmsg *e) MUST_CHECK;
void sbx_cg_global_cleanup(void);
void sbx_cg_remove_leftovers(void);
enum err sbx_cg_create(const char *id, const struct sbx_limits *l,
		       struct sbx_cg *cg, struct errmsg *e) MUST_CHECK;
/* fds of the box's "tasks" (v1) or "cgroup.procs" (v2) files for the
 * child to write "0" into (moving itself is much cheaper than being
 * moved, and needs no clone3); -1 where unused. */
void sbx_cg_open_self_attach(const struct sbx_cg *cg, int fds[3]);
void sbx_cg_destroy(struct sbx_cg *cg);
/* After the box's last task is gone: keep the set for a later box when
 * it is empty and small (see cgroup.c), else destroy it. */
void sbx_cg_release(struct sbx_cg *cg);
/* New OOM kills / pids-limit hits since the last call. */
bool sbx_cg_take_oom(struct sbx_cg *cg);
bool sbx_cg_take_pids(struct sbx_cg *cg);
/* "assay-<pid>-<starttime>" is alive? */
bool sbx_inst_alive(const char *name);
/* A whole small pseudo-file (procfs and cgroupfs report size 0, so
 * file_read() cannot be used; at most 1 MiB is read); owned, NULL when
 * unreadable. */
char *sbx_read_pseudo(const char *path);

/* child.c: clone() entry point, arg = struct sbx_child_args */
int sbx_child_main(void *arg);

/* box.c */
enum err sbx_box_spawn(struct sbx_box *b, const char *hosts,
		       struct errmsg *e) MUST_CHECK;
enum err sbx_box_wait_hello(struct sbx_box *b, struct errmsg *e) MUST_CHECK;
/* Kill the box and release it; what the kernel has not finished yet is
 * left to sbx_reap(). */
void sbx_box_destroy(struct sbx_box *b);
enum err sbx_send(struct sbx_box *b, uint32_t type, const void *h,
		  size_t hlen, const void *data, size_t dlen,
		  struct errmsg *e) MUST_CHECK;
enum err sbx_send_blob(struct sbx_box *b, uint32_t type, const void *h,
		       size_t hlen, const void *blob, size_t blen,
		       struct errmsg *e) MUST_CHECK;
/* Receive one message within deadline (now_ms() clock; 0 = do not wait).
 * The payload (hdr->len bytes) stays valid until the next receive.
 * ERR_TIMEOUT when nothing came; a closed or misbehaving box is marked
 * dead and gives ERR_SANDBOX. */
enum err sbx_recv(struct sbx_box *b, int64_t deadline_ms, struct sbx_msg *hdr,
		  const char **payload_out, struct errmsg *e) MUST_CHECK;
/* The same for the one kind of message that may carry an fd (HELLO,
 * PTY): *fd the fd that came with it, or -1. */
enum err sbx_recv_with_fd(struct sbx_box *b, int64_t deadline_ms,
			  struct sbx_msg *h, const char **p, int *fd,
			  struct errmsg *e) MUST_CHECK;
enum err sbx_wait_ack(struct sbx_box *b, int64_t deadline_ms,
		      struct sbx_m_ack *ack, struct errmsg *e) MUST_CHECK;
void sbx_box_mark_dead(struct sbx_box *b);
/* exec.c: head + "[... N bytes truncated ...]" + tail of one stream, as
 * an owned NUL-terminated string */
char *sbx_assemble(const struct buf *head, const struct buf *tail,
		   uint64_t total, size_t *len_out, bool *trunc_out);

/* exec.c */
enum err sbx_exec_strings(struct buf *s, struct sbx_m_exec *x,
			  const char *const *argv, const char *shell,
			  const char *const *box_env, const char *const *env,
			  const char *cwd, uid_t uid, struct errmsg *e) MUST_CHECK;

/* net.c */
enum err sbx_net_setup(struct sbx_episode *ep, struct errmsg *e) MUST_CHECK;
enum err sbx_net_wait_up(struct sbx_episode *ep, int64_t deadline_ms,
			 struct errmsg *e) MUST_CHECK;
/* Non-blocking TCP socket inside netns (for readiness probes). */
int sbx_net_socket_in(int netns);

#endif /* SBX_PROTO_ONLY */
#endif
