/*
 * net.c - the episode's private network over raw rtnetlink.
 *
 * One service: a veth pair with one end ("eth0") created straight into the
 * agent's netns and the other into the service's. More services: a bridge
 * in a "switch" netns that no process lives in (the harness holds it by an
 * fd, so it vanishes with the episode, or with the harness), and one veth
 * per box whose other end is a bridge port. Every box gets 10.0.0.x/24 on
 * eth0 and no other route: nothing outside the episode is reachable.
 *
 * Sockets in another netns are made by setns() there and back; the
 * harness is single-threaded (sandbox.h), and failing to come back is
 * fatal (abort), never silently continued in the wrong namespace.
 *
 * Interface indexes are chosen by us (eth0 = 100 in every box, the bridge
 * 100 and its ports 101+ in the switch) so no lookups are needed.
 */
#include "sandbox/sandbox_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/bug.h"
#include "base/util.h"
#include "base/banned.h"

#define ETH_INDEX 100
#define BR_INDEX 100
#define NLBUF 1024

struct nlmsg {
	struct nlmsghdr h;
	char space[NLBUF];
};

static uint32_t nl_seq;

static struct rtattr *nl_put(struct nlmsg *m, unsigned short type,
			     const void *data, size_t len)
{
	struct nlmsghdr *h = &m->h;
	char *base = (char *)m;
	struct rtattr *rta = (struct rtattr *)(void *)(base + NLMSG_ALIGN(h->nlmsg_len));

	/* fixed-size messages built here: a bug, not input */
	BUG_ON(NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) > sizeof(struct nlmsg));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nl_end(struct nlmsg *m, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)m + m->h.nlmsg_len - (char *)nest);
}

static void nl_str(struct nlmsg *m, unsigned short type, const char *s)
{
	nl_put(m, type, s, strlen(s) + 1);
}

static void nl_u32(struct nlmsg *m, unsigned short type, uint32_t v)
{
	nl_put(m, type, &v, sizeof(v));
}

static void nl_init(struct nlmsg *m, uint16_t type, uint16_t flags,
		    const void *hdr, size_t hlen)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hlen);
	memcpy(m->space, hdr, hlen);
}

/* Send and wait for the ack; on RTM_GETLINK, *oper_out receives the link's
 * operstate. Returns 0 or a negative errno. */
static int nl_call(int fd, struct nlmsghdr *h, int *oper_out)
{
	char rb[8192];
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	h->nlmsg_seq = ++nl_seq;
	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)h->nlmsg_len)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, rb, sizeof(rb), 0);
		struct nlmsghdr *r;
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		len = (int)n;
		for (r = (struct nlmsghdr *)(void *)rb; NLMSG_OK(r, (unsigned)len);
		     r = NLMSG_NEXT(r, len)) {
			if (r->nlmsg_seq != h->nlmsg_seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *er = NLMSG_DATA(r);

				return er->error;
			}
			if (r->nlmsg_type == RTM_NEWLINK && oper_out) {
				struct ifinfomsg *ifi = NLMSG_DATA(r);
				int alen = (int)IFLA_PAYLOAD(r);

				for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen);
				     a = RTA_NEXT(a, alen))
					if (a->rta_type == IFLA_OPERSTATE)
						*oper_out = *(unsigned char *)RTA_DATA(a);
			}
		}
	}
}

static void enter(int ns)
{
	/* cannot fail for a live ns we hold, as root */
	if (setns(ns, CLONE_NEWNET) < 0)
		BUG("setns into a held network namespace: %s", strerror(errno));
}

static int socket_in(int ns, int domain, int type, int proto)
{
	int s;

	enter(ns);
	s = socket(domain, type | SOCK_CLOEXEC, proto);
	enter(sbx_g.host_netns);
	return s;
}

int sbx_net_socket_in(int netns)
{
	return socket_in(netns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
}

static int nl_socket_in(int ns)
{
	return socket_in(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
}

/* veth: end a (name na, index ia) into ns_a, end b into ns_b; a is up.
 * b cannot be set up in the same request: it is configured before its
 * peer pointer exists, and veth_open() fails with ENOTCONN. */
static int make_veth(int fd, int ns_a, const char *na, int ia, int ns_b,
		     const char *nb, int ib)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ia,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct ifinfomsg peer = ifi;
	struct nlmsg m;
	struct rtattr *li, *data, *pe;

	peer.ifi_index = ib;
	peer.ifi_flags = peer.ifi_change = 0;
	nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_str(&m, IFLA_IFNAME, na);
	nl_u32(&m, IFLA_NET_NS_FD, (uint32_t)ns_a);
	li = nl_put(&m, IFLA_LINKINFO, NULL, 0);
	nl_str(&m, IFLA_INFO_KIND, "veth");
	data = nl_put(&m, IFLA_INFO_DATA, NULL, 0);
	pe = nl_put(&m, VETH_INFO_PEER, &peer, sizeof(peer));
	nl_str(&m, IFLA_IFNAME, nb);
	nl_u32(&m, IFLA_NET_NS_FD, (uint32_t)ns_b);
	nl_end(&m, pe);
	nl_end(&m, data);
	nl_end(&m, li);
	return nl_call(fd, &m.h, NULL);
}

static int make_bridge(int fd)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = BR_INDEX,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nlmsg m;
	struct rtattr *li;

	nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_str(&m, IFLA_IFNAME, "br0");
	li = nl_put(&m, IFLA_LINKINFO, NULL, 0);
	nl_str(&m, IFLA_INFO_KIND, "bridge");
	nl_end(&m, li);
	return nl_call(fd, &m.h, NULL);
}

