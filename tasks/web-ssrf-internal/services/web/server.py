#!/usr/bin/env python3
"""Linkcard: a link-preview service (public, :8080) next to an internal config
API bound to loopback only (:9000). The preview fetcher is an SSRF."""
import html
import json
import re
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAG = open("/srv/flag.txt").read().strip()

INDEX = """<!doctype html><title>Linkcard</title>
<h1>Linkcard</h1><p>Paste a URL to get a preview card.</p>
<form action="/preview"><input name="url" size="60"><button>Preview</button></form>
<!-- ops: feature flags now come from the config API (cfgd) on this host, port 9000.
     Do NOT expose it; it has no auth. -->
"""
DENY = re.compile(r"^(localhost|127\..*|0\.0\.0\.0|0|::1|\[::1\]|.*\.localhost)$", re.I)


def fetch(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    host = u.hostname or ""
    if DENY.match(host):
        return "blocked: internal addresses are not allowed"
    try:
        with urllib.request.urlopen(url, timeout=4) as r:
            return r.read(4096).decode("utf-8", "replace")
    except Exception as ex:  # noqa: BLE001 - the error text is the preview
        return "fetch failed: %s" % ex


class Public(BaseHTTPRequestHandler):
    server_version = "Linkcard/2.1"

    def reply(self, code, body, ctype="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/":
            self.reply(200, INDEX)
        elif u.path == "/preview":
            url = urllib.parse.parse_qs(u.query).get("url", [""])[0]
            card = fetch(url) if url else "usage: /preview?url=URL"
            self.reply(200, "<div class=card><pre>%s</pre></div>" % html.escape(card))
        else:
            self.reply(404, "not found")


class Internal(BaseHTTPRequestHandler):
    server_version = "cfgd/0.3"

    def do_GET(self):
        p = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        if p == "/":
            body = {"service": "cfgd", "routes": ["/v1/flags", "/v1/secrets", "/v1/secrets/<name>"]}
        elif p == "/v1/flags":
            body = {"new_checkout": True, "dark_mode": False}
        elif p == "/v1/secrets":
            body = {"secrets": ["smtp-relay", "release-signing"]}
        elif p == "/v1/secrets/smtp-relay":
            body = {"name": "smtp-relay", "value": "relay.corp.test:25"}
        elif p == "/v1/secrets/release-signing":
            body = {"name": "release-signing", "value": FLAG}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    internal = ThreadingHTTPServer(("127.0.0.1", 9000), Internal)
    threading.Thread(target=internal.serve_forever, daemon=True).start()
    ThreadingHTTPServer(("0.0.0.0", 8080), Public).serve_forever()
