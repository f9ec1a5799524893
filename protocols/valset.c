/* CometBFT's validator set (types/validator_set.go, types/validator.go) in C. Go's int64
 * arithmetic wraps where CometBFT does not clip; C's signed overflow is undefined, so the
 * places where Go may wrap (computeMaxMinPriorityDiff, RescalePriorities' ratio) compute in
 * uint64 and convert back, which is Go's two's-complement result. */
#include "valset.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128; /* the mean of n int64 priorities, as big.Int sums them */

/* ---- int64 arithmetic as Go and CometBFT do it ---- */

static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }

/* Go's a / b (truncating; MinInt64 / -1 wraps to MinInt64 instead of trapping). b != 0. */
static int64_t go_div(int64_t a, int64_t b) {
  if (b == -1) return wrap_sub(0, a);
  return a / b;
}

/* validator_set.go safeAdd / safeAddClip: the sum, or the bound it overflowed towards. */
int64_t wf_safe_add_clip(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

/* validator_set.go safeSub / safeSubClip. */
int64_t wf_safe_sub_clip(int64_t a, int64_t b) {
  if (b > 0 && a < INT64_MIN + b) return INT64_MIN;
  if (b < 0 && a > INT64_MAX + b) return INT64_MAX;
  return a - b;
}

/* validator_set.go safeMul: overflow when |a| > MaxInt64 / |b| (|MinInt64| wraps in Go to
 * MinInt64, negative, so it never counts as larger: kept as Go has it). */
int64_t wf_safe_mul(int64_t a, int64_t b, int *overflow) {
  *overflow = 0;
  if (a == 0 || b == 0) return 0;
  int64_t abs_a = a < 0 ? wrap_sub(0, a) : a, abs_b = b < 0 ? wrap_sub(0, b) : b;
  if (abs_a > go_div(INT64_MAX, abs_b)) {
    *overflow = 1;
    return 0;
  }
  return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* ---- orders ---- */

static int addr_cmp(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, WF_VAL_ADDR_LEN); }

/* validator_set.go ValidatorsByVotingPower: power descending, then address ascending. */
static int by_power(const void *pa, const void *pb) {
  const wf_validator *a = pa, *b = pb;
  if (a->power != b->power) return a->power > b->power ? -1 : 1;
  return addr_cmp(a->addr, b->addr);
}

/* validator_set.go ValidatorsByAddress. */
static int by_addr(const void *pa, const void *pb) {
  const wf_validator *a = pa, *b = pb;
  return addr_cmp(a->addr, b->addr);
}

static int by_value(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  return (a > b) - (a < b);
}

/* validator.go CompareProposerPriority: the higher priority, ties to the lower address. */
static const wf_validator *more_priority(const wf_validator *a, const wf_validator *b) {
  if (!a) return b;
  if (a->priority != b->priority) return a->priority > b->priority ? a : b;
  return addr_cmp(a->addr, b->addr) < 0 ? a : b;
}

/* ---- the set's storage ---- */

static int reserve(wf_valset *s, uint32_t n, wf_error *err) {
  if (n <= s->cap) return 0;
  wf_validator *v = realloc(s->v, (size_t)n * sizeof *v);
  if (!v) return wf_error_set(err, "validator set: out of memory for %u validators", n);
  s->v = v;
  s->cap = n;
  return 0;
}

static void clear(wf_valset *s) {
  s->n = 0;
  s->total = 0;
  s->has_proposer = 0;
}

void wf_valset_free(wf_valset *s) {
  free(s->v);
  *s = (wf_valset){0};
}

int wf_valset_copy(wf_valset *dst, const wf_valset *src, wf_error *err) {
  if (dst == src) return 0;
  if (reserve(dst, src->n, err)) return -1;
  if (src->n) memcpy(dst->v, src->v, src->n * sizeof *src->v);
  dst->n = src->n;
  dst->total = src->total;
  dst->has_proposer = src->has_proposer;
  memcpy(dst->proposer, src->proposer, WF_VAL_ADDR_LEN);
  return 0;
}

int32_t wf_valset_index(const wf_valset *s, const uint8_t addr[WF_VAL_ADDR_LEN]) {
  for (uint32_t i = 0; i < s->n; i++)
    if (!addr_cmp(s->v[i].addr, addr)) return (int32_t)i;
  return -1;
}

/* The address as hex for error messages (static buffer: one per message). */
static const char *hex(const uint8_t *a) {
  static char buf[2 * WF_VAL_ADDR_LEN + 1];
  for (int i = 0; i < WF_VAL_ADDR_LEN; i++) {
    buf[2 * i] = "0123456789ABCDEF"[a[i] >> 4];
    buf[2 * i + 1] = "0123456789ABCDEF"[a[i] & 15];
  }
  buf[2 * WF_VAL_ADDR_LEN] = 0;
  return buf;
}

/* ---- proposer priorities ---- */

/* computeMaxMinPriorityDiff: max - min, wrapping as Go does, then its absolute value. */
static int64_t max_min_diff(const wf_valset *s) {
  int64_t max = INT64_MIN, min = INT64_MAX;
  for (uint32_t i = 0; i < s->n; i++) {
    if (s->v[i].priority < min) min = s->v[i].priority;
    if (s->v[i].priority > max) max = s->v[i].priority;
  }
  int64_t diff = wrap_sub(max, min);
  return diff < 0 ? wrap_sub(0, diff) : diff;
}

/* RescalePriorities. The ratio is computed before the test, as in Go; it is 0 only when
 * diff_max > 2^62 (Go would panic dividing by it): then nothing is done. */
void wf_valset_rescale(wf_valset *s, int64_t diff_max) {
  if (s->n == 0 || diff_max <= 0) return;
  int64_t diff = max_min_diff(s);
  int64_t ratio = go_div(wrap_sub(wrap_add(diff, diff_max), 1), diff_max);
  if (diff > diff_max && ratio != 0)
    for (uint32_t i = 0; i < s->n; i++) s->v[i].priority = go_div(s->v[i].priority, ratio);
}

/* computeAvgProposerPriority: big.Int sum, then Div (Euclidean: the floor for n > 0). */
int64_t wf_valset_avg_priority(const wf_valset *s) {
  i128 sum = 0;
  for (uint32_t i = 0; i < s->n; i++) sum += s->v[i].priority;
  i128 q = sum / s->n;
  if (sum % s->n != 0 && sum < 0) q -= 1;
  return (int64_t)q;
}

/* shiftByAvgProposerPriority. */
static void center(wf_valset *s) {
  int64_t avg = wf_valset_avg_priority(s);
  for (uint32_t i = 0; i < s->n; i++) s->v[i].priority = wf_safe_sub_clip(s->v[i].priority, avg);
}

/* getValWithMostPriority / findProposer: the maximum under CompareProposerPriority. */
static const wf_validator *most_priority(const wf_valset *s) {
  const wf_validator *best = NULL;
  for (uint32_t i = 0; i < s->n; i++) best = more_priority(best, &s->v[i]);
  return best;
}

/* incrementProposerPriority: one election. */
static const wf_validator *elect(wf_valset *s) {
  for (uint32_t i = 0; i < s->n; i++)
    s->v[i].priority = wf_safe_add_clip(s->v[i].priority, s->v[i].power);
  wf_validator *w = (wf_validator *)most_priority(s);
  w->priority = wf_safe_sub_clip(w->priority, s->total);
  return w;
}

int wf_valset_increment(wf_valset *s, int32_t times, wf_error *err) {
  if (s->n == 0) return wf_error_set(err, "validator set: increment of an empty set");
  if (times <= 0)
    return wf_error_set(err, "validator set: increment by %d times (must be positive)", times);
  wf_valset_rescale(s, WF_VALSET_WINDOW_FACTOR * s->total);
  center(s);
  const wf_validator *w = NULL;
  for (int32_t i = 0; i < times; i++) w = elect(s);
  s->has_proposer = 1;
  memcpy(s->proposer, w->addr, WF_VAL_ADDR_LEN);
  return 0;
}

const wf_validator *wf_valset_proposer(wf_valset *s) {
  if (s->n == 0) return NULL;
  if (!s->has_proposer) {
    s->has_proposer = 1;
    memcpy(s->proposer, most_priority(s)->addr, WF_VAL_ADDR_LEN);
  }
  int32_t i = wf_valset_index(s, s->proposer);
  return i < 0 ? NULL : &s->v[i];
}

const wf_validator *wf_valset_round_proposer(const wf_valset *s, int32_t round,
                                             wf_valset *scratch) {
  if (round < 0 || s->n == 0) return NULL;
  if (wf_valset_copy(scratch, s, NULL)) return NULL;
  if (round > 0 && wf_valset_increment(scratch, round, NULL)) return NULL;
  return wf_valset_proposer(scratch);
}

/* ---- construction and changes ---- */

/* updateWithChangeSet(changes, allow_deletes). The checks run in CometBFT's order
 * (processChanges, the deletes flag, the empty-result check, verifyRemovals, verifyUpdates)
 * and all before anything changes. */
static int update(wf_valset *s, const wf_validator *changes, uint32_t n, int allow_deletes,
                  wf_error *err) {
  if (n == 0) return 0;
  /* processChanges: sorted by address, no duplicates, 0 <= power <= max. */
  wf_validator *ch = malloc((size_t)n * sizeof *ch);
  if (!ch) return wf_error_set(err, "validator set: out of memory for %u changes", n);
  memcpy(ch, changes, (size_t)n * sizeof *ch);
  qsort(ch, n, sizeof *ch, by_addr);
  uint32_t ndel = 0, nnew = 0;
  int64_t removed = 0;
  int fail = 0;
  for (uint32_t i = 0; i < n && !fail; i++) {
    if (i > 0 && !addr_cmp(ch[i].addr, ch[i - 1].addr)) {
      wf_error_set(err, "validator set: duplicate entry %s in the changes", hex(ch[i].addr));
      fail = 1;
    } else if (ch[i].power < 0) {
      wf_error_set(err, "validator set: voting power can't be negative: %lld",
                   (long long)ch[i].power);
      fail = 1;
    } else if (ch[i].power > WF_VALSET_MAX_TOTAL_POWER) {
      wf_error_set(err,
                   "validator set: to prevent clipping/overflow, voting power can't be higher "
                   "than %lld, got %lld",
                   (long long)WF_VALSET_MAX_TOTAL_POWER, (long long)ch[i].power);
      fail = 1;
    } else if (ch[i].power == 0) {
      ndel++;
    }
  }
  if (!fail && !allow_deletes && ndel) {
    wf_error_set(err, "validator set: cannot process validators with voting power 0");
    fail = 1;
  }
  if (!fail) {
    for (uint32_t i = 0; i < n; i++)
      if (ch[i].power > 0 && wf_valset_index(s, ch[i].addr) < 0) nnew++;
    if (nnew == 0 && s->n == ndel) {
      wf_error_set(err, "validator set: applying the validator changes would result in empty set");
      fail = 1;
    }
  }
  /* verifyRemovals: every removed validator is in the set. */
  for (uint32_t i = 0; i < n && !fail; i++) {
    if (ch[i].power != 0) continue;
    int32_t j = wf_valset_index(s, ch[i].addr);
    if (j < 0) {
      wf_error_set(err, "validator set: failed to find validator %s to remove", hex(ch[i].addr));
      fail = 1;
    } else {
      removed += s->v[j].power;
    }
  }
  /* verifyUpdates: the power deltas in ascending order added to total - removed, failing as
   * soon as the running sum exceeds the maximum (which also keeps it from overflowing: each
   * step adds at most the maximum to at most the maximum). */
  int64_t tvp = 0;
  if (!fail) {
    int64_t *d = malloc((size_t)n * sizeof *d);
    if (!d) {
      free(ch);
      return wf_error_set(err, "validator set: out of memory for %u changes", n);
    }
    uint32_t nd = 0;
    for (uint32_t i = 0; i < n; i++) {
      if (ch[i].power == 0) continue;
      int32_t j = wf_valset_index(s, ch[i].addr);
      d[nd++] = ch[i].power - (j < 0 ? 0 : s->v[j].power);
    }
    qsort(d, nd, sizeof *d, by_value);
    tvp = s->total - removed;
    for (uint32_t i = 0; i < nd && !fail; i++) {
      tvp += d[i];
      if (tvp > WF_VALSET_MAX_TOTAL_POWER) {
        wf_error_set(err, "validator set: total voting power of resulting valset exceeds max %lld",
                     (long long)WF_VALSET_MAX_TOTAL_POWER);
        fail = 1;
      }
    }
    free(d);
  }
  if (fail) {
    free(ch);
    return -1;
  }
  /* computeNewPriorities: a new validator starts at -1.125 x the total after the updates and
   * before the removals, computed as -(T + T>>3) (tvp + removed < 2 x max: no overflow). */
  int64_t t = tvp + removed, new_priority = -(t + (t >> 3));

  /* applyUpdates / applyRemovals merge address-sorted lists; the result is then only rescaled,
   * centered and sorted by power, none of which depends on the order, so a plain pass over the
   * set gives the same set. Built aside, so that running out of memory changes nothing. */
  wf_validator *v = malloc(((size_t)s->n + n) * sizeof *v);
  if (!v) {
    free(ch);
    return wf_error_set(err, "validator set: out of memory for %u validators", s->n + n);
  }
  uint32_t m = 0;
  for (uint32_t i = 0; i < s->n; i++) v[m++] = s->v[i];
  for (uint32_t i = 0; i < n; i++) {
    if (ch[i].power == 0) continue;
    uint32_t j = 0;
    while (j < m && addr_cmp(v[j].addr, ch[i].addr)) j++;
    if (j == m) {
      v[m] = ch[i];
      v[m++].priority = new_priority;
    } else {
      v[j].power = ch[i].power;
    }
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < m; i++) {
    const wf_validator *c = bsearch(&v[i], ch, n, sizeof *ch, by_addr);
    if (!(c && c->power == 0)) v[k++] = v[i];
  }
  free(ch);
  free(s->v);
  s->v = v;
  s->cap = s->n + n;
  s->n = k;
  /* updateTotalVotingPower (verified above), then scale and center, then sort. */
  s->total = 0;
  for (uint32_t i = 0; i < s->n; i++) s->total += s->v[i].power;
  wf_valset_rescale(s, WF_VALSET_WINDOW_FACTOR * s->total);
  center(s);
  qsort(s->v, s->n, sizeof *s->v, by_power);
  return 0;
}

int wf_valset_update(wf_valset *s, const wf_validator *changes, uint32_t n, wf_error *err) {
  return update(s, changes, n, 1, err);
}

int wf_valset_new(wf_valset *s, const wf_validator *vals, uint32_t n, wf_error *err) {
  clear(s);
  if (update(s, vals, n, 0, err)) {
    clear(s);
    return -1;
  }
  if (n > 0 && wf_valset_increment(s, 1, err)) return -1;
  return 0;
}

int wf_valset_from(wf_valset *s, const wf_validator *vals, uint32_t n, wf_error *err) {
  clear(s);
  if (n == 0) return wf_error_set(err, "validator set: empty");
  if (reserve(s, n, err)) return -1;
  memcpy(s->v, vals, (size_t)n * sizeof *vals);
  int64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (s->v[i].power < 0) {
      clear(s);
      return wf_error_set(err, "validator set: validator %s has negative voting power",
                          hex(s->v[i].addr));
    }
    /* updateTotalVotingPower: clipped sum, checked after each term. */
    total = wf_safe_add_clip(total, s->v[i].power);
    if (total > WF_VALSET_MAX_TOTAL_POWER) {
      clear(s);
      return wf_error_set(err, "validator set: total voting power %lld exceeds maximum %lld",
                          (long long)total, (long long)WF_VALSET_MAX_TOTAL_POWER);
    }
  }
  qsort(s->v, n, sizeof *s->v, by_power);
  for (uint32_t i = 1; i < n; i++) {
    for (uint32_t j = 0; j < i; j++)
      if (!addr_cmp(s->v[i].addr, s->v[j].addr)) {
        clear(s);
        return wf_error_set(err, "validator set: duplicate address %s", hex(s->v[i].addr));
      }
  }
  s->n = n;
  s->total = total;
  return 0;
}
