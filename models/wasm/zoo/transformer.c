/* Zoo: one pre-norm transformer block (d_model 32, 2 heads, FFN 64, causal attention) over a
 * sequence whose length is infer's parameter (1..32, default 8): cost grows with the square of
 * the sequence length, which is what makes its gas interesting. Weights: transformer_weights.h. */
#include "wf_abi.h"
#include "wf_math.h"
#include "transformer_weights.h" /* WQ WK WV WO[32*32] W1[64*32] B1[64] W2[32*64] B2[32] G1 G2[32] */

#define D 32
#define NHEAD 2
#define HD (D / NHEAD)
#define FF 64
#define SMAX 32
#define SDEFAULT 8

static double input[SMAX * D];
static double output[SMAX * D];
static double q[SMAX * D], k[SMAX * D], v[SMAX * D], att[SMAX * D], xn[SMAX * D];

WF_DEFINE_BUFFERS(input, output)

WF_EXPORT const char *wf_meta(void) {
  return "abi=1;name=transformer;in=f64[32,32];out=f64[32,32];param=1..32:8";
}

static void layernorm(const double *x, const double *gain, double *out) {
  double mean = 0.0, var = 0.0;
  for (int i = 0; i < D; i++) mean += x[i];
  mean /= D;
  for (int i = 0; i < D; i++) var += (x[i] - mean) * (x[i] - mean);
  double inv = 1.0 / wf_sqrt(var / D + 1e-5);
  for (int i = 0; i < D; i++) out[i] = (x[i] - mean) * inv * (1.0 + 0.1 * gain[i]);
}

/* out[n] = W x for a row-major W of shape [n][m]. */
static void matvec(const double *w, const double *x, double *out, int n, int m) {
  for (int o = 0; o < n; o++) {
    double acc = 0.0;
    for (int i = 0; i < m; i++) acc += w[o * m + i] * x[i];
    out[o] = acc;
  }
}

/* Causal attention of position t over positions 0..t for one head. */
static void attend(int t, int h) {
  double s[SMAX], m = -1e300, sum = 0.0;
  const double scale = 0.25; /* 1 / sqrt(HD) */
  for (int j = 0; j <= t; j++) {
    double dot = 0.0;
    for (int i = 0; i < HD; i++) dot += q[t * D + h * HD + i] * k[j * D + h * HD + i];
    s[j] = dot * scale;
    if (s[j] > m) m = s[j];
  }
  for (int j = 0; j <= t; j++) sum += (s[j] = wf_exp(s[j] - m));
  for (int i = 0; i < HD; i++) {
    double acc = 0.0;
    for (int j = 0; j <= t; j++) acc += s[j] * v[j * D + h * HD + i];
    att[t * D + h * HD + i] = acc / sum;
  }
}

static void ffn(const double *x, double *out) {
  double h[FF];
  matvec(W1, x, h, FF, D);
  for (int i = 0; i < FF; i++) h[i] = wf_relu(h[i] + B1[i]);
  matvec(W2, h, out, D, FF);
  for (int i = 0; i < D; i++) out[i] += B2[i];
}

WF_EXPORT int32_t infer(int32_t param) {
  int n = param == 0 ? SDEFAULT : param;
  if (n < 1 || n > SMAX) return -1;
  for (int t = 0; t < n; t++) {
    layernorm(input + t * D, G1, xn + t * D);
    matvec(WQ, xn + t * D, q + t * D, D, D);
    matvec(WK, xn + t * D, k + t * D, D, D);
    matvec(WV, xn + t * D, v + t * D, D, D);
  }
  for (int t = 0; t < n; t++)
    for (int h = 0; h < NHEAD; h++) attend(t, h);
  for (int t = 0; t < n; t++) {
    double o[D], f[D];
    matvec(WO, att + t * D, o, D, D);
    for (int i = 0; i < D; i++) o[i] += input[t * D + i]; /* residual */
    layernorm(o, G2, xn + t * D);
    ffn(xn + t * D, f);
    for (int i = 0; i < D; i++) output[t * D + i] = o[i] + f[i];
  }
  return n * D * (int32_t)sizeof(double);
}
