/* weft bench net: the transport's cost per message against a bare wf_send (bench_net.c). */
#ifndef WF_BENCH_NET_H
#define WF_BENCH_NET_H

int wf_bench_net_main(int argc, char **argv);

#endif
