#!/bin/sh
# The closing line of `make check`: the sum over the normal build, the
# sanitizer build and the fuzz smoke run (each wrote BUILD/test-summary).
passed=0; failed=0; skipped=0
for f in build/test-summary build-asan/test-summary build-fuzz/test-summary; do
	[ -f "$f" ] || continue
	read -r p x s <"$f"
	passed=$((passed + p)); failed=$((failed + x)); skipped=$((skipped + ${s:-0}))
done
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
