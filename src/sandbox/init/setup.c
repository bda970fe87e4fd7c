/*
 * setup.c - init's first job: build the box it is pid 1 of.
 *
 * init starts in fresh user and pid namespaces with no uid mapped yet.
 * At once a thread creates the box's network namespace (the most
 * expensive namespace to make: loopback, sysctls, IPv6), which needs
 * nothing from the harness, and init makes its mount, IPC and UTS
 * namespaces. Then it waits for SBX_M_GO (sent once the
 * harness has written the uid/gid maps; on cgroup v1 SBX_M_SOCKWATCH
 * follows with the box's socket memory counter), becomes box root and
 * builds the box root on a tmpfs (size = disk limit; for a directory
 * image an overlay over the idmapped tree that came with GO), pivots into
 * it and leaves the harness's mount tree to a second thread to detach.
 * It joins the network namespace as soon as it exists (the first thread
 * goes on with loopback and, as box root after GO, the namespace's
 * limits and the socket counters),
 * sets the hostname and rlimits, drops to Docker's default capabilities,
 * sets no_new_privs and loads the harness's seccomp program, and waits
 * for both threads before the box is reported ready (BENCHMARKS.md has
 * what the overlap saves). Every failure is reported as {step, errno}
 * over the control socket and ends init.
 */
#define SBX_PROTO_ONLY
#include "sandbox/sandbox_int.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/sockios.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Docker's default capability set (moby oci/caps/defaults.go). */
#define DOCKER_CAPS                                                        \
	((1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) |                \
	 (1ull << CAP_FSETID) | (1ull << CAP_FOWNER) | (1ull << CAP_MKNOD) | \
	 (1ull << CAP_NET_RAW) | (1ull << CAP_SETGID) |                     \
	 (1ull << CAP_SETUID) | (1ull << CAP_SETFCAP) |                     \
	 (1ull << CAP_SETPCAP) | (1ull << CAP_NET_BIND_SERVICE) |           \
	 (1ull << CAP_SYS_CHROOT) | (1ull << CAP_KILL) |                    \
	 (1ull << CAP_AUDIT_WRITE))

#define AGENT_UID 1000

static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

/* The GO message: header, struct sbx_m_setup, the seccomp program. */
static struct {
	struct sbx_msg m;
	struct sbx_m_setup su;
	struct sock_filter bpf[SBX_BPF_MAX];
} go;

static int ctl = SBX_CTL_FD;

static __attribute__((noreturn)) void fail(int step)
{
	SBX_SETUP_FAIL(ctl, step);
}

static bool terminated(const char *s, size_t n)
{
	return memchr(s, 0, n) != NULL;
}

static bool setup_ok(size_t n)
{
	const struct sbx_m_setup *su = &go.su;

	if (n < sizeof(go.m) + sizeof(*su) || go.m.type != SBX_M_GO ||
	    go.m.len != n - sizeof(go.m) || su->bpf_len > SBX_BPF_MAX ||
	    go.m.len != sizeof(*su) + su->bpf_len * sizeof(struct sock_filter))
		return false;
	if (!terminated(su->name, sizeof(su->name)) ||
	    !terminated(su->tmpfs_opts, sizeof(su->tmpfs_opts)) ||
	    !terminated(su->mnt_dir, sizeof(su->mnt_dir)) ||
	    !terminated(su->etc_dir, sizeof(su->etc_dir)) ||
	    !terminated(su->hosts, sizeof(su->hosts)) ||
	    !terminated(su->dev_dir, sizeof(su->dev_dir)) ||
	    !terminated(su->lowers, sizeof(su->lowers)))
		return false;
	for (int i = 0; i < SBX_SETUP_LINKS; i++)
		if (!terminated(su->usr_links[i], sizeof(su->usr_links[i])) ||
		    !terminated(su->usr_link_targets[i],
				sizeof(su->usr_link_targets[i])))
			return false;
	return true;
}

/* GO from the harness, with the idmapped image tree for directory images
 * (fd in *tree, else -1). */
