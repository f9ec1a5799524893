/* Workloads (weft.load) against independent formulas, with a stand-in chain defined here: an
 * LP type on the same network that answers each WF_TX_SUBMIT with a WF_TX_RESULT after a fixed
 * or random delay (and, when asked, with drawn outcomes, or not at all). The stand-in reports
 * the validator that handled a tx in gas_used, so the tests can see where each tx went.
 *   - open loop: the count of submissions in T has mean rate x T (within 5 sd of the Poisson
 *     count); inter-arrival times have mean 1/rate (within the sample's 99.99% interval) and
 *     pass a Kolmogorov-Smirnov test against the exponential CDF at the 0.1% level;
 *   - rate steps: the count in each step matches its rate x length within 5 sd, none when 0;
 *   - closed loop: with a deterministic delay, each of the N slots of a connection cycles every
 *     R + Z exactly (R = delay + two one-way hops), so the counts are ceil(T / (R + Z)) per
 *     slot; with a random delay, the interactive response time law X = N / (R + Z) holds
 *     within 0.5% over the run;
 *   - replay: the exact submit times and fields of a small CSV, dealt to the connections;
 *   - conservation: submitted = committed + rejected + failed + dropped + pending per chain,
 *     from the counters and from the records, with txs still pending at the end;
 *   - determinism: the same seed gives the same /records/txs, another seed another;
 *   - connections go round-robin to the chosen validators. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../models/chain.h"
#include "../models/tx.h"
#include "../models/workload.h"
#include "../sim/net/net.h"
#include "scenario.h"
#include "support.h"

/* ---- the stand-in chain ---- */

typedef struct standin {
  wf_chain_info info;
  wf_time delay, spread;
  int outcomes;
  uint32_t lose_every;
  unsigned cls;
  wf_lp_type type;
} standin;

typedef struct standin_node {
  wf_net_port port;
  uint64_t seen;
} standin_node;

typedef struct reply {
  wf_lpid to;
  uint32_t pad;
  wf_tx_result r;
} reply;

enum { K_REPLY = 1 };

static void standin_init(wf_lp *lp, void *state, const void *cfg) {
  wf_net_port_init(lp, ((const standin *)cfg)->info.net, &((standin_node *)state)->port);
}

static void standin_tx(wf_lp *lp, const standin *c, standin_node *s, const wf_net_msg *m) {
  wf_tx tx;
  assert_int_equal(m->kind, WF_TX_SUBMIT);
  memcpy(&tx, m->data, sizeof tx);
  assert_int_equal(tx.id >> 32, m->src); /* ids are the client's LP id << 32 | its count */
  assert_int_equal(tx.bytes, m->bytes);
  if (c->lose_every && ++s->seen % c->lose_every == 0) return;
  wf_rng *rng = wf_lp_rng(lp);
  uint8_t status = WF_TX_COMMITTED;
  if (c->outcomes) {
    double u = wf_rng_uniform(rng);
    status = u < 0.7 ? WF_TX_COMMITTED : u < 0.8 ? WF_TX_REJECTED : u < 0.9 ? WF_TX_FAILED
                                                                            : WF_TX_DROPPED;
  }
  wf_time d = c->delay + (c->spread ? (wf_time)(wf_rng_uniform(rng) * (double)c->spread) : 0);
  int in_block = status == WF_TX_COMMITTED || status == WF_TX_FAILED;
  reply r = {m->src, 0,
             {tx.id, in_block ? 1 + (wf_now(lp) + d) / WF_SEC : 0,
              in_block ? (uint64_t)tx.gas_wanted * tx.price : 0, wf_lp_id(lp) - c->info.first,
              status, WF_TX_OK, {0}}};
  wf_send(lp, wf_lp_id(lp), d, K_REPLY, &r, sizeof r);
}

