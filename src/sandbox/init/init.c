/*
 * assay-init - pid 1 of every box.
 *
 * Exec'd by the harness's cloned child in the box's fresh namespaces, with
 * the control socket on fd 3. It first builds the box from the harness's
 * SBX_M_GO (setup.c: ids, network namespace, root, mounts, caps, seccomp),
 * says HELLO with an fd of the box's network namespace, then
 * reaps every zombie of the pid namespace and serves requests from the
 * harness one at a time: run a command (capturing output, head and tail
 * kept within a cap, killing the process group at the timeout), start a
 * service entrypoint, write/read files, kill everything else in the box.
 * It also holds the box's socket memory under a cap where the kernel
 * does not (cgroup v1; connections not accepted, on v1 and v2: below).
 * When the control socket closes, init exits and the kernel kills the
 * whole pid namespace.
 *
 * This binary is static and has no dependency on the project library; it
 * trusts the harness (which created it) but nothing inside the box.
 */
#define SBX_PROTO_ONLY
#include "sandbox/sandbox_int.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/banned.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct capture {
	int fd;           /* read end, -1 when closed */
	char *mem;        /* head (h bytes) then ring (r bytes) */
	size_t h, r;
	uint64_t total;
};

struct job {
	bool active;
	pid_t pid;
	bool reaped;
	bool timed_out;
	bool sock_killed; /* by the socket memory watch while it ran */
	int status;
	struct capture cap[2];
	int in_fd;
	const char *in;
	size_t in_len, in_off;
	int64_t start_us, deadline_ms;
	char *blob;       /* owns argv/env/stdin */
};

/* the service entrypoint (one per box) */
struct svc {
	bool started, exited;
	pid_t pid;
	int status;
	struct capture cap[2];
};

enum rstate { R_IDLE, R_EXEC, R_PUT, R_SYMLINK };

static struct {
	int ctl;
	int sfd;
	enum rstate rs;
	struct sbx_m_exec xh;
	struct sbx_m_file fh;
	char path[SBX_PATH_MAX + 1];
	char *blob;
	size_t blob_len, blob_got;
	int put_fd;
	int put_err;
	uint64_t put_left;
	struct job job;
	struct svc svc;
	struct init_sock_watch sw;
	int64_t sock_next_ms;  /* when to read sw.fd next */
	char msg[SBX_MSG_MAX];
} st;

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- sending --------------------------------------------------------- */

