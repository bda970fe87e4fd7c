#!/bin/bash
# The command line, data-driven: every row of tests/data/cli.table (exit
# code, stream, pattern, arguments), every command's and subcommand's
# help in its three spellings, an option table that matches docs/CLI.md,
# and valid Markdown tables in a report.
set -u
. "$(dirname "$0")/../lib/testlib.sh"
SRC=$ASSAY_SOURCE_DIR
SUITE=$SRC/tests/data/tasks
DB=$TMP/assay.db
ARCHIVE=$TMP/tasks.assay
TABLE=$SRC/tests/data/cli.table
K=$TMP/home/keys

# ---- fixtures: two runs, two keys, a sealed archive, a suite.yaml dir ----
"$ASSAY" run -s "$SUITE" -m baseline/oracle --store "$DB" -q >/dev/null 2>"$TMP/err" &&
"$ASSAY" run -s "$SUITE" -m baseline/null --store "$DB" -q >/dev/null 2>>"$TMP/err" &&
"$ASSAY" keys create sealer --plain >/dev/null 2>>"$TMP/err" &&
"$ASSAY" keys create cust --custodian --plain >/dev/null 2>>"$TMP/err" &&
"$ASSAY" suite seal "$SUITE" -o "$ARCHIVE" --custodian "$K/cust.pub" \
	--threshold 1 --sign "$K/sealer.key" >/dev/null 2>>"$TMP/err" &&
"$ASSAY" suite request "$ARCHIVE" --run cli --reason test -o "$TMP/req" >/dev/null 2>>"$TMP/err" &&
"$ASSAY" keys approve "$TMP/req" --archive "$ARCHIVE" --key "$K/cust.key" \
	-o "$TMP/a.approval" >/dev/null 2>>"$TMP/err" &&
"$ASSAY" suite request "$ARCHIVE" --run cli-check --reason test -o "$TMP/req2" >/dev/null 2>>"$TMP/err" &&
"$ASSAY" keys approve "$TMP/req2" --archive "$ARCHIVE" --key "$K/cust.key" \
	-o "$TMP/b.approval" >/dev/null 2>>"$TMP/err" &&
"$ASSAY" report 1 --store "$DB" --sign sealer -o "$TMP/signed.json" >/dev/null 2>>"$TMP/err"
if [ $? -ne 0 ]; then bad "fixtures" "$(tail -5 "$TMP/err")"; finish; exit 1; fi
mkdir -p "$TMP/yaml-dir/tasks" "$TMP/imgstore"
cp -r "$SUITE/files-only" "$SUITE/service-flag" "$TMP/yaml-dir/tasks/"
sed -i 's/^category: misc/category: misc\ntags: [network]/' "$TMP/yaml-dir/tasks/service-flag/task.yaml"
printf 'id: two\nversion: "1"\ntasks: [tasks/*]\n' >"$TMP/yaml-dir/suite.yaml"

# check NAME EXIT STREAM PATTERN ARGS...: run assay (leading NAME=VALUE
# words go to its environment) and judge it.
check() {
	local name=$1 want=$2 stream=$3 pat=$4; shift 4
	local envs=()
	while [ $# -gt 0 ] && [[ $1 =~ ^[A-Z_][A-Z0-9_]*= ]]; do envs+=("$1"); shift; done
	(cd "$TMP" && env "${envs[@]}" "$ASSAY" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null)
	local rc=$? why=""
	[ "$rc" -eq "$want" ] || why="exit $rc, want $want"
	case $stream in
	out) grep -Eq -- "$pat" "$TMP/out" || why="${why:+$why; }stdout lacks /$pat/" ;;
	notout) grep -Eq -- "$pat" "$TMP/out" && why="${why:+$why; }stdout has /$pat/" ;;
	err) grep -Eq -- "$pat" "$TMP/err" || why="${why:+$why; }stderr lacks /$pat/" ;;
	noerr)
		[ -s "$TMP/err" ] && why="${why:+$why; }stderr not empty"
		grep -Eq -- "$pat" "$TMP/out" || why="${why:+$why; }stdout lacks /$pat/" ;;
	json)
		python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
			"$TMP/out" "$pat" 2>>"$TMP/err" || why="${why:+$why; }JSON fails: $pat" ;;
	file:*)
		grep -Eq -- "$pat" "${stream#file:}" 2>/dev/null || why="${why:+$why; }${stream#file:} lacks /$pat/" ;;
	silent)
		[ -s "$TMP/out" ] || [ -s "$TMP/err" ] && why="${why:+$why; }output not empty" ;;
	-) ;;
	*) why="bad stream '$stream' in the table" ;;
	esac
	if [ -z "$why" ]; then ok "$name"; else
		bad "$name" "$why; stdout: $(head -c 300 "$TMP/out"); stderr: $(head -c 300 "$TMP/err")"; fi
}

# ---- the table ----------------------------------------------------------
n=0
while IFS= read -r line; do
	case $line in ''|'#'*) continue ;; esac
	IFS=$'\t' read -r want stream pat args <<<"$(printf '%s' "$line" | tr -s '\t')"
	n=$((n + 1))
	eval "set -- ${args:-}"
	stream=$(eval "printf '%s' \"$stream\"")
	check "table $n: assay ${args:-}" "$want" "$stream" "$pat" "$@"
done <"$TABLE"
[ "$n" -gt 100 ] && ok "the table has $n rows" || bad "table" "only $n rows read"
[ ! -e "$TMP/nohome" ] && ok "read-only commands created no default journal" ||
	bad "default journal" "$(find "$TMP/nohome" | head -5)"

