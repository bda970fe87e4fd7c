/*
 * totp.c - RFC 6238 second factor through liboath: HMAC-SHA-1, 6 digits,
 * 30 s steps, the step before and after now accepted. The secret is 20
 * random bytes, shown to the user once as base32 (an otpauth:// URI).
 * A code's step is returned so the caller can refuse its reuse.
 */
#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "server/server_int.h"
#include "base/banned.h"

#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_SECRET 20

static enum err init(struct errmsg *e)
{
	static int done;

	if (!done && oath_init() != OATH_OK)
		return err_set(e, ERR_CRYPTO, "liboath: initialisation failed");
	done = 1;
	return ERR_OK;
}

enum err totp_new_secret(char **b32_out, struct errmsg *e)
{
	char raw[TOTP_SECRET], *b32 = NULL;
	size_t n = 0;
	enum err rc = init(e);

	if (rc || (rc = random_bytes(raw, sizeof(raw), e)))
		return rc;
	if (oath_base32_encode(raw, sizeof(raw), &b32, &n) != OATH_OK)
		return err_set(e, ERR_NOMEM, "base32 of the TOTP secret");
	explicit_bzero(raw, sizeof(raw));
	*b32_out = xstrdup(b32);
	free(b32);
	return ERR_OK;
}

/* The raw secret of b32 (caller frees), or NULL. */
static char *decode(const char *b32, size_t *n)
{
	char *raw = NULL;

	if (init(NULL) || !b32 ||
	    oath_base32_decode(b32, strlen(b32), &raw, n) != OATH_OK)
		return NULL;
	return raw;
}

int64_t totp_check(const char *b32, const char *code, int64_t now_s)
{
	size_t n = 0;
	char *raw;
	int pos = 0, r;
	uint64_t counter = 0;

	if (!code || strlen(code) != TOTP_DIGITS ||
	    strspn(code, "0123456789") != TOTP_DIGITS || !(raw = decode(b32, &n)))
		return -1;
	r = oath_totp_validate3(raw, n, (time_t)now_s, TOTP_STEP, 0, 1, &pos,
				&counter, code);
	explicit_bzero(raw, n);
	free(raw);
	return r >= 0 ? (int64_t)counter : -1;
}

enum err totp_now(const char *b32, int64_t now_s, char out[8],
		  struct errmsg *e)
{
	size_t n = 0;
	char *raw = decode(b32, &n);
	int r;

	if (!raw)
		return err_set(e, ERR_INVAL, "not a base32 TOTP secret");
	r = oath_totp_generate(raw, n, (time_t)now_s, TOTP_STEP, 0, TOTP_DIGITS,
			       out);
	explicit_bzero(raw, n);
	free(raw);
	return r == OATH_OK ? ERR_OK
			    : err_set(e, ERR_CRYPTO, "TOTP: %s", oath_strerror(r));
}
