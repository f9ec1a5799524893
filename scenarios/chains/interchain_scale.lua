-- Many CometBFT chains at once, each under its own load: the scale a cluster operator asks
-- about. Each chain is a group, so on N ranks the chains spread over the ranks and never wait
-- for each other (they exchange nothing yet; IBC comes later).
--
--   weft run scenarios/chains/interchain_scale.lua --set chains=4 --set validators=20 --json
--   mpirun -np 2 weft run scenarios/chains/interchain_scale.lua --set chains=8 --json
--
-- The defaults are the target size (50 chains x 200 validators, 200 tx/s per chain, 10
-- simulated minutes). With votes gossiped per hop that is about 10^9 vote deliveries: hours
-- of wall time today; the aggregate vote mode that makes it minutes is the next step
-- (models/README.md). Scale it down with --set to run it now.
local p = weft.params {
  chains = 50,
  validators = 200,
  rate = 200,        -- tx/s per chain
  ["end"] = "10min",
}

local net = weft.network {}
for i = 1, p.chains do
  local c = weft.chain { network = net, name = ("c%d"):format(i), validators = p.validators,
                         graph_seed = i }
  weft.load { chain = c, connections = 2, rate = p.rate / 2 }
end

weft.run { end_time = p["end"], sample = weft.duration(p["end"]) / 100 }
