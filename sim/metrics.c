/* Counters, gauges and histograms: definition, sampling into /series, histogram output. */
#include "engine_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_BLOCK 1024 /* samples buffered per series before a trace append */

static int name_ok(const char *name) {
  if (!name || !*name || strlen(name) > 63) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '.' || *p == '-'))
      return 0;
  return 1;
}

/* Counters and gauges share one id space, histograms have their own; all share one namespace. */
typedef struct metric_found {
  const char *kind, *units; /* "counter", "gauge" or "histogram"; NULL when the name is free */
  wf_metric id;
} metric_found;

static const char *kind_name(wf_metric_kind k) {
  return k == WF_METRIC_COUNTER ? "counter" : "gauge";
}

static metric_found find_metric(const wf_engine *eng, const char *name) {
  for (uint32_t i = 0; i < eng->nmetrics; i++)
    if (strcmp(eng->metrics[i].name, name) == 0)
      return (metric_found){kind_name(eng->metrics[i].kind), eng->metrics[i].units, i};
  for (uint32_t i = 0; i < eng->nhists; i++)
    if (strcmp(eng->hists[i]->name, name) == 0)
      return (metric_found){"histogram", eng->hists[i]->units, i};
  return (metric_found){NULL, NULL, WF_METRIC_NONE};
}

/* Checks name for a new metric of `kind` in `units`. A builder called twice defines its
 * metrics twice: the same name, kind and units is the same metric, so *existing gets its id
 * and both calls count into it; a name already used differently is an error naming both. */
static int check_define(const wf_engine *eng, const char *kind, const char *name, const char *units,
                        wf_metric *existing, wf_error *err) {
  *existing = WF_METRIC_NONE;
  if (!name_ok(name))
    return wf_error_set(err, "bad metric name '%s' (1-63 characters of A-Z a-z 0-9 _ . -)",
                        name ? name : "");
  if (strcmp(name, "time_s") == 0)
    return wf_error_set(err, "metric name 'time_s' is reserved (the series' time column)");
  metric_found f = find_metric(eng, name);
  if (!f.kind) return 0;
  if (strcmp(f.kind, kind) == 0 && strcmp(f.units, units ? units : "") == 0) {
    *existing = f.id;
    return 0;
  }
  return wf_error_set(err,
                      "metric '%s' is defined twice, differently: as a %s in '%s', then as a "
                      "%s in '%s'",
                      name, f.kind, f.units, kind, units ? units : "");
}

static wf_metric define(wf_engine *eng, wf_metric_kind kind, const char *name, const char *units,
                        const char *description, wf_error *err) {
  wf_metric existing;
  if (check_define(eng, kind_name(kind), name, units, &existing, err) != 0) return WF_METRIC_NONE;
  if (existing != WF_METRIC_NONE) return existing;
  uint32_t n = eng->nmetrics + 1;
  wf_metric_def *m = realloc(eng->metrics, n * sizeof *m);
  uint64_t *c = realloc(eng->counters, n * sizeof *c);
  if (m) eng->metrics = m;
  if (c) eng->counters = c;
  int64_t *g = realloc(eng->gauges, n * sizeof *g);
  if (g) eng->gauges = g;
  if (!m || !c || !g) {
    wf_error_set(err, "out of memory defining metric '%s'", name);
    return WF_METRIC_NONE;
  }
  wf_metric id = eng->nmetrics++;
  eng->metrics[id] = (wf_metric_def){wf_strdup(name), wf_strdup(units ? units : ""),
                                     wf_strdup(description ? description : ""), kind, -1};
  eng->counters[id] = 0;
  eng->gauges[id] = 0;
  return id;
}

wf_metric wf_counter_define(wf_engine *eng, const char *name, const char *units,
                            const char *description, wf_error *err) {
  return define(eng, WF_METRIC_COUNTER, name, units, description, err);
}

wf_metric wf_gauge_define(wf_engine *eng, const char *name, const char *units,
                          const char *description, wf_error *err) {
  return define(eng, WF_METRIC_GAUGE, name, units, description, err);
}

