-- Two gossip networks joined by one slow link: the world that shows what the partition-derived
-- lookahead buys on several ranks.
--
-- Network A (nodes over the 21 regions) broadcasts `messages` messages of `bytes` bytes,
-- one every 1/`rate` seconds (periodic, so that every window holds about the same work), from
-- its node 1. Its node 2 is a gateway: every message it receives goes
-- over a dedicated link (`latency`, `bandwidth`) to node 1 of network B, which floods it to
-- B's nodes. Each network is a group (group = true), so on 2 ranks each sits whole on one rank
-- and the ranks need to synchronise only as often as the link's latency allows, not at the
-- 0.125 ms of a same-region hop. Both networks carry the same messages, so the ranks are
-- evenly loaded.
--
--   weft run scenarios/bench/two_networks.lua --json                 # one rank
--   mpirun -np 2 weft run scenarios/bench/two_networks.lua --json    # two
--   tests/bench/mpi_speedup.sh                                       # both, with the ratio
local p = weft.params {
  nodes = 8,           -- per network
  bytes = 65536,
  rate = 10,           -- broadcasts per second
  messages = 60,
  latency = "100ms",   -- the link between the networks, one way
  bandwidth = 1e8,     -- bit/s
  mode = "per-hop",
  duration = "8s",
}

local net = weft.network {}
local a = weft.gossip {
  network = net, nodes = p.nodes, bytes = p.bytes, rate = p.rate, messages = p.messages, periodic = true,
  mode = p.mode, group = true, graph_seed = 1,
}
local b = weft.gossip {
  network = net, nodes = p.nodes, bytes = p.bytes, messages = 0,
  mode = p.mode, group = true, graph_seed = 2,
}
weft.bridge { from = a, to = b, from_node = 2, to_node = 1, latency = p.latency,
              bandwidth = p.bandwidth }

weft.run { end_time = p.duration }
