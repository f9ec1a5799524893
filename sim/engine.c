#include "engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_BLOCK 4096
/* Events between slow-path checks (progress, stop flag, event limit): rare enough to cost
 * nothing per event, frequent enough (~1 ms) to keep Ctrl-C and progress responsive. */
#define CHECK_EVERY 16384

char *wf_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

wf_engine *wf_engine_new(wf_error *err) {
  wf_engine *eng = calloc(1, sizeof *eng);
  if (!eng || wf_queue_init(&eng->queue, 1024) != 0) {
    free(eng);
    wf_error_set(err, "out of memory creating the engine");
    return NULL;
  }
  eng->m_events = wf_counter_define(eng, "events", "events", "events processed", err);
  eng->m_pending = wf_gauge_define(eng, "pending", "events", "events waiting in the queue", err);
  if (eng->m_events == WF_METRIC_NONE || eng->m_pending == WF_METRIC_NONE) {
    wf_engine_free(eng);
    return NULL;
  }
  return eng;
}

void wf_engine_free(wf_engine *eng) {
  if (!eng) return;
  wf_queue_free(&eng->queue);
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
  eng->types[eng->ntypes++] = t;
  return 0;
}

wf_lpid wf_engine_add_lps(wf_engine *eng, const wf_lp_type *t, uint32_t count, const void *cfg,
                          uint32_t group, wf_error *err) {
  if (register_type(eng, t, err) != 0) return WF_LP_NONE;
  if (count == 0) {
    wf_error_set(err, "%s: asked for zero LPs", t->name);
    return WF_LP_NONE;
  }
  /* Ids must fit the tie key's LP field and leave WF_LP_NONE free. */
  if ((uint64_t)eng->nlps + count >= (1ull << (64 - WF_TIE_SEQ_BITS))) {
    wf_error_set(err, "%s: %u more LPs exceed the limit of %llu", t->name, count,
                 (unsigned long long)(1ull << (64 - WF_TIE_SEQ_BITS)) - 1);
    return WF_LP_NONE;
  }
  if (eng->nlps + count > eng->lps_cap) {
    uint32_t cap = eng->lps_cap ? eng->lps_cap : 1024;
    while (cap < eng->nlps + count) cap *= 2;
    wf_lp *lps = realloc(eng->lps, (size_t)cap * sizeof *lps);
    if (!lps) {
      wf_error_set(err, "out of memory adding %u LPs", count);
      return WF_LP_NONE;
    }
    eng->lps = lps;
    eng->lps_cap = cap;
  }
  /* One zeroed arena per call, each state aligned like max_align_t. */
  size_t stride =
      (t->state_size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  unsigned char *arena = stride ? wf_engine_alloc(eng, stride * count) : NULL;
  if (stride && !arena) {
    wf_error_set(err, "out of memory for the state of %u %s LPs", count, t->name);
    return WF_LP_NONE;
  }
  wf_lpid first = eng->nlps;
  for (uint32_t i = 0; i < count; i++) {
    wf_lp *lp = &eng->lps[first + i];
    memset(lp, 0, sizeof *lp);
    lp->eng = eng;
    lp->type = t;
    lp->state = arena ? arena + stride * i : NULL;
    lp->cfg = cfg;
    lp->id = first + i;
    lp->group = group;
  }
  eng->nlps += count;
  return first;
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

void wf_send(wf_lp *lp, wf_lpid dst, wf_time delay, uint16_t kind, const void *data, size_t len) {
  wf_engine *eng = lp->eng;
  if (__builtin_expect(dst >= eng->nlps || len > WF_PAYLOAD_MAX ||
                           (delay < lp->type->min_delay && dst != lp->id),
                       0)) {
    if (dst >= eng->nlps)
      wf_lp_fail(lp, "sent an event to LP %u, which does not exist (%u LPs)", dst, eng->nlps);
    else if (len > WF_PAYLOAD_MAX)
      wf_lp_fail(lp, "payload of %zu bytes exceeds WF_PAYLOAD_MAX (%d)", len, WF_PAYLOAD_MAX);
    else
      wf_lp_fail(lp,
                 "sent to %s LP %u with delay %llu ns, below its type's declared min_delay "
                 "%llu ns (the lookahead the engine relies on)",
                 eng->lps[dst].type->name, dst, (unsigned long long)delay,
                 (unsigned long long)lp->type->min_delay);
    return;
  }
  uint64_t seq = lp->sent++;
  wf_time ts = eng->now + delay;
  if (ts > eng->end_time || ts < eng->now) { /* never processed: skip the queue entirely */
    eng->dropped_after_end++;
    return;
  }
  wf_event *ev = pool_get(eng);
  if (!ev) {
    engine_fail(eng, "out of memory for pending events (%zu pending)", eng->queue.n);
    return;
  }
  ev->ts = ts;
  ev->tie = WF_TIE(lp->id, seq);
  ev->dst = dst;
  ev->src = lp->id;
  ev->kind = kind;
  ev->len = (uint16_t)len;
  if (len) memcpy(ev->data, data, len);
  wf_qentry e = {ts, ev};
  if (eng->top_pending) { /* reuse the slot of the event being handled: one sift, not two */
    eng->top_pending = 0;
    wf_queue_replace_top(&eng->queue, e);
  } else if (wf_queue_push(&eng->queue, e) != 0) {
    pool_put(eng, ev);
    engine_fail(eng, "out of memory for pending events (%zu pending)", eng->queue.n);
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
} run_state;

static int sample_until(wf_engine *eng, run_state *rs, wf_time upto, wf_error *err) {
  while (rs->next_sample <= upto) {
    if (wf_metrics_sample(eng, rs->next_sample, rs->next_sample - rs->last_sample, err) != 0)
      return -1;
    rs->last_sample = rs->next_sample;
    if (rs->next_sample > WF_TIME_MAX - rs->interval) {
      rs->next_sample = WF_TIME_MAX;
      break;
    }
    rs->next_sample += rs->interval;
  }
  return 0;
}

static int init_lps(wf_engine *eng, uint64_t seed) {
  /* Pre-size the pool for one pending event per LP, the common starting load. */
  if (!eng->free_events)
    for (size_t have = 0; have < eng->nlps; have += POOL_BLOCK)
      if (!pool_grow(eng)) break;
  eng->now = 0;
  eng->top_pending = 0;
  for (uint32_t i = 0; i < eng->nlps && !eng->failed; i++) {
    wf_lp *lp = &eng->lps[i];
    lp->rng = wf_rng_stream(seed, lp->id);
    lp->type->init(lp, lp->state, lp->cfg);
  }
  return eng->failed ? -1 : 0;
}

/* Everything that need not run per event: limits, stop flag, failure, progress. Returns 1 to
 * stop the loop (status set), 0 to go on. */
static int slow_check(wf_engine *eng, run_state *rs, wf_run_stats *st) {
  const wf_run_opts *o = rs->o;
  if (eng->failed) return 1;
  if (o->stop && *o->stop) {
    st->status = "interrupted";
    return 1;
  }
  if (o->max_events && eng->events >= o->max_events) {
    st->status = "event-limit";
    return 1;
  }
  if (o->progress) {
    double w = wall_now();
    if (w >= rs->next_progress) {
      o->progress(o->progress_ud, eng->now, eng->end_time, eng->events, w - rs->t0);
      rs->next_progress = w + (o->progress_every_s > 0 ? o->progress_every_s : 0.5);
    }
  }
  uint64_t b = CHECK_EVERY;
  if (o->max_events && o->max_events - eng->events < b) b = o->max_events - eng->events;
  eng->budget = b; /* this event and b - 1 more before the next check */
  return 0;
}

/* Returns -1 when writing samples failed, 0 otherwise (a model failure sets eng->failed). */
static int event_loop(wf_engine *eng, run_state *rs, wf_run_stats *st, wf_error *err) {
  wf_queue *q = &eng->queue;
  wf_lp *lps = eng->lps;
  wf_time next_stop = rs->next_sample < eng->end_time ? rs->next_sample : eng->end_time;
  st->status = "completed";
  eng->budget = 1;
  for (;;) {
    if (__builtin_expect(q->n == 0, 0)) {
      /* Events past the end are dropped at send, so an empty queue is quiescence only if
       * none was. */
      if (!eng->dropped_after_end) st->status = "idle";
      break;
    }
    wf_time ts = q->h[0].ts;
    if (__builtin_expect(ts > next_stop, 0)) {
      if (sample_until(eng, rs, ts < eng->end_time ? ts - 1 : eng->end_time, err) != 0) return -1;
      if (ts > eng->end_time) break;
      next_stop = rs->next_sample < eng->end_time ? rs->next_sample : eng->end_time;
    }
    if (__builtin_expect(--eng->budget == 0, 0) && slow_check(eng, rs, st)) break;
    wf_event *ev = q->h[0].ev;
    wf_lp *lp = &lps[ev->dst];
    eng->now = ts;
    eng->top_pending = 1;
    lp->type->handle(lp, lp->state, ev);
    lp->events++;
    eng->events++;
    if (eng->top_pending) wf_queue_pop(q);
    pool_put(eng, ev);
  }
  return 0;
}

int wf_engine_run(wf_engine *eng, const wf_run_opts *o, wf_run_stats *st, wf_error *err) {
  memset(st, 0, sizeof *st);
  if (o->end_time == 0) return wf_error_set(err, "end time must be positive");
  if (eng->nlps == 0) return wf_error_set(err, "the scenario built no LPs");
  eng->err = err;
  eng->end_time = o->end_time;
  eng->trace = o->trace;
  run_state rs = {.o = o};
  rs.interval = o->sample ? o->sample : (o->end_time >= 100 ? o->end_time / 100 : 1);
  rs.next_sample = rs.interval;
  rs.t0 = wall_now();
  rs.next_progress = rs.t0 + (o->progress_every_s > 0 ? o->progress_every_s : 0.5);
  if (wf_metrics_begin(eng, err) != 0 || wf_records_begin(eng, err) != 0) return -1;
  if (init_lps(eng, o->seed) != 0) return -1;

  int rc = event_loop(eng, &rs, st, err);
  st->events = eng->events;
  st->sim_time = eng->now;
  st->wall_s = wall_now() - rs.t0;
  if (rc != 0 || eng->failed) return -1;

  int reached_end = strcmp(st->status, "completed") == 0 || strcmp(st->status, "idle") == 0;
  wf_time upto = reached_end ? eng->end_time : eng->now;
  if (sample_until(eng, &rs, upto, err) != 0) return -1;
  for (uint32_t i = 0; i < eng->nlps && !eng->failed; i++) {
    wf_lp *lp = &eng->lps[i];
    if (lp->type->finish) lp->type->finish(lp, lp->state);
  }
  if (eng->failed) return -1;
  if (wf_metrics_end(eng, err) != 0 || wf_records_end(eng, err) != 0) return -1;
  st->events = eng->events;
  st->pending = eng->queue.n;
  st->sim_time = upto;
  st->wall_s = wall_now() - rs.t0;
  return 0;
}