wf_metric wf_hist_define(wf_engine *eng, const char *name, const char *units,
                         const char *description, wf_error *err) {
  wf_metric existing;
  if (check_define(eng, "histogram", name, units, &existing, err) != 0) return WF_METRIC_NONE;
  if (existing != WF_METRIC_NONE) return existing;
  wf_hist **hs = realloc(eng->hists, (eng->nhists + 1) * sizeof *hs);
  wf_hist *h = calloc(1, sizeof *h);
  if (hs) eng->hists = hs;
  if (!hs || !h) {
    free(h);
    wf_error_set(err, "out of memory defining histogram '%s'", name);
    return WF_METRIC_NONE;
  }
  h->name = wf_strdup(name);
  h->units = wf_strdup(units ? units : "");
  h->description = wf_strdup(description ? description : "");
  h->min = UINT64_MAX;
  eng->hists[eng->nhists] = h;
  return eng->nhists++;
}

/* ---- histogram buckets: exact below 8, then 8 linear sub-buckets per power of two ---- */

unsigned wf_hist_bucket(uint64_t v) {
  if (v < 8) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v);
  return 8u + (e - 3u) * 8u + (unsigned)((v >> (e - 3u)) & 7u);
}

void wf_hist_bucket_bounds(unsigned idx, double *lo, double *hi) {
  if (idx < 8) {
    *lo = idx;
    *hi = idx + 1.0;
    return;
  }
  unsigned e = (idx - 8u) / 8u + 3u, sub = (idx - 8u) % 8u;
  *lo = ldexp(8.0 + sub, (int)e - 3);
  *hi = ldexp(9.0 + sub, (int)e - 3);
}

void wf_hist_add(wf_lp *lp, wf_metric id, uint64_t v) {
  wf_hist *h = lp->eng->hists[id];
  h->buckets[wf_hist_bucket(v)]++;
  h->count++;
  uint64_t lo = h->sum_lo + v;
  h->sum_hi += lo < v;
  h->sum_lo = lo;
  if (v < h->min) h->min = v;
  if (v > h->max) h->max = v;
}

/* The q-quantile of count values in buckets, interpolated linearly inside the bucket that
 * holds it and clamped to [min, max]: exact to the bucket width (12.5%). */
static double quantile_of(const uint64_t *buckets, uint64_t count, double q, double min,
                          double max) {
  double target = q * (double)count, cum = 0;
  for (unsigned i = 0; i < WF_HIST_BUCKETS; i++) {
    if (!buckets[i]) continue;
    double c = (double)buckets[i];
    if (cum + c >= target) {
      double lo, hi;
      wf_hist_bucket_bounds(i, &lo, &hi);
      double v = lo + (hi - lo) * ((target - cum) / c);
      return v < min ? min : v > max ? max : v;
    }
    cum += c;
  }
  return max;
}

double wf_hist_quantile(const wf_hist *h, double q) {
  if (!h->count) return 0;
  return quantile_of(h->buckets, h->count, q, (double)h->min, (double)h->max);
}

int wf_hist_windowed(wf_engine *eng, wf_metric hist, wf_error *err) {
  if (hist >= eng->nhists) return wf_error_set(err, "wf_hist_windowed: no histogram %u", hist);
  eng->hists[hist]->windowed = 1;
  return 0;
}

static const double window_q[3] = {0.50, 0.95, 0.99};
static const char *const window_suffix[3] = {"p50", "p95", "p99"};

/* ---- sampling ----
 * Each sample stores the raw integers (counter totals, gauge levels) of this rank. A block of
 * samples is summed over ranks, exactly, and only then turned into rates and levels by rank 0,
 * so the series do not depend on how LPs were placed. */

