/* Table-valued builder arguments (lists, records, maps, handles), their errors, builder
 * handles, builders called more than once, and --list-builders for table arguments. A small
 * test-only model declares them; phold checks the shared histogram end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../models/phold.h"
#include "engine_internal.h"
#include "scenario.h"
#include "support.h"

/* ---- the test model ---- */

static void nop_init(wf_lp *lp, void *state, const void *cfg) {
  (void)lp, (void)state, (void)cfg;
}
static void nop_handle(wf_lp *lp, void *state, const wf_event *ev) {
  (void)lp, (void)state, (void)ev;
}
static const wf_lp_type node_type = {"node", 0, WF_MS, nop_init, nop_handle, NULL};

static const wf_arg_spec region_fields[] = {
    {"region", WF_ARG_STR, NULL, 1, 0, "region name"},
    {"count", WF_ARG_INT, "1", 1, 1000, "nodes in the region"},
    {"power", WF_ARG_NUM, "1.5", 0, 100, "power of each node"},
};
static const wf_arg_spec partition_fields[] = {
    {"regions", WF_ARG_LIST, NULL, 1, 0, "the partition's regions", WF_ARG_RECORD, region_fields,
     3},
};
static const wf_arg_spec limit_fields[] = {
    {"cap", WF_ARG_INT, "5", 0, 10, "a cap"},
};
static const wf_arg_spec probe_args[] = {
    {"ints", WF_ARG_LIST, "{}", 0, 100, "integers", WF_ARG_INT},
    {"waits", WF_ARG_LIST, "{}", 0, 60, "durations", WF_ARG_DURATION},
    {"names", WF_ARG_LIST, "{}", 1, 0, "names", WF_ARG_STR},
    {"regions", WF_ARG_LIST, NULL, 1, 0, "where nodes are", WF_ARG_RECORD, region_fields, 3},
    {"weights", WF_ARG_MAP, "{}", 0, 1, "weight by name", WF_ARG_NUM},
    {"net", WF_ARG_HANDLE, NULL, 1, 0, "the network joined", 0, NULL, 0, "network"},
    {"limits", WF_ARG_RECORD, "{}", 1, 0, "limits", 0, limit_fields, 1},
    {"partitions", WF_ARG_LIST, "{}", 1, 0, "partitions", WF_ARG_RECORD, partition_fields, 1},
};

/* What the last probe build saw, copied: table values are valid during the call only. */
static struct {
  int calls;
  int64_t ints[8];
  wf_time waits[8];
  char names[4][16], regions[4][16], keys[4][16], part_region[16];
  int64_t counts[4], cap;
  double powers[4], weights[4];
  uint32_t nints, nwaits, nnames, nregions, nweights;
  void *net;
  wf_arg_type region_spec_type;
  wf_metric counter[2];
  wf_record *rec[2];
} seen;

static void *made_net; /* what the last net build returned as its handle */

typedef struct probe_row {
  uint64_t a, b;
} probe_row;
static const wf_column probe_cols[] = {
    WF_COLUMN(probe_row, a, WF_COL_U64, NULL),
    WF_COLUMN(probe_row, b, WF_COL_U64, NULL),
};

static void copy(char *dst, const char *src) {
  snprintf(dst, 16, "%s", src);
}

static void read_regions(const wf_arg_value *regions) {
  seen.nregions = regions->n;
  for (uint32_t i = 0; i < regions->n && i < 4; i++) {
    const wf_arg_value *r = &regions->elems[i];
    seen.region_spec_type = r->spec->type;
    copy(seen.regions[i], wf_arg_field(r, "region")->s);
    seen.counts[i] = wf_arg_field(r, "count")->i;
    seen.powers[i] = wf_arg_field(r, "power")->d;
  }
}

