/* Gossip: the peer graph, the node LP (per-hop flooding with duplicate suppression, or the
 * aggregate mode's computed deliveries) and weft.gossip{...}. */
#include "gossip.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Message ids a node remembers for duplicate suppression: a broadcast more than this many ids
 * behind the newest one a node has seen counts as stale (counted, not delivered). */
#define SEEN_WINDOW 128
#define NO_NODE UINT32_MAX

enum { G_BROADCAST = 1, G_MSG = 2, G_AGGREGATE = 3, G_BRIDGED = 4 };

struct gossip_cfg;

/* A bridge (weft.bridge): a gateway node of one network hands every message it sees for the
 * first time to a dedicated link, whose far end (the other network's gateway) floods it there.
 * Only the gateway's LP touches `busy`. */
typedef struct gossip_bridge {
  wf_net_link link;
  wf_time busy; /* when the link is next free */
  struct gossip_cfg *to;
  uint32_t from_node, to_node;
  wf_metric m_msgs, m_bytes;
  struct gossip_bridge *next; /* the network's other outgoing bridges */
} gossip_bridge;

typedef struct gossip_cfg {
  const wf_net *net;
  gossip_bridge *out; /* bridges leaving this network */
  uint32_t bridged_in; /* bridges arriving at it */
  uint32_t gateway;    /* the node where a bridge arrives (it starts floods), or NO_NODE */
  /* The whole graph while the nodes start; then (drop_graph) only its offsets, which give
   * degrees, except on the rank of an aggregate origin (the broadcaster, or a bridge's
   * gateway): per-hop nodes keep their peers in their own memory, so a rank holds the rows of
   * the nodes it owns. */
  wf_peer_graph g;
  int origin_here; /* an aggregate origin is on this rank: it keeps the graph */
  wf_lpid first;
  uint32_t origin; /* node index in the builder's nodes */
  uint32_t bytes, messages;
  double rate; /* broadcasts per second */
  int periodic; /* every 1 / rate exactly, rather than Poisson */
  wf_time start;
  int aggregate;
  unsigned cls;
  wf_metric h_delivery, m_delivered, m_stale;
  wf_record *deliveries; /* NULL unless record_deliveries */
  /* Aggregate mode's scratch: the origin's Dijkstra (one LP uses it, on one rank, which
   * allocates it in its init: no other rank pays for it). */
  wf_time *dist;
  wf_time *busy; /* when each node's uplink is free of the broadcasts computed so far */
  uint32_t *parent, *hops, *children, *heap, *pos;
  wf_lp_type type;
} gossip_cfg;

typedef struct gossip_node {
  wf_net_port port;
  wf_net_conn *conns; /* per-hop: one per peer, in forwarding order (allocated in init) */
  uint32_t *peers;    /* per-hop: this node's row of the graph, copied in init */
  uint32_t sent; /* broadcasts made (origin) */
  uint32_t newest;
  uint32_t seen[SEEN_WINDOW]; /* id + 1 of the messages seen, by id mod the window */
} gossip_node;

typedef struct gossip_msg {
  wf_time created;
  uint32_t id, hops;
  uint32_t copies; /* aggregate: copies the per-hop flood would have brought this node */
  uint32_t pad;
} gossip_msg;

typedef struct delivery_row {
  uint32_t msg, node;
  uint64_t t_ns, delay_ns;
  uint32_t hops, lp; /* node: its index in its network; lp: its LP id, unique in the world */
} delivery_row;

static const wf_column delivery_cols[] = {
    WF_COLUMN(delivery_row, msg, WF_COL_U32, NULL),
    WF_COLUMN(delivery_row, node, WF_COL_U32, NULL),
    WF_COLUMN(delivery_row, t_ns, WF_COL_U64, "ns"),
    WF_COLUMN(delivery_row, delay_ns, WF_COL_U64, "ns"),
    WF_COLUMN(delivery_row, hops, WF_COL_U32, NULL),
    WF_COLUMN(delivery_row, lp, WF_COL_U32, NULL),
};

/* ---- the peer graph ---- */

static int linked(const uint32_t *nbr, uint32_t deg, uint32_t v) {
  for (uint32_t i = 0; i < deg; i++)
    if (nbr[i] == v) return 1;
  return 0;
}

