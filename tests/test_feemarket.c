/* Fee markets (models/feemarket.c) against golden values from skip-mev/feemarket's own tests
 * (x/feemarket/types/state_test.go, commit e8c942d), closed formulas evaluated here in exact
 * integer arithmetic, and learning-rate paths worked by hand in the comments. No expected value
 * comes from running weft. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../models/feemarket.h"

__extension__ typedef unsigned __int128 u128;

static wf_dec D(const char *text) {
  wf_dec d;
  wf_error err = {0};
  if (wf_dec_parse(text, &d, &err)) fail_msg("%s", err.msg);
  return d;
}

/* Equal decimals, printed on failure. */
#define assert_dec(got, want)                                                                    \
  do {                                                                                           \
    wf_dec g_ = (got), w_ = (want);                                                              \
    char a_[48], b_[48];                                                                         \
    if (g_ != w_) fail_msg("got %s, want %s", wf_dec_format(g_, a_), wf_dec_format(w_, b_));   \
  } while (0)

static const uint64_t MAX = 30000000, TARGET = 15000000;

/* ---- LegacyDec ---- */

static void legacy_dec_arithmetic(void **unused) {
  (void)unused;
  char buf[48];
  assert_string_equal(wf_dec_format(D("1.125"), buf), "1.125000000000000000");
  assert_string_equal(wf_dec_format(D("-0.5"), buf), "-0.500000000000000000");
  assert_string_equal(wf_dec_format(D("123456789012345678901"), buf),
                      "123456789012345678901.000000000000000000");
  assert_true(D("0.000000000000000001") == 1);
  wf_dec d;
  wf_error err = {0};
  assert_int_equal(wf_dec_parse("0.0000000000000000001", &d, &err), -1); /* 19 decimals */
  assert_int_equal(wf_dec_parse("1.", &d, &err), -1);
  assert_int_equal(wf_dec_parse("1x", &d, &err), -1);
  /* Quo rounds half to even at 18 decimals: 1/3, 2/3. */
  assert_int_equal(wf_dec_quo(WF_DEC(1), WF_DEC(3), &d), 0);
  assert_dec(d, D("0.333333333333333333"));
  assert_int_equal(wf_dec_quo(WF_DEC(2), WF_DEC(3), &d), 0);
  assert_dec(d, D("0.666666666666666667"));
  assert_int_equal(wf_dec_quo(WF_DEC(-2), WF_DEC(3), &d), 0);
  assert_dec(d, D("-0.666666666666666667"));
  assert_int_equal(wf_dec_quo(WF_DEC(1), 0, &d), -1);
  /* Mul: 5e-18 x 0.1 = 0.5e-18 -> 0 (even), 1.5e-18 -> 2e-18, 2.5e-18 -> 2e-18, -2.5e-18 -> -2e-18. */
  assert_int_equal(wf_dec_mul(5, D("0.1"), &d), 0);
  assert_dec(d, 0);
  assert_int_equal(wf_dec_mul(15, D("0.1"), &d), 0);
  assert_dec(d, 2);
  assert_int_equal(wf_dec_mul(25, D("0.1"), &d), 0);
  assert_dec(d, 2);
  assert_int_equal(wf_dec_mul(-25, D("0.1"), &d), 0);
  assert_dec(d, -2);
  /* Products wider than 128 bits before the chop: 1e19 x 1e19 = 1e38 does not fit (1.7e20 is
   * the range), 1e10 x 1e10 = 1e20 does. */
  assert_int_equal(wf_dec_mul(WF_DEC(10000000000LL), WF_DEC(10000000000LL), &d), 0);
  assert_dec(d, D("100000000000000000000"));
  assert_int_equal(wf_dec_mul(WF_DEC(10000000000000000000ULL), WF_DEC(10000000000000000000ULL), &d),
                   -1);
  assert_int_equal(wf_dec_mul(WF_DEC(10000000000LL), WF_DEC(20000000000LL), &d), -1); /* 2e20 */
}

/* ---- the module's tests: state_test.go TestState_UpdateBaseGasPrice, ..UpdateLearningRate ---- */

