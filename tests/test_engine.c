/* The engine: delivery order of equal timestamps, lookahead enforcement, event limits,
 * PHOLD's event count (golden, and against the rate formula), conservation of PHOLD's event
 * population in the sampled series, histogram quantiles, and bit-identical traces per seed. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../models/phold.h"
#include "engine_internal.h"
#include "partition.h"
#include "scenario.h"
#include "support.h"

static const wf_model *const models[] = {&wf_model_phold};

static void hist_init_noop(wf_lp *lp, void *st, const void *cfg) {
  (void)lp, (void)st, (void)cfg;
}
static void hist_handle_noop(wf_lp *lp, void *st, const wf_event *ev) {
  (void)lp, (void)st, (void)ev;
}

/* ---- equal timestamps ---- */

typedef struct tie_state {
  int n;
  struct {
    wf_lpid src;
    uint16_t kind;
  } seen[16];
} tie_state;

static void tie_init(wf_lp *lp, void *st, const void *cfg) {
  (void)st, (void)cfg;
  static const uint16_t kinds[3][3] = {{1, 2, 3}, {4, 5, 0}, {6, 0, 0}};
  for (int k = 0; k < 3 && kinds[lp->id][k]; k++) wf_send(lp, 2, 10, kinds[lp->id][k], NULL, 0);
}

static void tie_handle(wf_lp *lp, void *st, const wf_event *ev) {
  tie_state *s = st;
  s->seen[s->n].src = ev->src;
  s->seen[s->n++].kind = ev->kind;
  if (ev->kind == 1) wf_send(lp, 2, 0, 7, NULL, 0); /* same time, sent while handling */
}

static void equal_times_follow_source_and_send_order(void **unused) {
  (void)unused;
  static const wf_lp_type t = {"tie", sizeof(tie_state), 0, tie_init, tie_handle, NULL};
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  assert_int_equal(wf_engine_add_lps(eng, &t, 3, NULL, 0, &err), 0);
  wf_run_opts o = {.end_time = 100, .seed = 1};
  wf_run_stats st;
  assert_int_equal(wf_engine_run(eng, &o, &st, &err), 0);
  const tie_state *s = eng->lps[2].state;
  static const struct {
    wf_lpid src;
    uint16_t kind;
  } want[] = {{0, 1}, {0, 2}, {0, 3}, {1, 4}, {1, 5}, {2, 6}, {2, 7}};
  assert_int_equal(s->n, 7);
  for (int i = 0; i < 7; i++) {
    assert_int_equal(s->seen[i].src, want[i].src);
    assert_int_equal(s->seen[i].kind, want[i].kind);
  }
  wf_engine_free(eng);
}

/* The tie compares the source LP, then its send count: LP ids use all 32 bits and counts all
 * 64, with no packing that could make an id above 2^24 or a count above 2^40 collide. */
static void tie_key_orders_by_source_then_count(void **unused) {
  (void)unused;
  static const struct {
    wf_lpid src;
    uint64_t seq;
  } order[] = {{0, 0},
               {0, 1ull << 40},
               {0, UINT64_MAX},
               {(1u << 24) - 1, 5},
               {1u << 24, 0},
               {(1u << 24) + 1, 0},
               {(1u << 24) + 1, (1ull << 40) + 1},
               {UINT32_MAX - 1, 0},
               {UINT32_MAX - 1, UINT64_MAX}};
  size_t n = sizeof order / sizeof *order;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      wf_event a = {.src = order[i].src, .seq = order[i].seq};
      wf_event b = {.src = order[j].src, .seq = order[j].seq};
      if (wf_event_tie_less(&a, &b) != (i < j)) fail_msg("entries %zu and %zu misordered", i, j);
    }
}

/* Record rows from several ranks merge by the same tie: two sorted runs, as two ranks would
 * send them, interleave by (source LP, send count) at equal times. */
static void record_keys_order_by_the_tie(void **unused) {
  (void)unused;
  typedef struct {
    wf_row_key k;
    uint64_t want; /* the row: its expected position (8 bytes: keys stay aligned) */
  } entry;
  static const entry in[] = {
      {{.phase = 1, .lp = 5, .ts = 10, .sent = 1ull << 41}, 0},
      {{.phase = 1, .lp = (1u << 24) + 3, .ts = 10, .sent = 0}, 2},
      {{.phase = 1, .lp = 5, .ts = 10, .sent = (1ull << 41) + 1}, 1}, /* the second run */
      {{.phase = 1, .lp = UINT32_MAX - 1, .ts = 10, .sent = 0}, 3},
  };
  _Static_assert(sizeof(entry) == sizeof(wf_row_key) + sizeof(uint64_t), "packed entries");
  uint64_t out[4];
  wf_error err = {0};
  assert_int_equal(wf_records_merge_runs((const unsigned char *)in, 4, sizeof(uint64_t),
                                         (unsigned char *)out, &err),
                   0);
  for (uint32_t i = 0; i < 4; i++) assert_int_equal(out[i], i);
}

/* Ids above 2^24 are accepted, up to the 32-bit limit. Adding LPs only grows the index of runs
 * (records and states wait for the placement), so a world of 2^24 + 8 LPs costs nothing here
 * until it runs. */
