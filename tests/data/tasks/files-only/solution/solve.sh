#!/bin/bash
set -euo pipefail
echo "answer[1]: base64"
base64 -d note.txt
