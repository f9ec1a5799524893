/* `weft wasm check`: the consensus question. The same seeded inputs on several engines (and twice
 * on one, for fresh-instance semantics) must give bit-identical outputs and equal gas, or the
 * validators running them would disagree. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct outcome {
  wf_wasm_status status;
  uint64_t gas;
  uint32_t len;
  uint8_t *bytes;
} outcome;

static int run_one(wf_wasm_module *m, const uint8_t *in, size_t len, int32_t param, uint64_t gas,
                   outcome *o) {
  wf_wasm_result r;
  wf_wasm_call(m, in, len, param, gas, &r);
  o->status = r.status;
  o->gas = r.gas_used;
  o->len = r.output_len;
  o->bytes = malloc(r.output_len ? r.output_len : 1);
  if (!o->bytes) return -1;
  if (r.output_len) memcpy(o->bytes, r.output, r.output_len);
  return 0;
}

/* Empty string when a and b agree, else what differs. */
static void compare(const outcome *a, const outcome *b, char *why, size_t cap) {
  why[0] = 0;
  if (a->status != b->status)
    snprintf(why, cap, "status %s vs %s", wf_wasm_status_name(a->status),
             wf_wasm_status_name(b->status));
  else if (a->gas != b->gas)
    snprintf(why, cap, "gas %llu vs %llu", (unsigned long long)a->gas, (unsigned long long)b->gas);
  else if (a->len != b->len)
    snprintf(why, cap, "output length %u vs %u", a->len, b->len);
  else
    for (uint32_t i = 0; i < a->len; i++)
      if (a->bytes[i] != b->bytes[i]) {
        snprintf(why, cap, "output byte %u: %02x vs %02x", i, a->bytes[i], b->bytes[i]);
        break;
      }
}

static void note(wf_wasm_check_report *rep, long i, const char *who, const char *why) {
  if (!rep->mismatches++)
    snprintf(rep->first_mismatch, sizeof rep->first_mismatch, "input %ld: %s: %s", i, who, why);
}

static int32_t param_for(const wf_wasm_meta *meta, long i, int have, int32_t fixed) {
  if (have) return fixed;
  if (meta->param_max > meta->param_min)
    return meta->param_min + (int32_t)(i % (meta->param_max - meta->param_min + 1));
  return meta->param_default;
}

/* One input on every engine, then once more on the first. */
static int check_input(wf_wasm_module **mods, int n, long i, const uint8_t *in, size_t len,
                       int32_t param, uint64_t gas, wf_wasm_check_report *rep) {
  outcome first, other;
  char why[200], who[64];
  if (run_one(mods[0], in, len, param, gas, &first)) return -1;
  if (first.status == WF_WASM_OK)
    rep->gas_mean += ((double)first.gas - rep->gas_mean) / (double)(i + 1);
  else
    rep->failed_calls++;
  for (int e = 1; e <= n; e++) {
    int again = e == n; /* the first engine once more: a fresh instance must not remember */
    if (run_one(mods[again ? 0 : e], in, len, param, gas, &other)) return free(first.bytes), -1;
    compare(&first, &other, why, sizeof why);
    snprintf(who, sizeof who, "%s vs %s%s", wf_wasm_engine_name(rep->engines[0]),
             wf_wasm_engine_name(rep->engines[again ? 0 : e]), again ? " (second call)" : "");
    if (why[0]) note(rep, i, who, why);
    free(other.bytes);
  }
  free(first.bytes);
  return 0;
}

int wf_wasm_check(const char *path, const wf_wasm_engine *engines, int n, long ninputs,
                  uint64_t seed, int have_param, int32_t param, uint64_t gas_limit,
                  const wf_wasm_options *base, wf_wasm_check_report *rep, wf_error *err) {
  wf_wasm_module *mods[4] = {0};
  memset(rep, 0, sizeof *rep);
  rep->nengines = n = n > 4 ? 4 : n;
  int rc = 0;
  for (int e = 0; e < n && !rc; e++) {
    wf_wasm_options o = *base;
    o.engine = rep->engines[e] = engines[e];
    if (!(mods[e] = wf_wasm_load_file(path, &o, err))) rc = -1;
  }
  const wf_wasm_meta *meta = rc ? NULL : wf_wasm_module_meta(mods[0]);
  uint8_t *in = meta ? calloc(1, meta->input_capacity + 1) : NULL;
  if (meta && !in) rc = wf_error_set(err, "out of memory");
  for (long i = 0; i < ninputs && !rc; i++) {
    wf_wasm_random_input(meta, seed + (uint64_t)i, in, meta->input_capacity);
    rc = check_input(mods, n, i, in, meta->input_capacity, param_for(meta, i, have_param, param),
                     gas_limit, rep);
    rep->inputs++;
  }
  rep->pass = !rc && rep->mismatches == 0;
  free(in);
  for (int e = 0; e < n; e++) wf_wasm_free(mods[e]);
  return rc;
}

