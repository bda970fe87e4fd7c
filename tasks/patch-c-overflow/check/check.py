#!/usr/bin/env python3
"""Builds the agent's kvd.c with ASan+UBSan (as nobody), then replays
functional and exploit sessions; every response must match the README and
no sanitizer report may appear."""
import os
import shutil
import subprocess
import sys
import tempfile

K31, V63 = "k" * 31, "v" * 63
SESSIONS = {
    "functional": (
        ["SET a hello world", "GET a", "APPEND a !", "GET a", "SET b 1", "COUNT", "DEL b", "DEL b", "GET b",
         "FOO x", "GET", "SET", "SET " + K31 + " " + V63, "GET " + K31, "SET a two  spaces", "GET a", "QUIT",
         "GET a"],
        ["OK", "VALUE hello world", "OK", "VALUE hello world!", "OK", "COUNT 2", "OK", "ERR not found",
         "ERR not found", "ERR syntax", "ERR syntax", "ERR syntax", "OK", "VALUE " + V63, "OK",
         "VALUE two  spaces", "BYE"]),
    "full": (
        ["SET key%d v%d" % (i, i) for i in range(64)] + ["SET extra x", "SET key7 new", "GET key7", "DEL key3",
                                                          "SET extra x", "COUNT", "GET extra"],
        ["OK"] * 64 + ["ERR full", "OK", "VALUE new", "OK", "OK", "COUNT 64", "VALUE x"]),
    "crlf": (["SET x y\r", "GET x\r", "COUNT\r"], ["OK", "VALUE y", "COUNT 1"]),
    "long-key": (["SET " + "K" * 32 + " v", "SET " + "K" * 120 + " v", "COUNT", "SET k " + "v" * 64, "COUNT",
                  "GET k"],
                 ["ERR too long", "ERR too long", "COUNT 0", "ERR too long", "COUNT 0", "ERR not found"]),
    "long-value-update": (["SET a " + "x" * 60, "SET a " + "y" * 100, "GET a", "APPEND a 1234", "GET a",
                           "APPEND a 123", "GET a", "APPEND a " + "z" * 150, "GET a"],
                          ["OK", "ERR too long", "VALUE " + "x" * 60, "ERR too long", "VALUE " + "x" * 60, "OK",
                           "VALUE " + "x" * 60 + "123", "ERR too long", "VALUE " + "x" * 60 + "123"]),
    "long-command": (["A" * 40 + " x", "SETSETSETSET k v", "COUNT"], ["ERR syntax", "ERR syntax", "COUNT 0"]),
    "line-255": (["SET a " + "v" * 249, "COUNT"], ["ERR too long", "COUNT 0"]),
    "line-256": (["SET a " + "v" * 250, "COUNT"], ["ERR line too long", "COUNT 0"]),
    "line-smuggle": (["SET a " + "A" * 250 + "SET b smuggled", "SET c " + "B" * 600 + " DEL c", "COUNT", "GET b"],
                     ["ERR line too long", "ERR line too long", "COUNT 0", "ERR not found"]),
}


def run(binary, lines):
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:exitcode=98"}
    try:
        r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", binary],
                           input="".join(l + "\n" for l in lines).encode(), capture_output=True, timeout=10, env=env)
    except subprocess.TimeoutExpired:
        return None, "timeout", -1
    return r.stdout.decode("latin-1").splitlines(), r.stderr.decode("latin-1"), r.returncode


def main():
    src = sys.argv[1]
    if not os.path.isfile(src):
        print("FAIL: no source at " + src)
        return 1
    work = tempfile.mkdtemp(prefix="chk-")
    os.chmod(work, 0o755)
    shutil.copy(src, os.path.join(work, "kvd.c"))
    os.chown(work, 1000, 1000)
    b = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "gcc", "-O1", "-g",
                        "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
                        "-o", "kvd", "kvd.c"], cwd=work, capture_output=True, text=True, timeout=60)
    if b.returncode != 0:
        print("FAIL: build\n" + b.stderr[-2000:])
        return 1
    bad = 0
    for name, (inp, want) in SESSIONS.items():
        out, err, rc = run(os.path.join(work, "kvd"), inp)
        ok = out == want and rc == 0 and "Sanitizer" not in err and "runtime error" not in err
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else "  rc=%s out=%r err=%s" %
                                                   (rc, (out or [])[:6], err.strip()[:200])))
        bad += not ok
    shutil.rmtree(work, ignore_errors=True)
    print("RESULT:", "PASS" if not bad else "FAIL (%d)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
