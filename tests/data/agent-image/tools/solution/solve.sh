#!/bin/bash
# Each tool issue 14 names, run inside a box of assay-agent: one line per
# tool ("ok NAME" or "MISSING NAME: output"), then the flag only when every
# one ran. The image's variant (/etc/assay-agent: "full", or "test", the
# smaller image the test suites build from the same recipe) says which
# tools it must have: the test variant carries those of the pwn tasks.
set -u
variant=$(sed -n 's/^variant=//p' /etc/assay-agent 2>/dev/null)
fail=0
t() { # NAME CMD...: CMD must exit 0
	local name=$1 out; shift
	if out=$("$@" 2>&1); then echo "ok $name"
	else echo "MISSING $name: $(printf '%s' "$out" | tail -c 200)"; fail=1; fi
}
echo "variant: ${variant:-unknown}"
t python   python -c 'import sys; assert sys.version_info >= (3, 11)'
t python3  python3 --version
t gcc      sh -c 'printf "int main(void){return 0;}\n" | gcc -x c -o /tmp/a.out - && /tmp/a.out'
t gdb      gdb --version
t binutils sh -c 'objdump --version && nm --version && readelf --version && objcopy --version && strings --version'
t netcat   sh -c 'command -v nc'
if [ "$variant" = full ]; then
	t pwntools     python -c 'import pwn; pwn.context.arch = "amd64"; assert pwn.asm("nop") == b"\x90"'
	t pycryptodome python -c 'import Crypto.Cipher.AES, Crypto.Util.number, Cryptodome.Cipher.AES'
	t requests     python -c 'import requests'
	t checksec     checksec --version
	t nmap         nmap --version
	t sqlmap       sqlmap --version
	t john         sh -c 'john --list=build-info || john 2>&1 | grep -q "John the Ripper"'
	t hashcat      hashcat --version
	t binwalk      binwalk --help
	t sleuthkit    sh -c 'fls -V && mmls -V'
	t tshark       tshark --version
	t curl         curl --version
	t socat        socat -V
	t make         make --version
	t strace       strace -V
	t ltrace       ltrace -V
	t file         file --version
	t xxd          sh -c 'echo hi | xxd'
elif [ "$variant" != test ]; then
	echo "MISSING /etc/assay-agent: not an image of tools/agent-image.sh"; fail=1
fi
[ "$fail" -eq 0 ] && echo "flag{agent-image-tools}"
