/*
 * sockmem.c - what the box's sockets hold outside every memory cgroup.
 *
 * The kernel charges a socket's buffers to a cgroup only for protocols
 * that account their memory (TCP, UDP; AF_UNIX buffers are charged as
 * kernel memory), and only for sockets made in a process's context. Left
 * out, on cgroup v1 and v2 alike:
 *
 * - connections a listener has not accepted yet: built in softirq, they
 *   and what their peers sent are charged only at accept(). Never
 *   accepting, three processes of a 64 MiB box with 8000 connections
 *   each pinned 212 MiB of buffers and 70 MiB of socket slabs host-wide;
 * - request and time-wait minisockets;
 * - the receive queues of netlink and raw sockets (no accounting at all):
 *   8000 route sockets, each sent requests it never read the replies of,
 *   pinned 1.8 GiB (2026-12-06); packet sockets' queues and mmap rings.
 *
 * init adds this to the socket memory it holds under its cap (init.c),
 * read two ways:
 *
 * - a bound, from the box's own /proc/net/sockstat{,6} (socket counts
 *   per network namespace; two preads, ~5 us): every hashed TCP socket
 *   may be a connection nobody accepted, or a listener with a full queue
 *   of request minisockets (LISTEN_BACKLOG, setup.c); every raw socket,
 *   and every socket of any kind for netlink's (not counted apart), may
 *   hold a full receive queue and one message past it. A packet socket's
 *   mmap ring has no bound: where the box may open them (a task that
 *   declares packet_sockets) they are summed on every read, from a dump
 *   of the namespace's own list (~3 us), and init makes each ring itself
 *   within the room left (ringwatch.c). Counts that cannot be read leave
 *   the sums to decide.
 * - past the cap, sums, cheapest first until the total shows the box
 *   within it: raw queues from /proc/net/raw{,6}, netlink queues from a
 *   NETLINK_SOCK_DIAG dump (~15 us), then TCP from its listeners alone
 *   (each accept queue at SOCK_HELD per connection, its backlog of
 *   minisockets; ~30 us), and last from every TCP socket no file refers
 *   to (inode 0) that is not an orphan (a closed socket of a process,
 *   charged when it was made), with its buffers, and each minisocket.
 *   That dump walks the host's whole established hash (262144 buckets
 *   here: ~1.4 ms per family).
 *
 * Ping sockets are left out: the box's namespace keeps the kernel's
 * ping_group_range ("1 0", no group may open one), which /proc/sys being
 * read-only keeps.
 */
#include "init.h"

#include <fcntl.h>
#include <stdbool.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
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

#ifndef AF_PACKET
#define AF_PACKET 17
#endif

#define SOCK_SLAB 4096          /* a socket's slab objects (TCP: 2.4 KiB
                                   here), its route and hash entries */
#define SOCK_MINI 512           /* a request or time-wait minisocket
                                   (320 and 256 B) */
#define SOCK_DATA_MAX (48 << 10) /* what a socket no one reads holds in
                                   the box's 16 KiB windows: the window,
                                   one skb's overshoot, forward pages */
#define SOCK_HELD (SOCK_SLAB + SOCK_DATA_MAX)
#define MSG_MAX (128 << 10)     /* a datagram queued past a full queue:
                                   a 64 KiB packet's truesize, rounded */
#define UNBOUNDED ((uint64_t)1 << 60) /* four of them still add up */

/* The kinds of socket summed apart. */
enum { K_PACKET, K_RAW, K_NETLINK, K_TCP, K_N };

static int sockstat = -1, sockstat6 = -1, raw4 = -1, raw6 = -1, diag = -1;
static bool packet;             /* the box may open packet sockets */
static uint64_t queue_held;     /* a netlink or raw socket, full */
static uint64_t bound[K_N];     /* by kind, as last read */
static uint64_t tw;             /* time-wait sockets, as last read */
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

