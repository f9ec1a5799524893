/* Bad modules: each gives a clear error naming the module and the reason, as a load error or a
 * call status (never a crash or a hang), the same on both engines; and the CLI exits non-zero. */
#include <stdlib.h>

#include "wasm_test.h"
#include "wbin.h"

/* A load that must fail on both engines with `reason` in the message, which names the module. */
static void expect_load_error(const char *path, const char *reason) {
  for (int e = 0; e < 2; e++) {
    wf_wasm_options o;
    wf_error err = {0};
    wf_test_options(&o, wf_test_engines[e]);
    wf_wasm_module *m = wf_wasm_load_file(path, &o, &err);
    assert_null(m);
    assert_non_null(strstr(err.msg, path));
    if (!strstr(err.msg, reason)) fail_msg("'%s' lacks '%s'", err.msg, reason);
  }
}

/* A call that must fail with `status` on both engines, with equal gas. */
static void expect_call_status(const char *name, wf_wasm_status status, const char *reason) {
  uint64_t gas[2];
  for (int e = 0; e < 2; e++) {
    wf_wasm_module *m = wf_test_load(wf_test_module(name), wf_test_engines[e]);
    int32_t input = 7;
    wf_wasm_result r;
    for (int rep = 0; rep < 2; rep++) { /* a trapped instance must be usable again */
      assert_int_equal(wf_wasm_call(m, &input, sizeof input, 0, 100000000000ull, &r), -1);
      if (r.status != status)
        fail_msg("%s on %s: %s, wanted %s", name, wf_wasm_engine_name(wf_test_engines[e]), r.reason,
                 wf_wasm_status_name(status));
      if (!strstr(r.reason, reason)) fail_msg("'%s' lacks '%s'", r.reason, reason);
    }
    gas[e] = r.gas_used;
    wf_wasm_free(m);
  }
  assert_int_equal(gas[0], gas[1]);
}

static void malformed(void **state) {
  (void)state;
  const char *path = WF_TEST_CACHE "-bad.wasm";
  static const unsigned char cases[][12] = {
      {'\0', 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0}, /* section longer than the file */
      {'N', 'O', 'T', 'W', 'A', 'S', 'M', 0, 0, 0, 0, 0},
      {'\0', 'a', 's', 'm', 2, 0, 0, 0, 0, 0, 0, 0}, /* version 2 */
  };
  static const char *reasons[] = {"section runs past", "magic", "version"};
  for (int i = 0; i < 3; i++) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(cases[i], 1, sizeof cases[i], f);
    fclose(f);
    expect_load_error(path, reasons[i]);
  }
  expect_load_error(WF_TEST_MODULES "/no-such-file.wasm", "cannot open");
}

/* Modules the fuzzer found (tests/fuzz/findings): a parse that fails frees what it allocated
 * (the ASan build's leak checker fails this test otherwise); 13 bytes declaring 10^6 imports
 * are refused before anything is allocated for them; an export section with bytes after its
 * last entry is refused (the meter appended its exports after them, and its output did not
 * parse). */
static void parse_failures_free_everything(void **state) {
  (void)state;
  static const char *files[] = {"wasm-parse-fail-leak-1M-imports.wasm", "wasm-parse-fail-leak.wasm",
                                "wasm-meter-stray-section-bytes.wasm"};
  for (size_t i = 0; i < 3; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", WF_TEST_FINDINGS, files[i]);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    uint8_t bytes[256];
    size_t len = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(len > 8 && len < sizeof bytes);
    wf_winfo info;
    wf_error err = {0};
    assert_int_equal(wf_wbin_parse(bytes, len, &info, &err), -1);
    assert_non_null(strstr(err.msg, "malformed binary"));
    assert_null(info.imports);
    assert_null(info.types);
    assert_null(info.sections);
    wf_wbin_free(&info); /* harmless after a failure */
  }
}

static void invalid(void **state) {
  (void)state;
  expect_load_error(wf_test_module("invalid"), "validation failed: type mismatch");
}

static void missing_export(void **state) {
  (void)state;
  expect_load_error(wf_test_module("noinfer"), "missing export 'infer'");
}

static void imports(void **state) {
  (void)state;
  expect_load_error(wf_test_module("imports"), "may not import");
}

static void unreachable(void **state) {
  (void)state;
  expect_call_status("unreachable", WF_WASM_TRAP_UNREACHABLE, "unreachable");
}

static void out_of_bounds(void **state) {
  (void)state;
  expect_call_status("oob", WF_WASM_TRAP_MEMORY, "out of bounds memory access");
}

/* The value is dropped, so the aot's C compiler may delete the load: its bounds check must not
 * go with it. */
static void dead_out_of_bounds_load(void **state) {
  (void)state;
  expect_call_status("deadload", WF_WASM_TRAP_MEMORY, "out of bounds memory access");
}

static void divide_by_zero(void **state) {
  (void)state;
  expect_call_status("divzero", WF_WASM_TRAP_DIV_ZERO, "integer divide by zero");
}

static void infinite_loop(void **state) {
  (void)state;
  expect_call_status("loop", WF_WASM_OUT_OF_GAS, "out of gas");
}

static void memory_growth(void **state) {
  (void)state;
  expect_call_status("grow", WF_WASM_TRAP_MEMORY_LIMIT, "past the limit of 256 pages");
}

static void deep_recursion(void **state) {
  (void)state;
  expect_call_status("recurse", WF_WASM_TRAP_CALL_DEPTH, "call depth exceeded");
}

static void bad_input(void **state) {
  (void)state;
  wf_wasm_module *m = wf_test_load(wf_test_module("counted"), WF_WASM_INTERP);
  uint8_t big[64] = {0};
  wf_wasm_result r;
  assert_int_equal(wf_wasm_call(m, big, sizeof big, 0, 1000000, &r), -1);
  assert_int_equal(r.status, WF_WASM_BAD_INPUT);
  wf_wasm_free(m);
}

/* The CLI: one line on stderr and a non-zero exit for every bad module. */
static void cli_exit_codes(void **state) {
  (void)state;
  const char *bad[] = {"invalid",  "noinfer", "imports", "unreachable", "oob",
                       "deadload", "divzero", "loop",    "grow",        "recurse"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *argv[] = {"wasm",        "run",    (char *)wf_test_module(bad[i]),
                    "--engine",    "interp", "--cache",
                    WF_TEST_CACHE, "--json", NULL};
    fflush(stdout);
    if (wf_wasm_main(8, argv) == 0) fail_msg("weft wasm run %s exited 0", bad[i]);
  }
  char *ok[] = {"wasm",        "run", (char *)wf_test_module("counted"),
                "--engine",    "aot", "--cache",
                WF_TEST_CACHE, NULL};
  assert_int_equal(wf_wasm_main(7, ok), 0);
  char *nope[] = {"wasm", "run", (char *)wf_test_module("counted"), "--bogus", NULL};
  assert_int_equal(wf_wasm_main(4, nope), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(malformed),
      cmocka_unit_test(parse_failures_free_everything),
      cmocka_unit_test(invalid),
      cmocka_unit_test(missing_export),
      cmocka_unit_test(imports),
      cmocka_unit_test(unreachable),
      cmocka_unit_test(out_of_bounds),
      cmocka_unit_test(dead_out_of_bounds_load),
      cmocka_unit_test(divide_by_zero),
      cmocka_unit_test(infinite_loop),
      cmocka_unit_test(memory_growth),
      cmocka_unit_test(deep_recursion),
      cmocka_unit_test(bad_input),
      cmocka_unit_test(cli_exit_codes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
