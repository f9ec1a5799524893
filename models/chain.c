/* A CometBFT chain: validators that run Tendermint consensus (protocols/tendermint.c) and
 * gossip proposals, block parts and votes to their peers as CometBFT's consensus reactor does,
 * over the network's transport; a monitor that checks safety and writes the blocks. What is
 * modelled and where each default comes from: models/README.md. */
#include "chain.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocols/gossip.h"
#include "../protocols/tendermint.h"
#include "../protocols/valset.h"
#include "feemarket.h"
#include "mempool.h"

#define PART_BYTES 65536u  /* types/params.go BlockPartSizeBytes */
#define HEADER_BYTES 626u  /* a block header at most */
#define COMMIT_SIG_BYTES 109u /* one signature of the last commit in a block */
#define PROPOSAL_BYTES 200u   /* a signed ProposalMessage */
#define VOTE_BYTES 200u       /* a signed VoteMessage without extensions */
#define PART_OVERHEAD 100u    /* a BlockPartMessage besides its 64 KiB: height, round, proof */
#define STEP_BYTES 50u        /* a NewRoundStep announcement */
#define MAX_PEERS 64          /* what a node knows of its peers is a 64-bit mask */
#define SLOTS 3               /* heights a node keeps messages of: h - 1, h, h + 1 */
#define TX_OVERHEAD 20u       /* a transaction message besides the transaction */
#define EVIDENCE_BYTES 500u   /* DuplicateVoteEvidence: two signed votes and their context */
#define MAX_EVIDENCE 16       /* pieces of evidence a node keeps until a block includes them */

enum {
  K_WAKE_DATA = 1, /* a peer's data routine (proposal, block parts) wakes */
  K_WAKE_VOTES,    /* a peer's vote routine wakes */
  K_TIMEOUT,
  K_NEXT_HEIGHT,
  K_OFFLINE,
  K_ONLINE,
  K_SLOW, /* processing of received messages slows down (payload: the extra delay) */
  K_CRASH,
  K_RESTART,
  K_DEFERRED, /* a received message a slow node gets to now */
  K_HEALED,   /* a cut of the network ended: connections come back */
  K_CATCHUP,
  K_TX_CHECKED, /* CheckTx of a transaction is done */
  K_APPLIED,    /* a committed block has been executed: update the mempool, tell clients */
  M_PROPOSAL,   /* on the wire */
  M_PART,
  M_VOTE,
  M_STEP,
  M_VALID_BLOCK, /* a peer now wants another block for a round (NewValidBlock) */
  M_TX,
  M_COMMIT, /* to the monitor */
  K_POLL    /* aggregate mode: a node's tick, to take what has reached it */
};
enum { R_DATA = 0, R_VOTES = 1 };

typedef struct offline_fault {
  uint32_t node;
  wf_time from, to;
  wf_time delay; /* slow faults: the extra processing per received message */
} offline_fault;

/* A block: its transactions and what executing them gives. Made by its proposer and kept in
 * the chain's block store, shared by the chain's LPs: a chain is one group, so they all live
 * on one rank, and a block is read only after its proposer made it (causally later). */
typedef struct blk {
  tm_value v;
  int64_t h;
  uint32_t ntx, nparts, failed;
  uint64_t bytes, gas_wanted, gas_used, fees;
  uint64_t base_price; /* the fee market's price per gas for this block (0 without one) */
  wf_time exec; /* executing it (FinalizeBlock) */
  wf_tx *tx;
  uint32_t *used;   /* gas used per transaction */
  uint8_t *failed_tx; /* out of gas: it used its whole limit and failed */
  uint64_t *ids;    /* the transactions' ids, in block order */
  uint64_t evidence[MAX_EVIDENCE]; /* equivocations it records: validator << 40 | height */
  uint32_t nevidence;
  uint32_t *index;  /* open addressing: id -> position + 1 (0: empty), index_mask + 1 slots */
  uint32_t index_mask;
  uint32_t *entry; /* aggregate mode: the node each transaction entered by, and its client */
  wf_lpid *client;
} blk;

typedef struct blockstore {
  blk **b; /* open addressing by value */
  uint32_t mask, n;
  int64_t committed; /* the highest height committed (first commit) */
  tm_value *at;      /* committed value by height */
  int64_t at_cap;
  int64_t *applied;  /* per node: the last height whose block it applied */
  uint32_t nodes;
} blockstore;

/* The coalition's two blocks at one (height, round): what its members equivocate between. */
typedef struct equiv {
  int64_t h;
  int32_t r;
  tm_value a, b;
} equiv;
#define EQUIV_RING 64

typedef struct agg_board agg_board;
#define PROP0_RING 64

typedef struct chain_cfg {
  const wf_net *net;
  wf_peer_graph g;
  uint32_t n, id;
  uint32_t full;  /* full nodes: in the peer graph, gossiping and committing, never voting */
  char name[48]; /* its series are named after it */
  wf_lpid first, monitor, full_first; /* node i < n is LP first + i, else full_first + i - n */
  uint64_t *power;
  wf_validator *vals; /* the genesis validators (addresses and powers) */
  tm_timeouts to;
  uint64_t block_overhead; /* header, last commit and filler: a block without transactions */
  uint64_t max_block_bytes, max_block_gas;
  uint32_t mempool_size, cache_size;
  uint64_t mempool_bytes, min_gas_price;
  wf_time check_tx;     /* CheckTx of one transaction, on the node's CPU */
  int market;           /* a fee market (x/feemarket) sets a base price per gas */
  wf_feemarket_params fm;
  double native_gps, wasm_gps; /* execution speed, SDK gas per second */
  wf_time exec, sleep;  /* per block on top of its transactions; the gossip routines' sleep */
  blockstore store;
  uint64_t send_rate_bps;
  offline_fault *faults, *byz, *slow, *crash;
  uint32_t nfaults, nbyz, nslow, ncrash;
  equiv eq[EQUIV_RING]; /* shared by the Byzantine validators (on one rank, like the chain) */
  unsigned cls_proposal, cls_part, cls_vote, cls_step, cls_tx, cls_result;
  wf_metric h_interval, m_blocks, g_height, m_votes, m_parts, m_timeouts, m_evidence, m_rounds,
      m_dropped, m_txs, m_tx_msgs, g_mempool, m_rejected, g_base_price, m_residence, m_node_commits,
      m_fees;
  wf_record *blocks, *heals;
  wf_lp_type vtype, mtype;
  agg_board *agg; /* the aggregate mode's board (NULL: per hop) */
  /* Every node elects the same round-0 proposer per height (the set changes only by elections
   * here): the chain's set, advanced a height at a time, and the proposers by height. */
  wf_valset pset;
  int64_t pset_h;
  uint64_t price_now; /* the fee market's price after the latest block any node applied */
  int64_t price_h;
  uint32_t prop0[PROP0_RING];
  int64_t prop0_h[PROP0_RING];
} chain_cfg;

/* ---- what a node holds of one height, for consensus and for gossip ---- */

typedef struct g_vote {
  tm_value val1; /* value + 1; 0: not held */
  uint64_t have; /* peers known to hold it (sent it to us, or we sent it to them) */
} g_vote;

typedef struct g_round {
  g_vote *votes[2]; /* per validator */
  tm_value prop;    /* TM_NIL: no proposal known */
  int32_t pol;
  uint32_t nparts;
  uint64_t prop_have;
  uint64_t *part_have; /* per part */
  uint8_t *part_got;
  uint32_t parts_got;
  uint8_t complete; /* every part held: the block is known */
} g_round;

typedef struct g_height {
  int64_t h; /* 0: unused */
  g_round *rounds;
  int32_t nrounds;
  int32_t decided; /* the round this node committed the height in, -1 before */
} g_height;

typedef struct peer {
  wf_lpid lp;
  int64_t h; /* the height and round the peer last announced (NewRoundStep) */
  int32_t r;
  /* CometBFT's MConnection multiplexes its channels in 1 KiB packets, by priority, under one
   * send rate: a vote never waits behind a queue of 64 KiB block parts. Here the data channel
   * (proposals, parts) is a connection with the send rate and the small messages (votes, round
   * steps) another without one. */
  wf_net_conn conn, small;
  wf_time phase[2]; /* each routine wakes at phase + k x gossip_sleep */
  uint8_t wake[2];  /* a wake is scheduled */
} peer;

typedef struct val_node {
  wf_net_port port;
  tm_state tm;
  tm_host host;
  wf_lp *lp; /* the LP being handled, for the host callbacks */
  chain_cfg *c;
  peer *peers;
  uint32_t deg, me;
  g_height slot[SLOTS];
  int offline, catching_up, crashed;
  uint32_t epoch;   /* lives of the process: a crash starts the next */
  tm_value decided_value; /* what it last decided, for a restart that finds the height done */
  wf_time slow;     /* extra processing per received message while slow (0: none) */
  wf_time cpu_free; /* when the slow node is done with the messages before */
  int64_t target; /* catching up to this height */
  /* Proposer selection as consensus/state.go does it: `hset` is the set of the current height
   * (incremented once per height), `rset` that of the current round, incremented from the
   * previous round's by the rounds stepped (so 0 -> 1 -> 2 and 0 -> 2 may differ). */
  wf_valset hset, rset;
  int64_t hset_h;     /* the height hset is the set of (it is brought up to date when needed) */
  int32_t rset_round; /* -1: rset is not the set of a round of this height */
  uint32_t *round_proposer; /* by round, this height */
  int32_t nround_proposer, cap_round_proposer;
  uint32_t *order, order_cap; /* scratch: the parts a data routine sends, shuffled */
  wf_mempool mp;
  wf_feemarket fm;    /* this node's fee-market state (every node computes the same) */
  wf_time check_free; /* when CheckTx is next free */
  uint64_t evidence[MAX_EVIDENCE]; /* equivocations seen, not yet in a block (validator << 40
                                    * | height) */
  uint32_t nevidence;
  int64_t applied;    /* the last height whose block this node applied to its mempool */
  /* Aggregate mode: per round of this height, whether it took the proposal, and per round and
   * type the votes on their way to it; its own last proposal. */
  struct agg_pend *pend;
  uint8_t *prop_got;
  int32_t got_rounds, pend_cap;
  int64_t own_prop_h;
  int32_t own_prop_r, own_prop_pol;
  tm_value own_prop_v;
} val_node;

/* Cut from the network or down: it sends nothing and hears nothing. */
static int silent(const val_node *v) { return v->offline || v->crashed; }

/* A node's own timers and deferred work carry the process's life they were set in: a crash
 * loses them (they fire into a later life and are ignored). The fault schedule is not the
 * process's and is sent without one. */
#define EPOCH_BYTES 8
static void self_send(val_node *v, wf_time delay, uint16_t kind, const void *body, size_t len) {
  unsigned char buf[WF_PAYLOAD_MAX];
  memcpy(buf, &v->epoch, sizeof v->epoch);
  if (len) memcpy(buf + EPOCH_BYTES, body, len);
  wf_send(v->lp, wf_lp_id(v->lp), delay, kind, buf, EPOCH_BYTES + len);
}

typedef struct deferred_msg { /* K_DEFERRED: a received message, held while a node is slow */
  wf_lpid src;
  uint16_t kind;
  uint8_t len, pad;
  unsigned char data[WF_NET_PAYLOAD_MAX];
} deferred_msg;

typedef struct applied_msg { /* K_APPLIED */
  int64_t h;
  tm_value v;
} applied_msg;

typedef struct checked_msg { /* K_TX_CHECKED */
  wf_tx tx;
  wf_lpid client;
  uint32_t from;
} checked_msg;

typedef struct timeout_msg {
  int64_t h;
  int32_t r, kind;
} timeout_msg;

typedef struct wire_msg { /* proposal, part and vote: the fields each uses */
  int64_t h;
  int32_t r, pol;
  tm_value v;
  uint32_t index; /* part index; voter */
  uint8_t type;   /* vote type */
} wire_msg;

typedef struct commit_msg {
  int64_t h;
  wf_time t;
  int32_t r;
  tm_value v;
  uint32_t validator, proposer;
} commit_msg;

/* ---- the height store ---- */

static void round_free(g_round *r) {
  free(r->votes[0]), free(r->votes[1]), free(r->part_have), free(r->part_got);
}

static void height_reset(g_height *s, int64_t h) {
  for (int32_t r = 0; r < s->nrounds; r++) round_free(&s->rounds[r]);
  free(s->rounds);
  *s = (g_height){h, NULL, 0, -1};
}

static g_height *slot_of(val_node *v, int64_t h) {
  g_height *s = &v->slot[h % SLOTS];
  return s->h == h ? s : NULL;
}

/* Round r of a height, created on first use; NULL without memory or for absurd rounds. */
static g_round *round_of(val_node *v, g_height *s, int32_t r) {
  if (r < 0 || r > v->tm.round + 64 + 2) return NULL;
  if (r < s->nrounds) return &s->rounds[r];
  g_round *rs = realloc(s->rounds, ((size_t)r + 1) * sizeof *rs);
  if (!rs) return NULL;
  s->rounds = rs;
  for (; s->nrounds <= r; s->nrounds++) {
    g_round *x = &rs[s->nrounds];
    memset(x, 0, sizeof *x);
    x->votes[0] = calloc(v->c->n, sizeof(g_vote));
    x->votes[1] = calloc(v->c->n, sizeof(g_vote));
    if (!x->votes[0] || !x->votes[1]) {
      round_free(x);
      return NULL;
    }
  }
  return &rs[r];
}

/* ---- the block store ---- */

static int store_init(blockstore *st) {
  st->mask = 1023;
  st->b = calloc(st->mask + 1, sizeof *st->b);
  st->at_cap = 1024;
  st->at = calloc((size_t)st->at_cap, sizeof *st->at);
  st->applied = calloc(st->nodes ? st->nodes : 1, sizeof *st->applied);
  return st->b && st->at && st->applied ? 0 : -1;
}

static uint32_t store_home(const blockstore *st, tm_value v) {
  return (uint32_t)(wf_mix64(v) & st->mask);
}

static blk *store_get(const blockstore *st, tm_value v) {
  for (uint32_t i = store_home(st, v);; i = (i + 1) & st->mask) {
    if (!st->b[i]) return NULL;
    if (st->b[i]->v == v) return st->b[i];
  }
}

static void blk_free(blk *b) {
  if (b)
    free(b->tx), free(b->used), free(b->failed_tx), free(b->ids), free(b->index), free(b->entry),
        free(b->client), free(b);
}

