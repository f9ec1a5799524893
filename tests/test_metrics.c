/* Histograms with quantiles per sample interval (wf_hist_windowed): each interval's p50, p95
 * and p99 come from the values added in it alone, NaN where there were none, and the
 * whole-run histogram is untouched. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "support.h"

typedef struct probe_cfg {
  wf_metric h;
  wf_metric one, two, level; /* counters (+1, +2) and a gauge (+1) per value, or NONE */
} probe_cfg;

/* 100 values a second: 1,000 ns in the first second, 100,000 ns in the second, nothing in the
 * third, then 99 of 2,000 and one of 1,000,000 in the fourth. */
static void probe_init(wf_lp *lp, void *st, const void *cfg) {
  (void)st, (void)cfg;
  for (int i = 0; i < 400; i++)
    if (i < 200 || i >= 300) wf_send(lp, wf_lp_id(lp), (wf_time)i * 10 * WF_MS + WF_MS, 1, &i, sizeof i);
}

static void probe_handle(wf_lp *lp, void *st, const wf_event *ev) {
  (void)st;
  const probe_cfg *c = wf_lp_cfg(lp);
  int i;
  memcpy(&i, ev->data, sizeof i);
  uint64_t v = i < 100 ? 1000 : i < 200 ? 100000 : i == 399 ? 1000000 : 2000;
  wf_hist_add(lp, c->h, v);
  if (c->one == WF_METRIC_NONE) return;
  wf_count(lp, c->one, 1);
  wf_count(lp, c->two, 2);
  wf_gauge_add(lp, c->level, 1);
}

static wf_lp_type probe_type = {"probe", 8, 1, probe_init, probe_handle, NULL};

static double *series(wf_trace_reader *r, const char *name, size_t *n) {
  wf_error err = {0};
  for (size_t i = 0; i < wf_trace_series_count(r); i++)
    if (!strcmp(wf_trace_series_name(r, i), name)) return wf_trace_series_read(r, i, n, &err);
  fail_msg("no series %s", name);
  return NULL;
}

static void quantiles_per_interval(void **unused) {
  (void)unused;
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  probe_cfg c = {wf_hist_define(eng, "lat", "ns", "a latency", &err), WF_METRIC_NONE, 0, 0};
  assert_int_not_equal(c.h, WF_METRIC_NONE);
  assert_int_equal(wf_hist_windowed(eng, c.h, &err), 0);
  assert_int_not_equal(wf_engine_add_lps(eng, &probe_type, 1, &c, 0, &err), WF_LP_NONE);
  const char *h5 = wf_test_path("windowed.h5");
  wf_trace *t = wf_trace_create(h5, &err);
  wf_run_opts o = {.end_time = 4 * WF_SEC, .sample = WF_SEC, .seed = 1, .trace = t};
  wf_run_stats st;
  if (!t || wf_engine_run(eng, &o, &st, &err) != 0 || wf_trace_close(t, &err) != 0)
    fail_msg("%s", err.msg);
  wf_engine_free(eng);
  wf_trace_reader *r = wf_trace_open(h5, &err);
  size_t n;
  double *p50 = series(r, "lat_p50", &n), *p99 = series(r, "lat_p99", &n);
  assert_int_equal(n, 4);
  /* Within the 12.5% bucket width of the values added in each second. */
  assert_true(fabs(p50[0] - 1000) <= 125 && fabs(p50[1] - 100000) <= 12500);
  assert_true(isnan(p50[2]) && isnan(p99[2]));
  assert_true(fabs(p50[3] - 2000) <= 250);
  assert_true(p99[3] >= 2000 && p99[3] <= 2250); /* 99 of 100 are 2,000: the 99th is one */
  /* The whole run's histogram still holds all 300. */
  const char *count = wf_trace_obj_attr_text(r, "/histograms/lat", "count");
  assert_non_null(count);
  assert_string_equal(count, "300");
  free(p50), free(p99);
  wf_trace_reader_close(r);
}

