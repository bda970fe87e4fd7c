#!/bin/bash
# Evidence -> persistence: auth.log shows root logins from an outside IP with
# one key fingerprint and a uid-0 account being added; the www-data crontab
# runs a base64 reverse shell; a fake "systemd-resolvd" unit + binary; an
# ld.so.preload rootkit; an alias that hijacks alice's sudo.
set -euo pipefail
cd "$HOME/mnt"
python3 - <<'PY'
import base64, binascii, hashlib, re
# the attacker's key: fingerprint of the logins from the outside address
log = open("var/log/auth.log").read()
bad_fps = set(re.findall(r"Accepted publickey for root from 185\.\S+ .*SHA256:(\S+)", log))
def fp(line):
    return base64.b64encode(hashlib.sha256(base64.b64decode(line.split()[1])).digest()).decode().rstrip("=")
ak = open("root/.ssh/authorized_keys").read().splitlines()
open("root/.ssh/authorized_keys", "w").write("".join(l + "\n" for l in ak if l.strip() and fp(l) not in bad_fps))
for f in ("etc/passwd", "etc/shadow"):
    ls = open(f).read().splitlines()
    open(f, "w").write("".join(l + "\n" for l in ls if not l.startswith("sysupdate:")))
cr = open("var/spool/cron/crontabs/www-data").read().splitlines()
c2 = base64.b64decode(re.search(r"echo (\S+) \| base64 -d", "\n".join(cr)).group(1)).decode()
open("var/spool/cron/crontabs/www-data", "w").write("".join(l + "\n" for l in cr if "base64" not in l))
ip, port = re.search(r"/dev/tcp/([\d.]+)/(\d+)", c2).groups()
print("answer[1]: %s:%s" % (ip, port))
helper = open("home/alice/.local/bin/.sudo-helper").read()
print("answer[2]: " + base64.b64decode(re.search(r"echo (\S+) \| base64 -d \| rev", helper).group(1)).decode()[::-1])
rc = open("home/alice/.bashrc").read().splitlines()
open("home/alice/.bashrc", "w").write("".join(l + "\n" for l in rc if "sudo-helper" not in l))
PY
rm -f etc/systemd/system/systemd-resolvd.service usr/lib/systemd/systemd-resolvd \
	etc/ld.so.preload usr/lib/x86_64-linux-gnu/libkeyutils-1.2.so.1 home/alice/.local/bin/.sudo-helper
