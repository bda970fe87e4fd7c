#!/bin/bash
# auth.log: the one IP whose brute force ends in "Accepted password".
# .bash_history: the exfil tool's session id, XOR key and zone per file.
# dnsmasq log: query names SEQ-HEX.SID.ZONE -> order by SEQ, dedupe, unhex, XOR.
set -euo pipefail
curl -s -o b.tgz http://siem:8080/incident-IR-3141.tar.gz
mkdir -p b && tar -xzf b.tgz -C b
python3 - <<'PY'
import re
auth = open("b/web-02/var/log/auth.log").read()
m = re.search(r"Accepted password for (\S+) from (\S+)", auth)
print("answer[1]: " + m.group(2)); print("answer[2]: " + m.group(1))
hist = open("b/web-02/home/deploy/.bash_history").read()
sid, key, zone = re.search(r"--sid (\S+) --xor 0x([0-9a-f]+) --zone (\S+) /etc/app/secrets.env", hist).groups()
print("answer[3]: " + zone)
chunks = {}
for seq, hx in re.findall(r"query\[A\] (\d+)-([0-9a-f]+)\.%s\.%s " % (sid, re.escape(zone)),
                          open("b/web-02/var/log/dnsmasq-queries.log").read()):
    chunks[int(seq)] = bytes.fromhex(hx)
data = bytes(c ^ int(key, 16) for c in b"".join(chunks[i] for i in sorted(chunks)))
print(re.search(rb"BACKUP_TOKEN=(\S+)", data).group(1).decode())
PY