static ssize_t read_at(int fd)
{
	ssize_t n = fd < 0 ? 0 : pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* A host sysctl's number (the box's /proc/sys shows the host's), or 0. */
static uint64_t sysctl_value(int proc, const char *path)
{
	int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
	uint64_t v;

	read_at(fd);
	v = strtoull(buf, NULL, 10);
	if (fd >= 0)
		close(fd);
	return v;
}

int init_sockmem_open(int proc, bool packet_sockets)
{
	/* a socket's receive queue is the host's rmem_default: the box may
	 * not change it (SO_RCVBUF is a no-op by seccomp, SO_RCVBUFFORCE
	 * needs CAP_NET_ADMIN); past it the kernel queues one more message,
	 * from a process at most wmem_default */
	uint64_t rmem = sysctl_value(proc, "sys/net/core/rmem_default");
	uint64_t wmem = sysctl_value(proc, "sys/net/core/wmem_default");

	queue_held = SOCK_SLAB + rmem + (wmem > MSG_MAX ? wmem : MSG_MAX);
	packet = packet_sockets;
	/* the files of the calling thread's network namespace (the
	 * namespace's, whoever reads them later) */
	sockstat = openat(proc, "thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
	raw4 = openat(proc, "thread-self/net/raw", O_RDONLY | O_CLOEXEC);
	/* no IPv6 in the kernel: both stay -1 */
	sockstat6 = openat(proc, "thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC);
	raw6 = openat(proc, "thread-self/net/raw6", O_RDONLY | O_CLOEXEC);
	diag = open_diag();
	return sockstat < 0 || raw4 < 0 || diag < 0 || !rmem || !wmem ? -1 : 0;
}

/* The number after KEY on the line that starts with LINE, or 0:
 * field(text, "TCP:", "tw") of "TCP: inuse 12 orphan 0 tw 3 ...". */
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

static uint64_t total(const uint64_t *by_kind)
{
	uint64_t sum = 0;

	for (int k = 0; k < K_N; k++)
		sum += by_kind[k];
	return sum;
}

static int dump_packet(uint64_t *sum);

/* After a dump that failed: the rest of it would be read as the next
 * one's, so start a new socket. */
static void reset_diag(void)
{
	if (diag >= 0)
		close(diag);
	diag = open_diag();
}

/* From the namespace's counts: 0, or -1 when they cannot be read. */
static int count_bounds(void)
{
	uint64_t used, tcp, raw;

	if (read_at(sockstat) <= 0)
		return -1;
	used = field(buf, "sockets:", "used");
	tcp = field(buf, "TCP:", "inuse");
	tw = field(buf, "TCP:", "tw");
	raw = field(buf, "RAW:", "inuse");
	read_at(sockstat6);
	tcp += field(buf, "TCP6:", "inuse");
	raw += field(buf, "RAW6:", "inuse");
	bound[K_TCP] = tcp * (SOCK_HELD + LISTEN_BACKLOG * SOCK_MINI) +
		       tw * SOCK_MINI;
	bound[K_RAW] = raw * queue_held;
	/* netlink sockets are not counted apart: every socket a process
	 * made or was given by accept() is */
	bound[K_NETLINK] = used * queue_held;
	return 0;
}

uint64_t init_sockmem_bound(void)
{
	if (count_bounds() < 0)   /* no counts: the sums decide */
		bound[K_TCP] = bound[K_RAW] = bound[K_NETLINK] = UNBOUNDED;
	/* a ring has no bound: sum them (a list of the namespace's own) */
	bound[K_PACKET] = 0;
	if (packet && dump_packet(&bound[K_PACKET]) < 0) {
		bound[K_PACKET] = UNBOUNDED;
		reset_diag();
	}
	return total(bound);
}

/* --- the exact sum ---------------------------------------------------- */

/* The u32 array of attribute TYPE among a message's attributes, if it has
 * at least MIN of them. */
static const uint32_t *attr(const void *at, int len, unsigned short type,
			    size_t min)
{
	for (const struct rtattr *a = at; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == type && RTA_PAYLOAD(a) >= min * sizeof(uint32_t))
			return RTA_DATA(a);
	return NULL;
}

#define ATTRS(h, msg) ((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(msg)))
#define ATTRS_LEN(h, msg) \
	((int)(h)->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(sizeof(msg))))

/* A socket's queues from its SK_MEMINFO, or what they may hold at most. */
static uint64_t queues(const uint32_t *mem, uint64_t most)
{
	return mem ? (uint64_t)mem[SK_MEMINFO_RMEM_ALLOC] +
		     mem[SK_MEMINFO_WMEM_QUEUED] + mem[SK_MEMINFO_FWD_ALLOC] +
		     mem[SK_MEMINFO_WMEM_ALLOC]
		   : most;
}

static uint64_t tcp_held(const struct nlmsghdr *h)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);

	if (ATTRS_LEN(h, *m) < 0 || m->idiag_inode)
		return 0;
	switch (m->idiag_state) {
	case TCP_SYN_RECV:
	case TCP_TIME_WAIT:
		return SOCK_MINI;
	case TCP_FIN_WAIT1: case TCP_FIN_WAIT2: case TCP_CLOSING:
	case TCP_LAST_ACK:
		return 0;   /* an orphan: charged to the box when made */
	}
	return SOCK_SLAB + queues(attr(ATTRS(h, *m), ATTRS_LEN(h, *m),
				       INET_DIAG_SKMEMINFO, SK_MEMINFO_VARS),
				  SOCK_DATA_MAX);
}

