/* Chains of validators against what reasoning says, not what the code printed:
 *   - no latency but one hop of 125 us, no bandwidth cost, no gossip sleep: a height takes
 *     timeout_commit (or the block's execution, if longer) plus four one-way hops (the round
 *     step that tells the proposer its peers are in the round, the proposal, the prevotes, the
 *     precommits);
 *   - an offline proposer: its heights commit in round 1, after timeout_propose(0), the nil
 *     votes, timeout_precommit(0) and the four hops of round 1;
 *   - more than 1/3 of the power offline halts the chain; just under 1/3 does not;
 *   - the proposers of the blocks are CometBFT's own golden sequence (TestProposerSelection1);
 *   - with the real gossip (100 ms routine sleep, 5 MB/s connections, 21 regions) blocks
 *     commit at least timeout_commit apart and every height commits once. */
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

/* ---- a stand-in client: one LP that submits transactions to one validator ---- */

typedef struct client_cfg {
  const wf_net *net;
  wf_lpid first, to;
  uint32_t count, bytes, gas_wanted, gas_need, burst;
  uint64_t price;
  double rate;
  /* what it saw */
  uint32_t submitted, outcome[5], reason[5];
  wf_time *submit_t, *result_t;
  uint64_t *height, *fee, *used;
  uint8_t *status;
  wf_lp_type type;
} client_cfg;

typedef struct client {
  wf_net_port port;
} client;

static client_cfg *last_client;

static void client_send(wf_lp *lp, client_cfg *c, client *s) {
  uint32_t k = c->submitted++;
  wf_tx t = {(uint64_t)wf_lp_id(lp) << 32 | k, c->price, c->bytes, c->gas_wanted, c->gas_need,
             WF_TX_BANK_SEND, {0}};
  c->submit_t[k] = wf_now(lp);
  wf_net_send(lp, c->net, &s->port, NULL, c->to, c->bytes + 20, WF_TX_SUBMIT, 0, &t, sizeof t);
}

static void client_tick(wf_lp *lp, client_cfg *c) {
  wf_time gap = (wf_time)(wf_rng_exponential(wf_lp_rng(lp), 1e9 / c->rate) + 0.5);
  wf_send(lp, wf_lp_id(lp), gap + 1, 1, NULL, 0);
}

static void client_init(wf_lp *lp, void *st, const void *cfg) {
  client_cfg *c = (client_cfg *)cfg;
  wf_net_port_init(lp, c->net, &((client *)st)->port);
  for (uint32_t i = 0; i < c->burst && c->submitted < c->count; i++) client_send(lp, c, st);
  if (c->rate > 0) client_tick(lp, c);
}

static void client_handle(wf_lp *lp, void *st, const wf_event *ev) {
  client_cfg *c = (client_cfg *)wf_lp_cfg(lp);
  if (ev->kind == 1) {
    if (c->submitted < c->count) {
      client_send(lp, c, st);
      client_tick(lp, c);
    }
    return;
  }
  wf_net_msg m;
  if (!wf_net_owns(ev) || !wf_net_receive(lp, c->net, &((client *)st)->port, ev, &m)) return;
  wf_tx_result r;
  memcpy(&r, m.data, sizeof r);
  uint32_t k = (uint32_t)r.id;
  assert_true(k < c->submitted);
  assert_int_equal(c->status[k], WF_TX_PENDING); /* one outcome per transaction */
  c->status[k] = r.status;
  c->result_t[k] = wf_now(lp);
  c->height[k] = r.height, c->fee[k] = r.fee, c->used[k] = r.gas_used;
  c->outcome[r.status]++;
  c->reason[r.reason]++;
}

static const wf_arg_spec client_args[] = {
    {"chain", WF_ARG_HANDLE, NULL, 1, 0, "the chain", .kind = "chain"},
    {"count", WF_ARG_INT, "100", 0, 1e6, "transactions"},
    {"rate", WF_ARG_NUM, "50", 0, 1e6, "per second, Poisson (0: only the burst)"},
    {"burst", WF_ARG_INT, "0", 0, 1e6, "sent at once at the start"},
    {"bytes", WF_ARG_INT, "250", 1, 1e6, "size"},
    {"gas_wanted", WF_ARG_INT, "100000", 1, 4e9, "limit"},
    {"gas_need", WF_ARG_INT, "0", 0, 4e9, "need (0: the table's)"},
    {"price", WF_ARG_INT, "10", 0, 1e9, "price"},
};

static int client_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  client_cfg *c = wf_engine_alloc(eng, sizeof *c);
  wf_chain_info ci;
  wf_chain_info_of(wf_arg(a, "chain")->h, &ci);
  c->net = ci.net, c->to = ci.first;
  c->count = (uint32_t)wf_arg_int(a, "count"), c->rate = wf_arg_num(a, "rate");
  c->burst = (uint32_t)wf_arg_int(a, "burst"), c->bytes = (uint32_t)wf_arg_int(a, "bytes");
  c->gas_wanted = (uint32_t)wf_arg_int(a, "gas_wanted");
  c->gas_need = (uint32_t)wf_arg_int(a, "gas_need");
  c->price = (uint64_t)wf_arg_int(a, "price");
  size_t n = c->count ? c->count : 1;
  c->submit_t = wf_engine_alloc(eng, n * sizeof(wf_time));
  c->result_t = wf_engine_alloc(eng, n * sizeof(wf_time));
  c->height = wf_engine_alloc(eng, n * sizeof(uint64_t));
  c->fee = wf_engine_alloc(eng, n * sizeof(uint64_t));
  c->used = wf_engine_alloc(eng, n * sizeof(uint64_t));
  c->status = wf_engine_alloc(eng, n);
  memset(c->status, WF_TX_PENDING, n);
  c->type = (wf_lp_type){"test_client", sizeof(client), wf_net_min_delay(c->net), client_init,
                         client_handle, NULL, WF_TIME_MAX};
  c->first = wf_engine_add_lps(eng, &c->type, 1, c, ci.group, err);
  if (c->first == WF_LP_NONE) return -1;
  uint16_t region = (uint16_t)wf_net_region(c->net, "us-east-1");
  double bw = 1e15;
  if (wf_net_attach((wf_net *)c->net, c->first, 1, &region, &bw, &bw, err) == UINT32_MAX) return -1;
  last_client = c;
  *out = (wf_built){c->first, 1, NULL, NULL};
  return 0;
}

