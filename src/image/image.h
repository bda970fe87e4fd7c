/*
 * image.h - OCI images: import (OCI layout directories, oci-archive,
 * docker-archive and plain rootfs tarballs), a content-addressed layer
 * store shared by all tasks, and what a box needs to mount an image.
 *
 * The store is a directory (docs/internals/image.md):
 *   DIR/lock                    flock: shared by import, rm and runs,
 *                               exclusive (non-blocking) by gc
 *   DIR/blobs/sha256/HEX        verified manifests and configs
 *   DIR/layers/HEX/             one unpacked layer per diff id (the
 *                               sha256 of its uncompressed tar), overlay
 *                               whiteouts (char 0/0, user.overlay.opaque)
 *   DIR/images/NAME.json        one record per imported name
 *   DIR/tmp/                    work in progress, removed on failure
 * DIR is mode 0700: layers hold setuid files and host uids of the image.
 *
 * Every digest is verified (index, manifest, config, each layer's blob
 * and diff id); every entry of a layer is checked before it is written
 * (image_entry_check); sizes and counts are capped (struct image_limits).
 * A failed import leaves nothing behind.
 *
 * Ownership: image_* functions that return a struct image_info give the
 * caller one to pass to image_info_free(). Nothing here prints.
 * Threads: none; one store per thread.
 */
#ifndef ASSAY_IMAGE_H
#define ASSAY_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* An image may have at most this many layers (each is one overlay lower
 * layer; mount options hold one page). */
#define IMAGE_MAX_LAYERS 48

struct image_limits {
	uint64_t max_bytes;        /* unpacked bytes of one image; 0 = 16 GiB */
	uint64_t max_entry_bytes;  /* one file (as its header declares); 0 = 4 GiB */
	uint64_t max_entries;      /* entries of one image; 0 = 1000000 */
	uint32_t max_ratio;        /* unpacked/compressed past 64 MiB; 0 = 200 */
};

struct image_layer {
	char digest[72];           /* "sha256:HEX" of the blob as shipped */
	char diff_id[72];          /* "sha256:HEX" of the uncompressed tar */
	uint64_t size;             /* blob bytes */
	uint64_t unpacked;         /* bytes written */
	/* Only in the record a sealed archive carries (image_carry_*):
	 * a private layer travels in the archive as a tar whose digest is
	 * sealed ("sha256:HEX", else ""); a public one is referenced by
	 * diff id only and base names an image that held it when sealed
	 * (for the message when the run's store lacks it). */
	char sealed[72];
	char base[129];
};

struct image_config {
	char **entrypoint;         /* NULL-terminated, or NULL */
	char **cmd;
	char **env;                /* KEY=VALUE */
	char *workdir;             /* or NULL */
	char *user;                /* or NULL */
	int *ports;                /* TCP ports of ExposedPorts */
	size_t n_ports;
};

struct image_info {
	char *name;
	char digest[72];           /* "sha256:HEX" of the manifest */
	char config_digest[72];
	char *format;              /* "oci-layout", "oci-archive",
				      "docker-archive", "rootfs" */
	char *source;              /* the path imported from */
	int64_t imported;          /* unix seconds */
	struct image_layer *layers;  /* bottom first */
	size_t n_layers;
	struct image_config config;
};

void image_info_free(struct image_info *im);

struct image_store;

/* The default store directory: $ASSAY_IMAGES, else
 * $XDG_DATA_HOME/assay/images, else ~/.local/share/assay/images (beside
 * the journal's default). Caller frees. */
char *image_store_default_dir(void);
/* Open (creating) the store at dir (NULL = default), holding its lock
 * shared until image_store_close. */
enum err image_store_open(const char *dir, struct image_store **st_out,
			  struct errmsg *e) MUST_CHECK;
/* The same for readers (ls, inspect, rm, gc, task check, a run): a store
 * that does not exist yet is opened empty and is not created. */
enum err image_store_open_existing(const char *dir, struct image_store **st_out,
				   struct errmsg *e) MUST_CHECK;
void image_store_close(struct image_store *st);
/* Borrowed until close. */
const char *image_store_dir(const struct image_store *st);

/* Import PATH (format detected) under name (NULL: the name the archive
 * gives, else the file or directory name). Replaces an earlier image of
 * that name. lim may be NULL (defaults). */
enum err image_import(struct image_store *st, const char *path,
		      const char *name, const struct image_limits *lim,
		      struct image_info **im_out, struct errmsg *e) MUST_CHECK;

/* Resolve a reference "NAME" or "NAME@sha256:HEX": ERR_NOTFOUND when no
 * such image is imported (or its digest differs from the pin). */
enum err image_find(struct image_store *st, const char *ref,
		    struct image_info **im_out, struct errmsg *e) MUST_CHECK;
/* Every imported image, sorted by name. */
enum err image_list(struct image_store *st, struct image_info ***list_out,
		    size_t *n_out, struct errmsg *e) MUST_CHECK;
void image_list_free(struct image_info **list, size_t n);
/* Forget the name (its layers stay until image_gc). */
enum err image_remove(struct image_store *st, const char *name,
		      struct errmsg *e) MUST_CHECK;
/* Remove layers and blobs no image names, and stale work directories.
 * ERR_INVAL ("in use") while another process holds the store. */
