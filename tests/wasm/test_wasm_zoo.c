/* Determinism: every zoo module gives bit-identical outputs and equal gas on both engines and
 * on repeated calls (fresh instance per call); a NaN-producing module is caught by check. */
#include <stdlib.h>

#include "native.h"
#include "wasm_test.h"

static const char *const zoo[] = {"mlp", "gbt", "cnn", "qmlp", "transformer", "trivial"};

static void zoo_check_passes(void **state) {
  (void)state;
  wf_wasm_options o;
  wf_test_options(&o, WF_WASM_INTERP);
  for (size_t i = 0; i < sizeof zoo / sizeof *zoo; i++) {
    wf_wasm_check_report rep;
    wf_error err = {0};
    if (wf_wasm_check(wf_test_zoo(zoo[i]), wf_test_engines, 2, 6, 1, 0, 0, 100000000000ull, &o,
                      &rep, &err))
      fail_msg("%s", err.msg);
    if (!rep.pass) fail_msg("%s: %s", zoo[i], rep.first_mismatch);
    assert_int_equal(rep.failed_calls, 0);
    assert_true(rep.gas_mean > 0);
  }
}

/* The benchmark's baselines (NAME.so, NAME.simd.so) compute what the module computes, to the
 * bit: a native build that took a shortcut would make every ratio in `bench` meaningless. */
static void native_twins_agree(void **state) {
  (void)state;
  const char *ext[] = {".so", ".simd.so"};
  for (size_t i = 0; i < sizeof zoo / sizeof *zoo; i++) {
    wf_wasm_module *m = wf_test_load(wf_test_zoo(zoo[i]), WF_WASM_AOT);
    const wf_wasm_meta *meta = wf_wasm_module_meta(m);
    uint8_t *in = malloc(meta->input_capacity);
    for (size_t k = 0; k < 2; k++) {
      char path[1024];
      snprintf(path, sizeof path, "%s/%s%s", WF_TEST_ZOO, zoo[i], ext[k]);
      wf_error err = {0};
      wf_native *n = wf_native_open(path, &err);
      if (!n) fail_msg("%s", err.msg);
      for (uint64_t seed = 1; seed <= 3; seed++) {
        wf_wasm_random_input(meta, seed, in, meta->input_capacity);
        wf_wasm_result r;
        assert_int_equal(wf_wasm_call(m, in, meta->input_capacity, 0, 100000000000ull, &r), 0);
        assert_int_equal(wf_native_infer(n, in, meta->input_capacity, 0), (int32_t)r.output_len);
        if (memcmp(wf_native_output(n), r.output, r.output_len))
          fail_msg("%s: %s differs from the wasm module (seed %llu)", zoo[i], path,
                   (unsigned long long)seed);
      }
      wf_native_close(n);
    }
    free(in);
    wf_wasm_free(m);
  }
}

static void nondeterministic_module_caught(void **state) {
  (void)state;
  wf_wasm_options o;
  wf_test_options(&o, WF_WASM_INTERP);
  wf_wasm_check_report rep;
  wf_error err = {0};
  assert_int_equal(wf_wasm_check(wf_test_module("nondet"), wf_test_engines, 2, 4, 1, 0, 0, 1000000,
                                 &o, &rep, &err),
                   0);
  assert_false(rep.pass);
  assert_true(rep.mismatches > 0);
  assert_non_null(strstr(rep.first_mismatch, "interp vs aot"));
  char *argv[] = {"wasm",        "check", (char *)wf_test_module("nondet"),
                  "--inputs",    "2",     "--cache",
                  WF_TEST_CACHE, NULL};
  assert_int_equal(wf_wasm_main(7, argv), 1);
}

/* A run that scribbles on its memory must not leak into the next call. */
static void fresh_instance_per_call(void **state) {
  (void)state;
  for (int e = 0; e < 2; e++) {
    wf_wasm_module *m = wf_test_load(wf_test_zoo("transformer"), wf_test_engines[e]);
    const wf_wasm_meta *meta = wf_wasm_module_meta(m);
    uint8_t *a = malloc(meta->input_capacity), *b = malloc(meta->input_capacity);
    wf_wasm_random_input(meta, 1, a, meta->input_capacity);
    wf_wasm_random_input(meta, 2, b, meta->input_capacity);
    wf_wasm_result r;
    assert_int_equal(wf_wasm_call(m, a, meta->input_capacity, 8, 100000000000ull, &r), 0);
    uint8_t first[2048];
    memcpy(first, r.output, r.output_len);
    uint64_t gas = r.gas_used;
    assert_int_equal(wf_wasm_call(m, b, meta->input_capacity, 32, 100000000000ull, &r), 0);
    assert_true(r.gas_used > gas); /* longer sequence, more gas */
    assert_int_equal(wf_wasm_call(m, a, meta->input_capacity, 8, 100000000000ull, &r), 0);
    assert_int_equal(r.gas_used, gas);
    assert_memory_equal(r.output, first, r.output_len);
    free(a);
    free(b);
    wf_wasm_free(m);
  }
}

static void meta_parsed(void **state) {
  (void)state;
  wf_wasm_module *m = wf_test_load(wf_test_zoo("cnn"), WF_WASM_INTERP);
  const wf_wasm_meta *meta = wf_wasm_module_meta(m);
  assert_string_equal(meta->name, "cnn");
  assert_string_equal(meta->in_type, "f64");
  assert_int_equal(meta->in_rank, 3);
  assert_int_equal(meta->in_dims[1], 16);
  assert_int_equal(meta->out_dims[0], 10);
  assert_int_equal(meta->input_capacity, 16 * 16 * 8);
  wf_wasm_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(zoo_check_passes),
      cmocka_unit_test(native_twins_agree),
      cmocka_unit_test(nondeterministic_module_caught),
      cmocka_unit_test(fresh_instance_per_call),
      cmocka_unit_test(meta_parsed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
