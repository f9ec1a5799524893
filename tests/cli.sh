#!/usr/bin/env bash
# End-to-end checks of the weft binary: every bad input gives a one-line error that says what
# and where, a non-zero exit, and leaves no file behind; a good run writes a trace that h5dump
# reads with the documented schema; Ctrl-C keeps the trace. Usage: cli.sh path/to/weft
set -u
WEFT=$(realpath "$1")
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# expect_error NAME EXIT_CODE NEEDLE -- ARGS...: runs weft ARGS, wants the exit code, exactly
# one line on stderr containing NEEDLE, and no trace file in out/.
expect_error() {
  local name=$1 code=$2 needle=$3
  shift 4
  rm -rf out && mkdir out
  "$WEFT" "$@" >stdout.txt 2>stderr.txt
  local rc=$? lines
  lines=$(wc -l <stderr.txt)
  if [ "$rc" -ne "$code" ]; then
    bad "$name: exit $rc, wanted $code ($(cat stderr.txt))"
  elif [ "$lines" -ne 1 ]; then
    bad "$name: $lines lines on stderr, wanted 1: $(cat stderr.txt)"
  elif ! grep -qF -- "$needle" stderr.txt; then
    bad "$name: stderr lacks '$needle': $(cat stderr.txt)"
  elif [ -n "$(ls out)" ]; then
    bad "$name: left files behind: $(ls out)"
  else
    ok
  fi
}

cat >good.lua <<'LUA'
local p = weft.params{ lps = 64, ["end"] = "50s" }
weft.phold{ lps = p.lps, record_delays = true }
weft.run{ end_time = p["end"], sample = "1s" }
LUA
printf 'weft.phold{lps = 8}\nweft.run{end_time = "1s"}\nlocal x = = 1\n' >syntax.lua
printf 'weft.phold{lps = 8}\n\nerror("no such chain")\n' >runtime.lua
printf 'weft.phold{lps = 8}\nweft.run{end_time = 0}\n' >zero.lua
# A chain too large for the machine is refused while it is built, its n x n state named: a
# million validators need 29 TiB of vote sets per hop, 8 TiB of path matrices in aggregate.
for votes in per-hop aggregate; do
  printf 'local net = weft.network {}\nweft.chain { network = net, validators = 1000000, votes = "%s" }\nweft.run { end_time = "1s" }\n' \
    "$votes" >"huge-$votes.lua"
done

expect_error missing-scenario 1 "cannot open scenario 'nope.lua'" -- run nope.lua -o out/x.h5
expect_error syntax 1 "syntax.lua:3:" -- run syntax.lua -o out/x.h5
expect_error runtime 1 "runtime.lua:3: no such chain" -- run runtime.lua -o out/x.h5
expect_error unknown-set 1 "--set foo=1: the scenario declares no parameter 'foo'" -- run good.lua --set foo=1 -o out/x.h5
expect_error bad-duration 1 "unknown unit 'parsecs' in duration '5parsecs'" -- run good.lua --set end=5parsecs -o out/x.h5
expect_error negative-duration 1 "negative duration '-5s'" -- run good.lua --set end=-5s -o out/x.h5
expect_error zero-end 1 "zero.lua:2: weft.run: 'end_time' = 0 s is outside [1e-09, 1.8e+10] s" -- run zero.lua -o out/x.h5
if [ "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" -lt $((8 << 30)) ]; then # kB: 8 TiB
  expect_error huge-chain-per-hop 1 "huge-per-hop.lua:2: weft.chain: the world cannot fit in memory: " -- run huge-per-hop.lua -o out/x.h5
  grep -qF "29.1 TiB for chain1's vote sets (2 x n votes a node)" stderr.txt && ok ||
    bad "huge-chain-per-hop: $(cat stderr.txt)"
  expect_error huge-chain-aggregate 1 "8.19 TiB for chain1's vote paths (3 n x n matrices)" -- run huge-aggregate.lua -o out/x.h5