static void standin_handle(wf_lp *lp, void *state, const wf_event *ev) {
  const standin *c = wf_lp_cfg(lp);
  standin_node *s = state;
  if (wf_net_owns(ev)) {
    wf_net_msg m;
    if (wf_net_receive(lp, c->info.net, &s->port, ev, &m)) standin_tx(lp, c, s, &m);
    return;
  }
  reply r;
  memcpy(&r, ev->data, sizeof r);
  wf_net_send(lp, c->info.net, &s->port, NULL, r.to, 100, WF_TX_RESULT, c->cls, &r.r, sizeof r.r);
}

static const wf_arg_spec standin_args[] = {
    {"network", WF_ARG_HANDLE, NULL, 1, 0, "the network", .kind = "network"},
    {"validators", WF_ARG_INT, "4", 1, 1000, "nodes"},
    {"region", WF_ARG_STR, "us-east-1", 1, 0, "where they are"},
    {"delay", WF_ARG_DURATION, "10ms", 0, 3600, "time to answer"},
    {"spread", WF_ARG_DURATION, "0", 0, 3600, "plus uniform in [0, spread)"},
    {"outcomes", WF_ARG_BOOL, "false", 1, 0, "draw outcomes (else all committed)"},
    {"lose_every", WF_ARG_INT, "0", 0, 1e9, "never answer every k-th tx a node sees"},
};

static int standin_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  standin *c = wf_engine_alloc(eng, sizeof *c);
  c->info.net = wf_arg(a, "network")->h;
  c->info.validators = (uint32_t)wf_arg_int(a, "validators");
  c->info.group = wf_engine_new_group(eng);
  c->delay = wf_arg_duration(a, "delay");
  c->spread = wf_arg_duration(a, "spread");
  c->outcomes = wf_arg_bool(a, "outcomes");
  c->lose_every = (uint32_t)wf_arg_int(a, "lose_every");
  int cls = wf_net_class((wf_net *)c->info.net, "tx_result", err);
  if (cls < 0) return -1;
  c->cls = (unsigned)cls;
  c->type = (wf_lp_type){"standin", sizeof(standin_node), wf_net_min_delay(c->info.net),
                         standin_init, standin_handle, NULL, WF_TIME_MAX};
  uint32_t n = c->info.validators;
  c->info.first = wf_engine_add_lps(eng, &c->type, n, c, c->info.group, err);
  if (c->info.first == WF_LP_NONE) return -1;
  uint16_t region[1000];
  double bw[1000];
  int r = wf_net_region(c->info.net, wf_arg_str(a, "region"));
  if (r < 0) return wf_error_set(err, "no region");
  for (uint32_t i = 0; i < n; i++) region[i] = (uint16_t)r, bw[i] = 1e15;
  if (wf_net_attach((wf_net *)c->info.net, c->info.first, n, region, bw, bw, err) == UINT32_MAX)
    return -1;
  *out = (wf_built){c->info.first, n, c, "standin"};
  return 0;
}

/* weft.load_on{chain = <a stand-in>, ...}: weft.load's arguments and build, on a stand-in. */
static wf_arg_spec load_on_args[WF_ARGS_MAX];

static int load_on_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  const standin *c = wf_arg(a, "chain")->h;
  return wf_load_build_on(eng, a, &c->info, out, err);
}

static wf_builder standin_builders[] = {
    {"standin", "a stand-in chain that answers txs", standin_args,
     sizeof standin_args / sizeof *standin_args, standin_build},
    {"load_on", "weft.load on a stand-in", load_on_args, 0, load_on_build},
};
static const wf_model standin_model = {"standin", "test stand-in", standin_builders, 2};

static const wf_model *const models[] = {&wf_model_net, &standin_model, &wf_model_chain,
                                         &wf_model_workload};

/* ---- running a scenario and reading what it wrote ---- */

enum { C_ID, C_CHAIN, C_CLIENT, C_TYPE, C_BYTES, C_SUBMIT, C_RESULT, C_HEIGHT, C_GAS_WANTED,
       C_GAS_USED, C_FEE, C_STATUS, NCOLS };
static const char *const col_names[NCOLS] = {"id",         "chain",  "client",     "type",
                                             "bytes",      "submit_ns", "result_ns", "height",
                                             "gas_wanted", "gas_used", "fee",       "status"};

