/* Fee markets as skip-mev/feemarket's x/feemarket computes them (commit e8c942d), in cosmos
 * LegacyDec arithmetic (cosmossdk.io/math legacy_dec.go): see feemarket.h. */
#include "feemarket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define I128_MAX ((wf_dec)(((u128)1 << 127) - 1))
#define P18 ((u128)1000000000000000000ULL)

/* ---- LegacyDec: 256-bit intermediates ---- */

typedef struct u256 {
  u128 hi, lo;
} u256;

static u128 mag(wf_dec a) { return a < 0 ? (u128)0 - (u128)a : (u128)a; }

static u256 mul_128(u128 a, u128 b) {
  const u128 m64 = ((u128)1 << 64) - 1;
  u128 a0 = a & m64, a1 = a >> 64, b0 = b & m64, b1 = b >> 64;
  u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  u128 mid = (p00 >> 64) + (p01 & m64) + (p10 & m64);
  return (u256){.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64),
                .lo = (p00 & m64) | (mid << 64)};
}

/* n / d and n % d by binary long division (d > 0). The remainder may carry out of 128 bits
 * for a moment: the true value is then >= 2^128 > d and the wrapped difference is exact. */
static u256 divmod_256(u256 n, u128 d, u128 *rem) {
  u256 q = {0, 0};
  u128 r = 0;
  for (int i = 255; i >= 0; i--) {
    int carry = (int)(r >> 127);
    u128 bit = i >= 128 ? (n.hi >> (i - 128)) & 1 : (n.lo >> i) & 1;
    r = (r << 1) | bit;
    if (carry || r >= d) {
      r -= d;
      if (i >= 128)
        q.hi |= (u128)1 << (i - 128);
      else
        q.lo |= (u128)1 << i;
    }
  }
  *rem = r;
  return q;
}

/* legacy_dec.go chopPrecisionAndRound on a magnitude: drop 18 digits, round half to even. */
static u256 chop_round(u256 m) {
  u128 r;
  u256 q = divmod_256(m, P18, &r);
  if (r > P18 / 2 || (r == P18 / 2 && (q.lo & 1))) {
    q.lo += 1;
    if (q.lo == 0) q.hi += 1;
  }
  return q;
}

/* A signed result from a magnitude, if it fits. */
static int from_mag(u256 m, int neg, wf_dec *out) {
  if (m.hi || m.lo > (u128)I128_MAX) return -1;
  *out = neg ? -(wf_dec)m.lo : (wf_dec)m.lo;
  return 0;
}

/* LegacyDec.Mul: chopPrecisionAndRound(a x b). */
int wf_dec_mul(wf_dec a, wf_dec b, wf_dec *out) {
  return from_mag(chop_round(mul_128(mag(a), mag(b))), (a < 0) != (b < 0), out);
}

/* LegacyDec.Quo: chopPrecisionAndRound(trunc(a x 10^36 / b)) (big.Int Quo truncates toward
 * zero, and the rounding is symmetric, so sign and magnitude go separately). */
int wf_dec_quo(wf_dec a, wf_dec b, wf_dec *out) {
  if (b == 0) return -1;
  u128 r;
  u256 q = divmod_256(mul_128(mag(a), P18 * P18), mag(b), &r);
  return from_mag(chop_round(q), (a < 0) != (b < 0), out);
}

static int dec_add(wf_dec a, wf_dec b, wf_dec *out) {
  return __builtin_add_overflow(a, b, out) || *out < -I128_MAX ? -1 : 0;
}

static int dec_from_u64(uint64_t n, wf_dec *out) {
  *out = (wf_dec)n * WF_DEC_ONE; /* < 1.9e37: fits */
  return 0;
}

double wf_dec_to_double(wf_dec d) {
  u128 m = mag(d);
  double v = (double)(m / P18) + (double)(m % P18) / 1e18;
  return d < 0 ? -v : v;
}