fi
expect_error bad-seed 2 "--seed x: expected a non-negative integer" -- run good.lua --seed x
# Help says what each subcommand does with an option: run's engine is optional, check's seed
# and parameter are per input.
"$WEFT" wasm run --help >help.txt 2>&1
grep -qF "[--engine E]" help.txt && grep -qF "interp (libwabt, the default)" help.txt && ok ||
  bad "wasm run --help: --engine shown as required or its default unsaid"
"$WEFT" wasm check --help >help.txt 2>&1
grep -qF "input i uses SEED + i" help.txt && grep -qF "cycled over the module's range" help.txt &&
  ! grep -qF "(run:" help.txt && ok || bad "wasm check --help: run's text for --random or --param"
# --check builds the world and stops: no trace, exit 0; a parameter the scenario refuses, 1.
rm -rf out && mkdir out
"$WEFT" run good.lua --check -o out/c.h5 >check.out 2>check.err && [ -z "$(ls out)" ] &&
  grep -qF "good.lua builds: 64 LPs, to 50 s simulated" check.err && ok ||
  bad "run --check: $(cat check.err)"
expect_error check-refused 1 "--set nokey=1: the scenario declares no parameter 'nokey'" -- run good.lua --check --set nokey=1 -o out/x.h5
# --report says where the report went, on stderr and in --json.
rm -rf out && mkdir out
"$WEFT" run good.lua -o out/r.h5 --report --json >rep.json 2>rep.err
grep -qF "weft: report out/r/index.html" rep.err && grep -qF '"report":"out/r/index.html"' rep.json &&
  [ -f out/r/index.html ] && ok || bad "run --report: $(cat rep.err) $(cat rep.json)"
# A scenario's description is kept in the trace and shown at the top of its report; each run
# attribute's meaning is on the page.
printf 'weft.phold{lps = 8}\nweft.run{end_time = "1s", description = "Eight LPs & a <test>."}\n' >desc.lua
"$WEFT" run desc.lua -o out/d.h5 --report --quiet 2>/dev/null &&
  h5dump -a /description out/d.h5 | grep -qF 'Eight LPs & a <test>.' &&
  grep -qF '<p class="lead">Eight LPs &amp; a &lt;test&gt;.</p>' out/d/index.html &&
  grep -qF '<td>the run seed: with the script and its parameters it fixes the run</td>' out/d/index.html &&
  ok || bad "description not in the trace or the report"
# A chain's report opens with its panel set (throughput, block interval, latency, mempools,
# price, refusals) before the series one by one.
printf 'local net = weft.network{}\nlocal c = weft.chain{network = net, name = "small", validators = 4}\nweft.load{chain = c, rate = 20, duration = "8s"}\nweft.run{end_time = "10s"}\n' >chain.lua
"$WEFT" run chain.lua -o out/ch.h5 --report --quiet 2>/dev/null && [ -s out/ch/chain-small.png ] &&
  grep -qF '<h2 id="chains">Chains</h2>' out/ch/index.html && grep -qF 'src="chain-small.png"' out/ch/index.html &&
  ok || bad "no panel set for chain 'small': $(ls out/ch | head -5)"
# Durations read in human units: PHOLD's delays (ns, about 1e9) are drawn and summarised in s,
# the data files keep ns.
grep -A4 'id="hist-phold_delay"' out/r/index.html | grep -qF '<td>s</td>' &&
  grep -qF '($1/1000000000)' out/r/plots.gp && ok || bad "phold_delay not shown in s"
awk 'NR == 2 && $2 > 1e6 { found = 1 } END { exit !found }' out/r/hist-phold_delay.dat && ok ||
  bad "hist-phold_delay.dat not in ns"
# Exact values across the Lua boundary (issue 11's findings): an integer above 2^53 kept to
# the unit, math.maxinteger named as it is, NaN and a float beyond int64 refused, NUL bytes in
# keys and strings refused.
printf 'weft.phold{lps = 16}\nweft.run{end_time = "1s", seed = 9007199254740993}\n' >seed.lua
"$WEFT" run seed.lua -o out/seed.h5 --quiet 2>/dev/null &&
  h5dump -a /seed out/seed.h5 | grep -qF '(0): 9007199254740993' && ok || bad "seed 2^53 + 1 not kept exactly"
