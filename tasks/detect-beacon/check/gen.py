#!/usr/bin/env python3
"""Generates one day of connection logs with C2 beacons hidden among
browsing, allowlisted heartbeats, NTP and internal periodic jobs.
usage: gen.py SEED OUTDIR   (writes conn.csv, allowlist.txt, labels.csv)"""
import os
import random
import sys

R = random.Random(int(sys.argv[1]))
OUT = sys.argv[2]
T0, DAY = 1773446400, 86400
HOSTS = ["10.1.%d.%d" % (R.randint(0, 3), i) for i in R.sample(range(10, 250), 50)]


def pub():
    while True:
        a = R.choice([23, 34, 35, 45, 52, 66, 91, 104, 141, 151, 172, 185, 193, 203, 212])
        ip = "%d.%d.%d.%d" % (a, R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))
        if not ip.startswith("172."):
            return ip


rows, labels = [], []
POPULAR = [pub() for _ in range(40)]
WEIGHTS = [1.0 / (i + 1) for i in range(40)]
SAAS = [pub() for _ in range(3)]
NTP = [pub() for _ in range(2)]


def conn(t, s, d, port, proto, bo, bi, dur):
    rows.append((t, s, d, port, proto, max(40, int(bo)), max(0, int(bi)), round(max(0.001, dur), 3)))


def browsing(h):
    start = T0 + R.uniform(7, 9.5) * 3600
    end = T0 + R.uniform(16.5, 19) * 3600
    t = start
    while t < end:
        for _ in range(R.randint(3, 40)):
            d = R.choices(POPULAR, WEIGHTS)[0] if R.random() < 0.8 else pub()
            conn(t + R.uniform(0, 240), h, d, R.choice([443, 443, 443, 80]), "tcp",
                 R.lognormvariate(7, 1), R.lognormvariate(9, 1.5), R.expovariate(0.3))
        t += R.expovariate(1 / 1200.0)
        if R.random() < 0.1:
            t += R.uniform(1800, 5400)  # meetings, lunch


def periodic(h, d, port, proto, every, jit, bo, bi, start=T0, end=T0 + DAY):
    t = start + R.uniform(0, every)
    while t < end:
        conn(t, h, d, port, proto, bo * R.uniform(0.97, 1.03), bi * R.uniform(0.95, 1.05), R.uniform(0.01, 0.2))
        t += every + R.uniform(-jit, jit)


def beacon(kind):
    h, d = R.choice(HOSTS), pub()
    port = R.choice([443, 443, 8443, 80, 8080])
    bo, bi = R.randint(180, 700), R.randint(90, 400)
    if kind == "fast":
        base, jit = R.uniform(30, 120), R.uniform(0, 0.2)
        start = T0 + R.uniform(0, 16) * 3600
        windows = [(start, start + R.uniform(2, 6) * 3600)]
    elif kind == "sleepy":
        base, jit = R.uniform(300, 900), R.uniform(0.1, 0.4)
        a = T0 + R.uniform(0, 4) * 3600
        b = a + R.uniform(4, 7) * 3600
        c = b + R.uniform(2, 5) * 3600
        windows = [(a, b), (c, min(T0 + DAY, c + R.uniform(6, 10) * 3600))]
    else:  # low and slow
        base, jit = R.uniform(1800, 3600), R.uniform(0, 0.15)
        windows = [(T0, T0 + DAY)]
    for a, b in windows:
        t = a + R.uniform(0, base)
        while t < b:
            if R.random() > 0.05:  # missed check-ins
                big = R.random() < 0.03
                conn(t, h, d, port, "tcp", bo * R.uniform(0.97, 1.03),
                     (bi * R.uniform(0.95, 1.05)) if not big else R.uniform(2e4, 5e5), R.uniform(0.05, 0.6))
            t += base * (1 + R.uniform(-jit, jit))
    labels.append((h, d))


for h in HOSTS:
    browsing(h)
    for s in NTP:
        periodic(h, s, 123, "udp", 1024, 1, 76, 76)
    periodic(h, "10.0.0.5", 443, "tcp", 3600, 30, 900, 5000)
for h in R.sample(HOSTS, 10):
    periodic(h, R.choice(SAAS), 443, "tcp", 300, 0.5, 1200, 300)
for k in ["fast", "fast", "sleepy", "sleepy", "slow", R.choice(["fast", "sleepy", "slow"])]:
    beacon(k)
rows.sort()
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "conn.csv"), "w") as f:
    f.write("ts,src,dst,dport,proto,bytes_out,bytes_in,duration\n")
    for r in rows:
        f.write("%.3f,%s,%s,%d,%s,%d,%d,%.3f\n" % r)
with open(os.path.join(OUT, "allowlist.txt"), "w") as f:
    f.write("# sanctioned external services (monitoring SaaS, NTP)\n")
    f.write("".join(ip + "\n" for ip in SAAS + NTP))
with open(os.path.join(OUT, "labels.csv"), "w") as f:
    f.write("src,dst\n" + "".join("%s,%s\n" % p for p in sorted(set(labels))))
