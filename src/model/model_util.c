/*
 * model_util.c - small helpers shared by the providers: call ids, API keys,
 * redaction of error text, provider error messages, UTF-8 repair.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "model/model_int.h"
#include "base/banned.h"

int model_wait_until(int timeout_ms, int64_t due_ms)
{
	int64_t left;

	if (due_ms <= 0)
		return timeout_ms;
	left = due_ms - now_ms();
	if (left < 0)
		left = 0;
	return left < timeout_ms ? (int)left : timeout_ms;
}

struct model_tool_call *model_calls_dup(const struct model_tool_call *c,
					size_t n)
{
	struct model_tool_call *d;

	if (!n)
		return NULL;
	d = xcalloc(n, sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		d[i].id = xstrdup(c[i].id);
		d[i].name = xstrdup(c[i].name);
		d[i].arguments = xstrdup(c[i].arguments);
	}
	return d;
}

/* ---- helpers ---------------------------------------------------------- */

char *model_gen_call_id(void)
{
	unsigned char raw[12];
	char hex[25];
	struct errmsg e;

	if (random_bytes(raw, sizeof(raw), &e))
		memset(raw, 0, sizeof(raw));
	hex_encode(raw, sizeof(raw), hex);
	return xasprintf("call_%s", hex);
}

static bool key_is_clean(const char *k)
{
	for (; *k; k++)
		if ((unsigned char)*k < 0x21 || (unsigned char)*k == 0x7f)
			return false;
	return true;
}

static enum err read_key_file(const char *model_name, const char *path,
			      char **key_out, struct errmsg *e)
{
	char *data = NULL;
	size_t len, n;
	const char *k;
	enum err rc;

	rc = file_read(path, 16384, &data, &len, e);
	if (rc) {
		err_prefix(e, "model '%s': key file", model_name);
		return rc;
	}
	len = strcspn(data, "\n");
	k = trim_span(data, len, &n);
	*key_out = xstrndup(k, n);
	explicit_bzero(data, strlen(data));
	free(data);
	return ERR_OK;
}

enum err model_load_key(const char *model_name, const char *key_file,
			const char *env_var, bool required, char **key_out,
			struct errmsg *e)
{
	char *key = NULL;
	const char *env;
	enum err rc;

	*key_out = NULL;
	if (key_file) {
		rc = read_key_file(model_name, key_file, &key, e);
		if (rc)
			return rc;
	} else if ((env = getenv(env_var)) && *env) {
		key = xstrdup(env);
	}
	if (key && !*key) {
		free(key);
		key = NULL;
	}
	if (!key) {
		if (!required)
			return ERR_OK;
		if (key_file)
			return err_set(e, ERR_INVAL,
				       "model '%s': key file '%s' is empty",
				       model_name, key_file);
		return err_set(e, ERR_INVAL,
			       "model '%s': no API key: set %s or give a key "
			       "file",
			       model_name, env_var);
	}
	if (!key_is_clean(key)) {
		explicit_bzero(key, strlen(key));
		free(key);
		return err_set(e, ERR_INVAL,
			       "model '%s': the API key from %s contains "
			       "spaces or control characters",
			       model_name, key_file ? "the key file" : env_var);
	}
	*key_out = key;
	return ERR_OK;
}

static bool is_token_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '_' ||
	       ch == '*' || ch == '.';
}

static const char *REDACTED = "[redacted]";

char *model_redact(const char *s, const char *key)
{
	struct buf b;
	size_t klen = key ? strlen(key) : 0;

	buf_init(&b, 0);
	while (*s) {
		if (klen >= 4 && !strncmp(s, key, klen)) {
			BUF_IGNORE(buf_adds(&b, REDACTED));
			s += klen;
		} else if (!strncmp(s, "sk-", 3)) {
			size_t n = 3;
			while (is_token_char(s[n]))
				n++;
			BUF_IGNORE(buf_adds(&b, n > 3 ? REDACTED : "sk-"));
			s += n;
		} else {
			BUF_IGNORE(buf_addch(&b, *s++));
		}
	}
	return buf_take(&b, NULL);
}

static void one_line(const char *in, size_t len, char *out, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 1 < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		out[j++] = (char)((ch < 0x20 || ch == 0x7f) ? ' ' : ch);
	}
	out[j] = '\0';
}

void model_error_message(const char *body, size_t len, char *out, size_t n)
{
	json_t *root, *err, *msg;

	out[0] = '\0';
	if (!body || !len)
		return;
	root = model_pj_load(body, len);
	if (!root) {
		/* not JSON: a proxy's HTML page, say; show its start */
		one_line(body, len < 120 ? len : 120, out, n);
		return;
	}
	err = json_object_get(root, "error");
	msg = json_is_object(err) ? json_object_get(err, "message")
				  : json_is_string(err) ? err : NULL;
	if (!msg)
		msg = json_object_get(root, "message");
	if (json_is_string(msg))
		one_line(json_string_value(msg), json_string_length(msg), out,
			 n);
	json_decref(root);
}

/* Model text and box output as valid UTF-8 for JSON (base/util.h). */
char *model_utf8_fix(const char *s, size_t n)
{
	return utf8_sanitize(s, n, NULL);
}
