/* weft bench net: what the transport costs per message on top of a bare wf_send.
 *
 * N nodes spread over the regions of the shipped RTT table each keep `per_node` messages in
 * flight: a node that receives one sends a new one to a node chosen at random. Two variants
 * run the same traffic:
 *   bare  the model sends with wf_send after the one-way latency of the pair (one table read):
 *         the least a model that moves messages between regions costs the engine;
 *   net   the model calls wf_net_send and the transport does the rest (uplink FIFO,
 *         propagation, downlink and processing FIFOs, per-class delay histogram, byte and
 *         message counters).
 * The bare variant runs first with an event budget; the net variant then runs to the simulated
 * time the bare one reached, so both deliver about the same messages. The figure is wall time
 * per delivered message, net over bare, medians of interleaved repetitions. */
#include "bench_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "engine.h"
#include "opts.h"
#include "net/net.h"

enum { O_NODES, O_PER_NODE, O_BYTES, O_BANDWIDTH, O_MESSAGES, O_REPS };

static const wf_opt opts[] = {
    {"nodes", 0, "N",
     "nodes, spread round-robin over the regions of the shipped table (default 1024)"},
    {"per-node", 0, "K", "messages each node keeps in flight (default 1)"},
    {"bytes", 0, "B", "size of each message on the wire (default 1000)"},
    {"bandwidth", 0, "BPS",
     "uplink and downlink of every node in bit/s, 1e9 notation allowed\n"
     "(default 1e9)"},
    {"messages", 0, "M", "messages the bare variant delivers per repetition (default 2e6)"},
    {"reps", 0, "R", "repetitions, bare and net interleaved; medians are shown (default 3)"},
};
#define NOPTS (sizeof opts / sizeof *opts)
#define MAX_REPS 99
#define PAYLOAD 32 /* a model payload as large as the transport carries */

typedef struct args {
  uint64_t nodes, per_node, bytes, bandwidth, messages, reps;
  int help;
} args;

typedef struct bench_cfg {
  wf_net *net;
  wf_lpid first;
  uint32_t n, per_node, bytes;
  uint64_t delivered;
} bench_cfg;

typedef struct bench_node {
  wf_net_port port;
  unsigned char payload[PAYLOAD];
} bench_node;

enum { K_BARE = 1 };

/* A destination other than the sender, uniformly. */
static wf_lpid pick(wf_lp *lp, const bench_cfg *c) {
  uint32_t me = wf_lp_id(lp) - c->first, d = (uint32_t)wf_rng_below(wf_lp_rng(lp), c->n - 1);
  return c->first + (d >= me ? d + 1 : d);
}

static void send_bare(wf_lp *lp, bench_cfg *c, bench_node *s) {
  wf_lpid dst = pick(lp, c);
  wf_time lat = wf_net_latency(c->net, wf_lp_id(lp) - c->first, dst - c->first);
  wf_send(lp, dst, lat, K_BARE, s->payload, PAYLOAD);
}

static void send_net(wf_lp *lp, bench_cfg *c, bench_node *s) {
  wf_net_send(lp, c->net, &s->port, NULL, pick(lp, c), c->bytes, 1, 0, s->payload, PAYLOAD);
}

static void bare_init(wf_lp *lp, void *st, const void *cfg) {
  bench_cfg *c = (bench_cfg *)cfg;
  for (uint32_t i = 0; i < c->per_node; i++) send_bare(lp, c, st);
}

static void bare_handle(wf_lp *lp, void *st, const wf_event *ev) {
  bench_cfg *c = (bench_cfg *)wf_lp_cfg(lp);
  bench_node *s = st;
  memcpy(s->payload, ev->data, PAYLOAD);
  c->delivered++;
  send_bare(lp, c, s);
}

static void net_init(wf_lp *lp, void *st, const void *cfg) {
  bench_cfg *c = (bench_cfg *)cfg;
  bench_node *s = st;
  wf_net_port_init(lp, c->net, &s->port);
  for (uint32_t i = 0; i < c->per_node; i++) send_net(lp, c, s);
}

static void net_handle(wf_lp *lp, void *st, const wf_event *ev) {
  bench_cfg *c = (bench_cfg *)wf_lp_cfg(lp);
  bench_node *s = st;
  wf_net_msg m;
  if (!wf_net_owns(ev) || !wf_net_receive(lp, c->net, &s->port, ev, &m)) return;
  memcpy(s->payload, m.data, PAYLOAD);
  c->delivered++;
  send_net(lp, c, s);
}

typedef struct outcome {
  double wall_s;
  uint64_t events, delivered;
  wf_time sim_time;
} outcome;

/* One run of one variant; end is the simulated time to stop at, or 0 to stop after
 * a->messages events. */
