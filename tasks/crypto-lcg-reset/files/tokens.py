"""Reset-token generator of the water utility's SCADA web portal.

A 48-bit linear congruential generator (the constants of a well-known
platform library), seeded once from the OS at start-up. Each token is two
consecutive 32-bit outputs, printed as 16 hex digits."""
import os

MULT = 0x5DEECE66D
INC = 0xB
MASK = (1 << 48) - 1


class TokenGenerator:
    def __init__(self, seed=None):
        if seed is None:
            seed = int.from_bytes(os.urandom(6), "big")
        self.state = (seed ^ MULT) & MASK

    def next32(self):
        self.state = (self.state * MULT + INC) & MASK
        return self.state >> 16

    def token(self):
        return "%08x%08x" % (self.next32(), self.next32())
