#!/usr/bin/env python3
"""shelf: the department's small file server (static files, uploads, CGI).
All behaviour is driven by server.conf (JSON); see the keys used below.

usage: server.py [--conf server.conf] [--listen HOST:PORT]
"""
import argparse
import base64
import hashlib
import hmac
import html
import json
import os
import subprocess
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONF = {}
BASE = os.getcwd()


def check_user(header):
    """Returns (name, role) for a valid 'Authorization: Basic' header, else None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        name, pw = base64.b64decode(header[6:]).decode().split(":", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    u = CONF.get("users", {}).get(name)
    if not u:
        return None
    if "password_sha256" in u:
        ok = hmac.compare_digest(hashlib.sha256(pw.encode()).hexdigest(), u["password_sha256"])
    else:
        ok = "password" in u and hmac.compare_digest(pw, str(u["password"]))
    return (name, u.get("role", "user")) if ok else None


def fs_path(url_path):
    root = os.path.join(BASE, CONF.get("root", "www"))
    p = urllib.parse.unquote(url_path)
    if CONF.get("normalize_paths", True):
        p = os.path.normpath("/" + p).lstrip("/")
        return os.path.join(root, p)
    return root + "/" + p.lstrip("/")


class Handler(BaseHTTPRequestHandler):
    server_version = "shelf/1.3"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="text/plain; charset=utf-8", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def hidden(self, path):
        return any(part.startswith(".") and part not in (".", "..") for part in path.split("/"))

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.rstrip("/") == CONF.get("admin_path", "/admin").rstrip("/"):
            who = check_user(self.headers.get("Authorization"))
            if not who or who[1] != "admin":
                self.reply(401, "authentication required", extra={"WWW-Authenticate": 'Basic realm="shelf"'})
            else:
                self.reply(200, "shelf admin: logged in as %s; uploads=%s\n" % (who[0], CONF.get("upload", {})))
            return
        if self.hidden(urllib.parse.unquote(path)) and not CONF.get("serve_hidden", False):
            self.reply(404, "not found")
            return
        fp = fs_path(path)
        cgi = CONF.get("cgi", {})
        if (cgi.get("enabled") and os.path.isfile(fp) and os.path.splitext(fp)[1] in cgi.get("extensions", [])
                and any(path.startswith(d.rstrip("/") + "/") for d in cgi.get("dirs", []))):
            r = subprocess.run(["python3", "-I", fp], capture_output=True, timeout=10, cwd=os.path.dirname(fp))
            self.reply(200 if r.returncode == 0 else 500, r.stdout)
            return
        if os.path.isdir(fp):
            idx = os.path.join(fp, "index.html")
            if os.path.isfile(idx):
                fp = idx
            elif CONF.get("autoindex", False):
                items = "".join('<li><a href="%s">%s</a></li>' % (html.escape(n), html.escape(n))
                                for n in sorted(os.listdir(fp)))
                self.reply(200, "<h1>Index of %s</h1><ul>%s</ul>" % (html.escape(path), items), "text/html")
                return
            else:
                self.reply(403, "forbidden")
                return
        try:
            with open(fp, "rb") as f:
                data = f.read()
        except OSError:
            self.reply(404, "not found")
            return
        ctype = "text/html" if fp.endswith(".html") else "application/octet-stream"
        if fp.endswith((".txt", ".py", ".conf", ".md")):
            ctype = "text/plain; charset=utf-8"
        self.reply(200, data, ctype)

    def do_PUT(self):
        up = CONF.get("upload", {})
        path = urllib.parse.urlsplit(self.path).path
        prefix = up.get("url", "/uploads/")
        if not up.get("enabled") or not path.startswith(prefix):
            self.reply(405, "uploads disabled")
            return
        if up.get("require_auth", True) and not check_user(self.headers.get("Authorization")):
            self.reply(401, "authentication required", extra={"WWW-Authenticate": 'Basic realm="shelf"'})
            return
        name = os.path.basename(urllib.parse.unquote(path[len(prefix):]))
        n = int(self.headers.get("Content-Length", "0") or 0)
        if not name or name.startswith(".") or n > up.get("max_bytes", 1 << 20):
            self.reply(400, "bad upload")
            return
        with open(os.path.join(BASE, up.get("dir", "www/uploads"), name), "wb") as f:
            f.write(self.rfile.read(n))
        self.reply(201, "stored %s\n" % name)


def main():
    global CONF
    ap = argparse.ArgumentParser()
    ap.add_argument("--conf", default="server.conf")
    ap.add_argument("--listen")
    a = ap.parse_args()
    CONF = json.load(open(a.conf))
    host, port = (a.listen or CONF.get("listen", "0.0.0.0:8080")).rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
