/*
 * human.c - a person works a task (`assay human`): the same episode as a
 * model's (store row, boxes, services, planted flag, hidden check,
 * score), with an interactive shell on a terminal of the agent box in
 * place of the agent loop.
 *
 * The shell is bash with an rc file of ours (HUMAN_RC). Before each
 * prompt it writes, invisibly, an OSC sequence naming the command just
 * finished and its status (ESC ] 7701 ; STATUS ; COMMAND BEL); `submit
 * FLAG` writes ESC ] 7702 ; FLAG BEL and ends the shell. The relay takes
 * these out of what reaches the person's terminal and journals each
 * command with the output printed since the one before, as a model's
 * bash calls are journaled ("tool" events), and the submission as a
 * submit call. The stream comes from inside the box and is capped
 * everywhere; anything in the box can print a marker, so the transcript
 * is the person's own account, as a model's is its own.
 */
#include "engine/engine_int.h"
#include "engine/plan.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define HUMAN_RC "/opt/assay/human/rc"
#define HUMAN_MAX_MS (8 * 3600 * 1000)  /* the shell's own timeout */
#define SEG_CAP (64 * 1024)             /* output journaled per command */
#define MARK_CAP (64 * 1024)            /* bytes of one marker's text */
#define MARK_CMD 7701
#define MARK_SUBMIT 7702
#define MARK_START 7703                 /* the rc file is done */

/* appends whose cut is acceptable (every buffer here is capped) */
#define IGNORE(x) \
	do { \
		if (x) { \
		} \
	} while (0)

static const char rc_text[] =
	"# assay human: the session's shell; each command is journaled\n"
	"HISTCONTROL=\nHISTFILE=\nHISTSIZE=100000\n"
	"PS1='\\u@\\h:\\w\\$ '\n"
	"__assay_n=\n"
	"__assay_pc() {\n"
	"  local s=$? h n\n"
	"  h=$(HISTTIMEFORMAT= builtin history 1)\n"
	"  n=${h%%[!0-9 ]*}; n=${n// /}\n"
	"  [ -n \"$n\" ] && [ \"$n\" != \"$__assay_n\" ] || return 0\n"
	"  __assay_n=$n; h=${h#*[0-9]  }\n"
	"  builtin printf '\\033]7701;%d;%s\\007' \"$s\" \"$h\"\n"
	"}\n"
	"PROMPT_COMMAND=__assay_pc\n"
	"submit() {\n"
	"  builtin printf '\\033]7702;%s\\007' \"$*\"\n"
	"  builtin echo 'assay: submitted; the session ends'\n"
	"  builtin exit 0\n"
	"}\n"
	"builtin echo 'assay: submit FLAG submits (and ends the session); "
	"exit gives up'\n"
	"builtin printf '\\033]7703;\\007'\n";

enum mstate { M_TEXT, M_ESC, M_NUM, M_BODY, M_OTHER_OSC };

struct relay {
	struct episode *ep;
	const struct engine_human *h;
	int master;
	struct buf seg;             /* output since the last command */
	size_t seg_dropped;
	enum mstate ms;
	char hold[16];              /* "\033]NNNN" while it may be ours */
	size_t n_hold;
	int mark;                   /* the marker number being read */
	struct buf body;
	struct buf pending_in;      /* typed, not yet written to the master */
	int64_t last_us;            /* the last command's end (or the start) */
	int commands;
	char *flag;                 /* the last submission */
	bool submitted, in_eof, master_eof;
};

/* --- journal ---------------------------------------------------------- */

/* Output for the journal: the prompt and the echoed command line (up to
 * the first newline) dropped, carriage returns and escape sequences
 * taken out. Caller frees. */
static char *clean_output(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);
	struct buf o;

	buf_init(&o, SEG_CAP + 64);
	if (nl) {
		n -= (size_t)(nl + 1 - s);
		s = nl + 1;
	} else {
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\033' && i + 1 < n && s[i + 1] == '[') {
			for (i += 2; i < n && !(s[i] >= 0x40 && s[i] <= 0x7e); i++)
				;
			continue;
		}
		if (s[i] == '\033') {
			i++;
			continue;
		}
		IGNORE(buf_addch(&o, s[i]));
	}
	return buf_detach(&o, NULL);
}

