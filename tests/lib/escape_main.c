/*
 * escape - the attacks of issue 3 item 7, each run from inside a real
 * agent box; every one of them must fail.
 *
 * Usage: escape [NAME...]   (ASSAY_INIT must point at assay-init)
 * Prints "PASS name: detail" when the attack was stopped, "FAIL name:
 * detail" when it got through (or could not be judged), and a last line
 * "N passed, M failed". Exit status 1 when anything failed.
 *
 * Each in-box probe prints BLOCKED when stopped the expected way and
 * ESCAPED when it got through; a test passes only on BLOCKED without
 * ESCAPED, so a probe that crashes counts as a failure, not a pass.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "base/xalloc.h"
#include "sandbox/sandbox.h"

#define CANARY "assay-escape-canary-7f3a9c"
#define HOST_PORT 47311

/* in-box probe helpers */
static const char probe_py[] =
	"import ctypes, errno, os, socket, sys\n"
	"libc = ctypes.CDLL(None, use_errno=True)\n"
	"def sc(nr, *a):\n"
	"    r = libc.syscall(nr, *[ctypes.c_long(x) for x in a])\n"
	"    return r, ctypes.get_errno()\n"
	"def syscalls(names):\n"
	"    bad = []\n"
	"    for name, nr, args in names:\n"
	"        r, e = sc(nr, *args)\n"
	"        if r != -1 or e not in (errno.EPERM, errno.ENOSYS):\n"
	"            bad.append('%s=%d/%s' % (name, r, errno.errorcode.get(e, e)))\n"
	"    print('ESCAPED ' + ' '.join(bad) if bad else 'BLOCKED all EPERM/ENOSYS')\n"
	"def connect(host, port, t=1.0):\n"
	"    s = socket.socket(); s.settimeout(t)\n"
	"    try:\n"
	"        s.connect((host, port)); d = s.recv(100)\n"
	"        print('ESCAPED connected to %s:%d got %r' % (host, port, d))\n"
	"    except OSError as ex:\n"
	"        print('BLOCKED %s:%d %s' % (host, port, ex))\n"
	"cmd = sys.argv[1]\n"
	"if cmd == 'connect': connect(sys.argv[2], int(sys.argv[3]))\n"
	"elif cmd == 'syscalls':\n"
	"    syscalls([('bpf',321,(0,0,0)), ('perf_event_open',298,(0,0,-1,-1,0)),\n"
	"              ('keyctl',250,(0,0,0)), ('add_key',248,(0,0,0,0,0)),\n"
	"              ('io_uring_setup',425,(1,0)), ('userfaultfd',323,(0,)),\n"
	"              ('kexec_load',246,(0,0,0,0)), ('init_module',175,(0,0,0)),\n"
	"              ('finit_module',313,(0,0,0)), ('open_by_handle_at',304,(0,0,0)),\n"
	"              ('setns',308,(0,0))])\n"
	"elif cmd == 'userns':\n"
	"    syscalls([('unshare(NEWUSER)',272,(0x10000000,)),\n"
	"              ('clone(NEWUSER)',56,(0x10000000|17,0,0,0,0)),\n"
	"              ('clone3',435,(0,0))])\n"
	"elif cmd == 'mount':\n"
	"    syscalls([('mount',165,(0,0,0,0,0)), ('umount2',166,(0,0)),\n"
	"              ('fsopen',430,(0,0)), ('open_tree',428,(-100,0,0)),\n"
	"              ('move_mount',429,(0,0,0,0,0)), ('pivot_root',155,(0,0)),\n"
	"              ('unshare(NEWNS)',272,(0x20000,))])\n"
	"elif cmd == 'tiocsti':\n"
	"    import fcntl, termios, pty\n"
	"    m, s = pty.openpty()\n"
	"    try:\n"
	"        fcntl.ioctl(s, termios.TIOCSTI, b'x'); print('ESCAPED TIOCSTI on a pty')\n"
	"    except OSError as ex: print('BLOCKED pty TIOCSTI: %s' % ex)\n"
	"    try:\n"
	"        fd = os.open('/dev/tty', os.O_RDWR); fcntl.ioctl(fd, termios.TIOCSTI, b'x')\n"
	"        print('ESCAPED TIOCSTI on /dev/tty')\n"
	"    except OSError as ex: print('BLOCKED /dev/tty: %s' % ex)\n"
	"elif cmd == 'sockets':\n"
	"    # every family but UNIX/INET/INET6/NETLINK, and refused ones with\n"
	"    # high garbage in the register (the kernel truncates it to an int);\n"
	"    # every netlink protocol outside the box's netns, the same\n"
	"    bad = []\n"
	"    ok_fams = (1, 2, 10, 16)\n"
	"    hi = (1 << 32, 1 << 40, 0x7fffffff << 32, -1 << 32)\n"
	"    fams = [f for f in range(0, 72) if f not in ok_fams]\n"
	"    fams += [f + h for f in (0, 3, 17, 40, 44, 63) for h in hi]\n"
	"    fams += [1 << 20, 1 << 31, -1, -2, 0xffffffff]\n"
	"    for f in fams:\n"
	"        for t in (1, 2, 3, 5):\n"
	"            r, e = sc(41, f, t, 0)\n"
	"            if r >= 0: bad.append('%#x/%d' % (f, t)); os.close(r)\n"
	"    ok_nl = (0, 4, 12, 16)\n"
	"    protos = [p for p in range(0, 40) if p not in ok_nl]\n"
	"    protos += [p + h for p in (1, 2, 9, 15, 31) for h in hi] + [1 << 31, -1]\n"
	"    for p in protos:\n"
	"        r, e = sc(41, 16, 3, p)\n"
	"        if r >= 0: bad.append('NETLINK/%#x' % p); os.close(r)\n"
	"    for f in (0, 17, 40, 44, 1 << 32 | 40):\n"
	"        r, e = sc(53, f, 1, 0, 0)\n"
	"        if r != -1 or e != errno.EAFNOSUPPORT: bad.append('socketpair %#x' % f)\n"
	"    ok = [sc(41, f, t, p)[0] >= 0 for f, t, p in ((1,1,0),(2,1,0),(10,2,0),(16,3,0),\n"
	"          (16,3,4),(16,3,12),(16,3,16))]\n"
	"    if not all(ok): bad.append('needed family refused %r' % ok)\n"
	"    print('ESCAPED ' + ' '.join(bad) if bad else\n"
	"          'BLOCKED %d families, %d netlink protocols refused' % (len(fams), len(protos)))\n"
