/* The pending-event sets (4-ary heap, ladder queue) against a reference: every pop must return
 * exactly the entry a sorted array says is the minimum by (ts, tie), whatever the key pattern:
 * heavy ties, all-equal keys, spreads over the whole 64-bit range, keys below the minimum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue.h"
#include "queue_ladder.h"

/* ---- keys ---- */

static uint64_t rng_state;

static uint64_t next_u64(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) {
  return next_u64() % n;
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

enum dist {
  D_EXP,     /* now + roughly exponential, mean ~1000: the engine's usual case */
  D_TIES,    /* now + 0..3: nearly every timestamp shared */
  D_EQUAL,   /* every timestamp the same */
  D_BIMODAL, /* now + small, or now + 10^6 + small */
  D_SPREAD,  /* now + a value of random magnitude up to 2^64: rungs over huge spans */
  D_WIDE,    /* uniform over all of uint64, in any order */
  D_EXTREME, /* 0, 1, 2, UINT64_MAX - 1, UINT64_MAX or anything */
  D_AROUND,  /* now +- 100: many pushes below the current minimum */
  NDIST
};
static const char *const dist_name[NDIST] = {"exp",    "ties", "equal",   "bimodal",
                                             "spread", "wide", "extreme", "around"};
/* Whether every key is >= the last popped one, as in a simulation. */
static const int dist_monotone[NDIST] = {1, 1, 0, 1, 1, 0, 0, 0};

static uint64_t draw_ts(enum dist d, uint64_t now) {
  switch (d) {
  case D_EXP: {
    uint64_t u = next_u64(), k = 0; /* geometric-ish: the number of leading 1 bits scales it */
    while (k < 12 && (u >> (63 - k)) & 1) k++;
    return sat_add(now, (next_u64() % 700) << (k / 2));
  }
  case D_TIES:
    return sat_add(now, below(4));
  case D_EQUAL:
    return 42;
  case D_BIMODAL:
    return sat_add(now, below(10) == 0 ? 1000000 + below(100) : below(100));
  case D_SPREAD:
    return sat_add(now, next_u64() >> below(64));
  case D_WIDE:
    return next_u64();
  case D_EXTREME: {
    static const uint64_t v[] = {0, 1, 2, UINT64_MAX - 1, UINT64_MAX};
    uint64_t k = below(6);
    return k < 5 ? v[k] : next_u64();
  }
  case D_AROUND:
    return now < 100 ? below(200) : now - 100 + below(200);
  default:
    return 0;
  }
}

/* ---- entries and events ---- */

static wf_event *events;
static size_t nevents, events_cap;

/* A fresh event with a unique, randomly ordered tie: a random source over all 32 bits (ids far
 * above 2^24 included), a counter as its send count. */
static wf_qentry make_entry(uint64_t ts) {
  if (nevents == events_cap) fail_msg("event pool exhausted"); /* entries point into it */
  wf_event *ev = &events[nevents];
  memset(ev, 0, sizeof *ev);
  ev->ts = ts;
  ev->src = (wf_lpid)below(WF_LP_MAX);
  ev->seq = nevents;
  nevents++;
  return (wf_qentry){.ts = ts, .ev = ev};
}

static void reset_events(size_t cap, uint64_t seed) {
  free(events);
  events = calloc(cap, sizeof *events);
  assert_non_null(events);
  nevents = 0;
  events_cap = cap;
  rng_state = seed;
}

/* ---- the structures under test, behind one face ---- */

enum kind { HEAP, LADDER };
typedef struct impl {
  enum kind kind;
  wf_queue q;
  wf_ladder l;
} impl;

static void impl_init(impl *p, enum kind kind, size_t cap) {
  p->kind = kind;
  if (kind == HEAP)
    assert_int_equal(wf_queue_init(&p->q, cap), 0);
  else
    assert_int_equal(wf_ladder_init(&p->l, cap), 0);
}

static void impl_free(impl *p) {
  if (p->kind == HEAP)
    wf_queue_free(&p->q);
  else
    wf_ladder_free(&p->l);
}

static size_t impl_size(impl *p) {
  return p->kind == HEAP ? wf_queue_size(&p->q) : wf_ladder_size(&p->l);
}

static void impl_push(impl *p, wf_qentry e) {
  if (p->kind == HEAP)
    assert_int_equal(wf_queue_push(&p->q, e), 0);
  else
    assert_int_equal(wf_ladder_push(&p->l, e), 0);
}

static wf_qentry impl_pop(impl *p) {
  if (p->kind == LADDER) {
    const wf_qentry *t = wf_ladder_top(&p->l);
    wf_qentry peeked = t ? *t : (wf_qentry){0};
    wf_qentry e = wf_ladder_pop_min(&p->l);
    assert_ptr_equal(e.ev, peeked.ev);
    return e;
  }
  const wf_qentry *t = wf_queue_top(&p->q);
  if (!t) return (wf_qentry){0};
  wf_qentry e = *t;
  wf_queue_pop(&p->q);
  return e;
}

/* Pops the minimum, then pushes e (the heap does both in one sift). */
static wf_qentry impl_hold(impl *p, wf_qentry e) {
  if (p->kind == HEAP) {
    wf_qentry m = *wf_queue_top(&p->q);
    wf_queue_replace_top(&p->q, e);
    return m;
  }
  wf_qentry m = wf_ladder_pop_min(&p->l);
  impl_push(p, e);
  return m;
}

/* ---- the reference: a sorted array, descending, so the minimum is at the end ---- */

typedef struct ref {
  wf_qentry *a;
  size_t n, cap;
} ref;

static void ref_push(ref *r, wf_qentry e) {
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 1024;
    r->a = realloc(r->a, r->cap * sizeof *r->a);
    assert_non_null(r->a);
  }
  size_t lo = 0, hi = r->n; /* first position whose entry is smaller than e */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (wf_qentry_less(&r->a[mid], &e))
      hi = mid;
    else
      lo = mid + 1;
  }
  memmove(&r->a[lo + 1], &r->a[lo], (r->n - lo) * sizeof *r->a);
  r->a[lo] = e;
  r->n++;
}