static uint32_t id_home(uint64_t id, uint32_t mask) {
  return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* A transaction's position in a block, or UINT32_MAX: every node applying the block looks its
 * pool's entries up here, once each. */
static uint32_t blk_find(const blk *b, uint64_t id) {
  if (!b->ntx) return UINT32_MAX;
  for (uint32_t i = id_home(id, b->index_mask);; i = (i + 1) & b->index_mask) {
    uint32_t k = b->index[i];
    if (!k) return UINT32_MAX;
    if (b->ids[k - 1] == id) return k - 1;
  }
}

static int blk_index(blk *b) {
  uint32_t size = 16;
  while (size < 2 * b->ntx) size *= 2;
  b->index_mask = size - 1;
  b->index = calloc(size, sizeof *b->index);
  if (!b->index) return -1;
  for (uint32_t i = 0; i < b->ntx; i++) {
    uint32_t k = id_home(b->ids[i], b->index_mask);
    while (b->index[k]) k = (k + 1) & b->index_mask;
    b->index[k] = i + 1;
  }
  return 0;
}

/* The value committed at height h (TM_NIL if none yet). */
static tm_value committed_at(const blockstore *st, int64_t h) {
  return h >= 1 && h <= st->committed && h < st->at_cap ? st->at[h] : TM_NIL;
}

static int note_commit(blockstore *st, int64_t h, tm_value v) {
  if (h >= st->at_cap) {
    int64_t cap = st->at_cap * 2;
    while (cap <= h) cap *= 2;
    tm_value *a = realloc(st->at, (size_t)cap * sizeof *a);
    if (!a) return -1;
    memset(a + st->at_cap, 0, (size_t)(cap - st->at_cap) * sizeof *a);
    st->at = a, st->at_cap = cap;
  }
  st->at[h] = v;
  st->committed = h;
  return 0;
}

/* Drops the blocks of heights every node has applied (a node catching up applies each block
 * it missed, however far behind it was), rebuilding the
 * table: deletion under linear probing). */
static int store_prune(blockstore *st) {
  int64_t low = st->committed;
  for (uint32_t i = 0; i < st->nodes; i++)
    if (st->applied[i] < low) low = st->applied[i];
  uint32_t size = st->mask + 1;
  blk **old = st->b;
  st->b = calloc(size, sizeof *st->b);
  if (!st->b) {
    st->b = old;
    return -1;
  }
  st->n = 0;
  for (uint32_t i = 0; i < size; i++) {
    if (!old[i]) continue;
    if (old[i]->h < low) {
      blk_free(old[i]);
      continue;
    }
    uint32_t k = store_home(st, old[i]->v);
    while (st->b[k]) k = (k + 1) & st->mask;
    st->b[k] = old[i];
    st->n++;
  }
  free(old);
  return 0;
}

static int store_put(blockstore *st, blk *b) {
  if (2 * (st->n + 1) > st->mask + 1 && store_prune(st) != 0) return -1;
  if (2 * (st->n + 1) > st->mask + 1) { /* still crowded: grow */
    uint32_t size = 2 * (st->mask + 1);
    blk **nb = calloc(size, sizeof *nb), **old = st->b;
    if (!nb) return -1;
    uint32_t omask = st->mask;
    st->b = nb, st->mask = size - 1;
    for (uint32_t i = 0; i <= omask; i++)
      if (old[i]) {
        uint32_t k = store_home(st, old[i]->v);
        while (st->b[k]) k = (k + 1) & st->mask;
        st->b[k] = old[i];
      }
    free(old);
  }
  uint32_t k = store_home(st, b->v);
  while (st->b[k]) k = (k + 1) & st->mask;
  st->b[k] = b;
  st->n++;
  return 0;
}

static void store_free(void *ud) {
  blockstore *st = ud;
  for (uint32_t i = 0; st->b && i <= st->mask; i++) blk_free(st->b[i]);
  free(st->b), free(st->at), free(st->applied);
  memset(st, 0, sizeof *st);
}

static uint32_t nparts_of(uint64_t bytes) {
  return (uint32_t)((bytes + PART_BYTES - 1) / PART_BYTES);
}

/* acc + a x b, saturating at UINT64_MAX (fees of huge prices stay ordered, never wrap). */
static uint64_t add_mul_sat(uint64_t acc, uint64_t a, uint64_t b) {
  __extension__ typedef unsigned __int128 u128;
  u128 x = (u128)acc + (u128)a * b;
  return x > UINT64_MAX ? UINT64_MAX : (uint64_t)x;
}

/* The first block id from `want` on that no block of the store has (never TM_NIL). */
static tm_value fresh_value(const chain_cfg *c, tm_value want) {
  while (store_get(&c->store, want)) want = want % 0xFFFFFFFEu + 1;
  return want;
}

/* ---- the application: gas and execution time (models/README.md) ---- */

/* Cosmos SDK gas (store/types/gas.go KVGasConfig, x/auth ante): 10 per byte of the tx, 1,000
 * for a secp256k1 signature, a read 1,000 + 3 per byte, a write 2,000 + 30 per byte. A bank
 * send touches the sender's account and both balances through the ante handler and x/bank:
 * counted as 20 reads of 50 B and 8 writes of 100 B, 66,500 gas for 250 bytes. A
 * contract call adds the cached instance (2,000, wasmd) and the gas it needs; an inference
 * call is a contract call whose gas is the client's. */
#define GAS_PER_BYTE 10u
#define GAS_SIG 1000u
#define BANK_READS (20u * (1000u + 3u * 50u))
#define BANK_WRITES (8u * (2000u + 30u * 100u))
#define WASM_INSTANCE_CACHED 2000u

static uint64_t gas_of(const wf_tx *t) {
  uint64_t base = (uint64_t)GAS_PER_BYTE * t->bytes + GAS_SIG;
  if (t->type == WF_TX_BANK_SEND) return base + (t->gas_need ? t->gas_need : BANK_READS + BANK_WRITES);
  return base + WASM_INSTANCE_CACHED + t->gas_need;
}

/* Executing a transaction: its native part at native_gps, a contract's own gas at wasm_gps. */
static double exec_s(const chain_cfg *c, const wf_tx *t, uint64_t used) {
  if (t->type == WF_TX_BANK_SEND) return (double)used / c->native_gps;
  uint64_t contract = t->gas_need < used ? t->gas_need : used;
  return (double)(used - contract) / c->native_gps + (double)contract / c->wasm_gps;
}

/* The least price per gas a transaction must offer now: the market's base price, rounded up
 * (ante/fee.go requires ceil(price x gas)), or the chain's minimum. */
static uint64_t price_floor(const val_node *v) {
  if (!v->c->market) return v->c->min_gas_price;
  wf_dec p = v->fm.base_gas_price;
  return (uint64_t)((p + WF_DEC_ONE - 1) / WF_DEC_ONE);
}

static int agg_held(void *ud, const wf_mp_entry *e);
static int agg_first_apply(agg_board *a, int64_t h);

/* The pool a node's transactions are in: its own, or in the aggregate mode the chain's. */
static wf_mempool *pool_of(val_node *v);
static wf_mempool *agg_pool(agg_board *a);

/* The proposer's new block: what its mempool holds, reaped as ReapMaxBytesMaxGas does. */
static blk *make_block(val_node *v, int64_t h, tm_value val) {
  chain_cfg *c = v->c;
  wf_mempool *pool = pool_of(v);
  blk *b = calloc(1, sizeof *b);
  uint32_t room = pool->n;
  wf_mp_entry *e = malloc((room ? room : 1) * sizeof *e);
  if (!b || !e) {
    free(b), free(e);
    return NULL;
  }
  uint64_t floor = price_floor(v);
  /* The evidence it holds goes in first (CometBFT reaps evidence before transactions). */
  uint32_t nev = v->nevidence;
  while (nev && c->block_overhead + (uint64_t)nev * EVIDENCE_BYTES >= c->max_block_bytes) nev--;
  uint64_t room_bytes = c->max_block_bytes - c->block_overhead - (uint64_t)nev * EVIDENCE_BYTES;
  uint32_t k = wf_mempool_reap(pool, room_bytes, c->max_block_gas, c->market ? floor : 0,
                               c->agg ? agg_held : NULL, v, e, room);
  b->tx = malloc((k ? k : 1) * sizeof *b->tx);
  b->used = malloc((k ? k : 1) * sizeof *b->used);
  b->failed_tx = malloc(k ? k : 1);
  b->ids = malloc((k ? k : 1) * sizeof *b->ids);
  if (c->agg) {
    b->entry = malloc((k ? k : 1) * sizeof *b->entry);
    b->client = malloc((k ? k : 1) * sizeof *b->client);
  }
  if (!b->tx || !b->used || !b->failed_tx || !b->ids || (c->agg && (!b->entry || !b->client))) {
    free(e), blk_free(b);
    return NULL;
  }
  b->v = val, b->h = h, b->ntx = k, b->bytes = c->block_overhead;
  b->base_price = c->market ? floor : 0;
  memcpy(b->evidence, v->evidence, nev * sizeof *v->evidence);
  b->nevidence = nev;
  b->bytes += (uint64_t)nev * EVIDENCE_BYTES;
  double exec = 0;
  for (uint32_t i = 0; i < k; i++) {
    wf_tx *t = &b->tx[i];
    *t = e[i].tx;
    uint64_t need = gas_of(t), used = need > t->gas_wanted ? t->gas_wanted : need;
    b->ids[i] = t->id;
    if (c->agg) b->entry[i] = e[i].from, b->client[i] = e[i].client;
    b->used[i] = (uint32_t)used;
    b->failed_tx[i] = need > t->gas_wanted;
    b->failed += b->failed_tx[i];
    b->bytes += t->bytes;
    b->gas_wanted += t->gas_wanted;
    b->gas_used += used;
    /* The fee is paid on the limit: at the offered price, or at the market's base price. */
    b->fees = add_mul_sat(b->fees, t->gas_wanted, c->market ? floor : t->price);
    exec += exec_s(c, t, used);
  }
  free(e);
  /* A block's execution beyond 100 years is as good as never: keep the time finite. */
  b->exec = c->exec + (wf_time)(exec < 3.15e9 ? exec * 1e9 + 0.5 : 3.15e18);
  b->nparts = nparts_of(b->bytes);
  if (blk_index(b) != 0) {
    blk_free(b);
    return NULL;
  }
  if (store_put(&c->store, b) != 0) {
    blk_free(b);
    return NULL;
  }
  return b;
}

static int start_parts(val_node *v, g_round *rd, tm_value val) {
  blk *b = store_get(&v->c->store, val);
  if (!b) return -1;
  rd->nparts = b->nparts;
  rd->part_have = calloc(b->nparts, sizeof *rd->part_have);
  rd->part_got = calloc(b->nparts, 1);
  return rd->part_have && rd->part_got ? 0 : -1;
}

/* ---- gossip routines ---- */

static void need_wake(val_node *v, uint32_t j, int routine) {
  peer *p = &v->peers[j];
  if (p->wake[routine] || silent(v)) return;
  wf_time now = wf_now(v->lp), t = p->phase[routine];
  if (now > t) t += (now - t + v->c->sleep - 1) / v->c->sleep * v->c->sleep;
  p->wake[routine] = 1;
  uint32_t arg = j;
  self_send(v, t - now, routine == R_DATA ? K_WAKE_DATA : K_WAKE_VOTES, &arg, sizeof arg);
}

static void wake_lacking(val_node *v, uint64_t have, int routine) {
  for (uint32_t j = 0; j < v->deg; j++)
    if (!(have >> j & 1)) need_wake(v, j, routine);
}

/* Every message a node sends goes through here: none while it is cut off or down. Block
 * parts and proposals take the data connection (rate-limited), the rest the small one. */
static void to_peer(val_node *v, uint32_t j, uint16_t kind, uint32_t bytes, unsigned cls,
                    const void *m, size_t len) {
  if (silent(v)) return;
  peer *p = &v->peers[j];
  int data = kind == M_PART || kind == M_PROPOSAL;
  wf_net_send(v->lp, v->c->net, &v->port, data ? &p->conn : &p->small, p->lp, bytes, kind, cls, m,
              len);
}

static void send_wire(val_node *v, uint32_t j, uint16_t kind, uint32_t bytes, unsigned cls,
                      const wire_msg *m) {
  to_peer(v, j, kind, bytes, cls, m, sizeof *m);
}

static uint32_t part_bytes(const blk *b, uint32_t i) {
  uint64_t rest = b->bytes - (uint64_t)i * PART_BYTES;
  return (uint32_t)(rest < PART_BYTES ? rest : PART_BYTES) + PART_OVERHEAD;
}

/* Sends the parts of rd the peer lacks, in random order (pickPartToSend: a random part). */
static void send_parts(val_node *v, uint32_t j, g_height *s, int32_t r) {
  chain_cfg *c = v->c;
  g_round *rd = &s->rounds[r];
  uint64_t bit = 1ull << j;
  blk *b = store_get(&c->store, rd->prop);
  uint32_t *order = v->order, n = 0; /* scratch for as many parts as a block may have */
  if (!b || rd->nparts > v->order_cap) return;
  for (uint32_t i = 0; i < rd->nparts; i++)
    if (rd->part_got[i] && !(rd->part_have[i] & bit)) order[n++] = i;
  for (uint32_t i = n; i > 1; i--) {
    uint32_t x = (uint32_t)wf_rng_below(wf_lp_rng(v->lp), i), t = order[i - 1];
    order[i - 1] = order[x], order[x] = t;
  }
  wire_msg m = {s->h, r, rd->pol, rd->prop, 0, 0};
  for (uint32_t i = 0; i < n; i++) {
    rd->part_have[order[i]] |= bit;
    m.index = order[i];
    send_wire(v, j, M_PART, part_bytes(b, order[i]), c->cls_part, &m);
    wf_count(v->lp, c->m_parts, 1);
  }
}

/* The data routine (consensus/reactor.go gossipDataRoutine) for a peer at (ph, pr): at our
 * height, the parts of our current proposal once the peer knows it, and the proposal itself
 * when the peer is in our round; a peer one height behind gets the parts of the block we
 * committed there (catch-up). */
static void data_routine(val_node *v, uint32_t j) {
  peer *p = &v->peers[j];
  uint64_t bit = 1ull << j;
  int64_t h = v->tm.height;
  if (p->h == h) {
    g_height *s = slot_of(v, h);
    g_round *rd = s && v->tm.round < s->nrounds ? &s->rounds[v->tm.round] : NULL;
    if (!rd || rd->prop == TM_NIL) return;
    if (!(rd->prop_have & bit) && p->r == v->tm.round) {
      rd->prop_have |= bit;
      wire_msg m = {h, v->tm.round, rd->pol, rd->prop, 0, 0};
      send_wire(v, j, M_PROPOSAL, PROPOSAL_BYTES, v->c->cls_proposal, &m);
    }
    if (rd->prop_have & bit) send_parts(v, j, s, v->tm.round);
  } else if (p->h == h - 1) {
    g_height *s = slot_of(v, h - 1);
    if (s && s->decided >= 0 && s->decided < s->nrounds) {
      g_round *rd = &s->rounds[s->decided];
      if (!(rd->prop_have & bit)) { /* the peer learns the part-set header from the commit */
        rd->prop_have |= bit;
        wire_msg m = {h - 1, s->decided, rd->pol, rd->prop, 0, 0};
        send_wire(v, j, M_PROPOSAL, PROPOSAL_BYTES, v->c->cls_proposal, &m);
      }
      send_parts(v, j, s, s->decided);
    }
  }
}

static void send_votes(val_node *v, uint32_t j, g_height *s, int32_t r, int type) {
  if (!s || r < 0 || r >= s->nrounds) return;
  uint64_t bit = 1ull << j;
  for (uint32_t i = 0; i < v->c->n; i++) {
    g_vote *gv = &s->rounds[r].votes[type][i];
    if (!gv->val1 || (gv->have & bit)) continue;
    gv->have |= bit;
    wire_msg m = {s->h, r, -1, gv->val1 - 1, i, (uint8_t)type};
    send_wire(v, j, M_VOTE, VOTE_BYTES, v->c->cls_vote, &m);
    wf_count(v->lp, v->c->m_votes, 1);
  }
}

/* The vote routine (gossipVotesRoutine, pickVoteToSend): at our height, the prevotes and
 * precommits of the peer's round (and of ours when it is behind us in rounds); a peer one
 * height behind gets the precommits that committed it (our last commit). */
static void vote_routine(val_node *v, uint32_t j) {
  peer *p = &v->peers[j];
  int64_t h = v->tm.height;
  if (p->h == h) {
    g_height *s = slot_of(v, h);
    send_votes(v, j, s, p->r, TM_PREVOTE);
    send_votes(v, j, s, p->r, TM_PRECOMMIT);
    if (v->tm.round != p->r) {
      send_votes(v, j, s, v->tm.round, TM_PREVOTE);
      send_votes(v, j, s, v->tm.round, TM_PRECOMMIT);
    }
  } else if (p->h == h - 1) {
    g_height *s = slot_of(v, h - 1);
    if (s) send_votes(v, j, s, s->decided, TM_PRECOMMIT);
  }
}

/* ---- the consensus host ---- */

/* consensus/reactor.go broadcastNewRoundStepMessage: every peer learns our height and round. */
static void announce(val_node *v, int reset) {
  wire_msg m = {v->tm.height, v->tm.round, -1, 0, 0, (uint8_t)reset};
  for (uint32_t j = 0; j < v->deg; j++) send_wire(v, j, M_STEP, STEP_BYTES, v->c->cls_step, &m);
}

/* Both routines of every peer look again (what we send depends on where we are). */
static void wake_all(val_node *v) {
  for (uint32_t j = 0; j < v->deg; j++) {
    need_wake(v, j, R_DATA);
    need_wake(v, j, R_VOTES);
  }
}

/* Connections come back (after a cut, offline time or a restart): peers start afresh. */
static void agg_reconnect(val_node *v);
static void agg_new_round(val_node *v, int32_t r);
static void agg_decided(agg_board *a, uint32_t i, int64_t next, wf_time at);

static void reconnect(val_node *v) {
  if (v->c->agg) {
    agg_reconnect(v);
    return;
  }
  announce(v, 1);
  wake_all(v);
}

static void host_new_round(void *ud, int64_t h, int32_t r) {
  val_node *v = ud;
  (void)h; /* the state machine's height and round are already these */
  if (v->c->agg) {
    agg_new_round(v, r);
    return;
  }
  announce(v, 0);
  wake_all(v);
}

static uint32_t addr_index(const wf_validator *val) {
  const uint8_t *a = val->addr + WF_VAL_ADDR_LEN - 4;
  return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* The round-0 proposer of height h from the chain's memo (UINT32_MAX: h is older than it
 * keeps, or an error, in err). state/execution.go updateState: one election per height. */
static uint32_t round0_proposer(chain_cfg *c, int64_t h, wf_error *err) {
  if (c->prop0_h[h % PROP0_RING] == h) return c->prop0[h % PROP0_RING];
  if (h < c->pset_h || h - c->pset_h > (int64_t)1 << 40) return UINT32_MAX;
  for (; c->pset_h <= h; c->pset_h++) {
    if (c->pset_h > 1 && wf_valset_increment(&c->pset, 1, err) != 0) return UINT32_MAX;
    const wf_validator *p = wf_valset_proposer(&c->pset);
    if (!p) return UINT32_MAX;
    c->prop0[c->pset_h % PROP0_RING] = addr_index(p),
                         c->prop0_h[c->pset_h % PROP0_RING] = c->pset_h;
  }
  return c->prop0[h % PROP0_RING];
}

static uint32_t host_proposer(void *ud, int64_t h, int32_t r) {
  val_node *v = ud;
  /* The state machine asks for its current height's rounds, in increasing order: round 0 from
   * the chain's memo, later rounds from the node's own sets (consensus/state.go increments a
   * round's set from the previous round's, so 0 -> 1 -> 2 and 0 -> 2 may differ). */
  wf_error err = {0};
  uint32_t who = r == 0 ? round0_proposer(v->c, h, &err) : UINT32_MAX;
  if (who == UINT32_MAX && !err.msg[0]) {
    int rc = 0;
    for (; rc == 0 && v->hset_h < h; v->hset_h++) rc = wf_valset_increment(&v->hset, 1, &err);
    if (rc == 0 && (r == 0 || v->rset_round < 0)) {
      rc = wf_valset_copy(&v->rset, &v->hset, &err);
      v->rset_round = 0;
    }
    if (rc == 0 && r > v->rset_round) rc = wf_valset_increment(&v->rset, r - v->rset_round, &err);
    const wf_validator *p = rc == 0 ? wf_valset_proposer(&v->rset) : NULL;
    if (p) who = addr_index(p), v->rset_round = r;
  }
  if (who == UINT32_MAX) {
    wf_lp_fail(v->lp, "proposer selection: %s", err.msg[0] ? err.msg : "no proposer");
    return UINT32_MAX;
  }
  if (r >= v->cap_round_proposer) { /* grows with the rounds a height takes, kept across heights */
    int32_t cap = 2 * r + 2;
    uint32_t *x = realloc(v->round_proposer, (size_t)cap * sizeof *x);
    if (!x) {
      wf_lp_fail(v->lp, "out of memory");
      return who;
    }
    v->round_proposer = x, v->cap_round_proposer = cap;
  }
  for (int32_t k = v->nround_proposer; k <= r; k++) v->round_proposer[k] = UINT32_MAX;
  if (r >= v->nround_proposer) v->nround_proposer = r + 1;
  v->round_proposer[r] = who;
  return who;
}

static tm_value host_new_value(void *ud, int64_t h, int32_t r) {
  val_node *v = ud;
  uint64_t x = wf_mix64((uint64_t)h * 0x9E3779B97F4A7C15ull ^ (uint64_t)r << 40 ^ v->me ^
                        (uint64_t)v->c->id << 56);
  tm_value val = fresh_value(v->c, (tm_value)(x % 0xFFFFFFFEu) + 1);
  if (!make_block(v, h, val)) wf_lp_fail(v->lp, "out of memory for a block");
  return val;
}

/* ---- Byzantine validators: they equivocate to the two halves of their peers ---- */

/* The LP of node u of the chain's peer graph (validators first, then full nodes). */
static wf_lpid lp_of(const chain_cfg *c, uint32_t u) {
  return u < c->n ? c->first + u : c->full_first + (u - c->n);
}

static int byzantine(const val_node *v) {
  wf_time now = wf_now(v->lp);
  for (uint32_t i = 0; i < v->c->nbyz; i++)
    if (v->c->byz[i].node == v->me && now >= v->c->byz[i].from && now < v->c->byz[i].to) return 1;
  return 0;
}

/* A peer on the second side: an odd node index (an even validator number, counting from 1). */
static int side_b(const val_node *v, uint32_t j) {
  return v->c->g.adj[v->c->g.off[v->me] + j] & 1;
}

static const equiv *coalition(const chain_cfg *c, int64_t h, int32_t r) {
  const equiv *e = &c->eq[h % EQUIV_RING];
  return e->h == h && e->r == r ? e : NULL;
}

/* A Byzantine proposer makes a second block and sends it, proposal and parts, to the second
 * side first, before its routines offer them the first (marked as held there). */
static void propose_twice(val_node *v, g_round *rd, int64_t h, int32_t r, tm_value a) {
  chain_cfg *c = v->c;
  tm_value b = fresh_value(c, a % 0xFFFFFFFEu + 1);
  blk *bb = make_block(v, h, b);
  if (!bb) return;
  c->eq[h % EQUIV_RING] = (equiv){h, r, a, b};
  for (uint32_t j = 0; j < v->deg; j++) {
    if (!side_b(v, j)) continue;
    uint64_t bit = 1ull << j;
    wire_msg m = {h, r, -1, b, 0, 0};
    send_wire(v, j, M_PROPOSAL, PROPOSAL_BYTES, c->cls_proposal, &m);
    for (uint32_t i = 0; i < bb->nparts; i++) {
      m.index = i;
      send_wire(v, j, M_PART, part_bytes(bb, i), c->cls_part, &m);
    }
    rd->prop_have |= bit;
    for (uint32_t i = 0; i < rd->nparts; i++) rd->part_have[i] |= bit;
  }
}

/* A Byzantine voter votes the coalition's first block to one side and its second to the other,
 * whatever its own state machine says, when the coalition equivocates in this round. */
static int vote_twice(val_node *v, g_vote *gv, int type, int64_t h, int32_t r) {
  const equiv *e = coalition(v->c, h, r);
  if (!e) return 0;
  gv->val1 = e->a + 1;
  for (uint32_t j = 0; j < v->deg; j++) {
    if (!side_b(v, j)) continue;
    wire_msg m = {h, r, -1, e->b, v->me, (uint8_t)type};
    send_wire(v, j, M_VOTE, VOTE_BYTES, v->c->cls_vote, &m);
    gv->have |= 1ull << j;
  }
  return 1;
}

/* ---- the aggregate mode (votes = "aggregate"): gossip computed, not sent ----
 *
 * No vote, proposal, block part, round step or transaction crosses the transport. A vote or
 * proposal goes on the chain's board once, with the time it was cast; it reaches node i d(j, i)
 * later, where d is the mean time the per-hop gossip takes from j to i: the earliest arrival
 * over the peer graph when every relay's routine to each peer wakes on its own grid of
 * gossip_sleep and each hop costs the transport's delay for a vote, averaged over four start
 * phases. A block arrives as its proposal does plus its bytes at the send rate, pipelined in
 * 64 KiB parts over the hops. A node is woken when a block reaches it and when +2/3 of a
 * round's votes (of any value, or of one value) have reached it: the time is computed from
 * the votes on the board, and is final once no vote cast later can arrive before it (that is,
 * d_min(i) before it; until then the node looks again). It then takes everything that has
 * reached it. Transactions sit in one pool per chain (what every node's pool holds once gossip
 * has spread them): a proposer reaps those that have reached it. models/README.md says what
 * this leaves out. */

#define AGG_SLOTS 8 /* heights the board keeps */
#define NO_POLL WF_TIME_MAX
#define AGG_UNREACHABLE UINT32_MAX
#define AGG_STARTS 8 /* phases of the gossip grid the mean path delay averages over */

typedef struct agg_cast {
  wf_time t;
  tm_value v;
  uint32_t who;
} agg_cast;

typedef struct agg_prop {
  wf_time *at; /* when it reaches each node (WF_TIME_MAX: not computed, the node was behind) */
  wf_time t;
  uint64_t bytes;
  tm_value v;
  int32_t pol;
  uint32_t who;
  uint8_t set;
} agg_prop;

typedef struct agg_round {
  agg_cast *cast[2];
  uint32_t n[2], cap[2];
  uint64_t *posted[2]; /* validators whose vote is on the board (a bit set) */
  uint64_t any[2];     /* the power on the board, in all and per value */
  tm_value val[2][4];
  uint64_t power[2][4];
  uint32_t nval[2];
  agg_prop prop;
} agg_round;

typedef struct agg_height {
  int64_t h; /* 0: unused */
  agg_round *r;
  int32_t nr;
} agg_height;

struct agg_board {
  uint32_t nodes, words; /* the chain's nodes; 64-bit words of a set over its validators */
  uint32_t *d;           /* d[i * nodes + j]: a vote node j sends reaches node i after this on
                          * average (ns): by destination, as a node reads its row */
  uint8_t *hops;         /* the hops of that path */
  uint32_t *dtx;         /* dtx[j * nodes + i]: a transaction node j admitted is in node i's pool
                          * after this (the mempool's routine does not sleep while it has
                          * transactions; each hop runs CheckTx) */
  wf_time *dmin;         /* per node: the least d to it from another node */
  wf_time *rejoin;       /* per node: from entering a height to its peers sending it what they
                          * hold of it (its NewRoundStep out, their routine's wake, back) */
  wf_time *known_h;      /* per node: from when its peers send it what they hold of its height */
  wf_time *known_r;      /* and the proposal of its round (a peer sends it only to a node it
                          * knows to be in that round) */
  wf_time *next_poll;    /* each node's next wake on its way (NO_POLL: none) */
  uint32_t *seq;         /* the number of that wake (earlier ones are stale) */
  int64_t *height;       /* each node's height */
  agg_height slot[AGG_SLOTS];
  wf_mempool pool;
  int pool_ready;
  int64_t pool_applied; /* the last height whose block left the pool */
  wf_time *at;          /* scratch: arrivals of votes and their powers */
  uint64_t *pw;
  /* The peer graph's edges as gossip sees them: the transport's delay for a vote, the phase of
   * the routine's wake grid, and the reverse edge. */
  wf_time *w, *ph;
  uint32_t *rev;
  wf_time *dist; /* scratch of a Dijkstra: per node, and a heap of keys */
  uint64_t *heap;
  uint8_t *hop;
  wf_time *entered;    /* when each node entered its height */
  wf_time *next_entry; /* when it will enter next_h, once it has decided the height before */
  int64_t *next_h;
};

static void agg_round_free(agg_round *r) {
  for (int t = 0; t < 2; t++) free(r->cast[t]), free(r->posted[t]);
  free(r->prop.at);
}

static void agg_height_reset(agg_height *s, int64_t h) {
  for (int32_t r = 0; r < s->nr; r++) agg_round_free(&s->r[r]);
  free(s->r);
  *s = (agg_height){h, NULL, 0};
}

static void agg_free(void *ud) {
  agg_board *a = ud;
  for (int k = 0; k < AGG_SLOTS; k++) agg_height_reset(&a->slot[k], 0);
  free(a->d), free(a->hops), free(a->dmin), free(a->next_poll), free(a->seq), free(a->height);
  free(a->rejoin), free(a->known_h), free(a->known_r), free(a->dtx);
  free(a->at), free(a->pw), free(a->w), free(a->ph), free(a->rev), free(a->dist), free(a->heap);
  free(a->hop), free(a->entered), free(a->next_entry), free(a->next_h);
  if (a->pool_ready) wf_mempool_free(&a->pool);
}

/* A binary min-heap of dist << 24 | node keys (stale entries are skipped by the caller). */
static void key_push(uint64_t *heap, uint32_t *n, uint64_t key) {
  uint32_t i = (*n)++;
  for (; i && heap[(i - 1) / 2] > key; i = (i - 1) / 2) heap[i] = heap[(i - 1) / 2];
  heap[i] = key;
}

static uint64_t key_pop(uint64_t *heap, uint32_t *n) {
  uint64_t top = heap[0], x = heap[--*n];
  uint32_t i = 0;
  for (;;) {
    uint32_t k = 2 * i + 1;
    if (k >= *n) break;
    if (k + 1 < *n && heap[k + 1] < heap[k]) k++;
    if (heap[k] >= x) break;
    heap[i] = heap[k], i = k;
  }
  if (*n) heap[i] = x;
  return top;
}

/* The mean per-hop path delay between every two nodes. Each directed edge's routine wakes at
 * its phase + k x sleep (a hash, as per hop each node draws its routines' phases); a vote
 * that reaches u at x leaves on edge (u, v) at the first wake >= x and arrives the transport's
 * delay later. Arrival is then monotone in departure, so Dijkstra finds the earliest (a
 * time-dependent shortest path), once per source and start phase. */
static int agg_paths(chain_cfg *c) {
  agg_board *a = c->agg;
  const wf_peer_graph *g = &c->g;
  uint32_t n = a->nodes, edges = g->off[n];
  wf_time P = c->sleep;
  wf_time *w = a->w = malloc((edges ? edges : 1) * sizeof *w);
  wf_time *ph = a->ph = malloc((edges ? edges : 1) * sizeof *ph);
  wf_time *dist = a->dist = malloc(n * sizeof *dist);
  uint64_t *heap = a->heap = malloc(((size_t)edges + 1) * sizeof *heap);
  uint8_t *hop = a->hop = malloc(n);
  uint32_t *rev = a->rev = malloc((edges ? edges : 1) * sizeof *rev);
  a->d = malloc((size_t)n * n * sizeof *a->d);
  uint64_t *sum = malloc(n * sizeof *sum);
  a->hops = malloc((size_t)n * n);
  a->dtx = malloc((size_t)n * n * sizeof *a->dtx);
  a->dmin = malloc(n * sizeof *a->dmin);
  a->rejoin = malloc(n * sizeof *a->rejoin);
  int rc = w && ph && dist && heap && hop && rev && sum && a->d && a->hops && a->dtx && a->dmin &&
                   a->rejoin
               ? 0
               : -1;
  for (uint32_t u = 0; rc == 0 && u < n; u++) {
    uint32_t nu = wf_net_node_of(c->net, lp_of(c, u));
    a->dmin[u] = WF_TIME_MAX;
    for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
      uint32_t v = g->adj[e];
      w[e] = wf_net_path(c->net, nu, wf_net_node_of(c->net, lp_of(c, v)), VOTE_BYTES, 0, 0);
      ph[e] = (wf_time)(wf_mix64((uint64_t)c->id << 48 ^ (uint64_t)u << 24 ^ v) % (uint64_t)P);
    }
  }
  /* A node that enters a height tells its peers (NewRoundStep goes out at once); each peer's
   * routine back to it wakes on its grid and sends what it holds. */
  for (uint32_t u = 0; rc == 0 && u < n; u++) {
    uint64_t total = 0;
    for (int k = 0; k < AGG_STARTS; k++) {
      wf_time t0 = P + P * (wf_time)k / AGG_STARTS, best = WF_TIME_MAX;
      for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
        uint32_t v = g->adj[e], back = g->off[v];
        while (back < g->off[v + 1] && g->adj[back] != u) back++;
        rev[e] = back;
        if (back == g->off[v + 1]) continue;
        wf_time x = t0 + w[e],
                wake = ph[back] + (x > ph[back] ? (x - ph[back] + P - 1) / P * P : 0);
        if (wake + w[back] < best) best = wake + w[back];
      }
      total += best == WF_TIME_MAX ? 0 : (uint64_t)(best - t0);
    }
    a->rejoin[u] = (wf_time)(total / AGG_STARTS);
  }
  for (uint32_t s = 0; rc == 0 && s < n; s++) {
    memset(sum, 0, n * sizeof *sum);
    for (int k = 0; k < AGG_STARTS; k++) {
      wf_time t0 = P + P * (wf_time)k / AGG_STARTS; /* past zero, so that keys stay positive */
      for (uint32_t i = 0; i < n; i++) dist[i] = WF_TIME_MAX;
      uint32_t hn = 0;
      dist[s] = t0, hop[s] = 0;
      key_push(heap, &hn, (uint64_t)t0 << 24 | s);
      while (hn) {
        uint64_t top = key_pop(heap, &hn);
        uint32_t u = (uint32_t)(top & 0xFFFFFF);
        wf_time x = (wf_time)(top >> 24);
        if (x != dist[u]) continue;
        for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
          uint32_t v = g->adj[e];
          wf_time wake = ph[e] + (x > ph[e] ? (x - ph[e] + P - 1) / P * P : 0);
          if (wake + w[e] >= dist[v]) continue;
          dist[v] = wake + w[e];
          if (k == 0) hop[v] = hop[u] < 255 ? hop[u] + 1 : 255;
          key_push(heap, &hn, (uint64_t)dist[v] << 24 | v);
        }
      }
      for (uint32_t i = 0; i < n; i++) /* (the graph is connected) */
        sum[i] += dist[i] == WF_TIME_MAX ? AGG_UNREACHABLE : dist[i] - t0;
    }
    for (uint32_t i = 0; i < n; i++) {
      uint64_t m = (sum[i] + AGG_STARTS / 2) / AGG_STARTS;
      uint32_t d = i == s ? 0 : m < AGG_UNREACHABLE ? (uint32_t)m : AGG_UNREACHABLE;
      a->d[(size_t)i * n + s] = d;
      if (i != s && d != AGG_UNREACHABLE && (wf_time)d < a->dmin[i]) a->dmin[i] = d;
    }
    for (uint32_t i = 0; i < n; i++) a->hops[(size_t)s * n + i] = hop[i];
    /* Transactions: the transport's delay and CheckTx per hop, no routine wait. */
    for (uint32_t i = 0; i < n; i++) dist[i] = WF_TIME_MAX;
    uint32_t hn = 0;
    dist[s] = 0;
    key_push(heap, &hn, s);
    while (hn) {
      uint64_t top = key_pop(heap, &hn);
      uint32_t u = (uint32_t)(top & 0xFFFFFF);
      if ((wf_time)(top >> 24) != dist[u]) continue;
      for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
        uint32_t v = g->adj[e];
        wf_time t = dist[u] + w[e] + c->check_tx;
        if (t >= dist[v]) continue;
        dist[v] = t;
        key_push(heap, &hn, (uint64_t)t << 24 | v);
      }
    }
    for (uint32_t i = 0; i < n; i++)
      a->dtx[(size_t)s * n + i] = dist[i] < AGG_UNREACHABLE ? (uint32_t)dist[i] : AGG_UNREACHABLE;
  }
  free(sum);
  return rc;
}

