#!/usr/bin/python3
"""Licensing server for the FORGE PLC programming suite.

At start-up it draws a fresh licence key, builds the offline key checker
(keycheck) with that key obfuscated inside it, and serves:
  GET  /                  help
  GET  /download/keycheck the offline checker (stripped ELF)
  POST /activate          body key=FORGE-XXXX-XXXX-XXXX -> activation token
"""
import http.server
import os
import secrets
import string
import subprocess
import tempfile
import urllib.parse

ALPHA = string.ascii_uppercase + string.digits


def rotl8(v, n):
    return ((v << n) | (v >> (8 - n))) & 0xFF


def make_key():
    groups = ["".join(secrets.choice(ALPHA) for _ in range(4)) for _ in range(3)]
    return "FORGE-" + "-".join(groups)


def build_checker(key):
    enc = [rotl8(ord(c) ^ ((0x5A + 7 * i) & 0xFF), 3) for i, c in enumerate(key)]
    src = """#include <stdio.h>
#include <string.h>
static const unsigned char lic[%d] = {%s};
static unsigned char rotr8(unsigned char v, int n)
{ return (unsigned char)((v >> n) | (v << (8 - n))); }
static int check(const char *k)
{
	if (strlen(k) != sizeof lic)
		return 0;
	for (unsigned i = 0; i < sizeof lic; i++)
		if ((unsigned char)(rotr8(lic[i], 3) ^ (0x5A + 7 * i)) != (unsigned char)k[i])
			return 0;
	return 1;
}
int main(int argc, char **argv)
{
	char buf[64];
	const char *k = argc > 1 ? argv[1] : NULL;
	if (!k) {
		printf("FORGE licence key: ");
		if (!fgets(buf, sizeof buf, stdin)) return 2;
		buf[strcspn(buf, "\\r\\n")] = 0;
		k = buf;
	}
	if (check(k)) {
		puts("Licence key valid. Activate it at the licensing server (POST /activate key=...).");
		return 0;
	}
	puts("Invalid licence key.");
	return 1;
}
""" % (len(enc), ",".join("0x%02x" % b for b in enc))
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "keycheck.c"), "w") as f:
        f.write(src)
    exe = os.path.join(d, "keycheck")
    subprocess.run(["gcc", "-O2", "-s", "-o", exe, os.path.join(d, "keycheck.c")], check=True,
                   env=dict(os.environ, TMPDIR=d))
    os.unlink(os.path.join(d, "keycheck.c"))
    with open(exe, "rb") as f:
        return f.read()


KEY = make_key()
CHECKER = build_checker(KEY)
with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()
HELP = b"""FORGE licensing server
GET  /download/keycheck   offline licence key checker (Linux x86-64)
POST /activate            form field key=<licence key>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/download/keycheck":
            self.send(200, CHECKER, "application/octet-stream")
        elif self.path == "/":
            self.send(200, HELP)
        else:
            self.send(404, b"not found\n")

    def do_POST(self):
        if self.path != "/activate":
            self.send(404, b"not found\n")
            return
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(min(n, 4096)).decode("latin-1"))
        key = (form.get("key") or [""])[0].strip()
        if secrets.compare_digest(key.encode(), KEY.encode()):
            self.send(200, ("activated. token: %s\n" % FLAG).encode())
        else:
            self.send(403, b"invalid licence key\n")

    def log_message(self, *a):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
