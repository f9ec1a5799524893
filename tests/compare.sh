#!/usr/bin/env bash
# weft compare: golden output, as SimGrid's examples check theirs. Two small PHOLD runs that
# differ in one parameter give a page whose parameter and headline-figure tables, numbers
# included, match tests/golden/compare_tables.txt; shared series and histograms are drawn,
# what one run lacks is said; bad usage and unreadable traces are one-line errors.
# Usage: compare.sh path/to/weft
set -u
WEFT=$(realpath "$1")
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cat >ph.lua <<'LUA'
local p = weft.params{ remote = 0.1, delays = true }
weft.phold{ lps = 64, remote = p.remote, record_delays = p.delays }
weft.run{ end_time = "20s", seed = 3 }
LUA
"$WEFT" run ph.lua -o low.h5 --force --quiet && ok || bad "run low failed"
"$WEFT" run ph.lua --set remote=0.5 -o high.h5 --force --quiet && ok || bad "run high failed"
"$WEFT" run ph.lua --set delays=false -o bare.h5 --force --quiet && ok || bad "run bare failed"

rm -rf page
if "$WEFT" compare low.h5 high.h5 bare.h5 --labels low,high,bare -o page >out.txt 2>err.txt; then ok; else
  bad "compare failed: $(cat err.txt)"; fi
grep -qF "weft compare: wrote page/index.html" out.txt && ok || bad "compare did not say where: $(cat out.txt)"
# The tables from "Parameters that differ" to the series, as text: one line per row.
sed -n '/<h2 id="params">/,/<h2 id="series">/p' page/index.html | grep -v '<h2 id="series">' |
  sed 's/<\/t[dh]>/ | /g; s/<[^>]*>//g; s/&middot;/./g; s/&ndash;/-/g' | sed 's/ *$//' | grep -v '^$' >tables.txt
if diff -u "$SRC/tests/golden/compare_tables.txt" tables.txt >diff.txt; then ok; else
  bad "the page's tables differ from the golden text: $(cat diff.txt)"; fi
# Shared series overlaid (one plot, a line per run), the histogram two runs share as CDFs, and
# what is in one run only named.
[ -f page/series-events.png ] && [ -f page/series-events-2.dat ] && ok || bad "events not overlaid"
[ -f page/cdf-phold_delay.png ] && [ ! -e page/cdf-phold_delay-2.dat ] && ok || bad "phold_delay CDF"
grep -qF "title 'high'" page/plots.gp && ok || bad "plots lack the runs' labels"

# Bad usage (2) and unreadable traces (1): one line on stderr.
"$WEFT" compare low.h5 2>e1.txt; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <e1.txt)" -eq 1 ] && grep -qF "two traces or more" e1.txt && ok ||
  bad "one trace: exit $rc $(cat e1.txt)"
"$WEFT" compare low.h5 nosuch.h5 -o p2 2>e2.txt; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <e2.txt)" -eq 1 ] && grep -qF "nosuch.h5" e2.txt && ok ||
  bad "missing trace: exit $rc $(cat e2.txt)"
"$WEFT" compare low.h5 high.h5 --labels a,b,c 2>e3.txt; rc=$?
[ $rc -eq 2 ] && grep -qF -- "--labels names more runs" e3.txt && ok || bad "labels: exit $rc $(cat e3.txt)"

finish