static void shuffle(uint32_t *a, uint32_t n, wf_rng *r) {
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = (uint32_t)wf_rng_below(r, i), t = a[i - 1];
    a[i - 1] = a[j], a[j] = t;
  }
}

/* Node u dials v when v is not u, not yet a peer and has an inbound slot. */
static int dial(uint32_t u, uint32_t v, uint32_t *nbr, uint32_t *deg, uint32_t *in,
                uint32_t maxdeg, uint32_t inbound) {
  if (v == u || in[v] >= inbound || linked(nbr + (size_t)u * maxdeg, deg[u], v)) return 0;
  nbr[(size_t)u * maxdeg + deg[u]++] = v;
  nbr[(size_t)v * maxdeg + deg[v]++] = u;
  in[v]++;
  return 1;
}

int wf_peer_graph_build(wf_peer_graph *g, uint32_t n, uint32_t outbound, uint32_t inbound,
                        uint64_t seed, wf_error *err) {
  memset(g, 0, sizeof *g);
  uint32_t maxdeg = outbound + inbound;
  uint32_t *nbr = malloc((size_t)n * maxdeg * sizeof *nbr), *deg = calloc(n, sizeof *deg);
  uint32_t *in = calloc(n, sizeof *in), *order = malloc(n * sizeof *order);
  g->off = malloc(((size_t)n + 1) * sizeof *g->off);
  int rc = nbr && deg && in && order && g->off ? 0 : wf_error_set(err, "out of memory");
  wf_rng r = wf_rng_stream(seed, 0x9055);
  for (uint32_t i = 0; rc == 0 && i < n; i++) order[i] = i;
  if (rc == 0) shuffle(order, n, &r);
  /* As CometBFT's PEX: every node knows the others' addresses (from the seeds) and dials at
   * random until it has its outbound peers; a node refuses dials once its inbound is full. */
  for (uint32_t k = 0; rc == 0 && k < n; k++) {
    uint32_t u = order[k], out = 0;
    for (uint32_t tries = 0; out < outbound && tries < 64 * outbound; tries++)
      out += (uint32_t)dial(u, (uint32_t)wf_rng_below(&r, n), nbr, deg, in, maxdeg, inbound);
    /* Small or crowded worlds: take the remaining candidates in a random rotation. */
    uint32_t at = n ? (uint32_t)wf_rng_below(&r, n) : 0;
    for (uint32_t i = 0; out < outbound && i < n; i++)
      out += (uint32_t)dial(u, (at + i) % n, nbr, deg, in, maxdeg, inbound);
  }
  size_t edges = 0;
  for (uint32_t u = 0; rc == 0 && u < n; u++) edges += deg[u];
  g->adj = rc == 0 ? malloc((edges ? edges : 1) * sizeof *g->adj) : NULL;
  if (rc == 0 && !g->adj) rc = wf_error_set(err, "out of memory");
  g->n = n;
  for (uint32_t u = 0, at = 0; rc == 0 && u <= n; u++) {
    g->off[u] = at;
    if (u == n) break;
    memcpy(g->adj + at, nbr + (size_t)u * maxdeg, deg[u] * sizeof *g->adj);
    shuffle(g->adj + at, deg[u], &r); /* the order this node forwards in */
    at += deg[u];
  }
  free(nbr), free(deg), free(in), free(order);
  if (rc == 0) {
    uint32_t c = wf_peer_graph_components(g);
    if (c > 1)
      rc = wf_error_set(err, "the peer graph of %u nodes is not connected (%u components): "
                             "raise outbound or inbound",
                        n, c);
  }
  if (rc) wf_peer_graph_free(g);
  return rc;
}

void wf_peer_graph_free(wf_peer_graph *g) {
  free(g->off), free(g->adj);
  memset(g, 0, sizeof *g);
}

uint32_t wf_peer_graph_components(const wf_peer_graph *g) {
  uint32_t *mark = calloc(g->n ? g->n : 1, sizeof *mark), *stack = malloc((g->n + 1) * 4);
  uint32_t comps = 0;
  for (uint32_t s = 0; mark && stack && s < g->n; s++) {
    if (mark[s]) continue;
    comps++;
    uint32_t top = 0;
    stack[top++] = s;
    mark[s] = 1;
    while (top) {
      uint32_t u = stack[--top];
      for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++)
        if (!mark[g->adj[e]]) mark[g->adj[e]] = 1, stack[top++] = g->adj[e];
    }
  }
  free(mark), free(stack);
  return comps;
}