printf 'weft.phold{lps = math.maxinteger}\nweft.run{end_time = "1s"}\n' >maxint.lua
expect_error maxint 1 "'lps' = 9223372036854775807 is outside [1, 4294967295]" -- run maxint.lua -o out/x.h5
printf 'weft.phold{lps = 16, remote = 0/0}\nweft.run{end_time = "1s"}\n' >nan.lua
expect_error nan 1 "'remote' is not a finite number (NaN)" -- run nan.lua -o out/x.h5
printf 'weft.phold{lps = 1e19}\nweft.run{end_time = "1s"}\n' >huge.lua
expect_error huge-int 1 "'lps' must be an integer, got number '1e+19'" -- run huge.lua -o out/x.h5
printf 'local p = weft.params{["a\\0b"] = 1}\nweft.phold{lps = 16}\nweft.run{end_time = "1s"}\n' >nulkey.lua
expect_error nul-key 1 "weft.params: a key holds a NUL byte ('a' then more)" -- run nulkey.lua -o out/x.h5
printf 'local net = weft.network{}\nweft.chain{network = net, name = "a\\0b"}\nweft.run{end_time = "1s"}\n' >nulstr.lua
expect_error nul-string 1 "'name' holds a NUL byte ('a' then more)" -- run nulstr.lua -o out/x.h5
# One rule for the exit status: a command line malformed in itself is bad usage (2); what it
# asks of the scenario that the scenario refuses is an error (1).
expect_error set-without-value 2 "--set lps: expected key=value" -- run good.lua --set lps -o out/x.h5
expect_error set-without-key 2 "--set =3: expected key=value" -- run good.lua --set =3 -o out/x.h5
expect_error set-wrong-type 1 "--set lps=abc: parameter 'lps' takes a number" -- run good.lua --set lps=abc -o out/x.h5
expect_error no-scenario 2 "no scenario given" -- run
expect_error unknown-option 2 "unknown option '--frobnicate'" -- run good.lua --frobnicate
expect_error unknown-command 2 "unknown command 'rnu'" -- rnu
expect_error bad-queue 2 "--queue fast: expected auto, heap or ladder" -- run good.lua --queue fast
expect_error bad-window 2 "--window-fraction 2: expected a number in (0, 1]" -- run good.lua --window-fraction 2
expect_error bad-lua-memory 2 "--lua-memory 12Q: expected a size such as 512M or 2G" -- run good.lua --lua-memory 12Q
expect_error bad-lua-steps 2 "--lua-steps 0: expected an integer in [1, 18446744073709551615]" -- run good.lua --lua-steps 0
# The sandbox's limits from the command line: a 64 MiB cap and a 10^6-step budget, each named.
printf 'local t = {} for i = 1, 1e8 do t[i] = i end\nweft.phold{}\nweft.run{end_time = "1s"}\n' >grow.lua
expect_error lua-memory-cap 1 "scenario needs more than its Lua memory cap of 64 MiB (--lua-memory)" -- run grow.lua --lua-memory 64M -o out/x.h5
printf 'while true do end\n' >spin.lua
expect_error lua-steps-limit 1 "scenario used up its work limit of 1000000 steps" -- run spin.lua --lua-steps 1000000 -o out/x.h5
expect_error unwritable 1 "cannot write output '/nonexistent/dir/x.h5'" -- run good.lua -o /nonexistent/dir/x.h5
expect_error report-missing 1 "nope.h5" -- report nope.h5 -o out/r
printf 'not an hdf5 file\n' >garbage.h5
expect_error report-garbage 1 "garbage.h5" -- report garbage.h5 -o out/r

# A good run: trace written atomically, JSON figures on stdout, schema readable by h5dump.
rm -rf out && mkdir out
if "$WEFT" run good.lua -o out/good.h5 --json --quiet >run.json 2>run.err; then ok; else bad "good run failed: $(cat run.err)"; fi
for key in '"events":' '"wall_s":' '"events_per_s":' '"sim_time_s":50' '"ranks":1' '"output":"out/good.h5"' '"status":"completed"'; do
  grep -qF "$key" run.json && ok || bad "--json lacks $key: $(cat run.json)"