static const wf_builder client_builders[] = {
    {"testclient", "a stand-in client", client_args, sizeof client_args / sizeof *client_args,
     client_build},
};
static const wf_model client_model = {"testclient", "a stand-in client", client_builders, 1};

static const wf_model *const models[] = {&wf_model_net, &wf_model_chain, &client_model,
                                         &wf_model_workload};

typedef struct blocks {
  size_t n;
  double *height, *round, *proposer, *t, *interval, *txs, *gas_wanted, *fees, *gas_used, *price;
} blocks;

static void (*check_client)(const client_cfg *c);

/* Runs a whole scenario, writing chain.h5 and reading its blocks back. */
static blocks run_script(const char *script) {
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_write("chain.lua", script));
  last_client = NULL;
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  wf_scenario_in in = {.path = path, .models = models, .nmodels = 4};
  wf_scenario_out sc;
  if (wf_scenario_load(&in, eng, &sc, &err) != 0) fail_msg("%s", err.msg);
  const char *h5 = wf_test_path("chain.h5");
  wf_trace *t = wf_trace_create(h5, &err);
  wf_run_opts o = {.end_time = sc.end_time, .sample = sc.sample, .seed = 1, .trace = t};
  wf_run_stats st;
  if (!t || wf_engine_run(eng, &o, &st, &err) != 0 || wf_trace_close(t, &err) != 0)
    fail_msg("%s", err.msg);
  if (last_client && check_client) check_client(last_client);
  wf_engine_free(eng);
  wf_scenario_out_free(&sc);
  wf_trace_reader *r = wf_trace_open(h5, &err);
  blocks b = {0};
  if (!r) fail_msg("%s", err.msg);
  b.height = wf_trace_table_column(r, "records", "blocks", "height", &b.n, &err);
  b.round = wf_trace_table_column(r, "records", "blocks", "round", &b.n, &err);
  b.proposer = wf_trace_table_column(r, "records", "blocks", "proposer", &b.n, &err);
  b.t = wf_trace_table_column(r, "records", "blocks", "t_ns", &b.n, &err);
  b.interval = wf_trace_table_column(r, "records", "blocks", "interval_ns", &b.n, &err);
  b.txs = wf_trace_table_column(r, "records", "blocks", "txs", &b.n, &err);
  b.gas_wanted = wf_trace_table_column(r, "records", "blocks", "gas_wanted", &b.n, &err);
  b.fees = wf_trace_table_column(r, "records", "blocks", "fees", &b.n, &err);
  b.gas_used = wf_trace_table_column(r, "records", "blocks", "gas_used", &b.n, &err);
  b.price = wf_trace_table_column(r, "records", "blocks", "base_price", &b.n, &err);
  if (!b.height || !b.round || !b.proposer || !b.t || !b.interval || !b.txs || !b.gas_wanted ||
      !b.fees || !b.gas_used || !b.price)
    fail_msg("%s", err.msg);
  wf_trace_reader_close(r);
  return b;
}

/* A scenario of a network and `body`, run to `end`. */
static blocks run_chain(const char *body, const char *end) {
  char script[2048];
  snprintf(script, sizeof script,
           "local net = weft.network{}\n"
           "%s\n"
           "weft.run{end_time = '%s'}\n",
           body, end);
  return run_script(script);
}

static void blocks_free(blocks *b) {
  free(b->height), free(b->round), free(b->proposer), free(b->t), free(b->interval);
  free(b->txs), free(b->gas_wanted), free(b->fees), free(b->gas_used), free(b->price);
}

/* Validators in one region at 125 us one way, links so fast that a message costs 1 ns on the
 * wire, gossip routines that never sleep and connections without a rate limit: every step is
 * one hop. Each message adds at most a few ns of serialization: the tolerance. */
#define L_NS 125000.0
#define TOL_NS 200.0

/* How votes travel in the chains fast_chain writes: the tests that reason about both modes run
 * once per mode (EACH_MODE), and must give the same answers. */
static const char *const vote_modes[2] = {"per-hop", "aggregate"};
static int vote_mode;
#define EACH_MODE for (vote_mode = 0; vote_mode < 2 || (vote_mode = 0); vote_mode++)

/* A chain `c` of `n` validators on such links, with `fields` more of its fields ("": none),
 * then the scenario lines `rest`. The text stays valid until the next call. */
static const char *fast_chain(int n, const char *fields, const char *rest) {
  static char body[1024];
  snprintf(body, sizeof body,
           "local c = weft.chain{network = net, validators = %d, %s%sregions = {{region = "
           "'us-east-1', count = %d}}, bandwidth = 1e15, gossip_sleep = '1ns', send_rate = 0, "
           "votes = '%s'}\n%s",
           n, fields, *fields ? ", " : "", n, vote_modes[vote_mode], rest);
  return body;
}

