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
  const char *name; /* its name, which prefixes the series about it (NULL: none) */
  wf_lpid full_first; /* full node i is LP full_first + i */
  uint32_t full_nodes;
  /* The least price per gas (nano-units) a node accepts now: what a client's query of the fee
   * market answers (0: no market; NULL: the chain cannot say). Its clients are on its rank, so
   * they may call it from their handlers. */
  uint64_t (*base_price)(const void *chain);
  const void *self;
} wf_chain_info;

void wf_chain_info_of(const void *handle, wf_chain_info *out);

/* Defines a metric about one chain (define is wf_counter_define, wf_gauge_define or
 * wf_hist_define): named "<chain>_<what>" and described "<chain>: <description>", so that the
 * chains of a run keep series of their own; just "<what>" when chain is NULL or empty. */
wf_metric wf_chain_metric(wf_engine *eng, const char *chain,
                          wf_metric (*define)(wf_engine *, const char *, const char *,
                                              const char *, wf_error *),
                          const char *what, const char *units, const char *description,
                          wf_error *err);

/* Declares a headline figure about one chain (wf_summary_define): named "<chain>_<what>" and
 * described "<chain>: <description>" like its metrics. */
int wf_chain_summary(wf_engine *eng, const char *chain, const char *what,
                     const wf_summary_spec *spec, wf_error *err);

#endif
