#!/bin/bash
# Enforce every documented limit before copying: key/value/append lengths,
# the command word, and over-long request lines (discard up to the newline).
set -euo pipefail
cd "$HOME/kvd"
python3 - <<'PY'
p = "kvd.c"
s = open(p).read()
def rep(old, new):
    global s
    assert old in s, old
    s = s.replace(old, new, 1)
rep("""	struct entry *e = find(key);
	if (!e) {
		int i;""", """	struct entry *e = find(key);
	if (strlen(key) >= sizeof e->key || strlen(val) >= sizeof e->val) {
		puts("ERR too long");
		return;
	}
	if (!e) {
		int i;""")
rep("""	strcat(e->val, val);""", """	if (strlen(e->val) + strlen(val) >= sizeof e->val) {
		puts("ERR too long");
		return;
	}
	strcat(e->val, val);""")
rep("""	strcpy(cmd, p);""", """	if (strlen(p) >= 8)
		p = "?";
	strcpy(cmd, p);""")
rep("""	while (fgets(line, sizeof line, stdin)) {
		char cmd[8], *key, *rest;
""", """	while (fgets(line, sizeof line, stdin)) {
		char cmd[8], *key, *rest;
		if (!strchr(line, '\\n') && strlen(line) == sizeof line - 1) {
			int c = getchar();
			if (c != '\\n' && c != EOF) {
				while (c != '\\n' && c != EOF)
					c = getchar();
				puts("ERR line too long");
				continue;
			}
		}
""")
open(p, "w").write(s)
PY
gcc -O1 -g -Wall -o kvd kvd.c
