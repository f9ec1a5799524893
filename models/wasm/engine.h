/* The seam between the module layer (wasm.c) and the engines that execute metered modules:
 * libwabt's interpreter (engine_interp.cc) and wasm2c ahead-of-time code (engine_aot.c). */
#ifndef WF_ENGINE_H
#define WF_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The exports of the module ABI, resolved once at load. */
enum { WF_FN_INFER, WF_FN_META, WF_FN_INPUT_PTR, WF_FN_INPUT_SIZE, WF_FN_OUTPUT_PTR, WF_FN_COUNT };
extern const char *const wf_fn_names[WF_FN_COUNT];

typedef struct wf_engine_trap {
  wf_wasm_status status;
  char msg[160];
} wf_engine_trap;

typedef struct wf_engine_config {
  const char *label;          /* for messages */
  int restore_needs_instance; /* the module mutates tables or drops data: reset re-instantiates */
  const wf_wasm_options *opts;
} wf_engine_config;

/* One engine. load takes a metered module (it exports wf_gas and wf_trap) and leaves an
 * instance whose state is snapshotted; reset restores that snapshot. */
typedef struct wf_engine_ops {
  const char *name;
  void *(*load)(const uint8_t *wasm, size_t len, const wf_engine_config *cfg, wf_error *err);
  void (*free)(void *e);
  int (*reset)(void *e, wf_error *err);
  uint8_t *(*memory)(void *e, size_t *size);
  /* Calls ABI function fn (infer takes arg; the getters ignore it). 0, or -1 with trap set. */
  int (*call)(void *e, int fn, int32_t arg, int32_t *ret, wf_engine_trap *trap);
  uint64_t (*gas)(void *e);
  void (*set_gas)(void *e, uint64_t gas);
  uint32_t (*trap_reason)(void *e); /* the wf_trap global: WF_METER_TRAP_* */
} wf_engine_ops;

extern const wf_engine_ops wf_engine_interp;
extern const wf_engine_ops wf_engine_aot;

/* Validates with libwabt's validator (engine_interp.cc owns libwabt); -1 with the reason. */
int wf_interp_validate(const uint8_t *wasm, size_t len, wf_error *err);

#ifdef __cplusplus
}
#endif

#endif
