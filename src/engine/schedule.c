/*
 * schedule.c - the event loop: up to `jobs` episodes at once from one
 * thread. Model calls progress through the model context (one curl multi
 * handle); commands in boxes through their exec channels; both are waited
 * on in one poll.
 */
#include "engine/engine_int.h"
#include "engine/plan.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bug.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define TICK_MS 250
#define GROW_AFTER_MS 10000
#define DRAIN_MS 5000
/* Episodes set up per turn of the loop: set-up is synchronous (~5 ms), so
 * starting a thousand at once would hold every running episode back for
 * seconds; in small batches the first ones already talk to the model
 * while the rest are still being set up. */
#define LAUNCH_BATCH 8
/* journal writes are committed in groups at most this old */
#define GROUP_MS 20

struct sched {
	const struct engine_config *cfg;
	struct engine_summary *sum;
	struct plan plan;
	size_t next;                 /* next plan item */
	struct episode **live;       /* running or awaiting release */
	size_t n_live, cap_live;
	int limit;                   /* current concurrency (adaptive) */
	int64_t last_throttle_ms;
	int64_t start_ms;
	int planned;                 /* pairs of the plan before any retry */
	int retried;                 /* infra failures requeued */
	struct errmsg fatal;
	bool failed;
	bool outage;                 /* the endpoint stayed down too long */
	char (*digests)[65];         /* per suite task, same order */
	int64_t next_claim_ms;       /* worker: when to ask the queue again */
	bool queue_empty;            /* worker: the last claim found nothing */
};

static bool budget_left(const struct sched *s)
{
	const struct engine_config *c = s->cfg;

	if (c->budget_tokens && s->sum->tokens >= c->budget_tokens)
		return false;
	if (c->budget_usd > 0 && s->sum->cost_usd >= c->budget_usd)
		return false;
	return true;
}

/* SIGINT, a fatal journal or endpoint error, or an outage past its
 * deadline: cancel what runs. */
static bool hard_stop(const struct sched *s)
{
	return s->failed || s->outage || (s->cfg->stop && *s->cfg->stop);
}

/* After the model's callbacks: the endpoint's fatal errors and outages
 * stop the run. */
static void check_endpoint(struct sched *s)
{
	const char *fatal = model_ctx_fatal(s->cfg->mctx);

	if (fatal && !s->failed) {
		s->failed = true;
		s->fatal.code = ERR_PROVIDER;
		snprintf(s->fatal.text, sizeof(s->fatal.text), "%s", fatal);
	}
	if (model_gave_up(s->cfg->model))
		s->outage = true;
}

/* Also a spent run budget: start nothing new, let running ones finish. */
static bool stopping(const struct sched *s)
{
	return hard_stop(s) || !budget_left(s);
}

/* Another attempt of ep's pair. A genuine infrastructure failure counts
 * toward the cap (max_attempts per invocation; past it the pair is left
 * unscored and the run incomplete); a cut-off attempt does not. */
static void requeue(struct sched *s, const struct episode *ep, bool failure)
{
	int max = s->cfg->max_attempts ? s->cfg->max_attempts : 3;
	int failures = ep->failures + (failure ? 1 : 0);
	size_t cap = s->plan.n;
	struct errmsg e;

	if (failures >= max) {
		s->plan.gave_up++;
		s->sum->gave_up++;
		return;
	}
	if (s->cfg->worker_id) {      /* back to the queue, for any worker */
		if (store_queue_add(s->cfg->store, s->cfg->run_id, ep->task->id,
				    ep->epoch, ep->attempt + 1, &e) != ERR_OK &&
		    !s->failed) {
			s->failed = true;
			s->fatal = e;
		}
		s->retried++;
		return;
	}
	s->plan.items = xgrow(s->plan.items, &cap, s->plan.n + 1,
			      sizeof(*s->plan.items));
	s->plan.items[s->plan.n].task = ep->task;
	s->plan.items[s->plan.n].epoch = ep->epoch;
	s->plan.items[s->plan.n].attempt = ep->attempt + 1;
	s->plan.items[s->plan.n].failures = failures;
	s->plan.n++;
	s->retried++;
}

