/*
 * carry.c - images a sealed archive carries: built at seal time from the
 * image store, registered with the engine at a sealed run (carry.h).
 */
#include "cli/carry.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "engine/engine.h"
#include "image/image.h"
#include "base/banned.h"

#define IMAGES_DIR VAULT_CARRY_DIR "/images/"
#define LAYERS_DIR VAULT_CARRY_DIR "/layers/"

struct carried_image {
	char *name;
	char *record;
	size_t record_len;
	char *record_path;
	size_t n_tars;
	char *tar_path[IMAGE_MAX_LAYERS];
	struct buf tar[IMAGE_MAX_LAYERS];
};

struct cli_carry {
	struct carried_image *im;
	size_t n_im;
	struct vault_seal_extra *extra;
	size_t n_extra, cap_extra;
};

/* --- sealing ------------------------------------------------------------ */

/* The name of a reference (NAME or NAME@sha256:...) is name. */
static bool ref_is(const char *ref, const char *name)
{
	size_t n = strlen(name);

	return ref && task_image_is_ref(ref) && !strncmp(ref, name, n) &&
	       (ref[n] == '\0' || ref[n] == '@');
}

static bool task_names(const struct task *t, const char *name)
{
	if (ref_is(t->agent_image, name))
		return true;
	for (size_t i = 0; i < t->n_services; i++)
		if (ref_is(t->services[i].image, name))
			return true;
	return false;
}

/* Each private layer of im as a tar, its digest sealed in the record. */
static enum err carry_tars(struct image_store *st, struct image_info *im,
			   struct carried_image *ci, struct errmsg *e)
{
	enum err rc = ERR_OK;

	for (size_t l = 0; l < im->n_layers && !rc; l++) {
		struct image_layer *ly = &im->layers[l];

		if (ly->base[0])
			continue;
		buf_init(&ci->tar[ci->n_tars], VAULT_SEAL_MAX_TASK_BYTES);
		ci->tar_path[ci->n_tars] = xasprintf(LAYERS_DIR "%s.tar",
						     ly->diff_id + 7);
		rc = image_layer_tar(st, ly->diff_id, &ci->tar[ci->n_tars++],
				     ly->sealed, e);
	}
	return rc;
}

static enum err carry_one(struct image_store *st, const char *name,
			  const char *const *private, size_t n,
			  struct carried_image *ci, struct errmsg *e)
{
	struct image_info *im = NULL;
	struct buf rec;
	enum err rc;

	ci->name = xstrdup(name);
	buf_init(&rec, (size_t)4 << 20);
	if (!(rc = image_find(st, name, &im, e)) &&
	    !(rc = image_carry_mark(st, im, private, n, e)) &&
	    !(rc = carry_tars(st, im, ci, e))) {
		/* the sealing machine's path is not the run's business */
		free(im->source);
		im->source = xstrdup("sealed archive");
		rc = image_record_json(im, &rec, e);
	}
	image_info_free(im);
	ci->record = buf_detach(&rec, &ci->record_len);
	return rc ? err_prefix(e, "--private-image '%s'", name) : ERR_OK;
}

static void extra_add(struct cli_carry *c, const char *task, const char *path,
		      const void *data, size_t len)
{
	struct vault_seal_extra *x;

	c->extra = xgrow(c->extra, &c->cap_extra, c->n_extra + 1, sizeof(*c->extra));
	x = &c->extra[c->n_extra++];
	x->task = xstrdup(task);   /* the suite goes before the seal */
	x->path = path;
	x->data = data;
	x->len = len;
}

/* The files of image ci for every task that names it. */
static void carry_files(struct cli_carry *c, const struct suite *su,
			struct carried_image *ci)
{
	for (size_t t = 0; t < su->n_tasks; t++) {
		if (!task_names(su->tasks[t], ci->name))
			continue;
		extra_add(c, su->tasks[t]->id, ci->record_path, ci->record,
			  ci->record_len);
		for (size_t i = 0; i < ci->n_tars; i++)
			extra_add(c, su->tasks[t]->id, ci->tar_path[i],
				  ci->tar[i].data, ci->tar[i].len);
	}
}

