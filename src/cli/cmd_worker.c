/*
 * cmd_worker.c - `assay worker --store URL [--slots N] [--name NAME]`:
 * execute the queued runs of a shared store (a run created with
 * `assay run --executor workers`), one run at a time, up to N episodes at
 * once, until stopped or idle for --idle-exit seconds; with --run ID,
 * that run only, until it is no longer queued (a Slurm job array's
 * workers, src/cli/slurm.c).
 *
 * The worker registers itself in the store and holds one lease (scope
 * worker), renewed by every group it writes. It claims pending attempts
 * (store_queue_claim), runs them with its own engine and sandboxes and
 * journals them; what it cuts off (SIGINT, SIGTERM as scancel sends) or loses on infrastructure goes
 * back to the queue. A worker that dies loses its lease after the TTL
 * (ASSAY_LEASE_TTL_S, default 30 s); any worker or the coordinator then
 * marks its running attempts infra-interrupted and queues them again.
 *
 * A sealed run (its coordinator unsealed it and registered worker keys,
 * cli_sealed_register_workers) is served only with --key: the worker's
 * own key pair, whose public key the run names. The worker reads the
 * archive from the run's suite path (encrypted as it is), unwraps the
 * task keys the store holds for its key and decrypts the run's tasks into
 * locked memory, as a local sealed run does; its journal is sealed at
 * rest like every other (cli_store_open's codec).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/runctl.h"
#include "vault/worker.h"
#include "base/banned.h"

enum { W_STORE, W_SLOTS, W_NAME, W_IDLE, W_RUN, W_KEY };

static const struct cli_opt worker_table[] = {
	[W_STORE] = { .name = "store", .kind = CLI_STR, .arg = "URL",
		.def = CLI_STORE_DEFAULT, .flags = CLI_DOC_DEFAULT | CLI_PATH_FILE,
		.help = "the shared journal: postgres://... (or a SQLite file "
			"the workers of one machine share)" },
	[W_SLOTS] = { "slots", 0, CLI_INT, "N", "8", "episodes at a time (1 "
		"to 10000)", .lo = 1, .hi = 10000 },
	[W_NAME] = { "name", 0, CLI_STR, "NAME", "the host name", "this "
		"worker's name in the store", .flags = CLI_DOC_DEFAULT },
	[W_IDLE] = { "idle-exit", 0, CLI_INT, "S", "0", "exit after S seconds "
		"with nothing to claim (0 = never; a Slurm job array's workers "
		"end once the queue drains)", .lo = 0, .hi = 86400 * 30 },
	[W_RUN] = { "run", 0, CLI_INT, "RUN", NULL, "serve this run only, and "
		"exit once it is no longer queued (its coordinator concluded "
		"or stopped it): the workers of 'assay run --executor slurm'",
		.lo = 1, .hi = INT64_MAX },
	[W_KEY] = { "key", 0, CLI_STR, "FILE", NULL, "this worker's key pair "
		"('assay keys worker-new'): sealed runs that registered its "
		"public key are served with it", .flags = CLI_PATH_FILE |
		CLI_PATH_EXISTS },
};

/* What a worker holds for the whole of its life. */
struct worker {
	struct store *st;
	const char *store_path;
	int64_t id;
	int slots;
	struct vault_worker_key *key;      /* NULL: open runs only */
};

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Why this worker cannot serve sealed run run_id (printed: the exit
 * code), or 0. */
static int sealed_refusal(const struct worker *w, int64_t run_id)
{
	enum store_wkey_state ks = STORE_WKEY_NONE;
	const char *pub = w->key ? vault_worker_key_public(w->key) : NULL;
	struct errmsg e;

	if (!w->key)
		return cli_fail(EXIT_USAGE, "run %lld is sealed: this worker has "
				"no key (give --key FILE, made by 'assay keys "
				"worker-new', its public key registered with the "
				"run's --worker-key)", (long long)run_id);
	if (store_worker_key_state(w->st, run_id, pub, &ks, &e) != ERR_OK)
		return cli_fail_err(&e);
	if (ks == STORE_WKEY_NONE)
		return cli_fail(EXIT_USAGE, "run %lld is sealed and this worker's "
				"key %.32s... is not registered for it (the "
				"coordinator's --worker-key)", (long long)run_id,
				pub);
	if (ks == STORE_WKEY_REVOKED)
		return cli_fail(EXIT_USAGE, "run %lld: this worker's key %.32s... "
				"was revoked for it", (long long)run_id, pub);
	return 0;
}