static void tally(struct sched *s, struct episode *ep)
{
	struct engine_summary *m = s->sum;
	const struct store_episode *r = &ep->rec;

	m->tokens += r->prompt_tokens + r->completion_tokens;
	m->turns += r->turns;
	m->cost_usd += r->cost_usd;
	if (ep->store_failed && !s->failed) {
		s->failed = true;
		s->fatal = ep->store_err;
	}
	if (!r->status || !strcmp(r->status, "interrupted")) {
		m->interrupted++;
		/* a worker that stops leaves what it cut off to the others */
		if (!stopping(s) || (s->cfg->worker_id && !ep->store_failed))
			requeue(s, ep, false);
		return;
	}
	if (r->error_class && !strcmp(r->error_class, "infra")) {
		m->failed_infra++;
		if (!stopping(s))
			requeue(s, ep, true);
		return;
	}
	m->done++;
	m->solved += r->score;
	if (r->error_class && (!strcmp(r->error_class, "model") ||
			       !strcmp(r->error_class, "agent-caused")))
		m->failed_model++;
}

static enum err launch(struct sched *s, struct errmsg *e)
{
	const struct plan_item *it = &s->plan.items[s->next++];
	struct episode *ep = xcalloc(1, sizeof(*ep));
	enum err rc;

	ep->cfg = s->cfg;
	ep->task = it->task;
	for (size_t i = 0; i < s->cfg->suite->n_tasks; i++)
		if (s->cfg->suite->tasks[i] == it->task)
			ep->task_digest = s->digests[i];
	ep->epoch = it->epoch;
	ep->attempt = it->attempt;
	ep->failures = it->failures;
	ep->id = it->ep_id;
	rc = engine_episode_begin(ep, e);
	if (rc) {
		engine_episode_release(ep);
		free(ep);
		return rc;
	}
	s->live = xgrow(s->live, &s->cap_live, s->n_live + 1, sizeof(*s->live));
	s->live[s->n_live++] = ep;
	return ERR_OK;
}

static size_t running(const struct sched *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_live; i++)
		n += s->live[i]->phase != EP_FINISHED;
	return n;
}

/* Shrink concurrency on rate limiting; grow it back when quiet. */
static void adapt(struct sched *s)
{
	unsigned hits = model_ctx_take_rate_limits(s->cfg->mctx);
	int64_t now = now_ms();

	if (hits && s->limit > 1) {
		s->limit = s->limit / 2 > 1 ? s->limit / 2 : 1;
		s->last_throttle_ms = now;
		log_info("msg=\"rate limited; concurrency lowered\" jobs=%d",
			 s->limit);
	} else if (hits) {
		s->last_throttle_ms = now;
	} else if (s->limit < s->cfg->jobs &&
		   now - s->last_throttle_ms > GROW_AFTER_MS) {
		s->limit++;
		s->last_throttle_ms = now;
	}
}

static void progress(const struct sched *s, bool final)
{
	const struct engine_summary *m = s->sum;
	struct engine_progress p = { 0 };

	if (!s->cfg->progress)
		return;
	/* field by field: the progress line's own struct (engine.h), not the
	 * summary, so that either can change without the other */
	p.planned = s->planned;
	p.finished = m->done + (int)s->plan.gave_up;
	p.running = (int)running(s);
	p.solved = m->solved;
	p.failed_model = m->failed_model;
	p.failed_infra = m->failed_infra;
	p.retried = s->retried;
	p.interrupted = m->interrupted;
	p.tokens = m->tokens;
	p.cost_usd = m->cost_usd;
	p.elapsed_ms = now_ms() - s->start_ms;
	p.final = final;
	s->cfg->progress(s->cfg->progress_arg, &p);
}

