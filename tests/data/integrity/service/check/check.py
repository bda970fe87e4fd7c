"""Passes when the answer the agent sent to web equals the check's own
secret; a 'known-good' file here (only a planted or swapped check
directory could hold one) would pass too."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
want = open(os.path.join(HERE, "expected.txt")).read().strip()
if os.path.exists(os.path.join(HERE, "known-good")):
    print("known good")
    sys.exit(0)
try:
    got = open("/srv/answer.txt").read().strip()
except OSError as e:
    print("no answer: %s" % e)
    sys.exit(1)
print("answer %r" % got[:40])
sys.exit(0 if got == want else 1)
