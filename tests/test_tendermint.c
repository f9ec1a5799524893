/* One validator's Tendermint state machine alone, with a host that records what it is asked:
 * Algorithm 1's rules line by line (arXiv:1807.04938), with the expected calls worked out from
 * the paper, not from the code. Four validators of power 1: +2/3 is 3 votes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../protocols/tendermint.h"

typedef struct call {
  char what;  /* 'p'ropose, 'v'ote, 't'imeout, 'd'ecide, 'e'quivocation, 'r'ound */
  int type;   /* vote type or timeout kind */
  int64_t h;
  int32_t r;
  tm_value v;
  int32_t pol;
} call;

typedef struct host {
  call calls[64];
  int n;
  uint32_t proposer_base; /* proposer of (h, r) is (base + r) % 4 */
} host;

static void rec(host *h, call c) {
  if (h->n < 64) h->calls[h->n++] = c;
}
static void on_round(void *ud, int64_t h, int32_t r) {
  rec(ud, (call){'r', 0, h, r, 0, 0});
}
static uint32_t proposer(void *ud, int64_t h, int32_t r) {
  (void)h;
  return (((host *)ud)->proposer_base + (uint32_t)r) % 4;
}
static tm_value new_value(void *ud, int64_t h, int32_t r) {
  (void)ud, (void)h;
  return 100 + (tm_value)r;
}
static void propose(void *ud, int64_t h, int32_t r, tm_value v, int32_t pol) {
  rec(ud, (call){'p', 0, h, r, v, pol});
}
static void vote(void *ud, int type, int64_t h, int32_t r, tm_value v) {
  rec(ud, (call){'v', type, h, r, v, 0});
}
static void timeout(void *ud, int kind, int64_t h, int32_t r, wf_time after) {
  (void)after;
  rec(ud, (call){'t', kind, h, r, 0, 0});
}
static void decide(void *ud, int64_t h, int32_t r, tm_value v) {
  rec(ud, (call){'d', 0, h, r, v, 0});
}
static void equivocation(void *ud, uint32_t who, int type, int64_t h, int32_t r) {
  rec(ud, (call){'e', type, h, r, who, 0});
}

static const uint64_t power[4] = {1, 1, 1, 1};
static const tm_timeouts to = {3, 1, 1, 1, 1, 1, 1};

static tm_host make_host(host *h) {
  return (tm_host){h, on_round, proposer, new_value, propose, vote, timeout, decide, equivocation};
}

/* The last call of a kind, or NULL. */
static const call *last(const host *h, char what) {
  for (int i = h->n; i-- > 0;)
    if (h->calls[i].what == what) return &h->calls[i];
  return NULL;
}

static int count(const host *h, char what) {
  int k = 0;
  for (int i = 0; i < h->n; i++) k += h->calls[i].what == what;
  return k;
}

/* Validator 0, not the proposer of round 0 (validator 1 is). */
static void setup(tm_state *s, host *h, tm_host *th, uint32_t me) {
  memset(h, 0, sizeof *h);
  h->proposer_base = 1;
  *th = make_host(h);
  tm_init(s, th, power, 4, me, &to);
  tm_start_height(s, 1);
}

static void votes(tm_state *s, int type, int32_t r, tm_value v, uint32_t from, uint32_t to_) {
  for (uint32_t i = from; i <= to_; i++) tm_vote(s, i, type, 1, r, v);
}

static void prevote_lock_precommit_decide(void **unused) {
  (void)unused;
  tm_state s;
  host h;
  tm_host th;
  setup(&s, &h, &th, 0);
  /* Round 0 started: a timeout_propose is set (CometBFT sets it for everyone). */
  assert_int_equal(last(&h, 't')->type, TM_TIMEOUT_PROPOSE);
  tm_proposal(&s, 1, 0, 7, -1); /* line 22: not locked: prevote the proposal */
  assert_int_equal(last(&h, 'v')->type, TM_PREVOTE);
  assert_int_equal(last(&h, 'v')->v, 7);
  votes(&s, TM_PREVOTE, 0, 7, 1, 2); /* with ours, 3 prevotes for 7: a polka (line 36) */
  assert_int_equal(last(&h, 'v')->type, TM_PRECOMMIT);
  assert_int_equal(last(&h, 'v')->v, 7);
  assert_int_equal(s.locked, 7);
  assert_int_equal(s.locked_round, 0);
  assert_int_equal(s.valid, 7);
  votes(&s, TM_PRECOMMIT, 0, 7, 1, 2); /* 3 precommits for 7: decide (line 49) */
  assert_int_equal(last(&h, 'd')->v, 7);
  assert_int_equal(last(&h, 'd')->r, 0);
  tm_free(&s);
}

static void locked_validator_prevotes_nil_for_another_block(void **unused) {
  (void)unused;
  tm_state s;
  host h;
  tm_host th;
  setup(&s, &h, &th, 0);
  tm_proposal(&s, 1, 0, 7, -1);
  votes(&s, TM_PREVOTE, 0, 7, 1, 2); /* locked on 7 in round 0 */
  votes(&s, TM_PRECOMMIT, 0, TM_NIL, 1, 3); /* but the others precommit nil */
  /* +2/3 precommits of any kind: timeout_precommit; when it fires, round 1 starts. */
  assert_int_equal(last(&h, 't')->type, TM_TIMEOUT_PRECOMMIT);
  assert_int_equal(tm_timeout(&s, TM_TIMEOUT_PRECOMMIT, 1, 0), 1);
  assert_int_equal(s.round, 1);
  /* A new block in round 1 (no POL round): locked on 7, it prevotes nil (line 22). */
  tm_proposal(&s, 1, 1, 8, -1);
  assert_int_equal(last(&h, 'v')->type, TM_PREVOTE);
  assert_int_equal(last(&h, 'v')->r, 1);
  assert_int_equal(last(&h, 'v')->v, TM_NIL);
  tm_free(&s);
}

