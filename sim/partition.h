/* Placement of LPs on ranks: whole groups first (an LP's group is its chain, region or other
 * natural unit, and a group never splits), then ungrouped LPs in contiguous id blocks to even
 * out the load. Pure and deterministic: every rank computes the same placement. */
#ifndef WF_PARTITION_H
#define WF_PARTITION_H

#include <stdint.h>

/* group[i] is LP i's group, 0 for none. Fills rank_of[i] for n LPs over nranks ranks. */
int wf_partition(const uint32_t *group, uint32_t n, uint32_t nranks, uint32_t *rank_of);

#endif
