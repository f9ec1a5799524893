#include "queue_ladder.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* A bucket with more entries than this is split into a finer rung instead of being sorted:
 * sorting stays O(1) per entry as long as what reaches the bottom is this small. */
#define THRES 128
/* Target entries per bucket when a rung is spawned (the top: TOP_PER_BUCKET, a crowded
 * bucket: CHILD_PER_BUCKET). Fewer means more empty buckets to skip and shorter sorted runs,
 * more means bigger sorts. Under the bare hold model of `weft bench queue` 3 and 2 (with THRES
 * 32) were best, but in PHOLD with 10^6 pending events they made the engine slower than the
 * heap: a push lands in a random bucket of a rung of ~350,000, so its bucket and chunk were
 * two cache misses, and sorted runs of 2 or 3 entries left nothing to prefetch ahead of the
 * event loop (engine.c, prefetch_ahead). With 32 per bucket the rung's bucket array fits in
 * the L2 cache and runs are long enough to prefetch from: PHOLD 65536 x 16 went from 0.9 to
 * 1.5-1.7 M events/s. A crowded bucket is split 16 per bucket: at 1024 x 16 and 65536 x 16
 * that looked a little faster than 32; 8 and 32 for the top were not told apart from 32 by
 * the (noisy) measurements. */
#define TOP_PER_BUCKET 32
#define CHILD_PER_BUCKET 16

static const wf_qentry empty_entry; /* ts 0, ev NULL */

/* ---- sorting the entries that reach the bottom ---- */

static void insertion_sort(wf_qentry *a, size_t n) {
  for (size_t i = 1; i < n; i++) {
    wf_qentry x = a[i];
    size_t j = i;
    while (j > 0 && wf_qentry_less(&x, &a[j - 1])) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = x;
  }
}

static void sift_max(wf_qentry *a, size_t n, size_t i) {
  wf_qentry x = a[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && wf_qentry_less(&a[c], &a[c + 1])) c++;
    if (!wf_qentry_less(&x, &a[c])) break;
    a[i] = a[c];
    i = c;
  }
  a[i] = x;
}

static void heap_sort(wf_qentry *a, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift_max(a, n, i);
  for (size_t m = n; m > 1; m--) {
    wf_qentry t = a[0];
    a[0] = a[m - 1];
    a[m - 1] = t;
    sift_max(a, m - 1, 0);
  }
}

/* Introsort: quicksort with a median-of-three pivot, heapsort when the recursion gets deep,
 * so a hostile key pattern cannot make a bucket sort quadratic. */
static void intro_sort(wf_qentry *a, size_t n, int depth) {
  while (n > 16) {
    if (depth-- == 0) {
      heap_sort(a, n);
      return;
    }
    size_t m = n / 2;
    if (wf_qentry_less(&a[m], &a[0])) {
      wf_qentry t = a[m];
      a[m] = a[0];
      a[0] = t;
    }
    if (wf_qentry_less(&a[n - 1], &a[m])) {
      wf_qentry t = a[m];
      a[m] = a[n - 1];
      a[n - 1] = t;
      if (wf_qentry_less(&a[m], &a[0])) {
        t = a[m];
        a[m] = a[0];
        a[0] = t;
      }
    }
    wf_qentry p = a[m];
    size_t i = 0, j = n - 1;
    for (;;) { /* Hoare partition; a[0] <= p <= a[n-1] act as sentinels */
      while (wf_qentry_less(&a[i], &p)) i++;
      while (wf_qentry_less(&p, &a[j])) j--;
      if (i >= j) break;
      wf_qentry t = a[i];
      a[i] = a[j];
      a[j] = t;
      i++;
      j--;
    }
    /* a[0..j] <= p <= a[j+1..n); recurse into the smaller side to bound the stack. */
    size_t left = j + 1;
    if (left < n - left) {
      intro_sort(a, left, depth);
      a += left;
      n -= left;
    } else {
      intro_sort(a + left, n - left, depth);
      n = left;
    }
  }
  insertion_sort(a, n);
}

static void sort_entries(wf_qentry *a, size_t n) {
  int depth = 0;
  for (size_t k = n; k > 1; k >>= 1) depth += 2;
  intro_sort(a, n, depth);
}

/* ---- the side heap: entries that arrive below every rung ---- */

static int side_push(wf_ladder *l, wf_qentry e) {
  if (l->sn == l->scap) {
    size_t cap = l->scap ? 2 * l->scap : 64;
    wf_qentry *s = realloc(l->side, cap * sizeof *s);
    if (!s) return -1;
    l->side = s;
    l->scap = cap;
  }
  size_t i = l->sn++;
  while (i) {
    size_t p = (i - 1) / 2;
    if (!wf_qentry_less(&e, &l->side[p])) break;
    l->side[i] = l->side[p];
    i = p;
  }
  l->side[i] = e;
  return 0;
}

