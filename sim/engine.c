#include "engine_internal.h"

#include "partition.h"
#include "simtime.h"

#include <float.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_BLOCK 4096
/* Events between slow-path checks (progress, stop flag, event limit): rare enough to cost
 * nothing per event, frequent enough (~1 ms) to keep Ctrl-C and progress responsive. */
#define CHECK_EVERY 16384
/* A run writes at most this many samples per series (80 MB each). */
#define WF_MAX_SAMPLES 10000000

char *wf_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

wf_engine *wf_engine_new(wf_error *err) {
  wf_engine *eng = calloc(1, sizeof *eng);
  if (!eng || wf_queue_init(&eng->queue, 1024) != 0) {
    free(eng);
    wf_error_set(err, "out of memory creating the engine");
    return NULL;
  }
  eng->m_events = wf_counter_define(eng, "events", "events", "events processed", err);
  eng->m_pending =
      wf_gauge_define(eng, "pending", "events",
                      "events scheduled, not yet handled (also those due after the end)", err);
  if (eng->m_events == WF_METRIC_NONE || eng->m_pending == WF_METRIC_NONE) {
    wf_engine_free(eng);
    return NULL;
  }
  return eng;
}

void wf_engine_free(wf_engine *eng) {
  if (!eng) return;
  for (uint32_t i = 0; i < eng->inited; i++) { /* owned LPs whose init ran */
    wf_lp *lp = &eng->lps[i];
    if (lp->type->destroy) lp->type->destroy(lp, lp->state);
  }
  for (wf_cleanup *c = eng->cleanups, *n; c; c = n) { /* before the memory they may use */
    n = c->next;
    c->fn(c->ud);
    free(c);
  }
  wf_queue_free(&eng->queue);
  if (eng->use_ladder) wf_ladder_free(&eng->ladder);
  for (int r = 0; eng->outbox && r < eng->nranks; r++) free(eng->outbox[r].ev);
  free(eng->outbox);
  free(eng->where);
  free(eng->runs);
  free(eng->after_init);
  free(eng->lp_weight);
  free(eng->group_weight);
  for (wf_pool_block *b = eng->blocks, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  for (wf_owned *o = eng->owned, *n; o; o = n) {
    n = o->next;
    free(o);
  }
  wf_metrics_free(eng);
  wf_records_free(eng);
  free(eng->lps);
  free(eng);
}

void *wf_engine_alloc(wf_engine *eng, size_t size) {
  wf_owned *o = calloc(1, sizeof *o + size);
  if (!o) return NULL;
  o->next = eng->owned;
  eng->owned = o;
  return o->data;
}

int wf_engine_on_free(wf_engine *eng, void (*fn)(void *ud), void *ud) {
  wf_cleanup *c = malloc(sizeof *c);
  if (!c) return -1;
  *c = (wf_cleanup){eng->cleanups, fn, ud};
  eng->cleanups = c;
  return 0;
}

void wf_engine_release(wf_engine *eng, void *p) {
  if (!p) return;
  for (wf_owned **o = &eng->owned; *o; o = &(*o)->next)
    if ((void *)(*o)->data == p) {
      wf_owned *dead = *o;
      *o = dead->next;
      free(dead);
      return;
    }
}

int wf_engine_after_init(wf_engine *eng, void (*fn)(wf_engine *eng, void *ud), void *ud,
                         wf_error *err) {
  void *a = realloc(eng->after_init, (eng->nafter_init + 1) * sizeof *eng->after_init);
  if (!a) return wf_error_set(err, "out of memory");
  eng->after_init = a;
  eng->after_init[eng->nafter_init].fn = fn;
  eng->after_init[eng->nafter_init++].ud = ud;
  return 0;
}

/* size rounded up to the strictest alignment: LP states and wf_lp_alloc blocks sit back to back. */
static size_t aligned(size_t size) {
  return (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
}

/* Per-LP memory handed out in init, carved from engine-owned chunks: one allocation per many
 * LPs, not one each. */
#define LP_MEM_CHUNK ((size_t)64 * 1024)

void *wf_lp_alloc(wf_lp *lp, size_t size) {
  wf_engine *eng = lp->eng;
  size = aligned(size);
  if (size == 0) size = sizeof(max_align_t);
  if (size > LP_MEM_CHUNK / 4) return wf_engine_alloc(eng, size); /* large: its own block */
  if (size > eng->lp_mem_left) {
    if (!(eng->lp_mem = wf_engine_alloc(eng, LP_MEM_CHUNK))) {
      eng->lp_mem_left = 0;
      return NULL;
    }
    eng->lp_mem_left = LP_MEM_CHUNK;
  }
  void *p = eng->lp_mem;
  eng->lp_mem += size;
  eng->lp_mem_left -= size;
  return p;
}

uint32_t wf_engine_lp_count(const wf_engine *eng) {
  return eng->nlps;
}
uint32_t wf_lp_total(const wf_lp *lp) {
  return lp->eng->nlps;
}

static int register_type(wf_engine *eng, const wf_lp_type *t, wf_error *err) {
  for (uint32_t i = 0; i < eng->ntypes; i++)
    if (eng->types[i] == t) return 0;
  if (eng->ntypes == WF_MAX_TYPES)
    return wf_error_set(err, "too many LP types (at most %d)", WF_MAX_TYPES);
  if (!t->name || !t->handle || !t->init)
    return wf_error_set(err, "LP type '%s' lacks a name, init or handle callback",
                        t->name ? t->name : "?");
  /* A send to another group is a send to another LP: min_delay bounds it too. */
  if (t->min_delay_cross && t->min_delay_cross < t->min_delay)
    return wf_error_set(err, "LP type '%s' declares min_delay_cross %llu ns below its min_delay "
                        "%llu ns (0 means the same as min_delay)",
                        t->name, (unsigned long long)t->min_delay_cross,
                        (unsigned long long)t->min_delay);
  eng->types[eng->ntypes++] = t;
  return 0;
}

uint64_t wf_machine_memory(void) {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* What one LP and one pending event take at least: the LP's record, state, placement entry
 * and weight; the event and its queue slot. */
#define LP_OVERHEAD (sizeof(wf_lp) + sizeof(uint32_t) + sizeof(double))
#define EVENT_BYTES (sizeof(wf_event) + 2 * sizeof(void *))

static void put_bytes(char *buf, size_t cap, double b) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (b >= 1024 && u < 6) b /= 1024, u++;
  snprintf(buf, cap, "%.3g %s", b, units[u]);
}

/* Fails once the world declared so far cannot fit in this machine's memory: LPs, pending
 * events, and the bytes models declared (what names the declaration being added, or NULL). */
static int check_fits(uint64_t lp_bytes, uint64_t events, uint64_t model_bytes, uint32_t nlps,
                      const char *what, wf_error *err) {
  uint64_t mem = wf_machine_memory();
  double need = (double)lp_bytes + (double)events * (double)EVENT_BYTES + (double)model_bytes;
  if (mem == 0 || need <= (double)mem) return 0;
  char n[32], m[32], models[200] = "";
  put_bytes(n, sizeof n, need);
  put_bytes(m, sizeof m, (double)mem);
  if (model_bytes) {
    char b[32];
    put_bytes(b, sizeof b, (double)model_bytes);
    snprintf(models, sizeof models, " + %s for %s", b, what ? what : "what the models declared");
  }
  return wf_error_set(err,
                      "the world cannot fit in memory: %u LPs (%llu B of records and state) + "
                      "%llu pending events x %zu B%s = %s at least, more than this machine's %s",
                      nlps, (unsigned long long)lp_bytes, (unsigned long long)events,
                      (size_t)EVENT_BYTES, models, n, m);
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
  return a + b < a ? UINT64_MAX : a + b;
}

int wf_engine_expect_events(wf_engine *eng, uint64_t n, wf_error *err) {
  uint64_t events = add_sat(eng->expected_events, n);
  if (check_fits(eng->lp_bytes, events, eng->model_bytes, eng->nlps, NULL, err) != 0) return -1;
  eng->expected_events = events;
  return 0;
}

int wf_engine_expect_bytes(wf_engine *eng, uint64_t bytes, const char *what, wf_error *err) {
  uint64_t total = add_sat(eng->model_bytes, bytes);
  if (check_fits(eng->lp_bytes, eng->expected_events, total, eng->nlps, what, err) != 0) return -1;
  eng->model_bytes = total;
  return 0;
}

wf_lpid wf_engine_add_lps(wf_engine *eng, const wf_lp_type *t, uint32_t count, const void *cfg,
                          uint32_t group, wf_error *err) {
  if (eng->placed) {
    wf_error_set(err, "%s: LPs are added while building the world, not once it runs", t->name);
    return WF_LP_NONE;
  }
  if (register_type(eng, t, err) != 0) return WF_LP_NONE;
  if (count == 0) {
    wf_error_set(err, "%s: asked for zero LPs", t->name);
    return WF_LP_NONE;
  }
  /* Ids are 32 bits and WF_LP_NONE must stay free. */
  if ((uint64_t)eng->nlps + count > WF_LP_MAX) {
    wf_error_set(err, "%s: %u more LPs would exceed the limit of %llu LPs (32-bit ids)", t->name,
                 count, (unsigned long long)WF_LP_MAX);
    return WF_LP_NONE;
  }
  uint64_t lp_bytes = eng->lp_bytes + (uint64_t)count * (LP_OVERHEAD + aligned(t->state_size));
  if (check_fits(lp_bytes, eng->expected_events, eng->model_bytes, eng->nlps + count, NULL, err) !=
      0)
    return WF_LP_NONE;
  eng->lp_bytes = lp_bytes;
  /* Only the index grows here: records and states wait for the placement (wf_engine_place),
   * which knows which LPs this rank owns. */
  wf_lp_run *last = eng->nruns ? &eng->runs[eng->nruns - 1] : NULL;
  if (last && last->type == t && last->cfg == cfg && last->group == group) {
    last->count += count;
  } else {
    if (eng->nruns == eng->runs_cap) {
      uint32_t cap = eng->runs_cap ? 2 * eng->runs_cap : 16;
      wf_lp_run *r = realloc(eng->runs, (size_t)cap * sizeof *r);
      if (!r) {
        wf_error_set(err, "out of memory adding %u LPs", count);
        return WF_LP_NONE;
      }
      eng->runs = r;
      eng->runs_cap = cap;
    }
    eng->runs[eng->nruns++] = (wf_lp_run){eng->nlps, count, t, cfg, group};
  }
  if (eng->lp_weight && eng->nlps + count > eng->weight_cap) {
    uint64_t cap = eng->weight_cap ? eng->weight_cap : 1024; /* 64 bits: doubling past 2^31 */
    while (cap < eng->nlps + count) cap *= 2;
    if (cap > WF_LP_MAX) cap = WF_LP_MAX;
    double *w = realloc(eng->lp_weight, (size_t)cap * sizeof *w);
    if (!w) {
      wf_error_set(err, "out of memory adding %u LPs", count);
      return WF_LP_NONE;
    }
    eng->lp_weight = w;
    eng->weight_cap = (uint32_t)cap;
  }
  wf_lpid first = eng->nlps;
  for (uint32_t i = 0; eng->lp_weight && i < count; i++) eng->lp_weight[first + i] = 1;
  eng->nlps += count;
  if (group > eng->max_group) eng->max_group = group;
  return first;
}

static int check_weight(double weight, wf_error *err) {
  if (weight > 0 && weight <= DBL_MAX) return 0;
  return wf_error_set(err, "load weight %g: expected a positive, finite number", weight);
}

int wf_engine_lp_weight(wf_engine *eng, wf_lpid first, uint32_t count, double weight,
                        wf_error *err) {
  if (check_weight(weight, err) != 0) return -1;
  if ((uint64_t)first + count > eng->nlps)
    return wf_error_set(err, "load weight for LPs %u to %llu: only %u LPs exist", first,
                        (unsigned long long)first + count - 1, eng->nlps);
  if (!eng->lp_weight) { /* first use: everyone else weighs 1 */
    if (!(eng->lp_weight = malloc((eng->nlps ? eng->nlps : 1) * sizeof *eng->lp_weight)))
      return wf_error_set(err, "out of memory for load weights");
    eng->weight_cap = eng->nlps;
    for (uint32_t i = 0; i < eng->nlps; i++) eng->lp_weight[i] = 1;
  }
  for (uint32_t i = 0; i < count; i++) eng->lp_weight[first + i] = weight;
  return 0;
}

int wf_engine_group_weight(wf_engine *eng, uint32_t group, double weight, wf_error *err) {
  if (check_weight(weight, err) != 0) return -1;
  if (group == 0)
    return wf_error_set(err, "group 0 is no group: weigh ungrouped LPs with wf_engine_lp_weight");
  for (size_t i = 0; i < eng->ngroup_weight; i++)
    if (eng->group_weight[i].group == group) {
      eng->group_weight[i].weight = weight;
      return 0;
    }
  wf_group_weight *g =
      realloc(eng->group_weight, (eng->ngroup_weight + 1) * sizeof *eng->group_weight);
  if (!g) return wf_error_set(err, "out of memory for group weights");
  eng->group_weight = g;
  eng->group_weight[eng->ngroup_weight++] = (wf_group_weight){group, weight};
  return 0;
}

uint32_t wf_engine_new_group(wf_engine *eng) {
  return eng->max_group == UINT32_MAX ? 0 : ++eng->max_group;
}

/* ---- event pool ---- */

static wf_event *pool_grow(wf_engine *eng) {
  wf_pool_block *b = malloc(sizeof *b + POOL_BLOCK * sizeof(wf_event));
  if (!b) return NULL;
  b->next = eng->blocks;
  eng->blocks = b;
  for (size_t i = 0; i < POOL_BLOCK; i++) {
    wf_event *next = i + 1 < POOL_BLOCK ? &b->events[i + 1] : eng->free_events;
    memcpy(b->events[i].data, &next, sizeof next);
  }
  eng->free_events = &b->events[0];
  return eng->free_events;
}

static inline wf_event *pool_get(wf_engine *eng) {
  wf_event *ev = eng->free_events;
  if (__builtin_expect(!ev, 0) && !(ev = pool_grow(eng))) return NULL;
  memcpy(&eng->free_events, ev->data, sizeof(wf_event *));
  return ev;
}

static inline void pool_put(wf_engine *eng, wf_event *ev) {
  memcpy(ev->data, &eng->free_events, sizeof(wf_event *));
  eng->free_events = ev;
}

/* Once the run is over nothing is handled any more: the events still pending (counted by then)
 * and the pool, the pending set and the outboxes give their memory back before finish and the
 * trace's tables, whose rows and buffers would otherwise come on top of the run's peak. The
 * queue is left empty and usable (wf_queue_push grows it again): finish may still send. */
static void release_events(wf_engine *eng) {
  if (eng->use_ladder) wf_ladder_free(&eng->ladder);
  eng->use_ladder = 0;
  eng->queue.n = 0;
  wf_qentry *h = realloc(eng->queue.h, 64 * sizeof *h); /* shrinking: keeps the old on failure */
  if (h) eng->queue.h = h, eng->queue.cap = 64;
  for (wf_pool_block *b = eng->blocks, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  eng->blocks = NULL;
  eng->free_events = NULL;
  for (int r = 0; eng->outbox && r < eng->nranks; r++) {
    free(eng->outbox[r].ev);
    eng->outbox[r] = (wf_outbox){0};
  }
#ifdef __GLIBC__
  /* Pool blocks mostly come from the heap, not from mmap (glibc raises its mmap threshold
   * after the first mmapped block is freed): without a trim, free keeps them resident. */
  malloc_trim(0);
#endif
}

/* ---- the pending set ----
 * A 4-ary heap while few events are pending, a ladder queue once many are (choose_queue;
 * --queue heap or ladder forces one). Both order by (ts, tie) exactly, so the choice changes
 * speed, never results. Measured in PHOLD (tests/bench/phold_ratio.sh): with 1024 or 2048
 * pending events the heap (in L1/L2) was as fast or a few percent faster; from 4096 up the
 * ladder was, as its pushes cost O(1) and its sorted run lets the loop prefetch the next events
 * and their LPs (prefetch_ahead), which no heap can: a heap knows only its minimum. At
 * 65536 x 16 (10^6 pending) the heap's sift-down alone was ~60% of the time, 0.6-0.7 M
 * events/s (0.4x the bare heap loop of tests/bench/phold_floor.c); the ladder, tuned for this
 * (queue_ladder.c), reached 2.1 M events/s (1.5x it). At 16384 x 1 and 1024 x 16 (16384
 * pending) the ladder ran at 2.2x and 1.7x the heap. */
#define LADDER_MIN 4096

static inline const wf_qentry *pq_top(wf_engine *eng) {
  if (eng->use_ladder) return wf_ladder_top(&eng->ladder);
  return eng->queue.n ? &eng->queue.h[0] : NULL;
}

static inline int pq_push(wf_engine *eng, wf_qentry e) {
  return eng->use_ladder ? wf_ladder_push(&eng->ladder, e) : wf_queue_push(&eng->queue, e);
}

static inline void pq_pop(wf_engine *eng) {
  if (eng->use_ladder)
    wf_ladder_pop_min(&eng->ladder);
  else
    wf_queue_pop(&eng->queue);
}

/* Replaces the minimum (the event being handled) by e. The ladder has no fused form; popping
 * first is right because nothing sent yet can precede the event being handled. */
static inline int pq_replace_top(wf_engine *eng, wf_qentry e) {
  if (!eng->use_ladder) {
    wf_queue_replace_top(&eng->queue, e);
    return 0;
  }
  wf_ladder_pop_min(&eng->ladder);
  return wf_ladder_push(&eng->ladder, e);
}

/* Moves the pending events from the heap into a new ladder. Returns -1 without memory, the
 * heap then still holding them all. */
static int to_ladder(wf_engine *eng) {
  if (wf_ladder_init(&eng->ladder, eng->queue.n) != 0) return -1;
  for (size_t i = 0; i < eng->queue.n; i++)
    if (wf_ladder_push(&eng->ladder, eng->queue.h[i]) != 0) {
      wf_ladder_free(&eng->ladder);
      return -1;
    }
  eng->queue.n = 0;
  eng->use_ladder = 1;
  return 0;
}

/* ---- inside handlers ---- */

wf_time wf_now(const wf_lp *lp) {
  return lp->eng->now;
}

static void fail_v(wf_engine *eng, const char *fmt, va_list ap) {
  if (!eng->failed) {
    eng->failed = 1;
    wf_error_vset(eng->err, fmt, ap);
  }
  eng->budget = 1; /* the next event takes the slow path, which sees the failure */
}

static void engine_fail(wf_engine *eng, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_v(eng, fmt, ap);
  va_end(ap);
}

void wf_lp_fail(wf_lp *lp, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char when[32];
  wf_duration_format(lp->eng->now, when, sizeof when);
  engine_fail(lp->eng, "%s LP %u at t=%s: %s", lp->type->name, lp->id, when, msg);
}

/* A slot in the outbox of rank r: the event leaves at the end of the window. */
static wf_event *outbox_slot(wf_engine *eng, uint32_t r) {
  wf_outbox *o = &eng->outbox[r];
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 256;
    wf_event *p = realloc(o->ev, cap * sizeof *p);
    if (!p) {
      engine_fail(eng, "out of memory for events to rank %u", r);
      return NULL;
    }
    o->ev = p;
    o->cap = cap;
  }
  eng->cross_sent++;
  eng->outbox_n++;
  return &o->ev[o->n++];
}

/* The least delay a type may send with to another LP it does not know the group of. */
static inline wf_time cross_bound(const wf_lp_type *t) {
  return t->min_delay_cross > t->min_delay ? t->min_delay_cross : t->min_delay;
}

/* Off the hot path: a send that may break a rule. Fails the run and returns 1 if it does;
 * returns 0 for a legal one (a send within its group, between min_delay and the cross bound). */
static int send_refused(wf_lp *lp, wf_lpid dst, wf_time delay, size_t len) {
  wf_engine *eng = lp->eng;
  const wf_lp_type *t = lp->type;
  /* The destination may live on another rank: its type and group come from the index. */
  const wf_lp_run *to = dst < eng->nlps ? wf_engine_run_of(eng, dst) : NULL;
  if (dst >= eng->nlps)
    wf_lp_fail(lp, "sent an event to LP %u, which does not exist (%u LPs)", dst, eng->nlps);
  else if (len > WF_PAYLOAD_MAX)
    wf_lp_fail(lp, "payload of %zu bytes exceeds WF_PAYLOAD_MAX (%d)", len, WF_PAYLOAD_MAX);
  else if (dst == lp->id)
    return 0;
  else if (delay < t->min_delay)
    wf_lp_fail(lp,
               "sent to %s LP %u with delay %llu ns, below its type's declared min_delay "
               "%llu ns (the lookahead the engine relies on)",
               to->type->name, dst, (unsigned long long)delay,
               (unsigned long long)t->min_delay);
  else if (to->group != lp->group)
    wf_lp_fail(lp,
               "sent to %s LP %u of another group (%u, its own %u) with delay %llu ns, below its "
               "type's declared min_delay_cross %llu ns (the lookahead between groups the "
               "engine relies on)",
               to->type->name, dst, to->group, lp->group,
               (unsigned long long)delay, (unsigned long long)t->min_delay_cross);
  else
    return 0;
  return 1;
}

void wf_send(wf_lp *lp, wf_lpid dst, wf_time delay, uint16_t kind, const void *data, size_t len) {
  wf_engine *eng = lp->eng;
  if (__builtin_expect(dst >= eng->nlps || len > WF_PAYLOAD_MAX ||
                           (delay < cross_bound(lp->type) && dst != lp->id),
                       0) &&
      send_refused(lp, dst, delay, len))
    return;
  uint64_t seq = lp->sent++;
  eng->sends++;
  wf_time ts = eng->now + delay;
  if (ts > eng->end_time || ts < eng->now) { /* never processed: skip the queue entirely */
    eng->dropped_after_end++;
    return;
  }
  wf_event *ev;
  int remote = eng->where && eng->where[dst] >= eng->nowned;
  if (remote) {
    ev = outbox_slot(eng, eng->where[dst] - eng->nowned);
    if (!ev) return;
  } else if (!(ev = pool_get(eng))) {
    engine_fail(eng, "out of memory for pending events (%zu pending)", wf_pending(eng));
    return;
  }
  ev->ts = ts;
  ev->seq = seq;
  ev->dst = dst;
  ev->src = lp->id;
  ev->kind = kind;
  ev->len = (uint16_t)len;
  if (len) memcpy(ev->data, data, len);
  if (remote) return; /* it waits in an outbox for the end of the window */
  wf_qentry e = {ts, ev};
  if (eng->top_pending) { /* reuse the slot of the event being handled: one sift, not two */
    eng->top_pending = 0;
    if (pq_replace_top(eng, e) != 0) {
      pool_put(eng, ev);
      engine_fail(eng, "out of memory for pending events (%zu pending)", wf_pending(eng));
    }
  } else if (pq_push(eng, e) != 0) {
    pool_put(eng, ev);
    engine_fail(eng, "out of memory for pending events (%zu pending)", wf_pending(eng));
  }
}

void wf_count(wf_lp *lp, wf_metric counter, uint64_t n) {
  lp->eng->counters[counter] += n;
}
void wf_gauge_add(wf_lp *lp, wf_metric gauge, int64_t delta) {
  lp->eng->gauges[gauge] += delta;
}

/* ---- the run loop ---- */

typedef struct run_state {
  const wf_run_opts *o;
  wf_time interval, next_sample, last_sample;
  double t0, next_progress;
  uint64_t global_events; /* all ranks' events at the last window exchange */
} run_state;

static int sample_until(wf_engine *eng, run_state *rs, wf_time upto, wf_error *err) {
  while (rs->next_sample <= upto) {
    if (wf_metrics_sample(eng, rs->next_sample, err) != 0) return -1;
    rs->last_sample = rs->next_sample;
    if (rs->next_sample > WF_TIME_MAX - rs->interval) {
      rs->next_sample = WF_TIME_MAX;
      break;
    }
    rs->next_sample += rs->interval;
  }
  return 0;
}

int wf_engine_init_lps(wf_engine *eng, uint64_t seed) {
  /* Pre-size the pool for one pending event per LP, the common starting load. */
  if (!eng->free_events)
    for (size_t have = 0; have < eng->nowned; have += POOL_BLOCK)
      if (!pool_grow(eng)) break;
  eng->now = 0;
  eng->top_pending = 0;
  for (uint32_t i = 0; i < eng->nowned && !eng->failed; i++) { /* only owned LPs have records */
    wf_lp *lp = &eng->lps[i];
    lp->rng = wf_rng_stream(seed, lp->id);
    eng->current_lp = lp;
    eng->current_rows = 0;
    eng->inited = i + 1;
    lp->type->init(lp, lp->state, lp->cfg);
  }
  for (uint32_t i = 0; i < eng->nafter_init && !eng->failed; i++)
    eng->after_init[i].fn(eng, eng->after_init[i].ud);
  eng->phase = 1;
  return eng->failed ? -1 : 0;
}

/* Everything that need not run per event: limits, stop flag, failure, progress. Returns 1 to
 * stop the loop (status set), 0 to go on. In windows, the stop flag and the event limit are
 * acted on between windows, where every rank sees the same thing; only a failure stops a
 * window early (the model's state can no longer be trusted), and it travels with the exchange. */
static int slow_check(wf_engine *eng, run_state *rs, wf_run_stats *st) {
  const wf_run_opts *o = rs->o;
  uint64_t max = eng->windowed ? 0 : o->max_events;
  if (eng->failed) return 1;
  if (!eng->windowed && o->stop && *o->stop) {
    st->status = "interrupted";
    return 1;
  }
  if (max && eng->events >= max) {
    st->status = "event-limit";
    return 1;
  }
  if (o->progress && eng->rank == 0) {
    double w = wf_wall_s();
    if (w >= rs->next_progress) {
      /* On several ranks only the totals of whole windows are known here. */
      uint64_t all = eng->nranks > 1 ? rs->global_events : eng->events;
      o->progress(o->progress_ud, eng->now, eng->end_time, all, w - rs->t0);
      rs->next_progress = w + (o->progress_every_s > 0 ? o->progress_every_s : 0.5);
    }
  }
  uint64_t b = CHECK_EVERY;
  if (max && max - eng->events < b) b = max - eng->events;
  eng->budget = b; /* this event and b - 1 more before the next check */
  return 0;
}

enum { LOOP_DRAINED, LOOP_STOPPED };

/* How far ahead in the ladder's sorted run the loop prefetches: the event EV_AHEAD entries on,
 * and the LP of the one LP_AHEAD entries on (its event, prefetched earlier, says which LP). */
#define EV_AHEAD 12
#define LP_AHEAD 4

/* always_inline: GCC 12 deems a function that only prefetches free of side effects and deletes
 * the call (ipa-pure-const), prefetches and all; inlined first, they stay. */
static inline __attribute__((always_inline)) void prefetch_lp(const wf_lp *lp) {
  __builtin_prefetch(lp);
  __builtin_prefetch((const char *)(lp + 1) - 1); /* an LP may straddle two lines */
}

/* With 10^6 pending events neither the events (96 B each, 10^8 bytes) nor the LPs stay in the
 * caches, and the loop used to stall on both in turn: the event to learn its destination, then
 * the LP to call its handler (together ~45% of the samples in PHOLD at 65536 x 16). The ladder
 * knows the next entries in its sorted run, so their events and LPs are fetched while earlier
 * ones are handled. A fresh run (a bucket just sorted) has had nothing fetched: its first
 * events are requested together, so their misses overlap instead of queueing. where and base
 * map an LP id to its record, as in event_loop. */
static inline __attribute__((always_inline)) void prefetch_ahead(const wf_engine *eng,
                                                                 const uint32_t *where,
                                                                 wf_lpid base) {
  const wf_ladder *l = &eng->ladder;
  if (l->bhead == 0)
    for (size_t k = 1; k < EV_AHEAD; k++) {
      const wf_qentry *e = wf_ladder_ahead(l, k);
      if (!e) break;
      __builtin_prefetch(e->ev);
    }
  const wf_qentry *far = wf_ladder_ahead(l, EV_AHEAD);
  if (far) __builtin_prefetch(far->ev);
  const wf_qentry *near = wf_ladder_ahead(l, LP_AHEAD);
  if (near) {
    wf_lpid dst = near->ev->dst; /* an owned LP: only those have events here */
    prefetch_lp(&eng->lps[where ? where[dst] : dst - base]);
  }
}

/* Handles every local event with timestamp < limit (and <= the end time), taking the samples
 * that fall due on the way. LOOP_DRAINED: nothing left before the limit; LOOP_STOPPED: a
 * check stopped it (status set, or eng->failed, also when writing samples failed: on several
 * ranks that must travel to the others with the next window, not end this rank alone). */
static int event_loop(wf_engine *eng, run_state *rs, wf_run_stats *st, wf_time limit,
                      wf_error *err) {
  wf_lp *lps = eng->lps;
  const uint32_t *where = eng->lps_dense ? NULL : eng->where; /* id -> owned record */
  wf_lpid base = eng->lp_base;
  wf_time last = limit - 1 < eng->end_time ? limit - 1 : eng->end_time; /* last time handled */
  wf_time next_stop = rs->next_sample < last ? rs->next_sample : last;
  eng->budget = 1;
  for (;;) {
    const wf_qentry *top = pq_top(eng);
    wf_time ts = top ? top->ts : WF_TIME_MAX;
    if (__builtin_expect(ts > next_stop, 0)) {
      if (sample_until(eng, rs, ts <= last ? ts - 1 : last, err) != 0) {
        eng->failed = 1;
        eng->top_pending = 0;
        return LOOP_STOPPED;
      }
      if (ts > last) {
        eng->top_pending = 0; /* nothing is being handled: sends (from finish) push */
        return LOOP_DRAINED;
      }
      next_stop = rs->next_sample < last ? rs->next_sample : last;
    }
    if (__builtin_expect(--eng->budget == 0, 0)) {
      if (slow_check(eng, rs, st)) {
        eng->top_pending = 0;
        return LOOP_STOPPED;
      }
      /* The heap grew past the switch point: the same minimum is then the ladder's. */
      if (eng->auto_queue && eng->queue.n >= LADDER_MIN) {
        eng->auto_queue = 0; /* once: without memory for the ladder the heap carries on */
        if (to_ladder(eng) == 0) top = pq_top(eng);
      }
    }
    if (eng->use_ladder) prefetch_ahead(eng, where, base);
    wf_event *ev = top->ev;
    wf_lp *lp = &lps[where ? where[ev->dst] : ev->dst - base];
    eng->now = ts;
    eng->current = ev;
    eng->current_rows = 0;
    eng->top_pending = 1;
    lp->type->handle(lp, lp->state, ev);
    lp->events++;
    eng->events++;
    if (eng->top_pending) pq_pop(eng);
    pool_put(eng, ev);
  }
}

/* An event from another rank joins the local queue. */
static void deliver(void *ud, const wf_event *in) {
  wf_engine *eng = ud;
  wf_event *ev = pool_get(eng);
  if (!ev || (memcpy(ev, in, sizeof *ev), pq_push(eng, (wf_qentry){ev->ts, ev}))) {
    engine_fail(eng, "out of memory for events from other ranks");
    return;
  }
}

/* The least timestamp this rank could still deliver: its queue and its outboxes. */
static wf_time local_min(wf_engine *eng) {
  const wf_qentry *top = pq_top(eng);
  wf_time m = top ? top->ts : WF_TIME_MAX;
  for (int r = 0; eng->outbox && r < eng->nranks; r++) /* none on one rank */
    for (size_t i = 0; i < eng->outbox[r].n; i++)
      if (eng->outbox[r].ev[i].ts < m) m = eng->outbox[r].ev[i].ts;
  return m;
}

/* Exchanges the outboxes and agrees on what every rank knows. */
static int exchange(wf_engine *eng, run_state *rs, uint32_t flags, wf_window_msg *all,
                    wf_error *err) {
  wf_window_msg mine = {
      local_min(eng), eng->events,
      flags | (eng->failed ? WF_WIN_FAILED : 0) | (eng->dropped_after_end ? WF_WIN_DROPPED : 0), 0};
  double t0 = wf_wall_s();
  int rc = wf_sync_exchange(&mine, eng->outbox, deliver, eng, all, err);
  eng->sync_s += wf_wall_s() - t0;
  if (rc != 0) return -1;
  eng->outbox_n = 0;
  rs->global_events = all->events;
  return 0;
}

/* On one rank without an event limit the loop simply runs to the end. */
static int run_one_rank(wf_engine *eng, run_state *rs, wf_run_stats *st, wf_error *err) {
  st->status = "completed";
  int r = event_loop(eng, rs, st, WF_TIME_MAX, err);
  if (eng->failed) return -1;
  if (r == LOOP_DRAINED && !wf_pending(eng) && !eng->dropped_after_end) st->status = "idle";
  st->sim_time = r == LOOP_DRAINED ? eng->end_time : eng->now;
  return 0;
}

/* A run that reached its end samples the last, possibly shorter, interval too: an end time
 * that is not a multiple of the interval loses nothing. */
static int sample_end(wf_engine *eng, run_state *rs, const wf_run_stats *st, wf_error *err) {
  if (strcmp(st->status, "completed") && strcmp(st->status, "idle")) return 0;
  if (rs->last_sample >= eng->end_time) return 0;
  rs->next_sample = eng->end_time;
  return sample_until(eng, rs, eng->end_time, err);
}

/* On several ranks: conservative windows (YAWNS). All ranks agree on the least pending
 * timestamp T; none can receive anything earlier than T + lookahead, so each handles its
 * events below that bound, then they exchange what they sent and agree on the next T. The
 * windows are the same on any number of ranks, and so is everything computed in them. */
static int run_windows(wf_engine *eng, run_state *rs, wf_run_stats *st, wf_error *err) {
  wf_window_msg all;
  if (exchange(eng, rs, 0, &all, err) != 0) return -1;
  st->status = "completed";
  wf_time limit = 0;
  for (;;) {
    if (all.flags & WF_WIN_FAILED) return -1;
    if (all.flags & WF_WIN_STOP) {
      st->status = "interrupted";
      break;
    }
    if (rs->o->max_events && all.events >= rs->o->max_events && st->windows) {
      st->status = "event-limit";
      break;
    }
    if (all.min_ts > eng->end_time) { /* nothing left anywhere before the end */
      if (all.min_ts == WF_TIME_MAX && !(all.flags & WF_WIN_DROPPED)) st->status = "idle";
      limit = eng->end_time + 1;
      break;
    }
    limit = all.min_ts > WF_TIME_MAX - eng->window ? WF_TIME_MAX : all.min_ts + eng->window;
    event_loop(eng, rs, st, limit, err);
    uint32_t flags = rs->o->stop && *rs->o->stop ? WF_WIN_STOP : 0;
    if (exchange(eng, rs, flags, &all, err) != 0) return -1;
    st->windows++;
    /* Between windows every rank knows the same flags: the one safe place for collectives. */
    if (!(all.flags & (WF_WIN_FAILED | WF_WIN_STOP)) && wf_metrics_window_end(eng, err) != 0)
      eng->failed = 1; /* told to the others with the next window */
  }
  /* Samples up to the last agreed bound, so every rank has taken the same ones. */
  wf_time upto = limit ? limit - 1 : 0;
  if (upto > eng->end_time) upto = eng->end_time;
  if (sample_until(eng, rs, upto, err) != 0) eng->failed = 1;
  st->sim_time =
      strcmp(st->status, "completed") && strcmp(st->status, "idle") ? upto : eng->end_time;
  return 0;
}

/* Init fills the heap; the ladder takes over at once if asked, or on its own (AUTO) once
 * LADDER_MIN events are pending: now, or later from the event loop's periodic check. */
static int choose_queue(wf_engine *eng, wf_queue_kind kind, wf_error *err) {
  eng->auto_queue = kind == WF_QUEUE_AUTO;
  if (kind == WF_QUEUE_HEAP || (kind == WF_QUEUE_AUTO && eng->queue.n < LADDER_MIN)) return 0;
  eng->auto_queue = 0;
  if (to_ladder(eng) != 0) return wf_error_set(err, "out of memory for the ladder queue");
  return 0;
}

/* rc of a step that may fail on some ranks only, made the same on all (with the message of
 * the lowest failing rank). */
static int agree(wf_engine *eng, int rc, wf_error *err) {
  if (eng->nranks == 1) return rc;
  wf_error e = {0};
  if (rc != 0) {
    e = *err;
    if (!e.set) wf_error_set(&e, "rank %d failed", eng->rank);
  }
  if (wf_sync_agree(&e) == 0) return 0;
  *err = e;
  return -1;
}

/* ---- the lookahead a placement allows ---- */

typedef struct group_rank {
  uint32_t group, rank;
} group_rank;

static int by_group_rank(const void *a, const void *b) {
  const group_rank *x = a, *y = b;
  if (x->group != y->group) return x->group < y->group ? -1 : 1;
  return (x->rank > y->rank) - (x->rank < y->rank);
}

static int has_group(const uint32_t *g, size_t n, uint32_t id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (g[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && g[lo] == id;
}

/* The groups whose LPs sit on more than one rank, sorted, into *split (n of them). The
 * (group, rank) pairs are taken from the runs, one per stretch of LPs on one rank, so a
 * placement in blocks costs a few pairs, not one per LP. */
static int split_groups(const wf_engine *eng, const uint32_t *rank_of, uint32_t **split,
                        size_t *n) {
  size_t cap = 64, np = 0;
  group_rank *gr = malloc(cap * sizeof *gr);
  if (!gr) return -1;
  for (uint32_t k = 0; k < eng->nruns; k++) {
    const wf_lp_run *run = &eng->runs[k];
    for (uint32_t i = run->first; i < run->first + run->count; i++) {
      if (np && gr[np - 1].group == run->group && gr[np - 1].rank == rank_of[i]) continue;
      if (np == cap) {
        group_rank *g = realloc(gr, 2 * cap * sizeof *gr);
        if (!g) {
          free(gr);
          return -1;
        }
        gr = g, cap *= 2;
      }
      gr[np++] = (group_rank){run->group, rank_of[i]};
    }
  }
  *split = malloc((np ? np : 1) * sizeof **split);
  if (!*split) {
    free(gr);
    return -1;
  }
  qsort(gr, np, sizeof *gr, by_group_rank);
  *n = 0;
  for (size_t i = 1; i < np; i++)
    if (gr[i].group == gr[i - 1].group && gr[i].rank != gr[i - 1].rank &&
        !(*n && (*split)[*n - 1] == gr[i].group))
      (*split)[(*n)++] = gr[i].group;
  free(gr);
  return 0;
}

static uint32_t type_index(const wf_engine *eng, const wf_lp_type *t) {
  uint32_t k = 0;
  while (eng->types[k] != t) k++;
  return k;
}

/* The least of the types' bounds, given which types have an LP in a split group. */
static wf_lookahead least_bound(const wf_engine *eng, const int *present, const int *split) {
  wf_lookahead la = {WF_TIME_MAX, NULL, 0};
  for (uint32_t k = 0; k < eng->ntypes; k++) {
    if (!present[k]) continue;
    wf_time b = split[k] ? eng->types[k]->min_delay : cross_bound(eng->types[k]);
    if (!la.type || b < la.value) la = (wf_lookahead){b, eng->types[k], !split[k]};
  }
  return la;
}

/* rank_of NULL with spread_ungrouped: the placement wf_partition may make on any rank count
 * (whole groups, ungrouped LPs spread), which bounds every actual one from below. */
static int derive_lookahead(const wf_engine *eng, const uint32_t *rank_of, int spread_ungrouped,
                            wf_lookahead *out) {
  uint32_t *split = NULL;
  size_t nsplit = 0;
  if (rank_of && split_groups(eng, rank_of, &split, &nsplit) != 0) return -1;
  int present[WF_MAX_TYPES] = {0}, in_split[WF_MAX_TYPES] = {0};
  for (uint32_t r = 0; r < eng->nruns; r++) { /* a run's LPs share type and group */
    const wf_lp_run *run = &eng->runs[r];
    uint32_t k = type_index(eng, run->type);
    present[k] = 1;
    if ((spread_ungrouped && run->group == 0) || has_group(split, nsplit, run->group))
      in_split[k] = 1;
  }
  free(split);
  *out = least_bound(eng, present, in_split);
  return 0;
}

int wf_lookahead_of(const wf_engine *eng, const uint32_t *rank_of, wf_lookahead *out) {
  return derive_lookahead(eng, rank_of, 0, out);
}

const wf_lp_run *wf_engine_run_of(const wf_engine *eng, wf_lpid id) {
  uint32_t lo = 0, hi = eng->nruns; /* the last run whose first id is <= id */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (eng->runs[mid].first <= id)
      lo = mid;
    else
      hi = mid;
  }
  return &eng->runs[lo];
}

/* Each LP's rank (rank_of, nlps entries) on nranks > 1 ranks. */
static int partition(const wf_engine *eng, uint32_t nranks, uint32_t *rank_of) {
  uint32_t *group = malloc((eng->nlps ? eng->nlps : 1) * sizeof *group);
  if (!group) return -1;
  for (uint32_t k = 0; k < eng->nruns; k++)
    for (uint32_t i = 0; i < eng->runs[k].count; i++)
      group[eng->runs[k].first + i] = eng->runs[k].group;
  int rc = wf_partition(group, eng->lp_weight, eng->nlps, eng->group_weight, eng->ngroup_weight,
                        nranks, rank_of);
  free(group);
  return rc;
}

/* From rank_of (NULL: all here) to where, nowned and lps_dense: owned LPs numbered in id
 * order, the others tagged with their rank. */
static int index_owned(wf_engine *eng, const uint32_t *rank_of, wf_error *err) {
  uint32_t me = (uint32_t)eng->rank;
  if (!rank_of) { /* one rank: every LP, no map */
    eng->nowned = eng->nlps;
    eng->lps_dense = 1;
    eng->lp_base = 0;
    return 0;
  }
  uint64_t owned = 0;
  wf_lpid lo = WF_LP_NONE, hi = 0;
  for (uint32_t i = 0; i < eng->nlps; i++)
    if (rank_of[i] == me) {
      owned++;
      if (lo == WF_LP_NONE) lo = i;
      hi = i;
    }
  /* Remote LPs are tagged nowned + rank, which must fit in 32 bits. */
  if (owned + (uint64_t)eng->nranks > (uint64_t)UINT32_MAX + 1)
    return wf_error_set(err, "rank %u would own %llu LPs: too many to index with %d ranks", me,
                        (unsigned long long)owned, eng->nranks);
  eng->nowned = (uint32_t)owned;
  eng->lps_dense = owned == 0 || (uint64_t)hi - lo + 1 == owned;
  eng->lp_base = owned ? lo : 0;
  if (!(eng->where = malloc((eng->nlps ? eng->nlps : 1) * sizeof *eng->where)))
    return wf_error_set(err, "out of memory indexing %u LPs", eng->nlps);
  uint32_t local = 0;
  for (uint32_t i = 0; i < eng->nlps; i++)
    eng->where[i] = rank_of[i] == me ? local++ : eng->nowned + rank_of[i];
  return 0;
}

/* wf_lp records and zeroed states for the owned LPs: one state arena per run (each state
 * aligned like max_align_t), sized by the run's owned LPs alone. */
static int alloc_owned(wf_engine *eng, wf_error *err) {
  if (!(eng->lps = calloc(eng->nowned ? eng->nowned : 1, sizeof *eng->lps)))
    return wf_error_set(err, "out of memory for the %u LPs of rank %d", eng->nowned, eng->rank);
  uint32_t local = 0;
  for (uint32_t k = 0; k < eng->nruns; k++) {
    const wf_lp_run *run = &eng->runs[k];
    const wf_lp_type *t = run->type;
    uint32_t mine = 0;
    for (uint32_t i = run->first; i < run->first + run->count; i++) mine += wf_engine_owns(eng, i);
    size_t stride = aligned(t->state_size);
    unsigned char *arena = stride && mine ? wf_engine_alloc(eng, stride * mine) : NULL;
    if (stride && mine && !arena)
      return wf_error_set(err, "out of memory for the state of %u %s LPs", mine, t->name);
    eng->state_bytes += stride * mine;
    for (uint32_t i = run->first, j = 0; i < run->first + run->count; i++) {
      if (!wf_engine_owns(eng, i)) continue;
      wf_lp *lp = &eng->lps[local++];
      lp->eng = eng;
      lp->type = t;
      lp->state = arena ? arena + stride * j++ : NULL;
      lp->cfg = run->cfg;
      lp->id = i;
      lp->group = run->group;
    }
  }
  return 0;
}

int wf_engine_place(wf_engine *eng, int nranks, int rank, wf_error *err) {
  if (eng->placed) return wf_error_set(err, "the world is placed once (one run per engine)");
  eng->nranks = nranks;
  eng->rank = rank;
  uint32_t *rank_of = NULL;
  if (nranks > 1) {
    rank_of = malloc((eng->nlps ? eng->nlps : 1) * sizeof *rank_of);
    eng->outbox = calloc((size_t)nranks, sizeof *eng->outbox);
    if (!rank_of || !eng->outbox || partition(eng, (uint32_t)nranks, rank_of) != 0) {
      free(rank_of);
      return wf_error_set(err, "out of memory placing %u LPs on %d ranks", eng->nlps, nranks);
    }
  }
  wf_lookahead la;
  int rc = 0;
  if (wf_lookahead_of(eng, rank_of, &la) != 0)
    rc = wf_error_set(err, "out of memory deriving the lookahead");
  if (rc == 0) rc = index_owned(eng, rank_of, err);
  free(rank_of); /* where says the same in the same 4 bytes per LP */
  if (rc == 0) rc = alloc_owned(eng, err);
  if (rc != 0) return -1;
  eng->placed = 1;
  eng->lookahead = la.value;
  eng->lookahead_from = la;
  if (nranks > 1 && la.value == 0)
    return wf_error_set(err,
                        "LP type '%s' declares %s 0: a run on %d ranks needs a positive delay "
                        "to LPs that may live on another rank (its lookahead)",
                        la.type->name, la.cross ? "min_delay_cross (and min_delay)" : "min_delay",
                        nranks);
  return 0;
}

/* Places the LPs on this run's ranks and derives the lookahead from the placement, unless a
 * test placed them already (as one rank of a larger run: see wf_engine_place). */
static int setup_ranks(wf_engine *eng, wf_error *err) {
  if (eng->placed) return 0;
  return wf_engine_place(eng, wf_sync_size(), wf_sync_rank(), err);
}

/* After a failure on some rank: every rank returns -1 with the failing rank's message. */
static int fail_agree(wf_engine *eng, wf_error *err) {
  if (eng->nranks == 1) return eng->failed ? -1 : 0;
  if (eng->failed && !err->set) wf_error_set(err, "a model failed on rank %d", eng->rank);
  if (!eng->failed) wf_error_clear(err); /* only failures of this run count */
  return wf_sync_agree(err);
}

int wf_engine_run(wf_engine *eng, const wf_run_opts *o, wf_run_stats *st, wf_error *err) {
  memset(st, 0, sizeof *st);
  if (o->end_time == 0) return wf_error_set(err, "end time must be positive");
  if (eng->nlps == 0) return wf_error_set(err, "the scenario built no LPs");
  if (eng->started) return wf_error_set(err, "an engine runs once");
  eng->started = 1;
  eng->err = err;
  eng->end_time = o->end_time;
  eng->trace = o->trace;
  run_state rs = {.o = o};
  rs.interval = o->sample ? o->sample : (o->end_time >= 100 ? o->end_time / 100 : 1);
  if (rs.interval > o->end_time)
    return wf_error_set(err, "sample interval %.9g s is longer than the end time %.9g s",
                        wf_time_to_s(rs.interval), wf_time_to_s(o->end_time));
  if (o->end_time / rs.interval > WF_MAX_SAMPLES)
    return wf_error_set(err,
                        "sample interval %.9g s gives %llu samples over %.9g s (at most %d: "
                        "choose a longer interval)",
                        wf_time_to_s(rs.interval), (unsigned long long)(o->end_time / rs.interval),
                        wf_time_to_s(o->end_time), WF_MAX_SAMPLES);
  rs.next_sample = rs.interval;
  rs.t0 = wf_wall_s();
  rs.next_progress = rs.t0 + (o->progress_every_s > 0 ? o->progress_every_s : 0.5);
  if (setup_ranks(eng, err) != 0) return -1;
  st->lookahead = eng->lookahead;
  st->lookahead_from = eng->lookahead_from.type->name;
  st->lookahead_bound = eng->lookahead_from.cross ? "cross-group" : "within-group";
  /* Trace errors happen on rank 0 alone: every rank must learn of them before the first
   * exchange, or the others would wait for it there. */
  int rc = wf_metrics_begin(eng, err) != 0 || wf_records_begin(eng, err) != 0 ? -1 : 0;
  if (agree(eng, rc, err) != 0) return -1;
  wf_engine_init_lps(eng, o->seed);
  if (agree(eng, choose_queue(eng, o->queue, err), err) != 0) return -1;

  /* An event limit on one rank runs the same windows as several ranks would, so the run stops
   * at the same point on any rank count (with a lookahead of 0 it stops exactly). */
  /* The derived lookahead depends on the placement (a rank count that splits the ungrouped
   * LPs has a shorter one), so with a limit the windows use the bound of any placement. */
  wf_lookahead any;
  if (o->max_events && derive_lookahead(eng, NULL, 1, &any) != 0)
    return wf_error_set(err, "out of memory deriving the lookahead");
  wf_time la = o->max_events ? any.value : eng->lookahead;
  eng->windowed = eng->nranks > 1 || (o->max_events && la > 0);
  /* Shorter windows than the lookahead are safe but only add exchanges; the knob exists so
   * that this can be measured (cluster/SCALING.md). */
  double f = o->window_fraction > 0 && o->window_fraction < 1 ? o->window_fraction : 1;
  eng->window = f < 1 ? (wf_time)((double)la * f) : la;
  if (eng->window == 0) eng->window = 1;
  rc = eng->windowed ? run_windows(eng, &rs, st, err) : run_one_rank(eng, &rs, st, err);
  if (rc == 0 && !eng->failed && sample_end(eng, &rs, st, err) != 0) eng->failed = 1;
  st->events = eng->events;
  st->wall_s = wf_wall_s() - rs.t0;
  if (rc != 0 || eng->failed) {
    eng->failed = 1;
    fail_agree(eng, err); /* every rank learns the failing rank's message */
    return -1;
  }

  /* finish sees the time the run reached, the same on every rank, not the time of whatever
   * event this rank happened to handle last. */
  eng->phase = 2;
  eng->now = st->sim_time;
  /* No event is handled from here on: the pending ones are counted and their memory goes
   * before finish appends its record rows (what finish sends is counted after it). */
  uint64_t pending = wf_pending(eng);
  release_events(eng);
  for (uint32_t i = 0; i < eng->nowned && !eng->failed; i++) {
    wf_lp *lp = &eng->lps[i];
    eng->current_lp = lp;
    eng->current_rows = 0;
    if (lp->type->finish) lp->type->finish(lp, lp->state);
  }
  if (fail_agree(eng, err) != 0) return -1;
  pending += wf_pending(eng);
  release_events(eng);
  rc = wf_metrics_end(eng, err) != 0 || wf_records_end(eng, err) != 0 ? -1 : 0;
  if (agree(eng, rc, err) != 0) return -1; /* rank 0's writes may fail; all must know */
  st->cross_rank = eng->cross_sent;
  st->sent = 0;
  for (uint32_t i = 0; i < eng->nowned; i++) st->sent += eng->lps[i].sent;
  uint64_t v[4] = {eng->events, pending, st->cross_rank, st->sent};
  wf_sync_sum_u64(v, 4);
  st->events = v[0];
  st->pending = v[1];
  st->cross_rank = v[2];
  st->sent = v[3];
  st->local_events = eng->events;
  st->local_lps = eng->nowned;
  st->sync_s = eng->sync_s;
  st->wall_s = wf_wall_s() - rs.t0;
  return 0;
}
