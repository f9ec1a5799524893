-- The quick start: three CometBFT chains under load, one of them with a validator that drops
-- off the network for a while. The report shows each chain's blocks, the transactions per
-- second, their latency and the validators' traffic.
--
--   weft run scenarios/quickstart.lua --report
--   weft run scenarios/quickstart.lua --set rate=200 --report      # 4x the load
--   weft run scenarios/quickstart.lua --set duration=5min --seed 7
local p = weft.params {
  rate = 50,            -- tx/s per client connection
  duration = "60s",
}

local net = weft.network {}

-- A hub of 12 validators spread over the 21 AWS regions, loaded by 4 connections.
local hub = weft.chain { network = net, name = "hub", validators = 12 }
weft.load { chain = hub, connections = 4, rate = p.rate }

-- An app chain in one datacenter with an EIP-1559 fee market and a block gas limit its load
-- fills: the base price climbs 1/8 per full block until it passes what clients pay (20), then
-- CheckTx refuses them and the price settles where the blocks are half full.
local app = weft.chain {
  network = net,
  name = "app",
  validators = 8,
  regions = { { region = "eu-west-1", count = 8 } },
  fee_market = "eip1559",
  max_block_gas = 6000000,
}
weft.load { chain = app, connections = 2, rate = p.rate, price = 20,
            mix = { { type = "bank_send", bytes = 250, gas = 70000 } } }

-- A small chain whose validator 2 is cut off from 20 s to 40 s: its heights as proposer need
-- a second round while it is away.
local edge = weft.chain {
  network = net,
  name = "edge",
  validators = 6,
  offline = { { validator = 2, from = "20s", to = "40s" } },
}
weft.load { chain = edge, connections = 2, rate = p.rate / 2 }

print(("quickstart: 3 chains (12, 8 and 6 validators), %g tx/s per connection, %s"):format(
  p.rate, p.duration))

weft.run {
  end_time = p.duration, sample = weft.duration(p.duration) / 120, seed = 42,
  description = "Three CometBFT chains under load for a minute: hub, 12 validators over the 21 " ..
    "AWS regions; app, 8 in one datacenter with an EIP-1559 fee market its load pushes past " ..
    "what clients pay; edge, 6 validators, one of them offline from 20 s to 40 s.",
}
