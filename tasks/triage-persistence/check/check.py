#!/usr/bin/env python3
"""Checks that every attacker persistence item under /home/agent/mnt was
removed and that the host's legitimate configuration is intact."""
import hashlib
import os
import sys

M = "/home/agent/mnt"
KEEP = {'etc/systemd/system/nginx.service': '2dc00dd1a8f012e24deedc2ac59ce2ba5fcbfede178795f1ea8a48041f73e924', 'etc/systemd/system/backup.service': '4e2c4d1ca2bacbe6a03484d5c3b0e804eb258c28c0b7486193f16f2f1732991c', 'var/spool/cron/crontabs/root': 'f3c93936e09cee51d92d320fb178f98a5ad6d9f79e8d2ca735dab38aacd1753f', 'home/alice/bin/deploy.sh': '94e23b8562566785c76fdb23bae6e729fb3f4673f21744ed577e2e470c89f510', 'usr/lib/x86_64-linux-gnu/libkeyutils.so.1.10': '2a5732420bfc45891aedba9ce1456b3adad02a6f6b6d25df36fb544d7a7aebbb', 'var/log/auth.log': 'd8c11a5cdff49e29d0320fb3ec1afec2af969ed4e946cbe247898f06de6bee2c'}
PASSWD = ['root:x:0:0:root:/root:/bin/bash', 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin', 'bin:x:2:2:bin:/bin:/usr/sbin/nologin', 'sys:x:3:3:sys:/dev:/usr/sbin/nologin', 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin', 'sshd:x:105:65534::/run/sshd:/usr/sbin/nologin', 'alice:x:1000:1000:Alice Ng,,,:/home/alice:/bin/bash', 'backup:x:1001:1001:backup runner:/home/backup:/bin/bash', 'nginx:x:106:112:nginx user:/nonexistent:/usr/sbin/nologin']
SHADOW_USERS = ['root', 'daemon', 'bin', 'sys', 'www-data', 'sshd', 'alice', 'backup', 'nginx']
KEY_BLOBS_KEEP = ['AAAAC3NzaC1lZDI1NTE5AAAAINzyaiEHnWNhUkYvg34G0HgoJ5LDrHkeBiCBJC5WHyu3', 'AAAAC3NzaC1lZDI1NTE5AAAAIDzdsJGroTvocg/pRlYBUeQrhFasW5tkZ1K8TskqWJmP']
KEY_BLOB_BAD = 'AAAAC3NzaC1lZDI1NTE5AAAAIHxEcBTP4bnYekEq+Zwq6Uh7R+sV4hm6YNNuqvF3eDp+'
fails = []


def rd(p):
    try:
        with open(os.path.join(M, p), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def expect(name, cond):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        fails.append(name)


def lines(p):
    return [l.strip() for l in (rd(p) or "").splitlines() if l.strip()]


def main():
    for p, h in KEEP.items():
        d = None
        try:
            d = open(os.path.join(M, p), "rb").read()
        except OSError:
            pass
        expect("legit file unchanged: " + p, d is not None and hashlib.sha256(d).hexdigest() == h)
    pw = lines("etc/passwd")
    expect("passwd: uid-0 backdoor account removed", not any(l.split(":")[2:3] == ["0"] and not l.startswith("root:")
                                                              for l in pw if l.count(":") >= 6))
    expect("passwd: legitimate accounts intact", sorted(pw) == sorted(PASSWD))
    sh = [l.split(":")[0] for l in lines("etc/shadow")]
    expect("shadow: legitimate entries intact, backdoor removed", sorted(sh) == sorted(SHADOW_USERS))
    ak = [l.split()[1] for l in lines("root/.ssh/authorized_keys") if len(l.split()) >= 2]
    expect("authorized_keys: attacker key removed", KEY_BLOB_BAD not in ak)
    expect("authorized_keys: admin and ansible keys kept", all(k in ak for k in KEY_BLOBS_KEEP))
    cr = rd("var/spool/cron/crontabs/www-data") or ""
    expect("cron: reverse shell removed", "base64" not in cr and "/dev/tcp" not in cr)
    expect("cron: legitimate cache cleanup kept",
           "0 3 * * * /usr/bin/find /var/www/cache -type f -mtime +7 -delete" in cr)
    expect("systemd: fake resolver unit removed", rd("etc/systemd/system/systemd-resolvd.service") is None)
    expect("systemd: fake resolver binary removed", rd("usr/lib/systemd/systemd-resolvd") is None)
    pre = rd("etc/ld.so.preload") or ""
    expect("ld.so.preload: rootkit entry removed", "libkeyutils-1.2" not in pre)
    expect("rootkit library removed", rd("usr/lib/x86_64-linux-gnu/libkeyutils-1.2.so.1") is None)
    rc = rd("home/alice/.bashrc") or ""
    expect("bashrc: sudo hijack alias removed", "sudo-helper" not in rc and "alias sudo=" not in rc)
    expect("bashrc: legitimate settings kept", all(s in rc for s in ("alias ll='ls -alF'", "alias gs='git status'",
                                                                      'export PATH="$HOME/bin:$PATH"', "HISTCONTROL")))
    expect("credential stealer removed", rd("home/alice/.local/bin/.sudo-helper") is None)
    print("RESULT:", "PASS" if not fails else "FAIL (%d)" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
