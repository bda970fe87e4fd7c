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

/* A number that is one field of a line (/proc/PID/stat, a cgroup file,
 * "KEY VALUE" lines): the text from s up to the first byte of stops (or
 * the end of s) must be all of a number in range, by the rules above;
 * *end (when end is not NULL) is set to that byte. An empty or overlong
 * field (over 40 bytes) is no number. */
bool num_field_ll(const char *s, const char *stops, long long lo, long long hi,
		  long long *out, const char **end);
bool num_field_ull(const char *s, const char *stops, unsigned long long hi,
		   unsigned long long *out, const char **end);

/* Shorthands without a message, for code that reports its own error. */
bool num_ll(const char *s, long long lo, long long hi, long long *out);
bool num_int(const char *s, int lo, int hi, int *out);
bool num_long(const char *s, long lo, long hi, long *out);
bool num_double(const char *s, double lo, double hi, double *out);

#endif
