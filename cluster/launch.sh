#!/usr/bin/env bash
# Runs weft under mpirun on this machine: N ranks (default: the cores nproc counts), with
# --oversubscribe when asked or when N exceeds the cores, and Open MPI's run-as-root consent
# when root. Everything after the launcher's own options goes to `weft run`; a first word
# `sweep` runs `weft sweep` instead (which starts mpirun itself for points with ranks > 1).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: cluster/launch.sh [options] SCENARIO.lua [weft run options]
       cluster/launch.sh [options] sweep SWEEP.lua [weft sweep options]

  -n, --ranks N      MPI ranks (default: the cores `nproc` counts); for a sweep, the points
                     run at once (weft sweep --jobs N; default: cores / ranks per point)
  --oversubscribe    allow more ranks than cores (added by itself when N > cores)
  --hostfile FILE    spread ranks over the machines in FILE (see cluster/hostfile.example)
  --weft PATH        the weft binary (default: build/weft beside this script, or $WEFT)
  --dry-run          print the command instead of running it
  -h, --help         this help

examples:
  cluster/launch.sh scenarios/bench/phold.lua --json
  cluster/launch.sh -n 4 scenarios/quickstart.lua --set rate=200 -o results/q.h5
  cluster/launch.sh -n 2 sweep scenarios/sweeps/phold_grid.lua -o results/phold_grid
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
weft=${WEFT:-$(dirname "$here")/build/weft}
cores=$(nproc)
ranks="" oversubscribe=0 hostfile="" dry=0

while [ $# -gt 0 ]; do
  case $1 in
  -n | -np | --ranks)
    [ $# -ge 2 ] || { echo "launch.sh: $1 needs a number" >&2; exit 2; }
    ranks=$2
    shift 2
    ;;
  --oversubscribe) oversubscribe=1; shift ;;
  --hostfile)
    [ $# -ge 2 ] || { echo "launch.sh: --hostfile needs a file" >&2; exit 2; }
    hostfile=$2
    shift 2
    ;;
  --weft)
    [ $# -ge 2 ] || { echo "launch.sh: --weft needs a path" >&2; exit 2; }
    weft=$2
    shift 2
    ;;
  --dry-run) dry=1; shift ;;
  -h | --help) usage; exit 0 ;;
  --) shift; break ;;
  *) break ;;
  esac
done

if [ $# -eq 0 ]; then
  usage >&2
  exit 2
fi
if [ -n "$ranks" ] && ! [[ $ranks =~ ^[1-9][0-9]*$ ]]; then
  echo "launch.sh: -n $ranks: expected a positive integer" >&2
  exit 2
fi
if [ ! -x "$weft" ]; then
  echo "launch.sh: no weft binary at $weft (build it: cmake --preset release && cmake --build --preset release)" >&2
  exit 1
fi

# Open MPI refuses to start as root unless both are set; containers often run as root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

run() {
  if [ "$dry" -eq 1 ]; then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    echo "launch.sh: $*" >&2
    exec "$@"
  fi
}

# A sweep is not an MPI job: weft sweep starts one process (or one mpirun) per point.
if [ "$1" = sweep ]; then
  shift
  if [ -n "$ranks" ]; then run "$weft" sweep "$@" --jobs "$ranks"; else run "$weft" sweep "$@"; fi
  exit 0
fi

ranks=${ranks:-$cores}
cmd=(mpirun -np "$ranks")
[ -n "$hostfile" ] && cmd+=(--hostfile "$hostfile")
# On one machine more ranks than cores only works with --oversubscribe; with a hostfile the
# slots it lists decide instead.
if [ "$oversubscribe" -eq 1 ] || { [ -z "$hostfile" ] && [ "$ranks" -gt "$cores" ]; }; then
  cmd+=(--oversubscribe)
fi
run "${cmd[@]}" "$weft" run "$@"