/* The board's arrays, made by the first of the chain's nodes to start on this rank. */
static int agg_ready(chain_cfg *c) {
  agg_board *a = c->agg;
  if (a->d) return 0;
  uint32_t n = a->nodes;
  a->next_poll = malloc(n * sizeof *a->next_poll);
  a->seq = calloc(n, sizeof *a->seq);
  a->height = calloc(n, sizeof *a->height);
  a->known_h = calloc(n, sizeof *a->known_h);
  a->entered = calloc(n, sizeof *a->entered);
  a->next_entry = calloc(n, sizeof *a->next_entry);
  a->next_h = calloc(n, sizeof *a->next_h);
  a->known_r = calloc(n, sizeof *a->known_r);
  a->at = malloc(c->n * sizeof *a->at);
  a->pw = malloc(c->n * sizeof *a->pw);
  if (!a->next_poll || !a->seq || !a->height || !a->known_h || !a->known_r || !a->entered ||
      !a->next_entry || !a->next_h || !a->at || !a->pw)
    return -1;
  for (uint32_t i = 0; i < n; i++) a->next_poll[i] = NO_POLL;
  if (wf_mempool_init(&a->pool, c->mempool_size, c->mempool_bytes, c->cache_size) != 0) return -1;
  a->pool_ready = 1;
  return agg_paths(c);
}

/* The mean path delay from node `from` to `to`. */
static wf_time agg_delay(const agg_board *a, uint32_t from, uint32_t to) {
  uint32_t d = a->d[(size_t)to * a->nodes + from];
  return d == AGG_UNREACHABLE ? WF_TIME_MAX : d;
}

/* Sending a block of `bytes` over `hops` connections at the send rate, 64 KiB parts relayed
 * as they come: the whole block once, then one part per further hop. */
static wf_time agg_block_time(const chain_cfg *c, uint64_t bytes, uint32_t hops) {
  if (!c->send_rate_bps || !hops) return 0;
  uint64_t part = bytes < PART_BYTES ? bytes : PART_BYTES;
  double ns = (double)(bytes + (uint64_t)(hops - 1) * part) * 8e9 / (double)c->send_rate_bps;
  return (wf_time)(ns + 0.5);
}

/* What was sent at t reaches node i `d` later; its peers do not send it what it holds of a
 * height before it entered that height and told them. */