done
[ -f out/good.h5 ] && [ ! -e out/good.h5.part ] && ok || bad "trace not at out/good.h5 or .part left"
h5dump -H out/good.h5 >dump.txt 2>&1 || bad "h5dump failed"
for obj in 'ATTRIBUTE "scenario_text"' 'ATTRIBUTE "params"' 'ATTRIBUTE "seed"' 'ATTRIBUTE "events"' \
  'ATTRIBUTE "wall_s"' 'ATTRIBUTE "sim_time_s"' 'ATTRIBUTE "weft_version"' 'ATTRIBUTE "ranks"' \
  'DATASET "time_s"' 'DATASET "events"' 'DATASET "lp_events"' 'DATASET "phold_delay"' 'ATTRIBUTE "units"'; do
  grep -qF "$obj" dump.txt && ok || bad "h5dump -H lacks $obj"
done
h5dump -a /scenario_text out/good.h5 | grep -qF 'weft.phold{ lps = p.lps' && ok || bad "scenario_text not the script"
# Readable numbers: simulated seconds exact, measured figures to four significant digits.
grep -qF '"sim_time_s":50,' run.json && ok || bad "--json sim_time_s not exactly 50: $(cat run.json)"
for key in wall_s events_per_s peak_rss_mb; do
  v=$(sed -n "s/.*\"$key\":\([^,}]*\).*/\1/p" run.json)
  [ "$(printf '%s' "$v" | tr -cd '1-9' | wc -c)" -le 4 ] && [ "$(printf '%s' "$v" | tr -cd '0-9' | sed 's/^0*//' | sed 's/0*$//' | wc -c)" -le 5 ] && ok ||
    bad "--json $key = $v: float noise, not four significant digits"
done
# Headline figures: PHOLD's, against its arithmetic: 64 LPs whose events take 0.1 + 0.9 s on
# average handle 64 events per simulated second, a share `remote` = 0.1 of them sent afar.
fig() { sed -n "s/.*\"summary\":{.*\"$1\":\([^,}]*\).*/\1/p" run.json; }
awk -v r="$(fig phold_events_per_sim_s)" -v s="$(fig phold_remote_share)" -v d="$(fig phold_delay_mean)" \
  'BEGIN { exit !(r > 60.8 && r < 67.2 && s > 0.08 && s < 0.12 && d > 0.97 && d < 1.03) }' && ok ||
  bad "phold's headline figures off their arithmetic: $(cat run.json)"
h5dump -d /summary/figures out/good.h5 | grep -qF '"phold_remote_share' && ok || bad "no /summary/figures in the trace"
# The README's list and the schema name every root attribute the trace has.
h5dump -A -g / out/good.h5 | sed -n 's/^   ATTRIBUTE "\([^"]*\)".*/\1/p' | sort -u >attrs.txt
[ "$(wc -l <attrs.txt)" -ge 15 ] && ok || bad "root attributes: $(tr '\n' ' ' <attrs.txt)"
sed -n '/^- root attributes:/,/analysis\/SCHEMA.md/p' "$SRC/README.md" >readme_attrs.txt
while read -r a; do
  grep -qF "\`$a\`" readme_attrs.txt && ok || bad "README's root attributes lack $a"
  grep -qF "| \`$a\` |" "$SRC/analysis/SCHEMA.md" && ok || bad "SCHEMA.md lacks root attribute $a"
done <attrs.txt
# 'pending': 0 in --json for a completed run (events due after the end are never queued); the
# series counts those, so a PHOLD of 64 LPs with one event each ends at 64.
grep -qF '"pending":0' run.json && ok || bad "--json pending of a completed run not 0: $(cat run.json)"
last=$(h5dump -d /series/pending -y -w 0 out/good.h5 | sed -n '/^   DATA {/,/^   }/p' | tr -c '0-9.\n' ' ' | tr -s ' ' '\n' | grep -v '^$' | tail -1)
[ "$last" = 64 ] && ok || bad "the pending series ends at $last, not 64 (the events in flight)"

