/* The scenario binding: Lua text in, a world or an error out, under the sandbox's limits (a
 * small budget here, 10^6 steps and 64 MiB, so that each input ends quickly). Beyond not
 * crashing, leaking or hanging: a failed load always says why. */
#include <stdlib.h>
#include <string.h>

#include "../../models/chain.h"
#include "../../models/phold.h"
#include "../../models/workload.h"
#include "../../protocols/gossip.h"
#include "fuzz_common.h"
#include "net/net.h"
#include "scenario.h"

static const wf_model *const models[] = {&wf_model_phold, &wf_model_net, &wf_model_gossip,
                                         &wf_model_chain, &wf_model_workload};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = wf_fuzz_file(data, size, "scenario.lua");
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  if (!eng) abort();
  wf_scenario_in in = {.path = path,
                       .models = models,
                       .nmodels = sizeof models / sizeof *models,
                       .instr_limit = 1000000,
                       .memory_limit = 64 << 20,
                       .quiet = 1};
  wf_scenario_out out;
  if (wf_scenario_load(&in, eng, &out, &err) != 0 && (!err.set || !err.msg[0])) abort();
  wf_scenario_out_free(&out);
  wf_engine_free(eng);
  return 0;
}
