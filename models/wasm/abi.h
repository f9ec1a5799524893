/* The host side of the module ABI: checking that a module exports what weft calls, parsing its
 * wf_meta string, and drawing seeded inputs of its declared type. */
#ifndef WF_WASM_ABI_H
#define WF_WASM_ABI_H

#include "wasm.h"
#include "wbin.h"

/* -1 with the reason when the module imports anything, lacks an ABI export or exports one
 * with the wrong type, or declares more memory than the limit. */
int wf_abi_check(const wf_winfo *info, const wf_gas_schedule *s, wf_error *err);

/* Parses "abi=1;name=...;in=T[d,..];out=T[d,..][;param=lo..hi:default]". */
int wf_abi_parse_meta(const char *text, wf_wasm_meta *meta, wf_error *err);

/* Bytes per element of a meta type name ("f64" -> 8), 0 if unknown. */
unsigned wf_abi_type_size(const char *type);

#endif
