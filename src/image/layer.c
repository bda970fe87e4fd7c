/*
 * layer.c - unpacking one layer safely (the only part that includes
 * archive.h is src/image).
 *
 * Two libarchive readers are chained: the outer one decompresses the
 * blob (any filter libarchive knows: gzip, zstd, ...; "raw" format), the
 * inner one reads the tar from what the outer gives, through a callback
 * that hashes the uncompressed stream (the diff id) and enforces the
 * size and ratio caps as bytes arrive, so a zip bomb is stopped after
 * 64 MiB, not after it filled the disk. Every entry is checked
 * (image_entry_check) before it is written; the writer refuses to
 * extract through a symlink, and takes owners as numbers (no name
 * lookup on the host). OCI whiteouts become overlay whiteouts: ".wh.X"
 * a character device 0/0 at X, ".wh..wh..opq" the xattr
 * user.overlay.opaque=y on its directory (boxes mount with userxattr).
 * Device nodes and sockets are not created (as a rootless runtime);
 * xattrs, ACLs and file flags of the tar are not restored.
 */
#include "image/image_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "base/banned.h"

#define RATIO_FLOOR ((uint64_t)64 << 20)
#define IO_BUF (128 * 1024)

void image_limits_fill(const struct image_limits *in, struct image_limits *out)
{
	static const struct image_limits none;

	*out = in ? *in : none;
	if (!out->max_bytes)
		out->max_bytes = (uint64_t)16 << 30;
	if (!out->max_entry_bytes)
		out->max_entry_bytes = (uint64_t)4 << 30;
	if (!out->max_entries)
		out->max_entries = 1000000;
	if (!out->max_ratio)
		out->max_ratio = 200;
}

/* Each component of p: not empty (except a trailing '/'), not "..";
 * "." components are allowed (tar writes "./x"). */
static bool path_contained(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/')
		return false;
	while (*c) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return false;
		if (n == 0 && end && c != p)
			return false;    /* "a//b" */
		if (!end)
			break;
		c = end + 1;
	}
	return true;
}

enum err image_entry_check(const char *path, const char *hardlink,
			   unsigned type, int64_t size,
			   const struct image_limits *lim, struct errmsg *e)
{
	struct image_limits l;

	image_limits_fill(lim, &l);
	if (!path || strlen(path) > 4096)
		return err_set(e, ERR_INVAL, "entry without a name or with a name "
			       "over 4096 bytes");
	if (!path_contained(path))
		return err_set(e, ERR_INVAL, "entry '%.200s': path escapes the "
			       "layer (absolute, empty or '..')", path);
	if (hardlink && (strlen(hardlink) > 4096 || !path_contained(hardlink)))
		return err_set(e, ERR_INVAL, "entry '%.200s': hard link target "
			       "'%.200s' escapes the layer", path, hardlink);
	if (size < 0 || (uint64_t)size > l.max_entry_bytes)
		return err_set(e, ERR_INVAL, "entry '%.200s': declares %lld bytes; "
			       "at most %llu per file", path, (long long)size,
			       (unsigned long long)l.max_entry_bytes);
	switch (type) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFIFO:
	case S_IFCHR: case S_IFBLK: case S_IFSOCK:
		return ERR_OK;
	case 0:
		if (hardlink)
			return ERR_OK;
		break;
	default:
		break;
	}
	return err_set(e, ERR_INVAL, "entry '%.200s': unsupported file type 0%o",
		       path, type);
}

struct unpack {
	struct archive *outer, *tar, *disk;
	struct vault_sha256 diff;
	uint64_t raw;            /* uncompressed bytes so far */
	uint64_t raw_start;      /* tot->bytes before this layer */
	struct image_limits lim;
	struct unpack_totals *tot;
	const char *what;
	const void *mem;         /* the blob in memory (else a file) */
	size_t mem_len;
	struct errmsg err;       /* set by the callback */
	bool failed;
	unsigned char buf[IO_BUF];
};

