#!/usr/bin/env bash
# Distributed runs under mpirun: the same scenario and seed give bit-identical /series,
# /records and /histograms and the same event count on 1, 2, 3 and 4 ranks; errors end every
# rank with one message; a killed rank takes the job down instead of hanging; SIGUSR1 stops
# all ranks at the same window and keeps the trace. Usage: mpi.sh path/to/weft
set -u
WEFT=$(realpath "$1")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# OpenMPI's own allocations show up as leaks under LeakSanitizer; weft's are checked elsewhere.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run() { timeout 300 mpirun -np "$1" "${@:2}"; }

# 1. Determinism across rank counts, with a histogram, several metrics and uneven placement
# (999 LPs do not divide by 2, 3 or 4).
cat >world.lua <<'LUA'
local p = weft.params{ lps = 999, ["end"] = "120s" }
weft.phold{ lps = p.lps, events_per_lp = 2, remote = 0.3, lookahead = "50ms", mean = "450ms",
            record_delays = true, record_events = true }
weft.run{ end_time = p["end"], sample = "1s", seed = 9 }
LUA
for np in 1 2 3 4; do
  if run "$np" "$WEFT" run world.lua -o "w$np.h5" --json --quiet >"w$np.json" 2>"w$np.err"; then ok; else
    bad "np=$np failed: $(cat "w$np.err")"
  fi
  events[$np]=$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "w$np.json")
done
for np in 2 3 4; do
  [ "${events[$np]}" = "${events[1]}" ] && [ -n "${events[1]}" ] && ok ||
    bad "np=$np: ${events[$np]} events, np=1: ${events[1]}"
  for g in /series /records /histograms /summary; do
    h5diff "w1.h5" "w$np.h5" "$g" "$g" >/dev/null 2>&1 && ok || bad "np=$np: $g differs from np=1"
  done
  grep -q "\"ranks\":$np," "w$np.json" && ok || bad "np=$np: --json ranks wrong"
  grep -q '"windows":[1-9]' "w$np.json" && ok || bad "np=$np: no windows in --json"
  grep -q '"cross_rank_fraction":0\.[0-9]' "w$np.json" && ok || bad "np=$np: cross_rank_fraction missing"
  [ "$(grep -o '"rank_events":\[[0-9,]*\]' "w$np.json" | tr -cd , | wc -c)" -eq $((np - 1)) ] && ok ||
    bad "np=$np: rank_events does not list $np ranks"
  # Each rank holds its own LPs only: together all 999, none all of them.
  lps=$(sed -n 's/.*"rank_lps":\[\([0-9,]*\)\].*/\1/p' "w$np.json")
  awk -v l="$lps" -v np="$np" 'BEGIN { n = split(l, a, ","); for (i = 1; i <= n; i++) { s += a[i]; if (a[i] >= 999) exit 1 }
    exit !(n == np && s == 999) }' && ok || bad "np=$np: rank_lps [$lps] do not split the 999 LPs"
  grep -q '"peak_rss_max_mb":[1-9]' "w$np.json" && grep -q '"rank_peak_rss_mb":\[[1-9]' "w$np.json" && ok ||
    bad "np=$np: no peak_rss_max_mb / rank_peak_rss_mb in --json"
done
h5dump -a /ranks w3.h5 | grep -q "(0): 3" && ok || bad "trace of np=3 lacks ranks=3"
h5dump -H w1.h5 | grep -q 'DATASET "phold_events"' && ok || bad "no model record table to compare"

# An event limit stops every rank count at the same window, so it too gives one trace.
cat >limit.lua <<'LUA'
weft.phold{ lps = 256, record_events = true }
weft.run{ end_time = "1000s", max_events = 5000, sample = "1s" }
LUA
for np in 1 2 3; do
  run "$np" "$WEFT" run limit.lua -o "l$np.h5" --json --quiet >"l$np.json" 2>/dev/null || bad "limit np=$np failed"
