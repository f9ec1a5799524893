#!/usr/bin/env bash
# PHOLD events/s of weft against the bare reference loop (tests/bench/phold_floor.c), both
# measured in this sitting with the same parameters (lookahead 0.1 s, mean 0.9 s, remote 0.1),
# for the four configurations the spine is held to (the last, 65536 x 16, holds 10^6 pending
# events: a pending set far larger than the caches). Also the cost of writing the trace:
# the same run with and without it. Prints figures; asserts nothing.
#   usage: tests/bench/phold_ratio.sh [path/to/a/floor_loop.c] [repeats]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
floor_src=${1:-$top/tests/bench/phold_floor.c}
reps=${2:-3}
[ -f "$floor_src" ] || { echo "reference loop not found: $floor_src" >&2; exit 1; }
gcc -O3 -march=native -o "$tmp/floor" "$floor_src" -lm

printf '%-16s %12s %12s %8s %14s %9s\n' config "floor Mev/s" "weft Mev/s" ratio "weft+trace" "trace %"
for cfg in "1024 1 20000s" "16384 1 1250s" "1024 16 1250s" "65536 16 20s"; do
  set -- $cfg
  lps=$1 epl=$2 end=$3
  f=() w=() wt=()
  for _ in $(seq "$reps"); do
    f+=("$("$tmp/floor" "$lps" "$epl" 0.1 20000000 | sed -n 's/.*rate=\([0-9.]*\) Mev.*/\1/p')")
    w+=("$("$weft" run "$top/scenarios/bench/phold.lua" --set lps="$lps" --set events_per_lp="$epl" \
      --set end="$end" --no-trace --json --quiet | field events_per_s)")
    wt+=("$("$weft" run "$top/scenarios/bench/phold.lua" --set lps="$lps" --set events_per_lp="$epl" \
      --set end="$end" -o "$tmp/t.h5" --force --json --quiet | field events_per_s)")
  done
  fm=$(printf '%s\n' "${f[@]}" | median)
  wm=$(printf '%s\n' "${w[@]}" | median)
  wtm=$(printf '%s\n' "${wt[@]}" | median)
  awk -v c="${lps}x${epl}" -v f="$fm" -v w="$wm" -v t="$wtm" 'BEGIN {
    printf "%-16s %12.2f %12.2f %8.2f %14.2f %8.1f%%\n", c, f, w / 1e6, w / 1e6 / f, t / 1e6, 100 * (w / t - 1) }'
done
