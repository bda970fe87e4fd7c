/*
 * fuzz_import.c - libFuzzer target for what `assay import` parses from an
 * untrusted suite. The first byte picks the parser (one target keeps the
 * CI smoke run short): 't' Harbor's task.toml through the bounded TOML
 * subset parser; 'j' the JSON documents (ic_ctf.json, challenge.json,
 * metadata.json) as a tree; anything else a compose file, parsed and
 * mapped into a task (refusals, ports, healthchecks, users) with each
 * way of naming the agent's service.
 */
#include <stddef.h>
#include <stdint.h>

#include "task/import_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void compose(const char *text, size_t n)
{
	static const char *const agents[] = { NULL, "", "main" };
	struct ynode *root;
	struct errmsg e;

	if (ytree_parse("fuzz.yaml", text, n, &root, &e))
		return;
	for (size_t i = 0; i < 3; i++) {
		struct imp_task t;
		imp_task_init(&t);
		imp_compose(&t, root, agents[i]);
		imp_task_release(&t);
	}
	ytree_free(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	struct ynode *root = NULL;
	struct errmsg e;

	if (size < 1)
		return 0;
	if (data[0] == 't' &&
	    import_toml_tree("fuzz.toml", text, size - 1, &root, &e) == ERR_OK)
		ytree_free(root);
	else if (data[0] == 'j' &&
		 import_json_tree("fuzz.json", text, size - 1, &root, &e) == ERR_OK)
		ytree_free(root);
	else if (data[0] != 't' && data[0] != 'j')
		compose(text, size - 1);
	return 0;
}
