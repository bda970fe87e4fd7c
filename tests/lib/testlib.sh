# Shared helpers for integration scripts: ok/bad/skip record a result.
# Each script ends with `finish`, which prints "N passed, N failed,
# N skipped" (tests/run.sh sums these lines).
T_PASSED=0
T_FAILED=0
T_SKIPPED=0
TMP=$(mktemp -d /tmp/assay-it-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# Keys and the audit log of a test live in its own temp dir.
export ASSAY_HOME=$TMP/home

ok()   { T_PASSED=$((T_PASSED + 1)); printf 'ok   %s\n' "$1"; }
bad()  { T_FAILED=$((T_FAILED + 1)); printf 'FAIL %s: %s\n' "$1" "$2"; }
# skip NAME WHY: a test that cannot run here and need not (counted).
skip() { T_SKIPPED=$((T_SKIPPED + 1)); printf 'skip %s: %s\n' "$1" "$2"; }
# skip_unless_ci NAME WHY: a test that needs what CI's machine has
# (namespaces, Chromium, PostgreSQL, the tools of tools/deps.sh): skipped
# elsewhere, a failure when CI=true.
skip_unless_ci() {
	if [ "${CI:-}" = true ]; then bad "$1" "$2 (CI=true: it must run on CI)"
	else skip "$1" "$2"; fi
}
# The store back-end of a test: SQLite files in $TMP, or, with
# ASSAY_TEST_PG=DIR (a cluster of tools/pg.sh; tests/integration/pg.sh sets
# it), a fresh PostgreSQL database per store.
is_pg() { [ -n "${ASSAY_TEST_PG:-}" ]; }
# newdb NAME: a new, empty store (printed: a path or a URL)
newdb() {
	if is_pg; then
		"$ASSAY_SOURCE_DIR/tools/pg.sh" createdb "$ASSAY_TEST_PG" "t$$_${1}_$RANDOM"
	else echo "$TMP/$1.db"; fi
}
# q STORE SQL: run SQL on the store, rows one a line, columns joined by |
q() {
	case $1 in
	postgres://*|postgresql://*) psql "$1" -XqAt -v ON_ERROR_STOP=1 -c "$2" ;;
	*) sqlite3 -cmd ".timeout 10000" "$1" "$2" ;;   # a worker may hold the write lock
	esac
}
finish() {
	printf '%d passed, %d failed, %d skipped\n' "$T_PASSED" "$T_FAILED" "$T_SKIPPED"
	[ "$T_FAILED" -eq 0 ]
}

# expect_rc NAME WANT CMD...: run CMD, compare its exit code.
expect_rc() {
	local name=$1 want=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else
		bad "$name" "exit $rc, want $want; stderr: $(head -c 400 "$TMP/err")"; fi
}

# json_get FILE EXPR: evaluate a python expression on the JSON in FILE (j).
json_get() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# events_json FILE: every event of an `assay show --episode N --raw` dump
# in FILE is valid JSON (the dump prints an event that is not as is).
# Prints the first bad event and fails; prints the notes' texts otherwise.
events_json() {
	python3 - "$1" <<'PY'
import json, re, sys
text = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read()
parts = re.split(r"^--- #(\d+) (\S+)\n", text, flags=re.M)
if len(parts) < 3:
    print("no events in the dump"); sys.exit(1)
for i in range(1, len(parts), 3):
    body = parts[i + 2]
    try:
        j = json.loads(body)
    except ValueError as e:
        print("event #%s %s is not JSON (%s): %r" % (parts[i], parts[i + 1], e, body[:300]))
        sys.exit(1)
    if isinstance(j, dict) and isinstance(j.get("note"), str):
        print(json.dumps(j["note"]))
PY
}
