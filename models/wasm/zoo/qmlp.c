/* Zoo: an int8-quantized MLP (64 -> 128 relu -> 10), integer-only as on-chain inference prefers:
 * int8 weights and activations, int32 accumulators, requantization by a fixed-point multiplier
 * and shift. Weights: qmlp_weights.h, generated at build time. */
#include "wf_abi.h"
#include "qmlp_weights.h" /* QW1[128*64] QB1[128] QW2[10*128] QB2[10] (QB* are small ints) */

#define NIN 64
#define NH 128
#define NOUT 10

static int8_t input[NIN];
static int32_t output[NOUT];

WF_DEFINE_BUFFERS(input, output)

WF_EXPORT const char *wf_meta(void) {
  return "abi=1;name=qmlp;in=i8[64];out=i32[10]";
}

/* Rounds acc * mult / 2^shift to nearest and clamps to int8, as TFLite-style kernels do. */
static int8_t requant(int32_t acc, int32_t mult, int shift) {
  int64_t v = (int64_t)acc * mult;
  v = (v + ((int64_t)1 << (shift - 1))) >> shift;
  if (v > 127) v = 127;
  if (v < -128) v = -128;
  return (int8_t)v;
}

WF_EXPORT int32_t infer(int32_t param) {
  (void)param;
  int8_t h[NH];
  for (int o = 0; o < NH; o++) {
    int32_t acc = (int32_t)QB1[o] * 64;
    for (int i = 0; i < NIN; i++) acc += (int32_t)QW1[o * NIN + i] * input[i];
    int8_t q = requant(acc, 1489, 20); /* ~ 1 / (127 * 8 / 1.4) */
    h[o] = q > 0 ? q : 0;
  }
  for (int k = 0; k < NOUT; k++) {
    int32_t acc = (int32_t)QB2[k] * 64;
    for (int i = 0; i < NH; i++) acc += (int32_t)QW2[k * NH + i] * h[i];
    output[k] = acc;
  }
  return (int32_t)sizeof output;
}