static la_ssize_t tar_read(struct archive *a, void *arg, const void **out)
{
	struct unpack *u = arg;
	la_ssize_t n = archive_read_data(u->outer, u->buf, sizeof(u->buf));
	uint64_t comp = (uint64_t)archive_filter_bytes(u->outer, -1);

	(void)a;
	if (n < 0) {
		err_set(&u->err, ERR_PARSE, "%s: cannot decompress (truncated or "
			"corrupt): %s", u->what, archive_error_string(u->outer));
		u->failed = true;
		return -1;
	}
	vault_sha256_update(&u->diff, u->buf, (size_t)n);
	u->raw += (uint64_t)n;
	if (u->raw > RATIO_FLOOR && u->raw / (comp ? comp : 1) > u->lim.max_ratio) {
		err_set(&u->err, ERR_INVAL, "%s: expands more than %ux (%llu bytes "
			"from %llu): refused as a decompression bomb", u->what,
			u->lim.max_ratio, (unsigned long long)u->raw,
			(unsigned long long)comp);
		u->failed = true;
		return -1;
	}
	if (u->raw_start + u->raw > u->lim.max_bytes) {
		err_set(&u->err, ERR_INVAL, "%s: image larger than %llu bytes "
			"unpacked", u->what, (unsigned long long)u->lim.max_bytes);
		u->failed = true;
		return -1;
	}
	*out = u->buf;
	return n;
}

static enum err arch_err(struct unpack *u, struct archive *a, const char *doing,
			 struct errmsg *e)
{
	if (u->failed) {
		*e = u->err;
		return e->code;
	}
	return err_set(e, ERR_PARSE, "%s: %s: %s", u->what, doing,
		       archive_error_string(a) ? archive_error_string(a) : "failed");
}

/* Every directory on the way to rel (not rel itself) is a real
 * directory or missing: nothing is created through a symlink. */
static enum err parents_real(const char *rel, const char *what, struct errmsg *e)
{
	char *p = xstrdup(rel), *s = p;
	enum err rc = ERR_OK;
	struct stat st;

	while ((s = strchr(s, '/'))) {
		*s = '\0';
		if (fstatat(AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			rc = err_set(e, ERR_INVAL, "%s: entry '%.200s' goes through "
				     "'%.200s', which is not a directory (a symlink "
				     "pointing outside?)", what, rel, p);
			break;
		}
		*s++ = '/';
	}
	free(p);
	return rc;
}

/* "./a/./b" -> "a/b" in place (components "." dropped); "" for the root. */
static void strip_dots(char *p)
{
	char *r = p, *w = p;

	while (*r) {
		if (r[0] == '.' && (r[1] == '/' || r[1] == '\0')) {
			r += r[1] ? 2 : 1;
			continue;
		}
		while (*r && *r != '/')
			*w++ = *r++;
		if (*r == '/') {
			while (*r == '/')
				r++;
			if (*r)
				*w++ = '/';
		}
	}
	*w = '\0';
}

static enum err whiteout(const char *rel, const char *what, struct errmsg *e)
{
	char *p = xstrdup(rel), *slash = strrchr(p, '/');
	const char *base = slash ? slash + 1 : p;
	const char *dir = slash ? p : ".";
	char *target;
	enum err rc;

	if (slash)
		*slash = '\0';
	if ((rc = parents_real(rel, what, e)) || (slash && (rc = mkdir_p(dir, 0755, e)))) {
		free(p);
		return rc;
	}
	if (!strcmp(base, ".wh..wh..opq")) {
		if (setxattr(dir, "user.overlay.opaque", "y", 1, 0) < 0)
			rc = err_sys(e, ERR_IO, "%s: mark '%.200s' opaque", what, dir);
	} else if (strncmp(base, ".wh..wh.", 8) && base[4]) {
		target = xasprintf("%s/%s", dir, base + 4);
		if ((unlink(target) < 0 && errno != ENOENT && errno != EISDIR) ||
		    mknod(target, S_IFCHR, makedev(0, 0)) < 0)
			rc = err_sys(e, ERR_IO, "%s: whiteout '%.200s'", what, target);
		free(target);
	}
	free(p);
	return rc;
}

static enum err copy_data(struct unpack *u, struct errmsg *e)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(u->tar, &buf, &len, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(u->disk, buf, len, off) != ARCHIVE_OK)
			return err_set(e, ERR_IO, "%s: write: %s", u->what,
				       archive_error_string(u->disk));
	if (r != ARCHIVE_EOF)
		return arch_err(u, u->tar, "read", e);
	return ERR_OK;
}

/* Check the totals, then write (or skip) one entry. */
static enum err one_entry(struct unpack *u, struct archive_entry *ent,
			  struct errmsg *e)
{
	const char *path = archive_entry_pathname(ent);
	const char *link = archive_entry_hardlink(ent);
	unsigned type = archive_entry_filetype(ent);
	int64_t size = archive_entry_size(ent);
	char *rel, *lrel = NULL, *base;
	enum err rc;

