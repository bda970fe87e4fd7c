/*
 * cmd_episode.c - `assay episode invalidate|rescore|reviews RUN [EP]`: an
 * evaluator's judgement of one finished episode after the fact.
 *
 *   invalidate RUN EP --cause CAUSE --reason TEXT
 *       the episode is invalid (cause infrastructure, harness, task,
 *       agent-caused) or, with --cause indeterminate, cannot be judged;
 *   rescore RUN EP --score 0|1 --reason TEXT
 *       the episode is valid with this score (a check that was wrong, a
 *       review that cleared a flagged episode).
 *
 * Each is one row of the run's review log (store_review_apply: the state
 * before and after, the reason, the reviewer, the time) and one entry of
 * the audit log (ids, states and the reason's SHA-256: never its text,
 * which may quote the task). The run's status follows its pairs (a `done`
 * run that lost a scored pair is `incomplete`, and back). Every report
 * shows the log, and a result signed before it no longer verifies as
 * current (docs/FORMAT-report.md, "Reviews and signatures").
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"
#include "store/store.h"
#include "vault/auditlog.h"
#include "vault/vault.h"
#include "base/banned.h"


#define OPT_REASON { "reason", 'm', CLI_STR, "TEXT", NULL, "why (kept in " \
	"the journal and shown in every report)", \
	.flags = CLI_REQUIRED }
#define OPT_REVIEWER { "reviewer", 0, CLI_STR, "NAME", "$USER", "who " \
	"decided", .flags = CLI_DOC_DEFAULT }

/* The two tables share option names; review_main reads them by name. */
static const struct cli_opt invalidate_table[] = {
	{ "cause", 'c', CLI_CHOICE, NULL, NULL, "why the episode is invalid; "
	  "indeterminate: it cannot be judged",
	  .choices = STORE_CAUSES "|indeterminate", .flags = CLI_REQUIRED },
	OPT_REASON,
	OPT_REVIEWER,
	CLI_OPT_STORE_READ,
};

static const struct cli_opt rescore_table[] = {
	{ "score", 's', CLI_INT, "N", NULL, "the episode's score: 1 solved, "
	  "0 not", .lo = 0, .hi = 1, .flags = CLI_REQUIRED },
	OPT_REASON,
	OPT_REVIEWER,
	CLI_OPT_STORE_READ,
};

static const char *reviewer(const struct cli_args *a)
{
	const char *u = cli_named_str(a, "reviewer");

	if (!u || !*u)
		u = getenv("USER");
	return u && *u ? u : "unknown";
}

/* The review this command asks for; 0 or an exit code. */
static int build(const struct cli_args *a, bool rescore,
		 struct store_review *r)
{
	const char *cause = cli_named_str(a, "cause");
	const char *reason = cli_named_str(a, "reason");

	memset(r, 0, sizeof(*r));
	if (!cli_parse_id(a, "run", a->pos[0], &r->run_id) ||
	    !cli_parse_id(a, "episode", a->pos[1], &r->episode_id))
		return EXIT_USAGE;
	if (!reason || !*reason)
		return cli_usage(a, "--reason must say why");
	r->action = xstrdup(rescore ? "rescore" : "invalidate");
	r->reason = xstrdup(reason);
	r->reviewer = xstrdup(reviewer(a));
	if (rescore) {
		r->validity_after = xstrdup("valid");
		r->score_after = (int)cli_named_int(a, "score");
	} else if (!strcmp(cause, "indeterminate")) {
		r->validity_after = xstrdup("indeterminate");
		r->score_after = -1;           /* kept */
	} else {
		r->validity_after = xstrdup("invalid");
		r->cause_after = xstrdup(cause);
		/* breakage by the agent is its failure; any other cause
		 * keeps the score as recorded (it no longer counts) */
		r->score_after = strcmp(cause, "agent-caused") ? -1 : 0;
	}
	return 0;
}

/* The run's status follows its pairs: only done <-> incomplete moves. */
static enum err follow_status(struct store *st, int64_t run_id,
			      struct store_pairs *pr, char **status_out,
			      struct errmsg *e)
{
	struct store_run run = { 0 };
	const char *to = NULL;
	enum err rc = store_run_get(st, run_id, &run, e);

	if (!rc)
		rc = store_run_pairs(st, run_id, pr, e);
	if (!rc && !strcmp(run.status, "done") && pr->scored < pr->total)
		to = "incomplete";
	else if (!rc && !strcmp(run.status, "incomplete") &&
		 pr->scored == pr->total)
		to = "done";
	if (!rc && to)
		rc = store_run_set_status(st, run_id, to, e);
	if (!rc)
		*status_out = xstrdup(to ? to : run.status);
	store_run_release(&run);
	return rc;
}