static void height_is_commit_timeout_plus_four_hops(void **unused) {
  (void)unused;
  EACH_MODE {
    const char *body = fast_chain(4, "", "");
    blocks b = run_chain(body, "10s");
    /* Height 1 starts at 0 for everyone and needs no round step to be announced (every node
     * starts there): proposal, prevotes, precommits. Then 1 s + 4 hops per height. */
    assert_true(b.n >= 9);
    assert_true(fabs(b.t[0] - 3 * L_NS) <= TOL_NS);
    for (size_t i = 1; i < b.n; i++) {
      assert_int_equal((int)b.height[i], (int)i + 1);
      assert_int_equal((int)b.round[i], 0);
      assert_true(fabs(b.interval[i] - (1e9 + 4 * L_NS)) <= TOL_NS);
    }
    blocks_free(&b);
    /* Execution longer than timeout_commit sets the pace instead. */
    body = fast_chain(4, "exec = '2s'", "");
    b = run_chain(body, "10s");
    assert_true(b.n >= 4);
    for (size_t i = 1; i < b.n; i++) assert_true(fabs(b.interval[i] - (2e9 + 4 * L_NS)) <= TOL_NS);
    blocks_free(&b);
  }
}

static void offline_proposer_commits_in_round_one(void **unused) {
  (void)unused;
  EACH_MODE {
    const char *body = fast_chain(4, "offline = {{validator = 1, from = '0s'}}", "");
    blocks b = run_chain(body, "40s");
    /* Round 0 of a height validator 1 (index 0) proposes: nobody gets a proposal; prevote nil at
     * timeout_propose(0) = 3 s, precommit nil one hop later, timeout_precommit(0) = 1 s after +2/3
     * precommits arrive, then round 1 as round 0 is: a round step, proposal, prevotes,
     * precommits. */
    double slow = 1e9 + 3e9 + 2 * L_NS + 1e9 + 4 * L_NS, normal = 1e9 + 4 * L_NS;
    size_t late = 0;
    for (size_t i = 1; i < b.n; i++) {
      assert_int_not_equal((int)b.proposer[i], 0);
      if (b.round[i] == 1) {
        late++;
        assert_true(fabs(b.interval[i] - slow) <= TOL_NS);
      } else {
        assert_int_equal((int)b.round[i], 0);
        assert_true(fabs(b.interval[i] - normal) <= TOL_NS);
      }
    }
    /* Equal powers rotate the proposer: one height in four needs round 1. */
    assert_true(late >= 3);
    assert_true(late <= b.n / 4 + 1);
    blocks_free(&b);
  }
}

static void an_offline_validator_comes_back(void **unused) {
  (void)unused;
  EACH_MODE {
    const char *body = fast_chain(4, "offline = {{validator = 1, from = '5s', to = '15s'}}", "");
    blocks b = run_chain(body, "40s");
    /* Away, its turns to propose need round 1 (and it proposes nothing); back, having fetched
     * the heights it missed, it proposes again in round 0. */
    int away_turns = 0, back_turns = 0;
    for (size_t i = 0; i < b.n; i++) {
      assert_int_equal((int)b.height[i], (int)i + 1);
      if (b.t[i] > 6e9 && b.t[i] < 15e9) {
        assert_int_not_equal((int)b.proposer[i], 0);
        away_turns += b.round[i] == 1;
      }
      if (b.t[i] > 20e9 && b.proposer[i] == 0 && b.round[i] == 0) back_turns++;
    }
    assert_true(away_turns >= 1);
    assert_true(back_turns >= 3);
    blocks_free(&b);
  }
}

/* Proposer 0's turns: committed by it in round 0 within [t0, t1) s, and heights in that
 * window that needed round 1. */
static void turns(const blocks *b, double t0, double t1, int *own, int *late) {
  *own = *late = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (b->t[i] < t0 * 1e9 || b->t[i] >= t1 * 1e9) continue;
    *own += b->proposer[i] == 0 && b->round[i] == 0;
    *late += b->round[i] == 1;
  }
}

static void slow_and_crashed_validators(void **unused) {
  (void)unused;
  int own, late;
  /* 5 s to handle each message: it learns of every commit far too late to propose in time. */
  const char *body = fast_chain(4, "slow = {{validator = 1, from = '0s', delay = '5s'}}", "");
  blocks b = run_chain(body, "40s");
  turns(&b, 2, 40, &own, &late);
  assert_int_equal(own, 0);
  assert_true(late >= 3);
  blocks_free(&b);
  /* A crash from 5 s to 15 s: its turns need round 1 while it is down; restarted, it catches
   * up and proposes again. */
  body = fast_chain(4, "crash = {{validator = 1, from = '5s', to = '15s'}}", "");
  b = run_chain(body, "40s");
  turns(&b, 6, 15, &own, &late);
  assert_true(own == 0 && late >= 1);
  turns(&b, 20, 40, &own, &late);
  assert_true(own >= 3 && late == 0);
  blocks_free(&b);
  /* Down from 9.0045 s, inside height 10 (before it committed it: its timers are lost), back
   * at 9.3 s: it sets its step's timers again, catches up on height 10 from its peers at once,
   * and proposes height 11 in round 0, timeout_commit after its own late commit of 10. */
  body = fast_chain(4, "crash = {{validator = 1, from = '9.0045s', to = '9.3s'}}", "");
  b = run_chain(body, "20s");
  int h11 = 0;
  for (size_t i = 0; i < b.n; i++) {
    assert_int_equal((int)b.round[i], 0);
    if (b.height[i] == 11) {
      h11 = 1;
      assert_int_equal((int)b.proposer[i], 0);
      assert_true(b.t[i] > 10.3e9 && b.t[i] < 10.302e9);
    }
  }
  assert_true(h11 && b.n >= 18);
  blocks_free(&b);
  /* The proposer of height 10 dies for good in it, before its proposal left, and validator 1
   * is down from then to 9.3 s: the two left need validator 1's prevote, which only its
   * timeout_propose, set again at the restart, gives (3 s later); then round 1 commits. A
   * restart that did not set its timers again would halt the chain here. */
  body = fast_chain(4,
                    "crash = {{validator = 2, from = '9.0045s'}, "
                    "{validator = 1, from = '9.0045s', to = '9.3s'}}",
                    "");
  b = run_chain(body, "16s");
  assert_true(b.n >= 10);
  assert_int_equal((int)b.height[9], 10);
  assert_int_equal((int)b.round[9], 1);
  assert_true(b.t[9] > 13.3e9 && b.t[9] < 13.31e9);
  blocks_free(&b);
}

