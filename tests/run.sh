#!/usr/bin/env bash
# The whole test suite: the release build and the ASan+UBSan build, each with warnings as
# errors, each running every ctest test (cmocka units and the CLI checks); then the libFuzzer
# targets (tests/fuzz), each for a few seconds from its corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
for preset in release asan; do
  echo "== $preset =="
  cmake --preset "$preset" -DWEFT_WERROR=ON >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
echo "== fuzz =="
cmake --preset fuzz -DWEFT_WERROR=ON >/dev/null
cmake --build --preset fuzz
FUZZ_BUILD=build-fuzz FUZZ_SEED=1 tests/fuzz/run.sh all 10