/* The episode must be finished (a rescore: done, not interrupted). */
static enum err check_episode(struct store *st, const struct store_review *r,
			      bool rescore, struct store_episode *ep,
			      struct errmsg *e)
{
	enum err rc = store_episode_get(st, r->episode_id, ep, e);

	if (!rc && ep->run_id != r->run_id)
		rc = err_set(e, ERR_NOTFOUND, "run %lld has no episode %lld",
			     (long long)r->run_id, (long long)r->episode_id);
	else if (!rc && rescore && strcmp(ep->status, "done"))
		rc = err_set(e, ERR_INVAL, "episode %lld is %s: only a finished "
			     "attempt can be re-scored (resume the run to "
			     "rerun it)", (long long)r->episode_id, ep->status);
	return rc;
}

static int audit(const struct store_review *r, const struct store_episode *ep)
{
	char kind[32], sha[65];
	struct vault_audit_field f[] = {
		VAULT_AUDIT_I("run", r->run_id),
		VAULT_AUDIT_I("episode", r->episode_id),
		VAULT_AUDIT_S("task", ep->task_id),
		VAULT_AUDIT_I("epoch", ep->epoch),
		VAULT_AUDIT_I("attempt", ep->attempt),
		VAULT_AUDIT_I("review", r->seq),
		VAULT_AUDIT_S("validity_before", r->validity_before),
		VAULT_AUDIT_S("cause_before", r->cause_before),
		VAULT_AUDIT_I("score_before", r->score_before),
		VAULT_AUDIT_S("validity", r->validity_after),
		VAULT_AUDIT_S("cause", r->cause_after),
		VAULT_AUDIT_I("score", r->score_after),
		VAULT_AUDIT_S("reviewer", r->reviewer),
		VAULT_AUDIT_S("reason_sha256", sha),
	};

	snprintf(kind, sizeof(kind), "episode.%s", r->action);
	vault_sha256_hex(r->reason, strlen(r->reason), sha);
	return cli_run_audit(kind, f, ARRAY_SIZE(f));
}

static void state(char *out, size_t n, const char *v, const char *cause,
		  int score)
{
	snprintf(out, n, "%s%s%s%s, score %d", v ? v : "?", cause ? " (" : "",
		 cause ? cause : "", cause ? ")" : "", score);
}

static void print_done(const struct store_review *r,
		       const struct store_pairs *pr, const char *status)
{
	char before[96], after[96];

	state(before, sizeof(before), r->validity_before, r->cause_before,
	      r->score_before);
	state(after, sizeof(after), r->validity_after, r->cause_after,
	      r->score_after);
	cli_note("episode %lld of run %lld: %s -> %s (review %d)\n",
	         (long long)r->episode_id, (long long)r->run_id, before, after,
	         r->seq);
	cli_note("run %lld: %d of %d (task, epoch) pairs scored; status %s\n",
	         (long long)r->run_id, pr->scored, pr->total, status);
	cli_note("a result signed for run %lld before this review no longer "
	         "verifies as current: sign a new one (assay report %lld "
	         "--sign KEY)\n", (long long)r->run_id, (long long)r->run_id);
}

static int review_main(const struct cli_args *a, bool rescore)
{
	struct store_review r;
	struct store_episode ep = { 0 };
	struct store_pairs pr;
	struct store *st = NULL;
	char *status = NULL;
	struct errmsg e;
	enum err rc;
	int x = build(a, rescore, &r);

	if (x) {
		store_review_release(&r);
		return x;
	}
	rc = cli_store_open_read(cli_named_str(a, "store"), &st, &e);
	/* the run's lease: no review while a live process executes it */
	if (!rc)
		rc = store_lease_take(st, "run", r.run_id, STORE_LEASE_TTL_MS,
				      NULL, &e);
	if (!rc)
		rc = check_episode(st, &r, rescore, &ep, &e);
	if (!rc)
		rc = store_review_apply(st, &r, &e);
	if (!rc)
		rc = follow_status(st, r.run_id, &pr, &status, &e);
	if (rc)
		x = cli_fail_err(&e);
	else if (!(x = audit(&r, &ep)))
		print_done(&r, &pr, status);
	free(status);
	store_episode_release(&ep);
	store_review_release(&r);
	store_close(st);
	return x;
}

static int invalidate_main(const struct cli_args *a)
{
	return review_main(a, false);
}