/* ---- the node ---- */

static uint32_t node_index(const gossip_cfg *c, const wf_lp *lp) {
  return wf_lp_id(lp) - c->first;
}

/* Marks id seen; returns 1 the first time, 0 for a duplicate or a stale id. */
static int first_sight(wf_lp *lp, const gossip_cfg *c, gossip_node *s, uint32_t id) {
  uint32_t *slot = &s->seen[id % SEEN_WINDOW];
  if (*slot == id + 1) return 0;
  if (*slot > id + 1 || (s->newest >= SEEN_WINDOW && id <= s->newest - SEEN_WINDOW)) {
    wf_count(lp, c->m_stale, 1);
    return 0;
  }
  *slot = id + 1;
  if (id > s->newest) s->newest = id;
  return 1;
}

static void delivered(wf_lp *lp, const gossip_cfg *c, const gossip_msg *m) {
  wf_time delay = wf_now(lp) - m->created;
  wf_hist_add(lp, c->h_delivery, delay);
  wf_count(lp, c->m_delivered, 1);
  if (c->deliveries) {
    delivery_row row = {m->id, node_index(c, lp), wf_now(lp), delay, m->hops, wf_lp_id(lp)};
    wf_record_append(lp, c->deliveries, &row);
  }
}

/* Per-hop: forward to every peer but the one it came from (NO_NODE: from nobody). */
static void flood(wf_lp *lp, const gossip_cfg *c, gossip_node *s, const gossip_msg *m,
                  uint32_t from) {
  uint32_t u = node_index(c, lp);
  gossip_msg fwd = *m;
  fwd.hops++;
  for (uint32_t e = 0; e < c->g.off[u + 1] - c->g.off[u]; e++) {
    uint32_t v = s->peers[e];
    if (v == from) continue;
    wf_net_send(lp, c->net, &s->port, &s->conns[e], c->first + v, c->bytes, G_MSG, c->cls, &fwd,
                sizeof fwd);
  }
}

/* A gateway hands a message it sees for the first time to each bridge leaving from it. */
static void cross_bridges(wf_lp *lp, const gossip_cfg *c, const gossip_msg *m) {
  uint32_t u = node_index(c, lp);
  for (gossip_bridge *b = c->out; b; b = b->next) {
    if (b->from_node != u) continue;
    gossip_msg fwd = *m;
    fwd.hops++;
    fwd.copies = 0;
    wf_time at = wf_net_link_transit(&b->link, &b->busy, c->bytes, wf_now(lp));
    wf_send(lp, b->to->first + b->to_node, at - wf_now(lp), G_BRIDGED, &fwd, sizeof fwd);
    wf_count(lp, b->m_msgs, 1);
    wf_count(lp, b->m_bytes, c->bytes);
  }
}

/* ---- the aggregate mode: an indexed binary heap on dist, for the origin's Dijkstra ---- */

static int before(const gossip_cfg *c, uint32_t a, uint32_t b) {
  return c->dist[a] < c->dist[b] || (c->dist[a] == c->dist[b] && a < b);
}

static void heap_set(gossip_cfg *c, uint32_t i, uint32_t v) {
  c->heap[i] = v;
  c->pos[v] = i;
}

static void heap_up(gossip_cfg *c, uint32_t i) {
  uint32_t v = c->heap[i];
  for (; i && before(c, v, c->heap[(i - 1) / 2]); i = (i - 1) / 2) heap_set(c, i, c->heap[(i - 1) / 2]);
  heap_set(c, i, v);
}

static uint32_t heap_pop(gossip_cfg *c, uint32_t *n) {
  uint32_t top = c->heap[0], v = c->heap[--*n], i = 0;
  c->pos[top] = NO_NODE;
  for (;;) {
    uint32_t k = 2 * i + 1;
    if (k >= *n) break;
    if (k + 1 < *n && before(c, c->heap[k + 1], c->heap[k])) k++;
    if (!before(c, c->heap[k], v)) break;
    heap_set(c, i, c->heap[k]);
    i = k;
  }
  if (*n) heap_set(c, i, v);
  return top;
}

