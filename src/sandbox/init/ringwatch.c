/*
 * ringwatch.c - packet rings, made by init only where the box's socket
 * memory cap has room for them.
 *
 * A packet socket's mmap ring (setsockopt PACKET_RX_RING, PACKET_TX_RING)
 * is charged to no cgroup and is as large as one call asks: a 64 MiB box
 * allocated two 256 MiB rings before init's next read of its socket
 * memory could see the first (2026-12-06). In a box whose task declares
 * packet_sockets, those calls stop in seccomp (SECCOMP_RET_USER_NOTIF)
 * and a thread of init makes them itself: it copies the request out of
 * the caller (process_vm_readv), refuses a ring larger than the room left
 * under the cap with ENOMEM, and otherwise calls setsockopt on the
 * caller's own socket (pidfd_getfd) with its copy, so the caller cannot
 * change the size after the check. init keeps CAP_SYS_PTRACE for that,
 * outside the bounding set: no command inherits it across exec. The
 * thread is made before the filter that stops the calls, so its own
 * calls are not stopped.
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "base/banned.h"

#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif
#if defined(__x86_64__)
#define ARCH_NATIVE 0xc000003e  /* AUDIT_ARCH_X86_64 */
#elif defined(__aarch64__)
#define ARCH_NATIVE 0xc00000b7  /* AUDIT_ARCH_AARCH64 */
#else
#define ARCH_NATIVE 0           /* unknown here: no packet box starts */
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0x80       /* O_EXCL: the caller may be any thread */
#endif
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define REQ_MAX 64              /* struct tpacket_req3 is 28 bytes */

/* Bytes a ring may take now: what init's last read left under the cap,
 * less the rings made since. A read that began before a ring was made
 * publishes a room without it, overstated by that ring at most: rings
 * never take more than twice the cap (the box's limit) before the next
 * read, which sees them all, kills the box. */
static uint64_t room;
static int listener = -1;

void init_ringwatch_room(uint64_t bytes)
{
	__atomic_store_n(&room, bytes, __ATOMIC_RELAXED);
}

/* Take SIZE from the room, or say there is not enough. */
static bool take_room(uint64_t size)
{
	uint64_t left = __atomic_load_n(&room, __ATOMIC_RELAXED);

	do {
		if (size > left)
			return false;
	} while (!__atomic_compare_exchange_n(&room, &left, left - size, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/* The caller still waits in the stopped call: its pid, and what was read
 * through it, are its own (not a reused pid's). */
static bool still_waiting(const struct seccomp_notif *req)
{
	uint64_t id = req->id;

	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The caller's setsockopt, made here with a copy of its request: 0 or
 * -errno. */
static int make_ring(const struct seccomp_notif *req)
{
	unsigned char buf[REQ_MAX];
	uint32_t block[2];
	uint64_t size;
	size_t len = (size_t)(uint32_t)req->data.args[4];
	struct iovec local = { buf, len }, remote = {
		(void *)(uintptr_t)req->data.args[3], len };
	int pidfd, sock, rc;

	if (len < sizeof(block) || len > sizeof(buf))
		return -EINVAL;
	if (syscall(SYS_process_vm_readv, req->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)len)
		return -EFAULT;
	memcpy(block, buf, sizeof(block));   /* tp_block_size, tp_block_nr */
	size = (uint64_t)block[0] * block[1];
	if (!take_room(size))
		return -ENOMEM;
	pidfd = (int)syscall(SYS_pidfd_open, req->pid, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)   /* before 6.9: a process only */
		pidfd = (int)syscall(SYS_pidfd_open, req->pid, 0);
	sock = pidfd < 0 || !still_waiting(req) ? -1 :
	       (int)syscall(SYS_pidfd_getfd, pidfd, (int)req->data.args[0], 0);
	if (pidfd >= 0)
		close(pidfd);
	rc = sock < 0 ? -1 : setsockopt(sock, SOL_PACKET, (int)req->data.args[2],
					buf, (socklen_t)len);
	rc = rc < 0 ? (sock < 0 ? -EBADF : -errno) : 0;
	if (sock >= 0)
		close(sock);
	if (rc < 0)   /* nothing was made: until the next read sees so */
		__atomic_add_fetch(&room, size, __ATOMIC_RELAXED);
	return rc;
}

/* The kernel's notification structs may be larger than these headers'
 * (the sizes are checked at start). */
static _Alignas(8) unsigned char req_buf[256], resp_buf[256];

/* Answer every stopped call, for as long as init lives: a call left
 * unanswered would hang its caller. */
static void *serve(void *arg)
{
	struct seccomp_notif *req = (struct seccomp_notif *)(void *)req_buf;
	struct seccomp_notif_resp *resp = (struct seccomp_notif_resp *)(void *)resp_buf;
	struct pollfd pf = { .events = POLLIN };
	int go = *(int *)arg;
	char c;

	if (read(go, &c, 1) != 1)   /* until the listener is set */
		return NULL;
	close(go);
	pf.fd = listener;
	for (;;) {
		if (poll(&pf, 1, -1) < 0)
			continue;
		memset(req_buf, 0, sizeof(req_buf));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
			continue;   /* ENOENT: the caller died first */
		memset(resp_buf, 0, sizeof(resp_buf));
		resp->id = req->id;
		resp->error = make_ring(req);
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
}

/* Stop setsockopt(SOL_PACKET, PACKET_RX_RING or PACKET_TX_RING) for the
 * listener; every other call passes to the box's own filter. */
static int load_filter(void)
{
	static struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NATIVE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setsockopt, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_PACKET, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_RX_RING, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_TX_RING, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog prog = { sizeof(insns) / sizeof(insns[0]), insns };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

int init_ringwatch_start(void)
{
	static int go[2];
	pthread_t thread;
	sigset_t all, old;
	struct seccomp_notif_sizes sizes;

	if (ARCH_NATIVE == 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0 ||
	    sizes.seccomp_notif > sizeof(req_buf) ||
	    sizes.seccomp_notif_resp > sizeof(resp_buf)) {
		errno = ENOSYS;
		return -1;
	}
	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	/* every signal stays with the main thread (its signalfd) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = pthread_create(&thread, NULL, serve, &go[0]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (errno)
		return -1;
	pthread_detach(thread);
	listener = load_filter();   /* this thread's filter, not the other's */
	if (listener < 0 || fcntl(listener, F_SETFD, FD_CLOEXEC) < 0 ||
	    write(go[1], "", 1) != 1)
		return -1;
	close(go[1]);
	return 0;
}