static wf_qentry ref_pop(ref *r) {
  return r->a[--r->n];
}

static void expect_same(wf_qentry got, wf_qentry want, const char *what, size_t op) {
  if (got.ev != want.ev || got.ts != want.ts)
    fail_msg("%s op %zu: popped (ts %llu, src %u, seq %llx), expected (ts %llu, src %u, seq %llx)",
             what, op, (unsigned long long)got.ts, got.ev ? got.ev->src : 0u,
             got.ev ? (unsigned long long)got.ev->seq : 0ull, (unsigned long long)want.ts,
             want.ev->src, (unsigned long long)want.ev->seq);
}

/* ---- mixed push / pop / hold against the reference ---- */

#define MIXED_OPS 120000
#define MIXED_MAX 3000 /* keeps the O(n) reference cheap */

static void mixed_stress(enum kind kind, enum dist d, uint64_t seed) {
  reset_events(MIXED_OPS + 16, seed);
  impl p;
  impl_init(&p, kind, 16); /* small, to grow many times */
  ref r = {0};
  uint64_t now = 0;
  char what[64];
  snprintf(what, sizeof what, "%s/%s", kind == HEAP ? "heap" : "ladder", dist_name[d]);
  /* Phases of growing, holding and draining; draining reaches empty now and then. */
  for (size_t op = 0; op < MIXED_OPS; op++) {
    unsigned phase = (unsigned)(op / 7000) % 3, roll = (unsigned)below(100);
    unsigned push_pct = phase == 0 ? 70 : phase == 1 ? 50 : 25;
    if (r.n >= MIXED_MAX) push_pct = 0;
    if (roll < push_pct) {
      wf_qentry e = make_entry(draw_ts(d, now));
      impl_push(&p, e);
      ref_push(&r, e);
    } else if (r.n == 0) {
      wf_qentry e = impl_pop(&p); /* popping an empty set is harmless */
      assert_null(e.ev);
    } else if (roll < push_pct + 15) {
      wf_qentry want = r.a[r.n - 1];
      now = want.ts;
      wf_qentry e = make_entry(draw_ts(d, now));
      expect_same(impl_hold(&p, e), want, what, op);
      ref_pop(&r);
      ref_push(&r, e);
    } else {
      wf_qentry want = ref_pop(&r);
      now = want.ts;
      expect_same(impl_pop(&p), want, what, op);
    }
    assert_int_equal(impl_size(&p), r.n);
  }
  while (r.n) expect_same(impl_pop(&p), ref_pop(&r), what, MIXED_OPS);
  assert_int_equal(impl_size(&p), 0);
  assert_null(impl_pop(&p).ev);
  free(r.a);
  impl_free(&p);
}

static void mixed_all(enum kind kind) {
  for (int d = 0; d < NDIST; d++) mixed_stress(kind, (enum dist)d, 1000 + (uint64_t)d);
}

static void heap_mixed(void **s) {
  (void)s;
  mixed_all(HEAP);
}

static void ladder_mixed(void **s) {
  (void)s;
  mixed_all(LADDER);
}

/* ---- bulk: push everything, pop everything, compare with qsort ---- */

