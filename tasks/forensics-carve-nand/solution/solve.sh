#!/bin/bash
# K9F1G08 pages are 2048 bytes + 64 bytes spare. Strip the spare area, then
# find the zlib stream (78 da) and inflate it: a tar with etc/cloud/agent.json.
set -euo pipefail
curl -s -o nand.bin http://evidence:8080/rt88-nand.bin
python3 - <<'PY'
import io, json, tarfile, zlib
raw = open("nand.bin", "rb").read()
data = b"".join(raw[i:i + 2048] for i in range(0, len(raw), 2112))
pos = 0
while True:
    pos = data.find(b"\x78\xda", pos)
    if pos < 0: raise SystemExit("no zlib stream")
    try:
        tar = zlib.decompressobj().decompress(data[pos:])
        tf = tarfile.open(fileobj=io.BytesIO(tar))
        print(json.load(tf.extractfile("etc/cloud/agent.json"))["api_token"]); break
    except Exception:
        pos += 1
PY
