/* One validator's Tendermint state machine (tendermint.h). Line numbers refer to Algorithm 1 of
 * arXiv:1807.04938; "CometBFT" points to consensus/state.go where it decides a detail. */
#include "tendermint.h"

#include <stdlib.h>
#include <string.h>

/* Votes from further ahead than this many rounds are dropped: they cannot be honest (a round
 * lasts at least its timeouts) and would make a Byzantine sender allocate without bound. */
#define MAX_ROUNDS_AHEAD 64

static wf_time timeout_of(const tm_state *s, int kind, int32_t r) {
  switch (kind) {
  case TM_TIMEOUT_PROPOSE:
    return s->to.propose + (wf_time)r * s->to.propose_delta;
  case TM_TIMEOUT_PREVOTE:
    return s->to.prevote + (wf_time)r * s->to.prevote_delta;
  default:
    return s->to.precommit + (wf_time)r * s->to.precommit_delta;
  }
}

static void free_rounds(tm_state *s) {
  for (int32_t r = 0; r < s->nrounds; r++)
    for (int t = 0; t < 2; t++) free(s->rounds[r].votes[t].by_val), free(s->rounds[r].votes[t].conflicts);
  free(s->rounds);
  s->rounds = NULL;
  s->nrounds = 0;
}

/* Round r's data, created (with every round before it) on first use; NULL without memory. */
static tm_round *round_at(tm_state *s, int32_t r) {
  if (r < s->nrounds) return &s->rounds[r];
  tm_round *rs = realloc(s->rounds, ((size_t)r + 1) * sizeof *rs);
  if (!rs) return NULL;
  s->rounds = rs;
  for (; s->nrounds <= r; s->nrounds++) {
    tm_round *x = &rs[s->nrounds];
    memset(x, 0, sizeof *x);
    x->proposal_pol = -1;
    x->polka_seen = 0;
    x->votes[0].by_val = calloc(s->n, sizeof(tm_value));
    x->votes[1].by_val = calloc(s->n, sizeof(tm_value));
    if (!x->votes[0].by_val || !x->votes[1].by_val) {
      free(x->votes[0].by_val), free(x->votes[1].by_val);
      return NULL;
    }
  }
  return &rs[r];
}

const tm_round *tm_round_of(const tm_state *s, int32_t round) {
  return round >= 0 && round < s->nrounds ? &s->rounds[round] : NULL;
}

/* The value with +2/3 of the power in v, if any. */
static int majority(const tm_state *s, const tm_votes *v, tm_value *out) {
  for (uint32_t i = 0; i < v->nval; i++)
    if (tm_quorum(v->power[i], s->total)) {
      *out = v->val[i];
      return 1;
    }
  return 0;
}

/* Counts who's vote for val in the value's tally (and in `any` for a first vote). */
static void tally(tm_state *s, tm_votes *v, uint32_t who, tm_value val) {
  uint32_t i = 0;
  while (i < v->nval && v->val[i] != val) i++;
  if (i == v->nval) {
    if (v->nval == 4) return; /* a fifth value (only Byzantine voters make one): counts as any */
    v->val[v->nval++] = val;
  }
  v->power[i] += s->power[who];
}

static void add(tm_state *s, tm_votes *v, uint32_t who, tm_value val) {
  v->by_val[who] = val + 1;
  v->any += s->power[who];
  tally(s, v, who, val);
}

int tm_majority(const tm_state *s, int32_t round, int type, tm_value *v) {
  return round >= 0 && round < s->nrounds && (type == TM_PREVOTE || type == TM_PRECOMMIT) &&
         majority(s, &s->rounds[round].votes[type], v);
}

/* Signs and broadcasts this validator's vote, counting it at once (CometBFT's signAddVote). */
/* A node that is not a validator (a full node) steps through the same rounds without voting. */
static void cast(tm_state *s, int type, tm_value v) {
  if (s->me < s->n) {
    tm_round *rd = round_at(s, s->round);
    if (rd && !rd->votes[type].by_val[s->me]) add(s, &rd->votes[type], s->me, v);
    s->host->vote(s->host->ud, type, s->height, s->round, v);
  }
  s->step = type == TM_PREVOTE ? TM_STEP_PREVOTE : TM_STEP_PRECOMMIT;
}

