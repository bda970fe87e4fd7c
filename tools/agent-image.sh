#!/bin/sh
# The security-tooling agent image `assay-agent`, built offline from Debian
# 12 packages (only Debian's mirror, through apt) with mmdebstrap, written
# as an OCI image layout and imported into the image store.
#   tools/agent-image.sh [--variant full|test] [--no-import] [OUT_DIR]
#     OUT_DIR/oci   the OCI layout (default OUT_DIR: build/agent-image, or
#                   build/agent-image-test for the test variant)
#     OUT_DIR/key   what it was built from: the layout is rebuilt only when
#                   the variant, its package list, the suite, the mirror or
#                   this recipe changed, else reused as it is
# Variants: `full` (`make agent-image`, `make demo`) has every tool issue 14
# names; `test` (`make check`) is the same recipe with only the packages the
# suite's tests run (the pwn tasks: python3, gcc, binutils, gdb, netcat):
# it builds in a fraction of the time (docs/TASKS.md, "The agent image").
# Then, unless --no-import, the layout is imported as `assay-agent` into the
# image store ($ASSAY_IMAGES, else the default beside the journal) — at
# once when that store already holds the same digest — and, for `full`,
# checked: every tool runs in a box of the image (tests/data/agent-image).
# Needs root or sudo (mmdebstrap's root mode) and the mmdebstrap package
# (tools/deps.sh; installed when missing); zstd compresses the layer when present, else gzip.
#   ASSAY=build/assay  ASSAY_AGENT_SUITE=bookworm  ASSAY_AGENT_MIRROR=URL
set -eu

variant=full
import=yes
while [ $# -gt 0 ]; do
	case $1 in
	--variant) variant=${2:?--variant full|test}; shift 2 ;;
	--no-import) import=no; shift ;;
	-*) echo "agent-image: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
case $variant in
full) OUT=${1:-build/agent-image} ;;
test) OUT=${1:-build/agent-image-test} ;;
*) echo "agent-image: --variant is full or test, not '$variant'" >&2; exit 2 ;;
esac
ASSAY=${ASSAY:-build/assay}
SUITE=${ASSAY_AGENT_SUITE:-bookworm}
MIRROR=${ASSAY_AGENT_MIRROR:-}
here=$(cd "$(dirname "$0")" && pwd)

# What every box needs (the bash tool, the fresh check box's tar, the
# oracle's /bin/sh and base64), and what the pwn tasks run.
BASE="bash coreutils passwd tar gzip ca-certificates procps
 python3 python-is-python3 gcc libc6-dev binutils gdb netcat-openbsd"
# What the benchmarks' agents expect (issue 14). pwntools and pycryptodome
# are Debian's (python3-pwntools 4.9, python3-pycryptodome 3.11); Debian
# ships pycryptodome under the import name Cryptodome, so `Crypto` is made
# an alias of it below.
FULL="less file xxd python3-pwntools python3-pycryptodome python3-requests
 checksec nmap sqlmap john hashcat binwalk sleuthkit tshark curl socat make
 strace ltrace"
PKGS=$BASE
[ "$variant" = test ] || PKGS="$BASE $FULL"
PKGS=$(echo $PKGS)

key=$(printf '%s\n' "$variant" "$SUITE" "$MIRROR" "$PKGS" |
	cat - "$0" "$here/oci-from-rootfs.py" | sha256sum | cut -c1-64)
if [ -f "$OUT/oci/index.json" ] && [ "$(cat "$OUT/key" 2>/dev/null)" = "$key" ]; then
	echo "agent-image: $OUT/oci is up to date ($variant, key ${key%${key#????????????}})" >&2
else
	# mmdebstrap's root mode: as root, or through sudo (as tools/deps.sh)
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || {
			echo "agent-image: building $OUT/oci needs root (mmdebstrap --mode=root) or sudo" >&2
			exit 1
		}
		SUDO=sudo
	fi
	command -v mmdebstrap >/dev/null || {
		echo "agent-image: installing mmdebstrap" >&2
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
	}
	compress=gzip
	command -v zstd >/dev/null && compress=zstd
	rm -rf "$OUT"
	mkdir -p "$OUT"
	t0=$(date +%s)
	echo "agent-image: mmdebstrap $SUITE ($variant: $(echo $PKGS | wc -w) packages and their dependencies)" >&2
	# eatmydata: no fsync for dpkg (Debian's own hook, fetched from the
	# mirror into the chroot); no manuals, info pages or translations.
	# tshark's capture question takes its default, no (debconf runs
	# non-interactively).
	# The system's PATH: mmdebstrap runs helpers (mmtarfilter, a python3
	# script) once per package, and a python3 shim (pyenv) first in PATH
	# costs each of them a shell start.
	# shellcheck disable=SC2086
	$SUDO env PATH=/usr/sbin:/usr/bin:/sbin:/bin mmdebstrap --variant=apt --mode=root --format=tar --quiet \
		--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--include="$(echo $PKGS | tr ' ' ',')" \
		--customize-hook='[ ! -d "$1/usr/lib/python3/dist-packages/Cryptodome" ] || ln -sfn Cryptodome "$1/usr/lib/python3/dist-packages/Crypto"' \
		--customize-hook='chroot "$1" useradd -m -u 1000 -s /bin/bash agent' \
		--customize-hook="printf 'variant=%s\\nsuite=%s\\npackages=%s\\n' '$variant' '$SUITE' '$PKGS' >\"\$1/etc/assay-agent\"" \
		--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
		"$SUITE" "$OUT/rootfs.tar" $MIRROR
	t1=$(date +%s)
	python3 "$here/oci-from-rootfs.py" "$OUT/rootfs.tar" "$OUT/oci" --compress "$compress" \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--cmd /bin/bash --ref "assay-agent"
	rm -f "$OUT/rootfs.tar"
	echo "$key" >"$OUT/key"
	echo "agent-image: built $OUT/oci ($(du -sh "$OUT/oci" | cut -f1), $compress): mmdebstrap $((t1 - t0)) s, layout $(($(date +%s) - t1)) s" >&2
fi
[ "$import" = yes ] || exit 0

# The manifest digest of the layout; the store's assay-agent is that one
# already when `image inspect` names it (then there is nothing to import).
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$OUT/oci/index.json")
if "$ASSAY" image inspect assay-agent 2>/dev/null | grep -q "$want"; then
	echo "agent-image: assay-agent is imported ($want)" >&2
else
	t0=$(date +%s)
	"$ASSAY" image import "$OUT/oci" --name assay-agent
	echo "agent-image: imported in $(($(date +%s) - t0)) s" >&2
fi
[ "$variant" = full ] || exit 0
# a private directory (mktemp -d), not a predictable name in /tmp
chk=$(mktemp -d /tmp/assay-agent-check.XXXXXX)
db=$chk/check.db
if "$ASSAY" run --suite "$here/../tests/data/agent-image" --model baseline/oracle \
	--store "$db" --quiet 2>/dev/null && "$ASSAY" show 1 --episode 1 --store "$db" 2>/dev/null |
	grep -q 'outcome solved'; then
	echo "agent-image: checked: every tool runs in a box of assay-agent" >&2
	rm -rf "$chk"
else
	echo "agent-image: a tool does not run in the image: build/assay show 1 --episode 1 --transcript --store $db" >&2
	exit 1
fi
