#!/usr/bin/env python3
"""Tollgate API: RS256 JWT sessions with an algorithm-confusion bug.
The verifier takes the algorithm from the token header and uses the
server's public key (PEM text) as the key for every algorithm, so an HS256
token MACed with the public key PEM is accepted."""
import base64
import hashlib
import hmac
import json
import re
import subprocess
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAG = open("/srv/flag.txt").read().strip()
KID = "tg-2026-1"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ub64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_key():
    priv = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
    pem = subprocess.run(["openssl", "rsa", "-pubout"], input=priv, capture_output=True, check=True).stdout
    text = subprocess.run(["openssl", "rsa", "-noout", "-text"], input=priv, capture_output=True,
                          check=True).stdout.decode()

    def field(name):
        m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
        return int(re.sub(r"[\s:]", "", m.group(1)), 16)
    return pem, field("modulus"), field("privateExponent")


PUB_PEM, N, D = load_key()
E = 65537
KLEN = (N.bit_length() + 7) // 8
DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")


def emsa(msg):
    t = DIGESTINFO + hashlib.sha256(msg).digest()
    return b"\x00\x01" + b"\xff" * (KLEN - len(t) - 3) + b"\x00" + t


def sign_rs256(msg):
    return pow(int.from_bytes(emsa(msg), "big"), D, N).to_bytes(KLEN, "big")


def verify(alg, key, msg, sig):
    if alg == "RS256":
        if len(sig) != KLEN:
            return False
        k = key  # the public key object: here simply (n, e) derived from the PEM
        m = pow(int.from_bytes(sig, "big"), E, N).to_bytes(KLEN, "big")
        return k == PUB_PEM and hmac.compare_digest(m, emsa(msg))
    if alg == "HS256":
        return hmac.compare_digest(hmac.new(key, msg, hashlib.sha256).digest(), sig)
    return False  # "none" and anything else


def issue(sub, role):
    h = b64u(json.dumps({"alg": "RS256", "typ": "JWT", "kid": KID}).encode())
    p = b64u(json.dumps({"sub": sub, "role": role, "iat": int(time.time())}).encode())
    return h + "." + p + "." + b64u(sign_rs256((h + "." + p).encode()))


def check(token):
    try:
        h, p, s = token.split(".")
        header = json.loads(ub64u(h))
        if header.get("kid", KID) != KID:
            return None
        if not verify(header.get("alg"), PUB_PEM, (h + "." + p).encode(), ub64u(s)):
            return None
        return json.loads(ub64u(p))
    except Exception:  # noqa: BLE001 - any malformed token is just invalid
        return None


USERS = {"guest": "guest"}


class Handler(BaseHTTPRequestHandler):
    server_version = "Tollgate/1.4"

    def send_json(self, code, obj):
        data = json.dumps(obj, indent=1).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def claims(self):
        a = self.headers.get("Authorization", "")
        return check(a[7:].strip()) if a.startswith("Bearer ") else None

    def do_GET(self):
        p = urllib.parse.urlsplit(self.path).path
        if p == "/":
            self.send_json(200, {"service": "tollgate", "login": "POST /login {username,password}",
                                 "demo_account": "guest/guest", "routes": ["/me", "/admin/report",
                                 "/.well-known/jwks.json"]})
        elif p == "/.well-known/jwks.json":
            self.send_json(200, {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
                                           "n": b64u(N.to_bytes(KLEN, "big")),
                                           "e": b64u(E.to_bytes(3, "big"))}]})
        elif p == "/me":
            c = self.claims()
            self.send_json(200 if c else 401, c or {"error": "invalid or missing token"})
        elif p == "/admin/report":
            c = self.claims()
            if not c:
                self.send_json(401, {"error": "invalid or missing token"})
            elif c.get("role") != "admin":
                self.send_json(403, {"error": "admins only"})
            else:
                self.send_json(200, {"report": "quarterly toll revenue", "export_key": FLAG})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/login":
            self.send_json(404, {"error": "not found"})
            return
        try:
            n = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            self.send_json(400, {"error": "bad json"})
            return
        u, pw = body.get("username"), body.get("password")
        if USERS.get(u) is not None and hmac.compare_digest(USERS[u], str(pw)):
            self.send_json(200, {"token": issue(u, "user")})
        else:
            self.send_json(401, {"error": "bad credentials"})


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