static wf_qentry side_pop(wf_ladder *l) {
  wf_qentry top = l->side[0], e = l->side[--l->sn];
  size_t n = l->sn, i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && wf_qentry_less(&l->side[c + 1], &l->side[c])) c++;
    if (!wf_qentry_less(&l->side[c], &e)) break;
    l->side[i] = l->side[c];
    i = c;
  }
  if (n) l->side[i] = e;
  return top;
}

/* ---- the chunk pool ---- */

/* Puts chunks [from, to) on the free list. */
static void link_free(wf_ladder *l, uint32_t from, uint32_t to) {
  for (uint32_t i = from; i < to; i++) l->chunks[i].next = i + 1 < to ? i + 1 : l->free;
  if (from < to) l->free = from;
  l->nfree += to - from;
}

/* Grows the pool to `want` chunks (aligned to cache lines, hence no realloc). */
static int grow_chunks(wf_ladder *l, size_t want) {
  if (want >= NONE) want = NONE; /* indices are 32-bit; NONE itself ends the lists */
  if (want <= l->ccap) return -1;
  wf_ladder_chunk *c = aligned_alloc(_Alignof(wf_ladder_chunk), want * sizeof *c);
  if (!c) return -1;
  if (l->ccap) memcpy(c, l->chunks, l->ccap * sizeof *c);
  free(l->chunks);
  l->chunks = c;
  uint32_t from = l->ccap;
  l->ccap = (uint32_t)want;
  link_free(l, from, l->ccap);
  return 0;
}

/* Makes sure k chunks are free, so that what follows cannot fail half-way. */
static int reserve_chunks(wf_ladder *l, size_t k) {
  if (l->nfree >= k) return 0;
  size_t want = (size_t)l->ccap + (k - l->nfree), grown = (size_t)l->ccap + l->ccap / 2;
  return grow_chunks(l, want > grown ? want : grown);
}

static inline uint32_t chunk_alloc(wf_ladder *l) {
  if (l->free == NONE && grow_chunks(l, 2 * (size_t)l->ccap) != 0) return NONE;
  uint32_t i = l->free;
  l->free = l->chunks[i].next;
  l->nfree--;
  return i;
}

static inline void chunk_free(wf_ladder *l, uint32_t i) {
  l->chunks[i].next = l->free;
  l->free = i;
  l->nfree++;
}

/* Entries in the first chunk of a list of `count` (> 0): all chunks after it are full. */
static inline uint32_t head_n(uint32_t count) {
  return (count - 1) % WF_LADDER_CHUNK + 1;
}

/* The slot is found from the bucket's count alone: a push writes to the chunk without reading
 * it first, so a bucket whose chunk is not cached costs a store (absorbed by the store buffer)
 * rather than a load the CPU waits for. Reading a per-chunk fill count here was 60-80% of
 * wf_ladder_push's samples in PHOLD at 10^6 pending events. */
static inline int bucket_put(wf_ladder *l, wf_ladder_bucket *b, wf_qentry e) {
  uint32_t k = b->count % WF_LADDER_CHUNK;
  if (k == 0) {
    uint32_t c = chunk_alloc(l);
    if (c == NONE) return -1;
    l->chunks[c].next = b->head;
    b->head = c;
  }
  l->chunks[b->head].e[k] = e;
  b->count++;
  return 0;
}

/* ---- init / free ---- */

static void reset(wf_ladder *l) {
  l->top = (wf_ladder_bucket){NONE, 0};
  l->top_min = UINT64_MAX;
  l->top_max = 0;
  l->top_start = 0;
  l->top_closed = 0;
  l->nrungs = 0;
  l->bhead = l->bn = l->sn = 0;
}

int wf_ladder_init(wf_ladder *l, size_t capacity) {
  memset(l, 0, sizeof *l);
  l->free = NONE;
  reset(l);
  size_t want = (capacity ? capacity : 1024) / 4 + 16; /* chunks are mostly full */
  return grow_chunks(l, want);
}

void wf_ladder_free(wf_ladder *l) {
  free(l->chunks);
  for (int i = 0; i < WF_LADDER_MAX_RUNGS; i++) free(l->rung[i].b);
  free(l->bot);
  free(l->side);
  memset(l, 0, sizeof *l);
  l->free = NONE;
}

