"""Minimal pcap writer: Ethernet/IPv4/TCP sessions with valid checksums.
Written for assay's forensics tasks (no scapy in the boxes)."""
import socket
import struct


def _csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _mac(ip):
    return b"\x02\x00" + socket.inet_aton(ip)


class Pcap:
    def __init__(self):
        self.out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
        self.ipid = 1

    def packet(self, ts, src, dst, sport, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 64240, 0, 0)
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        c = _csum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), self.ipid & 0xFFFF, 0x4000,
                         64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
        self.ipid += 1
        frame = _mac(dst) + _mac(src) + b"\x08\x00" + ip + tcp + payload
        sec = int(ts)
        self.out.append(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)) + frame)

    def session(self, t, cli, cport, srv, sport, exchanges, gap=0.002, mss=1400):
        """exchanges: list of (from_client: bool, bytes). Returns the end time."""
        ISN_C, ISN_S = (cport * 7919) & 0xFFFFFFF, (sport * 104729 + cport) & 0xFFFFFFF
        A, P, S, F = 0x10, 0x08, 0x02, 0x01
        self.packet(t, cli, srv, cport, sport, ISN_C, 0, S); t += gap
        self.packet(t, srv, cli, sport, cport, ISN_S, ISN_C + 1, S | A); t += gap
        cs, ss = ISN_C + 1, ISN_S + 1
        self.packet(t, cli, srv, cport, sport, cs, ss, A); t += gap
        for from_cli, data in exchanges:
            for i in range(0, len(data), mss):
                seg = data[i:i + mss]
                if from_cli:
                    self.packet(t, cli, srv, cport, sport, cs, ss, A | P, seg); cs += len(seg)
                else:
                    self.packet(t, srv, cli, sport, cport, ss, cs, A | P, seg); ss += len(seg)
                t += gap
            if from_cli:
                self.packet(t, srv, cli, sport, cport, ss, cs, A)
            else:
                self.packet(t, cli, srv, cport, sport, cs, ss, A)
            t += gap
        self.packet(t, cli, srv, cport, sport, cs, ss, F | A); t += gap
        self.packet(t, srv, cli, sport, cport, ss, cs + 1, F | A); t += gap
        self.packet(t, cli, srv, cport, sport, cs + 1, ss + 1, A); t += gap
        return t

    def bytes(self):
        return b"".join(self.out)