"elif cmd in ('hold', 'probe-locks'):\n"
	"    import fcntl, struct, time\n"
	"    files = ['/usr/bin/python3', '/bin/sh', '/etc/passwd', '/etc/hosts', '/dev/null',\n"
	"             '/dev/urandom', '/dev/tty', '/proc/cmdline', '/usr/lib/os-release']\n"
	"    fds = []\n"
	"    for f in files:\n"
	"        try: fds.append((f, os.open(f, os.O_RDONLY | os.O_NONBLOCK)))\n"
	"        except OSError: pass\n"
	"    rd = struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 0, 0)\n"
	"    wr = struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0)\n"
	"    if cmd == 'hold':\n"
	"        for f, fd in fds:\n"
	"            try: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
	"            except OSError: pass  # /proc/cmdline is /dev/null's inode\n"
	"            try: fcntl.fcntl(fd, 37, rd)  # F_OFD_SETLK, a read lock on a read-only fd\n"
	"            except OSError: pass\n"
	"        print('HELD %d' % len(fds)); sys.stdout.flush(); time.sleep(30)\n"
	"    bad = []\n"
	"    for f, fd in fds:\n"
	"        try: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); fcntl.flock(fd, fcntl.LOCK_UN)\n"
	"        except OSError: bad.append('flock ' + f)\n"
	"        r = struct.unpack('hhqqi', fcntl.fcntl(fd, 36, wr))  # F_OFD_GETLK\n"
	"        if r[0] != fcntl.F_UNLCK: bad.append('getlk ' + f)\n"
	"    print('ESCAPED sees locks of another episode: ' + ' '.join(bad) if bad else\n"
	"          'BLOCKED %d image/dev/proc files, no lock of the other episode seen' % len(fds))\n"
	"elif cmd == 'ptrace':\n"
	"    PTRACE_ATTACH = 16\n"
	"    for pid in [int(p) for p in sys.argv[2:]]:\n"
	"        r, e = sc(101, PTRACE_ATTACH, pid, 0, 0)\n"
	"        print(('ESCAPED attached %d' if r == 0 else 'BLOCKED pid %d: ' + errno.errorcode.get(e, str(e))) % pid)\n";

static const char pscan_py[] =
	"import os, sys, json\n"
	"SKIP = {'kmsg', 'kcore', 'self', 'thread-self', 'mounts', 'sysrq-trigger'}\n"
	"def walk(d, out, depth=0):\n"
	"    try: names = os.listdir(d)\n"
	"    except OSError: return\n"
	"    for n in names:\n"
	"        if d == '/proc' and (n[0].isdigit() or n in SKIP): continue\n"
	"        p = d + '/' + n\n"
	"        try: st = os.lstat(p)\n"
	"        except OSError: continue\n"
	"        import stat\n"
	"        if stat.S_ISDIR(st.st_mode):\n"
	"            if depth < 6: walk(p, out, depth + 1)\n"
	"        elif stat.S_ISREG(st.st_mode):\n"
	"            try:\n"
	"                fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)\n"
	"                try: out[p] = os.read(fd, 1 << 16).decode('latin1')\n"
	"                finally: os.close(fd)\n"
	"            except OSError: pass\n"
	"out = {}\n"
	"walk('/proc', out)\n"
	"walk('/proc/self/net', out)\n"
	"for p in ('/proc/self/mountinfo', '/proc/self/uid_map', '/proc/self/cgroup'): \n"
	"    try: out[p] = open(p).read()\n"
	"    except OSError: pass\n"
	"if sys.argv[1] == 'snap':\n"
	"    json.dump(out, open(sys.argv[2], 'w'))\n"
	"    print('SNAP %d files' % len(out))\n"
	"else:\n"
	"    old = json.load(open(sys.argv[2]))\n"
	"    ch = sorted(p for p in out if p in old and old[p] != out[p])\n"
	"    # the box's own pid and network namespaces (its eth0's IPv6 chatter),\n"
	"    # a random uuid; the clock, and the residuals of docs/SECURITY.md\n"
	"    own = ('/proc/sys/kernel/ns_last_pid', '/proc/sys/kernel/random/uuid')\n"
	"    net = ('dev', 'dev_snmp6/', 'snmp', 'snmp6', 'netstat', 'if_inet6', 'ipv6_route',\n"
	"           'rt6_stats', 'route', 'igmp', 'igmp6', 'arp', 'fib_trie', 'fib_triestat')\n"
	"    residual = ('/proc/uptime', '/proc/self/net/sockstat', '/proc/self/net/sockstat6',\n"
	"                '/proc/self/net/protocols', '/proc/self/net/softnet_stat',\n"
	"                '/proc/self/net/stat/rt_cache')\n"
	"    def netns(p):\n"
	"        n = p[len('/proc/self/net/'):] if p.startswith('/proc/self/net/') else None\n"
	"        return n is not None and any(n == x or (x.endswith('/') and n.startswith(x)) for x in net)\n"
	"    bad = [p for p in ch if p not in own and p not in residual and not netns(p)]\n"
	"    for p in ('/proc/meminfo', '/proc/stat', '/proc/loadavg', '/proc/vmstat', '/proc/sys/net/ipv4/tcp_rmem'):\n"
	"        try: open(p, 'a').close(); bad.append('writable:' + p)\n"
	"        except OSError: pass\n"
	"    for d in ('/proc/irq', '/proc/fs', '/proc/pressure', '/proc/sys/fs'):\n"
	"        try: os.mkdir(d + '/x'); bad.append('writable:' + d)\n"
	"        except OSError: pass\n"
	"    mt = [l.split()[1] for l in out['/proc/meminfo'].splitlines() if l.startswith('MemTotal:')]\n"
	"    if mt != ['131072']: bad.append('MemTotal:%r' % mt)\n"
	"    print('CHANGED %d of %d: %s (documented residuals that moved: %s)' % (len(bad),\n"
	"          len(out), ' '.join(bad), ' '.join(p for p in ch if p in residual) or 'none'))\n";

static const char load_py[] =
	"import os, socket, time, mmap, fcntl, pty\n"
	"kids = [os.fork() for _ in range(1)]\n"
	"if kids[0] == 0:\n"
	"    for i in range(40):\n"
	"        if os.fork() == 0: time.sleep(0.2); os._exit(0)\n"
	"    ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(200)\n"
	"    socks = []\n"
	"    for i in range(150):\n"
	"        c = socket.create_connection(ls.getsockname()); s, _ = ls.accept(); c.send(b'x' * 30000); socks += [c, s]\n"
	"    us = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(50)]\n"
	"    pipes = [os.pipe() for _ in range(50)]\n"
	"    for r, w in pipes: os.write(w, b'y' * 60000)\n"
	"    ptys = [pty.openpty() for _ in range(10)]\n"
	"    m = mmap.mmap(-1, 40 << 20); m.write(b'z' * (40 << 20))\n"
	"    lk = open('/tmp/lk', 'w'); fcntl.flock(lk, fcntl.LOCK_EX); lp = open('/tmp/lp', 'w'); fcntl.lockf(lp, fcntl.LOCK_EX)\n"
	"    import ctypes; aio = ctypes.c_ulong(0); ctypes.CDLL(None).syscall(206, 64, ctypes.byref(aio))\n"
	"    for i in range(300): open('/tmp/f%d' % i, 'w').write('x' * 5000)\n"
	"    os.sync()\n"
	"    print('LOADED', flush=True)\n"
	"    time.sleep(20); os._exit(0)\n";

