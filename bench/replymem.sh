#!/bin/bash
# bench/replymem.sh BUILD_DIR [N] [BYTES]: N concurrent model calls (default
# 64), each answered with a chunked body of BYTES (default 50 MB), under the
# default shared reply-memory cap (256 MiB) and with the cap lifted (4 GiB),
# to show what the cap bounds. Prints bench_replymem's line for each.
set -eu
build=$(cd "${1:?usage: bench/replymem.sh BUILD_DIR [N] [BYTES]}" && pwd)
n=${2:-64}
bytes=${3:-52428800}
tmp=$(mktemp -d /tmp/assay-replymem-XXXXXX)
trap 'kill $mock 2>/dev/null; rm -rf "$tmp"' EXIT
echo "{\"kind\":\"huge\",\"bytes\":$bytes,\"chunked\":true,\"stream\":true}" >"$tmp/s.jsonl"
"$build/mockmodel" --script "$tmp/s.jsonl" --loop --idle-exit 600 >"$tmp/port" &
mock=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.02; done
port=$(head -1 "$tmp/port")
for cap in 256 4096; do
	"$build/bench_replymem" "http://127.0.0.1:$port" "$n" "$cap"
done
