/*
 * seccomp.c - the box's syscall filter, compiled once with libseccomp.
 *
 * The child only loads the raw BPF (libseccomp must not run after clone:
 * it allocates). Default allow, with a deny list in the spirit of Docker's
 * profile, aimed at the kernel attack surface a box never needs: nested
 * user namespaces (most recent LPEs start there), the mount API, bpf,
 * perf, keyrings, io_uring, userfaultfd, kexec/modules, file handles,
 * setns, TIOCSTI, inotify (watches on the image's shared inodes would
 * see other boxes' opens), and every socket family but AF_UNIX, AF_INET,
 * AF_INET6 and AF_NETLINK (route, sock_diag, netfilter, generic) —
 * AF_VSOCK in particular is not network-namespaced; AF_PACKET only for a
 * box that asks for it. AF_XDP never: without bpf() nothing can send it a
 * frame, and its rings, as large as one setsockopt asks, are charged to
 * no cgroup (four of 256 MiB from a 64 MiB box, 2026-12-06). ptrace and personality stay allowed:
 * pwn tasks need gdb. Other architectures (i386, x32 numbers) hit
 * libseccomp's bad-arch kill.
 */
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/banned.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const denied[] = {
	"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig",
	"fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"userfaultfd", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "open_by_handle_at", "setns",
	"swapon", "swapoff", "reboot", "syslog", "acct", "quotactl",
	"quotactl_fd", "lookup_dcookie", "uselib", "nfsservctl", "iopl",
	"ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"fanotify_init", "create_module", "get_kernel_syms", "query_module",
	"vm86", "vm86old", "inotify_init", "inotify_init1",
	"inotify_add_watch",
};

/* namespace flags that clone()/unshare() may not ask for */
static const unsigned long ns_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
	CLONE_NEWUTS, CLONE_NEWCGROUP,
};

static int deny_flags(scmp_filter_ctx ctx)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]) && !rc; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i],
						      ns_flags[i]));
	}
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME,
					      CLONE_NEWTIME));
	/* clone3 passes flags in memory, out of the filter's reach: ENOSYS
	 * makes libc fall back to clone() */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return rc;
}

static int deny_ioctls(scmp_filter_ctx ctx)
{
	static const unsigned long req[] = { TIOCSTI, TIOCLINUX };
	int rc = 0;

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]) && !rc; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req[i]));
	return rc;
}

#define FAMILY_MAX 64   /* above AF_MAX; everything from here on is denied */

static bool family_allowed(int f, bool packet)
{
	return f == AF_UNIX || f == AF_INET || f == AF_INET6 ||
	       f == AF_NETLINK || (packet && f == AF_PACKET);
}

/* a0..a5 compared as a C int: only the low 32 bits (high garbage in the
 * register cannot slip past a rule; the kernel truncates the same way) */
#define INT_EQ(arg, v) SCMP_CMP64((arg), SCMP_CMP_MASKED_EQ, 0xffffffffu, \
				  (uint32_t)(v))
#define INT_BIT(arg, b) SCMP_CMP64((arg), SCMP_CMP_MASKED_EQ, 1u << (b), \
				   1u << (b))

/* socket() and socketpair() of a family outside the list: EAFNOSUPPORT,
 * as a kernel without it would say. Values from FAMILY_MAX up (any of
 * bits 6..31 set, negative ones included) are refused bit by bit. */
static int deny_families(scmp_filter_ctx ctx, bool packet)
{
	static const int calls[] = { SCMP_SYS(socket), SCMP_SYS(socketpair) };
	const uint32_t act = SCMP_ACT_ERRNO(EAFNOSUPPORT);
	int rc = 0;

	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]) && !rc; c++) {
		for (int f = 0; f < FAMILY_MAX && !rc; f++)
			if (!family_allowed(f, packet))
				rc = seccomp_rule_add(ctx, act, calls[c], 1,
						      INT_EQ(0, f));
		for (int b = 6; b < 32 && !rc; b++)
			rc = seccomp_rule_add(ctx, act, calls[c], 1, INT_BIT(0, b));
	}
	return rc;
}

