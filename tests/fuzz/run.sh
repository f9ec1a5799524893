#!/usr/bin/env bash
# Runs a libFuzzer target of weft from its checked-in corpus for SECONDS seconds (ASan+UBSan,
# leak checking on; FUZZ_BUILD below for the fuzz-fast build). New inputs go to a scratch
# corpus, which is removed afterwards; an input that crashes, leaks, hangs or trips a target's
# own check is saved as tests/fuzz/findings/<target>-<kind>-<hash> and the script fails: that
# file is a regression test to keep (tests/fuzz/findings/README.md). Prints the target's exec
# count and rate.
#   tests/fuzz/run.sh TARGET SECONDS   (TARGET: wasm scenario trace sweep tables pattern, or all)
# FUZZ_SEED=N fixes libFuzzer's seed (CI uses 1: every run then tries the same inputs in the same
# order, a slower machine a prefix of them); unset, each run draws its own.
# Build first: cmake --preset fuzz && cmake --build --preset fuzz
# FUZZ_BUILD=build-fuzz-fast runs the targets of the fuzz-fast preset instead (UBSan, trapping,
# and LSan, no ASan): for runs of millions of inputs through libhdf5, whose allocations ASan
# slows most (tests/fuzz/README.md). Any build directory of WEFT_FUZZ=ON will do.
# FUZZ_KEEP=DIR keeps what a run discovered in DIR/<target>/, to replay through another build
# (build-fuzz/fuzz/fuzz_trace -runs=1 DIR/trace/*).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
targets=(wasm scenario trace sweep tables pattern)
if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: tests/fuzz/run.sh TARGET SECONDS   (TARGET: ${targets[*]} or all)" >&2
  exit 2
fi
[ "$1" = all ] && run=("${targets[@]}") || run=("$1")
failed=0
for t in "${run[@]}"; do
  build=${FUZZ_BUILD:-build-fuzz}
  case $build in /*) ;; *) build=$top/$build ;; esac
  bin=$build/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    case $build in
      "$top/build-fuzz" | "$top/build-fuzz-fast")
        preset=${build#"$top/build-"}
        echo "no $bin: build it with cmake --preset $preset && cmake --build --preset $preset" >&2 ;;
      *) echo "no $bin: configure $build with -DWEFT_FUZZ=ON (clang) and build it" >&2 ;;
    esac
    exit 2
  fi
  scratch=$(mktemp -d)
  log=$scratch/log.txt
  mkdir "$scratch/corpus" "$scratch/tmp"
  # The scenario and sweep targets write their input to a file; keep those out of the tree.
  TMPDIR=$scratch/tmp ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0 "$bin" "$scratch/corpus" "$here/corpus/$t" \
    -max_total_time="$2" -timeout=30 -report_slow_units=25 -rss_limit_mb=4096 -max_len=200000 \
    -artifact_prefix="$here/findings/$t-" -print_final_stats=1 -seed="${FUZZ_SEED:-0}" \
    >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    echo "FAIL fuzz_$t: exit $rc after ${runs:-?} execs; the input is in tests/fuzz/findings/"
    grep -E "^==[0-9]+==ERROR|SUMMARY|^string\.|^fuzz_[a-z]+: |Test unit written" "$log" | head -5
    failed=1
  else
    echo "ok fuzz_$t: ${runs:-?} execs in ${secs:-$2} s ($((${runs:-0} / (${secs:-$2} > 0 ? ${secs:-$2} : 1))) /s), $cov"
  fi
  if [ -n "${FUZZ_KEEP:-}" ]; then
    mkdir -p "$FUZZ_KEEP/$t" && cp -r -- "$scratch/corpus/." "$FUZZ_KEEP/$t/"
  fi
  rm -rf "$scratch"
done
exit $failed