struct ctx {
	struct sbx_episode *ep;     /* agent + web (flag) */
	struct sbx_episode *other;  /* agent + db (secret), another episode */
	struct sbx_box *agent;
	char store_dir[64];
	int host_listener;
	pid_t host_pid;
};

struct outcome {
	bool pass;
	char detail[1000];
};

typedef void (*attack_fn)(struct ctx *c, struct outcome *o);

static void say(struct outcome *o, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct outcome *o, bool pass, const char *fmt, ...)
{
	va_list ap;

	o->pass = pass;
	va_start(ap, fmt);
	vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
	va_end(ap);
	for (char *p = o->detail; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static bool run(struct sbx_box *b, const char *user, const char *cmd,
		int timeout_ms, struct sbx_exec_result *r)
{
	struct sbx_exec_req req = { .shell = cmd, .user = user,
				    .timeout_ms = timeout_ms ? timeout_ms : 20000 };
	struct errmsg e = { 0 };

	if (sbx_exec(b, &req, r, &e) != ERR_OK) {
		memset(r, 0, sizeof(*r));
		r->out = xasprintf("exec error: %s", e.text);
		r->err = xstrdup("");
		return false;
	}
	return true;
}

/* Run a probe; pass on BLOCKED without ESCAPED. */
static void probe(struct sbx_box *b, const char *user, const char *cmd,
		  struct outcome *o)
{
	struct sbx_exec_result r;

	run(b, user, cmd, 0, &r);
	if (strstr(r.out, "ESCAPED") || !strstr(r.out, "BLOCKED"))
		say(o, false, "%s%s", r.out, r.err);
	else
		say(o, true, "%s", r.out);
	sbx_exec_result_release(&r);
}

/* --- the attacks --------------------------------------------------- */

static void read_service_flag(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "for f in /srv/flag.txt /proc/*/root/srv/flag.txt; do "
	      "cat $f 2>/dev/null && echo ESCAPED $f; done; "
	      "grep -rs 'flag{web' /home /root /tmp /var /opt /run /etc /srv /dev/shm "
	      "2>/dev/null | head -1 | "
	      "sed 's/^/ESCAPED /'; echo BLOCKED service files not visible", o);
}

static void reach_host_loopback(struct ctx *c, struct outcome *o)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "python3 /home/agent/probe.py connect 127.0.0.1 %d", HOST_PORT);
	probe(c->agent, NULL, cmd, o);
}

static void reach_other_episode(struct ctx *c, struct outcome *o)
{
	/* the other episode's db listens on 8000 at the same address 10.0.0.3
	 * in ITS network; ours has web there on 8000 and nothing on 8001 */
	probe(c->agent, NULL,
	      "for i in 1 2 3 4 5; do python3 /home/agent/probe.py connect 10.0.0.$i 8001; done "
	      "| sort -u | grep -v 'refused\\|unreachable\\|No route\\|timed out' "
	      "| sed 's/^BLOCKED/ESCAPED odd:/'; echo BLOCKED other episode unreachable", o);
}

static void reach_outside(struct ctx *c, struct outcome *o)
{
	probe(c->agent, NULL,
	      "for a in 8.8.8.8:53 1.1.1.1:80 10.0.1.1:80 172.17.0.1:80 192.168.0.1:80 "
	      "169.254.169.254:80; do python3 /home/agent/probe.py connect ${a%:*} ${a#*:}; done "
	      "| grep -v 'unreachable' ; "
	      "ip route 2>/dev/null | grep -q default && echo ESCAPED default route; "
	      "echo BLOCKED no route out", o);
}

static void see_host_processes(struct ctx *c, struct outcome *o)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "n=$(ls -d /proc/[0-9]* | wc -l); [ $n -gt 12 ] && echo ESCAPED $n pids; "
		 "grep -l %s /proc/*/environ 2>/dev/null | sed 's/^/ESCAPED /'; "
		 "ps -eo comm= | grep -q 'escape\\|sshd\\|systemd' && echo ESCAPED host comm; "
		 "[ -e /proc/%ld ] && echo ESCAPED host pid visible; echo BLOCKED $n pids",
		 CANARY, (long)c->host_pid);
	probe(c->agent, "root", cmd, o);
}

static void ptrace_outside(struct ctx *c, struct outcome *o)
{
	char cmd[256];

	/* the harness's pid and pid 1 (init, not dumpable) */
	snprintf(cmd, sizeof(cmd), "python3 /home/agent/probe.py ptrace %ld 1", (long)c->host_pid);
	probe(c->agent, "root", cmd, o);
}

static void mount_fs(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "mkdir -p /tmp/m; mount -t tmpfs none /tmp/m 2>/dev/null && echo ESCAPED mount; "
	      "python3 /home/agent/probe.py mount", o);
}

static void create_userns(struct ctx *c, struct outcome *o)
{
	probe(c->agent, NULL,
	      "unshare -U true 2>/dev/null && echo ESCAPED unshare -U; "
	      "unshare -r true 2>/dev/null && echo ESCAPED unshare -r; python3 /home/agent/probe.py userns", o);
}

static void kernel_surface(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root", "python3 /home/agent/probe.py syscalls", o);
}

static void write_image(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "for f in /usr/bin/evil /bin/evil /lib/evil /etc/alternatives/evil "
	      "/etc/ssl/evil; do touch $f 2>/dev/null && echo ESCAPED $f; done; "
	      "echo x >> /usr/bin/true 2>/dev/null && echo ESCAPED append; "
	      "chmod u+s /usr/bin/python3.11 2>/dev/null && echo ESCAPED chmod; "
	      "echo BLOCKED image read-only", o);
}

static void exceed_pids(struct ctx *c, struct outcome *o)
{
	struct sbx_exec_result r;
	struct errmsg e = { 0 };
	int64_t t0 = now_ms();

	run(c->agent, NULL, "b() { b | b; }; b", 3000, &r);
	if (!(r.pids_limited || r.how == SBX_TIMED_OUT) || now_ms() - t0 > 10000) {
		say(o, false, "fork bomb: how=%d pids_limited=%d", r.how, r.pids_limited);
		sbx_exec_result_release(&r);
		return;
	}
	sbx_exec_result_release(&r);
	if (sbx_box_kill_all(c->agent, &e) != ERR_OK) {
		say(o, false, "kill_all after fork bomb: %s", e.text);
		return;
	}
	run(c->agent, NULL, "echo alive", 0, &r);
	say(o, !strcmp(r.out, "alive\n"), "fork bomb stopped by the pids limit (64), "
	    "box usable after kill-all: %s", r.out);
	sbx_exec_result_release(&r);
}

static void exceed_memory(struct ctx *c, struct outcome *o)
{
	struct sbx_exec_result r;

	run(c->agent, NULL, "python3 -c 'a = b\"x\" * (2 << 30)'", 20000, &r);
	say(o, r.how == SBX_OOM_KILLED, "2 GiB in a 128 MiB box: how=%d", r.how);
	sbx_exec_result_release(&r);
}

