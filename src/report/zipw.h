/*
 * zipw.h - a zip archive built in memory, each member deflated (zlib)
 * with its CRC and sizes in its local header: no data descriptors (bit
 * 3), no zip64. This is the shape Python's zipfile writes and the one
 * Inspect's log viewer reads: it takes a member's compressed size from
 * the local header, so the streaming zips libarchive writes (sizes
 * after the data) open there as zeros.
 *
 *   struct report_zip z;  report_zip_init(&z, mtime);
 *   report_zip_add(&z, "header.json", text, n, e) ...;
 *   report_zip_finish(&z, e);  write z.out.data, z.out.len;  report_zip_release(&z);
 *
 * Limits: fewer than 65535 members, archive under 4 GiB (ERR_LIMIT).
 */
#ifndef ASSAY_REPORT_ZIPW_H
#define ASSAY_REPORT_ZIPW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"

struct report_zip {
	struct buf out;     /* local headers and data, then the directory */
	struct buf dir;     /* central directory entries so far */
	unsigned n;         /* members */
	uint16_t dos_time, dos_date;
};

/* Every member is dated mtime (UTC). */
void report_zip_init(struct report_zip *z, time_t mtime);
enum err report_zip_add(struct report_zip *z, const char *name, const void *data,
		  size_t len, struct errmsg *e) MUST_CHECK;
/* Append the central directory and its end record to z->out. */
enum err report_zip_finish(struct report_zip *z, struct errmsg *e) MUST_CHECK;
void report_zip_release(struct report_zip *z);

#endif
