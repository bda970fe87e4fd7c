/*
 * provider_json.c - jansson helpers shared by the wire-format providers.
 * Everything here takes hostile JSON from the network: absent or
 * mistyped members read as empty, never as a crash.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

json_t *model_pj_str(const char *s)
{
	json_t *j;
	char *f;

	if (!s)
		s = "";
	j = json_string(s);
	if (j)
		return j;
	f = model_utf8_fix(s, strlen(s));
	j = json_string(f);
	free(f);
	return j ? j : json_string("");
}

enum err model_pj_schema(const struct model_tool *t, json_t **out,
			 struct errmsg *e)
{
	json_t *j;

	if (!t->schema_json) {
		*out = json_pack("{s:s, s:{}}", "type", "object", "properties");
		return ERR_OK;
	}
	j = json_loads(t->schema_json, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(e, ERR_INVAL,
			       "tool '%s': schema is not a JSON object",
			       t->name ? t->name : "");
	}
	*out = j;
	return ERR_OK;
}

enum err model_pj_tools(const struct model_request *req,
			json_t *(*describe)(const struct model_tool *t,
					    json_t *schema),
			json_t **out, struct errmsg *e)
{
	json_t *a = json_array();

	for (size_t i = 0; i < req->n_tools; i++) {
		const struct model_tool *t = &req->tools[i];
		json_t *schema = NULL; /* set on success; -O3 cannot tell */
		enum err rc = model_pj_schema(t, &schema, e);
		if (rc) {
			json_decref(a);
			return rc;
		}
		json_array_append_new(a, describe(t, schema));
	}
	*out = a;
	return ERR_OK;
}

enum err model_pj_dump(json_t *root, struct buf *out, struct errmsg *e)
{
	char *s = json_dumps(root, JSON_COMPACT);
	enum err rc;

	if (!s)
		return err_set(e, ERR_INVAL, "cannot encode the request as JSON");
	rc = buf_adds(out, s);
	free(s);
	if (rc)
		return err_set(e, ERR_LIMIT, "request larger than %zu bytes",
			       out->max);
	return ERR_OK;
}

/* By length: a NUL inside (JSON_ALLOW_NUL) becomes U+FFFD, as invalid
 * UTF-8 does, instead of ending the string. */
char *model_pj_dup_str(json_t *j)
{
	return json_is_string(j) ? utf8_sanitize(json_string_value(j),
						 json_string_length(j), NULL)
				 : NULL;
}

/* Rewrite each \uD800-\uDFFF escape that is not half of a valid pair to
 * \uFFFD (same length, in place): legal JSON that jansson refuses. */
static bool fix_surrogates(char *s, size_t n)
{
	bool changed = false;

	for (size_t i = 0; i + 1 < n; i++) {
		unsigned long u, lo;
		char hex[5] = {0};
		if (s[i] != '\\')
			continue;
		if (s[i + 1] != 'u' || i + 6 > n) {
			i++;   /* an escaped character, maybe a backslash */
			continue;
		}
		memcpy(hex, s + i + 2, 4);
		u = strtoul(hex, NULL, 16);
		if (u >= 0xD800 && u <= 0xDBFF && i + 12 <= n &&
		    s[i + 6] == '\\' && s[i + 7] == 'u') {
			memcpy(hex, s + i + 8, 4);
			lo = strtoul(hex, NULL, 16);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				i += 11;
				continue;
			}
		}
		if (u >= 0xD800 && u <= 0xDFFF) {
			memcpy(s + i + 2, "FFFD", 4);
			changed = true;
		}
		i += 5;
	}
	return changed;
}