static int run_once(const args *a, int via_net, wf_time end, outcome *out, wf_error *err) {
  wf_engine *eng = wf_engine_new(err);
  if (!eng) return -1;
  int rc = -1;
  bench_cfg c = {
      .n = (uint32_t)a->nodes, .per_node = (uint32_t)a->per_node, .bytes = (uint32_t)a->bytes};
  wf_lp_type t = {via_net ? "bench_net" : "bench_bare",
                  sizeof(bench_node),
                  0,
                  via_net ? net_init : bare_init,
                  via_net ? net_handle : bare_handle,
                  NULL};
  wf_net_params p = {.same_region_rtt = 250 * WF_US, .mss = 1460, .rto = 200 * WF_MS};
  uint16_t *region = malloc(c.n * sizeof *region);
  double *bps = malloc(c.n * sizeof *bps);
  if (!region || !bps) {
    wf_error_set(err, "out of memory for %u nodes", c.n);
    goto out;
  }
  if (!(c.net = wf_net_new(eng, &p, err)) || wf_net_class(c.net, "bench", err) != 0) goto out;
  t.min_delay = wf_net_min_delay(c.net);
  c.first = wf_engine_add_lps(eng, &t, c.n, &c, 0, err);
  if (c.first == WF_LP_NONE) goto out;
  for (uint32_t i = 0; i < c.n; i++) {
    region[i] = (uint16_t)(i % wf_net_region_count(c.net));
    bps[i] = (double)a->bandwidth;
  }
  if (wf_net_attach(c.net, c.first, c.n, region, bps, bps, err) == UINT32_MAX) goto out;
  wf_run_opts o = {
      .end_time = end ? end : WF_TIME_MAX / 2, .max_events = end ? 0 : a->messages, .seed = 1};
  wf_run_stats st;
  if (wf_engine_run(eng, &o, &st, err) != 0) goto out;
  *out = (outcome){st.wall_s, st.events, c.delivered, st.sim_time};
  rc = 0;
out:
  free(region);
  free(bps);
  wf_engine_free(eng);
  return rc;
}

static int on_opt(void *ud, int idx, const char *v, wf_error *err) {
  args *a = ud;
  switch (idx) {
  case -1:
    a->help = 1;
    return 0;
  case O_NODES:
    return wf_bench_count(v, "nodes", 1e8, &a->nodes, err);
  case O_PER_NODE:
    return wf_bench_count(v, "per-node", 1e4, &a->per_node, err);
  case O_BYTES:
    return wf_bench_count(v, "bytes", 4e9, &a->bytes, err);
  case O_BANDWIDTH:
    return wf_bench_count(v, "bandwidth", 1e15, &a->bandwidth, err);
  case O_MESSAGES:
    return wf_bench_count(v, "messages", 1e12, &a->messages, err);
  case O_REPS:
    return wf_bench_count(v, "reps", MAX_REPS, &a->reps, err);
  }
  return 0;
}

int wf_bench_net_main(int argc, char **argv) {
  args a = {.nodes = 1024,
            .per_node = 1,
            .bytes = 1000,
            .bandwidth = 1000000000,
            .messages = 2000000,
            .reps = 3};
  wf_error err = {0};
  if (wf_opts_parse(argc, argv, opts, NOPTS, on_opt, wf_opts_no_args, &a, &err) != 0) {
    fprintf(stderr, "weft bench net: %s\n", err.msg);
    return 2;
  }
  if (a.help) {
    wf_opts_help(stdout, "weft bench net [options]",
                 "Measures what the network transport costs per message on top of a bare\n"
                 "wf_send: N nodes over the shipped table's regions keep K messages each in\n"
                 "flight to random peers, sent once with wf_send after the pair's latency\n"
                 "(bare) and once through wf_net_send (net), to the same simulated time. Prints\n"
                 "ns per delivered message for each, their ratio, and the events the transport\n"
                 "spends per message (1 unless messages queue at a receiver's downlink).",
                 opts, NOPTS);
    return 0;
  }
  if (a.nodes < 2) {
    fprintf(stderr, "weft bench net: --nodes %llu: at least 2 nodes are needed\n",
            (unsigned long long)a.nodes);
    return 2;
  }
  printf("weft bench net: %llu nodes x %llu in flight, %llu-byte messages at %.3g bit/s, "
         "median of %llu\n",
         (unsigned long long)a.nodes, (unsigned long long)a.per_node, (unsigned long long)a.bytes,
         (double)a.bandwidth, (unsigned long long)a.reps);
  double ns[2][MAX_REPS], evm[2][MAX_REPS];
  uint64_t msgs[2] = {0};
  for (uint64_t r = 0; r < a.reps; r++) {
    outcome o[2];
    if (run_once(&a, 0, 0, &o[0], &err) != 0 || run_once(&a, 1, o[0].sim_time, &o[1], &err) != 0) {
      fprintf(stderr, "weft bench net: %s\n", err.msg);
      return 1;
    }
    for (int v = 0; v < 2; v++) {
      uint64_t d = o[v].delivered ? o[v].delivered : 1;
      ns[v][r] = o[v].wall_s * 1e9 / (double)d;
      evm[v][r] = (double)o[v].events / (double)d;
      msgs[v] = o[v].delivered;
    }
  }
  double med[2], ev[2];
  for (int v = 0; v < 2; v++) {
    med[v] = wf_bench_median(ns[v], a.reps);
    ev[v] = wf_bench_median(evm[v], a.reps);
  }
  printf("%-8s %12s %10s %10s %12s\n", "variant", "messages", "ns/msg", "Mmsg/s", "events/msg");
  static const char *const names[2] = {"bare", "net"};
  for (int v = 0; v < 2; v++)
    printf("%-8s %12llu %10.1f %10.2f %12.3f\n", names[v], (unsigned long long)msgs[v], med[v],
           1e3 / med[v], ev[v]);
  printf("net / bare: %.2fx the time per message\n", med[1] / med[0]);
  return 0;
}
