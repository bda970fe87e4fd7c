#!/bin/bash
set -euo pipefail
printf '#!/bin/sh\nprintf "Hello %%s\\n" "$1"\n' > greet.sh
cat greet.sh >&2
