#!/bin/bash
# Six fixes: name off-by-one (32-byte name + NUL), 16-bit wrap in the
# READINGS length check, format string in LOG, unchecked key/value lengths
# in CONFIG, use-after-free after BYE, payload length not bounded by 4096.
set -euo pipefail
cd "$HOME/tlmgw"
python3 - <<'PY'
p = "tlmgw.c"
s = open(p).read()
def rep(old, new):
    global s
    assert s.count(old) == 1, old
    s = s.replace(old, new)
rep("\tchar name[32];", "\tchar name[33];")
rep("\tuint16_t need = count * 6;", "\tsize_t need = (size_t)count * 6;")
rep("malloc(need / 6 * sizeof *r + 1)", "malloc(count * sizeof *r)")
rep("\tprintf(line);", "\tfputs(line, stdout);")
rep("""			char key[16], val[48];
			unsigned klen = (unsigned)(eq - (p + i)), vlen = end - klen - i - 1;
""", """			char key[16], val[48];
			unsigned klen = (unsigned)(eq - (p + i)), vlen = end - klen - i - 1;
			if (klen >= sizeof key || vlen >= sizeof val) {
				puts("ERR config");
				return;
			}
""")
rep("""	printf("BYE %s\\n", sess->name);
	free(sess);
""", """	printf("BYE %s\\n", sess->name);
	free(sess);
	sess = NULL;
""")
rep("""		unsigned len = get16(hdr + 4);
""", """		unsigned len = get16(hdr + 4);
		if (len > MAX_PAYLOAD) {
			puts("ERR too big");
			break;
		}
""")
open(p, "w").write(s)
PY
gcc -O1 -g -Wall -Wextra -o tlmgw tlmgw.c
