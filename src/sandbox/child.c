/*
 * child.c - what the cloned child does between clone() and the exec of
 * assay-init.
 *
 * The child is created with CLONE_VM | CLONE_VFORK in fresh user and pid
 * namespaces (init makes the others): it runs on a small stack of its own,
 * in the harness's memory, while the harness waits, until it execs init
 * (or exits). So it does as little as possible and nothing that touches
 * memory the harness uses: it moves itself into the box's cgroups (before
 * anything is charged), makes its capabilities in the new user namespace
 * ambient (its uid is not mapped yet, so an exec would drop them), marks
 * every inherited descriptor close-on-exec,
 * points stdio at /dev/null and execs init from the sealed memfd with the
 * control socket as fd 3. Building the box (root, mounts, ids, caps,
 * seccomp) is init's first job, once the harness has written the uid
 * maps (init/setup.c). A failure is reported as {step, errno} over the
 * control socket and ends the child.
 */
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/banned.h"

static __attribute__((noreturn)) void fail(int ctl, int step)
{
	SBX_SETUP_FAIL(ctl, step);
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

/* Carry the capabilities init needs (in the box's user namespace only)
 * across the exec: Docker's set, which it keeps for the box, what it
 * builds the box with, and what its packet ring watch reads callers'
 * memory with (CAP_SYS_PTRACE, init/ringwatch.c). It drops them to
 * Docker's set, ambient ones included, before it runs anything; init
 * alone may keep the last. */
static void keep_caps(int ctl)
{
	static const int caps[] = {
		CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD,
		CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
		CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
		CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_RESOURCE, CAP_SYS_PTRACE,
	};
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		fail(ctl, SBX_STEP_CAPS);
	d[0].inheritable = d[0].permitted;
	d[1].inheritable = d[1].permitted;
	if (syscall(SYS_capset, &h, d) < 0)
		fail(ctl, SBX_STEP_CAPS);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, caps[i], 0, 0) < 0)
			fail(ctl, SBX_STEP_CAPS);
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

static __attribute__((noreturn)) void exec_init(int ctl)
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
	fail(SBX_CTL_FD, SBX_STEP_EXEC);
}

int sbx_child_main(void *arg)
{
	const struct sbx_child_args *a = arg;

	close(a->parent_ctl);
	self_attach(a);
	keep_caps(a->ctl);
	/* nothing of the harness crosses the exec */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	stdio_null(a->ctl);
	exec_init(a->ctl);
}
