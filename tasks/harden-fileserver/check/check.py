#!/usr/bin/env python3
"""Runs the pristine shelf server.py with the agent's server.conf (as
nobody), then a scripted attack (every step must fail) and functional tests
(every step must still work)."""
import base64
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 18097
OPS = ("ops", "Sh3lf-ops-2026!")
fails = []


def req(method, path, body=None, auth=None):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    h = {}
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    try:
        c.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        if body is not None:
            c.send(body)
        r = c.getresponse()
        return r.status, r.read().decode("latin-1")
    except OSError as e:
        return 0, str(e)
    finally:
        c.close()


def expect(name, cond):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        fails.append(name)


def main():
    conf = sys.argv[1]
    if not os.path.isfile(conf):
        print("FAIL: no config at " + conf)
        return 1
    work = tempfile.mkdtemp(prefix="chk-")
    shutil.copy(os.path.join(HERE, "server.py"), work)
    shutil.copytree(os.path.join(HERE, "www"), os.path.join(work, "www"))
    shutil.copy(conf, os.path.join(work, "server.conf"))
    secret = "SESSION_SECRET=" + secrets.token_hex(12)
    open(os.path.join(work, "www", ".env"), "w").write("DB_URL=postgres://shelf@db/shelf\n" + secret + "\n")
    os.makedirs(os.path.join(work, "www", ".git"), exist_ok=True)
    open(os.path.join(work, "www", ".git", "config"), "w").write("[remote \"origin\"]\nurl = git@git.corp:shelf\n")
    subprocess.run(["chown", "-R", "1000:1000", work], check=True)
    proc = subprocess.Popen(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "python3", "-I", "server.py",
                             "--conf", "server.conf", "--listen", "127.0.0.1:%d" % PORT], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), 0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
        else:
            pass
        if proc.poll() is not None:
            print("FAIL: server does not start with this config")
            return 1
        tests(secret)
    finally:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("RESULT:", "PASS" if not fails else "FAIL (%d)" % len(fails))
    return 0 if not fails else 1


def tests(secret):
    # --- attack ---
    s, b = req("GET", "/docs/")
    expect("attack: no directory listing", "budget-draft" not in b)
    s, b = req("GET", "/uploads/")
    expect("attack: no listing of uploads", "README.txt" not in b)
    s, b = req("GET", "/.env")
    expect("attack: dotfile .env not served", secret not in b)
    s, b = req("GET", "/.git/config")
    expect("attack: .git not served", "git.corp" not in b)
    for p in ("/../server.conf", "/..%2fserver.conf", "/docs/../../server.conf", "/%2e%2e/server.conf"):
        s, b = req("GET", p)
        expect("attack: traversal %s" % p, "password" not in b and "users" not in b)
    s, b = req("GET", "/admin/", auth=("admin", "admin"))
    expect("attack: default admin/admin refused", s in (401, 403))
    s, b = req("PUT", "/uploads/anon.txt", b"anonymous")
    s2, b2 = req("GET", "/uploads/anon.txt")
    expect("attack: anonymous upload refused", s in (401, 403) and "anonymous" not in b2)
    mark = secrets.token_hex(8)
    code = ("import os\nprint('EXEC-' + %r)\n" % mark).encode()
    req("PUT", "/uploads/shell.py", code, auth=OPS)
    s, b = req("GET", "/uploads/shell.py")
    expect("attack: uploaded .py is not executed", ("EXEC-" + mark) not in b)
    # --- functional ---
    s, b = req("GET", "/")
    expect("functional: index page", s == 200 and "Department file shelf" in b)
    s, b = req("GET", "/docs/manual.txt")
    expect("functional: static file", s == 200 and "shelf manual" in b)
    s, b = req("GET", "/cgi-bin/status.py")
    expect("functional: CGI status script runs", s == 200 and "status: ok" in b and "print(" not in b)
    s, b = req("GET", "/admin/", auth=OPS)
    expect("functional: ops admin login", s == 200 and "logged in as ops" in b)
    body = ("report " + secrets.token_hex(6)).encode()
    s, _ = req("PUT", "/uploads/report.txt", body, auth=OPS)
    s2, b2 = req("GET", "/uploads/report.txt")
    expect("functional: ops upload + download", s == 201 and s2 == 200 and b2 == body.decode())


if __name__ == "__main__":
    sys.exit(main())