static int probe_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  int call = seen.calls < 2 ? seen.calls : 1;
  seen.calls++;
  const wf_arg_value *v = wf_arg(a, "ints");
  for (seen.nints = 0; seen.nints < v->n && seen.nints < 8; seen.nints++)
    seen.ints[seen.nints] = v->elems[seen.nints].i;
  v = wf_arg(a, "waits");
  for (seen.nwaits = 0; seen.nwaits < v->n && seen.nwaits < 8; seen.nwaits++)
    seen.waits[seen.nwaits] = v->elems[seen.nwaits].t;
  v = wf_arg(a, "names");
  for (seen.nnames = 0; seen.nnames < v->n && seen.nnames < 4; seen.nnames++)
    copy(seen.names[seen.nnames], v->elems[seen.nnames].s);
  read_regions(wf_arg(a, "regions"));
  v = wf_arg(a, "weights");
  for (seen.nweights = 0; seen.nweights < v->n && seen.nweights < 4; seen.nweights++) {
    copy(seen.keys[seen.nweights], v->keys[seen.nweights]);
    seen.weights[seen.nweights] = v->elems[seen.nweights].d;
  }
  seen.net = wf_arg(a, "net")->h;
  seen.cap = wf_arg_field(wf_arg(a, "limits"), "cap")->i;
  v = wf_arg(a, "partitions");
  seen.part_region[0] = 0;
  if (v->n) copy(seen.part_region, wf_arg_field(&v->elems[0], "regions")->elems[0].elems[0].s);
  seen.counter[call] = wf_counter_define(eng, "probe_calls", "calls", "probe builds", err);
  if (seen.counter[call] == WF_METRIC_NONE) return -1;
  seen.rec[call] =
      wf_record_define(eng, "probe_rows", probe_cols, 2, sizeof(probe_row), "rows", err);
  if (!seen.rec[call]) return -1;
  out->first = wf_engine_add_lps(eng, &node_type, 1, NULL, 0, err);
  out->count = 1;
  return out->first == WF_LP_NONE ? -1 : 0;
}

static int handle_build(wf_engine *eng, wf_built *out, const char *kind, wf_error *err) {
  out->handle = wf_engine_alloc(eng, 16);
  out->kind = kind;
  out->first = wf_engine_add_lps(eng, &node_type, 2, NULL, 0, err);
  out->count = 2;
  return out->first == WF_LP_NONE ? -1 : 0;
}
static int net_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  (void)a;
  int rc = handle_build(eng, out, "network", err);
  made_net = out->handle;
  return rc;
}
static int chain_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  (void)a;
  return handle_build(eng, out, "chain", err);
}

/* Redefine probe's metric and table differently. */
static int clash_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  (void)a, (void)out;
  if (wf_gauge_define(eng, "probe_calls", "calls", "a gauge now", err) == WF_METRIC_NONE) return -1;
  return 0;
}
static int clash_rows_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  (void)a, (void)out;
  return wf_record_define(eng, "probe_rows", probe_cols, 1, 8, "one column", err) ? 0 : -1;
}

static const wf_builder test_builders[] = {
    {"probe", "takes every table argument", probe_args, sizeof probe_args / sizeof *probe_args,
     probe_build},
    {"net", "returns a network handle", NULL, 0, net_build},
    {"chain", "returns a chain handle", NULL, 0, chain_build},
    {"clash", "redefines probe_calls as a gauge", NULL, 0, clash_build},
    {"clash_rows", "redefines probe_rows with one column", NULL, 0, clash_rows_build},
};
static const wf_model test_model = {"test", "table arguments", test_builders,
                                    sizeof test_builders / sizeof *test_builders};
static const wf_model *const models[] = {&test_model, &wf_model_phold};

/* ---- helpers ---- */

/* Loads text as scen.lua into eng (a new engine when NULL); returns the load's status. */
static int load_into(wf_engine *eng, const char *text, wf_scenario_out *out, wf_error *err) {
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_write("scen.lua", text));
  wf_engine *own = eng ? NULL : wf_engine_new(err);
  assert_true(eng || own);
  wf_scenario_in in = {
      .path = path, .models = models, .nmodels = 2, .instr_limit = 20000000, .quiet = 1};
  memset(&seen, 0, sizeof seen);
  int rc = wf_scenario_load(&in, eng ? eng : own, out, err);
  if (own) wf_engine_free(own);
  return rc;
}

/* The scenario must fail with exactly `want` after the file name. */
static void expect_error(const char *text, const char *want) {
  wf_scenario_out out;
  wf_error err = {0};
  assert_int_equal(load_into(NULL, text, &out, &err), -1);
  const char *msg = strstr(err.msg, "scen.lua:");
  if (!msg || strcmp(msg, want) != 0) fail_msg("error '%s', wanted '%s'", err.msg, want);
  wf_scenario_out_free(&out);
}

