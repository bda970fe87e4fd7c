#!/usr/bin/env python3
"""Gearbox shop: a JSON product search backed by SQLite (deliberately vulnerable)."""
import json
import secrets
import sqlite3
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAG = open("/srv/flag.txt").read().strip()
DB = sqlite3.connect(":memory:", check_same_thread=False)
LOCK = threading.Lock()


def setup():
    c = DB.cursor()
    c.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL, hidden INTEGER)")
    items = [("Torque wrench 3/8in", 54.9), ("Socket set 40pc", 89.0), ("Impact driver", 129.5),
             ("Wire stripper", 17.25), ("Multimeter CAT III", 74.0), ("Soldering station", 99.0),
             ("Heat gun", 39.9), ("Cable ties (500)", 8.5), ("Hex key set", 12.0),
             ("Prototype: plasma cutter", 1999.0)]
    for i, (n, p) in enumerate(items, 1):
        c.execute("INSERT INTO products VALUES (?,?,?,?)", (i, n, p, 1 if n.startswith("Prototype") else 0))
    c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, pw_hash TEXT)")
    for i, e in enumerate(["ana@gearbox.test", "li@gearbox.test", "omar@gearbox.test"], 1):
        c.execute("INSERT INTO customers VALUES (?,?,?)", (i, e, secrets.token_hex(32)))
    # The staff table's name changes every start, so it must be discovered.
    t = "staff_secrets_" + secrets.token_hex(3)
    c.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, label TEXT, value TEXT)")
    c.execute(f"INSERT INTO {t} VALUES (1, 'wifi-guest', ?)", (secrets.token_urlsafe(12),))
    c.execute(f"INSERT INTO {t} VALUES (2, 'backup-token', ?)", (FLAG,))
    DB.commit()


def search(q):
    sql = ("SELECT name, price FROM products WHERE hidden = 0 AND name LIKE '%" + q
           + "%' ORDER BY price")
    with LOCK:
        return [{"name": r[0], "price": r[1]} for r in DB.execute(sql).fetchall()]


class Handler(BaseHTTPRequestHandler):
    server_version = "Gearbox/0.9"

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/":
            self.send_json(200, {"service": "gearbox", "endpoints": ["/api/search?q=TEXT"]})
        elif u.path == "/api/search":
            q = urllib.parse.parse_qs(u.query).get("q", [""])[0]
            try:
                self.send_json(200, {"results": search(q)})
            except sqlite3.Error:
                self.send_json(500, {"error": "query failed"})
        else:
            self.send_json(404, {"error": "not found"})


if __name__ == "__main__":
    setup()
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
