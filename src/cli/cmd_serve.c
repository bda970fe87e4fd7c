/*
 * cmd_serve.c - `assay serve` (the program as a service, docs/API.md) and
 * `assay admin init` (the first program admin).
 *
 *   assay serve [--listen ADDR] [--tls-cert F --tls-key F] [--store PATH]
 *               [--trust-proxy-header NAME --trust-proxy-from ADDR[/N],...
 *                [--trust-proxy-mfa]]
 *   assay admin init --login NAME [--name TEXT] [--store PATH]
 *
 * The admin's password is read from the terminal (twice, not echoed) or,
 * when stdin is not a terminal, from its first line: never from argv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "cli/cmd.h"
#include "cli/keyref.h"
#include "server/server.h"
#include "store/store.h"
#include "vault/vault.h"
#include "base/banned.h"

enum { S_LISTEN, S_CERT, S_KEY, S_STORE, S_LOG, S_WEB, S_MAXC, S_PERIP,
       S_PROXY_HDR, S_PROXY_FROM, S_PROXY_MFA, S_READY, S_ROUTES,
       S_EXECUTOR, S_WORKERS, S_PARTITION, S_SLURM_ARG, S_WORKER_KEY,
       S_WORKER_KEY_FILE };

static const struct cli_opt serve_table[] = {
	[S_LISTEN] = { "listen", 0, CLI_STR, "ADDR", "127.0.0.1:8740",
		       "HOST:PORT to listen on (beyond loopback only with TLS)", .flags = 0 },
	[S_CERT] = { "tls-cert", 0, CLI_STR, "FILE", NULL,
		     "the server's certificate chain (PEM)", .flags = 0 },
	[S_KEY] = { "tls-key", 0, CLI_STR, "FILE", NULL,
		    "the server's private key (PEM)", .flags = 0 },
	[S_STORE] = CLI_OPT_STORE,
	[S_LOG] = CLI_OPT_LOG,
	[S_WEB] = { "web", 0, CLI_STR, "DIR", "the shipped web/",
		    "the directory of the pages",
		    .flags = CLI_DOC_DEFAULT | CLI_PATH_DIR | CLI_PATH_EXISTS },
	[S_MAXC] = { "max-connections", 0, CLI_INT, "N", "512",
		     "connections at most", .lo = 1, .hi = 100000 },
	[S_PERIP] = { "max-per-client", 0, CLI_INT, "N", "0",
		      "connections at most per client address (0: no limit)",
		      .lo = 0, .hi = 100000 },
	[S_PROXY_HDR] = { "trust-proxy-header", 0, CLI_STR, "NAME", NULL,
			  "log in the user this header names, on POST /login "
			  "from --trust-proxy-from only (an agency's sign-on in "
			  "front of the service)", .flags = 0 },
	[S_PROXY_FROM] = { "trust-proxy-from", 0, CLI_STR, "ADDR", NULL,
			   "the reverse proxy's addresses: ADDR or ADDR/PREFIX "
			   "(IPv4 or IPv6), comma separated, as the server sees "
			   "the connection", .flags = 0 },
	[S_PROXY_MFA] = { "trust-proxy-mfa", 0, CLI_FLAG, NULL, NULL,
			  "the proxy's sign-on stands for the second factor: "
			  "accounts with TOTP give no code on a proxy login",
			  .flags = 0 },
	[S_READY] = { "ready-file", 0, CLI_STR, "FILE", NULL,
		      "write HOST:PORT to FILE once listening (for the "
		      "script that started the service)", .flags = 0 },
	[S_ROUTES] = { "routes", 0, CLI_FLAG, NULL, NULL,
		       "print the API's routes and exit", .flags = 0 },
	[S_EXECUTOR] = { "executor", 0, CLI_CHOICE, NULL, "local", "how "
			 "campaigns run: in a process of this machine, or as a "
			 "Slurm job array of workers ('assay run --executor "
			 "slurm')", .choices = "local|slurm" },
	[S_WORKERS] = { "workers", 0, CLI_INT, "N", "2", "--executor slurm: "
			"workers per campaign", .lo = 1, .hi = 10000 },
	[S_PARTITION] = { "partition", 0, CLI_STR, "P", NULL, "--executor "
			  "slurm: the partition (default: the cluster's)",
			  .flags = 0 },
	[S_SLURM_ARG] = { "slurm-arg", 0, CLI_LIST, "ARG", NULL, "--executor "
			  "slurm: one more sbatch option for every campaign",
			  .flags = 0 },
	[S_WORKER_KEY] = { "worker-key", 0, CLI_LIST, "PUB|FILE", NULL,
			   "--executor slurm: a node's worker public key, or a "
			   "file of them, one a line ('assay keys worker-new'); "
			   "with --worker-key-file, sealed campaigns go to Slurm "
			   "too (without: they run on this machine)", .flags = 0 },
	[S_WORKER_KEY_FILE] = { "worker-key-file", 0, CLI_STR, "PATH", NULL,
				"--executor slurm: where each node keeps its "
				"worker's secret key (with --worker-key)",
				.flags = 0 },
};

/* --worker-key and --worker-key-file: both or neither, with
 * --executor slurm; the keys parsed now, not at the first campaign. */
