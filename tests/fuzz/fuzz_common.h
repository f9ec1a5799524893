/* What the libFuzzer targets share: loaders that read files get the input through a scratch
 * file of this process's own, and each target states what it checks beyond "no crash, no leak,
 * no hang" in its opening comment. */
#ifndef WF_FUZZ_COMMON_H
#define WF_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes data to a scratch file named after the process and suffix ("x.lua"); returns its path
 * (static storage). Aborts if the file cannot be written: the harness is broken, not weft. */
static inline const char *wf_fuzz_file(const uint8_t *data, size_t size, const char *suffix) {
  static char path[256];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/weft-fuzz-%d-%s", dir && *dir ? dir : "/tmp", (int)getpid(),
           suffix);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
  return path;
}

#endif
