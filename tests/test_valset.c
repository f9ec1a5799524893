/* CometBFT's validator set and proposer selection (protocols/valset.c) against golden values
 * taken from CometBFT's own tests (types/validator_set_test.go, state/state_test.go, commit
 * 5bba72c14f of github.com/cometbft/cometbft), its spec (spec/consensus/proposer-selection.md)
 * and cases worked by hand in the comments. No expected value comes from running weft. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../protocols/valset.h"

#define MAXVP WF_VALSET_MAX_TOTAL_POWER

/* A validator named as in the Go tests: the name's bytes, zero-padded to 20. Equal-length
 * addresses compare under memcmp as bytes.Compare compares the names (none is a prefix of
 * another here). */
static wf_validator val(const char *name, int64_t power) {
  wf_validator v = {.power = power};
  memcpy(v.addr, name, strlen(name));
  return v;
}

static wf_validator valp(const char *name, int64_t power, int64_t priority) {
  wf_validator v = val(name, power);
  v.priority = priority;
  return v;
}

/* TestProposerSelection2's addresses: 19 zero bytes, then i. */
static wf_validator vali(uint8_t i, int64_t power) {
  wf_validator v = {.power = power};
  v.addr[WF_VAL_ADDR_LEN - 1] = i;
  return v;
}

static const char *name_of(const wf_validator *v) { return (const char *)v->addr; }

static const wf_validator *get(const wf_valset *s, const char *name) {
  wf_validator k = val(name, 0);
  int32_t i = wf_valset_index(s, k.addr);
  assert_true(i >= 0);
  return &s->v[i];
}

static int64_t prio(const wf_valset *s, const char *name) { return get(s, name)->priority; }

/* validator_set_test.go verifyValidatorSet: the total is the sum of the powers, priorities
 * are centered (their clipped sum within (-n, n)) and scaled (max - min <= 2 x total). */
static void verify(const wf_valset *s) {
  int64_t tvp = 0, sum = 0, lo = INT64_MAX, hi = INT64_MIN;
  for (uint32_t i = 0; i < s->n; i++) {
    tvp += s->v[i].power;
    sum = wf_safe_add_clip(sum, s->v[i].priority);
    if (s->v[i].priority < lo) lo = s->v[i].priority;
    if (s->v[i].priority > hi) hi = s->v[i].priority;
    if (i > 0) /* sorted by power descending, then address */
      assert_true(s->v[i - 1].power > s->v[i].power ||
                  (s->v[i - 1].power == s->v[i].power &&
                   memcmp(s->v[i - 1].addr, s->v[i].addr, WF_VAL_ADDR_LEN) < 0));
  }
  assert_int_equal(s->total, tvp);
  assert_true(sum < (int64_t)s->n && sum > -(int64_t)s->n);
  assert_true(hi - lo <= WF_VALSET_WINDOW_FACTOR * tvp);
}

/* The set's names and powers in its order, "v2:22 v1:11", to compare with a Go test's list. */
static const char *listing(const wf_valset *s) {
  static char buf[4096];
  size_t k = 0;
  buf[0] = 0;
  for (uint32_t i = 0; i < s->n; i++)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s:%lld", i ? " " : "", name_of(&s->v[i]),
                          (long long)s->v[i].power);
  return buf;
}

/* ---- int64 clipping (TestSafeAddClip, TestSafeSubClip, TestSafeMul) ---- */

static void clipping_at_int64_bounds(void **unused) {
  (void)unused;
  assert_true(wf_safe_add_clip(INT64_MAX, 10) == INT64_MAX);
  assert_true(wf_safe_add_clip(INT64_MAX, INT64_MAX) == INT64_MAX);
  assert_true(wf_safe_add_clip(INT64_MIN, -10) == INT64_MIN);
  assert_true(wf_safe_sub_clip(INT64_MIN, 10) == INT64_MIN);
  assert_true(wf_safe_sub_clip(INT64_MIN, INT64_MIN) == 0);
  assert_true(wf_safe_sub_clip(INT64_MIN, INT64_MAX) == INT64_MIN);
  assert_true(wf_safe_sub_clip(INT64_MAX, -10) == INT64_MAX);
  static const struct {
    int64_t a, b, c;
    int overflow;
  } mul[] = {
      {0, 0, 0, 0},
      {1, 0, 0, 0},
      {2, 3, 6, 0},
      {2, -3, -6, 0},
      {-2, -3, 6, 0},
      {-2, 3, -6, 0},
      {INT64_MAX, 1, INT64_MAX, 0},
      {INT64_MAX / 2, 2, INT64_MAX - 1, 0},
      {INT64_MAX / 2, 3, 0, 1},
      {INT64_MAX, 2, 0, 1},
  };
  for (size_t i = 0; i < sizeof mul / sizeof *mul; i++) {
    int ov = -1;
    assert_true(wf_safe_mul(mul[i].a, mul[i].b, &ov) == mul[i].c);
    assert_int_equal(ov, mul[i].overflow);
  }

  /* Clipping inside an increment, worked by hand. a (power 1) at MaxInt64, b (power 1) at
   * MinInt64, total 2. Rescale: Go's max - min wraps to -1, its absolute value is 1 <= 2 x 2,
   * so nothing is rescaled. Center: sum -1, floor(-1/2) = -1: a = clip(Max + 1) = Max,
   * b = Min + 1. Elect: a = clip(Max + 1) = Max, b = Min + 2; a wins: Max - 2. */
  wf_validator in[] = {valp("a", 1, INT64_MAX), valp("b", 1, INT64_MIN)};
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_from(&s, in, 2, &err), 0);
  assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  assert_true(prio(&s, "a") == INT64_MAX - 2);
  assert_true(prio(&s, "b") == INT64_MIN + 2);
  assert_string_equal(name_of(wf_valset_proposer(&s)), "a");
  wf_valset_free(&s);
}