typedef struct sample_buf {
  uint64_t *raw; /* [cap][width]: the metrics, then each windowed histogram's buckets */
  size_t width;
  wf_time *t;    /* [cap] sample times */
  size_t n, cap;
  uint64_t *prev; /* summed counter totals (and bucket counts) at the previous sample */
  wf_time prev_t;
  int time_series;
} sample_buf;

static sample_buf *buf_of(wf_engine *eng) {
  return (sample_buf *)eng->sample_buf;
}

int wf_metrics_begin(wf_engine *eng, wf_error *err) {
  size_t m = eng->nmetrics;
  for (uint32_t i = 0; i < eng->nhists; i++) m += eng->hists[i]->windowed ? WF_HIST_BUCKETS : 0;
  sample_buf *b = calloc(1, sizeof *b);
  if (b) {
    b->width = m;
    b->cap = SAMPLE_BLOCK;
    b->raw = calloc(SAMPLE_BLOCK * m, sizeof *b->raw);
    b->t = calloc(SAMPLE_BLOCK, sizeof *b->t);
    b->prev = calloc(m, sizeof *b->prev);
  }
  eng->sample_buf = b;
  if (!b || !b->raw || !b->t || !b->prev)
    return wf_error_set(err, "out of memory for series buffers");
  if (!eng->trace) return 0;
  b->time_series = wf_trace_series_add(eng->trace, "time_s", "s",
                                       "simulated time at the end of each sample interval", err);
  if (b->time_series < 0) return -1;
  for (uint32_t i = 0; i < eng->nmetrics; i++) {
    wf_metric_def *d = &eng->metrics[i];
    char units[80];
    snprintf(units, sizeof units, d->kind == WF_METRIC_COUNTER ? "%s/s" : "%s", d->units);
    d->series = wf_trace_series_add(eng->trace, d->name, units, d->description, err);
    if (d->series < 0) return -1;
  }
  for (uint32_t i = 0; i < eng->nhists; i++) {
    wf_hist *h = eng->hists[i];
    for (int q = 0; h->windowed && q < 3; q++) {
      char name[96], desc[600];
      snprintf(name, sizeof name, "%s_%s", h->name, window_suffix[q]);
      snprintf(desc, sizeof desc, "%s of the values added in each sample interval: %s",
               window_suffix[q], h->description);
      if ((h->q_series[q] = wf_trace_series_add(eng->trace, name, h->units, desc, err)) < 0)
        return -1;
    }
  }
  return 0;
}

/* The quantile series of the windowed histograms: from the bucket counts' growth since the
 * previous sample, written after the metrics' series (rows m + 1 onward of v). */
static void window_quantiles(wf_engine *eng, sample_buf *b, size_t k, size_t n, double *v) {
  size_t m = eng->nmetrics, at = m, row = m + 1;
  uint64_t delta[WF_HIST_BUCKETS];
  for (uint32_t i = 0; i < eng->nhists; i++) {
    if (!eng->hists[i]->windowed) continue;
    uint64_t count = 0;
    for (unsigned j = 0; j < WF_HIST_BUCKETS; j++) {
      uint64_t x = b->raw[k * b->width + at + j];
      delta[j] = x - b->prev[at + j];
      count += delta[j];
      b->prev[at + j] = x;
    }
    double lo, hi, mn = 0, mx = 0;
    for (unsigned j = 0; j < WF_HIST_BUCKETS && count; j++)
      if (delta[j]) {
        wf_hist_bucket_bounds(j, &mn, &hi);
        break;
      }
    for (unsigned j = WF_HIST_BUCKETS; j-- > 0 && count;)
      if (delta[j]) {
        wf_hist_bucket_bounds(j, &lo, &mx);
        break;
      }
    for (int q = 0; q < 3; q++)
      v[(row + (size_t)q) * n + k] = count ? quantile_of(delta, count, window_q[q], mn, mx) : NAN;
    at += WF_HIST_BUCKETS;
    row += 3;
  }
}

