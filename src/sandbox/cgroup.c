/*
 * cgroup.c - per-box memory, pids and CPU limits behind one interface,
 * with a cgroup v1 and a cgroup v2 back end chosen at run time.
 *
 * v1 (this project's CI machine: hybrid, v2 without controllers): one
 * directory per box in each of the memory, pids and cpu hierarchies,
 * created under the harness's OWN cgroup of that hierarchy (from
 * /proc/self/cgroup: memory is not at the root here, so limits nest under
 * whatever the machine set for us), inside an instance directory
 * "assay-<pid>-<start>".
 * v2: one directory per box under "assay-<pid>-<start>" below our own
 * cgroup; if our cgroup has processes (no-internal-process rule) we first
 * move ourselves into a leaf "assay-self-<pid>".
 *
 * The pid is attached before the child is released, so all its memory
 * (tmpfs pages included) is charged to the box.
 */
#include "sandbox/sandbox_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

enum { CG_MEM, CG_PIDS, CG_CPU };

static const char *const v1_names[3] = { "memory", "pids", "cpu" };

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd;
	ssize_t n;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int open_key(const char *dir, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Value of "key N" in a flat-keyed counters file kept open, 0 if absent:
 * pread from 0 re-reads it without a path walk through cgroupfs on every
 * exec. */
static uint64_t read_key_fd(int fd, const char *key)
{
	char buf[1024];
	size_t kl = strlen(key);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned long long v;
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return num_field_ull(p + kl + 1, "\n", UINT64_MAX, &v,
					     NULL) ? v : 0;
	}
	return 0;
}

char *sbx_read_pseudo(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b;
	char chunk[4096];
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf_init(&b, 1 << 20);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(&b, chunk, (size_t)n))
			break;
	close(fd);
	return buf_detach(&b, NULL);
}

/* Our cgroup path for a v1 controller (or "" for v2 with ctrl NULL). */
static char *self_cgroup(const char *ctrl)
{
	char *data = sbx_read_pseudo("/proc/self/cgroup"), *res = NULL;

	if (!data)
		return NULL;
	for (char *p = data; p && *p; ) {
		char *nl = strchr(p, '\n');
		char *c1 = strchr(p, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (nl)
			*nl = 0;
		if (c2) {
			*c2 = 0;
			if (!ctrl && !strcmp(c1 + 1, "")) {
				res = xstrdup(c2 + 1);
			} else if (ctrl) {
				char *tok, *save = NULL;

				for (tok = strtok_r(c1 + 1, ",", &save); tok;
				     tok = strtok_r(NULL, ",", &save))
					if (!strcmp(tok, ctrl))
						res = xstrdup(c2 + 1);
			}
		}
		if (res || !nl)
			break;
		p = nl + 1;
	}
	free(data);
	return res;
}

/* Mount point of a v1 controller (ctrl) or of cgroup2 (ctrl NULL). */
static char *mount_point(const char *ctrl)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	char *res = NULL;

	if (!f)
		return NULL;
	while (!res && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char mp[1024], type[64], src[256], opts[1024];

		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1 ||
		    sscanf(sep + 3, "%63s %255s %1023s", type, src, opts) != 3)
			continue;
		if (!ctrl && !strcmp(type, "cgroup2")) {
			res = xstrdup(mp);
		} else if (ctrl && !strcmp(type, "cgroup")) {
			char *tok, *save = NULL;

			for (tok = strtok_r(opts, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, ctrl))
					res = xstrdup(mp);
		}
	}
	fclose(f);
	return res;
}

static char *inst_parent_v1(const char *ctrl)
{
	char *mp = mount_point(ctrl), *self = self_cgroup(ctrl), *res = NULL;

	if (mp && self)
		res = xasprintf("%s%s", mp, strcmp(self, "/") ? self : "");
	free(mp);
	free(self);
	return res;
}

static void kill_procs(const char *dir)
{
	char path[512], buf[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (const char *p = buf; *p; ) {
		const char *end;
		long long pid;

		if (num_field_ll(p, "\n", 1, INT_MAX, &pid, &end))
			kill((pid_t)pid, SIGKILL);
		p = end ? end : p + strcspn(p, "\n");
		end = NULL;
		while (*p == '\n')
			p++;
	}
}

/* rmdir, retrying while the last tasks finish exiting. */
static void rmdir_retry(const char *dir)
{
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 200000 };

		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			return;
		if (i == 5)
			kill_procs(dir);
		nanosleep(&ts, NULL);
	}
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char *sub;

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			sub = path_join(dir, de->d_name);
			remove_tree(sub);
			free(sub);
		}
		closedir(d);
	}
	kill_procs(dir);
	rmdir_retry(dir);
}

