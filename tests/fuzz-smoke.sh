#!/bin/bash
# Run every libFuzzer target briefly over its corpus (CI smoke test):
#   tests/fuzz-smoke.sh FUZZ_BUILD_DIR [SECONDS]
set -u
build=${1:?usage: tests/fuzz-smoke.sh FUZZ_BUILD_DIR [SECONDS]}
secs=${2:-10}
src=$(cd "$(dirname "$0")/.." && pwd)
passed=0; failed=0
for f in "$build"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="$src/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
	if "$f" -max_total_time="$secs" -rss_limit_mb=2048 "$work" >"$work.log" 2>&1; then
		passed=$((passed + 1)); echo "ok   $name"
	else
		failed=$((failed + 1)); echo "FAIL $name"; tail -30 "$work.log"
	fi
	rm -rf "$work" "$work.log"
done
echo "$passed passed, $failed failed"
echo "$passed $failed" >"$build/test-summary"
[ "$failed" -eq 0 ]