static void module_golden_eip1559(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_eip1559();
  p.min_base_gas_price = D("125");
  wf_feemarket s;
  wf_error err = {0};
  const struct {
    uint64_t gas;
    const char *want;
  } tc[] = {{0, "875"}, {TARGET, "1000"}, {MAX, "1125"}};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    s.base_gas_price = D("1000");
    s.window[0] = tc[i].gas;
    assert_int_equal(wf_feemarket_update_base_gas_price(&s, &p, &err), 0);
    assert_dec(s.base_gas_price, D(tc[i].want));
    wf_feemarket_free(&s);
  }
  /* The learning rate stays 0.125 whatever the block (empty, target, full, 50000, target +
   * 50000, and the Go test's random value). */
  p = wf_feemarket_eip1559();
  const uint64_t gas[] = {0, TARGET, MAX, 50000, TARGET + 50000, 123456789};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    s.window[0] = gas[i];
    assert_int_equal(wf_feemarket_update_learning_rate(&s, &p, &err), 0);
    assert_dec(s.learning_rate, D("0.125"));
    wf_feemarket_free(&s);
  }
  /* Never below the minimum: an empty block at the minimum stays there. */
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  assert_int_equal(wf_feemarket_update_base_gas_price(&s, &p, &err), 0);
  assert_dec(s.base_gas_price, p.min_base_gas_price);
  wf_feemarket_free(&s);
}

static void module_golden_aimd(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_aimd();
  p.min_base_gas_price = D("125");
  wf_feemarket s;
  wf_error err = {0};
  /* lr 0.125: an empty window raises it to 0.15 (1000 x 0.85 = 850), a target window lowers it
   * to 0.11875 (price unchanged), a full one raises it to 0.15 (1150). */
  const struct {
    uint64_t gas;
    const char *lr, *price;
  } tc[] = {{0, "0.15", "850"}, {TARGET, "0.11875", "1000"}, {MAX, "0.15", "1150"}};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    s.base_gas_price = D("1000");
    s.learning_rate = D("0.125");
    for (uint64_t k = 0; k < s.window_len; k++) s.window[k] = tc[i].gas;
    assert_int_equal(wf_feemarket_update_learning_rate(&s, &p, &err), 0);
    assert_int_equal(wf_feemarket_update_base_gas_price(&s, &p, &err), 0);
    assert_dec(s.learning_rate, D(tc[i].lr));
    assert_dec(s.base_gas_price, D(tc[i].price));
    wf_feemarket_free(&s);
  }
  p = wf_feemarket_aimd();
  /* From the default state (lr 0.01) an empty window gives min + alpha = 0.035. */
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  assert_int_equal(wf_feemarket_update_learning_rate(&s, &p, &err), 0);
  assert_dec(s.learning_rate, D("0.035"));
  /* ... and the price stays at the minimum, 1e9. */
  assert_int_equal(wf_feemarket_update_base_gas_price(&s, &p, &err), 0);
  assert_dec(s.base_gas_price, D("1000000000"));
  wf_feemarket_free(&s);
  /* Alternating full and empty (mean 0.5): x beta; full and target + 1 (mean just above 0.75):
   * + alpha. */
  for (int c = 0; c < 2; c++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    s.learning_rate = D("0.125");
    for (uint64_t k = 0; k < s.window_len; k++) s.window[k] = k % 2 == 0 ? MAX : c ? TARGET + 1 : 0;
    assert_int_equal(wf_feemarket_update_learning_rate(&s, &p, &err), 0);
    assert_dec(s.learning_rate, c ? D("0.15") : D("0.11875"));
    wf_feemarket_free(&s);
  }
}

/* "half target block size" and "3/4 max block size with aimd eip1559 with a delta": window 1,
 * delta 10, price 1e10, lr 0.01. Half target (7.5M): mean 0.25 <= gamma, lr 0.035; utilisation
 * -0.5, adjustment 1 - 0.0175 = 0.9825; net -7.5M x 10: 9.825e9 - 7.5e7 = 9.75e9. Three
 * quarters (22.5M): mean 0.75 >= 1 - gamma, lr 0.035; adjustment 1.0175; net +7.5e7: 1.025e10. */
static void module_golden_delta(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_aimd();
  p.window = 1;
  p.delta = WF_DEC(10);
  wf_feemarket s;
  wf_error err = {0};
  const struct {
    uint64_t gas;
    const char *price;
  } tc[] = {{TARGET / 2, "9750000000"}, {MAX / 4 * 3, "10250000000"}};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    s.base_gas_price = D("10000000000");
    s.window[0] = tc[i].gas;
    assert_int_equal(wf_feemarket_update_learning_rate(&s, &p, &err), 0);
    assert_int_equal(wf_feemarket_update_base_gas_price(&s, &p, &err), 0);
    assert_dec(s.learning_rate, D("0.035"));
    assert_dec(s.base_gas_price, D(tc[i].price));
    wf_feemarket_free(&s);
  }
}

