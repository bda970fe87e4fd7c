/*
 * memfs.c - a tmpfs held by an fd only, for what must never rest on a
 * disk (a sealed archive's private image layers, docs/internals/
 * sandbox.md "Sealed images"). It is made with the new mount API and
 * never attached to the harness's mount namespace (nothing is mounted
 * there), so no path on the host names it, no other process can reach
 * it by path, and nothing of it outlives the fd and the boxes that
 * mounted a clone of it: a SIGKILLed harness leaves nothing to unmount.
 * "noswap" keeps its pages out of swap; a kernel without it (< 6.4) is
 * refused rather than given a tmpfs that might swap.
 */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/banned.h"

static int fs_flag(int fs, const char *key, const char *value)
{
	return (int)syscall(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING :
			    FSCONFIG_SET_FLAG, key, value, 0);
}

enum err sbx_memfs_new(int *fd_out, struct errmsg *e)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC), mnt;

	if (fs < 0)
		return err_sys(e, ERR_SANDBOX, "memory file system: fsopen tmpfs");
	if (fs_flag(fs, "noswap", NULL) < 0) {
		close(fs);
		return err_sys(e, ERR_SANDBOX, "memory file system: this kernel's "
			       "tmpfs has no 'noswap' (Linux 6.4 or later is needed "
			       "to keep private layers out of swap)");
	}
	if (fs_flag(fs, "mode", "0700") < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close(fs);
		return err_sys(e, ERR_SANDBOX, "memory file system: create");
	}
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	close(fs);
	if (mnt < 0)
		return err_sys(e, ERR_SANDBOX, "memory file system: fsmount");
	*fd_out = mnt;
	return ERR_OK;
}

enum err sbx_memfs_bind(int fd, const char *rel, const char *src,
			struct errmsg *e)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	int tree;

	if (mkdirat(fd, rel, 0700) < 0 && errno != EEXIST)
		return err_sys(e, ERR_SANDBOX, "memory file system: mkdir '%s'", rel);
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, src,
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return err_sys(e, ERR_SANDBOX, "memory file system: clone '%s'", src);
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
	    syscall(SYS_move_mount, tree, "", fd, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		int saved = errno;

		close(tree);
		errno = saved;
		return err_sys(e, ERR_SANDBOX, "memory file system: bind '%s' at "
			       "'%s'", src, rel);
	}
	close(tree);
	return ERR_OK;
}
