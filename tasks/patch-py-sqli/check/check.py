#!/usr/bin/env python3
"""Runs the (patched) Jotter app unprivileged, then functional tests (must
pass) and SQL-injection exploits (must fail). Exit 0 only if all hold."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PORT = 18093
BASE = "http://127.0.0.1:%d" % PORT
failures = []


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    rq = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        rq.add_header("Content-Type", "application/json")
    if token:
        rq.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(rq, timeout=5) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}
    except (OSError, ValueError) as e:
        return 0, {"exception": str(e)}


def expect(name, cond):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)


def login(user, pw):
    s, b = call("POST", "/login", {"user": user, "password": pw})
    return b.get("token") if s == 200 else None


def main():
    src = sys.argv[1]
    if not os.path.isfile(src):
        print("FAIL no app at " + src)
        return 1
    work = tempfile.mkdtemp(prefix="chk-")
    shutil.copy(src, os.path.join(work, "app.py"))
    os.chown(work, 1000, 1000)
    proc = subprocess.Popen(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "python3", "-I", "app.py",
                             "--port", str(PORT), "--db", os.path.join(work, "j.db")], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            print("FAIL app did not start")
            return 1
        run_tests()
    finally:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("RESULT:", "PASS" if not failures else "FAIL (%d)" % len(failures))
    return 0 if not failures else 1


def run_tests():
    secret = "admin-secret-" + secrets.token_hex(8)
    apw = secrets.token_hex(12)
    # --- functional ---
    expect("register admin", call("POST", "/register", {"user": "admin", "password": apw})[0] == 201)
    at = login("admin", apw)
    expect("admin login", bool(at))
    expect("admin note", call("POST", "/notes", {"title": "payroll", "body": secret}, at)[0] == 201)
    expect("register o'brien", call("POST", "/register", {"user": "o'brien", "password": "s3cr'et\""})[0] == 201)
    expect("duplicate register refused", call("POST", "/register", {"user": "o'brien", "password": "x"})[0] == 409)
    expect("wrong password refused", login("o'brien", "s3cr'et") is None)
    ot = login("o'brien", "s3cr'et\"")
    expect("o'brien login", bool(ot))
    body = "He said \"50% off\" -- don't; DROP nothing"
    expect("note with quotes", call("POST", "/notes", {"title": "Ann's plan", "body": body}, ot)[0] == 201)
    expect("second note", call("POST", "/notes", {"title": "groceries", "body": "milk"}, ot)[0] == 201)
    s, b = call("GET", "/notes?q=Ann%27s", token=ot)
    notes = b.get("notes", [])
    expect("search with apostrophe", s == 200 and len(notes) == 1 and notes[0].get("body") == body
           and notes[0].get("title") == "Ann's plan")
    s, b = call("GET", "/notes?q=", token=ot)
    expect("list own notes only", s == 200 and sorted(n.get("title") for n in b.get("notes", []))
           == ["Ann's plan", "groceries"])
    s, b = call("GET", "/notes?q=zzz", token=ot)
    expect("search no match", s == 200 and b.get("notes") == [])
    expect("no token refused", call("GET", "/notes?q=")[0] == 401)
    # --- exploits ---
    mt = None
    expect("register mallory", call("POST", "/register", {"user": "mallory", "password": "m"})[0] == 201)
    mt = login("mallory", "m")
    for user in ("admin' --", "admin'/*", "' OR 1=1 --", "x' OR name='admin' --"):
        expect("login bypass blocked: %r" % user, login(user, "whatever") is None)
    for q in ("' UNION SELECT id, title, body FROM notes --", "%' OR owner='admin' --",
              "' OR '1'='1", "x' UNION SELECT 1, name, pw_hash FROM users --"):
        s, b = call("GET", "/notes?q=" + urllib.request.quote(q), token=mt)
        txt = json.dumps(b)
        expect("search injection blocked: %r" % q, secret not in txt and "pw_hash" not in txt
               and not any(len(str(n.get("body", ""))) == 64 for n in b.get("notes", [])))
    inj = "x', 'y'), ('admin', 'pwned', 'planted') --"
    call("POST", "/notes", {"title": inj, "body": "b"}, mt)
    s, b = call("GET", "/notes?q=", token=at)
    expect("insert injection blocked", s == 200 and [n.get("title") for n in b.get("notes", [])] == ["payroll"])
    s, b = call("GET", "/notes?q=", token=mt)
    expect("mallory sees her own note verbatim", s == 200 and any(n.get("title") == inj for n in b.get("notes", [])))


if __name__ == "__main__":
    sys.exit(main())