static void exceed_disk(struct ctx *c, struct outcome *o)
{
	struct sbx_exec_result r;

	run(c->agent, NULL, "head -c 100000000 /dev/zero > /tmp/fill; echo rc=$?; "
	    "du -sm /tmp/fill; rm -f /tmp/fill", 20000, &r);
	say(o, strstr(r.err, "No space") && !strstr(r.out, "rc=0"),
	    "100 MB into a 32 MiB disk: %s%s", r.out, r.err);
	sbx_exec_result_release(&r);
}

static void exceed_time(struct ctx *c, struct outcome *o)
{
	struct sbx_exec_result r;
	struct sbx_exec_req req = { .shell = "trap '' TERM HUP INT; sleep 100",
				    .timeout_ms = 500 };
	struct errmsg e;
	int64_t t0 = now_ms();

	if (sbx_exec(c->agent, &req, &r, &e) != ERR_OK) {
		say(o, false, "exec: %s", e.text);
		return;
	}
	say(o, r.how == SBX_TIMED_OUT && now_ms() - t0 < 3000,
	    "sleep 100 ignoring signals, timeout 500 ms: how=%d after %lld ms", r.how,
	    (long long)(now_ms() - t0));
	sbx_exec_result_release(&r);
}

/* host processes whose command line contains marker */
static int processes_with(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		char path[300], cmd[4096];
		ssize_t k;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    atol(de->d_name) == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		k = (ssize_t)fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		for (ssize_t i = 0; i < k; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[k > 0 ? k : 0] = 0;
		n += strstr(cmd, marker) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

static void survive_teardown(struct ctx *c, struct outcome *o)
{
	struct sbx_episode_spec spec = {
		.name = "escape-survivor",
		.agent = { .name = "agent", .image = "host" },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_exec_result r;
	char marker[64], *cmd;
	int during;

	(void)c;
	snprintf(marker, sizeof(marker), "survivor%ld", (long)getpid());
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e)) {
		say(o, false, "episode: %s", e.text);
		return;
	}
	/* double-forked, own session, ignoring TERM and HUP */
	cmd = xasprintf("(setsid nohup sh -c 'trap \"\" TERM HUP; while :; do sleep 1; done' "
			"%s >/dev/null 2>&1 &) ; (sh -c 'sleep 1000; :' %s &) ; echo started",
			marker, marker);
	run(sbx_episode_box(ep, NULL), NULL, cmd, 0, &r);
	free(cmd);
	sbx_exec_result_release(&r);
	/* the daemons start in the background: wait (bounded) until both run */
	for (int i = 0; i < 200 && (during = processes_with(marker)) < 2; i++)
		usleep(10000);
	sbx_episode_free(ep);
	sbx_reap(true);
	say(o, during >= 2 && processes_with(marker) == 0,
	    "%d daemons running in the box before teardown, %d left after", during,
	    processes_with(marker));
}

static void tiocsti(struct ctx *c, struct outcome *o)
{
	probe(c->agent, NULL, "python3 /home/agent/probe.py tiocsti", o);
}

static void read_harness_secrets(struct ctx *c, struct outcome *o)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "grep -rs %s /proc/*/environ /proc/*/cmdline 2>/dev/null | sed 's/^/ESCAPED /'; "
		 "for p in %s %s/keys.db /run/assay /dev/shm/assay /tmp /root/.assay; do "
		 "ls $p 2>/dev/null | grep -q 'keys.db\\|uid' && echo ESCAPED $p; done; "
		 "grep -rs %s /home /root /tmp /var /opt /run /etc /srv /dev/shm 2>/dev/null "
		 "| head -1 | sed 's/^/ESCAPED /'; "
		 "echo BLOCKED no harness secrets",
		 CANARY, c->store_dir, c->store_dir, CANARY);
	probe(c->agent, "root", cmd, o);
}

static void net_admin(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "ip link set lo down 2>/dev/null && echo ESCAPED link down; "
	      "ip addr add 10.9.9.9/24 dev eth0 2>/dev/null && echo ESCAPED addr; "
	      "ip route add default dev eth0 2>/dev/null && echo ESCAPED route; "
	      "grep -q 'CapEff:.*0000003fffffffff\\|CapEff:.*000001ffffffffff' /proc/self/status "
	      "&& echo ESCAPED full caps; echo BLOCKED no net admin", o);
}

/* The harness's mount tree, which init detaches after its pivot (from a
 * thread, init/setup.c), is gone before the first command: every mount
 * the box lists is one of its own (the root, the image overlays, /dev
 * nodes and devpts, /proc and its masks), "/" and "/proc" once each. A
 * host mount left behind would show as /sys, /run, a second / or /proc. */
static void harness_mounts_gone(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "cut -d' ' -f5 /proc/self/mountinfo | awk '"
	      "$0 == \"/\" { root++; next } $0 == \"/proc\" { proc++; next } "
	      "/^\\/(usr|etc|bin|sbin|lib|lib32|lib64|libx32)$/ || /^\\/(dev|proc)\\// { next } "
	      "{ print \"ESCAPED host mount \" $0 } "
	      "END { if (root != 1 || proc != 1) print \"ESCAPED / \" root \" times, /proc \" proc; "
	      "else print \"BLOCKED \" NR \" mounts, all of the box\" }'", o);
}

/* Every limit init's network thread writes into the box's network
 * namespace (init/setup.c net_sysctls) is in place before the first
 * command, and box root cannot change one back. */
static void netns_limits(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "cd /proc/sys/net; n=0; while read f v; do "
	      "[ -e \"$f\" ] || { [ \"${f%%/*}\" = ipv6 ] || [ \"${f%%/*}\" = mptcp ] "
	      "|| echo ESCAPED missing $f; continue; }; "
	      "got=$(tr -s ' \\t' ' ' < \"$f\"); "
	      "[ \"$got\" = \"$v\" ] || echo ESCAPED $f is $got, not $v; "
	      "echo 1 2>/dev/null > \"$f\" && echo ESCAPED $f writable; n=$((n+1)); "
	      "done <<EOF\n"
	      "ipv4/tcp_rmem 4096 16384 16384\n"
	      "ipv4/tcp_wmem 4096 16384 16384\n"
	      "core/somaxconn 128\n"
	      "ipv4/tcp_max_tw_buckets 4096\n"
	      "ipv4/ipfrag_low_thresh 196608\n"
	      "ipv4/ipfrag_high_thresh 262144\n"
	      "ipv6/ip6frag_low_thresh 196608\n"
	      "ipv6/ip6frag_high_thresh 262144\n"
	      "mptcp/enabled 0\n"
	      "EOF\n"
	      "echo BLOCKED $n limits in place, read-only", o);
}

/* Sockets of families that are not network-namespaced (AF_VSOCK reaches
 * the hypervisor and every VM socket of the host), raw frames, exotic
 * stacks, and netlink protocols beyond the box's own netns. */
static void socket_families(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root", "python3 /home/agent/probe.py sockets", o);
}