/* A window of 2 with delta 1, max 100 (target 50), lr fixed at 0.125, price 1000, worked by
 * hand: gas 100: window [100, 0], adjustment 1.125, net 0: 1125. Gas 100: [100, 100], net 100:
 * 1265.625 + 100 = 1365.625. Gas 0: [0, 100], 0.875, net 0: 1194.921875. Gas 0: [0, 0], net
 * -100: 1045.556640625 - 100 = 945.556640625. */
static void delta_over_the_window(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_eip1559();
  p.window = 2;
  p.delta = WF_DEC(1);
  p.max_block_utilization = 100;
  wf_feemarket s;
  wf_error err = {0};
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  s.base_gas_price = WF_DEC(1000);
  const uint64_t gas[] = {100, 100, 0, 0};
  const char *want[] = {"1125", "1365.625", "1194.921875", "945.556640625"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(wf_feemarket_update(&s, &p, gas[i], &err), 0);
    assert_dec(s.base_gas_price, D(want[i]));
    assert_dec(s.learning_rate, D("0.125"));
  }
  wf_feemarket_free(&s);
}

/* ---- EIP-1559 against its closed formula ---- */

/* Starting at 2^60 = 8^20, every factor (9/8 full, 7/8 empty, 17/16 three quarters, 15/16 a
 * quarter, 1 at the target) keeps the price a whole number for 20 divisions by 8, so the module's
 * rounding never acts and the price must equal the exact product, computed here as
 * (product of numerators) x 2^(60 - sum of the shifts). */
static void eip1559_closed_formula(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_eip1559();
  wf_feemarket s;
  wf_error err = {0};
  /* Full blocks: price x 1.125^k = 9^k x 8^(20 - k). Empty: 7^k x 8^(20 - k). */
  for (int empty = 0; empty < 2; empty++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    s.base_gas_price = WF_DEC((u128)1 << 60);
    u128 num = 1;
    for (int k = 1; k <= 20; k++) {
      assert_int_equal(wf_feemarket_update(&s, &p, empty ? 0 : MAX, &err), 0);
      num *= empty ? 7 : 9;
      assert_dec(s.base_gas_price, WF_DEC(num << (3 * (20 - k))));
    }
    wf_feemarket_free(&s);
  }
  /* A pattern: F F E H Q3 Q1 F E E H F Q3 Q3 Q1 F E. */
  const char *pattern = "FFEHTQFEEHFTTQFE";
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  s.base_gas_price = WF_DEC((u128)1 << 60);
  u128 num = 1;
  int shift = 0;
  for (const char *c = pattern; *c; c++) {
    uint64_t gas = 0;
    switch (*c) {
    case 'F': gas = MAX, num *= 9, shift += 3; break;
    case 'E': gas = 0, num *= 7, shift += 3; break;
    case 'H': gas = TARGET; break;
    case 'T': gas = MAX / 4 * 3, num *= 17, shift += 4; break;
    case 'Q': gas = MAX / 4, num *= 15, shift += 4; break;
    }
    assert_int_equal(wf_feemarket_update(&s, &p, gas, &err), 0);
    assert_dec(s.base_gas_price, WF_DEC(num << (60 - shift)));
  }
  wf_feemarket_free(&s);
  /* Long runs round at 18 decimals each block: 200 full blocks from 1 stay within 1e-14 of
   * 1.125^k (rounding error <= 4 (1.125^k - 1) ulp of 1e-18). */
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  for (int k = 1; k <= 200; k++) {
    assert_int_equal(wf_feemarket_update(&s, &p, MAX, &err), 0);
    double want = pow(1.125, k), got = wf_dec_to_double(s.base_gas_price);
    assert_true(fabs(got - want) <= 1e-14 * want);
  }
  wf_feemarket_free(&s);
}

/* The floor: from 10 with the minimum 1, empty blocks give 10 x 0.875^k, exact for k <= 6
 * (10^19 / 8^k is whole), above 1 up to k = 17 (10 x 0.875^17 = 1.034), then the minimum from
 * k = 18 on (0.905 < 1), and the minimum stays (1 x 0.875 < 1). */
