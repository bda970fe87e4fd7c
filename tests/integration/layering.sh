#!/bin/bash
# The layering rules of docs/ARCHITECTURE.md, checked with grep: each
# third-party header is included only by the part that owns it, and parts
# include only the parts below them.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
cd "$ASSAY_SOURCE_DIR/src"

owner() {   # owner HEADER-REGEX ALLOWED-PATH-REGEX
	local hits
	hits=$(grep -rlE "#include <$1>" --include='*.c' --include='*.h' . | grep -vE "$2" || true)
	[ -z "$hits" ] && ok "<$1> only in $2" || bad "<$1> outside $2" "$hits"
}
owner 'curl/curl\.h' '^\./model/http\.c$'
owner 'sqlite3\.h' '^\./store/'
owner 'sodium\.h' '^\./vault/'
owner 'yaml\.h' '^\./base/ytree\.c$'
owner 'seccomp\.h' '^\./sandbox/'
owner 'jansson\.h' '^\./(base|model|agent|report|cli)/'

# part -> parts it must not include (the ones above it or beside it)
forbid() {   # forbid PART REGEX-OF-FORBIDDEN-PARTS
	local hits
	hits=$(grep -rnE "#include \"($2)/" "$1" 2>/dev/null || true)
	[ -z "$hits" ] && ok "$1 does not include $2" || bad "$1 includes $2" "$hits"
}
forbid base 'task|sandbox|model|store|vault|stats|agent|score|policy|engine|report|cli'
forbid task 'sandbox|model|store|vault|stats|agent|score|policy|engine|report|cli'
forbid sandbox 'task|model|store|vault|stats|agent|score|policy|engine|report|cli'
forbid model 'task|sandbox|store|vault|stats|agent|score|policy|engine|report|cli'
forbid store 'task|sandbox|model|vault|stats|agent|score|policy|engine|report|cli'
forbid vault 'task|sandbox|model|store|stats|agent|score|policy|engine|report|cli'
forbid stats 'task|sandbox|model|store|vault|agent|score|policy|engine|report|cli'
forbid agent 'task|store|vault|stats|score|policy|engine|report|cli'
forbid score 'sandbox|model|store|stats|agent|policy|engine|report|cli'
forbid policy 'task|sandbox|model|store|vault|agent|score|engine|report|cli'
forbid engine 'report|cli'
forbid report 'engine|cli|sandbox|model|agent'
# only the CLI prints to the user: no printf/puts to stdout below it
hits=$(grep -rnE '\b(printf|puts)\(' --include='*.c' base task sandbox/*.c model store vault stats agent score policy engine 2>/dev/null | grep -v 'snprintf\|fprintf(stderr' || true)
[ -z "$hits" ] && ok "no part below cli prints to stdout" || bad "printing below cli" "$hits"
# ... nor to stderr but through the logger (the progress line is the CLI's;
# BUG() and out-of-memory print and abort: nobody is left to return to)
hits=$(grep -rnE '(^|[^["a-z_])stderr\b' --include='*.c' base task sandbox/*.c model store vault stats agent score policy engine report 2>/dev/null | grep -vE '^base/(log|xalloc|bug)\.c:|^[^:]*:[0-9]+:\s*(/?\*|//)' || true)
[ -z "$hits" ] && ok "no part below cli writes to stderr but the logger" || bad "stderr below cli" "$hits"
finish
