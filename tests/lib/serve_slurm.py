#!/usr/bin/env python3
"""A program campaign run as a Slurm job array (run by
tests/integration/slurm.sh with SLURM_CONF set): `assay serve --executor
slurm --workers 2` starts the campaign's run with --executor slurm, its
workers journal the episodes, the campaign ends done, and the workers'
output is kept in the campaign's private directory. With the nodes'
worker key (--worker-key, --worker-key-file) a sealed campaign goes to
the job array too, and its workers unwrap the task keys with that key."""
import glob
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program import ASSAY, Server, admin, check, finish  # noqa: E402
from serve_api import approve, seal_suite  # noqa: E402


def wait_campaign(ev, cid):
    c = {}
    for _ in range(600):
        c = ev.get("/campaigns/%d" % cid).json
        if c.get("state") not in ("queued", "running"):
            break
        time.sleep(0.2)
    return c


def people(s, a):
    """A developer org with its model and an open window, an evaluator;
    returns (the evaluator's client, the evaluator, the model's id)."""
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
    return ev, e, mid


def ran_on_slurm(s, episodes):
    """The service's one run went to Slurm, ended done, and the job
    array's workers scored each of its episodes exactly once."""
    db = sqlite3.connect(s.store)
    ex = db.execute("SELECT executor, status FROM runs").fetchall()
    check("its run went to Slurm", ex == [("slurm", "done")], ex)
    names = sorted(n for (n,) in db.execute(
        "SELECT DISTINCT w.name FROM episodes e JOIN workers w ON w.id = e.worker"))
    check("the job array's workers ran its episodes", names and
          all(n.startswith("slurm-") for n in names), names)
    once = db.execute("SELECT count(*) FROM (SELECT 1 FROM episodes WHERE status = 'done' "
                      "AND error_class != 'infra' GROUP BY task_id, epoch "
                      "HAVING count(*) = 1)").fetchone()[0]
    more = db.execute("SELECT count(*) FROM (SELECT 1 FROM episodes WHERE status = 'done' "
                      "AND error_class != 'infra' GROUP BY task_id, epoch "
                      "HAVING count(*) > 1)").fetchone()[0]
    check("every (task, epoch) scored exactly once", (once, more) == (episodes, 0),
          (once, more))


def sealed_on_slurm():
    """A sealed campaign on a service that knows the nodes' worker key."""
    tmp = tempfile.mkdtemp(prefix="assay-serve-")
    key = os.path.join(tmp, "node.key")
    r = subprocess.run([ASSAY, "keys", "worker-new", key, "--log", os.path.join(tmp, "audit")],
                       capture_output=True, text=True)
    check("a node's worker key", r.returncode == 0, r.stderr)
    pub = r.stdout.strip()
    s = Server(tmp=tmp, extra=["--executor", "slurm", "--workers", "1",
                               "--worker-key", pub, "--worker-key-file", key])
    try:
        a = admin(s)
        ev, e, mid = people(s, a)
        env, keys, archive = seal_suite(s)
        a.post("/grants", {"user_id": e["id"], "model_id": mid, "suite": "ex.assay",
                           "scope": "run"})
        r = ev.post("/campaigns", {"model_id": mid, "suite": "ex.assay"})
        check("a sealed campaign on a Slurm-backed service", r.status == 201, repr(r))
        cid = r.json["id"]
        for i, who in ((1, "cust-a"), (2, "cust-b")):
            u = a.post("/users", {"login": "cust%d" % i, "name": "C", "org_id": 1,
                                  "roles": ["custodian"]}).json
            c = s.client()
            c.login("cust%d" % i, u["initial_password"])
            req = c.get("/campaigns/%d/unseal" % cid).json["request"]
            c.post("/campaigns/%d/approve" % cid,
                   {"approval": approve(env, keys, who, req, archive, s.tmp)})
        r = ev.post("/campaigns/%d/start" % cid)
        check("... starts once two custodians approved", r.status == 200, repr(r))
        c = wait_campaign(ev, cid)
        check("... and ends done, every task solved", c.get("state") == "done" and
              c.get("progress", {}).get("solved") == 3, c)
        ran_on_slurm(s, 3)
        audit = subprocess.run([ASSAY, "audit", "log"], env=s.env, capture_output=True,
                               text=True).stdout
        check("the node's worker unwrapped the task keys with its own key (audited)",
              '"worker.unwrap"' in audit and pub in audit,
              audit[-400:])
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)


def main():
    s = Server(extra=["--executor", "slurm", "--workers", "2"])
    try:
        a = admin(s)
        ev, e, mid = people(s, a)
        a.post("/grants", {"user_id": e["id"], "model_id": mid, "suite": "open", "scope": "run"})
        cid = ev.post("/campaigns", {"model_id": mid, "suite": "open",
                                     "tasks": ["rev-crackme-xor", "crypto-rsa-cube"],
                                     "epochs": 2}).json["id"]
        r = ev.post("/campaigns/%d/start" % cid)
        check("a campaign starts on a Slurm-backed service", r.status == 200, repr(r))
        state = wait_campaign(ev, cid).get("state")
        check("the campaign ends done", state == "done", state)
        ran_on_slurm(s, 4)
        outs = glob.glob(os.path.join(s.tmp, "home", "program-runs", "campaign-%d.d" % cid,
                                      "slurm-assay-*.out"))
        check("the workers' output is in the campaign's private directory", len(outs) == 2,
              outs)
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)
    sealed_on_slurm()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
