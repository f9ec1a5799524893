/* `weft wasm inspect` and `weft wasm run`: one module, described or executed once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "abi.h"
#include "engine.h"
#include "wbin.h"

static void functype(FILE *f, const wf_wfunctype *t) {
  fputc('(', f);
  for (uint32_t i = 0; i < t->nparams && i < 8; i++)
    fprintf(f, "%s%s", i ? ", " : "", wf_wbin_valtype(t->params[i]));
  fputs(") -> ", f);
  if (t->nresults == 0) fputs("()", f);
  for (uint32_t i = 0; i < t->nresults && i < 8; i++)
    fprintf(f, "%s%s", i ? ", " : "", wf_wbin_valtype(t->results[i]));
}

static void export_line(FILE *f, const wf_winfo *m, const wf_wexport *e, int json) {
  int is_func = e->kind == 0 && e->index < m->nfuncs && m->func_types[e->index] < m->ntypes;
  if (json) {
    fputs("{\"name\":", f);
    wf_wasm_json_str(f, e->name);
    fprintf(f, ",\"kind\":\"%s\"", wf_wbin_kind(e->kind));
  } else
    fprintf(f, "  %-16s %s", e->name, wf_wbin_kind(e->kind));
  if (is_func) {
    fputs(json ? ",\"type\":\"" : " ", f);
    functype(f, &m->types[m->func_types[e->index]]);
    if (json) fputc('"', f);
  }
  fputs(json ? "}" : "\n", f);
}

static void inspect_text(const char *path, const wf_winfo *m, const char *verdict) {
  printf("module     %s\nsize       %zu bytes (code section %zu bytes)\n", path, m->size,
         m->code_size);
  printf("functions  %u defined, %u imported; %u types, %u globals, %u tables\n",
         m->nfuncs - m->nimported_funcs, m->nimported_funcs, m->ntypes, m->nglobals, m->ntables);
  if (m->has_memory) {
    printf("memory     %u pages initial (%u KiB), ", m->memory_min, m->memory_min * 64);
    if (m->memory_has_max)
      printf("max %u pages", m->memory_max);
    else
      printf("no maximum");
    printf("%s\n", m->memory_imported ? " (imported)" : "");
  } else
    printf("memory     none\n");
  printf("imports    %u\n", m->nimports);
  for (uint32_t i = 0; i < m->nimports; i++)
    printf("  %s.%s %s\n", m->imports[i].module, m->imports[i].name,
           wf_wbin_kind(m->imports[i].kind));
  printf("exports    %u\n", m->nexports);
  for (uint32_t i = 0; i < m->nexports; i++) export_line(stdout, m, &m->exports[i], 0);
  for (uint32_t i = 0; i < m->nsections; i++)
    if (m->sections[i].id == 0)
      printf("custom     %s (%zu bytes)\n", m->sections[i].name, m->sections[i].len);
  printf("weft ABI   %s\n", verdict);
}

static void inspect_json(const char *path, const wf_winfo *m, const char *verdict, int ok) {
  printf("{\"module\":");
  wf_wasm_json_str(stdout, path);
  printf(",\"size\":%zu,\"code_size\":%zu,\"functions\":%u,"
         "\"imported_functions\":%u,\"types\":%u,\"globals\":%u,\"tables\":%u,",
         m->size, m->code_size, m->nfuncs - m->nimported_funcs, m->nimported_funcs, m->ntypes,
         m->nglobals, m->ntables);
  if (m->has_memory) {
    printf("\"memory\":{\"initial_pages\":%u,\"max_pages\":", m->memory_min);
    if (m->memory_has_max)
      printf("%u},", m->memory_max);
    else
      printf("null},");
  }
  printf("\"imports\":[");
  for (uint32_t i = 0; i < m->nimports; i++) {
    printf("%s{\"module\":", i ? "," : "");
    wf_wasm_json_str(stdout, m->imports[i].module);
    printf(",\"name\":");
    wf_wasm_json_str(stdout, m->imports[i].name);
    printf(",\"kind\":\"%s\"}", wf_wbin_kind(m->imports[i].kind));
  }
  printf("],\"exports\":[");
  for (uint32_t i = 0; i < m->nexports; i++) {
    if (i) putchar(',');
    export_line(stdout, m, &m->exports[i], 1);
  }
  printf("],\"abi_ok\":%s,\"abi\":", ok ? "true" : "false");
  wf_wasm_json_str(stdout, verdict);
  printf("}\n");
}

static uint8_t *slurp(const char *path, size_t *len, wf_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wf_error_set(err, "%s: cannot open: %s", path, strerror(errno)), NULL;
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0, got = 0;
  do {
    if (n == cap) {
      uint8_t *p = realloc(buf, cap = cap ? 2 * cap : 65536);
      if (!p) break;
      buf = p;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got);
  fclose(f);
  *len = n;
  if (!buf) wf_error_set(err, "%s: out of memory", path);
  return buf;
}

int wf_wasm_cmd_inspect(int argc, char **argv) {
  wf_wasm_cli c;
  int rc =
      wf_wasm_cli_parse(argc, argv, WF_CMD_INSPECT, "weft wasm inspect MODULE.wasm [--json]",
                        "Imports, exports, memory, size and functions of a module, and whether it\n"
                        "fits the inference ABI (a real load on the interpreter).",
                        &c);
  if (rc) return rc == 1 ? 0 : rc;
  if (!c.module) return fprintf(stderr, "weft wasm inspect: which module? (see --help)\n"), 2;
  wf_error err = {0};
  size_t len = 0;
  uint8_t *bytes = slurp(c.module, &len, &err);
  wf_winfo info;
  if (!bytes || wf_wbin_parse(bytes, len, &info, &err)) {
    if (bytes) wf_error_prefix(&err, "%s: ", c.module);
    fprintf(stderr, "weft wasm inspect: %s\n", err.msg);
    free(bytes);
    return 1;
  }
  /* The ABI verdict comes from a real load on the interpreter (validation included). */
  wf_wasm_module *m = wf_wasm_load(c.module, bytes, len, &c.opts, &err);
  char verdict[1100];
  size_t skip = strlen(c.module) + 2; /* drop the "MODULE: " prefix of load errors */
  if (m)
    snprintf(verdict, sizeof verdict, "ok: %s", wf_wasm_module_meta(m)->raw);
  else
    snprintf(verdict, sizeof verdict, "no: %s", err.msg + (strlen(err.msg) > skip ? skip : 0));
  if (c.json)
    inspect_json(c.module, &info, verdict, m != NULL);
  else
    inspect_text(c.module, &info, verdict);
  wf_wasm_free(m);
  wf_wbin_free(&info);
  free(bytes);
  return 0;
}

