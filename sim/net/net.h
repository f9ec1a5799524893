/* The network transport: what every model that talks over a wire uses. A model never computes
 * a delay itself; it calls wf_net_send, and the network decides when the message reaches the
 * other node (uplink serialization, propagation between regions, the receiver's downlink,
 * jitter, loss, partitions). The interface is written down in sim/net/README.md; the analytic
 * backend behind it is net.c, and other backends (SimGrid's flow model) replace it there. */
#ifndef WF_NET_H
#define WF_NET_H

#include <stdint.h>

#include "../model.h"

typedef struct wf_net wf_net;

/* Event kinds from here up belong to the transport: a model's handler passes such events to
 * wf_net_receive and uses every kind below for its own events. */
#define WF_NET_KIND_FIRST 0xFF00u
/* What a model may carry inline with a message (the rest of the event is the transport's). */
#define WF_NET_PAYLOAD_MAX 32

typedef enum { WF_NET_BUFFER, WF_NET_DROP } wf_net_cut_mode;
typedef enum { WF_JITTER_NONE, WF_JITTER_NORMAL, WF_JITTER_UNIFORM, WF_JITTER_EXP } wf_jitter;

typedef struct wf_net_params {
  const char *rtt_table;   /* CSV of RTTs in ms between regions; NULL or "": the shipped AWS table */
  wf_time same_region_rtt; /* replaces the table's diagonal */
  wf_jitter jitter;        /* per-message extra delay, a fraction of the one-way latency */
  double jitter_frac;      /* normal: sd; uniform: half-width; exp: mean (all x latency) */
  double loss;             /* probability that a TCP segment is lost */
  uint32_t mss;            /* segment size for loss, bytes */
  wf_time rto;             /* what one lost segment costs: a retransmission timeout */
  wf_time proc;            /* per-message processing at the receiver, FIFO */
  wf_net_cut_mode cut_mode;
} wf_net_params;

/* Per-node transport state, kept in the node LP's own state and touched only by that LP. */
typedef struct wf_net_port {
  wf_time up_free, down_free, cpu_free; /* when each FIFO stage is next idle */
  uint32_t node;                        /* index in the network */
  uint32_t pad;
  uint64_t bytes_sent, bytes_received, msgs_sent, msgs_received, dropped;
} wf_net_port;

/* Optional state of one connection (sender side). Messages sent through the same conn arrive
 * in send order whatever jitter and loss do, as over one TCP connection. A conn may also have
 * a rate limit of its own (bps > 0, set by the model), as CometBFT's p2p connections do
 * (send_rate, 5,120,000 B/s by default): its messages then queue on the conn as on a link of
 * that speed, besides sharing the node's uplink. */
typedef struct wf_net_conn {
  wf_time last_arrival;
  wf_time busy; /* when the rate limit lets the next message start */
  uint64_t bps; /* 0: no limit of its own */
} wf_net_conn;

/* A message as the model receives it. */
typedef struct wf_net_msg {
  wf_lpid src;     /* the sending node's LP */
  uint32_t bytes;  /* size on the wire */
  uint16_t kind;   /* the model's kind, as sent */
  uint8_t cls;     /* the message class, as sent */
  uint8_t len;     /* payload bytes */
  wf_time sent;    /* when wf_net_send was called */
  const void *data;
} wf_net_msg;

/* ---- building (scenario time) ---- */
wf_net *wf_net_new(wf_engine *eng, const wf_net_params *p, wf_error *err);
/* A region's index in the table, or -1. */
int wf_net_region(const wf_net *net, const char *name);
uint32_t wf_net_region_count(const wf_net *net);
/* Attaches count node LPs (ids first..first+count-1) with their regions and bandwidths in bit/s
 * (region, up and down arrays of count entries). Returns the index of the first node in the
 * network; nodes are numbered in the order they join. */
uint32_t wf_net_attach(wf_net *net, wf_lpid first, uint32_t count, const uint16_t *region,
                       const double *up_bps, const double *down_bps, wf_error *err);
uint32_t wf_net_node_count(const wf_net *net);
/* The region (index in the table) of node `node`, or -1 when no such node has joined: where a
 * builder places LPs next to nodes already attached (a workload's clients by their validator). */
int wf_net_node_region(const wf_net *net, uint32_t node);
/* A cut from t1 to t2 between `members` and the rest: a per-region flag array (nregions
 * entries) when by_region, else a per-node flag array (node_count entries). */
int wf_net_cut_add(wf_net *net, wf_time t1, wf_time t2, int by_region, const uint8_t *members,
                   wf_error *err);
/* The cuts added so far: how many, and cut i's start and end. */
uint32_t wf_net_cut_count(const wf_net *net);
void wf_net_cut_span(const wf_net *net, uint32_t i, wf_time *t1, wf_time *t2);
/* A message class by name (created on first use): its delivery latency goes to the histogram
 * /histograms/net_delay_<name>. Up to 32 classes. */
