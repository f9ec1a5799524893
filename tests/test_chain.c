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
#include "../sim/net/net.h"
#include "scenario.h"
#include "support.h"

static const wf_model *const models[] = {&wf_model_net, &wf_model_chain};

typedef struct blocks {
  size_t n;
  double *height, *round, *proposer, *t, *interval;
} blocks;

static blocks run_chain(const char *body, const char *end) {
  char script[2048];
  snprintf(script, sizeof script,
           "local net = weft.network{}\n"
           "%s\n"
           "weft.run{end_time = '%s'}\n",
           body, end);
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_write("chain.lua", script));
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  wf_scenario_in in = {.path = path, .models = models, .nmodels = 2};
  wf_scenario_out sc;
  if (wf_scenario_load(&in, eng, &sc, &err) != 0) fail_msg("%s", err.msg);
  const char *h5 = wf_test_path("chain.h5");
  wf_trace *t = wf_trace_create(h5, &err);
  wf_run_opts o = {.end_time = sc.end_time, .sample = sc.sample, .seed = 1, .trace = t};
  wf_run_stats st;
  if (!t || wf_engine_run(eng, &o, &st, &err) != 0 || wf_trace_close(t, &err) != 0)
    fail_msg("%s", err.msg);
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
  if (!b.height || !b.round || !b.proposer || !b.t || !b.interval) fail_msg("%s", err.msg);
  wf_trace_reader_close(r);
  return b;
}

static void blocks_free(blocks *b) {
  free(b->height), free(b->round), free(b->proposer), free(b->t), free(b->interval);
}

/* Validators in one region at 125 us one way, links so fast that a message costs 1 ns on the
 * wire, gossip routines that never sleep and connections without a rate limit: every step is
 * one hop. Each message adds at most a few ns of serialization: the tolerance. */
#define L_NS 125000.0
#define TOL_NS 200.0
static const char *const fast =
    "regions = {{region = 'us-east-1', count = %d}}, bandwidth = 1e15, gossip_sleep = '1ns', "
    "send_rate = 0";

static void height_is_commit_timeout_plus_four_hops(void **unused) {
  (void)unused;
  char body[1024], opts[256];
  snprintf(opts, sizeof opts, fast, 4);
  snprintf(body, sizeof body, "weft.chain{network = net, validators = 4, %s}", opts);
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
  snprintf(body, sizeof body, "weft.chain{network = net, validators = 4, exec = '2s', %s}", opts);
  b = run_chain(body, "10s");
  assert_true(b.n >= 4);
  for (size_t i = 1; i < b.n; i++) assert_true(fabs(b.interval[i] - (2e9 + 4 * L_NS)) <= TOL_NS);
  blocks_free(&b);
}

static void offline_proposer_commits_in_round_one(void **unused) {
  (void)unused;
  char body[1024], opts[256];
  snprintf(opts, sizeof opts, fast, 4);
  snprintf(body, sizeof body,
           "weft.chain{network = net, validators = 4, offline = {{validator = 1, from = '0s'}}, %s}",
           opts);
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

static void more_than_a_third_offline_halts(void **unused) {
  (void)unused;
  char body[1024], opts[256];
  snprintf(opts, sizeof opts, fast, 10);
  for (int off = 3; off <= 4; off++) {
    /* 10 validators of equal power: 3 offline leave 70% (> 2/3), 4 leave 60%. */
    char list[256] = "";
    for (int i = 1; i <= off; i++) {
      char one[64];
      snprintf(one, sizeof one, "{validator = %d, from = '0s'},", i);
      strcat(list, one);
    }
    snprintf(body, sizeof body, "weft.chain{network = net, validators = 10, offline = {%s}, %s}",
             list, opts);
    blocks b = run_chain(body, "40s");
    if (off == 3)
      assert_true(b.n >= 10);
    else
      assert_int_equal(b.n, 0);
    blocks_free(&b);
  }
}

static void proposers_follow_the_weighted_round_robin(void **unused) {
  (void)unused;
  /* Powers 1000, 300, 330 as foo, bar, baz in CometBFT's TestProposerSelection1
   * (types/validator_set_test.go): every height commits in round 0, so the proposers of the
   * first 99 blocks are its 99 elections. */
  static const char *const golden =
      "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar"
      " foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar"
      " foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz"
      " foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo"
      " foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
  char body[1024], opts[256];
  snprintf(opts, sizeof opts, fast, 3);
  snprintf(body, sizeof body,
           "weft.chain{network = net, validators = 3, powers = {1000, 300, 330}, %s}", opts);
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(height_is_commit_timeout_plus_four_hops),
      cmocka_unit_test(offline_proposer_commits_in_round_one),
      cmocka_unit_test(more_than_a_third_offline_halts),
      cmocka_unit_test(proposers_follow_the_weighted_round_robin),
      cmocka_unit_test(real_gossip_commits_every_height_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
