/*
 * global.c - process-wide set-up of the sandbox part: the init binary, the
 * seccomp filter, the host image description, the state dir with its
 * instance dir and uid-slot locks, and the removal of leftovers of harness
 * processes that died without cleaning up.
 *
 * Instances are named "<pid>-<starttime>" (start time in clock ticks from
 * /proc/PID/stat), so a recycled pid never looks like the dead harness that
 * used it.
 */
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

struct sbx_global sbx_g = { .init_fd = -1, .host_netns = -1 };

/* /etc entries of the host that the "host" image shows read-only: what
 * Debian tools need (nc, python, openssl, gcc, gdb, tshark). */
static const char *const etc_allow[] = {
	"alternatives", "ssl", "ca-certificates", "ld.so.cache", "ld.so.conf",
	"ld.so.conf.d", "localtime", "timezone", "protocols", "services",
	"ethertypes", "networks", "rpc", "gai.conf", "host.conf", "mime.types",
	"magic", "magic.mime", "gdb", "python3", "python3.11", "wireshark",
	"inputrc", "bash.bashrc", "profile", "profile.d", "skel", "terminfo",
	"os-release", "debian_version", "shells", "login.defs", "xattr.conf",
	"perl", "vim", "wgetrc", "environment", "default", "security",
	"pam.d", "pam.conf", "iproute2", "manpath.config", "gitconfig",
	"java-17-openjdk", "fonts",
};

static const char *const usr_dirs[] = { "bin", "sbin", "lib", "lib64" };

static void log_debug_sbx_leftover(const char *path)
{
	log_debug("msg=\"cannot remove sandbox leftover\" path=%s", path);
}

/* Start time (field 22 of /proc/PID/stat), 0 when the process is gone. */
static unsigned long long proc_start(long pid)
{
	char path[64], buf[1024];
	char *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may contain spaces */
	if (!p)
		return 0;
	/* after ") " come fields 3..; start time is field 22 */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || !num_field_ull(p + 1, " \n", ULLONG_MAX, &start, NULL))
		return 0;
	return start;
}

bool sbx_inst_alive(const char *name)
{
	long long pid;
	unsigned long long start;
	const char *end;

	if (!num_field_ll(name, "-", 1, INT_MAX, &pid, &end) || *end != '-' ||
	    num_parse_ull(end + 1, ULLONG_MAX, &start, NULL) != ERR_OK)
		return true; /* not ours: leave it alone */
	return proc_start((long)pid) == start;
}

static bool inst_name_like(const char *s)
{
	bool dash = false;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++) {
		if (*s == '-' && !dash)
			dash = true;
		else if (!isdigit((unsigned char)*s))
			return false;
	}
	return dash;
}

static void remove_dead_instances(void)
{
	DIR *d = opendir(sbx_g.state_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct errmsg e;
		char *p;

		if (!inst_name_like(de->d_name) || sbx_inst_alive(de->d_name))
			continue;
		p = path_join(sbx_g.state_dir, de->d_name);
		if (rm_rf(p, &e) != ERR_OK)
			log_debug_sbx_leftover(p);
		free(p);
	}
	closedir(d);
}

static enum err load_init(const char *path, struct errmsg *e)
{
	int src = open(path, O_RDONLY | O_CLOEXEC);
	int fd;
	struct stat sb;
	off_t off = 0;

	if (src < 0)
		return err_sys(e, ERR_SANDBOX, "cannot open box init '%s'", path);
	if (fstat(src, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(src);
		return err_set(e, ERR_SANDBOX, "box init '%s' is not a file", path);
	}
	/* A sealed in-memory copy: nothing in a box can reach or rewrite the
	 * file the harness runs (CVE-2019-5736). */
	fd = memfd_create("assay-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		close(src);
		return err_sys(e, ERR_SANDBOX, "memfd for box init");
	}
	while (off < sb.st_size)
		if (sendfile(fd, src, &off, (size_t)(sb.st_size - off)) <= 0)
			break;
	close(src);
	if (off != sb.st_size ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
		  F_SEAL_SEAL) < 0) {
		close(fd);
		return err_sys(e, ERR_SANDBOX, "cannot copy box init '%s'", path);
	}
	sbx_g.init_fd = fd;
	return ERR_OK;
}

