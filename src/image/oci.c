/*
 * oci.c - the JSON of images: OCI index and manifest, docker-archive's
 * manifest.json, and the image config (defaults for boxes, diff ids).
 * Every input is hostile: types are checked, strings and counts capped,
 * and nothing but the fields we use is read.
 */
#include "image/image.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/num.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define MAX_STRV 4096        /* strings in Env, Cmd, Entrypoint */
#define MAX_STR 65536        /* bytes of one of them */

static bool is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static enum err digest_copy(const char *what, json_t *v, char out[72],
			    struct errmsg *e)
{
	const char *s = json_string_value(v);

	if (!s)
		return err_set(e, ERR_PARSE, "%s: missing digest", what);
	if (strncmp(s, "sha256:", 7))
		return err_set(e, ERR_INVAL, "%s: unsupported digest '%.80s' "
			       "(only sha256)", what, s);
	if (!is_hex64(s + 7))
		return err_set(e, ERR_PARSE, "%s: malformed digest '%.80s'", what, s);
	memcpy(out, s, 72 - 1);
	out[71] = '\0';
	return ERR_OK;
}

static enum err load(const char *what, const char *json, size_t len,
		     json_t **out, struct errmsg *e)
{
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		return err_set(e, ERR_PARSE, "%s: bad JSON at line %d: %s", what,
			       je.line, je.text);
	*out = j;
	return ERR_OK;
}

static void media_copy(json_t *v, char out[128])
{
	const char *s = json_string_value(v);

	snprintf(out, 128, "%s", s ? s : "");
}

static bool platform_ok(json_t *m)
{
	json_t *p = json_object_get(m, "platform");
	const char *os, *arch;

	if (!p)
		return true;
	os = json_string_value(json_object_get(p, "os"));
	arch = json_string_value(json_object_get(p, "architecture"));
	return os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64");
}

static bool media_is_index(const char *m)
{
	return !strcmp(m, "application/vnd.oci.image.index.v1+json") ||
	       !strcmp(m, "application/vnd.docker.distribution.manifest.list.v2+json");
}

static bool media_is_manifest(const char *m)
{
	return !strcmp(m, "application/vnd.oci.image.manifest.v1+json") ||
	       !strcmp(m, "application/vnd.docker.distribution.manifest.v2+json");
}

static enum err pick_entry(json_t *ms, char digest_out[72], char **ref_out,
			   bool *nested_out, struct errmsg *e)
{
	size_t i;
	json_t *m;

	json_array_foreach(ms, i, m) {
		const char *media = json_string_value(json_object_get(m, "mediaType"));
		const char *ref;

		if (!media || !json_is_object(m) || !platform_ok(m))
			continue;
		if (!media_is_index(media) && !media_is_manifest(media))
			continue;
		ref = json_string_value(json_object_get(
			json_object_get(m, "annotations"),
			"org.opencontainers.image.ref.name"));
		*nested_out = media_is_index(media);
		if (digest_copy("index.json: manifests[]", json_object_get(m, "digest"),
				digest_out, e))
			return e->code;
		if (ref_out && ref && strlen(ref) <= 128)
			*ref_out = xstrdup(ref);
		return ERR_OK;
	}
	return err_set(e, ERR_INVAL, "index.json: no image manifest for "
		       "linux/amd64 (media type %s or %s)",
		       "application/vnd.oci.image.manifest.v1+json",
		       "application/vnd.docker.distribution.manifest.v2+json");
}

enum err image_parse_index(const char *json, size_t len, char digest_out[72],
			   char **ref_name_out, bool *nested_out,
			   struct errmsg *e)
{
	json_t *j, *ms;
	enum err rc;

	if (ref_name_out)
		*ref_name_out = NULL;
	*nested_out = false;
	if ((rc = load("index.json", json, len, &j, e)))
		return rc;
	ms = json_object_get(j, "manifests");
	if (!json_is_array(ms))
		rc = err_set(e, ERR_PARSE, "index.json: no 'manifests' list");
	else if (json_integer_value(json_object_get(j, "schemaVersion")) != 2)
		rc = err_set(e, ERR_INVAL, "index.json: schemaVersion is not 2");
	else
		rc = pick_entry(ms, digest_out, ref_name_out, nested_out, e);
	json_decref(j);
	return rc;
}

/* A layer media type we can unpack, or "": the compression is found by
 * libarchive from the bytes; the type only has to be a tar layer. */
static bool layer_media_ok(const char *m)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(m, ok[i]))
			return true;
	return false;
}

static enum err manifest_layers(json_t *ls, struct image_manifest *m,
				struct errmsg *e)
{
	size_t i;
	json_t *l;
	enum err rc;

