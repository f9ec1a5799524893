/* A node's mempool as CometBFT's (mempool/clist_mempool.go) keeps it: transactions in arrival
 * order with a cap on their number and their bytes, a cache of the ids seen recently (a
 * transaction already in it is refused as a duplicate), reaping in order up to a block's
 * bytes and gas, and removal of what a block committed. Pure data structures: the chain model
 * (chain.c) decides when each is called. */
#ifndef WF_MEMPOOL_H
#define WF_MEMPOOL_H

#include <stdint.h>

#include "../sim/event.h"
#include "../sim/simtime.h"
#include "tx.h"

typedef struct wf_mp_entry {
  wf_tx tx;
  wf_lpid client; /* the client that submitted it to this node, or WF_LP_NONE */
  uint32_t from;  /* the peer it came from (an index), or UINT32_MAX */
  wf_time added;  /* when it entered the pool */
} wf_mp_entry;

/* A set of transaction ids: open addressing, linear probing, deletion by backward shift. */
typedef struct wf_idset {
  uint64_t *slot; /* id + 1; 0: empty */
  uint32_t mask, n;
} wf_idset;

int wf_idset_init(wf_idset *s, uint32_t capacity); /* holds up to capacity ids */
void wf_idset_free(wf_idset *s);
int wf_idset_has(const wf_idset *s, uint64_t id);
void wf_idset_add(wf_idset *s, uint64_t id); /* at most the capacity given */
void wf_idset_del(wf_idset *s, uint64_t id);

/* The last `size` ids put in, the oldest forgotten first (an LRU for ids put in once). */
typedef struct wf_idfifo {
  wf_idset set;
  uint64_t *ring; /* the order they came in */
  uint32_t size, at, n;
} wf_idfifo;

int wf_idfifo_init(wf_idfifo *f, uint32_t size);
void wf_idfifo_free(wf_idfifo *f);
void wf_idfifo_put(wf_idfifo *f, uint64_t id); /* an id already in it is not put twice */
static inline int wf_idfifo_has(const wf_idfifo *f, uint64_t id) {
  return f->size && wf_idset_has(&f->set, id);
}
void wf_idfifo_forget(wf_idfifo *f, uint64_t id);

typedef struct wf_mempool {
  wf_mp_entry *e; /* in arrival order: e[head .. head + n) modulo cap */
  uint32_t head, n, cap, max_txs;
  uint64_t bytes, max_bytes;
  wf_idset in;     /* ids in the pool */
  wf_idfifo cache; /* ids seen recently (cache_size of them) */
  wf_idfifo done;  /* ids committed recently: never admitted again (the account's sequence) */
} wf_mempool;

/* CometBFT's defaults: size 5,000 transactions, max_txs_bytes 1 GiB, cache_size 10,000. */
int wf_mempool_init(wf_mempool *m, uint32_t max_txs, uint64_t max_bytes, uint32_t cache_size);
void wf_mempool_free(wf_mempool *m);
/* The cache step of CheckTx: 0 if the id was not seen (it is now), else 1 (a duplicate). */
int wf_mempool_seen(wf_mempool *m, uint64_t id);
/* Forgets an id from the cache (CometBFT does so when CheckTx fails, so it may be resent). */
void wf_mempool_forget(wf_mempool *m, uint64_t id);
/* Adds a checked transaction; WF_TX_FULL when the count or the bytes would exceed the caps,
 * WF_TX_DUPLICATE when it was committed recently (its CheckTx finished after the block that
 * holds it was applied: the application refuses a spent sequence number). */
int wf_mempool_add(wf_mempool *m, const wf_mp_entry *e);
/* Records the ids a block committed, so that none comes back (CometBFT's Update also keeps
 * them in the cache). */
void wf_mempool_committed(wf_mempool *m, const uint64_t *ids, uint32_t n);
/* A restart: the pool and its cache are gone (they lived in memory); what was committed stays
 * refused (it lives in the application's state). Calls removed(ud, e) for each entry. */
void wf_mempool_clear(wf_mempool *m, void (*removed)(void *ud, const wf_mp_entry *e), void *ud);
/* ReapMaxBytesMaxGas: in arrival order, skipping those priced below min_price (a fee market
 * leaves them for the recheck to evict) and those held(ud, e) says the reaping node does not
 * hold yet (held may be NULL: it holds them all), transactions until the next one would take
 * the bytes past max_bytes or the gas_wanted past max_gas (0: no gas limit); copies at most
 * `room` entries to out and returns how many. */
uint32_t wf_mempool_reap(const wf_mempool *m, uint64_t max_bytes, uint64_t max_gas,
                         uint64_t min_price, int (*held)(void *ud, const wf_mp_entry *e), void *ud,
                         wf_mp_entry *out, uint32_t room);
/* Removes, in one pass keeping the order of the rest, every entry gone(ud, e) says goes,
 * calling removed(ud, e) for each (may be NULL). Returns how many are left. */
uint32_t wf_mempool_filter(wf_mempool *m, int (*gone)(void *ud, const wf_mp_entry *e),
                           void (*removed)(void *ud, const wf_mp_entry *e), void *ud);

#endif
