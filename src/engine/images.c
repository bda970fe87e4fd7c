/*
 * images.c - tasks' image references against the image store: pinning
 * before a run (every NAME becomes NAME@sha256:DIGEST of what is
 * imported, so the run's task digests name the images it ran), and what
 * a box of an imported image needs (the store's layers, the config's
 * defaults), cached for the process: the engine is single-threaded and
 * boxes of one image are spawned many times.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "image/image.h"
#include "sandbox/sandbox.h"
#include "base/num.h"
#include "base/banned.h"

#define CACHE_MAX 64
/* The agent image the repository builds (`make agent-image`). */
#define AGENT_IMAGE "assay-agent"

struct cached {
	char *ref;                 /* pinned */
	struct image_info *im;     /* owned, or borrowed from carried[] */
	struct image_store *st;    /* store or mem_store (borrowed) */
	bool sealed;               /* from a sealed archive */
	char *dir;
	char **lowers;
};

static struct image_store *store;  /* held (shared lock) for the process */
static struct cached cache[CACHE_MAX];
static size_t n_cache;

/* Images a sealed archive carries: their records, and the memory-only
 * store (a tmpfs held by mem_fd, reached as /proc/self/fd/N) that holds
 * their layers for this process. */
static struct image_info *carried[CACHE_MAX];
static size_t n_carried;
static struct image_store *mem_store;
static int mem_fd = -1;

static enum err open_store(struct errmsg *e)
{
	return store ? ERR_OK : image_store_open_existing(NULL, &store, e);
}

static struct image_info *carried_find(const char *name, size_t n)
{
	for (size_t i = 0; i < n_carried; i++)
		if (strlen(carried[i]->name) == n && !strncmp(carried[i]->name, name, n))
			return carried[i];
	return NULL;
}

/* A reference to a carried name: its sealed record, or ERR_NOTFOUND for
 * a pin to another digest; *im_out NULL when the name is not carried. */
static enum err carried_ref(const char *ref, struct image_info **im_out,
			    struct errmsg *e)
{
	const char *at = strchr(ref, '@');
	struct image_info *im = carried_find(ref, at ? (size_t)(at - ref)
						     : strlen(ref));

	*im_out = im;
	if (im && at && strcmp(at + 1, im->digest))
		return err_set(e, ERR_NOTFOUND, "image '%s' (sealed) is %s, not "
			       "the pinned %s", im->name, im->digest, at + 1);
	return ERR_OK;
}

static enum err resolve(const char *ref, struct cached *c, struct errmsg *e)
{
	enum err rc = carried_ref(ref, &c->im, e);

	if (rc)
		return rc;
	c->sealed = c->im != NULL;
	if (!c->sealed && ((rc = open_store(e)) ||
			   (rc = image_find(store, ref, &c->im, e))))
		return rc;
	c->st = c->sealed ? mem_store : store;
	if ((rc = image_box_layers(c->st, c->im, &c->dir, &c->lowers, e)) &&
	    !c->sealed)
		image_info_free(c->im);
	return rc;
}

/* The image for a pinned (or plain) reference, from the cache. */
static enum err lookup(const char *ref, struct cached **out, struct errmsg *e)
{
	struct cached *c;
	enum err rc;

	for (size_t i = 0; i < n_cache; i++)
		if (!strcmp(cache[i].ref, ref)) {
			*out = &cache[i];
			return ERR_OK;
		}
	if (n_cache == CACHE_MAX)
		return err_set(e, ERR_LIMIT, "more than %d images in one run",
			       CACHE_MAX);
	c = &cache[n_cache];
	memset(c, 0, sizeof(*c));
	if ((rc = resolve(ref, c, e)))
		return rc;
	c->ref = xstrdup(ref);
	n_cache++;
	*out = c;
	return ERR_OK;
}

/* --- carried images ------------------------------------------------------ */

static enum err mem_open(struct errmsg *e)
{
	char path[64];
	enum err rc;

