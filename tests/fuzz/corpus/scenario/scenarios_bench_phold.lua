-- PHOLD, the standard benchmark of parallel discrete-event simulation.
--
-- Every LP starts with `events_per_lp` events. Handling an event sends one new event, to a
-- uniformly chosen LP with probability `remote` (else back to itself), after `lookahead` plus an
-- exponential delay of mean `mean`. The event population is constant, so the event rate is
-- lps * events_per_lp / (lookahead + mean) per simulated second: 1024 / 1 s here.
--
--   weft run scenarios/bench/phold.lua --json
--   weft run scenarios/bench/phold.lua --set lps=16384 --set end=1250s --json
local p = weft.params {
  lps = 16,
  events_per_lp = 1,
  remote = 0.1,
  lookahead = "100ms",
  mean = "900ms",
  ["end"] = "20000s", -- about 20 million events at the defaults
}

weft.phold {
  lps = p.lps,
  events_per_lp = p.events_per_lp,
  remote = p.remote,
  lookahead = p.lookahead,
  mean = p.mean,
}

-- 200 samples whatever the end time, so --set end=... never conflicts with the interval.
weft.run { end_time = p["end"], sample = weft.duration(p["end"]) / 200 }
