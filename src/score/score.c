#include "score/score.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "base/banned.h"

enum err score_make_flag(const char *format, char **flag_out, struct errmsg *e)
{
	unsigned char raw[FLAG_RANDOM_HEX / 2];
	char hex[FLAG_RANDOM_HEX + 1];
	const char *p = strstr(format, "%s");
	enum err rc;

	if (!p)
		return err_set(e, ERR_INVAL, "flag format '%s' has no %%s",
			       format);
	rc = random_bytes(raw, sizeof(raw), e);
	if (rc)
		return rc;
	hex_encode(raw, sizeof(raw), hex);
	*flag_out = xasprintf("%.*s%s%s", (int)(p - format), format, hex, p + 2);
	return ERR_OK;
}

bool score_flag_match(const char *expected, const char *submitted)
{
	size_t elen, slen;
	const char *x, *y;

	if (!expected || !submitted)
		return false;
	x = trim_span(expected, strlen(expected), &elen);
	y = trim_span(submitted, strlen(submitted), &slen);
	if (elen == 0)
		return false;
	return ct_equal(x, elen, y, slen);
}

bool score_answer_match(const struct task_answer *a, const char *given)
{
	size_t n;
	const char *g;
	char hex[65];

	if (!given)
		return false;
	g = trim_span(given, strlen(given), &n);
	if (a->answer)
		return score_flag_match(a->answer, given);
	vault_sha256_hex(g, n, hex);
	return ct_equal(hex, 64, a->answer_sha256, strlen(a->answer_sha256));
}

void score_episode(const struct score_input *in, struct score_result *out)
{
	const struct task *t = in->task;
	bool ok = true;

	memset(out, 0, sizeof(*out));
	out->has_flag = t->flag_kind != FLAG_NONE;
	out->has_check = t->check_run != NULL;
	if (out->has_flag) {
		out->flag_ok = score_flag_match(in->flag, in->submitted);
		ok = ok && out->flag_ok;
	}
	if (out->has_check) {
		out->check_ok = in->check_passed;
		ok = ok && out->check_ok;
	}
	out->answers_total = (int)t->n_answers;
	for (size_t i = 0; i < t->n_answers && i < in->n_answers; i++)
		out->answers_ok += score_answer_match(&t->answers[i],
						      in->answers[i]);
	out->score = ok ? 1 : 0;
}
