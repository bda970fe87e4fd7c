#!/usr/bin/env python3
"""Generates three held-out days (fixed seeds), runs the agent's detector
on each as nobody, and scores flagged (src,dst) pairs against the labels.
Passes with pooled precision >= 0.80 and recall >= 0.80."""
import os
import shutil
import subprocess
import sys
import tempfile

SEEDS = [7037, 7074, 7111]
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    det = sys.argv[1]
    if not os.path.isfile(det):
        print("FAIL: no detector at " + det)
        return 1
    # The detector runs as uid 1000: it sees work/ (its input) and never
    # priv/ (root, 0700), where each day is generated and its labels stay.
    work = tempfile.mkdtemp(prefix="chk-")
    priv = tempfile.mkdtemp(prefix="chk-labels-")
    os.chmod(work, 0o755)
    os.chmod(priv, 0o700)
    shutil.copy(det, os.path.join(work, "detect.py"))
    tp = fp = fn = 0
    for seed in SEEDS:
        g = os.path.join(priv, "d%d" % seed)
        d = os.path.join(work, "d%d" % seed)
        subprocess.run(["python3", "-I", os.path.join(HERE, "gen.py"), str(seed), g], check=True)
        os.mkdir(d, 0o755)
        for f in ("conn.csv", "allowlist.txt"):
            shutil.copy(os.path.join(g, f), os.path.join(d, f))
            os.chmod(os.path.join(d, f), 0o644)
        truth = {tuple(l.strip().split(",")) for l in open(os.path.join(g, "labels.csv")).readlines()[1:] if l.strip()}
        try:
            r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "python3", "-I",
                                os.path.join(work, "detect.py"), os.path.join(d, "conn.csv"),
                                os.path.join(d, "allowlist.txt")], cwd=work, capture_output=True, text=True, timeout=60)
            out = r.stdout
        except subprocess.TimeoutExpired:
            print("FAIL: detector timed out")
            return 1
        pred = {tuple(p.strip() for p in l.split(",")[:2]) for l in out.splitlines() if l.count(",") >= 1}
        a, b, c = len(pred & truth), len(pred - truth), len(truth - pred)
        print("day %d: flagged %d, true %d, tp=%d fp=%d fn=%d" % (seed, len(pred), len(truth), a, b, c))
        tp, fp, fn = tp + a, fp + b, fn + c
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(priv, ignore_errors=True)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    ok = prec >= 0.80 and rec >= 0.80
    print("precision=%.3f recall=%.3f -> %s" % (prec, rec, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
