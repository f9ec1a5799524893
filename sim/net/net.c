/* The analytic transport backend. A message from node A to node B:
 *   1. waits for A's uplink (FIFO) and occupies it for bytes / up_bps;
 *   2. propagates for the one-way latency of (region A, region B), plus jitter and one RTO per
 *      lost TCP segment; its first bit reaches B when its transmission starts + that latency;
 *   3. crosses B's downlink for bytes / down_bps, finishing no earlier than its last bit
 *      arrives (the links pipeline, as a TCP stream does) and no earlier than the downlink has
 *      finished the messages before it;
 *   4. waits for B's processing (FIFO) when the network has a per-message cost.
 * Steps 1-2 run in A's LP at send time. A sends one event, due when the message would be
 * delivered if B's downlink and processor were idle (its "ready" time: first bit + the slower
 * of the two serializations + processing); on it B runs steps 3-4 against its own FIFOs and
 * delivers at once when they were idle, which is the common case: one event per message. Only
 * a message that queues at B costs a second event. B's downlink therefore serves messages in
 * order of their ready times (ties in the engine's order), which for one sender through one
 * connection is send order; for messages from several senders it lets a short message that
 * arrives during a long one finish first, as TCP flows sharing a link do, where a strict FIFO
 * by first bit would hold it behind the whole long message.
 * A message whose transmission would start across an active cut is held by the sender until
 * the cut heals (then sent in order) or dropped, per the network's mode. */
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regions.h"

#define MAX_CLASSES 32
#define REGION_NAME 24

enum { K_ARRIVE = WF_NET_KIND_FIRST, K_DELIVER, K_RETRY, K_CUT_START, K_CUT_END };

typedef struct net_range {
  wf_lpid first;
  uint32_t count, base;
} net_range;

typedef struct net_cut {
  wf_time t1, t2;
  int by_region;
  const uint8_t *members; /* per region or per node */
  uint32_t nmembers;
} net_cut;

struct wf_net {
  wf_engine *eng;
  wf_net_params p;
  uint32_t nregions;
  char **region_names;
  wf_time *one_way; /* nregions^2 */
  uint32_t nnodes, cap;
  uint16_t *region;
  uint64_t *up_bps, *down_bps;
  wf_lpid *lp;
  net_range *ranges;
  uint32_t nranges, ranges_cap;
  net_cut *cuts;
  uint32_t ncuts;
  char *class_name[MAX_CLASSES];
  wf_metric h_class[MAX_CLASSES];
  uint32_t nclasses;
  wf_metric m_bytes, m_msgs, m_dropped, m_busy, g_buffered, g_cuts;
  wf_record *r_nodes, *r_cuts;
};

/* The transport's part of an event; the model's payload follows it. */
typedef struct net_hdr {
  wf_time sent;
  wf_lpid peer;   /* ARRIVE, DELIVER: the sender; RETRY: the destination */
  uint32_t bytes;
  uint16_t kind;
  uint8_t cls, len;
} net_hdr;
_Static_assert(sizeof(net_hdr) + WF_NET_PAYLOAD_MAX <= WF_PAYLOAD_MAX, "net header too large");

/* ---- records ---- */

typedef struct node_row {
  uint32_t node, lp;
  char region[REGION_NAME];
  uint64_t bytes_sent, bytes_received, msgs_sent, msgs_received, dropped;
} node_row;

static const wf_column node_cols[] = {
    WF_COLUMN(node_row, node, WF_COL_U32, NULL),
    WF_COLUMN(node_row, lp, WF_COL_U32, NULL),
    WF_COLUMN(node_row, region, WF_COL_STR, NULL),
    WF_COLUMN(node_row, bytes_sent, WF_COL_U64, "bytes"),
    WF_COLUMN(node_row, bytes_received, WF_COL_U64, "bytes"),
    WF_COLUMN(node_row, msgs_sent, WF_COL_U64, "messages"),
    WF_COLUMN(node_row, msgs_received, WF_COL_U64, "messages"),
    WF_COLUMN(node_row, dropped, WF_COL_U64, "messages"),
};

