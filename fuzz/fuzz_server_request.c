/*
 * fuzz_server_request - every parser of HTTP input in src/server over
 * arbitrary bytes: the route matcher (path ids), the static-file path
 * check, the list parameters, the JSON body and its field readers, the
 * --listen parser and the TOTP code check. Input: PATH \n QUERY-VALUE \n
 * BODY. Nothing may crash or leak; a matched route's ids are in range;
 * an accepted static path never climbs out of web/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "server/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *qval;

static const char *query(void *conn, const char *name)
{
	(void)conn;
	(void)name;
	return qval;
}

/* The next line of *p (NUL-terminated copy), advancing past it. */
static char *line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = xmalloc(n + 1);

	memcpy(s, *p, n);
	s[n] = 0;
	*p += n + (nl ? 1 : 0);
	return s;
}

/* Whether rel could leave the directory it is joined to: absolute, an
 * empty, "." or ".." segment. */
static bool climbs(const char *rel)
{
	const char *seg = rel;

	for (;;) {
		size_t n = strcspn(seg, "/");
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		if (!seg[n])
			return false;
		seg += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *path = line(&p, end), *q = line(&p, end);
	size_t blen = (size_t)(end - p);
	char *body = xmalloc(blen + 1), host[64];
	struct req r;
	struct reply y;
	json_t *o;
	int port;
	int64_t v;
	struct list_page pg;
	const char *s;
	bool b;
	struct errmsg e;

	memcpy(body, p, blen);
	body[blen] = 0;
	memset(&r, 0, sizeof(r));
	memset(&y, 0, sizeof(y));
	r.method = "GET";
	r.path = path;
	r.query = query;
	qval = *q ? q : NULL;
	if (srv_route_match(&r) == 0)
		for (int i = 0; i < r.nids; i++)
			if (r.ids[i] < 1 || r.ids[i] >= (1LL << 53))
				abort();
	if (srv_static_path_ok(path) && climbs(path))
		abort();
	(void)list_begin(&r, &y, &pg);
	reply_free(&y);
	r.body = body;
	r.len = blen;
	if ((o = body_object(&r, &y))) {
		(void)jstr(o, "name", 128, false, &s, &y);
		reply_free(&y);
		(void)jint(o, "org_id", 1, (1LL << 53) - 1, true, &v, &y);
		reply_free(&y);
		(void)jbool(o, "x", true, &b, &y);
		json_decref(o);
	}
	reply_free(&y);
	(void)server_parse_listen(path, host, &port, &e);
	(void)totp_check("JBSWY3DPEHPK3PXP", q, 1700000000);
	free(path);
	free(q);
	free(body);
	return 0;
}
