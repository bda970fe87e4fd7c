/*
 * fdpass.c - passing one file descriptor over a unix socket (SCM_RIGHTS),
 * both ways. Linked into the harness and into assay-init (musl, no
 * libassay), so it uses libc only.
 */
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "base/banned.h"

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

ssize_t sbx_send_fd(int sock, const struct iovec *iov, int niov, int fd,
		    int flags)
{
	union fd_cmsg u;
	struct msghdr mh = { .msg_iov = (struct iovec *)iov,
			     .msg_iovlen = (size_t)niov };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Close every fd a control message carried. */
static void close_all(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

ssize_t sbx_recv_fd(int sock, struct iovec *iov, int niov, int *fd_out,
		    int flags)
{
	union fd_cmsg u;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)niov,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*fd_out = -1;
	memset(&u, 0, sizeof(u));
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return n;
	/* the buffer holds one fd: anything more sets MSG_CTRUNC */
	c = CMSG_FIRSTHDR(&mh);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (c && (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		   c->cmsg_len != CMSG_LEN(sizeof(int))))) {
		close_all(&mh);
		errno = EPROTO;
		return -1;
	}
	if (c)
		memcpy(fd_out, CMSG_DATA(c), sizeof(int));
	return n;
}
