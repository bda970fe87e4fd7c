/*
 * zipw.c - a zip archive in memory (zipw.h): PKWARE's APPNOTE local file
 * header, deflated data, central directory entry per member, end of
 * central directory record. Little-endian fields, written byte by byte.
 */
#include "report/zipw.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/xalloc.h"
#include "base/banned.h"

#define ZIP_MAX ((size_t)0xffffffffu)
#define ZIP_MEMBERS_MAX 65535u
#define ZIP_VERSION 20          /* 2.0: deflate */
#define ZIP_MADE_BY (3u << 8 | ZIP_VERSION)   /* Unix */
#define ZIP_DEFLATE 8

static void le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8 & 0xff);
}

static void le32(unsigned char *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

void report_zip_init(struct report_zip *z, time_t mtime)
{
	struct tm tm;

	memset(z, 0, sizeof(*z));
	buf_init(&z->out, ZIP_MAX);
	buf_init(&z->dir, ZIP_MAX);
	if (gmtime_r(&mtime, &tm) && tm.tm_year >= 80) {
		z->dos_time = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
		z->dos_date = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
	}
	if (!z->dos_date)
		z->dos_date = 1 << 5 | 1;   /* 1980-01-01 */
}

void report_zip_release(struct report_zip *z)
{
	buf_release(&z->out);
	buf_release(&z->dir);
}

/* Raw deflate (no zlib header) of data into a new buffer. */
static enum err deflate_all(const void *data, size_t len, unsigned char **out,
			    size_t *out_len, struct errmsg *e)
{
	z_stream s;
	uLong bound;
	int zr;

	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return err_set(e, ERR_NOMEM, "zip: deflateInit2 failed");
	bound = deflateBound(&s, (uLong)len);
	*out = xmalloc(bound ? bound : 1);
	s.next_in = (Bytef *)(uintptr_t)data;
	s.avail_in = (uInt)len;
	s.next_out = *out;
	s.avail_out = (uInt)bound;
	zr = deflate(&s, Z_FINISH);
	*out_len = s.total_out;
	deflateEnd(&s);
	if (zr != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return err_set(e, ERR_IO, "zip: deflate did not finish (%d)", zr);
	}
	return ERR_OK;
}

/* The fields a local header and a directory entry share, from "version
 * needed" to the extra field's length (26 bytes). */
static void common(unsigned char *p, const struct report_zip *z, uint32_t crc,
		   size_t clen, size_t len, size_t name_len)
{
	le16(p, ZIP_VERSION);
	le16(p + 2, 0);                 /* flags: no data descriptor */
	le16(p + 4, ZIP_DEFLATE);
	le16(p + 6, z->dos_time);
	le16(p + 8, z->dos_date);
	le32(p + 10, crc);
	le32(p + 14, (uint32_t)clen);
	le32(p + 18, (uint32_t)len);
	le16(p + 22, (unsigned)name_len);
	le16(p + 24, 0);                /* extra field */
}

enum err report_zip_add(struct report_zip *z, const char *name, const void *data,
		  size_t len, struct errmsg *e)
{
	size_t nlen = strlen(name), clen = 0, off = z->out.len;
	unsigned char lh[30], cd[46], *comp = NULL;
	uint32_t crc;
	enum err rc;

	if (z->n >= ZIP_MEMBERS_MAX || nlen > 0xffff || len >= ZIP_MAX)
		return err_set(e, ERR_LIMIT, "zip: %s: too many members or too large", name);
	if ((rc = deflate_all(data, len, &comp, &clen, e)))
		return rc;
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
	le32(lh, 0x04034b50);
	common(lh + 4, z, crc, clen, len, nlen);
	le32(cd, 0x02014b50);
	le16(cd + 4, ZIP_MADE_BY);
	common(cd + 6, z, crc, clen, len, nlen);
	le16(cd + 32, 0);               /* comment */
	le16(cd + 34, 0);               /* disk */
	le16(cd + 36, 0);               /* internal attributes */
	le32(cd + 38, (uint32_t)0100644 << 16);   /* regular file, rw-r--r-- */
	le32(cd + 42, (uint32_t)off);
	if ((rc = buf_add(&z->out, lh, sizeof(lh))) ||
	    (rc = buf_add(&z->out, name, nlen)) ||
	    (rc = buf_add(&z->out, comp, clen)) ||
	    (rc = buf_add(&z->dir, cd, sizeof(cd))) ||
	    (rc = buf_add(&z->dir, name, nlen))) {
		buf_truncate(&z->out, off);
		free(comp);
		return err_set(e, rc, "zip: %s: archive over 4 GiB", name);
	}
	free(comp);
	z->n++;
	return ERR_OK;
}

enum err report_zip_finish(struct report_zip *z, struct errmsg *e)
{
	unsigned char end[22];
	size_t at = z->out.len;

	le32(end, 0x06054b50);
	le16(end + 4, 0);               /* this disk */
	le16(end + 6, 0);               /* the directory's disk */
	le16(end + 8, z->n);
	le16(end + 10, z->n);
	le32(end + 12, (uint32_t)z->dir.len);
	le32(end + 16, (uint32_t)at);
	le16(end + 20, 0);              /* comment */
	if (buf_add(&z->out, z->dir.data, z->dir.len) ||
	    buf_add(&z->out, end, sizeof(end))) {
		buf_truncate(&z->out, at);
		return err_set(e, ERR_LIMIT, "zip: archive over 4 GiB");
	}
	return ERR_OK;
}