static void a_partition_heals(void **unused) {
  (void)unused;
  /* Two validators in each of two regions, the regions cut from each other from 5 s to 15 s:
   * neither side has +2/3, so nothing commits, and nobody's timers run past the prevotes (no
   * +2/3 of any vote either). When the cut heals, held messages arrive (buffer) or, dropped,
   * are sent again as peers reconnect (drop); the height commits at once, and the chain
   * reports how long it took in /records/chain_heals. */
  for (int drop = 0; drop < 2; drop++) {
    char script[1024];
    snprintf(script, sizeof script,
             "local net = weft.network{partition_mode = '%s'}\n"
             "weft.chain{network = net, validators = 4,\n"
             "  regions = {{region = 'us-east-1', count = 2}, {region = 'eu-west-1', count = 2}}}\n"
             "weft.partition{network = net, from = '5s', to = '15s', regions = {'eu-west-1'}}\n"
             "weft.run{end_time = '25s'}\n",
             drop ? "drop" : "buffer");
    blocks blk = run_script(script);
    const char *h5 = wf_test_path("chain.h5");
    wf_error err = {0};
    wf_trace_reader *r = wf_trace_open(h5, &err);
    size_t n, nb = blk.n;
    double *healed = wf_trace_table_column(r, "records", "chain_heals", "healed_ns", &n, &err);
    double *gap = wf_trace_table_column(r, "records", "chain_heals", "gap_ns", &n, &err);
    const double *bt = blk.t;
    if (!healed || !gap) fail_msg("%s", err.msg);
    assert_int_equal(n, 1);
    assert_true(healed[0] == 15e9);
    print_message("%s: the next commit %.1f ms after the cut healed\n", drop ? "drop" : "buffer",
                  gap[0] / 1e6);
    assert_true(gap[0] > 0 && gap[0] < 1e9);
    size_t during = 0, after = 0;
    for (size_t i = 0; i < nb; i++) during += bt[i] > 5.1e9 && bt[i] < 15e9, after += bt[i] > 15e9;
    assert_int_equal(during, 0);
    assert_true(after >= 5);
    free(healed), free(gap);
    wf_trace_reader_close(r);
    blocks_free(&blk);
  }
}

static double *series(wf_trace_reader *r, const char *name, size_t *n) {
  wf_error err = {0};
  for (size_t i = 0; i < wf_trace_series_count(r); i++)
    if (!strcmp(wf_trace_series_name(r, i), name)) {
      double *v = wf_trace_series_read(r, i, n, &err);
      if (!v) fail_msg("%s", err.msg);
      return v;
    }
  fail_msg("no series %s", name);
  return NULL;
}

static void full_nodes_relay_and_commit(void **unused) {
  (void)unused;
  /* 4 validators and 8 full nodes on one peer graph: the full nodes gossip and commit every
   * height (checked by the safety monitor like the validators) but never vote, so the quorum
   * stays 3 of the 4 validators' power. */
  blocks b = run_chain("local c = weft.chain{network = net, validators = 4, full_nodes = 8}\n"
                       "weft.load{chain = c, connections = 2, rate = 50, duration = '15s'}",
                       "20s', sample = '20s"); /* one sample: the counters' totals */
  assert_true(b.n >= 10);
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(wf_test_path("chain.h5"), &err);
  size_t n;
  double *commits = series(r, "chain1_node_commits", &n), *votes = series(r, "chain1_vote_msgs", &n);
  /* Per second over 20 s: every node commits every height but possibly the last. */
  double total = commits[0] * 20;
  print_message("%zu blocks, %.0f node commits\n", b.n, total);
  assert_true(total >= 12.0 * ((double)b.n - 1) && total <= 12.0 * (double)b.n);
  assert_true(votes[0] > 0);
  free(commits), free(votes);
  wf_trace_reader_close(r);
  blocks_free(&b);
}

static void more_than_a_third_offline_halts(void **unused) {
  (void)unused;
  EACH_MODE {
    for (int off = 3; off <= 4; off++) {
      /* 10 validators of equal power: 3 offline leave 70% (> 2/3), 4 leave 60%. */
      char list[256] = "offline = {";
      for (int i = 1; i <= off; i++) {
        char one[64];
        snprintf(one, sizeof one, "{validator = %d, from = '0s'},", i);
        strcat(list, one);
      }
      strcat(list, "}");
      blocks b = run_chain(fast_chain(10, list, ""), "40s");
      if (off == 3)
        assert_true(b.n >= 10);
      else
        assert_int_equal(b.n, 0);
      blocks_free(&b);
    }
  }
}

