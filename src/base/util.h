/*
 * util.h - time, randomness and small string helpers.
 */
#ifndef ASSAY_UTIL_H
#define ASSAY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int64_t now_ms(void);        /* CLOCK_MONOTONIC, milliseconds */
int64_t now_us(void);        /* CLOCK_MONOTONIC, microseconds */
int64_t wall_ms(void);       /* CLOCK_REALTIME, ms since the epoch */
/* ISO 8601 UTC of a wall_ms() value into out (at least 32 bytes). */
void iso8601(int64_t wall, char *out, size_t n);

/* Fill p with n bytes from getrandom(2). */
enum err random_bytes(void *p, size_t n, struct errmsg *e) MUST_CHECK;
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const void *p, size_t n, char *out);
/* The n bytes of hex (exactly 2n hex digits, either case, then its end
 * or anything: only 2n are read) into out; false (out undefined) when a
 * digit is not one. Not constant-time: for public bytes. */
bool hex_decode(const char *hex, void *out, size_t n);
/* The value of hex digit c (either case), or -1. */
int hex_digit(char c);

/* Constant-time equality of two byte strings (length is not secret). */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Trim ASCII whitespace at both ends: returns start, sets *len. */
const char *trim_span(const char *s, size_t n, size_t *len_out);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), or 0
 * for an invalid, overlong, surrogate or truncated one, or a NUL byte. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Copy n bytes as valid UTF-8: invalid sequences and NUL bytes become
 * U+FFFD. Caller frees. */
char *utf8_sanitize(const char *s, size_t n, size_t *len_out);

#endif
