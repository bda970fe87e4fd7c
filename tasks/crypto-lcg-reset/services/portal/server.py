#!/usr/bin/python3
"""SCADA portal account service (line protocol on TCP 9203).

  RESET <user>           issue a password-reset token, mailed to the user
  MAILBOX                read the mailbox of your own account (guest)
  REDEEM <user> <token>  use a reset token; for admin this returns the
                         engineering-workstation credential
"""
import socketserver
import threading

from tokens import TokenGenerator

GEN = TokenGenerator()
LOCK = threading.Lock()
PENDING = {}
with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        mailbox = []
        self.say("SCADA PORTAL account service. You are signed in as: guest")
        self.say("commands: RESET <user> | MAILBOX | REDEEM <user> <token> | QUIT")
        for _ in range(200):
            parts = self.rfile.readline(512).decode("latin-1").split()
            if not parts or parts[0].upper() == "QUIT":
                return
            cmd = parts[0].upper()
            if cmd == "RESET" and len(parts) == 2 and parts[1] in ("guest", "admin"):
                with LOCK:
                    tok = GEN.token()
                    PENDING[parts[1]] = tok
                if parts[1] == "guest":
                    mailbox.append("reset token for guest: " + tok)
                self.say("OK reset token mailed to %s" % parts[1])
            elif cmd == "MAILBOX":
                for m in mailbox:
                    self.say("MAIL " + m)
                self.say("END")
            elif cmd == "REDEEM" and len(parts) == 3:
                with LOCK:
                    ok = PENDING.get(parts[1]) == parts[2].lower()
                    if ok:
                        del PENDING[parts[1]]
                if not ok:
                    self.say("ERR invalid token")
                elif parts[1] == "admin":
                    self.say("OK admin password reset. EWS credential: " + FLAG)
                else:
                    self.say("OK password reset")
            else:
                self.say("ERR unknown command or user (users: guest, admin)")

    def say(self, s):
        self.wfile.write((s + "\n").encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 9203), Handler).serve_forever()