typedef struct cut_row {
  uint32_t cut, by_region;
  uint64_t t1_ns, t2_ns;
  uint32_t members, mode; /* mode: 0 buffer, 1 drop */
} cut_row;

static const wf_column cut_cols[] = {
    WF_COLUMN(cut_row, cut, WF_COL_U32, NULL),
    WF_COLUMN(cut_row, by_region, WF_COL_U32, NULL),
    WF_COLUMN(cut_row, t1_ns, WF_COL_U64, "ns"),
    WF_COLUMN(cut_row, t2_ns, WF_COL_U64, "ns"),
    WF_COLUMN(cut_row, members, WF_COL_U32, NULL),
    WF_COLUMN(cut_row, mode, WF_COL_U32, NULL),
};

/* ---- building ---- */

static char *edup(wf_engine *eng, const char *s) {
  char *d = wf_engine_alloc(eng, strlen(s) + 1);
  if (d) strcpy(d, s);
  return d;
}

static int copy_regions(wf_net *net, const wf_regions *r, wf_error *err) {
  net->nregions = r->n;
  net->region_names = wf_engine_alloc(net->eng, r->n * sizeof(char *));
  net->one_way = wf_engine_alloc(net->eng, (size_t)r->n * r->n * sizeof(wf_time));
  if (!net->region_names || !net->one_way) return wf_error_set(err, "out of memory");
  memcpy(net->one_way, r->one_way, (size_t)r->n * r->n * sizeof(wf_time));
  for (uint32_t i = 0; i < r->n; i++)
    if (!(net->region_names[i] = edup(net->eng, r->names[i])))
      return wf_error_set(err, "out of memory");
  return 0;
}

static int define_metrics(wf_net *net, wf_error *err) {
  wf_engine *e = net->eng;
  net->m_bytes = wf_counter_define(e, "net_bytes", "bytes", "bytes put on the wire", err);
  net->m_msgs = wf_counter_define(e, "net_messages", "messages", "messages sent", err);
  net->m_dropped =
      wf_counter_define(e, "net_dropped", "messages", "messages dropped by a partition", err);
  net->m_busy = wf_counter_define(e, "net_uplink_busy", "ns",
                                  "uplink busy time; per second of simulated time, / 1e9 = the "
                                  "mean number of busy uplinks",
                                  err);
  net->g_buffered = wf_gauge_define(e, "net_buffered", "messages",
                                    "messages held by senders until a partition heals", err);
  net->g_cuts = wf_gauge_define(e, "net_partitions", "cuts", "partitions in force", err);
  if (net->m_bytes == WF_METRIC_NONE || net->m_msgs == WF_METRIC_NONE ||
      net->m_dropped == WF_METRIC_NONE || net->m_busy == WF_METRIC_NONE ||
      net->g_buffered == WF_METRIC_NONE || net->g_cuts == WF_METRIC_NONE)
    return -1;
  net->r_nodes = wf_record_define(e, "net_nodes", node_cols, sizeof node_cols / sizeof *node_cols,
                                  sizeof(node_row),
                                  "per node: region, bytes and messages sent and received", err);
  net->r_cuts = wf_record_define(e, "net_partitions", cut_cols, sizeof cut_cols / sizeof *cut_cols,
                                 sizeof(cut_row),
                                 "the partition schedule: each cut's window and side", err);
  return net->r_nodes && net->r_cuts ? 0 : -1;
}

wf_net *wf_net_new(wf_engine *eng, const wf_net_params *p, wf_error *err) {
  wf_net *net = wf_engine_alloc(eng, sizeof *net);
  if (!net) {
    wf_error_set(err, "out of memory");
    return NULL;
  }
  net->eng = eng;
  net->p = *p;
  if (net->p.mss == 0) net->p.mss = 1460;
  const char *path = p->rtt_table && p->rtt_table[0] ? p->rtt_table : WF_REGIONS_DEFAULT;
  wf_regions r;
  if (wf_regions_load(&r, path, p->same_region_rtt, err) != 0) return NULL;
  int rc = copy_regions(net, &r, err);
  wf_regions_free(&r);
  net->p.rtt_table = NULL; /* the caller's string need not outlive the build */
  if (rc != 0 || define_metrics(net, err) != 0) return NULL;
  return net;
}