done
for np in 2 3; do
  cmp -s <(sed 's/.*"events":\([0-9]*\).*/\1/' l1.json) <(sed 's/.*"events":\([0-9]*\).*/\1/' "l$np.json") &&
    ok || bad "max_events: np=$np handled another number of events than np=1"
  for g in /series /records; do
    h5diff l1.h5 "l$np.h5" "$g" "$g" >/dev/null 2>&1 && ok || bad "max_events: np=$np $g differs"
  done
done
# Windows heavier than half a shared-memory ring (32 KiB for one peer: over 1,024 events of
# 32 bytes) go point-to-point behind a marker in the ring. On 2 ranks each window here sends
# about 1,600 events each way; on 3, about 700 per pair (through the rings).
cat >heavy.lua <<'LUA'
weft.phold{ lps = 4096, events_per_lp = 32, remote = 1.0 }
weft.run{ end_time = "3s", sample = "100ms" }
LUA
for np in 1 2 3; do
  run "$np" "$WEFT" run heavy.lua -o "h$np.h5" --json --quiet >"h$np.json" 2>"h$np.err" ||
    bad "heavy np=$np failed: $(cat "h$np.err")"
done
for np in 2 3; do
  h5diff h1.h5 "h$np.h5" /series /series >/dev/null 2>&1 && ok || bad "heavy windows: np=$np /series differs"
done
f() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" h2.json; }
awk -v e="$(f events)" -v w="$(f windows)" -v x="$(f cross_rank_fraction)" \
  'BEGIN { exit !(e * x / w / 2 > 1100) }' && ok ||
  bad "heavy windows: too few events per window to overflow half a ring: $(cat h2.json)"

# Ring laps: with a lookahead of 2^32 ns the top half of every timestamp counts windows, the
# very numbers a ring's length word carries as its sequence; a ring whose reader took a stale
# word of the previous lap for a new message crashed or hung here within a second.
cat >laps.lua <<'LUA'
weft.phold{ lps = 5000, remote = 1.0, lookahead = "4.294967296s", mean = "4.3s" }
weft.run{ end_time = "4300s", sample = "43s" }
LUA
for np in 1 2; do
  timeout 60 mpirun -np "$np" "$WEFT" run laps.lua -o "laps$np.h5" --quiet 2>"laps$np.err" ||
    bad "ring laps np=$np failed or hung: $(head -3 "laps$np.err")"
done
h5diff laps1.h5 laps2.h5 /series /series >/dev/null 2>&1 && ok || bad "ring laps: np=2 /series differs"

# A rank that cannot see the output file (another machine, no shared file system): here rank
# 1 runs with a private, empty file system mounted over the test directory. Large record
# tables must then go through rank 0, with a message, and come out the same.
side=$(mktemp -d)
cp world.lua "$side/"
cat >hide.sh <<SH
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs none "$PWD" && cp "$side/world.lua" "$PWD/" && cd "$PWD" && exec "\$0" "\$@"' "\$@"
SH
chmod +x hide.sh
if unshare -m sh -c 'mount -t tmpfs none /mnt' 2>/dev/null; then
  timeout 120 mpirun -np 1 "$WEFT" run world.lua -o hidden.h5 --quiet : \
    -np 1 ./hide.sh "$WEFT" run world.lua -o hidden.h5 --quiet 2>hidden.err &&
    grep -q "writing record tables through rank 0: .*not the same file on rank 1" hidden.err && ok ||
    bad "hidden output: no fallback to rank 0: $(head -3 hidden.err)"
  h5diff w1.h5 hidden.h5 /records /records >/dev/null 2>&1 && ok || bad "hidden output: /records differs"
else
  echo "SKIP: no mount namespaces here (unshare -m): the hidden-output fallback is not tested"
fi
rm -rf "$side"

# A different seed must change the trace, or the comparison above proves nothing.
run 2 "$WEFT" run world.lua -o seed.h5 --seed 10 --quiet 2>/dev/null
h5diff w1.h5 seed.h5 /series /series >/dev/null 2>&1 && bad "another seed gave the same series" || ok

# 2. A scenario error: every rank fails alike, one message, non-zero exit.
printf 'weft.phold{lps = 8}\nweft.run{end_time = "1s"}\nerror("no such chain")\n' >bad.lua
run 3 "$WEFT" run bad.lua -o bad.h5 >/dev/null 2>bad.err
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok || bad "scenario error exited $rc"
[ "$(grep -c '^weft run:' bad.err)" -eq 1 ] && grep -q 'bad.lua:3: no such chain' bad.err && ok ||
  bad "scenario error not reported once: $(cat bad.err)"

