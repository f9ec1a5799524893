#include "native.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

struct wf_native {
  void *dl;
  int32_t (*infer)(int32_t);
  void *input, *output;
  size_t capacity;
};

wf_native *wf_native_open(const char *path, wf_error *err) {
  wf_native *n = calloc(1, sizeof *n);
  if (!n) return wf_error_set(err, "out of memory"), NULL;
  n->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!n->dl) {
    wf_error_set(err, "%s: %s", path, dlerror());
    free(n);
    return NULL;
  }
  /* POSIX guarantees that data and function pointers convert through dlsym's void *. */
  void *f = dlsym(n->dl, "infer"), *in = dlsym(n->dl, "wf_input_ptr"),
       *size = dlsym(n->dl, "wf_input_size"), *out = dlsym(n->dl, "wf_output_ptr");
  if (!f || !in || !size || !out) {
    wf_error_set(err, "%s: missing an ABI function", path);
    wf_native_close(n);
    return NULL;
  }
  void *(*in_ptr)(void), *(*out_ptr)(void);
  int32_t (*in_size)(void);
  memcpy(&n->infer, &f, sizeof f);
  memcpy(&in_ptr, &in, sizeof in);
  memcpy(&out_ptr, &out, sizeof out);
  memcpy(&in_size, &size, sizeof size);
  n->input = in_ptr();
  n->output = out_ptr();
  n->capacity = (size_t)in_size();
  return n;
}

int32_t wf_native_infer(wf_native *n, const void *input, size_t len, int32_t param) {
  memcpy(n->input, input, len < n->capacity ? len : n->capacity);
  return n->infer(param);
}

const void *wf_native_output(const wf_native *n) {
  return n->output;
}

void wf_native_close(wf_native *n) {
  if (!n) return;
  if (n->dl) dlclose(n->dl);
  free(n);
}
