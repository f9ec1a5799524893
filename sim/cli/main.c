/* The composition root: the `weft` executable's subcommands and the table of models. This is
 * the one file that names every model and tool; the engine itself includes no model header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analysis/compare.h"
#include "../../analysis/report.h"
#include "../../models/chain.h"
#include "../../models/phold.h"
#include "../../models/wasm/cli.h"
#include "../../models/workload.h"
#include "../../protocols/gossip.h"
#include "bench_output.h"
#include "bench_queue.h"
#include "bench_sync.h"
#include "bench_net.h"
#include "net/net.h"
#include "run.h"
#include "sweep.h"
#include "sync.h"

static const wf_model *const models[] = {&wf_model_phold, &wf_model_net, &wf_model_gossip,
                                         &wf_model_chain, &wf_model_workload};
#define NMODELS (sizeof models / sizeof *models)

static int report_after_run(const char *trace, char *where, size_t size, wf_error *err) {
  char *dir = wf_report_default_dir(trace);
  if (!dir) return wf_error_set(err, "out of memory");
  snprintf(where, size, "%s/index.html", dir);
  int rc = wf_report_write(trace, dir, err);
  free(dir);
  return rc;
}

static int cmd_run(int argc, char **argv) {
  return wf_cmd_run(argc, argv, models, NMODELS, report_after_run);
}

static int cmd_bench(int argc, char **argv);

static const struct command {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *help;
} commands[] = {
    {"run", cmd_run, "run a Lua scenario and write its HDF5 trace"},
    {"sweep", wf_sweep_main, "run a parameter sweep: one weft run per grid point, an index.csv"},
    {"report", wf_report_main, "turn a trace into gnuplot plots and an HTML page"},
    {"compare", wf_compare_main, "put several runs side by side on one HTML page"},
    {"wasm", wf_wasm_main, "WebAssembly inference modules: inspect, run, check, bench"},
    {"bench", cmd_bench, "engine benchmarks (weft bench queue|sync|output|net)"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static int cmd_bench(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "queue") == 0) return wf_bench_queue_main(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "sync") == 0) return wf_bench_sync_main(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "output") == 0) return wf_bench_output_main(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "net") == 0) return wf_bench_net_main(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
    fprintf(stderr, "weft bench: unknown benchmark '%s' (available: queue, sync, output, net)\n",
            argv[1]);
    return 2;
  }
  printf("usage: weft bench BENCHMARK [options]\n\n"
         "  queue   the pending-event set: 4-ary heap vs binary heap vs ladder queue under the\n"
         "          hold model, 10^3 to 10^6 pending events (weft bench queue --help)\n"
         "  sync    the window exchange between ranks, under mpirun (weft bench sync --help)\n"
         "  output  a record table from N ranks to one HDF5 file: rank-0 gather vs parallel\n"
         "          HDF5, under mpirun (weft bench output --help)\n"
         "  net     the network transport's cost per message against a bare wf_send\n"
         "          (weft bench net --help)\n\n"
         "The PHOLD engine benchmark is a scenario: weft run scenarios/bench/phold.lua --json\n");
  return argc >= 2 ? 0 : 2;
}

static void usage(FILE *f) {
  fprintf(f, "usage: weft COMMAND [options]   (weft COMMAND --help for each)\n\n"
             "weft simulates interchain AI systems: a Lua scenario builds the world, a\n"
             "deterministic discrete-event engine runs it, traces go to HDF5 and reports to\n"
             "gnuplot + HTML.\n\ncommands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "\n  --version  print the version\n\nmodels:\n");
  for (size_t i = 0; i < NMODELS; i++) fprintf(f, "  %-8s %s\n", models[i]->name, models[i]->help);
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("weft %s\n", WEFT_VERSION);
    return 0;
  }
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].main(argc - 1, argv + 1);
  fprintf(stderr, "weft: unknown command '%s' (see weft --help)\n", argv[1]);
  return 2;
}

int main(int argc, char **argv) {
  wf_sync_init(&argc, &argv);
  int rc = dispatch(argc, argv);
  wf_sync_finalize();
  return rc;
}
