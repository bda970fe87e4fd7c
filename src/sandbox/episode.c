/*
 * episode.c - an episode: the agent box, the service boxes, their private
 * network, and the start of the services up to readiness.
 *
 * Addresses are the same in every episode (10.0.0.2 the agent, 10.0.0.3...
 * the services): each episode's network lives in its own namespaces, so
 * address pools never run out and episodes never meet.
 */
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/bug.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define NET_UP_TIMEOUT_MS 3000
#define READY_DEFAULT_MS 30000
#define SVC_CHECK_MS 50         /* how often a booting service is looked at */
#define NAME_MAX_LEN 63

static char **strv_copy(const char *const *v)
{
	return v ? strv_dup((char *const *)v) : NULL;
}

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static long host_mem_mb(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	return pages > 0 && psz > 0 ? (long)((long long)pages * psz >> 20) : 0;
}

static enum err fill_limits(const char *ep, const char *box,
			    const struct sbx_limits *in, struct sbx_limits *l,
			    struct errmsg *e)
{
	long mem = host_mem_mb();

	*l = *in;
	if (!l->memory_mb)
		l->memory_mb = 512;
	if (!l->pids)
		l->pids = 256;
	if (!l->cpu_percent)
		l->cpu_percent = 100;
	if (!l->disk_mb)
		l->disk_mb = 256;
	if (!l->nofile)
		l->nofile = 1024;
	if (l->memory_mb < 16 || (mem && l->memory_mb > mem))
		return err_set(e, ERR_LIMIT, "episode '%s': box '%s': memory %d MiB "
			       "outside 16..%ld", ep, box, l->memory_mb, mem);
	if (l->pids < 8 || l->pids > 4194304)
		return err_set(e, ERR_LIMIT, "episode '%s': box '%s': pids %d outside "
			       "8..4194304", ep, box, l->pids);
	if (l->cpu_percent < 1 || l->cpu_percent > 100 * (int)sysconf(_SC_NPROCESSORS_ONLN))
		return err_set(e, ERR_LIMIT, "episode '%s': box '%s': cpu %d%% is more "
			       "than the host has", ep, box, l->cpu_percent);
	if (l->disk_mb < 1 || (mem && l->disk_mb > mem))
		return err_set(e, ERR_LIMIT, "episode '%s': box '%s': disk %d MiB "
			       "outside 1..%ld", ep, box, l->disk_mb, mem);
	if (l->nofile < 16 || l->nofile > 1048576)
		return err_set(e, ERR_LIMIT, "episode '%s': box '%s': nofile %d outside "
			       "16..1048576", ep, box, l->nofile);
	return ERR_OK;
}

static enum err check_spec(const char *ep, const struct sbx_box_spec *s,
			   struct errmsg *e)
{
	if (!name_ok(s->name))
		return err_set(e, ERR_INVAL, "episode '%s': bad box name '%s'", ep,
			       s->name ? s->name : "(null)");
	if (!s->image || (strcmp(s->image, "host") &&
			  (s->image[0] != '/' || !is_dir(s->image))))
		return err_set(e, ERR_INVAL, "episode '%s': box '%s': image '%s' is "
			       "not 'host' or an existing directory", ep, s->name,
			       s->image ? s->image : "(null)");
	if (s->image[0] == '/' && (strchr(s->image, ',') || strchr(s->image, ':') ||
				   strlen(s->image) > 1024))
		return err_set(e, ERR_INVAL, "episode '%s': box '%s': image path '%s' "
			       "has ',' or ':'", ep, s->name, s->image);
	if (s->ready == SBX_READY_TCP && (s->ready_port < 1 || s->ready_port > 65535))
		return err_set(e, ERR_INVAL, "episode '%s': box '%s': bad ready port %d",
			       ep, s->name, s->ready_port);
	if (s->ready == SBX_READY_CMD && (!s->ready_argv || !s->ready_argv[0]))
		return err_set(e, ERR_INVAL, "episode '%s': box '%s': empty ready "
			       "command", ep, s->name);
	return ERR_OK;
}

/* "a:b:c" of the spec's layers: plain names (no '/', ':', ',' or "..")
 * that fit the set-up message. */