enum err image_gc(struct image_store *st, size_t *removed_out,
		  uint64_t *bytes_out, struct errmsg *e) MUST_CHECK;

/* True when ref is a valid reference: NAME ([a-z0-9][a-z0-9._:-]*, at
 * most 128) optionally followed by "@sha256:" and 64 lower-case hex. */
bool image_ref_valid(const char *ref);

/* For a box: the directory to map (the store's layers/) and the lower
 * layers relative to it, top first, NULL-terminated (caller frees with
 * strv_free). */
enum err image_box_layers(struct image_store *st, const struct image_info *im,
			  char **dir_out, char ***lowers_out,
			  struct errmsg *e) MUST_CHECK;

/* The ids of user ("root", a name of the image's /etc/passwd, UID, with
 * ":GROUP" or ":GID"; NULL = root) inside a box of im. ERR_INVAL names
 * what is missing. */
enum err image_user_ids(struct image_store *st, const struct image_info *im,
			const char *user, unsigned *uid_out, unsigned *gid_out,
			struct errmsg *e) MUST_CHECK;

/* --- images carried by sealed archives (carry.c) --------------------- */

/* Mark im's layers for sealing: a layer that an imported image not
 * named in private (n names) also has is public (base = that image's
 * name); every other layer is private (base ""). */
enum err image_carry_mark(struct image_store *st, struct image_info *im,
			  const char *const *private, size_t n,
			  struct errmsg *e) MUST_CHECK;
/* The layer of diff_id in the store as a tar (pax; overlay whiteouts
 * back to ".wh." entries, an opaque directory's mark to ".wh..wh..opq";
 * owners numeric) appended to out (whose max caps it); digest_out its
 * "sha256:HEX". Hard links are kept as hard links. */
enum err image_layer_tar(struct image_store *st, const char *diff_id,
			 struct buf *out, char digest_out[72],
			 struct errmsg *e) MUST_CHECK;
/* The record (the JSON images/NAME.json holds, with the sealing marks)
 * into out. */
enum err image_record_json(const struct image_info *im, struct buf *out,
			   struct errmsg *e) MUST_CHECK;
/* Parse a record held in memory (name: the image's name). */
enum err image_record_parse_mem(const char *name, const char *text,
				size_t len, struct image_info **im_out,
				struct errmsg *e) MUST_CHECK;
/* Unpack a private layer's tar (len bytes in memory) into st as layer
 * diff_id, checking every entry as an import does, and refuse (removing
 * what was unpacked) unless the tar's digest is want ("sha256:HEX"). A
 * layer already there is kept. */
enum err image_layer_restore(struct image_store *st, const char *diff_id,
			     const void *tar, size_t len, const char *want,
			     struct errmsg *e) MUST_CHECK;
/* The directory of layer diff_id in st, or NULL when st lacks it.
 * Caller frees. */
char *image_layer_dir(struct image_store *st, const char *diff_id);

/* --- parsers, exposed for tests and fuzzing ------------------------- */

/* One tar entry about to be unpacked: path and hardlink target (may be
 * NULL) as in the archive, type bits (S_IFMT of mode), the size its header
 * declares. Normalises nothing in place: ERR_INVAL for an absolute or
 * escaping path ("..", empty), a hardlink target likewise, an unsupported
 * type; ERR_INVAL too for a size over lim (the input is at fault). */
enum err image_entry_check(const char *path, const char *hardlink,
			   unsigned type, int64_t size,
			   const struct image_limits *lim,
			   struct errmsg *e) MUST_CHECK;

/* Read a (possibly compressed) tar held in memory and check every entry
 * as an import would, writing nothing; *n_out the entries seen. */
enum err image_tar_check_mem(const void *data, size_t len,
			     const struct image_limits *lim, size_t *n_out,
			     struct errmsg *e) MUST_CHECK;

/* What an OCI index or docker manifest.json points at. */
struct image_manifest {
	char config_digest[72];
	char config_media[128];
	size_t n_layers;
	struct {
		char digest[72];
		char media[128];
		int64_t size;
		char *path;        /* docker-archive: the file in the archive */
	} layers[IMAGE_MAX_LAYERS];
	char *config_path;     /* docker-archive */
	char *ref_name;        /* a name the archive gives, or NULL */
};
void image_manifest_release(struct image_manifest *m);

/* index.json -> the digest (and media type) of the one image manifest it
 * names (nested indexes: the first linux/amd64 or platform-less entry). */
enum err image_parse_index(const char *json, size_t len, char digest_out[72],
			   char **ref_name_out, bool *nested_out,
			   struct errmsg *e) MUST_CHECK;
enum err image_parse_manifest(const char *json, size_t len,
			      struct image_manifest *m,
			      struct errmsg *e) MUST_CHECK;
enum err image_parse_docker_manifest(const char *json, size_t len,
				     struct image_manifest *m,
				     struct errmsg *e) MUST_CHECK;
/* The config: defaults for boxes and the layers' diff ids (at most
 * IMAGE_MAX_LAYERS; *n_diff_out their count). */
enum err image_parse_config(const char *json, size_t len,
			    struct image_config *c,
			    char diff_ids[][72], size_t *n_diff_out,
			    struct errmsg *e) MUST_CHECK;
void image_config_release(struct image_config *c);

#endif