/* LegacyNewDecFromStr: [-]digits[.digits], 1 to 18 decimals after a point. */
int wf_dec_parse(const char *text, wf_dec *out, wf_error *err) {
  const char *c = text;
  int neg = *c == '-';
  if (neg) c++;
  u128 m = 0;
  int ndigits = 0, ndec = -1;
  for (; *c; c++) {
    if (*c == '.' && ndec < 0) {
      ndec = 0;
      continue;
    }
    if (*c < '0' || *c > '9')
      return wf_error_set(err, "decimal \"%s\": not a number", text);
    if (m > ((u128)I128_MAX - 9) / 10) return wf_error_set(err, "decimal \"%s\": out of range", text);
    m = m * 10 + (u128)(*c - '0');
    if (ndec >= 0)
      ndec++;
    else
      ndigits++;
  }
  if (ndigits == 0 || ndec == 0) return wf_error_set(err, "decimal \"%s\": invalid length", text);
  if (ndec > 18)
    return wf_error_set(err, "decimal \"%s\": more than 18 decimal places", text);
  for (int i = ndec < 0 ? 0 : ndec; i < 18; i++) {
    if (m > (u128)I128_MAX / 10) return wf_error_set(err, "decimal \"%s\": out of range", text);
    m *= 10;
  }
  *out = neg ? -(wf_dec)m : (wf_dec)m;
  return 0;
}

const char *wf_dec_format(wf_dec d, char *buf) {
  u128 m = mag(d), ip = m / P18;
  unsigned long long frac = (unsigned long long)(m % P18);
  char digits[48];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(ip % 10));
    ip /= 10;
  } while (ip);
  char *p = buf;
  if (d < 0) *p++ = '-';
  while (n) *p++ = digits[--n];
  snprintf(p, 21, ".%018llu", frac);
  return buf;
}

/* ---- params ---- */

static wf_feemarket_params base(wf_fee_kind kind) {
  return (wf_feemarket_params){.kind = kind, .window = 1, .max_block_utilization = 30000000};
}

/* x/feemarket/types/eip1559.go DefaultParams. */
wf_feemarket_params wf_feemarket_eip1559(void) {
  wf_feemarket_params p = base(WF_FEE_EIP1559);
  p.alpha = 0;
  p.beta = WF_DEC_ONE;
  p.gamma = 0;
  p.delta = 0;
  p.min_base_gas_price = WF_DEC_ONE;
  p.min_learning_rate = p.max_learning_rate = WF_DEC_ONE / 8; /* 0.125 */
  return p;
}

/* x/feemarket/types/eip1559_aimd.go DefaultAIMDParams. */
wf_feemarket_params wf_feemarket_aimd(void) {
  wf_feemarket_params p = base(WF_FEE_AIMD);
  p.window = 8;
  p.alpha = WF_DEC_ONE / 40;        /* 0.025 */
  p.beta = WF_DEC_ONE / 100 * 95;   /* 0.95 */
  p.gamma = WF_DEC_ONE / 4;         /* 0.25 */
  p.delta = 0;
  p.min_base_gas_price = WF_DEC(1000000000);
  p.min_learning_rate = WF_DEC_ONE / 100; /* 0.01 */
  p.max_learning_rate = WF_DEC_ONE / 2;   /* 0.50 */
  return p;
}

wf_feemarket_params wf_feemarket_fixed(wf_dec gas_price) {
  wf_feemarket_params p = base(WF_FEE_FIXED);
  p.beta = WF_DEC_ONE;
  p.min_base_gas_price = gas_price;
  return p;
}