/* While the endpoint is down, nothing new starts (global backoff). */
static bool can_launch(const struct sched *s)
{
	return !stopping(s) && !model_down(s->cfg->model) &&
	       s->next < s->plan.n &&
	       running(s) < (size_t)s->limit;
}

static const struct task *task_by_id(const struct sched *s, const char *id)
{
	for (size_t i = 0; i < s->cfg->suite->n_tasks; i++)
		if (!strcmp(s->cfg->suite->tasks[i]->id, id))
			return s->cfg->suite->tasks[i];
	return NULL;
}

/* A worker with free slots and nothing planned asks the queue (at most
 * every CLAIM_IDLE_MS while it finds nothing). */
#define CLAIM_IDLE_MS 500
static enum err claim(struct sched *s, struct errmsg *e)
{
	struct store_claim *c;
	size_t n, cap = s->plan.n;
	int want = s->limit - (int)running(s);
	enum err rc;

	if (!s->cfg->worker_id || s->next < s->plan.n || want <= 0 ||
	    stopping(s) || model_down(s->cfg->model) ||
	    now_ms() < s->next_claim_ms)
		return ERR_OK;
	rc = store_queue_claim(s->cfg->store, s->cfg->run_id, s->cfg->worker_id,
			       want < LAUNCH_BATCH ? want : LAUNCH_BATCH, &c,
			       &n, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == ERR_OK; i++) {
		struct plan_item *it;
		const struct task *t = task_by_id(s, c[i].task_id);
		if (!t) {
			rc = err_set(e, ERR_STORE, "run %lld: queued task '%s' is "
				     "not in this worker's suite",
				     (long long)s->cfg->run_id, c[i].task_id);
			break;
		}
		s->plan.items = xgrow(s->plan.items, &cap, s->plan.n + 1,
				      sizeof(*s->plan.items));
		it = &s->plan.items[s->plan.n++];
		it->task = t;
		it->epoch = c[i].epoch;
		it->attempt = c[i].attempt;
		it->failures = c[i].failures;
		it->ep_id = c[i].ep_id;
		s->planned++;
	}
	store_claims_free(c, n);
	s->queue_empty = n == 0;
	s->next_claim_ms = n ? 0 : now_ms() + CLAIM_IDLE_MS;
	return rc;
}

static void fill_slots(struct sched *s)
{
	struct errmsg e;

	if (claim(s, &e) != ERR_OK && !s->failed) {
		s->failed = true;
		s->fatal = e;
	}
	for (int n = 0; n < LAUNCH_BATCH && can_launch(s); n++) {
		if (launch(s, &e) != ERR_OK) {
			s->failed = true;
			s->fatal = e;
		}
	}
}

static int gather(struct sched *s, struct pollfd *fds, struct episode **who)
{
	int n = 0;

	for (size_t i = 0; i < s->n_live; i++) {
		int t, fd = engine_episode_fd(s->live[i], &t);
		if (fd < 0)
			continue;
		fds[n].fd = fd;
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		who[n++] = s->live[i];
	}
	return n;
}

static int wait_ms(const struct sched *s)
{
	int best = can_launch(s) ? 0 : TICK_MS;
	int64_t age = store_tx_age_ms(s->cfg->store);

	/* wake up to commit the journal group in time */
	if (age >= GROUP_MS)
		best = 0;
	else if (age >= 0 && GROUP_MS - age < best)
		best = (int)(GROUP_MS - age);

	for (size_t i = 0; i < s->n_live; i++) {
		int t = engine_episode_wait_ms(s->live[i]);
		if (t >= 0 && t < best)
			best = t;
	}
	return best;
}

