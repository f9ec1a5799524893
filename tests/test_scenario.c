/* The Lua binding: parameters and --set overrides, builder argument checking, and errors that
 * name the file and line; the sandbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../models/phold.h"
#include "scenario.h"
#include "support.h"

static const wf_model *const models[] = {&wf_model_phold};

/* Loads text as scenario `name` with the given --set list; returns the load's status and
 * leaves the error (if any) in *err and the output in *out. */
static int load(const char *name, const char *text, const char **sets, size_t nsets,
                wf_scenario_out *out, wf_error *err) {
  const char *path = wf_test_write(name, text);
  static char keep[512];
  snprintf(keep, sizeof keep, "%s", path);
  wf_engine *eng = wf_engine_new(err);
  assert_non_null(eng);
  wf_scenario_in in = {.path = keep,
                       .sets = sets,
                       .nsets = nsets,
                       .models = models,
                       .nmodels = 1,
                       .instr_limit = 20000000};
  int rc = wf_scenario_load(&in, eng, out, err);
  wf_engine_free(eng);
  return rc;
}

#define OK_WORLD "weft.phold{lps = 8}\nweft.run{end_time = '10s'}\n"

static void expect_error(const char *text, const char **sets, size_t nsets, const char *needle) {
  wf_scenario_out out;
  wf_error err = {0};
  assert_int_equal(load("s.lua", text, sets, nsets, &out, &err), -1);
  if (!strstr(err.msg, needle)) fail_msg("error '%s' lacks '%s'", err.msg, needle);
  wf_scenario_out_free(&out);
}

static void params_and_overrides(void **s) {
  (void)s;
  const char *text =
      "local p = weft.params{lps = 8, rate = 0.5, name = 'x', on = false,\n"
      "  d = '1s'}\n"
      "assert(p.lps == 16 and math.type(p.lps) == 'integer')\n"
      "assert(p.rate == 0.25 and p.name == 'y' and p.on == true and p.d == '250ms')\n"
      "weft.phold{lps = p.lps, lookahead = p.d}\n"
      "weft.run{end_time = '1min', seed = 9, sample = '2s', max_events = 100}\n";
  const char *sets[] = {"lps=16", "rate=0.25", "name=y", "on=true", "d=250ms"};
  wf_scenario_out out;
  wf_error err = {0};
  int rc = load("p.lua", text, sets, 5, &out, &err);
  if (rc) fail_msg("%s", err.msg);
  assert_int_equal(out.end_time, 60 * WF_SEC);
  assert_int_equal(out.sample, 2 * WF_SEC);
  assert_int_equal(out.seed, 9);
  assert_int_equal(out.max_events, 100);
  assert_string_equal(out.name, "p");
  assert_string_equal(out.params_json,
                      "{\"d\":\"250ms\",\"lps\":16,\"name\":\"y\",\"on\":true,\"rate\":0.25}");
  assert_non_null(strstr(out.text, "weft.params"));
  wf_scenario_out_free(&out);
}

static void errors_name_file_and_line(void **s) {
  (void)s;
  expect_error("weft.run{end_time='1s'}\nlocal x = = 3\n", NULL, 0, "s.lua:2:");
  expect_error("weft.run{end_time='1s'}\n\nerror('boom')\n", NULL, 0, "s.lua:3: boom");
  expect_error("weft.run{end_time='1s'}\nweft.phold{lp = 3}\n", NULL, 0,
               "s.lua:2: weft.phold: unknown key 'lp' (known keys: lps,");
  expect_error("weft.phold{lps = 'many'}\n", NULL, 0,
               "s.lua:1: weft.phold: 'lps' must be an integer");
  expect_error("weft.phold{lps = 0}\n", NULL, 0, "'lps' = 0 is outside [1, 4294967295]");
  expect_error("weft.phold{lookahead = '5xs'}\n", NULL, 0,
               "s.lua:1: weft.phold: 'lookahead': unknown unit 'xs'");
  expect_error("weft.phold{}\nweft.run{end_time = '-3s'}\n", NULL, 0,
               "s.lua:2: weft.run: 'end_time'");
  expect_error("weft.phold{}\nweft.run{end_time = 0}\n", NULL, 0, "outside");
  expect_error("weft.phold{}\n", NULL, 0, "never calls weft.run");
  expect_error("weft.run{end_time = '1s'}\n", NULL, 0, "built no LPs");
  expect_error("weft.run{}\n", NULL, 0, "missing required key 'end_time'");
  expect_error("weft.nothing{}\n", NULL, 0, "s.lua:1:");
}