/* Relaxes u's edges as u's per-hop flood would send them: in its forwarding order, skipping
 * its parent, each transmission starting when the previous one leaves the uplink, the first
 * once the copies of earlier broadcasts have left it (the origin's own record of what it
 * computed: it reads no other node's state). Downlinks are taken as idle: the copies of other
 * broadcasts that a per-hop flood queues there are not modelled (protocols/README.md gives
 * the error this makes). */
static void relax(gossip_cfg *c, uint32_t u, wf_time t0, uint32_t *n) {
  const wf_net *net = c->net;
  uint32_t nu = wf_net_node_of(net, c->first + u);
  wf_time up = wf_net_ser_up(net, nu, c->bytes), s = t0 > c->busy[u] ? t0 : c->busy[u];
  for (uint32_t e = c->g.off[u]; e < c->g.off[u + 1]; e++) {
    uint32_t v = c->g.adj[e];
    if (v == c->parent[u]) continue;
    uint32_t nv = wf_net_node_of(net, c->first + v);
    wf_time start = wf_net_cut_release(net, nu, nv, s);
    if (start == WF_TIME_MAX) continue;
    if (start == s) s += up; /* a held message leaves the uplink to the others */
    wf_time t = wf_net_path(net, nu, nv, c->bytes, start, 0);
    if (t >= c->dist[v]) continue;
    c->dist[v] = t;
    c->parent[v] = u;
    c->hops[v] = c->hops[u] + 1;
    if (c->pos[v] == NO_NODE) heap_set(c, (*n)++, v);
    heap_up(c, c->pos[v]);
  }
  c->busy[u] = s;
}

/* The deliveries of a message that node o (the origin, or a bridge's gateway) starts now. */
static void aggregate(wf_lp *lp, gossip_cfg *c, gossip_node *s, const gossip_msg *m, uint32_t o) {
  uint32_t n = c->g.n, hn = 0;
  for (uint32_t v = 0; v < n; v++)
    c->dist[v] = WF_TIME_MAX, c->parent[v] = c->pos[v] = NO_NODE, c->children[v] = 0;
  c->dist[o] = s->port.up_free > wf_now(lp) ? s->port.up_free : wf_now(lp);
  c->hops[o] = m->hops;
  heap_set(c, hn++, o);
  while (hn) {
    uint32_t u = heap_pop(c, &hn);
    relax(c, u, c->dist[u], &hn);
  }
  for (uint32_t v = 0; v < n; v++)
    if (c->parent[v] != NO_NODE) c->children[c->parent[v]]++;
  for (uint32_t v = 0; v < n; v++) {
    if (v == o || c->dist[v] == WF_TIME_MAX) continue;
    uint32_t deg = c->g.off[v + 1] - c->g.off[v];
    gossip_msg d = {m->created, m->id, c->hops[v], deg - c->children[v], 0};
    wf_send(lp, c->first + v, c->dist[v] - wf_now(lp), G_AGGREGATE, &d, sizeof d);
  }
  uint32_t deg = c->g.off[o + 1] - c->g.off[o];
  wf_net_account(lp, c->net, &s->port, deg, c->bytes, deg - c->children[o],
                 c->dist[o] + deg * wf_net_ser_up(c->net, s->port.node, c->bytes));
}

/* An aggregate delivery: count what this node's per-hop flood would have put on the wire. */
static void aggregate_arrival(wf_lp *lp, const gossip_cfg *c, gossip_node *s, const gossip_msg *m) {
  uint32_t u = node_index(c, lp), fwd = c->g.off[u + 1] - c->g.off[u] - 1;
  wf_time busy = fwd * wf_net_ser_up(c->net, s->port.node, c->bytes);
  wf_net_account(lp, c->net, &s->port, fwd, c->bytes, m->copies, wf_now(lp) + busy);
}

static void schedule_broadcast(wf_lp *lp, const gossip_cfg *c, gossip_node *s) {
  if (s->sent >= c->messages || c->rate <= 0) return;
  wf_time gap = (wf_time)((c->periodic ? 1e9 / c->rate : wf_rng_exponential(wf_lp_rng(lp), 1e9 / c->rate)) + 0.5);
  wf_send(lp, wf_lp_id(lp), s->sent == 0 ? c->start : gap, G_BROADCAST, NULL, 0);
}

