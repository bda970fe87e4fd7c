#!/bin/bash
# Peel the layers (b85+zlib -> XOR+base64 -> marshal), read the check's
# constants from the code object and invert ((c*7 + 3i) ^ k[i%5]) & 0xff.
set -e
cd "$HOME"
curl -s -o unlock.py http://vault:8080/client/unlock.py
P=$(python3 - <<'PY'
import ast, base64, marshal, re, types, zlib
src = open("unlock.py").read()
stage2 = zlib.decompress(base64.b85decode(re.search(r"b85decode\('([^']+)'\)", src).group(1))).decode()
k = ast.literal_eval(re.search(r"_k = (b.*)\n", stage2).group(1))
enc = base64.b64decode(re.search(r"b64decode\('([^']+)'\)", stage2).group(1))
code = marshal.loads(bytes(x ^ k[i % 4] for i, x in enumerate(enc)))
fn = next(c for c in code.co_consts if isinstance(c, types.CodeType))
tups = [c for c in fn.co_consts if isinstance(c, tuple)]
n = next(c for c in fn.co_consts if isinstance(c, int) and c > 5)
perm = next(t for t in tups if sorted(t) == list(range(n)))
keys = next(t for t in tups if len(t) == 5)
target = next(t for t in tups if len(t) == n and t is not perm)
inv7 = pow(7, -1, 256)
p = [""] * n
for i in range(n):
    p[perm[i]] = chr(((((target[i] ^ keys[i % 5]) - 3 * i) * inv7) % 256))
print("".join(p))
PY
)
echo "$P" | python3 unlock.py >&2
curl -s --data-urlencode "passphrase=$P" http://vault:8080/unlock | grep -o 'flag{[0-9a-f]*}'
