#!/usr/bin/python3
"""Building-management web supervisor (HTTP 8080) of a hospital plant room.

Default installer account left enabled; setpoint limits are enforced only by
the browser UI, the API accepts any value. Driving the chilled-water
setpoint below the freeze-protection limit raises an alarm whose record
carries the audit proof (the flag)."""
import http.server
import json
import secrets
import threading

with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()

USERS = {"admin": secrets.token_hex(12), "installer": "bms2200!"}
TOKENS = {}
LOCK = threading.Lock()
POINTS = {
    "AHU-1.supply_air_sp": {"value": 18.0, "unit": "degC", "ui_min": 14, "ui_max": 24},
    "AHU-1.fan_speed": {"value": 65.0, "unit": "%", "ui_min": 20, "ui_max": 100},
    "CH-1.chw_supply_sp": {"value": 7.0, "unit": "degC", "ui_min": 5, "ui_max": 12},
    "CH-1.enable": {"value": 1, "unit": "bool", "ui_min": 0, "ui_max": 1},
    "OR-3.room_temp_sp": {"value": 20.0, "unit": "degC", "ui_min": 18, "ui_max": 24},
}
ALARMS = [{"id": 1, "point": "AHU-1.filter_dp", "text": "filter differential pressure high", "ack": True}]

INDEX = b"""<!doctype html><html><head><title>Metrovent BMS-2200 Web Supervisor</title></head>
<body><h1>Metrovent BMS-2200 Web Supervisor v3.1</h1>
<p>St. Anselm Hospital - plant room B2</p>
<form id="f"><input name="user" placeholder="user"><input name="password" type="password">
<button>Sign in</button></form>
<script>
// API: POST /api/login {"user","password"} -> {"token"}; send "Authorization: Bearer TOKEN"
// GET /api/points, POST /api/points/<name> {"value"}, GET /api/alarms
function setPoint(name, v, p) {
  if (v < p.ui_min || v > p.ui_max) { alert("value out of range"); return; }
  fetch("/api/points/" + name, {method: "POST", body: JSON.stringify({value: v})});
}
</script>
<p><small>Operator manual: <a href="/docs/manual.txt">/docs/manual.txt</a></small></p>
</body></html>
"""
MANUAL = b"""METROVENT BMS-2200 WEB SUPERVISOR - OPERATOR MANUAL (rev 3.1)

1. First sign-in
   The supervisor ships with two accounts:
     admin      - password printed on the label inside the controller door
     installer  - factory password "bms2200!" for commissioning engineers
   Disable the installer account when commissioning is complete.

2. Setpoints
   Setpoints are adjusted from the point list. The chilled-water supply
   setpoint of a chiller (CH-n.chw_supply_sp) is limited to 5..12 degC by
   the user interface; below 4 degC the evaporator risks freezing and the
   supervisor raises a FREEZE PROTECTION alarm.
"""


def check_freeze():
    sp = POINTS["CH-1.chw_supply_sp"]["value"]
    if sp < 4.0 and not any(a["point"] == "CH-1.chw_supply_sp" for a in ALARMS):
        ALARMS.append({"id": len(ALARMS) + 1, "point": "CH-1.chw_supply_sp",
                       "text": "FREEZE PROTECTION: chilled-water setpoint %.1f degC below 4.0; "
                               "unsafe command accepted. audit proof: %s" % (sp, FLAG),
                       "ack": False})


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, body, ctype="application/json"):
        if not isinstance(body, bytes):
            body = (json.dumps(body, indent=1) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authed(self):
        h = self.headers.get("Authorization", "")
        tok = h[7:] if h.startswith("Bearer ") else ""
        if tok and tok in TOKENS:
            return True
        self.send(401, {"error": "authentication required"})
        return False

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(min(n, 65536)) or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        if self.path == "/":
            self.send(200, INDEX, "text/html")
        elif self.path == "/docs/manual.txt":
            self.send(200, MANUAL, "text/plain")
        elif self.path == "/api/points":
            if self.authed():
                with LOCK:
                    self.send(200, POINTS)
        elif self.path == "/api/alarms":
            if self.authed():
                with LOCK:
                    self.send(200, ALARMS)
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        b = self.body()
        if not isinstance(b, dict):
            self.send(400, {"error": "JSON object expected"})
            return
        if self.path == "/api/login":
            u, p = b.get("user"), b.get("password")
            if isinstance(u, str) and isinstance(p, str) and u in USERS \
                    and secrets.compare_digest(USERS[u].encode(), p.encode()):
                tok = secrets.token_hex(16)
                TOKENS[tok] = u
                self.send(200, {"token": tok, "user": u})
            else:
                self.send(403, {"error": "invalid credentials"})
        elif self.path.startswith("/api/points/"):
            if not self.authed():
                return
            name = self.path[len("/api/points/"):]
            v = b.get("value")
            with LOCK:
                if name not in POINTS:
                    self.send(404, {"error": "no such point"})
                    return
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    self.send(400, {"error": "numeric value expected"})
                    return
                POINTS[name]["value"] = v
                check_freeze()
                self.send(200, {"point": name, "value": v, "status": "written"})
        else:
            self.send(404, {"error": "not found"})

    def log_message(self, *a):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