int wf_net_region(const wf_net *net, const char *name) {
  for (uint32_t i = 0; i < net->nregions; i++)
    if (strcmp(net->region_names[i], name) == 0) return (int)i;
  return -1;
}
uint32_t wf_net_region_count(const wf_net *net) {
  return net->nregions;
}
uint32_t wf_net_node_count(const wf_net *net) {
  return net->nnodes;
}
int wf_net_node_region(const wf_net *net, uint32_t node) {
  return node < net->nnodes ? (int)net->region[node] : -1;
}

/* Grows an engine-owned array (the old copy stays with the engine until it is freed). */
static void *grow(wf_engine *eng, void *old, size_t used, size_t size) {
  void *p = wf_engine_alloc(eng, size);
  if (p && old) memcpy(p, old, used);
  return p;
}

static int reserve_nodes(wf_net *net, uint32_t more, wf_error *err) {
  if ((uint64_t)net->nnodes + more <= net->cap) return 0;
  uint64_t cap = net->cap ? net->cap : 256;
  while (cap < (uint64_t)net->nnodes + more) cap *= 2;
  if (cap > UINT32_MAX) return wf_error_set(err, "more than 2^32 nodes in one network");
  size_t n = net->nnodes;
  net->region = grow(net->eng, net->region, n * sizeof *net->region, cap * sizeof *net->region);
  net->up_bps = grow(net->eng, net->up_bps, n * sizeof *net->up_bps, cap * sizeof *net->up_bps);
  net->down_bps =
      grow(net->eng, net->down_bps, n * sizeof *net->down_bps, cap * sizeof *net->down_bps);
  net->lp = grow(net->eng, net->lp, n * sizeof *net->lp, cap * sizeof *net->lp);
  if (!net->region || !net->up_bps || !net->down_bps || !net->lp)
    return wf_error_set(err, "out of memory for %llu nodes", (unsigned long long)cap);
  net->cap = (uint32_t)cap;
  return 0;
}

static int add_range(wf_net *net, wf_lpid first, uint32_t count, uint32_t base, wf_error *err) {
  if (net->nranges && first < net->ranges[net->nranges - 1].first)
    return wf_error_set(err, "nodes must join a network in the order their LPs were made");
  if (net->nranges == net->ranges_cap) {
    uint32_t cap = net->ranges_cap ? net->ranges_cap * 2 : 8;
    net->ranges = grow(net->eng, net->ranges, net->nranges * sizeof *net->ranges,
                       cap * sizeof *net->ranges);
    if (!net->ranges) return wf_error_set(err, "out of memory");
    net->ranges_cap = cap;
  }
  net->ranges[net->nranges++] = (net_range){first, count, base};
  return 0;
}

static int check_bps(double bps, const char *what, uint32_t i, wf_error *err) {
  if (!(bps >= 1) || bps > 1e15)
    return wf_error_set(err, "node %u: %s bandwidth %g bit/s is outside [1, 1e15]", i + 1, what,
                        bps);
  return 0;
}

uint32_t wf_net_attach(wf_net *net, wf_lpid first, uint32_t count, const uint16_t *region,
                       const double *up_bps, const double *down_bps, wf_error *err) {
  uint32_t base = net->nnodes;
  if (reserve_nodes(net, count, err) != 0 || add_range(net, first, count, base, err) != 0)
    return UINT32_MAX;
  for (uint32_t i = 0; i < count; i++) {
    if (region[i] >= net->nregions) {
      wf_error_set(err, "node %u: no region %u", base + i + 1, region[i]);
      return UINT32_MAX;
    }
    if (check_bps(up_bps[i], "uplink", base + i, err) ||
        check_bps(down_bps[i], "downlink", base + i, err))
      return UINT32_MAX;
    net->region[base + i] = region[i];
    net->up_bps[base + i] = (uint64_t)llround(up_bps[i]);
    net->down_bps[base + i] = (uint64_t)llround(down_bps[i]);
    net->lp[base + i] = first + i;
  }
  net->nnodes += count;
  return base;
}

