/* Sweep files: expansion order and count, value texts, seeds and ranks, the scenario path,
 * errors naming file, line and key, the sandbox; index.csv quoting and the job-array merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "support.h"
#include "cli/sweep.h"
#include "cli/sweep_index.h"

static char scenario[512];

static int setup(void **s) {
  (void)s;
  snprintf(scenario, sizeof scenario, "%s", wf_test_write("sc.lua", "-- a scenario\n"));
  return 0;
}

/* Writes a sweep file whose text is `fmt` with each %s replaced by the scenario's path. */
static const char *sweep_file(const char *name, const char *fmt) {
  char text[4096], *t = text;
  for (const char *p = fmt; *p; p++) {
    if (p[0] == '%' && p[1] == 's') {
      t += sprintf(t, "%s", scenario);
      p++;
    } else {
      *t++ = *p;
    }
  }
  *t = 0;
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_write(name, text));
  return path;
}

static void load_ok(const char *name, const char *fmt, wf_sweep *s) {
  wf_error err = {0};
  if (wf_sweep_load(sweep_file(name, fmt), s, &err) != 0) fail_msg("%s", err.msg);
}

static void expect_error(const char *fmt, const char *needle) {
  wf_sweep s;
  wf_error err = {0};
  assert_int_equal(wf_sweep_load(sweep_file("bad.lua", fmt), &s, &err), -1);
  if (!strstr(err.msg, needle)) fail_msg("error '%s' lacks '%s'", err.msg, needle);
  assert_null(s.keys);
  assert_null(s.scenario);
}

static void expansion_order_and_count(void **st) {
  (void)st;
  wf_sweep s;
  load_ok("order.lua",
          "return weft.sweep {\n"
          "  scenario = '%s',\n"
          "  grid = { b = {1, 2, 3}, a = {'x', 'y'} },\n"
          "  seeds = {7, 9},\n"
          "}\n",
          &s);
  assert_int_equal(s.npoints, 12);
  assert_int_equal(s.nkeys, 2);
  assert_string_equal(s.keys[0].name, "a"); /* sorted, whatever the file's order */
  assert_string_equal(s.keys[1].name, "b");
  assert_string_equal(s.name, "order");
  assert_string_equal(s.scenario, scenario);
  /* Nested loops in key order, the last key fastest, seeds innermost. */
  static const char *const want[12][3] = {
      {"x", "1", "7"}, {"x", "1", "9"}, {"x", "2", "7"}, {"x", "2", "9"},
      {"x", "3", "7"}, {"x", "3", "9"}, {"y", "1", "7"}, {"y", "1", "9"},
      {"y", "2", "7"}, {"y", "2", "9"}, {"y", "3", "7"}, {"y", "3", "9"},
  };
  for (size_t k = 0; k < 12; k++) {
    assert_string_equal(wf_sweep_value(&s, k, 0), want[k][0]);
    assert_string_equal(wf_sweep_value(&s, k, 1), want[k][1]);
    assert_int_equal(wf_sweep_seed(&s, k), strtoull(want[k][2], NULL, 10));
  }
  wf_sweep_free(&s);
}

static void values_seeds_and_ranks(void **st) {
  (void)st;
  wf_sweep s;
  /* Built by a loop: a sweep file is a program. */
  load_ok("vals.lua",
          "local lps = {}\n"
          "for i = 1, 3 do lps[i] = 2 ^ (i + 9) // 1 end\n"
          "return weft.sweep {\n"
          "  scenario = '%s',\n"
          "  grid = { lps = lps, remote = {0.1, 1.0, 1e-7}, on = {true, false},\n"
          "           d = {'250ms'}, n = {math.tointeger(1024)} },\n"
          "  ranks = 4,\n"
          "}\n",
          &s);
  assert_int_equal(s.npoints, 3 * 3 * 2);
  assert_int_equal(s.nseeds, 1);
  assert_int_equal(s.seeds[0], 1); /* the default */
  assert_int_equal(s.ranks, 4);
  const char *names[] = {"d", "lps", "n", "on", "remote"};
  for (size_t i = 0; i < 5; i++) assert_string_equal(s.keys[i].name, names[i]);
  assert_string_equal(s.keys[0].values[0], "250ms");
  assert_string_equal(s.keys[1].values[0], "1024.0"); /* 2^10 // 1 is a float in Lua */
  assert_string_equal(s.keys[2].values[0], "1024");
  assert_string_equal(s.keys[3].values[0], "true");
  assert_string_equal(s.keys[3].values[1], "false");
  assert_string_equal(s.keys[4].values[0], "0.1"); /* shortest text that reads back */
  assert_string_equal(s.keys[4].values[1], "1.0");
  assert_string_equal(s.keys[4].values[2], "1e-07");
  wf_sweep_free(&s);

  load_ok("noseeds.lua", "return weft.sweep { scenario = '%s', seeds = {3, 0, 5} }\n", &s);
  assert_int_equal(s.npoints, 3); /* no grid: one point per seed */
  assert_int_equal(s.nkeys, 0);
  assert_int_equal(wf_sweep_seed(&s, 1), 0);
  assert_int_equal(s.ranks, 1);
  wf_sweep_free(&s);
}