static void lp_ids_use_32_bits(void **unused) {
  (void)unused;
  static const wf_lp_type t = {"many", 64, 0, hist_init_noop, hist_handle_noop, NULL};
  const uint32_t have = (1u << 24) + 7;
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  assert_int_equal(wf_engine_add_lps(eng, &t, have, NULL, 0, &err), 0);
  assert_int_equal(wf_engine_add_lps(eng, &t, 1, NULL, 0, &err), have);
  assert_int_equal(wf_engine_lp_count(eng), have + 1);
  assert_int_equal(eng->nruns, 1); /* same type, cfg and group: one run */
  assert_null(eng->lps);
  /* The last id stays free for WF_LP_NONE: 2^32 - 1 LPs in all. */
  assert_int_equal(wf_engine_add_lps(eng, &t, UINT32_MAX - have, NULL, 0, &err), WF_LP_NONE);
  assert_non_null(strstr(err.msg, "exceed the limit of 4294967295 LPs"));
  wf_error_clear(&err);
  /* 2^32 - 1 LPs of 64 B state need over 300 GiB: refused while building, sizes in the message,
   * unless this machine has that much. */
  wf_lpid last = wf_engine_add_lps(eng, &t, UINT32_MAX - have - 1, NULL, 0, &err);
  if (wf_machine_memory() < (400ull << 30)) {
    assert_int_equal(last, WF_LP_NONE);
    assert_non_null(strstr(err.msg, "the world cannot fit in memory: 4294967295 LPs ("));
    assert_int_equal(wf_engine_lp_count(eng), have + 1); /* the refused call added nothing */
  } else {
    assert_int_equal(last, have + 1);
    assert_ptr_equal(wf_engine_run_of(eng, UINT32_MAX - 1)->type, &t);
  }
  /* Declared pending events count too. */
  wf_error_clear(&err);
  assert_int_equal(wf_engine_expect_events(eng, 1000, &err), 0);
  assert_int_equal(wf_engine_expect_events(eng, UINT64_MAX / 2, &err), -1);
  assert_non_null(strstr(err.msg, " pending events x "));
  /* And declared bytes, named in the message; a refused declaration adds nothing. */
  wf_error_clear(&err);
  assert_int_equal(wf_engine_expect_bytes(eng, 1 << 20, "the test's tables", &err), 0);
  assert_int_equal(wf_engine_expect_bytes(eng, UINT64_MAX / 2, "the test's matrices", &err), -1);
  assert_non_null(strstr(err.msg, " EiB for the test's matrices = "));
  wf_error_clear(&err);
  assert_int_equal(wf_engine_expect_events(eng, UINT64_MAX / 2, &err), -1);
  assert_non_null(strstr(err.msg, " + 1 MiB for what the models declared = "));
  wf_engine_free(eng);
}

/* ---- a rank holds only what it owns ----
 * 21 LPs in three runs: 10 ungrouped "own_a" (40-byte state), 6 "own_b" (no state) in one
 * group, 5 "own_a" in another group with another cfg. On 3 ranks the groups go whole to ranks
 * 0 and 1 and the ungrouped LPs fill up to 7 each, so ranks 0 and 1 own ids that are not one
 * block: the event loop must find their records through the map. */

typedef struct own_cfg {
  uint32_t inits, handled, finished, bad;
  uint8_t seen[32]; /* by id: init 1, then + 1 per event handled */
} own_cfg;

static void own_init(wf_lp *lp, void *st, const void *cfg) {
  own_cfg *c = (own_cfg *)cfg;
  c->inits++;
  c->seen[lp->id]++;
  if (st) {
    uint64_t zero[5] = {0};
    if (memcmp(st, zero, sizeof zero)) c->bad++; /* states start zeroed */
    *(uint64_t *)st = lp->id + 1;
  }
  wf_send(lp, lp->id, 100, 1, NULL, 0); /* to itself: stays on its rank */
}
static void own_handle(wf_lp *lp, void *st, const wf_event *ev) {
  own_cfg *c = (own_cfg *)wf_lp_cfg(lp);
  c->handled++;
  c->seen[lp->id]++;
  if (ev->dst != lp->id || (st && *(uint64_t *)st != lp->id + 1)) c->bad++;
  if (wf_now(lp) < 300) wf_send(lp, lp->id, 100, 1, NULL, 0);
}
static void own_finish(wf_lp *lp, void *st, const void *unused_cfg);
static void own_finish_cb(wf_lp *lp, void *st) {
  own_finish(lp, st, NULL);
}
static void own_finish(wf_lp *lp, void *st, const void *unused_cfg) {
  (void)st, (void)unused_cfg;
  ((own_cfg *)wf_lp_cfg(lp))->finished++;
}

static const wf_lp_type own_a = {"own_a", 40, 10, own_init, own_handle, own_finish_cb};
static const wf_lp_type own_b = {"own_b", 0, 10, own_init, own_handle, own_finish_cb};

