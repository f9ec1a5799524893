/* The pending-event set: a 4-ary min-heap of (timestamp, event) entries ordered by (ts, tie),
 * the tie being (source LP, send count) (event.h). Entries are 16 bytes so four siblings share
 * one cache line; the tie is read from the event only when timestamps are equal. `weft bench queue` measures it against the
 * alternatives (sim/queue_ladder.c). */
#ifndef WF_QUEUE_H
#define WF_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct wf_qentry {
  wf_time ts;
  wf_event *ev; /* ev->ts == ts; wf_event_tie_less breaks ties */
} wf_qentry;

typedef struct wf_queue {
  wf_qentry *h;
  size_t n, cap;
} wf_queue;

/* Equal timestamps are rare in most models, so that test is a well-predicted branch and the
 * common path is a single compare the compiler can turn into a conditional move. */
static inline int wf_qentry_less(const wf_qentry *a, const wf_qentry *b) {
  if (__builtin_expect(a->ts != b->ts, 1)) return a->ts < b->ts;
  return wf_event_tie_less(a->ev, b->ev);
}

int wf_queue_init(wf_queue *q, size_t capacity);
void wf_queue_free(wf_queue *q);
/* Grows the array when full; returns -1 only when memory runs out. */
int wf_queue_push(wf_queue *q, wf_qentry e);
/* Removes the minimum. Undefined on an empty queue. */
void wf_queue_pop(wf_queue *q);
/* Replaces the minimum with e in one sift (pop followed by push, the "hold" operation). */
void wf_queue_replace_top(wf_queue *q, wf_qentry e);
static inline const wf_qentry *wf_queue_top(const wf_queue *q) {
  return q->n ? &q->h[0] : NULL;
}
static inline size_t wf_queue_size(const wf_queue *q) {
  return q->n;
}

#endif
