#!/bin/bash
# make lint: static analysis of src/ at zero findings.
#   cppcheck    warning, performance, portability (suppressions, each with
#               its reason: tools/lint/cppcheck.supp)
#   clang-tidy  bugprone-* and cert-* minus the exclusions .clang-tidy
#               lists with their reasons
# Exits non-zero on any finding. LINT_BUILD (default build-lint) holds the
# compile database clang-tidy reads; it is configured, never built.
set -u
cd "$(dirname "$0")/.."
build=${LINT_BUILD:-build-lint}
jobs=${JOBS:-$(nproc)}
rc=0

for t in cppcheck clang-tidy; do
	command -v $t >/dev/null || { echo "lint: $t is not installed (tools/deps.sh)"; exit 2; }
done

echo "lint: cppcheck"
if ! cppcheck --enable=warning,performance,portability --std=c11 \
	-D_GNU_SOURCE -Isrc --suppressions-list=tools/lint/cppcheck.supp \
	--inline-suppr --quiet -j "$jobs" --error-exitcode=1 \
	--template='{file}:{line}: {severity}: {id}: {message}' src; then
	rc=1
fi

echo "lint: clang-tidy"
if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
		-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang >/dev/null || exit 2
fi
out=$(find src -name '*.c' ! -path 'src/sandbox/init/*' | sort |
	xargs -P "$jobs" -n 8 clang-tidy -p "$build" --quiet 2>/dev/null)
if printf '%s\n' "$out" | grep -q 'warning:\|error:'; then
	printf '%s\n' "$out" | grep -A3 'warning:\|error:'
	rc=1
fi
[ $rc -eq 0 ] && echo "lint: no findings" || echo "lint: findings above"
exit $rc