static void broadcast(wf_lp *lp, gossip_cfg *c, gossip_node *s) {
  gossip_msg m = {wf_now(lp), s->sent++, 0, 0, 0};
  first_sight(lp, c, s, m.id);
  if (c->aggregate)
    aggregate(lp, c, s, &m, c->origin);
  else
    flood(lp, c, s, &m, NO_NODE);
  cross_bridges(lp, c, &m);
  schedule_broadcast(lp, c, s);
}

/* The origin's Dijkstra scratch, in the aggregate mode: n entries per array. */
static int alloc_scratch(wf_lp *lp, gossip_cfg *c, uint32_t n) {
  c->dist = wf_lp_alloc(lp, n * sizeof *c->dist);
  c->busy = wf_lp_alloc(lp, n * sizeof *c->busy);
  c->parent = wf_lp_alloc(lp, n * sizeof(uint32_t));
  c->hops = wf_lp_alloc(lp, n * sizeof(uint32_t));
  c->children = wf_lp_alloc(lp, n * sizeof(uint32_t));
  c->heap = wf_lp_alloc(lp, n * sizeof(uint32_t));
  c->pos = wf_lp_alloc(lp, n * sizeof(uint32_t));
  return c->dist && c->busy && c->parent && c->hops && c->children && c->heap && c->pos ? 0 : -1;
}

/* Per-node memory is allocated here, so only the rank that owns a node pays for it. */
static void gossip_init(wf_lp *lp, void *state, const void *cfg) {
  gossip_cfg *c = (gossip_cfg *)cfg; /* the origin alone sets its scratch */
  gossip_node *s = state;
  uint32_t u = node_index(c, lp), deg = c->g.off[u + 1] - c->g.off[u];
  wf_net_port_init(lp, c->net, &s->port);
  if (!c->aggregate) {
    s->conns = wf_lp_alloc(lp, deg * (sizeof *s->conns + sizeof *s->peers));
    if (!s->conns) {
      wf_lp_fail(lp, "gossip: out of memory for the connections to %u peers", deg);
      return;
    }
    s->peers = (uint32_t *)(s->conns + deg);
    memcpy(s->peers, c->g.adj + c->g.off[u], deg * sizeof *s->peers);
  }
  if (u != c->origin && u != c->gateway) return;
  c->origin_here = 1;
  if (c->aggregate && alloc_scratch(lp, c, c->g.n) != 0) {
    wf_lp_fail(lp, "gossip: out of memory for the aggregate mode's scratch (%u nodes)", c->g.n);
    return;
  }
  if (u == c->origin) schedule_broadcast(lp, c, s);
}

static void gossip_handle(wf_lp *lp, void *state, const wf_event *ev) {
  gossip_cfg *c = (gossip_cfg *)wf_lp_cfg(lp);
  gossip_node *s = state;
  gossip_msg m;
  if (ev->kind == G_BROADCAST) {
    broadcast(lp, c, s);
  } else if (ev->kind == G_AGGREGATE) {
    memcpy(&m, ev->data, sizeof m);
    if (!first_sight(lp, c, s, m.id)) return;
    delivered(lp, c, &m);
    aggregate_arrival(lp, c, s, &m);
    cross_bridges(lp, c, &m);
  } else if (ev->kind == G_BRIDGED) { /* this node is a bridge's far end: it starts a flood */
    memcpy(&m, ev->data, sizeof m);
    if (!first_sight(lp, c, s, m.id)) return;
    delivered(lp, c, &m);
    if (c->aggregate)
      aggregate(lp, c, s, &m, node_index(c, lp));
    else
      flood(lp, c, s, &m, NO_NODE);
    cross_bridges(lp, c, &m);
  } else if (wf_net_owns(ev)) {
    wf_net_msg msg;
    if (!wf_net_receive(lp, c->net, &s->port, ev, &msg)) return;
    memcpy(&m, msg.data, sizeof m);
    if (!first_sight(lp, c, s, m.id)) return;
    delivered(lp, c, &m);
    flood(lp, c, s, &m, msg.src - c->first);
    cross_bridges(lp, c, &m);
  } else {
    wf_lp_fail(lp, "gossip: unknown event kind %u", ev->kind);
  }
}

