/*
 * fuzz_anthropic_reply - Messages API reply bodies (hostile: from the
 * network). Parses, classifies as an error body, and then sends what was
 * parsed (thinking blocks included) back through the request serialiser,
 * which must always produce valid JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "model/model_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct model_reply *r)
{
	struct model m = {.name = "anthropic/x", .model_id = "x",
			  .params = {-1, 0, NULL, -1}};
	struct model_msg msgs[2] = {
		{.role = MODEL_USER, .text = "u"},
		{.role = MODEL_ASSISTANT, .text = r->text, .calls = r->calls,
		 .n_calls = r->n_calls, .opaque = r->opaque},
	};
	struct model_request req = {msgs, 2, NULL, 0, NULL, false};
	struct errmsg e;
	struct buf b;
	json_t *j;

	buf_init(&b, MODEL_MAX_REQUEST);
	if (model_provider_anthropic.build(&m, &req, &b, &e) == ERR_OK) {
		j = json_loadb(b.data, b.len, 0, NULL);
		if (!j)
			abort(); /* the serialiser wrote invalid JSON */
		json_decref(j);
	}
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct model_reply *r = calloc(1, sizeof(*r));
	struct errmsg e;
	char msg[MODEL_MAX_ERROR_LINE];

	if (!r)
		return 0;
	if (model_anthropic_parse_reply(body, size, r, &e) == ERR_OK)
		round_trip(r);
	model_reply_release(r);
	(void)model_anthropic_is_overflow(400, body, size);
	model_error_message(body, size, msg, sizeof(msg));
	return 0;
}
