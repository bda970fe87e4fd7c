#!/usr/bin/env python3
"""`make program-demo`: bring up the early-access program with seed data
and leave it serving on http://127.0.0.1:8740/ until Ctrl-C.

Seeds (all over the API, as a program office would): the admin, a
developer organisation with a developer, a trusted-partner organisation,
an evaluator, two custodians and an auditor; program terms v1 accepted by
the developer; a model (baseline/oracle standing in for the lab's
endpoint) with an access window and a need-to-know grant; and a campaign
on the open suite, run to the end by the server's worker. The logins and
passwords are printed once. Everything lives in a fresh directory
(printed), removed at exit unless --keep.

  tools/program-demo.py [BUILD_DIR] [--listen ADDR] [--keep]
"""
import os
import shutil
import signal
import sys
import tempfile
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
args = [a for a in sys.argv[1:] if not a.startswith("--")]
build = args[0] if args else os.path.join(top, "build")
os.environ.setdefault("ASSAY", os.path.join(build, "assay"))
os.environ.setdefault("ASSAY_SOURCE_DIR", top)
import program  # noqa: E402

listen = "127.0.0.1:8740"
if "--listen" in sys.argv:
    listen = sys.argv[sys.argv.index("--listen") + 1]
keep = "--keep" in sys.argv


def must(r, what):
    if r.status not in (200, 201):
        sys.exit("program-demo: %s failed: %r" % (what, r))
    return r.json


def main():
    tmp = tempfile.mkdtemp(prefix="assay-program-")
    s = program.Server(tmp=tmp, listen=listen)
    people = [("admin", program.ADMIN_PW, "admin")]
    try:
        a = program.admin(s)
        now = int(time.time() * 1000)
        must(a.post("/terms", {"text": "Early-access terms v1: confidentiality of the "
                               "model and of the benchmark; deletion at window end."}), "terms")
        lab = must(a.post("/orgs", {"name": "Frontier Lab", "kind": "developer"}), "org")["id"]
        partner = must(a.post("/orgs", {"name": "Trusted Institute", "kind": "partner"}), "partner")["id"]

        def person(login, org, roles):
            u = must(a.post("/users", {"login": login, "name": login.title(), "org_id": org,
                                       "roles": roles}), "user " + login)
            people.append((login, u["initial_password"], ",".join(roles)))
            c = s.client()
            must(c.login(login, u["initial_password"]), "login " + login)
            return u, c

        _, dev = person("dev", lab, ["developer"])
        must(dev.post("/terms/accept", {"version": 1}), "accept terms")
        person("partner", partner, ["developer"])
        ev, evc = person("evaluator", 1, ["evaluator"])
        person("custodian1", 1, ["custodian"])
        person("custodian2", 1, ["custodian"])
        person("auditor", 1, ["auditor"])
        m = must(dev.post("/models", {
            "name": "frontier-preview", "version": "0.9", "release_date": "2099-12-31",
            "access": "weights", "card": {"summary": "stand-in: the oracle baseline"},
            "endpoint": {"provider": "baseline", "model": "oracle"}}), "model")
        must(a.post("/windows", {"model_id": m["id"], "start_ms": now,
                                 "end_ms": now + 29 * 86400000}), "window")
        must(a.post("/models/%d/partners" % m["id"], {"org_id": partner}), "partner (admin)")
        must(dev.post("/models/%d/partners" % m["id"], {"org_id": partner}), "partner (developer)")
        must(a.post("/grants", {"user_id": ev["id"], "model_id": m["id"], "suite": "open",
                                "scope": "run"}), "grant")
        c = must(evc.post("/campaigns", {"model_id": m["id"], "suite": "open", "epochs": 1}),
                 "campaign")
        must(evc.post("/campaigns/%d/start" % c["id"]), "start")
        print("program-demo: campaign %d running on the open suite ..." % c["id"], flush=True)
        while True:
            st = evc.get("/campaigns/%d" % c["id"]).json
            if st["state"] in ("done", "failed"):
                break
            time.sleep(1)
        p = st.get("progress", {})
        print("program-demo: campaign %d %s: %s of %s episodes, %s solved (run %s)" % (
            c["id"], st["state"], p.get("episodes_done"), p.get("episodes_total"),
            p.get("solved"), st.get("run_id")))
        if st["state"] == "done":
            # the end of the program's flow: signed, co-signed, released
            must(evc.post("/campaigns/%d/determination/sign" % c["id"]), "sign")
            must(a.post("/campaigns/%d/determination/cosign" % c["id"]), "co-sign")
            _, li = person("liaison", 1, ["liaison"])
            rep = must(li.post("/campaigns/%d/reports" % c["id"], {"level": "category"}), "report")
            must(a.post("/reports/%d/approve" % rep["id"]), "release")
            print("program-demo: the determination is signed and co-signed; report %d "
                  "is released to the developer" % rep["id"])
        print("\nThe program is at http://%s:%d/ (API: /api/v1, docs/API.md)" % (s.host, s.port))
        print("Store and audit log: %s\n" % tmp)
        for login, pw, roles in people:
            print("  %-11s %-34s %s" % (login, pw, roles))
        print("\nCtrl-C stops it.", flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        s.stop(keep=True)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
