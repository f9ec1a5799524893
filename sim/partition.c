#include "partition.h"

#include <stdlib.h>

typedef struct grp {
  uint32_t id, size, rank;
} grp;

static int by_size_desc(const void *a, const void *b) {
  const grp *x = a, *y = b;
  if (x->size != y->size) return x->size < y->size ? 1 : -1;
  return (x->id > y->id) - (x->id < y->id);
}

static int by_id(const void *a, const void *b) {
  const grp *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

static uint32_t least_loaded(const uint64_t *load, uint32_t nranks) {
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

int wf_partition(const uint32_t *group, uint32_t n, uint32_t nranks, uint32_t *rank_of) {
  uint64_t *load = calloc(nranks, sizeof *load);
  grp *g = malloc((n ? n : 1) * sizeof *g);
  if (!load || !g) {
    free(load), free(g);
    return -1;
  }
  /* Distinct groups and their sizes: sort LPs' group ids, then run-length. */
  size_t ng = 0;
  for (uint32_t i = 0; i < n; i++)
    if (group[i]) g[ng++] = (grp){group[i], 1, 0};
  qsort(g, ng, sizeof *g, by_id);
  size_t k = 0;
  for (size_t i = 0; i < ng; i++) {
    if (k && g[k - 1].id == g[i].id)
      g[k - 1].size++;
    else
      g[k++] = g[i];
  }
  ng = k;
  /* Largest group first onto the least-loaded rank (greedy bin packing). */
  qsort(g, ng, sizeof *g, by_size_desc);
  for (size_t i = 0; i < ng; i++) {
    g[i].rank = least_loaded(load, nranks);
    load[g[i].rank] += g[i].size;
  }
  qsort(g, ng, sizeof *g, by_id);
  /* Ungrouped LPs fill ranks up to an even share, in id order so neighbours stay together. */
  uint64_t share = (n + nranks - 1) / nranks;
  uint32_t r = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (group[i]) {
      rank_of[i] = find(g, ng, group[i])->rank;
      continue;
    }
    while (r + 1 < nranks && load[r] >= share) r++;
    rank_of[i] = r;
    load[r]++;
  }
  free(load), free(g);
  return 0;
}