static void start_round(tm_state *s, int32_t r) {
  s->round = r;
  s->step = TM_STEP_PROPOSE;
  tm_round *rd = round_at(s, r);
  if (!rd) return;
  const tm_host *h = s->host;
  h->new_round(h->ud, s->height, r);
  uint32_t proposer = h->proposer(h->ud, s->height, r); /* asked by non-validators too */
  if (s->me < s->n && proposer == s->me) { /* lines 14-19 */
    tm_value v = s->valid_round >= 0 ? s->valid : h->new_value(h->ud, s->height, r);
    rd->proposal = v;
    rd->proposal_pol = s->valid_round;
    h->propose(h->ud, s->height, r, v, s->valid_round);
  }
  /* CometBFT sets timeout_propose in every round, the proposer's too (enterPropose). */
  h->timeout(h->ud, TM_TIMEOUT_PROPOSE, s->height, r, timeout_of(s, TM_TIMEOUT_PROPOSE, r));
}

/* One pass over the rules that fire on what the machine holds; returns 1 if one fired. */
static int step_rules(tm_state *s) {
  if (s->decided) return 0;
  const tm_host *h = s->host;
  /* Line 49: +2/3 precommits for a value whose block we have, in any round: decide. */
  for (int32_t r = 0; r < s->nrounds; r++) {
    tm_round *rd = &s->rounds[r];
    tm_value v;
    if (rd->proposal != TM_NIL && majority(s, &rd->votes[TM_PRECOMMIT], &v) && v == rd->proposal) {
      s->decided = 1;
      s->step = TM_STEP_COMMIT;
      h->decide(h->ud, s->height, r, v);
      return 1;
    }
  }
  /* CometBFT: +2/3 of any votes of a later round moves there (line 55 asks f+1). */
  for (int32_t r = s->round + 1; r < s->nrounds; r++) {
    tm_round *rd = &s->rounds[r];
    if (tm_quorum(rd->votes[0].any, s->total) || tm_quorum(rd->votes[1].any, s->total)) {
      start_round(s, r);
      return 1;
    }
  }
  tm_round *rd = round_at(s, s->round);
  if (!rd) return 0;
  tm_value v;
  if (s->step == TM_STEP_PROPOSE && rd->proposal != TM_NIL) {
    tm_value p = rd->proposal;
    int32_t pol = rd->proposal_pol;
    if (pol < 0) { /* line 22 */
      cast(s, TM_PREVOTE, s->locked_round < 0 || s->locked == p ? p : TM_NIL);
      return 1;
    }
    /* Line 28: a proposal with a POL round prevotes once that round's polka is seen. */
    if (pol < s->round && majority(s, &s->rounds[pol].votes[TM_PREVOTE], &v) && v == p) {
      cast(s, TM_PREVOTE, s->locked_round <= pol || s->locked == p ? p : TM_NIL);
      return 1;
    }
  }
  tm_votes *pv = &rd->votes[TM_PREVOTE], *pc = &rd->votes[TM_PRECOMMIT];
  if (s->step == TM_STEP_PREVOTE && !pv->any_fired && tm_quorum(pv->any, s->total)) { /* 34 */
    pv->any_fired = 1;
    h->timeout(h->ud, TM_TIMEOUT_PREVOTE, s->height, s->round,
               timeout_of(s, TM_TIMEOUT_PREVOTE, s->round));
    return 1;
  }
  if (s->step >= TM_STEP_PREVOTE && !rd->polka_seen && rd->proposal != TM_NIL &&
      majority(s, pv, &v) && v == rd->proposal) { /* line 36 */
    rd->polka_seen = 1;
    s->valid = v;
    s->valid_round = s->round;
    if (s->step == TM_STEP_PREVOTE) {
      s->locked = v;
      s->locked_round = s->round;
      cast(s, TM_PRECOMMIT, v);
    }
    return 1;
  }
  if (s->step == TM_STEP_PREVOTE && majority(s, pv, &v) && v == TM_NIL) { /* line 44 */
    cast(s, TM_PRECOMMIT, TM_NIL);
    return 1;
  }
  if (!pc->any_fired && tm_quorum(pc->any, s->total)) { /* line 47 */
    pc->any_fired = 1;
    h->timeout(h->ud, TM_TIMEOUT_PRECOMMIT, s->height, s->round,
               timeout_of(s, TM_TIMEOUT_PRECOMMIT, s->round));
    return 1;
  }
  return 0;
}

static void run_rules(tm_state *s) {
  while (step_rules(s)) {
  }
}

int tm_init(tm_state *s, const tm_host *host, const uint64_t *power, uint32_t n, uint32_t me,
            const tm_timeouts *to) {
  memset(s, 0, sizeof *s);
  s->host = host;
  s->power = power;
  s->n = n;
  s->me = me;
  s->to = *to;
  for (uint32_t i = 0; i < n; i++) s->total += power[i];
  s->locked_round = s->valid_round = -1;
  s->round = -1;
  return 0;
}

