#!/usr/bin/python3
"""Start-up of the ops box: the diagnostics web app runs unprivileged
(uid 1000), the log rotator runs as root and runs post-rotation hooks."""
import os
import sys

HOOKS = "/srv/hooks"
WWW_UID = 1000


def main():
    os.makedirs(HOOKS, exist_ok=True)
    os.chown(HOOKS, WWW_UID, WWW_UID)   # so the web team can drop hooks
    os.chmod(HOOKS, 0o755)
    os.makedirs("/srv/logs", exist_ok=True)
    os.chown("/srv/logs", WWW_UID, WWW_UID)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(WWW_UID)
            os.setuid(WWW_UID)
        except OSError as e:
            sys.stderr.write("cannot drop privileges to uid %d: %s\n" % (WWW_UID, e))
            os._exit(1)
        os.execv(sys.executable, [sys.executable, "/srv/webdiag.py"])
    os.execv(sys.executable, [sys.executable, "/srv/rotator.py"])


if __name__ == "__main__":
    main()