static int rescore_main(const struct cli_args *a)
{
	return review_main(a, true);
}

/* ---- reviews: the log --------------------------------------------------- */

enum { V_STORE, V_JSON };

static const struct cli_opt reviews_table[] = {
	[V_STORE] = CLI_OPT_STORE_READ,
	[V_JSON] = CLI_OPT_JSON,
};

static json_t *review_state(const char *validity, const char *cause,
			    int score)
{
	json_t *o = json_pack("{s:s?, s:i}", "validity", validity, "score",
			      score);

	if (cause)
		json_object_set_new(o, "cause", json_string(cause));
	return o;
}

/* The log as docs/FORMAT-cli-json.md gives it. */
static void reviews_json(const struct store_review *rs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		char when[40];
		iso8601(rs[i].at_ms, when, sizeof(when));
		json_array_append_new(arr, json_pack(
			"{s:I, s:i, s:s, s:s, s:s, s:s, s:o, s:o}",
			"episode", (json_int_t)rs[i].episode_id, "seq", rs[i].seq,
			"action", rs[i].action, "reviewer", rs[i].reviewer,
			"reason", rs[i].reason, "at", when,
			"before", review_state(rs[i].validity_before,
					       rs[i].cause_before,
					       rs[i].score_before),
			"after", review_state(rs[i].validity_after,
					      rs[i].cause_after,
					      rs[i].score_after)));
	}
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
}

static void reviews_text(const struct store_review *rs, size_t n,
			 int64_t run)
{
	for (size_t i = 0; i < n; i++) {
		char when[40], before[96], after[96];
		iso8601(rs[i].at_ms, when, sizeof(when));
		state(before, sizeof(before), rs[i].validity_before,
		      rs[i].cause_before, rs[i].score_before);
		state(after, sizeof(after), rs[i].validity_after,
		      rs[i].cause_after, rs[i].score_after);
		printf("%s episode %lld %s by %s: %s -> %s: %s\n", when,
		       (long long)rs[i].episode_id, rs[i].action,
		       rs[i].reviewer, before, after, rs[i].reason);
	}
	if (!n)
		printf("run %lld has no review\n", (long long)run);
}

static int reviews_main(const struct cli_args *a)
{
	struct store_review *rs = NULL;
	struct store *st = NULL;
	struct errmsg e;
	int64_t run;
	size_t n = 0;
	enum err rc;

	if (!cli_parse_id(a, "run", a->pos[0], &run))
		return EXIT_USAGE;
	rc = cli_store_open_read(cli_str(a, V_STORE), &st, &e);
	if (!rc) {
		struct store_run r = { 0 };
		rc = store_run_get(st, run, &r, &e);   /* no such run: an error */
		store_run_release(&r);
	}
	if (!rc)
		rc = store_review_list(st, run, &rs, &n, &e);
	store_close(st);
	if (rc)
		return cli_fail_err(&e);
	if (cli_flag(a, V_JSON))
		reviews_json(rs, n);
	else
		reviews_text(rs, n, run);
	store_reviews_free(rs, n);
	return EXIT_OK;
}

static const struct cli_cmd invalidate_cmd = {
	.name = "invalidate",
	.summary = "judge a finished episode invalid (or indeterminate), "
		   "with the reason",
	.operands = "RUN EP", .min_pos = 2, .max_pos = 2,
	CLI_OPTS(invalidate_table),
	.run = invalidate_main,
};

static const struct cli_cmd rescore_cmd = {
	.name = "rescore",
	.summary = "give a finished episode a score, valid, with the reason",
	.operands = "RUN EP", .min_pos = 2, .max_pos = 2,
	CLI_OPTS(rescore_table),
	.run = rescore_main,
};

static const struct cli_cmd reviews_cmd = {
	.name = "reviews",
	.summary = "the run's review log: every invalidation and re-score",
	.operands = "RUN", .min_pos = 1, .max_pos = 1,
	CLI_OPTS(reviews_table),
	.run = reviews_main,
};

static const struct cli_cmd *const episode_subs[] = {
	&invalidate_cmd, &rescore_cmd, &reviews_cmd, NULL,
};

const struct cli_cmd cli_cmd_episode = {
	.name = "episode",
	.summary = "an evaluator's review of episodes: invalidate, re-score",
	.subs = episode_subs,
	.notes = "EP is the episode id (assay show RUN). A review is kept in "
		 "the journal, recorded\nin the audit log and shown in every "
		 "report; a result signed before it no longer\nverifies as "
		 "current (assay verify RESULT.json --current).\n",
};
