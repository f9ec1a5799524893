/* `weft wasm bench`: per module, time per inference natively, on aot and on interp, the cost of
 * metering (metered vs unmetered build of the same module) and of the per-call reset. Printed
 * figures, not tests (README.md, Architecture, rule 8). */
#include <stdlib.h>
#include <string.h>

#include "aot_build.h"
#include "cli.h"
#include "native.h"
#include "simtime.h"

#ifndef WF_ZOO_BUILD_DESC
#define WF_ZOO_BUILD_DESC "clang (flags unknown)"
#endif
#ifndef WF_ZOO_SCALAR_DESC
#define WF_ZOO_SCALAR_DESC "-fno-vectorize"
#endif

#define ROUNDS 5             /* each figure is the fastest round's mean: other load on the */
#define ROUND_NS 40000000ull /* machine only ever slows a round down */

typedef struct timing {
  double call_ns, infer_ns, reset_ns; /* per call; infer = call - reset */
  uint64_t gas;
  int ok;
} timing;

typedef struct bench_row {
  char name[64];
  double native_ns, simd_ns; /* the native twin without and with auto-vectorisation */
  timing aot, aot_raw, interp, interp_raw;
} bench_row;

static int more(const wf_wasm_cli *c, long done, uint64_t elapsed) {
  if (c->iters > 0) return done < c->iters;
  return done < 3 || (elapsed < ROUND_NS && done < 200000);
}

static double lowest(double a, double b) {
  return a > 0 && a < b ? a : b;
}

/* 0 when the shared object is missing (a user's module has no native twin). */
static double time_native(const wf_wasm_cli *c, const char *so, const uint8_t *in, size_t len,
                          int32_t param) {
  wf_error err = {0};
  wf_native *n = wf_native_open(so, &err);
  if (!n) return 0.0;
  double best = 0.0;
  for (int i = 0; i < 3; i++) wf_native_infer(n, in, len, param);
  for (int round = 0; round < ROUNDS; round++) {
    long k = 0;
    uint64_t t0 = wf_wall_ns(), t = t0;
    while (more(c, k, t - t0)) {
      wf_native_infer(n, in, len, param);
      k++;
      t = wf_wall_ns();
    }
    best = lowest(best, (double)(t - t0) / (double)k);
  }
  wf_native_close(n);
  return best;
}

static void time_engine(const wf_wasm_cli *c, const char *path, wf_wasm_engine e, int metered,
                        const uint8_t *in, size_t len, int32_t param, timing *t) {
  wf_wasm_options o = c->opts;
  o.engine = e;
  o.schedule.unmetered = !metered;
  wf_error err = {0};
  wf_wasm_module *m = wf_wasm_load_file(path, &o, &err);
  if (!m) {
    fprintf(stderr, "weft wasm bench: %s\n", err.msg);
    return;
  }
  wf_wasm_result r;
  for (int i = 0; i < 3; i++) wf_wasm_call(m, in, len, param, UINT64_MAX / 4, &r);
  t->gas = r.gas_used;
  t->ok = r.status == WF_WASM_OK;
  for (int round = 0; round < ROUNDS; round++) {
    uint64_t sum = 0, reset = 0;
    long k = 0;
    while (more(c, k, sum)) {
      wf_wasm_call(m, in, len, param, UINT64_MAX / 4, &r);
      sum += r.ns, reset += r.reset_ns, k++;
      t->ok &= r.status == WF_WASM_OK;
    }
    t->call_ns = lowest(t->call_ns, (double)sum / (double)k);
    t->reset_ns = lowest(t->reset_ns, (double)reset / (double)k);
    t->infer_ns = lowest(t->infer_ns, (double)(sum - reset) / (double)k);
  }
  wf_wasm_free(m);
}

/* The native twins of a module: NAME.so and NAME.simd.so beside NAME.wasm (the zoo build puts
 * them there). */
static void native_path(const char *wasm, const char *ext, char *out, size_t cap) {
  snprintf(out, cap, "%s", wasm);
  size_t n = strlen(out);
  if (n > 5 && !strcmp(out + n - 5, ".wasm")) snprintf(out + n - 5, cap - (n - 5), "%s", ext);
}