# Existing output is refused without --force, kept intact, and replaced with it.
before=$(md5sum <out/good.h5)
"$WEFT" run good.lua -o out/good.h5 --quiet 2>err.txt
[ $? -eq 1 ] && grep -qF "exists (use --force to overwrite)" err.txt && ok || bad "overwrite not refused: $(cat err.txt)"
[ "$(md5sum <out/good.h5)" = "$before" ] && ok || bad "refused overwrite changed the file"
"$WEFT" run good.lua -o out/good.h5 --quiet --force --seed 5 && ok || bad "--force failed"

# The report: one PNG per series and an index page.
"$WEFT" report out/good.h5 -o out/rep >/dev/null 2>rep.err && ok || bad "report failed: $(cat rep.err)"
[ -f out/rep/index.html ] && ok || bad "no index.html"
[ "$(ls out/rep/*.png 2>/dev/null | wc -l)" -ge 4 ] && ok || bad "fewer than 4 PNGs: $(ls out/rep)"

# Default output under results/, named after the scenario.
"$WEFT" run good.lua --quiet && ls results/good-*.h5 >/dev/null 2>&1 && ok || bad "default output not in results/"

# Ctrl-C: the run stops early, exits 130 and keeps a readable trace marked interrupted.
printf 'weft.phold{lps = 4096}\nweft.run{end_time = "1000000s"}\n' >long.lua
"$WEFT" run long.lua -o out/long.h5 --quiet 2>int.err &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && ok || bad "interrupted run exited $rc: $(cat int.err)"
h5dump -a /status out/long.h5 2>/dev/null | grep -qF '"interrupted"' && ok || bad "interrupted trace lacks status"

# Help texts explain every option.
for opt in --set --seed --output --force --json --quiet --report --no-trace --queue --window-fraction --list-builders --lua-steps --lua-memory; do
  "$WEFT" run --help | grep -qF -- "$opt" && ok || bad "run --help lacks $opt"
done
"$WEFT" --help | grep -qF "report" && ok || bad "weft --help lacks report"

# A builder called twice shares its metrics: with remote = 0 every LP only sends to itself, so
# two calls of 8 LPs send what one call of 16 does, all counted in one phold_delay histogram.
printf 'weft.phold{lps = 8, remote = 0, record_delays = true}\nweft.phold{lps = 8, remote = 0, record_delays = true}\nweft.run{end_time = "20s"}\n' >twice.lua
printf 'weft.phold{lps = 16, remote = 0, record_delays = true}\nweft.run{end_time = "20s"}\n' >once.lua
hist_count() { h5dump -a /histograms/phold_delay/count "$1" | sed -n 's/^ *(0): *//p'; }
"$WEFT" run twice.lua -o out/twice.h5 --quiet && "$WEFT" run once.lua -o out/once.h5 --quiet && ok || bad "phold twice failed"
[ "$(h5dump -H out/twice.h5 | grep -c 'DATASET "phold_delay"')" -eq 1 ] && ok || bad "phold twice: not one phold_delay"
twice=$(hist_count out/twice.h5) once=$(hist_count out/once.h5)
[ -n "$twice" ] && [ "$twice" = "$once" ] && ok || bad "phold twice counts '$twice' delays, one call of 16 LPs '$once'"

# The network's bad input: a one-line error naming the file, line and element.
net() { # net NAME NEEDLE LUA: a scenario whose line 2 is LUA
  printf 'local net = weft.network{}\n%s\nweft.run{end_time = "1s"}\n' "$3" >net.lua
  expect_error "$1" 1 "$2" -- run net.lua -o out/x.h5
}
net "unknown region" "net.lua:2: weft.gossip: 'regions[2].region' = 'mars-1'" \
  "weft.gossip{network = net, regions = {{region='us-east-1', count=3}, {region='mars-1', count=2}}}"
net "record field type" "net.lua:2: weft.gossip: 'regions[1].count' must be an integer" \
  "weft.gossip{network = net, regions = {{region='us-east-1', count='x'}}}"
