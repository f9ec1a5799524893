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

/* Equal timestamps are ordered by `tie` = (source LP << WF_TIE_SEQ_BITS) | source send count.
 * Both parts depend only on the model's behaviour, never on which rank an LP lives on, so the
 * delivery order is the same on 1 or 64 ranks (DESIGN rule 3). */
#define WF_TIE_SEQ_BITS 40
#define WF_TIE(src, seq)                                                                           \
  (((uint64_t)(src) << WF_TIE_SEQ_BITS) | ((seq) & ((1ull << WF_TIE_SEQ_BITS) - 1)))

typedef struct wf_event {
  wf_time ts;
  uint64_t tie;
  wf_lpid dst;
  wf_lpid src;
  uint16_t kind;
  uint16_t len;       /* payload bytes used */
  uint32_t next_free; /* pool free list; meaningless while the event is pending */
  unsigned char data[WF_PAYLOAD_MAX];
} wf_event;

#endif
