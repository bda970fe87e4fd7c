/*
 * check.c - what happens between the agent's end and its hidden check's
 * verdict, as a chain of non-blocking steps.
 *
 * Everything here is proportional to data the agent controls (its home:
 * its size, file count, depth, links), so no step blocks the engine's
 * single thread: each is an exec (a command or a built-in job of the
 * box's init) begun here and polled when its box's fd is ready, bounded
 * in bytes (output caps) and time (timeouts). The blocking calls left are
 * bounded by constants: killing a box's processes, spawning the fresh
 * box (milliseconds), one put of at most FRESH_HOME_MAX bytes, and
 * copying the check's own files (the task's size, not the agent's).
 *
 *   agent/service check box          check box "fresh"
 *   -----------------------          -----------------
 *   kill what the agent left         kill what the agent left
 *   tidy /home/agent (agent box)     tidy /home/agent (agent box)
 *                                    pack it (tar, cut at the cap)
 *                                    new box, put the tar, unpack,
 *                                    tidy /home/agent again
 *   fresh /opt/assay/check           fresh /opt/assay/check
 *   copy the check's files           copy the check's files
 *   run the check                    run the check
 *
 * A step that fails because of what the agent left (a home too large,
 * too many entries, too deep, not a directory) says so (ERR_LIMIT, with
 * a message naming it); the engine scores every failure on the way as
 * the agent's (check-blocked) except a fresh box that could not be made
 * (ep->fresh_failed: infra).
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

#define HOME_DIR "/home/agent"
#define PACK_TIMEOUT_MS 60000
#define TIDY_TIMEOUT_MS 60000
#define STEP_OUT_CAP (16 * 1024)

/* A message to quote: not NULL and not empty (no ": " before nothing). */
static bool nonempty(const char *s)
{
	return s && *s;
}

/* Environment of every check: no Python reads agent-writable paths from
 * the environment or the user's site directory, whatever the check
 * script does (checks are linted to call python3 -I as well). */
static const char *const check_env[] = {
	"PYTHONNOUSERSITE=1", "PYTHONSAFEPATH=1", "PYTHONDONTWRITEBYTECODE=1",
	NULL,
};

/* A failure to start a step is never the agent's doing: ERR_LIMIT of
 * the sandbox's checks (caps, sizes it was asked for) becomes ERR_SANDBOX. */
static enum err begin_exec(struct episode *ep, struct sbx_box *b,
			   const struct sbx_exec_req *req, enum check_step step,
			   struct errmsg *e)
{
	enum err rc;

	ep->step_box = b;
	ep->check_step = step;
	rc = sbx_exec_begin(b, req, e);
	return rc == ERR_LIMIT ? ERR_SANDBOX : rc;
}

static struct sbx_box *agent_box(const struct episode *ep)
{
	return sbx_episode_box(ep->sbx, NULL);
}

/* Kill what the agent left in the box and wait out any pending command
 * (its processes are gone: the wait is a message from init). */
static enum err quiesce(struct sbx_box *b, struct errmsg *e)
{
	struct sbx_exec_result r = { 0 };
	bool done = false;
	enum err rc = sbx_box_kill_all(b, e);

	while (rc == ERR_OK && sbx_exec_timeout_ms(b) >= 0 && !done) {
		rc = sbx_exec_poll(b, &done, &r, e);
		sbx_exec_result_release(&r);
	}
	return rc;
}

static enum err begin_builtin(struct episode *ep, struct sbx_box *b,
			      enum sbx_builtin what, const char *dir,
			      enum check_step step, struct errmsg *e)
{
	const char *argv[] = { dir, NULL };
	struct sbx_exec_req req = { .builtin = what, .argv = argv,
				    .timeout_ms = TIDY_TIMEOUT_MS,
				    .out_cap = STEP_OUT_CAP };

	return begin_exec(ep, b, &req, step, e);
}

/* The agent's home as a tar stream, cut one byte past FRESH_HOME_MAX
 * (head exits, tar dies of SIGPIPE: a 4 TiB sparse file or a million
 * files cost at most that many bytes of reading). Holes stay holes. */
