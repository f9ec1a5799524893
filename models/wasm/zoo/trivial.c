/* Zoo: the smallest module that honours the ABI (it copies one number), so a benchmark of it
 * measures what one call through the C API costs a simulated validator, not inference. */
#include "wf_abi.h"
#include "trivial_weights.h" /* T[1] */

static double input[1];
static double output[1];

WF_DEFINE_BUFFERS(input, output)

WF_EXPORT const char *wf_meta(void) {
  return "abi=1;name=trivial;in=f64[1];out=f64[1]";
}

WF_EXPORT int32_t infer(int32_t param) {
  (void)param;
  output[0] = input[0] + T[0];
  return (int32_t)sizeof output;
}