size_t wf_ladder_bytes(const wf_ladder *l) {
  size_t b = (size_t)l->ccap * sizeof *l->chunks + (l->bcap + l->scap) * sizeof(wf_qentry);
  for (int i = 0; i < WF_LADDER_MAX_RUNGS; i++) b += l->rung[i].cap * sizeof(wf_ladder_bucket);
  return b;
}

/* ---- push ---- */

static inline wf_ladder_bucket *bucket_of(wf_ladder_rung *r, uint64_t ts) {
  uint64_t k = (ts - r->start) >> r->shift;
  return &r->b[k < r->nb ? k : r->nb - 1];
}

int wf_ladder_push(wf_ladder *l, wf_qentry e) {
  if (!l->top_closed && e.ts >= l->top_start) {
    if (bucket_put(l, &l->top, e) != 0) return -1;
    if (e.ts < l->top_min) l->top_min = e.ts;
    if (e.ts > l->top_max) l->top_max = e.ts;
    l->n++;
    return 0;
  }
  /* The first rung, widest first, whose unvisited part starts at or below ts; each rung ends
   * where the one above it resumes, so exactly one rung (or else the bottom) can hold ts. */
  for (int k = 0; k < l->nrungs; k++) {
    wf_ladder_rung *r = &l->rung[k];
    if (e.ts < r->cur_ts) continue;
    if (bucket_put(l, bucket_of(r, e.ts), e) != 0) return -1;
    r->count++;
    l->n++;
    return 0;
  }
  if (side_push(l, e) != 0) return -1;
  l->n++;
  return 0;
}

/* ---- refilling the bottom ---- */

/* Builds rung `slot` over the entries of list b, whose keys span [min, max], min < max.
 * Fails (changing nothing) only if memory runs out. */
static int spawn_rung(wf_ladder *l, int slot, wf_ladder_bucket b, uint64_t min, uint64_t max,
                      size_t per_bucket) {
  wf_ladder_rung *r = &l->rung[slot];
  uint64_t span = max - min, target = b.count / per_bucket;
  if (target < 2) target = 2;
  if (target > NONE) target = NONE;
  /* Smallest power-of-two width giving at most `target` buckets (so at least two, as
   * span >= 1): bucketing is then a shift, and min and max land in different buckets, so
   * every split makes progress. */
  unsigned shift = 0;
  while ((span >> shift) >= target) shift++;
  size_t nb = (size_t)(span >> shift) + 1;
  if (nb > r->cap) {
    size_t cap = nb > 2 * r->cap ? nb : 2 * r->cap;
    wf_ladder_bucket *nbk = realloc(r->b, cap * sizeof *nbk);
    if (!nbk) return -1;
    r->b = nbk;
    r->cap = cap;
  }
  /* Each source chunk is freed before its entries are placed, so the new buckets need at
   * most one chunk each beyond those freed: with nb free chunks no placement can fail. */
  if (reserve_chunks(l, nb + 1) != 0) return -1;
  for (size_t k = 0; k < nb; k++) r->b[k] = (wf_ladder_bucket){NONE, 0};
  r->start = r->cur_ts = min;
  r->shift = shift;
  r->nb = (uint32_t)nb;
  r->cur = 0;
  r->count = b.count;
  for (uint32_t i = b.head, next, n = b.count ? head_n(b.count) : 0; i != NONE;
       i = next, n = WF_LADDER_CHUNK) {
    wf_qentry tmp[WF_LADDER_CHUNK];
    next = l->chunks[i].next;
    for (uint32_t j = 0; j < n; j++) tmp[j] = l->chunks[i].e[j];
    chunk_free(l, i);
    for (uint32_t j = 0; j < n; j++) bucket_put(l, bucket_of(r, tmp[j].ts), tmp[j]);
  }
  l->nrungs = slot + 1;
  return 0;
}

/* Copies list b into the bottom run, sorts it and frees the chunks. Fails (changing nothing)
 * only if the run cannot grow. */
static int dump_to_bottom(wf_ladder *l, wf_ladder_bucket b) {
  if (b.count > l->bcap) {
    size_t cap = b.count > 2 * l->bcap ? b.count : 2 * l->bcap;
    wf_qentry *bot = realloc(l->bot, cap * sizeof *bot);
    if (!bot) return -1;
    l->bot = bot;
    l->bcap = cap;
  }
  size_t k = 0;
  for (uint32_t i = b.head, next, n = b.count ? head_n(b.count) : 0; i != NONE;
       i = next, n = WF_LADDER_CHUNK) {
    next = l->chunks[i].next;
    for (uint32_t j = 0; j < n; j++) l->bot[k++] = l->chunks[i].e[j];
    chunk_free(l, i);
  }
  sort_entries(l->bot, k);
  l->bhead = 0;
  l->bn = k;
  return 0;
}