/* Rank 0's half of a flush: the summed integers become rates and levels in the trace. */
static int write_samples(wf_engine *eng, sample_buf *b, size_t n, wf_error *err) {
  size_t m = eng->nmetrics, nq = 0;
  for (uint32_t i = 0; i < eng->nhists; i++) nq += eng->hists[i]->windowed ? 3 : 0;
  double *v = malloc((m + 1 + nq) * n * sizeof *v); /* row 0 is time_s */
  if (!v) return wf_error_set(err, "out of memory writing series");
  for (size_t k = 0; k < n; k++) {
    double dt = wf_time_to_s(b->t[k] - b->prev_t);
    v[k] = wf_time_to_s(b->t[k]);
    window_quantiles(eng, b, k, n, v);
    for (size_t i = 0; i < m; i++) {
      uint64_t x = b->raw[k * b->width + i];
      double out;
      if (eng->metrics[i].kind == WF_METRIC_COUNTER) {
        out = dt > 0 ? (double)(x - b->prev[i]) / dt : 0;
        b->prev[i] = x;
      } else {
        out = (double)(int64_t)x;
      }
      v[(i + 1) * n + k] = out;
    }
    b->prev_t = b->t[k];
  }
  int rc = wf_trace_series_append(eng->trace, b->time_series, v, n, err);
  for (uint32_t i = 0; i < m && rc == 0; i++)
    rc =
        wf_trace_series_append(eng->trace, eng->metrics[i].series, v + (size_t)(i + 1) * n, n, err);
  size_t row = m + 1;
  for (uint32_t i = 0; i < eng->nhists && rc == 0; i++)
    for (int q = 0; eng->hists[i]->windowed && q < 3 && rc == 0; q++)
      rc = wf_trace_series_append(eng->trace, eng->hists[i]->q_series[q], v + row++ * n, n, err);
  free(v);
  return rc;
}

/* Sums the buffered samples over ranks and, on the rank with the trace, writes them. The sum
 * is a collective: on several ranks it runs only between windows (wf_metrics_window_end), where
 * every rank has taken the same samples and none can have stopped alone. */
static int flush_samples(wf_engine *eng, sample_buf *b, wf_error *err) {
  size_t n = b->n;
  b->n = 0;
  if (!n) return 0;
  /* Gauges are int64 stored in uint64: wrapping sums are exact in two's complement. */
  if (wf_sync_sum_u64(b->raw, n * b->width) != 0)
    return wf_error_set(err, "summing samples over ranks failed");
  return eng->trace ? write_samples(eng, b, n, err) : 0;
}

int wf_metrics_sample(wf_engine *eng, wf_time t, wf_error *err) {
  sample_buf *b = buf_of(eng);
  size_t m = eng->nmetrics, w = b->width;
  if (b->n == b->cap) {
    if (!eng->windowed) {
      if (flush_samples(eng, b, err) != 0) return -1;
    } else { /* no flush inside a window: grow until it ends */
      size_t cap = b->cap * 2;
      uint64_t *raw = realloc(b->raw, cap * w * sizeof *raw);
      if (raw) b->raw = raw;
      wf_time *ts = realloc(b->t, cap * sizeof *ts);
      if (ts) b->t = ts;
      if (!raw || !ts) return wf_error_set(err, "out of memory for samples");
      b->cap = cap;
    }
  }
  eng->counters[eng->m_events] = eng->events;
  /* Scheduled and not yet handled, counted as sent minus handled: an event on its way
   * between ranks is counted once, by its sender, and the sum over ranks is the world's
   * however the events are placed or delivered. Events due after the end time are dropped at
   * send but are no less pending in the model's eyes. */
  eng->gauges[eng->m_pending] = (int64_t)(eng->sends - eng->events);
  uint64_t *row = b->raw + b->n * w;
  for (size_t i = 0; i < m; i++)
    row[i] =
        eng->metrics[i].kind == WF_METRIC_COUNTER ? eng->counters[i] : (uint64_t)eng->gauges[i];
  for (uint32_t i = 0, at = (uint32_t)m; i < eng->nhists; i++)
    if (eng->hists[i]->windowed) {
      memcpy(row + at, eng->hists[i]->buckets, sizeof eng->hists[i]->buckets);
      at += WF_HIST_BUCKETS;
    }
  b->t[b->n++] = t;
  return 0;
}

