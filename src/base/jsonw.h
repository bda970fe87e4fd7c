/*
 * jsonw.h - the one JSON writer, over a capped buf, for the parts that may
 * not link jansson (engine, vault, store, sandbox, ...): journal events,
 * audit entries, DSSE envelopes.
 *
 *   struct jsonw w;
 *   jsonw_init(&w, &b, 0);
 *   jsonw_obj(&w);
 *   jsonw_kstr(&w, "path", path);
 *   jsonw_kint(&w, "size", n);
 *   jsonw_obj_end(&w);
 *   rc = jsonw_finish(&w, e);
 *
 * The writer puts the commas and colons. Strings are escaped (`"`, `\`,
 * every control character as \b \f \n \r \t or \u00XX, and DEL) and must
 * be valid UTF-8: an invalid sequence or a NUL byte inside a counted
 * string is ERR_INVAL, or with JSONW_LOSSY becomes U+FFFD. Doubles must be
 * finite. Nesting is at most JSONW_MAX_DEPTH.
 *
 * The first error sticks: later calls do nothing, and the buffer is cut
 * back to where the writer started, so half a document can never be used.
 * A full buf (its cap) is ERR_LIMIT, never a silent cut. jsonw_finish
 * returns the error (with a message naming it) and also refuses an
 * unclosed or empty document. Misuse (a key outside an object, a value
 * without its key) is a BUG in debug builds and ERR_INVAL otherwise.
 */
#ifndef ASSAY_JSONW_H
#define ASSAY_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define JSONW_MAX_DEPTH 32

enum jsonw_flags { JSONW_LOSSY = 1 << 0 };

struct jsonw {
	struct buf *out;
	size_t start;      /* out->len when the writer began */
	enum err err;      /* first error, sticky */
	const char *what;  /* what the first error was about */
	unsigned flags;
	unsigned depth;
	uint32_t in_obj;   /* bit d: level d+1 is an object */
	uint32_t has_item; /* bit d: level d+1 has an element already */
	bool want_value;   /* a key was written, its value is next */
	bool done;         /* a complete top-level value was written */
};

void jsonw_init(struct jsonw *w, struct buf *out, unsigned flags);

void jsonw_obj(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_str(struct jsonw *w, const char *s); /* NULL writes null */
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* key and value in one call */
void jsonw_kstr(struct jsonw *w, const char *key, const char *s);
void jsonw_kint(struct jsonw *w, const char *key, int64_t v);
void jsonw_kuint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kdouble(struct jsonw *w, const char *key, double v);
void jsonw_kbool(struct jsonw *w, const char *key, bool v);

/* ERR_OK and a complete document in out, or the first error (out cut
 * back to where it was; e says what failed). */
enum err jsonw_finish(struct jsonw *w, struct errmsg *e) MUST_CHECK;

/* Append s (n bytes) as one JSON string literal, quotes included: the
 * escaping jsonw_strn uses, for a caller with no document around it. */
enum err jsonw_quote(struct buf *b, const char *s, size_t n,
		     unsigned flags) MUST_CHECK;

#endif
