# Shared by the shell tests (cli.sh, mpi.sh, sweep.sh, compare.sh): a scratch directory that is removed on
# exit and becomes the working directory, pass/fail counters, and the closing line ctest and CI
# read. Source it after setting WEFT; end the script with `finish`.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
pass=0
failed=0

ok() { pass=$((pass + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

finish() {
  echo "$pass passed, $failed failed"
  [ "$failed" -eq 0 ]
}
