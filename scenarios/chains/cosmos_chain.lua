-- One CometBFT chain: validators running Tendermint consensus over a geo-distributed network,
-- gossiping proposals, block parts and votes as CometBFT's consensus reactor does.
--
-- What it shows today: block intervals and rounds as functions of the validator count, their
-- placement, the block size and faults (offline validators). Transactions, mempools and fees
-- come next (the blocks carry `block_bytes` of payload meanwhile).
--
--   weft run scenarios/chains/cosmos_chain.lua --report
--   weft run scenarios/chains/cosmos_chain.lua --set validators=100 --set block_bytes=1000000
--   weft run scenarios/chains/cosmos_chain.lua --set offline=2 --set latency=none
local p = weft.params {
  validators = 20,
  latency = "aws",       -- "aws": round-robin over the 21 AWS regions; "none": one datacenter
  block_bytes = 100000,  -- payload per block (header and last commit are added)
  offline = 0,           -- validators 1..offline are cut from the network for the whole run
  votes = "per-hop",
  ["end"] = "60s",
}

local net = weft.network {}
local regions = {}
if p.latency == "none" then
  regions = { { region = "us-east-1", count = p.validators } }
elseif p.latency ~= "aws" then
  error("latency = '" .. p.latency .. "': expected aws or none")
end
local offline = {}
for i = 1, p.offline do offline[i] = { validator = i, from = "0s" } end

weft.chain {
  network = net,
  validators = p.validators,
  regions = regions,
  block_bytes = p.block_bytes,
  offline = offline,
  votes = p.votes,
}

weft.run { end_time = p["end"] }