static void scenario_relative_to_sweep_file(void **st) {
  (void)st;
  char sub[600];
  snprintf(sub, sizeof sub, "%s", wf_test_path("sub"));
  mkdir(sub, 0777);
  wf_sweep s;
  wf_error err = {0};
  const char *path = wf_test_write("sub/rel.lua", "return weft.sweep { scenario = '../sc.lua' }\n");
  if (wf_sweep_load(path, &s, &err) != 0) fail_msg("%s", err.msg);
  char want[700];
  snprintf(want, sizeof want, "%s/../sc.lua", sub);
  assert_string_equal(s.scenario, want);
  wf_sweep_free(&s);
  expect_error("return weft.sweep { scenario = 'nope.lua' }\n",
               "bad.lua:1: weft.sweep: 'scenario' = 'nope.lua': cannot read");
}

static void errors_name_file_line_and_key(void **st) {
  (void)st;
  expect_error("\nreturn weft.sweep {\n  grid = { lps = {1, 2} },\n}\n",
               "bad.lua:2: weft.sweep: missing required key 'scenario'");
  expect_error(
      "local x = 1\n\nreturn weft.sweep {\n  scenario = '%s',\n  grid = { lps = {} },\n}\n",
      "bad.lua:3: weft.sweep: grid.lps must be a non-empty array");
  expect_error("return weft.sweep { scenario = '%s', grid = { lps = 5 } }\n",
               "bad.lua:1: weft.sweep: grid.lps must be a non-empty array of values, e.g. {1, 2}, "
               "got number");
  expect_error("return weft.sweep { scenario = '%s', grid = { lps = {1, [4] = 2} } }\n",
               "grid.lps must be a non-empty array");
  expect_error("return weft.sweep { scenario = '%s', grid = { lps = {1, {2}} } }\n",
               "bad.lua:1: weft.sweep: grid.lps[2] must be a number, string or boolean, got table");
  expect_error("return weft.sweep { scenario = '%s', grid = { x = {1, 0/0} } }\n",
               "grid.x[2] must be a finite number");
  expect_error("return weft.sweep { scenario = '%s', grid = { x = {1, 2, 1} } }\n",
               "grid.x: value 1 appears twice");
  expect_error("return weft.sweep {\n  scenario = '%s',\n  grids = { lps = {1} },\n}\n",
               "bad.lua:1: weft.sweep: unknown key 'grids' (known keys: scenario, grid, seeds, "
               "ranks)");
  expect_error("return weft.sweep { scenario = 7 }\n",
               "'scenario' must be a file name, got number");
  expect_error("return weft.sweep { scenario = '%s', grid = { [1] = {2} } }\n",
               "grid: keys must be parameter names, got a number");
  expect_error("return weft.sweep { scenario = '%s', grid = { ['a b'] = {2} } }\n",
               "grid: bad parameter name 'a b'");
  expect_error("return weft.sweep { scenario = '%s', grid = { seed = {2} } }\n",
               "'seed' is an index.csv column, not a parameter name (list run seeds in seeds");
  expect_error("return weft.sweep { scenario = '%s', seeds = {} }\n",
               "'seeds' must be a non-empty array of integers");
  expect_error("return weft.sweep { scenario = '%s', seeds = {1, -2} }\n",
               "seeds[2] must be a non-negative integer, got number '-2'");
  expect_error("return weft.sweep { scenario = '%s', seeds = {1, 1.5} }\n",
               "seeds[2] must be a non-negative integer");
  expect_error("return weft.sweep { scenario = '%s', seeds = {4, 4} }\n", "seeds: 4 appears twice");
  expect_error("return weft.sweep { scenario = '%s', ranks = 0 }\n",
               "bad.lua:1: weft.sweep: 'ranks' must be an integer in [1, 1048576], got number '0'");
  expect_error("return weft.sweep { scenario = '%s', ranks = '2' }\n",
               "'ranks' must be an integer");
  expect_error("return weft.sweep('%s')\n", "weft.sweep: expected a table");
  expect_error("weft.sweep { scenario = '%s' }\nweft.sweep { scenario = '%s' }\n",
               "bad.lua:2: weft.sweep: called twice");
  expect_error("local g = {}\n"
               "for i = 1, 400 do g[i] = i end\n"
               "return weft.sweep { scenario = '%s', grid = { a = g, b = g } }\n",
               "bad.lua:3: weft.sweep: the grid has more than 100000 points");
  expect_error("local x = = 1\n", "bad.lua:1:");
  expect_error("local t = {}\n", "bad.lua: the sweep file never calls weft.sweep");
  wf_sweep s;
  wf_error err = {0};
  assert_int_equal(wf_sweep_load(wf_test_path("missing.lua"), &s, &err), -1);
  assert_non_null(strstr(err.msg, "cannot open sweep file"));
}