/* ---- proposer sequences ---- */

/* TestProposerSelection1: foo 1000, bar 300, baz 330, 99 proposers (the Go test's string). */
static void proposer_selection_1(void **unused) {
  (void)unused;
  const char *expected =
      "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar"
      " foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar"
      " foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz"
      " foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo"
      " foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
  wf_validator in[] = {val("foo", 1000), val("bar", 300), val("baz", 330)};
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_new(&s, in, 3, &err), 0);
  char got[1024];
  size_t k = 0;
  for (int i = 0; i < 99; i++) {
    k += (size_t)snprintf(got + k, sizeof got - k, "%s%s", i ? " " : "",
                          name_of(wf_valset_proposer(&s)));
    assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  }
  assert_string_equal(got, expected);
  /* Sorted by power: foo, baz, bar. */
  assert_string_equal(listing(&s), "foo:1000 baz:330 bar:300");
  /* TestIncrementProposerPriorityPositiveTimes: times <= 0 is refused (CometBFT panics). */
  assert_int_equal(wf_valset_increment(&s, 0, &err), -1);
  assert_non_null(strstr(err.msg, "must be positive"));
  wf_valset_free(&s);
}

/* TestProposerSelection2. */
static void proposer_selection_2(void **unused) {
  (void)unused;
  wf_valset s = {0};
  wf_error err = {0};
  /* Equal power: in address order. */
  wf_validator in[] = {vali(0, 100), vali(1, 100), vali(2, 100)};
  assert_int_equal(wf_valset_new(&s, in, 3, &err), 0);
  for (int i = 0; i < 15; i++) {
    assert_int_equal(wf_valset_proposer(&s)->addr[19], i % 3);
    assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  }
  /* One has more, not enough to propose twice in a row: 2 then the smallest address. */
  in[2].power = 400;
  assert_int_equal(wf_valset_new(&s, in, 3, &err), 0);
  assert_int_equal(wf_valset_proposer(&s)->addr[19], 2);
  assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  assert_int_equal(wf_valset_proposer(&s)->addr[19], 0);
  /* Enough to propose twice in a row. */
  in[2].power = 401;
  assert_int_equal(wf_valset_new(&s, in, 3, &err), 0);
  assert_int_equal(wf_valset_proposer(&s)->addr[19], 2);
  assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  assert_int_equal(wf_valset_proposer(&s)->addr[19], 2);
  assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  assert_int_equal(wf_valset_proposer(&s)->addr[19], 0);
  /* Powers 4, 5, 3: 40, 50 and 30 of 120 proposals. */
  wf_validator in2[] = {vali(0, 4), vali(1, 5), vali(2, 3)};
  assert_int_equal(wf_valset_new(&s, in2, 3, &err), 0);
  int count[3] = {0};
  for (int i = 0; i < 120; i++) {
    count[wf_valset_proposer(&s)->addr[19]]++;
    assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  }
  assert_int_equal(count[0], 40);
  assert_int_equal(count[1], 50);
  assert_int_equal(count[2], 30);
  wf_valset_free(&s);
}

/* TestProposerSelection3: four equal powers go round in the same order forever, whatever the
 * `times` of each increment (1 mostly, up to 4; the Go test draws them at random). */
static void proposer_selection_3(void **unused) {
  (void)unused;
  wf_validator in[] = {val("d3", 1), val("a0", 1), val("c2", 1), val("b1", 1)};
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_new(&s, in, 4, &err), 0);
  char order[4][WF_VAL_ADDR_LEN + 1];
  for (int i = 0; i < 4; i++) {
    snprintf(order[i], sizeof order[i], "%s", name_of(wf_valset_proposer(&s)));
    assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  }
  assert_string_equal(order[0], "a0"); /* equal powers: address order */
  assert_string_equal(order[3], "d3");
  uint64_t x = 88172645463325252u; /* xorshift64 */
  int64_t j = 0;
  for (int i = 0; i < 10000; i++) {
    assert_string_equal(name_of(wf_valset_proposer(&s)), order[j % 4]);
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int32_t times = (x % 5) ? 1 : (int32_t)(x / 5 % 4) + 1;
    assert_int_equal(wf_valset_increment(&s, times, &err), 0);
    j += times;
  }
  wf_valset_free(&s);
}

/* spec/consensus/proposer-selection.md, "Requirement Fulfillment Claims": p1 power 1, p2
 * power 3 give p2, p1, p2, p2 and repeat. At a height, rounds 0..3 give the same four. */
static void spec_stable_set(void **unused) {
  (void)unused;
  wf_validator in[] = {val("p1", 1), val("p2", 3)};
  wf_valset s = {0}, scratch = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_new(&s, in, 2, &err), 0);
  const char *cycle[] = {"p2", "p1", "p2", "p2"};
  for (int r = 0; r < 4; r++)
    assert_string_equal(name_of(wf_valset_round_proposer(&s, r, &scratch)), cycle[r]);
  assert_null(wf_valset_round_proposer(&s, -1, &scratch));
  for (int i = 0; i < 40; i++) {
    assert_string_equal(name_of(wf_valset_proposer(&s)), cycle[i % 4]);
    assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  }
  /* The priorities of the spec's table, run by run (p1, p2 after each election): new set
   * all -(4 + 0) centered to 0; (1-0, 3-4) = (1, -1); (2-4, 2) = (-2, 2); (-1, 5-4) = (-1, 1);
   * (0, 4-4) = (0, 0). */
  static const int64_t table[4][2] = {{1, -1}, {-2, 2}, {-1, 1}, {0, 0}};
  assert_int_equal(wf_valset_new(&s, in, 2, &err), 0);
  for (int i = 0; i < 8; i++) {
    assert_true(prio(&s, "p1") == table[i % 4][0]);
    assert_true(prio(&s, "p2") == table[i % 4][1]);
    assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  }
  wf_valset_free(&s);
  wf_valset_free(&scratch);
}