static void proposers_follow_the_weighted_round_robin(void **unused) {
  (void)unused;
  EACH_MODE {
    /* Powers 1000, 300, 330 as foo, bar, baz in CometBFT's TestProposerSelection1
     * (types/validator_set_test.go): every height commits in round 0, so the proposers of the
     * first 99 blocks are its 99 elections. */
    static const char *const golden =
        "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar"
        " foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar"
        " foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz"
        " foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo"
        " foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
    const char *body = fast_chain(3, "powers = {1000, 300, 330}", "");
    blocks b = run_chain(body, "100s");
    assert_true(b.n >= 99);
    char got[1024] = "";
    static const char *const names[3] = {"foo", "bar", "baz"};
    for (size_t i = 0; i < 99; i++) {
      assert_int_equal((int)b.round[i], 0);
      if (i) strcat(got, " ");
      strcat(got, names[(int)b.proposer[i]]);
    }
    assert_string_equal(got, golden);
    blocks_free(&b);
  }
}

static void real_gossip_commits_every_height_once(void **unused) {
  (void)unused;
  blocks b = run_chain("weft.chain{network = net, validators = 12, block_bytes = 200000}", "20s");
  assert_true(b.n >= 8);
  for (size_t i = 1; i < b.n; i++) {
    assert_int_equal((int)b.height[i], (int)i + 1);
    assert_true(b.interval[i] >= 1e9); /* timeout_commit at least */
    assert_true(b.interval[i] < 4e9);  /* no round was needed at this load */
  }
  blocks_free(&b);
}


/* ---- transactions ---- */

static uint32_t sum_txs(const blocks *b) {
  double n = 0;
  for (size_t i = 0; i < b->n; i++) n += b->txs[i];
  return (uint32_t)n;
}

static void all_committed(const client_cfg *c) {
  /* Conservation: every submitted transaction has one outcome or is pending. */
  uint32_t outcomes = 0, pending = 0;
  for (int k = 0; k < 4; k++) outcomes += c->outcome[k];
  for (uint32_t k = 0; k < c->submitted; k++) pending += c->status[k] == WF_TX_PENDING;
  assert_int_equal(c->submitted, 200);
  assert_int_equal(outcomes + pending, c->submitted);
  assert_int_equal(c->outcome[WF_TX_COMMITTED], 200);
  for (uint32_t k = 0; k < c->submitted; k++) {
    assert_int_equal(c->status[k], WF_TX_COMMITTED);
    assert_int_equal(c->fee[k], 100000ull * 10);    /* the limit times the price */
    assert_int_equal(c->used[k], 10 * 250 + 1000 + 20 * 1150 + 8 * 5000); /* the gas table */
    /* Submitted into the next proposal at the latest: within two heights (1 s + 4 hops each). */
    wf_time lat = c->result_t[k] - c->submit_t[k];
    assert_true(lat > 4 * L_NS && lat < 2 * (1e9 + 5 * L_NS));
  }
}

static void transactions_commit_once_with_their_fees(void **unused) {
  (void)unused;
  EACH_MODE {
    const char *body = fast_chain(4, "", "weft.testclient{chain = c, count = 200, rate = 50}");
    check_client = all_committed;
    blocks b = run_chain(body, "8s");
    check_client = NULL;
    assert_int_equal(sum_txs(&b), 200);
    for (size_t i = 0; i < b.n; i++) assert_true(b.fees[i] == b.txs[i] * 100000.0 * 10);
    blocks_free(&b);
  }
}

static void out_of_gas(const client_cfg *c) {
  assert_int_equal(c->outcome[WF_TX_FAILED], 20);
  for (uint32_t k = 0; k < 20; k++) {
    assert_int_equal(c->used[k], 10000); /* all of its limit */
    assert_int_equal(c->fee[k], 10000ull * 10); /* and the fee is charged */
  }
}

static void out_of_gas_fails_but_pays(void **unused) {
  (void)unused;
  const char *body =
      fast_chain(4, "", "weft.testclient{chain = c, count = 20, rate = 50, gas_wanted = 10000}");
  check_client = out_of_gas;
  blocks b = run_chain(body, "4s");
  check_client = NULL;
  assert_int_equal(sum_txs(&b), 20);
  blocks_free(&b);
}

static void full_pool(const client_cfg *c) {
  /* 100 at once into a pool of 20: CheckTx admits the first 20 and refuses the rest; the
   * first proposal was made at t = 0, before any arrived, the next one a second later. */
  assert_int_equal(c->outcome[WF_TX_REJECTED], 80);
  assert_int_equal(c->reason[WF_TX_FULL], 80);
  assert_int_equal(c->outcome[WF_TX_COMMITTED], 20);
  for (uint32_t k = 0; k < 100; k++)
    assert_int_equal(c->status[k], k < 20 ? WF_TX_COMMITTED : WF_TX_REJECTED);
}

static void a_full_mempool_rejects(void **unused) {
  (void)unused;
  const char *body = fast_chain(4, "mempool_size = 20",
                                "weft.testclient{chain = c, count = 100, rate = 0, burst = 100}");
  check_client = full_pool;
  blocks b = run_chain(body, "4s");
  check_client = NULL;
  blocks_free(&b);
}

static void block_gas_limit(const client_cfg *c) {
  assert_int_equal(c->outcome[WF_TX_COMMITTED], 10);
}

static void blocks_stop_at_their_gas_limit(void **unused) {
  (void)unused;
  const char *body = fast_chain(4, "max_block_gas = 250000",
                                "weft.testclient{chain = c, count = 10, rate = 0, burst = 10}");
  check_client = block_gas_limit;
  blocks b = run_chain(body, "10s");
  check_client = NULL;
  /* 100,000 gas wanted each: two per block, in five consecutive blocks from height 2. */
  assert_int_equal(sum_txs(&b), 10);
  for (size_t i = 0; i < b.n; i++) {
    assert_true(b.gas_wanted[i] <= 250000);
    assert_true(b.txs[i] == (i >= 1 && i <= 5 ? 2 : 0));
  }
  blocks_free(&b);
}