static void remove_dead_in(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *sub;

		if (de->d_type != DT_DIR || strncmp(de->d_name, "assay-", 6) ||
		    !strncmp(de->d_name, "assay-self-", 11) ||
		    sbx_inst_alive(de->d_name + 6))
			continue;
		sub = path_join(parent, de->d_name);
		remove_tree(sub);
		free(sub);
	}
	closedir(d);
}

/* Also look one level up, in the siblings of our own cgroup: a harness
 * that died may have run in a different (per-session) cgroup, as every
 * shell session on the project machine has its own memory cgroup. */
static void remove_dead_in_siblings(const char *own)
{
	char *parent = xstrdup(own), *slash = strrchr(parent, '/');
	DIR *d;
	struct dirent *de;

	char *procs;

	if (slash)
		*slash = 0;
	/* only inside a hierarchy: the parent of a hierarchy's root is not a
	 * cgroup (no cgroup.procs) */
	procs = path_join(parent, "cgroup.procs");
	d = slash && slash != parent && path_exists(procs) ? opendir(parent) : NULL;
	free(procs);
	while (d && (de = readdir(d))) {
		char *sib;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    !strncmp(de->d_name, "assay-", 6))
			continue;
		sib = path_join(parent, de->d_name);
		if (strcmp(sib, own))
			remove_dead_in(sib);
		free(sib);
	}
	if (d)
		closedir(d);
	free(parent);
}

void sbx_cg_remove_leftovers(void)
{
	for (int i = 0; i < 3; i++) {
		char *slash;

		if (!sbx_g.cg_base[i])
			continue;
		slash = strrchr(sbx_g.cg_base[i], '/');
		if (!slash)
			continue;
		*slash = 0;
		remove_dead_in(sbx_g.cg_base[i]);
		remove_dead_in_siblings(sbx_g.cg_base[i]);
		*slash = '/';
	}
}

static enum err init_v1(struct errmsg *e)
{
	for (int i = 0; i < 3; i++) {
		char *parent = inst_parent_v1(v1_names[i]);

		if (!parent) {
			if (i == CG_CPU)
				continue; /* CPU limit is best effort */
			return err_set(e, ERR_SANDBOX,
				       "no cgroup v1 '%s' hierarchy", v1_names[i]);
		}
		sbx_g.cg_base[i] = xasprintf("%s/assay-%s", parent, sbx_g.inst_name);
		free(parent);
	}
	sbx_g.cg_kind = SBX_CG_V1;
	return ERR_OK;
}

static bool v2_has(const char *dir, const char *ctrl)
{
	char *p = path_join(dir, "cgroup.controllers"), *data = sbx_read_pseudo(p);
	bool ok = false;

	if (data) {
		char *save = NULL;

		for (char *t = strtok_r(data, " \n", &save); t;
		     t = strtok_r(NULL, " \n", &save))
			if (!strcmp(t, ctrl))
				ok = true;
		free(data);
	}
	free(p);
	return ok;
}

static enum err init_v2(struct errmsg *e)
{
	char *mp = mount_point(NULL), *self = self_cgroup(NULL), *own = NULL;
	enum err rc = ERR_OK;

	if (!mp || !self)
		rc = err_set(e, ERR_SANDBOX, "no usable cgroup hierarchy "
			     "(v1 memory+pids or v2 with controllers)");
	if (!rc) {
		own = xasprintf("%s%s", mp, strcmp(self, "/") ? self : "");
		if (!v2_has(own, "memory") || !v2_has(own, "pids"))
			rc = err_set(e, ERR_SANDBOX, "cgroup v2 at '%s' lacks the "
				     "memory or pids controller", own);
	}
	if (!rc && write_str(own, "cgroup.subtree_control", "+memory +pids +cpu") &&
	    write_str(own, "cgroup.subtree_control", "+memory +pids")) {
		/* our cgroup holds processes: move into a leaf first */
		char *leaf = xasprintf("%s/assay-self-%ld", own, (long)getpid());
		char pid[32];

		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		if ((mkdir(leaf, 0755) && errno != EEXIST) ||
		    write_str(leaf, "cgroup.procs", pid) ||
		    (write_str(own, "cgroup.subtree_control", "+memory +pids +cpu") &&
		     write_str(own, "cgroup.subtree_control", "+memory +pids")))
			rc = err_sys(e, ERR_SANDBOX, "cannot enable cgroup v2 "
				     "controllers in '%s'", own);
		free(leaf);
	}
	if (!rc) {
		sbx_g.cg_base[0] = xasprintf("%s/assay-%s", own, sbx_g.inst_name);
		sbx_g.cg_kind = SBX_CG_V2;
	}
	free(mp);
	free(self);
	free(own);
	return rc;
}

