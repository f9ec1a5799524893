#include "queue.h"

#include <stdlib.h>

/* Children of i are 4i+1 .. 4i+4: a 4-ary heap halves the depth of a binary one, and the four
 * children (16 bytes each) fill one cache line, so a sift-down touches one line per level. */
#define ARITY 4

int wf_queue_init(wf_queue *q, size_t capacity) {
  q->n = 0;
  q->cap = capacity ? capacity : 1024;
  q->h = malloc(q->cap * sizeof *q->h);
  return q->h ? 0 : -1;
}

void wf_queue_free(wf_queue *q) {
  free(q->h);
  q->h = NULL;
  q->n = q->cap = 0;
}

static void sift_up(wf_qentry *h, size_t i, wf_qentry e) {
  while (i) {
    size_t p = (i - 1) / ARITY;
    if (!wf_qentry_less(&e, &h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

/* Places e at the hole i, moving smaller children up. Nodes with all four children (all but
 * the last inner node) take a fixed tournament: two pairs, then their winners. */
static void sift_down(wf_qentry *h, size_t n, size_t i, wf_qentry e) {
  for (;;) {
    size_t c = ARITY * i + 1, best;
    if (c + ARITY <= n) {
      /* Index arithmetic rather than ?: so the compiler emits conditional moves: which child
       * is smaller is a coin flip no branch predictor can learn. */
      size_t a = c + (size_t)wf_qentry_less(&h[c + 1], &h[c]);
      size_t b = c + 2 + (size_t)wf_qentry_less(&h[c + 3], &h[c + 2]);
      best = wf_qentry_less(&h[b], &h[a]) ? b : a;
    } else if (c < n) {
      best = c;
      for (size_t k = c + 1; k < n; k++)
        if (wf_qentry_less(&h[k], &h[best])) best = k;
    } else {
      break;
    }
    if (!wf_qentry_less(&h[best], &e)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = e;
}

int wf_queue_push(wf_queue *q, wf_qentry e) {
  if (q->n == q->cap) {
    size_t cap = q->cap * 2;
    wf_qentry *h = realloc(q->h, cap * sizeof *h);
    if (!h) return -1;
    q->h = h;
    q->cap = cap;
  }
  sift_up(q->h, q->n++, e);
  return 0;
}

void wf_queue_pop(wf_queue *q) {
  wf_qentry last = q->h[--q->n];
  if (q->n) sift_down(q->h, q->n, 0, last);
}

void wf_queue_replace_top(wf_queue *q, wf_qentry e) {
  sift_down(q->h, q->n, 0, e);
}
