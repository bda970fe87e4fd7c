#!/bin/bash
# tools/format-drift.sh [-v] [FILE...]: how far the code is from what
# clang-format (with .clang-format) would write it as: the lines of each
# file that clang-format's output changes (diff's deleted lines) over all
# lines, as a percentage. Default FILEs: every .c and .h of src/. It
# formats copies in a temporary directory: nothing in the tree changes.
#   -v  also the 20 files that drift most
# docs/ARCHITECTURE.md ("Formatting") records the figure.
set -u
cd "$(dirname "$0")/.."
verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null || { echo "format-drift: $cf is not installed (tools/deps.sh)"; exit 2; }
[ $# -eq 0 ] && set -- $(find src -name '*.[ch]' | sort)
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
tar -cf - "$@" | tar -xf - -C "$tmp"
style=$PWD/.clang-format
(cd "$tmp" && printf '%s\n' "$@" |
	xargs -P "${JOBS:-2}" -n 40 "$cf" --style=file:"$style" -i) || exit 2
for f in "$@"; do
	printf '%d %d %s\n' "$(diff "$f" "$tmp/$f" | grep -c '^<')" \
		"$(wc -l < "$f")" "$f"
done > "$tmp/.counts"
[ $verbose = 1 ] && sort -rn "$tmp/.counts" | head -20 |
	awk '{ printf "%6d of %-6d %5.1f%% %s\n", $1, $2, $2 ? 100 * $1 / $2 : 0, $3 }'
awk '{ c += $1; t += $2 } END { printf "format drift: %d of %d lines (%.2f%%) differ from clang-format\n", c, t, t ? 100 * c / t : 0 }' "$tmp/.counts"
