/* Fee markets as Cosmos chains run them with x/feemarket (github.com/skip-mev/feemarket,
 * x/feemarket/types/state.go and params.go, keeper/feemarket.go, ante/fee.go): EIP-1559 with a
 * fixed learning rate, its AIMD variant (the learning rate grows additively when the window's
 * blocks are nearly empty or nearly full and shrinks multiplicatively otherwise), and a fixed
 * minimum gas price. Pure: a params struct, a state struct and the end-of-block update.
 *
 * Arithmetic: cosmos LegacyDec, exactly. The module computes in 18-decimal fixed point with
 * round-half-even after each multiplication and division, so a price sequence drifts from the
 * real-number formula by an ulp a step; doubles would drift differently and compare unequal to
 * the chain's own numbers (and to the module's tests, which this file reproduces bit for bit).
 * A wf_dec is the LegacyDec's integer (value x 10^18) in 128 bits, intermediate products in 256.
 * The range is +-1.7e20 whole units (LegacyDec's is +-2^256): a result beyond it is an error
 * from the update, not a wrap (the module would go on, and reset to the minimum only past
 * 2^256). models/README.md says what is checked against what. */
#ifndef WF_FEEMARKET_H
#define WF_FEEMARKET_H

#include <stdint.h>

#include "../sim/error.h"

__extension__ typedef __int128 wf_dec;
#define WF_DEC_ONE ((wf_dec)1000000000000000000LL)
/* A whole number as a wf_dec (LegacyNewDec). */
#define WF_DEC(n) ((wf_dec)(n) * WF_DEC_ONE)

/* LegacyNewDecFromStr: "-12.345", at most 18 decimals. Fails on anything else or out of range. */
int wf_dec_parse(const char *text, wf_dec *out, wf_error *err);
/* LegacyDec.String: always 18 decimals ("1.125000000000000000"); buf of at least 48 bytes. */
const char *wf_dec_format(wf_dec d, char *buf);
/* LegacyDec Mul and Quo: exact product/quotient rounded half to even at 18 decimals (Quo
 * truncates at 36 first, as the module does). Return -1 on a result out of range or a zero
 * divisor. */
int wf_dec_mul(wf_dec a, wf_dec b, wf_dec *out);
int wf_dec_quo(wf_dec a, wf_dec b, wf_dec *out);
double wf_dec_to_double(wf_dec d);

typedef enum wf_fee_kind {
  WF_FEE_EIP1559, /* feemarket's DefaultParams: window 1, learning rate fixed at 0.125 */
  WF_FEE_AIMD,    /* DefaultAIMDParams */
  WF_FEE_FIXED,   /* the module disabled: the price stays at min_base_gas_price */
} wf_fee_kind;

/* x/feemarket/types/params.go Params (FeeDenom and Enabled aside: `kind` says the latter). */
typedef struct wf_feemarket_params {
  wf_fee_kind kind;
  uint64_t window;       /* blocks in the utilisation window */
  wf_dec alpha;          /* additive increase of the learning rate */
  wf_dec beta;           /* multiplicative decrease, in [0, 1] */
  wf_dec gamma;          /* threshold: mean utilisation <= gamma or >= 1 - gamma increases; [0, 0.5] */
  wf_dec delta;          /* price change per unit of net gas over the window */
  uint64_t max_block_utilization; /* gas; the target is half of it (integer division) */
  wf_dec min_base_gas_price;
  wf_dec min_learning_rate, max_learning_rate;
} wf_feemarket_params;

/* eip1559.go DefaultParams: window 1, alpha 0, beta 1, gamma 0, delta 0, max 30,000,000 gas,
 * min base gas price 1, learning rate in [0.125, 0.125]. */
wf_feemarket_params wf_feemarket_eip1559(void);
/* eip1559_aimd.go DefaultAIMDParams: window 8, alpha 0.025, beta 0.95, gamma 0.25, delta 0,
 * max 30,000,000 gas, min base gas price 1,000,000,000, learning rate in [0.01, 0.50]. */
wf_feemarket_params wf_feemarket_aimd(void);
/* A fixed minimum gas price (the module disabled, as a chain without it uses min-gas-prices):
 * window 1, max 30,000,000 gas, learning rate 0. */
wf_feemarket_params wf_feemarket_fixed(wf_dec gas_price);
/* params.go ValidateBasic, with its messages. */
int wf_feemarket_params_check(const wf_feemarket_params *p, wf_error *err);

/* x/feemarket/types/state.go State: the price, the learning rate, and the gas used by each block
 * of the window (window[index] is the current block's). */
typedef struct wf_feemarket {
  wf_dec base_gas_price, learning_rate;
  uint64_t *window;
  uint64_t window_len, index;
} wf_feemarket;

/* NewState as DefaultState / DefaultAIMDState make it: an empty window, the price at the
 * minimum, the learning rate at its minimum. Checks the params first. */
int wf_feemarket_init(wf_feemarket *s, const wf_feemarket_params *p, wf_error *err);
void wf_feemarket_free(wf_feemarket *s);

/* State.Update (called by post/fee.go for each transaction): adds the gas a transaction used to
 * the current block; fails, changing nothing, when the block would exceed the maximum. */
int wf_feemarket_add_gas(wf_feemarket *s, const wf_feemarket_params *p, uint64_t gas,
                         wf_error *err);
/* keeper/feemarket.go UpdateFeeMarket, at the end of each block: the learning rate, then the base
 * price from it, then the window moves on (its next slot cleared). A fixed market keeps its
 * price and learning rate; its window still records the blocks' gas and moves on (the module,
 * disabled, would not track them: here the block limit still holds). Fails only when a value
 * leaves the range of wf_dec (the state is then unchanged). */
int wf_feemarket_end_block(wf_feemarket *s, const wf_feemarket_params *p, wf_error *err);
/* add_gas(block_gas_used), then end_block: one block. */
int wf_feemarket_update(wf_feemarket *s, const wf_feemarket_params *p, uint64_t block_gas_used,
                        wf_error *err);

/* The steps of end_block on their own, as the module's tests call them. */
int wf_feemarket_update_learning_rate(wf_feemarket *s, const wf_feemarket_params *p,
                                      wf_error *err);
int wf_feemarket_update_base_gas_price(wf_feemarket *s, const wf_feemarket_params *p,
                                       wf_error *err);
void wf_feemarket_increment_height(wf_feemarket *s);
/* GetAverageUtilization (the window's gas over window x max) and GetNetUtilization (the sum of
 * gas - target over the window, a whole number, as a wf_dec). -1 if out of range. */
int wf_feemarket_average_utilization(const wf_feemarket *s, const wf_feemarket_params *p,
                                     wf_dec *out);
int wf_feemarket_net_utilization(const wf_feemarket *s, const wf_feemarket_params *p,
                                 wf_dec *out);

/* The fee a transaction must offer for `gas`: ceil(base price x gas), a whole number of the fee
 * denom's units, as a wf_dec (ante/fee.go CheckTxFee; the post handler charges the same for the
 * gas consumed and pays the rest of the offered fee to the proposer as a tip). -1 if out of
 * range. */
int wf_feemarket_required_fee(const wf_feemarket *s, uint64_t gas, wf_dec *fee);

#endif
