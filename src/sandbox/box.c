/*
 * box.c - spawn and destroy one box, and the harness end of the control
 * channel.
 *
 * Spawn: take a uid slot, create the cgroups, clone() into new user,
 * mount, pid, ipc and uts namespaces (pidfd) sharing our memory until the
 * child has exec'd assay-init (CLONE_VM | CLONE_VFORK: no copy of the
 * harness's page tables, see child.c), write the uid/gid maps (box root =
 * an unprivileged host uid range), then send SBX_M_GO with how to build
 * the box, which init does (init/setup.c), making the box's network
 * namespace in parallel; its HELLO carries an fd of that namespace.
 * Destroy: SIGKILL to pid 1 through the pidfd
 * (the kernel kills the whole pid namespace and the namespaces, mounts
 * and tmpfs go with the last process), wait, remove the cgroups, release
 * the slot.
 *
 * Everything received from init is checked: message sizes, types, and
 * every wait has a deadline.
 */
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static char rbuf[SBX_MSG_MAX];

static const char *step_name(int step)
{
	static const char *const names[] = {
		"?", "uid switch", "parent-death signal", "cgroup namespace",
		"root tmpfs", "/usr bind", "/etc", "/dev", "/proc", "pivot_root",
		"hostname/loopback", "rlimits/session", "capabilities",
		"seccomp", "exec of init", "overlay root", "cgroup attach",
		"set-up message", "mount/IPC/UTS namespaces",
	};

	size_t i = step > 0 ? (size_t)step : 0;

	return i < ARRAY_SIZE(names) ? names[i] : "?";
}

static int write_map(pid_t pid, const char *file, uint32_t base)
{
	char path[64], map[64];
	int fd, n;
	ssize_t w;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	n = snprintf(map, sizeof(map), "0 %u %u\n", base, SBX_UID_RANGE);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	w = write(fd, map, (size_t)n);
	close(fd);
	return w == n ? 0 : -1;
}

/* Init holds a box with a memory limit to a socket memory cap (init.c);
 * on cgroup v1 the harness passes it the cgroup's socket counter. */
static bool sock_counted(const struct sbx_box *b)
{
	return sbx_g.cg_sock_watch && b->lim.memory_mb > 0;
}

/* What init needs to build the box, and the seccomp program after it. */
static enum err prepare_setup(struct sbx_box *b, const char *hosts,
			      struct buf *out, struct errmsg *e)
{
	struct sbx_m_setup su;

	memset(&su, 0, sizeof(su));
	if (sbx_procview_meminfo(b->lim.memory_mb, e) != ERR_OK)
		return ERR_SANDBOX;
	if (strlen(hosts) >= sizeof(su.hosts))
		return err_set(e, ERR_LIMIT, "box '%s': too many hosts", b->name);
	if (strlen(b->name) >= sizeof(su.name) ||
	    strlen(sbx_g.mnt_dir) >= sizeof(su.mnt_dir) ||
	    strlen(sbx_g.etc_dir) >= sizeof(su.etc_dir))
		return err_set(e, ERR_LIMIT, "box '%s': name or state path too long",
			       b->name);
	memcpy(su.name, b->name, strlen(b->name));
	snprintf(su.tmpfs_opts, sizeof(su.tmpfs_opts), "size=%dm,mode=0755",
		 b->lim.disk_mb);
	memcpy(su.mnt_dir, sbx_g.mnt_dir, strlen(sbx_g.mnt_dir));
	memcpy(su.etc_dir, sbx_g.etc_dir, strlen(sbx_g.etc_dir));
	memcpy(su.usr_links, sbx_g.usr_links, sizeof(su.usr_links));
	memcpy(su.usr_link_targets, sbx_g.usr_link_targets,
	       sizeof(su.usr_link_targets));
	memcpy(su.hosts, hosts, strlen(hosts));
	snprintf(su.dev_dir, sizeof(su.dev_dir), "%s", sbx_slot_dev_dir(b->slot));
	su.host_image = !strcmp(b->image, "host");
	if (b->lowers && strlen(b->lowers) >= sizeof(su.lowers))
		return err_set(e, ERR_LIMIT, "box '%s': too many image layers",
			       b->name);
	if (b->lowers)
		memcpy(su.lowers, b->lowers, strlen(b->lowers));
	su.nofile = (uint32_t)b->lim.nofile;
	su.memory_mb = (uint32_t)b->lim.memory_mb;
	su.sock_counted = sock_counted(b);
	su.packet_sockets = b->packet_sockets;
	if (b->lim.memory_mb > 0) {
		su.sock_cap = (uint64_t)b->lim.memory_mb << 19; /* half */
		su.sock_rate = SBX_SOCK_RATE_PER_CORE *
			       (uint64_t)((b->lim.cpu_percent + 99) / 100);
	}
	su.cap_last = (uint32_t)sbx_g.cap_last;
	su.bpf_len = sbx_g.bpf_len[b->packet_sockets];
	if (buf_add(out, &su, sizeof(su)) ||
	    buf_add(out, sbx_g.bpf[b->packet_sockets],
		    su.bpf_len * sizeof(struct sock_filter)))
		return err_set(e, ERR_LIMIT, "box '%s': set-up message too large",
			       b->name);
	return ERR_OK;
}

