#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/cli/opts.h"
#include "wbin.h"

#ifndef WF_WASM_ZOO_DIR
#define WF_WASM_ZOO_DIR "."
#endif

const char *const wf_wasm_zoo_names[] = {"mlp", "gbt", "cnn", "qmlp", "transformer", NULL};

void wf_wasm_zoo_path(const char *name, const char *ext, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s%s", WF_WASM_ZOO_DIR, name, ext);
}

/* Every option of every subcommand, once; used_by says which subcommands take it. Parsing and
 * --help both see only the rows of the running subcommand, so an option another subcommand
 * takes is unknown here, and each --help lists exactly what its subcommand accepts. */
enum {
  O_ENGINE,
  O_ENGINES,
  O_INPUT,
  O_RANDOM,
  O_INPUTS,
  O_PARAM,
  O_GAS_LIMIT,
  O_ITERS,
  O_CACHE,
  O_OP_COST,
  O_BRANCH_COST,
  O_PAGE_COST,
  O_MAX_PAGES,
  O_MAX_DEPTH,
  O_JSON,
  NOPTIONS
};

enum { ALL = WF_CMD_INSPECT | WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH };

static const struct {
  wf_opt opt;
  unsigned used_by;
} options[NOPTIONS] = {
    [O_ENGINE] = {{"engine", 0, "E", "engine: interp (libwabt, the default) or aot (wasm2c + cc)"},
                  WF_CMD_RUN},
    [O_ENGINES] = {{"engines", 0, "E1,E2", "engines to compare (default interp,aot)"},
                   WF_CMD_CHECK},
    [O_INPUT] = {{"input", 0, "FILE", "raw input bytes (little-endian, as declared)"}, WF_CMD_RUN},
    [O_RANDOM] = {{"random", 0, "SEED", "seeded random input (default 1; instead of --input)"},
                  WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH},
    [O_INPUTS] = {{"inputs", 0, "N", "number of seeded inputs (default 16)"}, WF_CMD_CHECK},
    [O_PARAM] = {{"param", 0, "N", "infer's parameter (default: the module's)"},
                 WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH},
    [O_GAS_LIMIT] = {{"gas-limit", 0, "G", "CosmWasm gas limit (default 100000000000)"},
                     WF_CMD_RUN | WF_CMD_CHECK},
    [O_ITERS] = {{"iters", 0, "N", "calls per round, best of 5 rounds (default: ~40 ms a round)"},
                 WF_CMD_BENCH},
    [O_CACHE] = {{"cache", 0, "DIR", "aot cache (default $WEFT_CACHE_DIR or ~/.cache/weft)"},
                 WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH},
    [O_OP_COST] = {{"op-cost", 0, "N", "gas per operation (default 115)"},
                   WF_CMD_RUN | WF_CMD_CHECK},
    [O_BRANCH_COST] = {{"branch-cost", 0, "N", "gas per branching operation (default 1610)"},
                       WF_CMD_RUN | WF_CMD_CHECK},
    [O_PAGE_COST] = {{"page-cost", 0, "N", "gas per 64 KiB page grown (default 6553600)"},
                     WF_CMD_RUN | WF_CMD_CHECK},
    [O_MAX_PAGES] = {{"max-pages", 0, "N", "memory limit in 64 KiB pages (default 256)"},
                     WF_CMD_RUN | WF_CMD_CHECK | WF_CMD_BENCH},
    [O_MAX_DEPTH] = {{"max-depth", 0, "N", "call depth limit (default 256)"},
                     WF_CMD_RUN | WF_CMD_CHECK},
    [O_JSON] = {{"json", 0, NULL, "machine-readable output"}, ALL},
};

/* Where a subcommand uses an option its own way, its help says so. */
static const struct {
  int id;
  unsigned cmd;
  const char *help;
} help_for_cmd[] = {
    {O_RANDOM, WF_CMD_CHECK, "seed of the first input; input i uses SEED + i (default 1)"},
    {O_PARAM, WF_CMD_CHECK,
     "infer's parameter for every input (default: cycled over the module's range)"},
    {O_RANDOM, WF_CMD_BENCH, "seeded random input timed (default 1)"},
};

