/*
 * procview.c - the box's view of the host-wide counters of /proc.
 *
 * Files such as /proc/meminfo, /proc/stat, /proc/loadavg or
 * /proc/sys/fs/file-nr show counters of the whole machine: one episode
 * that allocates, forks or opens files moves what another reads, a
 * channel between episodes (issue 11 item 4). Each box gets instead:
 *
 * - generated, static files (the layout of the host's, so free, ps, top,
 *   vmstat, psutil and glibc's CPU count keep working): meminfo with
 *   MemTotal/MemFree/MemAvailable = the box's memory limit and every
 *   other number 0; stat with one zeroed line per CPU, btime kept;
 *   vmstat with every counter 0; loadavg "0.00 0.00 0.00 1/1 1";
 * - the box's null device over counters nothing needs (zoneinfo,
 *   buddyinfo, diskstats, PSI, fs/inode/dentry/aio/pty counts, ...);
 * - an empty read-only tmpfs over directories of host counters (irq,
 *   fs, sys/fs/quota, pressure).
 *
 * Generated files are written on the box's root tmpfs, bound read-only
 * over their /proc entry and unlinked, so nothing in the box can reach
 * or rewrite them. What stays host-wide is in docs/SECURITY.md.
 */
#define SBX_PROTO_ONLY
#include "sandbox/sandbox_int.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VIEW_MAX 65536

/* counters nothing in a box needs: read as empty */
static const char *const nulled[] = {
	"zoneinfo", "buddyinfo", "diskstats", "schedstat", "cgroups",
	"sys/fs/dentry-state", "sys/fs/file-nr", "sys/fs/inode-nr",
	"sys/fs/inode-state", "sys/fs/aio-nr", "sys/kernel/pty/nr",
};

/* directories of host counters: an empty read-only tmpfs over each */
static const char *const emptied[] = {
	"irq", "fs", "sys/fs/quota", "pressure",
};

struct view {
	char in[VIEW_MAX];
	char out[VIEW_MAX + 256];
	size_t n;
};

static struct view v;

static bool numeric(const char *t, size_t n)
{
	size_t i = (n && t[0] == '-') ? 1 : 0;

	if (i == n)
		return false;
	for (; i < n; i++)
		if ((t[i] < '0' || t[i] > '9') && t[i] != '.')
			return false;
	return true;
}

static void put(const char *s, size_t n)
{
	if (v.n + n < sizeof(v.out)) {
		memcpy(v.out + v.n, s, n);
		v.n += n;
	}
}

/* One line with every numeric field after the first token as "0", or
 * (value != NULL) as value. */
static void zero_line(const char *l, size_t n, const char *value)
{
	size_t i = 0;
	bool first = true;

	while (i < n) {
		size_t j = i;

		if (l[i] == ' ' || l[i] == '\t') {
			while (j < n && (l[j] == ' ' || l[j] == '\t'))
				j++;
			put(l + i, j - i);
		} else {
			while (j < n && l[j] != ' ' && l[j] != '\t')
				j++;
			if (!first && numeric(l + i, j - i))
				put(value ? value : "0", strlen(value ? value : "0"));
			else
				put(l + i, j - i);
			first = false;
		}
		i = j;
	}
	put("\n", 1);
}

static bool starts(const char *l, size_t n, const char *key)
{
	size_t k = strlen(key);

	return n >= k && !memcmp(l, key, k);
}

/* meminfo: the limit as total, free and available; sizes of pages kept */
static void meminfo_line(const char *l, size_t n, const char *limit_kb)
{
	if (starts(l, n, "MemTotal:") || starts(l, n, "MemFree:") ||
	    starts(l, n, "MemAvailable:") || starts(l, n, "CommitLimit:"))
		zero_line(l, n, limit_kb);
	else if (starts(l, n, "Hugepagesize:"))
		put(l, n), put("\n", 1);
	else
		zero_line(l, n, NULL);
}

/* stat: btime kept (ps needs it), one running process (us) */
static void stat_line(const char *l, size_t n)
{
	if (starts(l, n, "btime "))
		put(l, n), put("\n", 1);
	else if (starts(l, n, "procs_running "))
		put("procs_running 1\n", 16);
	else
		zero_line(l, n, NULL);
}

static int read_in(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t k;

	if (fd < 0)
		return -1;
	while (n < sizeof(v.in) - 1 &&
	       (k = read(fd, v.in + n, sizeof(v.in) - 1 - n)) > 0)
		n += (size_t)k;
	close(fd);
	v.in[n] = 0;
	return 0;
}

/* Rewrite proc/NAME line by line (kind 'm' meminfo, 's' stat, 'z' every
 * number 0). */
static int rewrite(const char *name, char kind, const char *limit_kb)
{
	char path[64];

	snprintf(path, sizeof(path), "proc/%s", name);
	if (read_in(path) < 0)
		return -1;
	v.n = 0;
	for (char *l = v.in; *l; ) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (kind == 'm')
			meminfo_line(l, n, limit_kb);
		else if (kind == 's')
			stat_line(l, n);
		else
			zero_line(l, n, NULL);
		l += n + (nl ? 1 : 0);
	}
	return 0;
}

/* Bind the generated text (v.out) read-only over proc/NAME. */
static int bind_view(const char *name)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	char dst[64];
	const char *src = ".procview";
	int fd = open(src, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, v.out, v.n) == (ssize_t)v.n ? 0 : -1;
	close(fd);
	snprintf(dst, sizeof(dst), "proc/%s", name);
	if (!rc)
		rc = mount(src, dst, NULL, MS_BIND, NULL);
	if (!rc)
		rc = (int)syscall(SYS_mount_setattr, AT_FDCWD, dst, 0, &attr,
				  sizeof(attr));
	if (unlink(src) < 0)
		rc = -1;
	return rc;
}

static int generated(unsigned memory_mb)
{
	char kb[24];
	static const char loadavg[] = "0.00 0.00 0.00 1/1 1\n";

	snprintf(kb, sizeof(kb), "%u", memory_mb << 10);
	if (rewrite("meminfo", 'm', kb) < 0 || bind_view("meminfo") < 0 ||
	    rewrite("stat", 's', NULL) < 0 || bind_view("stat") < 0 ||
	    rewrite("vmstat", 'z', NULL) < 0 || bind_view("vmstat") < 0)
		return -1;
	memcpy(v.out, loadavg, sizeof(loadavg) - 1);
	v.n = sizeof(loadavg) - 1;
	return bind_view("loadavg");
}

int proc_view(const char *null_dev, unsigned memory_mb)
{
	char dst[64];

	if (generated(memory_mb) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(nulled); i++) {
		snprintf(dst, sizeof(dst), "proc/%s", nulled[i]);
		if (mount(null_dev, dst, NULL, MS_BIND, NULL) < 0 &&
		    errno != ENOENT)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(emptied); i++) {
		snprintf(dst, sizeof(dst), "proc/%s", emptied[i]);
		if (mount("none", dst, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC, "size=4k,mode=0555") < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}