static wf_engine *own_world(own_cfg *c1, own_cfg *c2, uint32_t group[21]) {
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  uint32_t g1 = wf_engine_new_group(eng), g2 = wf_engine_new_group(eng);
  assert_int_equal(wf_engine_add_lps(eng, &own_a, 10, c1, 0, &err), 0);
  assert_int_equal(wf_engine_add_lps(eng, &own_b, 6, c1, g1, &err), 10);
  assert_int_equal(wf_engine_add_lps(eng, &own_a, 5, c2, g2, &err), 16);
  assert_int_equal(eng->nruns, 3);
  for (uint32_t i = 0; i < 21; i++) group[i] = i < 10 ? 0 : i < 16 ? g1 : g2;
  return eng;
}

static void ranks_allocate_only_their_lps(void **unused) {
  (void)unused;
  uint32_t group[21], rank_of[21], total = 0;
  own_cfg c1, c2;
  wf_engine *probe = own_world(&c1, &c2, group);
  assert_int_equal(wf_partition(group, NULL, 21, NULL, 0, 3, rank_of), 0);
  wf_engine_free(probe);
  for (uint32_t r = 0; r < 3; r++) {
    memset(&c1, 0, sizeof c1), memset(&c2, 0, sizeof c2);
    wf_engine *eng = own_world(&c1, &c2, group);
    wf_error err = {0};
    assert_int_equal(wf_engine_place(eng, 3, (int)r, &err), 0);
    uint32_t owned = 0, owned_a = 0;
    for (uint32_t i = 0; i < 21; i++) {
      assert_int_equal(wf_engine_owns(eng, i), rank_of[i] == r);
      assert_int_equal(wf_engine_owner(eng, i), rank_of[i]);
      if (rank_of[i] != r) continue;
      const wf_lp *lp = &eng->lps[eng->where[i]];
      assert_int_equal(lp->id, i); /* owned records in id order, found through the map */
      assert_ptr_equal(lp->type, i >= 10 && i < 16 ? &own_b : &own_a);
      assert_ptr_equal(lp->cfg, i < 16 ? (void *)&c1 : (void *)&c2);
      assert_int_equal(lp->group, group[i]);
      assert_int_equal(lp->state == NULL, i >= 10 && i < 16);
      owned++;
      owned_a += lp->type == &own_a;
    }
    assert_int_equal(eng->nowned, owned);
    size_t stride = (40 + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    assert_int_equal(eng->state_bytes, owned_a * stride); /* none for the others */
    assert_int_equal(eng->lps_dense, r == 2);         /* ranks 0 and 1 own two blocks */
    total += owned;
    if (r == 0) { /* rank 0 gathers lp_events from the others: it cannot run alone */
      wf_engine_free(eng);
      continue;
    }
    /* A run of this rank alone (no MPI: no peers): init, handle and finish for its LPs only. */
    wf_run_opts o = {.end_time = 1000, .seed = 1};
    wf_run_stats st;
    assert_int_equal(wf_engine_run(eng, &o, &st, &err), 0);
    assert_int_equal(c1.inits + c2.inits, owned);
    assert_int_equal(c1.finished + c2.finished, owned);
    assert_int_equal(c1.handled + c2.handled, 3 * owned); /* at 100, 200 and 300 */
    assert_int_equal(c1.bad + c2.bad, 0);
    for (uint32_t i = 0; i < 21; i++)
      assert_int_equal((i < 16 ? c1 : c2).seen[i], rank_of[i] == r ? 4 : 0);
    assert_int_equal(st.local_lps, owned);
    wf_engine_free(eng);
  }
  assert_int_equal(total, 21);
}

/* wf_send's checks and routing for an LP on another rank use the index: the destination's
 * owner, type and group, though this rank has no record of it. */
static void sends_to_remote_lps_use_the_index(void **unused) {
  (void)unused;
  uint32_t group[21];
  own_cfg c1 = {0}, c2 = {0};
  wf_engine *eng = own_world(&c1, &c2, group);
  wf_error err = {0};
  assert_int_equal(wf_engine_place(eng, 3, 2, &err), 0); /* ids 3 to 9 */
  eng->err = &err;
  eng->end_time = WF_SEC;
  wf_lp *lp = &eng->lps[0];
  assert_int_equal(lp->id, 3);
  wf_send(lp, 12, 10, 1, NULL, 0); /* own_b LP 12 lives on rank 0 */
  wf_send(lp, 17, 10, 1, NULL, 0); /* own_a LP 17 on rank 1 */
  assert_int_equal(eng->outbox[0].n, 1);
  assert_int_equal(eng->outbox[1].n, 1);
  assert_int_equal(eng->outbox[0].ev[0].dst, 12);
  assert_false(eng->failed);
  wf_send(lp, 12, 5, 1, NULL, 0);
  assert_true(eng->failed);
  assert_non_null(strstr(err.msg, "own_a LP 3 at t=0"));
  assert_non_null(strstr(err.msg, "sent to own_b LP 12 with delay 5 ns, below"));
  wf_engine_free(eng);
}

/* ---- lookahead ---- */

static void la_init(wf_lp *lp, void *st, const void *cfg) {
  (void)st, (void)cfg;
  if (lp->id == 0) wf_send(lp, 0, 5, 0, NULL, 0); /* to itself: any delay is fine */
}
static void la_handle(wf_lp *lp, void *st, const wf_event *ev) {
  (void)st, (void)ev;
  wf_send(lp, 1, 50, 0, NULL, 0); /* below min_delay 100: a model bug */
}

static void lookahead_violation_stops_the_run(void **unused) {
  (void)unused;
  static const wf_lp_type t = {"sloppy", 0, 100, la_init, la_handle, NULL};
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  assert_int_not_equal(wf_engine_add_lps(eng, &t, 2, NULL, 0, &err), WF_LP_NONE);
  wf_run_opts o = {.end_time = 1000, .seed = 1};
  wf_run_stats st;
  assert_int_equal(wf_engine_run(eng, &o, &st, &err), -1);
  assert_non_null(strstr(err.msg, "sloppy LP 0"));
  assert_non_null(strstr(err.msg, "below its type's declared min_delay 100"));
  assert_int_equal(st.events, 1); /* stopped at the offending event */
  wf_engine_free(eng);
}


/* ---- the lookahead derived from the placement ----
 * Two groups ("chains") of four LPs each: 0.1 ms between LPs of one group, 100 ms between
 * groups. LP 0 sends within its group, LP 1 on to the other group with the delay in cfg. */

static void chain_init(wf_lp *lp, void *st, const void *cfg) {
  (void)st, (void)cfg;
  if (lp->id == 0) wf_send(lp, 1, WF_MS / 10, 0, NULL, 0);
}
static void chain_handle(wf_lp *lp, void *st, const wf_event *ev) {
  (void)st, (void)ev;
  const wf_time *cross_delay = wf_lp_cfg(lp);
  if (lp->id == 1) wf_send(lp, 4, *cross_delay, 0, NULL, 0);
}
static const wf_lp_type chain_type = {.name = "chain",
                                      .min_delay = WF_MS / 10,
                                      .init = chain_init,
                                      .handle = chain_handle,
                                      .min_delay_cross = 100 * WF_MS};

static wf_engine *two_chains(const wf_time *cross_delay) {
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  uint32_t a = wf_engine_new_group(eng), b = wf_engine_new_group(eng);
  assert_true(a != 0 && b != 0 && a != b);
  assert_int_equal(wf_engine_add_lps(eng, &chain_type, 4, cross_delay, a, &err), 0);
  assert_int_equal(wf_engine_add_lps(eng, &chain_type, 4, cross_delay, b, &err), 4);
  assert_true(wf_engine_new_group(eng) > b);
  return eng;
}

static void expect_lookahead(const wf_engine *eng, const uint32_t *rank_of, wf_time want,
                             int cross) {
  wf_lookahead la;
  assert_int_equal(wf_lookahead_of(eng, rank_of, &la), 0);
  assert_int_equal(la.value, want);
  assert_ptr_equal(la.type, &chain_type);
  assert_int_equal(la.cross, cross);
}

static void lookahead_follows_the_placement(void **unused) {
  (void)unused;
  static const wf_time ok = 100 * WF_MS;
  wf_engine *eng = two_chains(&ok);
  static const uint32_t whole[8] = {0, 0, 0, 0, 1, 1, 1, 1}, split[8] = {0, 0, 1, 1, 1, 1, 1, 1};
  expect_lookahead(eng, NULL, 100 * WF_MS, 1); /* one rank */
  expect_lookahead(eng, whole, 100 * WF_MS, 1);
  expect_lookahead(eng, split, WF_MS / 10, 0);
  /* Ungrouped LPs of another type on two ranks bound it by their min_delay. */
  static const wf_lp_type loose = {"loose", 0, WF_MS, hist_init_noop, hist_handle_noop, NULL,
                                   200 * WF_MS};
  wf_error err = {0};
  assert_int_equal(wf_engine_add_lps(eng, &loose, 2, NULL, 0, &err), 8);
  static const uint32_t loose_whole[10] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
  static const uint32_t loose_split[10] = {0, 0, 0, 0, 1, 1, 1, 1, 0, 1};
  expect_lookahead(eng, loose_whole, 100 * WF_MS, 1);
  wf_lookahead la;
  assert_int_equal(wf_lookahead_of(eng, loose_split, &la), 0);
  assert_int_equal(la.value, WF_MS);
  assert_ptr_equal(la.type, &loose);
  assert_int_equal(la.cross, 0);
  wf_engine_free(eng);

  /* The run reports it; sends at exactly the bounds are legal. */
  eng = two_chains(&ok);
  wf_run_opts o = {.end_time = WF_SEC, .seed = 1};
  wf_run_stats st;
  assert_int_equal(wf_engine_run(eng, &o, &st, &err), 0);
  assert_int_equal(st.events, 2);
  assert_int_equal(st.lookahead, 100 * WF_MS);
  assert_string_equal(st.lookahead_from, "chain");
  assert_string_equal(st.lookahead_bound, "cross-group");
  wf_engine_free(eng);
}

static void cross_group_delay_below_its_bound_stops_the_run(void **unused) {
  (void)unused;
  static const wf_time short_delay = 50 * WF_MS;
  wf_engine *eng = two_chains(&short_delay);
  wf_error err = {0};
  wf_run_opts o = {.end_time = WF_SEC, .seed = 1};
  wf_run_stats st;
  assert_int_equal(wf_engine_run(eng, &o, &st, &err), -1);
  assert_non_null(strstr(err.msg, "chain LP 1"));
  assert_non_null(strstr(err.msg, "below its type's declared min_delay_cross 100000000 ns"));
  wf_engine_free(eng);
  /* A cross bound below min_delay is refused when the type is first used. */
  static const wf_lp_type odd = {"odd", 0, WF_MS, hist_init_noop, hist_handle_noop, NULL, 1};
  wf_error_clear(&err);
  eng = wf_engine_new(&err);
  assert_int_equal(wf_engine_add_lps(eng, &odd, 1, NULL, 0, &err), WF_LP_NONE);
  assert_non_null(strstr(err.msg, "min_delay_cross 1 ns below its min_delay"));
  wf_engine_free(eng);
}

/* ---- placement by weight ---- */

static void loads(const uint32_t *rank_of, const double *w, uint32_t n, double load[2]) {
  load[0] = load[1] = 0;
  for (uint32_t i = 0; i < n; i++) load[rank_of[i]] += w ? w[i] : 1;
}

/* Six groups of two LPs, the first weighing 5, the others 1: the heavy one alone on a rank,
 * the five light ones on the other, 5 each (by LP count it would be 6 LPs against 6). */
static void partition_balances_group_weights(void **unused) {
  (void)unused;
  uint32_t group[12], rank_of[12];
  for (uint32_t i = 0; i < 12; i++) group[i] = 1 + i / 2;
  wf_group_weight gw[6];
  for (uint32_t k = 0; k < 6; k++) gw[k] = (wf_group_weight){6 - k, 6 - k == 1 ? 5 : 1};
  assert_int_equal(wf_partition(group, NULL, 12, gw, 6, 2, rank_of), 0);
  for (uint32_t i = 2; i < 12; i++) {
    assert_int_not_equal(rank_of[i], rank_of[0]);
    assert_int_equal(rank_of[i], rank_of[2]);
  }
  assert_int_equal(rank_of[1], rank_of[0]);
  /* The same through LP weights: a group weighs the sum of its LPs' (2.5 + 2.5). */
  double w[12];
  for (uint32_t i = 0; i < 12; i++) w[i] = i < 2 ? 2.5 : 0.5;
  assert_int_equal(wf_partition(group, w, 12, NULL, 0, 2, rank_of), 0);
  double load[2];
  loads(rank_of, w, 12, load);
  assert_true(load[0] == 5 && load[1] == 5);
}

/* Ungrouped LPs: contiguous blocks of even weight, not of even count. */
static void partition_splits_ungrouped_by_weight(void **unused) {
  (void)unused;
  static const uint32_t group[6] = {0};
  static const double w[6] = {3, 1, 1, 1, 1, 1};
  uint32_t rank_of[6];
  assert_int_equal(wf_partition(group, w, 6, NULL, 0, 2, rank_of), 0);
  static const uint32_t want[6] = {0, 0, 1, 1, 1, 1};
  for (int i = 0; i < 6; i++) assert_int_equal(rank_of[i], want[i]);
  /* Through the engine's API, which refuses nonsense. */
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  static const wf_lp_type t = {"w", 0, 1, hist_init_noop, hist_handle_noop, NULL};
  assert_int_equal(wf_engine_add_lps(eng, &t, 6, NULL, 0, &err), 0);
  assert_int_equal(wf_engine_lp_weight(eng, 0, 1, 3, &err), 0);
  assert_true(eng->lp_weight[0] == 3 && eng->lp_weight[5] == 1);
  assert_int_equal(wf_engine_lp_weight(eng, 5, 2, 1, &err), -1);
  assert_non_null(strstr(err.msg, "only 6 LPs exist"));
  wf_error_clear(&err);
  assert_int_equal(wf_engine_group_weight(eng, 1, -2, &err), -1);
  assert_non_null(strstr(err.msg, "positive, finite"));
  wf_engine_free(eng);
}

/* ---- PHOLD ---- */

static wf_engine *phold_world(const char *script, wf_scenario_out *out) {
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_write("phold.lua", script));
  wf_scenario_in in = {.path = path, .models = models, .nmodels = 1};
  if (wf_scenario_load(&in, eng, out, &err) != 0) fail_msg("%s", err.msg);
  return eng;
}