/* The same agent, in a box whose task declared packet_sockets, can open
 * AF_PACKET (the filter is per box, not weaker elsewhere) and still no
 * AF_VSOCK, nor AF_XDP (uncharged rings, and useless without bpf()). */
static void packet_sockets_declared(struct ctx *c, struct outcome *o)
{
	struct sbx_episode_spec spec = {
		.name = "escape-packet",
		.agent = { .name = "agent", .image = "host", .packet_sockets = true },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_exec_result r;

	(void)c;
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e)) {
		say(o, false, "episode: %s", e.text);
		sbx_episode_free(ep);
		return;
	}
	run(sbx_episode_box(ep, NULL), "root",
	    "python3 -c 'import socket\n"
	    "for f, n in ((40, \"vsock\"), (44, \"xdp\")):\n"
	    "    try: socket.socket(f, 3); print(\"ESCAPED\", n)\n"
	    "    except OSError as e: print(n, e.errno)\n"
	    "socket.socket(17, 3); print(\"packet ok\")'", 0, &r);
	say(o, strstr(r.out, "packet ok") && strstr(r.out, "vsock 97") &&
	    strstr(r.out, "xdp 97") && !strstr(r.out, "ESCAPED"),
	    "declared box: %s%s", r.out, r.err);
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

/* A lock channel between episodes: box A (another episode) holds flock
 * and OFD read locks on files every box of the host image sees; box B
 * must not see them (each box reads the image through overlays of its
 * own, and /dev nodes of its uid slot). */
static void shared_inode_locks(struct ctx *c, struct outcome *o)
{
	struct sbx_box *other = sbx_episode_box(c->other, NULL);
	struct sbx_exec_result r;

	run(other, "root", "test -f /home/agent/probe.py && echo ok", 0, &r);
	if (strcmp(r.out, "ok\n")) {
		sbx_exec_result_release(&r);
		if (sbx_put_file(other, "/home/agent/probe.py", probe_py,
				 strlen(probe_py), 0644, "agent", NULL) != ERR_OK) {
			say(o, false, "cannot put the probe into the other episode");
			return;
		}
	} else
		sbx_exec_result_release(&r);
	/* a holder left running in the other episode's agent box */
	run(other, "root", "(python3 /home/agent/probe.py hold > /tmp/held 2>&1 &); "
	    "for i in $(seq 100); do grep -q HELD /tmp/held 2>/dev/null && break; "
	    "sleep 0.05; done; cat /tmp/held", 0, &r);
	if (!strstr(r.out, "HELD")) {
		say(o, false, "the holder did not start: %s%s", r.out, r.err);
		sbx_exec_result_release(&r);
		return;
	}
	sbx_exec_result_release(&r);
	probe(c->agent, "root", "python3 /home/agent/probe.py probe-locks", o);
	run(other, "root", "pkill -f 'probe.py hold'; true", 0, &r);
	sbx_exec_result_release(&r);
}

/* Pin kernel memory outside the box's 64 MiB limit (nofile 8192), as box
 * root: unread TCP buffers (not charged to a cgroup v1 memory limit by
 * default: one box took the host's whole tcp_mem, 2.2 GiB here; with only
 * the TCP limit, the buffers the kernel forces per socket past it pinned
 * 270 MiB with 3000 connections), a burst of one send on each of 8000
 * idle connections (forced memory as fast as a box can make it),
 * connections no one accepts (charged to no cgroup, v1 or v2: 266 MiB
 * from three processes of 8000 before init counted them), UDP datagrams,
 * AF_UNIX buffers, full pipes, each asking for 4 MiB socket buffers,
 * alone and together; netlink replies never read and datagrams queued on
 * raw sockets (no protocol accounting at all: 1.8 GiB and 1 GiB before).
 * A sampler on the host reads, every 5 ms, the host-wide TCP+UDP pages of
 * /proc/net/sockstat, the TCP socket slabs of /proc/slabinfo and
 * MemAvailable: the buffers' peak may not exceed the box's limit, whether
 * memory.max charges socket memory (cgroup v2) or init holds
 * memory.kmem.tcp's usage and what no cgroup was charged under half the
 * limit (init.c, sockmem.c); buffers and slabs together (the slabs of the
 * box's own sockets count in its limit) may not exceed twice it, nor may
 * MemAvailable drop by more for the netlink and raw queues, which are in
 * no counter. AF_UNIX buffers and pipes are charged to the limit itself:
 * those attacks must end OOM-killed or pin nothing outside. */
static const char pin_py[] =
	"import os, socket, struct, sys, time\n"
	"kind, n = sys.argv[1], int(sys.argv[2])\n"
	"keep = []\n"
	"try:\n"
	"    if kind == 'netlink':\n"   /* RTM_GETLINK of lo, replies unread */
	"        req = struct.pack('=LHHLLBxHiII', 32, 18, 1, 0, 0, 0, 0, 1, 0, 0)\n"
	"        for i in range(n):\n"
	"            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); s.bind((0, 0)); keep.append(s)\n"
	"            for _ in range(400): s.send(req)\n"
	"        n = 0\n"
	"    if kind == 'raw':\n"       /* each its own address: its own copies */
	"        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.setblocking(False)\n"
	"        for i in range(n):\n"
	"            a = '127.%d.%d.1' % (1 + i // 250, i % 250)\n"
	"            r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP); r.bind((a, 0)); keep.append(r)\n"
	"            for _ in range(8):\n"
	"                try: u.sendto(b'x' * 60000, (a, 9))\n"
	"                except OSError: pass\n"
	"        n = 0\n"
	"    if kind in ('tcp', 'burst'):\n"
	"        ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(n)\n"
	"    for i in range(n):\n"
	"        if kind in ('tcp', 'burst'):\n"
	"            c = socket.create_connection(ls.getsockname()); s, _ = ls.accept(); w = c.send\n"
	"        elif kind == 'backlog':\n"
	"            if i % 100 == 0: ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(128)\n"
	"            c = socket.create_connection(ls.getsockname()); s = ls; w = c.send\n"
	"        elif kind == 'udp':\n"
	"            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))\n"
	"            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(s.getsockname()); w = c.send\n"
	"        elif kind == 'unix':\n"
	"            c, s = socket.socketpair(); w = c.send\n"
	"        else:\n"
	"            s, c = os.pipe(); w = lambda b, c=c: os.write(c, b)\n"
	"        if not isinstance(c, int):\n"
	"            for x in (c, s):\n"
	"                x.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)\n"
	"                x.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)\n"
	"        os.set_blocking(c if isinstance(c, int) else c.fileno(), False)\n"
	"        keep += [c, s]\n"
	"        for _ in range(0 if kind == 'burst' else 64):\n"
	"            try: w(b'x' * (65507 if kind == 'udp' else 65536))\n"
	"            except OSError: break\n"
	"except OSError as e: print('stopped at %d fds: %s' % (len(keep), e))\n"
	"for c in keep[0::2] if kind == 'burst' else []:\n"
	"    try: c.send(b'x' * 65536)\n"
	"    except OSError: pass\n"
	"print('PINNED %s: %d fds' % (kind, len(keep)) if keep else 'EMPTY', flush=True)\n"
	"time.sleep(4)\n";