static void wait_go(int *tree)
{
	struct iovec iov = { &go, sizeof(go) };
	ssize_t n = sbx_recv_fd(ctl, &iov, 1, tree, 0);

	if (n == 0 || (n < 0 && errno != EPROTO))
		_exit(127); /* the harness is gone: say nothing */
	if (n < 0 || !setup_ok((size_t)n)) {
		errno = EPROTO;
		fail(SBX_STEP_GO);
	}
}

/* The socket memory counter that follows GO when it set sock_counted. */
static int wait_sock_watch(void)
{
	struct sbx_msg m;
	struct iovec iov = { &m, sizeof(m) };
	int fd;
	ssize_t n = sbx_recv_fd(ctl, &iov, 1, &fd, 0);

	if (n == 0 || (n < 0 && errno != EPROTO))
		_exit(127);
	if (n != (ssize_t)sizeof(m) || m.type != SBX_M_SOCKWATCH || m.len ||
	    fd < 0) {
		if (fd >= 0)
			close(fd);
		errno = EPROTO;
		fail(SBX_STEP_GO);
	}
	return fd;
}

/* Become box root, and die with the harness. The raw system calls
 * change this thread only: libc's wrappers would stop the network thread
 * (netns_start) to change its ids too, waiting for its unshare, and it
 * needs none (its capabilities in the box's user namespace suffice). */
static void become_root(void)
{
	struct pollfd pf = { .fd = ctl, .events = POLLRDHUP };

	if (syscall(SYS_setresgid, 0, 0, 0) < 0 ||
	    syscall(SYS_setresuid, 0, 0, 0) < 0 ||
	    syscall(SYS_setgroups, 0, NULL) < 0)
		fail(SBX_STEP_IDS);
	/* after the uid change, which clears it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail(SBX_STEP_PDEATH);
	if (poll(&pf, 1, 0) != 0)
		_exit(127); /* the harness died before PDEATHSIG took hold */
	if (unshare(CLONE_NEWCGROUP) < 0)
		fail(SBX_STEP_CGNS);
}

static int write_file(const char *path, const char *data, size_t n,
		      mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		      O_NOFOLLOW, mode);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (write(fd, data, n) != (ssize_t)n)
		rc = -1;
	close(fd);
	return rc;
}

/* An empty file to bind over (one system call, no descriptor). */
static int touch(const char *path)
{
	return mknod(path, S_IFREG | 0644, 0) < 0 && errno != EEXIST ? -1 : 0;
}

/* The exact mode (setup runs with umask 0); an existing directory (of a
 * directory image) gets it too. */
static int mkdir_mode(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0)
		return 0;
	return errno == EEXIST ? chmod(path, mode) : -1;
}

/* Bind src onto dst read-only, nosuid, nodev, recursively. */
static int bind_ro(const char *src, const char *dst)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};

	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return (int)syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE,
			    &attr, sizeof(attr));
}

/* An image's layers: the tree is the store's layers/ directory, its
 * subdirectories named in lowers (top first) are the overlay's read-only
 * lower layers, relative to it (so the options name no host path), and
 * upper/work are on the box's own tmpfs. cwd: mnt_dir -> the new root. */
static void layered_root(void)
{
	static char opts[4096];
	int n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=../upper,"
			 "workdir=../work,userxattr", go.su.lowers);

	if (n < 0 || (size_t)n >= sizeof(opts) || chdir("lower") < 0 ||
	    mount("overlay", "../root", "overlay", MS_NOSUID | MS_NODEV, opts) < 0 ||
	    chdir("../root") < 0)
		fail(SBX_STEP_OVERLAY);
}

/* tmpfs (the disk quota) at mnt_dir; for a directory image an overlay
 * over it with upper/work on the tmpfs. Leaves cwd at the new root. */