int wf_metrics_window_end(wf_engine *eng, wf_error *err) {
  sample_buf *b = buf_of(eng);
  return b->n >= SAMPLE_BLOCK ? flush_samples(eng, b, err) : 0;
}

typedef struct hist_row {
  double lo, hi;
  uint64_t count;
} hist_row;

static int write_hist(wf_engine *eng, const wf_hist *h, wf_error *err) {
  static const wf_column cols[] = {
      WF_COLUMN(hist_row, lo, WF_COL_F64, NULL),
      WF_COLUMN(hist_row, hi, WF_COL_F64, NULL),
      WF_COLUMN(hist_row, count, WF_COL_U64, "values"),
  };
  wf_trace_table *t = wf_trace_table_add(eng->trace, "histograms", h->name, cols, 3,
                                         sizeof(hist_row), h->description, err);
  if (!t) return -1;
  hist_row rows[WF_HIST_BUCKETS];
  size_t n = 0;
  for (unsigned i = 0; i < WF_HIST_BUCKETS; i++) {
    if (!h->buckets[i]) continue;
    wf_hist_bucket_bounds(i, &rows[n].lo, &rows[n].hi);
    rows[n++].count = h->buckets[i];
  }
  if (wf_trace_table_append(t, rows, n, err) != 0) return -1;
  char obj[96];
  snprintf(obj, sizeof obj, "/histograms/%s", h->name);
  double mean =
      h->count ? (ldexp((double)h->sum_hi, 64) + (double)h->sum_lo) / (double)h->count : 0;
  if (wf_trace_obj_attr_str(eng->trace, obj, "units", h->units, err) != 0) return -1;
  const struct {
    const char *name;
    double v;
  } attrs[] = {{"count", (double)h->count},
               {"mean", mean},
               {"min", h->count ? (double)h->min : 0},
               {"max", (double)h->max},
               {"p50", wf_hist_quantile(h, 0.50)},
               {"p90", wf_hist_quantile(h, 0.90)},
               {"p99", wf_hist_quantile(h, 0.99)}};
  for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
    if (wf_trace_obj_attr_f64(eng->trace, obj, attrs[i].name, attrs[i].v, err) != 0) return -1;
  return 0;
}

/* Sums a histogram over ranks. The 128-bit sum travels as four 32-bit limbs, so the limb sums
 * cannot overflow and the carries are resolved after the reduction. */
static int reduce_hist(wf_hist *h) {
  uint64_t limbs[4] = {h->sum_lo & 0xFFFFFFFFu, h->sum_lo >> 32, h->sum_hi & 0xFFFFFFFFu,
                       h->sum_hi >> 32};
  uint64_t mn = h->min, mx = h->max;
  if (wf_sync_sum_u64(h->buckets, WF_HIST_BUCKETS) || wf_sync_sum_u64(&h->count, 1) ||
      wf_sync_sum_u64(limbs, 4) || wf_sync_min_u64(&mn, 1) || wf_sync_max_u64(&mx, 1))
    return -1;
  for (int k = 0; k < 3; k++) {
    limbs[k + 1] += limbs[k] >> 32;
    limbs[k] &= 0xFFFFFFFFu;
  }
  h->sum_lo = limbs[0] | limbs[1] << 32;
  h->sum_hi = limbs[2] | limbs[3] << 32;
  h->min = mn;
  h->max = mx;
  return 0;
}

/* ---- headline figures ---- */

typedef struct wf_summary_def {
  wf_summary_spec spec; /* its strings are copies */
  double value;
} wf_summary_def;