static enum err join_layers(const char *ep, const struct sbx_box_spec *s,
			    char **out, struct errmsg *e)
{
	struct buf b;
	size_t n = 0;

	buf_init(&b, SBX_LOWERS_MAX - 1);
	for (; s->layers[n]; n++) {
		const char *l = s->layers[n];

		if (!*l || strpbrk(l, "/:,\\") || !strcmp(l, ".") || !strcmp(l, "..") ||
		    (n && buf_addch(&b, ':')) || buf_adds(&b, l)) {
			buf_release(&b);
			return err_set(e, ERR_INVAL, "episode '%s' box '%s': bad or too "
				       "many image layers", ep, s->name);
		}
	}
	if (n == 0) {
		buf_release(&b);
		return err_set(e, ERR_INVAL, "episode '%s' box '%s': an image without "
			       "layers", ep, s->name);
	}
	*out = buf_detach(&b, NULL);
	return ERR_OK;
}

static enum err box_from_spec(struct sbx_episode *ep, struct sbx_box *b,
			      const struct sbx_box_spec *s, bool agent,
			      struct errmsg *e)
{
	enum err rc;

	b->ep = ep;
	b->pid = b->pidfd = b->ctl = b->netns = b->slot_fd = -1;
	b->dead = true; /* until spawned */
	rc = check_spec(ep->name, s, e);
	if (!rc)
		rc = fill_limits(ep->name, s->name, &s->limits, &b->lim, e);
	if (!rc)
		rc = sbx_user_ids(s->user ? s->user : agent ? "agent" : "root",
				  &b->def_uid, e);
	if (rc)
		return rc;
	b->name = xstrdup(s->name);
	b->image = xstrdup(s->image);
	b->svc_uid = s->svc_uid;
	b->svc_gid = s->svc_gid;
	if (s->layers && (rc = join_layers(ep->name, s, &b->lowers, e)))
		return rc;
	b->packet_sockets = s->packet_sockets;
	b->argv = strv_copy(s->argv);
	b->env = strv_copy(s->env);
	/* a service's entrypoint starts in /srv by default; an agent box's
	 * commands in their user's home unless the spec names a cwd */
	b->cwd = s->cwd ? xstrdup(s->cwd) : s->argv ? xstrdup("/srv") : NULL;
	b->ready = s->ready;
	b->ready_port = s->ready_port;
	b->ready_argv = strv_copy(s->ready_argv);
	b->ready_timeout_ms = s->ready_timeout_ms > 0 ? s->ready_timeout_ms :
			      READY_DEFAULT_MS;
	return ERR_OK;
}

static void hosts_text(const struct sbx_episode *ep, size_t self, struct buf *o)
{
	/* names and addresses are short and few: the default cap holds them */
	if (buf_adds(o, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
		     "ip6-loopback\n"))
		BUG("/etc/hosts over its buffer cap");
	if (ep->n == 1 && buf_printf(o, "127.0.1.1\t%s\n", ep->boxes[0].name))
		BUG("/etc/hosts over its buffer cap");
	for (size_t i = 0; ep->n > 1 && i < ep->n; i++)
		if (buf_printf(o, "%s\t%s\n", ep->boxes[i].addr, ep->boxes[i].name))
			BUG("/etc/hosts over its buffer cap");
	(void)self;
}

static enum err spawn_all(struct sbx_episode *ep, struct errmsg *e)
{
	enum err rc = ERR_OK;
	struct buf h;

	buf_init(&h, 4000);
	hosts_text(ep, 0, &h);
	for (size_t i = 0; i < ep->n && !rc; i++) {
		ep->boxes[i].dead = false;
		rc = sbx_box_spawn(&ep->boxes[i], h.data, e);
	}
	buf_release(&h);
	/* the boxes build themselves in parallel; their HELLOs bring the
	 * network namespaces to wire. Meanwhile, the boxes of earlier
	 * episodes the kernel has finished with give back their cgroups and
	 * uid slots (for the next episode: not on this one's way to clone) */
	sbx_reap(false);
	for (size_t i = 0; i < ep->n && !rc; i++)
		rc = sbx_box_wait_hello(&ep->boxes[i], e);
	if (!rc && ep->n > 1)
		rc = sbx_net_setup(ep, e);
	if (rc)
		err_prefix(e, "episode '%s'", ep->name);
	return rc;
}

enum err sbx_episode_new(const struct sbx_episode_spec *spec,
			 struct sbx_episode **ep_out, struct errmsg *e)
{
	struct sbx_episode *ep;
	enum err rc;

