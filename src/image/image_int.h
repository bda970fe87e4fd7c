/*
 * image_int.h - shared inside src/image only.
 */
#ifndef ASSAY_IMAGE_INT_H
#define ASSAY_IMAGE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"

struct image_store {
	char *dir;
	int lock_fd;   /* -1 when absent */
	bool absent;   /* opened by image_store_open_existing and the
	                  directory does not exist: lists empty, finds
	                  nothing, creates nothing */
};

/* Running totals of one image across its layers. */
struct unpack_totals {
	uint64_t bytes;      /* declared file bytes and uncompressed stream */
	uint64_t entries;
	uint64_t skipped;    /* device nodes and sockets, not created */
};

/* The defaults filled in. */
void image_limits_fill(const struct image_limits *in, struct image_limits *out);

/* SHA-256 of a whole file, "sha256:HEX"; *size_out its size. */
enum err image_file_digest(const char *path, char out[72], uint64_t *size_out,
			   struct errmsg *e) MUST_CHECK;

/* Unpack the (gzip, zstd or plain) tar at blob into the new directory
 * dest (which must not exist), checking every entry, and give the diff
 * id ("sha256:HEX" of the uncompressed stream). what names the layer in
 * messages. On error dest is removed. */
enum err image_layer_unpack(const char *blob, const char *dest,
			    const char *what, const struct image_limits *lim,
			    struct unpack_totals *tot, char diff_id_out[72],
			    uint64_t *unpacked_out, struct errmsg *e) MUST_CHECK;

/* The same from a tar (gzip, zstd or plain) held in memory. */
enum err image_layer_unpack_mem(const void *data, size_t len, const char *dest,
				const char *what, const struct image_limits *lim,
				struct unpack_totals *tot, char diff_id_out[72],
				uint64_t *unpacked_out,
				struct errmsg *e) MUST_CHECK;

/* Unpack an outer archive (oci-archive, docker-archive) into the new
 * directory dest: regular files and directories only, names checked. */
enum err image_outer_unpack(const char *path, const char *dest,
			    const struct image_limits *lim,
			    struct errmsg *e) MUST_CHECK;

/* Whether the tar at path holds an image (oci-layout, index.json or
 * manifest.json at its top) rather than a root file system. */
enum err image_outer_scan(const char *path, bool *image_out,
			  struct errmsg *e) MUST_CHECK;

/* Records: DIR/images/NAME.json. */
enum err image_record_write(struct image_store *st, const struct image_info *im,
			    struct errmsg *e) MUST_CHECK;
enum err image_record_read(struct image_store *st, const char *name,
			   struct image_info **im_out,
			   struct errmsg *e) MUST_CHECK;

#endif