static wf_time agg_reaches(const agg_board *a, uint32_t i, wf_time t, wf_time d) {
  if (d == WF_TIME_MAX) return WF_TIME_MAX;
  return t + d > a->known_h[i] ? t + d : a->known_h[i];
}

/* When the proposal p of node i's current round reaches it: as computed when it was made, or
 * for a node then behind, from the mean path once it has entered the height. */
static wf_time agg_prop_arrival(const chain_cfg *c, const agg_prop *p, uint32_t i) {
  const agg_board *a = c->agg;
  if (p->who == i) return p->t;
  wf_time at = p->at[i];
  if (at == WF_TIME_MAX) {
    wf_time d = agg_delay(a, p->who, i);
    if (d == WF_TIME_MAX) return WF_TIME_MAX;
    at = agg_reaches(a, i, p->t,
                     d + agg_block_time(c, p->bytes, a->hops[(size_t)p->who * a->nodes + i]));
  }
  return at > a->known_r[i] ? at : a->known_r[i];
}

/* A proposal's (and its block's) arrival at every node, as the data routines relay it from
 * proposer s at t: each relay u sends it to peer v at the wake of its routine after both u has
 * it and u has heard that v entered the height (v's NewRoundStep; a node that has not entered
 * the height, nor decided the one before, gets nothing yet). Time-dependent Dijkstra on the
 * edges' real phases; the block's bytes are added over the hops of the path. */
static void agg_prop_paths(chain_cfg *c, int64_t h, int32_t r, uint32_t s, wf_time t,
                           uint64_t bytes, wf_time *out) {
  agg_board *a = c->agg;
  const wf_peer_graph *g = &c->g;
  uint32_t n = a->nodes, hn = 0;
  wf_time P = c->sleep, *dist = a->dist;
  for (uint32_t i = 0; i < n; i++) dist[i] = WF_TIME_MAX;
  dist[s] = t, a->hop[s] = 0;
  key_push(a->heap, &hn, (uint64_t)t << 24 | s);
  while (hn) {
    uint64_t top = key_pop(a->heap, &hn);
    uint32_t u = (uint32_t)(top & 0xFFFFFF);
    wf_time x = (wf_time)(top >> 24);
    if (x != dist[u]) continue;
    for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
      uint32_t v = g->adj[e];
      wf_time start = x;
      if (h > 1 && r == 0) { /* at height 1 every node starts knowing its peers are there */
        wf_time in = a->height[v] == h   ? a->entered[v]
                     : a->next_h[v] == h ? a->next_entry[v]
                                         : WF_TIME_MAX;
        if (in == WF_TIME_MAX || a->rev[e] == g->off[v + 1]) continue;
        if (in + a->w[a->rev[e]] > start) start = in + a->w[a->rev[e]];
      }
      wf_time wake = a->ph[e] + (start > a->ph[e] ? (start - a->ph[e] + P - 1) / P * P : 0);
      if (wake + a->w[e] >= dist[v]) continue;
      dist[v] = wake + a->w[e];
      a->hop[v] = a->hop[u] < 255 ? a->hop[u] + 1 : 255;
      key_push(a->heap, &hn, (uint64_t)dist[v] << 24 | v);
    }
  }
  for (uint32_t i = 0; i < n; i++)
    out[i] = dist[i] == WF_TIME_MAX ? WF_TIME_MAX : dist[i] + agg_block_time(c, bytes, a->hop[i]);
}

/* Wakes node i at `at` unless a wake at or before it is already on its way. */
static void agg_wake(chain_cfg *c, wf_lp *lp, uint32_t i, wf_time at) {
  agg_board *a = c->agg;
  if (at == WF_TIME_MAX || at >= a->next_poll[i]) return;
  wf_time now = wf_now(lp), delay = at > now ? at - now : 0;
  wf_lpid to = lp_of(c, i);
  if (to != wf_lp_id(lp) && delay < c->vtype.min_delay) delay = c->vtype.min_delay;
  a->next_poll[i] = now + delay;
  uint32_t seq = ++a->seq[i];
  wf_send(lp, to, delay, K_POLL, &seq, sizeof seq);
}

/* The board's record of height h (made on first use; NULL for a height it no longer keeps). */
static agg_height *agg_height_of(agg_board *a, int64_t h) {
  agg_height *s = &a->slot[h % AGG_SLOTS];
  if (s->h > h) return NULL;
  if (s->h < h) agg_height_reset(s, h);
  return s;
}

static agg_round *agg_round_of(agg_board *a, agg_height *s, int32_t r) {
  if (r < 0 || r > 4096) return NULL;
  if (r < s->nr) return &s->r[r];
  agg_round *x = realloc(s->r, ((size_t)r + 1) * sizeof *x);
  if (!x) return NULL;
  s->r = x;
  for (; s->nr <= r; s->nr++) {
    agg_round *y = &x[s->nr];
    memset(y, 0, sizeof *y);
    y->posted[0] = calloc(a->words, sizeof(uint64_t));
    y->posted[1] = calloc(a->words, sizeof(uint64_t));
    if (!y->posted[0] || !y->posted[1]) {
      agg_round_free(y);
      return NULL;
    }
  }
  return &x[r];
}

/* Node i will enter height `next` at `at`. */
static void agg_decided(agg_board *a, uint32_t i, int64_t next, wf_time at) {
  a->next_h[i] = next, a->next_entry[i] = at;
}

/* Its peers learn its new round, then send it the round's proposal. */
static void agg_new_round(val_node *v, int32_t r) {
  agg_board *a = v->c->agg;
  a->known_r[v->me] = r == 0 ? a->known_h[v->me] : wf_now(v->lp) + a->rejoin[v->me];
  if (r > 0) agg_wake(v->c, v->lp, v->me, a->known_r[v->me]);
}

/* Every node still at or below height h looks at the board soon (a first look: it computes
 * when +2/3 will have reached it). */
static void agg_wake_all(val_node *v, int64_t h, wf_time after) {
  agg_board *a = v->c->agg;
  wf_time now = wf_now(v->lp);
  for (uint32_t i = 0; i < a->nodes; i++)
    if (a->height[i] <= h) agg_wake(v->c, v->lp, i, i == v->me ? now : now + after);
}

/* A validator's vote goes on the board. When it brings the power there to +2/3 (in all, or
 * for its value), every node is told to look. */
static void agg_post(val_node *v, int type, int64_t h, int32_t r, tm_value val) {
  chain_cfg *c = v->c;
  agg_board *a = c->agg;
  agg_height *s = agg_height_of(a, h);
  agg_round *rd = s ? agg_round_of(a, s, r) : NULL;
  if (!rd) {
    if (s) wf_lp_fail(v->lp, "out of memory for the vote board");
    return;
  }
  uint64_t bit = 1ull << (v->me & 63);
  if (rd->posted[type][v->me >> 6] & bit) return;
  if (rd->n[type] == rd->cap[type]) {
    uint32_t cap = rd->cap[type] ? 2 * rd->cap[type] : 16;
    agg_cast *x = realloc(rd->cast[type], cap * sizeof *x);
    if (!x) {
      wf_lp_fail(v->lp, "out of memory for the vote board");
      return;
    }
    rd->cast[type] = x, rd->cap[type] = cap;
  }
  rd->cast[type][rd->n[type]++] = (agg_cast){wf_now(v->lp), val, v->me};
  rd->posted[type][v->me >> 6] |= bit;
  wf_count(v->lp, c->m_votes, 1);
  uint64_t p = c->power[v->me], total = v->tm.total;
  uint32_t k = 0;
  while (k < rd->nval[type] && rd->val[type][k] != val) k++;
  if (k == rd->nval[type] && k < 4) rd->val[type][rd->nval[type]++] = val;
  int crossed = !tm_quorum(rd->any[type], total) && tm_quorum(rd->any[type] + p, total);
  rd->any[type] += p;
  if (k < 4) {
    crossed |= !tm_quorum(rd->power[type][k], total) && tm_quorum(rd->power[type][k] + p, total);
    rd->power[type][k] += p;
  }
  if (crossed) agg_wake_all(v, h, c->vtype.min_delay);
}

static void agg_propose(val_node *v, int64_t h, int32_t r, tm_value val, int32_t pol) {
  chain_cfg *c = v->c;
  agg_board *a = c->agg;
  agg_height *s = agg_height_of(a, h);
  agg_round *rd = s ? agg_round_of(a, s, r) : NULL;
  const blk *b = store_get(&c->store, val);
  if (!rd || !b) {
    if (s) wf_lp_fail(v->lp, "out of memory for the vote board");
    return;
  }
  if (rd->prop.set) return;
  wf_time *at = malloc(a->nodes * sizeof *at);
  if (!at) {
    wf_lp_fail(v->lp, "out of memory for the vote board");
    return;
  }
  rd->prop = (agg_prop){at, wf_now(v->lp), b->bytes, val, pol, v->me, 1};
  agg_prop_paths(c, h, r, v->me, wf_now(v->lp), b->bytes, at);
  wf_count(v->lp, c->m_parts, b->nparts);
  for (uint32_t i = 0; i < a->nodes; i++)
    if (i != v->me && a->height[i] <= h) agg_wake(c, v->lp, i, agg_prop_arrival(c, &rd->prop, i));
}

/* The votes of one round and type on their way to a node: read from the board up to
 * `cursor`, with their arrival there, not yet taken. */
typedef struct agg_pend_e {
  wf_time at;
  uint32_t who;
  tm_value v;
} agg_pend_e;

typedef struct agg_pend {
  agg_pend_e *e;
  uint32_t n, cap, cursor;
  /* When it last worked out the next +2/3 from them: the time (WF_TIME_MAX: none) and the
   * power it held then. Votes read since that arrive no sooner, with nothing new held, leave
   * it as it was. */
  wf_time quorum_at;
  uint64_t held;
} agg_pend;

/* Rounds [0, nr) of the node's height in use (a new height starts with none). */
static int agg_got_rounds(val_node *v, int32_t nr) {
  if (nr <= v->got_rounds) return 0;
  if (nr > v->pend_cap) {
    agg_pend *p = realloc(v->pend, (size_t)nr * 2 * sizeof *p);
    if (p) v->pend = p;
    uint8_t *g = p ? realloc(v->prop_got, (size_t)nr) : NULL;
    if (!g) return -1;
    v->prop_got = g;
    memset(p + (size_t)v->pend_cap * 2, 0, (size_t)(nr - v->pend_cap) * 2 * sizeof *p);
    v->pend_cap = nr;
  }
  for (int32_t r = v->got_rounds; r < nr; r++) {
    v->prop_got[r] = 0;
    for (int t = 0; t < 2; t++) {
      agg_pend *p = &v->pend[r * 2 + t];
      p->n = p->cursor = 0, p->quorum_at = WF_TIME_MAX, p->held = 0;
    }
  }
  v->got_rounds = nr;
  return 0;
}

/* Reads the votes of (r, type) cast since it last looked into the node's pending list. */
static int agg_read_board(val_node *v, const agg_round *rd, int32_t r, int type) {
  const agg_board *a = v->c->agg;
  agg_pend *p = &v->pend[r * 2 + type];
  const uint32_t *row = a->d + (size_t)v->me * a->nodes; /* delays to this node */
  wf_time known = a->known_h[v->me];
  for (; p->cursor < rd->n[type]; p->cursor++) {
    const agg_cast *x = &rd->cast[type][p->cursor];
    if (x->who == v->me || row[x->who] == AGG_UNREACHABLE) continue; /* its own: counted */
    if (p->n == p->cap) {
      uint32_t cap = p->cap ? 2 * p->cap : 64;
      agg_pend_e *e = realloc(p->e, cap * sizeof *e);
      if (!e) return -1;
      p->e = e, p->cap = cap;
    }
    wf_time at = x->t + row[x->who];
    p->e[p->n++] = (agg_pend_e){at > known ? at : known, x->who, x->v};
  }
  return 0;
}

static void swap2(wf_time *at, uint64_t *pw, uint32_t i, uint32_t j) {
  wf_time x = at[i];
  uint64_t p = pw[i];
  at[i] = at[j], pw[i] = pw[j];
  at[j] = x, pw[j] = p;
}

/* The least x among at[0..n) such that the powers pw of those <= x add up to more than `need`,
 * which they must in all: a weighted selection (quickselect with three-way partitions,
 * expected linear; at and pw are reordered). */
static wf_time weighted_select(wf_time *at, uint64_t *pw, uint32_t n, uint64_t need) {
  uint32_t lo = 0, hi = n; /* the answer is in [lo, hi), whose powers add up to more than need */
  uint64_t state = n * 0x9E3779B97F4A7C15ull ^ need;
  while (hi - lo > 1) {
    state = wf_mix64(state);
    wf_time pivot = at[lo + state % (hi - lo)];
    uint32_t lt = lo, i = lo, gt = hi;
    uint64_t below = 0, equal = 0;
    while (i < gt) {
      if (at[i] < pivot) {
        below += pw[i];
        swap2(at, pw, lt++, i++);
      } else if (at[i] > pivot) {
        swap2(at, pw, i, --gt);
      } else {
        equal += pw[i++];
      }
    }
    if (below > need)
      hi = lt;
    else if (below + equal > need)
      return pivot;
    else
      need -= below + equal, lo = gt;
  }
  return at[lo];
}

static void fall_behind(val_node *v, int64_t h);

/* The node's delivered power for (r, type) in all (all = 1) or for val, from its state
 * machine's tally. */
static uint64_t tally_of(const val_node *v, int32_t r, int type, int all, tm_value val) {
  if (r >= v->tm.nrounds) return 0;
  const tm_votes *t = &v->tm.rounds[r].votes[type];
  if (all) return t->any;
  for (uint32_t k = 0; k < t->nval; k++)
    if (t->val[k] == val) return t->power[k];
  return 0;
}

/* When the votes of (r, type) still on their way to node v bring what it holds, for `val` (or
 * of any value, all = 1), to +2/3 of the power: WF_TIME_MAX if they never can, or if it holds
 * that already. */
static wf_time agg_quorum_at(val_node *v, int32_t r, int type, int all, tm_value val) {
  agg_board *a = v->c->agg;
  const agg_pend *p = &v->pend[r * 2 + type];
  __extension__ typedef unsigned __int128 u128;
  uint64_t need = (uint64_t)((u128)v->tm.total * 2 / 3); /* more than this: power x 3 > total x 2 */
  uint64_t held = tally_of(v, r, type, all, val), sum = 0;
  if (held > need) return WF_TIME_MAX;
  uint32_t m = 0;
  for (uint32_t k = 0; k < p->n; k++) /* the subset, into the scratch */
    if (all || p->e[k].v == val) {
      a->at[m] = p->e[k].at, a->pw[m] = v->c->power[p->e[k].who];
      sum += a->pw[m++];
    }
  return sum > need - held ? weighted_select(a->at, a->pw, m, need - held) : WF_TIME_MAX;
}

/* The votes of (r, type) can no longer move the node: it holds +2/3 of them, and +2/3 for
 * each value that has +2/3 on the board (the rest changes no rule of the state machine; if a
 * value reaches +2/3 on the board later, everyone is woken to look again). */
static int agg_settled(const val_node *v, const agg_round *rd, int32_t r, int type) {
  uint64_t total = v->tm.total;
  if (!tm_quorum(tally_of(v, r, type, 1, TM_NIL), total)) return 0;
  for (uint32_t k = 0; k < rd->nval[type]; k++)
    if (tm_quorum(rd->power[type][k], total) &&
        !tm_quorum(tally_of(v, r, type, 0, rd->val[type][k]), total))
      return 0;
  return 1;
}

/* The node takes, round by round, the proposal and the votes of its height that have reached
 * it, and asks to be woken when it must look next: at a proposal's arrival, or at the time +2/3
 * of a round's votes (of any value, or of one) will have reached it if that is final (no vote
 * cast from now on arrives before it), else at the time it becomes final. One pass over the
 * board: what is not here yet is what the quorum times are computed from. */
static void agg_poll(val_node *v) {
  chain_cfg *c = v->c;
  agg_board *a = c->agg;
  if (silent(v) || v->catching_up) return;
  int64_t h = v->tm.height;
  if (c->store.committed > h) { /* the chain is a height ahead: blocksync */
    fall_behind(v, c->store.committed + 1);
    return;
  }
  agg_height *s = &a->slot[h % AGG_SLOTS];
  if (s->h != h) return;
  wf_time now = wf_now(v->lp), next = WF_TIME_MAX, dmin = a->dmin[v->me];
  uint32_t me = v->me, took = 0;
  for (int32_t r = 0; r < s->nr; r++) {
    if (agg_got_rounds(v, s->nr) != 0) {
      wf_lp_fail(v->lp, "out of memory for the vote board");
      return;
    }
    if (!v->prop_got[r] && s->r[r].prop.set && r == v->tm.round) {
      agg_prop p = s->r[r].prop;
      wf_time at = agg_prop_arrival(c, &p, me);
      if (at <= now) {
        v->prop_got[r] = 1;
        tm_proposal(&v->tm, h, r, p.v, p.pol);
        if (p.who != me)
          wf_net_account(v->lp, c->net, &v->port, 0,
                         (uint32_t)(p.bytes < UINT32_MAX ? p.bytes : UINT32_MAX), 1, now);
      } else if (at < next) {
        next = at;
      }
    }
    for (int type = 0; type < 2; type++) {
      if (agg_settled(v, &s->r[r], r, type)) continue;
      agg_pend *p = &v->pend[r * 2 + type];
      uint32_t old = p->n;
      if (agg_read_board(v, &s->r[r], r, type) != 0) {
        wf_lp_fail(v->lp, "out of memory for the vote board");
        return;
      }
      wf_time q = p->quorum_at;
      if (q != WF_TIME_MAX && q > now && p->held == tally_of(v, r, type, 1, TM_NIL)) {
        uint32_t k = old;
        while (k < p->n && p->e[k].at >= q) k++;
        if (k == p->n) { /* the +2/3 worked out before stands: no vote before it is due */
          if (dmin != WF_TIME_MAX && q - now > dmin) q -= dmin;
          if (q < next) next = q;
          continue;
        }
      }
      /* Takes what has arrived (its votes may put more on the board, not here). */
      uint32_t kept = 0;
      for (uint32_t k = 0; k < p->n; k++) {
        agg_pend_e e = p->e[k];
        if (e.at > now) {
          p->e[kept++] = e;
          continue;
        }
        took++;
        tm_vote(&v->tm, e.who, type, h, r, e.v);
      }
      p->n = kept;
      p->quorum_at = WF_TIME_MAX, p->held = tally_of(v, r, type, 1, TM_NIL);
      if (!kept) continue;
      const agg_round *rd = &s->r[r];
      uint64_t total = v->tm.total;
      for (uint32_t k = 0; k <= rd->nval[type]; k++) { /* k = nval: any value */
        int all = k == rd->nval[type];
        if (!tm_quorum(all ? rd->any[type] : rd->power[type][k], total)) continue;
        wf_time x = agg_quorum_at(v, r, type, all, all ? TM_NIL : rd->val[type][k]);
        if (x < p->quorum_at) p->quorum_at = x;
      }
      q = p->quorum_at;
      if (q == WF_TIME_MAX) continue;
      if (dmin != WF_TIME_MAX && q - now > dmin) q -= dmin; /* not final yet: look again */
      if (q < next) next = q;
    }
  }
  if (took) wf_net_account(v->lp, c->net, &v->port, took, VOTE_BYTES, took, now);
  agg_wake(c, v->lp, me, next);
}

