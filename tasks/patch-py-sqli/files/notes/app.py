#!/usr/bin/env python3
"""Jotter: a tiny multi-user notes API (JSON over HTTP, SQLite).

  POST /register {"user", "password"}         -> 201 {"ok": true}
  POST /login    {"user", "password"}         -> 200 {"token": T} | 401
  POST /notes    {"title", "body"}  (Bearer T) -> 201 {"id": N}
  GET  /notes?q=TEXT                 (Bearer T) -> 200 {"notes": [{"id","title","body"}...]}
       (only the caller's own notes whose title contains TEXT)

usage: app.py [--port 8080] [--db jotter.db]
"""
import argparse
import hashlib
import json
import secrets
import sqlite3
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
DB = None


def init_db(path):
    db = sqlite3.connect(path, check_same_thread=False)
    db.executescript("""
        CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, pw_hash TEXT);
        CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, name TEXT);
        CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, owner TEXT, title TEXT, body TEXT);
    """)
    return db


def pw_hash(user, password):
    return hashlib.sha256(("jotter:" + user + ":" + password).encode()).hexdigest()


def register(user, password):
    with LOCK:
        try:
            DB.execute("INSERT INTO users VALUES ('%s', '%s')" % (user, pw_hash(user, password)))
            DB.commit()
            return True
        except sqlite3.IntegrityError:
            return False


def login(user, password):
    with LOCK:
        row = DB.execute("SELECT name FROM users WHERE name = '%s' AND pw_hash = '%s'"
                         % (user, pw_hash(user, password))).fetchone()
        if not row:
            return None
        token = secrets.token_hex(16)
        DB.execute("INSERT INTO sessions VALUES ('%s', '%s')" % (token, row[0]))
        DB.commit()
        return token


def whoami(token):
    with LOCK:
        row = DB.execute("SELECT name FROM sessions WHERE token = ?", (token,)).fetchone()
    return row[0] if row else None


def add_note(owner, title, body):
    with LOCK:
        cur = DB.execute("INSERT INTO notes (owner, title, body) VALUES ('%s', '%s', '%s')" % (owner, title, body))
        DB.commit()
        return cur.lastrowid


def find_notes(owner, q):
    with LOCK:
        rows = DB.execute("SELECT id, title, body FROM notes WHERE owner = '%s' AND title LIKE '%%%s%%' ORDER BY id"
                          % (owner, q)).fetchall()
    return [{"id": r[0], "title": r[1], "body": r[2]} for r in rows]


class Handler(BaseHTTPRequestHandler):
    server_version = "Jotter/0.4"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        try:
            obj = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None

    def user(self):
        a = self.headers.get("Authorization", "")
        return whoami(a[7:].strip()) if a.startswith("Bearer ") else None

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        b = self.body()
        if b is None:
            self.send_json(400, {"error": "bad json"})
            return
        try:
            if path == "/register":
                ok = register(str(b.get("user", "")), str(b.get("password", "")))
                self.send_json(201 if ok else 409, {"ok": ok})
            elif path == "/login":
                t = login(str(b.get("user", "")), str(b.get("password", "")))
                self.send_json(200 if t else 401, {"token": t} if t else {"error": "bad credentials"})
            elif path == "/notes":
                u = self.user()
                if not u:
                    self.send_json(401, {"error": "login first"})
                    return
                self.send_json(201, {"id": add_note(u, str(b.get("title", "")), str(b.get("body", "")))})
            else:
                self.send_json(404, {"error": "not found"})
        except sqlite3.Error as ex:
            self.send_json(500, {"error": str(ex)})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/notes":
            self.send_json(404, {"error": "not found"})
            return
        who = self.user()
        if not who:
            self.send_json(401, {"error": "login first"})
            return
        q = urllib.parse.parse_qs(u.query).get("q", [""])[0]
        try:
            self.send_json(200, {"notes": find_notes(who, q)})
        except sqlite3.Error as ex:
            self.send_json(500, {"error": str(ex)})


def main():
    global DB
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--db", default="jotter.db")
    a = ap.parse_args()
    DB = init_db(a.db)
    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