/* A sealed run: the keys wrapped to this worker into o (wrapped_out and
 * digest_out owned by the caller). 0 for an open run too. */
static int sealed_setup(const struct worker *w, int64_t run_id,
			struct run_opts *o, struct store_wrapped **wrapped_out,
			char **digest_out, char **served_out)
{
	struct errmsg e;
	size_t n = 0;
	int rc;

	*wrapped_out = NULL;
	*served_out = NULL;
	if (store_run_sealed(w->st, run_id, digest_out, &e) != ERR_OK)
		return cli_fail_err(&e);
	if (!*digest_out)
		return 0;
	if ((rc = sealed_refusal(w, run_id)))
		return rc;
	if (store_wrapped_keys(w->st, run_id, vault_worker_key_public(w->key),
			       wrapped_out, &n, &e) != ERR_OK)
		return cli_fail_err(&e);
	if (!n)
		return cli_fail(EXIT_USAGE, "run %lld: no task key is wrapped to "
				"this worker's key (revoked meanwhile?)",
				(long long)run_id);
	*served_out = cli_sealed_served(w->store_path, run_id);
	o->sealed.worker_key = w->key;
	o->sealed.wrapped = *wrapped_out;
	o->sealed.n_wrapped = n;
	o->sealed.archive_digest = *digest_out;
	o->sealed.served = *served_out;
	return 0;
}

/* Open the run's suite as this worker may (an open suite as it is on
 * this machine, a sealed one with the keys wrapped to it), then run. */
static int open_and_execute(const struct worker *w, struct run_opts *o,
			    const struct store_run *run, bool sealed)
{
	struct engine_summary sum;
	struct run_ctx c;
	int rc = cli_run_ctx_open(&c, o);

	/* a sealed run's archive was checked against the run's digest of
	 * it (its tasks decrypt only under the archive's keys) */
	if (rc == 0 && !sealed && strcmp(c.digest, run->suite_digest)) {
		rc = cli_fail(EXIT_USAGE, "run %lld: suite '%s' here differs from "
			      "the run's (digest %.12s, was %.12s); not running "
			      "it", (long long)run->id, o->suite, c.digest,
			      run->suite_digest);
		cli_run_ctx_close(&c);
	} else if (rc == 0) {
		rc = cli_run_ctx_execute(&c, o, run->id, &sum);
		cli_run_ctx_close(&c);
		log_info("worker=%lld run=%lld episodes=%d solved=%d",
			 (long long)w->id, (long long)run->id, sum.done,
			 sum.solved);
	}
	return rc;
}

/* One queued run, as its coordinator configured it. */
static int serve_run(const struct worker *w, int64_t run_id)
{
	struct store_run run = { 0 };
	struct store_wrapped *wrapped = NULL;
	char *digest = NULL, *served = NULL;
	struct run_opts o;
	struct errmsg e;
	int rc;

	cli_run_opts_init(&o);
	if (store_run_get(w->st, run_id, &run, &e) != ERR_OK ||
	    cli_run_opts_from_json(&o, run.config_json, &e) != ERR_OK) {
		store_run_release(&run);
		cli_run_opts_release(&o);
		return cli_fail(EXIT_RUNTIME, "run %lld: %s", (long long)run_id,
				e.text);
	}
	o.store_handle = w->st;
	o.worker_id = w->id;
	o.jobs = w->slots;
	o.quiet = true;
	o.progress = PROGRESS_NONE;
	rc = sealed_setup(w, run_id, &o, &wrapped, &digest, &served);
	if (rc == 0)
		rc = open_and_execute(w, &o, &run, digest != NULL);
	store_wrapped_free(wrapped, o.sealed.n_wrapped);
	free(digest);
	free(served);
	store_run_release(&run);
	cli_run_opts_release(&o);
	return rc;
}

/* With --run: *run_id_out is only_run while it has attempts to claim,
 * else 0; *over when the run is no longer queued. */
