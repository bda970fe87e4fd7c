#!/usr/bin/env python3
"""Builds capture.pcap at start-up (several HTTP sessions, Basic-auth attempts
against /admin; one succeeds with the planted flag as its password) and
serves it over HTTP."""
import base64
import secrets
import tempfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from pcapw import Pcap

FLAG = open("/srv/flag.txt").read().strip()
WWW = tempfile.mkdtemp(prefix="www-")  # served files; /srv may be read-only
SRV = "10.20.0.5"


def req(path, auth=None, extra=""):
    h = "GET %s HTTP/1.1\r\nHost: intranet.corp.test\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" % path
    if auth:
        h += "Authorization: Basic %s\r\n" % base64.b64encode(auth.encode()).decode()
    return (h + extra + "Accept: */*\r\n\r\n").encode()


def resp(code, reason, body, extra=""):
    b = body.encode()
    return ("HTTP/1.1 %d %s\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: %d\r\n%s\r\n"
            % (code, reason, len(b), extra)).encode() + b


DENY = resp(401, "Unauthorized", "<h1>401 Authorization Required</h1>",
            'WWW-Authenticate: Basic realm="intranet admin"\r\n')


def build():
    p = Pcap()
    t = 1773456000.0 + 9 * 3600
    page = "<html><body><h1>Corp intranet</h1><a href=/admin>admin</a></body></html>"
    t = p.session(t, "10.20.0.31", 51022, SRV, 80, [(True, req("/")), (False, resp(200, "OK", page))]) + 1.7
    t = p.session(t, "10.20.0.44", 40110, SRV, 80, [(True, req("/admin")), (False, DENY)]) + 0.4
    t = p.session(t, "10.20.0.44", 40112, SRV, 80, [(True, req("/admin", "admin:flag{%s}" % secrets.token_hex(16))),
                                                   (False, DENY)]) + 3.1
    t = p.session(t, "10.20.0.66", 55310, SRV, 80, [(True, req("/admin", "admin:Winter2025!")), (False, DENY)]) + 0.9
    t = p.session(t, "10.20.0.71", 60001, SRV, 80, [(True, req("/admin", "backup:flag{%s}" % secrets.token_hex(16))),
                                                   (False, DENY)]) + 2.2
    t = p.session(t, "10.20.0.31", 51030, SRV, 80, [(True, req("/news.html")),
                                                   (False, resp(200, "OK", "<p>Canteen closed Friday.</p>"))]) + 4.0
    ok = "<h1>Admin</h1><p>Welcome, svc-backup. Last backup: OK.</p>"
    t = p.session(t, "10.20.0.66", 55318, SRV, 80, [(True, req("/admin", "svc-backup:" + FLAG)),
                                                   (False, resp(200, "OK", ok))]) + 1.3
    t = p.session(t, "10.20.0.71", 60007, SRV, 80, [(True, req("/admin", "backup:backup")), (False, DENY)])
    open(WWW + "/capture.pcap", "wb").write(p.bytes())


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=WWW, **kw)


if __name__ == "__main__":
    build()
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
