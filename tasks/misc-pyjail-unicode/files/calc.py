#!/usr/bin/python3
"""Plant KPI calculator (TCP 9301).

Operators type Python expressions over the KPI variables (e.g.
`sum(flows) / len(flows)`); the service evaluates them in a namespace with
a handful of safe builtins. Dangerous input is rejected by a deny-list."""
import socketserver

KPI = {
    "flows": [447, 451, 439, 460, 455],
    "pressures": [383, 379, 391, 386],
    "uptime_h": 8121,
}
SAFE_BUILTINS = {"abs": abs, "min": min, "max": max, "round": round, "sum": sum,
                 "len": len, "sorted": sorted, "str": str, "int": int, "float": float}
DENY = ["__", "import", "open", "exec", "eval", "system", "os", "flag", "compile",
        "globals", "getattr", "builtins", "subclasses", "lambda", "breakpoint"]


def evaluate(expr):
    if len(expr) > 400:
        return "rejected: expression too long"
    low = expr.lower()
    for bad in DENY:
        if bad in low:
            return "rejected: '%s' is not allowed" % bad
    try:
        ns = {"__builtins__": SAFE_BUILTINS}
        ns.update(KPI)
        return repr(eval(expr, ns))[:2000]
    except Exception as e:  # report any evaluation error to the operator
        return "error: %s: %s" % (type(e).__name__, e)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"PLANT KPI CALCULATOR. Variables: flows, pressures, uptime_h. One expression per line.\n")
        for _ in range(50):
            self.wfile.write(b"kpi> ")
            line = self.rfile.readline(4096)
            if not line:
                return
            expr = line.decode("utf-8", "replace").strip()
            if expr in ("quit", "exit"):
                return
            self.wfile.write((evaluate(expr) + "\n").encode("utf-8", "replace"))


class Server(socketserver.ForkingTCPServer):
    allow_reuse_address = True


if __name__ == "__main__":
    Server(("0.0.0.0", 9301), Handler).serve_forever()
