/*
 * fuzz_structured.c - libFuzzer target for the structured scaffold's
 * reply parser (model text: hostile). Whatever it accepts must come out as
 * a bash call, a submit or (a question open) an answer whose arguments
 * are a JSON object. The first byte chooses the open question (0: none).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct model_tool_call call;
	json_t *args;

	size_t open = size ? data[0] % 4 : 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (agent_structured_action(text, 1, open, &call)) {
		if (strcmp(call.name, "bash") && strcmp(call.name, "submit") &&
		    (!open || strcmp(call.name, "answer")))
			abort();
		args = json_loads(call.arguments, 0, NULL);
		if (!json_is_object(args))
			abort();
		json_decref(args);
		model_tool_call_release(&call);
	}
	free(text);
	return 0;
}