static wf_queue_kind test_queue = WF_QUEUE_HEAP;

static wf_run_stats run_phold(const char *script, uint64_t seed, wf_trace *trace) {
  wf_scenario_out out;
  wf_engine *eng = phold_world(script, &out);
  wf_error err = {0};
  wf_run_opts o = {.end_time = out.end_time,
                   .sample = out.sample,
                   .seed = seed,
                   .trace = trace,
                   .max_events = out.max_events,
                   .queue = test_queue};
  wf_run_stats st;
  if (wf_engine_run(eng, &o, &st, &err) != 0) fail_msg("%s", err.msg);
  wf_engine_free(eng);
  wf_scenario_out_free(&out);
  return st;
}

#define PHOLD_1000 "weft.phold{lps = 1024}\nweft.run{end_time = '1000s', sample = '10s'}\n"

static void phold_event_count(void **unused) {
  (void)unused;
  wf_run_stats st = run_phold(PHOLD_1000, 1, NULL);
  /* Golden: any change to the engine's ordering, the RNG or PHOLD changes this number. */
  assert_int_equal(st.events, 1023147);
  /* Independent check: a closed population of 1024 events each taking lookahead + mean = 1 s
   * on average gives 1024 events per simulated second, less the initial ramp-up. */
  double expect = 1024.0 * 1000.0 / 1.0;
  assert_true(fabs((double)st.events - expect) < 0.01 * expect);
  assert_string_equal(st.status, "completed");
  /* Same seed, same count; another seed, another count. */
  assert_int_equal(run_phold(PHOLD_1000, 1, NULL).events, st.events);
  assert_int_not_equal(run_phold(PHOLD_1000, 2, NULL).events, st.events);
}

