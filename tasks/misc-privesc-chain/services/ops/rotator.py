#!/usr/bin/python3
"""logrotd: rotates the diagnostics logs every two seconds and then runs
every post-rotation hook (*.sh) found in /srv/hooks, as root."""
import glob
import os
import subprocess
import time

LOGS = "/srv/logs"
HOOKS = "/srv/hooks"


def rotate():
    log = os.path.join(LOGS, "diag.log")
    if os.path.exists(log) and os.path.getsize(log) > 65536:
        os.replace(log, log + ".1")


def run_hooks():
    for hook in sorted(glob.glob(os.path.join(HOOKS, "*.sh"))):
        try:
            subprocess.run(["sh", hook], timeout=10, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd="/")
        except subprocess.TimeoutExpired:
            pass


if __name__ == "__main__":
    while True:
        rotate()
        run_hooks()
        time.sleep(2)
