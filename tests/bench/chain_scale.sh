#!/usr/bin/env bash
# Chains at scale: figures, no assertions.
#   usage: tests/bench/chain_scale.sh scale [chains] [validators] [end] [ranks]
#            scenarios/chains/interchain_scale.lua (default 50 x 200, 10 min) on one rank and,
#            when ranks > 1, on that many: wall time, simulated/wall, events/s, events per
#            validator per height, peak memory, bytes each validator sent and received.
#          tests/bench/chain_scale.sh one [validators] [end] [modes]
#            one chain (scenarios/chains/cosmos_chain.lua, 21 regions) with votes per hop and
#            aggregate (modes: "per-hop aggregate" by default): the same figures for each.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The numbers of a compound dataset's column, one per line (h5dump's text, parsed).
column() { # FILE DATASET NAME
  local n k
  n=$(h5dump -H -d "$2" "$1" | grep -cE 'H5T_STD|H5T_IEEE|H5T_STRING')
  k=$(h5dump -H -d "$2" "$1" | grep -E 'H5T_STD|H5T_IEEE|H5T_STRING' | grep -n "\"$3\"" | cut -d: -f1)
  h5dump -d "$2" -y -w 0 "$1" | sed -n '/DATA {/,/^   }/p' | sed 's/"[^"]*"/S/g' |
    tr -c '0-9S\n' ' ' | tr -s ' ' '\n' | grep -v '^$' | awk -v n="$n" -v k="$k" '(NR - 1) % n + 1 == k'
}

# One run's line: label, ranks, wall, sim/wall, events/s, events per validator per height
# (VALIDATORS: per chain; heights summed over chains), peak RSS of the largest rank, bytes
# sent and received per network node (validators and clients), heights committed.
report() { # LABEL RANKS JSON TRACE VALIDATORS
  local j=$3 wall sim ev rss heights sent recv
  wall=$(field wall_s <<<"$j") sim=$(field sim_time_s <<<"$j") ev=$(field events <<<"$j")
  rss=$(field peak_rss_max_mb <<<"$j")
  heights=$(column "$4" /records/blocks height | wc -l)
  sent=$(column "$4" /records/net_nodes bytes_sent | awk '{s += $1} END {print s / NR}')
  recv=$(column "$4" /records/net_nodes bytes_received | awk '{s += $1} END {print s / NR}')
  awk -v l="$1" -v r="$2" -v w="$wall" -v s="$sim" -v e="$ev" -v m="$rss" -v h="$heights" \
    -v v="$5" -v bs="$sent" -v br="$recv" 'BEGIN {
    printf "%-22s %5d %9.1f %9.2f %10.3f %11.1f %8.0f %11.2f %11.2f %8d\n", l, r, w, s / w,
      e / w / 1e6, e / (h * v), m, bs / 1e6, br / 1e6, h }'
}

header() {
  printf '%-22s %5s %9s %9s %10s %11s %8s %11s %11s %8s\n' run ranks "wall s" sim/wall \
    "Mevents/s" "ev/val/ht" "RSS MB" "MB sent/v" "MB recv/v" heights
}

case "${1:-scale}" in
scale)
  chains=${2:-50} vals=${3:-200} end=${4:-10min} np=${5:-2}
  args=(--set chains="$chains" --set validators="$vals" --set end="$end")
  header
  j=$("$weft" run "$top/scenarios/chains/interchain_scale.lua" "${args[@]}" -o "$tmp/1.h5" --json --quiet)
  report "${chains}x${vals} $end" 1 "$j" "$tmp/1.h5" "$vals"  # heights are summed over chains
  one=$(field wall_s <<<"$j")
  if [ "$np" -gt 1 ]; then
    over=()
    [ "$np" -gt "$(nproc)" ] && over=(--oversubscribe)
    j=$(mpirun -np "$np" "${over[@]}" --bind-to core "$weft" run \
      "$top/scenarios/chains/interchain_scale.lua" "${args[@]}" -o "$tmp/n.h5" --json --quiet)
    report "${chains}x${vals} $end" "$np" "$j" "$tmp/n.h5" "$vals"
    awk -v a="$one" -v b="$(field wall_s <<<"$j")" -v np="$np" \
      'BEGIN { printf "speedup on %d ranks: %.2fx\n", np, a / b }'
  fi
  ;;
one)
  vals=${2:-1000} end=${3:-10min} modes=${4:-per-hop aggregate}
  header
  for m in $modes; do
    j=$("$weft" run "$top/scenarios/chains/cosmos_chain.lua" --set validators="$vals" \
      --set votes="$m" --set end="$end" --set load="$end" -o "$tmp/$m.h5" --json --quiet)
    report "1x$vals $end $m" 1 "$j" "$tmp/$m.h5" "$vals"
  done
  ;;
*)
  echo "usage: $0 scale [chains] [validators] [end] [ranks] | one [validators] [end] [modes]" >&2
  exit 2
  ;;
esac