typedef struct txs {
  size_t n;
  double *col[NCOLS];
  /* Counter totals over the run, from the series (rate x interval, summed). */
  double submitted, committed, rejected, failed, dropped, outstanding_end;
} txs;

/* A series by name, or by the name a real chain gives it ("chain1_txs_submitted"). */
static int series_is(const char *have, const char *want) {
  size_t h = strlen(have), w = strlen(want);
  return strcmp(have, want) == 0 ||
         (h > w && have[h - w - 1] == '_' && strcmp(have + h - w, want) == 0 &&
          strncmp(have, "chain", 5) == 0);
}

static double *series(wf_trace_reader *r, const char *name, size_t *n) {
  wf_error err = {0};
  for (size_t i = 0; i < wf_trace_series_count(r); i++)
    if (series_is(wf_trace_series_name(r, i), name)) {
      double *v = wf_trace_series_read(r, i, n, &err);
      if (!v) fail_msg("%s", err.msg);
      return v;
    }
  fail_msg("no series %s", name);
  return NULL;
}

static double counter_total(wf_trace_reader *r, const char *name) {
  size_t n, m;
  double *t = series(r, "time_s", &n), *v = series(r, name, &m), sum = 0, prev = 0;
  assert_int_equal(n, m);
  for (size_t k = 0; k < n; k++) sum += v[k] * (t[k] - prev), prev = t[k];
  free(t), free(v);
  return round(sum);
}

static txs run_load(const char *body, const char *end, uint64_t seed) {
  char script[4096];
  snprintf(script, sizeof script, "local net = weft.network{}\n%s\nweft.run{end_time = '%s'}\n",
           body, end);
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_write("load.lua", script));
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  wf_scenario_in in = {.path = path, .models = models, .nmodels = 4};
  wf_scenario_out sc;
  if (wf_scenario_load(&in, eng, &sc, &err) != 0) fail_msg("%s", err.msg);
  const char *h5 = wf_test_path("load.h5");
  wf_trace *t = wf_trace_create(h5, &err);
  wf_run_opts o = {.end_time = sc.end_time, .sample = sc.sample, .seed = seed, .trace = t};
  wf_run_stats st;
  if (!t || wf_engine_run(eng, &o, &st, &err) != 0 || wf_trace_close(t, &err) != 0)
    fail_msg("%s", err.msg);
  wf_engine_free(eng);
  wf_scenario_out_free(&sc);
  wf_trace_reader *r = wf_trace_open(h5, &err);
  if (!r) fail_msg("%s", err.msg);
  txs x = {0};
  for (int k = 0; k < NCOLS; k++)
    if (!(x.col[k] = wf_trace_table_column(r, "records", "txs", col_names[k], &x.n, &err)))
      fail_msg("%s: %s", col_names[k], err.msg);
  x.submitted = counter_total(r, "txs_submitted");
  x.committed = counter_total(r, "txs_committed");
  x.rejected = counter_total(r, "txs_rejected");
  x.failed = counter_total(r, "txs_failed");
  x.dropped = counter_total(r, "txs_dropped");
  size_t n;
  double *g = series(r, "txs_outstanding", &n);
  x.outstanding_end = g[n - 1];
  free(g);
  wf_trace_reader_close(r);
  return x;
}