static int set_master(int fd, int index, int master)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nlmsg m;

	nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	nl_u32(&m, IFLA_MASTER, (uint32_t)master);
	return nl_call(fd, &m.h, NULL);
}

static int set_up(int fd, int index)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nlmsg m;

	nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return nl_call(fd, &m.h, NULL);
}

static int add_addr(int fd, int index, const char *addr)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 24,
				 .ifa_index = (unsigned)index };
	struct in_addr in;
	struct nlmsg m;

	if (inet_pton(AF_INET, addr, &in) != 1)
		return -EINVAL;
	nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	nl_put(&m, IFA_LOCAL, &in, sizeof(in));
	nl_put(&m, IFA_ADDRESS, &in, sizeof(in));
	return nl_call(fd, &m.h, NULL);
}

static int operstate(int fd, int index)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	struct nlmsg m;
	int oper = -1, rc;

	nl_init(&m, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	rc = nl_call(fd, &m.h, &oper);
	return rc < 0 ? rc : oper;
}

static enum err fail(const struct sbx_episode *ep, const char *what, int rc,
		     struct errmsg *e)
{
	errno = -rc;
	return err_sys(e, ERR_SANDBOX, "network of episode '%s': %s", ep->name, what);
}

static enum err address_all(struct sbx_episode *ep, struct errmsg *e)
{
	for (size_t i = 0; i < ep->n; i++) {
		int fd = nl_socket_in(ep->boxes[i].netns), rc;

		if (fd < 0)
			return fail(ep, "netlink socket", -errno, e);
		rc = add_addr(fd, ETH_INDEX, ep->boxes[i].addr);
		if (rc >= 0)
			rc = set_up(fd, ETH_INDEX);
		close(fd);
		if (rc < 0)
			return fail(ep, "address", rc, e);
	}
	return ERR_OK;
}

static enum err setup_pair(struct sbx_episode *ep, struct errmsg *e)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc;

	if (fd < 0)
		return fail(ep, "netlink socket", -errno, e);
	rc = make_veth(fd, ep->boxes[0].netns, "eth0", ETH_INDEX,
		       ep->boxes[1].netns, "eth0", ETH_INDEX);
	close(fd);
	if (rc < 0)
		return fail(ep, "veth", rc, e);
	return address_all(ep, e);
}

static enum err make_switch(struct sbx_episode *ep, int *fd_out, struct errmsg *e)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return fail(ep, "switch namespace", -errno, e);
	ep->switch_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	enter(sbx_g.host_netns);
	if (ep->switch_ns < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return fail(ep, "switch namespace", -EMFILE, e);
	}
	*fd_out = fd;
	return ERR_OK;
}

static enum err setup_bridge(struct sbx_episode *ep, struct errmsg *e)
{
	int fd = -1, rc;
	enum err r = make_switch(ep, &fd, e);

	if (r)
		return r;
	rc = make_bridge(fd);
	for (size_t i = 0; rc >= 0 && i < ep->n; i++) {
		char port[IFNAMSIZ];

		snprintf(port, sizeof(port), "p%u", (unsigned)(i & 0xffff));
		rc = make_veth(fd, ep->boxes[i].netns, "eth0", ETH_INDEX,
			       ep->switch_ns, port, BR_INDEX + 1 + (int)i);
		if (rc >= 0)
			rc = set_master(fd, BR_INDEX + 1 + (int)i, BR_INDEX);
	}
	close(fd);
	if (rc < 0)
		return fail(ep, "bridge", rc, e);
	return address_all(ep, e);
}

enum err sbx_net_setup(struct sbx_episode *ep, struct errmsg *e)
{
	if (ep->n < 2)
		return ERR_OK;
	return ep->n == 2 ? setup_pair(ep, e) : setup_bridge(ep, e);
}

/* Links must be operationally up before the first packet: a SYN sent
 * right after link-up was lost about half the time here, costing the 1 s
 * TCP retransmit (shared/reference/sandbox.md, 3.3). */
enum err sbx_net_wait_up(struct sbx_episode *ep, int64_t deadline_ms,
			 struct errmsg *e)
{
	for (size_t i = 0; i < ep->n; i++) {
		int fd = nl_socket_in(ep->boxes[i].netns);

		if (fd < 0)
			return fail(ep, "netlink socket", -errno, e);
		for (;;) {
			int st = operstate(fd, ETH_INDEX);
			struct timespec ts = { 0, 50000 };

			if (st == IF_OPER_UP)
				break;
			if (st < 0 || now_ms() >= deadline_ms) {
				close(fd);
				return err_set(e, ERR_TIMEOUT, "network of episode '%s': "
					       "link of box '%s' not up (state %d)",
					       ep->name, ep->boxes[i].name, st);
			}
			nanosleep(&ts, NULL);
		}
		close(fd);
	}
	return ERR_OK;
}