/* The spec's "New Validator" example: p1 (1) at 2 and p2 (3) at -2, then p3 (8) joins at
 * -(12 + 12>>3) = -13. The spec's table centers by avg = -4, but CometBFT divides with big.Int
 * Div, the floor: floor(-13/3) = -5, so p1 7, p2 3, p3 -8 (not the spec's 6, 2, -9). Then
 * the state transition's election: rescale no (diff 15 <= 24), center floor(2/3) = 0,
 * +power: p1 8, p2 6, p3 0; p1 wins: 8 - 12 = -4. The spec's table ends p1 -5, p2 5, p3 -1:
 * the same proposer, other priorities. */
static void spec_new_validator_floor_mean(void **unused) {
  (void)unused;
  wf_validator in[] = {valp("p1", 1, 2), valp("p2", 3, -2)};
  wf_validator add[] = {val("p3", 8)};
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_from(&s, in, 2, &err), 0);
  assert_int_equal(wf_valset_update(&s, add, 1, &err), 0);
  assert_true(prio(&s, "p1") == 7 && prio(&s, "p2") == 3 && prio(&s, "p3") == -8);
  assert_string_equal(listing(&s), "p3:8 p2:3 p1:1");
  assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  assert_true(prio(&s, "p1") == -4 && prio(&s, "p2") == 6 && prio(&s, "p3") == 0);
  assert_string_equal(name_of(wf_valset_proposer(&s)), "p1");
  wf_valset_free(&s);
}

/* ---- rescaling and centering ---- */

/* TestAvgProposerPriority. */
static void average_priority(void **unused) {
  (void)unused;
  static const struct {
    int64_t p[3];
    uint32_t n;
    int64_t want;
  } tc[] = {
      {{0, 0, 0}, 3, 0},
      {{INT64_MAX, 0, 0}, 3, INT64_MAX / 3},
      {{INT64_MAX, 0}, 2, INT64_MAX / 2},
      {{INT64_MAX, INT64_MAX}, 2, INT64_MAX},
      {{INT64_MIN, INT64_MIN}, 2, INT64_MIN},
  };
  wf_valset s = {0};
  wf_error err = {0};
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++) {
    wf_validator in[3] = {valp("a", 0, tc[i].p[0]), valp("b", 0, tc[i].p[1]),
                          valp("c", 0, tc[i].p[2])};
    assert_int_equal(wf_valset_from(&s, in, tc[i].n, &err), 0);
    assert_true(wf_valset_avg_priority(&s) == tc[i].want);
  }
  /* The floor for negative sums (Go's big.Int Div is Euclidean): -13/3 = -5, -1/2 = -1. */
  wf_validator in[] = {valp("a", 0, -13), valp("b", 0, 0), valp("c", 0, 0)};
  assert_int_equal(wf_valset_from(&s, in, 3, &err), 0);
  assert_true(wf_valset_avg_priority(&s) == -5);
  assert_int_equal(wf_valset_from(&s, in, 2, &err), 0);
  in[0].priority = -1;
  assert_int_equal(wf_valset_from(&s, in, 2, &err), 0);
  assert_true(wf_valset_avg_priority(&s) == -1);
  wf_valset_free(&s);
}

/* TestAveragingInIncrementProposerPriority: powers 0, so an increment only centers. */
static void averaging_in_increment(void **unused) {
  (void)unused;
  static const struct {
    int64_t p[3];
    int32_t times;
    int64_t avg;
  } tc[] = {
      {{1, 2, 3}, 1, 2},
      {{10, -10, 1}, 11, 0}, /* 1 / 3 */
      {{100, -10, 1}, 1, 91 / 3},
  };
  wf_valset s = {0};
  wf_error err = {0};
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++) {
    wf_validator in[3] = {valp("a", 0, tc[i].p[0]), valp("b", 0, tc[i].p[1]),
                          valp("c", 0, tc[i].p[2])};
    assert_int_equal(wf_valset_from(&s, in, 3, &err), 0);
    assert_int_equal(wf_valset_increment(&s, tc[i].times, &err), 0);
    assert_true(prio(&s, "a") == tc[i].p[0] - tc[i].avg);
    assert_true(prio(&s, "b") == tc[i].p[1] - tc[i].avg);
    assert_true(prio(&s, "c") == tc[i].p[2] - tc[i].avg);
  }
  wf_valset_free(&s);
}

/* TestAveragingInIncrementProposerPriorityWithVotingPower: powers 10, 1, 1 from priority 0,
 * `times` elections in one increment; the Go test's formulas. */
