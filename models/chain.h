/* CometBFT chains: weft.chain{...} (chain.c, models/README.md). */
#ifndef WF_CHAIN_H
#define WF_CHAIN_H

#include "../sim/model.h"

extern const wf_model wf_model_chain;

#endif