/*
 * Emptied cgroups are kept for the next boxes: creating a box's cgroups
 * (three v1 hierarchies) and removing them cost ~0.3 ms and a kernel
 * worker's time per box. A set is reused only when no task is left in it
 * and it holds little charged memory (page cache the last box read stays
 * charged to it and, reused, would eat into the next box's limit until
 * reclaimed) and almost no socket memory (v1; init's cap counts it). Its counters are taken as the new baseline; a reused
 * cgroup keeps the directory name of the box it was made for.
 */
#define POOL_MAX 64
#define POOL_MEM_MAX ((uint64_t)16 << 20)
#define POOL_SOCK_MAX ((uint64_t)64 << 10)  /* a socket still closing */

static struct sbx_cg pool[POOL_MAX];
static size_t n_pool;

enum err sbx_cg_global_init(struct errmsg *e)
{
	enum err rc;
	char *mem = mount_point("memory"), *pids = mount_point("pids");
	bool v1 = mem && pids;

	free(mem);
	free(pids);
	rc = v1 ? init_v1(e) : init_v2(e);
	if (rc)
		return rc;
	sbx_cg_remove_leftovers();
	for (int i = 0; i < 3; i++) {
		if (!sbx_g.cg_base[i])
			continue;
		if (mkdir(sbx_g.cg_base[i], 0755) < 0 && errno != EEXIST)
			return err_sys(e, ERR_SANDBOX, "cannot create cgroup '%s'",
				       sbx_g.cg_base[i]);
	}
	if (sbx_g.cg_kind == SBX_CG_V1) {
		char *tcp = path_join(sbx_g.cg_base[CG_MEM],
				      "memory.kmem.tcp.usage_in_bytes");

		sbx_g.cg_sock_watch = access(tcp, R_OK) == 0;
		free(tcp);
	}
	if (sbx_g.cg_kind == SBX_CG_V2 &&
	    write_str(sbx_g.cg_base[0], "cgroup.subtree_control", "+memory +pids +cpu") &&
	    write_str(sbx_g.cg_base[0], "cgroup.subtree_control", "+memory +pids"))
		return err_sys(e, ERR_SANDBOX, "cannot enable controllers in '%s'",
			       sbx_g.cg_base[0]);
	return ERR_OK;
}

void sbx_cg_global_cleanup(void)
{
	while (n_pool)
		sbx_cg_destroy(&pool[--n_pool]);
	for (int i = 0; i < 3; i++) {
		if (sbx_g.cg_base[i])
			remove_tree(sbx_g.cg_base[i]);
		free(sbx_g.cg_base[i]);
		sbx_g.cg_base[i] = NULL;
	}
	sbx_g.cg_kind = SBX_CG_NONE;
	sbx_g.cg_sock_watch = false;
}