/* Hands a list down: to a finer rung in `slot` if it is crowded and its keys differ (returns
 * 1), else to the bottom (returns 0). On failure (-1, no memory) nothing has changed and the
 * caller still owns the list. */
static int hand_down(wf_ladder *l, int slot, wf_ladder_bucket b, int minmax_known, uint64_t min,
                     uint64_t max, size_t per_bucket) {
  if (b.count > THRES && slot < WF_LADDER_MAX_RUNGS) {
    if (!minmax_known) {
      min = UINT64_MAX;
      max = 0;
      for (uint32_t i = b.head, n = head_n(b.count); i != NONE;
           i = l->chunks[i].next, n = WF_LADDER_CHUNK)
        for (uint32_t j = 0; j < n; j++) {
          uint64_t ts = l->chunks[i].e[j].ts;
          if (ts < min) min = ts;
          if (ts > max) max = ts;
        }
    }
    if (min < max && spawn_rung(l, slot, b, min, max, per_bucket) == 0) return 1;
  }
  return dump_to_bottom(l, b);
}

/* Moves the top into the ladder; later pushes above everything it held start a new top. */
static int take_top(wf_ladder *l) {
  if (hand_down(l, 0, l->top, 1, l->top_min, l->top_max, TOP_PER_BUCKET) < 0) return -1;
  if (l->top_max == UINT64_MAX)
    l->top_closed = 1; /* nothing can sort after it */
  else
    l->top_start = l->top_max + 1;
  l->top = (wf_ladder_bucket){NONE, 0};
  l->top_min = UINT64_MAX;
  l->top_max = 0;
  return 0;
}

/* Takes the next non-empty bucket of the finest rung down to a finer rung or the bottom. */
static int take_bucket(wf_ladder *l) {
  int slot = l->nrungs - 1;
  wf_ladder_rung *r = &l->rung[slot];
  while (r->b[r->cur].count == 0) r->cur++;
  wf_ladder_bucket b = r->b[r->cur];
  /* A rung whose last bucket is taken is retired first, so that a child spawned from that
   * bucket takes its slot and inherits its range, up to where the rung above resumes. */
  int last = r->cur + 1 == r->nb;
  /* A bucket before the last holds keys in [lo, lo + 2^shift) (no overflow: lo + 2^shift is
   * at most the key that opened the rung). Those bounds do for the child's range, sparing a
   * walk over the bucket's chunks: each is a cache miss that depends on the one before, and
   * that walk was the larger part of refill's samples in PHOLD at 10^6 pending events. The last
   * bucket takes everything above, so its keys are scanned. */
  uint64_t lo = r->start + ((uint64_t)r->cur << r->shift);
  int spawned = hand_down(l, last ? slot : slot + 1, b, !last, lo,
                          lo + ((uint64_t)1 << r->shift) - 1, CHILD_PER_BUCKET);
  if (spawned < 0) return -1;
  if (last) {
    if (!spawned) l->nrungs = slot;
    return 0;
  }
  r->cur++;
  r->cur_ts = r->start + ((uint64_t)r->cur << r->shift);
  r->count -= b.count;
  return 0;
}

/* Fills the empty bottom from the finest non-empty rung, or else from the top. Returns -1,
 * with the ladder unchanged, if memory runs out. */
static int refill(wf_ladder *l) {
  while (l->bhead == l->bn && l->sn == 0) {
    if (l->nrungs == 0) {
      if (take_top(l) != 0) return -1;
    } else if (l->rung[l->nrungs - 1].count == 0) {
      l->nrungs--; /* defensive: a rung's largest key sits in its last bucket */
    } else if (take_bucket(l) != 0) {
      return -1;
    }
  }
  return 0;
}

/* ---- pop ---- */

const wf_qentry *wf_ladder_top(wf_ladder *l) {
  if (l->n == 0 || refill(l) != 0) return NULL;
  if (l->sn && (l->bhead == l->bn || wf_qentry_less(&l->side[0], &l->bot[l->bhead])))
    return &l->side[0];
  return &l->bot[l->bhead];
}

wf_qentry wf_ladder_pop_min(wf_ladder *l) {
  if (l->n == 0 || refill(l) != 0) return empty_entry;
  wf_qentry e;
  if (l->sn && (l->bhead == l->bn || wf_qentry_less(&l->side[0], &l->bot[l->bhead])))
    e = side_pop(l);
  else
    e = l->bot[l->bhead++];
  if (--l->n == 0) reset(l);
  return e;
}
