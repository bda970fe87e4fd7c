/*
 * files.c - put files into a box and read them back, through its init.
 *
 * Init writes as box root inside the box's own root, so nothing here ever
 * resolves a path of the box on the host (no /proc/PID/root walks that a
 * symlink planted in the box could redirect). Host trees for sbx_copy_in
 * are walked with O_NOFOLLOW and symlinks are copied only if they stay
 * inside the tree.
 */
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define COPY_DEPTH_MAX 64

static enum err check_path(const struct sbx_box *b, const char *path,
			   struct errmsg *e)
{
	if (!path || path[0] != '/' || strlen(path) > SBX_PATH_MAX - 256)
		return err_set(e, ERR_INVAL, "box '%s': bad path '%s'", b->name,
			       path ? path : "(null)");
	return ERR_OK;
}

static enum err ack_result(struct sbx_box *b, const char *what, const char *path,
			   struct sbx_m_ack *ack, struct errmsg *e)
{
	enum err rc = sbx_wait_ack(b, now_ms() + SBX_OP_TIMEOUT_MS, ack, e);

	if (rc)
		return err_prefix(e, "box '%s': %s '%s'", b->name, what, path);
	if (ack->err) {
		errno = ack->err > 0 && ack->err < 4096 ? ack->err : EPROTO;
		return err_sys(e, ERR_IO, "box '%s': cannot %s '%s'", b->name, what,
			       path);
	}
	return ERR_OK;
}

/* header + path into one buffer */
static size_t file_hdr(char *out, const char *path, unsigned mode, uid_t uid,
		       uint64_t size)
{
	struct sbx_m_file f = {
		.mode = mode, .uid = (uint32_t)uid, .gid = (uint32_t)uid,
		.path_len = (uint32_t)strlen(path), .size = size,
	};

	memcpy(out, &f, sizeof(f));
	memcpy(out + sizeof(f), path, f.path_len);
	return sizeof(f) + f.path_len;
}

static enum err owner_uid(const char *owner, uid_t *uid, struct errmsg *e)
{
	*uid = 0;
	return owner ? sbx_user_ids(owner, uid, e) : ERR_OK;
}

static enum err busy(const struct sbx_box *b, struct errmsg *e)
{
	if (b->px.active)
		return err_set(e, ERR_SANDBOX, "box '%s' is running a command",
			       b->name);
	return ERR_OK;
}

enum err sbx_put_file(struct sbx_box *b, const char *path, const void *data,
		      size_t len, unsigned mode, const char *owner,
		      struct errmsg *e)
{
	char hdr[sizeof(struct sbx_m_file) + SBX_PATH_MAX];
	struct sbx_m_ack ack;
	uid_t uid;
	enum err rc;

	if ((rc = busy(b, e)) || (rc = check_path(b, path, e)) ||
	    (rc = owner_uid(owner, &uid, e)))
		return rc;
	rc = sbx_send_blob(b, SBX_M_PUT, hdr, file_hdr(hdr, path, mode, uid, len),
			   data, len, e);
	if (rc)
		return err_prefix(e, "box '%s': write '%s'", b->name, path);
	return ack_result(b, "write", path, &ack, e);
}

static enum err put_fd(struct sbx_box *b, const char *path, int fd,
		       const struct stat *sb, uid_t uid, struct errmsg *e)
{
	char hdr[sizeof(struct sbx_m_file) + SBX_PATH_MAX];
	char *chunk = xmalloc(SBX_PAYLOAD_MAX);
	uint64_t left = (uint64_t)sb->st_size;
	struct sbx_m_ack ack;
	enum err rc;

	rc = sbx_send(b, SBX_M_PUT, hdr,
		      file_hdr(hdr, path, sb->st_mode & 07777, uid, left), NULL, 0, e);
	while (!rc && left) {
		size_t want = left < SBX_PAYLOAD_MAX ? (size_t)left : SBX_PAYLOAD_MAX;
		ssize_t r = read(fd, chunk, want);

		if (r <= 0) {
			/* the file shrank: init still expects the bytes */
			sbx_box_mark_dead(b);
			rc = err_sys(e, ERR_IO, "cannot read '%s'", path);
			break;
		}
		rc = sbx_send(b, SBX_M_DATA, chunk, (size_t)r, NULL, 0, e);
		left -= (uint64_t)r;
	}
	free(chunk);
	if (!rc)
		rc = ack_result(b, "write", path, &ack, e);
	return rc;
}

static enum err put_dir(struct sbx_box *b, const char *path, unsigned mode,
			uid_t uid, struct errmsg *e)
{
	char hdr[sizeof(struct sbx_m_file) + SBX_PATH_MAX];
	struct sbx_m_ack ack;
	enum err rc = sbx_send(b, SBX_M_MKDIR, hdr,
			       file_hdr(hdr, path, mode, uid, 0), NULL, 0, e);

	return rc ? rc : ack_result(b, "create directory", path, &ack, e);
}

/* Does a symlink at depth `depth` below the tree root with target t stay
 * inside the tree? */
static bool link_inside(const char *t, int depth)
{
	if (t[0] == '/')
		return false;
	while (*t) {
		size_t n = strcspn(t, "/");

		if (n == 2 && !strncmp(t, "..", 2))
			depth--;
		else if (n && !(n == 1 && t[0] == '.'))
			depth++;
		if (depth < 0)
			return false;
		t += n;
		while (*t == '/')
			t++;
	}
	return true;
}