static int limits_v1(const struct sbx_cg *cg, const struct sbx_limits *l)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", (long long)l->memory_mb << 20);
	/* memory must stay <= memory+swap: raising the limit of a reused
	 * cgroup takes the memsw limit out of the way first */
	if (write_str(cg->dir[CG_MEM], "memory.limit_in_bytes", v) &&
	    (write_str(cg->dir[CG_MEM], "memory.memsw.limit_in_bytes", "-1") ||
	     write_str(cg->dir[CG_MEM], "memory.limit_in_bytes", v)))
		return -1;
	/* no swap beyond the limit, where swap accounting exists */
	(void)write_str(cg->dir[CG_MEM], "memory.memsw.limit_in_bytes", v);
	/* socket buffers: v1 does not charge TCP memory to the limit above
	 * (a 64 MiB box pinned 2.2 GiB of host memory in unread TCP
	 * buffers); its own limit, set once, turns the accounting on for
	 * every socket created afterwards (UDP too). Pipes, AF_UNIX buffers
	 * and other kernel objects are charged to memory.limit_in_bytes
	 * already (kmem accounting). A quarter of the limit; the kernel
	 * still forces about a page per socket end past it (counted in
	 * usage_in_bytes all the same), and init kills the box's processes
	 * when that usage passes half the limit (sock_cap, init.c). */
	snprintf(v, sizeof(v), "%lld", (long long)l->memory_mb << 18);
	if (write_str(cg->dir[CG_MEM], "memory.kmem.tcp.limit_in_bytes", v) &&
	    errno != ENOENT)
		return -1;
	snprintf(v, sizeof(v), "%d", l->pids);
	if (write_str(cg->dir[CG_PIDS], "pids.max", v))
		return -1;
	if (cg->dir[CG_CPU]) {
		snprintf(v, sizeof(v), "%d", l->cpu_percent * 1000);
		if (write_str(cg->dir[CG_CPU], "cpu.cfs_period_us", "100000") ||
		    write_str(cg->dir[CG_CPU], "cpu.cfs_quota_us", v))
			return -1;
	}
	return 0;
}

static int limits_v2(const struct sbx_cg *cg, const struct sbx_limits *l)
{
	char v[48];

	snprintf(v, sizeof(v), "%lld", (long long)l->memory_mb << 20);
	if (write_str(cg->dir[0], "memory.max", v))
		return -1;
	(void)write_str(cg->dir[0], "memory.swap.max", "0");
	snprintf(v, sizeof(v), "%d", l->pids);
	if (write_str(cg->dir[0], "pids.max", v))
		return -1;
	snprintf(v, sizeof(v), "%d 100000", l->cpu_percent * 1000);
	(void)write_str(cg->dir[0], "cpu.max", v);
	return 0;
}

static void open_counters(struct sbx_cg *cg)
{
	const char *pids = sbx_g.cg_kind == SBX_CG_V1 ? cg->dir[CG_PIDS] : cg->dir[0];

	if (cg->dir[CG_MEM])
		cg->oom_fd = open_key(cg->dir[CG_MEM], sbx_g.cg_kind == SBX_CG_V1 ?
				      "memory.oom_control" : "memory.events");
	if (pids)
		cg->pids_fd = open_key(pids, "pids.events");
	if (sbx_g.cg_sock_watch)
		cg->sock_fd = open_key(cg->dir[CG_MEM],
				       "memory.kmem.tcp.usage_in_bytes");
}

static uint64_t read_num(const char *dir, const char *file)
{
	char path[512], *v;
	unsigned long long u;
	uint64_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	v = sbx_read_pseudo(path);
	if (!v || !num_field_ull(v, "\n", UINT64_MAX - 1, &u, NULL))
		u = UINT64_MAX;     /* "max", or unreadable */
	n = u;
	free(v);
	return n;
}

static bool reusable(const struct sbx_cg *cg)
{
	bool v1 = sbx_g.cg_kind == SBX_CG_V1;
	const char *pids = v1 ? cg->dir[CG_PIDS] : cg->dir[0];

	if (n_pool == POOL_MAX || !cg->fds_ready || !pids || !cg->dir[CG_MEM])
		return false;
	/* socket memory is not reclaimed: what closed sockets of the last
	 * box still hold (orphans) would count against the next box's cap */
	if (sbx_g.cg_sock_watch &&
	    read_num(cg->dir[CG_MEM], "memory.kmem.tcp.usage_in_bytes") >
	    POOL_SOCK_MAX)
		return false;
	return read_num(pids, "pids.current") == 0 &&
	       read_num(cg->dir[CG_MEM], v1 ? "memory.usage_in_bytes" :
					      "memory.current") <= POOL_MEM_MAX;
}

void sbx_cg_release(struct sbx_cg *cg)
{
	if (reusable(cg))
		pool[n_pool++] = *cg;
	else
		sbx_cg_destroy(cg);
	memset(cg, 0, sizeof(*cg));
}

static enum err limits_error(const struct sbx_limits *l, struct errmsg *e)
{
	return err_sys(e, ERR_LIMIT, "cannot set cgroup limits "
		       "(memory %d MiB, pids %d, cpu %d%%)",
		       l->memory_mb, l->pids, l->cpu_percent);
}

static bool same_limits(const struct sbx_cg *cg, const struct sbx_limits *l)
{
	return cg->mem_mb == l->memory_mb && cg->pids == l->pids &&
	       cg->cpu_percent == l->cpu_percent;
}