static int load_input(const wf_wasm_cli *c, const wf_wasm_meta *meta, uint8_t *buf, size_t *len,
                      wf_error *err) {
  if (!c->input_file) {
    wf_wasm_random_input(meta, c->have_seed ? c->seed : 1, buf, meta->input_capacity);
    *len = meta->input_capacity;
    return 0;
  }
  uint8_t *data = slurp(c->input_file, len, err);
  if (!data) return -1;
  if (*len > meta->input_capacity) {
    free(data);
    return wf_error_set(err, "%s: %zu bytes, but %s takes at most %u", c->input_file, *len,
                        meta->name, meta->input_capacity);
  }
  memcpy(buf, data, *len);
  free(data);
  return 0;
}

static void run_report(const wf_wasm_cli *c, const wf_wasm_module *m, const wf_wasm_result *r) {
  const wf_wasm_meta *meta = wf_wasm_module_meta(m);
  const char *engine = wf_wasm_engine_name(wf_wasm_module_engine(m));
  if (c->json) {
    printf("{\"module\":");
    wf_wasm_json_str(stdout, c->module);
    printf(",\"name\":\"%s\",\"engine\":\"%s\",\"status\":\"%s\",\"reason\":", meta->name, engine,
           wf_wasm_status_name(r->status));
    wf_wasm_json_str(stdout, r->reason);
    printf(",\"output_type\":\"%s\",\"output\":[", meta->out_type);
    wf_wasm_print_values(stdout, meta->out_type, r->output, r->output_len, -1, 1);
    printf("],\"gas\":%llu,\"sdk_gas\":%llu,\"ns\":%llu,\"reset_ns\":%llu}\n",
           (unsigned long long)r->gas_used, (unsigned long long)wf_gas_to_sdk(r->gas_used),
           (unsigned long long)r->ns, (unsigned long long)r->reset_ns);
    return;
  }
  printf("module   %s (%s, engine %s)\nstatus   %s%s\n", c->module, meta->name, engine,
         r->status == WF_WASM_OK ? "ok" : "failed: ", r->reason);
  if (r->status == WF_WASM_OK) {
    printf("output   %s[%u] ", meta->out_type, r->output_len / wf_abi_type_size(meta->out_type));
    wf_wasm_print_values(stdout, meta->out_type, r->output, r->output_len, 16, 0);
    putchar('\n');
  }
  printf("gas      %llu CosmWasm gas = %llu SDK gas\ntime     %.3f ms (of which reset %.3f ms)\n",
         (unsigned long long)r->gas_used, (unsigned long long)wf_gas_to_sdk(r->gas_used),
         (double)r->ns / 1e6, (double)r->reset_ns / 1e6);
}

int wf_wasm_cmd_run(int argc, char **argv) {
  wf_wasm_cli c;
  int rc =
      wf_wasm_cli_parse(argc, argv, WF_CMD_RUN,
                        "weft wasm run MODULE.wasm [--engine E] [--input FILE | --random SEED] "
                        "[--gas-limit G] [--param N] [--json]",
                        "Runs a module once on one engine: output, gas and wall time.", &c);
  if (rc) return rc == 1 ? 0 : rc;
  if (!c.module) return fprintf(stderr, "weft wasm run: which module? (see --help)\n"), 2;
  if (c.input_file && c.have_seed)
    return fprintf(stderr, "weft wasm run: --input and --random exclude each other\n"), 2;
  wf_error err = {0};
  wf_wasm_module *m = wf_wasm_load_file(c.module, &c.opts, &err);
  if (!m) return fprintf(stderr, "weft wasm run: %s\n", err.msg), 1;
  const wf_wasm_meta *meta = wf_wasm_module_meta(m);
  uint8_t *input = calloc(1, meta->input_capacity + 1);
  size_t len = 0;
  if (!input || load_input(&c, meta, input, &len, &err)) {
    fprintf(stderr, "weft wasm run: %s\n", input ? err.msg : "out of memory");
    free(input);
    wf_wasm_free(m);
    return 1;
  }
  wf_wasm_result r;
  int32_t param = c.have_param ? c.param : meta->param_default;
  int failed = wf_wasm_call(m, input, len, param, c.gas_limit, &r);
  run_report(&c, m, &r);
  if (failed) fprintf(stderr, "weft wasm run: %s: %s\n", c.module, r.reason);
  free(input);
  wf_wasm_free(m);
  return failed ? 1 : 0;
}