static enum err put_link(struct sbx_box *b, int dfd, const char *name,
			 const char *path, int depth, uid_t uid, struct errmsg *e)
{
	char hdr[sizeof(struct sbx_m_file) + SBX_PATH_MAX];
	char target[SBX_PATH_MAX];
	struct sbx_m_ack ack;
	ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
	enum err rc;

	if (n <= 0)
		return err_sys(e, ERR_IO, "cannot read link '%s'", path);
	target[n] = 0;
	if (!link_inside(target, depth))
		return err_set(e, ERR_INVAL, "symlink '%s' -> '%s' leaves the tree",
			       path, target);
	rc = sbx_send(b, SBX_M_SYMLINK, hdr,
		      file_hdr(hdr, path, 0777, uid, (uint64_t)n), target, (size_t)n, e);
	return rc ? rc : ack_result(b, "create symlink", path, &ack, e);
}

static enum err copy_tree(struct sbx_box *b, int dfd, const char *box_dir,
			  int depth, uid_t uid, struct errmsg *e);

static enum err copy_entry(struct sbx_box *b, int dfd, const char *name,
			   const char *box_dir, int depth, uid_t uid,
			   struct errmsg *e)
{
	char *path = xasprintf("%s/%s", box_dir, name);
	struct stat sb;
	enum err rc = ERR_OK;
	int fd;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = err_sys(e, ERR_IO, "cannot stat '%s'", name);
	} else if (S_ISLNK(sb.st_mode)) {
		rc = put_link(b, dfd, name, path, depth, uid, e);
	} else if (S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0) {
			rc = err_sys(e, ERR_IO, "cannot open '%s'", name);
		} else if (S_ISDIR(sb.st_mode)) {
			rc = put_dir(b, path, sb.st_mode & 07777, uid, e);
			if (!rc)
				rc = copy_tree(b, fd, path, depth + 1, uid, e);
			close(fd);
		} else {
			if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
				rc = err_set(e, ERR_IO, "'%s' changed", name);
			else
				rc = put_fd(b, path, fd, &sb, uid, e);
			close(fd);
		}
	} /* devices, fifos and sockets are skipped */
	free(path);
	return rc;
}

static enum err copy_tree(struct sbx_box *b, int dfd, const char *box_dir,
			  int depth, uid_t uid, struct errmsg *e)
{
	int fd2 = dup(dfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	struct dirent *de;
	enum err rc = ERR_OK;

	if (depth > COPY_DEPTH_MAX) {
		if (d)
			closedir(d);
		return err_set(e, ERR_LIMIT, "directory tree deeper than %d",
			       COPY_DEPTH_MAX);
	}
	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		return err_sys(e, ERR_IO, "cannot read directory");
	}
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = copy_entry(b, dfd, de->d_name, box_dir, depth, uid, e);
	}
	closedir(d);
	return rc;
}

enum err sbx_copy_in(struct sbx_box *b, const char *host_dir,
		     const char *box_dir, const char *owner, struct errmsg *e)
{
	int fd;
	uid_t uid;
	enum err rc;
	struct stat sb;
	char *dir;

	if ((rc = busy(b, e)) || (rc = check_path(b, box_dir, e)) ||
	    (rc = owner_uid(owner, &uid, e)))
		return rc;
	fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_IO, "cannot open directory '%s'", host_dir);
	dir = xstrdup(box_dir);
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = 0;
	rc = fstat(fd, &sb) < 0 ? err_sys(e, ERR_IO, "stat '%s'", host_dir) :
		put_dir(b, dir, sb.st_mode & 07777, uid, e);
	if (!rc)
		rc = copy_tree(b, fd, strcmp(dir, "/") ? dir : "", 0, uid, e);
	close(fd);
	free(dir);
	if (rc)
		return err_prefix(e, "copy '%s' into box '%s'", host_dir, b->name);
	return ERR_OK;
}

enum err sbx_get_file(struct sbx_box *b, const char *path, size_t max,
		      char **data_out, size_t *len_out, struct errmsg *e)
{
	char hdr[sizeof(struct sbx_m_file) + SBX_PATH_MAX];
	int64_t deadline = now_ms() + SBX_OP_TIMEOUT_MS;
	struct buf out;
	enum err rc;

	if ((rc = busy(b, e)) || (rc = check_path(b, path, e)))
		return rc;
	rc = sbx_send(b, SBX_M_GET, hdr, file_hdr(hdr, path, 0, 0, max), NULL, 0, e);
	if (rc)
		return err_prefix(e, "box '%s': read '%s'", b->name, path);
	buf_init(&out, max);
	for (;;) {
		struct sbx_msg h;
		const char *p;
		struct sbx_m_ack ack;

		rc = sbx_recv(b, deadline, &h, &p, e);
		if (rc) {
			sbx_box_mark_dead(b);
			break;
		}
		if (h.type == SBX_M_FDATA) {
			if (buf_add(&out, p, h.len)) {
				sbx_box_mark_dead(b);
				rc = err_set(e, ERR_SANDBOX, "sent more than asked");
				break;
			}
			continue;
		}
		if (h.type != SBX_M_ACK || h.len != sizeof(ack)) {
			sbx_box_mark_dead(b);
			rc = err_set(e, ERR_SANDBOX, "protocol violation");
			break;
		}
		memcpy(&ack, p, sizeof(ack));
		if (ack.err == EFBIG)
			rc = err_set(e, ERR_LIMIT, "file is %llu bytes, limit %zu",
				     (unsigned long long)ack.size, max);
		else if (ack.err) {
			errno = ack.err > 0 && ack.err < 4096 ? ack.err : EPROTO;
			rc = err_sys(e, ack.err == ENOENT ? ERR_NOTFOUND : ERR_IO,
				     "cannot read");
		}
		break;
	}
	if (rc) {
		buf_release(&out);
		return err_prefix(e, "box '%s': '%s'", b->name, path);
	}
	*data_out = buf_detach(&out, len_out);
	return ERR_OK;
}
