#!/bin/sh
# As much CPU in the box as hostile-home's command takes (one core for
# about 6 s here), with nothing for the harness to walk, pack or read: the
# neighbour bench/noisy.sh compares hostile-home against.
cd /home/agent
timeout 6 sh -c 'while :; do :; done'
echo done
