#!/bin/bash
# The program's web pages (issue 17) end to end in Debian's Chromium:
# `assay serve` on loopback with a temp store and the first admin, then
# tests/web/flows.js (puppeteer-core, pinned by tests/web/package-lock.json)
# walks every flow as each role and saves a screenshot per step.
#   tests/integration/web.sh BUILD_DIR     (needs $ASSAY, $ASSAY_SOURCE_DIR)
#   WEB_SHOTS=DIR  keep the screenshots there (make ui-screenshots)
# On the ASan build (a BUILD_DIR named *asan*, tests/run.sh's --sanitizer
# pass) the browser walk is skipped by design and counted as skipped: it
# runs on the normal pass, where CI=true makes a missing browser, node or
# puppeteer-core a failure.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
WEBT=$SRC/tests/web
build=${1:-}

case "$(basename "${build:-build}")" in
*asan*)
	skip "browser flows" "run on the normal build only (the ASan pass covers the server through its HTTP tests)"
	finish; exit ;;
esac

CHROME=$(command -v chromium || command -v chromium-browser || true)
NODE=$(command -v node || command -v nodejs || true)
if [ -z "$CHROME" ] || [ -z "$NODE" ]; then
	skip_unless_ci "browser flows" "chromium or node not installed (tools/deps.sh lists them)"
	finish; exit
fi
if [ ! -f "$WEBT/node_modules/puppeteer-core/package.json" ]; then
	"$SRC/tools/web-deps.sh" >"$TMP/npm.log" 2>&1 ||
		{ skip_unless_ci "browser flows" "puppeteer-core not installed: $(tail -3 "$TMP/npm.log")"; finish; exit; }
fi
if ! "$ASSAY" serve --help >/dev/null 2>&1; then
	skip_unless_ci "browser flows" "this assay has no serve command"
	finish; exit
fi

# A sealed suite the program may run: the example tasks sealed for two
# custodians (2 of 2) into the service's suites directory; the custodians'
# keys stay outside it, as on their own machines.
CK=$TMP/custodians CPASS="web test custodian passphrase"
SEALED=$ASSAY_HOME/program-suites/ex.assay
mkdir -p "$ASSAY_HOME/program-suites"
for c in cust-a cust-b sealer; do
	ASSAY_PASSPHRASE=$CPASS "$ASSAY" keys create "$c" $([ $c = sealer ] || echo --custodian) --dir "$CK" >/dev/null 2>>"$TMP/seal.err"
done
ASSAY_PASSPHRASE=$CPASS "$ASSAY" suite seal "$SRC/tests/data/tasks" -o "$SEALED" --custodian "$CK/cust-a.pub" \
	--custodian "$CK/cust-b.pub" --threshold 2 --sign "$CK/sealer.key" >/dev/null 2>>"$TMP/seal.err" ||
	bad "seal the example tasks for the sealed campaign" "$(cat "$TMP/seal.err")"

DB=$TMP/program.db
PW="web-test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
if printf '%s\n' "$PW" | "$ASSAY" admin init --login admin --name "Ada Admin" --store "$DB" >"$TMP/init.out" 2>"$TMP/init.err"; then
	ok "assay admin init creates the first admin (password on stdin)"
else
	bad "admin init" "$(cat "$TMP/init.err")"; finish; exit 1
fi

"$ASSAY" serve --listen 127.0.0.1:0 --ready-file "$TMP/ready" --store "$DB" \
	--web "$SRC/web" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do
	[ -s "$TMP/ready" ] && break
	kill -0 "$SERVER" 2>/dev/null || break
	sleep 0.1
done
if [ ! -s "$TMP/ready" ]; then
	bad "assay serve starts" "$(tail -5 "$TMP/serve.err")"; finish; exit 1
fi
ADDR=$(cat "$TMP/ready")
ok "assay serve listens on $ADDR"

SHOTS=${WEB_SHOTS:-$TMP/shots}
mkdir -p "$SHOTS"
BASE="http://$ADDR" SHOTS="$SHOTS" WORK="$TMP" ADMIN_LOGIN=admin ADMIN_PASSWORD="$PW" \
	ASSAY="$ASSAY" CHROMIUM="$CHROME" WEB_DIR="$SRC/web" \
	SEALED_ARCHIVE="$SEALED" CUSTODIAN_KEYS="$CK" CUSTODIAN_PASSPHRASE="$CPASS" \
	timeout 600 "$NODE" "$WEBT/flows.js" >"$TMP/flows.out" 2>&1
rc=$?
grep -E '^(ok|FAIL|skip) ' "$TMP/flows.out"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/flows.out" | tail -1)
p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
k=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
T_PASSED=$((T_PASSED + ${p:-0})); T_FAILED=$((T_FAILED + ${f:-0})); T_SKIPPED=$((T_SKIPPED + ${k:-0}))
if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
	bad "browser flows" "exit $rc: $(tail -15 "$TMP/flows.out")"
fi
n=$(find "$SHOTS" -name '*.png' | wc -l)
[ "$n" -gt 0 ] && ok "a screenshot per step ($n in $SHOTS)" || bad "screenshots" "none saved"
kill -0 "$SERVER" 2>/dev/null && ok "the server is still up after the walk" || bad "server" "died: $(tail -5 "$TMP/serve.err")"
if grep -q 'sk-test-secret' "$TMP/serve.err" "$TMP/serve.out" "$DB"* 2>/dev/null; then
	bad "the model's credential" "appears in the server's log or in the store in the clear"
else
	ok "the model's credential is in neither the server's log nor the store in the clear"
fi
finish