int wf_summary_define(wf_engine *eng, const wf_summary_spec *sp, wf_error *err) {
  const char *name = sp->name;
  if (!name_ok(name))
    return wf_error_set(err, "bad summary figure name '%s' (1-63 characters of A-Z a-z 0-9 _ . -)",
                        name ? name : "");
  for (uint32_t i = 0; i < eng->nsummaries; i++) {
    const wf_summary_spec *o = &eng->summaries[i].spec;
    if (strcmp(o->name, name)) continue;
    /* A builder called twice (two loads on one chain) declares the same figure twice: it is
     * the same figure; a name used for another is an error. */
    if (o->kind == sp->kind && o->a == sp->a && o->b == sp->b && o->q == sp->q &&
        o->scale == sp->scale)
      return 0;
    return wf_error_set(err, "summary figure '%s' is defined twice, differently", name);
  }
  int hist = sp->kind == WF_SUMMARY_QUANTILE || sp->kind == WF_SUMMARY_MEAN;
  wf_metric_kind want = sp->kind == WF_SUMMARY_FINAL ? WF_METRIC_GAUGE : WF_METRIC_COUNTER;
  int ok = hist ? sp->a < eng->nhists
                : sp->a < eng->nmetrics && eng->metrics[sp->a].kind == want &&
                      (sp->kind != WF_SUMMARY_RATIO ||
                       (sp->b < eng->nmetrics && eng->metrics[sp->b].kind == WF_METRIC_COUNTER));
  if (!ok || (sp->kind == WF_SUMMARY_QUANTILE && !(sp->q >= 0 && sp->q <= 1)))
    return wf_error_set(err, "summary figure '%s': its metrics do not fit its kind", name);
  wf_summary_def *x = realloc(eng->summaries, (eng->nsummaries + 1) * sizeof *x);
  if (!x) return wf_error_set(err, "out of memory");
  eng->summaries = x;
  wf_summary_def *d = &x[eng->nsummaries++];
  d->spec = *sp;
  d->spec.name = wf_strdup(name);
  d->spec.units = wf_strdup(sp->units ? sp->units : "");
  d->spec.description = wf_strdup(sp->description ? sp->description : "");
  d->value = NAN;
  return 0;
}

wf_metric wf_engine_events_metric(const wf_engine *eng) {
  return eng->m_events;
}

size_t wf_summary_count(const wf_engine *eng) {
  return eng->nsummaries;
}

const char *wf_summary_get(const wf_engine *eng, size_t i, double *value, const char **units) {
  if (i >= eng->nsummaries) return NULL;
  if (value) *value = eng->summaries[i].value;
  if (units) *units = eng->summaries[i].spec.units;
  return eng->summaries[i].spec.name;
}

/* Every rank takes part (the totals are summed over ranks); histograms are already summed. */
static int compute_summaries(wf_engine *eng, wf_error *err) {
  if (!eng->nsummaries) return 0;
  uint32_t n = eng->nmetrics;
  uint64_t *tot = malloc((n ? n : 1) * sizeof *tot);
  if (!tot) return wf_error_set(err, "out of memory");
  eng->counters[eng->m_events] = eng->events;
  for (uint32_t i = 0; i < n; i++)
    tot[i] =
        eng->metrics[i].kind == WF_METRIC_COUNTER ? eng->counters[i] : (uint64_t)eng->gauges[i];
  if (wf_sync_sum_u64(tot, n) != 0) {
    free(tot);
    return wf_error_set(err, "summing the summary's totals failed");
  }
  double t = wf_time_to_s(eng->now);
  for (uint32_t i = 0; i < eng->nsummaries; i++) {
    wf_summary_def *d = &eng->summaries[i];
    const wf_summary_spec *sp = &d->spec;
    const wf_hist *h =
        sp->kind == WF_SUMMARY_QUANTILE || sp->kind == WF_SUMMARY_MEAN ? eng->hists[sp->a] : NULL;
    double v = NAN;
    switch (sp->kind) {
    case WF_SUMMARY_RATE:
      v = t > 0 ? (double)tot[sp->a] / t : NAN;
      break;
    case WF_SUMMARY_TOTAL:
      v = (double)tot[sp->a];
      break;
    case WF_SUMMARY_RATIO:
      v = tot[sp->b] ? (double)tot[sp->a] / (double)tot[sp->b] : NAN;
      break;
    case WF_SUMMARY_FINAL:
      v = (double)(int64_t)tot[sp->a];
      break;
    case WF_SUMMARY_QUANTILE:
      v = h->count ? wf_hist_quantile(h, sp->q) : NAN;
      break;
    case WF_SUMMARY_MEAN:
      v = h->count ? (ldexp((double)h->sum_hi, 64) + (double)h->sum_lo) / (double)h->count : NAN;
      break;
    }
    /* A scale below 1 divides by its inverse: ns / 1e9 is exact where ns x 1e-9 is not. */
    double inv = sp->scale > 0 && sp->scale < 1 ? round(1 / sp->scale) : 0;
    d->value = inv > 1 && fabs(inv * sp->scale - 1) < 1e-12 ? v / inv
                                                            : v * (sp->scale != 0 ? sp->scale : 1);
  }
  free(tot);
  return 0;
}