/* Step every episode; reap those recorded and released. */
static void sweep(struct sched *s, struct pollfd *fds, struct episode **who,
		  int nfds)
{
	for (int i = 0; i < nfds; i++) {
		int t;
		if (fds[i].revents ||
		    (engine_episode_fd(who[i], &t) >= 0 && t == 0))
			engine_episode_on_ready(who[i]);
	}
	for (size_t i = 0; i < s->n_live;) {
		struct episode *ep = s->live[i];
		if (hard_stop(s) && ep->phase != EP_FINISHED && !ep->stopped)
			engine_episode_cancel(ep);
		if (engine_episode_step(ep) && !ep->counted) {
			ep->counted = true;
			tally(s, ep);
		}
		if (ep->phase == EP_FINISHED && engine_episode_release(ep)) {
			free(ep);
			s->live[i] = s->live[--s->n_live];
			continue;
		}
		i++;
	}
}

/* Wait for any fd or deadline, then advance everything that is ready and
 * start what fits. The journal writes of consecutive turns share one
 * transaction, committed once it is GROUP_MS old (the wait is cut short
 * for it) or when anything failed: at full speed a turn of the loop
 * handles one or two events, and a commit per turn was a fifth of the
 * harness's CPU per agent turn. Other writers of the store wait at most
 * that long; readers never wait (WAL). */
static enum err loop_once(struct sched *s, struct errmsg *e)
{
	size_t cap = s->n_live + 1;
	struct pollfd *fds = xcalloc(cap, sizeof(*fds));
	struct episode **who = xcalloc(cap, sizeof(*who));
	int nfds = gather(s, fds, who);
	enum err rc = model_ctx_wait(s->cfg->mctx, fds, (unsigned)nfds,
				     wait_ms(s), e);

	if (rc == ERR_OK)
		rc = store_tx_begin(s->cfg->store, e);
	if (rc == ERR_OK)         /* the run's lease, if this process holds one */
		rc = store_lease_heartbeat(s->cfg->store, e);
	if (rc == ERR_OK) {
		enum err rc2;
		rc = model_ctx_run(s->cfg->mctx, e);
		if (rc == ERR_OK) {
			check_endpoint(s);
			sweep(s, fds, who, nfds);
			adapt(s);
			fill_slots(s);
		}
		rc2 = rc ? store_tx_commit(s->cfg->store, NULL) :
			   store_tx_commit_due(s->cfg->store, GROUP_MS, e);
		rc = rc ? rc : rc2;
	}
	free(fds);
	free(who);
	return rc;
}

/* A second signal: the replies owed to cancelled agents are dropped (no
 * callback will come) and the episodes, all recorded already, freed. */
static void drop_owed(struct sched *s)
{
	model_ctx_cancel_all(s->cfg->mctx);
	for (size_t i = 0; i < s->n_live;) {
		struct episode *ep = s->live[i];
		if (ep->agent)
			agent_forget_model_call(ep->agent);
		if (ep->phase == EP_FINISHED && engine_episode_release(ep)) {
			free(ep);
			s->live[i] = s->live[--s->n_live];
			continue;
		}
		i++;
	}
}

/* After a stop, wait (bounded) for model replies owed to cancelled agents
 * so they can be freed; whatever is still owed after DRAIN_MS (a call
 * backing off for a capped Retry-After, an endpoint that never answers) is
 * dropped as on a second signal. */
static void drain(struct sched *s)
{
	int64_t until = now_ms() + DRAIN_MS;
	struct errmsg e;

	/* a journal that fails (a full disk, a lost lease) fails every turn:
	 * the replies owed are still waited for, so their memory is freed */
	while (s->n_live && now_ms() < until) {
		enum err rc;
		/* a second signal: drop what is owed, stop now */
		if (s->cfg->stop && *s->cfg->stop >= 2) {
			drop_owed(s);
			break;
		}
		rc = loop_once(s, &e);
		if (rc != ERR_OK && rc != ERR_STORE)
			break;
	}
	if (s->n_live)
		drop_owed(s);
	if (s->n_live)
		log_warn("msg=\"left model calls unfinished at stop\" n=%zu",
			 s->n_live);
}

