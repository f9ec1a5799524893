-- One CometBFT chain under load: validators running Tendermint consensus over a geo-distributed
-- network, gossiping as CometBFT's reactors do, with mempools, the Cosmos SDK gas table and an
-- optional fee market; clients send transactions over `connections` connections at `rate`
-- tx/s each for `load` and record what happened to each (/records/txs).
--
--   weft run scenarios/chains/cosmos_chain.lua --report
--   weft run scenarios/chains/cosmos_chain.lua --set rate=500 --set connections=8   # saturate
--   weft run scenarios/chains/cosmos_chain.lua --set latency=none --set offline=2
--   weft run scenarios/chains/cosmos_chain.lua --set fee_market=eip1559
local p = weft.params {
  validators = 4,
  full_nodes = 0,
  latency = "aws",        -- "aws": the 21 AWS regions; "none": one datacenter; "cometbft-qa":
                          -- the 13 zones of CometBFT's QA latency emulation
  rate = 50,              -- tx/s per connection
  connections = 4,
  tx_bytes = 250,
  load = "50s",           -- how long the clients send
  ["end"] = "60s",
  votes = "per-hop",      -- "per-hop": gossip message by message; "aggregate": computed (scale)
  mempool_size = 5000,
  fee_market = "none",    -- none, eip1559 or aimd
  network = "analytic",   -- the transport backend (SimGrid's comes later)
  offline = 0,            -- validators 1..offline are cut from the network for the whole run
}

if p.network ~= "analytic" then
  error("network = '" .. p.network .. "': only the analytic transport is built so far")
end
local net, regions
if p.latency == "cometbft-qa" then
  -- CometBFT QA's latency emulation: its 13 zones, netem's normal jitter of 5% of the delay.
  net = weft.network { rtt_table = "cometbft-qa", jitter = "normal", jitter_frac = 0.05 }
  regions = {}
else
  net = weft.network {}
  if p.latency == "none" then
    regions = { { region = "us-east-1", count = p.validators } }
  elseif p.latency == "aws" then
    regions = {}
  else
    error("latency = '" .. p.latency .. "': expected aws, none or cometbft-qa")
  end
end
local offline = {}
for i = 1, p.offline do offline[i] = { validator = i, from = "0s" } end

local chain = weft.chain {
  network = net,
  validators = p.validators,
  full_nodes = p.full_nodes,
  regions = regions,
  offline = offline,
  votes = p.votes,
  mempool_size = p.mempool_size,
  fee_market = p.fee_market,
}
weft.load {
  chain = chain,
  connections = p.connections,
  rate = p.rate,
  duration = p.load,
  mix = { { type = "bank_send", bytes = p.tx_bytes } },
  price = 10,
}

weft.run { end_time = p["end"] }