typedef struct summary_row {
  char name[64];
  double value;
  char units[32];
  char description[256];
} summary_row;

static int write_summaries(wf_engine *eng, wf_error *err) {
  static const wf_column cols[] = {
      WF_COLUMN(summary_row, name, WF_COL_STR, NULL),
      WF_COLUMN(summary_row, value, WF_COL_F64, NULL),
      WF_COLUMN(summary_row, units, WF_COL_STR, NULL),
      WF_COLUMN(summary_row, description, WF_COL_STR, NULL),
  };
  wf_trace_table *t =
      wf_trace_table_add(eng->trace, "summary", "figures", cols, 4, sizeof(summary_row),
                         "the run's headline figures, as its models declared them", err);
  if (!t) return -1;
  for (uint32_t i = 0; i < eng->nsummaries; i++) {
    const wf_summary_def *d = &eng->summaries[i];
    summary_row row = {{0}, d->value, {0}, {0}};
    snprintf(row.name, sizeof row.name, "%s", d->spec.name);
    snprintf(row.units, sizeof row.units, "%s", d->spec.units);
    snprintf(row.description, sizeof row.description, "%s", d->spec.description);
    if (wf_trace_table_append(t, &row, 1, err) != 0) return -1;
  }
  return 0;
}

int wf_metrics_end(wf_engine *eng, wf_error *err) {
  int rc = flush_samples(eng, buf_of(eng), err);
  for (uint32_t i = 0; i < eng->nhists; i++)
    if (reduce_hist(eng->hists[i]) != 0) return wf_error_set(err, "summing histograms failed");
  if (rc == 0) rc = compute_summaries(eng, err);
  if (rc != 0 || !eng->trace) return rc;
  for (uint32_t i = 0; i < eng->nhists; i++)
    if (write_hist(eng, eng->hists[i], err) != 0) return -1;
  return write_summaries(eng, err);
}

void wf_metrics_free(wf_engine *eng) {
  for (uint32_t i = 0; i < eng->nmetrics; i++) {
    free(eng->metrics[i].name);
    free(eng->metrics[i].units);
    free(eng->metrics[i].description);
  }
  for (uint32_t i = 0; i < eng->nhists; i++) {
    free(eng->hists[i]->name);
    free(eng->hists[i]->units);
    free(eng->hists[i]->description);
    free(eng->hists[i]);
  }
  sample_buf *b = buf_of(eng);
  if (b) {
    free(b->raw);
    free(b->t);
    free(b->prev);
    free(b);
  }
  for (uint32_t i = 0; i < eng->nsummaries; i++) {
    free((char *)eng->summaries[i].spec.name);
    free((char *)eng->summaries[i].spec.units);
    free((char *)eng->summaries[i].spec.description);
  }
  free(eng->summaries);
  free(eng->metrics);
  free(eng->counters);
  free(eng->gauges);
  free(eng->hists);
}
