# Sourced by the benchmarks in this folder: `top` (the repository), `weft` (the release
# binary, which must be built), Open MPI's consent to run as root, a scratch directory `tmp`
# removed at exit, and readers of `weft run --json`.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
weft=$top/build/weft
[ -x "$weft" ] || { echo "build weft first (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The number a --json object gives for a key: field events_per_s <<<"$json".
field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
# The median of numbers, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