int wf_net_cut_add(wf_net *net, wf_time t1, wf_time t2, int by_region, const uint8_t *members,
                   wf_error *err) {
  if (t2 <= t1) return wf_error_set(err, "a partition must end after it starts");
  uint32_t n = by_region ? net->nregions : net->nnodes;
  uint8_t *m = wf_engine_alloc(net->eng, n ? n : 1);
  net_cut *cuts = grow(net->eng, net->cuts, net->ncuts * sizeof *cuts,
                       (net->ncuts + 1) * sizeof *cuts);
  if (!m || !cuts) return wf_error_set(err, "out of memory");
  memcpy(m, members, n);
  net->cuts = cuts;
  net->cuts[net->ncuts++] = (net_cut){t1, t2, by_region, m, n};
  return 0;
}

uint32_t wf_net_cut_count(const wf_net *net) {
  return net->ncuts;
}

void wf_net_cut_span(const wf_net *net, uint32_t i, wf_time *t1, wf_time *t2) {
  *t1 = net->cuts[i].t1;
  *t2 = net->cuts[i].t2;
}

static int cut_separates(const net_cut *c, const wf_net *net, uint32_t a, uint32_t b);

int wf_net_cut_separates(const wf_net *net, uint32_t i, uint32_t a, uint32_t b) {
  return i < net->ncuts && a < net->nnodes && b < net->nnodes && cut_separates(&net->cuts[i], net, a, b);
}

int wf_net_cut_drops(const wf_net *net) {
  return net->p.cut_mode == WF_NET_DROP;
}

int wf_net_class(wf_net *net, const char *name, wf_error *err) {
  for (uint32_t i = 0; i < net->nclasses; i++)
    if (strcmp(net->class_name[i], name) == 0) return (int)i;
  if (net->nclasses == MAX_CLASSES)
    return wf_error_set(err, "more than %d message classes", MAX_CLASSES);
  char hist[96], desc[160];
  snprintf(hist, sizeof hist, "net_delay_%s", name);
  snprintf(desc, sizeof desc, "delivery delay of '%s' messages, send to delivery", name);
  wf_metric h = wf_hist_define(net->eng, hist, "ns", desc, err);
  char *copy = edup(net->eng, name);
  if (h == WF_METRIC_NONE || !copy) return -1;
  net->class_name[net->nclasses] = copy;
  net->h_class[net->nclasses] = h;
  return (int)net->nclasses++;
}

static double jitter_floor(const wf_net_params *p) {
  switch (p->jitter) {
  case WF_JITTER_NORMAL:
    return 1 - 3 * p->jitter_frac; /* the normal draw is clamped at 3 sigma */
  case WF_JITTER_UNIFORM:
    return 1 - p->jitter_frac;
  default:
    return 1;
  }
}

wf_time wf_net_min_delay(const wf_net *net) {
  wf_time m = WF_TIME_MAX;
  for (size_t i = 0; i < (size_t)net->nregions * net->nregions; i++)
    if (net->one_way[i] < m) m = net->one_way[i];
  return (wf_time)floor((double)m * jitter_floor(&net->p));
}

/* ---- path costs ---- */

uint32_t wf_net_node_of(const wf_net *net, wf_lpid lp) {
  uint32_t lo = 0, hi = net->nranges;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (net->ranges[mid].first + net->ranges[mid].count <= lp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == net->nranges || lp < net->ranges[lo].first) return UINT32_MAX;
  return net->ranges[lo].base + (lp - net->ranges[lo].first);
}

wf_time wf_net_latency(const wf_net *net, uint32_t from, uint32_t to) {
  return net->one_way[(size_t)net->region[from] * net->nregions + net->region[to]];
}

/* ceil(bytes * 8 s / bps), exact in integers. */
static wf_time ser(uint32_t bytes, uint64_t bps) {
  __extension__ typedef unsigned __int128 u128;
  u128 bits_ns = (u128)bytes * 8u * WF_SEC;
  return (wf_time)((bits_ns + bps - 1) / bps);
}

wf_time wf_net_link_transit(const wf_net_link *l, wf_time *busy, uint32_t bytes, wf_time now) {
  wf_time s = *busy > now ? *busy : now;
  *busy = s + ser(bytes, l->bps);
  return *busy + l->latency;
}

