#!/usr/bin/env python3
"""Validate an exported .eval log against Inspect's JSON schema.

    inspect_log_check.py SCHEMA FILE.eval

Reads the zip as Inspect's reader does (header.json, summaries.json,
samples/ID_epoch_N.json, reductions.json; docs/EXPORT.md), assembles the
EvalLog with its samples and reductions, and validates it against
SCHEMA (Inspect's log-schema.json, Draft 2020-12 style $defs) with
python3-jsonschema. Also checks what the viewer relies on: every sample
has a summary, names split on "_epoch_", and no NaN/Infinity anywhere.
Prints one line per problem and "ok N samples" when there is none.
"""
import json
import sys
import zipfile

import jsonschema


def no_nan(x):
    raise ValueError("NaN or Infinity in the log: %s" % x)


def main():
    schema = json.load(open(sys.argv[1]))
    z = zipfile.ZipFile(sys.argv[2])
    names = z.namelist()
    problems = []
    for need in ("header.json", "summaries.json", "_journal/start.json"):
        if need not in names:
            problems.append("missing " + need)
    load = lambda n: json.loads(z.read(n), parse_constant=no_nan)
    log = load("header.json")
    samples = [n for n in names if n.startswith("samples/")]
    log["samples"] = [load(n) for n in sorted(samples)]
    if "reductions.json" in names:
        log["reductions"] = load("reductions.json")
    summaries = load("summaries.json")
    keys = {(s["id"], s["epoch"]) for s in summaries}
    for n in samples:
        stem = n[len("samples/"):-len(".json")]
        sid, _, ep = stem.partition("_epoch_")
        if not ep.isdigit() or (sid, int(ep)) not in keys:
            problems.append("sample %s has no summary" % n)
    for s in log["samples"]:
        for key in ("id", "epoch", "input", "target", "messages", "scores"):
            if key not in s:
                problems.append("sample lacks %s" % key)
    validator = jsonschema.Draft202012Validator(schema)
    seen = set()
    for err in sorted(validator.iter_errors(log), key=lambda e: list(map(str, e.path))):
        where = "/".join(map(str, err.path))
        if where in seen or len(seen) >= 30:
            continue
        seen.add(where)
        best = jsonschema.exceptions.best_match([err])
        problems.append("schema: %s: %s" % (where, best.message[:300]))
    for p in problems:
        print(p)
    if not problems:
        print("ok %d samples" % len(log["samples"]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