	if ((rc = sbx_require_init(e)))
		return rc;
	if (spec->n_services > 250)
		return err_set(e, ERR_LIMIT, "episode '%s': %zu services (max 250)",
			       spec->name, spec->n_services);
	ep = xcalloc(1, sizeof(*ep));
	ep->name = xstrdup(spec->name ? spec->name : "episode");
	ep->switch_ns = -1;
	ep->n = 1 + spec->n_services;
	ep->boxes = xcalloc(ep->n, sizeof(*ep->boxes));
	for (size_t i = 0; i < ep->n; i++)
		ep->boxes[i].pid = ep->boxes[i].pidfd = ep->boxes[i].ctl =
			ep->boxes[i].netns = ep->boxes[i].slot_fd = -1;
	rc = box_from_spec(ep, &ep->boxes[0], &spec->agent, true, e);
	for (size_t i = 0; !rc && i < spec->n_services; i++)
		rc = box_from_spec(ep, &ep->boxes[i + 1], &spec->services[i], false, e);
	for (size_t i = 0; !rc && i < ep->n; i++) {
		snprintf(ep->boxes[i].addr, sizeof(ep->boxes[i].addr),
			 ep->n > 1 ? "10.0.0.%zu" : "127.0.0.1", i + 2);
		for (size_t j = 0; j < i && !rc; j++)
			if (!strcmp(ep->boxes[i].name, ep->boxes[j].name))
				rc = err_set(e, ERR_INVAL, "episode '%s': two boxes "
					     "named '%s'", ep->name, ep->boxes[i].name);
	}
	if (!rc)
		rc = spawn_all(ep, e);
	if (rc) {
		sbx_episode_free(ep);
		return rc;
	}
	*ep_out = ep;
	return ERR_OK;
}

static void box_free(struct sbx_box *b)
{
	sbx_box_destroy(b);
	free(b->name);
	free(b->image);
	free(b->lowers);
	strv_free(b->argv);
	strv_free(b->env);
	free(b->cwd);
	strv_free(b->ready_argv);
}

void sbx_episode_free(struct sbx_episode *ep)
{
	if (!ep)
		return;
	/* all boxes die in parallel, then each is reaped */
	for (size_t i = 0; i < ep->n; i++)
		if (!ep->boxes[i].dead)
			sbx_box_mark_dead(&ep->boxes[i]);
	for (size_t i = 0; i < ep->n; i++) {
		if (ep->boxes[i].probe_open)
			close(ep->boxes[i].probe_fd);
		box_free(&ep->boxes[i]);
	}
	if (ep->switch_ns >= 0)
		close(ep->switch_ns);
	free(ep->boxes);
	free(ep->name);
	free(ep);
}

struct sbx_box *sbx_episode_box(struct sbx_episode *ep, const char *name)
{
	if (!name)
		return &ep->boxes[0];
	for (size_t i = 0; i < ep->n; i++)
		if (!strcmp(ep->boxes[i].name, name))
			return &ep->boxes[i];
	return NULL;
}

const char *sbx_box_name(const struct sbx_box *b)
{
	return b->name;
}

const char *sbx_box_addr(const struct sbx_box *b)
{
	return b->addr;
}

/* --- start and readiness ------------------------------------------- */

static enum err start_entrypoint(struct sbx_box *b, struct errmsg *e)
{
	struct sbx_m_exec x = { 0 };
	struct sbx_m_ack ack = { 0 };
	struct buf s;
	enum err rc;

	buf_init(&s, SBX_STRINGS_MAX);
	rc = sbx_exec_strings(&s, &x, (const char *const *)b->argv, NULL, NULL,
			      (const char *const *)b->env, b->cwd, b->svc_uid, e);
	x.uid = b->svc_uid;
	x.gid = b->svc_gid;
	x.flags = SBX_XF_DETACH;
	x.timeout_ms = 1;
	if (!rc)
		rc = sbx_send_blob(b, SBX_M_EXEC, &x, sizeof(x), s.data, s.len, e);
	buf_release(&s);
	if (!rc)
		rc = sbx_wait_ack(b, now_ms() + SBX_OP_TIMEOUT_MS, &ack, e);
	if (!rc && ack.err) {
		errno = ack.err > 0 && ack.err < 4096 ? ack.err : EPROTO;
		rc = err_sys(e, ERR_SANDBOX, "cannot start entrypoint");
	}
	if (rc)
		return err_prefix(e, "service '%s'", b->name);
	return ERR_OK;
}

