/* Zoo: an MLP scorer in f64 (32 -> 64 tanh -> 32 tanh -> 1 sigmoid), the kind of credit or
 * fraud score a contract would ask for. With the hidden layers removed it is logistic regression.
 * Weights: mlp_weights.h, generated at build time (seed in CMakeLists.txt). */
#include "wf_abi.h"
#include "wf_math.h"
#include "mlp_weights.h" /* W1[64*32] B1[64] W2[32*64] B2[32] W3[32] B3[1] */

#define NIN 32
#define NH1 64
#define NH2 32

static double input[NIN];
static double output[1];

WF_DEFINE_BUFFERS(input, output)

WF_EXPORT const char *wf_meta(void) {
  return "abi=1;name=mlp;in=f64[32];out=f64[1]";
}

/* out = act(W x + b) for a row-major W of shape [nout][nin]. */
static void dense_tanh(const double *w, const double *b, const double *x, int nin, double *out,
                       int nout) {
  for (int o = 0; o < nout; o++) {
    double acc = b[o];
    for (int i = 0; i < nin; i++) acc += w[o * nin + i] * x[i];
    out[o] = wf_tanh(acc);
  }
}

WF_EXPORT int32_t infer(int32_t param) {
  (void)param;
  double h1[NH1], h2[NH2];
  dense_tanh(W1, B1, input, NIN, h1, NH1);
  dense_tanh(W2, B2, h1, NH1, h2, NH2);
  double acc = B3[0];
  for (int i = 0; i < NH2; i++) acc += W3[i] * h2[i];
  output[0] = wf_sigmoid(acc);
  return (int32_t)sizeof output;
}
