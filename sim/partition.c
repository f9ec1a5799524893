#include "partition.h"

#include <stdlib.h>

typedef struct grp {
  uint32_t id, rank;
  double weight;
} grp;

static int by_weight_desc(const void *a, const void *b) {
  const grp *x = a, *y = b;
  if (x->weight != y->weight) return x->weight < y->weight ? 1 : -1;
  return (x->id > y->id) - (x->id < y->id);
}

static int by_id(const void *a, const void *b) {
  const grp *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

static uint32_t least_loaded(const double *load, uint32_t nranks) {
  uint32_t best = 0;
  for (uint32_t r = 1; r < nranks; r++)
    if (load[r] < load[best]) best = r;
  return best;
}

static grp *find(grp *g, size_t n, uint32_t id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (g[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return &g[lo];
}

/* Distinct groups and their weights, sorted by id, into g; returns how many. */
static size_t collect_groups(const uint32_t *group, const double *weight, uint32_t n,
                             const wf_group_weight *gw, size_t ngw, grp *g) {
  size_t ng = 0;
  for (uint32_t i = 0; i < n; i++)
    if (group[i]) g[ng++] = (grp){group[i], 0, weight ? weight[i] : 1};
  qsort(g, ng, sizeof *g, by_id);
  size_t k = 0;
  for (size_t i = 0; i < ng; i++) {
    if (k && g[k - 1].id == g[i].id)
      g[k - 1].weight += g[i].weight;
    else
      g[k++] = g[i];
  }
  for (size_t i = 0; i < ngw && k; i++) {
    grp *x = find(g, k, gw[i].group);
    if (x < g + k && x->id == gw[i].group) x->weight = gw[i].weight;
  }
  return k;
}

int wf_partition(const uint32_t *group, const double *weight, uint32_t n,
                 const wf_group_weight *gw, size_t ngw, uint32_t nranks, uint32_t *rank_of) {
  double *load = calloc(nranks, sizeof *load);
  grp *g = malloc((n ? n : 1) * sizeof *g);
  if (!load || !g) {
    free(load), free(g);
    return -1;
  }
  size_t ng = collect_groups(group, weight, n, gw, ngw, g);
  /* Heaviest group first onto the least-loaded rank (greedy bin packing). */
  qsort(g, ng, sizeof *g, by_weight_desc);
  double total = 0;
  for (size_t i = 0; i < ng; i++) {
    g[i].rank = least_loaded(load, nranks);
    load[g[i].rank] += g[i].weight;
    total += g[i].weight;
  }
  qsort(g, ng, sizeof *g, by_id);
  for (uint32_t i = 0; i < n; i++)
    if (!group[i]) total += weight ? weight[i] : 1;
  /* Ungrouped LPs fill ranks up to an even share of the weight, in id order so neighbours stay
   * together. An LP goes to the next rank once it would end more than half over the share. */
  double share = total / nranks;
  uint32_t r = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (group[i]) {
      rank_of[i] = find(g, ng, group[i])->rank;
      continue;
    }
    double w = weight ? weight[i] : 1;
    while (r + 1 < nranks && load[r] + w / 2 > share) r++;
    rank_of[i] = r;
    load[r] += w;
  }
  free(load), free(g);
  return 0;
}
