/*
 * fuzz_image_json.c - libFuzzer target for the JSON of imported images
 * (untrusted: it comes with the image): the first byte picks the parser
 * (OCI index, OCI manifest, docker-archive manifest.json, image config).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ids[IMAGE_MAX_LAYERS][72];
	struct image_manifest m;
	struct image_config c;
	struct errmsg e;
	char digest[72], *ref;
	const char *json = (const char *)data + 1;
	size_t n;
	bool nested;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (image_parse_index(json, size - 1, digest, &ref, &nested, &e) == ERR_OK)
			free(ref);
		break;
	case 1:
		if (image_parse_manifest(json, size - 1, &m, &e) == ERR_OK)
			image_manifest_release(&m);
		break;
	case 2:
		if (image_parse_docker_manifest(json, size - 1, &m, &e) == ERR_OK)
			image_manifest_release(&m);
		break;
	default:
		if (image_parse_config(json, size - 1, &c, ids, &n, &e) == ERR_OK)
			image_config_release(&c);
		break;
	}
	return 0;
}
