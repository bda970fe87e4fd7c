/*
 * slurm.c - `assay run --executor slurm`: the run's workers as one Slurm
 * job array (sbatch), followed (squeue) and cancelled (scancel).
 *
 * Each array task is `assay worker --run RUN`: it serves that run only and
 * exits once the coordinator has concluded it (or after 5 idle minutes,
 * should the coordinator be gone). The store's URL reaches the workers in
 * the job's environment (ASSAY_STORE; sbatch exports the submitter's
 * environment), never on a command line or in the batch script, since it
 * may hold a password. The job is submitted --requeue: Slurm requeues a
 * task whose node fails, and the attempts that task had running lose
 * their lease and are queued again (docs/internals/store.md).
 *
 * The tools run through posix_spawnp with an argv (no shell), their
 * output bounded and read with poll, and each under a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/slurm.h"
#include "base/banned.h"

extern char **environ;

#define TOOL_OUT_MAX (64 * 1024)
#define TOOL_DEADLINE_MS (120 * 1000)
#define WORKER_IDLE_S 300

struct tool_result {
	struct buf out, err;
	int status;                /* as from waitpid */
};

static void tool_result_release(struct tool_result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}

/* environ with NAME=VALUE set (the strings borrowed; free the array). */
static char **env_with(const char *assignment)
{
	size_t n = 0, k = 0, name_len = strcspn(assignment, "=") + 1;
	char **v;

	while (environ[n])
		n++;
	v = xcalloc(n + 2, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], assignment, name_len))
			v[k++] = environ[i];
	v[k] = (char *)assignment;
	return v;
}

/* Read fd into b (bounded: the rest is dropped); false at its end. */
static bool drain(int fd, struct buf *b)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	/* past the bound the rest is read and dropped */
	return b->len + (size_t)n > TOOL_OUT_MAX ||
	       buf_add(b, tmp, (size_t)n) == ERR_OK;
}

/* Feed `in` to the tool, collect both outputs until they close or the
 * deadline passes (then the tool is killed). */
static void converse(pid_t pid, int fin, int fout, int ferr, const char *in,
		     struct tool_result *r)
{
	size_t in_left = in ? strlen(in) : 0;
	int64_t deadline = now_ms() + TOOL_DEADLINE_MS;
	struct pollfd p[3] = { { fout, POLLIN, 0 }, { ferr, POLLIN, 0 },
			       { fin, POLLOUT, 0 } };

	if (!in_left) {
		close(fin);
		p[2].fd = -1;
	}
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP)) &&
			    !drain(p[i].fd, i ? &r->err : &r->out)) {
				close(p[i].fd);
				p[i].fd = -1;
			}
		if (p[2].fd >= 0 && (p[2].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(fin, in, in_left);
			if (n > 0) {
				in += n;
				in_left -= (size_t)n;
			}
			if (n < 0 ? errno != EINTR && errno != EAGAIN : !in_left) {
				close(fin);
				p[2].fd = -1;
			}
		}
	}
	for (int i = 0; i < 3; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
}

/* Run argv (searched in PATH) with `in` on its stdin and envp. */
static enum err run_tool(char *const argv[], const char *in,
			 char *const envp[], struct tool_result *r,
			 struct errmsg *e)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	buf_init(&r->out, TOOL_OUT_MAX);
	buf_init(&r->err, TOOL_OUT_MAX);
	r->status = -1;
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
	    pipe2(perr, O_CLOEXEC)) {
		rc = errno;
		for (int i = 0; i < 2; i++) {
			if (pin[i] >= 0) close(pin[i]);
			if (pout[i] >= 0) close(pout[i]);
			if (perr[i] >= 0) close(perr[i]);
		}
		errno = rc;
		return err_sys(e, ERR_IO, "pipe for %s", argv[0]);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (rc) {
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		errno = rc;
		return err_sys(e, ERR_IO, "cannot run %s (is Slurm installed "
			       "here?)", argv[0]);
	}
	signal(SIGPIPE, SIG_IGN);
	converse(pid, pin[1], pout[0], perr[0], in, r);
	return ERR_OK;
}

/* The tool's failure: its exit status and the first line it printed. */
static enum err tool_failed(const char *tool, const struct tool_result *r,
			    struct errmsg *e)
{
	const char *msg = r->err.len ? r->err.data : r->out.len ? r->out.data
								: "";
	int len = (int)strcspn(msg, "\n");

	if (WIFEXITED(r->status))
		return err_set(e, ERR_IO, "%s: exit %d: %.*s", tool,
			       WEXITSTATUS(r->status), len > 300 ? 300 : len,
			       msg);
	return err_set(e, ERR_IO, "%s: killed (signal %d; or after %d s)",
		       tool, WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0,
		       TOOL_DEADLINE_MS / 1000);
}