# 3. An error only rank 0 sees (output exists): the others must not wait forever.
run 2 "$WEFT" run world.lua -o w1.h5 >/dev/null 2>exists.err
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "exists (use --force" exists.err && ok ||
  bad "existing output on rank 0: exit $rc, $(head -1 exists.err)"

# 4. A rank that dies takes the job down with a message.
printf 'weft.phold{lps = 4096}\nweft.run{end_time = "100000000s"}\n' >long.lua
timeout 120 mpirun -np 2 "$WEFT" run long.lua -o long.h5 --quiet >kill.out 2>&1 &
job=$!
sleep 2
victim=$(pgrep -P "$(pgrep -P $job -x mpirun || echo $job)" -x weft | tail -1)
[ -z "$victim" ] && victim=$(pgrep -x weft | tail -1)
kill -9 "$victim" 2>/dev/null
wait $job
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok || bad "killed rank: job exited $rc (124 = hung)"
grep -qi "signal 9\|killed" kill.out && ok || bad "killed rank: no message: $(head -3 kill.out)"

# 5. SIGUSR1 to mpirun: all ranks stop at one window; the trace is kept, marked interrupted.
# A fine sample interval fills sample blocks often: their sums over ranks must never wait on a
# rank that has stopped (they run only between windows).
printf 'weft.phold{lps = 1024}\nweft.run{end_time = "100000s", sample = "10ms"}\n' >usr1.lua
timeout 120 mpirun -np 2 "$WEFT" run usr1.lua -o usr1.h5 --quiet >usr1.out 2>&1 &
job=$!
sleep 2
kill -USR1 "$(pgrep -P $job -x mpirun || echo $job)" 2>/dev/null || kill -USR1 $job
wait $job
rc=$?
[ $rc -eq 130 ] && ok || bad "SIGUSR1: exit $rc, wanted 130: $(head -3 usr1.out)"
h5dump -a /status usr1.h5 2>/dev/null | grep -q '"interrupted"' && ok || bad "SIGUSR1: trace not marked interrupted"

# 6. The network: the broadcast scenario, per-hop and aggregate, with a partition (buffered
# messages, the cut timeline), is bit-identical on 1 to 4 ranks.
bcast="$SRC/scenarios/network/broadcast.lua"
for mode in per-hop aggregate; do
  for np in 1 2 3 4; do
    run "$np" "$WEFT" run "$bcast" --set nodes=120 --set messages=6 --set rate=1 --set duration=12s \
      --set partition=eu --set mode=$mode -o "b$mode$np.h5" --json --quiet >"b$mode$np.json" \
      2>"b$mode$np.err" && ok || bad "broadcast $mode np=$np failed: $(cat "b$mode$np.err")"
  done
  e1=$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "b${mode}1.json")
  for np in 2 3 4; do
    [ "$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "b$mode$np.json")" = "$e1" ] && [ -n "$e1" ] && ok ||
      bad "broadcast $mode np=$np: event count differs from np=1"
    for g in /series /records /histograms /summary; do
      h5diff "b${mode}1.h5" "b$mode$np.h5" "$g" "$g" >/dev/null 2>&1 && ok ||
        bad "broadcast $mode np=$np: $g differs from np=1"
    done
  done
done

# same_on_ranks NAME FILE WANT [run options...]: runs FILE on 1 to 3 ranks, wants the text WANT
# in each --json, and /series, /records and /histograms on 2 and 3 ranks bit-identical to 1.
same_on_ranks() {
  local name=$1 file=$2 want=$3 np g
  shift 3
  for np in 1 2 3; do
    run "$np" "$WEFT" run "$file" "$@" -o "$name$np.h5" --json --quiet >"$name$np.json" \
      2>"$name$np.err" && ok || bad "$name np=$np failed: $(cat "$name$np.err")"
    grep -qF -- "$want" "$name$np.json" && ok || bad "$name np=$np: --json lacks $want"
  done
  for np in 2 3; do
    for g in /series /records /histograms /summary; do
      h5diff "${name}1.h5" "$name$np.h5" "$g" "$g" >/dev/null 2>&1 && ok ||
        bad "$name np=$np: $g differs from np=1"
    done
  done
}

