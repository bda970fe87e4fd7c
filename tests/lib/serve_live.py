#!/usr/bin/env python3
"""HTTP tests of `assay serve`'s live campaign progress (run by
tests/integration/serve.sh): GET /campaigns/{id}/events read as a stream
while a campaign against a gated mock model runs (the counts advance, the stream ends with
the campaign), need-to-know on the stream (404 for others), and a stream
whose session is ended by logout ends too. The trusted reverse
proxy's user header (--trust-proxy-header). And reads answered while a
write waits for the journal's lock."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program import ADMIN_PW, ASSAY, Reply, Server, admin, check, finish  # noqa: E402

HDR = "X-Remote-User"


def totp(secret, step_off=0):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time() // 30) + step_off), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def from_addr(s, src, method, path, body=None, headers=None):
    """A request to s from local address src (any of 127/8 on loopback)."""
    c = http.client.HTTPConnection(s.host, s.port, timeout=60, source_address=(src, 0))
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, "/api/v1" + path, body=data, headers=h)
    r = c.getresponse()
    rep = Reply(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
    c.close()
    return rep


class Stream:
    """An open GET /campaigns/{id}/events, read event by event."""

    def __init__(self, client, cid):
        self.c = http.client.HTTPConnection(client.s.host, client.s.port, timeout=120)
        self.c.request("GET", "/api/v1/campaigns/%d/events" % cid,
                       headers={"Cookie": "assay_session=" + client.cookie})
        self.r = self.c.getresponse()
        self.status = self.r.status
        self.type = self.r.getheader("Content-Type") or ""

    def events(self):
        """(event, data) pairs until the response ends."""
        ev, data = None, None
        while True:
            line = self.r.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line == "":
                if ev:
                    yield ev, json.loads(data or "{}")
                ev, data = None, None
            elif line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data = line[6:]

    def close(self):
        self.c.close()


class GatedModel:
    """A mock OpenAI endpoint (tests/lib/mockmodel) whose every reply is
    held until open() is called: while held, the campaign's episodes are
    running whatever the machine's speed, so the stream's intermediate
    counts are tested without guessing a latency. A timer opens the gate
    after 60 s so that a stream that never reports them fails the check
    instead of hanging."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gate-")
        self.gate = os.path.join(self.dir, "open")
        script = os.path.join(self.dir, "script.jsonl")
        with open(script, "w") as f:
            f.write(json.dumps({"kind": "text", "text": "no idea", "gate": self.gate}) + "\n")
        self.p = subprocess.Popen([os.environ.get("MOCKMODEL", "build/mockmodel"), "--script",
                                   script, "--loop", "--idle-exit", "300"],
                                  stdout=subprocess.PIPE, text=True)
        self.url = "http://127.0.0.1:%d/v1" % int(self.p.stdout.readline())
        self.timer = threading.Timer(60, self.open)
        self.timer.start()

    def open(self):
        with open(self.gate, "w"):
            pass

    def stop(self):
        self.timer.cancel()
        self.p.terminate()
        self.p.wait()


def setup(s, url):
    a = admin(s)
    lab = a.post("/orgs", {"name": "Lab", "kind": "developer"}).json["id"]
    other = a.post("/orgs", {"name": "Other", "kind": "developer"}).json["id"]
    users = {}
    for login, org, roles in (("dev", lab, ["developer"]), ("odev", other, ["developer"]),
                              ("ev", 1, ["evaluator"]), ("ev2", 1, ["evaluator"])):
        u = a.post("/users", {"login": login, "name": login, "org_id": org, "roles": roles}).json
        c = s.client()
        c.login(login, u["initial_password"])
        users[login] = (c, u)
    d = users["dev"][0]
    mid = d.post("/models", {"name": "gated", "version": "1", "release_date": "2099-01-01",
                             "access": "api", "credential": "sk-test-" + "g" * 32,
                             "endpoint": {"provider": "openai-compatible", "model": "m",
                                          "base_url": url}}).json["id"]
    now = int(time.time() * 1000)
    a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": now + 86400000})
    a.post("/grants", {"user_id": users["ev"][1]["id"], "model_id": mid, "suite": "open",
                       "scope": "run"})
    return a, users, mid


def campaign(e, mid, epochs):
    r = e.post("/campaigns", {"model_id": mid, "suite": "open", "tasks": ["rev-crackme-xor"],
                              "epochs": epochs})
    cid = r.json["id"]
    r = e.post("/campaigns/%d/start" % cid)
    check("campaign %d queued" % cid, r.status == 200 and r.json["state"] == "queued", repr(r))
    return cid


