/*
 * sockmem.c - what the box's TCP sockets hold outside every memory cgroup.
 *
 * A connection a listener has not accepted yet is built by the kernel in
 * softirq: its socket, and what its peer sent it, are charged to no
 * cgroup until accept() charges them to the acceptor (cgroup v1 and v2
 * alike). So are request minisockets (SYN_RECV) and time-wait ones. Never
 * accepting, three processes of a 64 MiB box with 8000 connections each
 * pinned 212 MiB of socket buffers and 70 MiB of socket slabs host-wide
 * (2026-12-06). init adds this to the socket memory it holds under its
 * cap (init.c), read two ways:
 *
 * - a bound, from the box's own /proc/net/sockstat{,6}: its hashed TCP
 *   sockets (listeners, connections, connections not yet accepted) and
 *   time-wait sockets are counted per network namespace. Each socket may
 *   be one nobody accepted (SOCK_HELD), or a listener with a full queue
 *   of request minisockets (LISTEN_BACKLOG of them, setup.c); two preads.
 * - the exact figure, from a NETLINK_SOCK_DIAG dump of the namespace's
 *   TCP sockets: a socket no file refers to (inode 0) that is not an
 *   orphan (a closed socket of a process, charged when it was made)
 *   counts its slab objects and buffers; a minisocket its slab. The dump
 *   walks the host's whole established hash (262144 buckets here: about
 *   1.4 ms per family), so init dumps only when the bound passes its cap.
 */
#include "init.h"

#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "base/banned.h"

#define SOCK_SLAB 4096          /* a TCP socket's slab objects (2.4 KiB
                                   here), its route and hash entries */
#define SOCK_MINI 512           /* a request or time-wait minisocket
                                   (320 and 256 B) */
#define SOCK_DATA_MAX (48 << 10) /* what a socket no one reads holds in
                                   the box's 16 KiB windows: the window,
                                   one skb's overshoot, forward pages */
#define SOCK_HELD (SOCK_SLAB + SOCK_DATA_MAX)

static int stat4 = -1, stat6 = -1, diag = -1;
static char buf[32768];

static int open_diag(void)
{
	struct timeval tv = { 1, 0 };   /* a dump is answered at once */
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int init_sockmem_open(void)
{
	stat4 = open("/proc/net/sockstat", O_RDONLY | O_CLOEXEC);
	stat6 = open("/proc/net/sockstat6", O_RDONLY | O_CLOEXEC);
	diag = open_diag();
	return stat4 < 0 || diag < 0 ? -1 : 0; /* no sockstat6: no IPv6 */
}

/* The number after KEY on the line that starts with LINE, or 0:
 * field(text, "TCP:", "inuse") of "TCP: inuse 12 orphan 0 tw 3 ...". */
static uint64_t field(const char *text, const char *line, const char *key)
{
	size_t n = strlen(line), k = strlen(key);

	for (const char *l = text; *l;) {
		const char *end = strchrnul(l, '\n');

		if (!strncmp(l, line, n)) {
			for (const char *w = l + n; w + k < end; w++)
				if (w[-1] == ' ' && !strncmp(w, key, k) &&
				    w[k] == ' ')
					return strtoull(w + k + 1, NULL, 10);
			return 0;
		}
		l = *end ? end + 1 : end;
	}
	return 0;
}

static ssize_t read_stat(int fd)
{
	ssize_t n = fd < 0 ? 0 : pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return n;
}

uint64_t init_sockmem_bound(void)
{
	uint64_t socks, tw;

	read_stat(stat4);
	socks = field(buf, "TCP:", "inuse");
	tw = field(buf, "TCP:", "tw");
	read_stat(stat6);
	socks += field(buf, "TCP6:", "inuse");
	return socks * (SOCK_HELD + LISTEN_BACKLOG * SOCK_MINI) + tw * SOCK_MINI;
}

/* What one dumped socket holds outside the cgroups. */
static uint64_t held(const struct nlmsghdr *h)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	const uint32_t *mem = NULL;

	if (len < 0 || m->idiag_inode)
		return 0;
	switch (m->idiag_state) {
	case TCP_SYN_RECV:
	case TCP_TIME_WAIT:
		return SOCK_MINI;
	case TCP_FIN_WAIT1: case TCP_FIN_WAIT2: case TCP_CLOSING:
	case TCP_LAST_ACK:
		return 0;   /* an orphan: charged to the box when made */
	}
	for (struct rtattr *a = (struct rtattr *)(void *)(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == INET_DIAG_SKMEMINFO &&
		    RTA_PAYLOAD(a) >= SK_MEMINFO_BACKLOG * sizeof(uint32_t))
			mem = RTA_DATA(a);
	if (!mem)
		return SOCK_HELD;
	return SOCK_SLAB + (uint64_t)mem[SK_MEMINFO_RMEM_ALLOC] +
	       mem[SK_MEMINFO_WMEM_QUEUED] + mem[SK_MEMINFO_FWD_ALLOC];
}

/* Dump one family; -1 when the dump could not be read. */
static int dump(int family, uint64_t *sum)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} q = {
		{ sizeof(q), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 0, 0 },
		{ .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		  .idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1),
		  .idiag_states = ~(1u << TCP_LISTEN) },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(diag, &q, sizeof(q), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(diag, buf, sizeof(buf), 0);
		int len = (int)n;

		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
		     NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			*sum += held(h);
		}
	}
}

uint64_t init_sockmem_exact(void)
{
	uint64_t sum = 0;

	if (diag >= 0 && dump(AF_INET, &sum) == 0 &&
	    (stat6 < 0 || dump(AF_INET6, &sum) == 0))
		return sum;
	/* an unread dump leaves the bound in force (a box is killed for what
	 * it may hold rather than let it hold more), and the rest of it
	 * would be read as the next one: start a new socket */
	if (diag >= 0)
		close(diag);
	diag = open_diag();
	return init_sockmem_bound();
}
