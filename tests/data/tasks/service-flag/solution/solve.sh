#!/bin/bash
set -euo pipefail
python3 - <<'PY'
import socket
s = socket.create_connection(("vault", 7000), timeout=5)
s.sendall(b"please\n")
print(s.makefile().readline().strip())
PY
