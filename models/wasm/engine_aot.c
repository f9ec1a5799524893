/* The `aot` engine: a metered module translated to C by wasm2c, compiled by the system C
 * compiler into a shared object, cached by content hash, and loaded with dlopen. The zoo is
 * compiled at build time into WF_WASM_ZOO_AOT_DIR; other modules on first use. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aot_build.h"
#include "aot_glue.h"
#include "engine.h"

typedef struct aot {
  void *dl;
  const wf_aot_api *api;
  void *inst;
  int recreate; /* reset by re-instantiating (tables or passive data may have changed) */
  char label[128];
} aot;

/* wasm_rt_trap_t order in wasm-rt.h (wabt 1.0.32): NONE, OOB, INT_OVERFLOW, DIV_BY_ZERO,
 * INVALID_CONVERSION, UNREACHABLE, CALL_INDIRECT, UNCAUGHT_EXCEPTION, EXHAUSTION. */
static void name_trap(int code, wf_engine_trap *t) {
  static const struct {
    wf_wasm_status status;
    const char *msg;
  } names[] = {
      {WF_WASM_TRAP_OTHER, "trap"},
      {WF_WASM_TRAP_MEMORY, "out of bounds memory access"},
      {WF_WASM_TRAP_INT_OVERFLOW, "integer overflow"},
      {WF_WASM_TRAP_DIV_ZERO, "integer divide by zero"},
      {WF_WASM_TRAP_CONVERSION, "invalid conversion to integer"},
      {WF_WASM_TRAP_UNREACHABLE, "unreachable executed"},
      {WF_WASM_TRAP_INDIRECT, "invalid call_indirect"},
      {WF_WASM_TRAP_OTHER, "uncaught exception"},
      {WF_WASM_TRAP_CALL_DEPTH, "call stack exhausted"},
  };
  int n = (int)(sizeof names / sizeof *names);
  int i = code > 0 && code < n ? code : 0;
  t->status = names[i].status;
  snprintf(t->msg, sizeof t->msg, "%s", names[i].msg);
}

static int open_so(aot *a, const char *path, wf_error *err) {
  a->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!a->dl) return wf_error_set(err, "aot: cannot load %s: %s", path, dlerror());
  a->api = (const wf_aot_api *)dlsym(a->dl, "wf_aot_api");
  if (!a->api || a->api->version != WF_AOT_GLUE_VERSION)
    return wf_error_set(err, "aot: %s is not a weft aot object of glue version %u", path,
                        WF_AOT_GLUE_VERSION);
  return 0;
}

static void aot_free(void *e) {
  aot *a = e;
  if (!a) return;
  if (a->inst) a->api->destroy(a->inst);
  if (a->dl) dlclose(a->dl);
  free(a);
}

static void *aot_load(const uint8_t *wasm, size_t len, const wf_engine_config *cfg, wf_error *err) {
  aot *a = calloc(1, sizeof *a);
  char path[1024];
  if (!a) return wf_error_set(err, "out of memory"), NULL;
  snprintf(a->label, sizeof a->label, "%s", cfg->label);
  a->recreate = cfg->restore_needs_instance;
  if (wf_aot_build(wasm, len, cfg->opts, path, sizeof path, err) || open_so(a, path, err)) {
    aot_free(a);
    return NULL;
  }
  a->inst = a->api->create();
  if (!a->inst) {
    aot_free(a);
    return wf_error_set(err, "instantiation failed (a data segment or start function trapped)"),
           NULL;
  }
  return a;
}

static int aot_reset(void *e, wf_error *err) {
  aot *a = e;
  if (!a->recreate) {
    a->api->reset(a->inst);
    return 0;
  }
  a->api->destroy(a->inst);
  a->inst = a->api->create();
  return a->inst ? 0 : wf_error_set(err, "re-instantiation failed");
}

static uint8_t *aot_memory(void *e, size_t *size) {
  aot *a = e;
  return a->api->memory(a->inst, size);
}

static int aot_call(void *e, int fn, int32_t arg, int32_t *ret, wf_engine_trap *trap) {
  aot *a = e;
  int code = a->api->call(a->inst, fn, arg, ret);
  if (!code) return 0;
  name_trap(code, trap);
  return -1;
}

static uint64_t aot_gas(void *e) {
  return *((aot *)e)->api->gas(((aot *)e)->inst);
}

static void aot_set_gas(void *e, uint64_t gas) {
  *((aot *)e)->api->gas(((aot *)e)->inst) = gas;
}

static uint32_t aot_trap_reason(void *e) {
  return *((aot *)e)->api->trap(((aot *)e)->inst);
}

const wf_engine_ops wf_engine_aot = {
    "aot",    aot_load, aot_free,    aot_reset,       aot_memory,
    aot_call, aot_gas,  aot_set_gas, aot_trap_reason,
};
