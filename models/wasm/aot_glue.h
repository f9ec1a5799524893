/* The glue compiled into every aot shared object next to wasm2c's output: one exported table of
 * functions (create, reset, call, ...) so engine_aot.c drives any module the same way without
 * including wasm2c's runtime headers. The source text travels inside weft (aot_glue.c). */
#ifndef WF_AOT_GLUE_H
#define WF_AOT_GLUE_H

#include <stddef.h>
#include <stdint.h>

/* Bumped whenever the glue text or the compile flags change: it is part of the cache key. */
#define WF_AOT_GLUE_VERSION 5u

typedef struct wf_aot_api {
  uint32_t version;
  void *(*create)(void); /* NULL if instantiation traps */
  void (*destroy)(void *inst);
  void (*reset)(void *inst);
  uint8_t *(*memory)(void *inst, size_t *size);
  int (*call)(void *inst, int fn, int32_t arg, int32_t *ret); /* wasm_rt trap code, 0 = ok */
  uint64_t *(*gas)(void *inst);
  uint32_t *(*trap)(void *inst);
} wf_aot_api;

extern const char wf_aot_glue_src[];

#endif
