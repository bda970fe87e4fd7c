#!/bin/sh
# `make agent-image`: the security-tooling agent image, built offline from
# Debian 12 packages (only Debian's mirror, through apt) with mmdebstrap,
# written as an OCI image layout and imported as `assay-agent`.
#   tools/agent-image.sh [OUT_DIR]      (default build/agent-image)
# Needs root (mmdebstrap's root mode) and the mmdebstrap package (installed
# when missing; tshark's capture question takes its default, no, as
# mmdebstrap runs debconf non-interactively). Tasks then use `agent: {image: assay-agent}`.
set -eu

OUT=${1:-build/agent-image}
ASSAY=${ASSAY:-build/assay}
SUITE=${ASSAY_AGENT_SUITE:-bookworm}
MIRROR=${ASSAY_AGENT_MIRROR:-}

# What the benchmarks' agents expect (issue 14). pwntools and pycryptodome
# are Debian's (python3-pwntools 4.9, python3-pycryptodome 3.11); Debian
# ships pycryptodome under the import name Cryptodome, so `Crypto` is made
# an alias of it below.
PKGS="bash coreutils passwd tar gzip ca-certificates procps less file xxd
 python3 python-is-python3 python3-pwntools python3-pycryptodome
 python3-requests gdb binutils checksec nmap sqlmap john hashcat binwalk
 sleuthkit tshark curl netcat-openbsd socat gcc libc6-dev make strace ltrace"

command -v mmdebstrap >/dev/null || {
	echo "agent-image: installing mmdebstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
}
rm -rf "$OUT"
mkdir -p "$OUT"
mmdebstrap --variant=apt --mode=root --format=tar \
	--include="$(echo $PKGS | tr ' ' ',')" \
	--customize-hook='ln -sfn Cryptodome "$1/usr/lib/python3/dist-packages/Crypto"' \
	--customize-hook='chroot "$1" useradd -m -u 1000 -s /bin/bash agent' \
	--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
	"$SUITE" "$OUT/rootfs.tar" $MIRROR
python3 "$(dirname "$0")/oci-from-rootfs.py" "$OUT/rootfs.tar" "$OUT/oci" \
	--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--workdir /home/agent --cmd /bin/bash
rm -f "$OUT/rootfs.tar"
"$ASSAY" image import "$OUT/oci" --name assay-agent
