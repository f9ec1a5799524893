/* Workloads: client LPs that load a chain with transactions (weft.load{...}, workload.c,
 * models/README.md "Workloads"). Each client is one connection to one validator: it submits
 * wf_tx messages (models/tx.h) over the transport and records what became of each. */
#ifndef WF_WORKLOAD_H
#define WF_WORKLOAD_H

#include "../sim/model.h"
#include "chain.h"

extern const wf_model wf_model_workload;

/* weft.load's arguments; 'chain' is a handle of kind "chain". */
extern const wf_arg_spec wf_load_args[];
extern const unsigned wf_load_nargs;

/* The build behind weft.load, for a chain given by its info rather than by weft.chain's handle:
 * for other models whose nodes answer WF_TX_SUBMIT (and tests' stand-ins). `a` is checked
 * against wf_load_args (a copy whose 'chain' accepts another kind will do); its 'chain' is not
 * read. The clients join chain->group. */
int wf_load_build_on(wf_engine *eng, const wf_args *a, const wf_chain_info *chain, wf_built *out,
                     wf_error *err);

/* One row of a replay CSV (weft.load{replay = ...}: time_s,type,bytes,gas). */
typedef struct wf_replay_row {
  wf_time t; /* after the load's 'start' */
  uint32_t bytes, gas;
  uint8_t type;
} wf_replay_row;

/* Reads a replay CSV into *rows (malloc'd, *n of them, n > 0): every row checked, errors name
 * the file and line. The loader behind weft.load's 'replay' (and tests/fuzz's target). */
int wf_replay_read(const char *path, wf_replay_row **rows, uint32_t *n, wf_error *err);

#endif