static enum err find_init(const struct sbx_config *cfg, struct errmsg *e)
{
	const char *p = cfg && cfg->init_path ? cfg->init_path : getenv("ASSAY_INIT");
	char *dir, *path;
	enum err rc;

	if (p && *p)
		return load_init(p, e);
	dir = path_exe_dir();
	if (!dir)
		return err_sys(e, ERR_SANDBOX, "cannot find assay-init");
	path = path_join(dir, "assay-init");
	rc = load_init(path, e);
	free(path);
	free(dir);
	return rc;
}

static const char passwd_txt[] =
	"root:x:0:0:root:/root:/bin/bash\n"
	"agent:x:1000:1000:agent:/home/agent:/bin/bash\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group_txt[] =
	"root:x:0:\nagent:x:1000:\nnogroup:x:65534:\n";
static const char nsswitch_txt[] =
	"passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
	"networks: files\nprotocols: files\nservices: files\n";

/* cp -a of one host entry (regular files, dirs, symlinks) */
static enum err copy_entry(int sfd, const char *name, int dfd, int depth,
			   struct errmsg *e)
{
	struct stat sb;
	enum err rc = ERR_OK;

	if (depth > 16 || fstatat(sfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return ERR_OK; /* vanished or absurd: leave it out */
	if (S_ISLNK(sb.st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlinkat(sfd, name, t, sizeof(t) - 1);

		if (n > 0) {
			t[n] = 0;
			if (symlinkat(t, dfd, name) < 0)
				rc = err_sys(e, ERR_SANDBOX, "symlink /etc/.../%s", name);
		}
	} else if (S_ISREG(sb.st_mode)) {
		int in = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				 sb.st_mode & 0777);
		off_t off = 0;

		if (in >= 0 && out >= 0)
			while (off < sb.st_size &&
			       sendfile(out, in, &off, (size_t)(sb.st_size - off)) > 0)
				;
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		else
			rc = err_sys(e, ERR_SANDBOX, "copy /etc/.../%s", name);
	} else if (S_ISDIR(sb.st_mode)) {
		int in, out;
		DIR *d;
		struct dirent *de;

		if (mkdirat(dfd, name, sb.st_mode & 0777) < 0)
			return err_sys(e, ERR_SANDBOX, "mkdir /etc/.../%s", name);
		in = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		out = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		d = in >= 0 ? fdopendir(in) : NULL;
		while (d && out >= 0 && !rc && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rc = copy_entry(in, de->d_name, out, depth + 1, e);
		if (d)
			closedir(d);
		else if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	}
	return rc;
}

static enum err put_text(int dfd, const char *name, const char *text,
			 struct errmsg *e)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)strlen(text))
		return err_sys(e, ERR_SANDBOX, "cannot write /etc template '%s'", name);
	return ERR_OK;
}

/* The host image's /etc: a copy of what Debian tools need, our own
 * passwd/group/nsswitch, and hosts/hostname pointing into the box's own
 * /run (written per box). Built once; each box binds it read-only. */
