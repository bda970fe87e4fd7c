/*
 * carry.c - images a sealed archive carries: which layers are private,
 * a stored layer back into a tar (the store keeps unpacked trees, not
 * blobs), and a carried tar unpacked into a store that lives in memory
 * (docs/FORMAT-archive.md, "Images"; docs/internals/image.md).
 *
 * The tar is written from the unpacked tree in sorted order: overlay
 * whiteouts (character device 0/0) become ".wh.NAME", an opaque
 * directory (user.overlay.opaque=y) gets ".wh..wh..opq", so the run
 * side unpacks it with the import's own checks (image_layer_unpack_mem)
 * and gets the same tree.
 */
#include "image/image_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "base/banned.h"

#define TAR_DEPTH_MAX 128

/* --- which layers are private ------------------------------------------ */

static bool named(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* The name of an image outside private that has layer diff_id, or NULL. */
static const char *public_holder(struct image_info **list, size_t n,
				 const char *self, const char *diff_id,
				 const char *const *private, size_t np)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(list[i]->name, self) || named(list[i]->name, private, np))
			continue;
		for (size_t l = 0; l < list[i]->n_layers; l++)
			if (!strcmp(list[i]->layers[l].diff_id, diff_id))
				return list[i]->name;
	}
	return NULL;
}

enum err image_carry_mark(struct image_store *st, struct image_info *im,
			  const char *const *private, size_t n,
			  struct errmsg *e)
{
	struct image_info **list;
	size_t nl;
	enum err rc = image_list(st, &list, &nl, e);

	if (rc)
		return rc;
	for (size_t l = 0; l < im->n_layers; l++) {
		const char *h = public_holder(list, nl, im->name,
					      im->layers[l].diff_id, private, n);

		snprintf(im->layers[l].base, sizeof(im->layers[l].base), "%s",
			 h ? h : "");
		im->layers[l].sealed[0] = '\0';
	}
	image_list_free(list, nl);
	return ERR_OK;
}

/* --- a stored layer back into a tar -------------------------------------- */

struct tarw {
	struct archive *a;
	struct archive_entry_linkresolver *links;
	struct buf *out;
	bool full;               /* out reached its max */
	const char *what;
};

static la_ssize_t tw_write(struct archive *a, void *arg, const void *p, size_t n)
{
	struct tarw *t = arg;

	(void)a;
	if (buf_add(t->out, p, n)) {
		t->full = true;
		return -1;
	}
	return (la_ssize_t)n;
}

static enum err tw_err(struct tarw *t, const char *rel, struct errmsg *e)
{
	if (t->full)
		return err_set(e, ERR_LIMIT, "%s: the layer's tar is larger than "
			       "%zu bytes", t->what, t->out->max);
	return err_set(e, ERR_IO, "%s: '%.200s': %s", t->what, rel,
		       archive_error_string(t->a) ? archive_error_string(t->a)
						  : "write failed");
}

/* An empty regular file entry: a whiteout or an opaque mark. */
static enum err tw_marker(struct tarw *t, const char *rel, struct errmsg *e)
{
	struct archive_entry *ent = archive_entry_new();
	enum err rc = ERR_OK;

	archive_entry_set_pathname(ent, rel);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, 0);
	if (archive_write_header(t->a, ent) != ARCHIVE_OK)
		rc = tw_err(t, rel, e);
	archive_entry_free(ent);
	return rc;
}

static enum err tw_data(struct tarw *t, const char *path, const char *rel,
			struct errmsg *e)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return err_sys(e, ERR_IO, "%s: open '%.200s'", t->what, rel);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(t->a, buf, (size_t)n) != n) {
			close(fd);
			return tw_err(t, rel, e);
		}
	close(fd);
	explicit_bzero(buf, sizeof(buf));
	return n < 0 ? err_sys(e, ERR_IO, "%s: read '%.200s'", t->what, rel)
		     : ERR_OK;
}

/* A file, directory, symlink or FIFO as it is in the store. */
static enum err tw_node(struct tarw *t, const char *path, const char *rel,
			const struct stat *st, struct errmsg *e)
{
	struct archive_entry *ent = archive_entry_new(), *sparse = NULL;
	char target[4096];
	enum err rc = ERR_OK;

	archive_entry_copy_stat(ent, st);
	archive_entry_set_pathname(ent, rel);
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n < 0) {
			archive_entry_free(ent);
			return err_sys(e, ERR_IO, "%s: readlink '%.200s'", t->what, rel);
		}
		target[n] = '\0';
		archive_entry_set_symlink(ent, target);
	}
	if (S_ISREG(st->st_mode))
		archive_entry_linkify(t->links, &ent, &sparse);
	if (archive_write_header(t->a, ent) != ARCHIVE_OK)
		rc = tw_err(t, rel, e);
	else if (S_ISREG(st->st_mode) && !archive_entry_hardlink(ent) &&
		 st->st_size > 0)
		rc = tw_data(t, path, rel, e);
	archive_entry_free(ent);
	archive_entry_free(sparse);
	return rc;
}