static int cmp_entry(const void *a, const void *b) {
  const wf_qentry *x = a, *y = b;
  return wf_qentry_less(x, y) ? -1 : wf_qentry_less(y, x) ? 1 : 0;
}

#define BULK 200000

static void bulk_sorted(enum kind kind) {
  for (int d = 0; d < NDIST; d++) {
    reset_events(BULK, 77 + (uint64_t)d);
    wf_qentry *want = malloc(BULK * sizeof *want);
    assert_non_null(want);
    impl p;
    impl_init(&p, kind, 1);
    for (size_t i = 0; i < BULK; i++) {
      want[i] = make_entry(draw_ts((enum dist)d, 1000000));
      impl_push(&p, want[i]);
    }
    assert_int_equal(impl_size(&p), BULK);
    qsort(want, BULK, sizeof *want, cmp_entry);
    for (size_t i = 0; i < BULK; i++) expect_same(impl_pop(&p), want[i], dist_name[d], i);
    assert_int_equal(impl_size(&p), 0);
    impl_free(&p);
    free(want);
  }
}

static void heap_bulk(void **s) {
  (void)s;
  bulk_sorted(HEAP);
}

static void ladder_bulk(void **s) {
  (void)s;
  bulk_sorted(LADDER);
}

/* ---- the hold model at 10^5 pending, checked without a reference ----
 * With keys never below the last pop, the pops are exactly right iff they never decrease and
 * every entry comes out once: an entry skipped while pending would come out later, smaller.
 * Ties here count up (as a source's sends do), so a new key is never below the last pop. */

static wf_qentry make_later_entry(uint64_t ts) {
  wf_qentry e = make_entry(ts);
  e.ev->src = 0;
  e.ev->seq = nevents;
  return e;
}

#define HOLD_N 100000
#define HOLD_OPS 300000

static void hold_large(enum kind kind) {
  for (int d = 0; d < NDIST; d++) {
    if (!dist_monotone[d]) continue;
    reset_events(HOLD_N + HOLD_OPS, 500 + (uint64_t)d);
    unsigned char *seen = calloc(HOLD_N + HOLD_OPS, 1);
    assert_non_null(seen);
    impl p;
    impl_init(&p, kind, 0);
    for (size_t i = 0; i < HOLD_N; i++) impl_push(&p, make_later_entry(draw_ts((enum dist)d, 0)));
    wf_qentry last = {0};
    for (size_t op = 0; op < HOLD_OPS + HOLD_N; op++) {
      wf_qentry e;
      if (op < HOLD_OPS) {
        const wf_qentry *t = p.kind == HEAP ? wf_queue_top(&p.q) : wf_ladder_top(&p.l);
        e = impl_hold(&p, make_later_entry(draw_ts((enum dist)d, t->ts)));
      } else {
        e = impl_pop(&p);
      }
      assert_non_null(e.ev);
      if (last.ev && wf_qentry_less(&e, &last))
        fail_msg("%s: pop %zu (ts %llu) is below the previous pop (ts %llu)", dist_name[d], op,
                 (unsigned long long)e.ts, (unsigned long long)last.ts);
      size_t id = (size_t)(e.ev - events);
      assert_int_equal(seen[id], 0);
      seen[id] = 1;
      last = e;
    }
    assert_int_equal(impl_size(&p), 0);
    for (size_t i = 0; i < nevents; i++) assert_int_equal(seen[i], 1);
    impl_free(&p);
    free(seen);
  }
}

static void heap_hold(void **s) {
  (void)s;
  hold_large(HEAP);
}

static void ladder_hold(void **s) {
  (void)s;
  hold_large(LADDER);
}

/* ---- small cases ---- */

static void empty_and_one(enum kind kind) {
  reset_events(16, 3);
  impl p;
  impl_init(&p, kind, 0);
  assert_int_equal(impl_size(&p), 0);
  assert_null(impl_pop(&p).ev);
  wf_qentry a = make_entry(UINT64_MAX);
  impl_push(&p, a);
  assert_int_equal(impl_size(&p), 1);
  expect_same(impl_pop(&p), a, "one", 0);
  assert_int_equal(impl_size(&p), 0);
  assert_null(impl_pop(&p).ev);
  /* After emptying, keys far below the earlier ones must still come out first. */
  wf_qentry b = make_entry(5), c = make_entry(0);
  impl_push(&p, b);
  impl_push(&p, c);
  expect_same(impl_pop(&p), c, "two", 0);
  expect_same(impl_hold(&p, a), b, "hold", 1);
  expect_same(impl_pop(&p), a, "last", 2);
  assert_null(impl_pop(&p).ev);
  impl_free(&p);
}

