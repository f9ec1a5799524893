/* The trace reader on any bytes, as an image in memory (HDF5's core driver): what `weft
 * report` and `weft compare` read, that is the open with its full check, then every series,
 * every numeric column of every table and every dataset raw. Beyond not crashing, leaking or
 * hanging: a trace that opened reads whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/common_interface_defs.h>

#include "trace.h"

static void read_tables(wf_trace_reader *r, const char *group) {
  for (size_t i = 0; i < wf_trace_table_count(r, group); i++) {
    const char *name = wf_trace_table_name(r, group, i);
    size_t nrows, ncols, n;
    wf_error err = {0};
    if (wf_trace_table_shape(r, group, name, &nrows, &ncols, &err) != 0) abort();
    if (ncols) { /* one column, as the report reads them: all of them only repeats the work */
      wf_error e = {0};
      free(wf_trace_table_column(r, group, name, wf_trace_table_column_name(r, group, name, 0), &n,
                                 &e));
    }
    char path[600];
    snprintf(path, sizeof path, "/%s/%s", group, name);
    wf_error e = {0};
    free(wf_trace_read_raw(r, path, &n, &e));
  }
}

/* In the child that proves a version-1 trace readable, a crash is the expected way to fail:
 * without libFuzzer's death callback the sanitizer just ends the child, and the parent reports
 * the trace as corrupted. */
static void quiet_child(void) {
  __sanitizer_set_death_callback(NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  wf_trace_child_start = quiet_child;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open_image(data, size, "fuzz.h5", &err);
  if (!r) {
    if (!err.set) abort();
    return 0;
  }
  for (size_t i = 0; i < wf_trace_attr_count(r); i++)
    if (!wf_trace_attr_text(r, wf_trace_attr_name(r, i))) abort();
  for (size_t i = 0; i < wf_trace_series_count(r); i++) {
    size_t n;
    wf_error e = {0};
    double *v = wf_trace_series_read(r, i, &n, &e);
    if (!v && strstr(e.msg, "corrupted")) abort(); /* the open checked every row */
    free(v);
    char obj[600];
    snprintf(obj, sizeof obj, "/series/%s", wf_trace_series_name(r, i));
    wf_trace_obj_attr_text(r, obj, "units");
  }
  read_tables(r, "records");
  read_tables(r, "histograms");
  read_tables(r, "summary");
  wf_trace_reader_close(r);
  return 0;
}