#define NET "local n = weft.net{}\n"
#define RUN "weft.run{end_time = '1s'}\n"
#define REGIONS "regions = {{region = 'eu'}}"

/* ---- tests ---- */

static void values_are_converted(void **s) {
  (void)s;
  const char *text =
      NET "assert(n.kind == 'network' and n.count == 2 and n.first == 0)\n"
          "weft.probe{ints = {1, 2, 100}, waits = {'250ms', 2, '1us'}, names = {'a', 'bb'},\n"
          "  regions = {{region = 'eu', count = 3}, {region = 'us', count = 7, power = 2}},\n"
          "  weights = {zeta = 0.5, alpha = 0.25, mid = 1}, net = n,\n"
          "  partitions = {{regions = {{region = 'p1'}}}}}\n" RUN;
  wf_scenario_out out;
  wf_error err = {0};
  if (load_into(NULL, text, &out, &err)) fail_msg("%s", err.msg);
  wf_scenario_out_free(&out);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.nints, 3);
  assert_int_equal(seen.ints[0], 1);
  assert_int_equal(seen.ints[1], 2);
  assert_int_equal(seen.ints[2], 100);
  assert_int_equal(seen.nwaits, 3);
  assert_int_equal(seen.waits[0], 250000000);
  assert_int_equal(seen.waits[1], 2000000000);
  assert_int_equal(seen.waits[2], 1000);
  assert_int_equal(seen.nnames, 2);
  assert_string_equal(seen.names[0], "a");
  assert_string_equal(seen.names[1], "bb");
  assert_int_equal(seen.nregions, 2);
  assert_int_equal(seen.region_spec_type, WF_ARG_RECORD);
  assert_string_equal(seen.regions[0], "eu");
  assert_int_equal(seen.counts[0], 3);
  assert_true(seen.powers[0] == 1.5); /* the field's default */
  assert_string_equal(seen.regions[1], "us");
  assert_int_equal(seen.counts[1], 7);
  assert_true(seen.powers[1] == 2.0);
  assert_int_equal(seen.nweights, 3); /* keys sorted */
  assert_string_equal(seen.keys[0], "alpha");
  assert_string_equal(seen.keys[1], "mid");
  assert_string_equal(seen.keys[2], "zeta");
  assert_true(seen.weights[0] == 0.25 && seen.weights[1] == 1.0 && seen.weights[2] == 0.5);
  assert_non_null(made_net);
  assert_ptr_equal(seen.net, made_net);
  assert_int_equal(seen.cap, 5); /* the default record {} takes its fields' defaults */
  assert_string_equal(seen.part_region, "p1");
}

static void defaults_are_empty(void **s) {
  (void)s;
  wf_scenario_out out;
  wf_error err = {0};
  if (load_into(NULL, NET "weft.probe{" REGIONS ", net = n, limits = {cap = 9}}\n" RUN, &out, &err))
    fail_msg("%s", err.msg);
  wf_scenario_out_free(&out);
  assert_int_equal(seen.nints, 0);
  assert_int_equal(seen.nwaits, 0);
  assert_int_equal(seen.nnames, 0);
  assert_int_equal(seen.nweights, 0);
  assert_int_equal(seen.cap, 9);
  assert_string_equal(seen.part_region, "");
}

