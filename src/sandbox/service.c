/*
 * service.c - a service box's entrypoint as init sees it: running or
 * ended (and how), and its captured stdout and stderr, so a service that
 * dies says why and its output reaches the journal.
 */
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* One OUT chunk of the entrypoint's output; false on a violation. */
static bool take_out(struct buf head[2], struct buf tail[2], const char *p,
		     size_t n)
{
	struct sbx_m_out o;
	struct buf *dst;

	if (n < sizeof(o))
		return false;
	memcpy(&o, p, sizeof(o));
	if (o.stream < 1 || o.stream > 2 || o.tail > 1)
		return false;
	dst = o.tail ? &tail[o.stream - 1] : &head[o.stream - 1];
	/* more than init may keep is a violation (buf max) */
	return buf_add(dst, p + sizeof(o), n - sizeof(o)) == ERR_OK;
}

static void fill(struct sbx_service_state *st, const struct sbx_m_svc *m)
{
	st->started = m->started;
	st->exited = m->started && m->exited;
	st->alive = m->started && (!m->exited || m->others);
	if (!st->exited)
		return;
	if (WIFSIGNALED(m->status)) {
		st->how = SBX_SIGNALED;
		st->term_signal = WTERMSIG(m->status);
	} else {
		st->how = SBX_EXITED;
		st->exit_code = WEXITSTATUS(m->status);
	}
}

enum err sbx_service_state(struct sbx_box *b, bool with_output,
			   struct sbx_service_state *st, struct errmsg *e)
{
	uint32_t want = with_output;
	int64_t deadline = now_ms() + SBX_OP_TIMEOUT_MS;
	struct buf head[2], tail[2];
	struct sbx_m_svc m;
	enum err rc;

	memset(st, 0, sizeof(*st));
	if (b->px.active)
		return err_set(e, ERR_SANDBOX, "box '%s' is running a command",
			       b->name);
	rc = sbx_send(b, SBX_M_SVC, &want, sizeof(want), NULL, 0, e);
	for (int i = 0; i < 2; i++) {
		buf_init(&head[i], SBX_SVC_CAP / 2 + 1);
		buf_init(&tail[i], SBX_SVC_CAP - SBX_SVC_CAP / 2 + 1);
	}
	while (!rc) {
		struct sbx_msg h;
		const char *p;

		if ((rc = sbx_recv(b, deadline, &h, &p, e)))
			break;
		if (h.type == SBX_M_OUT && with_output &&
		    take_out(head, tail, p, h.len))
			continue;
		if (h.type != SBX_M_SVC_STATE || h.len != sizeof(m)) {
			sbx_box_mark_dead(b);
			rc = err_set(e, ERR_SANDBOX, "box '%s': protocol violation "
				     "(message %u)", b->name, h.type);
			break;
		}
		memcpy(&m, p, sizeof(m));
		fill(st, &m);
		if (with_output) {
			st->out = sbx_assemble(&head[0], &tail[0], m.out_total,
					       &st->out_len, &st->out_truncated);
			st->err = sbx_assemble(&head[1], &tail[1], m.err_total,
					       &st->err_len, &st->err_truncated);
		}
		break;
	}
	for (int i = 0; i < 2; i++) {
		buf_release(&head[i]);
		buf_release(&tail[i]);
	}
	if (rc == ERR_TIMEOUT)
		sbx_box_mark_dead(b);
	return rc ? err_prefix(e, "service '%s'", b->name) : ERR_OK;
}

void sbx_service_state_release(struct sbx_service_state *st)
{
	free(st->out);
	free(st->err);
	st->out = st->err = NULL;
	st->out_len = st->err_len = 0;
}

const char *sbx_service_state_text(const struct sbx_service_state *st,
				   char *buf, size_t n)
{
	if (!st->started)
		snprintf(buf, n, "not started");
	else if (!st->exited)
		snprintf(buf, n, "running");
	else if (st->how == SBX_SIGNALED)
		snprintf(buf, n, "killed by signal %d (%s)%s", st->term_signal,
			 strsignal(st->term_signal), st->alive ?
			 "; what it started still runs" : "");
	else
		snprintf(buf, n, "exited with status %d%s", st->exit_code,
			 st->alive ? "; what it started still runs" : "");
	return buf;
}

char *sbx_last_lines(const char *s, size_t len, int max_lines, size_t max_bytes)
{
	size_t end = len, start;
	int lines = 0;
	struct buf o;

	while (end && (s[end - 1] == '\n' || s[end - 1] == '\r' ||
		       s[end - 1] == ' '))
		end--;
	start = end;
	while (start && lines < max_lines) {
		if (s[start - 1] == '\n' && ++lines == max_lines)
			break;
		start--;
	}
	if (end - start > max_bytes)
		start = end - max_bytes;
	while (start < end && (s[start] == '\n' || s[start] == '\r'))
		start++;
	buf_init(&o, 4 * max_bytes + 16);
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)s[i];
		enum err rc;
		if (c == '\n')
			rc = buf_adds(&o, " | ");
		else if (c == '\r')
			continue;
		else
			rc = buf_addch(&o, (char)(c < 0x20 || c == 0x7f ? '?' : c));
		if (rc)
			break;
	}
	return buf_detach(&o, NULL);
}
