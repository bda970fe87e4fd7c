#!/bin/bash
# `assay serve` and `assay admin init` (docs/API.md): listening rules,
# login, sessions, CSRF, fixation, lockout and rate limits, API tokens,
# TOTP, terms, organisations and people, errors and limits, static pages
# and their headers, live event streams. The HTTP cases are in
# tests/lib/serve_api.py, serve_authz.py and serve_live.py.
set -u
. "$(dirname "$0")/../lib/testlib.sh"

A=${ASSAY:-build/assay}
export XDG_DATA_HOME=$TMP/data

# listening beyond loopback needs TLS; the password never comes from argv
expect_rc "serve refuses 0.0.0.0 without TLS" 2 "$A" serve --listen 0.0.0.0:8740 --store "$TMP/s.db"
grep -q 'without TLS' "$TMP/err" && ok "the refusal says why" || bad "refusal text" "$(cat "$TMP/err")"
expect_rc "serve refuses --tls-cert without --tls-key" 2 "$A" serve --tls-cert /dev/null --store "$TMP/s.db"
expect_rc "serve refuses a bad --listen" 2 "$A" serve --listen nonsense --store "$TMP/s.db"
expect_rc "admin init takes no --password" 2 "$A" admin init --password x --store "$TMP/s.db"
echo short | "$A" admin init --store "$TMP/s.db" >"$TMP/out" 2>"$TMP/err"
[ $? -ne 0 ] && grep -q '12 to 256' "$TMP/err" && ok "admin init refuses a short password" ||
	bad "short password" "$(cat "$TMP/err")"
echo 'correct horse battery staple' | "$A" admin init --store "$TMP/s.db" >"$TMP/out" 2>"$TMP/err" &&
	grep -q 'log in at http://127.0.0.1:8740/' "$TMP/out" && ok "admin init creates the admin and says where to log in" ||
	bad "admin init" "$(cat "$TMP/err")"
echo 'correct horse battery staple' | "$A" admin init --store "$TMP/s.db" >"$TMP/out" 2>"$TMP/err"
[ $? -ne 0 ] && grep -q 'users already' "$TMP/err" && ok "a second admin init is refused" ||
	bad "second admin init" "$(cat "$TMP/err")"
"$A" serve --routes >"$TMP/routes" && grep -q '^POST /api/v1/login live$' "$TMP/routes" &&
	ok "serve --routes lists the table" || bad "routes" "$(head -3 "$TMP/routes")"

# docs/API.md's endpoint table is the route table, status included
sed -n 's/^| \(GET\|POST\|DELETE\|PUT\|PATCH\) | \([^ ]*\) | .* | \(live\|planned\) |$/\1 \/api\/v1\2 \3/p' \
	"$ASSAY_SOURCE_DIR/docs/API.md" | sort >"$TMP/doc-routes"
sort "$TMP/routes" >"$TMP/srv-routes"
if [ -s "$TMP/doc-routes" ] && diff "$TMP/doc-routes" "$TMP/srv-routes" >"$TMP/diff"; then
	ok "docs/API.md lists every route with its status ($(wc -l <"$TMP/doc-routes"))"
else bad "docs/API.md and the route table differ" "$(head -20 "$TMP/diff")"; fi

# py SCRIPT: run one of the Python HTTP tests, add its counts
py() {
	local out rc last p f
	out=$(python3 "$(dirname "$0")/../lib/$1" 2>&1); rc=$?
	printf '%s\n' "$out" | sed '$d'
	last=$(printf '%s\n' "$out" | tail -1)
	p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	T_PASSED=$((T_PASSED + ${p:-0})); T_FAILED=$((T_FAILED + ${f:-0}))
	[ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || bad "$1" "exit $rc: $last"
}
py serve_api.py
py serve_authz.py
py serve_live.py
finish