	if (!json_is_array(ls))
		return err_set(e, ERR_PARSE, "manifest: no 'layers' list");
	if (json_array_size(ls) > IMAGE_MAX_LAYERS)
		return err_set(e, ERR_INVAL, "manifest: %zu layers; at most %d",
			       json_array_size(ls), IMAGE_MAX_LAYERS);
	json_array_foreach(ls, i, l) {
		json_int_t sz = json_integer_value(json_object_get(l, "size"));

		media_copy(json_object_get(l, "mediaType"), m->layers[i].media);
		if (!layer_media_ok(m->layers[i].media))
			return err_set(e, ERR_INVAL, "manifest: layer %zu has "
				       "unsupported media type '%.100s'", i + 1,
				       m->layers[i].media);
		if ((rc = digest_copy("manifest: layer", json_object_get(l, "digest"),
				      m->layers[i].digest, e)))
			return rc;
		if (sz < 0)
			return err_set(e, ERR_PARSE, "manifest: layer %zu: bad size",
				       i + 1);
		m->layers[i].size = sz;
		m->n_layers = i + 1;
	}
	return ERR_OK;
}

enum err image_parse_manifest(const char *json, size_t len,
			      struct image_manifest *m, struct errmsg *e)
{
	json_t *j, *c;
	const char *media;
	enum err rc;

	memset(m, 0, sizeof(*m));
	if ((rc = load("manifest", json, len, &j, e)))
		return rc;
	media = json_string_value(json_object_get(j, "mediaType"));
	c = json_object_get(j, "config");
	if (media && !media_is_manifest(media))
		rc = err_set(e, ERR_INVAL, "manifest: unsupported media type '%.100s'",
			     media);
	else if (!json_is_object(c))
		rc = err_set(e, ERR_PARSE, "manifest: no 'config'");
	else if (!(rc = digest_copy("manifest: config", json_object_get(c, "digest"),
				    m->config_digest, e)))
		rc = manifest_layers(json_object_get(j, "layers"), m, e);
	if (!rc) {
		media_copy(json_object_get(c, "mediaType"), m->config_media);
		if (strcmp(m->config_media, "application/vnd.oci.image.config.v1+json") &&
		    strcmp(m->config_media, "application/vnd.docker.container.image.v1+json"))
			rc = err_set(e, ERR_INVAL, "manifest: unsupported config "
				     "media type '%.100s'", m->config_media);
	}
	json_decref(j);
	return rc;
}

/* A file name inside a docker archive: relative, no "..". */
static char *archive_member(json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || !*s || strlen(s) > 512 || s[0] == '/' || strstr(s, ".."))
		return NULL;
	return xstrdup(s);
}

static enum err docker_layers(json_t *ls, struct image_manifest *m,
			      struct errmsg *e)
{
	size_t i;
	json_t *l;

	if (!json_is_array(ls) || json_array_size(ls) == 0)
		return err_set(e, ERR_PARSE, "manifest.json: no 'Layers'");
	if (json_array_size(ls) > IMAGE_MAX_LAYERS)
		return err_set(e, ERR_INVAL, "manifest.json: %zu layers; at most %d",
			       json_array_size(ls), IMAGE_MAX_LAYERS);
	json_array_foreach(ls, i, l) {
		if (!(m->layers[i].path = archive_member(l)))
			return err_set(e, ERR_INVAL, "manifest.json: layer %zu: bad "
				       "file name", i + 1);
		m->n_layers = i + 1;
	}
	return ERR_OK;
}

enum err image_parse_docker_manifest(const char *json, size_t len,
				     struct image_manifest *m, struct errmsg *e)
{
	json_t *j, *first, *tags;
	enum err rc;

	memset(m, 0, sizeof(*m));
	if ((rc = load("manifest.json", json, len, &j, e)))
		return rc;
	first = json_array_get(j, 0);
	if (!json_is_array(j) || json_array_size(j) != 1 || !json_is_object(first))
		rc = err_set(e, ERR_INVAL, "manifest.json: must list exactly one "
			     "image (got %zu)", json_is_array(j) ? json_array_size(j) : 0);
	else if (!(m->config_path = archive_member(json_object_get(first, "Config"))))
		rc = err_set(e, ERR_PARSE, "manifest.json: bad or missing 'Config'");
	else
		rc = docker_layers(json_object_get(first, "Layers"), m, e);
	tags = json_object_get(first, "RepoTags");
	if (!rc && json_is_array(tags) && json_string_value(json_array_get(tags, 0)) &&
	    strlen(json_string_value(json_array_get(tags, 0))) <= 128)
		m->ref_name = xstrdup(json_string_value(json_array_get(tags, 0)));
	json_decref(j);
	if (rc)
		image_manifest_release(m);
	return rc;
}

void image_manifest_release(struct image_manifest *m)
{
	for (size_t i = 0; i < IMAGE_MAX_LAYERS; i++) {
		free(m->layers[i].path);
		m->layers[i].path = NULL;
	}
	free(m->config_path);
	free(m->ref_name);
	m->config_path = m->ref_name = NULL;
}

