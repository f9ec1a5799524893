/* `weft wasm`: the command-line face of models/wasm (inspect, run, check, bench). One option
 * table, filtered per subcommand, goes through sim/cli/opts.h: each --help lists exactly the
 * options its subcommand takes. */
#ifndef WF_WASM_CLI_H
#define WF_WASM_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "wasm.h"

/* Subcommands, as bits of an option's `used_by` mask. */
enum { WF_CMD_INSPECT = 1, WF_CMD_RUN = 2, WF_CMD_CHECK = 4, WF_CMD_BENCH = 8 };

typedef struct wf_wasm_cli {
  const char *cmd;
  const char *module; /* positional; NULL for check/bench means the whole zoo */
  wf_wasm_options opts;
  const char *engines; /* check: comma-separated */
  const char *input_file;
  uint64_t seed;
  int have_seed, have_param, json;
  uint64_t gas_limit;
  int32_t param;
  long inputs, iters;
} wf_wasm_cli;

#define WF_WASM_DEFAULT_GAS_LIMIT 100000000000ull /* 0.1 s at 1 Tgas/s, ~714k SDK gas */

/* Parses argv[1..] for subcommand `cmd`. Returns 0 to go on, 1 after printing --help (synopsis,
 * about and the subcommand's options), 2 after printing a usage error. */
int wf_wasm_cli_parse(int argc, char **argv, unsigned cmd, const char *synopsis, const char *about,
                      wf_wasm_cli *c);

int wf_wasm_cmd_inspect(int argc, char **argv);
int wf_wasm_cmd_run(int argc, char **argv);
int wf_wasm_cmd_check(int argc, char **argv);
int wf_wasm_cmd_bench(int argc, char **argv);

/* The zoo modules the build produced, for check and bench without a module argument. */
extern const char *const wf_wasm_zoo_names[];
void wf_wasm_zoo_path(const char *name, const char *ext, char *out, size_t cap);

/* Prints the first n elements of a typed output buffer, comma-separated. */
void wf_wasm_print_values(FILE *f, const char *type, const uint8_t *p, uint32_t len, int max,
                          int json);

/* What `check` found for one module. */
typedef struct wf_wasm_check_report {
  int pass;
  long inputs, mismatches;
  int nengines;
  wf_wasm_engine engines[4];
  double gas_mean;   /* of the first engine's successful calls */
  long failed_calls; /* calls that trapped (the same way on every engine, or a mismatch) */
  char first_mismatch[256];
} wf_wasm_check_report;

/* Runs n seeded inputs (seeds seed, seed+1, ...) on each engine and on the first engine twice,
 * comparing status, output bytes and gas. A module with a param range gets params cycling
 * through it unless have_param fixes one. -1 only when a module cannot be loaded. */
int wf_wasm_check(const char *path, const wf_wasm_engine *engines, int nengines, long n,
                  uint64_t seed, int have_param, int32_t param, uint64_t gas_limit,
                  const wf_wasm_options *base, wf_wasm_check_report *rep, wf_error *err);

/* Writes s as a JSON string literal. */
void wf_wasm_json_str(FILE *f, const char *s);

/* The whole CLI; argv[0] is "wasm". */
int wf_wasm_main(int argc, char **argv);

#endif
