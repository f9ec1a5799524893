/* Turning a metered module into a loadable shared object: the cache (keyed by a hash of the
 * module, the glue version and the -O level), and on a miss wasm2c + the system C compiler. */
#ifndef WF_AOT_BUILD_H
#define WF_AOT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "wasm.h"

/* Writes the path of the shared object for `wasm` into path, compiling it first when neither
 * the build's zoo directory nor the cache has it. -1 with a one-line reason (no compiler, no
 * wasm2c, compile error) otherwise. (nonnull also keeps gcc's -Wformat-truncation quiet under
 * recoverable UBSan, whose null check of access()'s argument shows it a null `path` branch.) */
int wf_aot_build(const uint8_t *wasm, size_t len, const wf_wasm_options *o, char *path, size_t cap,
                 wf_error *err) __attribute__((nonnull(3, 4)));

/* gcc -O2 leaves wasm2c's load helpers out of line in the large functions clang's inlining
 * produces (it judges the calls unlikely): the transformer ran 3x slower than at -O3. */
#define WF_AOT_DEFAULT_OPT 3

/* The C compiler aot uses: options, then $CC, then "cc". */
const char *wf_aot_compiler(const wf_wasm_options *o);

/* "wasm2c + CC -O3 flags...", for the benchmark's header. */
void wf_aot_describe(const wf_wasm_options *o, char *out, size_t cap);

/* The cache directory options and environment select (see wf_wasm_options.cache_dir). */
void wf_aot_cache_dir(const wf_wasm_options *o, char *out, size_t cap);

#endif