/* A listener: the connections in its accept queue (the only sockets
 * built for no process but minisockets), each at most SOCK_HELD, and as
 * many request minisockets as its backlog. */
static uint64_t listener_held(const struct nlmsghdr *h)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);

	if (ATTRS_LEN(h, *m) < 0 || m->idiag_state != TCP_LISTEN)
		return 0;
	return (uint64_t)m->idiag_rqueue * SOCK_HELD +
	       (uint64_t)m->idiag_wqueue * SOCK_MINI;
}

static uint64_t netlink_held(const struct nlmsghdr *h)
{
	const struct netlink_diag_msg *m = NLMSG_DATA(h);

	if (ATTRS_LEN(h, *m) < 0 || !m->ndiag_ino)
		return 0;   /* the kernel's own socket of a protocol */
	return queues(attr(ATTRS(h, *m), ATTRS_LEN(h, *m),
			   NETLINK_DIAG_MEMINFO, SK_MEMINFO_VARS), queue_held) +
	       SOCK_SLAB;
}

static uint64_t ring(const uint32_t *r)
{
	return r ? (uint64_t)r[0] * r[1] : 0;   /* block size x count */
}

static uint64_t packet_held(const struct nlmsghdr *h)
{
	const struct packet_diag_msg *m = NLMSG_DATA(h);
	const char *at = ATTRS(h, *m);
	int len = ATTRS_LEN(h, *m);

	if (len < 0)
		return 0;
	return SOCK_SLAB +
	       queues(attr(at, len, PACKET_DIAG_MEMINFO, SK_MEMINFO_VARS),
		      queue_held) +
	       ring(attr(at, len, PACKET_DIAG_RX_RING, 2)) +
	       ring(attr(at, len, PACKET_DIAG_TX_RING, 2));
}

/* Send one dump request and add HELD of each socket to *sum; -1 when the
 * dump could not be read. */
static int dump(const void *req, size_t len, uint64_t (*held)(const struct nlmsghdr *),
		uint64_t *sum)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(diag, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(diag, buf, sizeof(buf), 0);
		int left = (int)n;

		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
		     NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			*sum += held(h);
		}
	}
}

#define REQ(body) struct { struct nlmsghdr h; body r; }
#define DUMP_HDR(q) { sizeof(q), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 0, 0 }

static int dump_tcp_family(int family, uint32_t states,
			   uint64_t (*held)(const struct nlmsghdr *), uint64_t *sum)
{
	REQ(struct inet_diag_req_v2) q = { DUMP_HDR(q), {
		.sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		.idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1),
		.idiag_states = states } };

	return dump(&q, sizeof(q), held, sum);
}

/* A bound from the listeners alone: their hash is small (a dump of both
 * families ~30 us here) where the established one is the host's. */
