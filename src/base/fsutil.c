#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bug.h"
#include "util.h"
#include "xalloc.h"
#include "base/banned.h"

/* Read until end of file, not by the size fstat reports: /proc and
 * cgroup files report 0 and still have content. */
static enum err read_capped(int fd, const char *path, size_t max,
			    char **data_out, size_t *len_out, struct errmsg *e)
{
	size_t cap = 4096, len = 0;
	char *data = xmalloc(cap + 1);

	for (;;) {
		ssize_t r;
		if (len == cap) {
			if (cap > max) {
				free(data);
				return err_set(e, ERR_LIMIT, "'%s' is larger than "
					       "%zu bytes", path, max);
			}
			cap *= 2;
			data = xrealloc(data, cap + 1);
		}
		r = read(fd, data + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(data);
			return err_sys(e, ERR_IO, "cannot read '%s'", path);
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		free(data);
		return err_set(e, ERR_LIMIT, "'%s' is larger than %zu bytes",
			       path, max);
	}
	data[len] = '\0';
	*data_out = data;
	*len_out = len;
	return ERR_OK;
}

enum err file_read(const char *path, size_t max, char **data_out,
		   size_t *len_out, struct errmsg *e)
{
	struct stat st;
	enum err rc;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_sys(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
			       "cannot open '%s'", path);
	if (fstat(fd, &st) < 0)
		rc = err_sys(e, ERR_IO, "cannot stat '%s'", path);
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, ERR_INVAL, "'%s' is not a regular file", path);
	else if ((size_t)st.st_size > max)
		rc = err_set(e, ERR_LIMIT, "'%s' is larger than %zu bytes",
			     path, max);
	else
		rc = read_capped(fd, path, max, data_out, len_out, e);
	close(fd);
	return rc;
}

static enum err write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ERR_IO;
		c += w;
		n -= (size_t)w;
	}
	return ERR_OK;
}

enum err file_write_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, struct errmsg *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	enum err rc = ERR_OK;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = err_sys(e, ERR_IO, "cannot create '%s'", tmp);
		goto out;
	}
	if (write_all(fd, data, len) || fsync(fd) < 0) {
		rc = err_sys(e, ERR_IO, "cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = err_sys(e, ERR_IO, "cannot rename '%s' to '%s'", tmp, path);
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

enum err mkdir_p(const char *path, mode_t mode, struct errmsg *e)
{
	char *p = xstrdup(path);
	enum err rc = ERR_OK;

	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = err_sys(e, ERR_IO, "cannot create directory '%s'", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

enum err rm_rf(const char *path, struct errmsg *e)
{
	if (!path_exists(path))
		return ERR_OK;
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return err_sys(e, ERR_IO, "cannot remove '%s'", path);
	return ERR_OK;
}

bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	return xasprintf("%.*s/%s", (int)n, a, b);
}

char *path_exe_dir(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(self[0] ? self : "/");
}

/* cand (freed) when it exists, else NULL */
static char *existing(char *cand)
{
	if (cand && path_exists(cand))
		return cand;
	free(cand);
	return NULL;
}

char *path_user_data(const char *env, const char *name)
{
	const char *v = getenv(env), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (v && *v)
		return xstrdup(v);
	if (xdg && *xdg == '/')
		return xasprintf("%s/assay/%s", xdg, name);
	return xasprintf("%s/.local/share/assay/%s",
			 home && *home ? home : "/root", name);
}

char *path_data_file(const char *rel)
{
	static const char *const beside[] = { "..", "../share/assay", "." };
	const char *src = getenv("ASSAY_SOURCE_DIR");
	char *dir, *found = NULL;

	DEBUGASSERT(rel && *rel && rel[0] != '/');
	if (src && *src)
		found = existing(path_join(src, rel));
	dir = found ? NULL : path_exe_dir();
	for (size_t i = 0; dir && !found && i < ARRAY_SIZE(beside); i++) {
		char *base = path_join(dir, beside[i]);
		found = existing(path_join(base, rel));
		free(base);
	}
	free(dir);
#ifdef ASSAY_DATA_DIR
	/* ASSAY_DATA_DIR is SOURCE/data */
	if (!found) {
		char *base = path_join(ASSAY_DATA_DIR, "..");
		found = existing(path_join(base, rel));
		free(base);
	}
#endif
	return found;
}
