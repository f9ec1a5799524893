#!/usr/bin/env bash
# End-to-end checks of `weft sweep`: the 8-point example sweep runs with --jobs 2 and leaves 8
# traces and an index.csv of 8 completed rows; --point K runs one point (a Slurm array task);
# a point the scenario rejects is marked failed without stopping the others and makes the exit
# status non-zero; Ctrl-C keeps what finished. Usage: sweep.sh path/to/weft
set -u
WEFT=$(realpath "$1")
SRC=$(cd "$(dirname "$0")/.." && pwd)
GRID=$SRC/scenarios/sweeps/phold_grid.lua
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}

# col FILE NAME: the values of column NAME of a CSV without quoted commas, one a line.
col() {
  awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$1"
}

# The example lists exactly 8 points, counted from 0.
"$WEFT" sweep "$GRID" --list >list.txt 2>list.err
rc=$?
check "--list failed: $(cat list.err)" test $rc -eq 0
check "--list gives $(wc -l <list.txt) lines, wanted 8" test "$(wc -l <list.txt)" -eq 8
check "--list line 3: $(sed -n 4p list.txt)" grep -qx '3 seed=2 end=2000s lps=256 remote=0.5' list.txt

# The whole sweep, two points at a time.
"$WEFT" sweep "$GRID" -o all --jobs 2 >all.out 2>all.err
rc=$?
check "sweep exited $rc: $(cat all.err)" test $rc -eq 0
check "index.csv missing" test -f all/index.csv
check "header: $(head -1 all/index.csv)" \
  test "$(head -1 all/index.csv)" = "point,seed,end,lps,remote,trace,status,events,wall_s,exit_code"
check "index has $(($(wc -l <all/index.csv) - 1)) rows, wanted 8" test "$(wc -l <all/index.csv)" -eq 9
check "statuses: $(col all/index.csv status | sort | uniq -c)" \
  test "$(col all/index.csv status | grep -cx completed)" -eq 8
check "exit codes: $(col all/index.csv exit_code | tr '\n' ' ')" \
  test "$(col all/index.csv exit_code | grep -cx 0)" -eq 8
check "traces: $(ls all)" test "$(ls all/point-*.h5 | wc -l)" -eq 8
for tr in $(col all/index.csv trace); do
  check "index names $tr, which is missing" test -f "all/$tr"
done
check "events column not filled" test "$(col all/index.csv events | grep -cE '^[0-9]+$')" -eq 8
# Each trace is the point's own run: its seed and --set values.
check "point 3's seed" sh -c "h5dump -a /seed all/point-0003.h5 | grep -q '(0): 2$'"
check "point 3's params" sh -c "h5dump -a /params all/point-0003.h5 | grep -qF '\"lps\":256'"
check "point 3's remote" sh -c "h5dump -a /params all/point-0003.h5 | grep -qF '\"remote\":0.5'"
check "summary: $(cat all.err)" grep -qF "8 of 8 points completed, 0 failed" all.err
check "the point's log keeps its command" grep -qF -- "--set lps=256 --set remote=0.5 --seed 2" all/point-0003.log

# A non-empty folder is refused without --force.
"$WEFT" sweep "$GRID" -o all --quiet 2>refuse.err
rc=$?
check "non-empty folder: exit $rc" test $rc -eq 1
check "refusal: $(cat refuse.err)" grep -qF "output folder 'all' is not empty (use --force" refuse.err