def proxy():
    """The trusted proxy's header: address lists with prefixes, forged
    headers audited, TOTP unless --trust-proxy-mfa."""
    for spec in ("127.0.0.1/33", "nonsense", "127.0.0.1,", "::1/129"):
        rc = subprocess.run([ASSAY, "serve", "--trust-proxy-header", HDR, "--trust-proxy-from",
                             spec, "--store", "/nonexistent/x.db"], capture_output=True, text=True)
        check("--trust-proxy-from %r is refused" % spec, rc.returncode == 2 and
              "trust-proxy-from" in rc.stderr, rc.stderr)
    rc = subprocess.run([ASSAY, "serve", "--trust-proxy-mfa", "--store", "/nonexistent/x.db"],
                        capture_output=True, text=True)
    check("--trust-proxy-mfa alone is refused", rc.returncode == 2, rc.stderr)
    s = Server(extra=["--trust-proxy-header", HDR, "--trust-proxy-from", "10.0.0.0/8,127.0.0.0/30"])
    try:
        a = admin(s)
        u = a.post("/users", {"login": "sso1", "name": "S", "org_id": 1, "roles": ["auditor"]}).json
        r = from_addr(s, "127.0.0.2", "POST", "/login", headers={HDR: "sso1"})
        check("a proxy inside ADDR/PREFIX logs its user in", r.status == 200 and
              r.json["user"]["login"] == "sso1", repr(r))
        r = from_addr(s, "127.0.0.9", "POST", "/login", headers={HDR: "admin"})
        check("outside the prefix the header is ignored (a login needs a password)",
              r.status == 400, repr(r))
        r = from_addr(s, "127.0.0.9", "GET", "/session", headers={HDR: "admin"})
        check("... and authenticates no request", r.status == 401, repr(r))
        r = from_addr(s, "127.0.0.2", "POST", "/login", headers={HDR: "nobody"})
        check("the proxy's unknown user is refused, no account made",
              r.status == 401 and r.code == "bad_credentials" and
              all(x["login"] != "nobody" for x in a.get("/users?limit=200").json["items"]), repr(r))
        entries = [x["entry"] for x in a.get("/audit?limit=500").json["items"]]
        spoof = [x for x in entries if x["kind"] == "auth.proxy.spoof"]
        check("forged headers are audited as auth.proxy.spoof (login and other requests)",
              len(spoof) >= 2, [x["kind"] for x in entries][-10:])
        # a TOTP account: the proxy's word is not the second factor by default
        c = s.client()
        c.login("sso1", u["initial_password"])
        sec = c.post("/me/totp").json["secret"]
        check("sso1 enrols TOTP", c.post("/me/totp/confirm", {"code": totp(sec)}).status == 200)
        r = from_addr(s, "127.0.0.2", "POST", "/login", headers={HDR: "sso1"})
        check("a TOTP account still gives its code on a proxy login", r.status == 401 and
              r.code == "totp_required", repr(r))
        r = from_addr(s, "127.0.0.2", "POST", "/login", {"totp": "000000" if totp(sec, 1) != "000000" else "111111"},
                      headers={HDR: "sso1"})
        check("... a wrong code is refused", r.status == 401 and r.code == "bad_credentials", repr(r))
        r = from_addr(s, "127.0.0.2", "POST", "/login", {"totp": totp(sec, 1)}, headers={HDR: "sso1"})
        check("... with the code the proxy login succeeds", r.status == 200, repr(r))
        r = from_addr(s, "127.0.0.2", "POST", "/orgs", {"name": "X", "kind": "developer"},
                      headers={HDR: "admin"})
        check("the header on other requests authenticates nothing, even from the proxy",
              r.status == 401, repr(r))
    finally:
        s.stop()
    s = Server(extra=["--trust-proxy-header", HDR, "--trust-proxy-from", "127.0.0.1",
                      "--trust-proxy-mfa"])
    try:
        a = admin(s)
        sec = a.post("/me/totp").json["secret"]
        a.post("/me/totp/confirm", {"code": totp(sec)})
        r = s.client().login("admin", ADMIN_PW)
        check("(admin now has TOTP)", r.code == "totp_required", repr(r))
        r = s.client().request("POST", "/login", None, headers={HDR: "admin"})
        check("with --trust-proxy-mfa the proxy's sign-on stands for TOTP", r.status == 200 and
              r.json["user"]["login"] == "admin", repr(r))
        r = a.post("/users/%d/disable" % a.post("/users", {"login": "gone", "name": "G", "org_id": 1,
                                                            "roles": ["auditor"]}).json["id"])
        r = s.client().request("POST", "/login", None, headers={HDR: "gone"})
        check("a disabled account is refused on a proxy login", r.status == 401, repr(r))
    finally:
        s.stop()