/* A "tool" event as the agent journals one (agent/journal.c). */
static void journal_call(struct relay *r, const char *name, const char *arg_key,
			 const char *arg, const char *output, int status)
{
	struct buf args, json;
	struct jsonw w;
	struct errmsg e;
	char id[32];
	int64_t now = now_us();

	buf_init(&args, 2 * MARK_CAP + 64);
	jsonw_init(&w, &args, JSONW_LOSSY);
	jsonw_obj(&w);
	jsonw_kstr(&w, arg_key, arg);
	jsonw_obj_end(&w);
	if (jsonw_finish(&w, &e) != ERR_OK)
		buf_reset(&args);
	snprintf(id, sizeof(id), "human-%d", r->commands);
	buf_init(&json, 4 * (SEG_CAP + MARK_CAP) + 1024);
	jsonw_init(&w, &json, JSONW_LOSSY);
	jsonw_obj(&w);
	jsonw_kstr(&w, "id", id);
	jsonw_kstr(&w, "name", name);
	jsonw_kstr(&w, "arguments", args.len ? args.data : "{}");
	jsonw_kbool(&w, "error", false);
	jsonw_kstr(&w, "output", output);
	jsonw_kint(&w, "wall_us", now - r->last_us);
	jsonw_key(&w, "exit");
	if (status >= 0) {
		jsonw_obj(&w);
		jsonw_kstr(&w, "how", "exited");
		jsonw_kint(&w, "status", status);
		jsonw_obj_end(&w);
	} else {
		jsonw_null(&w);
	}
	jsonw_kbool(&w, "truncated", r->seg_dropped > 0);
	jsonw_obj_end(&w);
	if (jsonw_finish(&w, &e) == ERR_OK)
		engine_episode_journal(r->ep, "tool", json.data);
	buf_release(&json);
	buf_release(&args);
	r->last_us = now;
	r->commands++;
}

static void journal_prompt(struct episode *ep, const char *user)
{
	struct buf json;
	struct jsonw w;
	struct errmsg e;

	buf_init(&json, 8u << 20);
	jsonw_init(&w, &json, JSONW_LOSSY);
	jsonw_obj(&w);
	jsonw_kstr(&w, "scaffold", "human");
	jsonw_kstr(&w, "user", user);
	jsonw_key(&w, "system");
	jsonw_null(&w);
	jsonw_kstr(&w, "task", ep->prompt ? ep->prompt : "");
	jsonw_key(&w, "tools");
	jsonw_arr(&w);
	jsonw_str(&w, "bash");
	jsonw_str(&w, "submit");
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	if (jsonw_finish(&w, &e) == ERR_OK)
		engine_episode_journal(ep, "prompt", json.data);
	buf_release(&json);
}

/* One marker's text: "STATUS;COMMAND" or the flag. */
static void on_marker(struct relay *r)
{
	char *out = clean_output(r->seg.data, r->seg.len);
	const char *text = r->body.data;

	if (r->mark == MARK_START) {
		r->last_us = now_us();
	} else if (r->mark == MARK_CMD) {
		char *end;
		long status = strtol(text, &end, 10);

		journal_call(r, "bash", "cmd", *end == ';' ? end + 1 : text, out,
			     *end == ';' && status >= 0 && status < 256 ?
			     (int)status : -1);
	} else {
		free(r->flag);
		r->flag = xstrdup(text);
		r->submitted = true;
		journal_call(r, "submit", "flag", text, out, -1);
	}
	free(out);
	buf_reset(&r->seg);
	r->seg_dropped = 0;
	buf_reset(&r->body);
}

/* --- the terminal stream ----------------------------------------------- */