static void eip1559_floor(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_eip1559();
  wf_feemarket s;
  wf_error err = {0};
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  s.base_gas_price = WF_DEC(10);
  u128 num = 10;
  for (int k = 1; k <= 30; k++) {
    assert_int_equal(wf_feemarket_update(&s, &p, 0, &err), 0);
    num *= 7;
    if (k <= 6) assert_dec(s.base_gas_price, (wf_dec)(num * (u128)WF_DEC_ONE >> (3 * k)));
    if (k <= 17) {
      assert_true(s.base_gas_price > WF_DEC(1));
      assert_true(fabs(wf_dec_to_double(s.base_gas_price) - 10 * pow(0.875, k)) < 1e-13);
    } else {
      assert_dec(s.base_gas_price, WF_DEC(1));
    }
  }
  wf_feemarket_free(&s);
}

/* ---- AIMD learning-rate paths, by hand ---- */

/* From the default AIMD state (lr 0.01, price 1e9, empty window of 8): 8 full blocks, then 8 at
 * the target. The window's mean after block k (in 30M-gas blocks of 8): full k/8 for k <= 8,
 * then (15 x j + 30 x (8 - j)) / 240 after j target blocks.
 *   1: 1/8 <= 0.25, +alpha 0.035     2: 2/8 = 0.25, +alpha 0.06    3: 0.375, x0.95 0.057
 *   4: 0.5, 0.05415                   5: 0.625, 0.0514425           6: 0.75 >= 0.75, 0.0764425
 *   7: 0.875, 0.1014425               8: 1, 0.1264425
 *   9: 225/240, 0.1514425            10: 210/240, 0.1764425         11: 195/240, 0.2014425
 *  12: 180/240 = 0.75, 0.2264425     13: 165/240, x0.95 0.215120375
 *  14: 150/240, 0.20436435625        15: 135/240, 0.1941461384375
 *  16: 120/240, 0.184438831515625
 * The price: x (1 + lr) on full blocks (utilisation 1), unchanged at the target. */
static void aimd_learning_rate_by_hand(void **unused) {
  (void)unused;
  const char *lr[] = {"0.035",        "0.06",          "0.057",           "0.05415",
                      "0.0514425",    "0.0764425",     "0.1014425",       "0.1264425",
                      "0.1514425",    "0.1764425",     "0.2014425",       "0.2264425",
                      "0.215120375",  "0.20436435625", "0.1941461384375", "0.184438831515625"};
  wf_feemarket_params p = wf_feemarket_aimd();
  wf_feemarket s;
  wf_error err = {0};
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  double price = 1e9;
  for (int k = 0; k < 16; k++) {
    wf_dec before = s.base_gas_price;
    assert_int_equal(wf_feemarket_update(&s, &p, k < 8 ? MAX : TARGET, &err), 0);
    assert_dec(s.learning_rate, D(lr[k]));
    if (k < 8) {
      price *= 1 + wf_dec_to_double(D(lr[k]));
      assert_true(fabs(wf_dec_to_double(s.base_gas_price) - price) <= 1e-15 * price);
    } else {
      assert_dec(s.base_gas_price, before);
    }
  }
  /* The first three prices are short decimals: exact. */
  wf_feemarket_free(&s);
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  const char *prices[] = {"1035000000", "1097100000", "1159634700"};
  for (int k = 0; k < 3; k++) {
    assert_int_equal(wf_feemarket_update(&s, &p, MAX, &err), 0);
    assert_dec(s.base_gas_price, D(prices[k]));
  }
  wf_feemarket_free(&s);

  /* Empty blocks: the mean stays 0, lr = 0.01 + 0.025 k up to the cap: 0.485 at k = 19, then
   * 0.51 > 0.5 so 0.5 from k = 20; the price stays at its minimum. */
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  for (int k = 1; k <= 25; k++) {
    assert_int_equal(wf_feemarket_update(&s, &p, 0, &err), 0);
    assert_dec(s.learning_rate, k < 20 ? D("0.01") + k * D("0.025") : D("0.5"));
    assert_dec(s.base_gas_price, D("1000000000"));
  }
  wf_feemarket_free(&s);

  /* Target blocks from the empty window: means 1/16 .. 4/16 <= 0.25 add alpha (0.035, 0.06,
   * 0.085, 0.11), then 5/16 .. 8/16 and 0.5 for ever multiply: 0.11 x 0.95^n, exact for n <= 8
   * (11 x 95^n x 10^(16 - 2n)), 0.11 x 0.95^46 = 0.0104 > 0.01 and 0.11 x 0.95^47 = 0.0098 <
   * 0.01: the floor 0.01 from block 4 + 47 = 51. */
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  u128 p95 = 1, p10 = 10000000000000000ULL; /* 10^16 */
  for (int k = 1; k <= 60; k++) {
    assert_int_equal(wf_feemarket_update(&s, &p, TARGET, &err), 0);
    int n = k - 4;
    if (k <= 4) {
      assert_dec(s.learning_rate, D("0.01") + k * D("0.025"));
    } else if (n <= 8) {
      p95 *= 95;
      if (n > 0) p10 /= 100;
      assert_dec(s.learning_rate, (wf_dec)(11 * p95 * p10));
    } else if (k < 51) {
      double want = 0.11 * pow(0.95, n);
      assert_true(fabs(wf_dec_to_double(s.learning_rate) - want) < 1e-16);
      assert_true(s.learning_rate > D("0.01"));
    } else {
      assert_dec(s.learning_rate, D("0.01"));
    }
  }
  wf_feemarket_free(&s);
}

