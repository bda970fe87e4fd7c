/*
 * exec.c - run commands in a box through its init.
 *
 * One command at a time per box. The request carries argv, env, cwd, the
 * target uid, the timeout, the output cap and stdin; init runs it in its
 * own session and process group, and answers with the head and the tail of
 * each stream (at most out_cap bytes per stream) and an exit record. The
 * harness checks every size against the cap it asked for and gives up on
 * a box that does not answer by timeout + SBX_GRACE_MS (SBX_BOX_DIED).
 */
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/bug.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define DEFAULT_OUT_CAP (64 * 1024)
#define DEFAULT_TIMEOUT_MS 60000

static const char *const base_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8", "TERM=dumb", "SHELL=/bin/bash",
};

static bool env_key_eq(const char *a, const char *b)
{
	size_t ka = strcspn(a, "="), kb = strcspn(b, "=");

	return ka == kb && !strncmp(a, b, ka);
}

static enum err add_str(struct buf *s, const char *v)
{
	return buf_add(s, v, strlen(v) + 1);
}

static bool env_has_key(const char *const *v, const char *kv)
{
	for (size_t j = 0; v && v[j]; j++)
		if (env_key_eq(kv, v[j]))
			return true;
	return false;
}

/* Default env for uid, overridden key by key by box (the image's Env of
 * an agent box), then by extra (the command's own). */
static enum err build_env(struct buf *s, uid_t uid, const char *const *box,
			  const char *const *extra, uint32_t *n_out)
{
	const char *home = uid == 0 ? "/root" : "/home/agent";
	const char *user = uid == 0 ? "root" : "agent";
	char h[64], u[64], l[64];
	const char *defs[ARRAY_SIZE(base_env) + 3];
	size_t nd = 0;
	uint32_t n = 0;
	enum err rc = ERR_OK;

	snprintf(h, sizeof(h), "HOME=%s", home);
	snprintf(u, sizeof(u), "USER=%s", user);
	snprintf(l, sizeof(l), "LOGNAME=%s", user);
	for (size_t i = 0; i < ARRAY_SIZE(base_env); i++)
		defs[nd++] = base_env[i];
	defs[nd++] = h;
	defs[nd++] = u;
	defs[nd++] = l;
	for (size_t i = 0; i < nd && !rc; i++)
		if (!env_has_key(box, defs[i]) && !env_has_key(extra, defs[i])) {
			rc = add_str(s, defs[i]);
			n++;
		}
	for (size_t j = 0; box && box[j] && !rc; j++)
		if (strchr(box[j], '=') && !env_has_key(extra, box[j])) {
			rc = add_str(s, box[j]);
			n++;
		}
	for (size_t j = 0; extra && extra[j] && !rc; j++) {
		if (!strchr(extra[j], '='))
			continue;
		rc = add_str(s, extra[j]);
		n++;
	}
	*n_out = n;
	return rc;
}

/* Serialise argv, env and cwd into s; fills the counts of x. */
enum err sbx_exec_strings(struct buf *s, struct sbx_m_exec *x,
			  const char *const *argv, const char *shell,
			  const char *const *box_env, const char *const *env,
			  const char *cwd, uid_t uid, struct errmsg *e)
{
	enum err rc = ERR_OK;

	x->argc = 0;
	if (argv && argv[0]) {
		for (size_t i = 0; argv[i] && !rc; i++, x->argc++)
			rc = add_str(s, argv[i]);
	} else if (shell) {
		rc = add_str(s, "/bin/sh");
		if (!rc)
			rc = add_str(s, "-c");
		if (!rc)
			rc = add_str(s, shell);
		x->argc = 3;
	} else {
		return err_set(e, ERR_INVAL, "exec without argv or shell");
	}
	if (!rc)
		rc = build_env(s, uid, box_env, env, &x->envc);
	if (!rc)
		rc = add_str(s, cwd ? cwd : uid == 0 ? "/root" : "/home/agent");
	if (rc)
		return err_set(e, ERR_LIMIT, "command, environment and cwd exceed "
			       "%u bytes", SBX_STRINGS_MAX);
	x->strings_len = (uint32_t)s->len;
	return ERR_OK;
}