/* Back on the network: what it cast or proposed while cut off goes on the board now, and it
 * takes what reached it meanwhile. */
static void agg_reconnect(val_node *v) {
  int64_t h = v->tm.height;
  if (v->own_prop_h == h && v->own_prop_r == v->tm.round)
    agg_propose(v, h, v->own_prop_r, v->own_prop_v, v->own_prop_pol);
  for (int32_t r = 0; v->me < v->c->n && r < v->tm.nrounds; r++)
    for (int type = 0; type < 2; type++) {
      tm_value x = v->tm.rounds[r].votes[type].by_val[v->me];
      if (x) agg_post(v, type, h, r, x - 1);
    }
  agg_poll(v);
}

/* The proposer holds a transaction of the chain's pool once it has reached it. */
static int agg_held(void *ud, const wf_mp_entry *e) {
  const val_node *v = ud;
  const agg_board *a = v->c->agg;
  uint32_t d = a->dtx[(size_t)e->from * a->nodes + v->me];
  return d != AGG_UNREACHABLE && e->added + d <= wf_now(v->lp);
}

static wf_mempool *agg_pool(agg_board *a) {
  return &a->pool;
}

/* 1 for the first node to apply height h's block (the one that takes it out of the pool). */
static int agg_first_apply(agg_board *a, int64_t h) {
  if (h <= a->pool_applied) return 0;
  a->pool_applied = h;
  return 1;
}

static void host_propose(void *ud, int64_t h, int32_t r, tm_value val, int32_t pol) {
  val_node *v = ud;
  if (v->c->agg) {
    v->own_prop_h = h, v->own_prop_r = r, v->own_prop_v = val, v->own_prop_pol = pol;
    if (!silent(v)) agg_propose(v, h, r, val, pol);
    return;
  }
  g_height *s = slot_of(v, h);
  g_round *rd = s ? round_of(v, s, r) : NULL;
  if (!rd || start_parts(v, rd, val) != 0) {
    wf_lp_fail(v->lp, "out of memory for a proposal");
    return;
  }
  rd->prop = val, rd->pol = pol, rd->complete = 1, rd->parts_got = rd->nparts;
  memset(rd->part_got, 1, rd->nparts);
  if (pol < 0 && byzantine(v)) propose_twice(v, rd, h, r, val);
  wake_lacking(v, rd->prop_have, R_DATA);
}

static void host_vote(void *ud, int type, int64_t h, int32_t r, tm_value val) {
  val_node *v = ud;
  if (v->me >= v->c->n) return; /* full nodes do not vote */
  if (v->c->agg) {
    if (!silent(v)) agg_post(v, type, h, r, val);
    return;
  }
  g_height *s = slot_of(v, h);
  g_round *rd = s ? round_of(v, s, r) : NULL;
  if (!rd) return;
  g_vote *gv = &rd->votes[type][v->me];
  if (gv->val1) return;
  if (!byzantine(v) || !vote_twice(v, gv, type, h, r)) gv->val1 = val + 1;
  wake_lacking(v, gv->have, R_VOTES);
}

static void host_timeout(void *ud, int kind, int64_t h, int32_t r, wf_time after) {
  val_node *v = ud;
  timeout_msg m = {h, r, kind};
  self_send(v, after, K_TIMEOUT, &m, sizeof m);
}

static void host_decide(void *ud, int64_t h, int32_t r, tm_value val) {
  val_node *v = ud;
  chain_cfg *c = v->c;
  wf_count(v->lp, c->m_node_commits, 1);
  uint32_t prop = r < v->nround_proposer ? v->round_proposer[r] : UINT32_MAX;
  commit_msg m = {h, wf_now(v->lp), r, val, v->me, prop};
  wf_send(v->lp, c->monitor, c->vtype.min_delay, M_COMMIT, &m, sizeof m);
  g_height *s = slot_of(v, h);
  if (s) s->decided = r;
  v->decided_value = val;
  if (r > 0) wf_count(v->lp, c->m_rounds, (uint64_t)r);
  if (h > c->store.committed && note_commit(&c->store, h, val) != 0) /* the chain's record */
    wf_lp_fail(v->lp, "out of memory for the commit record");
  /* consensus/state.go finalizeCommit: the block is executed (FinalizeBlock, Commit) and the
   * mempool updated; the next height starts timeout_commit after +2/3 precommits were seen,
   * or when that is done if it takes longer. The send order puts the update first. */
  blk *b = store_get(&c->store, val);
  wf_time exec = b ? b->exec : c->exec;
  applied_msg a = {h, val};
  self_send(v, exec, K_APPLIED, &a, sizeof a);
  wf_time wait = c->to.commit > exec ? c->to.commit : exec;
  int64_t next = h + 1;
  if (c->agg) agg_decided(c->agg, v->me, next, wf_now(v->lp) + wait);
  self_send(v, wait, K_NEXT_HEIGHT, &next, sizeof next);
}

/* A conflicting vote: the node keeps it as evidence (one piece per validator and height) until
 * a block it or another proposer makes includes it (CometBFT's evidence pool). */
static void host_equivocation(void *ud, uint32_t validator, int type, int64_t h, int32_t r) {
  val_node *v = ud;
  (void)type, (void)r;
  wf_count(v->lp, v->c->m_evidence, 1);
  uint64_t key = (uint64_t)validator << 40 | (uint64_t)h;
  for (uint32_t i = 0; i < v->nevidence; i++)
    if (v->evidence[i] == key) return;
  if (v->nevidence < MAX_EVIDENCE) v->evidence[v->nevidence++] = key;
}

/* Feeds what a height's slot holds to the state machine (after it starts that height). */
static void replay(val_node *v, g_height *s) {
  for (int32_t r = 0; r < s->nrounds; r++)
    if (s->rounds[r].complete) tm_proposal(&v->tm, s->h, r, s->rounds[r].prop, s->rounds[r].pol);
  for (int32_t r = 0; r < s->nrounds; r++)
    for (int type = 0; type < 2; type++)
      for (uint32_t i = 0; i < v->c->n; i++) {
        tm_value x = s->rounds[r].votes[type][i].val1;
        if (x && i != v->me) tm_vote(&v->tm, i, type, s->h, r, x - 1);
      }
}

/* Moves the node's window of heights to [h - 1, h + 1] and starts h. */
static void enter_height(val_node *v, int64_t h) {
  for (int64_t k = h - 1; k <= h + 1; k++)
    if (k >= 1 && v->slot[k % SLOTS].h != k) height_reset(&v->slot[k % SLOTS], k);
  v->nround_proposer = 0;
  v->rset_round = -1;
  if (v->c->agg) { /* height 1: every node starts there, its peers know */
    agg_board *a = v->c->agg;
    a->height[v->me] = h;
    a->known_h[v->me] = h == 1 ? 0 : wf_now(v->lp) + a->rejoin[v->me];
    a->entered[v->me] = wf_now(v->lp);
  }
  tm_start_height(&v->tm, h);
  if (!v->c->agg) {
    replay(v, &v->slot[h % SLOTS]);
    return;
  }
  v->got_rounds = 0;
  agg_poll(v);
}

/* ---- transactions ---- */

#define RESULT_BYTES 60u /* a transaction's outcome as an RPC event tells it */

static void tell_client(val_node *v, wf_lpid client, const wf_tx_result *res) {
  if (silent(v)) return; /* the client hears nothing (it may time out) */
  wf_net_send(v->lp, v->c->net, &v->port, NULL, client, RESULT_BYTES, WF_TX_RESULT,
              v->c->cls_result, res, sizeof *res);
}

static wf_mempool *pool_of(val_node *v) {
  return v->c->agg ? agg_pool(v->c->agg) : &v->mp;
}

/* Transactions in pools count once per node holding them: in the aggregate mode, every node
 * holds the chain's pool. */
static int64_t holders(const chain_cfg *c) {
  return c->agg ? (int64_t)(c->n + c->full) : 1;
}

static void reject(val_node *v, const wf_tx *t, wf_lpid client, int reason) {
  wf_mempool_forget(pool_of(v), t->id); /* CometBFT lets a refused transaction be sent again */
  wf_count(v->lp, v->c->m_rejected, 1);
  if (client == WF_LP_NONE) return;
  wf_tx_result res = {t->id, 0, 0, 0, WF_TX_REJECTED, (uint8_t)reason, {0}};
  tell_client(v, client, &res);
}

/* CheckTx done: the ante handler's checks (size, gas limit, fee), then the pool's caps. An
 * admitted transaction is broadcast to every peer but the one it came from (the mempool
 * reactor's broadcastTxRoutine, which does not sleep while it has transactions to send). */
static void admit(val_node *v, const wf_tx *t, wf_lpid client, uint32_t from) {
  chain_cfg *c = v->c;
  if (t->bytes > c->max_block_bytes - c->block_overhead ||
      (c->max_block_gas && t->gas_wanted > c->max_block_gas)) {
    reject(v, t, client, WF_TX_TOO_BIG);
    return;
  }
  if (t->price < price_floor(v)) {
    reject(v, t, client, WF_TX_FEE);
    return;
  }
  /* In the aggregate mode `from` is the node it entered by (its path to a proposer). */
  wf_mp_entry e = {*t, client, c->agg ? v->me : from, wf_now(v->lp)};
  int rc = wf_mempool_add(pool_of(v), &e);
  if (rc != WF_TX_OK) {
    reject(v, t, client, rc);
    return;
  }
  wf_gauge_add(v->lp, c->g_mempool, holders(c));
  for (uint32_t j = 0; !c->agg && j < v->deg; j++) {
    if (j == from) continue;
    to_peer(v, j, M_TX, t->bytes + TX_OVERHEAD, c->cls_tx, t, sizeof *t);
    wf_count(v->lp, c->m_tx_msgs, 1);
  }
}

/* A transaction from a client (client set) or a peer (from set): the cache, then CheckTx on
 * the node's CPU, one at a time. */
static void on_tx(val_node *v, const wf_tx *t, wf_lpid client, uint32_t from) {
  if (wf_mempool_seen(pool_of(v), t->id)) {
    if (client != WF_LP_NONE) {
      wf_tx_result res = {t->id, 0, 0, 0, WF_TX_REJECTED, WF_TX_DUPLICATE, {0}};
      tell_client(v, client, &res);
    }
    return;
  }
  if (!v->c->check_tx) {
    admit(v, t, client, from);
    return;
  }
  wf_time now = wf_now(v->lp), start = v->check_free > now ? v->check_free : now;
  v->check_free = start + v->c->check_tx;
  checked_msg m = {*t, client, from};
  self_send(v, v->check_free - now, K_TX_CHECKED, &m, sizeof m);
}

typedef struct apply_ctx {
  val_node *v;
  const blk *b;
} apply_ctx;

/* A transaction leaves a mempool: the gauge, and its time there (Little's law: the residence
 * summed per second is the mean number in the pools). */
static void left_pool(val_node *v, const wf_mp_entry *e) {
  int64_t k = holders(v->c);
  wf_gauge_add(v->lp, v->c->g_mempool, -k);
  wf_count(v->lp, v->c->m_residence, (uint64_t)k * (wf_now(v->lp) - e->added));
}

static int in_block(void *ud, const wf_mp_entry *e) {
  return blk_find(((apply_ctx *)ud)->b, e->tx.id) != UINT32_MAX;
}

/* Tells the client of the block's i-th transaction its outcome. */
static void tell_outcome(val_node *v, const blk *b, uint32_t i, wf_lpid client) {
  uint64_t price = b->base_price ? b->base_price : b->tx[i].price;
  wf_tx_result res = {b->ids[i],
                      (uint64_t)b->h,
                      add_mul_sat(0, b->tx[i].gas_wanted, price),
                      b->used[i],
                      b->failed_tx[i] ? WF_TX_FAILED : WF_TX_COMMITTED,
                      WF_TX_OK,
                      {0}};
  tell_client(v, client, &res);
}

static void tx_removed(void *ud, const wf_mp_entry *e) {
  apply_ctx *a = ud;
  left_pool(a->v, e);
  if (e->client != WF_LP_NONE) tell_outcome(a->v, a->b, blk_find(a->b, e->tx.id), e->client);
}

/* The aggregate mode's pool: the first node to apply a block takes its transactions out. */
static void agg_left(void *ud, const wf_mp_entry *e) {
  left_pool(((apply_ctx *)ud)->v, e);
}

static int underpriced(void *ud, const wf_mp_entry *e) {
  return e->tx.price < price_floor(ud);
}

/* A crash empties the pool: the residence ends there (Little's law keeps counting it). */
static void lost_in_crash(void *ud, const wf_mp_entry *e) {
  left_pool(ud, e);
}

static void evicted(void *ud, const wf_mp_entry *e) {
  val_node *v = ud;
  left_pool(v, e);
  wf_mempool_forget(pool_of(v), e->tx.id); /* failing recheck, it may be sent again */
  wf_count(v->lp, v->c->m_rejected, 1);
  if (e->client == WF_LP_NONE) return;
  wf_tx_result res = {e->tx.id, 0, 0, 0, WF_TX_REJECTED, WF_TX_FEE, {0}};
  tell_client(v, e->client, &res);
}

/* Update after height h's block: its transactions leave the pool (their clients hear of it),
 * and the rest are checked again (recheck = true), which keeps CheckTx busy for that long. */
static void apply_block(val_node *v, int64_t h, tm_value val) {
  chain_cfg *c = v->c;
  if (h <= v->applied) return;
  v->applied = h;
  c->store.applied[v->me] = h;
  const blk *b = store_get(&c->store, val);
  if (!b) return;
  /* Evidence the block includes leaves the node's pool. */
  for (uint32_t i = 0; i < b->nevidence; i++)
    for (uint32_t k = 0; k < v->nevidence; k++)
      if (v->evidence[k] == b->evidence[i]) {
        v->evidence[k] = v->evidence[--v->nevidence];
        break;
      }
  apply_ctx a = {v, b};
  wf_mempool *pool = pool_of(v);
  /* Per hop, each node's pool; in the aggregate mode the chain's, once, and each node tells
   * the clients that sent it their transactions. */
  int first = !c->agg || agg_first_apply(c->agg, h);
  uint32_t left = pool->n;
  if (first) {
    if (b->ntx) left = wf_mempool_filter(pool, in_block, c->agg ? agg_left : tx_removed, &a);
    wf_mempool_committed(pool, b->ids, b->ntx);
  }
  for (uint32_t i = 0; c->agg && i < b->ntx; i++)
    if (b->entry[i] == v->me && b->client[i] != WF_LP_NONE) tell_outcome(v, b, i, b->client[i]);
  if (c->market) {
    /* x/feemarket's EndBlock: the block's gas moves the price; the recheck then evicts what
     * no longer pays it (CometBFT drops them silently; here their clients are told, so that
     * every transaction has an outcome). */
    wf_error err = {0};
    if (wf_feemarket_update(&v->fm, &c->fm, b->gas_used, &err) != 0) {
      wf_lp_fail(v->lp, "fee market: %s", err.msg);
      return;
    }
    if (first) left = wf_mempool_filter(pool, underpriced, evicted, v);
    if (h > c->price_h) c->price_h = h, c->price_now = price_floor(v);
  }
  if (c->check_tx && left) {
    wf_time now = wf_now(v->lp), start = v->check_free > now ? v->check_free : now;
    v->check_free = start + (wf_time)left * c->check_tx;
  }
}

/* ---- messages ---- */

static uint32_t peer_index(const val_node *v, wf_lpid src) {
  for (uint32_t j = 0; j < v->deg; j++)
    if (v->peers[j].lp == src) return j;
  return UINT32_MAX;
}

/* A node two or more heights behind fetches the missing blocks (blocksync) before it joins:
 * one block after another from a peer, at its downlink's speed. */
static void fall_behind(val_node *v, int64_t h) {
  if (v->catching_up) return;
  v->catching_up = 1;
  v->target = h;
  const blockstore *st = &v->c->store;
  wf_time t = 0;
  for (int64_t k = v->tm.height; k < h; k++) {
    const blk *b = store_get(st, committed_at(st, k));
    uint64_t bytes = b ? b->bytes : v->c->block_overhead;
    t += wf_net_ser_down(v->c->net, v->port.node, (uint32_t)(bytes > UINT32_MAX ? UINT32_MAX : bytes)) +
         wf_net_min_delay(v->c->net);
  }
  self_send(v, t, K_CATCHUP, &h, sizeof h);
}

