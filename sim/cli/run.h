/* `weft run`: load a scenario, run it, write its trace. The composition root hands in the
 * models and an optional step to run on the finished trace (the report). */
#ifndef WF_RUN_H
#define WF_RUN_H

#include <stddef.h>

#include "model.h"

/* Writes what follows from the trace (the report) and puts where it went in `where`. */
typedef int (*wf_after_run)(const char *trace_path, char *where, size_t size, wf_error *err);

int wf_cmd_run(int argc, char **argv, const wf_model *const *models, size_t nmodels,
               wf_after_run report);

#endif
