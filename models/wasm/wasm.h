/* Real WebAssembly inference inside the simulation: load a module once (validated, checked
 * against the weft module ABI, gas-metered, compiled), then run it many times on inputs, each call
 * on a fresh instance, getting output, exact gas and a trap reason back as values. */
#ifndef WF_WASM_H
#define WF_WASM_H

#include <stddef.h>
#include <stdint.h>

#include "../../sim/error.h"
#include "meter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wf_wasm_engine { WF_WASM_INTERP = 0, WF_WASM_AOT = 1 } wf_wasm_engine;

/* How a call ended. Everything but WF_WASM_OK is a failed transaction, not a weft error. */
typedef enum wf_wasm_status {
  WF_WASM_OK = 0,
  WF_WASM_OUT_OF_GAS,
  WF_WASM_TRAP_UNREACHABLE,
  WF_WASM_TRAP_MEMORY, /* out-of-bounds memory access */
  WF_WASM_TRAP_DIV_ZERO,
  WF_WASM_TRAP_INT_OVERFLOW,
  WF_WASM_TRAP_CONVERSION,   /* float to int of NaN or out of range */
  WF_WASM_TRAP_INDIRECT,     /* bad call_indirect */
  WF_WASM_TRAP_CALL_DEPTH,   /* recursion past the schedule's max_depth */
  WF_WASM_TRAP_MEMORY_LIMIT, /* memory.grow past the limit */
  WF_WASM_TRAP_OTHER,
  WF_WASM_MODULE_ERROR, /* infer() returned an error code or an impossible output size */
  WF_WASM_BAD_INPUT,    /* the caller's input does not fit the module */
} wf_wasm_status;

typedef struct wf_wasm_options {
  wf_wasm_engine engine;
  wf_gas_schedule schedule; /* wf_wasm_options_default fills the CosmWasm 2.x schedule */
  const char *cache_dir;    /* aot: where compiled modules are kept; NULL: $WEFT_CACHE_DIR,
                               else $XDG_CACHE_HOME/weft, else ~/.cache/weft */
  const char *cc;           /* aot: C compiler; NULL: $CC, else "cc" */
  int opt_level;            /* aot: -O level for the generated C (default 3) */
} wf_wasm_options;

/* The shape a module declares in its wf_meta string (README.md, "Module ABI"). */
typedef struct wf_wasm_meta {
  char name[64];
  char in_type[8], out_type[8]; /* "f64", "f32", "i32", "i8" */
  uint32_t in_dims[4], out_dims[4], in_rank, out_rank;
  int32_t param_min, param_max, param_default;
  uint32_t input_capacity; /* bytes */
  char raw[256];
} wf_wasm_meta;

typedef struct wf_wasm_result {
  wf_wasm_status status;
  const uint8_t *output; /* valid until the next call on this module */
  uint32_t output_len;
  uint64_t gas_used; /* CosmWasm gas; wf_gas_to_sdk converts */
  uint64_t ns;       /* wall time of the call, including the state reset */
  uint64_t reset_ns; /* of which restoring the fresh instance and copying the input */
  char reason[192];  /* one line for a failed call */
} wf_wasm_result;

/* Running estimate from the calls so far (for sampled execution). */
typedef struct wf_wasm_estimate {
  uint64_t calls, failures;
  double gas_mean, gas_m2; /* Welford: variance = gas_m2 / (calls - 1) */
  double ns_mean;
  uint64_t gas_min, gas_max;
} wf_wasm_estimate;

typedef struct wf_wasm_module wf_wasm_module;

void wf_wasm_options_default(wf_wasm_options *o);
const char *wf_wasm_engine_name(wf_wasm_engine e);
int wf_wasm_engine_parse(const char *name, wf_wasm_engine *out);
const char *wf_wasm_status_name(wf_wasm_status s);

/* Loads a module from a file or from memory; `label` names it in every error message. Returns
 * NULL with err set for a malformed binary, failed validation, a broken ABI, or an aot compile
 * failure. */
wf_wasm_module *wf_wasm_load_file(const char *path, const wf_wasm_options *o, wf_error *err);
wf_wasm_module *wf_wasm_load(const char *label, const uint8_t *bytes, size_t len,
                             const wf_wasm_options *o, wf_error *err);
void wf_wasm_free(wf_wasm_module *m);

/* Runs infer(param) on a fresh instance with `input` copied into the input buffer and at most
 * gas_limit gas. Returns 0 when the call succeeded, -1 otherwise; res says why either way. */
int wf_wasm_call(wf_wasm_module *m, const void *input, size_t len, int32_t param,
                 uint64_t gas_limit, wf_wasm_result *res);

const wf_wasm_meta *wf_wasm_module_meta(const wf_wasm_module *m);
const char *wf_wasm_module_label(const wf_wasm_module *m);
const wf_wasm_estimate *wf_wasm_module_estimate(const wf_wasm_module *m);
wf_wasm_engine wf_wasm_module_engine(const wf_wasm_module *m);

/* Fills buf (len bytes) with a seeded input of the module's declared type: floats uniform in
 * [-1, 1), integers uniform over their range. */
void wf_wasm_random_input(const wf_wasm_meta *meta, uint64_t seed, uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
