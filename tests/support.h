/* Helpers shared by the C tests: scratch files in a per-process temporary directory. */
#ifndef WF_TEST_SUPPORT_H
#define WF_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char wf_test_dir[256];

/* Path of `name` inside this test's scratch directory (created on first use). */
static inline const char *wf_test_path(const char *name) {
  static char path[512];
  if (!wf_test_dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(wf_test_dir, sizeof wf_test_dir, "%s/weft-test-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(wf_test_dir)) {
      perror("mkdtemp");
      exit(1);
    }
  }
  snprintf(path, sizeof path, "%s/%s", wf_test_dir, name);
  return path;
}

/* Writes text to the scratch file `name`; returns its path (static buffer). */
static inline const char *wf_test_write(const char *name, const char *text) {
  const char *path = wf_test_path(name);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  return path;
}

#endif
