/*
 * procview.c - the files each box reads instead of /proc's host-wide
 * counters (issue 11 item 4: one episode's load must not show in
 * another's /proc/meminfo, stat, loadavg, ...).
 *
 * Built once per harness process in inst_dir/proc/, owned by the
 * harness's uid (unmapped in every box, so box root cannot write them
 * whatever its capabilities), mode 0444, and bound by each box's init
 * over its /proc entries (init/procview.c):
 *
 *   stat        one zeroed line per CPU we may run on, the host's btime
 *               (ps needs it), procs_running 1; glibc counts CPUs from it
 *   vmstat      the host's keys, every counter 0
 *   loadavg     0.00 0.00 0.00 1/1 1
 *   meminfo-MB  the host's keys, every number 0 but MemTotal, MemFree,
 *               MemAvailable and CommitLimit = the box's limit (MB);
 *               made on first use of each limit
 *
 * As lxcfs, but static: free, top, vmstat, psutil work and report the
 * box's own limit; nothing moves with the host.
 */
#include "sandbox/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

static char *host_meminfo;  /* the host's text, for meminfo-MB */

/* Appends to buffers of at most 1 MiB holding a few KiB of /proc text:
 * a failure can only truncate the view. */
static void add(struct buf *b, const void *p, size_t n)
{
	if (buf_add(b, p, n) != ERR_OK)
		return;
}

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

/* One line with every numeric field after the first as value ("0"). */
static void zero_line(struct buf *b, const char *l, size_t n, const char *value)
{
	size_t i = 0;
	bool first = true;

	while (i < n) {
		size_t j = i;
		bool space = l[i] == ' ' || l[i] == '\t';

		while (j < n && (l[j] == ' ' || l[j] == '\t') == space)
			j++;
		if (!space && !first && numeric(l + i, j - i))
			add(b, value, strlen(value));
		else
			add(b, l + i, j - i);
		first = first && space;
		i = j;
	}
	add(b, "\n", 1);
}

static bool starts(const char *l, size_t n, const char *key)
{
	size_t k = strlen(key);

	return n >= k && !memcmp(l, key, k);
}

/* Every line of text zeroed; meminfo's totals as limit_kb. */
static char *zeroed(const char *text, const char *limit_kb)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	for (const char *l = text; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		bool total = limit_kb && (starts(l, n, "MemTotal:") ||
					  starts(l, n, "MemFree:") ||
					  starts(l, n, "MemAvailable:") ||
					  starts(l, n, "CommitLimit:"));

		if (starts(l, n, "Hugepagesize:")) {
			add(&b, l, n);
			add(&b, "\n", 1);
		} else
			zero_line(&b, l, n, total ? limit_kb : "0");
		l += n + (nl ? 1 : 0);
	}
	return buf_detach(&b, NULL);
}

static enum err put(const char *name, const char *text, struct errmsg *e)
{
	char *path = xasprintf("%s/proc/%s", sbx_g.inst_dir, name);
	enum err rc = file_write_atomic(path, text, strlen(text), 0444, e);

	if (!rc && chmod(path, 0444) < 0)
		rc = err_sys(e, ERR_SANDBOX, "chmod '%s'", path);
	free(path);
	return rc;
}

static char *stat_text(void)
{
	char *host = sbx_read_pseudo("/proc/stat"), *bt = host ? strstr(host, "\nbtime ") : NULL;
	long long btime = 0;
	static const char zeros[] = " 0 0 0 0 0 0 0 0 0 0\n";
	cpu_set_t set;
	int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	struct buf b;
	char line[64];

	if (!bt || !num_field_ll(bt + 7, "\n", 0, LLONG_MAX, &btime, NULL))
		btime = 0;
	free(host);
	buf_init(&b, 1 << 20);
	add(&b, "cpu ", 4);
	add(&b, zeros, strlen(zeros));
	for (int i = 0; i < cpus; i++) {
		snprintf(line, sizeof(line), "cpu%d", i);
		add(&b, line, strlen(line));
		add(&b, zeros, strlen(zeros));
	}
	snprintf(line, sizeof(line), "intr 0\nctxt 0\nbtime %lld\n", btime);
	add(&b, line, strlen(line));
	{
		static const char tail[] = "processes 0\nprocs_running 1\nprocs_blocked 0\n"
					   "softirq 0 0 0 0 0 0 0 0 0 0 0\n";

		add(&b, tail, sizeof(tail) - 1);
	}
	return buf_detach(&b, NULL);
}

enum err sbx_procview_build(struct errmsg *e)
{
	char *dir = xasprintf("%s/proc", sbx_g.inst_dir), *vm = sbx_read_pseudo("/proc/vmstat");
	char *st = stat_text(), *vz = vm ? zeroed(vm, NULL) : xstrdup("");
	enum err rc = ERR_OK;

	if (mkdir(dir, 0755) < 0 || chmod(dir, 0755) < 0)
		rc = err_sys(e, ERR_SANDBOX, "cannot make '%s'", dir);
	if (!rc)
		rc = put("stat", st, e);
	if (!rc)
		rc = put("vmstat", vz, e);
	if (!rc)
		rc = put("loadavg", "0.00 0.00 0.00 1/1 1\n", e);
	free(host_meminfo);
	host_meminfo = sbx_read_pseudo("/proc/meminfo");
	if (!rc && !host_meminfo)
		rc = err_sys(e, ERR_SANDBOX, "cannot read /proc/meminfo");
	free(dir);
	free(vm);
	free(st);
	free(vz);
	return rc;
}

enum err sbx_procview_meminfo(int memory_mb, struct errmsg *e)
{
	char name[32], kb[32], *path, *text;
	struct stat sb;
	enum err rc;

	snprintf(name, sizeof(name), "meminfo-%d", memory_mb);
	path = xasprintf("%s/proc/%s", sbx_g.inst_dir, name);
	rc = stat(path, &sb) == 0 ? ERR_OK : ERR_NOTFOUND;
	free(path);
	if (rc == ERR_OK)
		return ERR_OK;
	snprintf(kb, sizeof(kb), "%lld", (long long)memory_mb << 10);
	text = zeroed(host_meminfo ? host_meminfo : "MemTotal: 0 kB\n", kb);
	rc = put(name, text, e);
	free(text);
	return rc;
}

void sbx_procview_cleanup(void)
{
	free(host_meminfo);
	host_meminfo = NULL;
}