static void eip1559_follows_its_formula(void **unused) {
  (void)unused;
  /* A block gas limit of 400,000 (target 200,000) and 100,000 wanted per transaction: four per
   * block, each using the bank send's 66,500, so 266,000 a block moves the price up by 1/8 of
   * the excess over the target, from the floor of 1,000; empty blocks bring it down again. */
  const char *body =
      fast_chain(4, "fee_market = 'eip1559', max_block_gas = 400000, min_base_gas_price = 1000",
                 "weft.testclient{chain = c, count = 40, rate = 0, burst = 40, price = 100000}");
  blocks b = run_chain(body, "20s");
  double p = 1000; /* the exact price, as x/feemarket's formula gives it */
  int rising = 0, falling = 0;
  for (size_t i = 0; i < b.n; i++) {
    assert_true(fabs(b.price[i] - ceil(p - 1e-9)) <= 1); /* recorded: the price rounded up */
    assert_true(b.fees[i] == b.txs[i] * 100000.0 * b.price[i]);
    double next = p * (1 + 0.125 * (b.gas_used[i] - 200000) / 200000);
    rising += next > p, falling += next < p && next > 1000;
    p = next < 1000 ? 1000 : next;
  }
  print_message("eip1559: %d blocks raised the price, %d lowered it\n", rising, falling);
  assert_true(rising >= 9 && falling >= 3); /* both directions were exercised */
  blocks_free(&b);
}

/* A run expected to stop with an error; returns its message. */
static void run_failing(const char *body, const char *end, char *msg, size_t size) {
  char script[2048];
  snprintf(script, sizeof script, "local net = weft.network{}\n%s\nweft.run{end_time = '%s'}\n",
           body, end);
  const char *path = wf_test_write("fail.lua", script);
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  wf_scenario_in in = {.path = path, .models = models, .nmodels = 4};
  wf_scenario_out sc;
  if (wf_scenario_load(&in, eng, &sc, &err) != 0) fail_msg("%s", err.msg);
  wf_run_opts o = {.end_time = sc.end_time, .seed = 1};
  wf_run_stats st;
  assert_int_not_equal(wf_engine_run(eng, &o, &st, &err), 0);
  snprintf(msg, size, "%s", err.msg);
  wf_engine_free(eng);
  wf_scenario_out_free(&sc);
}

static void equivocation_above_a_third_forks_and_is_caught(void **unused) {
  (void)unused;
  char msg[1100];
  /* Validators 1 and 2 (half the power) equivocate: the first Byzantine proposal sends one
   * block to validators 1 and 3, another to 2 and 4, and both liars vote each side its own
   * block; each side sees +2/3 for its block and commits it. */
  const char *body =
      fast_chain(4, "byzantine = {{validator = 1, from = '0s'}, {validator = 2, from = '0s'}}", "");
  run_failing(body, "30s", msg, sizeof msg);
  print_message("%s\n", msg);
  assert_non_null(strstr(msg, "safety violated on chain"));
  assert_non_null(strstr(msg, "committed block"));
}

static void equivocation_below_a_third_is_safe(void **unused) {
  (void)unused;
  const char *body = fast_chain(4, "byzantine = {{validator = 1, from = '0s'}}", "");
  /* A quarter of the power lies: every height still commits one block (the monitor would stop
   * the run otherwise), the liar's heights more slowly. Its conflicting votes are evidence, and
   * the next block includes them: one piece per height it lied at. */
  blocks b = run_chain(body, "30s");
  assert_true(b.n >= 10);
  for (size_t i = 0; i < b.n; i++) assert_int_equal((int)b.height[i], (int)i + 1);
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(wf_test_path("chain.h5"), &err);
  size_t n;
  double *ev = r ? wf_trace_table_column(r, "records", "blocks", "evidence", &n, &err) : NULL;
  if (!ev) fail_msg("%s", err.msg);
  int pieces = 0;
  for (size_t i = 1; i < n; i++)
    if (ev[i] > 0) {
      pieces += (int)ev[i];
      assert_int_equal((int)ev[i], 1);
      assert_int_equal((int)b.proposer[i - 1], 0); /* the height before was the liar's */
    }
  assert_true(pieces >= 3);
  free(ev);
  wf_trace_reader_close(r);
  blocks_free(&b);
}


static void little_and_conservation_under_load(void **unused) {
  (void)unused;
  /* Clients load a chain of 6 validators in one region for 30 s; by 40 s the pools have
   * drained. Little's law: the time-average number in the mempools (the gauge, sampled every
   * 10 ms) equals the residence summed over every transaction and node, divided by the time
   * (the counter, added when each leaves a pool). And every submission has one outcome. */
  blocks b = run_chain(
      "local c = weft.chain{network = net, validators = 6,\n"
      "  regions = {{region = 'us-east-1', count = 6}}, mempool_size = 2000}\n"
      "weft.load{chain = c, connections = 3, rate = 150, duration = '30s'}",
      "40s', sample = '10ms"); /* run_chain quotes the end time: this adds the sampling */
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(wf_test_path("chain.h5"), &err);
  if (!r) fail_msg("%s", err.msg);
  size_t n, m, k;
  double *size = series(r, "chain1_mempool", &n), *res = series(r, "chain1_mempool_residence", &m);
  double *t = series(r, "time_s", &k);
  assert_int_equal(n, m);
  double occupancy = 0, residence = 0, dt = t[1] - t[0];
  for (size_t i = 0; i < n; i++) occupancy += size[i] * dt, residence += res[i] * dt * 1e-9;
  print_message("mempools: %.4f tx (gauge) vs %.4f tx (residence / time)\n", occupancy / 40,
                residence / 40);
  assert_true(size[n - 1] == 0); /* drained */
  assert_true(residence > 0);
  assert_true(fabs(occupancy - residence) <= 0.02 * residence);
  /* Conservation per chain, from the records. */
  size_t rows;
  double *status = wf_trace_table_column(r, "records", "txs", "status", &rows, &err);
  if (!status) fail_msg("%s", err.msg);
  size_t by[5] = {0};
  for (size_t i = 0; i < rows; i++) by[(int)status[i]]++;
  print_message("txs: %zu submitted = %zu committed + %zu rejected + %zu failed + %zu dropped + "
                "%zu pending\n", rows, by[0], by[1], by[2], by[3], by[4]);
  assert_int_equal(by[0] + by[1] + by[2] + by[3] + by[4], rows);
  assert_true(rows > 12000 && by[0] == rows); /* 3 x 150 tx/s x 30 s, all committed */
  assert_int_equal((size_t)sum_txs(&b), by[0]);
  free(size), free(res), free(t), free(status);
  wf_trace_reader_close(r);
  blocks_free(&b);
}

