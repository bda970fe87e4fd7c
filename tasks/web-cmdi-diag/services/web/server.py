#!/usr/bin/env python3
"""NetDiag: a small intranet page that resolves host names (deliberately vulnerable)."""
import html
import subprocess
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!doctype html><title>NetDiag</title>
<h1>NetDiag &mdash; host lookup</h1>
<form action="/lookup"><input name="host" placeholder="db01.corp"><button>Resolve</button></form>
<pre>{out}</pre>
"""
BLOCKED = (";", "`")


def lookup(host):
    if not host:
        return "usage: /lookup?host=NAME"
    if any(c in host for c in BLOCKED):
        return "error: illegal character in host name"
    cmd = "getent hosts " + host + " 2>&1 || echo 'no such host: " + host.replace("'", "") + "'"
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=5)
    return r.stdout + r.stderr


class Handler(BaseHTTPRequestHandler):
    server_version = "NetDiag/1.2"

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/":
            body = PAGE.format(out="")
        elif u.path == "/lookup":
            host = urllib.parse.parse_qs(u.query).get("host", [""])[0]
            try:
                body = PAGE.format(out=html.escape(lookup(host)))
            except subprocess.TimeoutExpired:
                body = PAGE.format(out="timeout")
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
