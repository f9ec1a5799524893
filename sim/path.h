/* File-system paths: creating output folders and taking paths apart. Shared by `weft run`,
 * `weft sweep`, `weft report` and the Lua bindings. */
#ifndef WF_PATH_H
#define WF_PATH_H

#include "error.h"

/* mkdir -p: creates dir and any missing parents; an existing directory is fine, an existing
 * file of that name is an error. */
int wf_mkdirs(const char *dir, wf_error *err);
/* The directory part of path ("." when none) and the file name without ".lua"; malloc'd. */
char *wf_path_dir(const char *path);
char *wf_path_stem(const char *path);

#endif