	if ((rc = image_entry_check(path, link, type, size, &u->lim, e)))
		return err_prefix(e, "%s", u->what);
	u->tot->bytes += (uint64_t)size;
	if (++u->tot->entries > u->lim.max_entries || u->tot->bytes > u->lim.max_bytes)
		return err_set(e, ERR_INVAL, "%s: image has more than %llu entries "
			       "or %llu bytes", u->what,
			       (unsigned long long)u->lim.max_entries,
			       (unsigned long long)u->lim.max_bytes);
	rel = xstrdup(path);
	strip_dots(rel);
	base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	/* /dev is the box's own (as a runtime's tmpfs /dev): nothing of the
	 * image's below it is kept */
	if (!*rel || !strncmp(rel, "dev/", 4) ||
	    ((type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK) && !link)) {
		u->tot->skipped += *rel != '\0';
		free(rel);
		return ERR_OK;    /* the root itself, devices, sockets */
	}
	if (!strncmp(base, ".wh.", 4)) {
		rc = whiteout(rel, u->what, e);
		free(rel);
		return rc;
	}
	archive_entry_set_pathname(ent, rel);
	if (link) {
		lrel = xstrdup(link);
		strip_dots(lrel);
		archive_entry_set_hardlink(ent, lrel);
		rc = parents_real(lrel, u->what, e);
	}
	if (!rc && (rc = parents_real(rel, u->what, e)) == ERR_OK) {
		archive_entry_set_size(ent, link ? 0 : size);
		if (archive_write_header(u->disk, ent) != ARCHIVE_OK)
			rc = err_set(e, ERR_INVAL, "%s: entry '%.200s': %s", u->what,
				     rel, archive_error_string(u->disk));
		else if (type == S_IFREG && !link)
			rc = copy_data(u, e);
		if (!rc && archive_write_finish_entry(u->disk) != ARCHIVE_OK)
			rc = err_set(e, ERR_IO, "%s: entry '%.200s': %s", u->what, rel,
				     archive_error_string(u->disk));
	}
	free(rel);
	free(lrel);
	return rc;
}

static enum err entries(struct unpack *u, struct errmsg *e)
{
	struct archive_entry *ent;
	enum err rc;
	int r;

	while ((r = archive_read_next_header(u->tar, &ent)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN)
		if ((rc = one_entry(u, ent, e)))
			return rc;
	if (r != ARCHIVE_EOF)
		return arch_err(u, u->tar, "bad tar", e);
	if (archive_write_close(u->disk) != ARCHIVE_OK)
		return err_set(e, ERR_IO, "%s: %s", u->what,
			       archive_error_string(u->disk));
	return ERR_OK;
}

/* Read the rest of the decompressed stream (tar padding) into the hash. */
static enum err drain(struct unpack *u, struct errmsg *e)
{
	const void *p;

	while (!u->failed) {
		la_ssize_t n = tar_read(u->tar, u, &p);

		if (n == 0)
			return ERR_OK;
		if (n < 0)
			break;
	}
	*e = u->err;
	return e->code;
}

static int tar_open(struct archive *a, void *arg)
{
	(void)a;
	(void)arg;
	return ARCHIVE_OK;
}

/* The blob is opened (fd) before the unpack enters its destination, so
 * a path relative to the caller's working directory works; a layer held
 * in memory (u->mem, a sealed archive's private layer) has no blob. */
static enum err open_readers(struct unpack *u, int blob_fd, const char *blob,
			     struct errmsg *e)
{
	struct archive_entry *ent;
	int flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
		    ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

	u->outer = archive_read_new();
	u->tar = archive_read_new();
	u->disk = archive_write_disk_new();
	archive_read_support_filter_all(u->outer);
	archive_read_support_format_raw(u->outer);
	archive_read_support_format_tar(u->tar);
	archive_write_disk_set_options(u->disk, flags);
	if ((u->mem ? archive_read_open_memory(u->outer, u->mem, u->mem_len)
		    : archive_read_open_fd(u->outer, blob_fd, IO_BUF)) != ARCHIVE_OK)
		return err_set(e, ERR_IO, "%s: '%s': %s", u->what,
			       blob ? blob : "(in memory)",
			       archive_error_string(u->outer));
	if (archive_read_next_header(u->outer, &ent) != ARCHIVE_OK)
		return err_set(e, ERR_PARSE, "%s: %s", u->what,
			       archive_error_string(u->outer));
	if (archive_read_open(u->tar, u, tar_open, tar_read, NULL) != ARCHIVE_OK)
		return arch_err(u, u->tar, "not a tar", e);
	return ERR_OK;
}

static void close_readers(struct unpack *u)
{
	archive_read_free(u->tar);
	archive_read_free(u->outer);
	archive_write_free(u->disk);
}

/* In dest (cwd), restored after. */
static enum err unpack_here(struct unpack *u, const char *blob, const char *dest,
			    struct errmsg *e)
{
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = u->mem ? -1 : open(blob, O_RDONLY | O_CLOEXEC);
	enum err rc;