static void send_msg(uint32_t type, const void *h, size_t hlen,
		     const void *d, size_t dlen)
{
	struct sbx_msg m = { .type = type, .len = (uint32_t)(hlen + dlen) };
	struct iovec iov[3] = {
		{ &m, sizeof(m) }, { (void *)h, hlen }, { (void *)d, dlen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };

	while (sendmsg(st.ctl, &mh, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			_exit(0); /* harness gone: the box goes with us */
	}
}

/* HELLO, with the box's network namespace for the harness to wire. */
static void send_hello(int netns)
{
	struct sbx_msg m = { .type = SBX_M_HELLO, .len = 0 };
	struct iovec iov = { &m, sizeof(m) };

	if (sbx_send_fd(st.ctl, &iov, 1, netns, 0) < 0)
		_exit(0); /* harness gone: the box goes with us */
}

static void send_ack(int err, uint64_t size)
{
	struct sbx_m_ack a = { .err = err, .size = size };

	send_msg(SBX_M_ACK, &a, sizeof(a), NULL, 0);
}

static void send_chunks(int stream, int tail, const char *p, size_t n)
{
	struct sbx_m_out o = { .stream = (uint8_t)stream, .tail = (uint8_t)tail };
	size_t max = SBX_PAYLOAD_MAX - sizeof(o);

	while (n) {
		size_t k = n < max ? n : max;

		send_msg(SBX_M_OUT, &o, sizeof(o), p, k);
		p += k;
		n -= k;
	}
}

/* --- files ------------------------------------------------------------ */

/* mkdir -p of the parents of path (root 0755); never follows a symlink in
 * the last created component's place. */
static int mkparents(const char *path)
{
	char tmp[SBX_PATH_MAX + 1];
	size_t n = strlen(path);

	if (n > SBX_PATH_MAX)
		return ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return 0;
}

static bool path_ok(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || strstr(p, "/../"))
		return false;
	return !(n >= 3 && !strcmp(p + n - 3, "/.."));
}

static void put_finish(void)
{
	int err = st.put_err;

	if (st.put_fd >= 0) {
		if (!err && fchown(st.put_fd, st.fh.uid, st.fh.gid) < 0)
			err = errno;
		if (!err && fchmod(st.put_fd, st.fh.mode & 07777) < 0)
			err = errno;
		if (close(st.put_fd) < 0 && !err)
			err = errno;
	}
	st.put_fd = -1;
	st.rs = R_IDLE;
	send_ack(err, 0);
}

static void put_data(const char *p, size_t n)
{
	if (n > st.put_left)
		n = st.put_left;
	st.put_left -= n;
	while (n && st.put_fd >= 0 && !st.put_err) {
		ssize_t w = write(st.put_fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			st.put_err = errno;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (!st.put_left)
		put_finish();
}

static void put_begin(const char *data, size_t n)
{
	st.put_err = mkparents(st.path);
	st.put_fd = -1;
	if (!st.put_err) {
		(void)unlink(st.path); /* replace, never write through a link */
		st.put_fd = open(st.path, O_WRONLY | O_CREAT | O_EXCL |
				 O_NOFOLLOW | O_CLOEXEC, 0600);
		if (st.put_fd < 0)
			st.put_err = errno;
	}
	st.put_left = st.fh.size;
	st.rs = R_PUT;
	if (!st.put_left)
		put_finish();
	else if (n)
		put_data(data, n);
}

static void do_mkdir(void)
{
	int err = mkparents(st.path);
	struct stat sb;

	if (!err && mkdir(st.path, st.fh.mode & 07777) < 0 && errno != EEXIST)
		err = errno;
	if (!err && (lstat(st.path, &sb) < 0 || !S_ISDIR(sb.st_mode)))
		err = errno ? errno : ENOTDIR;
	if (!err && lchown(st.path, st.fh.uid, st.fh.gid) < 0)
		err = errno;
	if (!err && chmod(st.path, st.fh.mode & 07777) < 0)
		err = errno;
	send_ack(err, 0);
}

static void do_symlink(void)
{
	int err = mkparents(st.path);

	st.blob[st.blob_len] = 0;
	if (!err && symlink(st.blob, st.path) < 0)
		err = errno;
	if (!err && lchown(st.path, st.fh.uid, st.fh.gid) < 0)
		err = errno;
	free(st.blob);
	st.blob = NULL;
	st.rs = R_IDLE;
	send_ack(err, 0);
}

static void do_get(void)
{
	int fd = open(st.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;
	uint64_t sent = 0;
	char *buf = st.msg; /* request already parsed */

	if (fd < 0)
		return send_ack(errno, 0);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return send_ack(EINVAL, 0);
	}
	if ((uint64_t)sb.st_size > st.fh.size) {
		close(fd);
		return send_ack(EFBIG, (uint64_t)sb.st_size);
	}
	for (;;) {
		size_t want = SBX_PAYLOAD_MAX;
		ssize_t r;

		if (st.fh.size - sent < want)
			want = st.fh.size - sent;
		if (!want)
			break;
		r = read(fd, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		send_msg(SBX_M_FDATA, buf, (size_t)r, NULL, 0);
		sent += (uint64_t)r;
	}
	close(fd);
	send_ack(0, sent);
}

static void reaped(pid_t p, int status)
{
	if (st.job.active && p == st.job.pid) {
		st.job.reaped = true;
		st.job.status = status;
	}
	if (st.svc.started && !st.svc.exited && p == st.svc.pid) {
		st.svc.exited = true;
		st.svc.status = status;
	}
}

/* Kill and reap every process of the box but init. */
static void killall(void)
{
	for (int round = 0; round < 1000; round++) {
		int alive = kill(-1, SIGKILL) == 0;
		pid_t p;
		int status;

		while ((p = waitpid(-1, &status, __WALL)) > 0)
			reaped(p, status);
		if (!alive && errno == ESRCH)
			break;
	}
}

static void do_killall(void)
{
	killall();
	send_ack(0, 0);
}

/* --- commands --------------------------------------------------------- */

static const char *env_path(char **envp)
{
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return DEFAULT_PATH;
}

static void exec_search(char **argv, char **envp)
{
	const char *path, *p;
	char full[PATH_MAX];
	int saved = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return;
	}
	path = env_path(envp);
	for (p = path; ; ) {
		const char *c = strchr(p, ':');
		size_t dl = c ? (size_t)(c - p) : strlen(p);

		size_t al = strlen(argv[0]);

		if (dl + al + 2 < sizeof(full)) {
			memcpy(full, p, dl);
			full[dl] = '/';
			memcpy(full + dl + 1, argv[0], al + 1);
			execve(full, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		if (!c)
			break;
		p = c + 1;
	}
	errno = saved;
}

static void child_fail(const char *what, const char *arg)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "assay-init: %s %s: %s\n", what,
			 arg, strerror(errno));

	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	_exit(127);
}

struct spawn {
	const struct sbx_m_exec *x;
	char **argv, **envp;
	const char *cwd;
	int fds[3];
};

/* A command starts 1000 above init's oom_score_adj (at most 1000): with
 * init at -1000 (box.c) that is the usual 0, and a harness that could
 * not lower init's still makes every command the OOM killer's choice
 * before init. Raising needs no privilege. No stdio: this runs in the
 * vfork'd child. -1 on failure. */
static int oom_above_init(void)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	long v;
	char *end;
	int len, rc = -1;

	if (n > 0) {
		buf[n] = 0;
		v = strtol(buf, &end, 10) + 1000;   /* no base/num.h in init */
		if (end == buf || (*end && *end != '\n') || v < 0 || v > 2000)
			n = 0;
	}
	if (n > 0) {
		len = snprintf(buf, sizeof(buf), "%ld", v > 1000 ? 1000 : v);
		rc = pwrite(fd, buf, (size_t)len, 0) == len ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int child_exec(void *arg)
{
	const struct spawn *sp = arg;
	const struct sbx_m_exec *x = sp->x;
	char **argv = sp->argv, **envp = sp->envp;
	const char *cwd = sp->cwd;
	const int *fds = sp->fds;
	sigset_t none;

	setsid(); /* own session and process group, no controlling tty */
	for (int i = 0; i < 3; i++)
		if (fds[i] != i && dup2(fds[i], i) < 0)
			_exit(127);
	syscall(SYS_close_range, 3, ~0U, 0); /* no wrapper in musl */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (oom_above_init() < 0)
		child_fail("reset oom_score_adj", "");
	if (setgroups(0, NULL) < 0 || setresgid(x->gid, x->gid, x->gid) < 0 ||
	    setresuid(x->uid, x->uid, x->uid) < 0)
		child_fail("set user", "");
	if ((x->flags & SBX_XF_PTY) && ioctl(0, TIOCSCTTY, 0) < 0)
		child_fail("take the terminal", "");
	if (chdir(cwd) < 0)
		child_fail("chdir", cwd);
	exec_search(argv, envp);
	child_fail("exec", argv[0]);
	return 127;
}

/* A built-in job (tidy.c) in a forked child: it walks trees and must not
 * hold init up, so it gets a copy of init, not init's memory. */
static pid_t spawn_builtin(const struct spawn *sp)
{
	pid_t pid = fork();
	sigset_t none;

	if (pid != 0)
		return pid;
	setsid();
	for (int i = 0; i < 3; i++)
		if (sp->fds[i] != i && dup2(sp->fds[i], i) < 0)
			_exit(127);
	syscall(SYS_close_range, 3, ~0U, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	_exit(sp->x->flags & SBX_XF_TIDY ? init_tidy(sp->argv[0]) :
	      init_fresh_dir(sp->argv[0]));
}

/* Start a command: the child shares our memory (on a stack of its own)
 * and we wait until it has exec'd, which spares copying init's page
 * tables on every command. Only one child is started at a time. */
static pid_t spawn(struct spawn *sp)
{
	static _Alignas(16) char stack[64 * 1024];

	if (sp->x->flags & (SBX_XF_TIDY | SBX_XF_FRESH))
		return spawn_builtin(sp);
	return clone(child_exec, stack + sizeof(stack),
		     CLONE_VM | CLONE_VFORK | SIGCHLD, sp);
}

/* Split the blob into argv, env and cwd; false when malformed. */
static bool split_strings(char *s, size_t n, uint32_t argc, uint32_t envc,
			  char ***argv_out, char ***env_out, char **cwd_out)
{
	size_t need = (size_t)argc + envc + 1, k = 0;
	char **v;

	if (!argc || argc > 65536 || envc > 65536 || !n || s[n - 1])
		return false;
	v = calloc(argc + 1 + envc + 1, sizeof(*v));
	if (!v)
		return false;
	for (size_t off = 0; off < n && k < need; k++) {
		char *item = s + off;

		off += strlen(item) + 1;
		if (k < argc)
			v[k] = item;
		else if (k < argc + envc)
			v[k + 1] = item;
		else
			*cwd_out = item;
	}
	if (k != need) {
		free(v);
		return false;
	}
	*argv_out = v;
	*env_out = v + argc + 1;
	return true;
}

static void capture_init(struct capture *c, int fd, size_t cap)
{
	c->fd = fd;
	c->h = cap / 2;
	c->r = cap - c->h;
	c->total = 0;
	c->mem = malloc(cap ? cap : 1);
}

static void capture_read(struct capture *c);
static void capture_send(struct capture *c, int stream);

/* The service entrypoint: its output goes to init through two pipes. */
static void start_detached(const struct sbx_m_exec *x, char **argv,
			   char **envp, const char *cwd)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct spawn sp;
	pid_t pid = -1;
	int err = EBUSY;

	if (!st.svc.started && null >= 0 && pipe2(po, O_CLOEXEC) == 0 &&
	    pipe2(pe, O_CLOEXEC) == 0) {
		sp = (struct spawn){ x, argv, envp, cwd, { null, po[1], pe[1] } };
		pid = spawn(&sp);
		err = errno;
	} else if (!st.svc.started) {
		err = errno;
	}
	for (int i = 0; i < 2; i++) {
		int *p = i ? pe : po;
		if (p[1] >= 0)
			close(p[1]);
		if (pid < 0 && p[0] >= 0)
			close(p[0]);
	}
	if (null >= 0)
		close(null);
	if (pid > 0) {
		st.svc.started = true;
		st.svc.pid = pid;
		capture_init(&st.svc.cap[0], po[0], SBX_SVC_CAP);
		capture_init(&st.svc.cap[1], pe[0], SBX_SVC_CAP);
		fcntl(po[0], F_SETFL, O_NONBLOCK);
		fcntl(pe[0], F_SETFL, O_NONBLOCK);
	}
	send_ack(pid < 0 ? err : 0, pid < 0 ? 0 : (uint64_t)pid);
}

/* The entrypoint's state, and its output when asked. */
static void do_svc(const char *p, size_t n)
{
	struct sbx_m_svc s = { 0 };
	uint32_t want = 0;
	pid_t q;
	int status;

	if (n >= sizeof(want))
		memcpy(&want, p, sizeof(want));
	while ((q = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
		reaped(q, status);
	for (int i = 0; i < 2 && st.svc.started; i++)
		capture_read(&st.svc.cap[i]);
	s.started = st.svc.started;
	s.exited = st.svc.exited;
	s.status = st.svc.status;
	/* anything alive but us: the entrypoint may have daemonized */
	s.others = kill(-1, 0) == 0;
	s.out_total = st.svc.cap[0].total;
	s.err_total = st.svc.cap[1].total;
	if (want && st.svc.started) {
		capture_send(&st.svc.cap[0], 1);
		capture_send(&st.svc.cap[1], 2);
	}
	send_msg(SBX_M_SVC_STATE, &s, sizeof(s), NULL, 0);
}

/* A terminal of the box's devpts: master and slave, the slave given to
 * uid (its owner, as login would); -1 with errno. */
static int open_pty(uint32_t uid, uint32_t gid, int *slave_out)
{
	char name[64];
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s = -1;

	if (m >= 0 && unlockpt(m) == 0 && ptsname_r(m, name, sizeof(name)) == 0)
		s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		int err = errno;

		if (m >= 0)
			close(m);
		errno = err;
		return -1;
	}
	(void)!fchown(s, uid, gid);
	*slave_out = s;
	return m;
}

/* A command on a terminal: its master goes to the harness, which talks
 * to the command directly; init only waits for the exit (and enforces
 * the timeout). */
static void start_pty_job(char *blob, char **argv, char **envp, char *cwd)
{
	struct job *j = &st.job;
	struct sbx_msg m = { .type = SBX_M_PTY, .len = 0 };
	struct iovec iov = { &m, sizeof(m) };
	struct spawn sp;
	int slave = -1, master = open_pty(st.xh.uid, st.xh.gid, &slave);

	if (master < 0 || st.xh.stdin_len) {
		int err = master < 0 ? errno : EINVAL;

		if (master >= 0) {
			close(master);
			close(slave);
		}
		free(argv);
		free(blob);
		return send_ack(err, 0);
	}
	memset(j, 0, sizeof(*j));
	j->start_us = mono_us();
	sp = (struct spawn){ &st.xh, argv, envp, cwd, { slave, slave, slave } };
	j->pid = spawn(&sp);
	close(slave);
	free(argv);
	if (j->pid < 0) {
		int err = errno;

		close(master);
		free(blob);
		return send_ack(err, 0);
	}
	if (sbx_send_fd(st.ctl, &iov, 1, master, MSG_NOSIGNAL) < 0)
		_exit(0); /* harness gone: the box goes with us */
	close(master);
	j->active = true;
	j->blob = blob;
	j->deadline_ms = j->start_us / 1000 + st.xh.timeout_ms;
	capture_init(&j->cap[0], -1, 0);
	capture_init(&j->cap[1], -1, 0);
	j->in_fd = -1;
}

static void start_job(char *blob)
{
	struct job *j = &st.job;
	char **argv, **envp, *cwd = NULL;
	int po[2], pe[2], pi[2] = { -1, -1 };
	struct spawn sp;

	if (!split_strings(blob, st.xh.strings_len, st.xh.argc, st.xh.envc,
			   &argv, &envp, &cwd)) {
		free(blob);
		return send_ack(EINVAL, 0);
	}
	if (st.xh.flags & SBX_XF_DETACH) {
		start_detached(&st.xh, argv, envp, cwd);
		free(argv);
		free(blob);
		return;
	}
	if (st.xh.flags & SBX_XF_PTY)
		return start_pty_job(blob, argv, envp, cwd);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    (st.xh.stdin_len ? pipe2(pi, O_CLOEXEC) :
	     (pi[0] = open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0) {
		free(argv);
		free(blob);
		return send_ack(errno, 0);
	}
	memset(j, 0, sizeof(*j));
	j->start_us = mono_us();
	sp = (struct spawn){ &st.xh, argv, envp, cwd, { pi[0], po[1], pe[1] } };
	j->pid = spawn(&sp);
	close(po[1]);
	close(pe[1]);
	close(pi[0]);
	free(argv);
	if (j->pid < 0) {
		int err = errno;

		close(po[0]);
		close(pe[0]);
		if (pi[1] >= 0)
			close(pi[1]);
		free(blob);
		return send_ack(err, 0);
	}
	j->active = true;
	j->blob = blob;
	j->deadline_ms = j->start_us / 1000 + st.xh.timeout_ms;
	capture_init(&j->cap[0], po[0], st.xh.out_cap);
	capture_init(&j->cap[1], pe[0], st.xh.out_cap);
	j->in_fd = pi[1];
	j->in = blob + st.xh.strings_len;
	j->in_len = st.xh.stdin_len;
	for (int i = 0; i < 2; i++)
		fcntl(j->cap[i].fd, F_SETFL, O_NONBLOCK);
	if (j->in_fd >= 0)
		fcntl(j->in_fd, F_SETFL, O_NONBLOCK);
}

static void capture_add(struct capture *c, const char *p, size_t n)
{
	if (c->total < c->h) {
		size_t k = c->h - (size_t)c->total;

		if (k > n)
			k = n;
		memcpy(c->mem + c->total, p, k);
		c->total += k;
		p += k;
		n -= k;
	}
	while (n && c->r) {
		size_t pos = (size_t)((c->total - c->h) % c->r);
		size_t k = c->r - pos;

		if (k > n)
			k = n;
		memcpy(c->mem + c->h + pos, p, k);
		c->total += k;
		p += k;
		n -= k;
	}
	c->total += n;
}

static void capture_read(struct capture *c)
{
	char buf[16384];

	while (c->fd >= 0) {
		ssize_t r = read(c->fd, buf, sizeof(buf));

		if (r > 0) {
			capture_add(c, buf, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno != EAGAIN) {
			close(c->fd);
			c->fd = -1;
		}
		break;
	}
}

static void capture_send(struct capture *c, int stream)
{
	uint64_t rest;
	size_t pos;

	send_chunks(stream, 0, c->mem, c->total < c->h ? (size_t)c->total : c->h);
	if (c->total <= c->h || !c->r)
		return;
	rest = c->total - c->h;
	if (rest <= c->r)
		return send_chunks(stream, 1, c->mem + c->h, (size_t)rest);
	pos = (size_t)(rest % c->r);
	send_chunks(stream, 1, c->mem + c->h + pos, c->r - pos);
	send_chunks(stream, 1, c->mem + c->h, pos);
}

static void stdin_write(struct job *j)
{
	while (j->in_fd >= 0 && j->in_off < j->in_len) {
		ssize_t w = write(j->in_fd, j->in + j->in_off, j->in_len - j->in_off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			break;
		}
		j->in_off += (size_t)w;
	}
	if (j->in_fd >= 0) {
		close(j->in_fd);
		j->in_fd = -1;
	}
}

static void finish_job(void)
{
	struct job *j = &st.job;
	struct sbx_m_exit x = { 0 };

	for (int i = 0; i < 2; i++) {
		capture_read(&j->cap[i]); /* what is already in the pipe */
		if (j->cap[i].fd >= 0)
			close(j->cap[i].fd);
	}
	if (j->in_fd >= 0)
		close(j->in_fd);
	if (j->timed_out) {
		x.how = SBX_HOW_TIMEOUT;
	} else if (WIFSIGNALED(j->status)) {
		x.how = SBX_HOW_SIGNALED;
		x.code = WTERMSIG(j->status);
	} else {
		x.how = SBX_HOW_EXITED;
		x.code = WEXITSTATUS(j->status);
	}
	x.out_total = j->cap[0].total;
	x.err_total = j->cap[1].total;
	x.wall_us = mono_us() - j->start_us;
	x.sock_killed = j->sock_killed;
	capture_send(&j->cap[0], 1);
	capture_send(&j->cap[1], 2);
	send_msg(SBX_M_EXIT, &x, sizeof(x), NULL, 0);
	free(j->cap[0].mem);
	free(j->cap[1].mem);
	free(j->blob);
	memset(j, 0, sizeof(*j));
}

static void reap(void)
{
	struct signalfd_siginfo si;
	pid_t p;
	int status;

	while (read(st.sfd, &si, sizeof(si)) > 0)
		;
	while ((p = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
		reaped(p, status);
}

/* --- requests ---------------------------------------------------------- */

static void blob_data(const char *p, size_t n)
{
	if (n > st.blob_len - st.blob_got)
		n = st.blob_len - st.blob_got;
	memcpy(st.blob + st.blob_got, p, n);
	st.blob_got += n;
	if (st.blob_got < st.blob_len)
		return;
	if (st.rs == R_SYMLINK)
		return do_symlink();
	st.rs = R_IDLE;
	start_job(st.blob);
	st.blob = NULL;
}

static void on_exec(const char *p, size_t n)
{
	if (n < sizeof(st.xh))
		return send_ack(EINVAL, 0);
	memcpy(&st.xh, p, sizeof(st.xh));
	if (st.job.active && !(st.xh.flags & SBX_XF_DETACH))
		return send_ack(EBUSY, 0);
	if (st.xh.strings_len > SBX_STRINGS_MAX || st.xh.stdin_len > SBX_STDIN_MAX ||
	    st.xh.out_cap > SBX_OUTCAP_MAX || st.xh.timeout_ms <= 0)
		return send_ack(E2BIG, 0);
	st.blob_len = (size_t)st.xh.strings_len + st.xh.stdin_len;
	st.blob = malloc(st.blob_len + 1);
	if (!st.blob)
		return send_ack(ENOMEM, 0);
	st.blob_got = 0;
	st.rs = R_EXEC;
	blob_data(p + sizeof(st.xh), n - sizeof(st.xh));
}

static bool file_header(const char *p, size_t n)
{
	if (n < sizeof(st.fh))
		return false;
	memcpy(&st.fh, p, sizeof(st.fh));
	if (st.fh.path_len == 0 || st.fh.path_len > SBX_PATH_MAX ||
	    st.fh.path_len > n - sizeof(st.fh))
		return false;
	memcpy(st.path, p + sizeof(st.fh), st.fh.path_len);
	st.path[st.fh.path_len] = 0;
	return strlen(st.path) == st.fh.path_len && path_ok(st.path);
}

static void on_file(uint32_t type, const char *p, size_t n)
{
	size_t rest;

	if (!file_header(p, n))
		return send_ack(EINVAL, 0);
	rest = n - sizeof(st.fh) - st.fh.path_len;
	p += sizeof(st.fh) + st.fh.path_len;
	if (type == SBX_M_PUT)
		return put_begin(p, rest);
	if (type == SBX_M_MKDIR)
		return do_mkdir();
	if (type == SBX_M_GET)
		return do_get();
	if (st.fh.size == 0 || st.fh.size > SBX_PATH_MAX)
		return send_ack(EINVAL, 0);
	st.blob_len = (size_t)st.fh.size;
	st.blob = malloc(st.blob_len + 1);
	if (!st.blob)
		return send_ack(ENOMEM, 0);
	st.blob_got = 0;
	st.rs = R_SYMLINK;
	blob_data(p, rest);
}

static void on_message(uint32_t type, const char *p, size_t n)
{
	if (type == SBX_M_DATA) {
		if (st.rs == R_PUT)
			put_data(p, n);
		else if (st.rs == R_EXEC || st.rs == R_SYMLINK)
			blob_data(p, n);
		return;
	}
	if (st.rs != R_IDLE)
		return send_ack(EPROTO, 0);
	switch (type) {
	case SBX_M_EXEC:
		return on_exec(p, n);
	case SBX_M_PUT:
	case SBX_M_MKDIR:
	case SBX_M_SYMLINK:
	case SBX_M_GET:
		return on_file(type, p, n);
	case SBX_M_KILLALL:
		return do_killall();
	case SBX_M_SVC:
		return do_svc(p, n);
	default:
		return send_ack(EPROTO, 0);
	}
}

static void read_ctl(void)
{
	struct sbx_msg m;
	ssize_t n = recv(st.ctl, st.msg, sizeof(st.msg), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		_exit(0); /* harness closed the box */
	if ((size_t)n < sizeof(m))
		return;
	memcpy(&m, st.msg, sizeof(m));
	if (m.len != (size_t)n - sizeof(m))
		return;
	on_message(m.type, st.msg + sizeof(m), m.len);
}

/* --- socket memory ---------------------------------------------------
 *
 * v1 charges socket buffers to memory.kmem.tcp, not to the box's memory
 * limit, and past the tcp limit the kernel still forces a page or two
 * per socket end (a box with many connections pinned another limit's
 * worth). The counter includes what was forced. Connections no process
 * has accepted, and minisockets, are charged to no cgroup on v1 or v2
 * (sockmem.c). init adds the two and, past sock_cap (half the limit),
 * kills every process of the box as the OOM killer would (their sockets,
 * and the connections their listeners hold, close with them; the command
 * in flight reports it). It reads again when the sum, growing at
 * sock_rate (twice the fastest measured, sandbox_int.h), could have used
 * up the room left, so it cannot pass twice the cap unread; a 512 MiB box
 * of one core reads it every 128 ms while its sockets are idle. What no
 * cgroup was charged is first bounded from the namespace's socket
 * counts; only past the cap does init dump sockets, the cheapest kinds
 * first, until the sum shows the box within it. The last, a dump of every
 * TCP socket, takes milliseconds (the host's whole TCP hash): it is left
 * out while the TCP part's bound is within an eighth of the cap, so a box
 * may be killed up to that much early, never late for a dump. */
#define SOCK_READ_MAX_MS 1000
#define SOCK_SLACK_DIV 8   /* a kill may come this part of the cap early */
#define SOCK_AFTER_KILL_MS 10           /* closed sockets drain meanwhile */

static uint64_t sock_charged(void)
{
	char buf[32];
	ssize_t n = st.sw.fd < 0 ? 0 : pread(st.sw.fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

static void sock_check(void)
{
	int64_t now = mono_us() / 1000;
	uint64_t charged, used, wait;

	if (!st.sw.cap || now < st.sock_next_ms)
		return;
	charged = sock_charged();
	used = charged > st.sw.cap ? charged : charged + init_sockmem_bound();
	if (used > st.sw.cap && charged <= st.sw.cap)
		used = charged + init_sockmem_exact(st.sw.cap - charged,
						    st.sw.cap / SOCK_SLACK_DIV);
	if (used > st.sw.cap) {
		init_ringwatch_room(0);
		if (st.job.active && !st.job.reaped)
			st.job.sock_killed = true;
		killall();
		st.sock_next_ms = now + SOCK_AFTER_KILL_MS;
		return;
	}
	init_ringwatch_room(st.sw.cap - used);
	wait = (st.sw.cap - used) / st.sw.rate;
	now = mono_us() / 1000;   /* a dump of many sockets takes a while */
	st.sock_next_ms = now + 1 + (int64_t)(wait < SOCK_READ_MAX_MS ?
					      wait : SOCK_READ_MAX_MS);
}

/* --- main loop --------------------------------------------------------- */

static int poll_timeout(void)
{
	int64_t now = mono_us() / 1000, at = INT64_MAX;

	if (st.job.active && !st.job.reaped && !st.job.timed_out)
		at = st.job.deadline_ms;
	if (st.sw.cap && st.sock_next_ms < at)
		at = st.sock_next_ms;
	if (at == INT64_MAX)
		return -1;
	return at <= now ? 0 : at - now > INT_MAX ? INT_MAX : (int)(at - now);
}

static void check_timeout(void)
{
	struct job *j = &st.job;

	if (!j->active || j->reaped || j->timed_out)
		return;
	if (mono_us() / 1000 < j->deadline_ms)
		return;
	j->timed_out = true;
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
}

static void loop_once(void)
{
	struct pollfd pf[7];
	int n = 0, ix_out = -1, ix_in = -1, ix_svc = -1;
	struct job *j = &st.job;

	pf[n++] = (struct pollfd){ .fd = st.ctl, .events = POLLIN };
	pf[n++] = (struct pollfd){ .fd = st.sfd, .events = POLLIN };
	if (st.svc.started) {
		/* a closed pipe (fd -1) is ignored by poll */
		ix_svc = n;
		pf[n++] = (struct pollfd){ .fd = st.svc.cap[0].fd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = st.svc.cap[1].fd, .events = POLLIN };
	}
	if (j->active) {
		ix_out = n;
		pf[n++] = (struct pollfd){ .fd = j->cap[0].fd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = j->cap[1].fd, .events = POLLIN };
		if (j->in_fd >= 0) {
			ix_in = n;
			pf[n++] = (struct pollfd){ .fd = j->in_fd, .events = POLLOUT };
		}
	}
	if (poll(pf, (nfds_t)n, poll_timeout()) < 0 && errno != EINTR)
		_exit(1);
	if (pf[1].revents)
		reap();
	for (int i = 0; ix_svc >= 0 && i < 2; i++)
		if (pf[ix_svc + i].revents)
			capture_read(&st.svc.cap[i]);
	if (ix_out >= 0) {
		for (int i = 0; i < 2; i++)
			if (pf[ix_out + i].revents)
				capture_read(&j->cap[i]);
		if (ix_in >= 0 && pf[ix_in].revents)
			stdin_write(j);
	}
	check_timeout();
	sock_check();
	if (j->active && j->reaped)
		finish_job();
	if (pf[0].revents)
		read_ctl();
}

int main(void)
{
	int netns = init_box_setup(&st.sw);
	sigset_t mask;

	st.ctl = SBX_CTL_FD;
	st.put_fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	st.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (st.sfd < 0)
		return 1;
	/* no one in the box may ptrace or read the memory of init */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NAME, "assay-init");
	fcntl(st.ctl, F_SETFD, FD_CLOEXEC);
	send_hello(netns);
	close(netns);
	for (;;)
		loop_once();
}
