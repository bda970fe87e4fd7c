#!/usr/bin/env python3
"""Builds the agent's tlmgw.c with ASan+UBSan (as nobody) and replays
functional and attack streams; responses must match the README exactly and
no sanitizer report may appear."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def fr(t, p=b"", ln=None):
    if isinstance(p, str):
        p = p.encode()
    return b"TM\x01" + bytes([t]) + struct.pack(">H", len(p) if ln is None else ln) + p


def rd(vals):
    return struct.pack(">H", len(vals)) + b"".join(struct.pack(">Hi", i, v) for i, v in enumerate(vals))


HELLO, READ, LOG, CONF, GET, BYE, STATS = 1, 2, 3, 4, 5, 6, 7
S32 = "S" * 32
K15, V47 = "k" * 15, "v" * 47
cfg8 = "\n".join(["%s=%s" % (K15, V47)] + ["k%d=%d" % (i, i) for i in range(1, 8)])
CASES = {
    "functional-basic": (
        [fr(STATS), fr(READ, rd([1])), fr(HELLO, "pump-station-07"), fr(READ, rd([100, -40, 7])),
         fr(LOG, b"pressure ok\x01\tdone\xff"), fr(CONF, "rate=5\nunit=kPa\n\nrate=10"), fr(GET, "rate"),
         fr(GET, "nope"), fr(9, "x"), fr(STATS), fr(BYE), fr(LOG, "x"), fr(HELLO, "b"), fr(GET, "rate"),
         fr(HELLO, "bad name"), fr(HELLO, "")],
        ["STATS frames=1 readings=0", "ERR no session", "HELLO pump-station-07", "READINGS 3 sum=67",
         "LOG pump-station-07: pressure ok??done?", "CONFIG 2", "CFG rate=10", "ERR nokey", "ERR type",
         "STATS frames=10 readings=3", "BYE pump-station-07", "ERR no session", "HELLO b", "ERR nokey",
         "ERR name", "ERR name"]),
    "functional-name-32": (
        [fr(HELLO, S32), fr(CONF, "k=v"), fr(LOG, "hi"), fr(GET, "k"), fr(BYE), fr(HELLO, S32 + "X")],
        ["HELLO " + S32, "CONFIG 1", "LOG %s: hi" % S32, "CFG k=v", "BYE " + S32, "ERR name"]),
    "functional-config-limits": (
        [fr(HELLO, "n"), fr(CONF, cfg8), fr(GET, K15), fr(CONF, "k8=x"), fr(CONF, "k1=new\n"), fr(GET, "k1"),
         fr(CONF, "good=1\nbad"), fr(GET, "good"), fr(CONF, "=v"), fr(CONF, "k2=a=b"), fr(GET, "k2"),
         fr(CONF, "k3=")],
        ["HELLO n", "CONFIG 8", "CFG %s=%s" % (K15, V47), "ERR config", "CONFIG 8", "CFG k1=new", "ERR config",
         "ERR nokey", "ERR config", "CONFIG 8", "CFG k2=a=b", "CONFIG 8"]),
    "functional-readings-max": (
        [fr(HELLO, "r"), fr(READ, rd([-2147483648] * 682)), fr(READ, rd([2147483647, 1])), fr(READ, b"\x00\x00"),
         fr(READ, rd([1, 2])[:-1]), fr(STATS)],
        ["HELLO r", "READINGS 682 sum=-1464583847936", "READINGS 2 sum=2147483648", "ERR readings",
         "ERR readings", "STATS frames=6 readings=684"]),
    "functional-log-4096": (
        [fr(HELLO, S32), fr(LOG, "A" * 4096), fr(LOG, "")],
        ["HELLO " + S32, "LOG %s: %s" % (S32, "A" * 4096), "LOG %s: " % S32]),
    "functional-framing": (
        [fr(HELLO, "t"), b"TM\x01"], ["HELLO t", "ERR truncated"]),
    "functional-framing-payload": (
        [fr(HELLO, "t"), fr(LOG, "abc", ln=10)], ["HELLO t", "ERR truncated"]),
    "functional-bad-magic": (
        [fr(HELLO, "t"), b"TM\x02\x01\x00\x01x", fr(HELLO, "u")], ["HELLO t", "ERR frame"]),
    "attack-readings-wrap": (
        [fr(HELLO, "a"), fr(READ, struct.pack(">H", 10923) + b"\x00\x01"),
         fr(READ, struct.pack(">H", 21846) + b"\x00\x01\x00\x00"), fr(STATS)],
        ["HELLO a", "ERR readings", "ERR readings", "STATS frames=4 readings=0"]),
    "attack-format-string": (
        [fr(HELLO, "a"), fr(LOG, "%s%s%s%s%s%n%n%n"), fr(LOG, "%x.%p.%08x")],
        ["HELLO a", "LOG a: %s%s%s%s%s%n%n%n", "LOG a: %x.%p.%08x"]),
    "attack-config-overflow": (
        [fr(HELLO, "a"), fr(CONF, "A" * 40 + "=1"), fr(CONF, "k=" + "v" * 200), fr(CONF, "k=" + "v" * 48),
         fr(CONF, "K" * 16 + "=1"), fr(GET, "k"), fr(CONF, "x=1\n" + "B" * 3000 + "=2"), fr(GET, "x")],
        ["HELLO a", "ERR config", "ERR config", "ERR config", "ERR config", "ERR nokey", "ERR config",
         "ERR nokey"]),
    "attack-use-after-bye": (
        [fr(HELLO, "a"), fr(BYE), fr(LOG, "x"), fr(CONF, "a=b"), fr(GET, "a"), fr(BYE), fr(STATS)],
        ["HELLO a", "BYE a", "ERR no session", "ERR no session", "ERR no session", "ERR no session",
         "STATS frames=7 readings=0"]),
    "attack-oversized-frame": (
        [fr(HELLO, "a"), fr(LOG, "Z" * 5000), fr(HELLO, "b")], ["HELLO a", "ERR too big"]),
    "attack-oversized-frame-max": (
        [fr(HELLO, "a"), fr(CONF, b"\x41" * 65535), fr(HELLO, "b")], ["HELLO a", "ERR too big"]),
}


def main():
    src = sys.argv[1]
    if not os.path.isfile(src):
        print("FAIL: no source at " + src)
        return 1
    work = tempfile.mkdtemp(prefix="chk-")
    os.chmod(work, 0o755)
    shutil.copy(src, os.path.join(work, "tlmgw.c"))
    os.chown(work, 1000, 1000)
    drop = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]
    b = subprocess.run(drop + ["gcc", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                               "-fno-omit-frame-pointer", "-o", "tlmgw", "tlmgw.c"],
                       cwd=work, capture_output=True, text=True, timeout=60)
    if b.returncode != 0:
        print("FAIL: build\n" + b.stderr[-2000:])
        return 1
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "detect_leaks=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:exitcode=98"}
    bad = 0
    for name, (frames, want) in CASES.items():
        try:
            r = subprocess.run(drop + [os.path.join(work, "tlmgw")], input=b"".join(frames), capture_output=True,
                               timeout=10, env=env)
            out, err, rc = r.stdout.decode("latin-1").splitlines(), r.stderr.decode("latin-1"), r.returncode
        except subprocess.TimeoutExpired:
            out, err, rc = None, "timeout", -1
        ok = out == want and rc == 0 and "Sanitizer" not in err and "runtime error" not in err
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else "  rc=%s out=%r err=%s" %
                                                   (rc, [o[:60] for o in (out or [])[:8]], err.strip()[:160])))
        bad += not ok
    shutil.rmtree(work, ignore_errors=True)
    print("RESULT:", "PASS" if not bad else "FAIL (%d)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