static void pending_reset(struct sbx_pending *px)
{
	for (int i = 0; i < 2; i++) {
		buf_release(&px->head[i]);
		buf_release(&px->tail[i]);
	}
	memset(px, 0, sizeof(*px));
}

enum err sbx_exec_begin(struct sbx_box *b, const struct sbx_exec_req *req,
			struct errmsg *e)
{
	struct sbx_m_exec x = { 0 };
	struct buf s;
	uid_t uid = b->def_uid;
	size_t cap = req->out_cap ? req->out_cap : DEFAULT_OUT_CAP;
	bool own_defaults = !req->user && !b->argv &&
			    req->builtin == SBX_RUN_PROGRAM;
	enum err rc;

	if (b->dead)
		return err_set(e, ERR_SANDBOX, "box '%s' is dead", b->name);
	if (b->px.active)
		return err_set(e, ERR_SANDBOX, "box '%s' is already running a command",
			       b->name);
	if (req->user && (rc = sbx_user_ids(req->user, &uid, e)))
		return rc;
	if (req->builtin != SBX_RUN_PROGRAM) {
		if (!req->argv || !req->argv[0] || req->argv[0][0] != '/' ||
		    req->argv[1])
			return err_set(e, ERR_INVAL, "box '%s': a built-in job takes "
				       "one absolute directory", b->name);
		uid = 0;
		x.flags = req->builtin == SBX_TIDY ? SBX_XF_TIDY : SBX_XF_FRESH;
	}
	if (req->pty && (req->builtin != SBX_RUN_PROGRAM || req->stdin_len))
		return err_set(e, ERR_INVAL, "box '%s': a terminal command takes "
			       "no stdin data", b->name);
	if (req->pty)
		x.flags |= SBX_XF_PTY;
	if (cap > SBX_OUTCAP_MAX || req->stdin_len > SBX_STDIN_MAX)
		return err_set(e, ERR_LIMIT, "box '%s': output cap or stdin too large",
			       b->name);
	buf_init(&s, SBX_STRINGS_MAX + req->stdin_len);
	/* the box's defaults (an agent image's Env and WorkingDir) for the
	 * commands of its default user, as `docker exec` gives them */
	rc = sbx_exec_strings(&s, &x, req->argv, req->shell,
			      own_defaults ? (const char *const *)b->env : NULL,
			      req->env, req->cwd ? req->cwd :
			      own_defaults ? b->cwd : NULL, uid, e);
	if (!rc && req->stdin_len && buf_add(&s, req->stdin_data, req->stdin_len))
		rc = err_set(e, ERR_LIMIT, "stdin too large");
	x.uid = x.gid = (uint32_t)uid;
	x.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	x.out_cap = (uint32_t)cap;
	x.stdin_len = (uint32_t)req->stdin_len;
	if (!rc)
		rc = sbx_send_blob(b, SBX_M_EXEC, &x, sizeof(x), s.data, s.len, e);
	buf_release(&s);
	if (rc)
		return err_prefix(e, "box '%s': exec", b->name);
	pending_reset(&b->px);
	b->px.active = true;
	b->px.cap = cap;
	for (int i = 0; i < 2; i++) {
		buf_init(&b->px.head[i], cap / 2);
		buf_init(&b->px.tail[i], cap - cap / 2);
	}
	b->px.start_us = now_us();
	b->px.deadline_ms = now_ms() + x.timeout_ms + SBX_GRACE_MS;
	return ERR_OK;
}

int sbx_box_fd(const struct sbx_box *b)
{
	return b->ctl;
}

int sbx_exec_timeout_ms(const struct sbx_box *b)
{
	int64_t left;

	if (!b->px.active)
		return -1;
	left = b->px.deadline_ms - now_ms();
	return left < 0 ? 0 : left > 1 << 30 ? 1 << 30 : (int)left;
}

