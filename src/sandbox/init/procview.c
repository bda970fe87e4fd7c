/*
 * procview.c - the box's view of the host-wide counters of /proc.
 *
 * Files such as /proc/meminfo, /proc/stat, /proc/loadavg or
 * /proc/sys/fs/file-nr show counters of the whole machine: one episode
 * that allocates, forks or opens files moves what another reads, a
 * channel between episodes (issue 11 item 4). Over each, init binds:
 *
 * - the harness's generated static files (src/sandbox/procview.c, in
 *   inst_dir/proc/, beside the /etc template): stat, vmstat, loadavg,
 *   and meminfo-MB for the box's memory limit. They are owned by the
 *   harness's uid, which no box maps: box root cannot write them;
 * - the box's null device over counters nothing needs (zoneinfo,
 *   buddyinfo, diskstats, cgroup counts, pty count);
 * - an empty directory, removed once bound, over directories of host
 *   counters (irq, fs, pressure, sys/fs).
 *
 * One bind each, nothing generated here: fifteen mounts, ≈ 0.2 ms of CPU
 * per box on the loaded 2-core VM. /proc/sys is first bound read-only
 * over itself; the masks under it are binds of files box root cannot
 * write (the null device, a removed directory).
 * What stays host-wide is in docs/SECURITY.md.
 */
#define SBX_PROTO_ONLY
#include "sandbox/sandbox_int.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* counters nothing in a box needs: read as empty */
static const char *const nulled[] = {
	"zoneinfo", "buddyinfo", "diskstats", "schedstat", "cgroups",
	"sys/kernel/pty/nr",
};

/* directories of host counters (sys/fs: inode, dentry, file, aio counts;
 * quota syncs): an empty directory over each */
static const char *const emptied[] = { "irq", "fs", "pressure", "sys/fs" };

static const char *const generated[] = { "stat", "vmstat", "loadavg" };

static int bind(const char *src, const char *name)
{
	char dst[64];

	snprintf(dst, sizeof(dst), "proc/%s", name);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* /proc/sys read-only, as in Docker: box root owns its network
 * namespace and could otherwise raise its TCP buffers (setup.c) or
 * change other per-namespace settings the harness chose. */
static int sys_read_only(void)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					       MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };

	if (mount("proc/sys", "proc/sys", NULL, MS_BIND, NULL) < 0)
		return -1;
	return (int)syscall(SYS_mount_setattr, AT_FDCWD, "proc/sys", 0, &attr,
			    sizeof(attr));
}

int proc_view(const char *etc_dir, const char *null_dev, unsigned memory_mb)
{
	char src[SBX_PATH_MAX + 32];

	/* first, while nothing is mounted under it (a recursive bind would
	 * copy the masks below: two more mounts per box) */
	if (sys_read_only() < 0)
		return -1;
	snprintf(src, sizeof(src), "%s/../proc/meminfo-%u", etc_dir, memory_mb);
	if (bind(src, "meminfo") < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(generated); i++) {
		snprintf(src, sizeof(src), "%s/../proc/%s", etc_dir, generated[i]);
		if (bind(src, generated[i]) < 0)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(nulled); i++)
		if (bind(null_dev, nulled[i]) < 0)
			return -1;
	/* an empty directory of the box's root, removed once bound: nothing
	 * can be created in it, and mountinfo names no harness path */
	if (mkdir(".pe", 0555) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(emptied); i++)
		if (bind(".pe", emptied[i]) < 0)
			return -1;
	return rmdir(".pe");
}