/* params.go ValidateBasic, in its order. */
int wf_feemarket_params_check(const wf_feemarket_params *p, wf_error *err) {
  if (p->kind != WF_FEE_EIP1559 && p->kind != WF_FEE_AIMD && p->kind != WF_FEE_FIXED)
    return wf_error_set(err, "fee market: unknown kind %d", (int)p->kind);
  if (p->window == 0) return wf_error_set(err, "fee market: window cannot be zero");
  if (p->alpha < 0) return wf_error_set(err, "fee market: alpha must be between [0, inf)");
  if (p->beta < 0 || p->beta > WF_DEC_ONE)
    return wf_error_set(err, "fee market: beta must be between [0, 1]");
  if (p->gamma < 0 || p->gamma > WF_DEC_ONE / 2)
    return wf_error_set(err, "fee market: gamma must be between [0, 0.5]");
  if (p->delta < 0) return wf_error_set(err, "fee market: delta must be between [0, inf)");
  if (p->min_base_gas_price < 0)
    return wf_error_set(err, "fee market: min base gas price must be greater than or equal to zero");
  if (p->min_learning_rate < 0)
    return wf_error_set(err, "fee market: min learning rate cannot be negative");
  if (p->max_block_utilization < 2)
    return wf_error_set(err, "fee market: max block utilization cannot be less than 2 (got %llu)",
                        (unsigned long long)p->max_block_utilization);
  if (p->max_learning_rate < 0)
    return wf_error_set(err, "fee market: max learning rate cannot be negative");
  if (p->min_learning_rate > p->max_learning_rate) {
    char a[48], b[48];
    return wf_error_set(err,
                        "fee market: min learning rate (%s) cannot be greater than max learning "
                        "rate (%s)",
                        wf_dec_format(p->min_learning_rate, a), wf_dec_format(p->max_learning_rate, b));
  }
  return 0;
}

/* ---- state ---- */

int wf_feemarket_init(wf_feemarket *s, const wf_feemarket_params *p, wf_error *err) {
  *s = (wf_feemarket){0};
  if (wf_feemarket_params_check(p, err)) return -1;
  s->window = calloc(p->window, sizeof *s->window);
  if (!s->window)
    return wf_error_set(err, "fee market: out of memory for a window of %llu blocks",
                        (unsigned long long)p->window);
  s->window_len = p->window;
  /* state.go NewState(window, min base gas price, min learning rate), as DefaultState does. */
  s->base_gas_price = p->min_base_gas_price;
  s->learning_rate = p->min_learning_rate;
  return 0;
}

void wf_feemarket_free(wf_feemarket *s) {
  free(s->window);
  *s = (wf_feemarket){0};
}

/* state.go Update. The sum wraps as Go's uint64 does. */
int wf_feemarket_add_gas(wf_feemarket *s, const wf_feemarket_params *p, uint64_t gas,
                         wf_error *err) {
  uint64_t update = s->window[s->index] + gas;
  if (update > p->max_block_utilization)
    return wf_error_set(err,
                        "fee market: block utilization of %llu cannot exceed max block utilization "
                        "of %llu",
                        (unsigned long long)update, (unsigned long long)p->max_block_utilization);
  s->window[s->index] = update;
  return 0;
}

/* state.go IncrementHeight. */
void wf_feemarket_increment_height(wf_feemarket *s) {
  s->index = (s->index + 1) % s->window_len;
  s->window[s->index] = 0;
}

/* state.go GetAverageUtilization: the uint64 sum (wrapping as in Go) over max x len. */
int wf_feemarket_average_utilization(const wf_feemarket *s, const wf_feemarket_params *p,
                                     wf_dec *out) {
  uint64_t total = 0;
  for (uint64_t i = 0; i < s->window_len; i++) total += s->window[i];
  wf_dec sum, max, len, divisor;
  dec_from_u64(total, &sum);
  dec_from_u64(p->max_block_utilization, &max);
  dec_from_u64(s->window_len, &len);
  if (wf_dec_mul(max, len, &divisor)) return -1;
  return wf_dec_quo(sum, divisor, out);
}

/* state.go GetNetUtilization: sum of (gas - target) over the window, then as a LegacyDec. */
int wf_feemarket_net_utilization(const wf_feemarket *s, const wf_feemarket_params *p,
                                 wf_dec *out) {
  wf_dec net = 0, target = (wf_dec)(p->max_block_utilization / 2);
  for (uint64_t i = 0; i < s->window_len; i++)
    if (__builtin_add_overflow(net, (wf_dec)s->window[i] - target, &net)) return -1;
  if (net > I128_MAX / WF_DEC_ONE || net < -(I128_MAX / WF_DEC_ONE)) return -1;
  *out = net * WF_DEC_ONE;
  return 0;
}

