#!/bin/bash
# The journal's integration tests again on PostgreSQL: a throwaway cluster
# on loopback (tools/pg.sh), and store.sh, engine.sh and spine.sh with a
# fresh database per store (ASSAY_TEST_PG; tests/lib/testlib.sh newdb/q).
# The ASan build runs engine.sh and spine.sh only (CI time; store.sh's
# randomized kills are the slow part and exercise no other C code).
# ASSAY_PG_CLUSTER=DIR: use that running cluster (.ci/run starts one)
# instead of starting a new one.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
here=$(cd "$(dirname "$0")" && pwd)
PGDIR=$TMP/pg
trap '"$ASSAY_SOURCE_DIR/tools/pg.sh" stop "$PGDIR" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
if [ -n "${ASSAY_PG_CLUSTER:-}" ] && [ -f "$ASSAY_PG_CLUSTER/port" ]; then
	PGDIR=$ASSAY_PG_CLUSTER
	trap 'rm -rf "$TMP"' EXIT
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null; then
	skip_unless_ci "PostgreSQL variant" "PostgreSQL is not installed (tools/deps.sh)"
	finish; exit
fi
chmod 755 "$TMP"          # the server runs as 'postgres' when we are root
if [ "$PGDIR" = "${ASSAY_PG_CLUSTER:-}" ]; then
	echo "cluster $PGDIR" >"$TMP/url"
elif ! "$ASSAY_SOURCE_DIR/tools/pg.sh" start "$PGDIR" >"$TMP/url" 2>"$TMP/pg.err"; then
	bad "a PostgreSQL cluster on loopback" "$(tail -5 "$TMP/pg.err")"
	finish; exit
fi
ok "a PostgreSQL cluster on loopback ($(cat "$TMP/url"))"
export ASSAY_TEST_PG=$PGDIR

suites="store engine spine"
"$ASSAY" --version 2>/dev/null | grep -q asan && suites="engine spine"
for s in $suites; do
	out=$("$here/$s.sh" "${1:-}" 2>&1); rc=$?
	printf '%s\n' "$out" | sed "s|^|  [pg $s] |"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	k=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	T_PASSED=$((T_PASSED + ${p:-0})); T_FAILED=$((T_FAILED + ${f:-0})); T_SKIPPED=$((T_SKIPPED + ${k:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then bad "$s.sh on PostgreSQL" "exit $rc, no result line"; fi
done
finish