static enum err build_etc(struct errmsg *e)
{
	int src = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), dst;
	enum err rc = ERR_OK;
	char *empty;
	bool ok;

	sbx_g.etc_dir = path_join(sbx_g.inst_dir, "etc");
	empty = path_join(sbx_g.inst_dir, "empty");
	/* the second lower layer of each box's read-only overlays (init/setup.c) */
	ok = mkdir(empty, 0555) == 0 && chmod(empty, 0555) == 0;
	free(empty);
	if (src < 0 || !ok || mkdir(sbx_g.etc_dir, 0755) < 0 || chmod(sbx_g.etc_dir, 0755) < 0) {
		if (src >= 0)
			close(src);
		return err_sys(e, ERR_SANDBOX, "cannot build '%s'", sbx_g.etc_dir);
	}
	dst = open(sbx_g.etc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; dst >= 0 && i < ARRAY_SIZE(etc_allow) && !rc; i++)
		rc = copy_entry(src, etc_allow[i], dst, 0, e);
	if (!rc && dst >= 0)
		rc = put_text(dst, "passwd", passwd_txt, e);
	if (!rc && dst >= 0)
		rc = put_text(dst, "group", group_txt, e);
	if (!rc && dst >= 0)
		rc = put_text(dst, "nsswitch.conf", nsswitch_txt, e);
	if (!rc && dst >= 0)
		rc = put_text(dst, "resolv.conf", "", e);
	if (!rc && dst >= 0 && (symlinkat("/run/etc/hosts", dst, "hosts") < 0 ||
				symlinkat("/run/etc/hostname", dst, "hostname") < 0))
		rc = err_sys(e, ERR_SANDBOX, "cannot link /etc template hosts");
	close(src);
	if (dst >= 0)
		close(dst);
	return rc;
}

static void scan_host_image(void)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(usr_dirs); i++) {
		char path[32];
		struct stat sb;
		ssize_t k;

		snprintf(path, sizeof(path), "/%s", usr_dirs[i]);
		if (lstat(path, &sb) < 0)
			continue;
		snprintf(sbx_g.usr_links[n], sizeof(sbx_g.usr_links[n]), "%s",
			 usr_dirs[i]);
		sbx_g.usr_link_targets[n][0] = 0;
		if (S_ISLNK(sb.st_mode)) {
			k = readlink(path, sbx_g.usr_link_targets[n],
				     sizeof(sbx_g.usr_link_targets[n]) - 1);
			if (k <= 0)
				continue;
			sbx_g.usr_link_targets[n][k] = 0;
		} else if (!S_ISDIR(sb.st_mode)) {
			continue;
		}
		n++;
	}
}

/* Small /proc value as a number; -1 when unreadable. */
static long proc_long(const char *path)
{
	long long v;
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return num_field_ll(buf, "\n", 0, LONG_MAX, &v, NULL) ? (long)v : -1;
}

static int read_cap_last(void)
{
	long v = proc_long("/proc/sys/kernel/cap_last_cap");

	return v > 0 && v < 64 ? (int)v : 40;
}

static enum err check_kernel(struct errmsg *e)
{
	if (!path_exists("/proc/self/ns/user") || !path_exists("/proc/self/ns/net"))
		return err_set(e, ERR_SANDBOX,
			       "kernel has no user or network namespaces");
	if (proc_long("/proc/sys/user/max_user_namespaces") == 0)
		return err_set(e, ERR_SANDBOX, "user namespaces are disabled "
			       "(user.max_user_namespaces = 0)");
	return ERR_OK;
}

/* The state dir holds a snapshot of /etc per harness (hundreds of small
 * files and symlinks): on a disk file system that costs ~0.5 s per start,
 * on tmpfs a few ms. /run is tmpfs on a normal Debian host, but not in
 * every container; then use /dev/shm, which always is. */