static int bench_module(const wf_wasm_cli *c, const char *path, bench_row *row) {
  wf_error err = {0};
  wf_wasm_module *m = wf_wasm_load_file(path, &c->opts, &err);
  if (!m) return fprintf(stderr, "weft wasm bench: %s\n", err.msg), -1;
  wf_wasm_meta meta = *wf_wasm_module_meta(m);
  wf_wasm_free(m);
  snprintf(row->name, sizeof row->name, "%s", meta.name);
  size_t len = meta.input_capacity;
  uint8_t *in = calloc(1, len + 1);
  int32_t param = c->have_param ? c->param : meta.param_default;
  if (!in) return -1;
  wf_wasm_random_input(&meta, c->have_seed ? c->seed : 1, in, len);
  char so[1024];
  native_path(path, ".so", so, sizeof so);
  row->native_ns = time_native(c, so, in, len, param);
  native_path(path, ".simd.so", so, sizeof so);
  row->simd_ns = time_native(c, so, in, len, param);
  time_engine(c, path, WF_WASM_AOT, 1, in, len, param, &row->aot);
  time_engine(c, path, WF_WASM_AOT, 0, in, len, param, &row->aot_raw);
  time_engine(c, path, WF_WASM_INTERP, 1, in, len, param, &row->interp);
  time_engine(c, path, WF_WASM_INTERP, 0, in, len, param, &row->interp_raw);
  free(in);
  return 0;
}

static double ratio(double a, double b) {
  return a > 0 && b > 0 ? a / b : 0.0;
}

