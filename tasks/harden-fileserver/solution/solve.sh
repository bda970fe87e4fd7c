#!/bin/bash
# Harden server.conf: no autoindex, no dotfiles, normalised paths, drop the
# default admin account, authenticated uploads, CGI only in /cgi-bin.
set -euo pipefail
cd "$HOME/fileserver"
python3 - <<'PY'
import json
c = json.load(open("server.conf"))
c["autoindex"] = False
c["serve_hidden"] = False
c["normalize_paths"] = True
c["users"].pop("admin", None)
c["upload"]["require_auth"] = True
c["cgi"]["dirs"] = ["/cgi-bin"]
json.dump(c, open("server.conf", "w"), indent=2)
PY
