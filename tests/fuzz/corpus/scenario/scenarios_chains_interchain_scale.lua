-- Many CometBFT chains at once, each under its own load: the scale a cluster operator asks
-- about. Each chain is a group, so on N ranks the chains spread over the ranks and never wait
-- for each other (they exchange nothing yet; IBC comes later).
--
--   weft run scenarios/chains/interchain_scale.lua --set chains=4 --set validators=20 --json
--   mpirun -np 2 weft run scenarios/chains/interchain_scale.lua --set chains=8 --json
--
-- The defaults are the target size (50 chains x 200 validators, 200 tx/s per chain, 10
-- simulated minutes), with votes, blocks and transactions in the aggregate mode
-- (models/README.md): gossiped per hop it would be about 10^9 vote deliveries, hours of wall
-- time; --set votes=per-hop runs it that way, scaled down.
local p = weft.params {
  chains = 2,
  validators = 4,
  rate = 200,        -- tx/s per chain
  ["end"] = "10min",
  votes = "aggregate", -- or "per-hop"
}

local net = weft.network {}
for i = 1, p.chains do
  local c = weft.chain { network = net, name = ("c%d"):format(i), validators = p.validators,
                         graph_seed = i, votes = p.votes }
  weft.load { chain = c, connections = 2, rate = p.rate / 2, duration = p["end"] }
end

weft.run { end_time = p["end"], sample = weft.duration(p["end"]) / 100 }