/* Headline figures from the probe's 300 values over 4 s: each kind against its arithmetic. */
static void headline_figures_from_their_metrics(void **unused) {
  (void)unused;
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  probe_cfg c = {wf_hist_define(eng, "lat", "ns", "a latency", &err),
                 wf_counter_define(eng, "one", "values", "one per value", &err),
                 wf_counter_define(eng, "two", "values", "two per value", &err),
                 wf_gauge_define(eng, "level", "values", "values so far", &err)};
  const wf_summary_spec f[] = {
      {"rate", "values/s", "", WF_SUMMARY_RATE, c.one, 0, 0, 0},
      {"total", "values", "", WF_SUMMARY_TOTAL, c.one, 0, 0, 0},
      {"ratio", "", "", WF_SUMMARY_RATIO, c.two, c.one, 0, 0},
      {"final", "values", "", WF_SUMMARY_FINAL, c.level, 0, 0, 0},
      {"mean_s", "s", "", WF_SUMMARY_MEAN, c.h, 0, 0, 1e-9},
      {"p50", "ns", "", WF_SUMMARY_QUANTILE, c.h, 0, 0.5, 0},
  };
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    assert_int_equal(wf_summary_define(eng, &f[i], &err), 0);
  /* The same figure twice is one (a builder called twice); another under its name is not. */
  assert_int_equal(wf_summary_define(eng, &f[0], &err), 0);
  wf_summary_spec other = f[0];
  other.kind = WF_SUMMARY_TOTAL;
  assert_int_equal(wf_summary_define(eng, &other, &err), -1);
  assert_non_null(strstr(err.msg, "'rate' is defined twice, differently"));
  wf_summary_spec wrong = {"wrong", "", "", WF_SUMMARY_FINAL, c.one, 0, 0, 0}; /* not a gauge */
  err = (wf_error){0};
  assert_int_equal(wf_summary_define(eng, &wrong, &err), -1);
  assert_non_null(strstr(err.msg, "its metrics do not fit its kind"));
  err = (wf_error){0};
  assert_int_not_equal(wf_engine_add_lps(eng, &probe_type, 1, &c, 0, &err), WF_LP_NONE);
  const char *h5 = wf_test_path("summary.h5");
  wf_trace *t = wf_trace_create(h5, &err);
  wf_run_opts o = {.end_time = 4 * WF_SEC, .sample = WF_SEC, .seed = 1, .trace = t};
  wf_run_stats st;
  if (!t || wf_engine_run(eng, &o, &st, &err) != 0 || wf_trace_close(t, &err) != 0)
    fail_msg("%s", err.msg);
  /* 300 values in 4 s; the mean is (100 x 1,000 + 100 x 100,000 + 99 x 2,000 + 1,000,000) / 300
   * ns = 37,660 ns, exactly (the sum is exact); the median within a bucket (12.5%) of 2,000. */
  const double want[] = {75, 300, 2, 300, 37660e-9};
  assert_int_equal(wf_summary_count(eng), 6);
  for (size_t i = 0; i < 5; i++) {
    double v;
    assert_string_equal(wf_summary_get(eng, i, &v, NULL), f[i].name);
    assert_true(v == want[i]);
  }
  double p50;
  wf_summary_get(eng, 5, &p50, NULL);
  assert_true(fabs(p50 - 2000) <= 250);
  wf_engine_free(eng);
  /* The trace holds the same, in order. */
  wf_trace_reader *r = wf_trace_open(h5, &err);
  size_t n;
  double *v = r ? wf_trace_table_column(r, "summary", "figures", "value", &n, &err) : NULL;
  if (!v) fail_msg("%s", err.msg);
  assert_int_equal(n, 6);
  for (size_t i = 0; i < 5; i++) assert_true(v[i] == want[i]);
  free(v);
  wf_trace_reader_close(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(quantiles_per_interval),
                                     cmocka_unit_test(headline_figures_from_their_metrics)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