/* ---- the window, fees, fixed prices, bad params ---- */

static void block_limit_and_window(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_aimd();
  wf_feemarket s;
  wf_error err = {0};
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  assert_int_equal(wf_feemarket_add_gas(&s, &p, 20000000, &err), 0);
  assert_int_equal(wf_feemarket_add_gas(&s, &p, 10000001, &err), -1);
  assert_string_equal(err.msg, "fee market: block utilization of 30000001 cannot exceed max block "
                               "utilization of 30000000");
  assert_int_equal(s.window[0], 20000000);
  assert_int_equal(wf_feemarket_add_gas(&s, &p, 10000000, &err), 0);
  /* The window moves on and clears its next slot; after 8 blocks it wraps to slot 0. */
  assert_int_equal(wf_feemarket_end_block(&s, &p, &err), 0);
  assert_int_equal(s.index, 1);
  assert_int_equal(s.window[1], 0);
  assert_int_equal(s.window[0], MAX);
  for (int k = 0; k < 7; k++) assert_int_equal(wf_feemarket_update(&s, &p, 1000, &err), 0);
  assert_int_equal(s.index, 0);
  assert_int_equal(s.window[0], 0);
  wf_dec net, avg;
  /* Net: 7 x (1000 - 15M) + (0 - 15M); mean 7000 / 240M. */
  assert_int_equal(wf_feemarket_net_utilization(&s, &p, &net), 0);
  assert_dec(net, WF_DEC(7 * 1000 - 8 * (int64_t)TARGET));
  assert_int_equal(wf_feemarket_average_utilization(&s, &p, &avg), 0);
  assert_dec(avg, D("0.000029166666666667")); /* 7000 / 240e6 = 2.91666..e-5, rounded up */
  wf_feemarket_free(&s);
}

/* TestState_GetNetUtilization's 4-entry windows (max 200, target 100): [100, 200, 0, 50] nets
 * -50, [0, 25, 50, 75] nets -250; TestState_GetAverageUtilization: target 0.5, full 1. */
static void module_golden_utilization(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_aimd();
  p.window = 4;
  p.max_block_utilization = 200;
  wf_feemarket s;
  wf_error err = {0};
  const uint64_t w[2][4] = {{100, 200, 0, 50}, {0, 25, 50, 75}};
  const int64_t want[2] = {-50, -250};
  wf_dec net, avg;
  for (int c = 0; c < 2; c++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    memcpy(s.window, w[c], sizeof w[c]);
    assert_int_equal(wf_feemarket_net_utilization(&s, &p, &net), 0);
    assert_dec(net, WF_DEC(want[c]));
    wf_feemarket_free(&s);
  }
  p = wf_feemarket_aimd();
  for (int c = 0; c < 2; c++) {
    assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
    for (uint64_t k = 0; k < s.window_len; k++) s.window[k] = c ? MAX : TARGET;
    assert_int_equal(wf_feemarket_average_utilization(&s, &p, &avg), 0);
    assert_dec(avg, c ? D("1.0") : D("0.5"));
    wf_feemarket_free(&s);
  }
}