# One point, as a Slurm array task runs it: only its trace, its row completed, others pending.
"$WEFT" sweep "$GRID" --point 3 -o one --quiet 2>one.err
rc=$?
check "--point 3 exited $rc: $(cat one.err)" test $rc -eq 0
check "--point 3 traces: $(ls one)" test "$(ls one/point-*.h5)" = "one/point-0003.h5"
check "--point 3 row: $(sed -n 5p one/index.csv)" test "$(col one/index.csv status | sed -n 4p)" = completed
check "--point 3 other rows" test "$(col one/index.csv status | grep -cx pending)" -eq 7
"$WEFT" sweep "$GRID" --point 5 -o one --quiet 2>five.err
rc=$?
check "--point 5 in a shared folder: $(cat five.err)" test "$(col one/index.csv status | grep -cx completed)" -eq 2
"$WEFT" sweep "$GRID" --point 3 -o one 2>again.err
rc=$?
check "a done point is skipped: $(cat again.err)" grep -qF "point 3 is done already" again.err
"$WEFT" sweep "$GRID" --point 3 2>noout.err
rc=$?
check "--point without -o: exit $rc" test $rc -eq 2
"$WEFT" sweep "$GRID" --point 8 -o one 2>range.err
rc=$?
check "--point 8: exit $rc $(cat range.err)" grep -qF -- "--point 8: $GRID has 8 points (0..7)" range.err

# A point the scenario rejects: that row failed, the others completed, exit status 1.
cat >failing.lua <<LUA
return weft.sweep {
  scenario = "$SRC/scenarios/bench/phold.lua",
  grid = { remote = { 0.1, 2, 0.5 }, ["end"] = { "200s" } },
}
LUA
"$WEFT" sweep failing.lua -o fail --jobs 2 2>fail.err
rc=$?
check "failing sweep exited $rc, wanted 1" test $rc -eq 1
check "failing statuses: $(col fail/index.csv status | tr '\n' ' ')" \
  test "$(col fail/index.csv status | tr '\n' ' ')" = "completed failed completed "
check "failing exit codes" test "$(col fail/index.csv exit_code | tr '\n' ' ')" = "0 1 0 "
check "failed point names its error: $(cat fail.err)" \
  grep -qF "point 1 failed (exit 1): weft run: $SRC/scenarios/bench/phold.lua:19: weft.phold: 'remote' = 2 is outside" fail.err
check "failing summary" grep -qF "2 of 3 points completed, 1 failed" fail.err
check "completed points of a failing sweep keep traces" test -f fail/point-0000.h5 -a -f fail/point-0002.h5
"$WEFT" report fail >frep.out 2>frep.err
check "report of a failing sweep: $(cat frep.err)" grep -qF 'wrote fail/index.html' frep.out
check "failed point marked" grep -qF '<td class="status-bad">failed</td>' fail/index.html
check "failed point said" grep -qF '1 point did not complete' fail/index.html

# weft report on the sweep's folder (golden output): the figures per grid point, seeds as mean
# and 95% interval, match tests/golden/sweep_figures.txt; a plot per figure and varying key;
# each point's own report linked; the failing sweep's point marked and left out.
"$WEFT" report all >rep.out 2>rep.err
check "report all: $(cat rep.err)" grep -qF "weft report: wrote all/index.html" rep.out
sed -n '/<h2 id="figures">/,/<h2 id="plots">/p' all/index.html | grep -v '<h2' |
  sed 's/<\/t[dh]>/ | /g; s/<[^>]*>//g; s/&plusmn;/+-/g' | sed 's/ *$//' | grep -v '^$' >figs.txt
check "sweep figures differ from the golden text: $(diff -u "$SRC/tests/golden/sweep_figures.txt" figs.txt)" \
  diff -q "$SRC/tests/golden/sweep_figures.txt" figs.txt