static bool tool_ok(const struct tool_result *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* s in single quotes for sh ('\'' for each '). Caller frees. */
static char *sh_quote(const char *s)
{
	size_t n = 3;
	char *q, *p;

	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = p = xmalloc(n);
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* The batch script: one worker of run_id, exec'd (scancel's SIGTERM
 * reaches it). */
static char *batch_script(const struct cli_slurm *s, int64_t run_id)
{
	char *dir = path_exe_dir(), *exe = path_join(dir ? dir : ".", "assay");
	char *q = sh_quote(exe), *kq = NULL, *key = NULL;
	char *t;

	if (s->worker_key) {   /* a sealed run: this node's own key */
		kq = sh_quote(s->worker_key);
		key = xasprintf(" --key %s", kq);
	}
	t = xasprintf(
		"#!/bin/sh\n"
		"# assay run %lld: one worker of its job array\n"
		"exec %s worker --run %lld --slots %d --idle-exit %d%s "
		"--name \"slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n",
		(long long)run_id, q, (long long)run_id, s->slots,
		WORKER_IDLE_S, key ? key : "");
	free(key);
	free(kq);
	free(q);
	free(exe);
	free(dir);
	return t;
}

/* sbatch's --parsable answer "JOBID[;CLUSTER]" into s->job_id. */
static enum err parse_job_id(struct cli_slurm *s, const struct buf *out,
			     struct errmsg *e)
{
	const char *p = out->len ? out->data : "";
	size_t n = strspn(p, "0123456789");

	if (n == 0 || n >= sizeof(s->job_id) || (p[n] && !strchr(";\n", p[n])))
		return err_set(e, ERR_PARSE, "sbatch printed '%.80s', not a "
			       "job id", p);
	memcpy(s->job_id, p, n);
	s->job_id[n] = '\0';
	return ERR_OK;
}

enum err cli_slurm_submit(struct cli_slurm *s, int64_t run_id,
			  struct errmsg *e)
{
	char *name = xasprintf("--job-name=assay-run-%lld", (long long)run_id);
	char *array = xasprintf("--array=0-%d", s->workers - 1);
	char *part = s->partition ? xasprintf("--partition=%s", s->partition)
				  : NULL;
	char *store = xasprintf("ASSAY_STORE=%s", s->store);
	char *script = batch_script(s, run_id);
	char **env = env_with(store);
	char **argv = xcalloc(s->n_args + 10, sizeof(*argv));
	struct tool_result r;
	size_t k = 0;
	enum err rc;

	argv[k++] = "sbatch";
	argv[k++] = "--parsable";
	argv[k++] = name;
	argv[k++] = array;
	argv[k++] = "--requeue";
	argv[k++] = "--export=ALL";
	argv[k++] = "--output=slurm-assay-%A_%a.out";
	if (part)
		argv[k++] = part;
	for (size_t i = 0; i < s->n_args; i++)
		argv[k++] = (char *)s->args[i];
	rc = run_tool(argv, script, env, &r, e);
	if (rc == ERR_OK)
		rc = tool_ok(&r) ? parse_job_id(s, &r.out, e)
				 : tool_failed("sbatch", &r, e);
	if (rc == ERR_OK) {
		s->submissions++;
		s->query_failures = 0;
	}
	tool_result_release(&r);
	free(argv);
	free(env);
	explicit_bzero(store, strlen(store));
	free(store);
	free(script);
	free(part);
	free(array);
	free(name);
	return rc;
}

static size_t count_lines(const struct buf *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n + (b->len && b->data[b->len - 1] != '\n');
}

enum err cli_slurm_live(struct cli_slurm *s, int *live, struct errmsg *e)
{
	char *argv[] = { "squeue", "--noheader", "--array", "--jobs",
			 s->job_id, "--format=%T", NULL };
	struct tool_result r;
	enum err rc = run_tool(argv, NULL, environ, &r, e);

	*live = 0;
	if (rc == ERR_OK && tool_ok(&r))
		*live = (int)count_lines(&r.out);
	else if (rc == ERR_OK && !strstr(r.err.data, "Invalid job id"))
		rc = tool_failed("squeue", &r, e);   /* else: purged, gone */
	tool_result_release(&r);
	return rc;
}

enum err cli_slurm_cancel(const struct cli_slurm *s, struct errmsg *e)
{
	char *argv[] = { "scancel", (char *)s->job_id, NULL };
	struct tool_result r;
	enum err rc;

	if (!s->job_id[0])
		return ERR_OK;
	rc = run_tool(argv, NULL, environ, &r, e);
	if (rc == ERR_OK && !tool_ok(&r))
		rc = tool_failed("scancel", &r, e);
	tool_result_release(&r);
	return rc;
}
