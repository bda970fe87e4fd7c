#!/usr/bin/python3
"""Pipeline telemetry relay (AES-128-CTR link encryption).

On connect the relay sends the sealed pipeline-control secret. Legacy RTUs
choose their own 8-byte nonce, so the ENC command takes one; the relay
refuses a nonce it has already used.

  ENC <nonce: 16 hex digits> <plaintext hex>  -> CT <ciphertext hex>
  QUIT
"""
import os
import socketserver

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY = os.urandom(16)
FLAG_PATH = "/srv/flag.txt"


def ctr(nonce, data):
    enc = Cipher(algorithms.AES(KEY), modes.CTR(nonce + bytes(8))).encryptor()
    return enc.update(data) + enc.finalize()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        with open(FLAG_PATH, "rb") as f:
            secret = f.read().strip()
        nonce = os.urandom(8)
        used = {nonce.hex()}
        self.say("PIPELINE TELEMETRY RELAY - link encryption AES-128-CTR")
        self.say("SEALED control-secret nonce=%s ct=%s" % (nonce.hex(), ctr(nonce, secret).hex()))
        for _ in range(64):
            line = self.rfile.readline(8192).decode("latin-1").split()
            if not line or line[0].upper() == "QUIT":
                return
            if line[0].upper() != "ENC" or len(line) != 3:
                self.say("ERR usage: ENC <nonce hex16> <plaintext hex>")
                continue
            if line[1] in used:
                self.say("ERR nonce reuse refused")
                continue
            try:
                n = bytes.fromhex(line[1])
                pt = bytes.fromhex(line[2])
            except ValueError:
                self.say("ERR bad hex")
                continue
            if len(n) != 8 or len(pt) > 512:
                self.say("ERR nonce must be 8 bytes, plaintext at most 512")
                continue
            used.add(line[1])
            self.say("CT " + ctr(n, pt).hex())

    def say(self, s):
        self.wfile.write((s + "\n").encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 9202), Handler).serve_forever()
