/* A zoo module built natively (a shared object from the same C source), the benchmark's
 * baseline: same ABI functions, called directly, no metering, no sandbox, no reset. */
#ifndef WF_WASM_NATIVE_H
#define WF_WASM_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "../../sim/error.h"

typedef struct wf_native wf_native;

wf_native *wf_native_open(const char *path, wf_error *err);
/* Copies the input in and runs infer(param); returns infer's result. */
int32_t wf_native_infer(wf_native *n, const void *input, size_t len, int32_t param);
/* Where infer left its output (as many bytes as infer returned). */
const void *wf_native_output(const wf_native *n);
void wf_native_close(wf_native *n);

#endif