static void completed(val_node *v, g_height *s, int32_t r);

/* +2/3 precommitted a block other than the round's proposal we hold: fetch that block instead
 * (consensus/state.go addVote and enterCommit reset the round's part set to the committed
 * block's header), taking it whole at once if another round of this height brought it. */
static void switch_block(val_node *v, g_height *s, int32_t r, tm_value val) {
  g_round *rd = &s->rounds[r];
  free(rd->part_have), free(rd->part_got);
  rd->part_have = NULL, rd->part_got = NULL;
  rd->prop = val, rd->pol = -1, rd->prop_have = 0, rd->parts_got = 0, rd->complete = 0;
  if (start_parts(v, rd, val) != 0) {
    rd->prop = TM_NIL;
    return;
  }
  /* Tell the peers (CometBFT's NewValidBlock carries the new part-set header and our empty
   * bit array): what they sent us of the other block does not count for this one. */
  wire_msg m = {s->h, r, -1, val, 0, 0};
  for (uint32_t j = 0; j < v->deg; j++) send_wire(v, j, M_VALID_BLOCK, STEP_BYTES, v->c->cls_step, &m);
  for (int32_t k = 0; k < s->nrounds; k++)
    if (k != r && s->rounds[k].complete && s->rounds[k].prop == val) {
      memset(rd->part_got, 1, rd->nparts);
      rd->parts_got = rd->nparts;
      completed(v, s, r);
      return;
    }
}

static void on_vote(val_node *v, g_height *s, uint32_t j, const wire_msg *m) {
  g_round *rd = round_of(v, s, m->r);
  if (!rd || m->index >= v->c->n || m->type > 1) return;
  g_vote *gv = &rd->votes[m->type][m->index];
  if (gv->val1 == m->v + 1) {
    gv->have |= 1ull << j;
    return;
  }
  if (!gv->val1) { /* a conflicting vote is evidence, counted but not passed on */
    gv->val1 = m->v + 1;
    gv->have = 1ull << j;
    wake_lacking(v, gv->have, R_VOTES);
  }
  tm_vote(&v->tm, m->index, m->type, m->h, m->r, m->v);
  tm_value maj;
  if (m->type == TM_PRECOMMIT && m->h == v->tm.height && !v->tm.decided &&
      tm_majority(&v->tm, m->r, TM_PRECOMMIT, &maj) && maj != TM_NIL && maj != rd->prop)
    switch_block(v, s, m->r, maj);
}

static void completed(val_node *v, g_height *s, int32_t r) {
  g_round *rd = &s->rounds[r];
  rd->complete = 1;
  tm_proposal(&v->tm, s->h, r, rd->prop, rd->pol);
}

static void on_proposal(val_node *v, g_height *s, uint32_t j, const wire_msg *m) {
  g_round *rd = round_of(v, s, m->r);
  if (!rd || m->v == TM_NIL) return;
  if (rd->prop != TM_NIL) {
    if (rd->prop == m->v) rd->prop_have |= 1ull << j;
    return;
  }
  if (start_parts(v, rd, m->v) != 0) return;
  rd->prop = m->v, rd->pol = m->pol, rd->prop_have = 1ull << j;
  wake_lacking(v, rd->prop_have, R_DATA);
  /* A block held from an earlier round (a re-proposal of the valid value) is complete. */
  for (int32_t k = 0; k < s->nrounds; k++)
    if (k != m->r && s->rounds[k].complete && s->rounds[k].prop == m->v) {
      memset(rd->part_got, 1, rd->nparts);
      rd->parts_got = rd->nparts;
      completed(v, s, m->r);
      return;
    }
}

static void on_part(val_node *v, g_height *s, uint32_t j, const wire_msg *m) {
  g_round *rd = round_of(v, s, m->r);
  /* Parts before the proposal cannot be checked against its part-set header: CometBFT drops
   * them (a peer sends the proposal first on the same connection). */
  if (!rd || rd->prop != m->v || m->index >= rd->nparts) return;
  rd->part_have[m->index] |= 1ull << j;
  if (rd->part_got[m->index]) return;
  rd->part_got[m->index] = 1;
  wake_lacking(v, rd->part_have[m->index], R_DATA);
  if (++rd->parts_got == rd->nparts) completed(v, s, m->r);
}

static void on_wire(val_node *v, const wf_net_msg *msg) {
  if (msg->kind == WF_TX_SUBMIT && msg->len == sizeof(wf_tx)) {
    wf_tx t;
    memcpy(&t, msg->data, sizeof t);
    on_tx(v, &t, msg->src, UINT32_MAX);
    return;
  }
  uint32_t j = peer_index(v, msg->src);
  if (j == UINT32_MAX) return;
  if (msg->kind == M_TX) {
    wf_tx t;
    memcpy(&t, msg->data, sizeof t);
    on_tx(v, &t, WF_LP_NONE, j);
    return;
  }
  wire_msg m;
  memcpy(&m, msg->data, sizeof m);
  if (msg->kind == M_STEP) {
    peer *p = &v->peers[j];
    if (m.type) { /* the peer reconnected: it holds nothing we sent it before, and it learns
                   * where we are as a new connection does (the reactor's AddPeer) */
      wire_msg back = {v->tm.height, v->tm.round, -1, 0, 0, 0};
      send_wire(v, j, M_STEP, STEP_BYTES, v->c->cls_step, &back);
      uint64_t keep = ~(1ull << j);
      for (int k = 0; k < SLOTS; k++)
        for (int32_t r = 0; v->slot[k].h && r < v->slot[k].nrounds; r++) {
          g_round *rd = &v->slot[k].rounds[r];
          rd->prop_have &= keep;
          for (uint32_t i = 0; rd->part_have && i < rd->nparts; i++) rd->part_have[i] &= keep;
          for (int t = 0; t < 2; t++)
            for (uint32_t i = 0; i < v->c->n; i++) rd->votes[t][i].have &= keep;
        }
    }
    if (m.type || m.h > p->h || (m.h == p->h && m.r > p->r)) p->h = m.h, p->r = m.r;
    need_wake(v, j, R_DATA);
    need_wake(v, j, R_VOTES);
    /* Peers two heights ahead send us nothing of theirs: their height is the news (CometBFT
     * switches to blocksync when its peers report heights beyond its own). */
    if (m.h >= v->tm.height + 2 && !v->catching_up) fall_behind(v, m.h);
    return;
  }
  if (msg->kind == M_VALID_BLOCK) {
    g_height *s = slot_of(v, m.h);
    g_round *rd = s && m.r < s->nrounds ? &s->rounds[m.r] : NULL;
    if (rd && rd->prop == m.v) {
      uint64_t keep = ~(1ull << j);
      rd->prop_have &= keep;
      for (uint32_t i = 0; rd->part_have && i < rd->nparts; i++) rd->part_have[i] &= keep;
      need_wake(v, j, R_DATA);
    }
    return;
  }
  if (m.h >= v->tm.height + 2 && !v->catching_up) fall_behind(v, m.h);
  g_height *s = slot_of(v, m.h);
  if (!s) {
    wf_count(v->lp, v->c->m_dropped, 1);
    return;
  }
  if (msg->kind == M_VOTE)
    on_vote(v, s, j, &m);
  else if (msg->kind == M_PROPOSAL)
    on_proposal(v, s, j, &m);
  else if (msg->kind == M_PART)
    on_part(v, s, j, &m);
}

/* ---- the validator LP ---- */

static void val_init(wf_lp *lp, void *state, const void *cfg) {
  chain_cfg *c = (chain_cfg *)cfg;
  val_node *v = state;
  wf_lpid id = wf_lp_id(lp);
  v->lp = lp, v->c = c;
  v->me = id >= c->first && id < c->first + c->n ? id - c->first : c->n + (id - c->full_first);
  wf_net_port_init(lp, c->net, &v->port);
  v->deg = c->g.off[v->me + 1] - c->g.off[v->me];
  v->peers = calloc(v->deg ? v->deg : 1, sizeof *v->peers);
  if (!v->peers) {
    wf_lp_fail(lp, "out of memory for its peers");
    return;
  }
  if (c->agg) {
    if (wf_net_cut_count(c->net)) {
      wf_lp_fail(lp,
                 "chain %s: votes = 'aggregate' does not model partitions of the network "
                 "yet: use votes = 'per-hop'",
                 c->name);
      return;
    }
    if (agg_ready(c) != 0) {
      wf_lp_fail(lp, "out of memory for the aggregate mode's board (%u nodes)", c->n + c->full);
      return;
    }
  } else if (wf_mempool_init(&v->mp, c->mempool_size, c->mempool_bytes, c->cache_size) != 0) {
    wf_lp_fail(lp, "out of memory for its mempool");
    return;
  }
  v->order_cap = nparts_of(c->max_block_bytes) + 1;
  if (!(v->order = malloc(v->order_cap * sizeof *v->order))) {
    wf_lp_fail(lp, "out of memory");
    return;
  }
  wf_error ferr = {0};
  if (c->market && wf_feemarket_init(&v->fm, &c->fm, &ferr) != 0) {
    wf_lp_fail(lp, "fee market: %s", ferr.msg);
    return;
  }
  for (uint32_t j = 0; j < v->deg; j++) {
    peer *p = &v->peers[j];
    p->lp = lp_of(c, c->g.adj[c->g.off[v->me] + j]);
    p->h = 1; /* every node starts at height 1, round 0 */
    p->conn.bps = c->send_rate_bps;
    p->small.priority = 1; /* votes and steps do not queue behind block parts */
    for (int r = 0; r < 2; r++) p->phase[r] = wf_rng_below(wf_lp_rng(lp), c->sleep);
  }
  v->host = (tm_host){v,           host_new_round, host_proposer,    host_new_value, host_propose,
                      host_vote,   host_timeout,   host_decide,      host_equivocation};
  tm_init(&v->tm, &v->host, c->power, c->n, v->me < c->n ? v->me : UINT32_MAX, &c->to);
  wf_error err = {0};
  /* The set of height 1, as NewValidatorSet leaves it (its first election run). */
  if (wf_valset_new(&v->hset, c->vals, c->n, &err) != 0) {
    wf_lp_fail(lp, "%s", err.msg);
    return;
  }
  v->hset_h = 1, v->rset_round = -1;
  for (uint32_t i = 0; i < c->nfaults; i++)
    if (c->faults[i].node == v->me) {
      uint32_t k = i;
      wf_send(lp, wf_lp_id(lp), c->faults[i].from, K_OFFLINE, &k, sizeof k);
      wf_send(lp, wf_lp_id(lp), c->faults[i].to, K_ONLINE, &k, sizeof k);
    }
  for (uint32_t i = 0; i < c->nslow; i++)
    if (c->slow[i].node == v->me) {
      wf_time none = 0;
      wf_send(lp, wf_lp_id(lp), c->slow[i].from, K_SLOW, &c->slow[i].delay, sizeof(wf_time));
      wf_send(lp, wf_lp_id(lp), c->slow[i].to, K_SLOW, &none, sizeof none);
    }
  /* A cut drops connections (or holds their data); when it heals, peers reconnect and start
   * afresh, which is what lets gossip resend what a dropping cut lost. */
  for (uint32_t i = 0; i < wf_net_cut_count(c->net); i++) {
    wf_time t1, t2;
    wf_net_cut_span(c->net, i, &t1, &t2);
    wf_send(lp, wf_lp_id(lp), t2, K_HEALED, &i, sizeof i);
  }
  for (uint32_t i = 0; i < c->ncrash; i++)
    if (c->crash[i].node == v->me) {
      wf_send(lp, wf_lp_id(lp), c->crash[i].from, K_CRASH, NULL, 0);
      wf_send(lp, wf_lp_id(lp), c->crash[i].to, K_RESTART, NULL, 0);
    }
  enter_height(v, 1);
}

/* A cut's end reconnects a node only if the cut dropped messages between it and a peer (held
 * messages arrive by themselves, and a node the cut did not touch lost nothing). */
static int cut_dropped_for(const val_node *v, uint32_t cut) {
  if (!wf_net_cut_drops(v->c->net)) return 0;
  for (uint32_t j = 0; j < v->deg; j++)
    if (wf_net_cut_separates(v->c->net, cut, v->port.node, wf_net_node_of(v->c->net, v->peers[j].lp)))
      return 1;
  return 0;
}

/* The fault schedule: it applies whatever the node's process is doing (a node may go offline
 * while it is down, and come back online before it restarts). Returns 1 for its events. */
static int handle_fault(val_node *v, const wf_event *ev) {
  switch (ev->kind) {
  case K_SLOW:
    memcpy(&v->slow, ev->data, sizeof v->slow);
    return 1;
  case K_OFFLINE:
    v->offline = 1;
    return 1;
  case K_ONLINE:
    v->offline = 0;
    if (!v->crashed) reconnect(v);
    return 1;
  case K_HEALED: {
    uint32_t cut;
    memcpy(&cut, ev->data, sizeof cut);
    if (!silent(v) && cut_dropped_for(v, cut)) reconnect(v);
    return 1;
  }
  case K_CRASH:
    /* The process stops: timers, queued work and the mempool are lost with it (they belong to
     * this life); the consensus state survives in the WAL. */
    if (v->crashed) return 1;
    v->crashed = 1;
    v->epoch++;
    v->cpu_free = v->check_free = 0;
    /* (In the aggregate mode the pool is the chain's, which its peers still hold.) */
    if (!v->c->agg) wf_mempool_clear(&v->mp, lost_in_crash, v);
    for (uint32_t j = 0; j < v->deg; j++) v->peers[j].wake[0] = v->peers[j].wake[1] = 0;
    return 1;
  case K_RESTART:
    if (!v->crashed) return 1;
    v->crashed = 0;
    v->catching_up = 0;
    reconnect(v);
    /* Back from the WAL: a height decided before the crash is executed again (the handshake
     * replays it) and the next starts; otherwise the step's timers are set again. A node left
     * behind catches up from its peers' round steps. */
    if (v->tm.decided) {
      apply_block(v, v->tm.height, v->decided_value);
      enter_height(v, v->tm.height + 1);
    } else {
      tm_resume(&v->tm);
    }
    return 1;
  default:
    return 0;
  }
}

static void val_handle(wf_lp *lp, void *state, const wf_event *ev) {
  val_node *v = state;
  v->lp = lp;
  chain_cfg *c = v->c;
  if (wf_net_owns(ev)) {
    wf_net_msg msg;
    if (!wf_net_receive(lp, c->net, &v->port, ev, &msg) || silent(v)) return;
    if (!v->slow) {
      on_wire(v, &msg);
      return;
    }
    /* A slow node handles what it receives one message at a time, `slow` each. */
    wf_time now = wf_now(lp), start = v->cpu_free > now ? v->cpu_free : now;
    v->cpu_free = start + v->slow;
    deferred_msg d = {msg.src, msg.kind, msg.len, 0, {0}};
    memcpy(d.data, msg.data, msg.len);
    self_send(v, v->cpu_free - now, K_DEFERRED, &d, sizeof d);
    return;
  }
  if (handle_fault(v, ev)) return;
  if (ev->kind == K_POLL) { /* sent by whoever cast what it is to take: no life attached */
    uint32_t seq;
    memcpy(&seq, ev->data, sizeof seq);
    if (seq != c->agg->seq[v->me]) return; /* an earlier tick was asked for since */
    c->agg->next_poll[v->me] = NO_POLL;
    agg_poll(v);
    return;
  }
  if (v->crashed) return; /* a process that is down does nothing */
  /* The node's own work belongs to one life of the process. */
  const unsigned char *body = ev->data + EPOCH_BYTES;
  uint32_t epoch;
  memcpy(&epoch, ev->data, sizeof epoch);
  if (epoch != v->epoch) return;
  switch (ev->kind) {
  case K_DEFERRED: {
    deferred_msg d;
    memcpy(&d, body, sizeof d);
    wf_net_msg msg = {d.src, 0, d.kind, 0, d.len, 0, d.data};
    if (!v->offline) on_wire(v, &msg);
    return;
  }
  case K_WAKE_DATA:
  case K_WAKE_VOTES: {
    uint32_t j;
    memcpy(&j, body, sizeof j);
    int routine = ev->kind == K_WAKE_DATA ? R_DATA : R_VOTES;
    v->peers[j].wake[routine] = 0;
    if (v->offline) return;
    if (routine == R_DATA)
      data_routine(v, j);
    else
      vote_routine(v, j);
    return;
  }
  case K_TIMEOUT: {
    timeout_msg m;
    memcpy(&m, body, sizeof m);
    wf_count(lp, c->m_timeouts, (uint64_t)tm_timeout(&v->tm, m.kind, m.h, m.r));
    return;
  }
  case K_NEXT_HEIGHT: {
    int64_t h;
    memcpy(&h, body, sizeof h);
    if (!v->catching_up && h == v->tm.height + 1) enter_height(v, h);
    return;
  }
  case K_CATCHUP: {
    /* blocksync applies each fetched block: the mempool forgets what they committed. */
    const blockstore *st = &c->store;
    for (int64_t k = v->applied + 1; k < v->target; k++)
      if (committed_at(st, k) != TM_NIL) apply_block(v, k, committed_at(st, k));
    v->catching_up = 0;
    enter_height(v, v->target);
    return;
  }
  case K_TX_CHECKED: {
    checked_msg m;
    memcpy(&m, body, sizeof m);
    admit(v, &m.tx, m.client, m.from);
    return;
  }
  case K_APPLIED: {
    applied_msg m;
    memcpy(&m, body, sizeof m);
    apply_block(v, m.h, m.v);
    return;
  }
  default:
    wf_lp_fail(lp, "chain validator: unknown event kind %u", ev->kind);
  }
}

static void val_finish(wf_lp *lp, void *state) {
  val_node *v = state;
  wf_net_finish(lp, v->c->net, &v->port);
}

