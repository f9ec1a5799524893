/* `weft bench sync`: the cost of one window exchange between ranks, measured under mpirun with
 * empty and loaded outboxes. The scaling model (cluster/SCALING.md) starts from this figure. */
#ifndef WF_BENCH_SYNC_H
#define WF_BENCH_SYNC_H

int wf_bench_sync_main(int argc, char **argv);

#endif