/* The limit is checked between windows of one lookahead (100 ms here), as on several ranks,
 * so the run stops at the end of the window that reaches it: 64 LPs handle about 6.4 events
 * per window. */
static void event_limit(void **unused) {
  (void)unused;
  wf_run_stats st =
      run_phold("weft.phold{lps = 64}\nweft.run{end_time = '1h', max_events = 1000}\n", 1, NULL);
  assert_true(st.events >= 1000 && st.events < 1040);
  assert_string_equal(st.status, "event-limit");
  assert_int_equal(
      run_phold("weft.phold{lps = 64}\nweft.run{end_time = '1h', max_events = 1000}\n", 1, NULL)
          .events,
      st.events);
}

/* ---- traces ---- */

static double *series(wf_trace_reader *r, const char *name, size_t *n) {
  wf_error err = {0};
  for (size_t i = 0; i < wf_trace_series_count(r); i++)
    if (strcmp(wf_trace_series_name(r, i), name) == 0) {
      double *v = wf_trace_series_read(r, i, n, &err);
      if (!v) fail_msg("%s", err.msg);
      return v;
    }
  fail_msg("no series %s", name);
  return NULL;
}

static const char *phold_trace(const char *name, const char *script, uint64_t seed,
                               wf_run_stats *st) {
  static char path[512];
  snprintf(path, sizeof path, "%s", wf_test_path(name));
  wf_error err = {0};
  wf_trace *t = wf_trace_create(path, &err);
  if (!t) fail_msg("%s", err.msg);
  *st = run_phold(script, seed, t);
  if (wf_trace_close(t, &err) != 0) fail_msg("%s", err.msg);
  return path;
}