	if (here < 0 || (!u->mem && fd < 0)) {
		rc = here < 0 ? err_sys(e, ERR_IO, "open the working directory")
			      : err_sys(e, ERR_IO, "%s: open '%s'", u->what, blob);
		if (here >= 0)
			close(here);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (chdir(dest) < 0) {
		close(here);
		close(fd);
		return err_sys(e, ERR_IO, "%s: enter '%s'", u->what, dest);
	}
	rc = open_readers(u, fd, blob, e);
	if (!rc && !(rc = entries(u, e)))
		rc = drain(u, e);
	close_readers(u);
	if (fd >= 0)
		close(fd);
	if (fchdir(here) < 0 && !rc)
		rc = err_sys(e, ERR_IO, "return to the working directory");
	close(here);
	return rc;
}

static enum err unpack_any(struct unpack *u, const char *blob, const char *dest,
			   const char *what, const struct image_limits *lim,
			   struct unpack_totals *tot, char diff_id_out[72],
			   uint64_t *unpacked_out, struct errmsg *e)
{
	struct errmsg e2;
	char hex[65];
	enum err rc;

	image_limits_fill(lim, &u->lim);
	u->tot = tot;
	u->what = what;
	u->raw_start = tot->bytes;
	vault_sha256_init(&u->diff);
	if (mkdir(dest, 0755) < 0) {
		free(u);
		return err_sys(e, ERR_IO, "%s: create '%s'", what, dest);
	}
	rc = unpack_here(u, blob, dest, e);
	if (rc) {
		if (rm_rf(dest, &e2))
			err_prefix(e, "(and '%s' could not be removed: %s)", dest,
				   e2.text);
	} else {
		vault_sha256_final_hex(&u->diff, hex);
		snprintf(diff_id_out, 72, "sha256:%s", hex);
		*unpacked_out = u->raw;
	}
	free(u);
	return rc;
}

enum err image_layer_unpack(const char *blob, const char *dest,
			    const char *what, const struct image_limits *lim,
			    struct unpack_totals *tot, char diff_id_out[72],
			    uint64_t *unpacked_out, struct errmsg *e)
{
	return unpack_any(xcalloc(1, sizeof(struct unpack)), blob, dest, what,
			  lim, tot, diff_id_out, unpacked_out, e);
}

enum err image_layer_unpack_mem(const void *data, size_t len, const char *dest,
				const char *what, const struct image_limits *lim,
				struct unpack_totals *tot, char diff_id_out[72],
				uint64_t *unpacked_out, struct errmsg *e)
{
	struct unpack *u = xcalloc(1, sizeof(*u));

	u->mem = data;
	u->mem_len = len;
	return unpack_any(u, NULL, dest, what, lim, tot, diff_id_out,
			  unpacked_out, e);
}

/* --- outer archives (oci-archive, docker-archive) -------------------- */

static enum err outer_data(struct archive *a, struct archive *disk,
			   struct errmsg *e)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(disk, buf, len, off) != ARCHIVE_OK)
			return err_set(e, ERR_IO, "archive: write: %s",
				       archive_error_string(disk));
	if (r != ARCHIVE_EOF)
		return err_set(e, ERR_PARSE, "archive: truncated or corrupt: %s",
			       archive_error_string(a));
	return ERR_OK;
}

static enum err outer_entry(struct archive *a, struct archive *disk,
			    struct archive_entry *ent, struct unpack_totals *tot,
			    const struct image_limits *lim, struct errmsg *e)
{
	const char *path = archive_entry_pathname(ent);
	unsigned type = archive_entry_filetype(ent);
	int64_t size = archive_entry_size(ent);
	char *rel;
	enum err rc;

	if ((rc = image_entry_check(path, NULL, type, size, lim, e)))
		return err_prefix(e, "archive");
	if (type != S_IFREG && type != S_IFDIR)
		return ERR_OK;  /* docker-archive's legacy symlinked layers: unused */
	if ((tot->bytes += (uint64_t)size) > lim->max_bytes || ++tot->entries > 100000)
		return err_set(e, ERR_INVAL, "archive: larger than %llu bytes or "
			       "100000 entries", (unsigned long long)lim->max_bytes);
	rel = xstrdup(path);
	strip_dots(rel);
	if (*rel) {
		archive_entry_set_pathname(ent, rel);
		archive_entry_set_perm(ent, type == S_IFDIR ? 0700 : 0600);
		if (archive_write_header(disk, ent) != ARCHIVE_OK)
			rc = err_set(e, ERR_INVAL, "archive: entry '%.200s': %s", rel,
				     archive_error_string(disk));
		else if (type == S_IFREG)
			rc = outer_data(a, disk, e);
		archive_write_finish_entry(disk);
	}
	free(rel);
	return rc;
}

