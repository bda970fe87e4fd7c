#!/usr/bin/env python3
"""Scores a regex rule file on held-out labelled logs. Passes with
precision >= 0.90 and recall >= 0.90. usage: score.py RULES DATA"""
import re
import signal
import sys

P_MIN, R_MIN, MAX_RULES, BUDGET_S = 0.90, 0.90, 200, 20


def main():
    try:
        raw = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        print("FAIL: cannot read rules: %s" % e)
        return 1
    pats = [l for l in raw if l.strip() and not l.lstrip().startswith("#")]
    if not pats or len(pats) > MAX_RULES:
        print("FAIL: need 1..%d expressions, got %d" % (MAX_RULES, len(pats)))
        return 1
    try:
        rx = [re.compile(p) for p in pats]
    except re.error as e:
        print("FAIL: bad expression: %s" % e)
        return 1
    signal.signal(signal.SIGALRM, lambda *_: (print("FAIL: too slow"), sys.exit(1)))
    signal.alarm(BUDGET_S)
    tp = fp = fn = tn = 0
    for row in open(sys.argv[2], encoding="utf-8"):
        label, line = row.rstrip("\n").split("\t", 1)
        hit = any(r.search(line) for r in rx)
        if label == "1":
            tp, fn = tp + hit, fn + (not hit)
        else:
            fp, tn = fp + hit, tn + (not hit)
    signal.alarm(0)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    ok = prec >= P_MIN and rec >= R_MIN
    print("tp=%d fp=%d fn=%d tn=%d precision=%.3f recall=%.3f -> %s" % (tp, fp, fn, tn, prec, rec,
                                                                       "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
