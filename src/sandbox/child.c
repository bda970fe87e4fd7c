/*
 * child.c - what the cloned child does between clone() and exec of
 * assay-init.
 *
 * The child runs in fresh user, mount, pid, ipc, uts and net namespaces.
 * It waits until the parent has written its uid/gid maps and put it into
 * its cgroups, becomes box root, builds the box root on a tmpfs (size =
 * disk limit), pivots into it, drops to Docker's default capabilities,
 * sets no_new_privs, loads the precompiled seccomp filter and execs init
 * from a sealed memfd. Only async-signal-safe calls and no allocation
 * (the parent may have had other threads); every failure is reported as
 * {step, errno} over the control socket and ends the child.
 */
#include "sandbox/sandbox_int.h"

#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Docker's default capability set (moby oci/caps/defaults.go). */
#define DOCKER_CAPS                                                        \
	((1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) |                \
	 (1ull << CAP_FSETID) | (1ull << CAP_FOWNER) | (1ull << CAP_MKNOD) | \
	 (1ull << CAP_NET_RAW) | (1ull << CAP_SETGID) |                     \
	 (1ull << CAP_SETUID) | (1ull << CAP_SETFCAP) |                     \
	 (1ull << CAP_SETPCAP) | (1ull << CAP_NET_BIND_SERVICE) |           \
	 (1ull << CAP_SYS_CHROOT) | (1ull << CAP_KILL) |                    \
	 (1ull << CAP_AUDIT_WRITE))

static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

static __attribute__((noreturn)) void fail(int ctl, int step)
{
	struct {
		struct sbx_msg m;
		struct sbx_m_setup_err se;
	} msg = { { SBX_M_SETUP_ERR, sizeof(struct sbx_m_setup_err) },
		  { step, errno } };

	(void)!send(ctl, &msg, sizeof(msg), MSG_NOSIGNAL);
	_exit(127);
}

/* dst = a + b, truncated to n (snprintf is not async-signal-safe). */
static void cat2(char *dst, size_t n, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la >= n)
		la = n - 1;
	if (lb >= n - la)
		lb = n - la - 1;
	memcpy(dst, a, la);
	memcpy(dst + la, b, lb);
	dst[la + lb] = 0;
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

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

