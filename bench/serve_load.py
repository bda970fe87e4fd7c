#!/usr/bin/env python3
"""Load on `assay serve` (issue 16): wrk with 200 concurrent connections
on loopback reading the API (GET /api/v1/campaigns/ID, the page a
developer and an evaluator poll, with an API token) for 10 s while a
campaign runs in the server's worker, and the same with no campaign.
Prints p50/p99 of the reads and requests per second, and the worker's
harness CPU per agent turn under load against the same campaign run
without load (same-run ratio).

  bench/serve_load.py [BUILD_DIR]      (needs wrk: tools/deps.sh)
"""
import json
import os
import re
import subprocess
import sys
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "build")
os.environ.setdefault("ASSAY", os.path.join(build, "assay"))
os.environ.setdefault("ASSAY_SOURCE_DIR", top)
import program  # noqa: E402

TASKS = ["rev-crackme-xor", "crypto-rsa-cube", "web-sqli-union", "forensics-pcap-basic-auth",
         "misc-proto-puzzle", "patch-py-sqli", "crypto-lcg-reset", "rev-vm-password"]


def wrk(s, token, path, secs=10):
    out = subprocess.run(["wrk", "-t2", "-c200", "-d%ds" % secs, "--latency", "--timeout", "10s",
                          "-H", "Authorization: Bearer " + token,
                          "http://%s:%d%s" % (s.host, s.port, path)],
                         capture_output=True, text=True).stdout

    def ms(label):
        m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\b" % re.escape(label), out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return ms("50%"), ms("99%"), float(rps.group(1)) if rps else 0.0, int(non2xx.group(1)) if non2xx else 0


def campaign(s, ev, mid, tasks):
    c = ev.post("/campaigns", {"model_id": mid, "suite": "open", "tasks": tasks}).json
    ev.post("/campaigns/%d/start" % c["id"])
    return c["id"]


def wait(ev, cid):
    while True:
        c = ev.get("/campaigns/%d" % cid).json
        if c["state"] in ("done", "failed"):
            return c
        time.sleep(0.2)


def per_turn(s, cid):
    log = os.path.join(s.tmp, "home", "program-runs", "campaign-%d.log" % cid)
    j = [json.loads(l) for l in open(log) if l.startswith("{")][-1]
    return j["harness_cpu_ms"] / max(1, j["turns"]), j["turns"]


def main():
    s = program.Server(extra=["--max-connections", "1024"])
    try:
        a = program.admin(s)
        now = int(time.time() * 1000)
        lab = a.post("/orgs", {"name": "Lab", "kind": "developer"}).json["id"]
        u = a.post("/users", {"login": "dev", "name": "D", "org_id": lab, "roles": ["developer"]}).json
        dev = s.client()
        dev.login("dev", u["initial_password"])
        m = dev.post("/models", {"name": "b", "version": "1", "release_date": "2099-01-01",
                                 "access": "weights",
                                 "endpoint": {"provider": "baseline", "model": "oracle"}}).json
        a.post("/windows", {"model_id": m["id"], "start_ms": now, "end_ms": now + 86400000})
        e = a.post("/users", {"login": "ev", "name": "E", "org_id": 1, "roles": ["evaluator"]}).json
        a.post("/grants", {"user_id": e["id"], "model_id": m["id"], "suite": "open", "scope": "run"})
        ev = s.client()
        ev.login("ev", e["initial_password"])
        token = ev.post("/tokens", {"name": "bench", "scope": "read", "days": 1}).json["token"]
        quiet = campaign(s, ev, m["id"], TASKS)
        wait(ev, quiet)
        idle_turn, _ = per_turn(s, quiet)
        i50, i99, irps, ibad = wrk(s, token, "/api/v1/campaigns/%d" % quiet)
        busy = campaign(s, ev, m["id"], TASKS * 3)
        while ev.get("/campaigns/%d" % busy).json["state"] != "running":
            time.sleep(0.1)
        b50, b99, brps, bbad = wrk(s, token, "/api/v1/campaigns/%d" % busy)
        c = wait(ev, busy)
        busy_turn, turns = per_turn(s, busy)
        print("serve_load: 200 connections, 10 s each, GET /api/v1/campaigns/ID with a token")
        print("  idle server:        p50 %.2f ms  p99 %.2f ms  %.0f req/s  (non-2xx %d)" % (i50, i99, irps, ibad))
        print("  campaign running:   p50 %.2f ms  p99 %.2f ms  %.0f req/s  (non-2xx %d)" % (b50, b99, brps, bbad))
        print("  worker harness CPU per turn: %.2f ms under load (%d turns, %s) vs %.2f ms unloaded: ratio %.2f"
              % (busy_turn, turns, c["state"], idle_turn, busy_turn / idle_turn if idle_turn else float("nan")))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