static void averaging_with_voting_power(void **unused) {
  (void)unused;
  const int64_t vp0 = 10, vp1 = 1, vp2 = 1, total = vp0 + vp1 + vp2;
  const int64_t avg = (vp0 + vp1 + vp2 - total) / 3;
  const struct {
    int64_t want[3];
    int32_t times;
    uint8_t proposer;
  } tc[] = {
      {{0 + vp0 - total - avg, 0 + vp1, 0 + vp2}, 1, 0},
      {{(0 + vp0 - total) + vp0 - total - avg, (0 + vp1) + vp1, (0 + vp2) + vp2}, 2, 0},
      {{0 + 3 * (vp0 - total) - avg, 0 + 3 * vp1, 0 + 3 * vp2}, 3, 0},
      {{0 + 4 * (vp0 - total), 0 + 4 * vp1, 0 + 4 * vp2}, 4, 0},
      {{0 + 4 * (vp0 - total) + vp0, 0 + 5 * vp1 - total, 0 + 5 * vp2}, 5, 1},
      {{0 + 6 * vp0 - 5 * total, 0 + 6 * vp1 - total, 0 + 6 * vp2}, 6, 0},
      {{0 + 7 * vp0 - 6 * total, 0 + 7 * vp1 - total, 0 + 7 * vp2}, 7, 0},
      {{0 + 8 * vp0 - 7 * total, 0 + 8 * vp1 - total, 0 + 8 * vp2}, 8, 0},
      {{0 + 9 * vp0 - 7 * total, 0 + 9 * vp1 - total, 0 + 9 * vp2 - total}, 9, 2},
      {{0 + 10 * vp0 - 8 * total, 0 + 10 * vp1 - total, 0 + 10 * vp2 - total}, 10, 0},
      {{0 + 11 * vp0 - 9 * total, 0 + 11 * vp1 - total, 0 + 11 * vp2 - total}, 11, 0},
  };
  wf_validator in[] = {vali(0, vp0), vali(1, vp1), vali(2, vp2)};
  wf_valset s = {0};
  wf_error err = {0};
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++) {
    assert_int_equal(wf_valset_from(&s, in, 3, &err), 0);
    assert_int_equal(wf_valset_increment(&s, tc[i].times, &err), 0);
    assert_int_equal(wf_valset_proposer(&s)->addr[19], tc[i].proposer);
    for (int k = 0; k < 3; k++) assert_true(s.v[k].priority == tc[i].want[k]);
  }
  wf_valset_free(&s);
}

/* Rescaling and centering worked by hand. a (power 1) at -100, b (power 2) at 55; total 3,
 * window 2 x 3 = 6. Rescale: diff 155 > 6, ratio = (155 + 6 - 1) / 6 = 160 / 6 = 26 (Go's `/`
 * truncates); a = -100 / 26 = -3 (truncated toward zero, not -4), b = 55 / 26 = 2. Center: sum
 * -1, mean floor(-1/2) = -1 (not 0): a -2, b 3. Elect: a -1, b 5; b wins: 5 - 3 = 2. Final a -1,
 * b 2, b proposes. A floor division in the rescale would give a -2; a truncated mean, a -2 and
 * b 1. */
static void rescale_and_center_by_hand(void **unused) {
  (void)unused;
  wf_validator in[] = {valp("a", 1, -100), valp("b", 2, 55)};
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_from(&s, in, 2, &err), 0);
  assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
  assert_true(prio(&s, "a") == -1);
  assert_true(prio(&s, "b") == 2);
  assert_string_equal(name_of(wf_valset_proposer(&s)), "b");
  /* RescalePriorities alone: nothing when the window is not exceeded or diff_max <= 0. */
  assert_int_equal(wf_valset_from(&s, in, 2, &err), 0);
  wf_valset_rescale(&s, 155);
  assert_true(prio(&s, "a") == -100 && prio(&s, "b") == 55);
  wf_valset_rescale(&s, 0);
  assert_true(prio(&s, "a") == -100 && prio(&s, "b") == 55);
  wf_valset_rescale(&s, 154); /* ratio (155 + 153) / 154 = 2 */
  assert_true(prio(&s, "a") == -50 && prio(&s, "b") == 27);
  wf_valset_free(&s);
}

/* ---- changes: state/state_test.go, through the state transition (update, then one
 * election: state/execution.go updateState) ---- */

static void transition(wf_valset *s, const wf_validator *changes, uint32_t n) {
  wf_error err = {0};
  assert_int_equal(wf_valset_update(s, changes, n, &err), 0);
  assert_int_equal(wf_valset_increment(s, 1, &err), 0);
  verify(s);
}

/* TestProposerPriorityDoesNotGetResetToZero, the values in its comments. */
static void priority_not_reset_to_zero(void **unused) {
  (void)unused;
  wf_validator v1 = val("val1", 10);
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_new(&s, &v1, 1, &err), 0);
  transition(&s, NULL, 0);
  assert_true(prio(&s, "val1") == 0 + 10 - 10);
  /* val2 (100) joins at -(110 + 13) = -123; center floor(-123/2) = -62: val2 -61, val1 62;
   * elect: val1 72, val2 39, val1 wins: -38. */
  wf_validator add = val("val2", 100);
  transition(&s, &add, 1);
  assert_true(prio(&s, "val1") == -38);
  assert_true(prio(&s, "val2") == 39);
  /* val2 drops to 1: diff 77 > 22, ratio (77 + 22 - 1) / 22 = 4: val1 -9, val2 9; elect:
   * val1 1, val2 10 wins: -1. */
  wf_validator change = val("val2", 1);
  transition(&s, &change, 1);
  assert_true(prio(&s, "val1") == 1);
  assert_true(prio(&s, "val2") == -1);
  assert_string_equal(name_of(wf_valset_proposer(&s)), "val2");
  wf_valset_free(&s);
}

/* TestProposerPriorityProposerAlternates: equal powers, the second added later, alternate. */
static void proposer_alternates(void **unused) {
  (void)unused;
  wf_validator v1 = val("val1", 10), v2 = val("val2", 10);
  wf_valset s = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_new(&s, &v1, 1, &err), 0);
  transition(&s, NULL, 0);
  assert_true(prio(&s, "val1") == 0);
  /* val2 at -22, center -11: 11, -11; elect: 21, -1, val1 wins: 1. */
  transition(&s, &v2, 1);
  assert_true(prio(&s, "val1") == 1 && prio(&s, "val2") == -1);
  assert_string_equal(name_of(wf_valset_proposer(&s)), "val1");
  /* 11, 9: val1 again: -9, 9. */
  transition(&s, NULL, 0);
  assert_true(prio(&s, "val1") == -9 && prio(&s, "val2") == 9);
  assert_string_equal(name_of(wf_valset_proposer(&s)), "val1");
  for (int i = 0; i < 1000; i++) {
    transition(&s, NULL, 0);
    if (i % 2 == 0) {
      assert_string_equal(name_of(wf_valset_proposer(&s)), "val2");
      assert_true(prio(&s, "val1") == 1 && prio(&s, "val2") == -1);
    } else {
      assert_string_equal(name_of(wf_valset_proposer(&s)), "val1");
      assert_true(prio(&s, "val1") == -9 && prio(&s, "val2") == 9);
    }
  }
  wf_valset_free(&s);
}