static void gossip_finish(wf_lp *lp, void *state) {
  const gossip_cfg *c = wf_lp_cfg(lp);
  wf_net_finish(lp, c->net, &((gossip_node *)state)->port);
}

static const wf_lp_type gossip_type = {
    .name = "gossip",
    .state_size = sizeof(gossip_node),
    .init = gossip_init,
    .handle = gossip_handle,
    .finish = gossip_finish,
    /* Nodes send to other groups only over bridges (weft.bridge lowers this to the link's
     * latency); within a network the transport's least delay (min_delay) bounds them. */
    .min_delay_cross = WF_TIME_MAX,
};

/* ---- weft.gossip{...} ---- */

static const wf_arg_spec gossip_args[] = {
    {"network", WF_ARG_HANDLE, NULL, 1, 0, "the network the nodes join", .kind = "network"},
    {"nodes", WF_ARG_INT, "100", 1, 1e8,
     "number of nodes, spread round-robin over the table's regions (when 'regions' is empty)"},
    {"regions", WF_ARG_LIST, "{}", 1, 0, "where the nodes are: { {region=, count=}, ... }",
     .elem = WF_ARG_RECORD, .fields = wf_net_region_fields, .nfields = 3},
    {"bandwidth", WF_ARG_NUM, "1e9", 1, 1e15,
     "each node's uplink, bit/s (CometBFT's QA network caps nodes at 1 Gbit/s)"},
    {"downlink", WF_ARG_NUM, "0", 0, 1e15, "each node's downlink, bit/s (0: as the uplink)"},
    {"outbound", WF_ARG_INT, "10", 1, 1000, "peers each node dials (CometBFT: 10)"},
    {"inbound", WF_ARG_INT, "40", 0, 1000, "inbound peers each node accepts (CometBFT: 40)"},
    {"graph_seed", WF_ARG_INT, "1", 0, 9.2e18, "seed of the peer graph (the topology)"},
    {"mode", WF_ARG_STR, "per-hop", 1, 0,
     "per-hop (every copy crosses the transport) or aggregate (deliveries computed)"},
    {"origin", WF_ARG_INT, "1", 1, 1e8, "the node that broadcasts (numbered from 1)"},
    {"bytes", WF_ARG_INT, "1024", 0, 4294967295.0, "size of each broadcast message"},
    {"rate", WF_ARG_NUM, "1", 0, 1e9, "broadcasts per second (Poisson; 0: none)"},
    {"periodic", WF_ARG_BOOL, "false", 1, 0, "broadcast every 1/rate exactly instead of at Poisson times"},
    {"messages", WF_ARG_INT, "10", 0, 4294967295.0, "broadcasts in all"},
    {"start", WF_ARG_DURATION, "0", 0, 1.8e10, "time of the first broadcast"},
    {"class", WF_ARG_STR, "gossip", 1, 0, "message class (the transport's delay histogram)"},
    {"record_deliveries", WF_ARG_BOOL, "false", 1, 0,
     "a row per delivery in /records/gossip_deliveries (small runs)"},
    {"group", WF_ARG_BOOL, "false", 1, 0,
     "keep all nodes on one MPI rank: runs synchronise at the bridges' latency, not a hop's"},
    {"weight", WF_ARG_NUM, "1", 1e-9, 1e9,
     "load weight of each node for placement on ranks (a node with 5x the traffic: 5)"},
};

/* Once this rank's nodes have started, the rows of the graph are needed only by the aggregate
 * origin. */
static void drop_graph(wf_engine *eng, void *ud) {
  gossip_cfg *c = ud;
  if (c->aggregate && c->origin_here) return;
  wf_engine_release(eng, c->g.adj);
  c->g.adj = NULL;
}

int wf_peer_graph_keep(wf_engine *eng, wf_peer_graph *g, wf_peer_graph *kept, wf_error *err) {
  uint32_t *off = wf_engine_alloc(eng, ((size_t)g->n + 1) * sizeof *off);
  uint32_t *adj = wf_engine_alloc(eng, ((size_t)g->off[g->n] + 1) * sizeof *adj);
  if (off && adj) {
    memcpy(off, g->off, ((size_t)g->n + 1) * sizeof *off);
    memcpy(adj, g->adj, (size_t)g->off[g->n] * sizeof *adj);
  }
  *kept = (wf_peer_graph){g->n, off, adj};
  wf_peer_graph_free(g);
  return off && adj ? 0 : wf_error_set(err, "out of memory");
}