static void val_destroy(wf_lp *lp, void *state) {
  (void)lp;
  val_node *v = state;
  for (int k = 0; k < SLOTS; k++) height_reset(&v->slot[k], 0);
  tm_free(&v->tm);
  free(v->peers);
  free(v->round_proposer);
  free(v->order);
  if (!v->c->agg) wf_mempool_free(&v->mp);
  for (int32_t k = 0; k < 2 * v->pend_cap; k++) free(v->pend[k].e);
  free(v->pend), free(v->prop_got);
  if (v->c->market) wf_feemarket_free(&v->fm);
  wf_valset_free(&v->hset);
  wf_valset_free(&v->rset);
}

/* ---- the monitor: safety and the block records ---- */

typedef struct block_row {
  uint32_t chain, round;
  uint64_t height, t_ns, interval_ns, bytes;
  uint32_t proposer, first; /* the proposer, and the validator that committed first */
  uint32_t txs, failed;
  uint64_t gas_wanted, gas_used, fees, exec_ns, base_price;
  uint32_t evidence, pad; /* equivocations the block records */
} block_row;

static const wf_column block_cols[] = {
    WF_COLUMN(block_row, chain, WF_COL_U32, NULL),
    WF_COLUMN(block_row, height, WF_COL_U64, NULL),
    WF_COLUMN(block_row, round, WF_COL_U32, NULL),
    WF_COLUMN(block_row, proposer, WF_COL_U32, NULL),
    WF_COLUMN(block_row, t_ns, WF_COL_U64, "ns"),
    WF_COLUMN(block_row, interval_ns, WF_COL_U64, "ns"),
    WF_COLUMN(block_row, bytes, WF_COL_U64, "bytes"),
    WF_COLUMN(block_row, first, WF_COL_U32, NULL),
    WF_COLUMN(block_row, txs, WF_COL_U32, "transactions"),
    WF_COLUMN(block_row, failed, WF_COL_U32, "transactions"),
    WF_COLUMN(block_row, gas_wanted, WF_COL_U64, "gas"),
    WF_COLUMN(block_row, gas_used, WF_COL_U64, "gas"),
    WF_COLUMN(block_row, fees, WF_COL_U64, "nano-units"),
    WF_COLUMN(block_row, exec_ns, WF_COL_U64, "ns"),
    WF_COLUMN(block_row, base_price, WF_COL_U64, "nano-units/gas"),
    WF_COLUMN(block_row, evidence, WF_COL_U32, "equivocations"),
};

typedef struct committed {
  tm_value v;
  uint32_t by;
  int32_t round;
  wf_time t;
} committed;

typedef struct monitor {
  committed *c; /* by height */
  int64_t cap;
  uint64_t price; /* the base price the gauge shows */
  uint32_t heals; /* cuts of the network healed so far whose next commit is not yet written */
  uint32_t healed[64];
  wf_time healed_at[64];
} monitor;

typedef struct heal_row {
  uint32_t chain, cut;
  uint64_t healed_ns, commit_ns, gap_ns, height;
} heal_row;

static const wf_column heal_cols[] = {
    WF_COLUMN(heal_row, chain, WF_COL_U32, NULL),
    WF_COLUMN(heal_row, cut, WF_COL_U32, NULL),
    WF_COLUMN(heal_row, healed_ns, WF_COL_U64, "ns"),
    WF_COLUMN(heal_row, commit_ns, WF_COL_U64, "ns"),
    WF_COLUMN(heal_row, gap_ns, WF_COL_U64, "ns"),
    WF_COLUMN(heal_row, height, WF_COL_U64, NULL),
};

enum { MON_COMMIT = M_COMMIT, MON_HEAL = M_COMMIT + 1 };

/* The monitor watches the network's cuts heal: the first commit after each is reported
 * (/records/chain_heals: how long the chain took to commit again). */
static void mon_init(wf_lp *lp, void *state, const void *cfg) {
  (void)state;
  const chain_cfg *c = cfg;
  for (uint32_t i = 0; i < wf_net_cut_count(c->net); i++) {
    wf_time t1, t2;
    wf_net_cut_span(c->net, i, &t1, &t2);
    wf_send(lp, wf_lp_id(lp), t2, MON_HEAL, &i, sizeof i);
  }
}

static void mon_handle(wf_lp *lp, void *state, const wf_event *ev) {
  monitor *mo = state;
  const chain_cfg *c = wf_lp_cfg(lp);
  if (ev->kind == MON_HEAL) {
    if (mo->heals < 64) {
      memcpy(&mo->healed[mo->heals], ev->data, sizeof(uint32_t));
      mo->healed_at[mo->heals++] = wf_now(lp);
    }
    return;
  }
  commit_msg m;
  memcpy(&m, ev->data, sizeof m);
  if (m.h >= mo->cap) {
    int64_t cap = mo->cap ? 2 * mo->cap : 1024;
    while (cap <= m.h) cap *= 2;
    committed *x = realloc(mo->c, (size_t)cap * sizeof *x);
    if (!x) {
      wf_lp_fail(lp, "out of memory for the commit log");
      return;
    }
    memset(x + mo->cap, 0, (size_t)(cap - mo->cap) * sizeof *x);
    mo->c = x, mo->cap = cap;
  }
  committed *k = &mo->c[m.h];
  if (k->v == TM_NIL) {
    *k = (committed){m.v, m.validator, m.r, m.t};
    wf_time prev = m.h > 1 && mo->c[m.h - 1].v != TM_NIL ? mo->c[m.h - 1].t : 0;
    const blk *b = store_get(&c->store, m.v);
    block_row row = {c->id, (uint32_t)m.r, (uint64_t)m.h, m.t, prev ? m.t - prev : 0,
                     b ? b->bytes : 0, m.proposer, m.validator, b ? b->ntx : 0,
                     b ? b->failed : 0, b ? b->gas_wanted : 0, b ? b->gas_used : 0,
                     b ? b->fees : 0, b ? b->exec : 0, b ? b->base_price : 0,
                     b ? b->nevidence : 0, 0};
    wf_record_append(lp, c->blocks, &row);
    if (b) wf_count(lp, c->m_txs, b->ntx - b->failed), wf_count(lp, c->m_fees, b->fees);
    if (b && c->market) { /* the gauge follows the price of the latest block */
      wf_gauge_add(lp, c->g_base_price, (int64_t)b->base_price - (int64_t)mo->price);
      mo->price = b->base_price;
    }
    if (prev) wf_hist_add(lp, c->h_interval, m.t - prev);
    wf_count(lp, c->m_blocks, 1);
    wf_gauge_add(lp, c->g_height, 1);
    for (uint32_t i = 0; i < mo->heals; i++) {
      heal_row hr = {c->id, mo->healed[i], mo->healed_at[i], m.t,
                     m.t > mo->healed_at[i] ? m.t - mo->healed_at[i] : 0, (uint64_t)m.h};
      wf_record_append(lp, c->heals, &hr);
    }
    mo->heals = 0;
    return;
  }
  if (k->v != m.v)
    wf_lp_fail(lp, "safety violated on chain %u at height %lld: validator %u committed block "
                   "%08x in round %d, validator %u committed block %08x in round %d",
               c->id, (long long)m.h, k->by + 1, k->v, k->round, m.validator + 1, m.v, m.r);
}

static void mon_destroy(wf_lp *lp, void *state) {
  (void)lp;
  free(((monitor *)state)->c);
}

/* ---- weft.chain{...} ---- */

/* The fields of every fault schedule: offline, byzantine and crash use the first three, slow
 * all four. */
static const wf_arg_spec fault_fields[] = {
    {"validator", WF_ARG_INT, NULL, 1, 1e6, "the validator (numbered from 1)"},
    {"from", WF_ARG_DURATION, NULL, 0, 1.8e10, "when the fault starts"},
    {"to", WF_ARG_DURATION, "1e9", 0, 1.8e10, "when it ends (default: never)"},
    {"delay", WF_ARG_DURATION, NULL, 1e-9, 3600, "slow: extra processing per received message"},
};

static const wf_arg_spec chain_args[] = {
    {"network", WF_ARG_HANDLE, NULL, 1, 0, "the network the validators join", .kind = "network"},
    {"validators", WF_ARG_INT, "4", 1, 1e6,
     "number of validators, round-robin over the table's regions (when 'regions' is empty)"},
    {"regions", WF_ARG_LIST, "{}", 1, 0, "where the validators are: { {region=, count=}, ... }",
     .elem = WF_ARG_RECORD, .fields = wf_net_region_fields, .nfields = 3},
    {"full_nodes", WF_ARG_INT, "0", 0, 1e6,
     "non-validating nodes: in the peer graph, relaying and committing, round-robin over regions"},
    {"power", WF_ARG_INT, "10", 1, 1e15, "voting power of each validator (when 'powers' is empty)"},
    {"powers", WF_ARG_LIST, "{}", 1, 1e15, "voting power per validator, in order",
     .elem = WF_ARG_INT},
    {"bandwidth", WF_ARG_NUM, "1e9", 1, 1e15, "each validator's uplink, bit/s"},
    {"downlink", WF_ARG_NUM, "0", 0, 1e15, "each validator's downlink, bit/s (0: as the uplink)"},
    {"outbound", WF_ARG_INT, "10", 1, 63, "peers each validator dials (CometBFT: 10)"},
    {"inbound", WF_ARG_INT, "40", 0, 63,
     "inbound peers each accepts (CometBFT: 40; at most 63 in all)"},
    {"graph_seed", WF_ARG_INT, "1", 0, 9.2e18, "seed of the peer graph"},
    {"timeout_propose", WF_ARG_DURATION, "3s", 1e-9, 3600, "CometBFT: 3 s"},
    {"timeout_propose_delta", WF_ARG_DURATION, "500ms", 0, 3600, "added per round (500 ms)"},
    {"timeout_prevote", WF_ARG_DURATION, "1s", 1e-9, 3600, "CometBFT: 1 s"},
    {"timeout_prevote_delta", WF_ARG_DURATION, "500ms", 0, 3600, "added per round (500 ms)"},
    {"timeout_precommit", WF_ARG_DURATION, "1s", 1e-9, 3600, "CometBFT: 1 s"},
    {"timeout_precommit_delta", WF_ARG_DURATION, "500ms", 0, 3600, "added per round (500 ms)"},
    {"timeout_commit", WF_ARG_DURATION, "1s", 0, 3600, "wait after a commit (CometBFT: 1 s)"},
    {"block_bytes", WF_ARG_INT, "0", 0, 104857600,
     "filler bytes in every block besides its transactions (large blocks without clients)"},
    {"max_block_bytes", WF_ARG_INT, "22020096", 1024, 104857600,
     "a block's size limit (consensus params block.max_bytes: 21 MiB)"},
    {"max_block_gas", WF_ARG_INT, "0", 0, 9.2e18, "a block's gas limit (0: none, as max_gas = -1)"},
    {"exec", WF_ARG_DURATION, "0", 0, 3600,
     "time to finalize and commit a block, on top of executing its transactions"},
    {"gas_per_second", WF_ARG_NUM, "1e8", 1, 1e15,
     "native execution speed, SDK gas per second (an assumption: models/README.md)"},
    {"wasm_gas_per_second", WF_ARG_NUM, "7142857", 1, 1e15,
     "contract execution speed, SDK gas per second (wasmd: 1 Teragas/s of CosmWasm gas / 140,000)"},
    {"mempool_size", WF_ARG_INT, "5000", 1, 1e8, "transactions a mempool holds (CometBFT: 5,000)"},
    {"mempool_bytes", WF_ARG_INT, "1073741824", 1, 1e15, "bytes a mempool holds (CometBFT: 1 GiB)"},
    {"cache_size", WF_ARG_INT, "10000", 0, 1e8,
     "ids of seen transactions remembered (CometBFT: 10,000)"},
    {"check_tx", WF_ARG_DURATION, "100us", 0, 60,
     "CheckTx of one transaction on a node's CPU, one at a time (an assumption: a signature "
     "check)"},
    {"min_gas_price", WF_ARG_INT, "0", 0, 9.2e18,
     "the least price per gas a node accepts without a fee market, nano-units (0.005 uatom: 5)"},
    {"fee_market", WF_ARG_STR, "none", 1, 0,
     "none (a minimum gas price), eip1559 or aimd (x/feemarket's defaults)"},
    {"min_base_gas_price", WF_ARG_INT, "0", 0, 1e18,
     "the market's floor, nano-units per gas (0: the module's default: 1 for eip1559, 1e9 for "
     "aimd)"},
    {"gossip_sleep", WF_ARG_DURATION, "100ms", 1e-9, 60,
     "an idle gossip routine's sleep (CometBFT's peer_gossip_sleep_duration)"},
    {"send_rate", WF_ARG_NUM, "5120000", 0, 1e15,
     "bytes/s each p2p connection may send (CometBFT: 5,120,000; 0: no limit)"},
    {"name", WF_ARG_STR, "", 1, 0,
     "the chain's name, which prefixes its series (\"\": chain<N>, N its group id)"},
    {"votes", WF_ARG_STR, "per-hop", 1, 0,
     "per-hop (votes, blocks and transactions gossiped message by message) or aggregate (their "
     "arrivals computed from the peer graph's paths: for scale; models/README.md)"},
    {"offline", WF_ARG_LIST, "{}", 1, 0,
     "validators cut from the network: { {validator=, from=, to=}, ... }", .elem = WF_ARG_RECORD,
     .fields = fault_fields, .nfields = 3},
    {"byzantine", WF_ARG_LIST, "{}", 1, 0,
     "validators that equivocate (two blocks, two votes: one to each half of their peers)",
     .elem = WF_ARG_RECORD, .fields = fault_fields, .nfields = 3},
    {"slow", WF_ARG_LIST, "{}", 1, 0,
     "validators that handle what they receive slowly: { {validator=, from=, to=, delay=}, ... }",
     .elem = WF_ARG_RECORD, .fields = fault_fields, .nfields = 4},
    {"crash", WF_ARG_LIST, "{}", 1, 0,
     "validators whose process stops and restarts: { {validator=, from=, to=}, ... }",
     .elem = WF_ARG_RECORD, .fields = fault_fields, .nfields = 3},
};

wf_metric wf_chain_metric(wf_engine *eng, const char *chain,
                          wf_metric (*define)(wf_engine *, const char *, const char *,
                                              const char *, wf_error *),
                          const char *what, const char *units, const char *description,
                          wf_error *err) {
  if (!chain || !*chain) return define(eng, what, units, description, err);
  char name[128], desc[512];
  snprintf(name, sizeof name, "%s_%s", chain, what);
  snprintf(desc, sizeof desc, "%s: %s", chain, description);
  return define(eng, name, units, desc, err);
}

int wf_chain_summary(wf_engine *eng, const char *chain, const char *what,
                     const wf_summary_spec *spec, wf_error *err) {
  char name[128], desc[512];
  wf_summary_spec s = *spec;
  snprintf(name, sizeof name, "%s%s%s", chain && *chain ? chain : "", chain && *chain ? "_" : "",
           what);
  snprintf(desc, sizeof desc, "%s%s%s", chain && *chain ? chain : "", chain && *chain ? ": " : "",
           spec->description);
  s.name = name, s.description = desc;
  return wf_summary_define(eng, &s, err);
}

/* The chain's headline figures (wf_summary_define). */
static int define_summaries(wf_engine *eng, chain_cfg *c, wf_error *err) {
  const wf_summary_spec f[] = {
      {NULL, "tx/s", "transactions committed per second, over the run", WF_SUMMARY_RATE, c->m_txs,
       0, 0, 0},
      {NULL, "blocks", "heights committed", WF_SUMMARY_TOTAL, c->m_blocks, 0, 0, 0},
      {NULL, "s", "mean time between consecutive heights' first commits", WF_SUMMARY_MEAN,
       c->h_interval, 0, 0, 1e-9},
      {NULL, "s", "99th percentile of the time between heights", WF_SUMMARY_QUANTILE, c->h_interval,
       0, 0.99, 1e-9},
      {NULL, "nano-units", "fees paid per committed transaction", WF_SUMMARY_RATIO, c->m_fees,
       c->m_txs, 0, 0},
  };
  static const char *const what[] = {"tps", "heights", "block_interval_mean", "block_interval_p99",
                                     "fee_per_tx"};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    if (wf_chain_summary(eng, c->name, what[i], &f[i], err) != 0) return -1;
  return 0;
}