/* TestProposerFrequency's explicit cases: over `total` elections each validator proposes its
 * power's number of times, within N - 1. */
static void proposer_frequency(void **unused) {
  (void)unused;
  static const int64_t cases[][5] = {
      {1, 1},        {1, 2},         {1, 100},        {5, 5},          {5, 100},
      {50, 50},      {50, 100},      {1, 1000},       {1, 1, 1},       {1, 2, 3},
      {1, 1, 10},    {1, 1, 100},    {1, 10, 100},    {1, 1, 1000},    {1, 10, 1000},
      {1, 100, 1000}, {1, 1, 1, 1},  {1, 2, 3, 4},    {1, 1, 1, 10},   {1, 1, 1, 100},
      {1, 1, 1, 1000}, {1, 1, 10, 100}, {1, 1, 10, 1000}, {1, 1, 100, 1000}, {1, 10, 100, 1000},
  };
  wf_valset s = {0};
  wf_error err = {0};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    wf_validator in[5];
    uint32_t n = 0;
    while (n < 5 && cases[c][n]) {
      in[n] = vali((uint8_t)(7 * n + 3), cases[c][n]);
      n++;
    }
    assert_int_equal(wf_valset_new(&s, in, n, &err), 0);
    int freq[256] = {0};
    for (int64_t i = 0; i < s.total; i++) {
      freq[wf_valset_proposer(&s)->addr[19]]++;
      assert_int_equal(wf_valset_increment(&s, 1, &err), 0);
    }
    for (uint32_t k = 0; k < n; k++) {
      int64_t d = freq[in[k].addr[19]] - in[k].power;
      assert_true(d <= (int64_t)n - 1 && d >= -((int64_t)n - 1));
    }
  }
  wf_valset_free(&s);
}

/* Go-test lists of (name, power): "v1:10 v2:20". */
static uint32_t parse(const char *text, wf_validator *out) {
  uint32_t n = 0;
  char name[32];
  long long p;
  int used;
  while (sscanf(text, " %31[^:]:%lld%n", name, &p, &used) == 2) {
    out[n++] = val(name, p);
    text += used;
  }
  return n;
}

static int try_update(wf_valset *s, const char *start, const char *changes, wf_error *err) {
  wf_validator a[16], b[16];
  uint32_t na = parse(start, a), nb = parse(changes, b);
  wf_error e0 = {0};
  assert_int_equal(wf_valset_new(s, a, na, &e0), 0);
  wf_error_clear(err);
  return wf_valset_update(s, b, nb, err);
}

/* TestValSetUpdatesDuplicateEntries, ...Overflows, ...OtherErrors, TestEmptySet: refused, and
 * the set is left as it was. */
static void update_errors_leave_set_unchanged(void **unused) {
  (void)unused;
  char maxvp[32], maxvp_1[32], maxvp_3[32], maxvp_2[32], max64[32];
  snprintf(maxvp, sizeof maxvp, "%lld", (long long)MAXVP);
  snprintf(maxvp_1, sizeof maxvp_1, "%lld", (long long)MAXVP - 1);
  snprintf(maxvp_3, sizeof maxvp_3, "%lld", (long long)MAXVP / 3);
  snprintf(maxvp_2, sizeof maxvp_2, "%lld", (long long)MAXVP / 2);
  snprintf(max64, sizeof max64, "%lld", (long long)INT64_MAX);
  char buf[6][128];
  snprintf(buf[0], sizeof buf[0], "v1:%s", max64);
  snprintf(buf[1], sizeof buf[1], "v1:%s", maxvp);
  snprintf(buf[2], sizeof buf[2], "v2:%s", max64);
  snprintf(buf[3], sizeof buf[3], "v1:%s", maxvp_1);
  snprintf(buf[4], sizeof buf[4], "v1:%s v2:%s", maxvp_3, maxvp_3);
  snprintf(buf[5], sizeof buf[5], "v3:%s", maxvp_2);
  static const char *dup = "duplicate entry", *neg = "can't be negative",
                    *big = "can't be higher than", *over = "exceeds max",
                    *missing = "failed to find validator", *empty = "would result in empty set";
  const struct {
    const char *start, *changes, *msg;
  } tc[] = {
      {"v1:10 v2:10", "v1:11 v1:22", dup},
      {"v1:10 v2:10", "v2:11 v2:22", dup},
      {"v1:10 v2:10", "v1:11 v2:22 v1:12", dup},
      {"v1:10 v2:10 v3:10", "v1:11 v3:22 v1:12", dup},
      {"v1:10 v2:10", "v1:0 v1:0", dup},
      {"v1:10 v2:10", "v2:0 v2:0", dup},
      {"v1:10 v2:10", "v1:0 v2:0 v1:0", dup},
      {"v1:10 v2:10 v3:10", "v1:0 v3:0 v1:0", dup},
      {"v1:10 v2:10", "v1:0 v2:20 v1:30", dup},
      {"v1:10 v2:10", "v1:0 v2:20 v2:30 v1:0", dup},
      {"v1:10 v2:10 v3:10", "v1:0 v3:5 v2:20 v2:30 v1:0", dup},
      {"v1:10 v2:10", buf[0], big},
      {"v1:10 v2:10", "v2:9223372036854775807", big},
      {buf[1], buf[2], big},
      {buf[3], "v2:5", over},
      {buf[4], buf[5], over},
      {buf[1], "v2:1152921504606846975", over},
      {"v1:10 v2:10", "v1:-123", neg},
      {"v1:10 v2:10", "v2:-123", neg},
      {"v1:10 v2:10", "v3:0", missing},
      {"v1:10 v2:20 v3:30", "v1:0 v2:0 v3:0", empty},
  };
  /* MaxTotalVotingPower = 1152921504606846975, as the literal above. */
  assert_true(MAXVP == 1152921504606846975);
  wf_valset s = {0}, before = {0};
  wf_error err = {0};
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++) {
    wf_validator a[16];
    uint32_t na = parse(tc[i].start, a);
    assert_int_equal(wf_valset_new(&before, a, na, &err), 0);
    assert_int_equal(try_update(&s, tc[i].start, tc[i].changes, &err), -1);
    if (!strstr(err.msg, tc[i].msg)) fail_msg("case %zu: %s", i, err.msg);
    assert_int_equal(s.n, before.n);
    assert_true(s.total == before.total);
    assert_memory_equal(s.v, before.v, s.n * sizeof *s.v);
  }
  /* TestEmptySet: deleting every validator, or from an empty set, is refused. */
  assert_int_equal(wf_valset_new(&s, NULL, 0, &err), 0);
  assert_null(wf_valset_proposer(&s));
  assert_int_equal(wf_valset_increment(&s, 1, &err), -1);
  wf_validator add[] = {val("v1", 100), val("v2", 100)}, del[] = {val("v1", 0), val("v2", 0)};
  assert_int_equal(wf_valset_update(&s, add, 2, &err), 0);
  verify(&s);
  wf_error_clear(&err);
  assert_int_equal(wf_valset_update(&s, del, 2, &err), -1);
  assert_non_null(strstr(err.msg, empty));
  assert_int_equal(wf_valset_new(&s, NULL, 0, &err), 0);
  assert_int_equal(wf_valset_update(&s, del, 2, &err), -1);
  wf_valset_free(&s);
  wf_valset_free(&before);
}

