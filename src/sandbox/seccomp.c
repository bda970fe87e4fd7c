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
#define NETLINK_MAX 32  /* above MAX_LINKS */

/* a0..a5 compared as a C int: only the low 32 bits (high garbage in the
 * register cannot slip past a rule; the kernel truncates the same way) */
#define INT_EQ(arg, v) SCMP_CMP64((arg), SCMP_CMP_MASKED_EQ, 0xffffffffu, \
				  (uint32_t)(v))
/* the low 32 bits in [v, v + 2^k), v aligned to 2^k */
#define INT_BLOCK(arg, v, k) SCMP_CMP64((arg), SCMP_CMP_MASKED_EQ,        \
					0xffffffffu << (k), (uint32_t)(v))

/*
 * A rule for each value in [0, max) that allowed() refuses, folded into
 * aligned blocks (one masked comparison each: 3, 4-7, 8-9, ... instead of
 * one rule per value), and one for every argument above max-1 as a
 * 64-bit number: the values from max up, negative ones, and any value
 * with high bits set (which the kernel would truncate to an int the
 * blocks had judged). ARG is the argument compared; PRE, if not NULL, a
 * comparison every rule adds (socket's family for netlink protocols).
 */
struct refusal {
	int call, arg;
	uint32_t act;
	unsigned max;
	bool (*allowed)(unsigned v, bool packet);
	const struct scmp_arg_cmp *pre;
};

static int refuse_block(scmp_filter_ctx ctx, const struct refusal *r,
			struct scmp_arg_cmp cmp)
{
	if (r->pre)
		return seccomp_rule_add(ctx, r->act, r->call, 2, *r->pre, cmp);
	return seccomp_rule_add(ctx, r->act, r->call, 1, cmp);
}

/* The largest aligned block of refused values that starts at v. */
static unsigned block_bits(const struct refusal *r, unsigned v, bool packet)
{
	unsigned k = 0;

	while (v % (2u << k) == 0 && v + (2u << k) <= r->max) {
		bool all = true;

		for (unsigned u = v; u < v + (2u << k) && all; u++)
			all = !r->allowed(u, packet);
		if (!all)
			break;
		k++;
	}
	return k;
}

static int refuse(scmp_filter_ctx ctx, const struct refusal *r, bool packet)
{
	int rc = 0;

	for (unsigned v = 0; v < r->max && !rc;) {
		unsigned k;

		if (r->allowed(v, packet)) {
			v++;
			continue;
		}
		k = block_bits(r, v, packet);
		rc = refuse_block(ctx, r, INT_BLOCK(r->arg, v, k));
		v += 1u << k;
	}
	if (!rc)
		rc = refuse_block(ctx, r, SCMP_CMP64(r->arg, SCMP_CMP_GT,
						     r->max - 1, 0));
	return rc;
}

static bool family_allowed(unsigned f, bool packet)
{
	return f == AF_UNIX || f == AF_INET || f == AF_INET6 ||
	       f == AF_NETLINK || (packet && f == AF_PACKET);
}

/* socket() and socketpair() of a family outside the list: EAFNOSUPPORT,
 * as a kernel without it would say. */
static int deny_families(scmp_filter_ctx ctx, bool packet)
{
	static const int calls[] = { SCMP_SYS(socket), SCMP_SYS(socketpair) };
	int rc = 0;

	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]) && !rc; c++) {
		struct refusal r = { calls[c], 0, SCMP_ACT_ERRNO(EAFNOSUPPORT),
				     FAMILY_MAX, family_allowed, NULL };

		rc = refuse(ctx, &r, packet);
	}
	return rc;
}

/* Netlink protocols whose objects live in the box's own network
 * namespace: routes and links (ip), socket diagnostics (ss), netfilter
 * (nft, iptables) and generic netlink (ethtool). The others (uevents,
 * audit, crypto, connector, SCSI, RDMA, ...) are refused. */
static bool netlink_allowed(unsigned p, bool packet)
{
	(void)packet;
	return p == NETLINK_ROUTE || p == NETLINK_SOCK_DIAG ||
	       p == NETLINK_NETFILTER || p == NETLINK_GENERIC;
}

static int deny_netlink(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp netlink = INT_EQ(0, AF_NETLINK);
	struct refusal r = { SCMP_SYS(socket), 2, SCMP_ACT_ERRNO(EPROTONOSUPPORT),
			     NETLINK_MAX, netlink_allowed, &netlink };

	return refuse(ctx, &r, false);
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
