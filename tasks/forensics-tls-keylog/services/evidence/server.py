#!/usr/bin/env python3
"""Builds a TLS 1.3 capture and a copy of the client's home directory at
start-up. The client process logged its TLS secrets (SSLKEYLOGFILE), so the
escrow upload that carries the planted flag can be decrypted."""
import io
import json
import os
import secrets
import ssl
import subprocess
import tarfile
import tempfile
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from pcapw import Pcap

FLAG = open("/srv/flag.txt").read().strip()
WWW = tempfile.mkdtemp(prefix="www-")  # served files; /srv may be read-only
WORK = tempfile.mkdtemp(prefix="ev-")
KEYLOG = os.path.join(WORK, "tls.keys")


def make_cert():
    k, c, cfg = (os.path.join(WORK, n) for n in ("k.pem", "c.pem", "req.cnf"))
    # own config: the box's minimal /etc may lack /etc/ssl/openssl.cnf
    open(cfg, "w").write("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = corp.test\n")
    subprocess.run(["openssl", "req", "-config", cfg, "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30", "-keyout", k, "-out", c],
                   check=True, capture_output=True)
    return k, c


def tls_exchange(srv_ctx, sni, request, response, keylog):
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    cctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if keylog:
        cctx.keylog_filename = KEYLOG
    cin, cout, sin, sout = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    cli = cctx.wrap_bio(cin, cout, server_hostname=sni)
    srv = srv_ctx.wrap_bio(sin, sout, server_side=True)
    flow = []

    def pump():
        d = cout.read()
        if d:
            flow.append((True, d))
            sin.write(d)
        d = sout.read()
        if d:
            flow.append((False, d))
            cin.write(d)

    done = [False, False]
    for _ in range(20):
        for i, s in enumerate((cli, srv)):
            if not done[i]:
                try:
                    s.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
            pump()
        if all(done):
            break
    cli.write(request)
    pump()
    got = b""
    while True:
        try:
            got += srv.read(65536)
        except ssl.SSLWantReadError:
            break
    srv.write(response)
    pump()
    while True:
        try:
            cli.read(65536)
        except ssl.SSLWantReadError:
            break
    pump()
    return flow


def http_req(method, host, path, body=b"", ctype=None):
    h = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: escrow-sync/2.3 python-requests/2.31\r\n" % (method, path, host)
    if body:
        h += "Content-Type: %s\r\nContent-Length: %d\r\n" % (ctype, len(body))
    return (h + "Connection: close\r\n\r\n").encode() + body


def http_resp(code, reason, body):
    return ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (code, reason, len(body))).encode() + body


def build_pcap(srv_ctx):
    p = Pcap()
    t = 1774000000.0
    srv = "10.9.0.80"
    plan = [
        ("10.9.0.41", 49811, "wiki.corp.test", http_req("GET", "wiki.corp.test", "/index"),
         http_resp(200, "OK", b'{"page":"index"}'), False),
        ("10.9.0.23", 50220, "wiki.corp.test", http_req("GET", "wiki.corp.test", "/ops/rotation"),
         http_resp(200, "OK", b'{"page":"ops/rotation","owner":"dev"}'), True),
        ("10.9.0.23", 50224, "vault.corp.test",
         http_req("POST", "vault.corp.test", "/api/v1/escrow",
                  json.dumps({"device": "ws-dev-23", "escrow_key": FLAG}).encode(), "application/json"),
         http_resp(201, "Created", b'{"stored":true}'), True),
        ("10.9.0.41", 49830, "vault.corp.test",
         http_req("POST", "vault.corp.test", "/api/v1/escrow",
                  json.dumps({"device": "ws-qa-41", "escrow_key": "flag{%s}" % secrets.token_hex(16)}).encode(),
                  "application/json"),
         http_resp(201, "Created", b'{"stored":true}'), False),
        ("10.9.0.23", 50231, "vault.corp.test", http_req("GET", "vault.corp.test", "/api/v1/health"),
         http_resp(200, "OK", b'{"ok":true}'), True),
    ]
    for cli, port, sni, rq, rs, logged in plan:
        flow = tls_exchange(srv_ctx, sni, rq, rs, logged)
        t = p.session(t, cli, port, srv, 443, flow) + 2.5
    return p.bytes()


def add(tf, name, data, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime, ti.uname, ti.gname = len(data), mode, int(time.time()), "dev", "dev"
    tf.addfile(ti, io.BytesIO(data))


def build_home():
    buf = io.BytesIO()
    keys = open(KEYLOG, "rb").read()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        add(tf, "home/dev/.bashrc", b"# ~/.bashrc\nalias ll='ls -alF'\nexport EDITOR=vim\n"
            b"# debugging the escrow client's TLS, see OPS-2291\nexport SSLKEYLOGFILE=$HOME/.cache/pip/.sess\n")
        add(tf, "home/dev/.bash_history", b"cd ~/src/escrow-sync\npython3 -m escrow_sync --once\n"
            b"curl -s https://wiki.corp.test/ops/rotation\nvim ~/.bashrc\nexit\n")
        add(tf, "home/dev/.cache/pip/http/9/a/1/f3e0", secrets.token_bytes(1500))
        add(tf, "home/dev/.cache/pip/.sess", keys, 0o600)
        add(tf, "home/dev/src/escrow-sync/README.md", b"escrow-sync: uploads disk-encryption recovery keys to "
            b"the vault over HTTPS.\n")
        add(tf, "home/dev/.ssh/known_hosts", b"vault.corp.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake\n")
    return buf.getvalue()


if __name__ == "__main__":
    k, c = make_cert()
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(c, k)
    open(WWW + "/capture.pcap", "wb").write(build_pcap(sctx))
    open(WWW + "/ws-dev-23-home.tar.gz", "wb").write(build_home())

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=WWW, **kw)
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