/* A directory image, idmapped so that its owners appear unchanged inside
 * the box (host root's files are box root's): a detached mount the child
 * attaches as its overlay's lower layer. */
static int idmapped_image(struct sbx_box *b)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
					       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	char path[64];
	int tree, userns, rc;

	snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long)b->pid);
	userns = open(path, O_RDONLY | O_CLOEXEC);
	if (userns < 0)
		return -1;
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, b->image,
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	attr.userns_fd = (uint64_t)userns;
	rc = tree < 0 ? -1 : (int)syscall(SYS_mount_setattr, tree, "",
					  AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
	close(userns);
	if (rc < 0 && tree >= 0) {
		int saved = errno;

		close(tree);
		errno = saved;
		return -1;
	}
	return tree;
}

static int send_go(int ctl, const struct buf *setup, int fd)
{
	struct sbx_msg go = { SBX_M_GO, (uint32_t)setup->len };
	struct iovec iov[2] = { { &go, sizeof(go) }, { setup->data, setup->len } };

	return sbx_send_fd(ctl, iov, 2, fd, 0) ==
	       (ssize_t)(sizeof(go) + setup->len) ? 0 : -1;
}

/* The socket memory counter for init to watch, when GO set sock_counted
 * (init waits for it: a cgroup without the counter fails the spawn). */
static int send_sock_watch(int ctl, int fd)
{
	struct sbx_msg m = { SBX_M_SOCKWATCH, 0 };
	struct iovec iov = { &m, sizeof(m) };

	if (fd < 0) {
		errno = ENOENT;
		return -1;
	}
	return sbx_send_fd(ctl, &iov, 1, fd, 0) == (ssize_t)sizeof(m) ? 0 : -1;
}

static enum err release_child(struct sbx_box *b, const struct buf *setup,
			      struct errmsg *e)
{
	uint32_t base = sbx_uid_base(b->slot);
	int tree = -1, sent;

	if (write_map(b->pid, "uid_map", base) || write_map(b->pid, "gid_map", base))
		return err_sys(e, ERR_SANDBOX, "box '%s': cannot write uid map",
			       b->name);
	if (strcmp(b->image, "host") && (tree = idmapped_image(b)) < 0)
		return err_sys(e, ERR_SANDBOX, "box '%s': cannot map image '%s'",
			       b->name, b->image);
	sent = send_go(b->ctl, setup, tree);
	if (tree >= 0)
		close(tree);
	if (sent < 0)
		return err_sys(e, ERR_SANDBOX, "box '%s': cannot release child",
			       b->name);
	if (sock_counted(b) && send_sock_watch(b->ctl, b->cg.sock_fd) < 0)
		return err_sys(e, ERR_SANDBOX, "box '%s': cannot pass the socket "
			       "memory counter to init", b->name);
	return ERR_OK;
}

/* The child's stack while it shares our memory: CLONE_VFORK holds this
 * frame until it has exec'd, and it needs only a few hundred bytes. */
