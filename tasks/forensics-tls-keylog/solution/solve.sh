#!/bin/bash
# The client host's ~/.bashrc sets SSLKEYLOGFILE to a hidden file under
# ~/.cache/pip; with those TLS 1.3 secrets tshark decrypts the sessions of
# 10.9.0.23, one of which uploads the escrow key to the vault.
set -euo pipefail
curl -s -o capture.pcap http://evidence:8080/capture.pcap
curl -s -o home.tar.gz http://evidence:8080/ws-dev-23-home.tar.gz
mkdir -p home && tar -xzf home.tar.gz -C home
keys=home/home/dev/.cache/pip/.sess
tshark -r capture.pcap -o "tls.keylog_file:$keys" -Y 'http.request.method == "POST"' \
	-T fields -e ip.src -e tls.handshake.extensions_server_name -e http.file_data > posts.tsv
sni=$(tshark -r capture.pcap -o "tls.keylog_file:$keys" -Y 'http.request.method == "POST"' -T fields -e tcp.stream |
	head -n1 | xargs -I{} tshark -r capture.pcap -Y "tcp.stream == {} && tls.handshake.type == 1" -T fields -e tls.handshake.extensions_server_name)
echo "answer[1]: $sni"
echo "answer[2]: ${keys#home/home/dev/}"
grep -o 'flag{[0-9a-f]*}' posts.tsv | head -n1