static enum err begin_pack(struct episode *ep, struct errmsg *e)
{
	char *cmd = xasprintf("{ tar -C " HOME_DIR " --sparse -cf - . || "
			      "echo \"tar failed: $?\" >&2; } | head -c %u",
			      FRESH_HOME_MAX + 1);
	struct sbx_exec_req req = { .shell = cmd, .user = "root",
				    .timeout_ms = PACK_TIMEOUT_MS,
				    .out_cap = FRESH_HOME_MAX + 1 };
	enum err rc = begin_exec(ep, agent_box(ep), &req, CS_PACK, e);

	free(cmd);
	return rc;
}

/* Check box "fresh": a new box of the agent's image, on no network,
 * given the packed home; then unpack it there. */
static enum err begin_unpack(struct episode *ep, struct sbx_exec_result *pack,
			     struct errmsg *e)
{
	const struct task *t = ep->task;
	static const char *const unpack[] = {
		"/bin/sh", "-c", "tar -C " HOME_DIR " -xf /tmp/.home.tar && "
		"rm -f /tmp/.home.tar", NULL,
	};
	struct sbx_exec_req req = { .argv = unpack, .user = "root",
				    .timeout_ms = PACK_TIMEOUT_MS,
				    .out_cap = STEP_OUT_CAP };
	struct sbx_episode_spec spec = { 0 };
	const struct image_config *cfg;
	char name[96];
	enum err rc;

	if (pack->out_len > FRESH_HOME_MAX)
		return err_set(e, ERR_LIMIT, "the agent's home is larger than "
			       "%u MiB, the most a fresh check box takes",
			       FRESH_HOME_MAX >> 20);
	if (pack->how != SBX_EXITED || pack->exit_code ||
	    (pack->err && strstr(pack->err, "tar failed")))
		return err_set(e, ERR_SANDBOX, "cannot pack the agent's home%s"
			       "%.200s", nonempty(pack->err) ? ": " : "",
			       nonempty(pack->err) ? pack->err : "");
	snprintf(name, sizeof(name), "r%lld-e%lld-check",
		 (long long)ep->cfg->run_id, (long long)ep->id);
	spec.name = name;
	spec.agent.name = "check";
	if ((rc = engine_image_box(t->agent_image, &spec.agent, &cfg, e)))
		return rc;
	spec.agent.user = t->agent_user;
	episode_fill_limits(t, &spec.agent.limits);
	ep->fresh_failed = true;    /* until the box exists: ours */
	if ((rc = sbx_episode_new(&spec, &ep->fresh, e)) ||
	    (rc = sbx_episode_start(ep->fresh, e)))
		return rc;
	ep->fresh_failed = false;
	ep->check_box = sbx_episode_box(ep->fresh, NULL);
	/* the box has the agent's disk limit: a home that fitted there but
	 * not as a tar beside its copy is the agent's doing */
	rc = sbx_put_file(ep->check_box, "/tmp/.home.tar", pack->out,
			  pack->out_len, 0600, "root", e);
	if (rc == ERR_IO) {
		(void)err_prefix(e, "the agent's home cannot be copied");
		return ERR_LIMIT;
	}
	if (rc)
		return rc;
	return begin_exec(ep, ep->check_box, &req, CS_UNPACK, e);
}

static enum err begin_run(struct episode *ep, struct errmsg *e)
{
	const struct task *t = ep->task;
	struct sbx_exec_req req = { 0 };
	enum err rc;

	if ((rc = episode_copy_tree(ep->check_box, t, t->check_dir, CHECK_DIR,
				    "root", e)))
		return rc == ERR_LIMIT ? ERR_SANDBOX : rc;
	req.argv = (const char *const *)t->check_run;
	req.user = "root";
	req.cwd = CHECK_DIR;
	req.env = check_env;
	req.timeout_ms = t->check_timeout_s * 1000;
	req.out_cap = CHECK_OUT_CAP;
	return begin_exec(ep, ep->check_box, &req, CS_RUN, e);
}

enum err check_start(struct episode *ep, struct errmsg *e)
{
	const struct task *t = ep->task;
	bool fresh = !strcmp(t->check_box, "fresh");
	enum err rc;

