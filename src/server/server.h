/*
 * server.h - `assay serve`: the early-access program over HTTP
 * (docs/API.md). The only part that includes microhttpd.h and oath.h.
 *
 * server_run serves until SIGINT or SIGTERM, then returns. The store is
 * the caller's (opened with its codec); the server serialises its use.
 */
#ifndef ASSAY_SERVER_H
#define ASSAY_SERVER_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"

struct store;

struct server_opts {
	const char *listen;        /* "HOST:PORT"; NULL: 127.0.0.1:8740 */
	const char *tls_cert;      /* PEM files; both or neither */
	const char *tls_key;
	const char *audit_dir;     /* the vault audit log directory */
	const char *web_dir;       /* NULL: the shipped web/ (data-file lookup) */
	const char *proxy_header;  /* trusted user header; NULL: off */
	const char *proxy_from;    /* the proxy's addresses: ADDR[/PREFIX],...
				      (required with it) */
	bool proxy_mfa;            /* the proxy's sign-on stands for TOTP */
	int max_conn;              /* 0: 512 */
	int per_ip;                /* 0: no per-address limit */
	const char *ready_file;    /* write "HOST:PORT\n" here once listening */
	const char *store_path;    /* the store, for the worker's `assay run` */
	/* opens another handle on store_path as the shared one was opened
	 * (its at-rest codec set): one per request thread, for reads; NULL:
	 * every request waits for the shared handle */
	enum err (*open_store)(const char *path, struct store **st_out,
			       struct errmsg *e);
	/* how campaigns' runs execute: NULL or "local" (the runner's own
	 * process), or "slurm" (`assay run --executor slurm`, slurm.h) */
	const char *executor;
	int slurm_workers;         /* --workers */
	const char *slurm_partition;
	const char *const *slurm_args;
	size_t n_slurm_args;
	/* sealed campaigns on Slurm: the nodes' worker public keys
	 * (canonical, owned by the caller) and where each node keeps its
	 * secret key; none: sealed campaigns run locally */
	char **worker_keys;
	size_t n_worker_keys;
	const char *worker_key_file;
};

/* Whether host (an address or "localhost") is a loopback address. */
bool server_is_loopback(const char *host);
/* Split "HOST:PORT" / "[V6]:PORT"; host_out is at least 64 bytes. */
enum err server_parse_listen(const char *s, char *host_out, int *port_out,
			     struct errmsg *e) MUST_CHECK;

/* A --trust-proxy-from list: ADDR or ADDR/PREFIX (IPv4 or IPv6), comma
 * separated. */
enum err server_proxy_spec_check(const char *spec, struct errmsg *e)
	MUST_CHECK;
/* Whether client address ip is in the list spec (NULL: none). An IPv4
 * address matches its IPv4-mapped IPv6 form and the reverse. */
bool server_proxy_trusted(const char *spec, const char *ip);

enum err server_run(struct store *st, const struct server_opts *o,
		    struct errmsg *e) MUST_CHECK;

/* Write the route table as "METHOD PATH STATUS" lines (docs/API.md). */
void server_routes_print(FILE *f);

/* `assay admin init`: create the agency organisation (when absent) and the
 * first admin with password pw. ERR_INVAL when users exist already. */
enum err server_admin_init(struct store *st, const char *audit_dir,
			   const char *login, const char *name,
			   const char *pw, struct errmsg *e) MUST_CHECK;

#endif
