#!/usr/bin/python3
"""Grid-operator beacon: broadcasts the dispatch secret 'encrypted' with
textbook RSA (e = 3, no padding) under a fresh 2048-bit key per start."""
import secrets
import socketserver

E = 3
SMALL = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def probable_prime(n):
    for p in SMALL:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(32):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(bits):
    while True:
        p = secrets.randbits(bits) | (3 << (bits - 2)) | 1   # top two bits set: |n| = 2 bits
        if p % 3 == 2 and probable_prime(p):
            return p


with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip().encode()
P, Q = prime(1024), prime(1024)
N = P * Q
C = pow(int.from_bytes(FLAG, "big"), E, N)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(("GRID DISPATCH BEACON\n"
                          "payload: dispatch secret, big-endian integer, RSA encrypted\n"
                          "n = %d\ne = %d\nc = %d\n" % (N, E, C)).encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 9201), Handler).serve_forever()