net "bandwidth <= 0" "net.lua:2: weft.gossip: 'bandwidth' = 0 is outside" \
  "weft.gossip{network = net, bandwidth = 0}"
net "not a network" "net.lua:2: weft.gossip: 'network'" "weft.gossip{network = {first = 0}}"
net "unconnectable graph" "not connected (20 components)" \
  "weft.gossip{network = net, nodes = 20, outbound = 2, inbound = 0}"
net "partition t2 <= t1" "net.lua:2: weft.partition: 'to' must be after 'from'" \
  "weft.gossip{network = net, nodes = 20}; weft.partition{network = net, from = '2s', to = '1s', regions = {'us-east-1'}}"
net "partition unknown node" "net.lua:2: weft.partition: 'nodes[2]' = 21: the network has nodes 1 to 20" \
  "weft.gossip{network = net, nodes = 20}; weft.partition{network = net, from = '1s', to = '2s', nodes = {3, 21}}"
net "partition unknown region" "'regions[1]' = 'eu-west-9': no such region" \
  "weft.gossip{network = net, nodes = 20}; weft.partition{network = net, from = '1s', to = '2s', regions = {'eu-west-9'}}"
printf 'region,a,b\na,1,-3\nb,3,1\n' >neg.csv
net "negative rtt" "neg.csv:2: entry a -> b is negative" \
  "weft.network{rtt_table = 'neg.csv'}"
printf 'region,a,b\na,1,3\nb,3\n' >short.csv
net "missing rtt" "short.csv:3: row 'b' has 1 entries, expected 2" \
  "weft.network{rtt_table = 'short.csv'}"
net "bad mode" "'mode' = 'telepathy': expected per-hop or aggregate" \
  "weft.gossip{network = net, mode = 'telepathy'}"
# Bridges between gossip networks.
G2="local a = weft.gossip{network = net, nodes = 20}; local b = weft.gossip{network = net, nodes = 20, messages = 0}"
net "bridge to a broadcaster" "net.lua:2: weft.bridge: 'to' broadcasts messages of its own" \
  "$G2; weft.bridge{from = b, to = a, latency = '50ms'}"
net "bridge to itself" "net.lua:2: weft.bridge: 'from' and 'to' are the same network" \
  "$G2; weft.bridge{from = a, to = a, latency = '50ms'}"
net "bridge gateway" "net.lua:2: weft.bridge: 'to_node' = 21: 'to' has 20 nodes" \
  "$G2; weft.bridge{from = a, to = b, to_node = 21, latency = '50ms'}"
net "bridge too fast" "net.lua:2: weft.bridge: 'latency' = 1000 ns is below the least one-way delay" \
  "$G2; weft.bridge{from = a, to = b, latency = '1us'}"
net "bridge sizes" "net.lua:2: weft.bridge: 'from' sends 1024-byte messages and 'to' 64-byte ones" \
  "local a = weft.gossip{network = net, nodes = 20}; local b = weft.gossip{network = net, nodes = 20, messages = 0, bytes = 64}; weft.bridge{from = a, to = b, latency = '50ms'}"
net "bridge not a network" "net.lua:2: weft.bridge: 'to'" \
  "local a = weft.gossip{network = net, nodes = 20}; weft.bridge{from = a, to = net, latency = '50ms'}"
# Chains: bad validators, powers, timeouts and faults.
net "zero validators" "net.lua:2: weft.chain: 'validators'" "weft.chain{network = net, validators = 0}"
net "negative power" "net.lua:2: weft.chain: 'powers[2]'" \
  "weft.chain{network = net, validators = 2, powers = {10, -1}}"
net "powers count" "net.lua:2: weft.chain: 'powers' has 2 entries for 3 validators" \
  "weft.chain{network = net, validators = 3, powers = {10, 10}}"
net "power overflow" "net.lua:2: weft.chain: validator set: total voting power of resulting valset exceeds max" \
  "weft.chain{network = net, validators = 2000, power = 1e15}"
net "zero timeout" "net.lua:2: weft.chain: 'timeout_propose'" \
  "weft.chain{network = net, timeout_propose = '0s'}"
