/* Transactions between clients and chains: what a workload sends a node and what the node
 * tells the client back. Both travel over the transport (wf_net_send) as messages of the
 * kinds below, so a client pays the network like everyone else. A chain (models/chain.c)
 * accepts WF_TX_SUBMIT at any of its validators; a client (models/workload.c) receives
 * WF_TX_RESULT. */
#ifndef WF_TX_H
#define WF_TX_H

#include <stdint.h>

#include "../sim/net/net.h"

/* Message kinds on the wire, below WF_NET_KIND_FIRST and above every chain-internal kind. */
enum { WF_TX_SUBMIT = 0x7000, WF_TX_RESULT = 0x7001 };

/* Transaction types a chain knows (its application: models/README.md gives each one's gas). */
typedef enum {
  WF_TX_BANK_SEND = 0,    /* a bank transfer */
  WF_TX_WASM_EXECUTE = 1, /* a CosmWasm contract call */
  WF_TX_INFERENCE = 2,    /* an AI inference call: its gas is declared by the client */
  WF_TX_NTYPES
} wf_tx_type;

/* What a client submits (inline in the message: at most WF_NET_PAYLOAD_MAX bytes). Prices
 * and fees are integers in nano-units of the chain's token (1e-9 token; a gas price of
 * 0.005 uatom is 5 here). */
typedef struct wf_tx {
  uint64_t id;         /* unique in the world: the client's LP id << 32 | its count */
  uint64_t price;      /* the most the client pays per unit of gas (its fee cap) */
  uint32_t bytes;      /* size on the wire and in the block */
  uint32_t gas_wanted; /* the gas limit: the fee is gas_wanted x the price charged */
  uint32_t gas_need;   /* the gas its execution uses; 0: the chain's table for its type */
  uint8_t type;        /* wf_tx_type */
  uint8_t pad[3];
} wf_tx;
_Static_assert(sizeof(wf_tx) <= WF_NET_PAYLOAD_MAX, "a transaction must fit in a message");

typedef enum {
  WF_TX_COMMITTED = 0, /* in a block, executed successfully */
  WF_TX_REJECTED = 1,  /* refused at CheckTx (mempool full, fee too low, duplicate) */
  WF_TX_FAILED = 2,    /* in a block, but out of gas: the fee is charged */
  WF_TX_DROPPED = 3,   /* the client gave up (fee cap below the base fee, by its policy) */
  WF_TX_PENDING = 4    /* no outcome by the end of the run */
} wf_tx_status;

/* What the node tells the client (inline). */
/* Why CheckTx refused a transaction (WF_TX_REJECTED). */
typedef enum {
  WF_TX_OK = 0,
  WF_TX_FULL = 1,      /* the node's mempool holds its maximum of transactions or bytes */
  WF_TX_FEE = 2,       /* its price is below the chain's minimum or current base gas price */
  WF_TX_DUPLICATE = 3, /* already in the node's cache of seen transactions */
  WF_TX_TOO_BIG = 4    /* larger than a block may hold, or its gas above the block's limit */
} wf_tx_reason;

typedef struct wf_tx_result {
  uint64_t id;
  uint64_t height; /* 0 unless committed or failed */
  uint64_t fee;    /* charged, nano-units */
  uint32_t gas_used;
  uint8_t status; /* wf_tx_status */
  uint8_t reason; /* wf_tx_reason, for WF_TX_REJECTED */
  uint8_t pad[2];
} wf_tx_result;
_Static_assert(sizeof(wf_tx_result) <= WF_NET_PAYLOAD_MAX, "a result must fit in a message");

#endif
