/* Tendermint consensus as CometBFT runs it: one validator's state machine (heights, rounds,
 * steps, locks, timeouts), fed with proposals, complete blocks and votes, telling its host what
 * to broadcast, which timeouts to set and what it decided. It knows nothing of networks or of
 * the engine: the host (models/chain.c) delivers messages and fires timeouts.
 *
 * The rules are Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic,
 * arXiv:1807.04938) as CometBFT v1 implements it (consensus/state.go), with CometBFT's choices
 * where the paper leaves room: the proposer of round r is the validator set's proposer after r
 * increments of the priorities (protocols/valset.h); a validator prevotes only once it has the
 * whole proposed block; +2/3 of any prevotes (precommits) of a round starts timeout_prevote
 * (timeout_precommit); +2/3 of any votes of a later round moves to that round; timeouts grow
 * by a delta per round; after a decision the next height starts timeout_commit after the
 * moment +2/3 precommits were seen. */
#ifndef WF_TENDERMINT_H
#define WF_TENDERMINT_H

#include <stdint.h>

#include "../sim/simtime.h"

/* A proposed value (block) by its id; 0 is nil. */
typedef uint32_t tm_value;
#define TM_NIL 0u

enum { TM_PREVOTE = 0, TM_PRECOMMIT = 1 };
typedef enum {
  TM_STEP_NEW_HEIGHT, /* waiting out timeout_commit */
  TM_STEP_PROPOSE,
  TM_STEP_PREVOTE,
  TM_STEP_PRECOMMIT,
  TM_STEP_COMMIT /* decided; waiting for the host to start the next height */
} tm_step;
enum { TM_TIMEOUT_PROPOSE, TM_TIMEOUT_PREVOTE, TM_TIMEOUT_PRECOMMIT, TM_TIMEOUT_COMMIT };

typedef struct tm_timeouts {
  wf_time propose, propose_delta, prevote, prevote_delta, precommit, precommit_delta, commit;
} tm_timeouts;

/* The votes of one type in one round of the current height. */
/* A validator's second, different vote in one (round, type): Byzantine. */
typedef struct tm_conflict {
  uint32_t validator;
  tm_value v;
} tm_conflict;

typedef struct tm_votes {
  tm_value *by_val;   /* what each validator voted first (value + 1, 0: no vote yet) */
  tm_conflict *conflicts; /* its later, different votes */
  uint32_t nconflicts;
  uint64_t any;       /* power that voted */
  tm_value val[4];    /* the distinct values voted for (nil included) */
  uint64_t power[4];
  uint32_t nval;
  uint8_t any_fired;  /* +2/3 any seen (its timeout set) */
} tm_votes;

typedef struct tm_round {
  tm_votes votes[2];
  tm_value proposal;    /* TM_NIL until a proposal for this round is complete */
  int32_t proposal_pol; /* its POL round, -1 for none */
  uint8_t polka_seen;   /* line 36 has fired for this round */
} tm_round;

/* What the state machine asks of its host. */
typedef struct tm_host {
  void *ud;
  /* Entered round `round` of `height` (CometBFT announces it to its peers: NewRoundStep). */
  void (*new_round)(void *ud, int64_t height, int32_t round);
  /* The proposer of (height, round): a validator index. */
  uint32_t (*proposer)(void *ud, int64_t height, int32_t round);
  /* A new block to propose at (height, round). */
  tm_value (*new_value)(void *ud, int64_t height, int32_t round);
  /* Broadcast a proposal (the host sends the block with it) and a vote. The machine has
   * already counted them for itself, as CometBFT's signAddVote does. */
  void (*propose)(void *ud, int64_t height, int32_t round, tm_value v, int32_t pol_round);
  void (*vote)(void *ud, int type, int64_t height, int32_t round, tm_value v);
  /* Fire tm_timeout(kind, height, round) after `after`. */
  void (*timeout)(void *ud, int kind, int64_t height, int32_t round, wf_time after);
  /* Decided v at height in round; the host finalizes and calls tm_start_height later. */
  void (*decide)(void *ud, int64_t height, int32_t round, tm_value v);
  /* A validator signed two different votes of one type in one round (evidence). */
  void (*equivocation)(void *ud, uint32_t validator, int type, int64_t height, int32_t round);
} tm_host;

typedef struct tm_state {
  const tm_host *host;
  const uint64_t *power; /* per validator */
  uint64_t total;
  uint32_t n, me;        /* validators; this one's index (UINT32_MAX: not a validator) */
  tm_timeouts to;
  int64_t height;
  int32_t round;
  tm_step step;
  tm_value locked, valid;
  int32_t locked_round, valid_round;
  tm_round *rounds; /* rounds [0, nrounds) of this height */
  int32_t nrounds;
  int decided;
} tm_state;

/* ---- the host calls these ---- */
int tm_init(tm_state *s, const tm_host *host, const uint64_t *power, uint32_t n, uint32_t me,
            const tm_timeouts *to);
void tm_free(tm_state *s);
/* Starts `height` at round 0 now (after timeout_commit, or at genesis). */
void tm_start_height(tm_state *s, int64_t height);
/* A complete proposal (the proposal message and every part of its block) for (height, round).
 * Messages of other heights are the host's to keep or drop. */
void tm_proposal(tm_state *s, int64_t height, int32_t round, tm_value v, int32_t pol_round);
void tm_vote(tm_state *s, uint32_t validator, int type, int64_t height, int32_t round, tm_value v);
void tm_timeout(tm_state *s, int kind, int64_t height, int32_t round);
/* After a restart (the process was down, its timers lost; its state came back from the WAL):
 * sets again the timeouts the current step waits on, then applies the rules. */
void tm_resume(tm_state *s);
/* The value with +2/3 of the power among the votes of `type` in `round`, if any. */
int tm_majority(const tm_state *s, int32_t round, int type, tm_value *v);
/* The round's data (NULL when the round is beyond what the machine has seen). */
const tm_round *tm_round_of(const tm_state *s, int32_t round);
/* +2/3 of the total power: the quorum CometBFT requires (power * 3 > total * 2). */
static inline int tm_quorum(uint64_t power, uint64_t total) {
  __extension__ typedef unsigned __int128 u128;
  return (u128)power * 3 > (u128)total * 2;
}

#endif
