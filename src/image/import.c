/*
 * import.c - `assay image import`: detect the format, verify every digest,
 * unpack each layer not already in the store, write the record.
 *
 * Order of trust: a blob's bytes are hashed and compared with the digest
 * that names them before any parser or decompressor sees them. Work
 * happens in DIR/tmp/imp-PID-N; finished layers are renamed into
 * DIR/layers/ (atomic; a layer another import finished first is kept and
 * ours dropped); any failure removes the work directory, so nothing is
 * left behind.
 */
#include "image/image_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonw.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "base/banned.h"

#define META_MAX ((size_t)4 << 20)

struct job {
	struct image_store *st;
	struct image_limits lim;
	struct unpack_totals tot;
	char *work;              /* DIR/tmp/imp-PID-N */
	char *src;               /* an OCI layout or docker dir to read */
	struct image_info *im;
	struct image_manifest m;
	char diff_ids[IMAGE_MAX_LAYERS][72];
	size_t n_diff;
	char *manifest_json, *config_json;
	size_t manifest_len, config_len;
};

static char *blob_path(const char *dir, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

/* Read the blob named digest from dir, checking its digest first. */
static enum err read_blob(const char *dir, const char *digest, const char *what,
			  char **data_out, size_t *len_out, struct errmsg *e)
{
	char *p = blob_path(dir, digest);
	char got[72];
	enum err rc;

	rc = image_file_digest(p, got, NULL, e);
	if (!rc && strcmp(got, digest))
		rc = err_set(e, ERR_INVAL, "%s: digest mismatch: named %.19s, "
			     "content is %.19s", what, digest, got);
	if (!rc)
		rc = file_read(p, META_MAX, data_out, len_out, e);
	free(p);
	return rc ? err_prefix(e, "%s", what) : ERR_OK;
}

static enum err oci_manifest(struct job *j, struct errmsg *e)
{
	char *p = path_join(j->src, "index.json"), *text, *ref = NULL;
	char digest[72];
	size_t len;
	bool nested = true;
	enum err rc;

	rc = file_read(p, META_MAX, &text, &len, e);
	free(p);
	if (rc)
		return err_prefix(e, "OCI layout");
	for (int depth = 0; nested && !rc; depth++) {
		char *ref2 = NULL;

		rc = depth > 4 ? err_set(e, ERR_INVAL,
					 "index: nested deeper than 4")
			       : image_parse_index(text, len, digest, &ref2,
						   &nested, e);
		if (!ref && ref2)
			ref = ref2;
		else
			free(ref2);
		free(text);
		text = NULL;
		if (!rc)
			rc = read_blob(j->src, digest, nested ? "index" : "manifest",
				       &text, &len, e);
	}
	if (!rc) {
		rc = image_parse_manifest(text, len, &j->m, e);
		snprintf(j->im->digest, sizeof(j->im->digest), "%s", digest);
		j->manifest_json = text;
		j->manifest_len = len;
		j->m.ref_name = ref;
	} else {
		free(text);
		free(ref);
	}
	return rc;
}

/* Parse the config just read (j->config_json), check it has a diff id
 * per layer of the manifest and record its digest. */
static enum err take_config(struct job *j, const char *digest,
			    struct errmsg *e)
{
	enum err rc = image_parse_config(j->config_json, j->config_len,
					 &j->im->config, j->diff_ids,
					 &j->n_diff, e);
	if (rc)
		return rc;
	if (j->n_diff != j->m.n_layers)
		return err_set(e, ERR_INVAL, "config lists %zu diff ids for %zu "
			       "layers", j->n_diff, j->m.n_layers);
	snprintf(j->im->config_digest, sizeof(j->im->config_digest), "%s",
		 digest);
	return ERR_OK;
}

static enum err oci_config(struct job *j, struct errmsg *e)
{
	enum err rc = read_blob(j->src, j->m.config_digest, "config",
				&j->config_json, &j->config_len, e);

	return rc ? rc : take_config(j, j->m.config_digest, e);
}

/* Unpack the blob at path as layer i (unless the store has its diff id). */
static enum err add_layer(struct job *j, size_t i, const char *path,
			  struct errmsg *e)
{
	struct image_layer *l = &j->im->layers[i];
	char *final = xasprintf("%s/layers/%s", j->st->dir, j->diff_ids[i] + 7);
	char *tmp = xasprintf("%s/layer-%zu", j->work, i);
	char what[96], diff[72];
	enum err rc = ERR_OK;

	snprintf(l->diff_id, sizeof(l->diff_id), "%s", j->diff_ids[i]);
	snprintf(what, sizeof(what), "layer %zu (%.19s)", i + 1, l->digest);
	if (!is_dir(final)) {
		rc = image_layer_unpack(path, tmp, what, &j->lim, &j->tot, diff,
					&l->unpacked, e);
		if (!rc && strcmp(diff, j->diff_ids[i]))
			rc = err_set(e, ERR_INVAL, "%s: diff id mismatch: the config "
				     "says %.19s, the content is %.19s", what,
				     j->diff_ids[i], diff);
		if (!rc && rename(tmp, final) < 0 && errno != EEXIST && errno != ENOTEMPTY)
			rc = err_sys(e, ERR_IO, "%s: store", what);
	}
	free(final);
	free(tmp);
	return rc;
}

static enum err oci_layers(struct job *j, struct errmsg *e)
{
	enum err rc = ERR_OK;

	j->im->layers = xcalloc(j->m.n_layers + 1, sizeof(*j->im->layers));
	j->im->n_layers = j->m.n_layers;
	for (size_t i = 0; i < j->m.n_layers && !rc; i++) {
		struct image_layer *l = &j->im->layers[i];
		char *p = blob_path(j->src, j->m.layers[i].digest);

		snprintf(l->digest, sizeof(l->digest), "%s", j->m.layers[i].digest);
		rc = image_file_digest(p, l->digest, &l->size, e);
		if (!rc && strcmp(l->digest, j->m.layers[i].digest))
			rc = err_set(e, ERR_INVAL, "layer %zu: digest mismatch: the "
				     "manifest says %.19s, the blob is %.19s", i + 1,
				     j->m.layers[i].digest, l->digest);
		else if (!rc && j->m.layers[i].size != (int64_t)l->size)
			rc = err_set(e, ERR_INVAL, "layer %zu: the manifest says %lld "
				     "bytes, the blob has %llu (truncated?)", i + 1,
				     (long long)j->m.layers[i].size,
				     (unsigned long long)l->size);
		if (!rc)
			rc = add_layer(j, i, p, e);
		free(p);
	}
	return rc;
}

/* --- synthesised manifests (docker-archive, rootfs) ------------------ */

/* Finish the JSON document w writes into b: *json_out (and *len_out)
 * take it, digest ("sha256:HEX", 72 bytes) names it; b is released on
 * failure. */
static enum err finish_doc(struct jsonw *w, struct buf *b, char *digest,
			   char **json_out, size_t *len_out, struct errmsg *e)
{
	char hex[65];
	enum err rc = jsonw_finish(w, e);

	if (rc) {
		buf_release(b);
		return rc;
	}
	vault_sha256_hex(b->data, b->len, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	*json_out = buf_detach(b, len_out);
	return ERR_OK;
}

static enum err synth_manifest(struct job *j, struct errmsg *e)
{
	struct buf b;
	struct jsonw w;

	buf_init(&b, META_MAX);
	jsonw_init(&w, &b, 0);
	jsonw_obj(&w);
	jsonw_kint(&w, "schemaVersion", 2);
	jsonw_kstr(&w, "mediaType", "application/vnd.oci.image.manifest.v1+json");
	jsonw_key(&w, "config");
	jsonw_obj(&w);
	jsonw_kstr(&w, "mediaType", "application/vnd.oci.image.config.v1+json");
	jsonw_kstr(&w, "digest", j->im->config_digest);
	jsonw_kuint(&w, "size", j->config_len);
	jsonw_obj_end(&w);
	jsonw_key(&w, "layers");
	jsonw_arr(&w);
	for (size_t i = 0; i < j->im->n_layers; i++) {
		jsonw_obj(&w);
		jsonw_kstr(&w, "mediaType", "application/vnd.oci.image.layer.v1.tar");
		jsonw_kstr(&w, "digest", j->im->layers[i].digest);
		jsonw_kuint(&w, "size", j->im->layers[i].size);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	return finish_doc(&w, &b, j->im->digest, &j->manifest_json,
			  &j->manifest_len, e);
}

static enum err docker_config(struct job *j, struct errmsg *e)
{
	char *p = path_join(j->src, j->m.config_path), *hex;
	char digest[72];
	const char *base = strrchr(j->m.config_path, '/');
	enum err rc;

	base = base ? base + 1 : j->m.config_path;
	rc = image_file_digest(p, digest, NULL, e);
	/* legacy "HEX.json" or "blobs/sha256/HEX": the name is the digest */
	hex = xstrndup(base, 64);
	if (!rc && strlen(base) >= 64 && strcmp(hex, digest + 7))
		rc = err_set(e, ERR_INVAL, "config '%s': digest mismatch: content "
			     "is %.19s", j->m.config_path, digest);
	free(hex);
	if (!rc)
		rc = file_read(p, META_MAX, &j->config_json, &j->config_len, e);
	free(p);
	return rc ? rc : take_config(j, digest, e);
}

static enum err docker_import(struct job *j, struct errmsg *e)
{
	char *p = path_join(j->src, "manifest.json"), *text;
	size_t len;
	enum err rc;

	rc = file_read(p, META_MAX, &text, &len, e);
	free(p);
	if (rc)
		return rc;
	rc = image_parse_docker_manifest(text, len, &j->m, e);
	free(text);
	if (rc || (rc = docker_config(j, e)))
		return rc;
	j->im->layers = xcalloc(j->m.n_layers + 1, sizeof(*j->im->layers));
	j->im->n_layers = j->m.n_layers;
	for (size_t i = 0; i < j->m.n_layers && !rc; i++) {
		p = path_join(j->src, j->m.layers[i].path);
		rc = image_file_digest(p, j->im->layers[i].digest,
				       &j->im->layers[i].size, e);
		if (!rc)
			rc = add_layer(j, i, p, e);
		free(p);
	}
	return rc ? rc : synth_manifest(j, e);
}

static enum err rootfs_import(struct job *j, const char *path, struct errmsg *e)
{
	struct buf b;
	struct jsonw w;
	char diff[72], *tmp, *final;
	enum err rc;

	j->im->layers = xcalloc(2, sizeof(*j->im->layers));
	j->im->n_layers = 1;
	if ((rc = image_file_digest(path, j->im->layers[0].digest,
				    &j->im->layers[0].size, e)))
		return rc;
	tmp = xasprintf("%s/layer-0", j->work);
	rc = image_layer_unpack(path, tmp, "rootfs", &j->lim, &j->tot, diff,
				&j->im->layers[0].unpacked, e);
	snprintf(j->im->layers[0].diff_id, 72, "%s", diff);
	final = xasprintf("%s/layers/%s", j->st->dir, diff + 7);
	if (!rc && rename(tmp, final) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		rc = err_sys(e, ERR_IO, "rootfs: store");
	free(tmp);
	free(final);
	if (rc)
		return rc;
	buf_init(&b, META_MAX);
	jsonw_init(&w, &b, 0);
	jsonw_obj(&w);
	jsonw_kstr(&w, "architecture", "amd64");
	jsonw_kstr(&w, "os", "linux");
	jsonw_key(&w, "config");
	jsonw_obj(&w);
	jsonw_obj_end(&w);
	jsonw_key(&w, "rootfs");
	jsonw_obj(&w);
	jsonw_kstr(&w, "type", "layers");
	jsonw_key(&w, "diff_ids");
	jsonw_arr(&w);
	jsonw_str(&w, diff);
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	jsonw_obj_end(&w);
	rc = finish_doc(&w, &b, j->im->config_digest, &j->config_json,
			&j->config_len, e);
	return rc ? rc : synth_manifest(j, e);
}

/* --- format detection ------------------------------------------------ */

enum kind { K_OCI_DIR, K_OCI_ARCHIVE, K_DOCKER, K_ROOTFS };

static bool has(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	bool ok = path_exists(p);

	free(p);
	return ok;
}

static enum err save_blob(struct job *j, const char *digest, const char *data,
			  size_t len, struct errmsg *e)
{
	char *p = blob_path(j->st->dir, digest);
	enum err rc = file_write_atomic(p, data, len, 0600, e);

	free(p);
	return rc;
}

static void default_name(const char *path, const char *ref, char **out)
{
	const char *base = strrchr(path, '/');
	char *n;
	size_t len;

	const char *last = ref ? strrchr(ref, '/') : NULL;

	/* "registry/repo/name:tag" -> "name:tag"; a bare tag says too little */
	ref = last ? last + 1 : ref;
	if (ref && strchr(ref, ':') && image_ref_valid(ref) && !strchr(ref, '@')) {
		*out = xstrdup(ref);
		return;
	}
	base = base && base[1] ? base + 1 : path;
	n = xstrdup(base);
	for (char *s = n; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = "abcdefghijklmnopqrstuvwxyz"[*s - 'A'];
	for (const char *ext = ".tar"; ext; ext = NULL) {
		char *x = strstr(n, ext);

		if (x && x != n)
			*x = '\0';
	}
	len = strlen(n);
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", n[i]))
			n[i] = '-';
	if (!image_ref_valid(n)) {
		free(n);
		n = xstrdup("image");
	}
	*out = n;
}

/* An archive: unpack it (metadata and blobs only; layers are read from
 * there), then read it as an OCI layout or a docker-archive. A tar that
 * is neither is a rootfs: imported as one layer from the file itself. */
static enum err import_archive(struct job *j, const char *path, enum kind *k,
			       struct errmsg *e)
{
	char *outer = path_join(j->work, "archive");
	bool image;
	enum err rc;

	j->src = outer;
	if ((rc = image_outer_scan(path, &image, e)))
		return rc;
	if (!image) {
		*k = K_ROOTFS;
		return rootfs_import(j, path, e);
	}
	if ((rc = image_outer_unpack(path, outer, &j->lim, e)))
		return rc;
	if (has(outer, "manifest.json")) {
		*k = K_DOCKER;
		return docker_import(j, e);
	}
	*k = K_OCI_ARCHIVE;
	if (!has(outer, "oci-layout"))
		return err_set(e, ERR_INVAL, "'%s': has index.json but no "
			       "oci-layout file", path);
	if ((rc = oci_manifest(j, e)) || (rc = oci_config(j, e)))
		return rc;
	return oci_layers(j, e);
}

static enum err import_dir(struct job *j, const char *path, struct errmsg *e)
{
	enum err rc;

	j->src = xstrdup(path);
	if (!has(path, "oci-layout") || !has(path, "index.json"))
		return err_set(e, ERR_INVAL, "'%s' is not an OCI image layout (no "
			       "oci-layout and index.json)", path);
	if ((rc = oci_manifest(j, e)) || (rc = oci_config(j, e)))
		return rc;
	return oci_layers(j, e);
}

static enum err finish(struct job *j, const char *path, enum kind k,
		       const char *name, struct errmsg *e)
{
	static const char *const kinds[] = { "oci-layout", "oci-archive",
					     "docker-archive", "rootfs" };
	char *abs = realpath(path, NULL);
	enum err rc;

	if (name)
		j->im->name = xstrdup(name);
	else
		default_name(path, j->m.ref_name, &j->im->name);
	j->im->format = xstrdup(kinds[k]);
	j->im->source = abs ? abs : xstrdup(path);
	j->im->imported = (int64_t)time(NULL);
	if ((rc = save_blob(j, j->im->digest, j->manifest_json, j->manifest_len, e)) ||
	    (rc = save_blob(j, j->im->config_digest, j->config_json, j->config_len, e)))
		return rc;
	return image_record_write(j->st, j->im, e);
}

static void job_release(struct job *j)
{
	struct errmsg e2;

	if (j->work && path_exists(j->work) && rm_rf(j->work, &e2) != ERR_OK)
		(void)e2;
	free(j->work);
	free(j->src);
	free(j->manifest_json);
	free(j->config_json);
	image_manifest_release(&j->m);
	image_info_free(j->im);
}

enum err image_import(struct image_store *st, const char *path,
		      const char *name, const struct image_limits *lim,
		      struct image_info **im_out, struct errmsg *e)
{
	static unsigned seq;
	struct job j = { .st = st };
	struct stat sb;
	enum kind k = K_OCI_DIR;
	enum err rc;

	if (name && (!image_ref_valid(name) || strchr(name, '@')))
		return err_set(e, ERR_INVAL, "'%.200s' is not an image name "
			       "([a-z0-9][a-z0-9._:-]*, at most 128)", name);
	if (stat(path, &sb) < 0)
		return err_sys(e, ERR_IO, "'%s'", path);
	image_limits_fill(lim, &j.lim);
	j.im = xcalloc(1, sizeof(*j.im));
	j.work = xasprintf("%s/tmp/imp-%d-%u", st->dir, (int)getpid(), seq++);
	if (mkdir(j.work, 0700) < 0)
		rc = err_sys(e, ERR_IO, "work directory '%s'", j.work);
	else if (S_ISDIR(sb.st_mode))
		rc = import_dir(&j, path, e);
	else
		rc = import_archive(&j, path, &k, e);
	if (!rc)
		rc = finish(&j, path, k, name, e);
	if (rc) {
		err_prefix(e, "import '%s'", path);
	} else {
		*im_out = j.im;
		j.im = NULL;
	}
	job_release(&j);
	return rc;
}