static void heap_small(void **s) {
  (void)s;
  empty_and_one(HEAP);
}

static void ladder_small(void **s) {
  (void)s;
  empty_and_one(LADDER);
  wf_ladder l;
  assert_int_equal(wf_ladder_init(&l, 0), 0);
  assert_null(wf_ladder_top(&l));
  wf_ladder_free(&l);
}

/* Equal timestamps leave in tie order, by source LP then send count, whatever order they arrived
 * in: sources on both sides of 2^24 and send counts on both sides of 2^32 and 2^40. */
static void tie_order(enum kind kind) {
  enum { M = 5000 };
  reset_events(M, 9);
  impl p;
  impl_init(&p, kind, 4);
  for (size_t i = 0; i < M; i++) {
    wf_qentry e = make_entry(i % 2 ? 7 : 1000);
    uint64_t k = (uint64_t)(M - i) * 1000003 % 100003; /* distinct, scrambled */
    e.ev->src = (wf_lpid)((k % 7) * 0x2000001u);       /* up to 6 x (2^25 + 1) */
    e.ev->seq = (k / 7) << (k % 3 ? 29 : 0);           /* up to about 2^42 */
    impl_push(&p, e);
  }
  wf_event prev = {0};
  for (size_t i = 0; i < M; i++) {
    wf_qentry e = impl_pop(&p);
    assert_int_equal(e.ts, i < M / 2 ? 7 : 1000);
    if (i != 0 && i != M / 2)
      assert_true(e.ev->src > prev.src || (e.ev->src == prev.src && e.ev->seq > prev.seq));
    prev = *e.ev;
  }
  impl_free(&p);
}

static void heap_ties(void **s) {
  (void)s;
  tie_order(HEAP);
}

static void ladder_ties(void **s) {
  (void)s;
  tie_order(LADDER);
}

/* Fully equal keys (same ts and tie, distinct events): none lost, all come out. */
static void duplicate_keys(enum kind kind) {
  enum { M = 3000 };
  reset_events(M, 11);
  impl p;
  impl_init(&p, kind, 1);
  for (size_t i = 0; i < M; i++) {
    wf_qentry e = make_entry(below(3));
    e.ev->src = 0;
    e.ev->seq = below(2);
    impl_push(&p, e);
  }
  unsigned char seen[M] = {0};
  wf_qentry last = impl_pop(&p);
  seen[last.ev - events] = 1;
  for (size_t i = 1; i < M; i++) {
    wf_qentry e = impl_pop(&p);
    assert_false(wf_qentry_less(&e, &last));
    assert_int_equal(seen[e.ev - events], 0);
    seen[e.ev - events] = 1;
    last = e;
  }
  assert_null(impl_pop(&p).ev);
  impl_free(&p);
}

static void heap_duplicates(void **s) {
  (void)s;
  duplicate_keys(HEAP);
}

static void ladder_duplicates(void **s) {
  (void)s;
  duplicate_keys(LADDER);
}

/* Keys at every scale (clusters inside clusters) drive the ladder to its deepest rung, where
 * crowded buckets are sorted whole; the order must not change. */
static void ladder_deep(void **s) {
  (void)s;
  enum { PER = 80, SCALES = 12 };
  reset_events(PER * SCALES, 13);
  wf_qentry want[PER * SCALES];
  wf_ladder l;
  assert_int_equal(wf_ladder_init(&l, 0), 0);
  for (int k = 0; k < SCALES; k++)
    for (int i = 0; i < PER; i++) {
      wf_qentry e = make_entry(next_u64() >> (5 * k));
      want[k * PER + i] = e;
      assert_int_equal(wf_ladder_push(&l, e), 0);
    }
  qsort(want, PER * SCALES, sizeof *want, cmp_entry);
  int deepest = 0;
  for (size_t i = 0; i < PER * SCALES; i++) {
    expect_same(wf_ladder_pop_min(&l), want[i], "deep", i);
    if (l.nrungs > deepest) deepest = l.nrungs;
  }
  assert_int_equal(deepest, WF_LADDER_MAX_RUNGS);
  wf_ladder_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(heap_small),      cmocka_unit_test(ladder_small),
      cmocka_unit_test(heap_ties),       cmocka_unit_test(ladder_ties),
      cmocka_unit_test(heap_duplicates), cmocka_unit_test(ladder_duplicates),
      cmocka_unit_test(ladder_deep),     cmocka_unit_test(heap_mixed),
      cmocka_unit_test(ladder_mixed),    cmocka_unit_test(heap_bulk),
      cmocka_unit_test(ladder_bulk),     cmocka_unit_test(heap_hold),
      cmocka_unit_test(ladder_hold),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  free(events);
  return failed;
}