static int serve_worker_keys(const struct cli_args *a, struct server_opts *o)
{
	const char *const *v;
	size_t nv;
	struct errmsg e;

	v = cli_list(a, S_WORKER_KEY, &nv);
	o->worker_key_file = cli_str(a, S_WORKER_KEY_FILE);
	if (!nv && !o->worker_key_file)
		return 0;
	if (strcmp(o->executor, "slurm"))
		return cli_usage(a, "--worker-key and --worker-key-file are for "
				 "--executor slurm");
	if (!nv || !o->worker_key_file)
		return cli_usage(a, "--worker-key and --worker-key-file go "
				 "together (sealed campaigns on Slurm)");
	if (cli_worker_keys(v, nv, &o->worker_keys, &o->n_worker_keys, &e))
		return cli_usage(a, "%s", e.text);
	return 0;
}

/* The rest of `assay serve`, its options in o. */
static int serve_with(const struct cli_args *a, struct server_opts *o)
{
	struct store *st;
	struct errmsg e;
	char *dir, *spath;
	enum err rc;
	char host[64];
	int port;

	if (cli_flag(a, S_ROUTES)) {
		server_routes_print(stdout);
		return EXIT_OK;
	}
	if (!o->tls_cert != !o->tls_key)
		return cli_usage(a, "--tls-cert and --tls-key go together");
	if (!o->proxy_header != !o->proxy_from)
		return cli_usage(a, "--trust-proxy-header and --trust-proxy-from "
				 "go together");
	if (o->proxy_header && (!*o->proxy_header || strspn(o->proxy_header,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(o->proxy_header)))
		return cli_usage(a, "--trust-proxy-header is a header name "
				 "(letters, digits and '-')");
	if (o->proxy_from && server_proxy_spec_check(o->proxy_from, &e))
		return cli_usage(a, "%s", e.text);
	if (o->proxy_mfa && !o->proxy_header)
		return cli_usage(a, "--trust-proxy-mfa needs --trust-proxy-header");
	if (server_parse_listen(o->listen, host, &port, &e))
		return cli_usage(a, "%s", e.text);
	if (!o->tls_cert && !server_is_loopback(host))
		return cli_usage(a, "refusing to listen on %s without TLS (give "
				 "--tls-cert and --tls-key, or a loopback "
				 "address)", host);
	if (cli_store_open(cli_str(a, S_STORE), &st, &e))
		return cli_fail_err(&e);
	spath = cli_str(a, S_STORE) ? xstrdup(cli_str(a, S_STORE))
				    : store_default_path();
	o->store_path = spath;
	o->open_store = cli_store_open;
	dir = cli_audit_dir(cli_str(a, S_LOG));
	o->audit_dir = dir;
	rc = server_run(st, o, &e);
	free(dir);
	free(spath);
	store_close(st);
	return rc ? cli_fail_err(&e) : EXIT_OK;
}

static int serve(const struct cli_args *a)
{
	struct server_opts o = {
		.listen = cli_str(a, S_LISTEN),
		.tls_cert = cli_str(a, S_CERT),
		.tls_key = cli_str(a, S_KEY),
		.web_dir = cli_str(a, S_WEB),
		.max_conn = (int)cli_int(a, S_MAXC),
		.per_ip = (int)cli_int(a, S_PERIP),
		.ready_file = cli_str(a, S_READY),
		.proxy_header = cli_str(a, S_PROXY_HDR),
		.proxy_from = cli_str(a, S_PROXY_FROM),
		.proxy_mfa = cli_flag(a, S_PROXY_MFA),
		.executor = cli_str(a, S_EXECUTOR),
		.slurm_workers = (int)cli_int(a, S_WORKERS),
		.slurm_partition = cli_str(a, S_PARTITION),
	};
	int rc;

	o.slurm_args = cli_list(a, S_SLURM_ARG, &o.n_slurm_args);
	if (strcmp(o.executor, "slurm") && (cli_given(a, S_WORKERS) ||
	    cli_given(a, S_PARTITION) || o.n_slurm_args))
		return cli_usage(a, "--workers, --partition and --slurm-arg are "
				 "for --executor slurm");
	if ((rc = serve_worker_keys(a, &o)) == 0)
		rc = serve_with(a, &o);
	for (size_t i = 0; i < o.n_worker_keys; i++)
		free(o.worker_keys[i]);
	free(o.worker_keys);
	return rc;
}

const struct cli_cmd cli_cmd_serve = {
	.name = "serve",
	.summary = "run the early-access program as a service (docs/API.md)",
	CLI_OPTS(serve_table),
	.run = serve,
	.notes = "Serves the JSON API under /api/v1 and the pages of web/ until "
		 "SIGINT or SIGTERM.\nCreate the first admin with 'assay admin "
		 "init'.\n",
};

/* ---- admin init ---- */

enum { I_LOGIN, I_NAME, I_STORE, I_LOG };

static const struct cli_opt init_table[] = {
	[I_LOGIN] = { "login", 0, CLI_STR, "NAME", "admin",
		      "the admin's login (a-z 0-9 . _ -)", .flags = 0 },
	[I_NAME] = { "name", 0, CLI_STR, "TEXT", "Program admin",
		     "the admin's display name", .flags = 0 },
	[I_STORE] = CLI_OPT_STORE,
	[I_LOG] = CLI_OPT_LOG,
};

/* One line of f into buf without its newline; false at EOF or too long. */
static bool read_line(FILE *f, char *buf, size_t n)
{
	size_t len;

	if (!fgets(buf, (int)n, f))
		return false;
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = 0;
	else if (len == n - 1)
		return false;
	return true;
}

/* Prompt on the terminal with echo off. */
static bool read_secret(const char *prompt, char *buf, size_t n)
{
	struct termios t, quiet;
	bool ok;

	fputs(prompt, stderr);
	if (tcgetattr(STDIN_FILENO, &t))
		return false;
	quiet = t;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	ok = read_line(stdin, buf, n);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	fputc('\n', stderr);
	return ok;
}

static int get_password(char *pw, size_t n)
{
	char again[300];

	if (!isatty(STDIN_FILENO)) {
		if (!read_line(stdin, pw, n))
			return cli_fail(EXIT_USAGE, "no password on stdin (one "
					"line, 12 to 256 bytes)");
		return EXIT_OK;
	}
	if (!read_secret("New admin password: ", pw, n) ||
	    !read_secret("Again: ", again, sizeof(again)))
		return cli_fail(EXIT_USAGE, "no password read");
	if (strcmp(pw, again)) {
		explicit_bzero(again, sizeof(again));
		return cli_fail(EXIT_USAGE, "the passwords differ");
	}
	explicit_bzero(again, sizeof(again));
	return EXIT_OK;
}

static int admin_init(const struct cli_args *a)
{
	char pw[300];
	struct store *st;
	struct errmsg e;
	char *dir;
	int rc = get_password(pw, sizeof(pw));

	if (rc)
		return rc;
	if (cli_store_open(cli_str(a, I_STORE), &st, &e)) {
		explicit_bzero(pw, sizeof(pw));
		return cli_fail_err(&e);
	}
	dir = cli_audit_dir(cli_str(a, I_LOG));
	rc = server_admin_init(st, dir, cli_str(a, I_LOGIN), cli_str(a, I_NAME),
			       pw, &e) ? cli_fail_err(&e) : EXIT_OK;
	explicit_bzero(pw, sizeof(pw));
	free(dir);
	store_close(st);
	if (rc == EXIT_OK && !a->quiet)
		cli_note("created admin '%s'; start the service with 'assay serve' "
		         "and log in at http://127.0.0.1:8740/\n",
		         cli_str(a, I_LOGIN));
	return rc;
}

static const struct cli_cmd init_cmd = {
	.name = "init",
	.summary = "create the first program admin (password from the terminal "
		   "or stdin)",
	CLI_OPTS(init_table),
	.run = admin_init,
};

static const struct cli_cmd *const admin_subs[] = { &init_cmd, NULL };

const struct cli_cmd cli_cmd_admin = {
	.name = "admin",
	.summary = "set up the early-access program",
	.subs = admin_subs,
};
