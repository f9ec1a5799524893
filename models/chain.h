/* CometBFT chains: weft.chain{...} (chain.c, models/README.md), and what other models (the
 * workloads that send transactions, relayers later) may know of a chain. */
#ifndef WF_CHAIN_H
#define WF_CHAIN_H

#include "../sim/model.h"
#include "../sim/net/net.h"

extern const wf_model wf_model_chain;

/* A chain as another model sees it, from the handle weft.chain{...} returns (kind "chain").
 * LPs that talk to a chain's validators join its group, so that the chain and its clients
 * stay on one rank and the run's windows are not bounded by their messages. */
typedef struct wf_chain_info {
  const wf_net *net;  /* the network its validators are attached to */
  wf_lpid first;      /* validator i is LP first + i */
  uint32_t validators;
  uint32_t group;     /* its engine group (also its id in /records) */
  uint64_t max_block_bytes, max_block_gas; /* what one block may hold (gas 0: no limit) */
} wf_chain_info;

void wf_chain_info_of(const void *handle, wf_chain_info *out);

#endif