/* PHOLD keeps lps * events_per_lp events in flight: every sample of the pending gauge must
 * show exactly that, to the last (events due after the end count as pending), and the events
 * series must add up to the events processed. */
static void phold_series_conserve_events(void **unused) {
  (void)unused;
  wf_run_stats st;
  const char *path = phold_trace(
      "c.h5",
      "weft.phold{lps = 500, events_per_lp = 3}\nweft.run{end_time = '400s', sample = '4s'}\n", 7,
      &st);
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(path, &err);
  if (!r) fail_msg("%s", err.msg);
  size_t n, nt, np;
  double *ev = series(r, "events", &n), *t = series(r, "time_s", &nt),
         *pend = series(r, "pending", &np);
  assert_int_equal(n, 100);
  assert_int_equal(nt, 100);
  assert_int_equal(np, 100);
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    assert_true(fabs(t[i] - 4.0 * (double)(i + 1)) < 1e-9);
    total += ev[i] * 4.0;
    assert_true(pend[i] == 1500.0);
  }
  assert_true(fabs(total - (double)st.events) < 1e-6 * (double)st.events);
  free(ev), free(t), free(pend);
  wf_trace_reader_close(r);
}

static int raw_equal(wf_trace_reader *a, wf_trace_reader *b, const char *ds) {
  wf_error err = {0};
  size_t na, nb;
  void *x = wf_trace_read_raw(a, ds, &na, &err), *y = wf_trace_read_raw(b, ds, &nb, &err);
  if (!x || !y) fail_msg("%s: %s", ds, err.msg);
  int eq = na == nb && memcmp(x, y, na) == 0;
  free(x), free(y);
  return eq;
}

static void same_seed_same_trace(void **unused) {
  (void)unused;
  const char *script = "weft.phold{lps = 300, remote = 0.5, record_delays = true}\n"
                       "weft.run{end_time = '200s', sample = '1s'}\n";
  wf_run_stats s1, s2, s3;
  char p1[512], p2[512], p3[512];
  snprintf(p1, sizeof p1, "%s", phold_trace("d1.h5", script, 11, &s1));
  snprintf(p2, sizeof p2, "%s", phold_trace("d2.h5", script, 11, &s2));
  snprintf(p3, sizeof p3, "%s", phold_trace("d3.h5", script, 12, &s3));
  wf_error err = {0};
  wf_trace_reader *a = wf_trace_open(p1, &err), *b = wf_trace_open(p2, &err),
                  *c = wf_trace_open(p3, &err);
  assert_non_null(a), assert_non_null(b), assert_non_null(c);
  assert_int_equal(wf_trace_series_count(a), 4); /* time_s, events, pending, phold_remote */
  for (size_t i = 0; i < wf_trace_series_count(a); i++) {
    char ds[128];
    snprintf(ds, sizeof ds, "/series/%s", wf_trace_series_name(a, i));
    assert_true(raw_equal(a, b, ds));
  }
  assert_true(raw_equal(a, b, "/records/lp_events"));
  assert_true(raw_equal(a, b, "/histograms/phold_delay"));
  assert_false(raw_equal(a, c, "/records/lp_events"));
  assert_false(raw_equal(a, c, "/series/events"));
  wf_trace_reader_close(a), wf_trace_reader_close(b), wf_trace_reader_close(c);
}