static void element_errors_name_their_path(void **s) {
  (void)s;
  expect_error(NET "weft.probe{net = n,\n"
                   "  regions = {{region = 'a'}, {region = 'b'}, {region = 'c', count = 'x'}}}\n",
               "scen.lua:2: weft.probe: 'regions[3].count' must be an integer, got string 'x'");
  expect_error(NET "weft.probe{net = n, regions = {{region = 'a'}, {region = 'b', cnt = 2}}}\n",
               "scen.lua:2: weft.probe: regions[2]: unknown key 'cnt' (known keys: region, count, "
               "power)");
  expect_error(NET "weft.probe{net = n, regions = {{count = 2}}}\n",
               "scen.lua:2: weft.probe: missing required key 'regions[1].region' (region name)");
  expect_error(NET "weft.probe{net = n, " REGIONS ", ints = {1, 101}}\n",
               "scen.lua:2: weft.probe: 'ints[2]' = 101 is outside [0, 100]");
  expect_error(NET "weft.probe{net = n, " REGIONS ", ints = {1.5}}\n",
               "scen.lua:2: weft.probe: 'ints[1]' must be an integer, got number '1.5'");
  expect_error(NET "weft.probe{net = n, " REGIONS ", waits = {'1s', '5xs'}}\n",
               "scen.lua:2: weft.probe: 'waits[2]': unknown unit 'xs' in duration '5xs' "
               "(use ns, us, ms, s, min, h, d)");
  expect_error(NET "weft.probe{net = n, " REGIONS ", names = {'a', true}}\n",
               "scen.lua:2: weft.probe: 'names[2]' must be a string, got boolean");
  expect_error(NET "weft.probe{net = n, " REGIONS ",\n"
                   "  partitions = {{regions = {{region = 'a'}, {region = 5}}}}}\n",
               "scen.lua:2: weft.probe: 'partitions[1].regions[2].region' must be a string, got "
               "number");
  expect_error(NET "weft.probe{net = n, " REGIONS ", partitions = {{regions = {{reg = 'a'}}}}}\n",
               "scen.lua:2: weft.probe: partitions[1].regions[1]: unknown key 'reg' (known keys: "
               "region, count, power)");
  expect_error(NET "weft.probe{net = n, " REGIONS ", weights = {a = 0.5, b = 'x'}}\n",
               "scen.lua:2: weft.probe: 'weights.b' must be a number, got string");
  expect_error(NET "weft.probe{net = n, " REGIONS ", weights = {0.5}}\n",
               "scen.lua:2: weft.probe: 'weights' keys must be names, got number '1'");
  expect_error(NET "weft.probe{net = n, " REGIONS ", limits = {cap = 11}}\n",
               "scen.lua:2: weft.probe: 'limits.cap' = 11 is outside [0, 10]");
  expect_error(NET "weft.probe{net = n, " REGIONS ", limits = 3}\n",
               "scen.lua:2: weft.probe: 'limits' must be a record {key = value, ...}, got number");
}

static void lists_must_be_sequences(void **s) {
  (void)s;
  expect_error(NET "weft.probe{net = n, " REGIONS ", ints = {1, nil, 3}}\n",
               "scen.lua:2: weft.probe: 'ints' must be a list {a, b, ...}, but ints[2] is nil (a "
               "hole)");
  expect_error(NET "weft.probe{net = n, " REGIONS ", ints = {1, 2, x = 3}}\n",
               "scen.lua:2: weft.probe: 'ints' must be a list {a, b, ...}, but has key string "
               "'x'");
  expect_error(NET "weft.probe{net = n, " REGIONS ", ints = {[0] = 1}}\n",
               "scen.lua:2: weft.probe: 'ints' must be a list {a, b, ...}, but has key number "
               "'0'");
  expect_error(NET "weft.probe{net = n, " REGIONS ", ints = 4}\n",
               "scen.lua:2: weft.probe: 'ints' must be a list {a, b, ...}, got number");
  expect_error(NET "weft.probe{net = n}\n",
               "scen.lua:2: weft.probe: missing required key 'regions' (where nodes are)");
}

static void handles_cannot_be_confused_or_forged(void **s) {
  (void)s;
  expect_error("weft.probe{" REGIONS ", net = 3}\n",
               "scen.lua:1: weft.probe: 'net': expected a network (the value a builder of "
               "networks returns), got number");
  expect_error(NET "local c = weft.chain{}\nassert(c.kind == 'chain')\n"
                   "weft.probe{" REGIONS ", net = c}\n",
               "scen.lua:4: weft.probe: 'net': expected a network (the value weft.net{...} "
               "returns), got a chain (from weft.chain{...})");
  expect_error(NET "weft.probe{" REGIONS
                   ", net = {first = n.first, count = 2, kind = 'network'}}\n",
               "scen.lua:2: weft.probe: 'net': expected a network (the value weft.net{...} "
               "returns), got table that no builder returned");
  expect_error(NET "local copy = {}\nfor k, v in pairs(n) do copy[k] = v end\n"
                   "weft.probe{" REGIONS ", net = copy}\n",
               "scen.lua:4: weft.probe: 'net': expected a network (the value weft.net{...} "
               "returns), got table that no builder returned");
  /* Builders without a handle return no kind and are no handle. */
  expect_error("local p = weft.phold{lps = 2}\nassert(p.kind == nil)\n"
               "weft.probe{" REGIONS ", net = p}\n",
               "scen.lua:3: weft.probe: 'net': expected a network (the value a builder of "
               "networks returns), got table that no builder returned");
  expect_error(NET "weft.probe{" REGIONS "}\n",
               "scen.lua:2: weft.probe: missing required key 'net' (the network joined)");
}

