-- One node broadcasts messages over a CometBFT-style peer graph of nodes spread over the 21 AWS
-- regions; every node floods what it hears to its peers (per-hop) or the delivery times are
-- computed from the graph (aggregate). The report shows how long a message takes to reach the
-- nodes, what the wire carries and, with a partition, what a cut does.
--
--   weft run scenarios/network/broadcast.lua --report
--   weft run scenarios/network/broadcast.lua --set mode=aggregate --set nodes=10000 --report
--   weft run scenarios/network/broadcast.lua --set partition=eu --report
local p = weft.params {
  nodes = 8,              -- spread round-robin over the regions
  bytes = 1048576,        -- size of each broadcast (a 1 MiB block)
  rate = 0.5,             -- broadcasts per second (Poisson)
  messages = 20,          -- broadcasts in all
  mode = "per-hop",       -- or "aggregate"
  bandwidth = 1e9,        -- each node's up and down link, bit/s
  partition = "none",     -- or a region prefix ("eu", "us", "ap"): those regions are cut off
                          -- from the rest for the middle third of the run
  duration = "60s",
}

local net = weft.network {
  same_region_rtt = "0.25ms",
  partition_mode = "buffer",
}

local nodes = weft.gossip {
  network = net,
  nodes = p.nodes,
  bandwidth = p.bandwidth,
  mode = p.mode,
  bytes = p.bytes,
  rate = p.rate,
  messages = p.messages,
  class = "broadcast",
}

if p.partition ~= "none" then
  local aws = { "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
    "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1",
    "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2" }
  local side = {}
  for _, r in ipairs(aws) do
    if r:sub(1, #p.partition) == p.partition then side[#side + 1] = r end
  end
  assert(#side > 0, "partition: no region starts with '" .. p.partition .. "'")
  local d = weft.duration(p.duration)
  weft.partition { network = net, from = d / 3, to = 2 * d / 3, regions = side }
end

print(("broadcast: %d nodes, %d x %d bytes, %s"):format(nodes.count, p.messages, p.bytes, p.mode))
weft.run { end_time = p.duration, seed = 1 }
