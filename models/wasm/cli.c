#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wbin.h"

#ifndef WF_WASM_ZOO_DIR
#define WF_WASM_ZOO_DIR "."
#endif

const char *const wf_wasm_zoo_names[] = {"mlp", "gbt", "cnn", "qmlp", "transformer", NULL};

void wf_wasm_zoo_path(const char *name, const char *ext, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s%s", WF_WASM_ZOO_DIR, name, ext);
}

enum { A_NONE, A_STR, A_U64, A_I32, A_LONG };

static const struct option {
  const char *name;
  int arg;
  unsigned used_by;
  const char *help;
} options[] = {
    {"--engine", A_STR, WF_CMD_RUN, "E           engine: interp (libwabt) or aot (wasm2c + cc)"},
    {"--engines", A_STR, WF_CMD_CHECK, "E1,E2      engines to compare (default interp,aot)"},
    {"--input", A_STR, WF_CMD_RUN, "FILE         raw input bytes (little-endian, as declared)"},
    {"--random", A_U64, WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH,
     "SEED        seeded random input (run: default 1)"},
    {"--inputs", A_LONG, WF_CMD_CHECK, "N           number of seeded inputs (default 16)"},
    {"--param", A_I32, WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH,
     "N            infer's parameter (default: the module's)"},
    {"--gas-limit", A_U64, WF_CMD_RUN | WF_CMD_CHECK,
     "G        CosmWasm gas limit (default 100000000000)"},
    {"--iters", A_LONG, WF_CMD_BENCH,
     "N            calls per round, best of 5 rounds (default: ~40 ms a round)"},
    {"--cache", A_STR, WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH,
     "DIR          aot cache (default $WEFT_CACHE_DIR or ~/.cache/weft)"},
    {"--op-cost", A_U64, WF_CMD_RUN | WF_CMD_CHECK, "N          gas per operation (default 115)"},
    {"--branch-cost", A_U64, WF_CMD_RUN | WF_CMD_CHECK,
     "N      gas per branching operation (default 1610)"},
    {"--page-cost", A_U64, WF_CMD_RUN | WF_CMD_CHECK,
     "N        gas per 64 KiB page grown (default 6553600)"},
    {"--max-pages", A_U64, WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH,
     "N        memory limit in 64 KiB pages (default 256)"},
    {"--max-depth", A_U64, WF_CMD_RUN | WF_CMD_CHECK, "N        call depth limit (default 256)"},
    {"--json", A_NONE, WF_CMD_INSPECT | WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH,
     "                 machine-readable output"},
    {"--help", A_NONE, ~0u, "                 this text"},
};
#define NOPTIONS (sizeof options / sizeof *options)

static void usage(FILE *f, unsigned cmd, const char *synopsis) {
  fprintf(f, "usage: %s\n\noptions:\n", synopsis);
  for (size_t i = 0; i < NOPTIONS; i++)
    if (options[i].used_by & cmd) fprintf(f, "  %s %s\n", options[i].name, options[i].help);
}

static int set_option(wf_wasm_cli *c, const char *name, const char *v) {
  char *end = NULL;
  uint64_t u = v ? strtoull(v, &end, 0) : 0;
  int num_ok = v && *v && end && !*end;
  wf_gas_schedule *s = &c->opts.schedule;
  if (!strcmp(name, "--engine")) return wf_wasm_engine_parse(v, &c->opts.engine);
  if (!strcmp(name, "--engines")) return c->engines = v, 0;
  if (!strcmp(name, "--input")) return c->input_file = v, 0;
  if (!strcmp(name, "--cache")) return c->opts.cache_dir = v, 0;
  if (!strcmp(name, "--json")) return c->json = 1, 0;
  if (!strcmp(name, "--param")) {
    long p = v ? strtol(v, &end, 0) : 0;
    return (v && *v && !*end) ? (c->param = (int32_t)p, c->have_param = 1, 0) : -1;
  }
  if (!num_ok) return -1;
  if (!strcmp(name, "--random")) c->seed = u, c->have_seed = 1;
  if (!strcmp(name, "--inputs")) c->inputs = (long)u;
  if (!strcmp(name, "--iters")) c->iters = (long)u;
  if (!strcmp(name, "--gas-limit")) c->gas_limit = u;
  if (!strcmp(name, "--op-cost")) s->op = u;
  if (!strcmp(name, "--branch-cost")) s->branch = u;
  if (!strcmp(name, "--page-cost")) s->page = u;
  if (!strcmp(name, "--max-pages")) s->max_pages = (uint32_t)u;
  if (!strcmp(name, "--max-depth")) s->max_depth = (uint32_t)u;
  return 0;
}