static void sleep_us(int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

enum err sbx_episode_start_begin(struct sbx_episode *ep, struct errmsg *e)
{
	int64_t now;
	enum err rc = ERR_OK;

	if (ep->started)
		return err_set(e, ERR_SANDBOX, "episode '%s' already started", ep->name);
	ep->started = true;
	if (ep->n > 1)
		rc = sbx_net_wait_up(ep, now_ms() + NET_UP_TIMEOUT_MS, e);
	if (rc)
		return err_prefix(e, "episode '%s'", ep->name);
	for (size_t i = 1; i < ep->n && !rc; i++)
		if (ep->boxes[i].argv && ep->boxes[i].argv[0])
			rc = start_entrypoint(&ep->boxes[i], e);
	if (rc)
		return err_prefix(e, "episode '%s'", ep->name);
	now = now_us();
	ep->ready_start = now / 1000;
	for (size_t i = 1; i < ep->n; i++) {
		struct sbx_box *b = &ep->boxes[i];
		b->is_ready = b->ready == SBX_READY_NONE;
		b->probe_due = now;
		b->probe_backoff_us = 200;
	}
	return ERR_OK;
}

/* Services usually come up within milliseconds: probe finely at first,
 * then every 50 ms. */
static void probe_later(struct sbx_box *b)
{
	b->probe_due = now_us() + b->probe_backoff_us;
	b->probe_backoff_us = b->probe_backoff_us < 25000 ?
			      b->probe_backoff_us * 2 : 50000;
}

static void probe_close(struct sbx_box *b)
{
	close(b->probe_fd);
	b->probe_open = false;
}

/* One step of a TCP probe from the agent's netns: start a non-blocking
 * connect, or look (without waiting) whether it was accepted. */
static void tcp_step(struct sbx_episode *ep, struct sbx_box *b, int64_t now)
{
	struct pollfd pf;
	int err = 0;
	socklen_t el = sizeof(err);

	if (!b->probe_open) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)b->ready_port) };
		int s = sbx_net_socket_in(ep->boxes[0].netns);
		if (s < 0) {
			probe_later(b);
			return;
		}
		inet_pton(AF_INET, b->addr, &sa.sin_addr);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(s);
			b->is_ready = true;
		} else if (errno == EINPROGRESS) {
			b->probe_fd = s;
			b->probe_open = true;
			b->probe_until = now + 1000;
		} else {
			close(s);
			probe_later(b);
		}
		return;
	}
	pf = (struct pollfd){ .fd = b->probe_fd, .events = POLLOUT };
	if (poll(&pf, 1, 0) == 1) {
		if (getsockopt(b->probe_fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
		    !err)
			b->is_ready = true;
		else
			probe_later(b);
		probe_close(b);
	} else if (now >= b->probe_until) {
		probe_close(b);
		probe_later(b);
	}
}

/* One step of a ready command: start it, or collect its result. */
static enum err cmd_step(struct sbx_box *b, int64_t deadline, struct errmsg *e)
{
	struct sbx_exec_req req = {
		.argv = (const char *const *)b->ready_argv, .user = "root",
		.out_cap = 4096, .cwd = "/",
	};
	struct sbx_exec_result res = { 0 };
	bool done = false;
	enum err rc;

	if (!b->probe_exec) {
		int64_t left = deadline - now_ms();
		req.timeout_ms = left > 10000 ? 10000 : left < 1 ? 1 : (int)left;
		rc = sbx_exec_begin(b, &req, e);
		b->probe_exec = rc == ERR_OK;
		return rc;
	}
	rc = sbx_exec_poll(b, &done, &res, e);
	if (rc || !done)
		return rc;
	b->probe_exec = false;
	if (res.how == SBX_EXITED && res.exit_code == 0)
		b->is_ready = true;
	else
		probe_later(b);
	sbx_exec_result_release(&res);
	return ERR_OK;
}

/* A service that died or never became ready: the error says how it ended
 * and how its stderr (else its stdout) ends. */
static enum err service_failed(struct sbx_episode *ep, struct sbx_box *b,
			       enum err code, const char *what,
			       struct errmsg *e)
{
	struct sbx_service_state st;
	struct errmsg se;
	char how[160] = "", *tail = NULL;

