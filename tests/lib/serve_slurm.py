#!/usr/bin/env python3
"""A program campaign run as a Slurm job array (run by
tests/integration/slurm.sh with SLURM_CONF set): `assay serve --executor
slurm --workers 2` starts the campaign's run with --executor slurm, its
workers journal the episodes, the campaign ends done, and the workers'
output is kept in the campaign's private directory."""
import glob
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program import Server, admin, check, finish  # noqa: E402


def main():
    s = Server(extra=["--executor", "slurm", "--workers", "2"])
    try:
        a = admin(s)
        lab = a.post("/orgs", {"name": "Lab", "kind": "developer"}).json["id"]
        u = a.post("/users", {"login": "dev", "name": "D", "org_id": lab,
                              "roles": ["developer"]}).json
        d = s.client()
        d.login("dev", u["initial_password"])
        e = a.post("/users", {"login": "ev", "name": "E", "org_id": 1,
                              "roles": ["evaluator"]}).json
        ev = s.client()
        ev.login("ev", e["initial_password"])
        mid = d.post("/models", {"name": "oracle", "version": "1", "release_date": "2099-01-01",
                                 "access": "weights",
                                 "endpoint": {"provider": "baseline", "model": "oracle"}}).json["id"]
        now = int(time.time() * 1000)
        a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": now + 86400000})
        a.post("/grants", {"user_id": e["id"], "model_id": mid, "suite": "open", "scope": "run"})
        cid = ev.post("/campaigns", {"model_id": mid, "suite": "open",
                                     "tasks": ["rev-crackme-xor", "crypto-rsa-cube"],
                                     "epochs": 2}).json["id"]
        r = ev.post("/campaigns/%d/start" % cid)
        check("a campaign starts on a Slurm-backed service", r.status == 200, repr(r))
        state = None
        for _ in range(600):
            state = ev.get("/campaigns/%d" % cid).json.get("state")
            if state not in ("queued", "running"):
                break
            time.sleep(0.2)
        check("the campaign ends done", state == "done", state)
        db = sqlite3.connect(s.store)
        ex = db.execute("SELECT executor, status FROM runs").fetchall()
        check("its run went to Slurm", ex == [("slurm", "done")], ex)
        names = sorted(n for (n,) in db.execute(
            "SELECT DISTINCT w.name FROM episodes e JOIN workers w ON w.id = e.worker"))
        check("the job array's workers ran its episodes", names and
              all(n.startswith("slurm-") for n in names), names)
        n = db.execute("SELECT count(*) FROM episodes WHERE status = 'done'").fetchone()[0]
        check("every (task, epoch) scored once", n == 4, n)
        outs = glob.glob(os.path.join(s.tmp, "home", "program-runs", "campaign-%d.d" % cid,
                                      "slurm-assay-*.out"))
        check("the workers' output is in the campaign's private directory", len(outs) == 2,
              outs)
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
