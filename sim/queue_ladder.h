/* A ladder queue (Tang, Goh & Thng 2005): a pending-event set that sorts lazily, one small
 * bucket at a time, only the entries about to leave. Same entries and the same exact (ts, tie)
 * order as the heap in queue.h; `weft bench queue` measures which of the two the engine uses. */
#ifndef WF_QUEUE_LADDER_H
#define WF_QUEUE_LADDER_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

/* Rungs beyond this are not spawned: a crowded bucket is then sorted whole (O(m log m)). */
#define WF_LADDER_MAX_RUNGS 8

/* Unsorted entries live in lists of chunks of two cache lines, one list per bucket, linked by
 * index so the pool can grow. Handing a bucket down then costs one (dependent) cache miss per
 * WF_LADDER_CHUNK entries rather than one per entry, and a push touches the line it writes.
 * 7 entries (128 bytes) rather than 3 (64): in PHOLD with 10^6 pending events the walk over a
 * bucket's chunks is a chain of misses, and halving it gave 5-10% (15, 256 bytes, no more). */
#define WF_LADDER_CHUNK 7
typedef struct wf_ladder_chunk {
  _Alignas(64) wf_qentry e[WF_LADDER_CHUNK];
  uint32_t next;
} wf_ladder_chunk;

/* A list of chunks: all full but the head one, which holds (count - 1) % WF_LADDER_CHUNK + 1
 * entries (the count alone says where the next entry goes). */
typedef struct wf_ladder_bucket {
  uint32_t head, count;
} wf_ladder_bucket;

/* Bucket i holds ts in [start + i * 2^shift, start + (i+1) * 2^shift); the last bucket also
 * takes everything above, up to where the rung above (or the top) begins. Buckets before `cur`
 * have been handed down; the rung accepts ts >= cur_ts, the first time of bucket `cur`. */
typedef struct wf_ladder_rung {
  uint64_t start, cur_ts;
  uint32_t nb, cur;
  unsigned shift;
  size_t count;
  wf_ladder_bucket *b;
  size_t cap;
} wf_ladder_rung;

typedef struct wf_ladder {
  wf_ladder_chunk *chunks;
  uint32_t ccap, free; /* pool size; free list of chunks */
  size_t nfree;
  /* Top: unsorted entries with ts >= top_start (none when top_closed). */
  wf_ladder_bucket top;
  uint64_t top_min, top_max, top_start;
  int top_closed;
  wf_ladder_rung rung[WF_LADDER_MAX_RUNGS]; /* rung[0] is the widest, rung[nrungs-1] the finest */
  int nrungs;
  /* Bottom: a sorted run bot[bhead..bn) plus a binary heap `side` for the entries that arrive
   * below every rung after the run was sorted. Everything here precedes everything above. */
  wf_qentry *bot;
  size_t bhead, bn, bcap;
  wf_qentry *side;
  size_t sn, scap;
  size_t n;
} wf_ladder;

/* capacity: entries to make room for up front (0: a small default). Returns -1 without memory. */
int wf_ladder_init(wf_ladder *l, size_t capacity);
void wf_ladder_free(wf_ladder *l);
/* Returns -1 only when memory runs out (the entry is then not queued). */
int wf_ladder_push(wf_ladder *l, wf_qentry e);
/* Removes and returns the minimum by (ts, tie). On an empty ladder, or if memory runs out
 * while the next bucket is being sorted (the ladder is then unchanged), returns an entry with
 * ev == NULL and ts == 0. */
wf_qentry wf_ladder_pop_min(wf_ladder *l);
/* The minimum without removing it (NULL when empty); may sort a bucket, hence not const. The
 * pointer is valid until the next push or pop. */
const wf_qentry *wf_ladder_top(wf_ladder *l);
static inline size_t wf_ladder_size(const wf_ladder *l) {
  return l->n;
}
/* The entry k places after the next one in the sorted bottom run, or NULL when the run is
 * shorter. Not necessarily the k-th next overall (the side heap may hold earlier entries): a
 * hint for prefetching what is about to be handled, never a promise. */
static inline const wf_qentry *wf_ladder_ahead(const wf_ladder *l, size_t k) {
  return l->bhead + k < l->bn ? &l->bot[l->bhead + k] : NULL;
}
/* Heap memory currently held (for the benchmark's bytes-per-entry column). */
size_t wf_ladder_bytes(const wf_ladder *l);

#endif
