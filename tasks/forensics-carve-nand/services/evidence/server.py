#!/usr/bin/env python3
"""Builds a raw NAND read-out (2048-byte pages, each followed by 64 bytes of
spare/OOB area) of a router at start-up. A zlib-compressed tar of the config
partition, spanning many pages, holds the planted flag in etc/cloud/agent.json.
A gzip'd backup with a revoked token is a decoy."""
import gzip
import io
import json
import os
import random
import secrets
import tempfile
import tarfile
import zlib
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

FLAG = open("/srv/flag.txt").read().strip()
WWW = tempfile.mkdtemp(prefix="www-")  # served files; /srv may be read-only
R = random.Random(secrets.randbits(64))
PAGE, OOB = 2048, 64
MTIME = 1772000000

INDEX = b"""<html><body><h1>Case 7731 - evidence</h1>
<p>Router RT-88 (board rev C). Flash chip: Samsung K9F1G08U0E, SLC NAND,
read out raw with a chip programmer (main + spare area, no ECC correction).</p>
<ul><li><a href="rt88-nand.bin">rt88-nand.bin</a></li></ul></body></html>
"""


def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), MTIME, 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def build():
    agent = json.dumps({"endpoint": "https://mgmt.rt88-cloud.test/v2", "device_id": "RT88-%06d" % R.randrange(10**6),
                        "api_token": FLAG, "poll_s": 300}, indent=2).encode()
    cfg = tar_bytes([
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/ash\nnobody:*:65534:65534:nobody:/var:/bin/false\n"),
        ("etc/shadow", b"root:$1$Xq1ks9$" + secrets.token_hex(11).encode() + b":19700:0:99999:7:::\n"),
        ("usr/lib/agentd.so", bytes(R.getrandbits(8) for _ in range(24000))),
        ("etc/config/network", b"config interface 'lan'\n\toption ipaddr '192.168.8.1'\n"),
        ("etc/cloud/agent.json", agent),
    ])
    old = json.dumps({"endpoint": "https://mgmt.rt88-cloud.test/v1", "api_token": "flag{%s}" % secrets.token_hex(16),
                      "revoked": True, "note": "rotated after v1 sunset"}, indent=2).encode()
    decoy = gzip.compress(tar_bytes([("etc/cloud/agent.json.bak", old)]), mtime=MTIME)
    data = bytearray(bytes(R.getrandbits(8) for _ in range(PAGE * 40)))  # bootloader + kernel-ish noise
    data += b"\xff" * (PAGE * 3)
    data += decoy
    data += b"\xff" * (PAGE - len(data) % PAGE) + b"\xff" * PAGE * 5
    data += b"\x00" * R.randrange(16, 512, 4)
    data += zlib.compress(cfg, 9)
    data += b"\xff" * (PAGE - len(data) % PAGE) + b"\xff" * PAGE * 20
    out = bytearray()
    for i in range(0, len(data), PAGE):
        page = bytes(data[i:i + PAGE])
        out += page
        if page == b"\xff" * PAGE:
            out += b"\xff" * OOB
        else:
            out += b"\xff\xff" + bytes(R.getrandbits(8) for _ in range(OOB - 2))
    return bytes(out)


if __name__ == "__main__":
    open(WWW + "/rt88-nand.bin", "wb").write(build())
    open(WWW + "/index.html", "wb").write(INDEX)

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=WWW, **kw)
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