def reads_beside_a_writer():
    """A read never queues behind a write waiting for the journal's lock
    (a campaign's run commits to the same file): another process holds
    the write lock; a POST that must write waits for it; a GET meanwhile
    is answered while the lock is still held, the POST still waiting.
    No timing decides it: the lock is released only after the GET."""
    import sqlite3
    s = Server()
    try:
        a = admin(s)
        db = sqlite3.connect(s.store, timeout=0, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")       # the write lock, held
        done = {}
        w = threading.Thread(target=lambda: done.setdefault(
            "post", a.post("/orgs", {"name": "Waits", "kind": "developer"})))
        w.start()
        time.sleep(0.5)                     # the POST is in, waiting
        got = {}
        g = threading.Thread(target=lambda: got.setdefault("get", a.get("/orgs")))
        g.start()
        g.join(8)                           # the POST waits up to 10 s
        waiting, answered = w.is_alive(), "get" in got
        db.execute("ROLLBACK")
        db.close()
        w.join(20)
        g.join(20)
        r = got.get("get")
        check("a GET is answered while a POST waits for the journal's lock",
              answered and r.status == 200 and waiting,
              "get %r (answered before the lock was freed: %s); the post "
              "still waiting then: %s" % (r, answered, waiting))
        p = done.get("post")
        check("the waiting POST is done once the lock is free",
              p is not None and p.status in (200, 201), repr(p))
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)


def main():
    reads_beside_a_writer()
    proxy()
    s = Server()
    gm = GatedModel()
    try:
        a, users, mid = setup(s, gm.url)
        e = users["ev"][0]
        first = campaign(e, mid, 4)
        second = campaign(e, mid, 1)  # queued while the first runs
        st = Stream(e, first)
        check("the stream is text/event-stream", st.status == 200 and
              st.type.startswith("text/event-stream"), st.type)
        # denied principals: another organisation's developer, an evaluator
        # without need-to-know, both as if it did not exist
        for who in ("odev", "ev2"):
            r = users[who][0].get("/campaigns/%d/events" % first)
            check("%s gets 404 on the stream" % who, r.status == 404 and r.code == "not_found", repr(r))
        # the second campaign's stream on a session that logs out
        lo = s.client()
        lo.cookie, lo.csrf = e.cookie, e.csrf
        # (the same session as e: logging it out ends both streams, so the
        # first stream is read to its end before that)
        seen, end = [], None
        for ev, data in st.events():
            if ev == "progress":
                seen.append(data)
                if data["episodes_running"] > 0:
                    gm.open()
            elif ev == "end":
                end = data
        st.close()
        done = [p["episodes_done"] for p in seen]
        check("several progress events while it runs", len(seen) >= 2, seen)
        check("the done count never goes back and reaches the total",
              done == sorted(done) and done[-1] == 4 and seen[-1]["episodes_total"] == 4, done)
        check("the counts advance during the campaign (an event with 0 < done < total, "
              "or running episodes)",
              any(0 < n < 4 for n in done) or any(p["episodes_running"] > 0 for p in seen), seen)
        check("each event carries tokens, cost, failures and an ETA field",
              all(k in seen[-1] for k in ("tokens", "cost_usd", "episodes_failed", "eta_s")), seen[-1])
        check("the stream ends with the campaign (an end event, state done)",
              end is not None and seen[-1]["state"] == "done", (end, seen[-1:]))
        # the second campaign, now running or queued: its stream on a session
        # that is then logged out ends with status 401
        st = Stream(e, second)
        it = st.events()
        ev, data = next(it)
        live = data.get("state") in ("queued", "running")
        check("the second stream starts with its progress", ev == "progress", (ev, data))
        r = lo.post("/logout")
        check("logout", r.status == 200, repr(r))
        rest = list(it)
        st.close()
        if live:
            check("logging out ends the stream (end, status 401)",
                  rest and rest[-1][0] == "end" and rest[-1][1].get("status") == 401, rest)
        else:
            check("the second campaign had ended: its stream ended", rest == [] or
                  rest[-1][0] == "end", rest)
        # a finished campaign: the events at once and the end
        r = users["dev"][0].get("/campaigns/%d/events" % first)
        check("a finished campaign's stream: retry, progress, end at once",
              r.status == 200 and r.raw.startswith("retry: ") and "event: end" in r.raw, r.raw[:200])
    finally:
        gm.open()
        check("the server stops on SIGTERM with status 0", s.stop() == 0)
        gm.stop()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
