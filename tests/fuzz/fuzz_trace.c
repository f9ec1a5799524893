/* The trace reader on any bytes, as an image in memory (HDF5's core driver): what `weft
 * report` and `weft compare` read, that is the open with its full check, then every series,
 * every numeric column of every table and every dataset raw. Beyond not crashing, leaking or
 * hanging: a trace that opened reads whole, and no HDF5 handle outlives the reader (HDF5's id
 * table keeps what a leaked handle holds reachable, so the leak checker cannot see it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
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

/* Handles the reader may leave open. LeakSanitizer cannot see them: HDF5's id table keeps
 * what they hold reachable. Files (and the groups, datasets and attributes in them, which the
 * reader's strong close ends with the file) HDF5 counts. Dataspaces, datatypes, property lists
 * and error stacks (the reader saves HDF5's) it does not, so the harness makes one of a kind
 * before and after each input: HDF5 numbers the ids of a kind in sequence, and every id between
 * the two is one the input made, which must be closed again (HDF5 1.10's H5I). Only the
 * reading process is checked: the child that proves a version-1 trace ends with _exit. */
static hid_t new_space(void) {
  return H5Screate(H5S_SCALAR);
}
static hid_t new_type(void) {
  return H5Tcopy(H5T_NATIVE_INT);
}
static hid_t new_plist(void) {
  return H5Pcreate(H5P_DATASET_XFER);
}
static struct {
  const char *name;
  hid_t (*make)(void);
  herr_t (*close)(hid_t);
  hid_t last; /* the probe made after the previous input */
} kinds[] = {{"dataspace", new_space, H5Sclose, 0},
             {"datatype", new_type, H5Tclose, 0},
             {"property list", new_plist, H5Pclose, 0},
             {"error stack", H5Ecreate_stack, H5Eclose_stack, 0}};
#define NKINDS (sizeof kinds / sizeof *kinds)

static hid_t probe(size_t k) {
  hid_t id = kinds[k].make();
  if (id < 0 || kinds[k].close(id) < 0) abort();
  return id;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  wf_trace_child_start = quiet_child;
  for (size_t k = 0; k < NKINDS; k++) kinds[k].last = probe(k);
  return 0;
}

static void check_handles(void) {
  ssize_t files = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (files != 0) {
    fprintf(stderr, "fuzz_trace: %zd HDF5 file or object handle(s) left open by the input\n",
            files);
    abort();
  }
  for (size_t k = 0; k < NKINDS; k++) {
    hid_t now = probe(k);
    for (hid_t id = kinds[k].last + 1; id < now; id++)
      if (H5Iis_valid(id) > 0) {
        fprintf(stderr, "fuzz_trace: an HDF5 %s handle left open by the input\n", kinds[k].name);
        abort();
      }
    kinds[k].last = now;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open_image(data, size, "fuzz.h5", &err);
  if (!r) {
    if (!err.set) abort();
    check_handles();
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
  check_handles();
  return 0;
}