static const char *default_state_dir(void)
{
	struct statfs fs;

	if (statfs("/run", &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		return "/run/assay";
	if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		return "/dev/shm/assay";
	return "/run/assay";
}

/* The state dir must be ours: a directory (not a symlink) owned by us, so
 * nobody else can plant content there (matters under a world-writable
 * parent such as /dev/shm). */
static enum err check_owner(const char *dir, struct errmsg *e)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return err_sys(e, ERR_SANDBOX, "state dir '%s'", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return err_set(e, ERR_SANDBOX, "state dir '%s' is not a "
			       "directory owned by uid %u", dir,
			       (unsigned)geteuid());
	return ERR_OK;
}

const char *sbx_state_dir(void)
{
	return sbx_g.state_dir;
}

static enum err make_dirs(const struct sbx_config *cfg, struct errmsg *e)
{
	enum err rc;

	sbx_g.state_dir = xstrdup(cfg && cfg->state_dir ? cfg->state_dir :
				  default_state_dir());
	snprintf(sbx_g.inst_name, sizeof(sbx_g.inst_name), "%ld-%llu",
		 (long)getpid(), proc_start((long)getpid()));
	sbx_g.inst_dir = path_join(sbx_g.state_dir, sbx_g.inst_name);
	sbx_g.mnt_dir = path_join(sbx_g.inst_dir, "mnt");
	/* 0711: box children, already unprivileged on the host, must be
	 * able to walk to mnt_dir to mount their root there */
	rc = mkdir_p(sbx_g.state_dir, 0711, e);
	if (rc == ERR_OK)
		rc = check_owner(sbx_g.state_dir, e);
	if (rc)
		return rc;
	if (chmod(sbx_g.state_dir, 0711) < 0)
		return err_sys(e, ERR_SANDBOX, "chmod '%s'", sbx_g.state_dir);
	remove_dead_instances();
	rc = mkdir_p(sbx_g.mnt_dir, 0711, e);
	if (rc)
		return rc;
	{
		char *uid = path_join(sbx_g.state_dir, "uid");

		rc = mkdir_p(uid, 0700, e);
		free(uid);
	}
	return rc;
}

/* Every live box holds four fds in the harness (control socket, pidfd,
 * netns, uid-slot lock): hundreds of boxes need more than the usual soft
 * limit of 1024. Boxes set their own RLIMIT_NOFILE. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

enum err sbx_global_init(const struct sbx_config *cfg, struct errmsg *e)
{
	enum err rc;

	if (sbx_g.ready)
		return ERR_OK;
	rc = check_kernel(e);
	if (!rc)
		rc = make_dirs(cfg, e);
	if (!rc)
		rc = find_init(cfg, e);
	if (!rc)
		rc = sbx_seccomp_compile(false, &sbx_g.bpf[0], &sbx_g.bpf_len[0], e);
	if (!rc)
		rc = sbx_seccomp_compile(true, &sbx_g.bpf[1], &sbx_g.bpf_len[1], e);
	if (!rc)
		rc = sbx_cg_global_init(e);
	if (rc) {
		sbx_global_cleanup();
		return rc;
	}
	sbx_g.host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (sbx_g.host_netns < 0) {
		rc = err_sys(e, ERR_SANDBOX, "cannot open own network namespace");
		sbx_global_cleanup();
		return rc;
	}
	sbx_g.cap_last = read_cap_last();
	raise_nofile();
	scan_host_image();
	rc = build_etc(e);
	if (!rc)
		rc = sbx_procview_build(e);
	if (rc) {
		sbx_global_cleanup();
		return rc;
	}
	sbx_g.ready = true;
	return ERR_OK;
}

/* Slots of this process's boxes that are gone (every process of the box
 * reaped), still locked, for its next boxes: the last one back first,
 * with no lock file to open and its device nodes already made. At most
 * SLOT_KEEP; past them a slot is unlocked for other harnesses. */
#define SLOT_KEEP 64
static struct kept_slot { unsigned slot; int fd; } kept[SLOT_KEEP];
static size_t n_kept;

void sbx_slot_release(unsigned slot, int fd)
{
	if (fd < 0)
		return;
	if (n_kept < SLOT_KEEP && sbx_g.ready) {
		kept[n_kept++] = (struct kept_slot){ slot, fd };
		return;
	}
	close(fd);
}

static void slots_unlock_kept(void)
{
	while (n_kept)
		close(kept[--n_kept].fd);
}

void sbx_global_cleanup(void)
{
	struct errmsg e;

	sbx_reap(true);
	slots_unlock_kept();
	sbx_cg_global_cleanup();
	sbx_procview_cleanup();
	if (sbx_g.inst_dir && rm_rf(sbx_g.inst_dir, &e) != ERR_OK)
		log_debug_sbx_leftover(sbx_g.inst_dir);
	if (sbx_g.init_fd >= 0)
		close(sbx_g.init_fd);
	if (sbx_g.host_netns >= 0)
		close(sbx_g.host_netns);
	free(sbx_g.bpf[0]);
	free(sbx_g.bpf[1]);
	free(sbx_g.state_dir);
	free(sbx_g.inst_dir);
	free(sbx_g.mnt_dir);
	free(sbx_g.etc_dir);
	memset(&sbx_g, 0, sizeof(sbx_g));
	sbx_g.init_fd = -1;
	sbx_g.host_netns = -1;
}

enum err sbx_require_init(struct errmsg *e)
{
	if (!sbx_g.ready)
		return err_set(e, ERR_SANDBOX, "sandbox used before sbx_global_init");
	return ERR_OK;
}

uint32_t sbx_uid_base(unsigned slot)
{
	return SBX_UID_FIRST + slot * SBX_UID_RANGE;
}

/* A uid range for one box: lock file state_dir/uid/<slot>, held (flock)
 * for the life of the box, so concurrent harness processes never share a
 * range; the kernel drops the lock when a harness dies. */
enum err sbx_slot_acquire(unsigned *slot_out, int *fd_out, struct errmsg *e)
{
	unsigned start = (unsigned)((sbx_g.box_seq++ * 7919u + (unsigned)getpid()) %
				    SBX_UID_SLOTS);
	char path[PATH_MAX];

	if (n_kept) {
		n_kept--;
		*slot_out = kept[n_kept].slot;
		*fd_out = kept[n_kept].fd;
		return ERR_OK;
	}

	for (unsigned i = 0; i < SBX_UID_SLOTS; i++) {
		unsigned slot = (start + i) % SBX_UID_SLOTS;
		int fd;

		snprintf(path, sizeof(path), "%s/uid/%u", sbx_g.state_dir, slot);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return err_sys(e, ERR_SANDBOX, "cannot open uid slot '%s'", path);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*slot_out = slot;
			*fd_out = fd;
			return ERR_OK;
		}
		close(fd);
	}
	return err_set(e, ERR_LIMIT, "all %u uid ranges are in use", SBX_UID_SLOTS);
}

/* The nodes init binds into every box's /dev (init/setup.c dev_nodes) */
static const char *const slot_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

static bool make_slot_devs(const char *dir)
{
	char path[PATH_MAX + 16];
	struct stat sb;

	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(slot_nodes); i++) {
		char host[32];

		snprintf(host, sizeof(host), "/dev/%s", slot_nodes[i]);
		if (snprintf(path, sizeof(path), "%s/%s", dir, slot_nodes[i]) >=
		    (int)sizeof(path) || stat(host, &sb) < 0 || !S_ISCHR(sb.st_mode))
			return false;
		if (mknod(path, S_IFCHR | 0666, sb.st_rdev) < 0 && errno != EEXIST)
			return false;
		if (chmod(path, 0666) < 0)
			return false;
	}
	return true;
}