char *sbx_assemble(const struct buf *head, const struct buf *tail,
		   uint64_t total, size_t *len_out, bool *trunc_out)
{
	struct buf o;
	size_t got = head->len + tail->len;

	buf_init(&o, BUF_MAX_DEFAULT);
	/* head and tail are capped far below BUF_MAX_DEFAULT */
	if (buf_add(&o, head->data, head->len))
		BUG("output head of %zu bytes over the buffer cap", head->len);
	*trunc_out = total > got;
	if (*trunc_out &&
	    buf_printf(&o, "\n[... %llu bytes truncated ...]\n",
		       (unsigned long long)(total - got)))
		BUG("truncation mark over the buffer cap");
	if (buf_add(&o, tail->data, tail->len))
		BUG("output tail of %zu bytes over the buffer cap", tail->len);
	return buf_detach(&o, len_out);
}

static char *assemble(struct sbx_pending *px, int i, uint64_t total,
		      size_t *len_out, bool *trunc_out)
{
	return sbx_assemble(&px->head[i], &px->tail[i], total, len_out,
			    trunc_out);
}

static void finish(struct sbx_box *b, struct sbx_exec_result *res, bool died)
{
	struct sbx_pending *px = &b->px;

	memset(res, 0, sizeof(*res));
	res->wall_us = now_us() - px->start_us;
	if (died) {
		res->how = SBX_BOX_DIED;
	} else if (px->start_err) {
		/* as a shell reports a command it could not run */
		res->how = SBX_EXITED;
		res->exit_code = 126;
	} else if (px->exit.how == SBX_HOW_TIMEOUT) {
		res->how = SBX_TIMED_OUT;
	} else if (px->exit.how == SBX_HOW_SIGNALED) {
		res->how = SBX_SIGNALED;
		res->term_signal = px->exit.code;
	} else {
		res->how = SBX_EXITED;
		res->exit_code = px->exit.code;
	}
	if (!died) {
		bool oom = sbx_cg_take_oom(&b->cg) || px->exit.sock_killed;

		/* killed by the OOM killer (or init's socket memory watch),
		 * directly or as the shell's child (the shell then exits
		 * 128 + SIGKILL) */
		if (oom && ((res->how == SBX_SIGNALED && res->term_signal == SIGKILL) ||
			    (res->how == SBX_EXITED && res->exit_code == 128 + SIGKILL)))
			res->how = SBX_OOM_KILLED;
		res->pids_limited = sbx_cg_take_pids(&b->cg);
	}
	res->out = assemble(px, 0, died ? 0 : px->exit.out_total, &res->out_len,
			    &res->out_truncated);
	res->err = assemble(px, 1, died ? 0 : px->exit.err_total, &res->err_len,
			    &res->err_truncated);
	if (px->start_err) {
		free(res->err);
		res->err = xasprintf("assay-init: cannot start the command: %s\n",
				     strerror(px->start_err));
		res->err_len = strlen(res->err);
		res->pids_limited |= px->start_err == EAGAIN;
	}
	pending_reset(px);
}

/* One message of the running exec; false on a protocol violation. */
static bool take_msg(struct sbx_pending *px, const struct sbx_msg *h,
		     const char *p)
{
	struct sbx_m_out o;
	struct buf *dst;

	if (h->type == SBX_M_EXIT && h->len == sizeof(px->exit)) {
		memcpy(&px->exit, p, sizeof(px->exit));
		px->got_exit = true;
		return px->exit.how >= SBX_HOW_EXITED && px->exit.how <= SBX_HOW_TIMEOUT;
	}
	if (h->type == SBX_M_ACK && h->len == sizeof(struct sbx_m_ack)) {
		struct sbx_m_ack a;

		memcpy(&a, p, sizeof(a));
		px->start_err = a.err > 0 && a.err < 4096 ? a.err : EPROTO;
		px->got_exit = true;
		return true;
	}
	if (h->type != SBX_M_OUT || h->len < sizeof(o))
		return false;
	memcpy(&o, p, sizeof(o));
	if (o.stream < 1 || o.stream > 2 || o.tail > 1)
		return false;
	dst = o.tail ? &px->tail[o.stream - 1] : &px->head[o.stream - 1];
	/* more than we asked init to keep is a violation (buf max) */
	return buf_add(dst, p + sizeof(o), h->len - sizeof(o)) == ERR_OK;
}

