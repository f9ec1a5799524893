/* `weft bench output`: rank 0 gathering a record table and writing it alone, against every
 * rank writing its part with parallel HDF5 (MPI-IO), under mpirun. */
#ifndef WF_BENCH_OUTPUT_H
#define WF_BENCH_OUTPUT_H

int wf_bench_output_main(int argc, char **argv);

#endif
