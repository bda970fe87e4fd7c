"""Helpers for the tests of `assay serve` (docs/API.md): start a server on
a free loopback port with its own store and audit log, and a client that
keeps a session cookie and sends the CSRF header.

Results are counted like tests/lib/testlib.sh: ok()/bad(), finish() prints
"N passed, N failed, N skipped" and returns the exit code.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ASSAY = os.environ.get("ASSAY", "build/assay")
ADMIN_PW = "correct horse battery staple"

passed = failed = skipped = 0


def ok(name):
    global passed
    passed += 1
    print("ok   " + name)


def bad(name, why):
    global failed
    failed += 1
    print("FAIL %s: %s" % (name, why))


def skip(name, why):
    global skipped
    skipped += 1
    print("skip %s: %s" % (name, why))


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        bad(name, why)
    return cond


def finish():
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


class Server:
    """One `assay serve` with a fresh store, an admin, and a port."""

    def __init__(self, extra=(), tmp=None, listen="127.0.0.1:0"):
        self.tmp = tmp or tempfile.mkdtemp(prefix="assay-serve-")
        self.env = dict(os.environ, ASSAY_HOME=os.path.join(self.tmp, "home"))
        self.store = os.path.join(self.tmp, "store.db")
        r = subprocess.run([ASSAY, "admin", "init", "--store", self.store, "-q"],
                           input=ADMIN_PW + "\n", text=True, env=self.env,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("admin init failed: " + r.stderr)
        self.args = [ASSAY, "serve", "--store", self.store, "--listen", listen] + list(extra)
        self.log = open(os.path.join(self.tmp, "serve.log"), "w")
        self.start()

    def start(self):
        """Start the server (again) on its store and home; a new port."""
        ready = os.path.join(self.tmp, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.proc = subprocess.Popen(self.args + ["--ready-file", ready],
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(500):
            if os.path.exists(ready) and open(ready).read().endswith("\n"):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited: " + open(self.log.name).read())
            time.sleep(0.02)
        host, port = open(ready).read().strip().rsplit(":", 1)
        self.host, self.port = host, int(port)

    def kill9(self):
        """The server dies at once (power loss): no clean-up runs."""
        self.proc.kill()
        self.proc.wait()

    def stop(self, keep=False):
        rc = self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = -9
        self.log.close()
        if rc != 0:
            print(open(self.log.name).read()[-2000:])
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return rc

    def client(self):
        return Client(self)


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def code(self):
        j = self.json
        if isinstance(j, dict) and isinstance(j.get("error"), dict):
            return j["error"].get("code")
        return None

    def __repr__(self):
        return "%d %s" % (self.status, self.raw[:300])


class Client:
    def __init__(self, server):
        self.s = server
        self.cookie = None
        self.csrf = None
        self.token = None
        self.user = None

    def request(self, method, path, body=None, headers=None, raw=None,
                csrf=True, prefix="/api/v1"):
        h = {}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = "assay_session=" + self.cookie
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        c = http.client.HTTPConnection(self.s.host, self.s.port, timeout=60)
        c.request(method, prefix + path, body=data, headers=h)
        r = c.getresponse()
        body = r.read()
        rep = Reply(r.status, r.getheaders(), body.decode("utf-8", "replace"))
        rep.data = body
        for k, v in rep.headers:
            if k.lower() == "set-cookie" and v.startswith("assay_session="):
                val = v.split(";", 1)[0].split("=", 1)[1]
                self.cookie = val or None
        c.close()
        return rep

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, login, password, totp=None):
        b = {"login": login, "password": password}
        if totp:
            b["totp"] = totp
        r = self.post("/login", b)
        if r.status == 200:
            self.csrf = r.json["csrf_token"]
            self.user = r.json["user"]
        return r


def admin(server):
    c = server.client()
    r = c.login("admin", ADMIN_PW)
    if r.status != 200:
        raise RuntimeError("admin login: %r" % r)
    return c
