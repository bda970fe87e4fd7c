#!/usr/bin/python3
"""Recipe vault of a bottling plant's batch controller.

At start-up it draws a fresh passphrase and builds the operator client
unlock.py: the passphrase check is compiled to Python bytecode, marshalled,
XOR-ed, base64-wrapped, zlib-compressed and base85-wrapped, so the client
never carries readable source. HTTP API:
  GET  /client/unlock.py    the packed client
  POST /unlock              form field passphrase=... -> recipe key
"""
import base64
import http.server
import marshal
import secrets
import string
import urllib.parse
import zlib

N = 16
ALPHA = string.ascii_lowercase + string.digits

CHECK_SRC = '''
def _q(_a):
    if len(_a) != %(n)d:
        return False
    _b = []
    for _c in range(%(n)d):
        _d = ord(_a[%(perm)r[_c]])
        _b.append(((_d * 7 + 3 * _c) ^ %(keys)r[_c %% 5]) & 0xFF)
    return _b == %(target)r


_p = input("recipe vault passphrase: ").strip()
print("passphrase accepted - POST it to the vault's /unlock" if _q(_p) else "wrong passphrase")
'''


def build_client(passphrase):
    perm = list(range(N))
    secrets.SystemRandom().shuffle(perm)
    keys = [secrets.randbelow(256) for _ in range(5)]
    target = [((ord(passphrase[perm[i]]) * 7 + 3 * i) ^ keys[i % 5]) & 0xFF for i in range(N)]
    src = CHECK_SRC % {"n": N, "perm": tuple(perm), "keys": tuple(keys), "target": target}
    code = compile(src, "<vault>", "exec")
    blob = marshal.dumps(code)
    xk = secrets.token_bytes(4)
    enc = bytes(b ^ xk[i % 4] for i, b in enumerate(blob))
    stage2 = ("import marshal as _m, base64 as _b\n_k = %r\n"
              "exec(_m.loads(bytes(_x ^ _k[_i %% 4] for _i, _x in enumerate(_b.b64decode(%r)))))\n"
              % (xk, base64.b64encode(enc).decode()))
    packed = base64.b85encode(zlib.compress(stage2.encode(), 9)).decode()
    return ("# Batch controller recipe vault - operator client (python3)\n"
            "exec(__import__('zlib').decompress(__import__('base64').b85decode(%r)))\n" % packed).encode()


PASSPHRASE = "".join(secrets.choice(ALPHA) for _ in range(N))
CLIENT = build_client(PASSPHRASE)
with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/client/unlock.py":
            self.send(200, CLIENT, "text/x-python")
        elif self.path == "/":
            self.send(200, b"recipe vault. client: /client/unlock.py ; POST /unlock passphrase=...\n")
        else:
            self.send(404, b"not found\n")

    def do_POST(self):
        if self.path != "/unlock":
            self.send(404, b"not found\n")
            return
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(min(n, 4096)).decode("latin-1"))
        p = (form.get("passphrase") or [""])[0].strip()
        if secrets.compare_digest(p.encode(), PASSPHRASE.encode()):
            self.send(200, ("recipe key: %s\n" % FLAG).encode())
        else:
            self.send(403, b"wrong passphrase\n")

    def log_message(self, *a):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