static void put_out(struct relay *r, const char *p, size_t n)
{
	size_t room = SEG_CAP > r->seg.len ? SEG_CAP - r->seg.len : 0;

	if (n > room)
		r->seg_dropped += n - room;
	IGNORE(buf_add(&r->seg, p, n < room ? n : room));
	while (n && r->h->out_fd >= 0) {
		ssize_t w = write(r->h->out_fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;      /* the person's terminal is gone */
		p += w;
		n -= (size_t)w;
	}
}

static void flush_hold(struct relay *r)
{
	put_out(r, r->hold, r->n_hold);
	r->n_hold = 0;
}

/* One byte from the master: markers are taken out, the rest shown. */
static void feed(struct relay *r, char c)
{
	switch (r->ms) {
	case M_TEXT:
		if (c != '\033')
			return put_out(r, &c, 1);
		r->hold[0] = c;
		r->n_hold = 1;
		r->ms = M_ESC;
		return;
	case M_ESC:
		r->hold[r->n_hold++] = c;
		if (c == ']') {
			r->mark = 0;
			r->ms = M_NUM;
			return;
		}
		r->ms = M_TEXT;
		return flush_hold(r);
	case M_NUM:
		r->hold[r->n_hold++] = c;
		if (c >= '0' && c <= '9' && r->n_hold < 8) {
			r->mark = r->mark * 10 + (c - '0');
			return;
		}
		if (c == ';' && r->mark >= MARK_CMD && r->mark <= MARK_START) {
			r->n_hold = 0;
			buf_reset(&r->body);
			r->ms = M_BODY;
			return;
		}
		r->ms = c == '\007' ? M_TEXT : M_OTHER_OSC;
		return flush_hold(r);
	case M_BODY:
		if (c == '\007') {
			r->ms = M_TEXT;
			return on_marker(r);
		}
		if (r->body.len < MARK_CAP)
			IGNORE(buf_addch(&r->body, c));
		return;
	case M_OTHER_OSC:          /* a title or the like: shown as it is */
		put_out(r, &c, 1);
		if (c == '\007')
			r->ms = M_TEXT;
		return;
	}
}

static void read_master(struct relay *r)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(r->master, buf, sizeof(buf));

		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				feed(r, buf[i]);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN)
			r->master_eof = true;  /* EIO: the terminal's last user left */
		return;
	}
}

static void read_input(struct relay *r)
{
	char buf[4096];
	ssize_t n = read(r->h->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->in_eof = true;   /* the person left: the terminal hangs up */
		return;
	}
	IGNORE(buf_add(&r->pending_in, buf, (size_t)n));
}