	ep->check_box = NULL;
	if (!fresh) {
		ep->check_box = sbx_episode_box(ep->sbx, strcmp(t->check_box,
						"agent") ? t->check_box : NULL);
		if (!ep->check_box)
			return err_set(e, ERR_SANDBOX, "task '%s': no box '%s' "
				       "for the check", t->id, t->check_box);
	}
	if ((rc = quiesce(agent_box(ep), e)) ||
	    (ep->check_box && ep->check_box != agent_box(ep) &&
	     (rc = quiesce(ep->check_box, e))))
		return rc;
	if (!fresh && ep->check_box != agent_box(ep))
		/* a service's box: the agent's home is not there */
		return begin_builtin(ep, ep->check_box, SBX_FRESH_DIR, CHECK_DIR,
				     CS_FRESH_DIR, e);
	return begin_builtin(ep, agent_box(ep), SBX_TIDY, HOME_DIR, CS_TIDY_HOME, e);
}

struct sbx_box *check_step_box(const struct episode *ep)
{
	return ep->step_box;
}

/* A built-in job's result: 0 goes on, the tidy refusals are the agent's
 * doing, anything else the harness's. */
static enum err builtin_result(const struct sbx_exec_result *r, const char *what,
			       struct errmsg *e)
{
	if (r->how == SBX_EXITED && r->exit_code == 0)
		return ERR_OK;
	if (r->how == SBX_EXITED && (r->exit_code == SBX_TIDY_EXIT_TOO_MANY ||
				     r->exit_code == SBX_TIDY_EXIT_TOO_DEEP ||
				     r->exit_code == SBX_TIDY_EXIT_NOT_DIR))
		return err_set(e, ERR_LIMIT, "the agent's home cannot be checked: "
			       "%.300s", r->err);
	return err_set(e, ERR_SANDBOX, "%s failed (how=%d status=%d): %.300s",
		       what, (int)r->how, r->exit_code, r->err ? r->err : "");
}

/* The step after the one that just finished with r. */
static enum err next_step(struct episode *ep, struct sbx_exec_result *r,
			  struct errmsg *e)
{
	bool fresh = !strcmp(ep->task->check_box, "fresh");
	enum err rc;

	switch (ep->check_step) {
	case CS_TIDY_HOME:
		if ((rc = builtin_result(r, "tidying the agent's home", e)))
			return rc;
		return fresh ? begin_pack(ep, e) :
		       begin_builtin(ep, ep->check_box, SBX_FRESH_DIR, CHECK_DIR,
				     CS_FRESH_DIR, e);
	case CS_PACK:
		return begin_unpack(ep, r, e);
	case CS_UNPACK:
		/* the image's tar on the agent's data */
		if (r->how != SBX_EXITED || r->exit_code)
			return err_set(e, ERR_LIMIT, "the agent's home cannot be "
				       "unpacked%s%.200s", nonempty(r->err) ? ": " :
				       "", nonempty(r->err) ? r->err : "");
		return begin_builtin(ep, ep->check_box, SBX_TIDY, HOME_DIR,
				     CS_TIDY_COPY, e);
	case CS_TIDY_COPY:
		if ((rc = builtin_result(r, "tidying the copied home", e)))
			return rc;
		return begin_builtin(ep, ep->check_box, SBX_FRESH_DIR, CHECK_DIR,
				     CS_FRESH_DIR, e);
	case CS_FRESH_DIR:
		if ((rc = builtin_result(r, "making the check's directory", e)))
			return rc;
		return begin_run(ep, e);
	default:
		return err_set(e, ERR_SANDBOX, "check step %d out of order",
			       (int)ep->check_step);
	}
}

enum err check_poll(struct episode *ep, bool *done, struct sbx_exec_result *res,
		    struct errmsg *e)
{
	struct sbx_exec_result r = { 0 };
	bool fin = false;
	enum err rc;

	*done = false;
	if (!ep->step_box)
		return err_set(e, ERR_SANDBOX, "no check step is running");
	if ((rc = sbx_exec_poll(ep->step_box, &fin, &r, e)) || !fin)
		return rc;
	if (ep->check_step == CS_RUN) {
		*res = r;
		*done = true;
		ep->check_step = CS_DONE;
		return ERR_OK;
	}
	if (r.how == SBX_BOX_DIED)
		rc = err_set(e, ERR_SANDBOX, "a box died before the check ran");
	else
		rc = next_step(ep, &r, e);
	sbx_exec_result_release(&r);
	return rc;
}
