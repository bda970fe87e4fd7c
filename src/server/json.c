/*
 * json.c - reading request bodies and list parameters. Every refusal
 * names the field; no value from the request is echoed back (a field's
 * value may be hostile or secret).
 */
#include <string.h>

#include "base/num.h"
#include "base/util.h"
#include "server/server_int.h"
#include "base/banned.h"

json_t *body_object(struct req *r, struct reply *y)
{
	json_error_t je;
	json_t *o;

	if (!r->body || r->len == 0) {
		reply_err(y, 400, "bad_json", NULL, "a JSON object is needed");
		return NULL;
	}
	o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		reply_err(y, 400, "bad_json", NULL, "the body is not a JSON "
			  "object (line %d, column %d)", je.line, je.column);
		return NULL;
	}
	return o;
}

/* Member k of o; NULL when it is absent or null, *ok then being the
 * reader's answer: true when k is optional, else false with the reply
 * set (400 naming k). */
static json_t *member(json_t *o, const char *k, bool optional, bool *ok,
		      struct reply *y)
{
	json_t *v = json_object_get(o, k);

	if (v && !json_is_null(v))
		return v;
	*ok = optional;
	if (!optional)
		reply_err(y, 400, "invalid_field", k, "'%s' is required", k);
	return NULL;
}

bool jstr(json_t *o, const char *k, size_t max, bool optional,
	  const char **out, struct reply *y)
{
	json_t *v;
	const char *s;
	size_t n;
	bool ok = false;

	*out = NULL;
	v = member(o, k, optional, &ok, y);
	if (!v)
		return ok;
	if (!json_is_string(v)) {
		reply_err(y, 400, "invalid_field", k, "'%s' must be a string", k);
		return false;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > max || strlen(s) != n) {
		reply_err(y, 400, "invalid_field", k, n > max ?
			  "'%s' is longer than %zu bytes" :
			  "'%s' holds a NUL byte", k, max);
		return false;
	}
	if (!optional && n == 0) {
		reply_err(y, 400, "invalid_field", k, "'%s' is empty", k);
		return false;
	}
	*out = s;
	return true;
}

bool jint(json_t *o, const char *k, int64_t lo, int64_t hi, bool optional,
	  int64_t *out, struct reply *y)
{
	bool ok = false;
	json_t *v = member(o, k, optional, &ok, y);

	if (!v)
		return ok;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		reply_err(y, 400, "invalid_field", k, "'%s' must be a whole "
			  "number in [%lld, %lld]", k, (long long)lo,
			  (long long)hi);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

bool jbool(json_t *o, const char *k, bool optional, bool *out,
	   struct reply *y)
{
	bool ok = false;
	json_t *v = member(o, k, optional, &ok, y);

	if (!v)
		return ok;
	if (!json_is_boolean(v)) {
		reply_err(y, 400, "invalid_field", k, "'%s' must be true or "
			  "false", k);
		return false;
	}
	*out = json_is_true(v);
	return true;
}

static bool list_params(struct req *r, struct reply *y, int *limit,
			int64_t *after)
{
	const char *l = r->query(r->conn, "limit");
	const char *a = r->query(r->conn, "after");
	long long v;

	*limit = 100;
	*after = 0;
	if (l) {
		if (num_parse_ll(l, 1, 500, &v, NULL)) {
			reply_err(y, 400, "bad_request", "limit", "'limit' must "
				  "be a whole number in [1, 500]");
			return false;
		}
		*limit = (int)v;
	}
	if (a) {
		if (num_parse_ll(a, 0, (1LL << 53) - 1, &v, NULL)) {
			reply_err(y, 400, "bad_request", "after", "'after' must "
				  "be an id");
			return false;
		}
		*after = v;
	}
	return true;
}

json_t *list_reply(json_t *items, int limit, int64_t last_id)
{
	json_t *next = json_array_size(items) >= (size_t)limit && last_id > 0
			       ? json_integer(last_id) : json_null();
	return json_pack("{s:o, s:o}", "items", items, "next", next);
}

bool list_begin(struct req *r, struct reply *y, struct list_page *pg)
{
	pg->last = 0;
	pg->items = NULL;
	return list_params(r, y, &pg->limit, &pg->after);
}

void list_add(struct list_page *pg, int64_t id, json_t *o)
{
	pg->last = id;
	if (!o)
		return;
	if (!pg->items)
		pg->items = json_array();
	json_array_append_new(pg->items, o);
}

bool list_full(const struct list_page *pg)
{
	return pg->items && json_array_size(pg->items) >= (size_t)pg->limit;
}

void list_end(struct reply *y, struct list_page *pg)
{
	json_t *items = pg->items ? pg->items : json_array();

	pg->items = NULL;
	reply_json(y, 200, list_reply(items, pg->limit, pg->last));
}