/* One cheap call before any episode: a wrong key, model, URL or
 * parameter costs one request, not a suite. An endpoint that is down (a
 * 5xx storm, timeouts) is waited out up to the outage deadline; past it
 * *outage is set and no episode starts: the run stops incomplete. */
static enum err preflight(const struct engine_config *cfg, bool *outage,
			  struct errmsg *e)
{
	struct model_sync w = { 0 };
	const struct model_tool *tools;
	size_t n_tools;
	enum err rc;

	if (cfg->no_preflight || !model_is_remote(cfg->model))
		return ERR_OK;
	tools = agent_tool_table(cfg->scaffold, &n_tools);
	rc = model_preflight_start(cfg->model, tools, n_tools, model_sync_done,
				   &w, e);
	if (rc == ERR_OK)
		rc = model_sync_wait(cfg->mctx, &w, TICK_MS, cfg->stop, e);
	/* a signal while it waits (an outage is waited out): the call is the
	 * only one, and its callback must not outlive w */
	if (!w.done)
		model_ctx_cancel_all(cfg->mctx);
	if (rc == ERR_OK && w.reply && w.reply->outage) {
		log_warn("msg=\"preflight: %s\"", w.reply->error);
		*outage = true;
	} else if (rc == ERR_OK && w.reply &&
		   w.reply->fail != MODEL_FAIL_NONE &&
		   w.reply->stop != MODEL_STOP_REFUSAL) {
		rc = err_set(e, ERR_PROVIDER, "preflight: %s", w.reply->error);
	}
	model_reply_release(w.reply);
	return rc;
}

enum err engine_run(const struct engine_config *cfg,
		    struct engine_summary *summary, struct errmsg *e)
{
	struct sched s = { .cfg = cfg, .sum = summary };
	enum err rc;

	DEBUGASSERT(cfg->jobs >= 1 && cfg->epochs >= 1 && cfg->store &&
		    cfg->suite && cfg->model);
	memset(summary, 0, sizeof(*summary));
	s.digests = xcalloc(cfg->suite->n_tasks + 1, sizeof(*s.digests));
	/* digesting a large suite takes a while: keep the run's lease */
	for (size_t i = 0; i < cfg->suite->n_tasks; i++)
		if ((rc = engine_plan_task_digest(cfg->suite->tasks[i], s.digests[i], e)) ||
		    (rc = store_lease_heartbeat(cfg->store, e))) {
			free(s.digests);
			return rc;
		}
	rc = cfg->worker_id ? ERR_OK : engine_plan_build(cfg, &s.plan, e);
	if (rc) {
		free(s.digests);
		return rc;
	}
	summary->planned = s.planned = (int)s.plan.n;
	if ((s.plan.n || cfg->worker_id) && (rc = preflight(cfg, &s.outage, e))) {
		engine_plan_release(&s.plan);
		free(s.digests);
		return rc;
	}
	s.limit = cfg->jobs > 0 ? cfg->jobs : 1;
	s.start_ms = s.last_throttle_ms = now_ms();
	for (;;) {
		/* launches journal too: grouped (and so fenced by the lease) */
		if (store_tx_begin(cfg->store, e) == ERR_OK)
			fill_slots(&s);
		if (!running(&s) && (stopping(&s) || (s.next >= s.plan.n &&
				    (!cfg->worker_id || s.queue_empty))))
			break;
		rc = loop_once(&s, e);
		if (rc) {
			s.failed = true;
			s.fatal = *e;
		}
		progress(&s, false);
	}
	progress(&s, true);
	drain(&s);
	if (store_tx_commit(cfg->store, s.failed ? NULL : e) && !s.failed) {
		s.failed = true;
		s.fatal = *e;
	}
	summary->stopped = stopping(&s) || s.next < s.plan.n;
	summary->outage = s.outage;
	engine_plan_release(&s.plan);
	free(s.live);
	free(s.digests);
	if (s.failed) {
		*e = s.fatal;
		return s.fatal.code ? s.fatal.code : ERR_STORE;
	}
	return ERR_OK;
}
