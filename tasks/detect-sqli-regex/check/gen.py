#!/usr/bin/env python3
"""Generator of labelled web access logs (SQL injection vs benign) for
detect-sqli-regex. usage: gen.py SEED N OUT  (writes 'LABEL<TAB>LINE')."""
import random
import sys
import urllib.parse

R = random.Random(int(sys.argv[1]))
COLS = ["username", "password", "email", "card_no", "token", "name", "passwd", "api_key"]
TABLES = ["users", "accounts", "customers", "admin", "members", "orders"]


def nul(k):
    return ",".join(R.choice(["null", "NULL", str(R.randint(1, 9)), "'a'"]) for _ in range(k))


def sqli():
    q = R.choice(["'", "\"", "", "')", "1'", "1", "x'", "-1", "%s'" % R.randint(1, 999)])
    c = R.choice(["--", "-- -", "#", "/*", "", "--+", ";--", "%00"])
    t, col = R.choice(TABLES), R.choice(COLS)
    kinds = [
        lambda: "%s UNION SELECT %s FROM %s%s" % (q, ",".join(R.sample(COLS, R.randint(1, 3))), t, c),
        lambda: "%s UNION ALL SELECT %s%s" % (q, nul(R.randint(1, 6)), c),
        lambda: "%s union select %s,version()%s" % (q, nul(R.randint(0, 3)) or "1", c),
        lambda: "%s UNION SELECT table_name FROM information_schema.tables%s" % (q, c),
        lambda: "%s union select group_concat(column_name) from information_schema.columns where table_name='%s'%s"
                % (q, t, c),
        lambda: "%s OR '%d'='%d" % (q or "'", R.randint(0, 9), R.randint(0, 9)),
        lambda: "%s OR %d=%d%s" % (q, R.randint(1, 9), R.randint(1, 9), c),
        lambda: "%s or 'a'='a'%s" % (q or "'", c),
        lambda: "%s AND %d=%d%s" % (q, R.randint(1, 9), R.randint(1, 9), c),
        lambda: "admin'%s" % (c or "--"),
        lambda: "%s AND SLEEP(%d)%s" % (q, R.randint(2, 15), c),
        lambda: "%s;WAITFOR DELAY '0:0:%d'%s" % (q, R.randint(2, 9), c),
        lambda: "%s AND %d=(SELECT %d FROM PG_SLEEP(%d))%s" % (q, R.randint(1, 9), R.randint(1, 9), R.randint(2, 9), c),
        lambda: "%s AND BENCHMARK(%d,MD5(%d))%s" % (q, R.randint(10, 50) * 100000, R.randint(1, 9), c),
        lambda: "%s; DROP TABLE %s%s" % (q, t, c),
        lambda: "%s; exec xp_cmdshell('%s')%s" % (q, R.choice(["whoami", "dir", "ping 10.0.0.1"]), c),
        lambda: "%s AND extractvalue(1,concat(0x7e,(select %s from %s limit 1)))%s" % (q, col, t, c),
        lambda: "%s AND updatexml(1,concat(0x7e,version()),1)%s" % (q, c),
        lambda: "%s AND 1=CONVERT(int,@@version)%s" % (q, c),
        lambda: "%s ORDER BY %d%s" % (q, R.randint(1, 20), c),
        lambda: "%s AND ASCII(SUBSTRING((SELECT %s FROM %s LIMIT 1),%d,1))>%d%s"
                % (q, col, t, R.randint(1, 20), R.randint(40, 120), c),
        lambda: "%s' AND (SELECT COUNT(*) FROM %s)>0%s" % (q, t, c),
        lambda: "%s; SELECT pg_sleep(%d)%s" % (q, R.randint(2, 9), c),
        lambda: "%s UNION SELECT 0x%s%s" % (q, "".join("%02x" % b for b in R.choice(COLS).encode()), c),
    ]
    s = R.choice(kinds)()
    r = R.random()
    if r < 0.25:
        s = "".join(ch.upper() if R.random() < 0.5 else ch.lower() for ch in s)
    elif r < 0.4:
        s = s.replace(" ", R.choice(["/**/", "/*x*/", "%09", "%0a"]))
    return s


BENIGN_Q = ["red shoes", "select a size", "union station map", "drop shipping", "O'Reilly books", "rock & roll",
            "what does 1=1 mean", "sleep apnea (5 tips)", "delete account help", "order by price", "where is my order",
            "benchmark results 2026", "--verbose flag", "it's ok", "McDonald's", "tables and chairs", "1 or 2 seats",
            "and/or logic", "select committee report", "drop-down menu css", "user's guide", "insert coin",
            "wait for delay", "from A to B", "SQL tutorial for beginners", "mysql vs postgres", "update firmware",
            "grant application", "null pointer exception", "version 2.0", "kids' shoes", "sleep mask", "a=b test",
            "hex key set", "chairs, tables", "information schema of a db", "5' 10\" height", "Jack's",
            "3-2=1", "exec summary", "case study", "concat strings python", "count words"]


def enc(s):
    r = R.random()
    if r < 0.55:
        return urllib.parse.quote_plus(s, safe="")
    if r < 0.8:
        return urllib.parse.quote(s, safe="")
    if r < 0.9:
        return urllib.parse.quote(s, safe="'=(),*")
    return urllib.parse.quote(urllib.parse.quote(s, safe=""), safe="")


def url(mal):
    kind = R.randrange(6)
    v = sqli() if mal else None
    if kind == 0:
        return "/search?q=" + enc(v or R.choice(BENIGN_Q)) + R.choice(["", "&page=%d" % R.randint(1, 9)])
    if kind == 1:
        return "/products?id=" + enc(v or str(R.randint(1, 9999)))
    if kind == 2:
        return "/api/v1/orders?id=%d&sort=%s" % (R.randint(1, 99999), enc(v or R.choice(["asc", "desc", "date"])))
    if kind == 3:
        return "/profile?user=" + enc(v or R.choice(["ana", "li.wei", "o'brien", "j.smith", "maria-jose"]))
    if kind == 4:
        return "/catalog/%s?color=%s" % (R.choice(["shoes", "hats", "bags"]),
                                          enc(v or R.choice(["red", "navy blue", "black/white", "off-white"])))
    if mal:
        return "/login?next=/account&user=" + enc(v)
    return R.choice(["/", "/static/app.js", "/static/style.css", "/favicon.ico", "/cart", "/checkout",
                     "/products/%d" % R.randint(1, 9999), "/blog/2026/03/select-your-size",
                     "/help/union-members-discount", "/robots.txt"])


UA = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
      "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
      "curl/8.5.0", "python-requests/2.31.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"]


def line(mal, i):
    ip = "%d.%d.%d.%d" % (R.choice([10, 172, 192, 203, 198]), R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))
    ts = "%02d/Mar/2026:%02d:%02d:%02d +0000" % (R.randint(1, 28), R.randint(0, 23), R.randint(0, 59), R.randint(0, 59))
    method = "GET" if R.random() < 0.9 else "POST"
    status = R.choice([200, 200, 200, 302, 404, 500]) if mal else R.choice([200] * 8 + [301, 304, 404])
    ua = R.choice(UA + (["sqlmap/1.8#stable (https://sqlmap.org)"] if False else []))
    return '%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s"' % (ip, ts, method, url(mal), status, R.randint(200, 40000), ua)


def main():
    n = int(sys.argv[2])
    with open(sys.argv[3], "w") as f:
        for i in range(n):
            mal = R.random() < 0.18
            f.write("%d\t%s\n" % (mal, line(mal, i)))


main()
