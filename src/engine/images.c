/*
 * images.c - tasks' image references against the image store: pinning
 * before a run (every NAME becomes NAME@sha256:DIGEST of what is
 * imported, so the run's task digests name the images it ran), and what
 * a box of an imported image needs (the store's layers, the config's
 * defaults), cached for the process: the engine is single-threaded and
 * boxes of one image are spawned many times.
 */
#include "engine/engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "image/image.h"
#include "base/num.h"
#include "base/banned.h"

#define CACHE_MAX 64
/* The agent image the repository builds (`make agent-image`). */
#define AGENT_IMAGE "assay-agent"

struct cached {
	char *ref;                 /* pinned */
	struct image_info *im;
	char *dir;
	char **lowers;
};

static struct image_store *store;  /* held (shared lock) for the process */
static struct cached cache[CACHE_MAX];
static size_t n_cache;

static enum err open_store(struct errmsg *e)
{
	return store ? ERR_OK : image_store_open(NULL, &store, e);
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
	if ((rc = open_store(e)) || (rc = image_find(store, ref, &c->im, e)))
		return rc;
	if ((rc = image_box_layers(store, c->im, &c->dir, &c->lowers, e))) {
		image_info_free(c->im);
		return rc;
	}
	c->ref = xstrdup(ref);
	n_cache++;
	*out = c;
	return ERR_OK;
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
	return image_user_ids(store, c->im, user ? user : c->im->config.user,
			      uid, gid, e);
}
