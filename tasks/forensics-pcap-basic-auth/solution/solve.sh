#!/bin/bash
# Pair every Basic-auth request with its response; the only login answered
# with 200 carries the flag as its password.
set -euo pipefail
curl -s -o capture.pcap http://evidence:8080/capture.pcap
tshark -r capture.pcap -Y http -T fields -e tcp.stream -e ip.src -e http.authorization -e http.response.code > http.tsv
python3 - <<'PY'
import base64
auth, code = {}, {}
for line in open("http.tsv"):
    s, ip, a, c = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
    if a: auth[s] = (ip, base64.b64decode(a.split()[1]).decode())
    if c: code[s] = c
for s, (ip, cred) in auth.items():
    if code.get(s) == "200":
        user, pw = cred.split(":", 1)
        print("answer[1]: " + ip); print("answer[2]: " + user); print(pw)
PY