static enum err check_named(const struct suite *su, const char *name,
			    struct errmsg *e)
{
	for (size_t t = 0; t < su->n_tasks; t++)
		if (task_names(su->tasks[t], name))
			return ERR_OK;
	return err_set(e, ERR_INVAL, "--private-image '%s': no task of the "
		       "suite names that image", name);
}

enum err cli_carry_build(const struct suite *su, const char *const *private,
			 size_t n, struct cli_carry **out, struct errmsg *e)
{
	struct cli_carry *c = xcalloc(1, sizeof(*c));
	struct image_store *st = NULL;
	enum err rc = ERR_OK;

	c->im = xcalloc(n + 1, sizeof(*c->im));
	for (size_t i = 0; i < n && !rc; i++)
		rc = check_named(su, private[i], e);
	if (!rc && n)
		rc = image_store_open_existing(NULL, &st, e);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = carry_one(st, private[i], private, n, &c->im[c->n_im++], e);
		c->im[i].record_path = xasprintf(IMAGES_DIR "%s.json", private[i]);
		if (!rc)
			carry_files(c, su, &c->im[i]);
	}
	image_store_close(st);
	if (rc) {
		cli_carry_free(c);
		return rc;
	}
	*out = c;
	return ERR_OK;
}

const struct vault_seal_extra *cli_carry_extra(const struct cli_carry *c,
					       size_t *n_out)
{
	*n_out = c ? c->n_extra : 0;
	return c ? c->extra : NULL;
}

void cli_carry_free(struct cli_carry *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_extra; i++)
		free((char *)c->extra[i].task);
	for (size_t i = 0; i < c->n_im; i++) {
		for (size_t t = 0; t < c->im[i].n_tars; t++) {
			free(c->im[i].tar_path[t]);
			buf_release(&c->im[i].tar[t]);
		}
		free(c->im[i].name);
		free(c->im[i].record);
		free(c->im[i].record_path);
	}
	free(c->im);
	free(c->extra);
	free(c);
}

/* --- a sealed run ----------------------------------------------------- */

bool cli_carry_is_carried(const char *path)
{
	size_t n = strlen(VAULT_CARRY_DIR);

	return !strncmp(path, VAULT_CARRY_DIR, n) && path[n] == '/';
}

/* The middle of path between prefix and suffix, or NULL (caller frees). */
static char *between(const char *path, const char *prefix, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix), n = strlen(path);

	if (n <= p + s || strncmp(path, prefix, p) || strcmp(path + n - s, suffix))
		return NULL;
	return xstrndup(path + p, n - p - s);
}

static enum err register_one(const char *task, const struct task_file *files,
			     size_t n, const struct task_file *rec, char *name,
			     struct errmsg *e)
{
	struct engine_carried_tar *tars = xcalloc(n + 1, sizeof(*tars));
	struct engine_carried c = { name, (const char *)rec->data, rec->len,
				    tars, 0 };
	enum err rc;

	for (size_t i = 0; i < n; i++) {
		char *hex = between(files[i].path, LAYERS_DIR, ".tar");

		if (!hex)
			continue;
		tars[c.n_tars].diff_hex = hex;
		tars[c.n_tars].data = files[i].data;
		tars[c.n_tars++].len = files[i].len;
	}
	rc = engine_images_carry(task, &c, e);
	for (size_t i = 0; i < c.n_tars; i++)
		free((char *)tars[i].diff_hex);
	free(tars);
	return rc;
}

enum err cli_carry_register(const char *task, const struct task_file *files,
			    size_t n, bool *any_out, struct errmsg *e)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < n && !rc; i++) {
		char *name = between(files[i].path, IMAGES_DIR, ".json");

		if (!name)
			continue;
		*any_out = true;
		rc = register_one(task, files, n, &files[i], name, e);
		free(name);
	}
	return rc;
}