/* Netlink protocols whose objects live in the box's own network
 * namespace: routes and links (ip), socket diagnostics (ss), netfilter
 * (nft, iptables) and generic netlink (ethtool). The others (uevents,
 * audit, crypto, connector, SCSI, RDMA, ...) are refused. */
static int deny_netlink(scmp_filter_ctx ctx)
{
	static const int ok[] = { NETLINK_ROUTE, NETLINK_SOCK_DIAG,
				  NETLINK_NETFILTER, NETLINK_GENERIC };
	const uint32_t act = SCMP_ACT_ERRNO(EPROTONOSUPPORT);
	int rc = 0;

	for (int p = 0; p < 32 && !rc; p++) {
		bool allowed = false;

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			allowed |= ok[i] == p;
		if (!allowed)
			rc = seccomp_rule_add(ctx, act, SCMP_SYS(socket), 2,
					      INT_EQ(0, AF_NETLINK), INT_EQ(2, p));
	}
	for (int b = 5; b < 32 && !rc; b++)
		rc = seccomp_rule_add(ctx, act, SCMP_SYS(socket), 2,
				      INT_EQ(0, AF_NETLINK), INT_BIT(2, b));
	return rc;
}

/* setsockopt(SOL_SOCKET, SO_SNDBUF/SO_RCVBUF) succeeds without effect:
 * a larger buffer is what the kernel forces per TCP socket past the
 * box's TCP memory limit (init/setup.c), and the host's rmem_max (4 MiB
 * here) cannot be lowered from the box's namespace. Programs that ask
 * keep the box's 16 KiB default, as if the kernel had clamped them. */
static int ignore_sockbuf(scmp_filter_ctx ctx)
{
	static const int opts[] = { SO_SNDBUF, SO_RCVBUF };
	int rc = 0;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]) && !rc; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(setsockopt), 2,
				      INT_EQ(1, SOL_SOCKET), INT_EQ(2, opts[i]));
	return rc;
}

static int build(scmp_filter_ctx ctx, bool packet)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]) && !rc; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (!rc)
		rc = deny_flags(ctx);
	if (!rc)
		rc = deny_ioctls(ctx);
	if (!rc)
		rc = deny_families(ctx, packet);
	if (!rc)
		rc = deny_netlink(ctx);
	if (!rc)
		rc = ignore_sockbuf(ctx);
	return rc;
}

static enum err export_bpf(scmp_filter_ctx ctx, struct sock_filter **prog_out,
			   unsigned short *len_out, struct errmsg *e)
{
	int fd = memfd_create("assay-bpf", MFD_CLOEXEC);
	struct stat sb;
	char *data;
	int rc;

	if (fd < 0)
		return err_sys(e, ERR_SANDBOX, "memfd for the seccomp filter");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0 || fstat(fd, &sb) < 0 || sb.st_size <= 0 ||
	    sb.st_size % (off_t)sizeof(struct sock_filter) ||
	    sb.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		close(fd);
		return err_set(e, ERR_SANDBOX, "cannot export the seccomp filter");
	}
	data = xmalloc((size_t)sb.st_size);
	if (pread(fd, data, (size_t)sb.st_size, 0) != sb.st_size) {
		free(data);
		close(fd);
		return err_sys(e, ERR_SANDBOX, "cannot read the seccomp filter");
	}
	close(fd);
	*prog_out = (struct sock_filter *)(void *)data;
	*len_out = (unsigned short)(sb.st_size / (off_t)sizeof(struct sock_filter));
	return ERR_OK;
}

enum err sbx_seccomp_compile(bool packet, struct sock_filter **prog_out,
			     unsigned short *len_out, struct errmsg *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	enum err rc;
	int r;

	if (!ctx)
		return err_set(e, ERR_SANDBOX, "seccomp_init failed");
	/* a binary tree over syscall numbers instead of a linear list: fewer
	 * instructions per syscall in the box, and a cheaper load (the kernel
	 * runs the filter over every syscall number to build its cache) */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (!r)
		r = build(ctx, packet);
	if (r < 0) {
		seccomp_release(ctx);
		errno = -r;
		return err_sys(e, ERR_SANDBOX, "cannot build the seccomp filter");
	}
	rc = export_bpf(ctx, prog_out, len_out, e);
	seccomp_release(ctx);
	return rc;
}
