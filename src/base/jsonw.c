#include "jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bug.h"
#include "util.h"
#include "base/banned.h"

void jsonw_init(struct jsonw *w, struct buf *out, unsigned flags)
{
	DEBUGASSERT(out && out->data);
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->start = out->len;
	w->flags = flags;
}

static void fail(struct jsonw *w, enum err rc, const char *what)
{
	if (w->err)
		return;
	w->err = rc;
	w->what = what;
	buf_truncate(w->out, w->start);
}

/* Misuse of the writer by its caller: a bug, caught in debug builds. */
static void misuse(struct jsonw *w, const char *what)
{
#ifndef NDEBUG
	BUG("JSON writer misused: %s", what);
#endif
	fail(w, ERR_INVAL, what);
}

static void add(struct jsonw *w, const char *s, size_t n)
{
	if (!w->err && buf_add(w->out, s, n))
		fail(w, ERR_LIMIT, "the document is larger than its buffer's cap");
}

static uint32_t bit(const struct jsonw *w)
{
	return (uint32_t)1 << (w->depth - 1);
}

/* Before any value: the comma, and whether a value may go here. */
static bool value_begin(struct jsonw *w)
{
	if (w->err)
		return false;
	if (w->depth == 0) {
		if (w->done)
			misuse(w, "a second top-level value");
		return !w->err;
	}
	if (w->in_obj & bit(w)) {
		if (!w->want_value)
			misuse(w, "an object member without a key");
		w->want_value = false;
		return !w->err;
	}
	if (w->has_item & bit(w))
		add(w, ",", 1);
	w->has_item |= bit(w);
	return !w->err;
}

static void value_end(struct jsonw *w)
{
	if (w->depth == 0 && !w->err)
		w->done = true;
}

static void open_level(struct jsonw *w, char c, bool obj)
{
	if (!value_begin(w))
		return;
	if (w->depth == JSONW_MAX_DEPTH) {
		fail(w, ERR_LIMIT, "nesting deeper than JSONW_MAX_DEPTH");
		return;
	}
	add(w, &c, 1);
	w->depth++;
	w->has_item &= ~bit(w);
	if (obj)
		w->in_obj |= bit(w);
	else
		w->in_obj &= ~bit(w);
}

static void close_level(struct jsonw *w, char c, bool obj)
{
	if (w->err)
		return;
	if (w->depth == 0 || !(w->in_obj & bit(w)) != !obj || w->want_value) {
		misuse(w, "a close that does not match its open");
		return;
	}
	add(w, &c, 1);
	w->depth--;
	value_end(w);
}

void jsonw_obj(struct jsonw *w)
{
	open_level(w, '{', true);
}

void jsonw_obj_end(struct jsonw *w)
{
	close_level(w, '}', true);
}

void jsonw_arr(struct jsonw *w)
{
	open_level(w, '[', false);
}

void jsonw_arr_end(struct jsonw *w)
{
	close_level(w, ']', false);
}

static enum err quote_into(struct buf *b, const char *s, size_t n,
			   unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	enum err rc = buf_addch(b, '"');
	size_t i = 0, run = 0;

	while (!rc && i < n) {
		unsigned char c = u[i];
		size_t k = c >= 0x20 && c < 0x80 ? 1 : utf8_seq_len(u + i, n - i);
		char esc[6] = { '\\', 0 };
		size_t elen = 2;

		if (k && c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
			i += k;
			run += k;
			continue;
		}
		/* flush the plain run before the byte that needs care */
		rc = buf_add(b, s + i - run, run);
		run = 0;
		if (rc)
			break;
		if (!k && c >= 0x80) {
			if (!(flags & JSONW_LOSSY))
				return ERR_INVAL;
			rc = buf_add(b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (c == 0 && !(flags & JSONW_LOSSY))
			return ERR_INVAL;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			/* NUL (lossy), other controls and DEL */
			if (c == 0) {
				rc = buf_add(b, "\xef\xbf\xbd", 3);
				i++;
				continue;
			}
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
			break;
		}
		rc = buf_add(b, esc, elen);
		i++;
	}
	if (!rc)
		rc = buf_add(b, s + i - run, run);
	return rc ? rc : buf_addch(b, '"');
}

enum err jsonw_quote(struct buf *b, const char *s, size_t n, unsigned flags)
{
	size_t start = b->len;
	enum err rc = quote_into(b, s, n, flags);

	if (rc)
		buf_truncate(b, start);
	return rc;
}

static void string(struct jsonw *w, const char *s, size_t n)
{
	enum err rc = quote_into(w->out, s, n, w->flags);

	if (rc == ERR_INVAL)
		fail(w, rc, "a string that is not valid UTF-8 (or holds NUL)");
	else if (rc)
		fail(w, rc, "the document is larger than its buffer's cap");
}

void jsonw_key(struct jsonw *w, const char *key)
{
	if (w->err)
		return;
	if (w->depth == 0 || !(w->in_obj & bit(w)) || w->want_value) {
		misuse(w, "a key outside an object or after a key");
		return;
	}
	if (w->has_item & bit(w))
		add(w, ",", 1);
	w->has_item |= bit(w);
	if (!w->err)
		string(w, key, strlen(key));
	add(w, ":", 1);
	w->want_value = !w->err;
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	if (!value_begin(w))
		return;
	string(w, s, n);
	value_end(w);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	if (!s)
		jsonw_null(w);
	else
		jsonw_strn(w, s, strlen(s));
}

static void literal(struct jsonw *w, const char *text)
{
	if (!value_begin(w))
		return;
	add(w, text, strlen(text));
	value_end(w);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRId64, v);
	literal(w, t);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRIu64, v);
	literal(w, t);
}

void jsonw_double(struct jsonw *w, double v)
{
	char t[32];

	if (!isfinite(v)) {
		if (value_begin(w))
			fail(w, ERR_INVAL, "a number that is not finite");
		return;
	}
	/* %.17g round-trips every double; an integral value stays short */
	snprintf(t, sizeof(t), "%.17g", v);
	literal(w, t);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	literal(w, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w)
{
	literal(w, "null");
}

/* One keyed writer per value type (jsonw.h): each is a key and its value,
 * so they look alike by design; C has no overloading to fold them. */
void jsonw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_str(w, s);
}

void jsonw_kint(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_kuint(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_uint(w, v);
}

void jsonw_kdouble(struct jsonw *w, const char *key, double v)
{
	jsonw_key(w, key);
	jsonw_double(w, v);
}

void jsonw_kbool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

enum err jsonw_finish(struct jsonw *w, struct errmsg *e)
{
	if (!w->err && (w->depth || !w->done))
		fail(w, ERR_INVAL, w->depth ? "an unclosed object or array"
					    : "an empty document");
	if (w->err)
		return err_set(e, w->err, "cannot write JSON: %s", w->what);
	return ERR_OK;
}