static const struct option *find_option(const char *name, unsigned cmd) {
  for (size_t i = 0; i < NOPTIONS; i++)
    if (!strcmp(options[i].name, name) && (options[i].used_by & cmd)) return &options[i];
  return NULL;
}

int wf_wasm_cli_parse(int argc, char **argv, unsigned cmd, const char *synopsis, wf_wasm_cli *c) {
  memset(c, 0, sizeof *c);
  c->cmd = argv[0];
  wf_wasm_options_default(&c->opts);
  c->gas_limit = WF_WASM_DEFAULT_GAS_LIMIT;
  c->inputs = 16;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return usage(stdout, cmd, synopsis), 1;
    if (argv[i][0] != '-' || !argv[i][1]) {
      if (c->module) {
        fprintf(stderr, "weft wasm %s: one module at a time ('%s' and '%s')\n", c->cmd, c->module,
                argv[i]);
        return 2;
      }
      c->module = argv[i];
      continue;
    }
    const struct option *o = find_option(argv[i], cmd);
    const char *v = o && o->arg != A_NONE ? (i + 1 < argc ? argv[++i] : NULL) : NULL;
    if (!o || (o->arg != A_NONE && !v) || set_option(c, o->name, v)) {
      fprintf(stderr, "weft wasm %s: %s option '%s'%s%s (see --help)\n", c->cmd,
              o ? "bad value for" : "unknown", argv[i - (v != NULL)], v ? ": " : "", v ? v : "");
      return 2;
    }
  }
  return 0;
}

static void print_one(FILE *f, const char *type, const uint8_t *p, int json) {
  if (!strcmp(type, "f64") || !strcmp(type, "f32")) {
    double d;
    if (type[1] == '6')
      memcpy(&d, p, 8);
    else {
      float x;
      memcpy(&x, p, 4);
      d = x;
    }
    if (json && !isfinite(d))
      fprintf(f, "null");
    else
      fprintf(f, "%.17g", d);
  } else if (!strcmp(type, "i32")) {
    int32_t v;
    memcpy(&v, p, 4);
    fprintf(f, "%" PRId32, v);
  } else {
    fprintf(f, "%d", (int)(int8_t)*p);
  }
}

void wf_wasm_print_values(FILE *f, const char *type, const uint8_t *p, uint32_t len, int max,
                          int json) {
  unsigned size = 1;
  if (!strcmp(type, "f64"))
    size = 8;
  else if (!strcmp(type, "f32") || !strcmp(type, "i32"))
    size = 4;
  uint32_t n = len / size;
  for (uint32_t i = 0; i < n && (max < 0 || (int)i < max); i++) {
    if (i) fputs(json ? "," : ", ", f);
    print_one(f, type, p + (size_t)i * size, json);
  }
  if (!json && max >= 0 && n > (uint32_t)max) fprintf(f, ", ... (%u values)", n);
}

int wf_wasm_main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*main)(int, char **);
    const char *help;
  } cmds[] = {
      {"inspect", wf_wasm_cmd_inspect, "imports, exports, memory, size and functions of a module"},
      {"run", wf_wasm_cmd_run, "run a module once: output, gas, wall time"},
      {"check", wf_wasm_cmd_check, "same input on several engines: bit-identical output and gas?"},
      {"bench", wf_wasm_cmd_bench, "native vs aot vs interp time per inference, metering overhead"},
  };
  int n = (int)(sizeof cmds / sizeof *cmds);
  if (argc >= 2)
    for (int i = 0; i < n; i++)
      if (!strcmp(argv[1], cmds[i].name)) return cmds[i].main(argc - 1, argv + 1);
  int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
  if (argc >= 2 && !help) fprintf(stderr, "weft wasm: unknown subcommand '%s'\n", argv[1]);
  FILE *f = help ? stdout : stderr;
  fprintf(f, "usage: weft wasm SUBCOMMAND [options]   (weft wasm SUBCOMMAND --help for each)\n\n"
             "WebAssembly inference modules: validated, gas-metered (CosmWasm 2.x schedule) and\n"
             "run on two engines.\n\nsubcommands:\n");
  for (int i = 0; i < n; i++) fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
  return help ? 0 : 2;
}

void wf_wasm_json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}
