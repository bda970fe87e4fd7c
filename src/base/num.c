/*
 * num.c - strict number parsing (see num.h).
 */
#include "num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

/* Shown in messages: at most 40 bytes of the offending text. */
#define SHOW 40

static bool decimal_int(const char *s, bool allow_sign)
{
	if (allow_sign && *s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

enum err num_parse_ll(const char *s, long long lo, long long hi,
		      long long *out, struct errmsg *e)
{
	char *end;
	long long v;

	if (!s || !decimal_int(s, true))
		return err_set(e, ERR_INVAL, "'%.*s' is not a whole number",
			       SHOW, s ? s : "");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end || v < lo || v > hi)
		return err_set(e, ERR_INVAL, "'%.*s' is out of range "
			       "(%lld to %lld)", SHOW, s, lo, hi);
	*out = v;
	return ERR_OK;
}

enum err num_parse_ull(const char *s, unsigned long long hi,
		       unsigned long long *out, struct errmsg *e)
{
	char *end;
	unsigned long long v;

	if (!s || !decimal_int(s, false))
		return err_set(e, ERR_INVAL, "'%.*s' is not a whole number",
			       SHOW, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end || v > hi)
		return err_set(e, ERR_INVAL, "'%.*s' is out of range "
			       "(0 to %llu)", SHOW, s, hi);
	*out = v;
	return ERR_OK;
}

/* [-]digits[.digits][(e|E)[+-]digits], or [-].digits[...]. */
static bool decimal_real(const char *s)
{
	size_t digits = 0;

	if (*s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

enum err num_parse_double(const char *s, double lo, double hi, double *out,
			  struct errmsg *e)
{
	char *end;
	double v;

	if (!s || !decimal_real(s))
		return err_set(e, ERR_INVAL, "'%.*s' is not a number", SHOW,
			       s ? s : "");
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || *end || !isfinite(v) || !(v >= lo && v <= hi))
		return err_set(e, ERR_INVAL, "'%.*s' is out of range "
			       "(%g to %g)", SHOW, s, lo, hi);
	*out = v;
	return ERR_OK;
}

/* The field at s into out (NUL-terminated); false when it is too long. */
static bool field(const char *s, const char *stops, char out[SHOW + 1],
		  const char **end)
{
	size_t n = strcspn(s, stops);

	if (n > SHOW)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	if (end)
		*end = s + n;
	return true;
}

bool num_field_ll(const char *s, const char *stops, long long lo, long long hi,
		  long long *out, const char **end)
{
	char f[SHOW + 1];

	return field(s, stops, f, end) && num_ll(f, lo, hi, out);
}

bool num_field_ull(const char *s, const char *stops, unsigned long long hi,
		   unsigned long long *out, const char **end)
{
	char f[SHOW + 1];

	return field(s, stops, f, end) &&
	       num_parse_ull(f, hi, out, NULL) == ERR_OK;
}

bool num_ll(const char *s, long long lo, long long hi, long long *out)
{
	return num_parse_ll(s, lo, hi, out, NULL) == ERR_OK;
}

bool num_int(const char *s, int lo, int hi, int *out)
{
	long long v = 0;   /* set when num_ll succeeds (-O3 cannot see it) */

	if (!num_ll(s, lo, hi, &v))
		return false;
	*out = (int)v;
	return true;
}

bool num_double(const char *s, double lo, double hi, double *out)
{
	return num_parse_double(s, lo, hi, out, NULL) == ERR_OK;
}

bool num_long(const char *s, long lo, long hi, long *out)
{
	long long v = 0;   /* as in num_int */

	if (!num_ll(s, lo, hi, &v))
		return false;
	*out = (long)v;
	return true;
}