static int mkdir_mode(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	return chmod(path, mode);
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

/* GO from the parent, with the idmapped image tree for directory images
 * (fd in *tree, else -1). */
static int wait_go(int ctl, int *tree)
{
	struct sbx_msg m;
	struct iovec iov = { &m, sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*tree = -1;
	do
		n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(tree, CMSG_DATA(c), sizeof(int));
	return n == (ssize_t)sizeof(m) && m.type == SBX_M_GO ? 0 : -1;
}

/* Become box root, and die with the harness. */
static void become_root(int ctl, int *tree)
{
	struct pollfd pf = { .fd = ctl, .events = POLLRDHUP };

	if (wait_go(ctl, tree) < 0)
		_exit(127); /* parent gone or refused: say nothing */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 ||
	    setgroups(0, NULL) < 0)
		fail(ctl, SBX_STEP_IDS);
	/* after the uid change, which clears it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail(ctl, SBX_STEP_PDEATH);
	if (poll(&pf, 1, 0) != 0)
		_exit(127); /* the parent died before PDEATHSIG took hold */
	if (unshare(CLONE_NEWCGROUP) < 0)
		fail(ctl, SBX_STEP_CGNS);
}

static void host_usr(int ctl)
{
	if (mkdir("usr", 0755) < 0 || bind_ro("/usr", "usr") < 0)
		fail(ctl, SBX_STEP_USR);
	for (int i = 0; i < 4 && sbx_g.usr_links[i][0]; i++) {
		const char *n = sbx_g.usr_links[i];

		if (sbx_g.usr_link_targets[i][0]) {
			if (symlink(sbx_g.usr_link_targets[i], n) < 0)
				fail(ctl, SBX_STEP_USR);
			continue;
		}
		char src[32];

		cat2(src, sizeof(src), "/", n);
		if (mkdir(n, 0755) < 0 || bind_ro(src, n) < 0)
			fail(ctl, SBX_STEP_USR);
	}
}

static void host_etc(int ctl)
{
	if (mkdir("etc", 0755) < 0 || bind_ro(sbx_g.etc_dir, "etc") < 0)
		fail(ctl, SBX_STEP_ETC);
}

/* hosts and hostname: in etc/ of a directory image; for the host image
 * in run/etc/, where the read-only template's symlinks point */
static void common_etc(const struct sbx_child_args *a, bool host)
{
	char name[80];
	size_t n = strlen(a->name);
	const char *hosts = host ? "run/etc/hosts" : "etc/hosts";
	const char *hostname = host ? "run/etc/hostname" : "etc/hostname";

	if ((host && mkdir("run/etc", 0755) < 0) ||
	    (!host && mkdir("etc", 0755) < 0 && errno != EEXIST))
		fail(a->ctl, SBX_STEP_ETC);
	memcpy(name, a->name, n);
	name[n] = '\n';
	if (write_file(hosts, a->hosts, strlen(a->hosts), 0644) ||
	    write_file(hostname, name, n + 1, 0644))
		fail(a->ctl, SBX_STEP_ETC);
}

static void skeleton(int ctl)
{
	static const struct { const char *p; mode_t m; } dirs[] = {
		{ "tmp", 01777 }, { "var", 0755 }, { "var/tmp", 01777 },
		{ "var/log", 0755 }, { "run", 0755 }, { "root", 0700 },
		{ "home", 0755 }, { "home/agent", 0750 }, { "srv", 0755 },
		{ "opt", 0755 }, { "proc", 0555 }, { "dev", 0755 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdir_mode(dirs[i].p, dirs[i].m) < 0)
			fail(ctl, SBX_STEP_ROOT);
	if (chown("home/agent", SBX_AGENT_UID, SBX_AGENT_UID) < 0)
		fail(ctl, SBX_STEP_ROOT);
}

static void make_dev(int ctl)
{
	char src[32], dst[32];

	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		cat2(src, sizeof(src), "/dev/", dev_nodes[i]);
		cat2(dst, sizeof(dst), "dev/", dev_nodes[i]);
		if (touch(dst) < 0 ||
		    mount(src, dst, NULL, MS_BIND, NULL) < 0)
			fail(ctl, SBX_STEP_DEV);
	}
	if (mkdir_mode("dev/shm", 01777) < 0 || mkdir("dev/pts", 0755) < 0 ||
	    mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0 ||
	    symlink("pts/ptmx", "dev/ptmx") < 0 ||
	    symlink("/proc/self/fd", "dev/fd") < 0 ||
	    symlink("/proc/self/fd/0", "dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "dev/stderr") < 0)
		fail(ctl, SBX_STEP_DEV);
}

/* tmpfs (the disk quota) at mnt_dir; for a directory image an overlay
 * over it with upper/work on the tmpfs. Leaves cwd at the new root. */
static void make_root(const struct sbx_child_args *a, int tree)
{
	char opts[SBX_PATH_MAX + 128], low[SBX_PATH_MAX + 16];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", sbx_g.mnt_dir, "tmpfs", MS_NOSUID | MS_NODEV,
		  a->tmpfs_opts) < 0 || chdir(sbx_g.mnt_dir) < 0)
		fail(a->ctl, SBX_STEP_ROOT);
	if (!strcmp(a->image, "host"))
		return;
	if (tree < 0 || mkdir("upper", 0755) < 0 || mkdir("work", 0755) < 0 ||
	    mkdir("root", 0755) < 0 || mkdir("lower", 0755) < 0 ||
	    syscall(SYS_move_mount, tree, "", AT_FDCWD, "lower",
		    MOVE_MOUNT_F_EMPTY_PATH) < 0)
		fail(a->ctl, SBX_STEP_OVERLAY);
	close(tree);
	cat2(low, sizeof(low), "lowerdir=", "lower");
	cat2(opts, sizeof(opts), low, ",upperdir=upper,workdir=work,userxattr");
	if (mount("overlay", "root", "overlay", MS_NOSUID | MS_NODEV, opts) < 0 ||
	    chdir("root") < 0)
		fail(a->ctl, SBX_STEP_OVERLAY);
}

static void lo_up(int ctl)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(ifr.ifr_name, "lo", 3);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail(ctl, SBX_STEP_HOST);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail(ctl, SBX_STEP_HOST);
	close(s);
}