/* What shows an attack's memory: the socket pages of /proc/net/sockstat
 * (TCP, UDP), or the drop of MemAvailable (netlink and raw queues are in
 * no counter; the box's own, charged memory lowers it too). */
enum pin_measure { PIN_SOCKSTAT, PIN_MEMAVAIL };

static const struct {
	const char *name, *cmd;
	enum pin_measure measure;
} pin_attacks[] = {
	{ "tcp", "for i in 1 2 3 4; do python3 pin.py tcp 3000 & done; wait", PIN_SOCKSTAT },
	{ "tcp-burst", "python3 pin.py burst 4000 & python3 pin.py burst 4000 & wait", PIN_SOCKSTAT },
	{ "tcp-backlog", "for i in 1 2 3; do python3 pin.py backlog 8000 & done; wait", PIN_SOCKSTAT },
	{ "udp", "python3 pin.py udp 4000 & python3 pin.py udp 4000 & wait", PIN_SOCKSTAT },
	{ "tcp+udp", "python3 pin.py tcp 3000 & python3 pin.py tcp 3000 & "
		     "python3 pin.py udp 4000 & wait", PIN_SOCKSTAT },
	{ "unix", "python3 pin.py unix 4000", PIN_SOCKSTAT },
	{ "pipe", "python3 pin.py pipe 4000", PIN_SOCKSTAT },
	{ "netlink", "python3 pin.py netlink 4000 & python3 pin.py netlink 4000 & wait",
	  PIN_MEMAVAIL },
	{ "raw", "python3 pin.py raw 4000", PIN_MEMAVAIL },
};

/* Bytes of host-wide TCP socket slabs (sockets, request and time-wait
 * minisockets): 0 where /proc/slabinfo cannot be read. */
static long sock_slabs(void)
{
	static const char *const names[] = {
		"TCP", "TCPv6", "request_sock_TCP", "request_sock_TCPv6",
		"tw_sock_TCP", "tw_sock_TCPv6",
	};
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[64];
	long total = 0, active, objs, size;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &objs, &size) != 4)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(name, names[i]))
				total += active * size;
	}
	if (f)
		fclose(f);
	return total;
}

/* The host's MemAvailable, in bytes, or -1. */
static long mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib < 0 ? -1 : kib << 10;
}

/* Host-wide TCP+UDP socket memory, in pages, or -1. */
static long sock_pages(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	char line[256];
	long total = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *m = strstr(line, " mem ");

		if ((!strncmp(line, "TCP:", 4) || !strncmp(line, "UDP:", 4)) && m)
			total = (total < 0 ? 0 : total) + strtol(m + 5, NULL, 10);
	}
	fclose(f);
	return total;
}

/* The memory controller is on a cgroup v1 hierarchy. */
static bool memcg_v1(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512];
	bool v1 = false;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, ":memory:"))
			v1 = true;
	if (f)
		fclose(f);
	return v1;
}

/* Peaks, in bytes above what was there before, of socket buffers, of
 * buffers and socket slabs together, and of the drop of MemAvailable. */
struct sampler {
	pthread_t thread;
	atomic_bool stop;
	long base_pages, base_slabs, base_avail;
	long peak, peak_all, peak_drop;
};

static void *sample(void *arg)
{
	struct sampler *s = arg;

	while (!atomic_load(&s->stop)) {
		long buffers = (sock_pages() - s->base_pages) * 4096;
		long all = buffers + sock_slabs() - s->base_slabs;
		long drop = s->base_avail - mem_available();

		if (buffers > s->peak)
			s->peak = buffers;
		if (all > s->peak_all)
			s->peak_all = all;
		if (drop > s->peak_drop)
			s->peak_drop = drop;
		usleep(5000);
	}
	return NULL;
}

/* Run pin attack I in BOX and describe its peaks into DETAIL: 1 when it
 * stayed within the bounds, 0 when not, -1 when it could not be sampled. */
static int pin_one(struct sbx_box *box, size_t i, long bound_mb, char *detail,
		   size_t size)
{
	struct sampler smp = { .base_pages = sock_pages(),
			       .base_slabs = sock_slabs(),
			       .base_avail = mem_available() };
	char *cmd = xasprintf("cd /home/agent && %s", pin_attacks[i].cmd);
	struct sbx_exec_result r;
	bool within, ended;
	long mib, all_mib;

	if (smp.base_pages < 0 || smp.base_avail < 0 ||
	    pthread_create(&smp.thread, NULL, sample, &smp)) {
		snprintf(detail, size, "cannot sample /proc/net/sockstat or "
			 "/proc/meminfo");
		free(cmd);
		return -1;
	}
	run(box, "root", cmd, 120000, &r);
	free(cmd);
	atomic_store(&smp.stop, true);
	pthread_join(smp.thread, NULL);
	/* killed for what it pinned, or it ran and held its sockets */
	ended = r.how == SBX_OOM_KILLED ||
		(r.how == SBX_EXITED && r.exit_code == 0 && strstr(r.out, "PINNED"));
	if (pin_attacks[i].measure == PIN_MEMAVAIL) {
		mib = smp.peak_drop >> 20;
		within = mib <= 2 * bound_mb;
		snprintf(detail, size, "%s: MemAvailable -%ld MiB", pin_attacks[i].name, mib);
	} else {
		mib = smp.peak >> 20;
		all_mib = smp.peak_all >> 20;
		within = mib <= bound_mb && all_mib <= 2 * bound_mb;
		snprintf(detail, size, "%s: peak +%ld MiB (+%ld with slabs)",
			 pin_attacks[i].name, mib, all_mib);
	}
	snprintf(detail + strlen(detail), size - strlen(detail), "%s; ",
		 r.how == SBX_OOM_KILLED ? " (OOM-killed)" :
		 ended ? "" : " (did not run: no socket held, or did not end)");
	sbx_exec_result_release(&r);
	return within && ended;
}

static void pin_kernel_memory(struct ctx *c, struct outcome *o)
{
	const int limit_mb = 64, bound_mb = limit_mb;
	struct sbx_episode_spec spec = {
		.name = "escape-pin",
		.agent = { .name = "agent", .image = "host", .user = "agent",
			   .limits = { .memory_mb = limit_mb, .nofile = 8192 } },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	char detail[1200] = "";
	bool pass = true;

	(void)c;
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e) ||
	    sbx_put_file(sbx_episode_box(ep, NULL), "/home/agent/pin.py", pin_py,
			 strlen(pin_py), 0644, "agent", &e)) {
		say(o, false, "episode: %s", e.text);
		sbx_episode_free(ep);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(pin_attacks); i++) {
		size_t used = strlen(detail);
		int rc = pin_one(sbx_episode_box(ep, NULL), i, bound_mb,
				 detail + used, sizeof(detail) - used);

		pass = pass && rc == 1;
		if (rc < 0)
			break;
	}
	say(o, pass, "%d MiB box, host-wide socket memory (bound %d MiB, "
	    "twice with slabs or as MemAvailable's drop; cgroup %s): %s",
	    limit_mb, bound_mb, memcg_v1() ? "v1" : "v2", detail);
	sbx_episode_free(ep);
}