/* ---- clients' fee policies ---- */

/* The last run's /records/txs: status, submit_ns and result_ns columns; returns the rows. */
static size_t tx_columns(double **st, double **sub, double **res) {
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(wf_test_path("chain.h5"), &err);
  size_t n = 0;
  *st = r ? wf_trace_table_column(r, "records", "txs", "status", &n, &err) : NULL;
  *sub = *st ? wf_trace_table_column(r, "records", "txs", "submit_ns", &n, &err) : NULL;
  *res = *sub ? wf_trace_table_column(r, "records", "txs", "result_ns", &n, &err) : NULL;
  if (!*res) fail_msg("%s", err.msg);
  wf_trace_reader_close(r);
  return n;
}

typedef struct outcomes {
  size_t rows, by[5], unsent_drops;
  double max_latency;
} outcomes;

static outcomes fee_run(const char *policy) {
  /* Blocks of up to 85 txs (6 M gas / 70,000) under 60 tx/s: above the market's target of
   * half full, so EIP-1559 raises the price from 1 until it passes the clients' cap of 3,
   * about 20 s in; then blocks empty and it falls back, and so on. */
  char body[1024];
  snprintf(body, sizeof body,
           "local c = weft.chain{network = net, validators = 4, fee_market = 'eip1559',\n"
           "  max_block_gas = 6000000, regions = {{region = 'us-east-1', count = 4}}}\n"
           "weft.load{chain = c, connections = 2, rate = 30, duration = '60s', price = 3,\n"
           "  fee_policy = '%s', mix = {{type = 'bank_send', bytes = 250, gas = 70000}}}",
           policy);
  blocks b = run_chain(body, "70s");
  double *st, *sub, *res;
  size_t n = tx_columns(&st, &sub, &res);
  outcomes o = {n, {0}, 0, 0};
  for (size_t i = 0; i < n; i++) {
    o.by[(int)st[i]]++;
    if (st[i] == WF_TX_DROPPED) o.unsent_drops += res[i] == sub[i];
    if (st[i] == WF_TX_COMMITTED && res[i] - sub[i] > o.max_latency)
      o.max_latency = res[i] - sub[i];
  }
  print_message("%-6s %zu txs: %zu committed, %zu rejected, %zu dropped, %zu pending; "
                "latency up to %.2f s\n",
                policy, n, o.by[0], o.by[1], o.by[3], o.by[4], o.max_latency * 1e-9);
  assert_int_equal(o.by[0] + o.by[1] + o.by[2] + o.by[3] + o.by[4], n); /* conservation */
  assert_int_equal((size_t)sum_txs(&b), o.by[0] + o.by[2]);
  free(st), free(sub), free(res);
  blocks_free(&b);
  return o;
}

static void clients_wait_or_drop_when_fees_pass_their_cap(void **unused) {
  (void)unused;
  outcomes sub = fee_run("submit"), drop = fee_run("drop"), wait = fee_run("wait");
  /* Sent anyway, txs above the price are refused at CheckTx; none is given up. */
  assert_true(sub.by[WF_TX_REJECTED] > 500);
  assert_int_equal(sub.by[WF_TX_DROPPED], 0);
  /* Drop: the client gives up on every tx it would send above the price, without sending it;
   * the chain refuses only those the price passed while they sat in a pool. */
  assert_true(drop.by[WF_TX_DROPPED] > 500);
  assert_int_equal(drop.unsent_drops, drop.by[WF_TX_DROPPED]);
  assert_true(drop.by[WF_TX_REJECTED] * 4 < sub.by[WF_TX_REJECTED]);
  /* Wait: nothing is given up; held back, more txs commit, and later. */
  assert_int_equal(wait.by[WF_TX_DROPPED], 0);
  assert_true(wait.by[WF_TX_COMMITTED] > sub.by[WF_TX_COMMITTED]);
  assert_true(wait.max_latency > sub.max_latency + 0.5e9);
}

/* ---- the two modes agree ---- */

typedef struct dist {
  double mean, p50, p95;
} dist;

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static dist dist_of(double *x, size_t n) {
  qsort(x, n, sizeof *x, by_value);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += x[i];
  return (dist){sum / (double)n, x[n / 2], x[(size_t)(0.95 * (double)n)]};
}