static int define_outputs(wf_engine *eng, gossip_cfg *c, const wf_args *a, wf_error *err) {
  c->h_delivery = wf_hist_define(eng, "gossip_delivery", "ns",
                                 "time from a broadcast to its first delivery at each node", err);
  c->m_delivered = wf_counter_define(eng, "gossip_delivered", "deliveries",
                                     "first deliveries of broadcasts", err);
  c->m_stale = wf_counter_define(eng, "gossip_stale", "messages",
                                 "copies older than the duplicate window, ignored", err);
  if (c->h_delivery == WF_METRIC_NONE || c->m_delivered == WF_METRIC_NONE ||
      c->m_stale == WF_METRIC_NONE)
    return -1;
  if (wf_arg_bool(a, "record_deliveries")) {
    c->deliveries = wf_record_define(eng, "gossip_deliveries", delivery_cols,
                                     sizeof delivery_cols / sizeof *delivery_cols,
                                     sizeof(delivery_row), "one row per first delivery", err);
    if (!c->deliveries) return -1;
  }
  int cls = wf_net_class((wf_net *)c->net, wf_arg_str(a, "class"), err);
  if (cls < 0) return -1;
  c->cls = (unsigned)cls;
  return 0;
}

static int gossip_setup(wf_engine *eng, gossip_cfg *c, const wf_args *a, uint32_t n,
                        wf_error *err) {
  const char *mode = wf_arg_str(a, "mode");
  if (strcmp(mode, "per-hop") && strcmp(mode, "aggregate"))
    return wf_error_set(err, "'mode' = '%s': expected per-hop or aggregate", mode);
  c->aggregate = mode[0] == 'a';
  c->origin = (uint32_t)wf_arg_int(a, "origin") - 1;
  if (c->origin >= n)
    return wf_error_set(err, "'origin' = %u: there are %u nodes", c->origin + 1, n);
  c->bytes = (uint32_t)wf_arg_int(a, "bytes");
  c->messages = (uint32_t)wf_arg_int(a, "messages");
  c->rate = wf_arg_num(a, "rate");
  c->periodic = wf_arg_bool(a, "periodic");
  c->start = wf_arg_duration(a, "start");
  wf_peer_graph g;
  if (wf_peer_graph_build(&g, n, (uint32_t)wf_arg_int(a, "outbound"),
                          (uint32_t)wf_arg_int(a, "inbound"), (uint64_t)wf_arg_int(a, "graph_seed"),
                          err) != 0 ||
      wf_peer_graph_keep(eng, &g, &c->g, err) != 0 || wf_engine_after_init(eng, drop_graph, c, err) != 0)
    return -1;
  return define_outputs(eng, c, a, err);
}

static int gossip_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  gossip_cfg *c = wf_engine_alloc(eng, sizeof *c);
  if (!c) return wf_error_set(err, "out of memory");
  c->net = wf_arg(a, "network")->h;
  c->gateway = NO_NODE;
  uint16_t *region = NULL;
  double *up = NULL, *down = NULL;
  uint32_t n = wf_net_place_nodes(a, "nodes", c->net, &region, &up, &down, err);
  int rc = n ? gossip_setup(eng, c, a, n, err) : -1;
  if (rc == 0) {
    c->type = gossip_type;
    c->type.min_delay = wf_net_min_delay(c->net);
    uint32_t group = wf_arg_bool(a, "group") ? wf_engine_new_group(eng) : 0;
    if (wf_arg_bool(a, "group") && !group) {
      wf_error_set(err, "'group': no group ids left");
      rc = -1;
    } else {
      c->first = wf_engine_add_lps(eng, &c->type, n, c, group, err);
      rc = c->first == WF_LP_NONE ? -1 : 0;
    }
    if (rc == 0 && wf_arg_num(a, "weight") != 1)
      rc = wf_engine_lp_weight(eng, c->first, n, wf_arg_num(a, "weight"), err);
  }
  if (rc == 0 && wf_net_attach((wf_net *)c->net, c->first, n, region, up, down, err) == UINT32_MAX)
    rc = -1;
  free(region), free(up), free(down);
  if (rc == 0) *out = (wf_built){c->first, n, c, "gossip"};
  return rc;
}