int wf_net_class(wf_net *net, const char *name, wf_error *err);
/* The least one-way delay between any two nodes: what a node type may declare as min_delay. */
wf_time wf_net_min_delay(const wf_net *net);

/* ---- running: inside a node LP's callbacks ---- */
/* In the node's init: binds the port to the node this LP is (and, for the network's first
 * node, schedules the partition timeline). */
void wf_net_port_init(wf_lp *lp, const wf_net *net, wf_net_port *port);
/* Sends `bytes` on the wire to node LP dst; the model's kind, class and up to
 * WF_NET_PAYLOAD_MAX bytes of payload come back in dst's wf_net_msg. conn may be NULL. */
void wf_net_send(wf_lp *lp, const wf_net *net, wf_net_port *port, wf_net_conn *conn, wf_lpid dst,
                 uint32_t bytes, uint16_t kind, unsigned cls, const void *data, size_t len);
static inline int wf_net_owns(const wf_event *ev) {
  return ev->kind >= WF_NET_KIND_FIRST;
}
/* For an event wf_net_owns: returns 1 with msg filled when a message is delivered to the model
 * now, 0 when the transport used the event itself (a message still crossing the downlink, a
 * message a healed cut releases, the partition timeline). */
int wf_net_receive(wf_lp *lp, const wf_net *net, wf_net_port *port, const wf_event *ev,
                   wf_net_msg *msg);
/* In the node's finish: its row of /records/net_nodes. */
void wf_net_finish(wf_lp *lp, const wf_net *net, const wf_net_port *port);

/* ---- path costs, for aggregate models that compute deliveries instead of sending ---- */
uint32_t wf_net_node_of(const wf_net *net, wf_lpid lp); /* UINT32_MAX: not attached */
wf_time wf_net_latency(const wf_net *net, uint32_t from, uint32_t to); /* one way, no jitter */
wf_time wf_net_ser_up(const wf_net *net, uint32_t node, uint32_t bytes);
wf_time wf_net_ser_down(const wf_net *net, uint32_t node, uint32_t bytes);
/* The earliest time >= t at which a message from one node may start towards another, given
 * the cuts: t itself when none is active, the cut's end when messages are buffered, and
 * WF_TIME_MAX when they are dropped. */
wf_time wf_net_cut_release(const wf_net *net, uint32_t from, uint32_t to, wf_time t);
/* Delivery of a message whose uplink transmission starts at s, to a node whose downlink is
 * busy until down_free (0: idle), without jitter or loss: what wf_net_send and wf_net_receive
 * give. */
wf_time wf_net_path(const wf_net *net, uint32_t from, uint32_t to, uint32_t bytes, wf_time s,
                    wf_time down_free);
/* What an aggregate model computed instead of sending: msgs messages of `bytes` each sent by
 * this node (its uplink busy until `until`) and `received` copies received, counted on the port
 * and the network's metrics as if they had crossed the wire. */
void wf_net_account(wf_lp *lp, const wf_net *net, wf_net_port *port, uint32_t msgs,
                    uint32_t bytes, uint32_t received, wf_time until);

/* ---- dedicated links ---- */
/* A point-to-point link outside the region table (a leased line between two sites, a bridge
 * between two networks): its own one-way latency and bandwidth, FIFO, store and forward. The
 * sender keeps when the link is next free. */
typedef struct wf_net_link {
  wf_time latency;
  uint64_t bps;
} wf_net_link;
/* When a message of `bytes` handed to the link at `now` has fully reached the far end:
 * it waits until *busy, occupies the link for ceil(8 bytes / bps) ns, then propagates for the
 * latency. Updates *busy. */
wf_time wf_net_link_transit(const wf_net_link *l, wf_time *busy, uint32_t bytes, wf_time now);

/* ---- for node builders ---- */
/* Where a builder's nodes are and their bandwidths, from its arguments: a list 'regions' of
 * records {region, count, bandwidth} or, when it is empty, `count_key` nodes round-robin over
 * the table's regions; 'bandwidth' (uplink, bit/s) and 'downlink' (0: as the uplink) for the
 * nodes whose record names none. Returns the node count (0 with err set) and three malloc'd
 * arrays the caller frees. */
uint32_t wf_net_place_nodes(const wf_args *a, const char *count_key, const wf_net *net,
                            uint16_t **region, double **up, double **down, wf_error *err);
/* The fields of those records, for a builder's 'regions' argument (.fields, .nfields = 3). */
extern const wf_arg_spec wf_net_region_fields[3];

/* The network model: weft.network{...} and weft.partition{...}. */
extern const wf_model wf_model_net;

#endif
