/* Build-time helper: compiles a module for the aot engine into a given cache directory, through
 * the same wf_wasm_load path (validate, check ABI, meter, wasm2c, cc) a user's module takes. */
#include <stdio.h>

#include "wasm.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: weft_wasm_aotc MODULE.wasm CACHE_DIR\n");
    return 2;
  }
  wf_wasm_options o;
  wf_wasm_options_default(&o);
  o.engine = WF_WASM_AOT;
  o.cache_dir = argv[2];
  wf_error err = {0};
  wf_wasm_module *m = wf_wasm_load_file(argv[1], &o, &err);
  if (!m) {
    fprintf(stderr, "weft_wasm_aotc: %s\n", err.msg);
    return 1;
  }
  wf_wasm_free(m);
  return 0;
}