/* An end time that is not a multiple of the sample interval still gets its last, shorter
 * interval; an interval longer than the run, or one giving absurdly many samples, is refused. */
static void sampling_edges(void **unused) {
  (void)unused;
  wf_run_stats st;
  const char *path = phold_trace(
      "edge.h5", "weft.phold{lps = 64}\nweft.run{end_time = '10s', sample = '3s'}\n", 1, &st);
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(path, &err);
  size_t n, ne;
  double *t = series(r, "time_s", &n), *ev = series(r, "events", &ne);
  assert_int_equal(n, 4);
  assert_true(t[0] == 3 && t[1] == 6 && t[2] == 9 && t[3] == 10);
  assert_true(fabs(ev[0] * 3 + ev[1] * 3 + ev[2] * 3 + ev[3] * 1 - (double)st.events) < 1e-6);
  free(t), free(ev);
  wf_trace_reader_close(r);
  static const wf_lp_type t1 = {"x", 0, 1, hist_init_noop, hist_handle_noop, NULL};
  for (int k = 0; k < 2; k++) {
    wf_engine *eng = wf_engine_new(&err);
    wf_engine_add_lps(eng, &t1, 1, NULL, 0, &err);
    wf_run_opts o = {.end_time = 10 * WF_SEC, .sample = k ? 1 : 20 * WF_SEC, .seed = 1};
    wf_error e = {0};
    assert_int_equal(wf_engine_run(eng, &o, &st, &e), -1);
    assert_non_null(strstr(e.msg, k ? "samples over" : "longer than the end time"));
    wf_engine_free(eng);
  }
}

/* The ladder queue and the heap order events identically, so a run on either writes the same
 * trace: each checks the other, on a workload with ties (events_per_lp 3, a 1 ns mean delay
 * makes equal timestamps common) as well as on plain PHOLD. */
static void ladder_and_heap_agree(void **unused) {
  (void)unused;
  static const char *scripts[] = {
      "weft.phold{lps = 700, events_per_lp = 12, remote = 0.4, record_delays = true}\n"
      "weft.run{end_time = '60s', sample = '1s'}\n",
      "weft.phold{lps = 50, events_per_lp = 3, lookahead = '1ns', mean = '1ns'}\n"
      "weft.run{end_time = '20us', sample = '1us'}\n",
  };
  for (size_t k = 0; k < 2; k++) {
    wf_run_stats sh, sl;
    char ph[512], pl[512];
    test_queue = WF_QUEUE_HEAP;
    snprintf(ph, sizeof ph, "%s", phold_trace("heap.h5", scripts[k], 5, &sh));
    test_queue = WF_QUEUE_LADDER;
    snprintf(pl, sizeof pl, "%s", phold_trace("ladder.h5", scripts[k], 5, &sl));
    test_queue = WF_QUEUE_HEAP;
    assert_int_equal(sh.events, sl.events);
    assert_true(sh.events > 10000);
    wf_error err = {0};
    wf_trace_reader *a = wf_trace_open(ph, &err), *b = wf_trace_open(pl, &err);
    assert_non_null(a), assert_non_null(b);
    assert_true(raw_equal(a, b, "/series/events"));
    assert_true(raw_equal(a, b, "/series/pending"));
    assert_true(raw_equal(a, b, "/records/lp_events"));
    wf_trace_reader_close(a), wf_trace_reader_close(b);
  }
}

/* A world that starts with 4 pending events and grows by one per event handled until each LP
 * has handled 1500 (~6000 pending): AUTO starts on the heap and moves to the ladder mid-run,
 * at one of the loop's periodic checks. Delays on a
 * 100 ns grid make equal timestamps common. Each LP hashes what it handles, in order. */
typedef struct grow_state {
  uint64_t hash, n;
} grow_state;

static void grow_init(wf_lp *lp, void *st, const void *cfg) {
  (void)st, (void)cfg;
  wf_send(lp, lp->id, 1, 0, NULL, 0);
}

static int grow_on_ladder; /* some event was handled with the ladder holding the rest */

static void grow_handle(wf_lp *lp, void *st, const wf_event *ev) {
  grow_state *s = st;
  if (lp->eng->use_ladder) grow_on_ladder = 1;
  s->hash = (s->hash ^ (ev->ts * 31 + ev->src * 7 + ev->seq)) * 0x100000001B3ull;
  s->n++;
  for (int k = s->n <= 1500 ? 2 : 1; k > 0; k--) {
    wf_lpid dst = (wf_lpid)wf_rng_below(wf_lp_rng(lp), wf_lp_total(lp));
    wf_send(lp, dst, 1 + 100 * wf_rng_below(wf_lp_rng(lp), 10), 0, NULL, 0);
  }
}