/* A builder called twice shares its metrics and record tables. */
static void repeated_calls_share_metrics(void **s) {
  (void)s;
  wf_scenario_out out;
  wf_error err = {0};
  if (load_into(NULL,
                NET "weft.probe{" REGIONS ", net = n}\nweft.probe{" REGIONS ", net = n}\n" RUN,
                &out, &err))
    fail_msg("%s", err.msg);
  wf_scenario_out_free(&out);
  assert_int_equal(seen.calls, 2);
  assert_int_not_equal(seen.counter[0], WF_METRIC_NONE);
  assert_int_equal(seen.counter[0], seen.counter[1]);
  assert_non_null(seen.rec[0]);
  assert_ptr_equal(seen.rec[0], seen.rec[1]);
}

static void differing_redefinitions_are_errors(void **s) {
  (void)s;
  expect_error(NET "weft.probe{" REGIONS ", net = n}\nweft.clash{}\n",
               "scen.lua:3: weft.clash: metric 'probe_calls' is defined twice, differently: as a "
               "counter in 'calls', then as a gauge in 'calls'");
  expect_error(NET "weft.probe{" REGIONS ", net = n}\nweft.clash_rows{}\n",
               "scen.lua:3: weft.clash_rows: record table 'probe_rows' is defined twice, "
               "differently: first with columns (a, b) in 16-byte rows, then with (a) in 8-byte "
               "rows");
}

/* Two phold calls with record_delays: one phold_delay histogram counts both calls' sends. */
static void repeated_phold_shares_its_histogram(void **s) {
  (void)s;
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  assert_non_null(eng);
  wf_scenario_out out;
  if (load_into(eng,
                "weft.phold{lps = 8, record_delays = true}\n"
                "weft.phold{lps = 8, record_delays = true, events_per_lp = 3}\n"
                "weft.run{end_time = '20s'}\n",
                &out, &err))
    fail_msg("%s", err.msg);
  wf_run_opts o = {.end_time = out.end_time, .seed = 1};
  wf_run_stats st;
  if (wf_engine_run(eng, &o, &st, &err) != 0) fail_msg("%s", err.msg);
  assert_int_equal(eng->nhists, 1);
  assert_string_equal(eng->hists[0]->name, "phold_delay");
  assert_true(st.sent > 8 + 24);
  assert_int_equal(eng->hists[0]->count, st.sent); /* every send of both calls */
  wf_engine_free(eng);
  wf_scenario_out_free(&out);
}

static void list_builders_documents_tables(void **s) {
  (void)s;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  wf_scenario_print_builders(models, 1, f);
  fclose(f);
  static const char *want[] = {
      "  ints           list of integer  {}         integers\n",
      "  waits          list of duration {}         durations\n",
      "  regions        list of record   (required) where nodes are\n",
      "    region       string           (required) region name\n",
      "    count        integer          1          nodes in the region\n",
      "    power        number           1.5        power of each node\n",
      "  weights        map of number    {}         weight by name\n",
      "  net            network          (required) the network joined\n",
      "  limits         record           {}         limits\n",
      "    cap          integer          5          a cap\n",
      "  partitions     list of record   {}         partitions\n",
      "    regions      list of record   (required) the partition's regions\n",
      "      region     string           (required) region name\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(text, want[i])) fail_msg("--list-builders lacks '%s' in:\n%s", want[i], text);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(values_are_converted),
      cmocka_unit_test(defaults_are_empty),
      cmocka_unit_test(element_errors_name_their_path),
      cmocka_unit_test(lists_must_be_sequences),
      cmocka_unit_test(handles_cannot_be_confused_or_forged),
      cmocka_unit_test(repeated_calls_share_metrics),
      cmocka_unit_test(differing_redefinitions_are_errors),
      cmocka_unit_test(repeated_phold_shares_its_histogram),
      cmocka_unit_test(list_builders_documents_tables),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
