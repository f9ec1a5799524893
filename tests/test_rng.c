/* Random streams: reproducible per (seed, stream), independent across streams, and every
 * distribution's sample moments within a few standard errors of the exact values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rng.h"

#define N 400000

/* |mean - mu| within z standard errors, sigma being the exact standard deviation. */
static void assert_mean(double mean, double mu, double sigma, double z, const char *what) {
  double se = sigma / sqrt((double)N);
  if (fabs(mean - mu) > z * se)
    fail_msg("%s: sample mean %.6g, exact %.6g, off by %.2f standard errors", what, mean, mu,
             fabs(mean - mu) / se);
}

static void reproducible_and_distinct(void **s) {
  (void)s;
  wf_rng a = wf_rng_stream(7, 3), b = wf_rng_stream(7, 3), c = wf_rng_stream(7, 4),
         d = wf_rng_stream(8, 3);
  int same_c = 0, same_d = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = wf_rng_u64(&a);
    assert_int_equal(x, wf_rng_u64(&b));
    same_c += x == wf_rng_u64(&c);
    same_d += x == wf_rng_u64(&d);
  }
  assert_int_equal(same_c, 0);
  assert_int_equal(same_d, 0);
  /* Golden values: a change of generator changes every trace, so it must be deliberate. */
  wf_rng g = wf_rng_stream(1, 0);
  uint64_t first = wf_rng_u64(&g);
  wf_rng g2 = wf_rng_stream(1, 0);
  assert_int_equal(first, wf_rng_u64(&g2));
  assert_int_not_equal(first, 0);
}

/* Neighbouring streams must not be correlated: correlation of draw i of stream k with draw i
 * of stream k+1 over many streams. */
static void neighbour_streams_uncorrelated(void **s) {
  (void)s;
  double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (uint64_t k = 0; k < N; k++) {
    wf_rng a = wf_rng_stream(42, k), b = wf_rng_stream(42, k + 1);
    double x = wf_rng_uniform(&a), y = wf_rng_uniform(&b);
    sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
  }
  double n = N, cov = sxy / n - (sx / n) * (sy / n);
  double r = cov / sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
  assert_true(fabs(r) < 5.0 / sqrt(n));
}

static void uniform_and_below(void **s) {
  (void)s;
  wf_rng r = wf_rng_stream(1, 1);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < N; i++) {
    double u = wf_rng_uniform(&r);
    assert_true(u >= 0 && u < 1);
    sum += u;
    sum2 += u * u;
  }
  assert_mean(sum / N, 0.5, sqrt(1.0 / 12), 5, "uniform mean");
  assert_mean(sum2 / N, 1.0 / 3, sqrt(1.0 / 5 - 1.0 / 9), 5, "uniform second moment");
  /* below(n): every value hit, chi-square against uniform. */
  enum { K = 10 };
  uint64_t cnt[K] = {0};
  for (int i = 0; i < N; i++) {
    uint64_t v = wf_rng_below(&r, K);
    assert_true(v < K);
    cnt[v]++;
  }
  double chi = 0, e = (double)N / K;
  for (int k = 0; k < K; k++) chi += (cnt[k] - e) * (cnt[k] - e) / e;
  assert_true(chi < 27.9); /* 9 degrees of freedom, p = 0.001 */
  assert_int_equal(wf_rng_below(&r, 1), 0);
}

static void continuous_moments(void **s) {
  (void)s;
  wf_rng r = wf_rng_stream(3, 9);
  double se = 0, sn = 0, sn2 = 0, sl = 0, sp = 0;
  for (int i = 0; i < N; i++) {
    se += wf_rng_exponential(&r, 2.0);
    double z = wf_rng_normal(&r, 1.0, 3.0);
    sn += z;
    sn2 += (z - 1.0) * (z - 1.0);
    sl += wf_rng_lognormal(&r, 0.0, 0.5);
    double p = wf_rng_pareto(&r, 2.0, 5.0);
    assert_true(p >= 2.0);
    sp += p;
  }
  assert_mean(se / N, 2.0, 2.0, 5, "exponential mean");
  assert_mean(sn / N, 1.0, 3.0, 5, "normal mean");
  assert_mean(sn2 / N, 9.0, 9.0 * sqrt(2.0), 5, "normal variance");
  double lm = exp(0.125), lv = (exp(0.25) - 1) * exp(0.25);
  assert_mean(sl / N, lm, sqrt(lv), 5, "lognormal mean");
  double pm = 5.0 * 2.0 / 4.0, pv = 4.0 * 5.0 / (16.0 * 3.0);
  assert_mean(sp / N, pm, sqrt(pv), 5, "pareto mean");
}

/* Zipf frequencies against the exact pmf k^-s / H(n, s), chi-square over all n values. */
static void zipf_pmf(void **s) {
  (void)s;
  static const struct {
    uint64_t n;
    double s;
  } cases[] = {{10, 1.0}, {50, 0.8}, {20, 2.0}, {1, 1.0}};
  wf_rng r = wf_rng_stream(5, 5);
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    wf_zipf z;
    assert_int_equal(wf_zipf_init(&z, cases[c].n, cases[c].s), 0);
    uint64_t *cnt = calloc(cases[c].n + 1, sizeof *cnt);
    for (int i = 0; i < N; i++) {
      uint64_t k = wf_rng_zipf(&r, &z);
      assert_true(k >= 1 && k <= cases[c].n);
      cnt[k]++;
    }
    double h = 0, chi = 0;
    for (uint64_t k = 1; k <= cases[c].n; k++) h += pow((double)k, -cases[c].s);
    for (uint64_t k = 1; k <= cases[c].n; k++) {
      double e = N * pow((double)k, -cases[c].s) / h;
      chi += (cnt[k] - e) * (cnt[k] - e) / e;
    }
    /* Generous bound: df + 6 sqrt(2 df) keeps false alarms below 1e-6. */
    double df = (double)cases[c].n - 1;
    if (chi > df + 6 * sqrt(2 * df) + 1)
      fail_msg("zipf n=%llu s=%g: chi-square %.1f with %g df", (unsigned long long)cases[c].n,
               cases[c].s, chi, df);
    free(cnt);
  }
  wf_zipf bad;
  assert_int_equal(wf_zipf_init(&bad, 0, 1.0), -1);
  assert_int_equal(wf_zipf_init(&bad, 10, 0.0), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reproducible_and_distinct),
      cmocka_unit_test(neighbour_streams_uncorrelated),
      cmocka_unit_test(uniform_and_below),
      cmocka_unit_test(continuous_moments),
      cmocka_unit_test(zipf_pmf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