	if (mem_store)
		return ERR_OK;
	if ((rc = open_store(e)) || (rc = sbx_memfs_new(&mem_fd, e)))
		return rc;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mem_fd);
	if ((rc = image_store_open(path, &mem_store, e))) {
		close(mem_fd);
		mem_fd = -1;
	}
	return rc;
}

static const struct engine_carried_tar *tar_of(const struct engine_carried *c,
					       const char *diff_id)
{
	for (size_t i = 0; i < c->n_tars; i++)
		if (!strcmp(c->tars[i].diff_hex, diff_id + 7))
			return &c->tars[i];
	return NULL;
}

/* A public layer: bound in from this machine's store, which must have it. */
static enum err bind_public(const char *task, const struct image_info *im,
			    const struct image_layer *l, struct errmsg *e)
{
	char *have = image_layer_dir(mem_store, l->diff_id), *src, *rel;
	enum err rc;

	if (have) {
		free(have);
		return ERR_OK;
	}
	if (!(src = image_layer_dir(store, l->diff_id)))
		return err_set(e, ERR_NOTFOUND, "task '%s': sealed image '%s' needs "
			       "the public layer %s, which is not imported here; "
			       "run: assay image import PATH --name %s", task,
			       im->name, l->diff_id, l->base[0] ? l->base : im->name);
	rel = xasprintf("layers/%s", l->diff_id + 7);
	rc = sbx_memfs_bind(mem_fd, rel, src, e);
	free(rel);
	free(src);
	return rc;
}

static enum err carry_layers(const char *task, const struct engine_carried *c,
			     const struct image_info *im, struct errmsg *e)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < im->n_layers && !rc; i++) {
		const struct image_layer *l = &im->layers[i];
		const struct engine_carried_tar *t;

		if (!l->sealed[0])
			rc = bind_public(task, im, l, e);
		else if (!(t = tar_of(c, l->diff_id)))
			rc = err_set(e, ERR_PARSE, "task '%s': sealed image '%s': "
				     "private layer %s is not in the archive", task,
				     im->name, l->diff_id);
		else if ((rc = image_layer_restore(mem_store, l->diff_id, t->data,
						   t->len, l->sealed, e)))
			rc = err_prefix(e, "task '%s': sealed image '%s'", task,
					im->name);
	}
	return rc;
}

enum err engine_images_carry(const char *task, const struct engine_carried *c,
			     struct errmsg *e)
{
	struct image_info *im, *had;
	enum err rc;

	if ((rc = image_record_parse_mem(c->name, c->record, c->record_len, &im, e)))
		return err_prefix(e, "task '%s'", task);
	had = carried_find(im->name, strlen(im->name));
	if (had && strcmp(had->digest, im->digest))
		rc = err_set(e, ERR_INVAL, "task '%s': carries image '%s' %s, another "
			     "task %s", task, im->name, im->digest, had->digest);
	else if (!had && n_carried == CACHE_MAX)
		rc = err_set(e, ERR_LIMIT, "more than %d sealed images", CACHE_MAX);
	if (!rc)
		rc = mem_open(e);
	if (!rc)
		rc = carry_layers(task, c, im, e);
	if (rc || had) {
		image_info_free(im);
		return rc;
	}
	carried[n_carried++] = im;
	return ERR_OK;
}

void engine_images_carry_end(void)
{
	size_t k = 0;

	for (size_t i = 0; i < n_cache; i++) {
		if (!cache[i].sealed) {
			cache[k++] = cache[i];
			continue;
		}
		free(cache[i].ref);
		free(cache[i].dir);
		strv_free(cache[i].lowers);
	}
	n_cache = k;
	for (size_t i = 0; i < n_carried; i++)
		image_info_free(carried[i]);
	n_carried = 0;
	image_store_close(mem_store);
	mem_store = NULL;
	if (mem_fd >= 0)
		close(mem_fd);
	mem_fd = -1;
}

static enum err pin(const char *task, char **img, struct errmsg *e)
{
	struct cached *c;
	enum err rc;

