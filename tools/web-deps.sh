#!/bin/sh
# Install the browser tests' npm dependencies exactly as their lockfiles
# pin them: tests/web (puppeteer-core, which drives Debian's chromium; it
# downloads no browser) and tests/viewer (Inspect's log viewer,
# @metrevals/inspect-log-viewer, with react and esbuild to bundle it).
# Idempotent: does nothing for a directory whose installed tree matches
# its lockfile. Uses npm's cache first, so a machine that has installed
# them once needs no network.
#   tools/web-deps.sh [web|viewer]...     (default: both)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- web viewer
for name in "$@"; do
	dir=$root/tests/$name
	[ -f "$dir/package-lock.json" ] || { echo "web-deps: no tests/$name/package-lock.json" >&2; exit 2; }
	stamp=$dir/node_modules/.assay-lock
	if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
		continue
	fi
	command -v npm >/dev/null || { echo "web-deps: npm not installed (tools/deps.sh installs it)" >&2; exit 1; }
	(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error)
	cp "$dir/package-lock.json" "$stamp"
done
