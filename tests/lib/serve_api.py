#!/usr/bin/env python3
"""HTTP tests of `assay serve` (run by tests/integration/serve.sh):
sessions, CSRF, fixation, TOTP, API tokens, terms, people, hostile input,
errors and limits, static pages. Brute force and rate limits run on a
server of their own (they block the address for the others)."""
import base64
import hashlib
import hmac
import io
import json
import os
import socket
import subprocess
import struct
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program import (ADMIN_PW, ASSAY, Server, admin, bad, check, finish, ok)  # noqa: E402

XSS = '<script>alert(1)</script>"\'&<img src=x onerror=alert(1)>'
SQLI = "x'); DROP TABLE users; --"


def totp(secret, at=None, step_off=0):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30) + step_off
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 15
    v = (struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % v


def header(rep, name):
    for k, v in rep.headers:
        if k.lower() == name.lower():
            return v
    return None


def sessions(s):
    a = admin(s)
    check("login sets the csrf token and user", a.csrf and a.user["login"] == "admin")
    r = a.get("/session")
    check("GET /session", r.status == 200 and r.json["csrf_token"] == a.csrf, repr(r))
    c = s.client()
    r = c.login("admin", ADMIN_PW)
    ck = header(r, "Set-Cookie")
    check("cookie is HttpOnly, Secure, SameSite=Strict",
          ck and "HttpOnly" in ck and "Secure" in ck and "SameSite=Strict" in ck, ck)
    # fixation: a cookie presented at login is never kept
    old = c.cookie
    r = c.login("admin", ADMIN_PW)
    check("login issues a new session id", c.cookie and c.cookie != old)
    c2 = s.client()
    c2.cookie = old
    check("the session presented at login is ended", c2.get("/session").status == 401)
    fixed = s.client()
    fixed.cookie = "a" * 64
    fixed.login("admin", ADMIN_PW)
    check("a planted session id is replaced", fixed.cookie != "a" * 64)
    # CSRF
    r = c.post("/orgs", {"name": "X", "kind": "developer"}, csrf=False)
    check("POST without X-CSRF-Token is 403 csrf", r.status == 403 and r.code == "csrf", repr(r))
    r = c.post("/orgs", {"name": "X", "kind": "developer"},
               headers={"X-CSRF-Token": "0" * 64})
    check("a wrong X-CSRF-Token is 403 csrf", r.status == 403 and r.code == "csrf", repr(r))
    other = admin(s)
    r = c.post("/orgs", {"name": "X", "kind": "developer"},
               headers={"X-CSRF-Token": other.csrf})
    check("another session's CSRF token is refused", r.code == "csrf", repr(r))
    r = c.post("/logout")
    check("logout", r.status == 200)
    c.cookie = old if False else c.cookie
    check("after logout the session is gone", a.get("/session").status == 200 and
          s.client().get("/session").status == 401)
    r = s.client().post("/login", {"login": "admin", "password": "wrong password!"})
    check("a wrong password is 401 bad_credentials", r.status == 401 and r.code == "bad_credentials", repr(r))
    r = s.client().post("/login", {"login": "nobody", "password": "wrong password!"})
    check("an unknown login is the same 401 bad_credentials", r.status == 401 and r.code == "bad_credentials")
    return a


def people(s, a):
    r = a.post("/orgs", {"name": "Frontier Lab", "kind": "developer"})
    check("admin invites an organisation", r.status == 201 and r.json["kind"] == "developer", repr(r))
    lab = r.json["id"]
    r = a.post("/orgs", {"name": "Other Lab", "kind": "developer"})
    other = r.json["id"]
    r = a.post("/orgs", {"name": "Frontier Lab", "kind": "developer"})
    check("a duplicate organisation is 409", r.status == 409 and r.code == "conflict", repr(r))
    r = a.post("/orgs", {"name": "Bad", "kind": "agency"})
    check("kind agency cannot be invited", r.status == 400 and r.json["error"]["field"] == "kind")
    r = a.post("/users", {"login": "dev1", "name": "Dev One", "org_id": lab, "roles": ["developer"]})
    check("admin adds a developer", r.status == 201 and r.json["initial_password"], repr(r))
    dpw = r.json["initial_password"]
    r2 = a.get("/users/%d" % r.json["id"])
    check("the initial password is never shown again", "initial_password" not in r2.raw and
          "pwhash" not in r2.raw)
    r = a.post("/users", {"login": "dev2", "name": "Dev Two", "org_id": other, "roles": ["developer"]})
    other_user = r.json["id"]
    r = a.post("/users", {"login": "ev", "name": "Eve", "org_id": lab, "roles": ["evaluator"]})
    check("agency roles outside the agency are refused", r.status == 400 and r.json["error"]["field"] == "roles", repr(r))
    r = a.post("/users", {"login": "Bad Login", "name": "x", "org_id": 1, "roles": ["auditor"]})
    check("a bad login is refused naming the field", r.status == 400 and r.json["error"]["field"] == "login")
    d = s.client()
    check("the developer logs in with the initial password", d.login("dev1", dpw).status == 200)
    # terms
    r = d.get("/orgs")
    check("without published terms a developer may read", r.status == 200)
    r = a.post("/terms", {"text": "Confidentiality terms v1 " + XSS})
    check("admin publishes terms v1", r.status == 201 and r.json["version"] == 1, repr(r))
    r = d.get("/orgs")
    check("a developer must accept the current terms", r.status == 403 and r.code == "terms_required", repr(r))
    r = d.get("/terms")
    check("the developer reads the terms", r.status == 200 and r.json["text"].endswith(XSS))
    r = d.post("/terms/accept", {"version": 2})
    check("accepting a version that is not current is 409", r.status == 409)
    r = d.post("/terms/accept", {"version": 1})
    check("the developer accepts v1", r.status == 200, repr(r))
    r = d.get("/orgs")
    check("the developer sees only its own organisation",
          r.status == 200 and [o["id"] for o in r.json["items"]] == [lab], repr(r))
    r = a.get("/orgs/%d" % lab)
    check("the organisation records the accepted version", r.json["terms_accepted"] == 1, repr(r))
    # IDOR: other organisations' objects are not found, like missing ones
    r1 = d.get("/orgs/%d" % other)
    r2 = d.get("/orgs/999999")
    check("another organisation is 404 for a developer", r1.status == 404 and r1.code == "not_found")
    check("... the same reply as a missing one", r1.raw == r2.raw, "%r / %r" % (r1, r2))
    r = d.get("/users/%d" % other_user)
    check("another organisation's user is 404", r.status == 404)
    r = d.get("/users")
    check("a developer lists only its organisation's people",
          all(u["org_id"] == lab for u in r.json["items"]) and len(r.json["items"]) == 1, repr(r))
    r = d.post("/orgs", {"name": "Evil", "kind": "developer"})
    check("a developer cannot create organisations (403)", r.status == 403 and r.code == "forbidden")
    r = a.get("/audit?limit=500")
    kinds = [e["entry"]["kind"] for e in r.json["items"]]
    check("denials are audited", "authz.deny" in kinds, kinds)
    check("terms acceptance is audited", "terms.accept" in kinds)
    r = d.get("/audit?limit=500")
    check("a developer's audit view holds only its own entries",
          r.status == 200 and r.json["items"] and
          all(e["entry"]["data"].get("principal") == d.user["id"] for e in r.json["items"]), repr(r)[:300])
    r = a.post("/users/%d/disable" % a.user["id"])
    check("an admin cannot disable itself", r.status == 403)
    r = a.post("/users/%d/disable" % other_user)
    check("admin disables a user", r.status == 200 and r.json["disabled"] is True)
    return d, lab


def hostile(s, a, lab):
    r = a.post("/orgs", {"name": XSS, "kind": "partner"})
    check("a hostile organisation name is stored", r.status == 201, repr(r))
    oid = r.json["id"]
    r = a.get("/orgs/%d" % oid)
    check("... and returned exactly, as JSON", r.json["name"] == XSS and
          header(r, "Content-Type").startswith("application/json") and
          header(r, "X-Content-Type-Options") == "nosniff")
    r = a.post("/orgs", {"name": SQLI, "kind": "partner"})
    check("an SQL-looking name is data", r.status == 201 and a.get("/orgs/%d" % r.json["id"]).json["name"] == SQLI)
    r = a.post("/users", {"login": "x", "name": XSS + SQLI, "org_id": lab, "roles": ["developer"]})
    check("a hostile user name round-trips", r.status == 201 and a.get("/users/%d" % r.json["id"]).json["name"] == XSS + SQLI)
    r = s.client().post("/login", {"login": SQLI, "password": SQLI})
    check("SQL in the login is a failed login", r.status == 401 and r.code == "bad_credentials")
    check("the users table survives", a.get("/users").status == 200)
    r = a.post("/orgs", {"name": "a\u0000b", "kind": "partner"})
    check("a NUL in a string is refused", r.status == 400 and r.code in ("bad_json", "invalid_field"), repr(r))
    r = a.post("/orgs", {"name": "x" * 129, "kind": "partner"})
    check("an over-long field is refused naming it", r.status == 400 and r.json["error"]["field"] == "name")
    r = a.post("/orgs", {"name": 5, "kind": "partner"})
    check("a field of the wrong type is refused", r.status == 400 and r.json["error"]["field"] == "name")
    r = a.request("POST", "/orgs", raw=b"{not json", headers={"Content-Type": "application/json"})
    check("bad JSON is 400 bad_json", r.status == 400 and r.code == "bad_json", repr(r))
    r = a.request("POST", "/orgs", raw=b'{"name":"a","name":"b","kind":"partner"}',
                  headers={"Content-Type": "application/json"})
    check("duplicate keys are refused", r.status == 400 and r.code == "bad_json")
    r = a.request("POST", "/orgs", raw=b'{"name":"a"}', headers={"Content-Type": "text/plain"})
    check("a body that is not JSON is 415", r.status == 415 and r.code == "unsupported_media_type")
    r = a.request("POST", "/orgs", raw=b"x" * (65 * 1024), headers={"Content-Type": "application/json"})
    check("a body over 64 KiB is 413", r.status == 413 and r.code == "too_large", repr(r))
    r = a.get("/nothing/here")
    check("an unknown endpoint is 404 JSON", r.status == 404 and r.code == "not_found")
    r = a.request("PUT", "/orgs")
    check("a wrong method is 405", r.status == 405 and r.code == "method_not_allowed")
    r = a.get("/orgs/0")
    check("id 0 is no route (404)", r.status == 404)
    r = a.get("/orgs/1e3")
    check("a non-decimal id is 404", r.status == 404)
    r = a.get("/orgs?limit=0")
    check("a bad limit is 400 naming it", r.status == 400 and r.json["error"]["field"] == "limit")
    r = a.get("/runs/0")
    check("an id of 0 is no id (404)", r.status == 404)
    r = s.client().get("/reports")
    check("... but never to someone not logged in (401)", r.status == 401)
    # headers too large: the server closes or refuses, and keeps serving
    try:
        sk = socket.create_connection((s.host, s.port), timeout=10)
        sk.sendall(b"GET /api/v1/session HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
        resp = sk.recv(100)
        sk.close()
        check("over-long headers are refused", not resp.startswith(b"HTTP/1.1 200") and
              (resp == b"" or b" 4" in resp[:12]), resp)
    except OSError as e:
        ok("over-long headers: connection closed (%s)" % e.__class__.__name__)
    check("the server still answers", a.get("/session").status == 200)


def tokens(s, a):
    r = a.post("/tokens", {"name": "ci", "scope": "read", "days": 7})
    check("create a read token", r.status == 201 and r.json["token"].startswith("assay_"), repr(r))
    rt, rid = r.json["token"], r.json["id"]
    r = a.get("/tokens")
    check("the token list never holds a token", r.status == 200 and rt not in r.raw and "token_hash" not in r.raw)
    t = s.client()
    t.token = rt
    check("a read token reads", t.get("/orgs").status == 200)
    r = t.post("/orgs", {"name": "T", "kind": "partner"})
    check("a read token cannot write", r.status == 403 and r.code == "forbidden", repr(r))
    r = a.post("/tokens", {"name": "w", "scope": "write", "days": 1})
    w = s.client()
    w.token = r.json["token"]
    r = w.post("/orgs", {"name": "Via token", "kind": "partner"})
    check("a write token writes without CSRF", r.status == 201, repr(r))
    r = a.delete("/tokens/%d" % rid)
    check("revoke a token", r.status == 200)
    check("a revoked token is 401", t.get("/orgs").status == 401)
    r = a.post("/tokens", {"name": "x", "scope": "admin", "days": 1})
    check("a bad scope is refused", r.status == 400 and r.json["error"]["field"] == "scope")
    r = a.post("/tokens", {"name": "x", "scope": "read", "days": 91})
    check("tokens expire within 90 days", r.status == 400 and r.json["error"]["field"] == "days")
    bogus = s.client()
    bogus.token = "assay_" + "0" * 64
    check("an unknown token is 401", bogus.get("/orgs").status == 401)


def totp_flow(s):
    a = admin(s)
    r = a.post("/me/totp")
    check("begin TOTP enrolment", r.status == 200 and r.json["uri"].startswith("otpauth://totp/"), repr(r))
    sec = r.json["secret"]
    r = a.post("/me/totp/confirm", {"code": "000000" if totp(sec) != "000000" else "111111"})
    check("a wrong confirmation code is refused", r.status == 400)
    check("no TOTP needed before confirmation", s.client().login("admin", ADMIN_PW).status == 200)
    r = a.post("/me/totp/confirm", {"code": totp(sec)})
    check("confirm TOTP", r.status == 200, repr(r))
    r = s.client().login("admin", ADMIN_PW)
    check("login now asks for the code", r.status == 401 and r.code == "totp_required", repr(r))
    code = totp(sec, step_off=1)
    r = s.client().login("admin", ADMIN_PW, totp=code)
    check("login with the password and the next code", r.status == 200, repr(r))
    r = s.client().login("admin", ADMIN_PW, totp=code)
    check("a used code is refused", r.status == 401 and r.code == "bad_credentials", repr(r))
    r = s.client().login("admin", ADMIN_PW, totp=totp(sec, step_off=-5))
    check("an old code is refused", r.status == 401)


def models_flow(s, a, d, lab):
    now = int(time.time() * 1000)
    secret = "sk-live-" + "q" * 40
    r = d.post("/models", {"name": "frontier-x", "version": "0.9", "release_date": "2099-12-31",
                           "access": "api", "card": {"summary": XSS},
                           "endpoint": {"provider": "openai-compatible", "base_url": "http://127.0.0.1:9/v1",
                                        "model": "x"}, "credential": secret})
    check("a developer registers a model with its credential", r.status == 201 and
          r.json["has_credential"] is True and r.json["org_id"] == lab, repr(r))
    mid = r.json["id"]
    check("the credential is never shown back", secret not in r.raw)
    key = os.path.join(s.tmp, "home", "program-keys", "model-%d.key" % mid)
    check("the credential is sealed under a key of its own", os.path.exists(key))
    db = open(s.store, "rb").read() + (open(s.store + "-wal", "rb").read() if os.path.exists(s.store + "-wal") else b"")
    check("the store never holds the credential in clear", secret.encode() not in db)
    r = d.post("/models", {"name": "m", "version": "1", "release_date": "2099-13-01", "access": "api"})
    check("a bad release date is refused", r.status == 400 and r.json["error"]["field"] == "release_date")
    r = d.post("/models", {"name": "m", "version": "1", "release_date": "2099-01-01", "access": "ftp"})
    check("a bad access level is refused", r.status == 400 and r.json["error"]["field"] == "access")
    r = a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": now + 31 * 86400000})
    check("a window over 30 days is refused", r.status == 400, repr(r))
    r = d.post("/models", {"name": "soon", "version": "1", "release_date": "2020-01-01", "access": "api"})
    r = a.post("/windows", {"model_id": r.json["id"], "start_ms": now, "end_ms": now + 86400000})
    check("a window past the release date is refused", r.status == 400 and "release" in r.raw, repr(r))
    r = a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": now + 86400000})
    check("admin opens an access window", r.status == 201 and r.json["state"] == "open", repr(r))
    wid = r.json["id"]
    r = d.get("/windows")
    check("the developer sees its model's window", wid in [w["id"] for w in r.json["items"]], repr(r))
    # a partner during the window
    p = a.post("/orgs", {"name": "Partner Inst", "kind": "partner"}).json["id"]
    pu = a.post("/users", {"login": "partner1", "name": "P", "org_id": p, "roles": ["developer"]}).json
    pc = s.client()
    pc.login("partner1", pu["initial_password"])
    pc.post("/terms/accept", {"version": 1})
    check("a partner does not see the model before both designate it", pc.get("/models/%d" % mid).status == 404)
    r = a.post("/models/%d/partners" % mid, {"org_id": p})
    check("admin designates the partner", r.status == 200 and r.json["active"] is False and
          r.json["org_name"] == "Partner Inst", repr(r))
    check("... one side is not enough", pc.get("/models/%d" % mid).status == 404)
    r = d.post("/models/%d/partners" % mid, {"org_id": p})
    check("the developer designates it too: active", r.status == 200 and r.json["active"] is True, repr(r))
    r = pc.get("/models/%d" % mid)
    check("the partner sees the model during the window, never its credential",
          r.status == 200 and secret not in r.raw and r.json["has_credential"] is True, repr(r))
    r = d.post("/models/%d/partners" % mid, {"org_id": lab})
    check("only partner organisations are designated", r.status == 400)
    ev = a.post("/users", {"login": "eval1", "name": "E", "org_id": 1, "roles": ["evaluator"]}).json
    r = a.post("/grants", {"user_id": a.user["id"], "model_id": mid, "suite": "open", "scope": "run"})
    check("an admin cannot grant itself", r.status == 403, repr(r))
    r = a.post("/grants", {"user_id": ev["id"], "model_id": mid, "suite": "open", "scope": "run",
                           "expires_ms": now + 86400000 * 60})
    check("a grant ends with the window at the latest", r.status == 201 and
          r.json["expires_ms"] <= now + 86400000, repr(r))
    # an admin closes the window: the credential is destroyed
    r = a.post("/windows/%d/close" % wid)
    check("admin closes the window; the credential is erased", r.status == 200 and
          r.json["credential_erased"] is True, repr(r))
    check("the credential's key is destroyed", not os.path.exists(key))
    check("the model has no credential any more", a.get("/models/%d" % mid).json["has_credential"] is False)
    check("the partner no longer sees the model", pc.get("/models/%d" % mid).status == 404)
    r = a.post("/windows/%d/close" % wid)
    check("a closed window cannot be closed again", r.status == 409)
    # a new credential, a short window: its end erases the credential
    r = d.post("/models/%d/credential" % mid, {"credential": secret})
    check("the developer submits a new credential", r.status == 200 and r.json["has_credential"] is True
          and secret not in r.raw, repr(r))
    r = a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": int(time.time() * 1000) + 1500})
    for _ in range(300):
        w = [x for x in a.get("/windows?model_id=%d" % mid).json["items"] if x["id"] == r.json["id"]][0]
        if w["state"] == "closed":
            break
        time.sleep(0.1)
    check("the window closes at its end, erasing the credential",
          w["state"] == "closed" and w["credential_erased"] is True and not os.path.exists(key), w)
    kinds = [e["entry"]["kind"] for e in a.get("/audit?limit=500").json["items"]]
    check("the erasures are audited", "credential.erase" in kinds and "window.end" in kinds and
          "window.close" in kinds)


def campaign_flow(s, a, d, lab):
    now = int(time.time() * 1000)
    m = d.post("/models", {"name": "baseline", "version": "1", "release_date": "2099-01-01",
                           "access": "weights", "endpoint": {"provider": "baseline", "model": "oracle"}}).json
    mid = m["id"]
    ev = a.post("/users", {"login": "eval2", "name": "E2", "org_id": 1, "roles": ["evaluator", "custodian"]}).json
    e = s.client()
    e.login("eval2", ev["initial_password"])
    body = {"model_id": mid, "suite": "open", "tasks": ["rev-crackme-xor"], "epochs": 1}
    r = e.post("/campaigns", body)
    check("no campaign without a need-to-know grant", r.status == 403, repr(r))
    a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": now + 86400000})
    r = a.post("/grants", {"user_id": ev["id"], "model_id": mid, "suite": "open", "scope": "run"})
    check("admin grants the evaluator need-to-know", r.status == 201, repr(r))
    r = e.post("/campaigns", dict(body, policy="../etc/passwd"))
    check("a policy is a shipped name", r.status == 400 and r.json["error"]["field"] == "policy")
    r = e.post("/campaigns", dict(body, tasks=["Bad Task"]))
    check("task names are checked", r.status == 400 and r.json["error"]["field"] == "tasks")
    r = e.post("/campaigns", dict(body, tasks=["rev-crackme-xor", "no-such-task"]))
    check("a task the open suite lacks is refused at creation, named", r.status == 400 and
          r.json["error"]["field"] == "tasks" and "no-such-task" in r.json["error"]["message"], repr(r))
    r = e.post("/campaigns", dict(body, limits={"turns": 5}))
    check("a turn limit is refused (the tasks' own apply)", r.status == 400 and
          r.json["error"]["field"] == "limits.turns", repr(r))
    r = e.post("/campaigns", dict(body, limits={"tokens": 0}))
    check("a limit out of range is refused naming it", r.status == 400 and
          r.json["error"]["field"] == "limits.tokens", repr(r))
    body["limits"] = {"tokens": 200000, "seconds": 900}
    r = e.post("/campaigns", body)
    check("the campaign keeps its limits", r.status == 201 and
          r.json["limits"] == {"tokens": 200000, "seconds": 900}, repr(r))
    want = hashlib.sha256(open(os.path.join(os.environ.get("ASSAY_SOURCE_DIR", "."),
                                            "policies/default.yaml"), "rb").read()).hexdigest()
    check("an evaluator creates a campaign; the policy digest is frozen",
          r.status == 201 and r.json["policy_digest"] == want and r.json["state"] == "ready", repr(r))
    cid = r.json["id"]
    r = d.get("/campaigns/%d" % cid)
    check("the developer sees the campaign on its model", r.status == 200)
    r = e.post("/campaigns/%d/start" % cid)
    check("start queues the campaign", r.status == 200 and r.json["state"] == "queued", repr(r))
    for _ in range(600):
        c = e.get("/campaigns/%d" % cid).json
        if c["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    check("the worker runs the campaign with the engine", c["state"] == "done" and c["run_id"], c)
    check("progress: 1 of 1 episodes, solved", c.get("progress", {}).get("episodes_done") == 1 and
          c["progress"]["solved"] == 1 and c["progress"]["episodes_total"] == 1, c)
    r = e.get("/campaigns/%d/events" % cid)
    evs = {}
    for block in r.raw.split("\n\n"):
        lines = dict(l.split(": ", 1) for l in block.splitlines() if ": " in l)
        if "event" in lines:
            evs[lines["event"]] = json.loads(lines.get("data", "{}"))
    check("the event stream: text/event-stream with a retry, the progress and the end",
          header(r, "Content-Type").startswith("text/event-stream") and r.raw.startswith("retry: ")
          and "end" in evs and evs["progress"]["episodes_done"] == 1 and
          evs["progress"]["state"] == "done" and evs["progress"]["episodes_failed"] == 0 and
          "tokens" in evs["progress"] and "cost_usd" in evs["progress"], r.raw[:400])
    check("the campaign's progress carries the same figures",
          c["progress"]["episodes_running"] == 0 and "tokens" in c["progress"], c)
    r = e.post("/campaigns/%d/start" % cid)
    check("a finished campaign does not start again", r.status == 409)
    sealed_flow(s, a, d, e, ev, mid)
    kinds = [x["entry"]["kind"] for x in a.get("/audit?limit=500").json["items"]]
    check("campaign creation, approvals, start and end are audited",
          all(k in kinds for k in ("campaign.create", "campaign.approve", "campaign.start", "campaign.end")))
    return e, cid, mid, c_run(e, cid)


def cli(args, env=None, **kw):
    return subprocess.run([ASSAY] + args, capture_output=True, text=True,
                          env=env, **kw)


def seal_suite(s):
    """The example tasks sealed for custodians cust-a and cust-b (2 of 2)
    into the server's suites directory; their keys stay with them."""
    env = dict(s.env, ASSAY_PASSPHRASE="serve test custodian passphrase")
    keys = os.path.join(s.tmp, "custodians")
    suites = os.path.join(s.env["ASSAY_HOME"], "program-suites")
    os.makedirs(suites, exist_ok=True)
    for k in ("cust-a", "cust-b", "cust-x"):
        cli(["keys", "create", k, "--custodian", "--dir", keys], env)
    cli(["keys", "create", "sealer", "--dir", keys], env)
    src = os.path.join(os.environ.get("ASSAY_SOURCE_DIR", "."), "tests/data/tasks")
    r = cli(["suite", "seal", src, "-o", os.path.join(suites, "ex.assay"),
             "--custodian", os.path.join(keys, "cust-a.pub"), "--custodian",
             os.path.join(keys, "cust-b.pub"), "--threshold", "2", "--sign",
             os.path.join(keys, "sealer.key")], env)
    check("the example tasks are sealed for two custodians", r.returncode == 0, r.stderr)
    return env, keys, os.path.join(suites, "ex.assay")


def approve(env, keys, who, request, archive, tmp, tag=""):
    """What custodian `who` does offline: approve the request with their key."""
    req = os.path.join(tmp, "req-" + who + tag)
    out = os.path.join(tmp, "app-" + who + tag)
    with open(req, "w") as f:
        f.write(request)
    r = cli(["keys", "approve", req, "--archive", archive, "--key",
             os.path.join(keys, who + ".key"), "-o", out], env)
    return open(out).read() if r.returncode == 0 else "approve failed: " + r.stderr


def sealed_flow(s, a, d, e, ev, mid):
    """A campaign of a sealed suite: the service makes the unseal request,
    custodians approve it offline with their own keys and upload the
    approvals, the worker unseals in memory and runs it; then the request
    is erased. Need-to-know is per suite."""
    env, keys, archive = seal_suite(s)
    body = {"model_id": mid, "suite": "ex.assay"}
    r = e.post("/campaigns", body)
    check("a grant on the open suite is no need-to-know on a sealed one", r.status == 403, repr(r))
    r = a.post("/grants", {"user_id": ev["id"], "model_id": mid, "suite": "../ex", "scope": "run"})
    check("a grant names open, NAME.assay or *", r.status == 400 and
          r.json["error"]["field"] == "suite", repr(r))
    a.post("/grants", {"user_id": ev["id"], "model_id": mid, "suite": "ex.assay", "scope": "run"})
    for bad_suite, why in (("nosuch.assay", "no sealed suite"), ("../ex.assay", "NAME.assay"),
                           ("ex.assay/.assay", "NAME.assay")):
        r = e.post("/campaigns", dict(body, suite=bad_suite))
        check("sealed suite %r is refused: %s" % (bad_suite, why), r.status in (400, 403), repr(r))
    r = e.post("/campaigns", dict(body, tasks=["no-such-task"]))
    check("a task the archive lacks is refused, named", r.status == 400 and
          "no-such-task" in r.json["error"]["message"], repr(r))
    r = e.post("/campaigns", body)
    check("a sealed campaign waits for the archive's threshold of approvals", r.status == 201 and
          r.json["state"] == "pending_approval" and r.json["approvals_needed"] == 2, repr(r))
    sid = r.json["id"]
    r = e.post("/campaigns/%d/start" % sid)
    check("an unapproved sealed campaign does not start", r.status == 409, repr(r))
    cu = []
    for i in (1, 2):
        u = a.post("/users", {"login": "cust%d" % i, "name": "C", "org_id": 1, "roles": ["custodian"]}).json
        c = s.client()
        c.login("cust%d" % i, u["initial_password"])
        cu.append(c)
    r = cu[0].get("/campaigns/%d/unseal" % sid)
    check("a custodian reads the unseal request: suite digest, custodians, threshold",
          r.status == 200 and r.json["request"].startswith("assay unseal request v1\n") and
          r.json["custodians"] == ["cust-a", "cust-b"] and r.json["threshold"] == 2 and
          ("run campaign-%d\n" % sid) in r.json["request"] and "secret" not in r.json["request"] and
          r.json["secret_erased"] is False, repr(r))
    request = r.json["request"]
    r = cu[0].get("/campaigns/%d/unseal/request" % sid)
    check("the request downloads as the text assay keys approve reads",
          r.status == 200 and r.raw == request and header(r, "Content-Type").startswith("text/plain"), repr(r))
    r = d.get("/campaigns/%d/unseal" % sid)
    check("a developer never sees the unseal request", r.status in (403, 404), repr(r))
    apps = {w: approve(env, keys, w, request, archive, s.tmp) for w in ("cust-a", "cust-b", "cust-x")}
    check("custodians approve offline", all(v.startswith("assay unseal approval v1") for k, v in apps.items()
                                            if k != "cust-x"), repr(apps)[:300])
    r = e.post("/campaigns/%d/approve" % sid, {"approval": apps["cust-a"]})
    check("nobody approves their own request", r.status == 403, repr(r))
    for what, text in (("garbage", "hello"), ("empty", ""), ("huge", "x" * 20000),
                       ("altered", apps["cust-a"].replace("campaign-", "campaigx-")),
                       ("not a custodian of this archive", apps["cust-x"])):
        r = cu[0].post("/campaigns/%d/approve" % sid, {"approval": text})
        check("an approval that is %s is refused" % what, r.status == 400 and
              r.json["error"]["field"] == "approval", repr(r))
    r = cu[0].post("/campaigns/%d/approve" % sid)
    check("an approval is required to approve a sealed campaign", r.status == 400, repr(r))
    reason = [l[7:] for l in request.splitlines() if l.startswith("reason ")][0]
    other = cli(["suite", "request", archive, "--run", "campaign-%d" % sid, "--reason", reason,
                 "-o", os.path.join(s.tmp, "other-req")], env)
    oapp = approve(env, keys, "cust-a", open(os.path.join(s.tmp, "other-req")).read(), archive, s.tmp,
                   "-other") \
        if other.returncode == 0 else ""
    r = cu[0].post("/campaigns/%d/approve" % sid, {"approval": oapp})
    check("an approval of another request (same run and reason, another key) is refused",
          r.status == 400 and "request" in r.json["error"]["message"], repr(r))
    r = cu[0].post("/campaigns/%d/approve" % sid, {"approval": apps["cust-a"]})
    check("a custodian uploads their approval", r.status == 200 and r.json["approvals"] == 1 and
          r.json["state"] == "pending_approval", repr(r))
    r = cu[0].post("/campaigns/%d/approve" % sid, {"approval": apps["cust-b"]})
    check("one person gives one approval", r.status == 409, repr(r))
    r = cu[1].post("/campaigns/%d/approve" % sid, {"approval": apps["cust-a"]})
    check("one archive custodian counts once", r.status == 409 and "cust-a" in r.raw, repr(r))
    r = cu[1].post("/campaigns/%d/approve" % sid, {"approval": apps["cust-b"]})
    check("a second custodian's approval makes it ready", r.status == 200 and
          r.json["state"] == "ready" and r.json["approvals"] == 2, repr(r))
    r = e.post("/campaigns/%d/start" % sid)
    check("the approved sealed campaign starts", r.status == 200 and r.json["state"] == "queued", repr(r))
    for _ in range(900):
        c = e.get("/campaigns/%d" % sid).json
        if c["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    check("the worker unseals the archive and runs every task", c["state"] == "done" and
          c.get("progress", {}).get("episodes_total") == 3 and c["progress"]["solved"] == 3, c)
    r = e.get("/runs/%d/export/inspect.eval" % c["run_id"])
    m = eval_members(r.data)
    prompt = "A note in your home directory hides a flag"
    check("a sealed run exports without its task text", r.status == 200 and m and
          not any(prompt in v or "flag{files-only-example}" in v for v in m.values()), sorted(m)[:5])
    kinds = [(x["entry"]["kind"], x["entry"]["data"].get("format"))
             for x in a.get("/audit?limit=500").json["items"]]
    check("... and the audit says the text was withheld",
          ("run.export", "inspect, task text withheld") in kinds, kinds[-5:])
    r = cu[0].get("/campaigns/%d/unseal" % sid)
    check("the request's secret is erased once the run ended", r.status == 200 and
          r.json["secret_erased"] is True and len(r.json["approvals"]) == 2, repr(r))
    home = s.env["ASSAY_HOME"]
    left = [os.path.join(dp, f) for dp, _, fs in os.walk(home) for f in fs
            if f == "request.key" or f.startswith("approval-") or f == "campaign-%d.key" % sid]
    check("no request key, approval or campaign key is left on disk", not left, left)
    kinds = [x["entry"]["kind"] for x in a.get("/audit?limit=500").json["items"]]
    check("the unseal is audited", "unseal" in kinds, kinds[-20:])
    r = cu[0].post("/campaigns/%d/approve" % sid, {"approval": apps["cust-a"]})
    check("a finished sealed campaign takes no approval", r.status == 409, repr(r))
    died_during_run(s, a, e, cu[0], mid, body)


def died_during_run(s, a, e, cust, mid, sealed_body):
    """The service dies (kill -9) while its worker runs a campaign of the
    open suite and a sealed one: at its next start both end failed,
    audited, the sealed one's request is erased, and nothing of the
    workers' private files (credential, request key, approvals) is left."""
    sid = e.post("/campaigns", sealed_body).json["id"]
    oid = e.post("/campaigns", {"model_id": mid, "suite": "open", "tasks": ["rev-crackme-xor"],
                                "epochs": 20}).json["id"]
    runs = os.path.join(s.env["ASSAY_HOME"], "program-runs")
    e.post("/campaigns/%d/start" % oid)
    for _ in range(100):
        if e.get("/campaigns/%d" % oid).json["state"] == "running":
            break
        time.sleep(0.05)
    s.kill9()
    def runner():
        return subprocess.run(["pgrep", "-f", "run .*--store %s" % s.store],
                              capture_output=True, text=True).stdout.split()
    for _ in range(100):
        if not runner():
            break
        time.sleep(0.05)
    check("the campaign's assay run stops when the service dies", not runner(), runner())
    # the sealed campaign as if its worker had been running too
    d = os.path.join(runs, "campaign-%d.d" % sid)
    os.makedirs(d, exist_ok=True)
    for f in ("request.key", "approval-1"):
        with open(os.path.join(d, f), "w") as fh:
            fh.write("left by a worker\n")
    subprocess.run(["sqlite3", s.store, "UPDATE campaigns SET state='running' WHERE id=%d" % sid],
                   check=True)
    s.start()
    states = [e.get("/campaigns/%d" % c).json["state"] for c in (sid, oid)]
    check("after a crash, campaigns left running end failed at the next start", states == ["failed", "failed"],
          states)
    check("... and their workers' private directories are gone",
          not any(os.path.exists(os.path.join(runs, "campaign-%d.d" % c)) for c in (sid, oid)),
          os.listdir(runs))
    r = cust.get("/campaigns/%d/unseal" % sid)
    check("... the sealed one's request is erased, its key destroyed", r.status == 200 and
          r.json["secret_erased"] is True and not os.path.exists(
              os.path.join(s.env["ASSAY_HOME"], "program-keys", "campaign-%d.key" % sid)), repr(r))
    ends = [x["entry"]["data"].get("object") for x in a.get("/audit?limit=500").json["items"]
            if x["entry"]["kind"] == "campaign.end" and "stopped during its run" in
            str(x["entry"]["data"].get("result", ""))]
    check("... each audited", sorted(ends) == sorted([sid, oid]), ends)


def eval_members(data):
    """The members of an Inspect .eval log (a zip), as text."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        return {n: z.read(n).decode("utf-8", "replace") for n in z.namelist()}
    except (zipfile.BadZipFile, ValueError):
        return {}


def export_checks(a, e, d, run, task_text):
    """GET /runs/{id}/export/...: Inspect and jsonl exports for those with
    need-to-know, audited."""
    r = e.get("/runs/%d/export/inspect.eval" % run)
    m = eval_members(r.data)
    check("the run exports as an Inspect eval log (header and a sample)", r.status == 200 and
          header(r, "Content-Type") == "application/zip" and "header.json" in m and
          any(n.startswith("samples/") for n in m), repr(r)[:200])
    check("an open suite's export carries the task text",
          any(w in v for v in m.values() for w in task_text), sorted(m)[:5])
    r = e.get("/runs/%d/export/episodes.jsonl" % run)
    rows = [json.loads(l) for l in r.raw.splitlines() if l.strip()]
    check("and as jsonl, one attempt per line", r.status == 200 and len(rows) == 1 and
          rows[0].get("task") == "rev-crackme-xor" and rows[0].get("solved") is True, r.raw[:300])
    check("an unknown export is 404", e.get("/runs/%d/export/run.zip" % run).status == 404)
    for who, c in (("developer", d), ("an admin without a grant", a)):
        r = c.get("/runs/%d/export/inspect.eval" % run)
        check("%s cannot export the run" % who, r.status in (403, 404) and not r.data.startswith(b"PK"), repr(r))
    kinds = [(x["entry"]["kind"], x["entry"]["data"].get("format"))
             for x in a.get("/audit?limit=500").json["items"]]
    check("exports are audited with their format", ("run.export", "inspect") in kinds and
          ("run.export", "jsonl") in kinds, kinds[-10:])


def c_run(e, cid):
    return e.get("/campaigns/%d" % cid).json["run_id"]


def verify(args):
    r = subprocess.run([ASSAY, "verify"] + args, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def results_flow(s, a, d, lab, e, cid, mid, run):
    """Runs, episodes and transcripts; the determination signed and
    co-signed; the developer report prepared, released, downloaded and
    verified offline with the CLI; what each role must not see."""
    tmp = s.tmp
    r = e.get("/runs/%d" % run)
    check("the evaluator with need-to-know reads the run", r.status == 200 and
          r.json["run"]["id"] == run and r.json["run"]["campaign_id"] == cid and
          [t["id"] for t in r.json["tasks"]] == ["rev-crackme-xor"], repr(r))
    r = e.get("/runs/%d/episodes" % run)
    check("... its episodes", r.status == 200 and len(r.json["items"]) == 1 and
          r.json["items"][0]["outcome"] == "solved", repr(r))
    ep = r.json["items"][0]["id"]
    r = e.get("/runs/%d/episodes/%d" % (run, ep))
    check("... one episode", r.status == 200 and r.json["task_id"] == "rev-crackme-xor", repr(r))
    r = e.get("/runs/%d/episodes/%d/events?limit=500" % (run, ep))
    check("... its transcript, event by event", r.status == 200 and len(r.json["items"]) > 1 and
          all("seq" in x and "kind" in x for x in r.json["items"]), repr(r))
    words = set()
    for x in r.json["items"]:
        if x["kind"] == "model":
            continue
        for v in (x["data"] or {}).values() if isinstance(x["data"], dict) else []:
            if isinstance(v, str) and len(v) > 40:
                words.add(v[:40])
    task_text = sorted(words)
    check("the transcript holds the task's text (to look for elsewhere)", task_text, r.raw[:300])
    r = e.get("/runs/%d/episodes/%d/events" % (run + 1000, ep))
    check("a run of no campaign is not found", r.status == 404, repr(r))
    r = e.get("/runs/%d/episodes/%d" % (run, ep + 1000))
    check("an episode of another run is not found", r.status == 404, repr(r))
    r = e.get("/runs/%d/charts/categories.svg" % run)
    check("a chart of the run is SVG", r.status == 200 and "<svg" in r.raw[:200] and
          header(r, "Content-Type").startswith("image/svg+xml"), repr(r)[:200])
    r = e.get("/runs/%d/charts/nonsense.svg" % run)
    check("an unknown chart is 404", r.status == 404)
    export_checks(a, e, d, run, task_text)
    r = a.get("/runs/%d" % run)
    check("an admin without a grant does not see the run's content", r.status == 404, repr(r))
    for who, c in (("developer", d),):
        for p in ("/runs/%d" % run, "/runs/%d/episodes/%d/events" % (run, ep)):
            r = c.get(p)
            check("the %s never reads %s" % (who, p), r.status in (403, 404), repr(r))
    r = e.get("/policies/default")
    want = hashlib.sha256(open(os.path.join(os.environ.get("ASSAY_SOURCE_DIR", "."),
                                            "policies/default.yaml"), "rb").read()).hexdigest()
    check("GET /policies/NAME: the text and its digest", r.status == 200 and r.json["digest"] == want
          and "rules" in r.json["text"], repr(r)[:200])
    check("an unknown policy is 404", e.get("/policies/nope").status == 404)
    # the determination: the evaluator signs, an admin co-signs
    r = e.get("/campaigns/%d/determination" % cid)
    check("before signing: the determination under the frozen policy",
          r.status == 200 and r.json["state"] == "unsigned" and r.json["result"] and
          r.json["statement"]["predicate"]["policy"]["sha256"] == want, repr(r)[:300])
    verdict = r.json["result"]
    r = a.post("/campaigns/%d/determination/cosign" % cid)
    check("nothing to co-sign before the signature", r.status == 409, repr(r))
    r = e.post("/campaigns/%d/determination/sign" % cid)
    check("the evaluator signs", r.status == 200 and r.json["state"] == "signed" and
          r.json["signed_by"] == e.user["id"] and r.json["result"] == verdict, repr(r)[:300])
    r = e.post("/campaigns/%d/determination/sign" % cid)
    check("... once", r.status == 409, repr(r))
    r = e.get("/campaigns/%d/determination/download" % cid)
    check("not downloadable before the co-signature", r.status == 409, repr(r))
    # someone who is both evaluator and admin cannot co-sign their own
    both = a.post("/users", {"login": "evadm", "name": "EA", "org_id": 1, "roles": ["evaluator", "admin"]}).json
    ea = s.client()
    ea.login("evadm", both["initial_password"])
    a.post("/grants", {"user_id": both["id"], "model_id": mid, "suite": "open", "scope": "run"})
    r = ea.post("/campaigns", {"model_id": mid, "suite": "open", "tasks": ["rev-crackme-xor"]})
    own = r.json["id"]
    ea.post("/campaigns/%d/start" % own)
    for _ in range(600):
        if ea.get("/campaigns/%d" % own).json["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    r = ea.post("/campaigns/%d/determination/sign" % own)
    check("an evaluator-admin signs its campaign's determination", r.status == 200, repr(r)[:200])
    r = ea.post("/campaigns/%d/determination/cosign" % own)
    check("... and cannot co-sign it (403, audited)", r.status == 403 and r.code == "forbidden", repr(r))
    r = a.post("/campaigns/%d/determination/cosign" % cid)
    check("an admin co-signs", r.status == 200 and r.json["state"] == "cosigned" and
          r.json["cosigned_by"] == a.user["id"], repr(r)[:300])
    r = a.post("/campaigns/%d/determination/cosign" % cid)
    check("... once", r.status == 409, repr(r))
    r = e.get("/campaigns/%d/determination/download" % cid)
    check("the signed determination downloads", r.status == 200 and '"payloadType"' in r.raw, repr(r)[:200])
    det = os.path.join(tmp, "determination.json")
    open(det, "w").write(r.raw)
    keys = a.get("/keys").json["items"]
    check("GET /keys lists the signers' public keys", {e.user["id"], a.user["id"]} <=
          {k["user_id"] for k in keys} and all("secret" not in k["public"].lower() for k in keys), keys)
    pubs = {}
    for k in keys:
        r = d.get("/keys/%d" % k["id"])
        path = os.path.join(tmp, "key-%d.pub" % k["id"])
        open(path, "w").write(r.raw)
        pubs[k["user_id"]] = path
    check("a key downloads as a .pub file", r.status == 200 and header(r, "Content-Type").startswith("text/plain"))
    check("GET /keys/ID of no signer is 404", d.get("/keys/987654").status == 404)
    rc, out = verify([det, "--key", pubs[e.user["id"]], "--key", pubs[a.user["id"]]])
    check("assay verify accepts the determination (evaluator + admin)", rc == 0, out)
    rc, out = verify([det, "--key", pubs[e.user["id"]]])
    check("... and refuses it with the evaluator's key alone", rc != 0, out)
    # the developer report: a liaison prepares, an admin releases
    lu = a.post("/users", {"login": "liaison1", "name": "L", "org_id": 1, "roles": ["liaison"]}).json
    li = s.client()
    li.login("liaison1", lu["initial_password"])
    r = li.post("/campaigns/%d/reports" % cid, {"level": "secret"})
    check("a bad redaction level is refused", r.status == 400 and r.json["error"]["field"] == "level", repr(r))
    r = li.post("/campaigns/%d/reports" % cid, {"level": "category"})
    check("the liaison prepares a report", r.status == 201 and r.json["approved_by"] is None and
          r.json["transcripts_released"] is False, repr(r))
    rid = r.json["id"]
    check("the developer does not see an unreleased report",
          d.get("/reports").json["items"] == [] and d.get("/reports/%d/download" % rid).status == 404)
    r = li.get("/reports/%d/download" % rid)
    check("not downloadable before its release", r.status == 409, repr(r))
    r = a.post("/reports/%d/approve" % rid)
    check("an admin releases it", r.status == 200 and r.json["approved_by"] == a.user["id"], repr(r))
    r = a.post("/reports/%d/approve" % rid)
    check("... once", r.status == 409)
    r = d.get("/reports")
    check("the developer lists it", [x["id"] for x in r.json["items"]] == [rid], repr(r))
    r = d.get("/reports/%d/download" % rid)
    check("the developer downloads the signed report", r.status == 200, repr(r)[:200])
    rep = os.path.join(tmp, "report.json")
    open(rep, "w").write(r.raw)
    env = json.loads(r.raw)
    stmt = json.loads(base64.b64decode(env["payload"]))
    pred = stmt["predicate"]
    check("the report carries the determination and figures per category",
          pred["determination"]["verdict"] == verdict and pred["redaction"]["level"] == "category"
          and isinstance(pred.get("categories"), list) and pred["categories"], pred)
    text = json.dumps(stmt)
    check("... no task id, no transcript", "rev-crackme-xor" not in text and "transcripts" not in pred
          and not any(w in text for w in task_text), text[:300])
    for k in d.get("/keys").json["items"]:
        path = os.path.join(tmp, "key-%d.pub" % k["id"])
        open(path, "w").write(d.get("/keys/%d" % k["id"]).raw)
        pubs[k["user_id"]] = path
    rc, out = verify([rep, "--key", pubs[lu["id"]], "--key", pubs[a.user["id"]]])
    check("assay verify accepts the developer's download (liaison + admin)", rc == 0, out)
    bad_rep = os.path.join(tmp, "report-altered.json")
    env2 = dict(env, payload=base64.b64encode(base64.b64decode(env["payload"]).replace(
        verdict.encode(), b"x" * len(verdict))).decode())
    open(bad_rep, "w").write(json.dumps(env2))
    rc, out = verify([bad_rep, "--key", pubs[lu["id"]], "--key", pubs[a.user["id"]]])
    check("... and refuses an altered one", rc != 0, out)
    # the liaison never sees task text; a report with transcripts is explicit
    for p in ("/campaigns/%d" % cid, "/campaigns/%d/determination" % cid, "/reports/%d/download" % rid):
        r = li.get(p)
        check("the liaison's %s holds no task text" % p, r.status == 200 and
              not any(w in r.raw for w in task_text), r.raw[:200])
    r = li.get("/runs/%d/episodes/%d/events" % (run, ep))
    check("the liaison never reads a transcript", r.status == 403, repr(r))
    r = li.post("/campaigns/%d/reports" % cid, {"level": "tier", "release_transcripts": True})
    rid2 = r.json["id"]
    r = li.post("/reports/%d/approve" % rid2)
    check("the liaison cannot release its own report", r.status == 403)
    a.post("/reports/%d/approve" % rid2)
    r = d.get("/reports/%d/download" % rid2)
    pred = json.loads(base64.b64decode(json.loads(r.raw)["payload"]))["predicate"]
    check("a report released with transcripts carries them, per tier",
          pred["redaction"]["transcripts_released"] is True and len(pred["transcripts"]) == 1
          and isinstance(pred.get("tiers"), list), repr(pred)[:300])
    kinds = [x["entry"]["kind"] for x in a.get("/audit?limit=500").json["items"]]
    check("signing, co-signing, release and download are audited",
          all(k in kinds for k in ("determination.sign", "determination.cosign", "report.prepare",
                                   "report.release", "report.download", "transcript.read",
                                   "key.create")), kinds[-30:])


def rfc6962_verify(index, size, leaf, path, root):
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def auditor_views(s, a):
    u = a.post("/users", {"login": "aud", "name": "A", "org_id": 1, "roles": ["auditor"]}).json
    au = s.client()
    au.login("aud", u["initial_password"])
    r = au.get("/audit?limit=5")
    check("the auditor reads the audit log (metadata)", r.status == 200 and len(r.json["items"]) == 5)
    cp = au.get("/audit/checkpoint")
    check("the auditor reads the log's size and root", cp.status == 200 and cp.json["size"] > 10 and
          len(cp.json["root"]) == 64, repr(cp))
    size, root = cp.json["size"], bytes.fromhex(cp.json["root"])
    good = True
    for i in (0, size // 2, size - 1):
        pr = au.get("/audit/proof?index=%d&size=%d" % (i, size))
        good = good and pr.status == 200 and rfc6962_verify(
            i, size, bytes.fromhex(pr.json["leaf"]), [bytes.fromhex(h) for h in pr.json["path"]], root)
    check("inclusion proofs verify against the root (RFC 6962)", good)
    pr = au.get("/audit/proof?index=%d" % (size + 5))
    check("a proof beyond the log is 400", pr.status == 400)
    r = au.get("/exposure")
    check("the auditor reads the exposure ledger", r.status == 200 and isinstance(r.json["items"], list))
    r = au.get("/exposure?org_id=x")
    check("a bad org_id is 400", r.status == 400)
    r = au.post("/orgs", {"name": "no", "kind": "partner"})
    check("the auditor changes nothing", r.status == 403)


def proxy_header(plain):
    """The trusted reverse proxy's user header: off by default, honoured
    only on POST /login from the configured address."""
    hdr = {"X-Remote-User": "admin"}
    r = plain.client().request("POST", "/login", None, headers=hdr)
    check("without --trust-proxy-header the header logs nobody in", r.status == 400, repr(r))
    r = plain.client().request("GET", "/session", headers=hdr)
    check("... nor authenticates a request", r.status == 401, repr(r))
    rc = subprocess.run([ASSAY, "serve", "--trust-proxy-header", "X-Remote-User",
                         "--store", "/nonexistent/x.db"], capture_output=True, text=True)
    check("--trust-proxy-header needs --trust-proxy-from", rc.returncode == 2 and
          "go together" in rc.stderr, rc.stderr)
    s = Server(extra=["--trust-proxy-header", "X-Remote-User", "--trust-proxy-from", "127.0.0.1"])
    try:
        c = s.client()
        r = c.request("POST", "/login", None, headers=hdr)
        check("from the proxy's address, POST /login with the header starts a session",
              r.status == 200 and r.json["user"]["login"] == "admin" and c.cookie, repr(r))
        c.csrf = r.json["csrf_token"]
        check("... a session like any other (CSRF token, cookie)",
              c.get("/session").status == 200 and
              c.post("/orgs", {"name": "Via SSO", "kind": "developer"}).status == 201)
        r = s.client().request("POST", "/login", None, headers={"X-Remote-User": "nobody"})
        check("a user the service does not know is refused", r.status == 401 and
              r.code == "bad_credentials", repr(r))
        r = s.client().request("GET", "/orgs", headers=hdr)
        check("the header alone authenticates no other request", r.status == 401, repr(r))
        kinds = [x["entry"]["kind"] for x in c.get("/audit?limit=500").json["items"]]
        check("proxy logins are audited", "auth.proxy" in kinds and "auth.proxy.fail" in kinds)
    finally:
        s.stop()
    s = Server(extra=["--trust-proxy-header", "X-Remote-User", "--trust-proxy-from", "127.0.0.2"])
    try:
        r = s.client().request("POST", "/login", None, headers=hdr)
        check("from any other address the header is ignored", r.status == 400, repr(r))
    finally:
        s.stop()


def brute_force():
    s = Server()
    try:
        a = admin(s)
        r = a.post("/users", {"login": "victim", "name": "V", "org_id": 1, "roles": ["auditor"]})
        vpw = r.json["initial_password"]
        for i in range(5):
            r = s.client().login("victim", "wrong password %d" % i)
        r = s.client().login("victim", vpw)
        check("5 failures lock the account (429 locked)", r.status == 429 and r.code == "locked"
              and r.json["error"]["retry_after_s"] > 0, repr(r))
        for i in range(6):
            r = s.client().login("nobody%d" % i, "wrong password")
        r = s.client().login("admin", ADMIN_PW)
        check("10 failures from one address are rate limited (429)",
              r.status == 429 and r.code == "rate_limited", repr(r))
        kinds = [e["entry"]["kind"] for e in a.get("/audit?limit=500").json["items"]]
        check("failures, the lock and the limit are audited",
              "auth.fail" in kinds and "auth.lock" in kinds and "auth.ratelimit" in kinds, kinds)
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)


def static(s):
    c = s.client()
    r = c.request("GET", "/", prefix="")
    check("every reply carries a strict CSP", header(r, "Content-Security-Policy").startswith("default-src 'self'"))
    check("... X-Frame-Options DENY", header(r, "X-Frame-Options") == "DENY")
    for p in ("/../etc/passwd", "/.git/config", "/a/../../x", "/%2e%2e/x", "//etc/passwd"):
        r = c.request("GET", p, prefix="")
        check("no file outside web/: %s" % p, r.status == 404, repr(r))


def own_key(tmp, name):
    """A signing key made offline (never seen by the service): its .pub text."""
    kd = os.path.join(tmp, "own-keys")
    env = dict(os.environ, ASSAY_AUDIT_LOG=os.path.join(tmp, "own-audit"))
    subprocess.run([ASSAY, "keys", "create", name, "--dir", kd, "--plain", "-q"],
                   check=True, env=env, capture_output=True)
    return subprocess.run([ASSAY, "keys", "export", name, "--dir", kd], check=True, env=env,
                          capture_output=True, text=True).stdout


def offline(tmp, name, cosign, text):
    """`assay keys sign` (or cosign) with the key made by own_key: the envelope."""
    kd = os.path.join(tmp, "own-keys")
    env = dict(os.environ, ASSAY_AUDIT_LOG=os.path.join(tmp, "own-audit"))
    src = tempfile.mktemp(prefix="to-sign-", suffix=".json", dir=tmp)
    open(src, "w").write(text)
    key = os.path.join(kd, name + ".key")
    if cosign:
        args = [ASSAY, "keys", "cosign", "--key", key, src, "-q"]
        out = src
    else:
        out = tempfile.mktemp(prefix="signed-", suffix=".json", dir=tmp)
        args = [ASSAY, "keys", "sign", "--key", key, "-o", out, src, "-q"]
    r = subprocess.run(args, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("offline signing: " + r.stderr)
    return open(out).read()


def own_keys_flow(s, a, d, mid):
    """People who keep their own signing keys: registered once, asked to
    sign offline (409 sign_offline with the exact bytes), and only a
    signature by that key over exactly those bytes is taken; the result
    verifies offline with the keys GET /keys publishes."""
    tmp = s.tmp
    mk = {}
    for login, roles in (("ownev", ["evaluator"]), ("ownadm", ["admin"]), ("ownli", ["liaison"])):
        u = a.post("/users", {"login": login, "name": login, "org_id": 1, "roles": roles}).json
        c = s.client()
        c.login(login, u["initial_password"])
        mk[login] = (c, u)
    ev, adm, li = mk["ownev"][0], mk["ownadm"][0], mk["ownli"][0]
    pub = {n: own_key(tmp, n) for n in ("ownev", "ownadm", "ownli", "spare")}
    r = ev.post("/keys", {"public": "not a key"})
    check("POST /keys refuses what is not a public key", r.status == 400 and r.json["error"]["field"] == "public", repr(r))
    r = ev.post("/keys", {"public": pub["ownev"]})
    check("an evaluator registers their own key", r.status == 201 and r.json["held"] == "person", repr(r))
    r = ev.post("/keys", {"public": pub["spare"]})
    check("... once (a key is never replaced)", r.status == 409, repr(r))
    r = adm.post("/keys", {"public": pub["ownev"]})
    check("another person's key is refused", r.status == 409 and r.json["error"].get("field") == "public", repr(r))
    r = a.post("/keys", {"public": pub["spare"]})
    check("a person whose key the service holds cannot register another", r.status == 409, repr(r))
    check("the developer registers no key", d.post("/keys", {"public": pub["spare"]}).status in (403, 404))
    for n in ("ownadm", "ownli"):
        r = mk[n][0].post("/keys", {"public": pub[n]})
        check("%s registers their own key" % n, r.status == 201, repr(r))
    a.post("/grants", {"user_id": mk["ownev"][1]["id"], "model_id": mid, "suite": "open", "scope": "run"})
    cid = ev.post("/campaigns", {"model_id": mid, "suite": "open", "tasks": ["rev-crackme-xor"]}).json["id"]
    ev.post("/campaigns/%d/start" % cid)
    for _ in range(600):
        if ev.get("/campaigns/%d" % cid).json["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    sign = "/campaigns/%d/determination/sign" % cid
    r = ev.post(sign)
    check("a person with their own key is asked to sign offline (409 sign_offline)",
          r.status == 409 and r.code == "sign_offline" and "statement" in r.json["error"], repr(r)[:300])
    stmt = r.json["error"]["statement"]
    check("... a statement naming their registered key",
          json.loads(stmt)["predicate"]["signatures"]["keys"][0]["name"] == "ownev", stmt[:300])
    other = stmt.replace('"campaign":%d' % cid, '"campaign":%d' % (cid ^ 1))  # same length
    check("(the other bytes differ from the statement)", other != stmt and len(other) == len(stmt))
    for why, env in (("garbage", "{"),
                     ("a signature over other bytes", offline(tmp, "ownev", False, other)),
                     ("another key's signature", offline(tmp, "spare", False, stmt)),
                     ("two signatures", offline(tmp, "spare", True, offline(tmp, "ownev", False, stmt)))):
        r = ev.post(sign, {"envelope": env})
        check("refused: %s (400 envelope)" % why, r.status == 400 and r.json["error"].get("field") == "envelope", repr(r)[:300])
    r = ev.post(sign, {"envelope": offline(tmp, "ownev", False, stmt)})
    check("the statement signed offline is taken", r.status == 200 and r.json["state"] == "signed", repr(r)[:300])
    r = a.post("/campaigns/%d/determination/cosign" % cid, {"envelope": "{}"})
    check("a person whose key the service holds sends no envelope", r.status == 400, repr(r)[:200])
    co = "/campaigns/%d/determination/cosign" % cid
    r = adm.post(co)
    check("the co-signer is asked too, with the signed envelope",
          r.status == 409 and r.code == "sign_offline" and "envelope" in r.json["error"], repr(r)[:300])
    signed = r.json["error"]["envelope"]
    forged = json.loads(signed)
    forged["signatures"][0]["sig"] = base64.b64encode(b"\0" * 64).decode()
    for why, env in (("an altered first signature", offline(tmp, "ownadm", True, json.dumps(forged))),
                     ("another key's co-signature", offline(tmp, "spare", True, signed))):
        r = adm.post(co, {"envelope": env})
        check("refused: %s" % why, r.status == 400, repr(r)[:300])
    r = adm.post(co, {"envelope": offline(tmp, "ownadm", True, signed)})
    check("the co-signature made offline is taken", r.status == 200 and r.json["state"] == "cosigned", repr(r)[:300])
    det = os.path.join(tmp, "own-det.json")
    open(det, "w").write(ev.get("/campaigns/%d/determination/download" % cid).raw)
    keys = {k["user_id"]: k for k in a.get("/keys").json["items"]}
    paths = {}
    for n in ("ownev", "ownadm", "ownli"):
        uid = mk[n][1]["id"]
        paths[n] = os.path.join(tmp, "own-%s.pub" % n)
        open(paths[n], "w").write(d.get("/keys/%d" % uid).raw)
        check("GET /keys lists %s's key as their own" % n, keys[uid]["held"] == "person", keys.get(uid))
    rc, out = verify([det, "--key", paths["ownev"], "--key", paths["ownadm"]])
    check("assay verify accepts the determination signed with the people's own keys", rc == 0, out)
    # the developer report: the liaison and the admin sign offline too
    r = li.post("/campaigns/%d/reports" % cid, {"level": "tier"})
    check("the liaison is asked to sign the report offline", r.status == 409 and r.code == "sign_offline", repr(r)[:200])
    rs = r.json["error"]["statement"]
    r = li.post("/campaigns/%d/reports" % cid, {"level": "category", "envelope": offline(tmp, "ownli", False, rs)})
    check("... a signature over another redaction level is refused", r.status == 400, repr(r)[:200])
    r = li.post("/campaigns/%d/reports" % cid, {"level": "tier", "envelope": offline(tmp, "ownli", False, rs)})
    check("... the report signed offline is prepared", r.status == 201, repr(r)[:200])
    rid = r.json["id"]
    r = adm.post("/reports/%d/approve" % rid)
    check("the release asks for the admin's offline co-signature", r.status == 409 and r.code == "sign_offline", repr(r)[:200])
    r = adm.post("/reports/%d/approve" % rid, {"envelope": offline(tmp, "ownadm", True, r.json["error"]["envelope"])})
    check("... and takes it", r.status == 200 and r.json["approved_by"] == mk["ownadm"][1]["id"], repr(r)[:200])
    rep = os.path.join(tmp, "own-report.json")
    open(rep, "w").write(a.get("/reports/%d/download" % rid).raw)
    rc, out = verify([rep, "--key", paths["ownli"], "--key", paths["ownadm"]])
    check("assay verify accepts the report signed with the people's own keys", rc == 0, out)
    kinds = [x["entry"]["kind"] for x in a.get("/audit?limit=500").json["items"]]
    check("registrations are audited", kinds.count("key.register") == 3, kinds[-20:])
    check("the service holds no secret of theirs", not any(
        os.path.exists(os.path.join(s.tmp, "home", "program-keys", "signer-%d.key" % mk[n][1]["id"]))
        for n in mk))


def main():
    s = Server()
    try:
        a = sessions(s)
        d, lab = people(s, a)
        hostile(s, a, lab)
        tokens(s, a)
        models_flow(s, a, d, lab)
        e, cid, mid, run = campaign_flow(s, a, d, lab)
        results_flow(s, a, d, lab, e, cid, mid, run)
        own_keys_flow(s, a, d, mid)
        auditor_views(s, a)
        static(s)
        totp_flow(s)
        proxy_header(s)
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)
    brute_force()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