static void sandbox(void **st) {
  (void)st;
  expect_error("io.open('x')\n", "bad.lua:1: attempt to index a nil value (global 'io')");
  expect_error("os.exit(1)\n", "bad.lua:1: attempt to index a nil value (global 'os')");
  expect_error("load('return 1')\n", "global 'load'");
  expect_error("require('x')\n", "global 'require'");
  expect_error("while true do end\n", "sweep file used up its work limit of 200000000 steps");
}

/* ---- index.csv ---- */

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static void index_quoting_and_merge(void **st) {
  (void)st;
  wf_sweep s;
  load_ok("ix.lua",
          "return weft.sweep { scenario = '%s', grid = { name = {'a,b', 'say \"hi\"', 'c'} } }\n",
          &s);
  char dir[600];
  snprintf(dir, sizeof dir, "%s", wf_test_path("ix"));
  mkdir(dir, 0777);
  char csv[700];
  snprintf(csv, sizeof csv, "%s/index.csv", dir);
  wf_error err = {0};

  /* The whole sweep writes every row. */
  wf_sweep_index all;
  assert_int_equal(wf_sweep_index_init(&all, &s, dir, &err), 0);
  wf_sweep_index_set(&all, 0, "completed", "point-0000.h5", 42, 1.5, 0);
  assert_int_equal(wf_sweep_index_write(&all, -1, &err), 0);
  assert_string_equal(slurp(csv), "point,seed,name,trace,status,events,wall_s,exit_code\n"
                                  "0,1,\"a,b\",point-0000.h5,completed,42,1.500,0\n"
                                  "1,1,\"say \"\"hi\"\"\",,pending,,,\n"
                                  "2,1,c,,pending,,,\n");

  /* One task of a job array changes its own row only and keeps the others' rows. */
  wf_sweep_index task;
  assert_int_equal(wf_sweep_index_init(&task, &s, dir, &err), 0);
  assert_int_equal(wf_sweep_index_check(&task, &err), 0);
  wf_sweep_index_set(&task, 2, "failed", NULL, -1, 0.25, 1);
  assert_int_equal(wf_sweep_index_write(&task, 2, &err), 0);
  assert_string_equal(slurp(csv), "point,seed,name,trace,status,events,wall_s,exit_code\n"
                                  "0,1,\"a,b\",point-0000.h5,completed,42,1.500,0\n"
                                  "1,1,\"say \"\"hi\"\"\",,pending,,,\n"
                                  "2,1,c,,failed,,0.250,1\n");
  wf_sweep_index_free(&task);
  wf_sweep_index_free(&all);
  wf_sweep_free(&s);

  /* A folder holding another sweep's index is refused. */
  load_ok("other.lua", "return weft.sweep { scenario = '%s', grid = { x = {1} } }\n", &s);
  wf_sweep_index other;
  assert_int_equal(wf_sweep_index_init(&other, &s, dir, &err), 0);
  assert_int_equal(wf_sweep_index_check(&other, &err), -1);
  assert_non_null(strstr(err.msg, "belongs to another sweep"));
  wf_sweep_index_free(&other);
  wf_sweep_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(expansion_order_and_count),
      cmocka_unit_test(values_seeds_and_ranks),
      cmocka_unit_test(scenario_relative_to_sweep_file),
      cmocka_unit_test(errors_name_file_line_and_key),
      cmocka_unit_test(sandbox),
      cmocka_unit_test(index_quoting_and_merge),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