#define CHILD_STACK 16384

/* The user and pid namespaces must come with the clone; init makes the
 * mount, IPC and UTS ones itself while it waits for GO (init/setup.c),
 * so that their cost (the copy of the host's mount tree, the IPC sysctls
 * and mqueue instance) is not spent here, before anything else of the
 * box can start. */
static long clone_box(struct sbx_child_args *a, int *pidfd)
{
	_Alignas(16) char stack[CHILD_STACK];
	int flags = CLONE_VM | CLONE_VFORK | CLONE_NEWUSER | CLONE_NEWPID |
		    CLONE_PIDFD;

	/* SIGCHLD so that, if we die, whoever inherits a zombie init is told */
	return clone(sbx_child_main, stack + sizeof(stack), flags | SIGCHLD, a,
		     pidfd);
}

/* init out of the OOM killer's reach: the agent fills the box's memory,
 * the kernel kills the agent's command, never the box (init.c starts
 * commands 1000 above init; setup.c keeps the agent from raising init's).
 * Only CAP_SYS_RESOURCE of the host may lower it: a harness without it
 * (some containers) leaves init where it is, its commands still 1000
 * above, and says so once at debug level. */
static enum err protect_init(struct sbx_box *b, struct errmsg *e)
{
	static bool unable;
	char path[48];
	int fd;
	ssize_t n;

	if (unable)
		return ERR_OK;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)b->pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_SANDBOX, "box '%s': open '%s'", b->name,
			       path);
	n = write(fd, "-1000", 5);
	close(fd);
	if (n == 5)
		return ERR_OK;
	if (errno == EACCES || errno == EPERM) {
		unable = true;
		log_debug("msg=\"no CAP_SYS_RESOURCE: box init keeps the "
			  "harness's oom_score_adj\"");
		return ERR_OK;
	}
	return err_sys(e, ERR_SANDBOX, "box '%s': cannot protect init from "
		       "the OOM killer", b->name);
}

/* how long a failed release waits for the child's own report */
#define RELEASE_GRACE_MS 200

static bool is_setup_err(const struct sbx_msg *h)
{
	return h->type == SBX_M_SETUP_ERR && h->len == sizeof(struct sbx_m_setup_err);
}

/* The box's report of the set-up step that failed (P: its payload). */
static enum err setup_failed(struct sbx_box *b, const char *p, struct errmsg *e)
{
	struct sbx_m_setup_err se;

	memcpy(&se, p, sizeof(se));
	sbx_box_mark_dead(b);
	errno = se.err > 0 && se.err < 4096 ? se.err : EPROTO;
	return err_sys(e, ERR_SANDBOX, "box '%s': setup failed at %s",
		       b->name, step_name(se.step));
}

/* Releasing the child failed (a map, the OOM score, GO): if the child or
 * init ended first with a report of its own step (it had failed before
 * GO: cgroup, exec, namespaces), that report names the cause; else RC
 * and E stand. */
static enum err release_failed(struct sbx_box *b, enum err rc, struct errmsg *e)
{
	struct errmsg ignored = { 0 };
	struct sbx_msg h;
	const char *p;
	int fd;

	if (sbx_recv_with_fd(b, now_ms() + RELEASE_GRACE_MS, &h, &p, &fd,
			     &ignored) != ERR_OK)
		return rc;
	if (fd >= 0)
		close(fd);
	return is_setup_err(&h) ? setup_failed(b, p, e) : rc;
}

enum err sbx_box_spawn(struct sbx_box *b, const char *hosts, struct errmsg *e)
{
	struct sbx_child_args a;
	struct buf setup;
	int sv[2], pidfd = -1;
	enum err rc;
	long pid;

