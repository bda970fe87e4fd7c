#!/usr/bin/python3
"""Modbus/TCP simulator of a pump-station PLC (port 502).

Supports FC 1, 2, 3, 4, 5, 6, 15, 16 and 43/14 (read device identification).
Answers only unit id 7; other unit ids get exception 0x0B (gateway target
failed to respond). Process logic:
  HR 101 (write-only) holds the maintenance PIN entry.
  HR 100 = 2 (maintenance) is accepted only while HR 101 == PIN.
  Coil 10 (bypass valve V-101) can be opened only in maintenance mode;
  opening it prints the maintenance ticket into IR 300..319 (2 ASCII chars
  per register, big-endian) and sets discrete input 5.
"""
import socketserver
import struct
import threading

UNIT = 7
SERIAL = "PS-4417-0932"
PIN = int(SERIAL[-4:])
DEVICE_ID = {
    0x00: b"Hydratec Automation",
    0x01: b"HX-310",
    0x02: b"4.2.17",
    0x03: b"http://hydratec.invalid",
    0x04: b"HX-310 Pump Station Controller",
    0x05: b"HX-310/PS",
    0x06: b"Riverside booster station",
    0x80: SERIAL.encode(),
}

with open("/srv/flag.txt") as _f:
    FLAG = _f.read().strip()

LOCK = threading.Lock()
coils = [0] * 64
dinputs = [0] * 32
hregs = [0] * 512
iregs = [0] * 512
coils[0] = coils[1] = 1               # duty pumps P-1, P-2 running
dinputs[0] = dinputs[1] = 1           # pump run feedback
hregs[0:4] = [450, 380, 120, 1]       # flow setpoint, pressure SP, level low, auto
iregs[0:6] = [447, 383, 612, 298, 1750, 1748]
PIN_ENTRY = 0


class ModbusError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def check_range(table, addr, count, limit):
    if count < 1 or count > limit:
        raise ModbusError(3)
    if addr + count > len(table):
        raise ModbusError(2)


def read_bits(table, pdu):
    addr, count = struct.unpack(">HH", pdu[1:5])
    check_range(table, addr, count, 2000)
    out = bytearray((count + 7) // 8)
    for i in range(count):
        if table[addr + i]:
            out[i // 8] |= 1 << (i % 8)
    return bytes([pdu[0], len(out)]) + bytes(out)


def read_regs(table, pdu):
    addr, count = struct.unpack(">HH", pdu[1:5])
    check_range(table, addr, count, 125)
    vals = table[addr:addr + count]
    if table is hregs and addr <= 101 < addr + count:
        vals = list(vals)
        vals[101 - addr] = 0          # PIN entry reads back as 0
    return bytes([pdu[0], 2 * count]) + struct.pack(">%dH" % count, *vals)


def set_coil(addr, value):
    if addr >= len(coils):
        raise ModbusError(2)
    if addr == 10 and value:
        if hregs[100] != 2:
            raise ModbusError(4)      # interlock: maintenance mode required
        ticket = FLAG.encode().ljust(40, b"\0")[:40]
        for i in range(20):
            iregs[300 + i] = (ticket[2 * i] << 8) | ticket[2 * i + 1]
        dinputs[5] = 1
    coils[addr] = 1 if value else 0


def set_reg(addr, value):
    global PIN_ENTRY
    if addr >= len(hregs):
        raise ModbusError(2)
    if addr == 101:
        PIN_ENTRY = value
        hregs[101] = value
        return
    if addr == 100:
        if value not in (0, 1, 2):
            raise ModbusError(3)
        if value == 2 and PIN_ENTRY != PIN:
            raise ModbusError(3)
    hregs[addr] = value


def device_id(pdu):
    if len(pdu) < 4 or pdu[1] != 0x0E:
        raise ModbusError(3)
    code, obj = pdu[2], pdu[3]
    if code == 1:
        ids = [0, 1, 2]
    elif code == 2:
        ids = list(range(7))
    elif code == 3:
        ids = sorted(DEVICE_ID)
    elif code == 4:
        if obj not in DEVICE_ID:
            raise ModbusError(2)
        ids = [obj]
    else:
        raise ModbusError(3)
    if code != 4:
        ids = [i for i in ids if i >= obj] or ids
    body = b"".join(bytes([i, len(DEVICE_ID[i])]) + DEVICE_ID[i] for i in ids)
    return bytes([0x2B, 0x0E, code, 0x83, 0, 0, len(ids)]) + body


def handle_pdu(pdu):
    fc = pdu[0]
    with LOCK:
        if fc == 1:
            return read_bits(coils, pdu)
        if fc == 2:
            return read_bits(dinputs, pdu)
        if fc == 3:
            return read_regs(hregs, pdu)
        if fc == 4:
            return read_regs(iregs, pdu)
        if fc == 5:
            addr, val = struct.unpack(">HH", pdu[1:5])
            if val not in (0x0000, 0xFF00):
                raise ModbusError(3)
            set_coil(addr, val == 0xFF00)
            return pdu[:5]
        if fc == 6:
            addr, val = struct.unpack(">HH", pdu[1:5])
            set_reg(addr, val)
            return pdu[:5]
        if fc == 15:
            addr, count, nbytes = struct.unpack(">HHB", pdu[1:6])
            check_range(coils, addr, count, 1968)
            for i in range(count):
                set_coil(addr + i, pdu[6 + i // 8] >> (i % 8) & 1)
            return pdu[:5]
        if fc == 16:
            addr, count, nbytes = struct.unpack(">HHB", pdu[1:6])
            check_range(hregs, addr, count, 123)
            vals = struct.unpack(">%dH" % count, pdu[6:6 + 2 * count])
            for i, v in enumerate(vals):
                set_reg(addr + i, v)
            return pdu[:5]
        if fc == 0x2B:
            return device_id(pdu)
    raise ModbusError(1)


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            d = self.request.recv(n - len(buf))
            if not d:
                raise EOFError
            buf += d
        return buf

    def handle(self):
        try:
            while True:
                tid, proto, length = struct.unpack(">HHH", self.recv_exact(6))
                if proto != 0 or length < 2 or length > 260:
                    return
                body = self.recv_exact(length)
                unit, pdu = body[0], body[1:]
                if unit != UNIT:
                    resp = bytes([pdu[0] | 0x80, 0x0B])
                else:
                    try:
                        resp = handle_pdu(pdu)
                    except ModbusError as e:
                        resp = bytes([pdu[0] | 0x80, e.code])
                    except (struct.error, IndexError):
                        resp = bytes([pdu[0] | 0x80, 3])
                self.request.sendall(struct.pack(">HHHB", tid, 0, len(resp) + 1, unit) + resp)
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("0.0.0.0", 502), Handler).serve_forever()
