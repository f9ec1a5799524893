/* Zoo: a small CNN over a 16x16 single-channel image: conv3x3(8) relu, maxpool 2, conv3x3(16)
 * relu, global average pool, dense 10, softmax. Weights: cnn_weights.h, generated at build time. */
#include "wf_abi.h"
#include "wf_math.h"
#include "cnn_weights.h" /* K1[8*9] C1B[8] K2[16*8*9] C2B[16] FW[10*16] FB[10] */

#define H 16
#define C1 8
#define P1 7 /* (16 - 2) / 2 */
#define C2 16
#define H2 5 /* 7 - 2 */
#define NOUT 10

static double input[H * H];
static double output[NOUT];

WF_DEFINE_BUFFERS(input, output)

WF_EXPORT const char *wf_meta(void) {
  return "abi=1;name=cnn;in=f64[1,16,16];out=f64[10]";
}

static double conv1_at(int c, int y, int x) {
  double acc = C1B[c];
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++) acc += K1[c * 9 + ky * 3 + kx] * input[(y + ky) * H + x + kx];
  return wf_relu(acc);
}

/* conv1 + relu + 2x2 max pool, fused: the 14x14 map is never stored. */
static void layer1(double p[C1][P1][P1]) {
  for (int c = 0; c < C1; c++)
    for (int y = 0; y < P1; y++)
      for (int x = 0; x < P1; x++) {
        double m = conv1_at(c, 2 * y, 2 * x);
        double v;
        if ((v = conv1_at(c, 2 * y, 2 * x + 1)) > m) m = v;
        if ((v = conv1_at(c, 2 * y + 1, 2 * x)) > m) m = v;
        if ((v = conv1_at(c, 2 * y + 1, 2 * x + 1)) > m) m = v;
        p[c][y][x] = m;
      }
}

/* conv2 + relu + global average pool. */
static void layer2(double p[C1][P1][P1], double g[C2]) {
  for (int o = 0; o < C2; o++) {
    double sum = 0.0;
    for (int y = 0; y < H2; y++)
      for (int x = 0; x < H2; x++) {
        double acc = C2B[o];
        for (int c = 0; c < C1; c++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              acc += K2[((o * C1 + c) * 3 + ky) * 3 + kx] * p[c][y + ky][x + kx];
        sum += wf_relu(acc);
      }
    g[o] = sum / (H2 * H2);
  }
}

static void softmax(double *v, int n) {
  double m = v[0], s = 0.0;
  for (int i = 1; i < n; i++)
    if (v[i] > m) m = v[i];
  for (int i = 0; i < n; i++) s += (v[i] = wf_exp(v[i] - m));
  for (int i = 0; i < n; i++) v[i] /= s;
}

WF_EXPORT int32_t infer(int32_t param) {
  (void)param;
  double p[C1][P1][P1], g[C2];
  layer1(p);
  layer2(p, g);
  for (int k = 0; k < NOUT; k++) {
    double acc = FB[k];
    for (int i = 0; i < C2; i++) acc += FW[k * C2 + i] * g[i];
    output[k] = acc;
  }
  softmax(output, NOUT);
  return (int32_t)sizeof output;
}