static int parse_engines(const char *list, wf_wasm_engine *out, int *n) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", list ? list : "interp,aot");
  *n = 0;
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (*n == 4 || wf_wasm_engine_parse(t, &out[*n])) return -1;
    (*n)++;
  }
  return *n ? 0 : -1;
}

static void check_print(const wf_wasm_cli *c, const char *path, const wf_wasm_check_report *r) {
  if (c->json) {
    printf("{\"module\":");
    wf_wasm_json_str(stdout, path);
    printf(",\"engines\":[");
    for (int e = 0; e < r->nengines; e++)
      printf("%s\"%s\"", e ? "," : "", wf_wasm_engine_name(r->engines[e]));
    printf("],\"inputs\":%ld,\"pass\":%s,\"mismatches\":%ld,\"failed_calls\":%ld,"
           "\"gas_mean\":%.1f,\"first_mismatch\":",
           r->inputs, r->pass ? "true" : "false", r->mismatches, r->failed_calls, r->gas_mean);
    wf_wasm_json_str(stdout, r->first_mismatch);
    printf("}\n");
    return;
  }
  printf("%-6s %s: ", r->pass ? "PASS" : "FAIL", path);
  for (int e = 0; e < r->nengines; e++)
    printf("%s%s", e ? (r->pass ? " = " : " vs ") : "", wf_wasm_engine_name(r->engines[e]));
  printf(", %ld inputs", r->inputs);
  if (r->pass)
    printf(": outputs bit-identical, gas equal (mean %.0f gas = %llu SDK gas)%s\n", r->gas_mean,
           (unsigned long long)wf_gas_to_sdk((uint64_t)r->gas_mean),
           r->failed_calls ? ", some calls trapped alike" : "");
  else
    printf(": %ld mismatches; first: %s\n", r->mismatches, r->first_mismatch);
}

int wf_wasm_cmd_check(int argc, char **argv) {
  wf_wasm_cli c;
  int rc =
      wf_wasm_cli_parse(argc, argv, WF_CMD_CHECK,
                        "weft wasm check [MODULE.wasm] [--engines E1,E2] [--inputs N] [--json]",
                        "Runs the same seeded inputs on several engines (and the first one twice)\n"
                        "and checks that status, output bytes and gas are identical.\n"
                        "Without a module: the whole zoo.",
                        &c);
  if (rc) return rc == 1 ? 0 : rc;
  wf_wasm_engine engines[4];
  int n;
  if (parse_engines(c.engines, engines, &n))
    return fprintf(stderr, "weft wasm check: bad --engines '%s' (interp, aot)\n", c.engines), 2;
  char path[1024];
  int failed = 0;
  for (int z = 0; c.module ? z < 1 : wf_wasm_zoo_names[z] != NULL; z++) {
    if (c.module)
      snprintf(path, sizeof path, "%s", c.module);
    else
      wf_wasm_zoo_path(wf_wasm_zoo_names[z], ".wasm", path, sizeof path);
    wf_wasm_check_report rep;
    wf_error err = {0};
    if (wf_wasm_check(path, engines, n, c.inputs, c.have_seed ? c.seed : 1, c.have_param, c.param,
                      c.gas_limit, &c.opts, &rep, &err)) {
      fprintf(stderr, "weft wasm check: %s\n", err.msg);
      failed = 1;
      continue;
    }
    check_print(&c, path, &rep);
    if (!rep.pass) {
      fprintf(stderr, "weft wasm check: %s: engines disagree (%s)\n", path, rep.first_mismatch);
      failed = 1;
    }
  }
  return failed;
}
