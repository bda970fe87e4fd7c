/*
 * episode.c - one episode: sandbox up, flag planted, agent loop, hidden
 * check, score, journal, teardown.
 */
#include "engine/engine_int.h"
#include "image/image.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonw.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define NOTE_MAX (16 * 1024)

void engine_episode_journal(void *arg, const char *kind, const char *json)
{
	struct episode *ep = arg;
	struct errmsg e;

	if (ep->store_failed)
		return;
	if (store_event_add(ep->cfg->store, ep->id, ep->seq++, kind, json,
			    &e) != ERR_OK) {
		ep->store_failed = true;
		ep->store_err = e;
	}
}

/* Journal w's document under kind, or a note naming what failed. */
static void journal_doc(struct episode *ep, const char *kind,
			struct jsonw *w, struct buf *b)
{
	struct errmsg e;

	if (jsonw_finish(w, &e) == ERR_OK) {
		engine_episode_journal(ep, kind, b->data);
		return;
	}
	buf_reset(b);
	jsonw_init(w, b, JSONW_LOSSY);
	jsonw_obj(w);
	jsonw_kstr(w, "note", "an event could not be journaled");
	jsonw_kstr(w, "kind", kind);
	jsonw_kstr(w, "error", e.text);
	jsonw_obj_end(w);
	if (jsonw_finish(w, &e) == ERR_OK)
		engine_episode_journal(ep, "note", b->data);
}

