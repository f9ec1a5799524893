-- The quick start: a small PHOLD world, enough to show a trace and a report end to end.
-- Later models (chains, IBC, inference nodes) turn this into an interchain scenario.
--
--   weft run scenarios/quickstart.lua --report
--   weft run scenarios/quickstart.lua --set lps=8192 --set remote=0.5 --report
local p = weft.params {
  lps = 4096,
  remote = 0.25,
  duration = "10min",
}

local world = weft.phold {
  lps = p.lps,
  events_per_lp = 2,
  remote = p.remote,
  lookahead = "50ms",
  mean = "450ms",
  record_delays = true,
}
print(("quickstart: %d PHOLD LPs (ids %d..%d), %s simulated"):format(
  world.count, world.first, world.first + world.count - 1, p.duration))

weft.run { end_time = p.duration, sample = weft.duration(p.duration) / 120, seed = 42 }
