/*
 * store.c - the image store directory: lock, records, list, remove, gc,
 * and the layers a box mounts (layout in image.h).
 */
#include "image/image_int.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonw.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "base/num.h"
#include "base/banned.h"

#define RECORD_MAX ((size_t)4 << 20)

char *image_store_default_dir(void)
{
	return path_user_data("ASSAY_IMAGES", "images");
}

static enum err make_dirs(const char *dir, struct errmsg *e)
{
	static const char *const subs[] = { "blobs/sha256", "layers", "images", "tmp" };
	enum err rc;

	if ((rc = mkdir_p(dir, 0700, e)))
		return rc;
	if (chmod(dir, 0700) < 0)
		return err_sys(e, ERR_IO, "image store '%s': chmod", dir);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char *p = path_join(dir, subs[i]);

		rc = mkdir_p(p, 0700, e);
		free(p);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

static enum err store_open(const char *dir, bool create,
			   struct image_store **st_out, struct errmsg *e)
{
	struct image_store *st = xcalloc(1, sizeof(*st));
	char *lock;
	enum err rc;

	st->dir = dir ? xstrdup(dir) : image_store_default_dir();
	st->lock_fd = -1;
	if (!create && !path_exists(st->dir)) {
		st->absent = true;   /* nothing imported yet: an empty store */
		*st_out = st;
		return ERR_OK;
	}
	if ((rc = make_dirs(st->dir, e))) {
		image_store_close(st);
		return err_prefix(e, "image store");
	}
	lock = path_join(st->dir, "lock");
	st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(lock);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_SH) < 0) {
		rc = err_sys(e, ERR_IO, "image store '%s': lock", st->dir);
		image_store_close(st);
		return rc;
	}
	*st_out = st;
	return ERR_OK;
}

enum err image_store_open(const char *dir, struct image_store **st_out,
			  struct errmsg *e)
{
	return store_open(dir, true, st_out, e);
}

enum err image_store_open_existing(const char *dir, struct image_store **st_out,
				   struct errmsg *e)
{
	return store_open(dir, false, st_out, e);
}

void image_store_close(struct image_store *st)
{
	if (!st)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->dir);
	free(st);
}

const char *image_store_dir(const struct image_store *st)
{
	return st->dir;
}