static void auto_queue_moves_to_the_ladder_mid_run(void **unused) {
  (void)unused;
  static const wf_lp_type t = {"grow", sizeof(grow_state), 0, grow_init, grow_handle, NULL};
  grow_state want[4];
  uint64_t events = 0;
  for (int k = 0; k < 2; k++) {
    wf_error err = {0};
    wf_engine *eng = wf_engine_new(&err);
    assert_int_equal(wf_engine_add_lps(eng, &t, 4, NULL, 0, &err), 0);
    wf_run_opts o = {.end_time = 20 * WF_US, .seed = 3,
                     .queue = k ? WF_QUEUE_AUTO : WF_QUEUE_HEAP};
    wf_run_stats st;
    grow_on_ladder = 0;
    assert_int_equal(wf_engine_run(eng, &o, &st, &err), 0);
    assert_int_equal(grow_on_ladder, k); /* the heap stays, AUTO moved */
    for (int i = 0; i < 4; i++) {
      const grow_state *s = eng->lps[i].state;
      if (k == 0) {
        want[i] = *s;
        events += s->n;
      } else {
        assert_int_equal(s->n, want[i].n);
        assert_int_equal(s->hash, want[i].hash);
      }
    }
    if (k == 0) assert_true(events > 100000);
    wf_engine_free(eng);
  }
}

/* ---- histograms ---- */

static void hist_init(wf_lp *lp, void *st, const void *cfg) {
  (void)st;
  const wf_metric *h = cfg;
  for (uint64_t v = 1; v <= 100000; v++) wf_hist_add(lp, *h, v);
}
static void hist_handle(wf_lp *lp, void *st, const wf_event *ev) {
  (void)lp, (void)st, (void)ev;
}

static void histogram_quantiles_within_bucket_width(void **unused) {
  (void)unused;
  static const wf_lp_type t = {"hist", 0, 0, hist_init, hist_handle, NULL};
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  static wf_metric h;
  h = wf_hist_define(eng, "values", "1", "1..100000", &err);
  assert_int_not_equal(h, WF_METRIC_NONE);
  /* The same name and units is the same histogram (a builder called twice); other units are
   * an error naming both definitions. */
  assert_int_equal(wf_hist_define(eng, "values", "1", "again", &err), h);
  assert_int_equal(wf_hist_define(eng, "values", "ms", "again", &err), WF_METRIC_NONE);
  assert_string_equal(err.msg, "metric 'values' is defined twice, differently: as a histogram in "
                               "'1', then as a histogram in 'ms'");
  wf_error_clear(&err);
  assert_int_equal(wf_counter_define(eng, "values", "1", "a counter", &err), WF_METRIC_NONE);
  assert_non_null(strstr(err.msg, "as a histogram in '1', then as a counter in '1'"));
  wf_error_clear(&err);
  wf_engine_add_lps(eng, &t, 1, &h, 0, &err);
  wf_run_opts o = {.end_time = 10, .seed = 1};
  wf_run_stats st;
  assert_int_equal(wf_engine_run(eng, &o, &st, &err), 0);
  const wf_hist *hist = eng->hists[h];
  assert_int_equal(hist->count, 100000);
  assert_int_equal(hist->min, 1);
  assert_int_equal(hist->max, 100000);
  /* Exact quantiles of 1..N are q*N; buckets are at most 12.5% wide. */
  static const double qs[] = {0.1, 0.5, 0.9, 0.99};
  for (size_t i = 0; i < 4; i++) {
    double got = wf_hist_quantile(hist, qs[i]), want = qs[i] * 100000;
    if (fabs(got - want) > 0.125 * want) fail_msg("q%.2f: %g vs %g", qs[i], got, want);
  }
  /* Bucket bounds tile the line: each value falls in [lo, hi) of its bucket. */
  for (uint64_t v = 0; v < 5000; v += 7) {
    double lo, hi;
    wf_hist_bucket_bounds(wf_hist_bucket(v), &lo, &hi);
    assert_true(lo <= (double)v && (double)v < hi);
  }
  double lo, hi;
  wf_hist_bucket_bounds(wf_hist_bucket(UINT64_MAX), &lo, &hi);
  assert_true(lo <= 18446744073709551615.0 && hi > lo);
  wf_engine_free(eng);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(equal_times_follow_source_and_send_order),
      cmocka_unit_test(tie_key_orders_by_source_then_count),
      cmocka_unit_test(record_keys_order_by_the_tie),
      cmocka_unit_test(lp_ids_use_32_bits),
      cmocka_unit_test(ranks_allocate_only_their_lps),
      cmocka_unit_test(sends_to_remote_lps_use_the_index),
      cmocka_unit_test(lookahead_violation_stops_the_run),
      cmocka_unit_test(lookahead_follows_the_placement),
      cmocka_unit_test(cross_group_delay_below_its_bound_stops_the_run),
      cmocka_unit_test(partition_balances_group_weights),
      cmocka_unit_test(partition_splits_ungrouped_by_weight),
      cmocka_unit_test(phold_event_count),
      cmocka_unit_test(event_limit),
      cmocka_unit_test(sampling_edges),
      cmocka_unit_test(phold_series_conserve_events),
      cmocka_unit_test(same_seed_same_trace),
      cmocka_unit_test(ladder_and_heap_agree),
      cmocka_unit_test(auto_queue_moves_to_the_ladder_mid_run),
      cmocka_unit_test(histogram_quantiles_within_bucket_width),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
