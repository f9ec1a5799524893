/* Zoo: a gradient-boosted tree ensemble (64 complete trees of depth 6 over 32 f64 features),
 * summed into a margin and squashed to a probability: branchy integer-and-compare code, the
 * opposite of the dense models. Weights: gbt_weights.h, generated at build time. */
#include "wf_abi.h"
#include "wf_math.h"
#include "gbt_weights.h" /* FEAT[NT*63] THR[NT*63] LEAF[NT*64] */

#define NFEAT 32
#define NTREES 64
#define DEPTH 6
#define NINNER ((1 << DEPTH) - 1)
#define NLEAF (1 << DEPTH)

static double input[NFEAT];
static double output[2];

WF_DEFINE_BUFFERS(input, output)

WF_EXPORT const char *wf_meta(void) {
  return "abi=1;name=gbt;in=f64[32];out=f64[2]";
}

/* Walks one complete tree stored in heap order (children of node n are 2n+1 and 2n+2). */
static double tree(int t) {
  const uint8_t *feat = FEAT + t * NINNER;
  const double *thr = THR + t * NINNER;
  int n = 0;
  for (int d = 0; d < DEPTH; d++) n = 2 * n + (input[feat[n]] <= thr[n] ? 1 : 2);
  return LEAF[t * NLEAF + (n - NINNER)];
}

WF_EXPORT int32_t infer(int32_t param) {
  (void)param;
  double margin = 0.0;
  for (int t = 0; t < NTREES; t++) margin += 0.1 * tree(t);
  output[0] = margin;
  output[1] = wf_sigmoid(margin);
  return (int32_t)sizeof output;
}