# ---- every command's help, three ways, on stdout, exit 0 ----------------
subcommands() {   # the "commands:" section of a group's help
	"$ASSAY" "$@" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'
}
ncmd=0
for c in $(subcommands); do
	subs=$(subcommands "$c")
	for path in "$c" ${subs:+$(for s in $subs; do printf '%s/%s ' "$c" "$s"; done)}; do
		words=${path//\// }
		ncmd=$((ncmd + 1))
		check "$words --help" 0 noerr "^usage: assay $words " $words --help
		check "$words -h" 0 noerr "^usage: assay $words " $words -h
		check "help $words" 0 noerr "^usage: assay $words " help $words
		[ -n "$subs" ] && [ "$path" = "$c" ] && continue
		check "$words: an unknown option is named, exit 2" 2 err \
			"unknown option '--no-such-option'" $words --no-such-option
		check "$words: the help lists the common options" 0 noerr \
			"^  -q, --quiet " $words --help
		if "$ASSAY" $words --help | grep -q -- '^      --json '; then
			grep -Eq "^\| .*\`assay $words [^\`]*--json" "$SRC/docs/FORMAT-cli-json.md" &&
				ok "$words --json is in docs/FORMAT-cli-json.md" ||
				bad "$words --json" "not in the table of docs/FORMAT-cli-json.md"
		fi
	done
done
[ "$ncmd" -ge 25 ] && ok "help walked $ncmd commands" || bad "help walk" "only $ncmd commands"

# ---- no option is taken as a positional ---------------------------------
(cd "$TMP" && "$ASSAY" task new --help >/dev/null 2>&1; "$ASSAY" task new "$TMP/x" -h >/dev/null 2>&1)
[ ! -e "$TMP/--help" ] && [ ! -e "$TMP/x" ] && ok "task new --help creates nothing" ||
	bad "task new --help" "$(ls "$TMP")"

# ---- docs/CLI.md is the option tables, generated ------------------------
if "$ASSAY" help --markdown-all | diff -u "$SRC/docs/CLI.md" - >"$TMP/diff"; then
	ok "docs/CLI.md matches 'assay help --markdown-all'"
else
	bad "docs/CLI.md is stale (regenerate: assay help --markdown-all >docs/CLI.md)" "$(head -20 "$TMP/diff")"
fi
# every option of docs/CLI.md is exercised by a test (this table or a script)
untested=$(grep -oE '^\| (`-[a-zA-Z]`, )?`--[a-z0-9-]+`' "$SRC/docs/CLI.md" | grep -oE -- '--[a-z0-9-]+' |
	sort -u | while read -r o; do
		grep -rqE -- "$o([^a-z0-9-]|\$)" "$SRC/tests/integration" "$TABLE" "$SRC/tests/lib" || printf '%s ' "$o"; done)
[ -z "$untested" ] && ok "every option is exercised by a test" || bad "options no test gives" "$untested"
# every environment variable the sources read is documented
missing=$(grep -rhoE 'getenv\("[A-Z_]+"\)|vault_home_path\("[a-z.]+", "[A-Z_]+"\)|"[A-Z]+_API_KEY"' "$SRC/src" |
	grep -oE '[A-Z][A-Z0-9_]+' | sort -u | while read -r v; do
		grep -q "\`$v\`" "$SRC/docs/CLI.md" || printf '%s ' "$v"; done)
[ -z "$missing" ] && ok "every environment variable is in docs/CLI.md" ||
	bad "undocumented environment variables" "$missing"

# ---- the Markdown report's tables are valid -----------------------------
"$ASSAY" report 1 --reference 2 --store "$DB" -o "$TMP/full.md" 2>"$TMP/err"
if python3 - "$TMP/full.md" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
sep = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
for i, l in enumerate(lines):
    if l.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):
        if i + 1 >= len(lines) or not sep.match(lines[i + 1]):
            print("line %d: a table row outside a table: %s" % (i + 1, l))
            sys.exit(1)
PY
then ok "Markdown tables have no blank line inside"; else bad "Markdown tables" "$(cat "$TMP/err")"; fi
# a run under a policy file of this machine: neither its determination
# line nor a report in any format names the policy's or the suite's path
cp "$SRC/policies/default.yaml" "$TMP/pol.yaml"
pdig=$(sha256sum "$TMP/pol.yaml" | cut -c1-16)
"$ASSAY" run -s "$SUITE" -m baseline/null --policy "$TMP/pol.yaml" --store "$TMP/pol.db" \
	--progress none >"$TMP/pol.out" 2>"$TMP/err"
grep -q "^determination under policy assay-default-v1, sha256 $pdig: " "$TMP/pol.out" &&
	! grep -q "$TMP\|$SRC" "$TMP/pol.out" &&
	ok "run's determination names the policy and its digest, not its path" ||
	bad "run's determination line" "$(cat "$TMP/pol.out" "$TMP/err")"
for f in term md json html; do
	"$ASSAY" report 1 --store "$TMP/pol.db" --format $f >"$TMP/pol.$f" 2>>"$TMP/err"
done
if grep -n "$TMP\|$SRC" "$TMP/full.md" "$TMP/r.json" "$TMP/r.html" "$TMP"/pol.{term,md,json,html} >"$TMP/paths"; then
	bad "reports name a machine path" "$(cut -c1-300 "$TMP/paths" | head -3)"
else
	ok "no report names a path on this machine"
fi
finish