wf_time wf_net_ser_up(const wf_net *net, uint32_t node, uint32_t bytes) {
  return ser(bytes, net->up_bps[node]);
}
wf_time wf_net_ser_down(const wf_net *net, uint32_t node, uint32_t bytes) {
  return ser(bytes, net->down_bps[node]);
}

static int cut_separates(const net_cut *c, const wf_net *net, uint32_t a, uint32_t b) {
  uint32_t ia = c->by_region ? net->region[a] : a, ib = c->by_region ? net->region[b] : b;
  uint8_t ma = ia < c->nmembers && c->members[ia], mb = ib < c->nmembers && c->members[ib];
  return ma != mb;
}

wf_time wf_net_cut_release(const wf_net *net, uint32_t from, uint32_t to, wf_time t) {
  /* Cuts may overlap or follow one another: move t past each one that holds it, until none. */
  for (int moved = 1; moved;) {
    moved = 0;
    for (uint32_t i = 0; i < net->ncuts; i++) {
      const net_cut *c = &net->cuts[i];
      if (t < c->t1 || t >= c->t2 || !cut_separates(c, net, from, to)) continue;
      if (net->p.cut_mode == WF_NET_DROP) return WF_TIME_MAX;
      t = c->t2;
      moved = 1;
    }
  }
  return t;
}

/* When a message whose first bit reaches `to` at `arrive` would be delivered if `to`'s
 * downlink and processor were idle: the slower serialization pipelines behind the faster. */
static wf_time ready_at(const wf_net *net, uint32_t from, uint32_t to, uint32_t bytes,
                        wf_time arrive, wf_time conn_ser) {
  wf_time up = wf_net_ser_up(net, from, bytes), down = wf_net_ser_down(net, to, bytes);
  wf_time slow = up > down ? up : down;
  return arrive + (slow > conn_ser ? slow : conn_ser) + net->p.proc;
}

/* When a message ready at `ready` has crossed the downlink, which is busy until down_free. */
static wf_time finish_down(const wf_net *net, uint32_t to, uint32_t bytes, wf_time ready,
                           wf_time down_free) {
  wf_time by_path = ready - net->p.proc, by_down = down_free + wf_net_ser_down(net, to, bytes);
  return by_path > by_down ? by_path : by_down;
}

wf_time wf_net_path(const wf_net *net, uint32_t from, uint32_t to, uint32_t bytes, wf_time s,
                    wf_time down_free) {
  wf_time ready = ready_at(net, from, to, bytes, s + wf_net_latency(net, from, to), 0);
  return finish_down(net, to, bytes, ready, down_free) + net->p.proc;
}

/* ---- running ---- */

void wf_net_port_init(wf_lp *lp, const wf_net *net, wf_net_port *port) {
  memset(port, 0, sizeof *port);
  port->node = wf_net_node_of(net, wf_lp_id(lp));
  if (port->node == UINT32_MAX) {
    wf_lp_fail(lp, "is not a node of the network it uses");
    return;
  }
  if (port->node != 0) return;
  /* The network's first node keeps the partition timeline: the schedule as a table, and the
   * number of cuts in force as a series. */
  for (uint32_t i = 0; i < net->ncuts; i++) {
    const net_cut *c = &net->cuts[i];
    uint32_t members = 0;
    for (uint32_t k = 0; k < c->nmembers; k++) members += c->members[k] != 0;
    cut_row row = {i, (uint32_t)c->by_region, c->t1, c->t2, members, net->p.cut_mode};
    wf_record_append(lp, net->r_cuts, &row);
    net_hdr h = {0};
    wf_send(lp, wf_lp_id(lp), c->t1, K_CUT_START, &h, sizeof h);
    wf_send(lp, wf_lp_id(lp), c->t2, K_CUT_END, &h, sizeof h);
  }
}