static int dump_listeners(uint64_t *sum)
{
	const uint32_t l = 1u << TCP_LISTEN;

	*sum = tw * SOCK_MINI;
	return dump_tcp_family(AF_INET, l, listener_held, sum) ||
	       dump_tcp_family(AF_INET6, l, listener_held, sum) ? -1 : 0;
}

static int dump_tcp(uint64_t *sum)
{
	const uint32_t all = ~(1u << TCP_LISTEN);

	return dump_tcp_family(AF_INET, all, tcp_held, sum) ||
	       dump_tcp_family(AF_INET6, all, tcp_held, sum) ? -1 : 0;
}

static int dump_netlink(uint64_t *sum)
{
	REQ(struct netlink_diag_req) q = { DUMP_HDR(q), {
		.sdiag_family = AF_NETLINK, .sdiag_protocol = NDIAG_PROTO_ALL,
		.ndiag_show = NDIAG_SHOW_MEMINFO } };

	return dump(&q, sizeof(q), netlink_held, sum);
}

static int dump_packet(uint64_t *sum)
{
	REQ(struct packet_diag_req) q = { DUMP_HDR(q), {
		.sdiag_family = AF_PACKET,
		.pdiag_show = PACKET_SHOW_MEMINFO | PACKET_SHOW_RING_CFG } };

	return dump(&q, sizeof(q), packet_held, sum);
}

/* One socket's line of /proc/net/raw{,6}: its tx_queue:rx_queue column
 * (hex), after "  sl  local_address rem_address   st". */
static int raw_line(const char *l, uint64_t *sum)
{
	char *p;

	for (int col = 0; col < 4 && l; col++)
		l = strchr(l + strspn(l, " "), ' ');
	if (!l)
		return -1;
	*sum += SOCK_SLAB + strtoull(l, &p, 16);
	if (*p == ':')
		*sum += strtoull(p + 1, NULL, 16);
	return 0;
}

/* The file, read from the start a buffer at a time (one line per
 * socket: longer than the buffer with a few hundred). */
static int raw_file(int fd, uint64_t *sum)
{
	size_t have = 0;
	bool header = true;

	if (fd < 0)
		return 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *l = buf, *nl;

		if (n < 0)
			return -1;
		if (n == 0)
			return have ? -1 : 0;   /* a line cut short */
		have += (size_t)n;
		buf[have] = 0;
		for (; (nl = strchr(l, '\n')); l = nl + 1) {
			*nl = 0;
			if (!header && raw_line(l, sum) < 0)
				return -1;
			header = false;
		}
		have -= (size_t)(l - buf);
		if (have == sizeof(buf) - 1)
			return -1;                 /* a line longer than buf */
		memmove(buf, l, have);
	}
}

static int sum_raw(uint64_t *sum)
{
	return raw_file(raw4, sum) || raw_file(raw6, sum) ? -1 : 0;
}

uint64_t init_sockmem_exact(uint64_t room, uint64_t slack)
{
	/* cheapest first; TCP twice, from its listeners and then in full */
	static const struct {
		int kind;
		int (*sum)(uint64_t *);
	} steps[] = {
		{ K_RAW, sum_raw },
		{ K_NETLINK, dump_netlink }, { K_TCP, dump_listeners },
		{ K_TCP, dump_tcp },
	};
	uint64_t by_kind[K_N];

	memcpy(by_kind, bound, sizeof(by_kind));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) &&
			   total(by_kind) > room; i++) {
		uint64_t sum = 0;

		if (!by_kind[steps[i].kind])
			continue;
		/* the last step takes milliseconds, while the box's memory
		 * may grow: not for a TCP bound within SLACK */
		if (steps[i].sum == dump_tcp && by_kind[K_TCP] <= slack)
			break;
		if (steps[i].sum(&sum) < 0) {
			/* the bound stays: a box is killed for what it may
			 * hold rather than let it hold more */
			reset_diag();
			break;
		}
		by_kind[steps[i].kind] = sum;
	}
	return total(by_kind);
}