/* TestUpdatesForNewValidatorSet, TestValidatorSetTotalVotingPowerPanicsOnOverflow and
 * TestValidatorSetFromProtoReturnsErrorOnOverflow: refused as errors, not panics. */
static void construction_errors(void **unused) {
  (void)unused;
  wf_valset s = {0};
  wf_error err = {0};
  wf_validator dup[] = {val("v1", 100), val("v1", 123), val("v1", 234)};
  assert_int_equal(wf_valset_new(&s, dup, 3, &err), -1);
  assert_non_null(strstr(err.msg, "duplicate entry"));
  assert_int_equal(s.n, 0);
  wf_validator zero[] = {val("v1", 0), val("v2", 22), val("v3", 33)};
  wf_error_clear(&err);
  assert_int_equal(wf_valset_new(&s, zero, 3, &err), -1);
  assert_non_null(strstr(err.msg, "voting power 0"));
  wf_validator neg[] = {val("v1", 10), val("v2", -20), val("v3", 30)};
  wf_error_clear(&err);
  assert_int_equal(wf_valset_new(&s, neg, 3, &err), -1);
  assert_non_null(strstr(err.msg, "can't be negative"));
  wf_validator huge[] = {val("a", INT64_MAX), val("b", INT64_MAX), val("c", INT64_MAX)};
  wf_error_clear(&err);
  assert_int_equal(wf_valset_new(&s, huge, 3, &err), -1);
  assert_non_null(strstr(err.msg, "can't be higher than 1152921504606846975"));
  /* Each within the maximum, the total over it. */
  wf_validator halves[] = {val("a", MAXVP / 2 + 1), val("b", MAXVP / 2 + 1)};
  wf_error_clear(&err);
  assert_int_equal(wf_valset_new(&s, halves, 2, &err), -1);
  assert_non_null(strstr(err.msg, "total voting power of resulting valset exceeds max"));
  /* Exactly the maximum is allowed. */
  wf_validator exact[] = {val("a", MAXVP / 2), val("b", MAXVP - MAXVP / 2)};
  assert_int_equal(wf_valset_new(&s, exact, 2, &err), 0);
  assert_true(s.total == MAXVP);
  /* A stored set (ValidatorSetFromProto's check). */
  wf_error_clear(&err);
  assert_int_equal(wf_valset_from(&s, huge, 2, &err), -1);
  assert_non_null(strstr(err.msg, "exceeds maximum"));
  wf_error_clear(&err);
  assert_int_equal(wf_valset_from(&s, NULL, 0, &err), -1);
  wf_valset_free(&s);
}

/* TestValSetUpdatesBasicTestsExecute and TestValSetApplyUpdatesTestsExecute: the resulting
 * lists (in the set's order: power descending, then address), centered and scaled. */
