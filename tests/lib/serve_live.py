#!/usr/bin/env python3
"""HTTP tests of `assay serve`'s live campaign progress (run by
tests/integration/serve.sh): GET /campaigns/{id}/events read as a stream
while a baseline campaign runs (the counts advance, the stream ends with
the campaign), need-to-know on the stream (404 for others), and a stream
whose session is ended by logout ends too."""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program import Server, admin, check, finish  # noqa: E402


class Stream:
    """An open GET /campaigns/{id}/events, read event by event."""

    def __init__(self, client, cid):
        self.c = http.client.HTTPConnection(client.s.host, client.s.port, timeout=120)
        self.c.request("GET", "/api/v1/campaigns/%d/events" % cid,
                       headers={"Cookie": "assay_session=" + client.cookie})
        self.r = self.c.getresponse()
        self.status = self.r.status
        self.type = self.r.getheader("Content-Type") or ""

    def events(self):
        """(event, data) pairs until the response ends."""
        ev, data = None, None
        while True:
            line = self.r.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line == "":
                if ev:
                    yield ev, json.loads(data or "{}")
                ev, data = None, None
            elif line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data = line[6:]

    def close(self):
        self.c.close()


def setup(s):
    a = admin(s)
    lab = a.post("/orgs", {"name": "Lab", "kind": "developer"}).json["id"]
    other = a.post("/orgs", {"name": "Other", "kind": "developer"}).json["id"]
    users = {}
    for login, org, roles in (("dev", lab, ["developer"]), ("odev", other, ["developer"]),
                              ("ev", 1, ["evaluator"]), ("ev2", 1, ["evaluator"])):
        u = a.post("/users", {"login": login, "name": login, "org_id": org, "roles": roles}).json
        c = s.client()
        c.login(login, u["initial_password"])
        users[login] = (c, u)
    d = users["dev"][0]
    mid = d.post("/models", {"name": "baseline", "version": "1", "release_date": "2099-01-01",
                             "access": "weights",
                             "endpoint": {"provider": "baseline", "model": "oracle"}}).json["id"]
    now = int(time.time() * 1000)
    a.post("/windows", {"model_id": mid, "start_ms": now, "end_ms": now + 86400000})
    a.post("/grants", {"user_id": users["ev"][1]["id"], "model_id": mid, "suite": "open",
                       "scope": "run"})
    return a, users, mid


def campaign(e, mid, epochs):
    r = e.post("/campaigns", {"model_id": mid, "suite": "open", "tasks": ["rev-crackme-xor"],
                              "epochs": epochs})
    cid = r.json["id"]
    r = e.post("/campaigns/%d/start" % cid)
    check("campaign %d queued" % cid, r.status == 200 and r.json["state"] == "queued", repr(r))
    return cid


def main():
    s = Server()
    try:
        a, users, mid = setup(s)
        e = users["ev"][0]
        first = campaign(e, mid, 4)
        second = campaign(e, mid, 1)  # queued while the first runs
        st = Stream(e, first)
        check("the stream is text/event-stream", st.status == 200 and
              st.type.startswith("text/event-stream"), st.type)
        # denied principals: another organisation's developer, an evaluator
        # without need-to-know, both as if it did not exist
        for who in ("odev", "ev2"):
            r = users[who][0].get("/campaigns/%d/events" % first)
            check("%s gets 404 on the stream" % who, r.status == 404 and r.code == "not_found", repr(r))
        # the second campaign's stream on a session that logs out
        lo = s.client()
        lo.cookie, lo.csrf = e.cookie, e.csrf
        # (the same session as e: logging it out ends both streams, so the
        # first stream is read to its end before that)
        seen, end = [], None
        for ev, data in st.events():
            if ev == "progress":
                seen.append(data)
            elif ev == "end":
                end = data
        st.close()
        done = [p["episodes_done"] for p in seen]
        check("several progress events while it runs", len(seen) >= 2, seen)
        check("the done count never goes back and reaches the total",
              done == sorted(done) and done[-1] == 4 and seen[-1]["episodes_total"] == 4, done)
        check("the counts advance during the campaign (an event with 0 < done < total, "
              "or running episodes)",
              any(0 < n < 4 for n in done) or any(p["episodes_running"] > 0 for p in seen), seen)
        check("each event carries tokens, cost, failures and an ETA field",
              all(k in seen[-1] for k in ("tokens", "cost_usd", "episodes_failed", "eta_s")), seen[-1])
        check("the stream ends with the campaign (an end event, state done)",
              end is not None and seen[-1]["state"] == "done", (end, seen[-1:]))
        # the second campaign, now running or queued: its stream on a session
        # that is then logged out ends with status 401
        st = Stream(e, second)
        it = st.events()
        ev, data = next(it)
        live = data.get("state") in ("queued", "running")
        check("the second stream starts with its progress", ev == "progress", (ev, data))
        r = lo.post("/logout")
        check("logout", r.status == 200, repr(r))
        rest = list(it)
        st.close()
        if live:
            check("logging out ends the stream (end, status 401)",
                  rest and rest[-1][0] == "end" and rest[-1][1].get("status") == 401, rest)
        else:
            check("the second campaign had ended: its stream ended", rest == [] or
                  rest[-1][0] == "end", rest)
        # a finished campaign: the events at once and the end
        r = users["dev"][0].get("/campaigns/%d/events" % first)
        check("a finished campaign's stream: retry, progress, end at once",
              r.status == 200 and r.raw.startswith("retry: ") and "event: end" in r.raw, r.raw[:200])
    finally:
        check("the server stops on SIGTERM with status 0", s.stop() == 0)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