static void make_root(int tree)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", go.su.mnt_dir, "tmpfs", MS_NOSUID | MS_NODEV,
		  go.su.tmpfs_opts) < 0 || chdir(go.su.mnt_dir) < 0)
		fail(SBX_STEP_ROOT);
	if (go.su.host_image)
		return;
	if (tree < 0 || mkdir("upper", 0755) < 0 || mkdir("work", 0755) < 0 ||
	    mkdir("root", 0755) < 0 || mkdir("lower", 0755) < 0 ||
	    syscall(SYS_move_mount, tree, "", AT_FDCWD, "lower",
		    MOVE_MOUNT_F_EMPTY_PATH) < 0)
		fail(SBX_STEP_OVERLAY);
	close(tree);
	if (go.su.lowers[0]) {
		layered_root();
		return;
	}
	if (mount("overlay", "root", "overlay", MS_NOSUID | MS_NODEV,
		  "lowerdir=lower,upperdir=upper,workdir=work,userxattr") < 0 ||
	    chdir("root") < 0)
		fail(SBX_STEP_OVERLAY);
}

/* A read-only overlay of lower at dst, with "../empty", the harness's
 * empty directory beside the /etc template, as the second lower layer
 * overlay wants when there is no upper one. Called with cwd at the
 * template: the options it stores (and mountinfo shows) are "/usr", "/bin"
 * or "." and "../empty", no harness path. The box sees the files through
 * inodes of its own (a lock, lease or inotify watch never meets another
 * box's); the data and its page cache stay shared. */
static int overlay_ro(const char *lower, const char *root, const char *dst)
{
	char opts[64], path[SBX_PATH_MAX + 32];

	snprintf(opts, sizeof(opts), "lowerdir=%s:../empty", lower);
	snprintf(path, sizeof(path), "%s/%s", root, dst);
	return mount("overlay", path, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV,
		     opts);
}

/* image "host": /usr and its top-level links (or directories) read-only,
 * and the /etc the harness built, each through an overlay of the box's
 * own. The layers are named relative to the template (cwd there while
 * mounting; the root is mnt_dir, cwd on entry and on return): no bind
 * of them to unmount again, which would wait for an RCU grace period
 * (≈ 0.5 ms a box). */
static void host_image(void)
{
	const char *root = go.su.mnt_dir;

	if (mkdir("usr", 0755) < 0 || mkdir("etc", 0755) < 0)
		fail(SBX_STEP_USR);
	for (int i = 0; i < SBX_SETUP_LINKS && go.su.usr_links[i][0]; i++) {
		const char *n = go.su.usr_links[i];

		if (go.su.usr_link_targets[i][0] ?
		    symlink(go.su.usr_link_targets[i], n) < 0 : mkdir(n, 0755) < 0)
			fail(SBX_STEP_USR);
	}
	if (chdir(go.su.etc_dir) < 0 || overlay_ro("/usr", root, "usr") < 0)
		fail(SBX_STEP_USR);
	for (int i = 0; i < SBX_SETUP_LINKS && go.su.usr_links[i][0]; i++) {
		const char *n = go.su.usr_links[i];
		char src[32];

		snprintf(src, sizeof(src), "/%s", n);
		if (!go.su.usr_link_targets[i][0] && overlay_ro(src, root, n) < 0)
			fail(SBX_STEP_USR);
	}
	if (overlay_ro(".", root, "etc") < 0 || chdir(root) < 0)
		fail(SBX_STEP_ETC);
}

/* hosts and hostname: in etc/ of a directory image; for the host image
 * in run/etc/, where the read-only template's symlinks point */
static void common_etc(void)
{
	bool host = go.su.host_image;
	const char *hosts = host ? "run/etc/hosts" : "etc/hosts";
	const char *hostname = host ? "run/etc/hostname" : "etc/hostname";
	char name[sizeof(go.su.name) + 1];
	int n = snprintf(name, sizeof(name), "%s\n", go.su.name);

	if ((host && mkdir("run/etc", 0755) < 0) ||
	    (!host && mkdir("etc", 0755) < 0 && errno != EEXIST))
		fail(SBX_STEP_ETC);
	if (write_file(hosts, go.su.hosts, strlen(go.su.hosts), 0644) ||
	    write_file(hostname, name, (size_t)n, 0644))
		fail(SBX_STEP_ETC);
}

