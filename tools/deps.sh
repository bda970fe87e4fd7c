#!/bin/sh
# Install exactly the Debian packages that assay's build, tests, benchmarks
# and open tasks need. Idempotent: does nothing when all are present.
#   tools/deps.sh          install what is missing
#   tools/deps.sh --check  exit 1 if anything is missing, install nothing
set -eu

BUILD="build-essential cmake pkg-config clang libclang-rt-14-dev
 libcurl4-openssl-dev libjansson-dev libyaml-dev libsqlite3-dev libpq-dev
 libsodium-dev libseccomp-dev libcmocka-dev musl-tools
 libmicrohttpd-dev liboath-dev libarchive-dev zlib1g-dev"
TEST="bubblewrap hyperfine wrk bc iproute2 procps busybox-static minisign sqlite3 zstd
 python3 python3-scipy python3-numpy python3-statsmodels chromium
 python3-jsonschema postgresql slurm-wlm munge mmdebstrap"
# `make lint`: cppcheck, clang-tidy (bugprone-*, cert-*), clang-format.
LINT="cppcheck clang-tidy clang-format"
# Programs the open calibration suite's boxes use (image "host"; the pwn
# tasks run on the agent image, tools/agent-image.sh, which mmdebstrap,
# above, builds).
TASKS="python3 gcc gdb binutils curl netcat-openbsd openssl file xxd
 tshark bsdextrautils python3-cryptography"

PKGS="$BUILD $TEST $LINT $TASKS"
# The browser tests (tests/web, tools/web-deps.sh) need node and npm:
# Debian's, unless the machine already has them (e.g. a newer Node.js).
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "${1:-}" = "--check" ]; then
	echo "missing packages:$missing" >&2
	exit 1
fi

echo "assay: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# tshark asks whether non-root users may capture; the answer does not matter.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
