/* weft.network{...} and weft.partition{...}: the scenario's side of the transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "regions.h"

static const wf_arg_spec network_args[] = {
    {"rtt_table", WF_ARG_STR, "", 1, 0,
     "CSV of round-trip times in ms between regions; \"\" or \"aws\": the shipped AWS table of 21 "
     "regions; \"cometbft-qa\": CometBFT QA's 13 zones (sim/net/data/README.md)"},
    {"same_region_rtt", WF_ARG_DURATION, "0.25ms", 0, 10,
     "RTT between two nodes of one region (replaces the table's diagonal)"},
    {"jitter", WF_ARG_STR, "none", 1, 0,
     "per-message extra delay: none, normal (sd = jitter_frac x latency, clamped at 3 sd), "
     "uniform (+-jitter_frac x latency), exponential (mean jitter_frac x latency)"},
    {"jitter_frac", WF_ARG_NUM, "0.05", 0, 10, "size of the jitter relative to the latency"},
    {"loss", WF_ARG_NUM, "0", 0, 0.5, "probability that a TCP segment is lost"},
    {"mss", WF_ARG_INT, "1460", 1, 65535, "TCP segment size, bytes (for loss)"},
    {"rto", WF_ARG_DURATION, "200ms", 0, 120, "delay one lost segment costs (Linux's minimum RTO)"},
    {"processing", WF_ARG_DURATION, "0", 0, 3600, "per-message processing at the receiver, FIFO"},
    {"partition_mode", WF_ARG_STR, "buffer", 1, 0,
     "messages across a cut: buffer (held until it heals, then sent in order) or drop"},
};

static int parse_jitter(const char *s, wf_jitter *j, wf_error *err) {
  static const char *names[] = {"none", "normal", "uniform", "exponential"};
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) {
      *j = (wf_jitter)i;
      return 0;
    }
  return wf_error_set(err, "'jitter' = '%s': expected none, normal, uniform or exponential", s);
}

static int network_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  const char *table = wf_arg_str(a, "rtt_table");
  if (!strcmp(table, "aws")) table = WF_REGIONS_DEFAULT;
  if (!strcmp(table, "cometbft-qa")) table = WF_REGIONS_COMETBFT_QA;
  wf_net_params p = {
      .rtt_table = table,
      .same_region_rtt = wf_arg_duration(a, "same_region_rtt"),
      .jitter_frac = wf_arg_num(a, "jitter_frac"),
      .loss = wf_arg_num(a, "loss"),
      .mss = (uint32_t)wf_arg_int(a, "mss"),
      .rto = wf_arg_duration(a, "rto"),
      .proc = wf_arg_duration(a, "processing"),
  };
  if (parse_jitter(wf_arg_str(a, "jitter"), &p.jitter, err) != 0) return -1;
  if (p.jitter == WF_JITTER_NORMAL && p.jitter_frac >= 1.0 / 3)
    return wf_error_set(err, "'jitter_frac' = %g: normal jitter needs < 1/3 (clamped at 3 sd, "
                             "a delay must stay positive)",
                        p.jitter_frac);
  if (p.jitter == WF_JITTER_UNIFORM && p.jitter_frac >= 1)
    return wf_error_set(err, "'jitter_frac' = %g: uniform jitter needs < 1", p.jitter_frac);
  const char *mode = wf_arg_str(a, "partition_mode");
  if (strcmp(mode, "buffer") && strcmp(mode, "drop"))
    return wf_error_set(err, "'partition_mode' = '%s': expected buffer or drop", mode);
  p.cut_mode = mode[0] == 'd' ? WF_NET_DROP : WF_NET_BUFFER;
  wf_net *net = wf_net_new(eng, &p, err);
  if (!net) return -1;
  *out = (wf_built){WF_LP_NONE, 0, net, "network"};
  return 0;
}

const wf_arg_spec wf_net_region_fields[3] = {
    {"region", WF_ARG_STR, NULL, 1, 0, "a region of the network's table"},
    {"count", WF_ARG_INT, NULL, 1, 1e8, "nodes in it"},
    {"bandwidth", WF_ARG_NUM, "0", 0, 1e15, "their up and down bandwidth, bit/s (0: the builder's)"},
};

uint32_t wf_net_place_nodes(const wf_args *a, const char *count_key, const wf_net *net,
                            uint16_t **region, double **up, double **down, wf_error *err) {
  const wf_arg_value *list = wf_arg(a, "regions");
  uint64_t n = 0;
  for (uint32_t i = 0; i < list->n; i++) n += (uint64_t)wf_arg_field(&list->elems[i], "count")->i;
  if (!list->n) n = (uint64_t)wf_arg_int(a, count_key);
  if (n > 100000000) return wf_error_set(err, "%llu nodes: at most 10^8", (unsigned long long)n), 0;
  *region = malloc(n * sizeof **region), *up = malloc(n * sizeof **up);
  *down = malloc(n * sizeof **down);
  if (!*region || !*up || !*down) return wf_error_set(err, "out of memory"), 0;
  double bw = wf_arg_num(a, "bandwidth"), dl = wf_arg_num(a, "downlink");
  uint32_t k = 0;
  for (uint32_t i = 0; i < list->n; i++) {
    const char *name = wf_arg_field(&list->elems[i], "region")->s;
    int r = wf_net_region(net, name);
    if (r < 0)
      return wf_error_set(err, "'regions[%u].region' = '%s': not a region of the network", i + 1,
                          name),
             0;
    double b = wf_arg_field(&list->elems[i], "bandwidth")->d;
    for (int64_t j = 0; j < wf_arg_field(&list->elems[i], "count")->i; j++, k++)
      (*region)[k] = (uint16_t)r, (*up)[k] = b > 0 ? b : bw, (*down)[k] = b > 0 ? b : dl > 0 ? dl : bw;
  }
  for (; k < n; k++)
    (*region)[k] = (uint16_t)(k % wf_net_region_count(net)), (*up)[k] = bw,
    (*down)[k] = dl > 0 ? dl : bw;
  return (uint32_t)n;
}

static const wf_arg_spec partition_args[] = {
    {"network", WF_ARG_HANDLE, NULL, 1, 0, "the network to cut", .kind = "network"},
    {"from", WF_ARG_DURATION, NULL, 0, 1.8e10, "when the cut starts"},
    {"to", WF_ARG_DURATION, NULL, 0, 1.8e10, "when it heals (after from)"},
    {"regions", WF_ARG_LIST, "{}", 1, 0, "the regions on one side (the rest on the other)",
     .elem = WF_ARG_STR},
    {"nodes", WF_ARG_LIST, "{}", 1, 4294967295.0,
     "or: the nodes on one side, numbered from 1 in the order they joined the network",
     .elem = WF_ARG_INT},
};

static int partition_members(const wf_net *net, const wf_arg_value *regions,
                             const wf_arg_value *nodes, uint8_t *m, wf_error *err) {
  for (uint32_t i = 0; i < regions->n; i++) {
    int r = wf_net_region(net, regions->elems[i].s);
    if (r < 0)
      return wf_error_set(err, "'regions[%u]' = '%s': no such region in the network's table",
                          i + 1, regions->elems[i].s);
    m[r] = 1;
  }
  for (uint32_t i = 0; i < nodes->n; i++) {
    int64_t k = nodes->elems[i].i;
    if (k < 1 || k > (int64_t)wf_net_node_count(net))
      return wf_error_set(err, "'nodes[%u]' = %lld: the network has nodes 1 to %u (nodes join "
                               "before a partition names them)",
                          i + 1, (long long)k, wf_net_node_count(net));
    m[k - 1] = 1;
  }
  return 0;
}

static int partition_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  (void)eng;
  wf_net *net = wf_arg(a, "network")->h;
  const wf_arg_value *regions = wf_arg(a, "regions"), *nodes = wf_arg(a, "nodes");
  wf_time t1 = wf_arg_duration(a, "from"), t2 = wf_arg_duration(a, "to");
  if ((regions->n == 0) == (nodes->n == 0))
    return wf_error_set(err, "give the cut's side as either 'regions' or 'nodes'");
  if (t2 <= t1) return wf_error_set(err, "'to' must be after 'from'");
  uint32_t n = regions->n ? wf_net_region_count(net) : wf_net_node_count(net);
  uint8_t *m = calloc(n ? n : 1, 1);
  if (!m) return wf_error_set(err, "out of memory");
  int rc = partition_members(net, regions, nodes, m, err);
  if (rc == 0) rc = wf_net_cut_add(net, t1, t2, regions->n != 0, m, err);
  free(m);
  *out = (wf_built){WF_LP_NONE, 0, NULL, NULL};
  return rc;
}

static const wf_builder net_builders[] = {
    {"network", "a transport: regions and their latencies, jitter, loss, partition mode",
     network_args, sizeof network_args / sizeof *network_args, network_build},
    {"partition", "a cut of a network from one time to another", partition_args,
     sizeof partition_args / sizeof *partition_args, partition_build},
};

const wf_model wf_model_net = {"network", "the transport: latency, bandwidth, partitions",
                               net_builders, 2};
