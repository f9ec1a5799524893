/* Region tables: the round-trip times between named regions, loaded from a CSV whose first row
 * and first column name the regions (sim/net/data/README.md). Every entry is checked; a table
 * that is not square, names a region twice, or holds a missing, negative or non-numeric entry
 * is refused with its file, line and column. */
#ifndef WF_NET_REGIONS_H
#define WF_NET_REGIONS_H

#include <stdint.h>

#include "../error.h"
#include "../simtime.h"

typedef struct wf_regions {
  uint32_t n;
  char **names;
  wf_time *one_way; /* n x n, row = from: half the table's RTT, in ns */
} wf_regions;

/* Loads path; the diagonal is replaced by same_region_rtt (the table's own diagonal overstates
 * the RTT between two machines of one region). */
int wf_regions_load(wf_regions *r, const char *path, wf_time same_region_rtt, wf_error *err);
void wf_regions_free(wf_regions *r);
int wf_regions_find(const wf_regions *r, const char *name);

/* The tables weft ships: AWS, 21 regions (the default); CometBFT QA's 13 zones. */
#define WF_REGIONS_DEFAULT WEFT_SOURCE_DIR "/sim/net/data/aws_rtt_ms.csv"
#define WF_REGIONS_COMETBFT_QA WEFT_SOURCE_DIR "/sim/net/data/cometbft_qa_rtt_ms.csv"

#endif
