#!/usr/bin/env bash
# Every input fuzzing found to break weft (tests/fuzz/findings, README there) ends the way it
# should: a clear one-line error naming what is wrong and a non-zero exit within seconds, or,
# for the seed, the exact value. ctest runs this in the release and the ASan+UBSan builds (leak
# checking on), so a crash, a leak or a hang fails it too. Usage: findings.sh path/to/weft
set -u
WEFT=$(realpath "$1")
F=$(realpath "$(dirname "$0")/fuzz/findings")
. "$(dirname "$0")/lib.sh"

# expect FILE CODE NEEDLE -- weft arguments ({} stands for the file)
expect() {
  local file=$1 code=$2 needle=$3
  shift 4
  local args=() a
  for a in "$@"; do args+=("${a//\{\}/$F/$file}"); done
  local t0=$SECONDS
  timeout 120 "$WEFT" "${args[@]}" >stdout.txt 2>stderr.txt
  local rc=$? took=$((SECONDS - t0))
  if [ "$rc" -ne "$code" ]; then
    bad "$file: exit $rc after ${took}s, wanted $code: $(head -c 600 stderr.txt)"
  elif [ "$code" -ne 0 ] && [ "$(grep -c . stderr.txt)" -ne 1 ]; then
    bad "$file: wanted one line on stderr: $(head -c 600 stderr.txt)"
  elif [ -n "$needle" ] && ! grep -qF -- "$needle" stderr.txt; then
    bad "$file: stderr lacks '$needle': $(head -c 600 stderr.txt)"
  else
    echo "ok: $file (${took}s)"
    ok
  fi
}

WORK="used up its work limit of 1000000000 steps"
CAP="needs more than its Lua memory cap of"
run=(run {} -o out.h5 --force -q)
expect scen-cfunc-work-loop.lua 1 "$WORK" -- "${run[@]}"
expect scen-pattern-backtrack.lua 1 "$WORK" -- "${run[@]}"
expect scen-gc-finalizer-loop.lua 1 "$WORK" -- "${run[@]}"
expect scen-table-grow-nomemcap.lua 1 "$CAP" -- "${run[@]}"
expect scen-gc-bomb-at-close.lua 1 "$CAP" -- "${run[@]}"
expect scen-events-bomb.lua 1 "the world cannot fit in memory: 16777215 LPs" -- "${run[@]}"
expect scen-lps-maxint-msg.lua 1 "'lps' = 9223372036854775807 is outside [1, 4294967295]" -- \
  "${run[@]}"
expect scen-params-nul-key.lua 1 "weft.params: a key holds a NUL byte" -- "${run[@]}"
expect scen-seed-precision.lua 0 "" -- "${run[@]}"
h5dump -a /seed out.h5 | grep -qF '(0): 9007199254740993' && ok || bad "seed not kept exactly"
[ ! -e out.h5 ] || rm out.h5
# Ctrl-C ends a scenario stuck in a library call or a finalizer at once, not at its limit.
for f in scen-pattern-backtrack.lua scen-gc-finalizer-loop.lua; do
  t0=$SECONDS
  timeout --preserve-status -s INT 1 "$WEFT" run "$F/$f" -o out.h5 --force -q 2>/dev/null
  rc=$?
  [ "$rc" -eq 130 ] && [ $((SECONDS - t0)) -le 3 ] && ok || bad "$f: Ctrl-C: exit $rc"
done

finish