/* Packet rings, in a 64 MiB box whose task declares packet_sockets: a
 * ring is charged to no cgroup and one setsockopt makes it as large as it
 * asks (two 256 MiB rings lowered MemAvailable by 567 MiB before init
 * stopped the calls, ringwatch.c). A 4 MiB ring, as libpcap asks, must be
 * made; each of eight 256 MiB rings must be refused with ENOMEM; and
 * while a second thread flips a request between 4 and 256 MiB, a ring
 * that is made must be the size that was checked (mapping 256 MiB of it
 * fails). MemAvailable may not drop by more than twice the limit. */
static const char ring_py[] =
	"import mmap, socket, struct, threading\n"
	"def req(mib): return bytearray(struct.pack('IIII', 1 << 20, mib, 1 << 16, mib * 16))\n"
	"def ring(buf):\n"
	"    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)\n"
	"    try: s.setsockopt(263, 5, buf); return s\n"
	"    except OSError as e: s.close(); return e.errno\n"
	"small = ring(req(4))\n"
	"print('small ring:', 'made' if isinstance(small, socket.socket) else small)\n"
	"refused = sum(ring(req(256)) == 12 for _ in range(8))\n"
	"print('big rings refused:', refused)\n"
	"big, stop = req(4), False\n"
	"def flip():\n"   /* the block count changes while calls run */
	"    while not stop: big[4:16] = req(256)[4:16]; big[4:16] = req(4)[4:16]\n"
	"t = threading.Thread(target=flip); t.start()\n"
	"made = large = 0\n"
	"for _ in range(200):\n"
	"    r = ring(big)\n"
	"    if isinstance(r, socket.socket):\n"
	"        made += 1\n"
	"        try: mmap.mmap(r.fileno(), 256 << 20); large += 1\n"
	"        except OSError: pass\n"
	"        r.close()\n"
	"stop = True; t.join()\n"
	"print('raced: %d made, %s' % (made, 'ESCAPED a 256 MiB ring' if large else 'none of 256 MiB'), flush=True)\n";

static void packet_rings(struct ctx *c, struct outcome *o)
{
	const int limit_mb = 64;
	struct sbx_episode_spec spec = {
		.name = "escape-rings",
		.agent = { .name = "agent", .image = "host", .packet_sockets = true,
			   .limits = { .memory_mb = limit_mb } },
	};
	struct sampler smp = { .base_avail = mem_available() };
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_exec_result r;
	long drop_mb;

	(void)c;
	if (sbx_episode_new(&spec, &ep, &e) || sbx_episode_start(ep, &e) ||
	    sbx_put_file(sbx_episode_box(ep, NULL), "/home/agent/ring.py", ring_py,
			 strlen(ring_py), 0644, "agent", &e)) {
		say(o, false, "episode: %s", e.text);
		sbx_episode_free(ep);
		return;
	}
	if (smp.base_avail < 0 || pthread_create(&smp.thread, NULL, sample, &smp)) {
		say(o, false, "cannot sample /proc/meminfo");
		sbx_episode_free(ep);
		return;
	}
	run(sbx_episode_box(ep, NULL), "root", "python3 /home/agent/ring.py", 60000, &r);
	atomic_store(&smp.stop, true);
	pthread_join(smp.thread, NULL);
	drop_mb = smp.peak_drop >> 20;
	say(o, strstr(r.out, "small ring: made") && strstr(r.out, "big rings refused: 8") &&
	    strstr(r.out, "none of 256 MiB") && !strstr(r.out, "ESCAPED") &&
	    drop_mb <= 2 * limit_mb,
	    "%d MiB box, MemAvailable -%ld MiB (bound %d): %s%s", limit_mb, drop_mb,
	    2 * limit_mb, r.out, r.err);
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
}

/* Host-wide facts /proc would tell (the kernel command line names the
 * machine's control ports). */
static void host_wide_proc(struct ctx *c, struct outcome *o)
{
	probe(c->agent, "root",
	      "for f in cmdline interrupts softirqs modules config.gz key-users; do "
	      "[ -s /proc/$f ] && head -c 300 /proc/$f | tr '\\n' ' ' | "
	      "sed \"s|^|ESCAPED $f: |\" && echo; done; "
	      "grep -v '^0000000000000000 ' /proc/kallsyms | head -1 | sed 's/^/ESCAPED kallsyms: /'; "
	      "for f in timer_list slabinfo vmallocinfo pagetypeinfo; do "
	      "head -c 100 /proc/$f 2>/dev/null | head -1 | sed \"s|^|ESCAPED $f: |\"; done; "
	      "echo BLOCKED host-wide /proc masked", o);
}

/* Host-wide counters as a channel between episodes: box A snapshots every
 * file of /proc outside its own pid entries (and its netns's /proc/net,
 * mountinfo, uid_map), the other episode forks, allocates, opens TCP and
 * UDP sockets, pipes and ptys and writes files, and box A reads again:
 * nothing but box A's own state may have moved. */
static void host_wide_counters(struct ctx *c, struct outcome *o)
{
	struct sbx_box *other = sbx_episode_box(c->other, NULL);
	struct sbx_exec_result r;

	if (sbx_put_file(c->agent, "/root/pscan.py", pscan_py, strlen(pscan_py), 0600,
			 NULL, NULL) != ERR_OK ||
	    sbx_put_file(other, "/root/load.py", load_py, strlen(load_py), 0600, NULL,
			 NULL) != ERR_OK) {
		say(o, false, "cannot put the probes");
		return;
	}
	run(c->agent, "root", "python3 /root/pscan.py snap /root/snap", 0, &r);
	if (!strstr(r.out, "SNAP")) {
		say(o, false, "snapshot: %s%s", r.out, r.err);
		sbx_exec_result_release(&r);
		return;
	}
	sbx_exec_result_release(&r);
	run(other, "root", "(python3 /root/load.py > /tmp/loaded 2>&1 &); "
	    "for i in $(seq 200); do grep -q LOADED /tmp/loaded 2>/dev/null && break; "
	    "sleep 0.05; done; cat /tmp/loaded", 0, &r);
	if (!strstr(r.out, "LOADED")) {
		say(o, false, "the load did not start: %s%s", r.out, r.err);
		sbx_exec_result_release(&r);
		return;
	}
	sbx_exec_result_release(&r);
	run(c->agent, "root", "python3 /root/pscan.py diff /root/snap", 0, &r);
	say(o, strstr(r.out, "CHANGED 0 ") != NULL, "%s%s", r.out, r.err);
	sbx_exec_result_release(&r);
	run(other, "root", "pkill -f load.py; rm -f /tmp/f*; true", 0, &r);
	sbx_exec_result_release(&r);
}