/* The running subcommand's options (opts) and, for each, its row in options[] (id). */
typedef struct parse_state {
  wf_wasm_cli *c;
  wf_opt opts[NOPTIONS];
  int id[NOPTIONS];
  size_t n;
  int help;
} parse_state;

static int set_option(wf_wasm_cli *c, int id, const char *v) {
  char *end = NULL;
  uint64_t u = v ? strtoull(v, &end, 0) : 0;
  int num_ok = v && *v && end && !*end;
  wf_gas_schedule *s = &c->opts.schedule;
  switch (id) {
  case O_ENGINE:
    return wf_wasm_engine_parse(v, &c->opts.engine);
  case O_ENGINES:
    return c->engines = v, 0;
  case O_INPUT:
    return c->input_file = v, 0;
  case O_CACHE:
    return c->opts.cache_dir = v, 0;
  case O_JSON:
    return c->json = 1, 0;
  case O_PARAM: {
    long p = strtol(v, &end, 0);
    return (*v && !*end) ? (c->param = (int32_t)p, c->have_param = 1, 0) : -1;
  }
  }
  if (!num_ok) return -1;
  switch (id) {
  case O_RANDOM:
    return c->seed = u, c->have_seed = 1, 0;
  case O_INPUTS:
    return c->inputs = (long)u, 0;
  case O_ITERS:
    return c->iters = (long)u, 0;
  case O_GAS_LIMIT:
    return c->gas_limit = u, 0;
  case O_OP_COST:
    return s->op = u, 0;
  case O_BRANCH_COST:
    return s->branch = u, 0;
  case O_PAGE_COST:
    return s->page = u, 0;
  case O_MAX_PAGES:
    return s->max_pages = (uint32_t)u, 0;
  case O_MAX_DEPTH:
    return s->max_depth = (uint32_t)u, 0;
  }
  return -1; /* a row without a case here: a bug, never ignored silently */
}

static int on_opt(void *ud, int index, const char *value, wf_error *err) {
  parse_state *p = ud;
  if (index < 0) return p->help = 1, -1; /* --help wins where it stands: stop parsing */
  if (set_option(p->c, p->id[index], value))
    return wf_error_set(err, "bad value for option '--%s': %s (see --help)", p->opts[index].name,
                        value ? value : "");
  return 0;
}

static int on_arg(void *ud, const char *text, wf_error *err) {
  wf_wasm_cli *c = ((parse_state *)ud)->c;
  if (c->module) return wf_error_set(err, "one module at a time ('%s' and '%s')", c->module, text);
  c->module = text;
  return 0;
}

int wf_wasm_cli_parse(int argc, char **argv, unsigned cmd, const char *synopsis, const char *about,
                      wf_wasm_cli *c) {
  memset(c, 0, sizeof *c);
  c->cmd = argv[0];
  wf_wasm_options_default(&c->opts);
  c->gas_limit = WF_WASM_DEFAULT_GAS_LIMIT;
  c->inputs = 16;
  parse_state p = {.c = c};
  for (int i = 0; i < NOPTIONS; i++)
    if (options[i].used_by & cmd) {
      p.opts[p.n] = options[i].opt;
      for (size_t k = 0; k < sizeof help_for_cmd / sizeof *help_for_cmd; k++)
        if (help_for_cmd[k].id == i && (help_for_cmd[k].cmd & cmd))
          p.opts[p.n].help = help_for_cmd[k].help;
      p.id[p.n++] = i;
    }
  wf_error err = {0};
  int rc = wf_opts_parse(argc, argv, p.opts, p.n, on_opt, on_arg, &p, &err);
  if (p.help) return wf_opts_help(stdout, synopsis, about, p.opts, p.n), 1;
  if (rc) return fprintf(stderr, "weft wasm %s: %s\n", c->cmd, err.msg), 2;
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
