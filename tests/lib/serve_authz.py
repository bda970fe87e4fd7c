#!/usr/bin/env python3
"""The authorization matrix of `assay serve`, generated from one table:
every endpoint of the route table x every principal (the six roles, a
developer of another organisation, nobody) x the owner of the object in
the path (organisation A, organisation B, an id that does not exist).

The expected outcome comes from ACCESS below, written from docs/API.md
and governance.md §4, not from the server's code:
  ok      the request passes authorization (2xx, or a 400/409 on the empty body)
  deny    403 forbidden (the role may not do this)
  hidden  404 not_found (the object is not visible, exactly like a missing one)
  anon    401 unauthenticated
  planned 501 not_implemented
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program import ASSAY, Server, admin, check, finish  # noqa: E402

ROLES = ["admin", "evaluator", "liaison", "auditor", "custodian", "developer"]
AGENCY = set(ROLES) - {"developer"}
ANY = set(ROLES)

# (method, path, roles allowed, object kind or None, planned)
# object kinds decide visibility: see visible() below.
ACCESS = [
    ("POST", "/logout", ANY, None),
    ("GET", "/session", ANY, None),
    ("POST", "/me/password", ANY, None),
    ("POST", "/me/totp", ANY, None),
    ("POST", "/me/totp/confirm", ANY, None),
    ("GET", "/tokens", ANY, None),
    ("POST", "/tokens", ANY, None),
    ("DELETE", "/tokens/{id}", ANY, "token"),
    ("GET", "/terms", ANY, None),
    ("POST", "/terms", {"admin"}, None),
    ("POST", "/terms/accept", {"developer"}, None),
    ("GET", "/orgs", ANY, None),
    ("POST", "/orgs", {"admin"}, None),
    ("GET", "/orgs/{id}", ANY, "org"),
    ("GET", "/users", ANY, None),
    ("POST", "/users", {"admin"}, None),
    ("GET", "/users/{id}", ANY, "user"),
    ("POST", "/users/{id}/disable", {"admin"}, "user"),
    ("GET", "/models", {"admin", "evaluator", "liaison", "auditor", "developer"}, None),
    ("POST", "/models", {"developer", "liaison"}, None),
    ("GET", "/models/{id}", {"admin", "evaluator", "liaison", "auditor", "developer"}, "model"),
    ("POST", "/models/{id}/credential", {"developer", "liaison"}, "model"),
    ("GET", "/models/{id}/partners", {"admin", "liaison", "developer"}, "model"),
    ("POST", "/models/{id}/partners", {"admin", "developer"}, "model"),
    ("GET", "/windows", {"admin", "evaluator", "liaison", "auditor", "developer"}, None),
    ("POST", "/windows", {"admin"}, None),
    ("POST", "/windows/{id}/close", {"admin"}, "window"),
    ("GET", "/grants", {"admin", "auditor", "evaluator"}, None),
    ("POST", "/grants", {"admin"}, None),
    ("DELETE", "/grants/{id}", {"admin"}, "grant"),
    ("GET", "/campaigns", ANY, None),
    ("POST", "/campaigns", {"evaluator", "developer"}, None),
    ("GET", "/campaigns/{id}", ANY, "campaign"),
    ("POST", "/campaigns/{id}/approve", {"custodian"}, "campaign"),
    ("GET", "/campaigns/{id}/unseal", {"evaluator", "admin", "custodian"}, "campaign"),
    ("GET", "/campaigns/{id}/unseal/request", {"evaluator", "admin", "custodian"}, "campaign"),
    ("POST", "/campaigns/{id}/start", {"evaluator"}, "campaign"),
    ("GET", "/campaigns/{id}/events", {"evaluator", "admin", "auditor", "developer"}, "campaign"),
    ("GET", "/campaigns/{id}/determination", {"evaluator", "admin", "auditor", "liaison"}, "campaign"),
    ("POST", "/campaigns/{id}/determination/sign", {"evaluator"}, "campaign"),
    ("POST", "/campaigns/{id}/determination/cosign", {"admin"}, "campaign"),
    ("GET", "/campaigns/{id}/determination/download", {"evaluator", "admin"}, "campaign"),
    ("GET", "/reports", {"admin", "liaison", "auditor", "developer"}, None),
    ("POST", "/campaigns/{id}/reports", {"liaison"}, "campaign"),
    ("POST", "/reports/{id}/approve", {"admin"}, "report"),
    ("GET", "/reports/{id}/download", {"admin", "liaison", "developer"}, "report"),
    ("GET", "/keys", ANY, None),
    ("GET", "/keys/{id}", ANY, "key"),
    ("POST", "/keys", {"evaluator", "admin", "liaison"}, None),
    ("GET", "/policies/{name}", AGENCY, None),
    # a run's content: only with need-to-know (the evaluator holds grants
    # on both organisations' models; admin2 holds none)
    ("GET", "/runs/{id}", {"evaluator", "admin"}, "run"),
    ("GET", "/runs/{id}/episodes", {"evaluator", "admin"}, "run"),
    ("GET", "/runs/{id}/episodes/{id}", {"evaluator", "admin"}, "episode"),
    ("GET", "/runs/{id}/episodes/{id}/events", {"evaluator", "admin"}, "episode"),
    ("GET", "/runs/{id}/charts/{name}", {"evaluator", "admin"}, "run"),
    ("GET", "/runs/{id}/export/{name}", {"evaluator", "admin"}, "run"),
    ("GET", "/audit", ANY, None),
    ("GET", "/audit/checkpoint", {"auditor", "admin"}, None),
    ("GET", "/audit/proof", {"auditor", "admin"}, None),
    ("GET", "/exposure", {"auditor", "admin"}, None),
]
PUBLIC = [("POST", "/login")]


def visible(kind, role, owner, who):
    """Whether principal (role; who = 'A' or 'B' for developers, None for
    agency staff) may see an object of kind owned by owner ('A', 'B' or
    'missing')."""
    if owner == "missing":
        return False
    if kind in ("run", "episode"):      # need-to-know on the content
        return role == "evaluator"
    if kind == "key":                   # public keys: everyone
        return True
    if kind == "token":                 # only one's own token
        return role == "developer" and who == owner
    if kind == "user":                  # admins and auditors see everyone
        if role in ("admin", "auditor"):
            return True
        return role == "developer" and who == owner
    if role == "developer":             # developers: own organisation only
        return who == owner
    return True                         # agency staff: metadata of all


def expected(route, role, who, owner, planned):
    method, path, roles, kind = route
    if role is None:
        return "anon"
    if role not in roles:
        return "deny"
    if planned:
        return "planned"
    if kind and not visible(kind, role, owner, who):
        return "hidden"
    return "ok"


def outcome(r):
    if r.status == 401:
        return "anon"
    if r.status == 403 and r.code == "forbidden":
        return "deny"
    if r.status == 404 and r.code == "not_found":
        return "hidden"
    if r.status == 501:
        return "planned"
    if r.status in (200, 201, 400, 409):
        return "ok"
    return "status %d %s" % (r.status, r.code)


def token_client(s, a, login, pw):
    c = s.client()
    r = c.login(login.lower(), pw)
    assert r.status == 200, r
    c.post("/terms/accept", {"version": 1})
    t = c.post("/tokens", {"name": "matrix", "scope": "write", "days": 1}).json
    tc = s.client()
    tc.token = t["token"]
    return tc, t["id"], c


def main():
    s = Server()
    try:
        a = admin(s)
        orgs = {k: a.post("/orgs", {"name": "Org " + k, "kind": "developer"}).json["id"] for k in "AB"}
        pw = {}
        users = {}

        def add(login, org, roles):
            r = a.post("/users", {"login": login.lower(), "name": login, "org_id": org, "roles": roles}).json
            assert "initial_password" in r, r
            pw[login] = r["initial_password"]
            users[login] = r["id"]

        for role in AGENCY - {"admin"}:
            add(role, 1, [role])
        add("admin2", 1, ["admin"])
        add("devA", orgs["A"], ["developer"])
        add("devB", orgs["B"], ["developer"])
        add("victimA", orgs["A"], ["developer"])
        add("victimB", orgs["B"], ["developer"])
        a.post("/terms", {"text": "terms"})
        principals = {}
        tokens = {}
        for login, role, who in [("admin2", "admin", None), ("evaluator", "evaluator", None),
                                 ("liaison", "liaison", None), ("auditor", "auditor", None),
                                 ("custodian", "custodian", None), ("devA", "developer", "A"),
                                 ("devB", "developer", "B")]:
            tc, tid, sc = token_client(s, a, login, pw[login])
            if role == "developer":  # a token of its own to revoke
                tokens[who] = sc.post("/tokens", {"name": "victim", "scope": "read",
                                                  "days": 1}).json["id"]
            principals[login] = (role, who, tc)
        anon = s.client()
        # objects of each organisation
        objs = {"org": {}, "user": {}, "model": {}, "window": {}, "grant": {}, "token": dict(tokens),
                "campaign": {}, "report": {}, "run": {}, "episode": {}, "key": {}}
        now = int(time.time() * 1000)
        for k in "AB":
            objs["org"][k] = orgs[k]
            objs["user"][k] = users["victim" + k]
            dev = principals["dev" + k][2]
            m = dev.post("/models", {"name": "m" + k, "version": "1", "release_date": "2099-01-01",
                                     "access": "api", "credential": "secret-" + k}).json
            objs["model"][k] = m["id"]
            # a window to close (the matrix closes it) on a model of its own
            m2 = dev.post("/models", {"name": "v" + k, "version": "1", "release_date": "2099-01-01",
                                      "access": "api"}).json
            w = a.post("/windows", {"model_id": m2["id"], "start_ms": now, "end_ms": now + 86400000}).json
            objs["window"][k] = w["id"]
            a.post("/windows", {"model_id": m["id"], "start_ms": now, "end_ms": now + 86400000})
            a.post("/grants", {"user_id": users["evaluator"], "model_id": m["id"],
                               "suite": "open", "scope": "run"})
            g = a.post("/grants", {"user_id": users["liaison"], "model_id": m["id"],
                                   "suite": "open", "scope": "read"}).json  # to revoke
            objs["grant"][k] = g["id"]
            ev = principals["evaluator"][2]
            objs["campaign"][k] = ev.post("/campaigns", {"model_id": m["id"], "suite": "open"}).json["id"]
            # a finished campaign: its run and episode, a signed and
            # co-signed determination, a released report
            ev = principals["evaluator"][2]
            mb = dev.post("/models", {"name": "b" + k, "version": "1", "release_date": "2099-01-01",
                                      "access": "weights",
                                      "endpoint": {"provider": "baseline", "model": "oracle"}}).json
            a.post("/windows", {"model_id": mb["id"], "start_ms": now, "end_ms": now + 86400000})
            a.post("/grants", {"user_id": users["evaluator"], "model_id": mb["id"],
                               "suite": "open", "scope": "run"})
            fc = ev.post("/campaigns", {"model_id": mb["id"], "suite": "open",
                                        "tasks": ["rev-crackme-xor"]}).json["id"]
            ev.post("/campaigns/%d/start" % fc)
            for _ in range(900):
                c = ev.get("/campaigns/%d" % fc).json
                if c["state"] in ("done", "failed"):
                    break
                time.sleep(0.1)
            assert c["state"] == "done", c
            objs["run"][k] = c["run_id"]
            ep = ev.get("/runs/%d/episodes" % c["run_id"]).json["items"][0]["id"]
            objs["episode"][k] = (c["run_id"], ep)
            assert ev.post("/campaigns/%d/determination/sign" % fc).status == 200
            assert a.post("/campaigns/%d/determination/cosign" % fc).status == 200
            rep = principals["liaison"][2].post("/campaigns/%d/reports" % fc, {"level": "tier"}).json
            assert a.post("/reports/%d/approve" % rep["id"]).status == 200
            objs["report"][k] = rep["id"]
        objs["key"] = {"A": users["evaluator"], "B": a.user["id"]}
        missing = 987654
        lines = subprocess.run([ASSAY, "serve", "--routes"], capture_output=True,
                               text=True).stdout.splitlines()
        live = {l.split()[1][len("/api/v1"):]: l.split()[2] for l in lines}
        served = {(l.split()[0], l.split()[1][len("/api/v1"):]) for l in lines}
        listed = {(m, p) for m, p, _, _ in ACCESS} | set(PUBLIC)
        check("the table names every route (method and path) of the server", served == listed,
              "only in the server: %s; only in the table: %s" % (served - listed, listed - served))
        cases = n_ok = 0
        wrong = []
        plist = list(principals.values()) + [(None, None, anon)]
        for route in ACCESS:
            method, path, roles, kind = route
            planned = live.get(path) == "planned"
            owners = ["A", "B", "missing"] if kind else [None]
            for role, who, c in plist:
                for owner in owners:
                    p = path.replace("{name}", "categories.svg" if "/charts/" in path
                                     else "episodes.jsonl" if "/export/" in path
                                     else "default")
                    if kind:
                        oid = missing if owner == "missing" else objs[kind][owner]
                        for one in (oid if isinstance(oid, tuple) else (oid, oid)):
                            p = p.replace("{id}", str(one), 1)
                    body = {} if method in ("POST", "PUT", "PATCH") else None
                    r = c.request(method, p, body)
                    want = expected(route, role, who, owner, planned)
                    got = outcome(r)
                    cases += 1
                    if got == want:
                        n_ok += 1
                    else:
                        wrong.append("%s %s as %s%s (object of %s): want %s, got %s %s" % (
                            method, p, role, "/" + who if who else "", owner, want, got, r.raw[:120]))
        check("authorization matrix: %d cases (endpoint x principal x owner)" % cases,
              not wrong and cases >= 300, "\n  ".join(wrong[:40]) + ("\n  ... %d more" % (len(wrong) - 40) if len(wrong) > 40 else ""))
        # every denial is in the audit log
        r = a.get("/audit?limit=500&from=0")
        deny = 0
        frm = 0
        while True:
            r = a.get("/audit?limit=500&from=%d" % frm)
            deny += sum(1 for e in r.json["items"] if e["entry"]["kind"] == "authz.deny")
            if r.json["next"] is None:
                break
            frm = r.json["next"]
        check("denials are audited (%d entries)" % deny, deny > 100)
        # the credential is never in any reply of the matrix' principals
        leaks = []
        for role, who, c in plist:
            for p in ("/models", "/models/%d" % objs["model"]["A"], "/audit?limit=500", "/windows"):
                r = c.get(p)
                if "secret-A" in r.raw or "secret-B" in r.raw:
                    leaks.append("%s as %s: %s" % (p, role, r.raw[:200]))
        check("no reply holds a credential", not leaks, leaks)
    finally:
        check("the server stops cleanly", s.stop() == 0)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