static enum err outer_copy(struct archive *a, struct archive *disk,
			   const struct image_limits *lim, struct errmsg *e)
{
	struct unpack_totals tot = { 0 };
	struct archive_entry *ent;
	enum err rc;
	int r;

	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK)
		if ((rc = outer_entry(a, disk, ent, &tot, lim, e)))
			return rc;
	if (r != ARCHIVE_EOF)
		return err_set(e, ERR_PARSE, "archive: not a tar, or corrupt: %s",
			       archive_error_string(a));
	return archive_write_close(disk) == ARCHIVE_OK ? ERR_OK
		: err_set(e, ERR_IO, "archive: %s", archive_error_string(disk));
}

/* A reader of tar archives, compressed with any filter libarchive has. */
static struct archive *tar_reader(void)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	return a;
}

enum err image_outer_unpack(const char *path, const char *dest,
			    const struct image_limits *lim, struct errmsg *e)
{
	struct archive *a = tar_reader(), *disk = archive_write_disk_new();
	struct image_limits l;
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* opened before the chdir: path may be relative */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum err rc;

	image_limits_fill(lim, &l);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
				       ARCHIVE_EXTRACT_PERM);
	if (fd < 0)
		rc = err_sys(e, ERR_IO, "archive: open '%s'", path);
	else if (here < 0 || mkdir(dest, 0700) < 0 || chdir(dest) < 0)
		rc = err_sys(e, ERR_IO, "archive: work directory '%s'", dest);
	else if (archive_read_open_fd(a, fd, IO_BUF) != ARCHIVE_OK)
		rc = err_set(e, ERR_IO, "'%s': %s", path, archive_error_string(a));
	else
		rc = outer_copy(a, disk, &l, e);
	archive_read_free(a);
	archive_write_free(disk);
	if (fd >= 0)
		close(fd);
	if (here >= 0) {
		if (fchdir(here) < 0 && !rc)
			rc = err_sys(e, ERR_IO, "return to the working directory");
		close(here);
	}
	return rc;
}

enum err image_outer_scan(const char *path, bool *image_out, struct errmsg *e)
{
	struct archive *a = tar_reader();
	struct archive_entry *ent;
	enum err rc = ERR_OK;
	int r;

	*image_out = false;
	if (archive_read_open_filename(a, path, IO_BUF) != ARCHIVE_OK) {
		rc = err_set(e, ERR_INVAL, "'%s': not a tar archive: %s", path,
			     archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	while (!*image_out &&
	       (r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		char *rel = xstrdup(archive_entry_pathname(ent) ?
				    archive_entry_pathname(ent) : "");

		strip_dots(rel);
		*image_out = !strcmp(rel, "oci-layout") ||
			     !strcmp(rel, "index.json") ||
			     !strcmp(rel, "manifest.json");
		free(rel);
	}
	if (!*image_out && r != ARCHIVE_EOF)
		rc = err_set(e, ERR_INVAL, "'%s': not a tar archive, or truncated: %s",
			     path, archive_error_string(a));
	archive_read_free(a);
	return rc;
}

enum err image_tar_check_mem(const void *data, size_t len,
			     const struct image_limits *lim, size_t *n_out,
			     struct errmsg *e)
{
	struct archive *a = tar_reader();
	struct archive_entry *ent;
	enum err rc = ERR_OK;
	int r;

	*n_out = 0;
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		rc = err_set(e, ERR_PARSE, "not a tar: %s", archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	while (!rc && ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK ||
		       r == ARCHIVE_WARN)) {
		rc = image_entry_check(archive_entry_pathname(ent),
				       archive_entry_hardlink(ent),
				       archive_entry_filetype(ent),
				       archive_entry_size(ent), lim, e);
		if (!rc && ++*n_out > 100000)
			rc = err_set(e, ERR_INVAL, "more than 100000 entries");
	}
	if (!rc && r != ARCHIVE_EOF)
		rc = err_set(e, ERR_PARSE, "bad tar: %s", archive_error_string(a));
	archive_read_free(a);
	return rc;
}
