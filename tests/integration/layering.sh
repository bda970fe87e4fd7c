#!/bin/bash
# The layering rules of docs/ARCHITECTURE.md, checked with grep: each
# third-party library's headers (all of them, not only the main one) are
# included only by the part that owns it, parts include only the parts
# below them (no `../` paths, however `#  include` is spaced), nothing
# below cli prints or exits, and every file of src/ includes banned.h
# last of all its includes, and the vault names its crypto sizes.
# A self-test plants each violation in a copy of src/ and expects it to be
# caught, so a rule cannot silently stop matching.
set -u
. "$(dirname "$0")/../lib/testlib.sh"

BELOW_CLI="base task sandbox model store vault image stats agent score policy engine report"
INC='^[[:space:]]*#[[:space:]]*include[[:space:]]*'

# Every check takes the root of a src/ tree and prints what breaks the
# rule, one "file:line: text" per hit; nothing means the rule holds.

# third-party headers: LIBRARY-REGEX (matched after < or ") ALLOWED-REGEX
OWNERS=(
	'curl/[^">]*'                                '^\./model/http\.c:'
	'sqlite3(ext)?\.h'                           '^\./store/store_db_sqlite\.c:'
	'((libpq-fe|libpq-events|postgres_ext|pg_config[a-z_]*)\.h|libpq/[^">]*)' '^\./store/store_db_pg\.c:'
	'sodium(\.h|/[^">]*)'                        '^\./vault/'
	'yaml\.h'                                    '^\./base/ytree\.c:'
	'seccomp(-syscalls)?\.h'                     '^\./sandbox/'
	'jansson(_config)?\.h'                       '^\./(base|task|model|agent|report|cli|server|image)/'
	'microhttpd(2)?\.h'                          '^\./server/http\.c:'
	'liboath/[^">]*'                             '^\./server/totp\.c:'
	'archive(_entry)?\.h'                        '^\./image/'
	'zlib\.h'                                    '^\./report/zipw\.c:'
)
chk_owners() {
	local i
	for ((i = 0; i < ${#OWNERS[@]}; i += 2)); do
		(cd "$1" && grep -rnE "$INC[<\"]${OWNERS[i]}[\">]" --include='*.c' --include='*.h' . |
			grep -vE "${OWNERS[i + 1]}")
	done
	return 0
}

chk_dotdot() {
	(cd "$1" && grep -rnE "$INC\"[^\"]*\.\./" --include='*.c' --include='*.h' .)
	return 0
}

# part -> the parts it must not include (the ones above it or beside it)
FORBID=(
	base    'task|sandbox|model|store|vault|image|stats|agent|score|policy|engine|report|cli|server'
	task    'image|sandbox|model|store|vault|stats|agent|score|policy|engine|report|cli|server'
	sandbox 'image|task|model|store|vault|stats|agent|score|policy|engine|report|cli|server'
	model   'image|task|sandbox|store|vault|stats|agent|score|policy|engine|report|cli|server'
	store   'image|task|sandbox|model|vault|stats|agent|score|policy|engine|report|cli|server'
	vault   'image|task|sandbox|model|store|stats|agent|score|policy|engine|report|cli|server'
	image   'task|sandbox|model|store|stats|agent|score|policy|engine|report|cli|server'
	stats   'image|task|sandbox|model|store|vault|agent|score|policy|engine|report|cli|server'
	agent   'image|task|store|vault|stats|score|policy|engine|report|cli|server'
	score   'image|sandbox|model|store|stats|agent|policy|engine|report|cli|server'
	policy  'image|task|sandbox|model|store|vault|agent|score|engine|report|cli|server'
	engine  'report|cli|server'
	report  'engine|cli|image|sandbox|model|agent|server'
	server  'cli'
)
chk_parts() {
	local i
	for ((i = 0; i < ${#FORBID[@]}; i += 2)); do
		(cd "$1" && grep -rnE "$INC\"(${FORBID[i + 1]})/" "${FORBID[i]}")
	done
	return 0
}

# code lines only: drop comment lines ("file:line: /* ..." or " * ...")
code_only() { grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/?\*|//)'; }

# Only the CLI prints to the user and decides to exit. The in-box init
# (sandbox/init/) is a program of its own; report writes to the FILE the
# CLI hands it, never to stdout.
chk_print() {
	local parts="base task sandbox/*.c model store vault image stats agent score policy engine"
	(cd "$1" && grep -nE '(^|[^a-z_])(printf|puts|fputs|putchar|vprintf)\(|fprintf\(stdout|, stdout\)|(^|[^a-z_])exit\(' \
		$(for p in $parts; do [ -d "$p" ] && echo "-r $p" || echo "$p"; done) --include='*.c' 2>/dev/null |
		grep -vE '^[^:]+:[0-9]+:.*\b(snprintf|vsnprintf)\(' | code_only)
	(cd "$1" && grep -rnE '(^|[^a-z_])(printf|puts|vprintf)\(|fprintf\(stdout|, stdout\)|(^|[^a-z_])exit\(' \
		--include='*.c' report | grep -vE '\b(snprintf|vsnprintf)\(' | code_only)
	return 0
}

# ... nor to stderr but through the logger; BUG() and out-of-memory print
# and abort: nobody is left to return an error to.
chk_stderr() {
	(cd "$1" && grep -nE '(^|[^["a-z_])stderr\b' -r --include='*.c' base task model store vault image stats agent score policy engine report sandbox/*.c 2>/dev/null |
		grep -vE '^base/(log|xalloc|bug)\.c:' | code_only)
	return 0
}

# banned.h is included by every .c file of src/, and last of all its
# includes (as git's must be): a system header after it would have its
# declarations broken by the macros, and a project header after it could
# pull one in
chk_banned() {
	(cd "$1" && find . -name '*.c' | sort | xargs awk -v inc="$INC" '
		function verdict() {
			if (!b) print f ": does not include base/banned.h"
			else if (last > b) print f ":" last ": an include after base/banned.h"
		}
		FNR == 1 { if (f != "") verdict(); f = FILENAME; b = 0; last = 0 }
		$0 ~ (inc "[<\"]") { last = FNR; if (!b && $0 ~ (inc "\"(base/)?banned[.]h\"")) b = FNR }
		END { if (f != "") verdict() }')
}

# The vault sizes its keys, hashes, nonces, MACs and signatures with
# libsodium's constants (crypto_sign_BYTES, ...) or a header's named
# constant asserted against them (VAULT_PK_LEN, ...), never a bare 16, 24,
# 32, 48 or 64: a byte array of such a size, a hex buffer of 17 or 65, such
# a number as a call's argument (", 32)") or added to a size ("+ 16]").
# Text buffers (char want[48]), shifts and _Alignas(16) are not sizes of
# crypto and pass.
CRYPTO_N='(16|24|32|33|48|64)'
chk_cryptosize() {
	(cd "$1" && grep -rnE "unsigned char\b[^;]*\[[[:space:]]*$CRYPTO_N[[:space:]]*\]|\bchar\b[^;]*\[[[:space:]]*(17|65)[[:space:]]*\]|,[[:space:]]*$CRYPTO_N[[:space:]]*[,)]|\([[:space:]]*$CRYPTO_N[[:space:]]*,|[-+][[:space:]]*$CRYPTO_N[[:space:]]*[],);]" \
		--include='*.c' --include='*.h' vault | code_only)
	return 0
}

# Every non-static symbol of src/ carries its part's prefix (sbx_ for
# sandbox, init_ for the in-box init, cli_ for cli). base keeps short names:
# a module prefix or one of the generic helpers docs/internals/base.md
# lists. Read with nm from the object files of a build: OBJ-ROOT/src/PART/
# FILE.c.o; prints "PART/FILE: SYMBOL" for each that breaks the rule.
BASE_NAMES='(buf|err|jsonw|bug|log|num|safe|strv|ytree|ymap|ynode|yscalar|path|file|utf8)_[a-z0-9_]+|x[a-z_]+|is_dir|mkdir_p|rm_rf|ct_equal|hex_encode|hex_decode|hex_digit|iso8601|now_ms|now_us|wall_ms|random_bytes|trim_span'
chk_prefix() {
	find "$1" -path '*/src/*' -name '*.c.o' | sort | xargs -r nm -g --defined-only -A 2>/dev/null |
		awk -v base="$BASE_NAMES" '
		$2 ~ /^[TDBRCGSV]$/ && $3 !~ /^_/ {
			o = $1; sub(/:[0-9a-f]*$/, "", o)
			rel = o; sub(/^.*\/src\//, "", rel); sub(/[.]c[.]o$/, "", rel)
			part = rel; sub(/\/.*/, "", part)
			if (rel ~ /^sandbox\/init\//) want = "init_[a-z0-9_]+|main"
			else if (part == "sandbox") want = "(sbx|sandbox)_[a-z0-9_]+"
			else if (part == "base") want = base
			else if (part == "cli") want = "cli_[a-z0-9_]+|main"
			else want = part "_[a-z0-9_]+"
			if ($3 !~ ("^(" want ")$")) print rel ": " $3
		}'
}
# the objects of one build: the library and the CLI (other targets
# recompile a few of the same files)
OBJS=
for d in "${ASSAY_BUILD:-}" "${1:-}"; do
	[ -n "$d" ] && [ -d "$d/CMakeFiles/assaylib.dir/src" ] && OBJS=$d/CMakeFiles && break
done

CHECKS="owners dotdot parts print stderr banned cryptosize"
declare -A WHAT=(
	[owners]="third-party headers only in the part that owns them"
	[dotdot]="no ../ includes"
	[parts]="parts include only the parts below them"
	[print]="nothing below cli prints to stdout or exits"
	[stderr]="nothing below cli writes to stderr but the logger and BUG()"
	[banned]="every file of src/ includes banned.h last"
	[cryptosize]="the vault's crypto sizes are named constants, not 16/24/32/64"
)

for c in $CHECKS; do
	hits=$(chk_$c "$ASSAY_SOURCE_DIR/src")
	[ -z "$hits" ] && ok "${WHAT[$c]}" || bad "${WHAT[$c]}" "$hits"
done
if [ -n "$OBJS" ]; then
	hits=$(chk_prefix "$OBJS/assaylib.dir"; chk_prefix "$OBJS/assay.dir")
	[ -z "$hits" ] && ok "every public symbol carries its part's prefix" ||
		bad "every public symbol carries its part's prefix" "$hits"
	# self-test: an unprefixed function in the engine, a prefixed one, a
	# sandbox one with sbx_ and a base helper off the list
	mkdir -p "$TMP/obj/src/engine" "$TMP/obj/src/sandbox" "$TMP/obj/src/base"
	echo 'int plan_thing(void) { return 0; } int engine_ok(void) { return 1; }' >"$TMP/p1.c"
	echo 'int sbx_fine(void) { return 0; } int box_bad(void) { return 1; }' >"$TMP/p2.c"
	echo 'int buf_fine(void) { return 0; } int helper(void) { return 1; }' >"$TMP/p3.c"
	cc -c -o "$TMP/obj/src/engine/p1.c.o" "$TMP/p1.c" && cc -c -o "$TMP/obj/src/sandbox/p2.c.o" "$TMP/p2.c" &&
		cc -c -o "$TMP/obj/src/base/p3.c.o" "$TMP/p3.c"
	hits=$(chk_prefix "$TMP/obj")
	if [ "$(printf '%s\n' "$hits" | sort | tr '\n' ' ')" = "base/p3: helper engine/p1: plan_thing sandbox/p2: box_bad " ]; then
		ok "self-test: prefix catches plan_thing, box_bad and helper, and only them"
	else bad "self-test: prefix" "hits: $hits"; fi
else
	skip_unless_ci "every public symbol carries its part's prefix" "no build's object files (ASSAY_BUILD)"
fi

# banned.h bans at compile time
printf '#include <stdlib.h>\n#include <string.h>\n#include "base/banned.h"\nint f(char *d, const char *s) { strcpy(d, s); return atoi(s); }\n' >"$TMP/banned.c"
if ! cc -fsyntax-only -I"$ASSAY_SOURCE_DIR/src" "$TMP/banned.c" 2>"$TMP/err" &&
   grep -q sorry_strcpy_is_a_banned_function "$TMP/err" && grep -q sorry_atoi_is_a_banned_function "$TMP/err"; then
	ok "banned.h makes strcpy and atoi fail to compile"
else bad "banned.h" "$(head -5 "$TMP/err")"; fi

# ---- self-test: each planted violation is caught by its check ----
# plant CHECK FILE LINE: a fresh copy of src/ with LINE added to FILE
plant() {
	local check=$1 file=$2 line=$3 hits
	rm -rf "$TMP/src" && cp -r "$ASSAY_SOURCE_DIR/src" "$TMP/src"
	mkdir -p "$(dirname "$TMP/src/$file")"
	if [ -f "$TMP/src/$file" ]; then
		# at the top, so banned.h stays the last include
		sed -i "1i $line" "$TMP/src/$file"
	else printf '%s\n' "$line" >"$TMP/src/$file"; fi
	hits=$(chk_$check "$TMP/src")
	if printf '%s' "$hits" | grep -q "${file##*/}"; then
		ok "self-test: $check catches '$line' in $file"
	else bad "self-test: $check misses '$line' in $file" "hits: $hits"; fi
}
plant owners store/store_sqlite.c '#include <curl/easy.h>'
plant owners engine/plan.c '#include <sodium/utils.h>'
plant owners engine/plan.c '#include "sqlite3.h"'
plant owners store/store_episode.c '#include <sqlite3.h>'
plant owners store/store_lease.c '#include <libpq-fe.h>'
plant owners engine/plan.c '#include <libpq/libpq-fs.h>'
plant owners score/score.c '#include <jansson_config.h>'
plant owners task/task.c '#include <seccomp-syscalls.h>'
plant owners policy/policy.c '#include <yaml.h>'
plant dotdot engine/plan.c '#include "../vault/vault.h"'
plant dotdot cli/main.c '#  include "../base/x.h"'
plant parts engine/plan.c '# include "cli/cmd.h"'
plant parts base/buf.c '#include "vault/vault.h"'
plant parts store/store_sqlite.c '#	include "engine/engine.h"'
plant parts engine/plan.c '#include "server/server.h"'
plant parts server/router.c '#include "cli/cmd.h"'
plant owners engine/plan.c '#include <microhttpd.h>'
plant owners server/router.c '#include <liboath/oath.h>'
plant print vault/hash.c '	fprintf(stdout, "x");'
plant print store/store_sqlite.c '	fputs("x", f);'
plant print score/score.c '	puts("x");'
plant print policy/policy.c '	exit(1);'
plant print engine/plan.c '	printf("%d", 1);'
plant print report/report_term.c '	printf("x");'
plant print sandbox/box.c '	fwrite(p, 1, n, stdout);'
plant stderr engine/schedule.c '	fprintf(stderr, "x");'
plant stderr report/svg.c '	fputs("x", stderr);'
plant banned model/new_part.c '#include <stdio.h>'
plant cryptosize vault/seal.c '	unsigned char key[32];'
plant cryptosize vault/approve.c 'static void f(const unsigned char pk[32]);'
plant cryptosize vault/keys.c '	memcpy(a, b, 64);'
plant cryptosize vault/note.c '	crypto_generichash(out, 32, in, n, NULL, 0);'
plant cryptosize vault/hash.c '	char hex[65];'
plant cryptosize vault/seal.h '#define WRAP (24 + 32 + 16)'
plant cryptosize vault/unseal.c '	randombytes_buf(p, 24);'
rm -rf "$TMP/src" && cp -r "$ASSAY_SOURCE_DIR/src" "$TMP/src"
echo '#include <stdio.h>' >>"$TMP/src/store/store_sqlite.c"
echo '#  include "base/buf.h"' >>"$TMP/src/vault/hash.c"
hits=$(chk_banned "$TMP/src")
printf '%s' "$hits" | grep -q store_sqlite.c && ok "self-test: banned catches a system header after banned.h" ||
	bad "self-test: banned misses a system header after banned.h" "hits: $hits"
printf '%s' "$hits" | grep -q vault/hash.c && ok "self-test: banned catches a project header after banned.h" ||
	bad "self-test: banned misses a project header after banned.h" "hits: $hits"
# what is allowed stays allowed
rm -rf "$TMP/src" && cp -r "$ASSAY_SOURCE_DIR/src" "$TMP/src"
sed -i '1i \	_exit(1); snprintf(b, 1, "x"); fprintf(out, "x");' "$TMP/src/report/report_term.c"
sed -i '1i /* printf("x") in a comment */' "$TMP/src/engine/plan.c"
hits=$(chk_print "$TMP/src")
[ -z "$hits" ] && ok "self-test: _exit, snprintf, a report's own FILE and comments are allowed" ||
	bad "self-test: allowed forms flagged" "$hits"
sed -i '1i \	char want[48]; _Alignas(16) unsigned char o[128]; x = v >> 24 | n > 32; /* key[32] */' "$TMP/src/vault/auditlog.c"
hits=$(chk_cryptosize "$TMP/src")
[ -z "$hits" ] && ok "self-test: cryptosize allows text buffers, _Alignas, shifts and comparisons" ||
	bad "self-test: cryptosize flags allowed forms" "$hits"
finish