/* The block intervals and the commit latencies of one run of `chain` under load. */
static void run_loaded(const char *chain, const char *mode, dist *interval, dist *latency) {
  char body[1024];
  snprintf(body, sizeof body,
           "local c = weft.chain{network = net, votes = '%s', %s}\n"
           "weft.load{chain = c, connections = 4, rate = 50, duration = '50s'}",
           mode, chain);
  blocks b = run_chain(body, "60s");
  assert_true(b.n > 30);
  *interval = dist_of(b.interval + 1, b.n - 1);
  double *st, *sub, *res;
  size_t n = tx_columns(&st, &sub, &res), k = 0;
  for (size_t i = 0; i < n; i++)
    if (st[i] == WF_TX_COMMITTED) sub[k++] = res[i] - sub[i];
  assert_true(k > 9000); /* 4 x 50 tx/s x 50 s, all committed */
  *latency = dist_of(sub, k);
  free(sub), free(res), free(st);
  blocks_free(&b);
}

static void close_to(const char *what, double per_hop, double aggregate, double tol) {
  print_message("  %-18s per-hop %.4f s, aggregate %.4f s (%+.1f%%)\n", what, per_hop * 1e-9,
                aggregate * 1e-9, 100 * (aggregate / per_hop - 1));
  assert_true(fabs(aggregate / per_hop - 1) <= tol);
}

static void per_hop_and_aggregate_agree(void **unused) {
  (void)unused;
  /* Chains small enough for both modes, with CometBFT's gossip (100 ms routine sleep, 5 MB/s
   * connections), 200 tx/s: one over the 21 AWS regions, one in a datacenter. The aggregate
   * mode computes what per hop sends: their distributions of block intervals and commit
   * latencies agree: means, medians and 95th percentiles within 5% (measured: at most 3.1%). */
  static const char *const chains[2] = {"validators = 16",
                                        "validators = 16, regions = {{region = 'us-east-1', "
                                        "count = 16}}"};
  for (int k = 0; k < 2; k++) {
    dist iv[2], lat[2];
    for (int m = 0; m < 2; m++) run_loaded(chains[k], vote_modes[m], &iv[m], &lat[m]);
    print_message("%s:\n", k ? "one datacenter" : "21 regions");
    close_to("interval mean", iv[0].mean, iv[1].mean, 0.05);
    close_to("interval p50", iv[0].p50, iv[1].p50, 0.05);
    close_to("interval p95", iv[0].p95, iv[1].p95, 0.05);
    close_to("latency mean", lat[0].mean, lat[1].mean, 0.05);
    close_to("latency p50", lat[0].p50, lat[1].p50, 0.05);
    close_to("latency p95", lat[0].p95, lat[1].p95, 0.05);
  }
}

static void overlapping_faults_of_two_kinds(void **unused) {
  (void)unused;
  EACH_MODE {
    int own, late;
    /* Offline 5-10 s and down 7-12 s: coming online while down, then restarting, it is back in
     * the network from 12 s (a schedule event lost during the crash would leave it offline). */
    const char *body = fast_chain(4,
                                  "offline = {{validator = 1, from = '5s', to = '10s'}}, "
                                  "crash = {{validator = 1, from = '7s', to = '12s'}}",
                                  "");
    blocks b = run_chain(body, "40s");
    turns(&b, 20, 40, &own, &late);
    assert_true(own >= 3 && late == 0);
    blocks_free(&b);
  }
}

static void no_transaction_twice_under_a_checktx_backlog(void **unused) {
  (void)unused;
  /* CheckTx at 2 ms a transaction, 450 tx/s from clients and as many from each peer: every
   * node's CheckTx falls behind, so a transaction may finish CheckTx after the block holding
   * it was applied there. The application refuses a spent sequence: the blocks hold each
   * submitted transaction once. */
  blocks b = run_chain("local c = weft.chain{network = net, validators = 6, check_tx = '2ms',\n"
                       "  regions = {{region = 'us-east-1', count = 6}}}\n"
                       "weft.load{chain = c, connections = 3, rate = 150, duration = '15s'}",
                       "25s");
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(wf_test_path("chain.h5"), &err);
  size_t rows;
  double *status = wf_trace_table_column(r, "records", "txs", "status", &rows, &err);
  if (!status) fail_msg("%s", err.msg);
  size_t committed = 0;
  for (size_t i = 0; i < rows; i++) committed += status[i] == WF_TX_COMMITTED;
  print_message("%zu submitted, %zu committed, %u in blocks\n", rows, committed, sum_txs(&b));
  assert_true(committed > 0.9 * (double)rows);
  assert_int_equal(sum_txs(&b), committed);
  free(status);
  wf_trace_reader_close(r);
  blocks_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(height_is_commit_timeout_plus_four_hops),
      cmocka_unit_test(offline_proposer_commits_in_round_one),
      cmocka_unit_test(an_offline_validator_comes_back),
      cmocka_unit_test(slow_and_crashed_validators),
      cmocka_unit_test(a_partition_heals),
      cmocka_unit_test(full_nodes_relay_and_commit),
      cmocka_unit_test(overlapping_faults_of_two_kinds),
      cmocka_unit_test(no_transaction_twice_under_a_checktx_backlog),
      cmocka_unit_test(more_than_a_third_offline_halts),
      cmocka_unit_test(proposers_follow_the_weighted_round_robin),
      cmocka_unit_test(real_gossip_commits_every_height_once),
      cmocka_unit_test(transactions_commit_once_with_their_fees),
      cmocka_unit_test(out_of_gas_fails_but_pays),
      cmocka_unit_test(a_full_mempool_rejects),
      cmocka_unit_test(blocks_stop_at_their_gas_limit),
      cmocka_unit_test(eip1559_follows_its_formula),
      cmocka_unit_test(equivocation_above_a_third_forks_and_is_caught),
      cmocka_unit_test(equivocation_below_a_third_is_safe),
      cmocka_unit_test(little_and_conservation_under_load),
      cmocka_unit_test(per_hop_and_aggregate_agree),
      cmocka_unit_test(clients_wait_or_drop_when_fees_pass_their_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
