#!/bin/bash
# Run every test against one build directory:
#   tests/run.sh BUILD_DIR [--sanitizer]
# unit tests (cmocka, through ctest), then each integration script in
# tests/integration/ and the sandbox escape tests. Ends with one line
# "N passed, N failed, N skipped" and exits non-zero when anything failed.
# With CI=true (CI's machine has namespaces, Chromium and PostgreSQL) a
# test that needs those and skipped is counted as failed instead: the
# unit tests and integration scripts check CI themselves.
set -u
build=$(cd "${1:?usage: tests/run.sh BUILD_DIR [--sanitizer]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export ASSAY_SOURCE_DIR=$(dirname "$here")
export ASSAY="$build/assay"
export ASSAY_INIT="$build/assay-init"
export MOCKMODEL="$build/mockmodel"
export ASSAY_BUILD="$build"
passed=0
failed=0
skipped=0
failures=()

note() { printf '%s\n' "$*"; }

# Unit tests: each binary is one group; count its cmocka results.
unit() {
	local t out rc p f s
	for t in "$build"/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1); rc=$?
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
		p=${p:-0}; f=${f:-0}; s=${s:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		[ "$s" -eq 0 ] || printf '%s\n' "$out" | grep -E 'SKIP' | sort -u | head -5
		if [ "$rc" -ne 0 ]; then
			failures+=("$(basename "$t")")
			printf '%s\n' "$out" | grep -v '^    #' | tail -40
		fi
		note "unit $(basename "$t"): $p passed, $f failed, $s skipped"
	done
}

# Script suites print "N passed, N failed" as their last line.
suite() {
	local s=$1 out rc line p f k t0=$SECONDS
	out=$("$s" "$build" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); p=${p:-0}
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p'); f=${f:-0}
	k=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p'); k=${k:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
	printf '%s\n' "$out" | sed "s|^|  |"
	[ "$rc" -eq 0 ] || failures+=("$(basename "$s")")
	note "suite $(basename "$s"): $p passed, $f failed, $k skipped ($((SECONDS - t0)) s)"
}

# The agent image `assay-agent` (tools/agent-image.sh) that the open
# suite's pwn tasks run on: the OCI layout `make check` built once
# ($ASSAY_AGENT_OCI: the small test variant, build/agent-image-test/oci),
# imported into one image store that every test of this pass sees
# ($ASSAY_TEST_IMAGES, default BUILD/test-images; both passes of `make
# check` share build/test-images, so the layer is unpacked once). Without
# a layout the tests that need the image skip, or fail under CI=true,
# saying how to build it.
oci=${ASSAY_AGENT_OCI:-$ASSAY_SOURCE_DIR/build/agent-image-test/oci}
[ -f "$oci/index.json" ] || oci=$ASSAY_SOURCE_DIR/build/agent-image/oci
export ASSAY_IMAGES=${ASSAY_TEST_IMAGES:-$build/test-images}
if [ -f "$oci/index.json" ]; then
	t0=$SECONDS
	want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$oci/index.json")
	if "$ASSAY" image inspect assay-agent 2>/dev/null | grep -q "$want"; then
		note "agent image: assay-agent $want in $ASSAY_IMAGES"
	elif "$ASSAY" image import "$oci" --name assay-agent >/dev/null; then
		note "agent image: imported $oci as assay-agent into $ASSAY_IMAGES ($((SECONDS - t0)) s)"
	else
		note "agent image: could not import $oci"
	fi
else
	note "agent image: no OCI layout ($oci); the tests that need assay-agent skip (build it: tools/agent-image.sh --variant test --no-import)"
fi

t0=$SECONDS
unit
note "unit tests: $((SECONDS - t0)) s"
for s in "$here"/integration/*.sh "$here"/escape/run.sh; do
	if [ -x "$s" ]; then
		suite "$s"
	else   # a test that would never run is a failure, not a skip
		note "FAIL $(basename "$s") is not executable (chmod +x)"
		failed=$((failed + 1))
		failures+=("$(basename "$s")")
	fi
done
[ ${#failures[@]} -eq 0 ] || note "failed: ${failures[*]}"
note "$passed passed, $failed failed, $skipped skipped"
echo "$passed $failed $skipped" >"$build/test-summary"
[ "$failed" -eq 0 ]