static bool name_valid(const char *s, size_t n)
{
	if (n == 0 || n > 128 || !((s[0] >= 'a' && s[0] <= 'z') ||
				  (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._:-", s[i]) || !s[i])
			return false;
	return true;
}

bool image_ref_valid(const char *ref)
{
	const char *at = strchr(ref, '@');

	if (!at)
		return name_valid(ref, strlen(ref));
	if (!name_valid(ref, (size_t)(at - ref)) || strncmp(at + 1, "sha256:", 7) ||
	    strlen(at + 8) != 64)
		return false;
	for (const char *p = at + 8; *p; p++)
		if (!strchr("0123456789abcdef", *p))
			return false;
	return true;
}

void image_info_free(struct image_info *im)
{
	if (!im)
		return;
	free(im->name);
	free(im->format);
	free(im->source);
	free(im->layers);
	image_config_release(&im->config);
	free(im);
}

/* --- records ------------------------------------------------------- */

static void strv_write(struct jsonw *w, const char *key, char *const *v)
{
	jsonw_key(w, key);
	if (!v) {
		jsonw_null(w);
		return;
	}
	jsonw_arr(w);
	for (size_t i = 0; v[i]; i++)
		jsonw_str(w, v[i]);
	jsonw_arr_end(w);
}

static void config_write(struct jsonw *w, const struct image_config *c)
{
	jsonw_key(w, "config");
	jsonw_obj(w);
	strv_write(w, "Entrypoint", c->entrypoint);
	strv_write(w, "Cmd", c->cmd);
	strv_write(w, "Env", c->env);
	jsonw_kstr(w, "WorkingDir", c->workdir ? c->workdir : "");
	jsonw_kstr(w, "User", c->user ? c->user : "");
	jsonw_key(w, "ExposedPorts");
	jsonw_obj(w);
	for (size_t i = 0; i < c->n_ports; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d/tcp", c->ports[i]);
		jsonw_key(w, k);
		jsonw_obj(w);
		jsonw_obj_end(w);
	}
	jsonw_obj_end(w);
	jsonw_obj_end(w);
}

static void record_json(struct jsonw *w, const struct image_info *im)
{
	jsonw_obj(w);
	jsonw_kstr(w, "name", im->name);
	jsonw_kstr(w, "digest", im->digest);
	jsonw_kstr(w, "config_digest", im->config_digest);
	jsonw_kstr(w, "format", im->format);
	jsonw_kstr(w, "source", im->source);
	jsonw_kint(w, "imported", im->imported);
	jsonw_key(w, "layers");
	jsonw_arr(w);
	for (size_t i = 0; i < im->n_layers; i++) {
		jsonw_obj(w);
		jsonw_kstr(w, "digest", im->layers[i].digest);
		jsonw_kstr(w, "diff_id", im->layers[i].diff_id);
		jsonw_kuint(w, "size", im->layers[i].size);
		jsonw_kuint(w, "unpacked", im->layers[i].unpacked);
		if (im->layers[i].sealed[0])
			jsonw_kstr(w, "sealed", im->layers[i].sealed);
		if (im->layers[i].base[0])
			jsonw_kstr(w, "base", im->layers[i].base);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	config_write(w, &im->config);
	jsonw_obj_end(w);
}

enum err image_record_json(const struct image_info *im, struct buf *out,
			   struct errmsg *e)
{
	struct jsonw w;

	jsonw_init(&w, out, 0);
	record_json(&w, im);
	return jsonw_finish(&w, e);
}

enum err image_record_write(struct image_store *st, const struct image_info *im,
			    struct errmsg *e)
{
	struct buf b;
	struct jsonw w;
	char *path;
	enum err rc;

	buf_init(&b, RECORD_MAX);
	jsonw_init(&w, &b, 0);
	record_json(&w, im);
	if ((rc = jsonw_finish(&w, e))) {
		buf_release(&b);
		return rc;
	}
	path = xasprintf("%s/images/%s.json", st->dir, im->name);
	rc = file_write_atomic(path, b.data, b.len, 0600, e);
	free(path);
	buf_release(&b);
	return rc;
}

static void copy72(char out[72], json_t *v)
{
	snprintf(out, 72, "%s", json_string_value(v) ? json_string_value(v) : "");
}

/* "sha256:" and 64 lower-case hex: a diff id names a directory. */
static bool digest_hex_ok(const char *d)
{
	return strlen(d) == 71 && !strncmp(d, "sha256:", 7) &&
	       strspn(d + 7, "0123456789abcdef") == 64;
}

static enum err record_layers(json_t *ls, struct image_info *im, struct errmsg *e)
{
	size_t i;
	json_t *l;

	if (!json_is_array(ls) || json_array_size(ls) > IMAGE_MAX_LAYERS)
		return err_set(e, ERR_PARSE, "image '%s': bad record", im->name);
	im->layers = xcalloc(json_array_size(ls) + 1, sizeof(*im->layers));
	json_array_foreach(ls, i, l) {
		copy72(im->layers[i].digest, json_object_get(l, "digest"));
		copy72(im->layers[i].diff_id, json_object_get(l, "diff_id"));
		im->layers[i].size = (uint64_t)json_integer_value(json_object_get(l, "size"));
		im->layers[i].unpacked =
			(uint64_t)json_integer_value(json_object_get(l, "unpacked"));
		copy72(im->layers[i].sealed, json_object_get(l, "sealed"));
		snprintf(im->layers[i].base, sizeof(im->layers[i].base), "%s",
			 json_string_value(json_object_get(l, "base")) ?
			 json_string_value(json_object_get(l, "base")) : "");
		if (strlen(im->layers[i].diff_id) != 71 ||
		    !digest_hex_ok(im->layers[i].diff_id) ||
		    (im->layers[i].sealed[0] && !digest_hex_ok(im->layers[i].sealed)))
			return err_set(e, ERR_PARSE, "image '%s': bad record", im->name);
	}
	im->n_layers = json_array_size(ls);
	return ERR_OK;
}

/* The record's config is stored in the OCI config's own shape, so the
 * same parser reads both. */
static enum err record_parse(const char *name, const char *text, size_t len,
			     struct image_info *im, struct errmsg *e)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je), *cfg;
	char *cjson;
	char ids[IMAGE_MAX_LAYERS][72];
	size_t n;
	enum err rc;

	if (!j)
		return err_set(e, ERR_PARSE, "image '%s': bad record: %s", name, je.text);
	im->name = xstrdup(name);
	copy72(im->digest, json_object_get(j, "digest"));
	copy72(im->config_digest, json_object_get(j, "config_digest"));
	im->format = xstrdup(json_string_value(json_object_get(j, "format")));
	im->source = xstrdup(json_string_value(json_object_get(j, "source")));
	im->imported = json_integer_value(json_object_get(j, "imported"));
	rc = record_layers(json_object_get(j, "layers"), im, e);
	cfg = json_pack("{s:O, s:{s:[]}}", "config", json_object_get(j, "config"),
			"rootfs", "diff_ids");
	cjson = cfg ? json_dumps(cfg, 0) : NULL;
	if (!rc && (!cjson || image_parse_config(cjson, strlen(cjson),
						 &im->config, ids, &n, e)))
		rc = err_set(e, ERR_PARSE, "image '%s': bad record config", name);
	free(cjson);
	json_decref(cfg);
	json_decref(j);
	return rc;
}

enum err image_record_read(struct image_store *st, const char *name,
			   struct image_info **im_out, struct errmsg *e)
{
	char *path = xasprintf("%s/images/%s.json", st->dir, name), *text;
	struct image_info *im;
	size_t len;
	enum err rc;

	if (!path_exists(path)) {
		free(path);
		return err_set(e, ERR_NOTFOUND, "image '%s' is not imported", name);
	}
	rc = file_read(path, RECORD_MAX, &text, &len, e);
	free(path);
	if (rc)
		return rc;
	im = xcalloc(1, sizeof(*im));
	rc = record_parse(name, text, len, im, e);
	free(text);
	if (rc) {
		image_info_free(im);
		return rc;
	}
	*im_out = im;
	return ERR_OK;
}

enum err image_record_parse_mem(const char *name, const char *text,
				size_t len, struct image_info **im_out,
				struct errmsg *e)
{
	struct image_info *im;
	enum err rc;

	if (!name_valid(name, strlen(name)) || len > RECORD_MAX)
		return err_set(e, ERR_PARSE, "image '%.128s': bad record", name);
	im = xcalloc(1, sizeof(*im));
	rc = record_parse(name, text, len, im, e);
	if (rc) {
		image_info_free(im);
		return rc;
	}
	*im_out = im;
	return ERR_OK;
}

char *image_layer_dir(struct image_store *st, const char *diff_id)
{
	char *p;

	if (!digest_hex_ok(diff_id))
		return NULL;
	p = xasprintf("%s/layers/%s", st->dir, diff_id + 7);
	if (!is_dir(p)) {
		free(p);
		return NULL;
	}
	return p;
}

enum err image_find(struct image_store *st, const char *ref,
		    struct image_info **im_out, struct errmsg *e)
{
	const char *at = strchr(ref, '@');
	char *name = at ? xstrndup(ref, (size_t)(at - ref)) : xstrdup(ref);
	struct image_info *im;
	enum err rc;

	if (!image_ref_valid(ref)) {
		free(name);
		return err_set(e, ERR_INVAL, "'%.200s' is not an image reference "
			       "(NAME or NAME@sha256:HEX)", ref);
	}
	rc = image_record_read(st, name, &im, e);
	free(name);
	if (rc)
		return rc;
	if (at && strcmp(at + 1, im->digest)) {
		rc = err_set(e, ERR_NOTFOUND, "image '%s' is %s, not the pinned %s",
			     im->name, im->digest, at + 1);
		image_info_free(im);
		return rc;
	}
	*im_out = im;
	return ERR_OK;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp((*(struct image_info *const *)a)->name,
		      (*(struct image_info *const *)b)->name);
}

enum err image_list(struct image_store *st, struct image_info ***list_out,
		    size_t *n_out, struct errmsg *e)
{
	char *dir = path_join(st->dir, "images");
	DIR *d = opendir(dir);
	struct image_info **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	enum err rc = ERR_OK;

	free(dir);
	if (!d && st->absent) {
		*list_out = NULL;
		*n_out = 0;
		return ERR_OK;
	}
	if (!d)
		return err_sys(e, ERR_IO, "image store '%s': list", st->dir);
	while (!rc && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		name = xstrndup(de->d_name, len - 5);
		if (name_valid(name, strlen(name))) {
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			if ((rc = image_record_read(st, name, &v[n], e)) == ERR_OK)
				n++;
		}
		free(name);
	}
	closedir(d);
	if (rc) {
		image_list_free(v, n);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_info);
	*list_out = v;
	*n_out = n;
	return ERR_OK;
}

void image_list_free(struct image_info **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_info_free(list[i]);
	free(list);
}

enum err image_remove(struct image_store *st, const char *name,
		      struct errmsg *e)
{
	char *path;
	enum err rc = ERR_OK;

	if (!name_valid(name, strlen(name)))
		return err_set(e, ERR_INVAL, "'%.200s' is not an image name", name);
	path = xasprintf("%s/images/%s.json", st->dir, name);
	if (unlink(path) < 0)
		rc = errno == ENOENT
			? err_set(e, ERR_NOTFOUND, "image '%s' is not imported", name)
			: err_sys(e, ERR_IO, "remove image '%s'", name);
	free(path);
	return rc;
}

/* --- gc -------------------------------------------------------------- */

static bool in_use(char **keep, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keep[i], hex))
			return true;
	return false;
}