# 7. Two grouped networks joined by a bridge: each network sits whole on a rank, the windows
# are the bridge's latency long (the lookahead from the cross-group bound), and the traces are
# bit-identical on 1 to 3 ranks.
same_on_ranks two "$SRC/scenarios/bench/two_networks.lua" \
  '"lookahead_s":0.1,"lookahead_from":"gossip","lookahead_bound":"cross-group"' \
  --set nodes=150 --set bytes=4096 --set messages=8 --set duration=4s

# 8. Two independent chains under load, with every fault the chain model has (an equivocating
# validator, full nodes, a fee market, offline, crashed and slow validators, a dropping cut of
# the network), each chain a group: nothing crosses between groups, so the lookahead is
# unbounded (null) and the run is one window; the traces are bit-identical on 1 to 3 ranks.
cat >chains.lua <<'LUA'
local net = weft.network{ partition_mode = "drop" }
local a = weft.chain{ network = net, validators = 8, block_bytes = 100000, full_nodes = 2,
  fee_market = "eip1559", byzantine = {{validator = 3, from = "2s", to = "12s"}} }
weft.load{ chain = a, connections = 2, rate = 40, duration = "15s", price = 100 }
local b = weft.chain{ network = net, validators = 6, offline = {{validator = 2, from = "3s", to = "9s"}},
  crash = {{validator = 4, from = "5s", to = "11s"}}, slow = {{validator = 5, from = "1s", delay = "20ms"}} }
weft.load{ chain = b, connections = 1, rate = 30, duration = "15s" }
weft.partition{ network = net, from = "13s", to = "15s", regions = {"us-east-1", "eu-west-1"} }
weft.run{ end_time = "20s" }
LUA
same_on_ranks ch chains.lua '"lookahead_s":null'

# 9. Loads on two chains (an open loop on 3 connections; a closed loop with a timeout): the
# clients join their chain's group, so the lookahead stays unbounded, and /records/txs with the
# rest is bit-identical on 1 to 3 ranks.
cat >loads.lua <<'LUA'
local net = weft.network{}
local a = weft.chain{ network = net, validators = 8 }
local b = weft.chain{ network = net, validators = 6 }
weft.load{ chain = a, connections = 3, rate = 100, duration = "8s" }
weft.load{ chain = b, closed = 4, think = "100ms", timeout = "2s", nodes = {2}, duration = "8s" }
weft.run{ end_time = "10s" }
LUA
same_on_ranks ld loads.lua '"lookahead_s":null'

# 10. Aggregate votes: three chains of the scale scenario, one with an offline and a crashed
# validator and full nodes, and clients whose fee policy waits on an EIP-1559 chain: the
# boards, pools and memos are each chain's, on its rank, and the traces are bit-identical on
# 1 to 3 ranks.
cat >agg.lua <<'LUA'
local net = weft.network{}
local a = weft.chain{ network = net, validators = 12, votes = "aggregate", full_nodes = 3,
  offline = {{validator = 2, from = "2s", to = "6s"}}, crash = {{validator = 5, from = "3s", to = "7s"}} }
weft.load{ chain = a, connections = 2, rate = 50, duration = "10s" }
local b = weft.chain{ network = net, validators = 8, votes = "aggregate", fee_market = "eip1559",
  max_block_gas = 2000000, regions = {{region = "eu-west-1", count = 8}} }
weft.load{ chain = b, connections = 2, rate = 40, duration = "10s", price = 2, fee_policy = "wait",
  mix = {{type = "bank_send", bytes = 250, gas = 70000}} }
local c = weft.chain{ network = net, validators = 20, votes = "aggregate" }
weft.load{ chain = c, connections = 1, rate = 100, duration = "10s" }
weft.run{ end_time = "12s" }
LUA
same_on_ranks ag agg.lua '"lookahead_s":null'

finish
