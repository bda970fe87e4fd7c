def enc(m):
    return ''.join(chr((ord(c) - 65 + i) % 26 + 65) if c.isalpha() else c for i, c in enumerate(m))