static void set_errors(void **s) {
  (void)s;
  const char *unknown[] = {"lsp=3"};
  expect_error("weft.params{lps = 8}\n" OK_WORLD, unknown, 1,
               "--set lsp=3: the scenario declares no parameter 'lsp'");
  const char *badnum[] = {"lps=abc"};
  expect_error("weft.params{lps = 8}\n" OK_WORLD, badnum, 1, "parameter 'lps' takes a number");
  const char *noparams[] = {"lps=3"};
  expect_error(OK_WORLD, noparams, 1, "declares no parameters");
  const char *twice[] = {"lps=10", "lps=20"};
  expect_error("weft.params{lps = 8}\n" OK_WORLD, twice, 2,
               "--set lps given twice (lps=10, lps=20)");
  const char *noeq[] = {"lps"};
  expect_error(OK_WORLD, noeq, 1, "expected key=value");
}

static void sandbox(void **s) {
  (void)s;
  expect_error("os.execute('true')\n" OK_WORLD, NULL, 0, "s.lua:1:");
  expect_error("io.popen('true')\n" OK_WORLD, NULL, 0, "s.lua:1:");
  expect_error("io.open('/tmp/x', 'w')\n" OK_WORLD, NULL, 0, "s.lua:1:");
  expect_error("load('return 1')\n" OK_WORLD, NULL, 0, "s.lua:1:");
  expect_error("dofile('/etc/passwd')\n" OK_WORLD, NULL, 0, "s.lua:1:");
  expect_error("require('os')\n" OK_WORLD, NULL, 0, "module 'os' not found");
  expect_error("require('../x')\n" OK_WORLD, NULL, 0, "bad module name");
  expect_error("while true do end\n", NULL, 0, "used up its work limit of 20000000 steps");
}

static void require_lib(void **s) {
  (void)s;
  wf_test_write("helper.lua", "return { lps = function() return 12 end }\n");
  wf_scenario_out out;
  wf_error err = {0};
  int rc = load("r.lua",
                "local h = require 'helper'\nassert(require('helper') == h)\n"
                "weft.phold{lps = h.lps()}\nweft.run{end_time = '1s'}\n",
                NULL, 0, &out, &err);
  if (rc) fail_msg("%s", err.msg);
  wf_scenario_out_free(&out);
}

/* math.random is seeded from the run seed: two loads build the same world. */
static void math_random_is_seeded(void **s) {
  (void)s;
  const char *text = "local n = math.random(1, 1000000)\nweft.phold{lps = n}\n"
                     "weft.run{end_time = '1s'}\n";
  wf_error err = {0};
  uint32_t counts[2];
  for (int i = 0; i < 2; i++) {
    wf_engine *eng = wf_engine_new(&err);
    wf_scenario_in in = {.path = wf_test_write("m.lua", text), .models = models, .nmodels = 1};
    wf_scenario_out out;
    assert_int_equal(wf_scenario_load(&in, eng, &out, &err), 0);
    counts[i] = wf_engine_lp_count(eng);
    wf_scenario_out_free(&out);
    wf_engine_free(eng);
  }
  assert_int_equal(counts[0], counts[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(params_and_overrides), cmocka_unit_test(errors_name_file_and_line),
      cmocka_unit_test(set_errors),           cmocka_unit_test(sandbox),
      cmocka_unit_test(require_lib),          cmocka_unit_test(math_random_is_seeded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