static void set_limits(const struct sbx_child_args *a)
{
	struct rlimit nofile = { (rlim_t)a->lim.nofile, (rlim_t)a->lim.nofile };
	struct rlimit core = { 0, 0 };

	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
	    setrlimit(RLIMIT_CORE, &core) < 0 || setsid() < 0)
		fail(a->ctl, SBX_STEP_LIMITS);
}

static void drop_caps(int ctl)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	for (int c = 0; c <= sbx_g.cap_last; c++)
		if (!(DOCKER_CAPS & (1ull << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			fail(ctl, SBX_STEP_CAPS);
	d[0].effective = d[0].permitted = (uint32_t)DOCKER_CAPS;
	d[1].effective = d[1].permitted = (uint32_t)(DOCKER_CAPS >> 32);
	if (syscall(SYS_capset, &h, d) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fail(ctl, SBX_STEP_CAPS);
}

static void harden(int ctl)
{
	struct sock_fprog prog = { sbx_g.bpf_len, sbx_g.bpf };

	drop_caps(ctl);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		fail(ctl, SBX_STEP_SECCOMP);
}

static void exec_init(int ctl)
{
	static char *const argv[] = { "assay-init", NULL };
	static char *const envp[] = { NULL };
	int ifd = sbx_g.init_fd;

	if (ifd == SBX_CTL_FD)
		ifd = fcntl(ifd, F_DUPFD_CLOEXEC, SBX_CTL_FD + 1);
	if (ctl != SBX_CTL_FD ? dup2(ctl, SBX_CTL_FD) < 0 :
	    fcntl(ctl, F_SETFD, 0) < 0)
		fail(ctl, SBX_STEP_EXEC);
	syscall(SYS_execveat, ifd, "", argv, envp, AT_EMPTY_PATH);
	fail(ctl, SBX_STEP_EXEC);
}

static void stdio_null(int ctl)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fail(ctl, SBX_STEP_ROOT);
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			fail(ctl, SBX_STEP_ROOT);
	if (fd > 2)
		close(fd);
}

/* Into the box's cgroups before anything is charged (see cgroup.c). */
static void self_attach(const struct sbx_child_args *a)
{
	for (int i = 0; i < 3; i++) {
		if (a->cg_tasks[i] < 0)
			continue;
		if (write(a->cg_tasks[i], "0", 1) != 1)
			fail(a->ctl, SBX_STEP_CGROUP);
		close(a->cg_tasks[i]);
	}
}

int sbx_child_main(const struct sbx_child_args *a)
{
	int ctl = a->ctl, tree;

	close(a->parent_ctl);
	self_attach(a);
	/* nothing of the harness crosses the exec */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	stdio_null(ctl);
	become_root(ctl, &tree);
	make_root(a, tree);
	if (!strcmp(a->image, "host")) {
		host_usr(ctl);
		host_etc(ctl);
	}
	skeleton(ctl);
	common_etc(a, !strcmp(a->image, "host"));
	make_dev(ctl);
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		fail(ctl, SBX_STEP_PROC);
	if (syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		fail(ctl, SBX_STEP_PIVOT);
	if (sethostname(a->name, strlen(a->name)) < 0)
		fail(ctl, SBX_STEP_HOST);
	lo_up(ctl);
	set_limits(a);
	harden(ctl);
	exec_init(ctl);
	return 127;
}