json_t *model_pj_load(const char *body, size_t len)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_ALLOW_NUL, &je);
	char *copy;

	if (root || !body || !len)
		return root;
	/* numbers past 64 bits are legal JSON: read them as reals */
	if (strstr(je.text, "too big"))
		return json_loadb(body, len, JSON_ALLOW_NUL |
				  JSON_DECODE_INT_AS_REAL, NULL);
	copy = xmalloc(len);
	memcpy(copy, body, len);
	if (fix_surrogates(copy, len)) {
		root = json_loadb(copy, len, JSON_ALLOW_NUL, &je);
		if (!root && strstr(je.text, "too big"))
			root = json_loadb(copy, len, JSON_ALLOW_NUL |
					  JSON_DECODE_INT_AS_REAL, NULL);
	}
	free(copy);
	return root;
}

char *model_pj_dup_any(json_t *j)
{
	char *s;

	if (!j || json_is_null(j))
		return xstrdup("");
	if (json_is_string(j))
		return model_pj_dup_str(j);
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : xstrdup("");
}

char *model_pj_text(json_t *j)
{
	struct buf b;
	size_t i;
	json_t *part;
	char *s;

	if (json_is_string(j))
		return model_pj_dup_str(j);
	if (!json_is_array(j) || !json_array_size(j))
		return NULL;
	buf_init(&b, 0);
	json_array_foreach(j, i, part)
	{
		char *t = model_pj_dup_str(json_object_get(part, "text"));
		if (t)
			BUF_IGNORE(buf_adds(&b, t));
		free(t);
	}
	s = utf8_sanitize(b.data, b.len, NULL);
	buf_release(&b);
	return s;
}

long model_pj_long(json_t *j)
{
	json_int_t v;

	if (json_is_integer(j)) {
		v = json_integer_value(j);
		return v < 0 ? 0 : v > LONG_MAX ? LONG_MAX : (long)v;
	}
	if (json_is_real(j)) {
		double d = json_real_value(j);
		return d > 0 && d < 9e18 ? (long)d : 0;
	}
	return 0;
}

void model_pj_error_of(json_t *root, char *out, size_t n)
{
	json_t *err = json_object_get(root, "error");
	json_t *msg = json_is_object(err) ? json_object_get(err, "message")
					  : err;

	out[0] = '\0';
	if (json_is_string(msg))
		snprintf(out, n, "%.*s", (int)(n - 1), json_string_value(msg));
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

bool model_pj_contains_any(const char *body, size_t len,
			   const char *const *marks, size_t n_marks)
{
	size_t n = len < 65536 ? len : 65536;
	char *tmp;
	bool hit = false;

	if (!body || !n)
		return false;
	tmp = xstrndup(body, n);
	for (size_t i = 0; i < n_marks && !hit; i++)
		hit = strcasestr(tmp, marks[i]) != NULL;
	free(tmp);
	return hit;
}

enum err model_pj_endpoint(struct model *m, const char *base, const char *path,
			   struct errmsg *e)
{
	size_t n = strlen(base);
	const char *auth;

	auth = strstr(base, "://");
	auth = auth ? auth + 3 : base;
	if (memchr(auth, '@', strcspn(auth, "/")))
		return err_set(e, ERR_INVAL,
			       "model '%s': credentials in the base URL are "
			       "not supported; use a key file",
			       m->name);
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))
		return err_set(e, ERR_INVAL,
			       "model '%s': base URL '%s' is not http(s)",
			       m->name, base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	m->endpoint = xasprintf("%.*s%s", (int)n, base, path);
	return ERR_OK;
}

void model_pj_call_set(struct model_tool_call *d, json_t *id, json_t *name,
		       json_t *arguments)
{
	d->id = model_pj_dup_str(id);
	if (!d->id || !*d->id) {
		free(d->id);
		d->id = model_gen_call_id();
	}
	d->name = model_pj_dup_str(name);
	if (!d->name)
		d->name = xstrdup("");
	d->arguments = model_pj_dup_any(arguments);
}

bool model_pj_overflow(long status, const char *body, size_t len,
		       const char *const *marks, size_t n_marks)
{
	if (status != 400 && status != 413)
		return false;
	return model_pj_contains_any(body, len, marks, n_marks);
}
