#!/bin/sh
# A 4 TiB sparse file and 150000 empty files in 150 directories: cheap to
# make in the box, costly for a harness that copies or walks them blindly.
cd /home/agent
truncate -s 4T sparse
python3 -c '
import os
for d in range(150):
    os.mkdir("d%d" % d)
    for f in range(1000):
        open("d%d/f%d" % (d, f), "w").close()
'
echo done