enum err sbx_exec_poll(struct sbx_box *b, bool *done,
		       struct sbx_exec_result *res, struct errmsg *e)
{
	*done = false;
	if (!b->px.active)
		return err_set(e, ERR_SANDBOX, "box '%s': no command running", b->name);
	for (;;) {
		struct sbx_msg h;
		const char *p;
		enum err rc = sbx_recv(b, 0, &h, &p, e);

		if (rc == ERR_TIMEOUT)
			break;
		if (rc || !take_msg(&b->px, &h, p)) {
			sbx_box_mark_dead(b);
			finish(b, res, true);
			*done = true;
			return ERR_OK;
		}
		if (b->px.got_exit) {
			finish(b, res, false);
			*done = true;
			return ERR_OK;
		}
	}
	if (now_ms() >= b->px.deadline_ms) {
		sbx_box_mark_dead(b);
		finish(b, res, true);
		*done = true;
	}
	return ERR_OK;
}

enum err sbx_exec(struct sbx_box *b, const struct sbx_exec_req *req,
		  struct sbx_exec_result *res, struct errmsg *e)
{
	bool done = false;
	enum err rc = sbx_exec_begin(b, req, e);

	while (!rc) {
		struct pollfd pf = { .fd = sbx_box_fd(b), .events = POLLIN };

		rc = sbx_exec_poll(b, &done, res, e);
		if (rc || done)
			break;
		if (poll(&pf, 1, sbx_exec_timeout_ms(b)) < 0 && errno != EINTR)
			rc = err_sys(e, ERR_SANDBOX, "poll");
	}
	return rc;
}

/* The master of a terminal, checked to be one (it comes from inside the
 * box: hostile). */
static bool is_pty_master(int fd)
{
	int n;

	return ioctl(fd, TIOCGPTN, &n) == 0;
}

enum err sbx_exec_pty(struct sbx_box *b, const struct sbx_exec_req *req,
		      int *master_out, struct errmsg *e)
{
	struct sbx_exec_result res;
	struct sbx_msg h;
	const char *p;
	int fd = -1;
	enum err rc;

	*master_out = -1;
	if (!req->pty)
		return err_set(e, ERR_INVAL, "box '%s': not a terminal command",
			       b->name);
	if ((rc = sbx_exec_begin(b, req, e)))
		return rc;
	rc = sbx_recv_with_fd(b, now_ms() + SBX_OP_TIMEOUT_MS, &h, &p, &fd, e);
	if (rc == ERR_OK && h.type == SBX_M_PTY && h.len == 0 && fd >= 0 &&
	    is_pty_master(fd) && fcntl(fd, F_SETFL, O_NONBLOCK) == 0 &&
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) {
		*master_out = fd;
		return ERR_OK;
	}
	if (fd >= 0)
		close(fd);
	if (rc == ERR_OK && h.type == SBX_M_ACK && h.len == sizeof(struct sbx_m_ack) &&
	    take_msg(&b->px, &h, p)) {
		finish(b, &res, false);
		rc = err_set(e, ERR_SANDBOX, "box '%s': %s", b->name, res.err);
		sbx_exec_result_release(&res);
		return rc;
	}
	sbx_box_mark_dead(b);
	finish(b, &res, true);
	sbx_exec_result_release(&res);
	return rc ? rc : err_set(e, ERR_SANDBOX, "box '%s': no terminal from init "
				 "(message %u)", b->name, h.type);
}

void sbx_exec_result_release(struct sbx_exec_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

enum err sbx_box_kill_all(struct sbx_box *b, struct errmsg *e)
{
	struct sbx_m_ack ack;
	enum err rc;

	if (b->px.active)
		return err_set(e, ERR_SANDBOX, "box '%s' is running a command", b->name);
	rc = sbx_send(b, SBX_M_KILLALL, NULL, 0, NULL, 0, e);
	if (!rc)
		rc = sbx_wait_ack(b, now_ms() + SBX_OP_TIMEOUT_MS, &ack, e);
	if (rc)
		return err_prefix(e, "box '%s': kill all", b->name);
	return ERR_OK;
}
_Static_assert(SBX_TIDY_EXIT_TOO_MANY == SBX_TIDY_TOO_MANY && SBX_TIDY_EXIT_TOO_DEEP == SBX_TIDY_TOO_DEEP && SBX_TIDY_EXIT_NOT_DIR == SBX_TIDY_NOT_DIR, "tidy exit statuses");