static enum err next_of_run(struct store *st, int64_t only_run,
			    int64_t *run_id_out, bool *over, struct errmsg *e)
{
	struct store_run run = { 0 };
	int pending, running;
	enum err rc = store_run_get(st, only_run, &run, e);

	*run_id_out = 0;
	if (rc == ERR_OK) {
		*over = strcmp(run.status, "queued") != 0;
		rc = store_queue_counts(st, only_run, &pending, &running, e);
		if (rc == ERR_OK && !*over && pending)
			*run_id_out = only_run;
	}
	store_run_release(&run);
	return rc;
}

/* Reap the dead, find work, serve it; until stopped, idle too long, or
 * (only_run) that run is over. */
static int work(const struct worker *w, long idle_s, int64_t only_run)
{
	struct store *st = w->st;
	int64_t id = w->id;
	int64_t idle_since = now_ms();
	struct errmsg e;
	int rc = 0;

	while (!cli_run_stopped()) {
		int64_t run_id = 0;
		bool over = false;
		int reaped;
		if (store_queue_reap(st, &reaped, &e) != ERR_OK ||
		    (only_run ? next_of_run(st, only_run, &run_id, &over, &e)
			      : store_queue_next_run(st, id, &run_id, &e)) != ERR_OK ||
		    store_lease_heartbeat(st, &e) != ERR_OK)
			return cli_fail_err(&e);
		if (over)
			break;
		if (reaped)
			fprintf(stderr, "assay: worker %lld: %d attempt%s of dead "
				"workers queued again\n", (long long)id, reaped,
				reaped == 1 ? "" : "s");
		if (!run_id) {
			if (idle_s && now_ms() - idle_since > idle_s * 1000)
				break;
			nap_ms(500);
			continue;
		}
		rc = serve_run(w, run_id);
		if (rc && (rc != EXIT_USAGE || only_run))
			return rc;
		if (rc == EXIT_USAGE)   /* not ours to run: wait for others */
			nap_ms(2000);
		idle_since = now_ms();
	}
	return cli_run_stopped() ? EXIT_INTERRUPTED : rc;
}

static int worker_main(const struct cli_args *a)
{
	char host[256] = "worker";
	const char *name = cli_str(a, W_NAME);
	struct worker w = { .store_path = cli_str(a, W_STORE),
			    .slots = (int)cli_int(a, W_SLOTS) };
	struct errmsg e;
	int rc;

	if (!name && gethostname(host, sizeof(host) - 1) == 0)
		host[sizeof(host) - 1] = '\0';
	if (cli_given(a, W_KEY) &&
	    vault_worker_key_load(cli_str(a, W_KEY), &w.key, &e) != ERR_OK)
		return cli_fail_err(&e);
	cli_run_signals();
	if (cli_store_open(w.store_path, &w.st, &e) != ERR_OK) {
		vault_worker_key_free(w.key);
		return cli_fail_err(&e);
	}
	if (store_worker_register(w.st, name ? name : host, w.slots,
				  w.key ? vault_worker_key_public(w.key) : NULL,
				  cli_run_lease_ttl_ms(), &w.id, &e) != ERR_OK) {
		store_close(w.st);
		vault_worker_key_free(w.key);
		return cli_fail_err(&e);
	}
	if (!a->quiet)
		fprintf(stderr, "assay: worker %lld (%s) serving %d slots%s%.32s\n",
			(long long)w.id, name ? name : host, w.slots,
			w.key ? ", key " : "",
			w.key ? vault_worker_key_public(w.key) : "");
	rc = work(&w, (long)cli_int(a, W_IDLE),
		  cli_given(a, W_RUN) ? cli_int(a, W_RUN) : 0);
	if (store_worker_stop(w.st, w.id, &e) != ERR_OK)
		log_debug("msg=\"worker stop not recorded\" err=\"%s\"", e.text);
	store_close(w.st);
	vault_worker_key_free(w.key);
	return rc;
}

const struct cli_cmd cli_cmd_worker = {
	.name = "worker",
	.summary = "execute the queued runs of a shared store (many machines)",
	CLI_OPTS(worker_table),
	.run = worker_main,
	.notes = "Runs are queued by 'assay run --executor workers'. A worker "
		 "that dies loses its\nlease after ASSAY_LEASE_TTL_S seconds "
		 "(default 30); its cut-off attempts are\nthen marked "
		 "infra-interrupted and run again by another worker.\n",
};