static void update_results(void **unused) {
  (void)unused;
  const struct {
    const char *start, *changes, *want;
  } tc[] = {
      {"v1:10 v2:10", "", "v1:10 v2:10"},
      {"v1:10 v2:10", "v2:22 v1:11", "v2:22 v1:11"},
      {"v2:20 v1:10", "v4:40 v3:30", "v4:40 v3:30 v2:20 v1:10"},
      {"v3:20 v1:10", "v2:30", "v2:30 v3:20 v1:10"},
      {"v3:20 v2:10", "v1:30", "v1:30 v3:20 v2:10"},
      {"v3:30 v2:20 v1:10", "v2:0", "v3:30 v1:10"},
      /* applyUpdates' merges, listed here in power order. */
      {"v4:44 v5:55", "v1:11", "v5:55 v4:44 v1:11"},
      {"v4:44 v5:55", "v6:66", "v6:66 v5:55 v4:44"},
      {"v4:44 v6:66", "v5:55", "v6:66 v5:55 v4:44"},
      {"v4:44 v6:66 v9:99", "v5:55 v7:77 v8:88", "v9:99 v8:88 v7:77 v6:66 v5:55 v4:44"},
      {"v1:111 v2:22", "v1:11", "v2:22 v1:11"},
      {"v1:11 v2:222", "v2:22", "v2:22 v1:11"},
      {"v1:11 v2:222 v3:33", "v2:22", "v3:33 v2:22 v1:11"},
      {"v1:111 v2:222 v3:333", "v1:11 v2:22 v3:33", "v3:33 v2:22 v1:11"},
      {"v1:111 v2:22", "v1:11 v3:33 v4:44", "v4:44 v3:33 v2:22 v1:11"},
  };
  wf_valset s = {0};
  wf_error err = {0};
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++) {
    assert_int_equal(try_update(&s, tc[i].start, tc[i].changes, &err), 0);
    assert_string_equal(listing(&s), tc[i].want);
    verify(&s);
  }
  wf_valset_free(&s);
}

/* TestValSetUpdateOverflowRelated: near-maximum totals that must not be refused, and the one
 * that must. Changes in the Go test's order: added, updated, deleted. */
static void update_overflow_related(void **unused) {
  (void)unused;
  const int64_t M = MAXVP;
  wf_valset s = {0};
  wf_error err = {0};
  {
    wf_validator st[] = {val("v2", M - 1), val("v1", 1)};
    wf_validator ch[] = {val("v1", M - 1), val("v2", 1)};
    assert_int_equal(wf_valset_new(&s, st, 2, &err), 0);
    assert_int_equal(wf_valset_update(&s, ch, 2, &err), 0);
    assert_true(s.v[0].power == M - 1 && !strcmp(name_of(&s.v[0]), "v1"));
    assert_true(s.v[1].power == 1 && !strcmp(name_of(&s.v[1]), "v2"));
    verify(&s);
  }
  {
    wf_validator st[] = {val("v2", M - 1), val("v1", 1)};
    wf_validator ch[] = {val("v1", M / 2 - 1), val("v2", M / 2)};
    assert_int_equal(wf_valset_new(&s, st, 2, &err), 0);
    assert_int_equal(wf_valset_update(&s, ch, 2, &err), 0);
    assert_true(s.v[0].power == M / 2 && !strcmp(name_of(&s.v[0]), "v2"));
    assert_true(s.v[1].power == M / 2 - 1 && !strcmp(name_of(&s.v[1]), "v1"));
    verify(&s);
  }
  {
    wf_validator st[] = {val("v1", M - 2), val("v2", 1), val("v3", 1)};
    wf_validator ch[] = {val("v4", M - 2), val("v1", 0)};
    assert_int_equal(wf_valset_new(&s, st, 3, &err), 0);
    assert_int_equal(wf_valset_update(&s, ch, 2, &err), 0);
    assert_string_equal(name_of(&s.v[0]), "v4");
    assert_true(s.v[0].power == M - 2);
    assert_int_equal(s.n, 3);
    verify(&s);
  }
  {
    wf_validator st[] = {val("v1", M / 4), val("v2", M / 4), val("v3", M / 4), val("v4", M / 4)};
    wf_validator ch[] = {val("v5", 3), val("v1", M / 2 - 2), val("v3", M / 2 - 3), val("v4", 2),
                         val("v2", 0)};
    assert_int_equal(wf_valset_new(&s, st, 4, &err), 0);
    assert_int_equal(wf_valset_update(&s, ch, 5, &err), 0);
    const char *names[] = {"v1", "v3", "v5", "v4"};
    const int64_t powers[] = {M / 2 - 2, M / 2 - 3, 3, 2};
    for (int k = 0; k < 4; k++) {
      assert_string_equal(name_of(&s.v[k]), names[k]);
      assert_true(s.v[k].power == powers[k]);
    }
    verify(&s);
  }
  {
    wf_validator st[9], ch[9];
    char nm[9][4];
    for (int k = 0; k < 9; k++) {
      snprintf(nm[k], sizeof nm[k], "v%d", k + 1);
      st[k] = val(nm[k], 1);
      ch[k] = val(nm[k], k < 8 ? M : 8);
    }
    assert_int_equal(wf_valset_new(&s, st, 9, &err), 0);
    assert_int_equal(wf_valset_update(&s, ch, 9, &err), -1);
    assert_non_null(strstr(err.msg, "total voting power of resulting valset exceeds max"));
    assert_string_equal(listing(&s), "v1:1 v2:1 v3:1 v4:1 v5:1 v6:1 v7:1 v8:1 v9:1");
    verify(&s);
  }
  wf_valset_free(&s);
}

/* TestValSetUpdatePriorityOrderTests' fixed cases: after some elections and the changes, the
 * expected list, and the added validators have the lowest priorities, all equal. */
