/* The mempool's data structures (mempool.h). */
#include "mempool.h"

#include <stdlib.h>
#include <string.h>

/* ---- id sets ---- */

static uint32_t slot_of(const wf_idset *s, uint64_t id) {
  uint64_t x = id * 0x9E3779B97F4A7C15ull;
  return (uint32_t)(x >> 32) & s->mask;
}

int wf_idset_init(wf_idset *s, uint32_t capacity) {
  uint32_t size = 16;
  while (size < 2 * (uint64_t)capacity + 1) size *= 2; /* load at most 1/2 */
  s->slot = calloc(size, sizeof *s->slot);
  s->mask = size - 1;
  s->n = 0;
  return s->slot ? 0 : -1;
}

void wf_idset_free(wf_idset *s) {
  free(s->slot);
  s->slot = NULL;
}

int wf_idset_has(const wf_idset *s, uint64_t id) {
  for (uint32_t i = slot_of(s, id);; i = (i + 1) & s->mask) {
    if (s->slot[i] == id + 1) return 1;
    if (!s->slot[i]) return 0;
  }
}

void wf_idset_add(wf_idset *s, uint64_t id) {
  uint32_t i = slot_of(s, id);
  while (s->slot[i] && s->slot[i] != id + 1) i = (i + 1) & s->mask;
  if (!s->slot[i]) s->n++;
  s->slot[i] = id + 1;
}

void wf_idset_del(wf_idset *s, uint64_t id) {
  uint32_t i = slot_of(s, id);
  while (s->slot[i] != id + 1) {
    if (!s->slot[i]) return;
    i = (i + 1) & s->mask;
  }
  s->n--;
  /* Backward shift: move later entries of the cluster into the hole when their home slot
   * does not lie cyclically in (hole, their position]. */
  for (uint32_t j = (i + 1) & s->mask; s->slot[j]; j = (j + 1) & s->mask) {
    uint32_t home = slot_of(s, s->slot[j] - 1);
    int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (between) continue;
    s->slot[i] = s->slot[j];
    i = j;
  }
  s->slot[i] = 0;
}

/* ---- FIFO sets ---- */

int wf_idfifo_init(wf_idfifo *f, uint32_t size) {
  memset(f, 0, sizeof *f);
  f->size = size;
  if (!size) return 0;
  f->ring = malloc(size * sizeof *f->ring);
  if (!f->ring || wf_idset_init(&f->set, size) != 0) {
    free(f->ring);
    f->ring = NULL;
    return -1;
  }
  return 0;
}

void wf_idfifo_free(wf_idfifo *f) {
  free(f->ring);
  wf_idset_free(&f->set);
  memset(f, 0, sizeof *f);
}

void wf_idfifo_put(wf_idfifo *f, uint64_t id) {
  if (!f->size || wf_idset_has(&f->set, id)) return;
  if (f->n == f->size) { /* forget the oldest (unless forgotten already) */
    wf_idset_del(&f->set, f->ring[f->at]);
    f->n--;
  }
  f->ring[f->at] = id;
  f->at = (f->at + 1) % f->size;
  f->n++;
  wf_idset_add(&f->set, id);
}

void wf_idfifo_forget(wf_idfifo *f, uint64_t id) {
  /* Its ring slot stays; should the id come back before the slot is reused, the slot's
   * eviction forgets it early, which only lets a duplicate through a cache sooner. */
  if (f->size) wf_idset_del(&f->set, id);
}

/* ---- the pool ---- */

int wf_mempool_init(wf_mempool *m, uint32_t max_txs, uint64_t max_bytes, uint32_t cache_size) {
  memset(m, 0, sizeof *m);
  m->cap = max_txs ? max_txs : 1;
  m->max_txs = max_txs;
  m->max_bytes = max_bytes;
  m->e = malloc(m->cap * sizeof *m->e);
  /* Committed ids are remembered as long as a pool's worth of arrivals could still be in
   * flight through CheckTx: twice the pool, at least the cache. */
  uint32_t done = 2 * m->cap > cache_size ? 2 * m->cap : cache_size;
  if (!m->e || wf_idset_init(&m->in, m->cap) != 0 || wf_idfifo_init(&m->cache, cache_size) != 0 ||
      wf_idfifo_init(&m->done, done) != 0) {
    wf_mempool_free(m);
    return -1;
  }
  return 0;
}

void wf_mempool_free(wf_mempool *m) {
  free(m->e);
  wf_idset_free(&m->in);
  wf_idfifo_free(&m->cache);
  wf_idfifo_free(&m->done);
  memset(m, 0, sizeof *m);
}

int wf_mempool_seen(wf_mempool *m, uint64_t id) {
  if (wf_idfifo_has(&m->cache, id) || wf_idset_has(&m->in, id) || wf_idfifo_has(&m->done, id))
    return 1;
  wf_idfifo_put(&m->cache, id);
  return 0;
}

void wf_mempool_forget(wf_mempool *m, uint64_t id) {
  wf_idfifo_forget(&m->cache, id);
}

static int every(void *ud, const wf_mp_entry *e) {
  (void)ud, (void)e;
  return 1;
}

void wf_mempool_clear(wf_mempool *m, void (*removed)(void *ud, const wf_mp_entry *e), void *ud) {
  wf_mempool_filter(m, every, removed, ud);
  uint32_t size = m->cache.size;
  wf_idfifo_free(&m->cache);
  wf_idfifo_init(&m->cache, size); /* a failure leaves a cache of 0: no cache, nothing worse */
}

void wf_mempool_committed(wf_mempool *m, const uint64_t *ids, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) wf_idfifo_put(&m->done, ids[i]);
}

int wf_mempool_add(wf_mempool *m, const wf_mp_entry *e) {
  if (wf_idfifo_has(&m->done, e->tx.id)) return WF_TX_DUPLICATE;
  if (m->n >= m->max_txs || m->bytes + e->tx.bytes > m->max_bytes) return WF_TX_FULL;
  m->e[(m->head + m->n) % m->cap] = *e;
  m->n++;
  m->bytes += e->tx.bytes;
  wf_idset_add(&m->in, e->tx.id);
  return WF_TX_OK;
}

uint32_t wf_mempool_reap(const wf_mempool *m, uint64_t max_bytes, uint64_t max_gas,
                         uint64_t min_price, int (*held)(void *ud, const wf_mp_entry *e), void *ud,
                         wf_mp_entry *out, uint32_t room) {
  uint64_t bytes = 0, gas = 0;
  uint32_t k = 0;
  for (uint32_t i = 0; i < m->n && k < room; i++) {
    const wf_mp_entry *e = &m->e[(m->head + i) % m->cap];
    if (e->tx.price < min_price || (held && !held(ud, e))) continue;
    if (bytes + e->tx.bytes > max_bytes) break;
    if (max_gas && gas + e->tx.gas_wanted > max_gas) break;
    bytes += e->tx.bytes;
    gas += e->tx.gas_wanted;
    out[k++] = *e;
  }
  return k;
}

uint32_t wf_mempool_filter(wf_mempool *m, int (*gone)(void *ud, const wf_mp_entry *e),
                           void (*removed)(void *ud, const wf_mp_entry *e), void *ud) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < m->n; i++) {
    wf_mp_entry *e = &m->e[(m->head + i) % m->cap];
    if (gone(ud, e)) {
      if (removed) removed(ud, e);
      wf_idset_del(&m->in, e->tx.id);
      m->bytes -= e->tx.bytes;
      continue;
    }
    m->e[(m->head + kept++) % m->cap] = *e;
  }
  m->n = kept;
  return kept;
}
