#!/bin/sh
# Install the browser tests' one npm dependency (puppeteer-core, which
# drives Debian's chromium; it downloads no browser) exactly as
# tests/web/package-lock.json pins it. Idempotent: does nothing when the
# installed tree matches the lockfile. Uses npm's cache first, so a
# machine that has installed it once needs no network.
#   tools/web-deps.sh
set -eu
dir=$(cd "$(dirname "$0")/../tests/web" && pwd)
stamp=$dir/node_modules/.assay-lock
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
	exit 0
fi
command -v npm >/dev/null || { echo "web-deps: npm not installed (tools/deps.sh installs it)" >&2; exit 1; }
cd "$dir"
PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
