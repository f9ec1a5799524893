#!/usr/bin/env bash
# What writing the trace costs, and what one version of weft's trace costs against another's:
# PHOLD (4,096 LPs, 4 events each, 200 simulated s, about 3.3 million events) with a row per
# event in /records/phold_events, so that the trace writer handles as much data as the engine
# makes. Each binary runs REPS times, alternating, with the trace and with --no-trace; figures
# are medians of wall time and the ratio of each to the first binary's.
#   tests/bench/trace_overhead.sh [OTHER_WEFT ...]   (default: build/weft alone)
# To measure a change to the writer, build the previous commit in a worktree and pass its
# binary first: tests/bench/trace_overhead.sh /tmp/old/build/weft build/weft
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPS=${REPS:-5}
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$weft")
cat >"$tmp/phold_trace.lua" <<'LUA'
weft.phold{lps = 4096, events_per_lp = 4, record_events = true}
weft.run{end_time = "200s", sample = "1s"}
LUA
declare -A with without
for ((r = 0; r < REPS; r++)); do
  for b in "${bins[@]}"; do
    j=$("$b" run "$tmp/phold_trace.lua" -o "$tmp/t.h5" --force -q --json)
    with[$b]+="$(field wall_s <<<"$j") "
    j=$("$b" run "$tmp/phold_trace.lua" --no-trace -q --json)
    without[$b]+="$(field wall_s <<<"$j") "
  done
done
size=$(stat -c %s "$tmp/t.h5")
printf '%-40s %12s %12s %10s %10s\n' binary "trace s" "no-trace s" "trace/none" "vs first"
base=
for b in "${bins[@]}"; do
  w=$(tr ' ' '\n' <<<"${with[$b]}" | grep . | median)
  n=$(tr ' ' '\n' <<<"${without[$b]}" | grep . | median)
  [ -n "$base" ] || base=$w
  printf '%-40s %12.3f %12.3f %10.3f %10.3f\n' "$b" "$w" "$n" "$(echo "$w / $n" | bc -l)" \
    "$(echo "$w / $base" | bc -l)"
done
echo "last trace: $size bytes"