static void skeleton(void)
{
	static const struct { const char *p; mode_t m; } dirs[] = {
		{ "tmp", 01777 }, { "var", 0755 }, { "var/tmp", 01777 },
		{ "var/log", 0755 }, { "run", 0755 }, { "root", 0700 },
		{ "home", 0755 }, { "home/agent", 0750 }, { "srv", 0755 },
		{ "opt", 0755 }, { "proc", 0555 }, { "dev", 0755 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdir_mode(dirs[i].p, dirs[i].m) < 0)
			fail(SBX_STEP_ROOT);
	if (chown("home/agent", AGENT_UID, AGENT_UID) < 0)
		fail(SBX_STEP_ROOT);
}

static void make_dev(void)
{
	char src[sizeof(go.su.dev_dir) + 16], dst[32];

	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		snprintf(src, sizeof(src), "%s/%s", go.su.dev_dir, dev_nodes[i]);
		snprintf(dst, sizeof(dst), "dev/%s", dev_nodes[i]);
		if (touch(dst) < 0 ||
		    mount(src, dst, NULL, MS_BIND, NULL) < 0)
			fail(SBX_STEP_DEV);
	}
	if (mkdir_mode("dev/shm", 01777) < 0 || mkdir("dev/pts", 0755) < 0 ||
	    mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0 ||
	    symlink("pts/ptmx", "dev/ptmx") < 0 ||
	    symlink("/proc/self/fd", "dev/fd") < 0 ||
	    symlink("/proc/self/fd/0", "dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "dev/stderr") < 0)
		fail(SBX_STEP_DEV);
}

/* Host-wide files of /proc that tell a box about the machine and not
 * about itself (the kernel command line names the host's control ports;
 * interrupt counts move with other boxes' traffic) and that a box can
 * read (root-only ones such as timer_list or slabinfo are already closed
 * to box root, kallsyms and iomem show it no addresses), read as empty: a
 * null device bound over each (box root cannot unmount: no mount
 * calls pass seccomp). Absent ones are skipped. */
static const char *const proc_masked[] = {
	"cmdline", "config.gz", "interrupts", "softirqs", "key-users",
	"modules",
};

static void mask_proc(void)
{
	char dst[32], null[sizeof(go.su.dev_dir) + 8];

	/* the slot's own null: the host's would be an inode every box shares */
	snprintf(null, sizeof(null), "%s/null", go.su.dev_dir);
	for (size_t i = 0; i < ARRAY_SIZE(proc_masked); i++) {
		snprintf(dst, sizeof(dst), "proc/%s", proc_masked[i]);
		if (mount(null, dst, NULL, MS_BIND, NULL) < 0 &&
		    errno != ENOENT)
			fail(SBX_STEP_PROC);
	}
	if (proc_view(go.su.etc_dir, null, go.su.memory_mb) < 0)
		fail(SBX_STEP_PROC);
}

/* The harness set init's oom_score_adj to -1000 (box.c): the OOM killer
 * never picks init, so a box that fills its memory (or a tmpfs) loses the
 * command, not the box. Anyone may raise an oom_score_adj, and the agent
 * may be root in the box: init's whole /proc/1 (oom_score_adj, oom_adj,
 * and the same under task/1) is bound read-only over itself, one mount
 * instead of one per file (commands reset theirs in init.c). */
static void shield_oom(void)
{
	if (bind_ro("proc/1", "proc/1") < 0)
		fail(SBX_STEP_PROC);
}

/* init's two set-up threads run on stacks of its own: no mapping to make
 * and unmap per thread (with a stack of its own, musl puts the thread's
 * TLS on it too). Each runs a few system calls, far from 64 KiB deep. */
#define SETUP_STACK (64 << 10)

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg,
			void *stack)
{
	pthread_attr_t a;
	int rc = pthread_attr_init(&a);

	if (!rc)
		rc = pthread_attr_setstack(&a, stack, SETUP_STACK);
	if (!rc)
		rc = pthread_create(t, &a, fn, arg);
	pthread_attr_destroy(&a);
	errno = rc;
	return rc ? -1 : 0;
}

/* The harness's mount tree, left stacked over the new root by
 * pivot_root(".", "."), is detached by a thread of its own: an unmount
 * waits for an RCU grace period (≈ 0.3 ms on the 2-core VM), which then
 * passes while init sets up the rest. Until the thread is joined nothing
 * of the box runs; init's own lookups start at the new root and never
 * enter the old tree (only a mount-point lookup, as umount's, does). */
struct unmount_job {
	pthread_t thread;
	int err;       /* errno of umount2, or 0 */
};

static void *unmount_old_root(void *arg)
{
	struct unmount_job *job = arg;

	job->err = umount2("/", MNT_DETACH) < 0 ? errno : 0;
	return NULL;
}

static void pivot(struct unmount_job *old)
{
	static _Alignas(64) char stack[SETUP_STACK];

	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		fail(SBX_STEP_PROC);
	mask_proc();
	shield_oom();
	if (syscall(SYS_pivot_root, ".", ".") < 0 || chdir("/") < 0)
		fail(SBX_STEP_PIVOT);
	if (start_thread(&old->thread, unmount_old_root, old, stack) < 0)
		fail(SBX_STEP_PIVOT);
}

static void pivot_finish(struct unmount_job *old)
{
	pthread_join(old->thread, NULL);
	if (old->err) {
		errno = old->err;
		fail(SBX_STEP_PIVOT);
	}
}

/* The network namespace, made by a thread of its own (a namespace of the
 * calling thread only) from init's start, while init waits for GO and
 * builds the root. The thread publishes an fd of the namespace as soon
 * as it exists, for init to join, and then brings up loopback, writes
 * the namespace's limits and opens the socket counters (sockmem.c, once
 * GO has said whether to) while init finishes; init joins the thread
 * before it reports the box ready. */
struct netns_job {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int proc;          /* the host's /proc, opened before init pivots
	                      (the thread's root moves with pivot_root) */
	int fd;            /* the new netns, or -1 */
	bool published;    /* fd is set, or err */
	bool go;           /* GO is in: sockmem and packet are set */
	bool sockmem;      /* open the socket counters */
	bool packet;       /* ... for a box with packet sockets */
	int err, step;     /* errno and step of the first failure */
};

/* TCP buffers of the box's own network namespace. On cgroup v1 the
 * kernel charges TCP memory to memory.kmem.tcp (its limit, cgroup.c) but
 * still forces about one receive window per socket past it: with the
 * host's defaults (rmem 128 KiB initial, autotuned to 32 MiB) a 64 MiB
 * box pinned 270 MiB with 3000 connections. 16 KiB windows, never
 * autotuned above, cap what each socket forces and so how fast a burst
 * grows the counter init watches (init.c; ample for the services of a
 * task; docs/SECURITY.md). net.core's rmem_max/wmem_max, which
 * bound setsockopt(SO_*BUF), are the host's (read-only outside the
 * initial user namespace).
 * What no cgroup is charged for (sockmem.c) is bounded here too: a
 * listener queues at most LISTEN_BACKLOG connections and as many request
 * minisockets (Python's and glibc's default backlog; nginx asks 511);
 * time-wait sockets are at most 4096 (2 MiB; past them a closed
 * connection skips TIME_WAIT, harmless on the episode's own network);
 * IP fragments waiting for reassembly at most 256 KiB per family (the
 * default, 4 MiB, is per namespace). MPTCP is off: its connections and
 * subflows are sockets sockmem.c does not sum (a program asking for it
 * falls back to TCP, as on a kernel without it).
 * /proc/sys is read-only in the box (proc_view), so box root cannot
 * raise them; an optional file that is absent (a kernel without IPv6
 * or MPTCP) is skipped, any other missing one fails the box. */
#define STR_(x) #x
#define STR(x) STR_(x)
static const struct {
	const char *path, *value;
	bool optional;       /* absent where the kernel lacks IPv6, MPTCP */
} net_sysctls[] = {
	{ "sys/net/ipv4/tcp_rmem", "4096 16384 16384", false },
	{ "sys/net/ipv4/tcp_wmem", "4096 16384 16384", false },
	{ "sys/net/core/somaxconn", STR(LISTEN_BACKLOG), false },
	{ "sys/net/ipv4/tcp_max_tw_buckets", "4096", false },
	{ "sys/net/ipv4/ipfrag_low_thresh", "196608", false },
	{ "sys/net/ipv4/ipfrag_high_thresh", "262144", false },
	{ "sys/net/ipv6/ip6frag_low_thresh", "196608", true },
	{ "sys/net/ipv6/ip6frag_high_thresh", "262144", true },
	{ "sys/net/mptcp/enabled", "0", true },
};

static int net_limits(int proc)
{
	for (size_t i = 0; i < ARRAY_SIZE(net_sysctls); i++) {
		size_t n = strlen(net_sysctls[i].value);
		int fd = openat(proc, net_sysctls[i].path, O_WRONLY | O_CLOEXEC);
		ssize_t w = fd < 0 ? -1 : write(fd, net_sysctls[i].value, n);

		if (fd < 0 && errno == ENOENT && net_sysctls[i].optional)
			continue;
		if (fd >= 0)
			close(fd);
		if (w != (ssize_t)n)
			return -1;
	}
	return 0;
}

static void netns_signal(struct netns_job *job, bool *flag)
{
	pthread_mutex_lock(&job->lock);
	*flag = true;
	pthread_cond_broadcast(&job->cond);
	pthread_mutex_unlock(&job->lock);
}

static void netns_wait(struct netns_job *job, const bool *flag)
{
	pthread_mutex_lock(&job->lock);
	while (!*flag)
		pthread_cond_wait(&job->cond, &job->lock);
	pthread_mutex_unlock(&job->lock);
}

static void netns_failed(struct netns_job *job, int step)
{
	if (!job->err) {
		job->err = errno ? errno : EIO;
		job->step = step;
	}
}

/* What the namespace gets once init may join it: loopback up, then,
 * once GO has come (the uid maps are written), as box root like init
 * (until then the thread has the harness's ids, with capabilities only
 * in the box's user namespace), the limits and the socket counters. */
static void netns_finish_setup(struct netns_job *job, int s)
{
	struct ifreq ifr = { 0 };

	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return netns_failed(job, SBX_STEP_HOST);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return netns_failed(job, SBX_STEP_HOST);
	netns_wait(job, &job->go);
	if (syscall(SYS_setresgid, 0, 0, 0) < 0 ||
	    syscall(SYS_setresuid, 0, 0, 0) < 0 ||
	    syscall(SYS_setgroups, 0, NULL) < 0)
		return netns_failed(job, SBX_STEP_IDS);
	if (net_limits(job->proc) < 0)
		return netns_failed(job, SBX_STEP_HOST);
	if (job->sockmem && init_sockmem_open(job->proc, job->packet) < 0)
		netns_failed(job, SBX_STEP_LIMITS);
}

static void *make_netns(void *arg)
{
	struct netns_job *job = arg;
	int s = -1;

	if (unshare(CLONE_NEWNET) < 0 ||
	    (s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    (job->fd = ioctl(s, SIOCGSKNS)) < 0)  /* an fd of s's netns */
		netns_failed(job, SBX_STEP_HOST);
	netns_signal(job, &job->published);
	if (job->fd >= 0)
		netns_finish_setup(job, s);
	if (s >= 0)
		close(s);
	return NULL;
}

static void netns_start(struct netns_job *job)
{
	static _Alignas(64) char stack[SETUP_STACK];

	memset(job, 0, sizeof(*job));
	job->fd = -1;
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->cond, NULL);
	job->proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (job->proc < 0)
		fail(SBX_STEP_HOST);
	if (start_thread(&job->thread, make_netns, job, stack) < 0)
		fail(SBX_STEP_HOST);
}

/* GO is in: whether the thread opens the socket counters. */
static void netns_go(struct netns_job *job, bool sockmem, bool packet)
{
	job->sockmem = sockmem;
	job->packet = packet;
	netns_signal(job, &job->go);
}

/* Move init into the namespace once the thread has made it. */
static void netns_join(struct netns_job *job)
{
	netns_wait(job, &job->published);
	if (job->fd < 0) {
		errno = job->err;
		fail(SBX_STEP_HOST);
	}
	if (setns(job->fd, CLONE_NEWNET) < 0 ||
	    fcntl(job->fd, F_SETFD, FD_CLOEXEC) < 0)
		fail(SBX_STEP_HOST);
}

/* Wait for the rest of the thread's work. */
static void netns_end(struct netns_job *job)
{
	pthread_join(job->thread, NULL);
	close(job->proc);
	if (job->err) {
		errno = job->err;
		fail(job->step);
	}
}

static void host_name(void)
{
	if (sethostname(go.su.name, strlen(go.su.name)) < 0)
		fail(SBX_STEP_HOST);
}

static void set_limits(void)
{
	struct rlimit nofile = { go.su.nofile, go.su.nofile };
	struct rlimit core = { 0, 0 };

	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
	    setrlimit(RLIMIT_CORE, &core) < 0 || setsid() < 0)
		fail(SBX_STEP_LIMITS);
}