static void txs_free(txs *x) {
  for (int k = 0; k < NCOLS; k++) free(x->col[k]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The gaps between each client's consecutive submissions, the first from `start`. */
static double *gaps_of(const txs *x, double start, size_t *n) {
  double *g = malloc(x->n * sizeof *g), *t = malloc(x->n * sizeof *t);
  size_t k = 0;
  double clients[64];
  size_t nc = 0;
  for (size_t i = 0; i < x->n; i++) {
    size_t j = 0;
    while (j < nc && clients[j] != x->col[C_CLIENT][i]) j++;
    if (j == nc) clients[nc++] = x->col[C_CLIENT][i];
  }
  for (size_t j = 0; j < nc; j++) {
    size_t m = 0;
    for (size_t i = 0; i < x->n; i++)
      if (x->col[C_CLIENT][i] == clients[j]) t[m++] = x->col[C_SUBMIT][i];
    qsort(t, m, sizeof *t, cmp_double);
    for (size_t i = 0; i < m; i++) g[k++] = t[i] - (i ? t[i - 1] : start);
  }
  free(t);
  *n = k;
  return g;
}

/* ---- the tests ---- */

static void open_loop_is_poisson(void **unused) {
  (void)unused;
  /* Two connections at 500 tx/s each for 20 s, to validators 2 and 4 in turn. */
  txs x = run_load("local c = weft.standin{network = net, delay = '5ms'}\n"
                   "weft.load_on{chain = c, connections = 2, nodes = {2, 4}, rate = 500, "
                   "duration = '20s', bandwidth = 1e15}",
                   "21s", 1);
  double mean = 2 * 500 * 20.0, sd = sqrt(mean);
  printf("open loop: %zu submissions, expected %.0f +- %.0f (1 sd)\n", x.n, mean, sd);
  assert_true(fabs((double)x.n - mean) < 5 * sd);
  assert_int_equal((size_t)x.submitted, x.n);
  double first = x.col[C_CLIENT][0];
  for (size_t i = 0; i < x.n; i++) first = fmin(first, x.col[C_CLIENT][i]);
  for (size_t i = 0; i < x.n; i++) {
    assert_true(x.col[C_SUBMIT][i] < 20e9);
    assert_int_equal((int)x.col[C_STATUS][i], WF_TX_COMMITTED);
    assert_int_equal((int)x.col[C_TYPE][i], WF_TX_BANK_SEND);
    assert_int_equal((int)x.col[C_BYTES][i], 250);
    assert_int_equal((int)x.col[C_GAS_WANTED][i], 200000);
    assert_int_equal((int)x.col[C_FEE][i], 200000); /* price 1 per gas */
    /* Connection k goes to nodes[k mod 2]: validator 2 (index 1), then 4 (index 3). */
    int k = (int)(x.col[C_CLIENT][i] - first);
    assert_true(k == 0 || k == 1);
    assert_int_equal((int)x.col[C_GAS_USED][i], k == 0 ? 1 : 3);
  }
  size_t n;
  double *g = gaps_of(&x, 0, &n);
  double sum = 0, sq = 0;
  for (size_t i = 0; i < n; i++) sum += g[i], sq += g[i] * g[i];
  double m = sum / (double)n, s = sqrt((sq - n * m * m) / (double)(n - 1)), half = 3.89 * s / sqrt((double)n);
  printf("open loop: mean gap %.1f us, 99.99%% interval +-%.1f us, expected 2000 us\n", m / 1e3,
         half / 1e3);
  assert_true(fabs(m - 2e6) < half);
  /* Kolmogorov-Smirnov against 1 - exp(-rate x): D_n below 1.949 / sqrt(n) (alpha = 0.001). */
  qsort(g, n, sizeof *g, cmp_double);
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double f = 1 - exp(-g[i] * 500 / 1e9);
    d = fmax(d, fmax(f - (double)i / n, (double)(i + 1) / n - f));
  }
  printf("open loop: KS D = %.4f, critical %.4f\n", d, 1.949 / sqrt((double)n));
  assert_true(d < 1.949 / sqrt((double)n));
  free(g);
  txs_free(&x);
}

static void rate_steps_follow_each_rate(void **unused) {
  (void)unused;
  txs x = run_load("local c = weft.standin{network = net}\n"
                   "weft.load_on{chain = c, rate = 200, start = '1s', duration = '20s', "
                   "rate_steps = {{at = '6s', rate = 1000}, {at = '11s', rate = 0}, "
                   "{at = '13s', rate = 500}}}",
                   "22s", 3);
  /* [1, 6) at 200, [6, 11) at 1000, [11, 13) at 0, [13, 21) at 500. */
  const double edge[] = {1e9, 6e9, 11e9, 13e9, 21e9}, rate[] = {200, 1000, 0, 500};
  size_t count[4] = {0};
  for (size_t i = 0; i < x.n; i++) {
    double t = x.col[C_SUBMIT][i];
    assert_true(t >= edge[0] && t < edge[4]);
    for (int k = 0; k < 4; k++)
      if (t >= edge[k] && t < edge[k + 1]) count[k]++;
  }
  for (int k = 0; k < 4; k++) {
    double mean = rate[k] * (edge[k + 1] - edge[k]) / 1e9;
    printf("rate step %d: %zu txs, expected %.0f +- %.0f (1 sd)\n", k, count[k], mean, sqrt(mean));
    if (mean == 0)
      assert_int_equal(count[k], 0);
    else
      assert_true(fabs((double)count[k] - mean) < 5 * sqrt(mean));
  }
  txs_free(&x);
}

static void closed_loop_cycles_exactly(void **unused) {
  (void)unused;
  /* N = 4 per connection, 2 connections, think 50 ms, delay 20 ms, one hop 125 us each way
   * (same region), links so fast a message costs ~1 ns: R + Z = 70.25 ms (+ a few ns). */
  txs x = run_load("local c = weft.standin{network = net, delay = '20ms'}\n"
                   "weft.load_on{chain = c, connections = 2, closed = 4, think = '50ms', "
                   "duration = '60s', bandwidth = 1e15}",
                   "61s", 1);
  double r = 20e6 + 2 * 125e3, z = 50e6, cycle = r + z;
  double per_slot = ceil(60e9 / cycle);
  printf("closed loop: %zu txs, expected 8 x ceil(60 s / %.2f ms) = %.0f\n", x.n, cycle / 1e6,
         8 * per_slot);
  assert_int_equal(x.n, (size_t)(8 * per_slot));
  for (size_t i = 0; i < x.n; i++) {
    assert_true(fabs(x.col[C_RESULT][i] - x.col[C_SUBMIT][i] - r) < 100);
    /* Slot submissions at k x cycle: the i-th tx starts within a few ns of a multiple. */
    double k = round(x.col[C_SUBMIT][i] / cycle);
    assert_true(fabs(x.col[C_SUBMIT][i] - k * cycle) < 100 * (k + 1));
  }
  txs_free(&x);
  /* A random delay, uniform in [10, 30) ms: X (R + Z) = N over the run. */
  x = run_load("local c = weft.standin{network = net, delay = '10ms', spread = '20ms'}\n"
               "weft.load_on{chain = c, connections = 2, closed = 4, think = '50ms', "
               "duration = '60s'}",
               "61s", 2);
  double done = 0, rsum = 0;
  for (size_t i = 0; i < x.n; i++)
    if (x.col[C_RESULT][i] > 0 && x.col[C_RESULT][i] < 60e9)
      done++, rsum += x.col[C_RESULT][i] - x.col[C_SUBMIT][i];
  double xput = done / 60.0, rbar = rsum / done / 1e9, law = xput * (rbar + 0.05) / 8;
  printf("closed loop, random delay: X = %.2f tx/s, R = %.2f ms, X (R + Z) / N = %.5f\n", xput,
         rbar * 1e3, law);
  assert_true(fabs(law - 1) < 0.005);
  txs_free(&x);
}

static void replay_sends_the_rows(void **unused) {
  (void)unused;
  const char *csv = wf_test_write("trace.csv", "time_s,type,bytes,gas\n"
                                               "0.5,bank_send,300,1000\n"
                                               "0.5,inference,400,5000000\n"
                                               "\n"
                                               "1.25,wasm_execute,1000,300000\n"
                                               "# a comment\n"
                                               "2,bank_send,250,70000\n"
                                               "3,inference,64,1\n");
  char body[1024];
  snprintf(body, sizeof body,
           "local c = weft.standin{network = net}\n"
           "weft.load_on{chain = c, connections = 2, start = '1s', duration = '2.5s', "
           "replay = '%s'}",
           csv);
  txs x = run_load(body, "10s", 1);
  /* The row at 3 s is past start + duration; the rest go to connections 1, 2, 1, 2. */
  const double t[] = {1.5e9, 1.5e9, 2.25e9, 3e9}, bytes[] = {300, 400, 1000, 250},
               gas[] = {1000, 5000000, 300000, 70000}, type[] = {0, 2, 1, 0};
  assert_int_equal(x.n, 4);
  double first = x.col[C_CLIENT][0];
  for (size_t i = 0; i < x.n; i++) first = fmin(first, x.col[C_CLIENT][i]);
  int seen[4] = {0};
  for (size_t i = 0; i < x.n; i++) {
    int k = -1;
    for (int j = 0; j < 4; j++)
      if (x.col[C_BYTES][i] == bytes[j]) k = j;
    assert_true(k >= 0);
    seen[k]++;
    assert_true(x.col[C_SUBMIT][i] == t[k]);
    assert_true(x.col[C_GAS_WANTED][i] == gas[k]);
    assert_true(x.col[C_TYPE][i] == type[k]);
    assert_true(x.col[C_CLIENT][i] == first + k % 2);
  }
  for (int j = 0; j < 4; j++) assert_int_equal(seen[j], 1);
  txs_free(&x);
}

/* Two stand-in chains: a with drawn outcomes, answers up to 3.1 s late and every 7th tx lost;
 * b committing all it answers after 1 s but losing every 5th, to a closed loop that gives up
 * after 3 s (so it keeps going). */
static const char *const two_chains =
    "local a = weft.standin{network = net, outcomes = true, delay = '100ms', spread = '3s', "
    "lose_every = 7}\n"
    "local b = weft.standin{network = net, validators = 2, delay = '1s', lose_every = 5}\n"
    "weft.load_on{chain = a, connections = 3, rate = 40, duration = '10s', "
    "mix = {{type = 'bank_send', weight = 3}, {type = 'inference', weight = 1, bytes = 2000, "
    "gas = 5000000}}}\n"
    "weft.load_on{chain = b, closed = 5, think = '200ms', duration = '10s', timeout = '3s'}";

static void conservation_with_pending(void **unused) {
  (void)unused;
  txs x = run_load(two_chains, "10s", 7);
  /* Counters: every submission has exactly one outcome, or is still outstanding. */
  printf("conservation: submitted %.0f = committed %.0f + rejected %.0f + failed %.0f + "
         "dropped %.0f + pending %.0f\n",
         x.submitted, x.committed, x.rejected, x.failed, x.dropped, x.outstanding_end);
  assert_true(x.submitted ==
              x.committed + x.rejected + x.failed + x.dropped + x.outstanding_end);
  assert_true(x.committed > 0 && x.rejected > 0 && x.failed > 0 && x.dropped > 0);
  assert_true(x.outstanding_end > 0);
  assert_int_equal((size_t)x.submitted, x.n);
  /* Records, per chain: a row per submitted tx, statuses partition them. */
  double chains[2] = {-1, -1};
  size_t by[2][5] = {{0}}, mixed[2] = {0};
  for (size_t i = 0; i < x.n; i++) {
    int k = chains[0] < 0 || chains[0] == x.col[C_CHAIN][i] ? 0 : 1;
    if (chains[k] < 0) chains[k] = x.col[C_CHAIN][i];
    assert_true(chains[k] == x.col[C_CHAIN][i]);
    int st = (int)x.col[C_STATUS][i];
    assert_true(st >= 0 && st <= WF_TX_PENDING);
    by[k][st]++;
    if (x.col[C_TYPE][i] == WF_TX_INFERENCE) {
      mixed[k]++;
      assert_true(x.col[C_BYTES][i] == 2000 && x.col[C_GAS_WANTED][i] == 5e6);
    }
    assert_true((st == WF_TX_PENDING) == (x.col[C_RESULT][i] == 0));
    assert_true((uint64_t)x.col[C_ID][i] >> 32 == (uint64_t)x.col[C_CLIENT][i]);
  }
  for (int k = 0; k < 2; k++)
    printf("chain %.0f: committed %zu rejected %zu failed %zu dropped %zu pending %zu\n",
           chains[k], by[k][0], by[k][1], by[k][2], by[k][3], by[k][4]);
  size_t total[5] = {0};
  for (int s = 0; s < 5; s++) total[s] = by[0][s] + by[1][s];
  assert_true(total[0] == x.committed && total[1] == x.rejected && total[2] == x.failed &&
              total[3] == x.dropped && total[4] == x.outstanding_end);
  assert_true(by[0][4] > 0 && by[1][4] > 0);
  /* The mix: 1 in 4 of the open loop's txs (chain a, made first: the smaller group id) is an
   * inference call; the closed loop's default mix has none. */
  int ka = chains[0] < chains[1] ? 0 : 1, kb = 1 - ka;
  /* Chain b: only commits and give-ups, each exactly the timeout after its submission. */
  assert_true(by[kb][0] > 0 && by[kb][1] == 0 && by[kb][2] == 0 && by[kb][3] > 0);
  for (size_t i = 0; i < x.n; i++)
    if (x.col[C_CHAIN][i] == chains[kb] && x.col[C_STATUS][i] == WF_TX_DROPPED)
      assert_true(x.col[C_RESULT][i] - x.col[C_SUBMIT][i] == 3e9);
  size_t na = by[ka][0] + by[ka][1] + by[ka][2] + by[ka][3] + by[ka][4];
  double p = 0.25, sd = sqrt(na * p * (1 - p));
  printf("mix: %zu inference calls in %zu, expected %.0f +- %.0f (1 sd)\n", mixed[ka], na, na * p,
         sd);
  assert_true(fabs((double)mixed[ka] - na * p) < 5 * sd);
  assert_int_equal(mixed[1 - ka], 0);
  txs_free(&x);
}

static void same_seed_same_records(void **unused) {
  (void)unused;
  txs a = run_load(two_chains, "10s", 11), b = run_load(two_chains, "10s", 11),
      c = run_load(two_chains, "10s", 12);
  assert_int_equal(a.n, b.n);
  for (int k = 0; k < NCOLS; k++)
    assert_memory_equal(a.col[k], b.col[k], a.n * sizeof(double));
  int differs = c.n != a.n;
  for (size_t i = 0; !differs && i < a.n; i++) differs = a.col[C_SUBMIT][i] != c.col[C_SUBMIT][i];
  assert_true(differs);
  txs_free(&a), txs_free(&b), txs_free(&c);
}

/* weft.load on weft.chain itself: it builds, the clients join the chain's group and sit in
 * their validator's region, and whatever the chain answers, the books balance. */
static void on_a_real_chain(void **unused) {
  (void)unused;
  txs x = run_load("local c = weft.chain{network = net, validators = 4}\n"
                   "weft.load{chain = c, connections = 3, nodes = {1, 3}, rate = 20, "
                   "duration = '3s'}",
                   "4s", 1);
  assert_true(x.n > 60 && x.n < 300);
  assert_true(x.submitted == x.committed + x.rejected + x.failed + x.dropped + x.outstanding_end);
  txs_free(&x);
}

int main(void) {
  memcpy(load_on_args, wf_load_args, wf_load_nargs * sizeof *wf_load_args);
  for (unsigned i = 0; i < wf_load_nargs; i++)
    if (strcmp(load_on_args[i].name, "chain") == 0) load_on_args[i].kind = "standin";
  standin_builders[1].nargs = wf_load_nargs;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(open_loop_is_poisson),     cmocka_unit_test(rate_steps_follow_each_rate),
      cmocka_unit_test(closed_loop_cycles_exactly), cmocka_unit_test(replay_sends_the_rows),
      cmocka_unit_test(conservation_with_pending), cmocka_unit_test(same_seed_same_records),
      cmocka_unit_test(on_a_real_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