/* ---- weft.bridge{...} ---- */

static const wf_arg_spec bridge_args[] = {
    {"from", WF_ARG_HANDLE, NULL, 1, 0, "the network whose gateway forwards (a weft.gossip{...})",
     .kind = "gossip"},
    {"to", WF_ARG_HANDLE, NULL, 1, 0, "the network that floods what arrives (a weft.gossip{...})",
     .kind = "gossip"},
    {"from_node", WF_ARG_INT, "1", 1, 1e8, "the gateway in 'from' (numbered from 1)"},
    {"to_node", WF_ARG_INT, "1", 1, 1e8, "the gateway in 'to', where the flood starts"},
    {"latency", WF_ARG_DURATION, NULL, 1e-9, 1.8e10, "one-way latency of the link"},
    {"bandwidth", WF_ARG_NUM, "1e9", 1, 1e15, "the link's bandwidth, bit/s"},
};

static int bridge_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  gossip_cfg *from = wf_arg(a, "from")->h, *to = wf_arg(a, "to")->h;
  uint32_t fn = (uint32_t)wf_arg_int(a, "from_node") - 1, tn = (uint32_t)wf_arg_int(a, "to_node") - 1;
  wf_time lat = wf_arg_duration(a, "latency");
  if (from == to) return wf_error_set(err, "'from' and 'to' are the same network");
  if (fn >= from->g.n)
    return wf_error_set(err, "'from_node' = %u: 'from' has %u nodes", fn + 1, from->g.n);
  if (tn >= to->g.n) return wf_error_set(err, "'to_node' = %u: 'to' has %u nodes", tn + 1, to->g.n);
  /* Message ids stay those of the broadcasting network, so a network has one source of them. */
  if (to->rate > 0 && to->messages > 0)
    return wf_error_set(err, "'to' broadcasts messages of its own (rate %g, %u messages): a "
                        "network a bridge reaches carries only what crosses it (set its "
                        "messages = 0)", to->rate, to->messages);
  if (to->bridged_in)
    return wf_error_set(err, "'to' is already reached by a bridge: at most one per network");
  if (to->bytes != from->bytes)
    return wf_error_set(err, "'from' sends %u-byte messages and 'to' %u-byte ones: give both "
                        "networks the same 'bytes'", from->bytes, to->bytes);
  if (lat < from->type.min_delay)
    return wf_error_set(err, "'latency' = %llu ns is below the least one-way delay of 'from' "
                        "(%llu ns)", (unsigned long long)lat,
                        (unsigned long long)from->type.min_delay);
  gossip_bridge *b = wf_engine_alloc(eng, sizeof *b);
  if (!b) return wf_error_set(err, "out of memory");
  *b = (gossip_bridge){{lat, (uint64_t)wf_arg_num(a, "bandwidth")}, 0, to, fn, tn, 0, 0, from->out};
  b->m_msgs = wf_counter_define(eng, "bridge_messages", "messages",
                                "messages handed to bridges between networks", err);
  b->m_bytes = wf_counter_define(eng, "bridge_bytes", "bytes",
                                 "bytes handed to bridges between networks", err);
  if (b->m_msgs == WF_METRIC_NONE || b->m_bytes == WF_METRIC_NONE) return -1;
  from->out = b;
  to->bridged_in++;
  to->gateway = tn;
  /* The gateway now sends to another network, perhaps another group: its least such delay is
   * the link's latency. The type is this network's own copy and the run has not started. */
  if (lat < from->type.min_delay_cross) from->type.min_delay_cross = lat;
  *out = (wf_built){WF_LP_NONE, 0, NULL, NULL};
  return 0;
}

static const wf_builder gossip_builders[] = {
    {"gossip", "nodes on a network that flood broadcasts over a CometBFT-style peer graph",
     gossip_args, sizeof gossip_args / sizeof *gossip_args, gossip_build},
    {"bridge", "a dedicated link on which one gossip network's gateway forwards to another's",
     bridge_args, sizeof bridge_args / sizeof *bridge_args, bridge_build},
};

const wf_model wf_model_gossip = {"gossip", "gossip over a peer graph, per-hop or aggregate",
                                  gossip_builders, 2};
