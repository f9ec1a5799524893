/* Gossip over a peer graph built as CometBFT's p2p layer builds it (each node dials a number
 * of outbound peers and accepts a bounded number of inbound ones), with two fidelity modes:
 * per-hop flooding through the transport, and an aggregate mode that computes each node's
 * delivery time from the graph and the transport's path costs (protocols/README.md). */
#ifndef WF_GOSSIP_H
#define WF_GOSSIP_H

#include <stdint.h>

#include "../sim/net/net.h"

/* A peer graph in compressed rows: node u's peers are adj[off[u] .. off[u+1]), in the order u
 * forwards to them. */
typedef struct wf_peer_graph {
  uint32_t n;
  uint32_t *off, *adj;
} wf_peer_graph;

/* Builds the graph of n nodes: each dials up to `outbound` distinct peers chosen at random
 * among nodes with fewer than `inbound` inbound connections; deterministic per seed. Fails,
 * naming the number of components, when the graph is not connected. */
int wf_peer_graph_build(wf_peer_graph *g, uint32_t n, uint32_t outbound, uint32_t inbound,
                        uint64_t seed, wf_error *err);
void wf_peer_graph_free(wf_peer_graph *g);
/* Moves the graph into memory the engine owns (freed with it) as *kept, freeing g either way. */
int wf_peer_graph_keep(wf_engine *eng, wf_peer_graph *g, wf_peer_graph *kept, wf_error *err);
/* Connected components (1 for a connected graph). */
uint32_t wf_peer_graph_components(const wf_peer_graph *g);

extern const wf_model wf_model_gossip;

#endif
