#!/usr/bin/env python3
"""Drive an interactive command through a pseudo-terminal, as a person at
a terminal would: each line of SCRIPT is typed once the command shows one
more shell prompt ("$ ") than before; then wait for the command to end.
Everything the terminal showed goes to stdout; exits with its status.

    ptydrive.py SCRIPT -- COMMAND [ARG...]

The waits have generous bounds (a hung command fails the caller's checks,
it does not time them)."""
import os
import pty
import select
import sys

PROMPT = b"$ "


def main():
    script = open(sys.argv[1]).read().splitlines()
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = bytearray()

    def read_some(wait_s):
        r, _, _ = select.select([fd], [], [], wait_s)
        if not r:
            return True
        try:
            d = os.read(fd, 65536)
        except OSError:
            return False
        out.extend(d)
        return bool(d)

    seen = 0
    alive = True
    for line in script:
        for _ in range(1200):      # up to ~10 min for the next prompt
            if not alive or out.count(PROMPT) > seen:
                break
            alive = read_some(0.5)
        seen = out.count(PROMPT)
        if alive:
            os.write(fd, line.encode() + b"\r")
    for _ in range(1200):
        if not alive:
            break
        alive = read_some(0.5)
    _, st = os.waitpid(pid, 0)
    sys.stdout.buffer.write(bytes(out))
    sys.exit(os.waitstatus_to_exitcode(st))


main()
