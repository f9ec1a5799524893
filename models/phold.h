/* PHOLD, the standard benchmark of parallel discrete-event simulation: every LP holds events;
 * handling one sends one more, to a random LP with probability `remote`, after the lookahead
 * plus an exponential delay. It exercises the engine and nothing else. */
#ifndef WF_PHOLD_H
#define WF_PHOLD_H

#include "../sim/model.h"

extern const wf_model wf_model_phold;

#endif