net "offline unknown" "net.lua:2: weft.chain: 'offline[1].validator' = 5: the chain has validators 1 to 4" \
  "weft.chain{network = net, offline = {{validator = 5, from = '1s'}}}"
net "offline backwards" "net.lua:2: weft.chain: 'offline[1]': 'to' must be after 'from'" \
  "weft.chain{network = net, offline = {{validator = 1, from = '2s', to = '1s'}}}"
net "fee market" "net.lua:2: weft.chain: 'fee_market' = 'auction': expected none, eip1559 or aimd" \
  "weft.chain{network = net, fee_market = 'auction'}"
net "block too small" "net.lua:2: weft.chain: a block's header, last commit and filler take" \
  "weft.chain{network = net, max_block_bytes = 1024, block_bytes = 2000}"
net "votes mode" "net.lua:2: weft.chain: 'votes' = 'gossip': expected per-hop or aggregate" \
  "weft.chain{network = net, votes = 'gossip'}"
net "aggregate byzantine" "net.lua:2: weft.chain: votes = 'aggregate' does not model byzantine validators yet" \
  "weft.chain{network = net, votes = 'aggregate', byzantine = {{validator = 1, from = '1s'}}}"
# A partition declared after an aggregate chain stops the run at its start, keeping the trace.
printf 'local net = weft.network{}\nweft.chain{network = net, votes = "aggregate"}\nweft.partition{network = net, from = "1s", to = "2s", regions = {"us-east-1"}}\nweft.run{end_time = "3s"}\n' >aggpart.lua
rm -rf out && mkdir out
"$WEFT" run aggpart.lua -o out/x.h5 >stdout.txt 2>stderr.txt
rc=$?
if [ "$rc" -ne 1 ] || ! grep -qF "votes = 'aggregate' does not model partitions of the network yet" stderr.txt ||
  [ ! -f out/x.h5.failed ]; then
  bad "aggregate partition: exit $rc, $(cat stderr.txt)"
else
  ok
fi
# Workloads: bad rates, mixes, validators, steps and replay traces.
net "load negative rate" "net.lua:2: weft.load: 'rate' = -1 is outside" \
  "local c = weft.chain{network = net}; weft.load{chain = c, rate = -1}"
net "load unknown tx type" "net.lua:2: weft.load: 'mix[2].type' = 'swap': expected bank_send, wasm_execute or inference" \
  "local c = weft.chain{network = net}; weft.load{chain = c, mix = {{type = 'bank_send'}, {type = 'swap'}}}"
net "load validator out of range" "net.lua:2: weft.load: 'nodes[2]' = 5: the chain has nodes 1 to 4" \
  "local c = weft.chain{network = net}; weft.load{chain = c, nodes = {1, 5}}"
net "load steps backwards" "net.lua:2: weft.load: 'rate_steps[2].at' = 1s is not after 'rate_steps[1].at' = 2s" \
  "local c = weft.chain{network = net}; weft.load{chain = c, rate_steps = {{at = '2s', rate = 5}, {at = '1s', rate = 9}}}"
printf 'time_s,type,bytes,gas\n0.5,bank_send,250,1000\n1,bank_send,x,1000\n' >bad_trace.csv
net "load bad replay row" "net.lua:2: weft.load: bad_trace.csv:3: bytes 'x' is not an integer" \
  "local c = weft.chain{network = net}; weft.load{chain = c, replay = 'bad_trace.csv'}"
net "load not a chain" "net.lua:2: weft.load: 'chain'" "weft.load{chain = net}"

# weft bench net: a small run prints both variants and their ratio; bad options are usage errors.
expect_error "bench net one node" 2 "--nodes 1: at least 2 nodes" -- bench net --nodes 1
expect_error "bench net bad count" 2 "--messages x: expected a whole number" -- bench net --messages x
if "$WEFT" bench net --nodes 64 --messages 20000 --reps 1 >bench.txt 2>&1 &&
  grep -q '^bare  *20000 ' bench.txt && grep -q '^net  ' bench.txt && grep -q 'net / bare: ' bench.txt; then
  ok
else
  bad "bench net: $(cat bench.txt)"
fi

finish