/* The first line `CC --version` prints, so the figures say which compiler made the aot code. */
static void compiler_version(const char *cc, char *out, size_t cap) {
  char cmd[600];
  out[0] = 0;
  if (strchr(cc, '\'') || snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", cc) >= 600)
    return;
  FILE *p = popen(cmd, "r");
  if (!p) return;
  if (fgets(out, (int)cap, p)) out[strcspn(out, "\n")] = 0;
  pclose(p);
}

typedef struct build_desc {
  char aot[512], cc_version[160];
} build_desc;

static void describe(const wf_wasm_cli *c, build_desc *d) {
  wf_aot_describe(&c->opts, d->aot, sizeof d->aot);
  compiler_version(wf_aot_compiler(&c->opts), d->cc_version, sizeof d->cc_version);
}

static void print_row(const wf_wasm_cli *c, const bench_row *r, const build_desc *d, int first) {
  double us = 1e-3;
  if (c->json) {
    printf("%s{\"module\":\"%s\",\"native_ns\":%.1f,\"native_simd_ns\":%.1f,\"aot_ns\":%.1f,"
           "\"aot_call_ns\":%.1f,\"aot_unmetered_ns\":%.1f,\"interp_ns\":%.1f,"
           "\"interp_call_ns\":%.1f,\"interp_unmetered_ns\":%.1f,\"reset_ns\":%.1f,"
           "\"aot_vs_native\":%.3f,\"aot_vs_native_simd\":%.3f,\"interp_vs_native\":%.3f,"
           "\"metering_aot\":%.3f,\"metering_interp\":%.3f,\"gas\":%llu,\"native_build\":",
           first ? "" : ",", r->name, r->native_ns, r->simd_ns, r->aot.infer_ns, r->aot.call_ns,
           r->aot_raw.infer_ns, r->interp.infer_ns, r->interp.call_ns, r->interp_raw.infer_ns,
           r->aot.reset_ns, ratio(r->aot.infer_ns, r->native_ns),
           ratio(r->aot.infer_ns, r->simd_ns), ratio(r->interp.infer_ns, r->native_ns),
           ratio(r->aot.infer_ns, r->aot_raw.infer_ns),
           ratio(r->interp.infer_ns, r->interp_raw.infer_ns), (unsigned long long)r->aot.gas);
    wf_wasm_json_str(stdout, WF_ZOO_BUILD_DESC " " WF_ZOO_SCALAR_DESC);
    printf(",\"aot_build\":");
    wf_wasm_json_str(stdout, d->aot);
    printf(",\"aot_cc\":");
    wf_wasm_json_str(stdout, d->cc_version);
    printf("}");
    return;
  }
  printf("%-12s %8.2f %8.2f %8.2f %9.1f %7.2f %8.2f %8.2f %8.1f %8.2f %8.2f %12llu\n", r->name,
         r->native_ns * us, r->simd_ns * us, r->aot.infer_ns * us, r->interp.infer_ns * us,
         r->aot.reset_ns * us, ratio(r->aot.infer_ns, r->native_ns),
         ratio(r->aot.infer_ns, r->simd_ns), ratio(r->interp.infer_ns, r->native_ns),
         ratio(r->aot.infer_ns, r->aot_raw.infer_ns),
         ratio(r->interp.infer_ns, r->interp_raw.infer_ns), (unsigned long long)r->aot.gas);
}

static void print_header(const build_desc *d) {
  printf("per inference, microseconds; fastest of %d rounds (aot/interp: the metered call "
         "without its reset)\n",
         ROUNDS);
  printf("  wasm   : " WF_ZOO_BUILD_DESC " --target=wasm32 (no SIMD: weft refuses simd128)\n");
  printf("  native : the same C source, compiler and flags, x86-64, " WF_ZOO_SCALAR_DESC
         " (no SIMD either)\n");
  printf("  simd   : native again with auto-vectorisation, what the SIMD policy costs\n");
  printf("  aot    : %s%s%s%s\n", d->aot, d->cc_version[0] ? " (" : "", d->cc_version,
         d->cc_version[0] ? ")" : "");
  printf("  meter:a/i = metered / unmetered time on aot / interp\n");
  printf("%-12s %8s %8s %8s %9s %7s %8s %8s %8s %8s %8s %12s\n", "module", "native", "simd", "aot",
         "interp", "reset", "aot/nat", "aot/simd", "int/nat", "meter:a", "meter:i", "gas");
}

static void print_api_cost(const bench_row *t) {
  printf("\nC API call on the trivial module (wf_wasm_call: reset + input + infer + output):\n"
         "  aot    %.2f us per call (reset %.2f us)\n  interp %.2f us per call (reset %.2f us)\n",
         t->aot.call_ns * 1e-3, t->aot.reset_ns * 1e-3, t->interp.call_ns * 1e-3,
         t->interp.reset_ns * 1e-3);
}

int wf_wasm_cmd_bench(int argc, char **argv) {
  wf_wasm_cli c;
  int rc = wf_wasm_cli_parse(
      argc, argv, WF_CMD_BENCH, "weft wasm bench [MODULE.wasm] [--iters N] [--json]",
      "Time per inference: native vs aot vs interp, and the metering overhead.\n"
      "Without a module: the whole zoo and the trivial module.",
      &c);
  if (rc) return rc == 1 ? 0 : rc;
  char path[1024];
  int failed = 0, first = 1;
  build_desc d;
  describe(&c, &d);
  if (c.json)
    printf("[");
  else
    print_header(&d);
  for (int z = 0; c.module ? z < 1 : wf_wasm_zoo_names[z] != NULL; z++) {
    if (c.module)
      snprintf(path, sizeof path, "%s", c.module);
    else
      wf_wasm_zoo_path(wf_wasm_zoo_names[z], ".wasm", path, sizeof path);
    bench_row row = {0};
    if (bench_module(&c, path, &row)) {
      failed = 1;
      continue;
    }
    print_row(&c, &row, &d, first);
    first = 0;
    fflush(stdout);
  }
  if (!c.module) {
    bench_row t = {0};
    wf_wasm_zoo_path("trivial", ".wasm", path, sizeof path);
    if (bench_module(&c, path, &t))
      failed = 1;
    else if (c.json)
      print_row(&c, &t, &d, first);
    else
      print_api_cost(&t);
  }
  if (c.json) printf("]\n");
  return failed;
}
