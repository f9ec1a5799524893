#!/usr/bin/env bash
# PHOLD weak scaling under mpirun: 1,024 LPs per rank (lookahead 0.1 s, mean 0.9 s), events/s
# of N ranks against one rank, both measured in this sitting, for remote = 0.1 and 1.0. Also
# the windows per simulated second and the share of wall time spent in window exchanges
# (waiting for the slowest rank included). Then strong scaling on two_networks.lua (below).
# Prints figures; asserts nothing.
#   usage: tests/bench/mpi_speedup.sh [ranks] [repeats] [end]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
np=${1:-2}
reps=${2:-5}
end=${3:-10000s}
over=()
[ "$np" -gt "$(nproc)" ] && over=(--oversubscribe)

printf '%-8s %6s %12s %12s %8s %12s %10s\n' remote ranks "1-rank Mev/s" "N-rank Mev/s" speedup "windows/s_sim" "sync %"
for remote in 0.1 1.0; do
  one=() many=() sync=() wps=()
  for _ in $(seq "$reps"); do
    one+=("$("$weft" run "$top/scenarios/bench/phold.lua" --set lps=1024 --set remote=$remote \
      --set end="$end" --no-trace --json --quiet | field events_per_s)")
    j=$(mpirun -np "$np" "${over[@]}" --bind-to core "$weft" run "$top/scenarios/bench/phold.lua" \
      --set lps=$((1024 * np)) --set remote=$remote --set end="$end" --no-trace --json --quiet)
    many+=("$(field events_per_s <<<"$j")")
    w=$(field wall_s <<<"$j") s=$(field sync_s <<<"$j") n=$(field windows <<<"$j")
    t=$(field sim_time_s <<<"$j")
    sync+=("$(awk -v s="$s" -v w="$w" 'BEGIN{print 100*s/w}')")
    wps+=("$(awk -v n="$n" -v t="$t" 'BEGIN{print n/t}')")
  done
  o=$(printf '%s\n' "${one[@]}" | median)
  m=$(printf '%s\n' "${many[@]}" | median)
  s=$(printf '%s\n' "${sync[@]}" | median)
  w=$(printf '%s\n' "${wps[@]}" | median)
  awk -v r="$remote" -v np="$np" -v o="$o" -v m="$m" -v s="$s" -v w="$w" 'BEGIN {
    printf "%-8s %6d %12.2f %12.2f %8.2f %12.2f %9.1f%%\n", r, np, o / 1e6, m / 1e6, m / o, w, s }'
done

# Strong scaling on a world of two groups that exchange rarely (scenarios/bench/two_networks.lua:
# two 5,000-node gossip networks joined by one 100 ms bridge): the same world on 1 and on N
# ranks, wall time against wall time. The lookahead comes from the bridge (cross-group), not
# from a same-region hop, so each window holds about 100 ms of both networks' traffic.
printf '\n%-14s %6s %10s %10s %8s %10s %8s\n' world ranks "1-rank s" "N-rank s" speedup windows "sync %"
one=() many=() sync=() wins=()
for _ in $(seq "$reps"); do
  one+=("$("$weft" run "$top/scenarios/bench/two_networks.lua" --no-trace --json --quiet | field wall_s)")
  j=$(mpirun -np "$np" "${over[@]}" --bind-to core "$weft" run "$top/scenarios/bench/two_networks.lua" \
    --no-trace --json --quiet)
  w=$(field wall_s <<<"$j") s=$(field sync_s <<<"$j")
  many+=("$w")
  wins+=("$(field windows <<<"$j")")
  sync+=("$(awk -v s="$s" -v w="$w" 'BEGIN{print 100*s/w}')")
done
o=$(printf '%s\n' "${one[@]}" | median)
m=$(printf '%s\n' "${many[@]}" | median)
s=$(printf '%s\n' "${sync[@]}" | median)
n=$(printf '%s\n' "${wins[@]}" | median)
awk -v np="$np" -v o="$o" -v m="$m" -v s="$s" -v n="$n" 'BEGIN {
  printf "%-14s %6d %10.2f %10.2f %8.2f %10d %7.1f%%\n", "two_networks", np, o, m, o / m, n, s }'