static const struct {
	const char *name;
	attack_fn fn;
} attacks[] = {
	{ "read-service-flag", read_service_flag },
	{ "reach-host-loopback", reach_host_loopback },
	{ "reach-other-episode", reach_other_episode },
	{ "reach-outside-network", reach_outside },
	{ "see-host-processes", see_host_processes },
	{ "ptrace-outside-box", ptrace_outside },
	{ "mount", mount_fs },
	{ "create-user-namespace", create_userns },
	{ "kernel-attack-surface-syscalls", kernel_surface },
	{ "change-network-config", net_admin },
	{ "write-image", write_image },
	{ "exceed-pids", exceed_pids },
	{ "exceed-memory", exceed_memory },
	{ "exceed-disk", exceed_disk },
	{ "exceed-time", exceed_time },
	{ "survive-teardown", survive_teardown },
	{ "tiocsti", tiocsti },
	{ "read-harness-secrets", read_harness_secrets },
	{ "socket-families", socket_families },
	{ "harness-mounts-gone", harness_mounts_gone },
	{ "netns-limits", netns_limits },
	{ "packet-sockets-only-declared", packet_sockets_declared },
	{ "host-wide-proc", host_wide_proc },
	{ "pin-kernel-memory", pin_kernel_memory },
	{ "packet-rings", packet_rings },
	{ "shared-inode-locks", shared_inode_locks },
	{ "host-wide-counters", host_wide_counters },
};

/* --- set-up ------------------------------------------------------------ */

static const char listener_py[] =
	"import socket,sys\n"
	"s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
	"s.bind(('',int(sys.argv[1]))); s.listen(16)\n"
	"while True:\n"
	"    c,_=s.accept(); c.sendall(open('/srv/flag.txt','rb').read()); c.close()\n";

static enum err start_episode(const char *name, const char *svc, int port,
			      const char *flag, struct sbx_episode **out,
			      struct errmsg *e)
{
	char portstr[16];
	const char *argv[] = { "python3", "/srv/l.py", portstr, NULL };
	struct sbx_box_spec s = {
		.name = svc, .image = "host", .argv = argv, .ready = SBX_READY_TCP,
		.ready_port = port,
	};
	struct sbx_episode_spec spec = {
		.name = name,
		.agent = { .name = "agent", .image = "host", .user = "agent",
			   .limits = { .memory_mb = 128, .pids = 64, .disk_mb = 32 } },
		.services = &s, .n_services = 1,
	};
	struct sbx_box *b;
	enum err rc;

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = sbx_episode_new(&spec, out, e);
	if (rc)
		return rc;
	b = sbx_episode_box(*out, svc);
	rc = sbx_put_file(b, "/srv/l.py", listener_py, strlen(listener_py), 0600, NULL, e);
	if (!rc)
		rc = sbx_put_file(b, "/srv/flag.txt", flag, strlen(flag), 0400, NULL, e);
	if (!rc)
		rc = sbx_put_file(sbx_episode_box(*out, NULL), "/home/agent/probe.py",
				  probe_py, strlen(probe_py), 0644, "agent", e);
	if (!rc)
		rc = sbx_episode_start(*out, e);
	return rc;
}

static int host_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(HOST_PORT) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0)
		return -1;
	return s;
}

static bool selected(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static int setup(struct ctx *c)
{
	struct errmsg e = { 0 };
	char *p;
	FILE *f;

	setenv("ASSAY_TEST_SECRET", CANARY, 1);
	c->host_pid = getpid();
	snprintf(c->store_dir, sizeof(c->store_dir), "/tmp/escape-store-%ld", (long)getpid());
	mkdir(c->store_dir, 0700);
	p = xasprintf("%s/keys.db", c->store_dir);
	f = fopen(p, "w");
	if (f) {
		fprintf(f, "%s\n", CANARY);
		fclose(f);
	}
	free(p);
	c->host_listener = host_listener();
	if (sbx_global_init(NULL, &e) ||
	    start_episode("escape-main", "web", 8000, "flag{web-secret}\n", &c->ep, &e) ||
	    start_episode("escape-other", "db", 8001, "other-episode-secret\n", &c->other, &e)) {
		fprintf(stderr, "escape: set-up failed: %s\n", e.text);
		return -1;
	}
	c->agent = sbx_episode_box(c->ep, NULL);
	return 0;
}

/* escape --sh CMD [USER]: run CMD in a box of its own (a 256 MiB agent
 * box, or ESCAPE_MEMORY_MB; ESCAPE_NOFILE; ESCAPE_PACKET: packet
 * sockets allowed) and print what it printed;
 * for looking at a box by hand. */
static int shell(const char *cmd, const char *user)
{
	struct sbx_episode_spec spec = {
		.name = "escape-sh",
		.agent = { .name = "agent", .image = "host", .user = "agent",
			   .limits = { .memory_mb = 256 } },
	};
	struct sbx_episode *ep = NULL;
	struct errmsg e = { 0 };
	struct sbx_exec_result r;
	bool ok;

	if (getenv("ESCAPE_MEMORY_MB"))
		spec.agent.limits.memory_mb = atoi(getenv("ESCAPE_MEMORY_MB"));
	if (getenv("ESCAPE_NOFILE"))
		spec.agent.limits.nofile = atoi(getenv("ESCAPE_NOFILE"));
	spec.agent.packet_sockets = getenv("ESCAPE_PACKET") != NULL;

	if (sbx_global_init(NULL, &e) || sbx_episode_new(&spec, &ep, &e) ||
	    sbx_episode_start(ep, &e)) {
		fprintf(stderr, "escape: %s\n", e.text);
		sbx_episode_free(ep);
		return 1;
	}
	ok = run(sbx_episode_box(ep, NULL), user, cmd, 60000, &r);
	printf("%s", r.out);
	fprintf(stderr, "%s", r.err);
	if (r.how == SBX_OOM_KILLED)
		fprintf(stderr, "escape: the command was OOM-killed\n");
	else if (r.how != SBX_EXITED)
		fprintf(stderr, "escape: the command ended by %d\n", (int)r.how);
	else
		fprintf(stderr, "escape: exit %d\n", r.exit_code);
	sbx_exec_result_release(&r);
	sbx_episode_free(ep);
	sbx_global_cleanup();
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	int passed = 0, failed = 0;
	char *rm;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "--sh"))
		return shell(argv[2], argc > 3 ? argv[3] : NULL);
	if (setup(&c) < 0) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		struct outcome o = { 0 };

		if (!selected(argc, argv, attacks[i].name))
			continue;
		attacks[i].fn(&c, &o);
		printf("%s %s: %s\n", o.pass ? "PASS" : "FAIL", attacks[i].name, o.detail);
		fflush(stdout);
		if (o.pass)
			passed++;
		else
			failed++;
	}
	sbx_episode_free(c.ep);
	sbx_episode_free(c.other);
	sbx_global_cleanup();
	if (c.host_listener >= 0)
		close(c.host_listener);
	rm = xasprintf("rm -rf %s", c.store_dir);
	if (system(rm) != 0)
		failed++;
	free(rm);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