static void note_limits(struct sbx_cg *cg, const struct sbx_limits *l)
{
	cg->mem_mb = l->memory_mb;
	cg->pids = l->pids;
	cg->cpu_percent = l->cpu_percent;
}

static enum err reuse(const struct sbx_limits *l, struct sbx_cg *cg,
		      struct errmsg *e)
{
	*cg = pool[--n_pool];
	if (same_limits(cg, l))
		;
	else if (sbx_g.cg_kind == SBX_CG_V1 ? limits_v1(cg, l) : limits_v2(cg, l)) {
		enum err r = limits_error(l, e);

		sbx_cg_destroy(cg);
		return r;
	}
	note_limits(cg, l);
	cg->oom_seen = read_key_fd(cg->oom_fd, "oom_kill");
	cg->pids_seen = read_key_fd(cg->pids_fd, "max");
	return ERR_OK;
}

enum err sbx_cg_create(const char *id, const struct sbx_limits *l,
		       struct sbx_cg *cg, struct errmsg *e)
{
	int rc;

	if (n_pool)
		return reuse(l, cg, e);
	memset(cg, 0, sizeof(*cg));
	cg->oom_fd = cg->pids_fd = cg->sock_fd = -1;
	cg->fds_ready = true;
	for (int i = 0; i < 3; i++) {
		if (!sbx_g.cg_base[i])
			continue;
		cg->dir[i] = path_join(sbx_g.cg_base[i], id);
		if (mkdir(cg->dir[i], 0755) < 0) {
			enum err r = err_sys(e, ERR_SANDBOX, "cannot create cgroup '%s'",
					     cg->dir[i]);

			sbx_cg_destroy(cg);
			return r;
		}
	}
	rc = sbx_g.cg_kind == SBX_CG_V1 ? limits_v1(cg, l) : limits_v2(cg, l);
	if (rc == 0) {
		note_limits(cg, l);
		open_counters(cg);
	}
	if (rc) {
		enum err r = limits_error(l, e);

		sbx_cg_destroy(cg);
		return r;
	}
	return ERR_OK;
}

/* The parent opens each "tasks" (v1) or "cgroup.procs" (v2) file and the
 * child, first thing, writes "0" (itself) into them. Attaching ANOTHER
 * task takes cgroup_threadgroup_rwsem for writing, which waits for an RCU
 * grace period (5-20 ms measured on the loaded 2-core machine); a task
 * moving itself skips that lock. The permission check uses the
 * credentials of the opener (host root), so the already
 * unprivileged-to-be child may write. */
void sbx_cg_open_self_attach(const struct sbx_cg *cg, int fds[3])
{
	for (int i = 0; i < 3; i++) {
		char *p;

		fds[i] = -1;
		if (sbx_g.cg_kind == SBX_CG_NONE || !cg->dir[i])
			continue;
		p = path_join(cg->dir[i], sbx_g.cg_kind == SBX_CG_V1 ?
			      "tasks" : "cgroup.procs");
		fds[i] = open(p, O_WRONLY | O_CLOEXEC);
		free(p);
	}
}

void sbx_cg_destroy(struct sbx_cg *cg)
{
	if (cg->fds_ready) {
		if (cg->oom_fd >= 0)
			close(cg->oom_fd);
		if (cg->pids_fd >= 0)
			close(cg->pids_fd);
		if (cg->sock_fd >= 0)
			close(cg->sock_fd);
		cg->fds_ready = false;
	}
	for (int i = 0; i < 3; i++) {
		if (cg->dir[i])
			rmdir_retry(cg->dir[i]);
		free(cg->dir[i]);
		cg->dir[i] = NULL;
	}
}

/* Whether the event counter key of fd went past *seen (then *seen is
 * moved up to it). */
static bool counter_grew(int fd, const char *key, uint64_t *seen)
{
	uint64_t n = read_key_fd(fd, key);

	if (n <= *seen)
		return false;
	*seen = n;
	return true;
}

bool sbx_cg_take_oom(struct sbx_cg *cg)
{
	return cg->dir[CG_MEM] && cg->fds_ready &&
	       counter_grew(cg->oom_fd, "oom_kill", &cg->oom_seen);
}

bool sbx_cg_take_pids(struct sbx_cg *cg)
{
	return cg->fds_ready && counter_grew(cg->pids_fd, "max", &cg->pids_seen);
}
