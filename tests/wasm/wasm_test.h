/* Shared by the wasm tests: loading fixtures from the build on either engine, with the aot
 * cache inside the build tree so tests never touch ~/.cache. */
#ifndef WF_WASM_TEST_H
#define WF_WASM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "wasm.h"

static const wf_wasm_engine wf_test_engines[] = {WF_WASM_INTERP, WF_WASM_AOT};

static inline void wf_test_options(wf_wasm_options *o, wf_wasm_engine e) {
  wf_wasm_options_default(o);
  o->engine = e;
  o->cache_dir = WF_TEST_CACHE;
}

static inline const char *wf_test_module(const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s.wasm", WF_TEST_MODULES, name);
  return path;
}

static inline const char *wf_test_zoo(const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s.wasm", WF_TEST_ZOO, name);
  return path;
}

/* Loads path on engine e or fails the test with the load error. */
static inline wf_wasm_module *wf_test_load(const char *path, wf_wasm_engine e) {
  wf_wasm_options o;
  wf_error err = {0};
  wf_test_options(&o, e);
  wf_wasm_module *m = wf_wasm_load_file(path, &o, &err);
  if (!m) fail_msg("loading %s on %s: %s", path, wf_wasm_engine_name(e), err.msg);
  return m;
}

#endif
