/* `weft bench queue`: the pending-event sets (the engine's 4-ary heap, a plain binary heap and
 * the ladder queue) under the classic hold model from 10^3 to 10^6 pending entries, so the
 * engine's choice of queue rests on figures measured on the machine at hand (README.md,
 * Architecture, rule 8). */
#ifndef WF_BENCH_QUEUE_H
#define WF_BENCH_QUEUE_H

/* argv[0] is "queue". Prints the table on stdout. Returns 0, 1 if a structure fails (out of
 * memory, or pops that differ from the others'), 2 on a usage error. */
int wf_bench_queue_main(int argc, char **argv);

#endif