static wf_time jitter(wf_lp *lp, const wf_net *net, wf_time lat) {
  double f = net->p.jitter_frac, l = (double)lat, z;
  switch (net->p.jitter) {
  case WF_JITTER_NORMAL:
    z = wf_rng_normal(wf_lp_rng(lp), 0, 1);
    z = z < -3 ? -3 : z > 3 ? 3 : z;
    return (wf_time)llround(l * (1 + f * z));
  case WF_JITTER_UNIFORM:
    return (wf_time)llround(l * (1 + f * (2 * wf_rng_uniform(wf_lp_rng(lp)) - 1)));
  case WF_JITTER_EXP:
    return lat + (wf_time)llround(wf_rng_exponential(wf_lp_rng(lp), f * l));
  default:
    return lat;
  }
}

/* Lost segments of a message: Binomial(segments, loss) by geometric skips (cost ~ losses). */
static uint32_t losses(wf_lp *lp, const wf_net *net, uint32_t bytes) {
  double p = net->p.loss;
  if (p <= 0) return 0;
  uint64_t nseg = bytes ? (bytes + net->p.mss - 1) / net->p.mss : 1, pos = 0;
  uint32_t k = 0;
  double lq = log1p(-p);
  for (;;) {
    double u = wf_rng_uniform(wf_lp_rng(lp));
    pos += (uint64_t)floor(log1p(-u) / lq); /* failures before the next loss */
    if (pos >= nseg) return k;
    k++, pos++;
  }
}

static void put(wf_lp *lp, wf_lpid dst, wf_time at, uint16_t kind, const net_hdr *h,
                const void *data) {
  unsigned char buf[sizeof *h + WF_NET_PAYLOAD_MAX];
  memcpy(buf, h, sizeof *h);
  if (h->len) memcpy(buf + sizeof *h, data, h->len);
  wf_send(lp, dst, at - wf_now(lp), kind, buf, sizeof *h + h->len);
}

/* Steps 1-2 of the file comment, from the earliest start t. */
static void transmit(wf_lp *lp, const wf_net *net, wf_net_port *port, wf_net_conn *conn,
                     net_hdr *h, const void *data, uint32_t to) {
  wf_time now = wf_now(lp);
  wf_time queued = port->up_free > now ? port->up_free : now;
  /* A priority connection's messages interleave ahead of the bulk already queued (their bytes
   * still count on the uplink); others wait their turn. A rate-limited connection's message
   * starts no earlier than its connection lets it. */
  wf_time s = conn && conn->priority ? now : queued;
  int limited = conn && conn->bps;
  wf_time first = limited && conn->busy > s ? conn->busy : s;
  if (net->ncuts) { /* a message crosses when it would start: after its connection's backlog */
    wf_time r = wf_net_cut_release(net, port->node, to, first);
    if (r == WF_TIME_MAX) {
      port->dropped++;
      wf_count(lp, net->m_dropped, 1);
      return;
    }
    if (r != first) { /* held by the sender, off the uplink, until the cut heals */
      wf_gauge_add(lp, net->g_buffered, 1);
      put(lp, wf_lp_id(lp), r, K_RETRY, h, data);
      return;
    }
  }
  wf_time up = wf_net_ser_up(net, port->node, h->bytes);
  port->up_free = queued + up;
  wf_time lat = jitter(lp, net, wf_net_latency(net, port->node, to));
  lat += (wf_time)losses(lp, net, h->bytes) * net->p.rto;
  /* A rate-limited connection paces its own messages; the uplink is shared by all of the
   * node's connections and reserved from when the message is handed over, so a connection's
   * backlog never holds back the others (their bytes interleave on the wire). */
  wf_time cs = limited ? ser(h->bytes, conn->bps) : 0;
  if (limited) conn->busy = first + cs;
  wf_time a = ready_at(net, port->node, to, h->bytes, first + lat, cs);
  if (conn) { /* one TCP stream: in order, however jitter and loss delayed the ones before */
    if (a < conn->last_arrival) a = conn->last_arrival;
    conn->last_arrival = a;
  }
  port->bytes_sent += h->bytes;
  port->msgs_sent++;
  wf_count(lp, net->m_bytes, h->bytes);
  wf_count(lp, net->m_msgs, 1);
  wf_count(lp, net->m_busy, up);
  put(lp, net->lp[to], a, K_ARRIVE, h, data);
}