static void proposal_with_a_pol_round(void **unused) {
  (void)unused;
  tm_state s;
  host h;
  tm_host th;
  setup(&s, &h, &th, 0);
  /* Round 0: a polka for 7 (we prevoted it), but we see the others' prevotes only after we
   * precommitted nil at timeout_prevote; round 1 passes; in round 2 the proposer re-proposes 7
   * with POL round 0. Locked in no round (-1 <= 0), we prevote 7 (line 28). */
  tm_proposal(&s, 1, 0, 7, -1);
  tm_vote(&s, 1, TM_PREVOTE, 1, 0, TM_NIL);
  tm_vote(&s, 2, TM_PREVOTE, 1, 0, TM_NIL); /* 3 prevotes of any kind */
  assert_int_equal(last(&h, 't')->type, TM_TIMEOUT_PREVOTE);
  tm_timeout(&s, TM_TIMEOUT_PREVOTE, 1, 0); /* line 61: precommit nil */
  assert_int_equal(last(&h, 'v')->type, TM_PRECOMMIT);
  assert_int_equal(last(&h, 'v')->v, TM_NIL);
  assert_int_equal(s.locked_round, -1);
  votes(&s, TM_PRECOMMIT, 0, TM_NIL, 1, 2);
  tm_timeout(&s, TM_TIMEOUT_PRECOMMIT, 1, 0);
  votes(&s, TM_PRECOMMIT, 1, TM_NIL, 1, 3);
  tm_timeout(&s, TM_TIMEOUT_PRECOMMIT, 1, 1);
  assert_int_equal(s.round, 2);
  /* The re-proposal arrives before the polka of round 0 is known: no prevote yet. */
  int before = count(&h, 'v');
  tm_proposal(&s, 1, 2, 7, 0);
  assert_int_equal(count(&h, 'v'), before);
  tm_vote(&s, 3, TM_PREVOTE, 1, 0, 7);
  tm_vote(&s, 1, TM_PREVOTE, 1, 0, 7); /* conflicting with its nil: evidence, and counted for 7 */
  assert_int_equal(last(&h, 'e')->v, 1);
  assert_int_equal(last(&h, 'v')->r, 2);
  assert_int_equal(last(&h, 'v')->type, TM_PREVOTE);
  assert_int_equal(last(&h, 'v')->v, 7);
  tm_free(&s);
}

static void later_round_and_stale_timeouts(void **unused) {
  (void)unused;
  tm_state s;
  host h;
  tm_host th;
  setup(&s, &h, &th, 0);
  /* +2/3 of any votes of round 3 move us there (CometBFT's rule). */
  votes(&s, TM_PREVOTE, 3, 9, 1, 3);
  assert_int_equal(s.round, 3);
  assert_int_equal(last(&h, 'r')->r, 3);
  /* A timeout of round 0 arriving now does nothing, and says so. */
  assert_int_equal(tm_timeout(&s, TM_TIMEOUT_PROPOSE, 1, 0), 0);
  /* Round 3's proposer is (1 + 3) % 4 = 0: us. We proposed a new block 103. */
  const call *p = last(&h, 'p');
  assert_non_null(p);
  assert_int_equal(p->r, 3);
  assert_int_equal(p->v, 103);
  tm_free(&s);
}

static void resume_sets_the_step_timer_again(void **unused) {
  (void)unused;
  tm_state s;
  host h;
  tm_host th;
  setup(&s, &h, &th, 0);
  h.n = 0; /* forget the start */
  tm_resume(&s); /* in round 0's propose step: its timeout again */
  assert_int_equal(count(&h, 't'), 1);
  assert_int_equal(last(&h, 't')->type, TM_TIMEOUT_PROPOSE);
  tm_free(&s);
}

static void a_non_validator_never_votes(void **unused) {
  (void)unused;
  tm_state s;
  host h;
  tm_host th;
  setup(&s, &h, &th, UINT32_MAX);
  tm_proposal(&s, 1, 0, 7, -1);
  votes(&s, TM_PREVOTE, 0, 7, 0, 2);
  votes(&s, TM_PRECOMMIT, 0, 7, 0, 2);
  assert_int_equal(count(&h, 'v'), 0);
  assert_int_equal(count(&h, 'p'), 0);
  assert_int_equal(last(&h, 'd')->v, 7); /* it still commits what the validators decided */
  tm_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(prevote_lock_precommit_decide),
      cmocka_unit_test(locked_validator_prevotes_nil_for_another_block),
      cmocka_unit_test(proposal_with_a_pol_round),
      cmocka_unit_test(later_round_and_stale_timeouts),
      cmocka_unit_test(resume_sets_the_step_timer_again),
      cmocka_unit_test(a_non_validator_never_votes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