static void write_input(struct relay *r)
{
	while (r->pending_in.len) {
		ssize_t w = write(r->master, r->pending_in.data, r->pending_in.len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		memmove(r->pending_in.data, r->pending_in.data + w,
			r->pending_in.len - (size_t)w);
		r->pending_in.len -= (size_t)w;
	}
}

/* Relay until the shell ends; *res how it ended. */
static enum err relay_loop(struct relay *r, struct sbx_box *b,
			   struct sbx_exec_result *res, struct errmsg *e)
{
	bool done = false;

	while (!done) {
		struct pollfd pf[3];
		int n = 0, ix_in = -1, ix_m = -1;
		enum err rc;

		pf[n++] = (struct pollfd){ .fd = sbx_box_fd(b), .events = POLLIN };
		if (!r->master_eof) {
			ix_m = n;
			pf[n++] = (struct pollfd){ .fd = r->master, .events = POLLIN |
				(r->pending_in.len ? POLLOUT : 0) };
		}
		if (!r->in_eof && !r->master_eof &&
		    r->pending_in.len < 64 * 1024) {
			ix_in = n;
			pf[n++] = (struct pollfd){ .fd = r->h->in_fd, .events = POLLIN };
		}
		if (poll(pf, (nfds_t)n, sbx_exec_timeout_ms(b)) < 0 && errno != EINTR)
			return err_sys(e, ERR_SANDBOX, "poll");
		if (ix_m >= 0 && pf[ix_m].revents) {
			read_master(r);
			write_input(r);
		}
		if (ix_in >= 0 && pf[ix_in].revents)
			read_input(r);
		if (r->pending_in.len && !r->master_eof)
			write_input(r);
		if (r->h->stopped && r->h->stopped())
			r->in_eof = true;   /* a signal: hang up as the person left */
		if (r->in_eof && r->master >= 0 && !r->master_eof) {
			close(r->master);   /* hang up: the shell gets SIGHUP */
			r->master = -1;
			r->master_eof = true;
		}
		if ((rc = sbx_exec_poll(b, &done, res, e)))
			return rc;
	}
	if (!r->master_eof)
		read_master(r);         /* what the shell wrote last */
	return ERR_OK;
}

/* --- the session ------------------------------------------------------- */

static void size_terminal(const struct engine_human *h, int master)
{
	struct winsize ws;

	if (ioctl(h->in_fd, TIOCGWINSZ, &ws) == 0 ||
	    ioctl(h->out_fd, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(master, TIOCSWINSZ, &ws);
}

static enum agent_end end_of(const struct relay *r,
			     const struct sbx_exec_result *res)
{
	if (res->how == SBX_TIMED_OUT)
		return AGENT_END_LIMIT_WALL;
	if (res->how == SBX_BOX_DIED)
		return AGENT_END_BOX_FAILED;
	return r->submitted ? AGENT_END_SUBMITTED : AGENT_END_NO_SUBMIT;
}

static enum err session(struct episode *ep, const struct engine_human *h,
			struct agent_result *ar, struct errmsg *e)
{
	struct sbx_box *b = sbx_episode_box(ep->sbx, NULL);
	static const char *const argv[] = { "/bin/bash", "--rcfile", HUMAN_RC,
		"-i", NULL };
	static const char *const env[] = { "TERM=xterm-256color", NULL };
	struct sbx_exec_req req = { .argv = argv, .env = env, .pty = true,
		.timeout_ms = HUMAN_MAX_MS };
	struct relay r = { .ep = ep, .h = h, .master = -1 };
	struct sbx_exec_result res = { 0 };
	struct termios saved;
	bool raw = isatty(h->in_fd) && tcgetattr(h->in_fd, &saved) == 0;
	int64_t t0;
	enum err rc;

	rc = sbx_put_file(b, HUMAN_RC, rc_text, strlen(rc_text), 0644,
			  "root", e);
	if (!rc)
		rc = sbx_exec_pty(b, &req, &r.master, e);
	if (rc)
		return rc;
	t0 = now_us();
	r.last_us = t0;
	buf_init(&r.seg, SEG_CAP + 1);
	buf_init(&r.body, MARK_CAP + 1);
	buf_init(&r.pending_in, 128 * 1024);
	size_terminal(h, r.master);
	if (raw) {
		struct termios t = saved;

		cfmakeraw(&t);
		(void)tcsetattr(h->in_fd, TCSANOW, &t);
	}
	rc = relay_loop(&r, b, &res, e);
	if (raw)
		(void)tcsetattr(h->in_fd, TCSANOW, &saved);
	if (r.master >= 0)
		close(r.master);
	memset(ar, 0, sizeof(*ar));
	ar->end = end_of(&r, &res);
	ar->flag = r.flag;
	ar->tool_calls = r.commands;
	ar->working_ms = (now_us() - t0) / 1000;
	sbx_exec_result_release(&res);
	buf_release(&r.seg);
	buf_release(&r.body);
	buf_release(&r.pending_in);
	return rc;
}

/* Services booting (blocking: the person waits for them). */
static void wait_services(struct episode *ep)
{
	while (ep->phase == EP_STARTING) {
		int ms = engine_episode_wait_ms(ep);

		if (ms > 0)
			(void)poll(NULL, 0, ms > 100 ? 100 : ms);
		(void)engine_episode_step(ep);
	}
}

/* The hidden check (when the task has one), to the end. */
static void finish_check(struct episode *ep)
{
	while (ep->phase == EP_CHECK) {
		int t, fd = engine_episode_fd(ep, &t);
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		if (fd >= 0)
			(void)poll(&pf, 1, t);
		engine_episode_on_ready(ep);
	}
}

static void fill_result(const struct episode *ep, struct engine_human_result *out)
{
	const struct store_episode *rec = &ep->rec;

	memset(out, 0, sizeof(*out));
	out->episode_id = ep->id;
	snprintf(out->outcome, sizeof(out->outcome), "%s",
		 rec->outcome ? rec->outcome : "?");
	out->score = rec->score;
	out->working_ms = rec->working_ms;
	out->commands = rec->tool_calls;
	snprintf(out->error, sizeof(out->error), "%s", rec->error ? rec->error : "");
}

enum err engine_human_run(const struct engine_config *cfg, const struct task *t,
			  const struct engine_human *h,
			  struct engine_human_result *out, struct errmsg *e)
{
	struct episode ep = { 0 };
	struct agent_result ar = { 0 };
	char digest[65];
	struct errmsg se;
	enum err rc;

	if ((rc = engine_plan_task_digest(t, digest, e)))
		return rc;
	ep.cfg = cfg;
	ep.task = t;
	ep.task_digest = digest;
	ep.epoch = 1;
	ep.attempt = 1;
	ep.human = true;
	if ((rc = engine_episode_begin(&ep, e)))
		return rc;
	wait_services(&ep);
	if (ep.phase == EP_HUMAN) {
		journal_prompt(&ep, h->user);
		if (h->on_ready)
			h->on_ready(h->arg, ep.prompt);
		if (session(&ep, h, &ar, &se) != ERR_OK) {
			ar.end = AGENT_END_INFRA_ERROR;
			ar.error = xstrdup(se.text);
		}
		ep.human_res = &ar;
		engine_episode_agent_done(&ep);
		finish_check(&ep);
	}
	fill_result(&ep, out);
	if (ep.store_failed) {
		*e = ep.store_err;
		rc = ep.store_err.code;
	}
	(void)engine_episode_release(&ep);
	free(ar.flag);
	free(ar.error);
	return rc;
}