	b->pid = -1;
	b->pidfd = b->ctl = b->netns = b->slot_fd = -1;
	buf_init(&setup, SBX_PAYLOAD_MAX);
	rc = sbx_slot_acquire(&b->slot, &b->slot_fd, e);
	if (!rc)  /* after the slot: its device nodes go in the message */
		rc = prepare_setup(b, hosts, &setup, e);
	if (!rc) {
		snprintf(b->cg_id, sizeof(b->cg_id), "b%llu-%s",
			 (unsigned long long)sbx_g.box_seq++, b->name);
		rc = sbx_cg_create(b->cg_id, &b->lim, &b->cg, e);
		if (rc)
			err_prefix(e, "box '%s'", b->name);
	}
	if (!rc && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		rc = err_sys(e, ERR_SANDBOX, "box '%s': socketpair", b->name);
	if (rc) {
		buf_release(&setup);
		return rc;
	}
	a.ctl = sv[1];
	a.parent_ctl = sv[0];
	sbx_cg_open_self_attach(&b->cg, a.cg_tasks);
	pid = clone_box(&a, &pidfd);
	for (int i = 0; i < 3; i++)
		if (a.cg_tasks[i] >= 0)
			close(a.cg_tasks[i]);
	close(sv[1]);
	b->ctl = sv[0];
	if (pid < 0) {
		buf_release(&setup);
		return err_sys(e, ERR_SANDBOX, "box '%s': cannot create namespaces",
			       b->name);
	}
	b->pid = (pid_t)pid;
	b->pidfd = pidfd;
	rc = protect_init(b, e);
	if (!rc)
		rc = release_child(b, &setup, e);
	buf_release(&setup);
	return rc ? release_failed(b, rc, e) : ERR_OK;
}

/* A network namespace fd that came with HELLO: checked to be one (init
 * is inside the box: what it sends is hostile). */
static bool is_netns(int fd)
{
	return ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

static enum err wait_fd(struct sbx_box *b, short ev, int64_t deadline_ms,
			struct errmsg *e);

/* recvmsg for the one message that may carry an fd (at most one: with
 * more, MSG_CTRUNC is set and the kernel installs only what fits). */
enum err sbx_recv_with_fd(struct sbx_box *b, int64_t deadline_ms,
			  struct sbx_msg *h, const char **p, int *fd,
			  struct errmsg *e)
{
	struct iovec iov = { rbuf, sizeof(rbuf) };
	ssize_t n;
	enum err rc;

	*fd = -1;
	do {
		if ((rc = wait_fd(b, POLLIN, deadline_ms, e)))
			return rc;
		n = sbx_recv_fd(b->ctl, &iov, 1, fd, MSG_DONTWAIT);
		/* init closed its end with what we sent it unread (it failed
		 * before reading GO): the kernel reports that once, ahead of
		 * what init sent before it went, which the next read gets */
	} while (n < 0 && (errno == EAGAIN || errno == ECONNRESET));
	if (n == 0 || (n < 0 && errno != EPROTO)) {
		sbx_box_mark_dead(b);
		return err_set(e, ERR_SANDBOX, "box '%s': init exited", b->name);
	}
	if (n > 0)
		memcpy(h, rbuf, (size_t)n < sizeof(*h) ? (size_t)n : sizeof(*h));
	if (n < 0 || (size_t)n < sizeof(*h) || h->len != (size_t)n - sizeof(*h)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		sbx_box_mark_dead(b);
		return err_set(e, ERR_SANDBOX, "box '%s': malformed message",
			       b->name);
	}
	*p = rbuf + sizeof(*h);
	return ERR_OK;
}

enum err sbx_box_wait_hello(struct sbx_box *b, struct errmsg *e)
{
	struct sbx_msg h;
	const char *p;
	enum err rc;
	int fd;

	rc = sbx_recv_with_fd(b, now_ms() + SBX_SPAWN_TIMEOUT_MS, &h, &p, &fd, e);
	if (rc == ERR_OK && h.type == SBX_M_HELLO && h.len == 0) {
		if (fd >= 0 && is_netns(fd)) {
			b->netns = fd;
			return ERR_OK;
		}
		if (fd >= 0)
			close(fd);
		sbx_box_mark_dead(b);
		return err_set(e, ERR_SANDBOX, "box '%s': init sent no network "
			       "namespace", b->name);
	}
	if (fd >= 0)
		close(fd);
	if (rc == ERR_TIMEOUT)
		return err_set(e, ERR_TIMEOUT, "box '%s': init did not start within %d ms",
			       b->name, SBX_SPAWN_TIMEOUT_MS);
	if (rc)
		return err_prefix(e, "box '%s' setup", b->name);
	if (is_setup_err(&h))
		return setup_failed(b, p, e);
	sbx_box_mark_dead(b);
	return err_set(e, ERR_SANDBOX, "box '%s': unexpected message %u during setup",
		       b->name, h.type);
}

void sbx_box_mark_dead(struct sbx_box *b)
{
	b->dead = true;
	if (b->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, b->pidfd, SIGKILL, NULL, 0);
}

/* A killed box whose namespaces the kernel is still dismantling. */
struct corpse {
	int pidfd;
	pid_t pid;
	int slot_fd;
	unsigned slot;
	struct sbx_cg cg;
};

static struct corpse *graveyard;
static size_t n_graves, cap_graves;

/* Reap one corpse; true when it is gone and its cgroups removed. */
static bool bury(struct corpse *c, bool block)
{
	siginfo_t si;
	int r;

	if (c->pidfd >= 0) {
		memset(&si, 0, sizeof(si));
		do
			r = waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si,
				   WEXITED | __WALL | (block ? 0 : WNOHANG));
		while (r < 0 && errno == EINTR);
		/* r < 0 (ECHILD): someone else's waitpid(-1) reaped it */
		if (r == 0 && !block && si.si_pid == 0)
			return false; /* still exiting */
		close(c->pidfd);
		c->pidfd = -1;
	} else if (c->pid > 0) {
		if (waitpid(c->pid, NULL, __WALL | (block ? 0 : WNOHANG)) == 0)
			return false;
	}
	sbx_cg_release(&c->cg);
	sbx_slot_release(c->slot, c->slot_fd); /* the uid range is free only now */
	return true;
}

void sbx_reap(bool block)
{
	size_t kept = 0;

	for (size_t i = 0; i < n_graves; i++)
		if (!bury(&graveyard[i], block))
			graveyard[kept++] = graveyard[i];
	n_graves = kept;
	if (!n_graves) {
		free(graveyard);
		graveyard = NULL;
		cap_graves = 0;
	}
}

void sbx_box_destroy(struct sbx_box *b)
{
	struct corpse c = { .pidfd = b->pidfd, .pid = b->pid,
			    .slot_fd = b->slot_fd, .slot = b->slot, .cg = b->cg };

	if (b->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, b->pidfd, SIGKILL, NULL, 0);
	else if (b->pid > 0)
		kill(b->pid, SIGKILL);
	if (b->ctl >= 0)
		close(b->ctl);
	if (b->netns >= 0)
		close(b->netns);
	b->ctl = b->netns = b->pidfd = b->slot_fd = -1;
	b->pid = -1;
	memset(&b->cg, 0, sizeof(b->cg));
	for (int i = 0; i < 2; i++) {
		buf_release(&b->px.head[i]);
		buf_release(&b->px.tail[i]);
	}
	b->px.active = false;
	b->dead = true;
	/* the kernel tears namespaces down at its pace; we come back later */
	if (!bury(&c, false)) {
		graveyard = xgrow(graveyard, &cap_graves, n_graves + 1, sizeof(*graveyard));
		graveyard[n_graves++] = c;
	}
}

static enum err wait_fd(struct sbx_box *b, short ev, int64_t deadline_ms,
			struct errmsg *e)
{
	for (;;) {
		struct pollfd pf = { .fd = b->ctl, .events = ev };
		int64_t left = deadline_ms - now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pf, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return ERR_OK;
		if (r < 0 && errno != EINTR)
			return err_sys(e, ERR_SANDBOX, "poll");
		if (r == 0 && now_ms() >= deadline_ms)
			return err_set(e, ERR_TIMEOUT, "box '%s' did not answer",
				       b->name);
	}
}

enum err sbx_send(struct sbx_box *b, uint32_t type, const void *h, size_t hlen,
		  const void *data, size_t dlen, struct errmsg *e)
{
	struct sbx_msg m = { type, (uint32_t)(hlen + dlen) };
	struct iovec iov[3] = {
		{ &m, sizeof(m) }, { (void *)h, hlen }, { (void *)data, dlen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };
	int64_t deadline = now_ms() + SBX_OP_TIMEOUT_MS;

	if (b->dead)
		return err_set(e, ERR_SANDBOX, "box '%s' is dead", b->name);
	if (sizeof(m) + hlen + dlen > SBX_MSG_MAX)
		return err_set(e, ERR_LIMIT, "message too large");
	for (;;) {
		enum err rc;

		if (sendmsg(b->ctl, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return ERR_OK;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			sbx_box_mark_dead(b);
			return err_sys(e, ERR_SANDBOX, "box '%s': send", b->name);
		}
		rc = wait_fd(b, POLLOUT, deadline, e);
		if (rc) {
			sbx_box_mark_dead(b);
			return rc;
		}
	}
}

enum err sbx_send_blob(struct sbx_box *b, uint32_t type, const void *h,
		       size_t hlen, const void *blob, size_t blen, struct errmsg *e)
{
	const char *p = blob;
	size_t first = SBX_PAYLOAD_MAX - hlen;
	enum err rc;

	if (hlen > SBX_PAYLOAD_MAX)
		return err_set(e, ERR_LIMIT, "request header too large");
	if (first > blen)
		first = blen;
	rc = sbx_send(b, type, h, hlen, p, first, e);
	for (size_t off = first; !rc && off < blen; ) {
		size_t k = blen - off < (size_t)SBX_PAYLOAD_MAX ?
			blen - off : (size_t)SBX_PAYLOAD_MAX;

		rc = sbx_send(b, SBX_M_DATA, p + off, k, NULL, 0, e);
		off += k;
	}
	return rc;
}

enum err sbx_recv(struct sbx_box *b, int64_t deadline_ms, struct sbx_msg *hdr,
		  const char **payload_out, struct errmsg *e)
{
	for (;;) {
		ssize_t n;
		enum err rc;

		if (b->dead)
			return err_set(e, ERR_SANDBOX, "box '%s' is dead", b->name);
		n = recv(b->ctl, rbuf, sizeof(rbuf), MSG_DONTWAIT | MSG_TRUNC);
		if (n > (ssize_t)sizeof(rbuf) ||
		    (n >= 0 && (size_t)n < sizeof(*hdr))) {
			sbx_box_mark_dead(b);
			return err_set(e, ERR_SANDBOX, "box '%s': malformed message",
				       b->name);
		}
		if (n > 0) {
			memcpy(hdr, rbuf, sizeof(*hdr));
			if (hdr->len != (size_t)n - sizeof(*hdr)) {
				sbx_box_mark_dead(b);
				return err_set(e, ERR_SANDBOX,
					       "box '%s': bad message length", b->name);
			}
			*payload_out = rbuf + sizeof(*hdr);
			return ERR_OK;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			sbx_box_mark_dead(b);
			return err_set(e, ERR_SANDBOX, "box '%s': init exited", b->name);
		}
		if (errno == EINTR)
			continue;
		if (deadline_ms == 0 || now_ms() >= deadline_ms)
			return err_set(e, ERR_TIMEOUT, "box '%s' did not answer", b->name);
		rc = wait_fd(b, POLLIN, deadline_ms, e);
		if (rc)
			return rc;
	}
}

enum err sbx_wait_ack(struct sbx_box *b, int64_t deadline_ms,
		      struct sbx_m_ack *ack, struct errmsg *e)
{
	struct sbx_msg h;
	const char *p;
	enum err rc = sbx_recv(b, deadline_ms, &h, &p, e);

	if (rc == ERR_TIMEOUT)
		sbx_box_mark_dead(b);
	if (rc)
		return rc;
	if (h.type != SBX_M_ACK || h.len != sizeof(*ack)) {
		sbx_box_mark_dead(b);
		return err_set(e, ERR_SANDBOX, "box '%s': protocol violation "
			       "(message %u)", b->name, h.type);
	}
	memcpy(ack, p, sizeof(*ack));
	return ERR_OK;
}
