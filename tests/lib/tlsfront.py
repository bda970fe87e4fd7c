#!/usr/bin/env python3
"""tlsfront.py CERT KEY UPSTREAM_PORT PORT_FILE: a TLS front for a plain
HTTP server on 127.0.0.1 (the mock model), as a lab's TLS-terminating
proxy is. Each accepted connection is wrapped in TLS with CERT/KEY and
its bytes are copied both ways to UPSTREAM_PORT. When the upstream
connection is reset (the mock's "reset" fault), the client's connection
is reset too (SO_LINGER 0): a TLS connection that dies mid-body. The
port listened on is written to PORT_FILE. Exits after 120 s without a
connection."""
import socket
import ssl
import struct
import sys
import threading

cert, key, upstream, port_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", 0))
lsock.listen(64)
with open(port_file, "w") as f:
    f.write("%d\n" % lsock.getsockname()[1])
lsock.settimeout(120)


def reset(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def up_to_client(up, tls):
    """Upstream's answer to the client; a reset upstream resets the client."""
    try:
        while True:
            data = up.recv(65536)
            if not data:
                break
            tls.sendall(data)
    except ConnectionResetError:
        reset(tls)
        up.close()
        return
    except OSError:
        pass
    try:
        tls.close()
    except OSError:
        pass
    up.close()


def serve(raw):
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()   # the client refused our certificate
        return
    up = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=up_to_client, args=(up, tls), daemon=True).start()
    try:
        while True:
            data = tls.recv(65536)
            if not data:
                break
            up.sendall(data)
    except OSError:
        pass
    try:
        up.shutdown(socket.SHUT_WR)
    except OSError:
        pass


while True:
    try:
        c, _ = lsock.accept()
    except OSError:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