	if (!task_image_is_ref(*img))
		return ERR_OK;
	if ((rc = lookup(*img, &c, e))) {
		/* the shipped agent image has a recipe: say how to build it */
		if (rc == ERR_NOTFOUND && !strcmp(*img, AGENT_IMAGE))
			return err_set(e, ERR_NOTFOUND, "task '%s': image '%s' is not "
				       "imported; build and import it with: make "
				       "agent-image (tools/agent-image.sh: mmdebstrap "
				       "from Debian's packages, as root), or import a "
				       "built layout: assay image import "
				       "build/agent-image/oci --name %s",
				       task, *img, *img);
		if (rc == ERR_NOTFOUND && !strchr(*img, '@'))
			return err_set(e, ERR_NOTFOUND, "task '%s': image '%s' is not "
				       "imported; run: assay image import PATH --name %s",
				       task, *img, *img);
		return err_prefix(e, "task '%s'", task);
	}
	if (!strchr(*img, '@')) {
		char *pinned = xasprintf("%s@%s", *img, c->im->digest);

		free(*img);
		*img = pinned;
		/* the same image under its pinned name */
		if (n_cache < CACHE_MAX && strcmp(c->ref, pinned)) {
			struct cached *d;

			rc = lookup(pinned, &d, e);
		}
	}
	return rc;
}

/* A service that declares no ports takes its image's ExposedPorts (TCP),
 * as `docker run -P` would publish them. */
static enum err default_ports(struct task_service *s, struct errmsg *e)
{
	struct cached *c;
	enum err rc;

	if (s->n_ports || !task_image_is_ref(s->image))
		return ERR_OK;
	if ((rc = lookup(s->image, &c, e)) || !c->im->config.n_ports)
		return rc;
	free(s->ports);
	s->ports = xcalloc(c->im->config.n_ports, sizeof(*s->ports));
	memcpy(s->ports, c->im->config.ports,
	       c->im->config.n_ports * sizeof(*s->ports));
	s->n_ports = c->im->config.n_ports;
	return ERR_OK;
}

enum err engine_images_pin(struct task *t, struct errmsg *e)
{
	enum err rc = pin(t->id, &t->agent_image, e);

	for (size_t i = 0; i < t->n_services && !rc; i++)
		if (!(rc = pin(t->id, &t->services[i].image, e)))
			rc = default_ports(&t->services[i], e);
	return rc;
}

enum err engine_images_pin_suite(struct suite *s, struct errmsg *e)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < s->n_tasks && !rc; i++)
		rc = engine_images_pin(s->tasks[i], e);
	return rc;
}

/* A box of image img: "host" and directories pass through. */
enum err engine_image_box(const char *img, struct sbx_box_spec *b,
			  const struct image_config **cfg_out, struct errmsg *e)
{
	struct cached *c;
	enum err rc;

	*cfg_out = NULL;
	b->image = img;
	if (!task_image_is_ref(img))
		return ERR_OK;
	if ((rc = lookup(img, &c, e)))
		return rc;
	b->image = c->dir;
	b->layers = (const char *const *)c->lowers;
	*cfg_out = &c->im->config;
	return ERR_OK;
}

enum err engine_image_user(const char *img, const char *user, unsigned *uid,
			   unsigned *gid, struct errmsg *e)
{
	struct cached *c;
	enum err rc;

	*uid = *gid = 0;
	if (!task_image_is_ref(img)) {
		/* host or a directory: root or numeric ids only */
		const char *end;
		long long u, g;

		if (!user || !strcmp(user, "root"))
			return ERR_OK;
		if (!num_field_ll(user, ":", 0, 65535, &u, &end))
			return err_set(e, ERR_INVAL, "user '%s' needs an imported "
				       "image", user);
		if (*end == ':' && !num_ll(end + 1, 0, 65535, &g))
			return err_set(e, ERR_INVAL, "bad user '%s'", user);
		*uid = (unsigned)u;
		*gid = *end == ':' ? (unsigned)g : (unsigned)u;
		return ERR_OK;
	}
	if ((rc = lookup(img, &c, e)))
		return rc;
	return image_user_ids(c->st, c->im, user ? user : c->im->config.user,
			      uid, gid, e);
}
