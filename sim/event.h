/* Events: a timestamp, an ordering key for ties, the destination LP, a kind chosen by the
 * model, and a small payload stored inline so that sending never allocates. */
#ifndef WF_EVENT_H
#define WF_EVENT_H

#include <stdint.h>

#include "simtime.h"

typedef uint32_t wf_lpid;
#define WF_LP_NONE UINT32_MAX

/* Payloads larger than this must be split or referenced by an id the receiver can resolve. */
#define WF_PAYLOAD_MAX 64

/* A world holds at most this many LPs: ids 0 .. 2^32 - 2, WF_LP_NONE stays free. */
#define WF_LP_MAX ((uint64_t)UINT32_MAX)

typedef struct wf_event {
  wf_time ts;
  uint64_t seq; /* the source's send count before this event: the second half of the tie */
  wf_lpid dst;
  wf_lpid src;
  uint16_t kind;
  uint16_t len;       /* payload bytes used */
  uint32_t next_free; /* pool free list; meaningless while the event is pending */
  unsigned char data[WF_PAYLOAD_MAX];
} wf_event;

/* Equal timestamps are ordered by (source LP, source send count), compared in that order. Both
 * depend only on the model's behaviour, never on which rank an LP lives on, so the delivery
 * order is the same on 1 or 64 ranks (README.md, Architecture, rule 3). Two fields rather
 * than one packed 64-bit key, so that LP ids keep all 32 bits and the count never wraps (2^64
 * sends per LP); the second load costs nothing on the hot path, which compares timestamps
 * only. */
static inline int wf_event_tie_less(const wf_event *a, const wf_event *b) {
  if (a->src != b->src) return a->src < b->src;
  return a->seq < b->seq;
}

#endif
