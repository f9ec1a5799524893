/* Gas metering: exact counts under the CosmWasm 2.x schedule, out of gas at the same point on
 * both engines, a custom schedule, and the SDK conversion. */
#include <stdlib.h>

#include "wasm_test.h"

/* counted.wat, infer(n): 1725 gas to enter the loop, 4025 per iteration (7 ops + br_if + br),
 * 1955 for the exit test, 460 + 1610 for the store and the final end. */
#define COUNTED_GAS(n) (5750ull + 4025ull * (n))

static uint64_t run_counted(wf_wasm_module *m, int32_t n, uint64_t limit, wf_wasm_result *r) {
  int32_t input = 0;
  wf_wasm_call(m, &input, sizeof input, n, limit, r);
  return r->gas_used;
}

static void exact_counts(void **state) {
  (void)state;
  for (int e = 0; e < 2; e++) {
    wf_wasm_module *m = wf_test_load(wf_test_module("counted"), wf_test_engines[e]);
    wf_wasm_result r;
    for (int32_t n = 0; n < 50; n += 7) {
      assert_int_equal(run_counted(m, n, 1000000000, &r), COUNTED_GAS(n));
      assert_int_equal(r.status, WF_WASM_OK);
    }
    wf_wasm_free(m);
  }
}

/* With a limit just short of what n iterations need, both engines stop at the same charge. */
static void out_of_gas_same_point(void **state) {
  (void)state;
  for (uint64_t limit = COUNTED_GAS(10) - 3000; limit < COUNTED_GAS(10) + 10; limit += 1000) {
    wf_wasm_status st[2];
    uint64_t gas[2];
    for (int e = 0; e < 2; e++) {
      wf_wasm_module *m = wf_test_load(wf_test_module("counted"), wf_test_engines[e]);
      wf_wasm_result r;
      gas[e] = run_counted(m, 10, limit, &r);
      st[e] = r.status;
      wf_wasm_free(m);
    }
    assert_int_equal(st[0], st[1]);
    assert_int_equal(gas[0], gas[1]);
    assert_int_equal(st[0], limit >= COUNTED_GAS(10) ? WF_WASM_OK : WF_WASM_OUT_OF_GAS);
  }
}

static void custom_schedule(void **state) {
  (void)state;
  wf_wasm_options o;
  wf_error err = {0};
  wf_test_options(&o, WF_WASM_INTERP);
  o.schedule.op = 1;
  o.schedule.branch = 10;
  wf_wasm_module *m = wf_wasm_load_file(wf_test_module("counted"), &o, &err);
  assert_non_null(m);
  wf_wasm_result r;
  /* per iteration 7 ops + 2 branches; outside: block + loop, test (3 + br_if), store (4) + end */
  assert_int_equal(run_counted(m, 5, 1000000, &r), (1 + 10) + 5 * (7 + 20) + (3 + 10) + (4 + 10));
  wf_wasm_free(m);
}

static void sdk_gas(void **state) {
  (void)state;
  assert_int_equal(wf_gas_to_sdk(139999), 0);
  assert_int_equal(wf_gas_to_sdk(140000), 1);
  assert_int_equal(wf_gas_to_sdk(1000000000000ull), 7142857);
}

/* The running estimate a sampled simulation reads. */
static void estimate(void **state) {
  (void)state;
  wf_wasm_module *m = wf_test_load(wf_test_module("counted"), WF_WASM_AOT);
  wf_wasm_result r;
  run_counted(m, 1, 1000000, &r);
  run_counted(m, 3, 1000000, &r);
  run_counted(m, 3, 10, &r); /* out of gas */
  const wf_wasm_estimate *est = wf_wasm_module_estimate(m);
  assert_int_equal(est->calls, 3);
  assert_int_equal(est->failures, 1);
  assert_int_equal(est->gas_max, COUNTED_GAS(3));
  assert_int_equal(est->gas_min, 10);
  wf_wasm_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exact_counts),    cmocka_unit_test(out_of_gas_same_point),
      cmocka_unit_test(custom_schedule), cmocka_unit_test(sdk_gas),
      cmocka_unit_test(estimate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
