#!/bin/bash
# Replace every string-formatted SQL statement with a parameterised one.
set -euo pipefail
cd "$HOME/notes"
python3 - <<'PY'
p = "app.py"
s = open(p).read()
fixes = [
    ("""DB.execute("INSERT INTO users VALUES ('%s', '%s')" % (user, pw_hash(user, password)))""",
     """DB.execute("INSERT INTO users VALUES (?, ?)", (user, pw_hash(user, password)))"""),
    ("""row = DB.execute("SELECT name FROM users WHERE name = '%s' AND pw_hash = '%s'"
                         % (user, pw_hash(user, password))).fetchone()""",
     """row = DB.execute("SELECT name FROM users WHERE name = ? AND pw_hash = ?",
                         (user, pw_hash(user, password))).fetchone()"""),
    ("""DB.execute("INSERT INTO sessions VALUES ('%s', '%s')" % (token, row[0]))""",
     """DB.execute("INSERT INTO sessions VALUES (?, ?)", (token, row[0]))"""),
    ("""cur = DB.execute("INSERT INTO notes (owner, title, body) VALUES ('%s', '%s', '%s')" % (owner, title, body))""",
     """cur = DB.execute("INSERT INTO notes (owner, title, body) VALUES (?, ?, ?)", (owner, title, body))"""),
    ("""rows = DB.execute("SELECT id, title, body FROM notes WHERE owner = '%s' AND title LIKE '%%%s%%' ORDER BY id"
                          % (owner, q)).fetchall()""",
     """rows = DB.execute("SELECT id, title, body FROM notes WHERE owner = ? AND title LIKE '%' || ? || '%' ORDER BY id",
                          (owner, q)).fetchall()"""),
]
for old, new in fixes:
    assert old in s, old
    s = s.replace(old, new)
open(p, "w").write(s)
PY
