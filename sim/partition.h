/* Placement of LPs on ranks: whole groups first (an LP's group is its chain, region or other
 * natural unit, and a group never splits), then ungrouped LPs in contiguous id blocks to even
 * out the load. The load is the summed weight (a chain with 5x the traffic weighs 5x), not the
 * LP count. Pure and deterministic: every rank computes the same placement. */
#ifndef WF_PARTITION_H
#define WF_PARTITION_H

#include <stddef.h>
#include <stdint.h>

/* A group's load weight, replacing the sum of its LPs' weights. */
typedef struct wf_group_weight {
  uint32_t group;
  double weight;
} wf_group_weight;

/* group[i] is LP i's group, 0 for none; weight[i] its load weight (NULL: all 1). A group weighs
 * the sum of its LPs' weights unless gw (ngw entries, any order) names it. Fills rank_of[i] for
 * n LPs over nranks ranks. Returns -1 only without memory. */
int wf_partition(const uint32_t *group, const double *weight, uint32_t n,
                 const wf_group_weight *gw, size_t ngw, uint32_t nranks, uint32_t *rank_of);

#endif