static uint64_t tree_bytes(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

static enum err sweep(const char *dir, char **keep, size_t n, size_t *removed,
		      uint64_t *bytes, struct errmsg *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	enum err rc = ERR_OK;

	if (!d)
		return err_sys(e, ERR_IO, "gc: open '%s'", dir);
	while (!rc && (de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.' || (keep && in_use(keep, n, de->d_name)))
			continue;
		p = path_join(dir, de->d_name);
		*bytes += tree_bytes(p);
		if ((rc = rm_rf(p, e)) == ERR_OK)
			(*removed)++;
		free(p);
	}
	closedir(d);
	return rc;
}

static void keep_add(char ***keep, size_t *n, size_t *cap, const char *digest)
{
	if (strncmp(digest, "sha256:", 7))
		return;
	*keep = xgrow(*keep, cap, *n + 1, sizeof(**keep));
	(*keep)[(*n)++] = xstrdup(digest + 7);
}

static enum err gc_locked(struct image_store *st, size_t *removed,
			  uint64_t *bytes, struct errmsg *e)
{
	struct image_info **v;
	char **keep = NULL, *dir;
	size_t n, nk = 0, cap = 0;
	enum err rc;

	if ((rc = image_list(st, &v, &n, e)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		keep_add(&keep, &nk, &cap, v[i]->digest);
		keep_add(&keep, &nk, &cap, v[i]->config_digest);
		for (size_t j = 0; j < v[i]->n_layers; j++)
			keep_add(&keep, &nk, &cap, v[i]->layers[j].diff_id);
	}
	image_list_free(v, n);
	dir = path_join(st->dir, "layers");
	rc = sweep(dir, keep, nk, removed, bytes, e);
	free(dir);
	dir = path_join(st->dir, "blobs/sha256");
	if (!rc)
		rc = sweep(dir, keep, nk, removed, bytes, e);
	free(dir);
	dir = path_join(st->dir, "tmp");
	if (!rc)
		rc = sweep(dir, NULL, 0, removed, bytes, e);
	free(dir);
	for (size_t i = 0; i < nk; i++)
		free(keep[i]);
	free(keep);
	return rc;
}

enum err image_gc(struct image_store *st, size_t *removed_out,
		  uint64_t *bytes_out, struct errmsg *e)
{
	enum err rc;

	*removed_out = 0;
	*bytes_out = 0;
	if (st->absent)
		return ERR_OK;
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK
			? err_set(e, ERR_INVAL, "image store '%s' is in use (an "
				  "import or a run); try gc again later", st->dir)
			: err_sys(e, ERR_IO, "image store '%s': lock", st->dir);
	rc = gc_locked(st, removed_out, bytes_out, e);
	if (flock(st->lock_fd, LOCK_SH) < 0 && !rc)
		rc = err_sys(e, ERR_IO, "image store '%s': lock", st->dir);
	return rc;
}

enum err image_box_layers(struct image_store *st, const struct image_info *im,
			  char **dir_out, char ***lowers_out, struct errmsg *e)
{
	char **v = xcalloc(im->n_layers + 1, sizeof(*v));

	for (size_t i = 0; i < im->n_layers; i++) {
		char *p;

		v[i] = xstrdup(im->layers[im->n_layers - 1 - i].diff_id + 7);
		p = xasprintf("%s/layers/%s", st->dir, v[i]);
		if (!is_dir(p)) {
			free(p);
			strv_free(v);
			return err_set(e, ERR_NOTFOUND, "image '%s': layer %s is "
				       "missing from the store (import it again)",
				       im->name, im->layers[im->n_layers - 1 - i].diff_id);
		}
		free(p);
	}
	*dir_out = path_join(st->dir, "layers");
	*lowers_out = v;
	return ERR_OK;
}

enum err image_file_digest(const char *path, char out[72], uint64_t *size_out,
			   struct errmsg *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct vault_sha256 h;
	unsigned char *buf;
	uint64_t size = 0;
	char hex[65];
	ssize_t n;

	if (fd < 0)
		return err_sys(e, ERR_IO, "open '%s'", path);
	buf = xmalloc(1 << 17);
	vault_sha256_init(&h);
	while ((n = read(fd, buf, 1 << 17)) > 0) {
		vault_sha256_update(&h, buf, (size_t)n);
		size += (uint64_t)n;
	}
	free(buf);
	close(fd);
	if (n < 0)
		return err_sys(e, ERR_IO, "read '%s'", path);
	vault_sha256_final_hex(&h, hex);
	snprintf(out, 72, "sha256:%s", hex);
	if (size_out)
		*size_out = size;
	return ERR_OK;
}

/* --- users of an image ----------------------------------------------- */

/* The image's /etc/FILE as its top-most layer that has it holds it. */
static char *etc_file(struct image_store *st, const struct image_info *im,
		      const char *file)
{
	for (size_t i = im->n_layers; i-- > 0;) {
		char *p = xasprintf("%s/layers/%s/etc/%s", st->dir,
				    im->layers[i].diff_id + 7, file), *text = NULL;
		struct stat sb;
		struct errmsg e;
		size_t len;
		bool found = lstat(p, &sb) == 0;

		if (found && S_ISREG(sb.st_mode) &&
		    file_read(p, (size_t)1 << 20, &text, &len, &e) != ERR_OK)
			text = NULL;
		free(p);
		if (found)   /* a whiteout or a link: the file is not there */
			return text;
	}
	return NULL;
}

/* Field 3 (and 4) of the line whose field 1 is key, or whose field 3 is
 * key when by_id. */
static bool db_find(const char *text, const char *key, bool by_id,
		    long *id_out, long *gid_out)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		char f[4][64] = { "" };
		int k = 0;
		size_t n;

		for (const char *p = line; k < 4 && p < (end ? end : p + strlen(p));) {
			const char *c = memchr(p, ':', (size_t)((end ? end : p + strlen(p)) - p));
			const char *stop = c ? c : (end ? end : p + strlen(p));

			n = (size_t)(stop - p);
			snprintf(f[k++], sizeof(f[0]), "%.*s", (int)(n < 63 ? n : 63), p);
			if (!c)
				break;
			p = c + 1;
		}
		/* an id that is not a number is -1: outside the box's ids,
		 * refused (never 0, root) */
		if (k >= 3 && !strcmp(by_id ? f[2] : f[0], key)) {
			if (!num_long(f[2], 0, LONG_MAX, id_out))
				*id_out = -1;
			if (gid_out && (k < 4 || !num_long(f[3], 0, LONG_MAX, gid_out)))
				*gid_out = k >= 4 ? -1 : 0;
			return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 10;
}

enum err image_user_ids(struct image_store *st, const struct image_info *im,
			const char *user, unsigned *uid_out, unsigned *gid_out,
			struct errmsg *e)
{
	char *u = xstrdup(user && *user ? user : "root"), *g = strchr(u, ':');
	char *passwd = etc_file(st, im, "passwd"), *group = NULL;
	long uid = -1, gid = 0, pgid = 0;
	enum err rc = ERR_OK;

	if (g)
		*g++ = '\0';
	if (all_digits(u)) {
		(void)num_long(u, 0, LONG_MAX, &uid);   /* all_digits: < 10 */
		if (!passwd || !db_find(passwd, u, true, &uid, &pgid))
			pgid = 0;
	} else if (!passwd || !db_find(passwd, u, false, &uid, &pgid)) {
		rc = err_set(e, ERR_INVAL, "image '%s': no user '%s' in its "
			     "/etc/passwd", im->name, u);
	}
	gid = pgid;
	if (!rc && g && all_digits(g))
		(void)num_long(g, 0, LONG_MAX, &gid);
	else if (!rc && g && (!(group = etc_file(st, im, "group")) ||
			      !db_find(group, g, false, &gid, NULL)))
		rc = err_set(e, ERR_INVAL, "image '%s': no group '%s' in its "
			     "/etc/group", im->name, g);
	if (!rc && (uid < 0 || uid > 65535 || gid < 0 || gid > 65535))
		rc = err_set(e, ERR_INVAL, "image '%s': user '%s' maps outside the "
			     "box's ids (0-65535)", im->name, user);
	if (!rc) {
		*uid_out = (unsigned)uid;
		*gid_out = (unsigned)gid;
	}
	free(u);
	free(passwd);
	free(group);
	return rc;
}
