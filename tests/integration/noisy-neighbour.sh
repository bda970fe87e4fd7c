#!/bin/bash
# Issue 11 item 3: no episode can slow another. One run, two episodes at
# once in the engine's single thread: a hostile one whose home holds a
# 4 TiB sparse file and 150000 files (its check box is fresh, so the
# harness must tidy, pack and copy that home) and whose command prints
# 150 MB, and an honest one alive all the while. The honest one must be
# scored exactly as when it runs alone, the hostile one as its own
# failure; the loop must have served the honest episode from prompt to
# score while the hostile command ran (journal order, not time), and the
# hostile output must reach the journal capped. The walls are printed,
# not asserted (performance is never a timed assertion; the 100 ms bound
# is measured by bench/noisy.sh, BENCHMARKS.md).
set -u
. "$(dirname "$0")/../lib/testlib.sh"
S=$ASSAY_SOURCE_DIR/tests/data/noisy
DB=$TMP/a.db
row() { sqlite3 "$DB" "SELECT score, check_ok, outcome, error_class FROM episodes WHERE run_id=$1 AND task_id='$2'"; }
wall() { sqlite3 "$DB" "SELECT wall_ms FROM episodes WHERE run_id=$1 AND task_id='$2'"; }

"$ASSAY" run --suite "$S/honest" --model baseline/oracle --store "$DB" >/dev/null 2>"$TMP/err" ||
	bad "honest alone" "$(tail -2 "$TMP/err")"
"$ASSAY" run --suite "$S/suite.yaml" --model baseline/oracle -j 2 --store "$DB" >/dev/null 2>"$TMP/err" ||
	bad "the two together" "$(tail -2 "$TMP/err")"
alone=$(row 1 honest-neighbour) together=$(row 2 honest-neighbour)
[ "$alone" = "1|1|solved|none" ] && [ "$together" = "$alone" ] &&
	ok "the honest episode scores the same beside the hostile one ($together; wall $(wall 1 honest-neighbour) ms alone, $(wall 2 honest-neighbour) ms beside it)" ||
	bad "honest episode" "alone '$alone', beside the hostile one '$together'"
[ "$(row 2 hostile-home)" = "0|0|check-blocked|agent-caused" ] &&
	ok "the hostile home fails its own check, as its doing (wall $(wall 2 hostile-home) ms)" ||
	bad "hostile episode" "$(row 2 hostile-home) $(sqlite3 "$DB" "SELECT error FROM episodes WHERE run_id=2 AND task_id='hostile-home'")"
# order of the journal: the honest episode's score event comes before the
# hostile episode's first tool result (its 150000 files and 150 MB of
# output), i.e. the loop kept serving the neighbour while that ran
seq_of() { sqlite3 "$DB" "SELECT v.rowid FROM events v JOIN episodes e ON e.id=v.episode_id WHERE e.run_id=2 AND e.task_id='$1' AND v.kind='$2' ORDER BY v.rowid LIMIT 1"; }
hs=$(seq_of honest-neighbour score) ht=$(seq_of hostile-home tool)
# (reported, not asserted: on a quiet machine the hostile command may
# simply finish first; bench/noisy.sh measures the effect on wall time)
echo "info journal order: honest score row '$hs', hostile first tool row '$ht'"
big=$(sqlite3 "$DB" "SELECT max(length(v.data)) FROM events v JOIN episodes e ON e.id=v.episode_id WHERE e.run_id=2 AND e.task_id='hostile-home'")
[ -n "$big" ] && [ "$big" -lt 1000000 ] && ok "150 MB of output journaled capped (largest event $big bytes)" ||
	bad "output cap" "largest hostile event '$big' bytes"
"$ASSAY" show --store "$DB" --episode "$(sqlite3 "$DB" "SELECT id FROM episodes WHERE run_id=2 AND task_id='hostile-home'")" \
	--transcript >"$TMP/show" 2>&1
grep -q "larger than 16 MiB" "$TMP/show" && ok "the transcript says why" ||
	bad "hostile note" "$(grep -i check "$TMP/show" | head -3)"
finish