/* A list of strings, or NULL for null/absent; ERR_PARSE otherwise. */
static enum err strv_get(const char *what, json_t *v, char ***out,
			 struct errmsg *e)
{
	size_t i, n;
	json_t *s;
	char **a;

	*out = NULL;
	if (!v || json_is_null(v))
		return ERR_OK;
	if (!json_is_array(v) || (n = json_array_size(v)) > MAX_STRV)
		return err_set(e, ERR_PARSE, "config: '%s' is not a list of at "
			       "most %d strings", what, MAX_STRV);
	a = xcalloc(n + 1, sizeof(*a));
	json_array_foreach(v, i, s) {
		const char *t = json_string_value(s);

		if (!t || strlen(t) > MAX_STR || strlen(t) != json_string_length(s)) {
			strv_free(a);
			return err_set(e, ERR_PARSE, "config: '%s'[%zu] is not a "
				       "string (without NUL, at most %d bytes)", what,
				       i, MAX_STR);
		}
		a[i] = xstrdup(t);
	}
	*out = a;
	return ERR_OK;
}

static char *str_get(json_t *v)
{
	const char *s = json_string_value(v);

	return s && *s && strlen(s) <= 4096 && strlen(s) == json_string_length(v)
		       ? xstrdup(s) : NULL;
}

static enum err ports_get(json_t *o, struct image_config *c, struct errmsg *e)
{
	const char *k;
	json_t *v;

	if (!o)
		return ERR_OK;
	if (!json_is_object(o) || json_object_size(o) > 1024)
		return err_set(e, ERR_PARSE, "config: bad 'ExposedPorts'");
	c->ports = xcalloc(json_object_size(o) + 1, sizeof(int));
	json_object_foreach(o, k, v) {
		char num[8];
		const char *slash = strchr(k, '/');
		size_t n = slash ? (size_t)(slash - k) : strlen(k);
		long long p;

		(void)v;
		if (slash && strcmp(slash, "/tcp"))
			continue;   /* udp and sctp: nothing to probe */
		if (n == 0 || n >= sizeof(num))
			return err_set(e, ERR_PARSE, "config: bad port '%.40s'", k);
		memcpy(num, k, n);
		num[n] = '\0';
		if (!num_ll(num, 1, 65535, &p))
			return err_set(e, ERR_PARSE, "config: bad port '%.40s'", k);
		c->ports[c->n_ports++] = (int)p;
	}
	return ERR_OK;
}

static enum err diff_ids_get(json_t *rootfs, char diff_ids[][72], size_t *n_out,
			     struct errmsg *e)
{
	json_t *ids = json_object_get(rootfs, "diff_ids"), *d;
	size_t i;
	enum err rc;

	if (!json_is_array(ids))
		return err_set(e, ERR_PARSE, "config: no 'rootfs.diff_ids'");
	if (json_array_size(ids) > IMAGE_MAX_LAYERS)
		return err_set(e, ERR_INVAL, "config: %zu layers; at most %d",
			       json_array_size(ids), IMAGE_MAX_LAYERS);
	json_array_foreach(ids, i, d)
		if ((rc = digest_copy("config: diff_ids", d, diff_ids[i], e)))
			return rc;
	*n_out = json_array_size(ids);
	return ERR_OK;
}

enum err image_parse_config(const char *json, size_t len,
			    struct image_config *c, char diff_ids[][72],
			    size_t *n_diff_out, struct errmsg *e)
{
	json_t *j, *cfg;
	enum err rc;

	memset(c, 0, sizeof(*c));
	if ((rc = load("config", json, len, &j, e)))
		return rc;
	cfg = json_object_get(j, "config");
	if (!json_is_object(j) || (cfg && !json_is_object(cfg) && !json_is_null(cfg)))
		rc = err_set(e, ERR_PARSE, "config: not an object");
	if (!rc && (rc = diff_ids_get(json_object_get(j, "rootfs"), diff_ids,
				      n_diff_out, e)) == ERR_OK && json_is_object(cfg)) {
		if (!(rc = strv_get("Entrypoint", json_object_get(cfg, "Entrypoint"),
				    &c->entrypoint, e)) &&
		    !(rc = strv_get("Cmd", json_object_get(cfg, "Cmd"), &c->cmd, e)) &&
		    !(rc = strv_get("Env", json_object_get(cfg, "Env"), &c->env, e)))
			rc = ports_get(json_object_get(cfg, "ExposedPorts"), c, e);
		c->workdir = str_get(json_object_get(cfg, "WorkingDir"));
		c->user = str_get(json_object_get(cfg, "User"));
	}
	json_decref(j);
	if (rc)
		image_config_release(c);
	return rc;
}

void image_config_release(struct image_config *c)
{
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->workdir);
	free(c->user);
	free(c->ports);
	memset(c, 0, sizeof(*c));
}
