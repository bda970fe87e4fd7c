#!/bin/bash
# The adder, plus traces outside the home that the fresh box must not get.
set -euo pipefail
# alive while its neighbour's home is walked and packed
sleep 4
printf '#!/bin/sh\necho $(( $1 + $2 ))\n' > /home/agent/sum.sh
touch /tmp/.agent-was-here
(setsid sleep 600 >/dev/null 2>&1 &)