void tm_free(tm_state *s) {
  free_rounds(s);
}

void tm_start_height(tm_state *s, int64_t height) {
  free_rounds(s);
  s->height = height;
  s->locked = s->valid = TM_NIL;
  s->locked_round = s->valid_round = -1;
  s->decided = 0;
  start_round(s, 0);
  run_rules(s);
}

void tm_proposal(tm_state *s, int64_t height, int32_t round, tm_value v, int32_t pol_round) {
  if (height != s->height || s->decided || round < 0 || round > s->round + MAX_ROUNDS_AHEAD ||
      v == TM_NIL || pol_round >= round)
    return;
  tm_round *rd = round_at(s, round);
  if (!rd) return;
  /* The first proposal of a round stands, unless +2/3 precommitted another block there: then
   * that block is the one to commit (consensus/state.go enterCommit fetches it). */
  tm_value maj;
  if (rd->proposal != TM_NIL &&
      !(majority(s, &rd->votes[TM_PRECOMMIT], &maj) && maj == v && rd->proposal != v))
    return;
  rd->proposal = v;
  rd->proposal_pol = pol_round;
  run_rules(s);
}

void tm_vote(tm_state *s, uint32_t validator, int type, int64_t height, int32_t round,
             tm_value v) {
  if (height != s->height || validator >= s->n || round < 0 ||
      round > s->round + MAX_ROUNDS_AHEAD || (type != TM_PREVOTE && type != TM_PRECOMMIT))
    return;
  tm_round *rd = round_at(s, round);
  if (!rd) return;
  tm_votes *vs = &rd->votes[type];
  tm_value had = vs->by_val[validator];
  if (had == v + 1) return; /* a copy */
  if (had) { /* a second, different vote: evidence */
    for (uint32_t i = 0; i < vs->nconflicts; i++)
      if (vs->conflicts[i].validator == validator && vs->conflicts[i].v == v) return;
    tm_conflict *c = realloc(vs->conflicts, (vs->nconflicts + 1) * sizeof *c);
    if (!c) return;
    vs->conflicts = c;
    vs->conflicts[vs->nconflicts++] = (tm_conflict){validator, v};
    s->host->equivocation(s->host->ud, validator, type, height, round);
    /* Each block's tally counts a validator once, whatever else it signed (CometBFT's
     * votesByBlock; it waits for a peer to claim +2/3 for that block, which this skips):
     * quorum intersection keeps two blocks from both reaching +2/3 while at most 1/3 of the
     * power is Byzantine, and a node that counted a liar's other vote first can still see
     * the block the rest committed. `any` counts each validator once. */
    tally(s, vs, validator, v);
    run_rules(s);
    return;
  }
  add(s, vs, validator, v);
  run_rules(s);
}

void tm_timeout(tm_state *s, int kind, int64_t height, int32_t round) {
  if (height != s->height || s->decided) return;
  if (kind == TM_TIMEOUT_PROPOSE && round == s->round && s->step == TM_STEP_PROPOSE)
    cast(s, TM_PREVOTE, TM_NIL); /* line 57 */
  else if (kind == TM_TIMEOUT_PREVOTE && round == s->round && s->step == TM_STEP_PREVOTE)
    cast(s, TM_PRECOMMIT, TM_NIL); /* line 61 */
  else if (kind == TM_TIMEOUT_PRECOMMIT && round == s->round)
    start_round(s, round + 1); /* line 65 */
  else
    return;
  run_rules(s);
}

void tm_resume(tm_state *s) {
  if (s->decided || s->round < 0 || s->round >= s->nrounds) return;
  const tm_host *h = s->host;
  tm_round *rd = &s->rounds[s->round];
  if (s->step == TM_STEP_PROPOSE)
    h->timeout(h->ud, TM_TIMEOUT_PROPOSE, s->height, s->round,
               timeout_of(s, TM_TIMEOUT_PROPOSE, s->round));
  if (s->step == TM_STEP_PREVOTE && rd->votes[TM_PREVOTE].any_fired)
    h->timeout(h->ud, TM_TIMEOUT_PREVOTE, s->height, s->round,
               timeout_of(s, TM_TIMEOUT_PREVOTE, s->round));
  if (rd->votes[TM_PRECOMMIT].any_fired)
    h->timeout(h->ud, TM_TIMEOUT_PRECOMMIT, s->height, s->round,
               timeout_of(s, TM_TIMEOUT_PRECOMMIT, s->round));
  run_rules(s);
}
