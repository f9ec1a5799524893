#!/usr/bin/env bash
# Peak memory per rank on 1 and N ranks (default 4) for 100,000-LP worlds: the gossip broadcast
# (scenarios/network/broadcast.lua, per-hop, one 1 KiB broadcast: every node floods it to its
# peers, about 3.8 million events) and PHOLD (scenarios/bench/phold.lua). A rank holds records
# and state only for the LPs it owns, so per-rank memory should fall towards world / N plus
# what every rank keeps whole (MPI, HDF5 and Lua, the peer graph, per-node network arrays).
# Prints each rank's peak RSS (getrusage, from weft run --json) and the ratio of the largest
# N-rank figure to the 1-rank one, where 1 rank is a plain `weft run` (no MPI) and, for
# reference, `mpirun -np 1`. Writes traces, as a run normally does, unless the third argument
# is no-trace (rank 0 then loses the HDF5 library's few MB). Asserts nothing.
#   usage: tests/bench/memory_ranks.sh [ranks] [nodes] [trace|no-trace]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
np=${1:-4}
nodes=${2:-100000}
trace=${3:-trace}

array() { sed -n "s/.*\"$1\":\[\([0-9.,e+-]*\)\].*/\1/p"; }

out() { if [ "$trace" = no-trace ]; then echo --no-trace; else echo -o "$tmp/$1.h5"; fi; }

# name, then the scenario and its settings
measure() {
  local name=$1
  shift
  local one mpi1 many
  one=$("$weft" run "$@" $(out "$name.1") --json --quiet)
  mpi1=$(mpirun -np 1 "$weft" run "$@" $(out "$name.m1") --json --quiet)
  many=$(mpirun --oversubscribe -np "$np" "$weft" run "$@" $(out "$name.$np") --json --quiet)
  local o m n
  o=$(field peak_rss_max_mb <<<"$one")
  m=$(field peak_rss_max_mb <<<"$mpi1")
  n=$(field peak_rss_max_mb <<<"$many")
  printf '%-10s events %s (1 rank) %s (%d ranks); LPs per rank: %s\n' "$name" \
    "$(field events <<<"$one")" "$(field events <<<"$many")" "$np" "$(array rank_lps <<<"$many")"
  printf '  1 rank:            %8.1f MB\n' "$o"
  printf '  mpirun -np 1:      %8.1f MB\n' "$m"
  printf '  %d ranks, per rank: %s MB\n' "$np" \
    "$(array rank_peak_rss_mb <<<"$many" | tr , '\n' | awk '{printf "%s%.1f", (NR > 1 ? " " : ""), $1}')"
  awk -v o="$o" -v m="$m" -v n="$n" -v np="$np" 'BEGIN {
    printf "  largest of %d / 1 rank: %.3f   (/ mpirun -np 1: %.3f)\n", np, n / o, n / m }'
}

measure broadcast "$top/scenarios/network/broadcast.lua" --set nodes="$nodes" --set messages=1 \
  --set bytes=1024 --set duration=2s
measure phold "$top/scenarios/bench/phold.lua" --set lps="$nodes" --set end=50s
