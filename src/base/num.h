/*
 * num.h - strict number parsing: the whole string, base 10, in a range.
 *
 * Every number that comes from a user, a file or the wire goes through
 * these (atoi/atol and unchecked strtol are banned): no leading or trailing
 * space, no trailing junk, no overflow, no empty string, no hex, no "inf"
 * or "nan". On failure e names the text and the allowed range.
 */
#ifndef ASSAY_NUM_H
#define ASSAY_NUM_H

#include <stdbool.h>

#include "err.h"

/* Parse s (all of it) as a decimal integer in [lo, hi] into *out. */
enum err num_parse_ll(const char *s, long long lo, long long hi,
		      long long *out, struct errmsg *e) MUST_CHECK;
/* The same, for unsigned values up to hi. No sign is accepted. */
enum err num_parse_ull(const char *s, unsigned long long hi,
		       unsigned long long *out, struct errmsg *e) MUST_CHECK;
/* Parse s as a finite decimal number (digits, '.', an exponent) in
 * [lo, hi]. */
enum err num_parse_double(const char *s, double lo, double hi, double *out,
			  struct errmsg *e) MUST_CHECK;

/* Shorthands without a message, for code that reports its own error. */
bool num_ll(const char *s, long long lo, long long hi, long long *out);
bool num_int(const char *s, int lo, int hi, int *out);
bool num_long(const char *s, long lo, long hi, long *out);

#endif
