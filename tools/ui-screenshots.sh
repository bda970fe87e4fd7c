#!/bin/bash
# docs/ui/*.png: the main pages as the browser tests see them at 1280x800
# (tests/integration/web.sh walks every flow; this keeps the screenshots
# of the pages the README's tour shows).
#   tools/ui-screenshots.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
shots=$(mktemp -d /tmp/assay-shots-XXXXXX)
trap 'rm -rf "$shots"' EXIT
ASSAY_SOURCE_DIR=$src ASSAY=$build/assay WEB_SHOTS=$shots \
	"$src/tests/integration/web.sh" "$build" | grep -E "^FAIL|passed"
mkdir -p "$src/docs/ui"
n=0
for name in login dashboard-admin dashboard-narrow people organisations \
	dashboard-developer model-registered models-timeline window-close-confirm partners grants campaign-new \
	campaign-done custodian-approval campaign-progress determination-cosigned run transcript \
	reports-developer audit-log audit-proof exposure account-totp login-totp; do
	f=$(ls "$shots"/[0-9][0-9]-"$name".png 2>/dev/null | head -1 || true)
	[ -n "$f" ] || continue
	cp "$f" "$src/docs/ui/$name.png"
	n=$((n + 1))
done
echo "docs/ui: $n screenshots"