static void note(struct episode *ep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A plain-text note (at most NOTE_MAX bytes; invalid UTF-8 becomes
 * U+FFFD) as {"note":TEXT}. */
static void note(struct episode *ep, const char *fmt, ...)
{
	struct buf text, json;
	struct jsonw w;
	va_list ap;
	enum err rc;

	buf_init(&text, NOTE_MAX);
	va_start(ap, fmt);
	rc = buf_vprintf(&text, fmt, ap);
	va_end(ap);
	buf_init(&json, 2 * NOTE_MAX);
	jsonw_init(&w, &json, JSONW_LOSSY);
	jsonw_obj(&w);
	if (rc)
		jsonw_kstr(&w, "note", "a note larger than NOTE_MAX was "
			   "dropped");
	else
		jsonw_kstr(&w, "note", text.data);
	jsonw_obj_end(&w);
	journal_doc(ep, "note", &w, &json);
	buf_release(&json);
	buf_release(&text);
}

/* --- sandbox set-up -------------------------------------------------- */

void engine_episode_fill_limits(const struct task *t, struct sbx_limits *l)
{
	l->memory_mb = t->limits.memory_mb;
	l->pids = t->limits.pids;
	l->disk_mb = t->limits.disk_mb;
}

/* Environment of service s: its own env plus any flag planted there. */
static char **service_env(const struct episode *ep, const struct task_service *s)
{
	size_t n = strv_len(s->env), k = n;
	char **env = xcalloc(n + ep->task->n_flag_to + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		env[i] = xstrdup(s->env[i]);
	for (size_t i = 0; ep->flag && i < ep->task->n_flag_to; i++) {
		const struct flag_target *ft = &ep->task->flag_to[i];
		if (ft->kind == FLAG_TO_ENV && !strcmp(ft->box, s->name))
			env[k++] = xasprintf("%s=%s", ft->where, ep->flag);
	}
	return env;
}

/* The image's Env, then the task's (which wins: later entries override). */
static char **merged_env(const struct image_config *c, char **env)
{
	size_t ni = c ? strv_len(c->env) : 0, nt = strv_len(env);
	char **v = xcalloc(ni + nt + 1, sizeof(*v));

	for (size_t i = 0; i < ni; i++)
		v[i] = xstrdup(c->env[i]);
	for (size_t i = 0; i < nt; i++)
		v[ni + i] = env[i];
	free(env);
	return v;
}

/* Entrypoint + Cmd of the image when the task gives no run. */
static char **image_argv(const struct image_config *c)
{
	size_t ne = strv_len(c->entrypoint), nc = strv_len(c->cmd);
	char **v = xcalloc(ne + nc + 1, sizeof(*v));

	for (size_t i = 0; i < ne; i++)
		v[i] = xstrdup(c->entrypoint[i]);
	for (size_t i = 0; i < nc; i++)
		v[ne + i] = xstrdup(c->cmd[i]);
	return v;
}

static enum err fill_service(const struct episode *ep,
			     const struct task_service *s,
			     struct sbx_box_spec *b, char ***env, char ***argv,
			     struct errmsg *e)
{
	const struct image_config *c;
	enum err rc;

	b->name = s->name;
	if ((rc = engine_image_box(s->image, b, &c, e)) ||
	    (rc = engine_image_user(s->image, s->user, &b->svc_uid, &b->svc_gid, e)))
		return err_prefix(e, "service '%s'", s->name);
	b->user = "root";
	*env = merged_env(c, *env);
	if (!s->run[0] && (!c || !(*argv = image_argv(c))[0]))
		return err_set(e, ERR_INVAL, "service '%s': no 'run' and the image "
			       "has no Entrypoint or Cmd", s->name);
	b->argv = (const char *const *)(s->run[0] ? s->run : *argv);
	b->env = (const char *const *)*env;
	b->cwd = c && c->workdir ? c->workdir : "/srv";
	b->ready = s->ready == TASK_READY_TCP ? SBX_READY_TCP :
		   s->ready == TASK_READY_CMD ? SBX_READY_CMD : SBX_READY_NONE;
	b->ready_port = s->ready_port;
	b->ready_argv = (const char *const *)s->ready_cmd;
	b->ready_timeout_ms = s->ready_timeout_s * 1000;
	b->packet_sockets = s->packet_sockets;
	engine_episode_fill_limits(ep->task, &b->limits);
	return ERR_OK;
}

static enum err create_boxes(struct episode *ep, struct errmsg *e)
{
	const struct task *t = ep->task;
	struct sbx_box_spec *svc = xcalloc(t->n_services + 1, sizeof(*svc));
	char ***envs = xcalloc(t->n_services + 1, sizeof(*envs));
	char ***argvs = xcalloc(t->n_services + 1, sizeof(*argvs));
	const struct image_config *ac;
	char name[96];
	struct sbx_episode_spec spec = { 0 };
	enum err rc;

	snprintf(name, sizeof(name), "r%lld-e%lld", (long long)ep->cfg->run_id,
		 (long long)ep->id);
	spec.name = name;
	spec.agent.name = "agent";
	rc = engine_image_box(t->agent_image, &spec.agent, &ac, e);
	if (ac) {
		/* the image's Env and WorkingDir for the agent's commands */
		spec.agent.env = (const char *const *)ac->env;
		spec.agent.cwd = ac->workdir;
	}
	spec.agent.user = t->agent_user;
	spec.agent.packet_sockets = t->agent_packet_sockets;
	engine_episode_fill_limits(t, &spec.agent.limits);
	for (size_t i = 0; i < t->n_services && !rc; i++) {
		envs[i] = service_env(ep, &t->services[i]);
		rc = fill_service(ep, &t->services[i], &svc[i], &envs[i], &argvs[i], e);
	}
	spec.services = svc;
	spec.n_services = t->n_services;
	if (!rc)
		rc = sbx_episode_new(&spec, &ep->sbx, e);
	for (size_t i = 0; i < t->n_services; i++) {
		strv_free(envs[i]);
		strv_free(argvs[i]);
	}
	free(envs);
	free(argvs);
	free(svc);
	return rc;
}

static enum err plant_flag(struct episode *ep, struct errmsg *e)
{
	const struct task *t = ep->task;

	for (size_t i = 0; i < t->n_flag_to; i++) {
		const struct flag_target *ft = &t->flag_to[i];
		struct sbx_box *b;
		enum err rc;
		if (ft->kind != FLAG_TO_FILE)
			continue;
		b = sbx_episode_box(ep->sbx, strcmp(ft->box, "agent") ?
				    ft->box : NULL);
		rc = sbx_put_file(b, ft->where, ep->flag, strlen(ep->flag),
				  0400, "root", e);
		if (rc)
			return err_prefix(e, "planting the flag in '%s'", ft->box);
	}
	return ERR_OK;
}

/* Copy a directory of the task into a box: from the host for a task
 * directory, file by file from memory for a sealed task (whose content
 * never touches the host's disks). */
enum err engine_episode_copy_tree(struct sbx_box *b, const struct task *t,
				 const char *src, const char *dest, const char *owner,
				 struct errmsg *e)
{
	size_t n = strlen(src);

	if (!t->mem)
		return sbx_copy_in(b, src, dest, owner, e);
	for (size_t i = 0; i < t->n_mem; i++) {
		const struct task_file *f = &t->mem[i];
		char *to;
		enum err rc;
		if (strncmp(f->path, src, n) || f->path[n] != '/')
			continue;
		to = xasprintf("%s/%s", dest, f->path + n + 1);
		rc = sbx_put_file(b, to, f->data, f->len, f->mode & 0777, owner, e);
		free(to);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

static enum err copy_files(struct episode *ep, struct errmsg *e)
{
	const struct task *t = ep->task;
	struct sbx_box *agent = sbx_episode_box(ep->sbx, NULL);
	enum err rc;

	if (t->files_dir &&
	    (rc = engine_episode_copy_tree(agent, t, t->files_dir, "/home/agent", "agent", e)))
		return rc;
	for (size_t i = 0; i < t->n_services; i++) {
		const struct task_service *s = &t->services[i];
		if (s->files_dir &&
		    (rc = engine_episode_copy_tree(sbx_episode_box(ep->sbx, s->name), t,
				    s->files_dir, "/srv", "root", e)))
			return rc;
	}
	if (model_needs_solution(ep->cfg->model) && t->solution_dir &&
	    (rc = engine_episode_copy_tree(agent, t, t->solution_dir, SOLUTION_DIR, "root", e)))
		return rc;
	return ERR_OK;
}

/* Every tool the task declares must exist in the agent box. */
static enum err check_tools(struct episode *ep, struct errmsg *e)
{
	size_t n = strv_len(ep->task->agent_tools);
	const char **argv = xcalloc(n + 5, sizeof(char *));
	struct sbx_exec_req req = { 0 };
	struct sbx_exec_result r = { 0 };
	enum err rc;

	if (!n) {
		free(argv);
		return ERR_OK;
	}
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = "for t; do command -v \"$t\" >/dev/null 2>&1 || "
		  "printf '%s ' \"$t\"; done";
	argv[3] = "sh";
	for (size_t i = 0; i < n; i++)
		argv[4 + i] = ep->task->agent_tools[i];
	req.argv = argv;
	req.timeout_ms = 10000;
	rc = sbx_exec(sbx_episode_box(ep->sbx, NULL), &req, &r, e);
	free(argv);
	if (rc == ERR_OK && r.out_len)
		rc = err_set(e, ERR_SANDBOX, "task '%s': tools missing in the "
			     "agent box: %s", ep->task->id, r.out);
	sbx_exec_result_release(&r);
	return rc;
}

/* Search everything the agent user can read for the flag: its home, the
 * usual writable and config dirs, its environment and every process
 * environment it may read. The flag goes in on stdin, never in argv. */
static enum err leak_scan(struct episode *ep, struct errmsg *e)
{
	static const char *const argv[] = { "/bin/sh", "-c",
		"IFS= read -r f; "
		"grep -rlsF -- \"$f\" /home /tmp /etc /srv /var /run 2>/dev/null; "
		"for p in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do "
		"grep -qsF -- \"$f\" \"$p\" && echo \"$p\"; done; "
		"env | grep -qF -- \"$f\" && echo environment; exit 0", NULL };
	struct sbx_exec_req req = { 0 };
	struct sbx_exec_result r = { 0 };
	char *in = xasprintf("%s\n", ep->flag);
	enum err rc;

	req.argv = argv;
	req.stdin_data = in;
	req.stdin_len = strlen(in);
	req.timeout_ms = 20000;
	rc = sbx_exec(sbx_episode_box(ep->sbx, NULL), &req, &r, e);
	if (rc == ERR_OK && r.out_len) {
		for (char *p = r.out; *p; p++)
			if (*p == '\n')
				*p = ' ';
		ep->leaked = true;
		rc = err_set(e, ERR_INVAL, "task '%s': the flag is readable by "
			     "the agent at: %.300s", ep->task->id, r.out);
	}
	sbx_exec_result_release(&r);
	free(in);
	return rc;
}

static enum err setup_sandbox(struct episode *ep, struct errmsg *e)
{
	enum err rc;

	if (ep->task->flag_kind == FLAG_DYNAMIC)
		rc = score_make_flag(ep->task->flag_format, &ep->flag, e);
	else {
		ep->flag = xstrdup(ep->task->flag_value);
		rc = ERR_OK;
	}
	if (rc == ERR_OK)
		rc = create_boxes(ep, e);
	if (rc == ERR_OK)
		rc = copy_files(ep, e);
	if (rc == ERR_OK)
		rc = plant_flag(ep, e);
	if (rc == ERR_OK)
		rc = check_tools(ep, e);
	if (rc == ERR_OK)
		rc = sbx_episode_start_begin(ep->sbx, e);
	if (rc == ERR_OK && ep->cfg->leak_scan)
		rc = leak_scan(ep, e);
	return rc;
}

/* --- recording ------------------------------------------------------- */

static const char *outcome_of(const struct agent_result *r, int score)
{
	if (score)
		return "solved";
	switch (r->end) {
	case AGENT_END_SUBMITTED:
		return "submitted-wrong";
	case AGENT_END_INFRA_ERROR:
		return "infra-error";
	case AGENT_END_CANCELLED:
		return "infra-interrupted";
	case AGENT_END_BOX_FAILED:
		return "box-failed";
	default:
		return agent_end_name(r->end);
	}
}

static const char *class_of(const struct agent_result *r)
{
	switch (r->end) {
	case AGENT_END_INFRA_ERROR:
	case AGENT_END_CANCELLED:
		return "infra";
	case AGENT_END_MODEL_ERROR:
	case AGENT_END_LIMIT_TURNS:
	case AGENT_END_LIMIT_TOKENS:
	case AGENT_END_LIMIT_COST:
	case AGENT_END_LIMIT_WALL:
	case AGENT_END_LIMIT_WORKING:
		return "model";
	case AGENT_END_BOX_FAILED:
		return "agent-caused";
	default:
		return "none";
	}
}

/* How the agent's (or the person's) work ended. */
static const struct agent_result *result_of(const struct episode *ep)
{
	return ep->human ? ep->human_res : agent_result(ep->agent);
}

/* Here and in record() the store's row is filled field by field from the
 * agent's and the score's results: three parts' structs with fields of
 * the same names, none of which may include another's (layering), so
 * there is no struct to copy whole. */
static void fill_usage(struct store_episode *rec, const struct agent_result *r)
{
	rec->turns = r->turns;
	rec->prompt_tokens = r->prompt_tokens;
	rec->completion_tokens = r->completion_tokens;
	rec->cached_tokens = r->cached_tokens;
	rec->cost_usd = r->cost_usd;
	rec->working_ms = r->working_ms;
	rec->model_calls = r->model_calls;
	rec->tool_calls = r->tool_calls;
	rec->infra_retries = r->infra_retries;
}

static void journal_exit(struct jsonw *w, const struct sbx_service_state *st)
{
	jsonw_key(w, "exit");
	if (!st->exited) {
		jsonw_null(w);
		return;
	}
	jsonw_obj(w);
	if (st->how == SBX_SIGNALED) {
		jsonw_kstr(w, "how", "signaled");
		jsonw_kint(w, "signal", st->term_signal);
	} else {
		jsonw_kstr(w, "how", "exited");
		jsonw_kint(w, "status", st->exit_code);
	}
	jsonw_obj_end(w);
}

/* Each started service's state and captured output, as a `service`
 * event (a box busy with a command or dead is skipped). */
static void journal_services(struct episode *ep)
{
	for (size_t i = 0; ep->sbx && i < ep->task->n_services; i++) {
		const char *name = ep->task->services[i].name;
		struct sbx_box *b = sbx_episode_box(ep->sbx, name);
		struct sbx_service_state st;
		struct errmsg e;
		struct buf json;
		struct jsonw w;
		char how[160];

		if (!b || sbx_service_state(b, true, &st, &e) != ERR_OK)
			continue;
		if (!st.started) {
			sbx_service_state_release(&st);
			continue;
		}
		buf_init(&json, 16 * SBX_SERVICE_CAP);
		jsonw_init(&w, &json, JSONW_LOSSY);
		jsonw_obj(&w);
		jsonw_kstr(&w, "service", name);
		jsonw_kstr(&w, "state", sbx_service_state_text(&st, how,
							       sizeof(how)));
		jsonw_kbool(&w, "alive", st.alive);
		journal_exit(&w, &st);
		jsonw_key(&w, "stdout");
		jsonw_strn(&w, st.out, st.out_len);
		jsonw_kbool(&w, "stdout_truncated", st.out_truncated);
		jsonw_key(&w, "stderr");
		jsonw_strn(&w, st.err, st.err_len);
		jsonw_kbool(&w, "stderr_truncated", st.err_truncated);
		jsonw_obj_end(&w);
		journal_doc(ep, "service", &w, &json);
		buf_release(&json);
		sbx_service_state_release(&st);
	}
}

static void record(struct episode *ep, const char *outcome, const char *cls,
		   const char *error, const struct score_result *sr)
{
	struct store_episode *rec = &ep->rec;
	struct errmsg e;

	rec->id = ep->id;
	rec->status = xstrdup(!strcmp(outcome, "infra-interrupted") ?
			      "interrupted" : "done");
	rec->outcome = xstrdup(outcome);
	rec->error_class = xstrdup(cls);
	rec->error = xstrdup(error);
	if (sr) {
		rec->score = sr->score;
		rec->flag_ok = sr->flag_ok;
		rec->check_ok = sr->check_ok;
		rec->has_flag = sr->has_flag;
		rec->has_check = sr->has_check;
		rec->answers_ok = sr->answers_ok;
		rec->answers_total = sr->answers_total;
	}
	if (ep->agent || (ep->human && ep->human_res))
		fill_usage(rec, result_of(ep));
	journal_services(ep);
	rec->finished_ms = wall_ms();
	rec->wall_ms = (now_us() - ep->start_us) / 1000;
	if (!ep->store_failed &&
	    store_episode_finish(ep->cfg->store, rec, &e) != ERR_OK) {
		ep->store_failed = true;
		ep->store_err = e;
	}
	ep->phase = EP_FINISHED;
	if (ep->sbx) {
		sbx_episode_free(ep->sbx);
		ep->sbx = NULL;
	}
	if (ep->fresh) {
		sbx_episode_free(ep->fresh);
		ep->fresh = NULL;
	}
	ep->check_box = NULL;
	ep->step_box = NULL;
}

static void record_setup_failure(struct episode *ep, const char *error)
{
	struct score_result sr = { 0 };

	note(ep, "episode set-up failed: %s", error);
	sr.has_flag = ep->task->flag_kind != FLAG_NONE;
	sr.has_check = ep->task->check_run != NULL;
	record(ep, "infra-error", "infra", error, &sr);
}

/* --- life cycle ------------------------------------------------------ */

/* The task's text is about to reach the endpoint: record it. */
static void record_exposure(struct episode *ep)
{
	const struct engine_config *c = ep->cfg;
	struct store_exposure x = { 0 };
	struct errmsg e;

	if (!model_is_remote(c->model) || ep->store_failed)
		return;
	x.task_id = ep->task->id;
	x.task_digest = (char *)ep->task_digest;
	x.suite_id = c->suite->id;
	x.developer = (char *)(c->developer ? c->developer : "unknown");
	x.model = (char *)model_name(c->model);
	x.endpoint = (char *)model_endpoint(c->model);
	x.run_id = c->run_id;
	x.first_ms = wall_ms();
	if (store_exposure_add(c->store, &x, &e) != ERR_OK) {
		ep->store_failed = true;
		ep->store_err = e;
	}
}

/* A sequential question answered: scored at once, as the final score
 * will count it (score_episode over the same answers), and journaled. */
static void on_answer(void *arg, size_t index, const char *answer)
{
	struct episode *ep = arg;
	const struct task *t = ep->task;
	struct buf json;
	struct jsonw w;
	bool ok;

	if (index >= t->n_answers)
		return;
	ok = score_answer_match(&t->answers[index], answer);
	buf_init(&json, 4096);
	jsonw_init(&w, &json, 0);
	jsonw_obj(&w);
	jsonw_kint(&w, "question", (int64_t)index + 1);
	jsonw_kint(&w, "of", (int64_t)t->n_answers);
	jsonw_kbool(&w, "ok", ok);
	jsonw_obj_end(&w);
	journal_doc(ep, "answer", &w, &json);
	buf_release(&json);
}

/* The questions the agent asks one at a time (answers_mode: sequential). */
static void sequential_questions(struct episode *ep, struct agent_config *ac)
{
	const struct task *t = ep->task;

	if (t->answers_mode != TASK_ANSWERS_SEQUENTIAL || !t->n_answers)
		return;
	free(ep->questions);
	ep->questions = xcalloc(t->n_answers, sizeof(*ep->questions));
	for (size_t i = 0; i < t->n_answers; i++)
		ep->questions[i] = t->answers[i].question;
	ac->questions = ep->questions;
	ac->n_questions = t->n_answers;
	ac->on_answer = on_answer;
	ac->answer_arg = ep;
}

static void start_agent(struct episode *ep)
{
	const struct task *t = ep->task;
	struct agent_config ac = { 0 };
	struct errmsg e;

	ac.scaffold = ep->cfg->scaffold;
	ac.task_prompt = ep->prompt;
	ac.model = ep->cfg->model;
	ac.box = sbx_episode_box(ep->sbx, NULL);
	ac.solution_path = model_needs_solution(ep->cfg->model) &&
			   !t->oracle_none ?
			   SOLUTION_DIR "/solve.sh" : NULL;
	ac.limits.turns = t->limits.turns;
	ac.limits.tokens = t->limits.tokens;
	ac.limits.cost_usd = ep->cfg->episode_usd;
	ac.limits.working_ms = ep->cfg->episode_working_ms;
	ac.limits.wall_ms = (int64_t)t->limits.wall_s * 1000;
	ac.limits.cmd_timeout_ms = t->limits.cmd_timeout_s * 1000;
	ac.journal = engine_episode_journal;
	ac.journal_arg = ep;
	sequential_questions(ep, &ac);
	ep->agent = agent_new(&ac);
	if (agent_start(ep->agent, &e) != ERR_OK)
		note(ep, "agent did not start: %s", e.text);
}

enum err engine_episode_begin(struct episode *ep, struct errmsg *e)
{
	struct errmsg se;
	enum err rc;

	ep->start_us = now_us();
	/* a claimed attempt (a worker's) has its row already */
	rc = ep->id ? ERR_OK :
	     store_episode_create(ep->cfg->store, ep->cfg->run_id, ep->task->id,
				  ep->epoch, ep->attempt, &ep->id, e);
	if (rc == ERR_OK)
		rc = store_episode_start(ep->cfg->store, ep->id, wall_ms(), e);
	if (rc)
		return rc;      /* the store itself failed: stop the run */
	ep->prompt = task_render_prompt(ep->task, ep->cfg->prompt_level);
	if (setup_sandbox(ep, &se) != ERR_OK) {
		log_debug("task=%s episode=%lld msg=\"set-up failed\" err=\"%s\"",
			  ep->task->id, (long long)ep->id, se.text);
		if (ep->leaked)
			record(ep, "flag-leak", "task", se.text, NULL);
		else
			record_setup_failure(ep, se.text);
		return ERR_OK;
	}
	ep->phase = EP_STARTING;   /* engine_episode_step probes the services */
	return ERR_OK;
}

/* Services booting: one round of non-blocking readiness probes. */
static void step_starting(struct episode *ep)
{
	struct errmsg e;
	bool done = false;

	if (sbx_episode_start_poll(ep->sbx, &done, &e) != ERR_OK) {
		record_setup_failure(ep, e.text);
		return;
	}
	if (!done)
		return;
	if (ep->human) {           /* human.c takes over the box */
		ep->phase = EP_HUMAN;
		return;
	}
	ep->phase = EP_AGENT;
	record_exposure(ep);
	start_agent(ep);
}

int engine_episode_wait_ms(const struct episode *ep)
{
	int t;

	if (ep->phase == EP_STARTING)
		return sbx_episode_start_next_ms(ep->sbx);
	return engine_episode_fd(ep, &t) >= 0 ? t : -1;
}

int engine_episode_fd(const struct episode *ep, int *timeout_ms)
{
	struct sbx_box *b = NULL;

	*timeout_ms = -1;
	if (ep->phase == EP_AGENT && agent_state(ep->agent) == AGENT_WAIT_TOOL)
		b = sbx_episode_box(ep->sbx, NULL);
	else if (ep->phase == EP_CHECK)
		b = engine_check_step_box(ep);
	if (!b)
		return -1;
	*timeout_ms = sbx_exec_timeout_ms(b);
	return sbx_box_fd(b);
}

static void finish_scored(struct episode *ep)
{
	const struct agent_result *r = result_of(ep);
	struct score_input in = { 0 };
	struct score_result sr;
	struct buf json;
	struct jsonw w;

	/* the score part's input, field by field (as fill_usage) */
	in.task = ep->task;
	in.flag = ep->flag;
	in.submitted = r->flag;
	in.answers = r->answers;
	in.n_answers = r->n_answers;
	in.check_passed = ep->check_passed;
	score_episode(&in, &sr);
	buf_init(&json, 4096);
	jsonw_init(&w, &json, 0);
	jsonw_obj(&w);
	jsonw_kint(&w, "score", sr.score);
	jsonw_kbool(&w, "flag_ok", sr.flag_ok);
	jsonw_kbool(&w, "check_ok", sr.check_ok);
	jsonw_kint(&w, "answers_ok", sr.answers_ok);
	jsonw_kint(&w, "answers_total", sr.answers_total);
	jsonw_obj_end(&w);
	journal_doc(ep, "score", &w, &json);
	buf_release(&json);
	if (ep->check_blocked && !sr.score)
		record(ep, "check-blocked", "agent-caused", r->error, &sr);
	else
		record(ep, outcome_of(r, sr.score), sr.score ? "none" :
		       class_of(r), r->error, &sr);
}

/* The check could not run because of the boxes as the agent left them
 * (a full disk or inode table, an unpackable home, a dead box): the
 * check fails and the episode scores as the agent's failure, never as a
 * retried infrastructure failure (docs/SECURITY.md, "Scoring"). */
static void check_blocked(struct episode *ep, const char *why)
{
	note(ep, "hidden check blocked by the agent's boxes: %s", why);
	ep->check_passed = false;
	ep->check_blocked = true;
	finish_scored(ep);
}

/* A step towards the check failed: ours when the fresh box could not be
 * made, else the boxes as the agent left them kept the check from running. */
static void check_failed(struct episode *ep, const char *why)
{
	if (ep->fresh_failed) {     /* the host could not make a box */
		note(ep, "hidden check could not start: %s", why);
		record(ep, "infra-error", "infra", why, NULL);
		return;
	}
	check_blocked(ep, why);
}

void engine_episode_agent_done(struct episode *ep)
{
	const struct agent_result *r = result_of(ep);
	struct errmsg e;

	if (r->end == AGENT_END_INFRA_ERROR || r->end == AGENT_END_CANCELLED) {
		record(ep, outcome_of(r, 0), "infra", r->error, NULL);
		return;
	}
	if (!ep->task->check_run || r->end == AGENT_END_MODEL_ERROR ||
	    r->end == AGENT_END_BOX_FAILED) {
		finish_scored(ep);
		return;
	}
	if (engine_check_start(ep, &e) == ERR_OK) {
		ep->phase = EP_CHECK;
		return;
	}
	check_failed(ep, e.text);
}

static void check_done(struct episode *ep, struct sbx_exec_result *r)
{
	char *out = utf8_sanitize(r->out, r->out_len, NULL);
	char *err = utf8_sanitize(r->err, r->err_len, NULL);

	ep->check_passed = r->how == SBX_EXITED && r->exit_code == 0;
	note(ep, "hidden check %s (how=%d status=%d): %.2000s %.2000s",
	     ep->check_passed ? "passed" : "failed", (int)r->how, r->exit_code,
	     out, err);
	free(out);
	free(err);
	finish_scored(ep);
}

void engine_episode_on_ready(struct episode *ep)
{
	struct sbx_exec_result r = { 0 };
	struct errmsg e;
	bool done = false;

	if (ep->phase == EP_AGENT) {
		agent_on_box_ready(ep->agent);
		return;
	}
	if (ep->phase != EP_CHECK)
		return;
	if (engine_check_poll(ep, &done, &r, &e) != ERR_OK) {
		check_failed(ep, e.text);
		return;
	}
	if (done) {
		if (r.how == SBX_BOX_DIED)
			check_blocked(ep, "the check box died");
		else
			check_done(ep, &r);
	}
	sbx_exec_result_release(&r);
}

bool engine_episode_step(struct episode *ep)
{
	if (ep->phase == EP_STARTING)
		step_starting(ep);
	if (ep->phase == EP_AGENT) {
		agent_tick(ep->agent, now_ms());
		if (agent_state(ep->agent) == AGENT_DONE)
			engine_episode_agent_done(ep);
	}
	return ep->phase == EP_FINISHED;
}

void engine_episode_cancel(struct episode *ep)
{
	ep->stopped = true;
	if (ep->phase == EP_STARTING)
		record(ep, "infra-interrupted", "infra",
		       "interrupted while the services started", NULL);
	else if (ep->phase == EP_AGENT)
		agent_cancel(ep->agent);
	else if (ep->phase == EP_CHECK)
		record(ep, "infra-interrupted", "infra",
		       "interrupted during the hidden check", NULL);
}

bool engine_episode_release(struct episode *ep)
{
	if (ep->agent && agent_model_pending(ep->agent))
		return false;
	agent_free(ep->agent);
	ep->agent = NULL;
	if (ep->sbx)
		sbx_episode_free(ep->sbx);
	if (ep->fresh)
		sbx_episode_free(ep->fresh);
	ep->sbx = NULL;
	ep->fresh = NULL;
	free(ep->flag);
	free(ep->prompt);
	free(ep->questions);
	ep->questions = NULL;
	store_episode_release(&ep->rec);
	return true;
}
