#!/usr/bin/python3
"""Substation gateway diagnostics page (HTTP 8080): checks whether a host
answers on a TCP port, using netcat."""
import http.server
import subprocess
import urllib.parse

PAGE = """<!doctype html><html><head><title>Gateway diagnostics</title></head><body>
<h1>Substation gateway - connectivity check</h1>
<form method="POST" action="/check">host <input name="host"> port <input name="port" value="502">
<button>check</button></form><pre>%s</pre></body></html>
"""
BAD = set(";&|`\n\r")


def check(host, port):
    if not port.isdigit():
        return "port must be a number"
    if any(c in BAD for c in host):
        return "invalid characters in host"
    cmd = "nc -z -v -w 1 %s %s 2>&1" % (host, port)
    with open("/srv/logs/diag.log", "a") as log:
        log.write(cmd + "\n")
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=15)
    return r.stdout + r.stderr


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, body):
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send(PAGE % "")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(min(n, 8192)).decode("latin-1"))
        host = (form.get("host") or [""])[0]
        port = (form.get("port") or [""])[0]
        try:
            out = check(host, port)
        except subprocess.TimeoutExpired:
            out = "timed out"
        self.send(PAGE % out.replace("&", "&amp;").replace("<", "&lt;"))

    def log_message(self, *a):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
