/*
 * fuzz_cli_transcript.c - libFuzzer target for the transcript renderer
 * (src/cli/transcript.c): journal events hold what the model, the box and
 * the services wrote. Input: events as lines "KIND<TAB>DATA". Whatever
 * they hold, building must give an object whose JSON round-trips, and the
 * text rendering must carry no escape byte to the terminal.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_episode ep = { .id = 1, .run_id = 1, .epoch = 1,
				    .attempt = 1, .has_flag = true };
	struct store_event evs[64];
	char *text = malloc(size + 1), *line, *save = NULL, *out = NULL, *s;
	size_t n = 0, len = 0;
	json_t *t, *back;
	FILE *f;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	ep.task_id = (char *)"t";
	ep.outcome = (char *)(size % 2 ? "submitted-wrong" : "limit-turns");
	for (line = strtok_r(text, "\n", &save); line && n < 64;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = 0;
		evs[n].seq = (int)n;
		evs[n].kind = line;
		evs[n].at_ms = 0;
		evs[n].data = tab + 1;
		n++;
	}
	t = cli_transcript_build(&ep, evs, n);
	if (!json_is_object(t))
		abort();
	s = json_dumps(t, JSON_COMPACT);
	back = s ? json_loads(s, 0, NULL) : NULL;
	if (!back)
		abort();
	f = open_memstream(&out, &len);
	if (f) {
		cli_transcript_write_text(t, f);
		fclose(f);
		if (memchr(out, 0x1b, len))
			abort();
		free(out);
	}
	json_decref(back);
	free(s);
	json_decref(t);
	free(text);
	return 0;
}