static bool opaque(const char *dir)
{
	char v[2];

	return getxattr(dir, "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

static enum err tw_tree(struct tarw *t, const char *dir, const char *rel,
			int depth, struct errmsg *e);

static enum err tw_one(struct tarw *t, const char *dir, const char *rel,
		       const char *name, int depth, struct errmsg *e)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *r = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
	struct stat st;
	enum err rc = ERR_OK;

	if (lstat(path, &st) < 0) {
		rc = err_sys(e, ERR_IO, "%s: stat '%.200s'", t->what, r);
	} else if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
		char *wh = *rel ? xasprintf("%s/.wh.%s", rel, name)
				: xasprintf(".wh.%s", name);

		rc = tw_marker(t, wh, e);
		free(wh);
	} else if (S_ISDIR(st.st_mode)) {
		rc = tw_node(t, path, r, &st, e);
		if (!rc && opaque(path)) {
			char *m = xasprintf("%s/.wh..wh..opq", r);

			rc = tw_marker(t, m, e);
			free(m);
		}
		if (!rc)
			rc = tw_tree(t, path, r, depth + 1, e);
	} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ||
		   S_ISFIFO(st.st_mode)) {
		rc = tw_node(t, path, r, &st, e);
	}       /* nothing else is stored (layer.c skips devices, sockets) */
	free(path);
	free(r);
	return rc;
}

static enum err tw_tree(struct tarw *t, const char *dir, const char *rel,
			int depth, struct errmsg *e)
{
	struct dirent **names;
	int n;
	enum err rc = ERR_OK;

	if (depth > TAR_DEPTH_MAX)
		return err_set(e, ERR_LIMIT, "%s: nested deeper than %d", t->what,
			       TAR_DEPTH_MAX);
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return err_sys(e, ERR_IO, "%s: list '%.200s'", t->what, rel);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (!rc && strcmp(name, ".") && strcmp(name, ".."))
			rc = tw_one(t, dir, rel, name, depth, e);
		free(names[i]);
	}
	free(names);
	return rc;
}

enum err image_layer_tar(struct image_store *st, const char *diff_id,
			 struct buf *out, char digest_out[72], struct errmsg *e)
{
	char *dir = image_layer_dir(st, diff_id), *what, hex[65];
	struct tarw t = { .out = out };
	size_t start = out->len;
	enum err rc;

	if (!dir)
		return err_set(e, ERR_NOTFOUND, "layer %s is not in the store",
			       diff_id);
	what = xasprintf("layer %s", diff_id);
	t.what = what;
	t.a = archive_write_new();
	t.links = archive_entry_linkresolver_new();
	archive_entry_linkresolver_set_strategy(t.links,
						ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	archive_write_set_format_pax_restricted(t.a);
	archive_write_set_bytes_per_block(t.a, 512);
	rc = archive_write_open(t.a, &t, NULL, tw_write, NULL) != ARCHIVE_OK
		     ? tw_err(&t, "", e) : tw_tree(&t, dir, "", 0, e);
	if (!rc && archive_write_close(t.a) != ARCHIVE_OK)
		rc = tw_err(&t, "", e);
	archive_write_free(t.a);
	archive_entry_linkresolver_free(t.links);
	if (!rc) {
		vault_sha256_hex(out->data + start, out->len - start, hex);
		snprintf(digest_out, 72, "sha256:%s", hex);
	}
	free(what);
	free(dir);
	return rc;
}

/* --- a carried tar into a store in memory -------------------------------- */

static enum err restore_into(struct image_store *st, const char *diff_id,
			     const void *tar, size_t len, const char *want,
			     const char *dest, struct errmsg *e)
{
	struct unpack_totals tot = { 0 };
	char got[72], *tmp = xasprintf("%s/tmp/restore-%s", st->dir, diff_id + 7);
	char *what = xasprintf("private layer %s", diff_id);
	uint64_t unpacked;
	struct errmsg e2;
	enum err rc = image_layer_unpack_mem(tar, len, tmp, what, NULL, &tot, got,
					     &unpacked, e);

	if (!rc && strcmp(got, want))
		rc = err_set(e, ERR_CRYPTO, "%s: its tar is %s, not the sealed %s",
			     what, got, want);
	if (!rc && rename(tmp, dest) < 0)
		rc = err_sys(e, ERR_IO, "%s: move into place", what);
	if (rc && path_exists(tmp) && rm_rf(tmp, &e2))
		err_prefix(e, "(and '%s' could not be removed: %s)", tmp, e2.text);
	free(tmp);
	free(what);
	return rc;
}

enum err image_layer_restore(struct image_store *st, const char *diff_id,
			     const void *tar, size_t len, const char *want,
			     struct errmsg *e)
{
	char *have = image_layer_dir(st, diff_id), *dest;
	enum err rc;

	if (have) {
		free(have);
		return ERR_OK;
	}
	if (strlen(diff_id) != 71 || strncmp(diff_id, "sha256:", 7) ||
	    strspn(diff_id + 7, "0123456789abcdef") != 64)
		return err_set(e, ERR_INVAL, "bad layer digest '%.80s'", diff_id);
	dest = xasprintf("%s/layers/%s", st->dir, diff_id + 7);
	rc = restore_into(st, diff_id, tar, len, want, dest, e);
	free(dest);
	return rc;
}
