import sys
c = open(sys.argv[1]).read().strip()
print('HTB{' + ''.join(chr((ord(x) - 65 - i) % 26 + 65) if x.isalpha() else x for i, x in enumerate(c)) + '}')
