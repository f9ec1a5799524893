-- A small PHOLD sweep: 2 LP counts x 2 remote fractions x 2 seeds = 8 points, each a run of
-- well under a second, with its own trace and a row in DIR/index.csv.
--
--   weft sweep scenarios/sweeps/phold_grid.lua --list      # the 8 points
--   weft sweep scenarios/sweeps/phold_grid.lua -o results/phold_grid --jobs 2
--
-- A grid key with one value is a constant override: every point runs 2000 simulated seconds
-- instead of phold.lua's 20000 (about 0.5 and 2 million events).
return weft.sweep {
  scenario = "../bench/phold.lua", -- relative to this file
  grid = {
    lps = { 256, 1024 },
    remote = { 0.1, 0.5 },
    ["end"] = { "2000s" },
  },
  seeds = { 1, 2 },
  ranks = 1, -- mpirun ranks per point (1: a plain process)
}