static void update_priority_order(void **unused) {
  (void)unused;
  const struct {
    const char *start, *changes, *want;
    int added;
  } tc[] = {
      {"v3:1000 v1:1 v2:1", "v3:0", "v1:1 v2:1", 0},
      {"v3:1000 v2:10 v1:1", "v3:0", "v2:10 v1:1", 0},
      {"v3:1000 v2:2 v1:1", "v5:50 v4:40 v2:1 v3:0", "v5:50 v4:40 v1:1 v2:1", 2},
      {"v1:5 v2:7 v3:11 v4:13", "v9:17 v8:3 v7:1 v2:0", "v9:17 v4:13 v3:11 v1:5 v8:3 v7:1", 3},
  };
  static const int32_t elections[] = {1, 2, 7, 100, 4999};
  wf_valset s = {0};
  wf_error err = {0};
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++)
    for (size_t e = 0; e < sizeof elections / sizeof *elections; e++) {
      wf_validator a[16], b[16];
      uint32_t na = parse(tc[i].start, a), nb = parse(tc[i].changes, b);
      assert_int_equal(wf_valset_new(&s, a, na, &err), 0);
      verify(&s);
      assert_int_equal(wf_valset_increment(&s, elections[e], &err), 0);
      assert_int_equal(wf_valset_update(&s, b, nb, &err), 0);
      assert_string_equal(listing(&s), tc[i].want);
      verify(&s);
      if (!tc[i].added) continue;
      int64_t added_prio = INT64_MIN, others_min = INT64_MAX;
      for (uint32_t k = 0; k < nb; k++) {
        if (b[k].power == 0 || wf_valset_index(&s, b[k].addr) < 0) continue;
        int new = 1;
        for (uint32_t j = 0; j < na; j++)
          if (!memcmp(a[j].addr, b[k].addr, WF_VAL_ADDR_LEN)) new = 0;
        if (!new) continue;
        int64_t p = get(&s, (const char *)b[k].addr)->priority;
        if (added_prio != INT64_MIN) assert_true(p == added_prio);
        added_prio = p;
      }
      for (uint32_t k = 0; k < s.n; k++)
        if (s.v[k].priority != added_prio && s.v[k].priority < others_min)
          others_min = s.v[k].priority;
      assert_true(added_prio < others_min);
    }
  wf_valset_free(&s);
}

/* TestValSetUpdatesOrderIndependenceTestsExecute: every permutation of the changes gives the
 * same set. */
static void update_order_independence(void **unused) {
  (void)unused;
  const struct {
    const char *start, *changes;
  } tc[] = {
      {"v4:40 v3:30 v2:10 v1:10", "v4:44 v3:33 v2:22 v1:11"},
      {"v2:20 v1:10", "v3:30 v4:40 v5:50 v6:60"},
      {"v4:40 v3:30 v2:20 v1:10", "v1:0 v3:0 v4:0"},
      {"v4:40 v3:30 v2:20 v1:10", "v1:0 v3:0 v2:22 v5:50 v4:44"},
  };
  wf_valset s = {0}, ref = {0};
  wf_error err = {0};
  uint64_t x = 2463534242u;
  for (size_t i = 0; i < sizeof tc / sizeof *tc; i++) {
    wf_validator a[16], b[16];
    uint32_t na = parse(tc[i].start, a), nb = parse(tc[i].changes, b);
    assert_int_equal(wf_valset_new(&ref, a, na, &err), 0);
    assert_int_equal(wf_valset_increment(&ref, 3, &err), 0);
    assert_int_equal(wf_valset_copy(&s, &ref, &err), 0);
    assert_int_equal(wf_valset_update(&ref, b, nb, &err), 0);
    for (int perm = 0; perm < 20; perm++) {
      for (uint32_t k = nb - 1; k > 0; k--) { /* Fisher-Yates on xorshift64 */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t j = (uint32_t)(x % (k + 1));
        wf_validator t = b[k];
        b[k] = b[j];
        b[j] = t;
      }
      wf_valset c = {0};
      assert_int_equal(wf_valset_copy(&c, &s, &err), 0);
      assert_int_equal(wf_valset_update(&c, b, nb, &err), 0);
      verify(&c);
      assert_int_equal(c.n, ref.n);
      assert_memory_equal(c.v, ref.v, c.n * sizeof *c.v);
      wf_valset_free(&c);
    }
  }
  wf_valset_free(&s);
  wf_valset_free(&ref);
}

/* The round proposer is CopyIncrementProposerPriority(r)'s, and leaves the set untouched. */
static void round_proposer_is_a_copy(void **unused) {
  (void)unused;
  wf_validator in[] = {val("foo", 1000), val("bar", 300), val("baz", 330)};
  wf_valset s = {0}, scratch = {0}, c = {0};
  wf_error err = {0};
  assert_int_equal(wf_valset_new(&s, in, 3, &err), 0);
  wf_validator before[3];
  memcpy(before, s.v, sizeof before);
  for (int32_t r = 1; r < 50; r++) {
    const wf_validator *p = wf_valset_round_proposer(&s, r, &scratch);
    assert_int_equal(wf_valset_copy(&c, &s, &err), 0);
    assert_int_equal(wf_valset_increment(&c, r, &err), 0);
    assert_string_equal(name_of(p), name_of(wf_valset_proposer(&c)));
  }
  assert_memory_equal(before, s.v, sizeof before);
  /* Round 0 is the height's own proposer (foo, TestProposerSelection1's first). */
  assert_string_equal(name_of(wf_valset_round_proposer(&s, 0, &scratch)), "foo");
  wf_valset_free(&s);
  wf_valset_free(&scratch);
  wf_valset_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clipping_at_int64_bounds),
      cmocka_unit_test(proposer_selection_1),
      cmocka_unit_test(proposer_selection_2),
      cmocka_unit_test(proposer_selection_3),
      cmocka_unit_test(spec_stable_set),
      cmocka_unit_test(spec_new_validator_floor_mean),
      cmocka_unit_test(average_priority),
      cmocka_unit_test(averaging_in_increment),
      cmocka_unit_test(averaging_with_voting_power),
      cmocka_unit_test(rescale_and_center_by_hand),
      cmocka_unit_test(priority_not_reset_to_zero),
      cmocka_unit_test(proposer_alternates),
      cmocka_unit_test(proposer_frequency),
      cmocka_unit_test(update_errors_leave_set_unchanged),
      cmocka_unit_test(construction_errors),
      cmocka_unit_test(update_results),
      cmocka_unit_test(update_overflow_related),
      cmocka_unit_test(update_priority_order),
      cmocka_unit_test(update_order_independence),
      cmocka_unit_test(round_proposer_is_a_copy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
