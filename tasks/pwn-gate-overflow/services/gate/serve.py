#!/usr/bin/python3
"""Compile a C service at start-up and serve it on a TCP port, one forked
process per connection with the socket as stdin/stdout/stderr (inetd style).

usage: serve.py SOURCE PORT [GCC FLAGS...]
The binary is built exactly as build.sh in the agent's files builds it."""
import os
import signal
import socket
import subprocess
import sys
import tempfile


def main():
    src, port, cflags = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    build = tempfile.mkdtemp()
    exe = os.path.join(build, "svc")
    # gcc's own temporary files go there too, whether or not /tmp exists
    subprocess.run(["gcc", *cflags, "-o", exe, src], check=True,
                   env=dict(os.environ, TMPDIR=build))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (0, 1, 2):
                os.dup2(conn.fileno(), fd)
            signal.alarm(120)
            os.execv(exe, [exe])
        conn.close()


if __name__ == "__main__":
    main()