static void required_fee_and_fixed_price(void **unused) {
  (void)unused;
  wf_feemarket_params p = wf_feemarket_fixed(D("0.0025"));
  wf_feemarket s;
  wf_error err = {0};
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  wf_dec fee;
  /* ceil(0.0025 x 200000) = 500; ceil(0.0025 x 200001) = ceil(500.0025) = 501. */
  assert_int_equal(wf_feemarket_required_fee(&s, 200000, &fee), 0);
  assert_dec(fee, WF_DEC(500));
  assert_int_equal(wf_feemarket_required_fee(&s, 200001, &fee), 0);
  assert_dec(fee, WF_DEC(501));
  assert_int_equal(wf_feemarket_required_fee(&s, 0, &fee), 0);
  assert_dec(fee, 0);
  /* A fixed market never moves, full or empty. */
  for (int k = 0; k < 20; k++) {
    assert_int_equal(wf_feemarket_update(&s, &p, k % 3 ? MAX : 0, &err), 0);
    assert_dec(s.base_gas_price, D("0.0025"));
  }
  wf_feemarket_free(&s);
  /* EIP-1559 default: price 1, 21000 gas costs 21000. */
  p = wf_feemarket_eip1559();
  assert_int_equal(wf_feemarket_init(&s, &p, &err), 0);
  assert_int_equal(wf_feemarket_required_fee(&s, 21000, &fee), 0);
  assert_dec(fee, WF_DEC(21000));
  wf_feemarket_free(&s);
}

static void bad_params_refused(void **unused) {
  (void)unused;
  wf_feemarket_params p;
  wf_feemarket s;
  wf_error err = {0};
#define REFUSED(change, text)                                                                    \
  do {                                                                                           \
    p = wf_feemarket_aimd();                                                                     \
    change;                                                                                      \
    wf_error_clear(&err);                                                                        \
    assert_int_equal(wf_feemarket_params_check(&p, &err), -1);                                   \
    if (!strstr(err.msg, text)) fail_msg("%s", err.msg);                                         \
    wf_error_clear(&err);                                                                        \
    assert_int_equal(wf_feemarket_init(&s, &p, &err), -1);                                       \
    assert_null(s.window);                                                                       \
  } while (0)
  REFUSED(p.window = 0, "fee market: window cannot be zero");
  REFUSED(p.max_block_utilization = 0, "max block utilization cannot be less than 2 (got 0)");
  REFUSED(p.max_block_utilization = 1, "max block utilization cannot be less than 2 (got 1)");
  REFUSED((p.min_learning_rate = D("0.6"), p.max_learning_rate = D("0.5")),
          "min learning rate (0.600000000000000000) cannot be greater than max learning rate "
          "(0.500000000000000000)");
  REFUSED(p.alpha = D("-0.1"), "alpha must be between [0, inf)");
  REFUSED(p.beta = D("1.5"), "beta must be between [0, 1]");
  REFUSED(p.gamma = D("0.51"), "gamma must be between [0, 0.5]");
  REFUSED(p.delta = D("-1"), "delta must be between [0, inf)");
  REFUSED(p.min_base_gas_price = D("-1"), "min base gas price must be greater than or equal");
  REFUSED(p.min_learning_rate = D("-0.01"), "min learning rate cannot be negative");
  REFUSED(p.kind = (wf_fee_kind)7, "unknown kind 7");
#undef REFUSED
  /* The three defaults pass. */
  p = wf_feemarket_eip1559();
  assert_int_equal(wf_feemarket_params_check(&p, &err), 0);
  p = wf_feemarket_aimd();
  assert_int_equal(wf_feemarket_params_check(&p, &err), 0);
  p = wf_feemarket_fixed(D("0.0025"));
  assert_int_equal(wf_feemarket_params_check(&p, &err), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(legacy_dec_arithmetic),
      cmocka_unit_test(module_golden_eip1559),
      cmocka_unit_test(module_golden_aimd),
      cmocka_unit_test(module_golden_delta),
      cmocka_unit_test(delta_over_the_window),
      cmocka_unit_test(eip1559_closed_formula),
      cmocka_unit_test(eip1559_floor),
      cmocka_unit_test(aimd_learning_rate_by_hand),
      cmocka_unit_test(module_golden_utilization),
      cmocka_unit_test(block_limit_and_window),
      cmocka_unit_test(required_fee_and_fixed_price),
      cmocka_unit_test(bad_params_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