check "sweep plots" test -f all/sweep-phold_remote_share-vs-remote.png -a -f all/sweep-phold_events_per_sim_s-vs-lps.png
check "point report linked" grep -qF '<a href="point-0003/index.html">report</a>' all/index.html
check "point report written" test -f all/point-0003/index.html
# A grid key the scenario does not declare fails every point: it is refused before any runs,
# for the whole sweep and for one task of a job array.
cat >unknown.lua <<LUA
return weft.sweep {
  scenario = "$SRC/scenarios/bench/phold.lua",
  grid = { lps = { 64, 128 }, remtoe = { 0.1 } },
}
LUA
for how in "" "--point 1"; do
  rm -rf unk
  "$WEFT" sweep unknown.lua -o unk $how 2>unk.err
  rc=$?
  check "unknown key ($how): exit $rc" test $rc -eq 1
  check "unknown key ($how): $(cat unk.err)" grep -qF "unknown.lua does not fit $SRC/scenarios/bench/phold.lua, so no point ran: weft run: $SRC/scenarios/bench/phold.lua:" unk.err
  check "unknown key ($how) names it: $(cat unk.err)" grep -qF "the scenario declares no parameter 'remtoe'" unk.err
  check "unknown key ($how): a point ran" test -z "$(ls unk 2>/dev/null | grep -v index.csv)"
done

# A bad sweep file: one line naming file, line and key; nothing created.
printf 'return weft.sweep {\n  grid = { lps = {1} },\n}\n' >nokey.lua
"$WEFT" sweep nokey.lua -o never 2>nokey.err
rc=$?
check "bad sweep file: exit $rc" test $rc -eq 1
check "bad sweep file: $(cat nokey.err)" \
  test "$(cat nokey.err)" = "weft sweep: nokey.lua:1: weft.sweep: missing required key 'scenario' (the scenario file each point runs, relative to the sweep file)"
check "bad sweep file created a folder" test ! -e never

# Ctrl-C: running points keep interrupted traces, the rest stay pending, exit 130.
cat >long.lua <<LUA
return weft.sweep {
  scenario = "$SRC/scenarios/bench/phold.lua",
  grid = { lps = { 4096 }, ["end"] = { "1000000s" } },
  seeds = { 1, 2, 3 },
}
LUA
"$WEFT" sweep long.lua -o int --jobs 1 2>int.err &
rc=$?
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
check "interrupted sweep exited $rc: $(cat int.err)" test $rc -eq 130
check "interrupted statuses: $(col int/index.csv status | tr '\n' ' ')" \
  test "$(col int/index.csv status | tr '\n' ' ')" = "interrupted pending pending "
check "interrupted trace kept" sh -c "h5dump -a /status int/point-0000.h5 | grep -qF interrupted"

# The launcher: mpirun with the right rank count and --oversubscribe only when needed; a sweep
# through it runs J points at a time and produces its index.
L=$SRC/cluster/launch.sh
more=$(($(nproc) + 1))
check "launch -n 1" test "$("$L" --weft "$WEFT" --dry-run -n 1 x.lua --json)" = "mpirun -np 1 $WEFT run x.lua --json"
check "launch -n $more" test "$("$L" --weft "$WEFT" --dry-run -n $more x.lua)" = "mpirun -np $more --oversubscribe $WEFT run x.lua"
check "launch --oversubscribe" sh -c "'$L' --weft '$WEFT' --dry-run -n 1 --oversubscribe x.lua | grep -qF -- '-np 1 --oversubscribe'"
check "launch default ranks" sh -c "'$L' --weft '$WEFT' --dry-run x.lua | grep -qF -- '-np $(nproc) '"
check "launch sweep" test "$("$L" --weft "$WEFT" --dry-run -n 2 sweep s.lua -o d)" = "$WEFT sweep s.lua -o d --jobs 2"
"$L" --weft "$WEFT" -n 2 sweep "$GRID" -o launched --quiet 2>launched.err
rc=$?
check "sweep through the launcher exited $rc: $(cat launched.err)" test $rc -eq 0
check "launched sweep index" test "$(col launched/index.csv status | grep -cx completed)" -eq 8

# Help explains every option.
for opt in --output --jobs --list --point --force --quiet; do
  check "sweep --help lacks $opt" sh -c "'$WEFT' sweep --help | grep -qF -- '$opt'"
done
check "weft --help lacks sweep" sh -c "'$WEFT' --help | grep -qF sweep"

finish
