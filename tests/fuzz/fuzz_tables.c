/* weft's text loaders on any bytes: a region table (RTT CSV, sim/net/regions.c), a replay CSV
 * (weft.load{replay = ...}) and the CSV reader behind sweep indexes. Beyond not crashing,
 * leaking or hanging: a table that loads is square with named, distinct regions and
 * non-negative delays; a replay goes forward in time. */
#include <stdlib.h>
#include <string.h>

#include "../../models/workload.h"
#include "cli/sweep_index.h"
#include "fuzz_common.h"
#include "net/regions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = wf_fuzz_file(data, size, "table.csv");
  wf_regions reg;
  wf_error err = {0};
  if (wf_regions_load(&reg, path, 1000, &err) == 0) {
    for (uint32_t i = 0; i < reg.n; i++) {
      if (!reg.names[i] || !reg.names[i][0]) abort();
      for (uint32_t j = 0; j < reg.n; j++)
        if (j < i && strcmp(reg.names[i], reg.names[j]) == 0) abort();
    }
    wf_regions_free(&reg);
  }
  wf_replay_row *rows;
  uint32_t n;
  wf_error e2 = {0};
  if (wf_replay_read(path, &rows, &n, &e2) == 0) {
    for (uint32_t i = 1; i < n; i++)
      if (rows[i].t < rows[i - 1].t) abort();
    free(rows);
  }
  wf_csv csv;
  wf_error e3 = {0};
  if (wf_csv_load(path, &csv, &e3) == 0) wf_csv_free(&csv);
  return 0;
}
