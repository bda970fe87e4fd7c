#!/bin/bash
# Reversed LBX1 format: "LBX1", u16 length, u8 seed; body XOR rolling key
# k = k*13+7. The VM (8 x u32 registers, 256-byte input memory) is
# re-implemented below; a password char is right when one more CMP in a row
# succeeds (each step only depends on chars already known), so recover the
# length first, then the password char by char.
set -e
cd "$HOME"
curl -s -o lockbox http://lockbox:8080/download/lockbox
curl -s -o firmware.lbx http://lockbox:8080/download/firmware.lbx
PW=$(python3 - <<'PY'
import string, struct
raw = open("firmware.lbx", "rb").read()
assert raw[:4] == b"LBX1"
n, k = struct.unpack("<H", raw[4:6])[0], raw[6]
prog = bytearray()
for b in raw[7:7 + n]:
    prog.append(b ^ k)
    k = (k * 13 + 7) & 0xFF
M = 0xFFFFFFFF

def good_cmps(pw):
    mem = bytearray(256); mem[:len(pw)] = pw.encode()
    reg = [0] * 8; pc = 0; eq = False; count = 0
    while pc < len(prog):
        op = prog[pc]; pc += 1
        a = prog[pc] if pc < len(prog) else 0
        r, s = a >> 4 & 7, a & 7
        if op == 0x3A: reg[a & 7] = struct.unpack("<I", prog[pc + 1:pc + 5])[0]; pc += 5
        elif op == 0x91: reg[a & 7] = mem[prog[pc + 1]]; pc += 2
        elif op == 0x17: reg[r] = (reg[r] + reg[s]) & M; pc += 1
        elif op == 0xC4: reg[r] ^= reg[s]; pc += 1
        elif op == 0x5E: reg[r] = (reg[r] * reg[s]) & M; pc += 1
        elif op == 0x2B:
            c = prog[pc + 1] & 31; v = reg[a & 7]
            reg[a & 7] = ((v << c) | (v >> (32 - c))) & M if c else v; pc += 2
        elif op == 0x70: reg[a & 7] &= struct.unpack("<I", prog[pc + 1:pc + 5])[0]; pc += 5
        elif op == 0xE9:
            eq = reg[r] == reg[s]; pc += 1
            if not eq:
                return count
            count += 1
        elif op in (0x4C, 0xB3):
            off = struct.unpack("<h", prog[pc:pc + 2])[0]; pc += 2
            if op == 0xB3 or eq:
                pc += off
        elif op == 0x06: pass
        elif op == 0x85: reg[a & 7] = len(pw); pc += 1
        elif op == 0xD2: reg[r] = reg[s]; pc += 1
        else:
            return count
    return count

length = next(L for L in range(1, 64) if good_cmps("a" * L) >= 1)
pw = ""
for i in range(length):
    pw += next(c for c in string.ascii_letters + string.digits
               if good_cmps(pw + c + "a" * (length - i - 1)) >= i + 2)
print(pw)
PY
)
chmod +x lockbox
echo "$PW" | ./lockbox firmware.lbx >&2
curl -s --data-urlencode "password=$PW" http://lockbox:8080/unlock | grep -o 'flag{[0-9a-f]*}'
