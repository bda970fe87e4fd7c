/*
 * tidy.c - init's built-in jobs that make a box safe for a hidden check.
 *
 * They run in a forked child of init (as box root, inside the box, after
 * every other process was killed), like a command: the harness waits for
 * them asynchronously and init kills them at their timeout.
 *
 * tidy DIR: walk DIR without following anything and remove what could
 * make a check read something other than the agent's work or block on
 * it: symlinks that could leave DIR (absolute targets, or any ".."
 * component: a chain of links with ".." can climb out even when each
 * link looks inside on its own), FIFOs, sockets and device nodes; clear
 * setuid/setgid bits (inert under no_new_privs anyway). A tree with more
 * than TIDY_ENTRIES entries or deeper than TIDY_DEPTH levels is refused
 * (exit SBX_TIDY_TOO_MANY / SBX_TIDY_TOO_DEEP): the agent's doing.
 *
 * fresh DIR: make DIR a new, empty, root-owned 0700 directory whose every
 * parent is a real directory owned by root and writable by root only;
 * whatever was at DIR (planted by a root agent or a rooted service) is
 * renamed aside, in O(1), never descended into.
 */
#define SBX_PROTO_ONLY
#include "sandbox/sandbox_int.h"
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/banned.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

#define TIDY_ENTRIES 200000
#define TIDY_DEPTH 64
#define TIDY_NOTES 20   /* removals named on stderr; the rest counted */

struct tidy {
	long entries;
	long removed;
	int code;
};

/* path for a message: control bytes and non-ASCII as '?' */
static void note(struct tidy *t, const char *what, const char *name,
		 const char *target)
{
	char a[256], b[256];

	if (++t->removed > TIDY_NOTES)
		return;
	snprintf(a, sizeof(a), "%s", name);
	snprintf(b, sizeof(b), "%s", target ? target : "");
	for (char *p = a; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	for (char *p = b; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	if (target)
		fprintf(stderr, "tidy: removed %s '%s' -> '%s'\n", what, a, b);
	else
		fprintf(stderr, "tidy: removed %s '%s'\n", what, a);
}

/* A link target that only ever descends: relative, no ".." component. */
static bool descends(const char *t)
{
	if (t[0] == '/' || !t[0])
		return false;
	while (*t) {
		size_t n = strcspn(t, "/");

		if (n == 2 && t[0] == '.' && t[1] == '.')
			return false;
		t += n;
		while (*t == '/')
			t++;
	}
	return true;
}

static void walk(struct tidy *t, int dfd, int depth);

static void entry(struct tidy *t, int dfd, const char *name, int depth)
{
	char target[SBX_PATH_MAX + 1];
	struct stat sb;
	ssize_t n;
	int fd;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISLNK(sb.st_mode)) {
		n = readlinkat(dfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		if (n <= 0 || !descends(target)) {
			if (unlinkat(dfd, name, 0) == 0)
				note(t, "symlink", name, target);
		}
	} else if (S_ISDIR(sb.st_mode)) {
		if (depth + 1 > TIDY_DEPTH) {
			t->code = SBX_TIDY_TOO_DEEP;
			return;
		}
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd >= 0) {
			walk(t, fd, depth + 1);
			close(fd);
		}
	} else if (S_ISREG(sb.st_mode)) {
		if (sb.st_mode & (S_ISUID | S_ISGID))
			(void)fchmodat(dfd, name, sb.st_mode & 01777, 0);
	} else if (unlinkat(dfd, name, 0) == 0) {
		note(t, S_ISFIFO(sb.st_mode) ? "fifo" : S_ISSOCK(sb.st_mode) ?
		     "socket" : "device node", name, NULL);
	}
}

static void walk(struct tidy *t, int dfd, int depth)
{
	int fd2 = dup(dfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		return;
	}
	while (!t->code && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++t->entries > TIDY_ENTRIES) {
			t->code = SBX_TIDY_TOO_MANY;
			break;
		}
		entry(t, dfd, de->d_name, depth);
	}
	closedir(d);
}

