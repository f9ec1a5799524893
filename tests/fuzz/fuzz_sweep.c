/* The sweep file loader (weft sweep): Lua text in, a grid or an error out, under the sandbox's
 * limits. Beyond not crashing, leaking or hanging: a failed load always says why. */
#include <stdlib.h>

#include "cli/sweep.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = wf_fuzz_file(data, size, "sweep.lua");
  wf_sweep sw;
  wf_error err = {0};
  if (wf_sweep_load(path, &sw, &err) == 0)
    wf_sweep_free(&sw);
  else if (!err.set)
    abort();
  return 0;
}