/* Packet rings are made by init (ringwatch.c) in a box that may open
 * packet sockets and has a socket memory cap. */
static bool ring_watch(void)
{
	return go.su.packet_sockets && go.su.sock_cap;
}

static void drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	for (unsigned c = 0; c <= go.su.cap_last && c < 64; c++)
		if (!(DOCKER_CAPS & (1ull << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			fail(SBX_STEP_CAPS);
	/* a ring watch reads callers' memory: init alone keeps the right
	 * (outside the bounding set, no command inherits it; ringwatch.c) */
	uint64_t caps = DOCKER_CAPS | (ring_watch() ? 1ull << CAP_SYS_PTRACE : 0);

	d[0].effective = d[0].permitted = (uint32_t)caps;
	d[1].effective = d[1].permitted = (uint32_t)(caps >> 32);
	if (syscall(SYS_capset, &h, d) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fail(SBX_STEP_CAPS);
}

static void harden(void)
{
	struct sock_fprog prog = { (unsigned short)go.su.bpf_len, go.bpf };

	drop_caps();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		fail(SBX_STEP_SECCOMP);
}

/* The mount, IPC and UTS namespaces of the box (the harness's clone
 * made only the user and pid ones), for init alone: the network thread,
 * already running, keeps the harness's (it only writes through its /proc
 * fd and exits before the box is ready). */
static void own_namespaces(void)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		fail(SBX_STEP_NS);
}

int init_box_setup(struct init_sock_watch *sw)
{
	struct netns_job net;
	struct unmount_job old_root;
	int tree;

	netns_start(&net);   /* needs nothing from GO: at once */
	own_namespaces();    /* nor this: while GO is on its way */
	wait_go(&tree);
	netns_go(&net, go.su.sock_cap != 0, go.su.packet_sockets);
	sw->cap = go.su.sock_cap;
	sw->rate = go.su.sock_rate ? go.su.sock_rate : 1;
	sw->fd = sw->cap && go.su.sock_counted ? wait_sock_watch() : -1;
	umask(0);
	become_root();
	make_root(tree);
	if (go.su.host_image)
		host_image();
	skeleton();
	common_etc();
	make_dev();
	pivot(&old_root);
	host_name();
	netns_join(&net);
	set_limits();
	harden();
	if (ring_watch() && init_ringwatch_start() < 0)
		fail(SBX_STEP_SECCOMP);
	netns_end(&net);
	pivot_finish(&old_root);
	umask(022); /* what commands in the box start with, as in Docker */
	return net.fd;
}