/* Open an absolute path as a directory without following a symlink in
 * any component; -1 with errno (ENOTDIR/ELOOP: something else is there). */
static int open_dir_nofollow(const char *path)
{
	char tmp[SBX_PATH_MAX + 2], *p, *slash;
	size_t n = strlen(path);
	int dfd, fd;

	if (n > SBX_PATH_MAX || path[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	memcpy(tmp, path, n);
	tmp[n] = '/';
	tmp[n + 1] = 0;
	for (p = tmp + 1; (slash = strchr(p, '/')); p = slash + 1) {
		*slash = 0;
		if (!*p)
			continue;
		fd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (fd < 0)
			return -1;
		dfd = fd;
	}
	return dfd;
}

int init_tidy(const char *dir)
{
	struct tidy t = { 0 };
	int fd = open_dir_nofollow(dir);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* a symlink or a file where a directory should be */
		fprintf(stderr, "tidy: cannot open '%s' as a directory: %s\n",
			dir, strerror(errno));
		return SBX_TIDY_NOT_DIR;
	}
	walk(&t, fd, 0);
	close(fd);
	if (t.removed > TIDY_NOTES)
		fprintf(stderr, "tidy: %ld more removed\n", t.removed - TIDY_NOTES);
	if (t.code == SBX_TIDY_TOO_MANY)
		fprintf(stderr, "tidy: more than %d entries under '%s'\n",
			TIDY_ENTRIES, dir);
	if (t.code == SBX_TIDY_TOO_DEEP)
		fprintf(stderr, "tidy: deeper than %d levels under '%s'\n",
			TIDY_DEPTH, dir);
	return t.code;
}

/* Step into component name of dfd as a root-owned directory writable
 * only by root, making it so if needed; returns its fd or -1. */
static int root_dir_at(int dfd, const char *name)
{
	struct stat sb;
	int fd;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(sb.st_mode) && unlinkat(dfd, name, 0) < 0)
		return -1;
	if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0)
		goto bad;
	if ((sb.st_uid || sb.st_gid) && fchown(fd, 0, 0) < 0)
		goto bad;
	if ((sb.st_mode & 022) && fchmod(fd, sb.st_mode & 07755) < 0)
		goto bad;
	return fd;
bad:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Move whatever is at name aside: ".NAME.stale-N" in the same directory. */
static int move_aside(int dfd, const char *name)
{
	char aside[300];

	for (int i = 0; i < 1000; i++) {
		snprintf(aside, sizeof(aside), ".%.200s.stale-%d", name, i);
		if (syscall(SYS_renameat2, dfd, name, dfd, aside,
			    RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == ENOENT)
			return 0; /* nothing there */
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

int init_fresh_dir(const char *path)
{
	char tmp[SBX_PATH_MAX + 1], *p, *slash;
	int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	struct stat sb;

	if (strlen(path) > SBX_PATH_MAX || path[0] != '/' || dfd < 0)
		return 1;
	snprintf(tmp, sizeof(tmp), "%s", path);
	if (fstat(dfd, &sb) < 0 || ((sb.st_mode & 022) && fchmod(dfd, sb.st_mode & 07755) < 0))
		goto fail;
	for (p = tmp + 1; (slash = strchr(p, '/')); p = slash + 1) {
		*slash = 0;
		if (*p) {
			fd = root_dir_at(dfd, p);
			if (fd < 0)
				goto fail;
			close(dfd);
			dfd = fd;
		}
	}
	if (!*p || move_aside(dfd, p) < 0 || mkdirat(dfd, p, 0700) < 0 ||
	    fchownat(dfd, p, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dfd, p, 0700, 0) < 0)
		goto fail;
	close(dfd);
	return 0;
fail:
	fprintf(stderr, "fresh: cannot make '%s' afresh: %s\n", path,
		strerror(errno));
	close(dfd);
	return 1;
}