static int range_error(wf_error *err, const char *what) {
  return wf_error_set(err, "fee market: %s leaves the fixed-point range (+-1.7e20)", what);
}

/* state.go UpdateLearningRate. */
int wf_feemarket_update_learning_rate(wf_feemarket *s, const wf_feemarket_params *p,
                                      wf_error *err) {
  wf_dec avg, lr;
  if (wf_feemarket_average_utilization(s, p, &avg)) return range_error(err, "average utilization");
  if (avg <= p->gamma || avg >= WF_DEC_ONE - p->gamma) {
    if (dec_add(p->alpha, s->learning_rate, &lr)) return range_error(err, "learning rate");
    if (lr > p->max_learning_rate) lr = p->max_learning_rate;
  } else {
    if (wf_dec_mul(s->learning_rate, p->beta, &lr)) return range_error(err, "learning rate");
    if (lr < p->min_learning_rate) lr = p->min_learning_rate;
  }
  s->learning_rate = lr;
  return 0;
}

/* state.go UpdateBaseGasPrice: price x (1 + lr x (cur - target) / target) + delta x net, at
 * least the minimum. */
int wf_feemarket_update_base_gas_price(wf_feemarket *s, const wf_feemarket_params *p,
                                       wf_error *err) {
  wf_dec cur, target, util, adj, net, price;
  dec_from_u64(s->window[s->index], &cur);
  dec_from_u64(p->max_block_utilization / 2, &target);
  if (wf_dec_quo(cur - target, target, &util) || wf_dec_mul(s->learning_rate, util, &adj) ||
      dec_add(WF_DEC_ONE, adj, &adj))
    return range_error(err, "learning rate adjustment");
  if (wf_feemarket_net_utilization(s, p, &net) || wf_dec_mul(net, p->delta, &net))
    return range_error(err, "delta adjustment");
  if (wf_dec_mul(s->base_gas_price, adj, &price) || dec_add(price, net, &price))
    return range_error(err, "base gas price");
  if (price < p->min_base_gas_price) price = p->min_base_gas_price;
  s->base_gas_price = price;
  return 0;
}

/* keeper/feemarket.go UpdateFeeMarket. The learning rate is restored if the price fails, so
 * that a failed update changes nothing. */
int wf_feemarket_end_block(wf_feemarket *s, const wf_feemarket_params *p, wf_error *err) {
  if (p->kind != WF_FEE_FIXED) {
    wf_dec lr = s->learning_rate;
    if (wf_feemarket_update_learning_rate(s, p, err)) return -1;
    if (wf_feemarket_update_base_gas_price(s, p, err)) {
      s->learning_rate = lr;
      return -1;
    }
  }
  wf_feemarket_increment_height(s);
  return 0;
}

int wf_feemarket_update(wf_feemarket *s, const wf_feemarket_params *p, uint64_t block_gas_used,
                        wf_error *err) {
  if (wf_feemarket_add_gas(s, p, block_gas_used, err)) return -1;
  return wf_feemarket_end_block(s, p, err);
}

/* ante/fee.go CheckTxFee: requiredFee = Ceil(gasPrice x LegacyNewDec(gas)). */
int wf_feemarket_required_fee(const wf_feemarket *s, uint64_t gas, wf_dec *fee) {
  wf_dec g, f;
  dec_from_u64(gas, &g);
  if (wf_dec_mul(s->base_gas_price, g, &f)) return -1;
  wf_dec q = f / WF_DEC_ONE, r = f % WF_DEC_ONE;
  if (r > 0) q += 1; /* LegacyDec.Ceil: up for a positive remainder, truncation otherwise */
  if (q > I128_MAX / WF_DEC_ONE) return -1;
  *fee = q * WF_DEC_ONE;
  return 0;
}