static int define_outputs(wf_engine *eng, chain_cfg *c, wf_error *err) {
  c->h_interval = wf_chain_metric(eng, c->name, wf_hist_define, "block_interval", "ns",
                                 "time between the first commits of consecutive heights", err);
  if (c->h_interval != WF_METRIC_NONE && wf_hist_windowed(eng, c->h_interval, err) != 0) return -1;
  c->m_blocks = wf_chain_metric(eng, c->name, wf_counter_define, "blocks", "blocks", "heights committed", err);
  c->g_height = wf_chain_metric(eng, c->name, wf_gauge_define, "height", "blocks", "heights committed so far", err);
  c->m_votes = wf_chain_metric(eng, c->name, wf_counter_define, "vote_msgs", "messages", "votes sent to peers", err);
  c->m_parts = wf_chain_metric(eng, c->name, wf_counter_define, "part_msgs", "messages", "block parts sent to peers", err);
  c->m_timeouts = wf_chain_metric(eng, c->name, wf_counter_define, "timeouts", "timeouts",
                                    "consensus timeouts that moved a validator on", err);
  c->m_evidence = wf_chain_metric(eng, c->name, wf_counter_define, "equivocations", "votes",
                                    "conflicting votes seen (evidence)", err);
  c->m_rounds = wf_chain_metric(eng, c->name, wf_counter_define, "extra_rounds", "rounds",
                                  "rounds beyond the first, per validator commit", err);
  c->m_dropped = wf_chain_metric(eng, c->name, wf_counter_define, "stale_msgs", "messages",
                                   "messages of heights a node no longer (or not yet) keeps", err);
  c->m_txs = wf_chain_metric(eng, c->name, wf_counter_define, "txs", "transactions",
                               "transactions committed (executed successfully): TPS", err);
  c->m_tx_msgs = wf_chain_metric(eng, c->name, wf_counter_define, "tx_msgs", "messages",
                                   "transactions gossiped between validators", err);
  c->m_rejected = wf_chain_metric(eng, c->name, wf_counter_define, "rejected", "transactions",
                                    "transactions refused at CheckTx, by any node", err);
  c->g_mempool = wf_chain_metric(eng, c->name, wf_gauge_define, "mempool", "transactions",
                                 "transactions in mempools, summed over validators", err);
  c->g_base_price = wf_chain_metric(eng, c->name, wf_gauge_define, "base_price", "nano-units/gas",
                                    "the fee market's base price of the latest block", err);
  c->m_fees = wf_chain_metric(eng, c->name, wf_counter_define, "fees", "nano-units",
                              "fees paid in committed blocks", err);
  c->m_node_commits = wf_chain_metric(eng, c->name, wf_counter_define, "node_commits", "commits",
                                      "heights committed by each node, validators and full "
                                      "nodes, added up", err);
  c->m_residence = wf_chain_metric(eng, c->name, wf_counter_define, "mempool_residence", "ns",
                                     "time spent in mempools by the transactions that left them "
                                     "(per second: the mean number in the pools)", err);
  if (c->m_txs == WF_METRIC_NONE || c->m_tx_msgs == WF_METRIC_NONE ||
      c->m_rejected == WF_METRIC_NONE || c->g_mempool == WF_METRIC_NONE ||
      c->g_base_price == WF_METRIC_NONE || c->m_residence == WF_METRIC_NONE ||
      c->m_node_commits == WF_METRIC_NONE || c->m_fees == WF_METRIC_NONE)
    return -1;
  if (c->h_interval == WF_METRIC_NONE || c->m_blocks == WF_METRIC_NONE ||
      c->g_height == WF_METRIC_NONE || c->m_votes == WF_METRIC_NONE ||
      c->m_parts == WF_METRIC_NONE || c->m_timeouts == WF_METRIC_NONE ||
      c->m_evidence == WF_METRIC_NONE || c->m_rounds == WF_METRIC_NONE ||
      c->m_dropped == WF_METRIC_NONE)
    return -1;
  if (define_summaries(eng, c, err) != 0) return -1;
  c->blocks = wf_record_define(eng, "blocks", block_cols, sizeof block_cols / sizeof *block_cols,
                               sizeof(block_row), "one row per committed height", err);
  if (!c->blocks) return -1;
  c->heals = wf_record_define(eng, "chain_heals", heal_cols, sizeof heal_cols / sizeof *heal_cols,
                              sizeof(heal_row),
                              "per healed cut of the network: the chain's next commit", err);
  if (!c->heals) return -1;
  wf_net *net = (wf_net *)c->net;
  int p = wf_net_class(net, "proposal", err), b = wf_net_class(net, "block_part", err),
      v = wf_net_class(net, "vote", err), st = wf_net_class(net, "round_step", err);
  if (p < 0 || b < 0 || v < 0 || st < 0) return -1;
  c->cls_proposal = (unsigned)p, c->cls_part = (unsigned)b, c->cls_vote = (unsigned)v;
  c->cls_step = (unsigned)st;
  int tx = wf_net_class(net, "tx", err), res = wf_net_class(net, "tx_result", err);
  if (tx < 0 || res < 0) return -1;
  c->cls_tx = (unsigned)tx, c->cls_result = (unsigned)res;
  return 0;
}

static void pset_free(void *ud) {
  wf_valset_free(ud);
}

static int read_powers(wf_engine *eng, chain_cfg *c, const wf_args *a, wf_error *err) {
  const wf_arg_value *pw = wf_arg(a, "powers");
  if (pw->n && pw->n != c->n)
    return wf_error_set(err, "'powers' has %u entries for %u validators", pw->n, c->n);
  if (!(c->power = wf_engine_alloc(eng, c->n * sizeof *c->power)))
    return wf_error_set(err, "out of memory");
  for (uint32_t i = 0; i < c->n; i++)
    c->power[i] = (uint64_t)(pw->n ? pw->elems[i].i : wf_arg_int(a, "power"));
  return 0;
}

/* A list of {validator, from, to} records (offline, byzantine, slow, crash) into out. */
static int read_schedule(wf_engine *eng, chain_cfg *c, const wf_args *a, const char *key,
                         offline_fault **out, uint32_t *n, wf_error *err) {
  const wf_arg_value *f = wf_arg(a, key);
  *n = f->n;
  if (f->n && !(*out = wf_engine_alloc(eng, f->n * sizeof **out)))
    return wf_error_set(err, "out of memory");
  for (uint32_t i = 0; i < f->n; i++) {
    int64_t who = wf_arg_field(&f->elems[i], "validator")->i;
    wf_time from = wf_arg_field(&f->elems[i], "from")->t, to = wf_arg_field(&f->elems[i], "to")->t;
    if (who > c->n)
      return wf_error_set(err, "'%s[%u].validator' = %lld: the chain has validators 1 to %u", key,
                          i + 1, (long long)who, c->n);
    if (to <= from) return wf_error_set(err, "'%s[%u]': 'to' must be after 'from'", key, i + 1);
    (*out)[i] = (offline_fault){(uint32_t)who - 1, from, to, 0};
    for (uint32_t k = 0; k < i; k++) /* one window at a time per validator and kind */
      if ((*out)[k].node == (*out)[i].node && (*out)[k].from < to && from < (*out)[k].to)
        return wf_error_set(err, "'%s[%u]' overlaps '%s[%u]' for validator %lld", key, i + 1, key,
                            k + 1, (long long)who);
  }
  return 0;
}

static int read_faults(wf_engine *eng, chain_cfg *c, const wf_args *a, wf_error *err) {
  if (read_schedule(eng, c, a, "offline", &c->faults, &c->nfaults, err) != 0 ||
      read_schedule(eng, c, a, "byzantine", &c->byz, &c->nbyz, err) != 0 ||
      read_schedule(eng, c, a, "slow", &c->slow, &c->nslow, err) != 0 ||
      read_schedule(eng, c, a, "crash", &c->crash, &c->ncrash, err) != 0)
    return -1;
  const wf_arg_value *f = wf_arg(a, "slow");
  for (uint32_t i = 0; i < f->n; i++) c->slow[i].delay = wf_arg_field(&f->elems[i], "delay")->t;
  return 0;
}

static int chain_setup(wf_engine *eng, chain_cfg *c, const wf_args *a, wf_error *err) {
  const char *votes = wf_arg_str(a, "votes");
  if (strcmp(votes, "per-hop") && strcmp(votes, "aggregate"))
    return wf_error_set(err, "'votes' = '%s': expected per-hop or aggregate", votes);
  if (read_powers(eng, c, a, err) != 0 || read_faults(eng, c, a, err) != 0) return -1;
  if (votes[0] == 'a') {
    if (c->nbyz || c->nslow)
      return wf_error_set(err,
                          "votes = 'aggregate' does not model %s validators yet: use "
                          "votes = 'per-hop'",
                          c->nbyz ? "byzantine" : "slow");
    if (!(c->agg = wf_engine_alloc(eng, sizeof *c->agg))) return wf_error_set(err, "out of memory");
    c->agg->nodes = c->n + c->full;
    c->agg->words = (c->n + 63) / 64;
    if (wf_engine_on_free(eng, agg_free, c->agg) != 0) return wf_error_set(err, "out of memory");
  }
  /* What grows with n x n, declared so that a chain too large for this machine is refused
   * while it is built: per hop, every node holds a round's two vote sets of n votes; in
   * aggregate, the board holds the path delays, hops and transaction delays between every two
   * nodes. */
  uint64_t all = (uint64_t)c->n + c->full;
  uint64_t bytes =
      c->agg ? all * all * (sizeof *c->agg->d + sizeof *c->agg->hops + sizeof *c->agg->dtx)
             : all * 2 * (uint64_t)c->n * sizeof(g_vote);
  char what[96];
  snprintf(what, sizeof what, "%s's %s", c->name,
           c->agg ? "vote paths (3 n x n matrices)" : "vote sets (2 x n votes a node)");
  if (wf_engine_expect_bytes(eng, bytes, what, err) != 0) return -1;
  /* Addresses: a hash of the chain and the index (CometBFT's are hashes of public keys, so
   * their order is arbitrary), then the index, which names the validator back. */
  wf_validator *vals = c->vals = wf_engine_alloc(eng, c->n * sizeof *vals);
  if (!vals) return wf_error_set(err, "out of memory");
  for (uint32_t i = 0; i < c->n; i++) {
    uint64_t x = wf_mix64((uint64_t)c->id << 32 ^ i ^ 0xC0FFEEull);
    for (int b = 0; b < 8; b++) vals[i].addr[b] = (uint8_t)(x >> (56 - 8 * b));
    for (int b = 0; b < 4; b++) vals[i].addr[WF_VAL_ADDR_LEN - 4 + b] = (uint8_t)(i >> (24 - 8 * b));
    vals[i].power = (int64_t)c->power[i];
  }
  /* The chain's set refuses what CometBFT refuses (total power above MaxTotalVotingPower). */
  if (wf_engine_on_free(eng, pset_free, &c->pset) != 0) return wf_error_set(err, "out of memory");
  if (wf_valset_new(&c->pset, vals, c->n, err) != 0) return -1;
  c->pset_h = 1;
  c->to = (tm_timeouts){wf_arg_duration(a, "timeout_propose"),
                        wf_arg_duration(a, "timeout_propose_delta"),
                        wf_arg_duration(a, "timeout_prevote"),
                        wf_arg_duration(a, "timeout_prevote_delta"),
                        wf_arg_duration(a, "timeout_precommit"),
                        wf_arg_duration(a, "timeout_precommit_delta"),
                        wf_arg_duration(a, "timeout_commit")};
  c->block_overhead = HEADER_BYTES + (uint64_t)COMMIT_SIG_BYTES * c->n +
                      (uint64_t)wf_arg_int(a, "block_bytes");
  c->max_block_bytes = (uint64_t)wf_arg_int(a, "max_block_bytes");
  c->max_block_gas = (uint64_t)wf_arg_int(a, "max_block_gas");
  if (c->block_overhead >= c->max_block_bytes)
    return wf_error_set(err, "a block's header, last commit and filler take %llu bytes, not below "
                        "'max_block_bytes' = %llu", (unsigned long long)c->block_overhead,
                        (unsigned long long)c->max_block_bytes);
  c->exec = wf_arg_duration(a, "exec");
  c->native_gps = wf_arg_num(a, "gas_per_second");
  c->wasm_gps = wf_arg_num(a, "wasm_gas_per_second");
  c->mempool_size = (uint32_t)wf_arg_int(a, "mempool_size");
  c->mempool_bytes = (uint64_t)wf_arg_int(a, "mempool_bytes");
  c->cache_size = (uint32_t)wf_arg_int(a, "cache_size");
  c->check_tx = wf_arg_duration(a, "check_tx");
  c->min_gas_price = c->price_now = (uint64_t)wf_arg_int(a, "min_gas_price");
  const char *fm = wf_arg_str(a, "fee_market");
  if (!strcmp(fm, "eip1559") || !strcmp(fm, "aimd")) {
    c->market = 1;
    c->fm = fm[0] == 'e' ? wf_feemarket_eip1559() : wf_feemarket_aimd();
    if (wf_arg_int(a, "min_base_gas_price")) c->fm.min_base_gas_price = WF_DEC(wf_arg_int(a, "min_base_gas_price"));
    /* The market's utilisation is against the block gas limit; without one, its default. */
    if (c->max_block_gas)
      c->fm.max_block_utilization = c->max_block_gas;
    else
      c->max_block_gas = c->fm.max_block_utilization;
    if (wf_feemarket_params_check(&c->fm, err) != 0) return -1;
    wf_feemarket start; /* the price before any block, as every node starts */
    if (wf_feemarket_init(&start, &c->fm, err) != 0) return -1;
    c->price_now = (uint64_t)((start.base_gas_price + WF_DEC_ONE - 1) / WF_DEC_ONE);
    wf_feemarket_free(&start);
  } else if (strcmp(fm, "none")) {
    return wf_error_set(err, "'fee_market' = '%s': expected none, eip1559 or aimd", fm);
  }
  c->store.nodes = c->n + c->full;
  if (wf_engine_on_free(eng, store_free, &c->store) != 0 || store_init(&c->store) != 0)
    return wf_error_set(err, "out of memory");
  c->sleep = wf_arg_duration(a, "gossip_sleep");
  c->send_rate_bps = (uint64_t)(wf_arg_num(a, "send_rate") * 8);
  uint32_t out = (uint32_t)wf_arg_int(a, "outbound"), in = (uint32_t)wf_arg_int(a, "inbound");
  if (out + in > MAX_PEERS - 1)
    return wf_error_set(err, "'outbound' + 'inbound' = %u: at most %d peers per validator",
                        out + in, MAX_PEERS - 1);
  wf_peer_graph g;
  uint32_t nodes = c->n + c->full;
  if (wf_peer_graph_build(&g, nodes, out, in, (uint64_t)wf_arg_int(a, "graph_seed"), err) != 0)
    return -1;
  if (wf_peer_graph_keep(eng, &g, &c->g, err) != 0) return -1;
  return define_outputs(eng, c, err);
}

/* Full nodes go round-robin over the network's regions, with the validators' bandwidth. */
static int attach_full_nodes(chain_cfg *c, const wf_args *a, wf_error *err) {
  uint16_t *region = malloc(c->full * sizeof *region);
  double *up = malloc(c->full * sizeof *up), *down = malloc(c->full * sizeof *down);
  double bw = wf_arg_num(a, "bandwidth"), dl = wf_arg_num(a, "downlink");
  int rc = region && up && down ? 0 : wf_error_set(err, "out of memory");
  for (uint32_t i = 0; rc == 0 && i < c->full; i++)
    region[i] = (uint16_t)(i % wf_net_region_count(c->net)), up[i] = bw, down[i] = dl > 0 ? dl : bw;
  if (rc == 0 && wf_net_attach((wf_net *)c->net, c->full_first, c->full, region, up, down, err) ==
                     UINT32_MAX)
    rc = -1;
  free(region), free(up), free(down);
  return rc;
}

static int chain_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  chain_cfg *c = wf_engine_alloc(eng, sizeof *c);
  if (!c) return wf_error_set(err, "out of memory");
  c->net = wf_arg(a, "network")->h;
  uint16_t *region = NULL;
  double *up = NULL, *down = NULL;
  c->n = wf_net_place_nodes(a, "validators", c->net, &region, &up, &down, err);
  c->full = (uint32_t)wf_arg_int(a, "full_nodes");
  /* The chain's id is its group's: unique in the world and the same on every rank. */
  uint32_t group = c->n ? wf_engine_new_group(eng) : 0;
  int rc = !c->n ? -1 : !group ? wf_error_set(err, "no group ids left") : 0;
  c->id = group;
  const char *nm = wf_arg_str(a, "name");
  if (rc == 0 && strlen(nm) >= sizeof c->name)
    rc = wf_error_set(err, "'name' = '%s': at most %zu characters", nm, sizeof c->name - 1);
  for (const char *q = nm; rc == 0 && *q; q++)
    if (!(*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
      rc = wf_error_set(err, "'name' = '%s': letters, digits and _ only (it names series)", nm);
  if (*nm)
    snprintf(c->name, sizeof c->name, "%s", nm);
  else
    snprintf(c->name, sizeof c->name, "chain%u", group);
  if (rc == 0) rc = chain_setup(eng, c, a, err);
  if (rc == 0) {
    /* A chain is a group: its validators and its monitor stay on one rank. They talk to no
     * other group, so only their within-group delay bounds the windows when a chain is split
     * (it never is) and nothing does across groups. */
    c->vtype = (wf_lp_type){"validator", sizeof(val_node), wf_net_min_delay(c->net), val_init,
                            val_handle, val_finish, WF_TIME_MAX, val_destroy};
    c->mtype = (wf_lp_type){"chain_monitor", sizeof(monitor), WF_TIME_MAX, mon_init, mon_handle,
                            NULL, WF_TIME_MAX, mon_destroy};
    c->first = wf_engine_add_lps(eng, &c->vtype, c->n, c, group, err);
    c->monitor = c->first == WF_LP_NONE ? WF_LP_NONE
                                        : wf_engine_add_lps(eng, &c->mtype, 1, c, group, err);
    rc = c->first == WF_LP_NONE || c->monitor == WF_LP_NONE ? -1 : 0;
    if (rc == 0 && c->full) {
      c->full_first = wf_engine_add_lps(eng, &c->vtype, c->full, c, group, err);
      rc = c->full_first == WF_LP_NONE ? -1 : 0;
    }
  }
  if (rc == 0 &&
      wf_net_attach((wf_net *)c->net, c->first, c->n, region, up, down, err) == UINT32_MAX)
    rc = -1;
  if (rc == 0 && c->full && attach_full_nodes(c, a, err) != 0) rc = -1;
  free(region), free(up), free(down);
  if (rc == 0) *out = (wf_built){c->first, c->n + 1 + c->full, c, "chain"};
  return rc;
}

static uint64_t base_price_now(const void *chain) {
  return ((const chain_cfg *)chain)->price_now;
}

void wf_chain_info_of(const void *handle, wf_chain_info *out) {
  const chain_cfg *c = handle;
  *out = (wf_chain_info){
      c->net,        c->first, c->n,           c->id, c->max_block_bytes, c->max_block_gas, c->name,
      c->full_first, c->full,  base_price_now, c};
}

static const wf_builder chain_builders[] = {
    {"chain", "a CometBFT chain: validators running Tendermint consensus over the network",
     chain_args, sizeof chain_args / sizeof *chain_args, chain_build},
};

const wf_model wf_model_chain = {"chain", "CometBFT chains: consensus, gossip, blocks",
                                 chain_builders, 1};
