#!/bin/bash
# Issue 14, item 4: the agent image `assay-agent` (tools/agent-image.sh).
# In a box of the image the tools run (tests/data/agent-image: python with
# pwn and Crypto.Cipher.AES, gdb, checksec, nmap, tshark, gcc, ... for the
# full variant; the test variant `make check` builds carries the pwn
# tasks' tools and says so in /etc/assay-agent); without the image, `task
# check` and `run` of a task on it say how to build it, and a run of the
# suite's other tasks does not need it.
#   (needs $ASSAY; the image in $ASSAY_IMAGES, as tests/run.sh imports it)
set -u
. "$(dirname "$0")/../lib/testlib.sh"
A=${ASSAY:?}
SRC=${ASSAY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
IMGS=${ASSAY_IMAGES:-}

# --- without the image: the message names the recipe ----------------------
export ASSAY_IMAGES=$TMP/empty-store
"$A" task check --static "$SRC/tasks/pwn-gate-overflow" >"$TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "image 'assay-agent' is not imported; build and import it with: make agent-image" "$TMP/out" &&
	ok "task check without the image: fails, naming make agent-image" ||
	bad "task check message" "exit $rc: $(cat "$TMP/out")"
"$A" run --suite "$SRC/tasks" --task pwn-uaf-notes --model baseline/null --dry-run >"$TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "task 'pwn-uaf-notes': image 'assay-agent' is not imported; build and import it with: make agent-image" "$TMP/out" &&
	ok "run of a task on it without the image: usage error naming make agent-image" ||
	bad "run message" "exit $rc: $(cat "$TMP/out")"
expect_rc "a run of the suite's host tasks needs no agent image" 0 \
	"$A" run --suite "$SRC/tasks" --task 'web-*' --task rev-crackme-xor --model baseline/null --dry-run
expect_rc "nor does --category crypto" 0 \
	"$A" run --suite "$SRC/tasks" --category crypto --model baseline/null --dry-run
expect_rc "but the whole suite does" 2 \
	"$A" run --suite "$SRC/tasks" --model baseline/null --dry-run
# a run of a host task, resumed where the agent image is imported: the
# tasks it does not select keep their image names unpinned in the suite's
# digest, so the digest is the same
expect_rc "a run of one host task without the image" 0 \
	"$A" run --suite "$SRC/tasks" --task web-cmdi-diag --model baseline/null --store "$TMP/r.db" --quiet
if [ -n "$IMGS" ]; then export ASSAY_IMAGES=$IMGS; else unset ASSAY_IMAGES; fi
expect_rc "... resumes with the image imported (same suite digest)" 0 \
	"$A" resume 1 --store "$TMP/r.db" --quiet

# --- in a box of the image -----------------------------------------------
if ! "$A" image inspect assay-agent >"$TMP/inspect" 2>&1; then
	skip_unless_ci "tools in the agent image" "assay-agent is not imported (tools/agent-image.sh --variant test; tests/run.sh imports it)"
	finish; exit
fi
DB=$TMP/a.db
if "$A" run --suite "$SRC/tests/data/agent-image" --model baseline/oracle --store "$DB" --quiet 2>"$TMP/err"; then
	"$A" show 1 --episode 1 --raw --store "$DB" >"$TMP/raw" 2>&1
	python3 - "$TMP/raw" >"$TMP/tools" <<'PY'
import base64, json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"ASSAY-ORACLE-BEGIN b64 \d+\\n(.*?)ASSAY-ORACLE-END", text, re.S)
print(base64.b64decode(m.group(1).replace("\\n", "")).decode() if m else "no oracle output")
PY
	variant=$(sed -n 's/^variant: //p' "$TMP/tools")
	n=$(grep -c '^ok ' "$TMP/tools")
	if q "$DB" "select outcome from episodes" | grep -qx solved && ! grep -q '^MISSING' "$TMP/tools"; then
		ok "every tool of the $variant variant runs in a box of assay-agent ($n: $(sed -n 's/^ok //p' "$TMP/tools" | tr '\n' ' '))"
	else bad "tools in the agent image" "$(grep -v '^ok ' "$TMP/tools" | head -20)"; fi
	case $variant in
	full) grep -q '^ok pwntools' "$TMP/tools" && grep -q '^ok pycryptodome' "$TMP/tools" &&
		grep -q '^ok tshark' "$TMP/tools" && ok "full: pwntools, Crypto, tshark, nmap, ... checked" ||
		bad "full variant" "$(cat "$TMP/tools")" ;;
	test) ok "test variant: python, gcc, gdb, binutils, netcat checked (the full list: make agent-image)" ;;
	*) bad "variant" "$(cat "$TMP/tools")" ;;
	esac
else
	bad "a run on assay-agent" "$(tail -3 "$TMP/err")"
fi
finish
