#!/bin/sh
# The closing line of `make check`: the sum over the normal build, the
# sanitizer build and the fuzz smoke run (each wrote BUILD/test-summary).
passed=0; failed=0
for f in build/test-summary build-asan/test-summary build-fuzz/test-summary; do
	[ -f "$f" ] || continue
	read -r p x <"$f"
	passed=$((passed + p)); failed=$((failed + x))
done
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
