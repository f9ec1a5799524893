#!/usr/bin/env bash
# Every input fuzzing found to break weft (tests/fuzz/findings, README there) ends the way it
# should: a clear one-line error naming what is wrong and a non-zero exit within seconds, or,
# for the seed, the exact value. ctest runs this in the release and the ASan+UBSan builds (leak
# checking on), so a crash, a leak or a hang fails it too. Usage: findings.sh path/to/weft
set -u
WEFT=$(realpath "$1")
F=$(realpath "$(dirname "$0")/fuzz/findings")
V1=$(realpath "$(dirname "$0")/golden/trace-v1.h5")
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
for f in trace-globalheap-2934.h5 trace-missing-series-1736.h5 trace-v1-hdf5-loops.h5; do
  expect "$f" 1 "corrupted trace $F/$f: " -- report {} -o page
  [ ! -e page/index.html ] || bad "$f: a page was drawn from a corrupted trace"
  rm -rf page
done

# A trace written before checksums (layout version 1, variable-length strings) still opens.
"$WEFT" report "$V1" -o v1 >/dev/null 2>&1 && grep -qF "a version-1 trace" v1/index.html && ok ||
  bad "the version-1 trace does not report"

# Damaged copies of a fresh trace: a flipped byte in the first series' object header
# (metadata), one in the middle of the file (data or metadata), the file cut short.
printf 'weft.phold{lps = 16}\nweft.run{end_time = "10s"}\n' >small.lua
"$WEFT" run small.lua -o fresh.h5 -q || bad "small run failed"
size=$(stat -c %s fresh.h5)
ohdr=$(grep -obUaP "OHDR" fresh.h5 | sed -n 3p | cut -d: -f1)
flip() { # FILE OFFSET: one byte xor 0x10
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 16)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
for what in "header:$((ohdr + 6))" "middle:$((size / 2))" "cut:$((size * 2 / 3))"; do
  cp fresh.h5 damaged.h5
  at=${what#*:}
  if [ "${what%%:*}" = cut ]; then truncate -s "$at" damaged.h5; else flip damaged.h5 "$at"; fi
  "$WEFT" report damaged.h5 -o dpage >out.txt 2>&1
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF "corrupted trace damaged.h5: " out.txt && [ ! -e dpage/index.html ]
  then ok; else bad "damaged trace (${what%%:*}): exit $rc: $(cat out.txt)"; fi
  rm -rf dpage
done

# Ctrl-C ends a scenario stuck in a library call or a finalizer at once, not at its limit.
for f in scen-pattern-backtrack.lua scen-gc-finalizer-loop.lua; do
  t0=$SECONDS
  timeout --preserve-status -s INT 1 "$WEFT" run "$F/$f" -o out.h5 --force -q 2>/dev/null
  rc=$?
  [ "$rc" -eq 130 ] && [ $((SECONDS - t0)) -le 3 ] && ok || bad "$f: Ctrl-C: exit $rc"
done

finish
