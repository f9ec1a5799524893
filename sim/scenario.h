/* Scenarios: a Lua 5.4 script builds the world through the `weft` module (parameters, run
 * options, and one builder per model), in a sandbox with no file or process access. lua.h is
 * included only by scenario_lua.c. */
#ifndef WF_SCENARIO_H
#define WF_SCENARIO_H

#include <stddef.h>

#include "engine.h"
#include "model.h"

typedef struct wf_scenario_in {
  const char *path;
  const char *const *sets; /* "key=value" overrides of weft.params */
  size_t nsets;
  const wf_model *const *models;
  size_t nmodels;
  uint64_t seed; /* --seed, used when seed_given */
  int seed_given;
  /* The sandbox's limits (lua_common.h): work steps the script may take before it is taken to
   * be stuck (0: 1e9, about 6 s) and bytes its Lua state may hold (0: 1/16 of the machine). */
  uint64_t instr_limit;
  uint64_t memory_limit;
  int quiet; /* print() writes nothing (every rank but 0 runs the script too) */
} wf_scenario_in;

typedef struct wf_scenario_out {
  wf_time end_time;
  wf_time sample; /* 0: not set */
  uint64_t max_events;
  uint64_t seed;
  char *name;        /* file name without directory and .lua */
  char *text;        /* the script as read */
  char *params_json; /* resolved parameters as a JSON object, keys sorted */
  char *description; /* weft.run{description = ...}; NULL or "" when none */
} wf_scenario_out;

/* Runs the script at in->path against eng. On error the message names the file and line. */
int wf_scenario_load(const wf_scenario_in *in, wf_engine *eng, wf_scenario_out *out, wf_error *err);
void wf_scenario_out_free(wf_scenario_out *out);

/* Every builder's arguments with defaults and help, for `weft run --help-builders`. */
void wf_scenario_print_builders(const wf_model *const *models, size_t nmodels, void *file);

#endif
