/* The weft module ABI, module side: what every zoo module exports so the engines can find its
 * buffers, its shape and its entry point. The same source builds to wasm32 (freestanding, no
 * libc) and natively (a shared object for the benchmark's "native" column). */
#ifndef WF_ABI_H
#define WF_ABI_H

#include <stdint.h>

#define WF_EXPORT __attribute__((visibility("default")))

/* Version 1 of the ABI (README.md, "Module ABI"). Every module defines these five functions:
 *   wf_meta()        pointer to a NUL-terminated "abi=1;name=...;in=T[d,..];out=T[d,..];
 *                    param=lo..hi:default" string
 *   wf_input_ptr()   where the host writes the input (capacity wf_input_size() bytes)
 *   wf_input_size()  input capacity in bytes
 *   wf_output_ptr()  where infer() leaves its output
 *   infer(param)     runs one inference; returns the output length in bytes (>= 0) or a
 *                    negative module-defined error code */
WF_EXPORT const char *wf_meta(void);
WF_EXPORT void *wf_input_ptr(void);
WF_EXPORT int32_t wf_input_size(void);
WF_EXPORT void *wf_output_ptr(void);
WF_EXPORT int32_t infer(int32_t param);

/* Defines the four buffer functions over two static arrays. */
#define WF_DEFINE_BUFFERS(in_array, out_array)                                                     \
  WF_EXPORT void *wf_input_ptr(void) {                                                             \
    return (void *)(in_array);                                                                     \
  }                                                                                                \
  WF_EXPORT int32_t wf_input_size(void) {                                                          \
    return (int32_t)sizeof(in_array);                                                              \
  }                                                                                                \
  WF_EXPORT void *wf_output_ptr(void) {                                                            \
    return (void *)(out_array);                                                                    \
  }

#endif