const char *sbx_slot_dev_dir(unsigned slot)
{
	static char dir[PATH_MAX + 16];
	static signed char state[SBX_UID_SLOTS]; /* 0 unknown, 1 made, -1 no */
	struct statvfs vs;
	char base[PATH_MAX];

	if (slot >= SBX_UID_SLOTS)
		return "/dev";
	snprintf(base, sizeof(base), "%s/dev", sbx_g.state_dir);
	snprintf(dir, sizeof(dir), "%s/%u", base, slot);
	if (!state[slot]) {
		bool ok = statvfs(sbx_g.state_dir, &vs) == 0 &&
			  !(vs.f_flag & ST_NODEV) &&
			  (mkdir(base, 0711) == 0 || errno == EEXIST) &&
			  make_slot_devs(dir);

		state[slot] = ok ? 1 : -1;
	}
	return state[slot] > 0 ? dir : "/dev";
}

enum err sbx_user_ids(const char *user, uid_t *uid_out, struct errmsg *e)
{
	if (!user || !strcmp(user, "agent")) {
		*uid_out = SBX_AGENT_UID;
		return ERR_OK;
	}
	if (!strcmp(user, "root")) {
		*uid_out = 0;
		return ERR_OK;
	}
	return err_set(e, ERR_INVAL, "unknown box user '%s' (agent or root)", user);
}