void wf_net_send(wf_lp *lp, const wf_net *net, wf_net_port *port, wf_net_conn *conn, wf_lpid dst,
                 uint32_t bytes, uint16_t kind, unsigned cls, const void *data, size_t len) {
  uint32_t to = wf_net_node_of(net, dst);
  if (to == UINT32_MAX || len > WF_NET_PAYLOAD_MAX || kind >= WF_NET_KIND_FIRST ||
      cls >= net->nclasses) {
    wf_lp_fail(lp, "wf_net_send: bad message (destination LP %u %s, payload %zu bytes, kind %u, "
                   "class %u)",
               dst, to == UINT32_MAX ? "not in the network" : "ok", len, kind, cls);
    return;
  }
  net_hdr h = {wf_now(lp), dst, bytes, kind, (uint8_t)cls, (uint8_t)len};
  transmit(lp, net, port, conn, &h, data, to);
}

static int deliver(wf_lp *lp, const wf_net *net, wf_net_port *port, const wf_event *ev,
                   const net_hdr *h, wf_net_msg *msg) {
  port->bytes_received += h->bytes;
  port->msgs_received++;
  wf_hist_add(lp, net->h_class[h->cls], wf_now(lp) - h->sent);
  *msg = (wf_net_msg){h->peer, h->bytes, h->kind, h->cls, h->len, h->sent, ev->data + sizeof *h};
  return 1;
}

/* Steps 3-4 at the message's ready time: the downlink and the processing queue. */
static int arrive(wf_lp *lp, const wf_net *net, wf_net_port *port, const wf_event *ev,
                  net_hdr *h, wf_net_msg *msg) {
  wf_time now = wf_now(lp);
  h->peer = ev->src;
  wf_time fin = finish_down(net, port->node, h->bytes, now, port->down_free);
  port->down_free = fin;
  if (net->p.proc) {
    wf_time start = fin > port->cpu_free ? fin : port->cpu_free;
    fin = port->cpu_free = start + net->p.proc;
  }
  if (fin == now) return deliver(lp, net, port, ev, h, msg);
  put(lp, wf_lp_id(lp), fin, K_DELIVER, h, ev->data + sizeof *h);
  return 0;
}

int wf_net_receive(wf_lp *lp, const wf_net *net, wf_net_port *port, const wf_event *ev,
                   wf_net_msg *msg) {
  net_hdr h;
  memcpy(&h, ev->data, sizeof h);
  switch (ev->kind) {
  case K_ARRIVE:
    return arrive(lp, net, port, ev, &h, msg);
  case K_DELIVER:
    return deliver(lp, net, port, ev, &h, msg);
  case K_RETRY:
    wf_gauge_add(lp, net->g_buffered, -1);
    transmit(lp, net, port, NULL, &h, ev->data + sizeof h, wf_net_node_of(net, h.peer));
    return 0;
  case K_CUT_START:
  case K_CUT_END:
    wf_gauge_add(lp, net->g_cuts, ev->kind == K_CUT_START ? 1 : -1);
    return 0;
  default:
    wf_lp_fail(lp, "unknown transport event kind %u", ev->kind);
    return 0;
  }
}

void wf_net_account(wf_lp *lp, const wf_net *net, wf_net_port *port, uint32_t msgs,
                    uint32_t bytes, uint32_t received, wf_time until) {
  port->bytes_sent += (uint64_t)msgs * bytes;
  port->msgs_sent += msgs;
  port->bytes_received += (uint64_t)received * bytes;
  port->msgs_received += received;
  if (until > port->up_free) port->up_free = until;
  wf_count(lp, net->m_bytes, (uint64_t)msgs * bytes);
  wf_count(lp, net->m_msgs, msgs);
  wf_count(lp, net->m_busy, msgs * wf_net_ser_up(net, port->node, bytes));
}

void wf_net_finish(wf_lp *lp, const wf_net *net, const wf_net_port *port) {
  if (port->node >= net->nnodes) return;
  node_row row = {port->node,          wf_lp_id(lp),     {0},
                  port->bytes_sent,    port->bytes_received, port->msgs_sent,
                  port->msgs_received, port->dropped};
  snprintf(row.region, sizeof row.region, "%s", net->region_names[net->region[port->node]]);
  wf_record_append(lp, net->r_nodes, &row);
}
