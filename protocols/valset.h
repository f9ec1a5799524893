/* CometBFT's validator set and proposer selection, reproduced exactly: the weighted
 * round-robin of types/validator_set.go (IncrementProposerPriority with its rescaling and
 * centering, int64 arithmetic clipped at the bounds as safeAddClip / safeSubClip do), the
 * construction of NewValidatorSet and the changes of UpdateWithChangeSet (additions at
 * -1.125 x the total power, power changes, removals). Pure: no engine, no allocation beyond the
 * set's own array. protocols/README.md says what is checked against what. */
#ifndef WF_VALSET_H
#define WF_VALSET_H

#include <stdint.h>

#include "../sim/error.h"

/* Addresses are fixed-size (CometBFT's are the 20-byte hash of the public key) and compare as
 * bytes.Compare compares them; shorter names in tests are zero-padded. */
#define WF_VAL_ADDR_LEN 20
/* types/validator_set.go MaxTotalVotingPower: small enough that neither the -1.125 x total of a
 * new validator nor the rescaling's (diff + 2 x total - 1) can overflow. */
#define WF_VALSET_MAX_TOTAL_POWER (INT64_MAX / 8)
/* types/validator_set.go PriorityWindowSizeFactor: priorities are rescaled to stay within
 * this many times the total power of each other. */
#define WF_VALSET_WINDOW_FACTOR 2

typedef struct wf_validator {
  uint8_t addr[WF_VAL_ADDR_LEN];
  int64_t power;    /* > 0 in a set built by wf_valset_new or changed by wf_valset_update */
  int64_t priority; /* the proposer priority ("accum") */
} wf_validator;

/* A set, sorted as CometBFT keeps it (power descending, then address ascending), so indices are
 * those of CometBFT's ValidatorSet.Validators. Zero-initialise before the first use; the set
 * owns `v` (wf_valset_free). */
typedef struct wf_valset {
  wf_validator *v;
  uint32_t n, cap;
  int64_t total; /* total voting power, <= WF_VALSET_MAX_TOTAL_POWER */
  /* The last elected proposer, by address, as ValidatorSet.Proposer: set by an increment and
   * left as is by an update (as CometBFT leaves it); unset until the first election, when
   * wf_valset_proposer finds the one with the highest priority. */
  int has_proposer;
  uint8_t proposer[WF_VAL_ADDR_LEN];
} wf_valset;

/* Int64 arithmetic saturating at the bounds (validator_set.go safeAddClip, safeSubClip), and
 * safeMul's product with its overflow flag (the product is 0 on overflow). */
int64_t wf_safe_add_clip(int64_t a, int64_t b);
int64_t wf_safe_sub_clip(int64_t a, int64_t b);
int64_t wf_safe_mul(int64_t a, int64_t b, int *overflow);

/* NewValidatorSet: the set of `vals` (their priorities are ignored), every validator starting
 * at -(T + T>>3) for the total T, rescaled, centered, then one election (the set's first
 * proposer). n = 0 gives the empty set. Fails, leaving `s` empty, on a duplicate address, a
 * power <= 0 or above the maximum, or a total above WF_VALSET_MAX_TOTAL_POWER. `s` may hold an
 * earlier set (its array is reused). */
int wf_valset_new(wf_valset *s, const wf_validator *vals, uint32_t n, wf_error *err);
/* A set exactly as given (priorities kept, no election), as CometBFT rebuilds a stored set or a
 * test writes a ValidatorSet literal; the proposer is found at the first wf_valset_proposer.
 * Powers may be 0 here (CometBFT's ValidateBasic allows it); refused: n = 0, negative power,
 * duplicate address, total above the maximum. */
int wf_valset_from(wf_valset *s, const wf_validator *vals, uint32_t n, wf_error *err);
void wf_valset_free(wf_valset *s);
/* dst becomes a copy of src (dst zero-initialised or holding an earlier set). */
int wf_valset_copy(wf_valset *dst, const wf_valset *src, wf_error *err);

/* IncrementProposerPriority(times): rescale so that max - min priority <= 2 x total, center on
 * the floor of the mean, then `times` elections (each priority += its power, the highest
 * priority wins with ties to the lower address, the winner -= the total). Fails on an empty set
 * or times <= 0 (CometBFT panics). */
int wf_valset_increment(wf_valset *s, int32_t times, wf_error *err);
/* RescalePriorities(diff_max): if max - min > diff_max, divide every priority by
 * ceil((max - min) / diff_max), truncating as Go's `/`. Nothing for diff_max <= 0. */
void wf_valset_rescale(wf_valset *s, int64_t diff_max);
/* computeAvgProposerPriority: the floor of the mean priority (Go's big.Int Div is Euclidean,
 * the floor for a positive divisor: -13 / 3 = -5). The set must not be empty. */
int64_t wf_valset_avg_priority(const wf_valset *s);

/* GetProposer: the current proposer, or NULL for an empty set (or, unlike CometBFT, which
 * returns the stale validator, when the last proposer was removed by an update and no election
 * has run since: CometBFT's state transition always runs one right after an update). */
const wf_validator *wf_valset_proposer(wf_valset *s);
/* The proposer of round `round` of the height whose round-0 set is `s`: round 0 is `s`'s own,
 * round r > 0 that of CopyIncrementProposerPriority(r), computed in `scratch` (a zero-
 * initialised or reused set; the result points into it or into `s`). NULL on round < 0, an
 * empty set or no memory. Note: consensus/state.go enterNewRound increments its current
 * round's set by (round - current round), so a node that steps 0 -> 1 -> 2 runs
 * increment(1) twice, which can differ from increment(2) once (centering between the two);
 * a model that steps rounds one by one should keep its own set and call wf_valset_increment. */
const wf_validator *wf_valset_round_proposer(const wf_valset *s, int32_t round,
                                             wf_valset *scratch);
/* Index of the validator with this address, or -1. */
int32_t wf_valset_index(const wf_valset *s, const uint8_t addr[WF_VAL_ADDR_LEN]);

/* UpdateWithChangeSet: each change with power 0 removes its validator, any other sets the power
 * of an existing one (its priority kept) or adds a new one at -(T + T>>3), T being the total
 * after the additions and changes but before the removals; then rescale, center and sort. No
 * election (CometBFT's state.updateState runs one right after). On error (duplicate address in
 * the changes, negative or oversized power, removal of an unknown validator, an empty result, a
 * total above the maximum) the set is unchanged. */
int wf_valset_update(wf_valset *s, const wf_validator *changes, uint32_t n, wf_error *err);

#endif
