#!/bin/sh
# A 4 TiB sparse file and 150000 empty files in 150 directories: cheap to
# make in the box, costly for a harness that copies or walks them blindly;
# and 150 MB on stderr (the oracle passes it on as the command's own;
# init keeps its head and tail: the harness must neither read nor
# journal the rest).
cd /home/agent
truncate -s 4T sparse
python3 -c '
import os
for d in range(150):
    os.mkdir("d%d" % d)
    for f in range(1000):
        open("d%d/f%d" % (d, f), "w").close()
'
head -c 150000000 /dev/zero | tr '\0' x >&2
echo done