	if (!b->px.active && !b->dead &&
	    sbx_service_state(b, true, &st, &se) == ERR_OK) {
		sbx_service_state_text(&st, how, sizeof(how));
		tail = sbx_last_lines(st.err_len ? st.err : st.out,
				      st.err_len ? st.err_len : st.out_len,
				      5, 300);
		err_set(e, code, "episode '%s': service '%s' %s (%s)%s%s%s%s",
			ep->name, b->name, what, how, *tail ? "; its " : "",
			*tail ? (st.err_len ? "stderr" : "stdout") : "",
			*tail ? " ends: " : "", tail);
		free(tail);
		sbx_service_state_release(&st);
		return code;
	}
	return err_set(e, code, "episode '%s': service '%s' %s", ep->name,
		       b->name, what);
}

/* The entrypoint and all it started are gone: no point waiting. */
static enum err check_alive(struct sbx_episode *ep, struct sbx_box *b,
			    struct errmsg *e)
{
	struct sbx_service_state st;
	int64_t now = now_ms();
	enum err rc;

	if (!b->argv || !b->argv[0] || b->probe_exec || now < b->svc_due)
		return ERR_OK;
	b->svc_due = now + SVC_CHECK_MS;
	rc = sbx_service_state(b, false, &st, e);
	if (rc)
		return err_prefix(e, "episode '%s'", ep->name);
	if (st.started && !st.alive)
		return service_failed(ep, b, ERR_SANDBOX, "exited before it was "
				      "ready", e);
	return ERR_OK;
}

static enum err probe_box(struct sbx_episode *ep, struct sbx_box *b,
			  int64_t now, struct errmsg *e)
{
	int64_t deadline = ep->ready_start + b->ready_timeout_ms;
	char what[120];
	enum err rc;

	if (b->dead)
		return err_set(e, ERR_SANDBOX, "episode '%s': service '%s' died "
			       "before it was ready", ep->name, b->name);
	if (b->ready == SBX_READY_TCP &&
	    (b->probe_open || now_us() >= b->probe_due))
		tcp_step(ep, b, now);
	else if (b->ready == SBX_READY_CMD &&
		 (b->probe_exec || now_us() >= b->probe_due)) {
		rc = cmd_step(b, deadline, e);
		if (rc)
			return err_prefix(e, "episode '%s': service '%s'",
					  ep->name, b->name);
	}
	if (!b->is_ready && (rc = check_alive(ep, b, e)))
		return rc;
	if (!b->is_ready && now_ms() >= deadline) {
		if (b->ready == SBX_READY_TCP)
			snprintf(what, sizeof(what), "not ready after %d ms (tcp "
				 "port %d)", b->ready_timeout_ms, b->ready_port);
		else
			snprintf(what, sizeof(what), "not ready after %d ms "
				 "(ready command)", b->ready_timeout_ms);
		return service_failed(ep, b, ERR_TIMEOUT, what, e);
	}
	return ERR_OK;
}

enum err sbx_episode_start_poll(struct sbx_episode *ep, bool *done,
				struct errmsg *e)
{
	int64_t now = now_ms();
	bool all = true;

	for (size_t i = 1; i < ep->n; i++) {
		struct sbx_box *b = &ep->boxes[i];
		enum err rc;
		if (b->is_ready)
			continue;
		if ((rc = probe_box(ep, b, now, e)))
			return rc;
		all = all && b->is_ready;
	}
	*done = all;
	return ERR_OK;
}

/* Microseconds until a probe is due, -1 when none is pending. */
static int64_t next_us(const struct sbx_episode *ep)
{
	int64_t now = now_us(), best = -1;

	for (size_t i = 1; i < ep->n; i++) {
		const struct sbx_box *b = &ep->boxes[i];
		int64_t due;
		if (b->is_ready)
			continue;
		/* a pending connect or command: look again soon */
		due = b->probe_open || b->probe_exec ? now + 200 : b->probe_due;
		if (best < 0 || due < best)
			best = due;
	}
	return best < 0 ? -1 : best <= now ? 0 : best - now;
}

int sbx_episode_start_next_ms(const struct sbx_episode *ep)
{
	int64_t us = next_us(ep);

	return us < 0 ? -1 : (int)((us + 999) / 1000);
}

enum err sbx_episode_start(struct sbx_episode *ep, struct errmsg *e)
{
	bool done = false;
	enum err rc = sbx_episode_start_begin(ep, e);

	while (rc == ERR_OK) {
		int64_t us;
		if ((rc = sbx_episode_start_poll(ep, &done, e)) || done)
			break;
		us = next_us(ep);
		if (us > 0)
			sleep_us((int)us);
	}
	return rc;
}
