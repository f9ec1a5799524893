/* Workloads: weft.load{...}. Client LPs that load a chain's validators with transactions over
 * the transport, as CometBFT's load tools do (tm-load-test, test/loadtime: r tx/s on each of
 * c connections for T seconds), and record what becomes of each transaction. What is
 * modelled and where each default comes from: models/README.md, "Workloads". */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tx.h"

enum { K_SEND = 1, K_BURST = 2, K_TIMEOUT = 3, K_RETRY = 4 };
enum {
  FEE_SUBMIT,
  FEE_WAIT,
  FEE_DROP
}; /* what a client does when the base price exceeds its cap */

typedef struct mix_entry {
  double cum; /* cumulative weight up to and including this entry */
  uint32_t bytes, gas, need; /* need: the gas its execution uses, 0 for the chain's table */
  uint8_t type;
} mix_entry;

typedef struct rate_step {
  wf_time at;
  double rate;
} rate_step;

typedef wf_replay_row replay_row;

typedef struct load_cfg {
  wf_chain_info chain;
  wf_lpid first;
  uint32_t n;        /* clients (connections) */
  wf_lpid *target;   /* per client: the validator LP it sends to */
  double rate;       /* tx/s per connection before the first step */
  rate_step *steps;
  uint32_t nsteps;
  uint32_t closed;   /* outstanding txs per connection; 0: open loop */
  wf_time think;
  wf_time timeout;   /* give up on a tx after this long; 0: never */
  replay_row *rows;  /* NULL unless replaying */
  uint32_t nrows;
  wf_time start, end; /* end: start + duration, or WF_TIME_MAX */
  mix_entry *mix;
  uint32_t nmix;
  uint64_t price;
  int fee_policy;
  wf_time fee_retry; /* wait: how often it asks the price again */
  unsigned cls;
  wf_metric m_submitted, m_committed, m_rejected, m_failed, m_dropped, m_late, h_latency,
      g_outstanding;
  wf_record *txs; /* NULL unless record_txs */
  wf_lp_type type;
} load_cfg;

/* A transaction still waiting for its outcome. key = count + 1 (0: an empty slot). */
typedef struct out_tx {
  uint32_t key, bytes;
  wf_time submitted;
  uint32_t gas;
  uint8_t type;
} out_tx;

typedef struct client {
  wf_net_port port;
  /* One connection: the client's txs reach its node in the order they were sent, as over the
   * RPC websocket the load tools use. */
  wf_net_conn conn;
  uint32_t count;    /* txs submitted */
  uint32_t step;     /* the next rate step to apply */
  double rate;       /* the rate in force */
  uint32_t next_row; /* replay: the next row this client sends */
  /* Outstanding txs: an open-addressing table keyed by count. An open loop against a slow chain
   * can have many, and one lost tx must not pin every later one (as a ring from the oldest
   * outstanding count would), so only the txs still waiting take room. Counts are consecutive,
   * so the identity hash spreads them without collisions while they span less than cap. */
  out_tx *tab;
  uint32_t cap, used;
  /* Txs held back while the base price is above the cap (fee_policy wait), oldest first. */
  struct held_tx *held;
  uint32_t nheld, held_cap;
  int retry_set;
} client;

typedef struct held_tx {
  wf_time arrived;
  uint32_t bytes, gas, need;
  uint8_t type;
} held_tx;

typedef struct tx_row {
  uint64_t id;
  uint32_t chain, client, type, bytes;
  uint64_t submit_ns, result_ns, height, gas_wanted, gas_used, fee;
  uint32_t status, pad;
} tx_row;

static const wf_column tx_cols[] = {
    WF_COLUMN(tx_row, id, WF_COL_U64, NULL),
    WF_COLUMN(tx_row, chain, WF_COL_U32, NULL),
    WF_COLUMN(tx_row, client, WF_COL_U32, NULL),
    WF_COLUMN(tx_row, type, WF_COL_U32, NULL),
    WF_COLUMN(tx_row, bytes, WF_COL_U32, "bytes"),
    WF_COLUMN(tx_row, submit_ns, WF_COL_U64, "ns"),
    WF_COLUMN(tx_row, result_ns, WF_COL_U64, "ns"),
    WF_COLUMN(tx_row, height, WF_COL_U64, NULL),
    WF_COLUMN(tx_row, gas_wanted, WF_COL_U64, "gas"),
    WF_COLUMN(tx_row, gas_used, WF_COL_U64, "gas"),
    WF_COLUMN(tx_row, fee, WF_COL_U64, NULL),
    WF_COLUMN(tx_row, status, WF_COL_U32, NULL),
};

static const char *const type_names[WF_TX_NTYPES] = {"bank_send", "wasm_execute", "inference"};

static int type_of(const char *name) {
  for (int i = 0; i < WF_TX_NTYPES; i++)
    if (strcmp(name, type_names[i]) == 0) return i;
  return -1;
}

/* ---- the outstanding table ---- */

static int tab_grow(client *s) {
  uint32_t cap = s->cap ? 2 * s->cap : 64;
  if (cap < s->cap) return -1;
  out_tx *t = calloc(cap, sizeof *t);
  if (!t) return -1;
  for (uint32_t i = 0; i < s->cap; i++) {
    if (!s->tab[i].key) continue;
    uint32_t j = s->tab[i].key & (cap - 1);
    while (t[j].key) j = (j + 1) & (cap - 1);
    t[j] = s->tab[i];
  }
  free(s->tab);
  s->tab = t, s->cap = cap;
  return 0;
}

static int tab_put(client *s, const out_tx *e) {
  if ((uint64_t)(s->used + 1) * 2 > s->cap && tab_grow(s) != 0) return -1;
  uint32_t mask = s->cap - 1, j = e->key & mask;
  while (s->tab[j].key) j = (j + 1) & mask;
  s->tab[j] = *e;
  s->used++;
  return 0;
}

/* Removes the entry of `key` into *e; 0 if there is none. Deletion shifts the entries behind
 * it back (linear probing without tombstones), so the table never fills with dead slots. */
static int tab_take(client *s, uint32_t key, out_tx *e) {
  if (!s->cap || !key) return 0;
  uint32_t mask = s->cap - 1, i = key & mask;
  while (s->tab[i].key != key) {
    if (!s->tab[i].key) return 0;
    i = (i + 1) & mask;
  }
  *e = s->tab[i];
  for (uint32_t j = i;;) {
    j = (j + 1) & mask;
    if (!s->tab[j].key) break;
    uint32_t home = s->tab[j].key & mask;
    /* The entry at j stays if its home lies cyclically in (i, j]. */
    int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    s->tab[i] = s->tab[j];
    i = j;
  }
  s->tab[i].key = 0;
  s->used--;
  return 1;
}

/* ---- the client ---- */

static uint32_t client_index(const load_cfg *c, const wf_lp *lp) {
  return wf_lp_id(lp) - c->first;
}

static void settle(wf_lp *lp, const load_cfg *c, client *s, const out_tx *e, const wf_tx_result *r);

/* The chain's price per gas now, as a query of its fee market answers (0: it cannot say). */
static uint64_t price_now(const load_cfg *c) {
  return c->chain.base_price ? c->chain.base_price(c->chain.self) : 0;
}

/* Sends a tx the client decided on at `arrived` (now, unless it was held back). */
static void send_tx(wf_lp *lp, const load_cfg *c, client *s, uint8_t type, uint32_t bytes,
                    uint32_t gas, uint32_t need, wf_time arrived) {
  if (s->count == UINT32_MAX - 1) {
    wf_lp_fail(lp, "client: 2^32 - 1 transactions submitted, the most its ids can number");
    return;
  }
  out_tx e = {s->count + 1, bytes, arrived, gas, type};
  if (tab_put(s, &e) != 0) {
    wf_lp_fail(lp, "client: out of memory for %u outstanding transactions", s->used);
    return;
  }
  wf_tx tx = {.id = (uint64_t)wf_lp_id(lp) << 32 | s->count,
              .price = c->price,
              .bytes = bytes,
              .gas_wanted = gas,
              .gas_need = need,
              .type = type};
  s->count++;
  wf_net_send(lp, c->chain.net, &s->port, &s->conn, c->target[client_index(c, lp)], bytes,
              WF_TX_SUBMIT, c->cls, &tx, sizeof tx);
  wf_count(lp, c->m_submitted, 1);
  wf_gauge_add(lp, c->g_outstanding, 1);
  if (c->timeout) {
    uint32_t count = s->count - 1;
    wf_send(lp, wf_lp_id(lp), c->timeout, K_TIMEOUT, &count, sizeof count);
  }
}

/* A new tx, by the client's fee policy: sent; or, when the chain's price is above its cap,
 * held back until it is not (wait) or given up at once (drop: never sent, its outcome
 * dropped). */
static void submit(wf_lp *lp, const load_cfg *c, client *s, uint8_t type, uint32_t bytes,
                   uint32_t gas, uint32_t need) {
  wf_time now = wf_now(lp);
  if (c->fee_policy == FEE_SUBMIT || price_now(c) <= c->price) {
    send_tx(lp, c, s, type, bytes, gas, need, now);
    return;
  }
  if (c->fee_policy == FEE_DROP) {
    if (s->count == UINT32_MAX - 1) {
      wf_lp_fail(lp, "client: 2^32 - 1 transactions submitted, the most its ids can number");
      return;
    }
    out_tx e = {s->count + 1, bytes, now, gas, type};
    wf_tx_result r = {.id = (uint64_t)wf_lp_id(lp) << 32 | s->count, .status = WF_TX_DROPPED};
    s->count++;
    wf_count(lp, c->m_submitted, 1);
    wf_gauge_add(lp, c->g_outstanding, 1);
    settle(lp, c, s, &e, &r);
    return;
  }
  if (s->nheld == s->held_cap) {
    uint32_t cap = s->held_cap ? 2 * s->held_cap : 64;
    held_tx *x = cap > s->held_cap ? realloc(s->held, cap * sizeof *x) : NULL;
    if (!x) {
      wf_lp_fail(lp, "client: out of memory for %u txs held back", s->nheld);
      return;
    }
    s->held = x, s->held_cap = cap;
  }
  s->held[s->nheld++] = (held_tx){now, bytes, gas, need, type};
  if (!s->retry_set) {
    s->retry_set = 1;
    wf_send(lp, wf_lp_id(lp), c->fee_retry, K_RETRY, NULL, 0);
  }
}

/* fee_policy wait: the client asks the price again; at or below its cap, everything held back
 * goes, in order. */
static void retry(wf_lp *lp, const load_cfg *c, client *s) {
  s->retry_set = 0;
  if (!s->nheld) return;
  if (price_now(c) > c->price) {
    s->retry_set = 1;
    wf_send(lp, wf_lp_id(lp), c->fee_retry, K_RETRY, NULL, 0);
    return;
  }
  uint32_t n = s->nheld;
  s->nheld = 0;
  for (uint32_t i = 0; i < n; i++)
    send_tx(lp, c, s, s->held[i].type, s->held[i].bytes, s->held[i].gas, s->held[i].need,
            s->held[i].arrived);
}

static void submit_mixed(wf_lp *lp, const load_cfg *c, client *s) {
  uint32_t k = 0;
  if (c->nmix > 1) {
    double u = wf_rng_uniform(wf_lp_rng(lp)) * c->mix[c->nmix - 1].cum;
    while (k + 1 < c->nmix && u >= c->mix[k].cum) k++;
  }
  submit(lp, c, s, c->mix[k].type, c->mix[k].bytes, c->mix[k].gas, c->mix[k].need);
}

/* The open loop's next arrival after t0 (>= now): a Poisson process whose rate is piecewise
 * constant. A gap drawn at one rate that crosses the next step is discarded and drawn afresh
 * from the step at the new rate: by the exponential's lack of memory that is exactly the
 * non-homogeneous process, and it costs no event at the step. */
static void plan_open(wf_lp *lp, const load_cfg *c, client *s, wf_time t0) {
  for (;;) {
    wf_time edge = s->step < c->nsteps && c->steps[s->step].at < c->end ? c->steps[s->step].at
                                                                        : c->end;
    if (s->rate > 0) {
      double gap = wf_rng_exponential(wf_lp_rng(lp), 1e9 / s->rate);
      if (gap < (double)(edge - t0)) {
        wf_time t = t0 + (wf_time)llround(gap);
        if (t < edge) {
          wf_send(lp, wf_lp_id(lp), t - wf_now(lp), K_SEND, NULL, 0);
          return;
        }
      }
    }
    if (edge == c->end) return; /* the load is over */
    t0 = edge;
    s->rate = c->steps[s->step++].rate;
  }
}

/* Replay: sends every row of this client due now, then waits for the next one. */
static void replay_due(wf_lp *lp, const load_cfg *c, client *s) {
  while (s->next_row < c->nrows) {
    const replay_row *r = &c->rows[s->next_row];
    wf_time t = c->start + r->t;
    if (t >= c->end) return;
    if (t > wf_now(lp)) {
      wf_send(lp, wf_lp_id(lp), t - wf_now(lp), K_SEND, NULL, 0);
      return;
    }
    submit(lp, c, s, r->type, r->bytes, r->gas, 0);
    /* Rows are dealt to the connections in turn, so the file is the whole load. */
    s->next_row += c->n;
  }
}

static void client_init(wf_lp *lp, void *state, const void *cfg) {
  const load_cfg *c = cfg;
  client *s = state;
  wf_net_port_init(lp, c->chain.net, &s->port);
  if (c->start >= c->end) return;
  if (c->rows) {
    s->next_row = client_index(c, lp);
    replay_due(lp, c, s);
  } else if (c->closed) {
    wf_send(lp, wf_lp_id(lp), c->start, K_BURST, NULL, 0);
  } else {
    s->rate = c->rate;
    while (s->step < c->nsteps && c->steps[s->step].at <= c->start)
      s->rate = c->steps[s->step++].rate;
    plan_open(lp, c, s, c->start);
  }
}

/* A tx's outcome is known (or the client gave up on it): count it, record it, and in the
 * closed loop start the next interaction. */
static void settle(wf_lp *lp, const load_cfg *c, client *s, const out_tx *e,
                   const wf_tx_result *r) {
  wf_time now = wf_now(lp);
  switch (r->status) {
  case WF_TX_COMMITTED:
    wf_count(lp, c->m_committed, 1);
    wf_hist_add(lp, c->h_latency, now - e->submitted);
    break;
  case WF_TX_REJECTED: wf_count(lp, c->m_rejected, 1); break;
  case WF_TX_FAILED: wf_count(lp, c->m_failed, 1); break;
  default: wf_count(lp, c->m_dropped, 1); break;
  }
  wf_gauge_add(lp, c->g_outstanding, -1);
  if (c->txs) {
    tx_row row = {.id = r->id, .chain = c->chain.group, .client = wf_lp_id(lp), .type = e->type,
                  .bytes = e->bytes, .submit_ns = e->submitted, .result_ns = now,
                  .height = r->height, .gas_wanted = e->gas, .gas_used = r->gas_used,
                  .fee = r->fee, .status = r->status};
    wf_record_append(lp, c->txs, &row);
  }
  /* Closed loop: the interaction is over whatever its outcome; the next starts after the
   * think time, while the load runs. */
  if (c->closed && now + c->think < c->end) {
    if (c->think)
      wf_send(lp, wf_lp_id(lp), c->think, K_SEND, NULL, 0);
    else
      submit_mixed(lp, c, s);
  }
}

static void on_result(wf_lp *lp, const load_cfg *c, client *s, const wf_net_msg *m) {
  wf_tx_result r;
  if (m->kind != WF_TX_RESULT || m->len < sizeof r) {
    wf_lp_fail(lp, "client: a message of kind %u and %u bytes from LP %u, expected a tx result",
               m->kind, m->len, m->src);
    return;
  }
  memcpy(&r, m->data, sizeof r);
  if (r.status == WF_TX_PENDING) return; /* news that it is still waiting: nothing to record */
  if (r.status > WF_TX_PENDING) {
    wf_lp_fail(lp, "client: tx %llu has status %u, not a wf_tx_status",
               (unsigned long long)r.id, r.status);
    return;
  }
  int mine = (r.id >> 32) == wf_lp_id(lp);
  out_tx e;
  if (mine && tab_take(s, (uint32_t)r.id + 1, &e)) {
    settle(lp, c, s, &e, &r);
    return;
  }
  /* An answer to a tx the client gave up on is expected with a timeout; anything else means
   * the chain answered twice or to the wrong client. */
  if (mine && c->timeout && (uint32_t)r.id < s->count) {
    wf_count(lp, c->m_late, 1);
    return;
  }
  wf_lp_fail(lp, "client: a result for tx %llu, which this client is not waiting for "
                 "(answered twice, or sent to the wrong client)",
             (unsigned long long)r.id);
}

/* The client's patience ran out (CometBFT's broadcast_tx_commit gives up the same way): the
 * tx counts as dropped, whatever the chain does with it later. */
static void on_timeout(wf_lp *lp, const load_cfg *c, client *s, const wf_event *ev) {
  uint32_t count;
  memcpy(&count, ev->data, sizeof count);
  out_tx e;
  if (!tab_take(s, count + 1, &e)) return; /* settled in time */
  wf_tx_result r = {.id = (uint64_t)wf_lp_id(lp) << 32 | count, .status = WF_TX_DROPPED};
  settle(lp, c, s, &e, &r);
}

static void client_handle(wf_lp *lp, void *state, const wf_event *ev) {
  const load_cfg *c = wf_lp_cfg(lp);
  client *s = state;
  if (wf_net_owns(ev)) {
    wf_net_msg m;
    if (wf_net_receive(lp, c->chain.net, &s->port, ev, &m)) on_result(lp, c, s, &m);
    return;
  }
  switch (ev->kind) {
  case K_BURST:
    for (uint32_t i = 0; i < c->closed; i++) submit_mixed(lp, c, s);
    return;
  case K_TIMEOUT:
    on_timeout(lp, c, s, ev);
    return;
  case K_RETRY:
    retry(lp, c, s);
    return;
  case K_SEND:
    if (c->rows) {
      replay_due(lp, c, s);
    } else {
      submit_mixed(lp, c, s);
      if (!c->closed) plan_open(lp, c, s, wf_now(lp));
    }
    return;
  default:
    wf_lp_fail(lp, "client: unknown event kind %u", ev->kind);
  }
}

static int by_key(const void *a, const void *b) {
  uint32_t x = ((const out_tx *)a)->key, y = ((const out_tx *)b)->key;
  return (x > y) - (x < y);
}

static void client_destroy(wf_lp *lp, void *state) {
  (void)lp;
  client *s = state;
  free(s->tab), free(s->held);
  s->tab = NULL, s->cap = s->used = 0;
  s->held = NULL, s->nheld = s->held_cap = 0;
}

/* What is still outstanding is written as pending, in submission order, so that the records
 * account for every submitted tx. */
static void client_finish(wf_lp *lp, void *state) {
  const load_cfg *c = wf_lp_cfg(lp);
  client *s = state;
  wf_net_finish(lp, c->chain.net, &s->port);
  if (c->txs && s->used) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->tab[i].key) s->tab[k++] = s->tab[i];
    qsort(s->tab, k, sizeof *s->tab, by_key);
    for (uint32_t i = 0; i < k; i++) {
      const out_tx *e = &s->tab[i];
      tx_row row = {.id = (uint64_t)wf_lp_id(lp) << 32 | (e->key - 1), .chain = c->chain.group,
                    .client = wf_lp_id(lp), .type = e->type, .bytes = e->bytes,
                    .submit_ns = e->submitted, .gas_wanted = e->gas, .status = WF_TX_PENDING};
      wf_record_append(lp, c->txs, &row);
    }
  }
  /* Held back (fee_policy wait) to the end: never sent, pending, numbered after the rest. */
  for (uint32_t i = 0; c->txs && i < s->nheld; i++) {
    const held_tx *x = &s->held[i];
    tx_row row = {.id = (uint64_t)wf_lp_id(lp) << 32 | (s->count + i),
                  .chain = c->chain.group,
                  .client = wf_lp_id(lp),
                  .type = x->type,
                  .bytes = x->bytes,
                  .submit_ns = x->arrived,
                  .gas_wanted = x->gas,
                  .status = WF_TX_PENDING};
    wf_record_append(lp, c->txs, &row);
  }
  client_destroy(lp, s);
}

/* ---- weft.load{...} ---- */

static const wf_arg_spec step_fields[] = {
    {"at", WF_ARG_DURATION, NULL, 0, 1.8e10, "when the rate changes (simulated time)"},
    {"rate", WF_ARG_NUM, NULL, 0, 1e9, "tx/s per connection from then on"},
};

static const wf_arg_spec mix_fields[] = {
    {"type", WF_ARG_STR, NULL, 1, 0, "bank_send, wasm_execute or inference"},
    {"weight", WF_ARG_NUM, "1", 0, 1e12, "its share of the txs (relative to the others')"},
    {"bytes", WF_ARG_INT, "250", 1, 4294967295.0, "size on the wire and in a block"},
    {"gas", WF_ARG_INT, "200000", 0, 4294967295.0, "gas limit (gas_wanted)"},
    {"need", WF_ARG_INT, "0", 0, 4294967295.0,
     "gas the call's execution uses: a contract's or an inference's declared work (0: the "
     "chain's table)"},
};

const wf_arg_spec wf_load_args[] = {
    {"chain", WF_ARG_HANDLE, NULL, 1, 0, "the chain to load (a weft.chain{...})", .kind = "chain"},
    {"connections", WF_ARG_INT, "1", 1, 1e6,
     "client connections, each one LP sending to one validator (tm-load-test -c: 1)"},
    {"nodes", WF_ARG_LIST, "{}", 1, 1e6,
     "the nodes connections go to, round-robin: validators 1 to V, then full nodes V+1 on "
     "({}: all validators)",
     .elem = WF_ARG_INT},
    {"region", WF_ARG_STR, "", 1, 0,
     "where the clients are (\"\": each in its validator's region)"},
    {"bandwidth", WF_ARG_NUM, "1e9", 1, 1e15, "each client's up and down bandwidth, bit/s"},
    {"rate", WF_ARG_NUM, "1000", 0, 1e9,
     "open loop: tx/s per connection, Poisson (tm-load-test -r: 1000)"},
    {"rate_steps", WF_ARG_LIST, "{}", 1, 0,
     "open loop: { {at=, rate=}, ... }: the rate changes at these times (increasing)",
     .elem = WF_ARG_RECORD, .fields = step_fields, .nfields = 2},
    {"closed", WF_ARG_INT, "0", 0, 1e6,
     "closed loop: txs outstanding per connection (0: open loop)"},
    {"think", WF_ARG_DURATION, "0", 0, 1.8e10,
     "closed loop: wait between an outcome and the next submission"},
    {"replay", WF_ARG_STR, "", 1, 0,
     "a CSV trace to replay (time_s,type,bytes,gas; rows dealt to connections in turn)"},
    {"timeout", WF_ARG_DURATION, "0", 0, 1.8e10,
     "give up on a tx without an outcome after this long: dropped (0: never)"},
    {"start", WF_ARG_DURATION, "0", 0, 1.8e10, "when the load starts"},
    {"duration", WF_ARG_DURATION, "60s", 0, 1.8e10,
     "how long it submits (tm-load-test -T: 60 s; 0: until the run ends)"},
    {"mix", WF_ARG_LIST, "{}", 1, 0,
     "tx kinds: { {type=, weight=, bytes=, gas=}, ... } ({}: bank_send of 250 bytes)",
     .elem = WF_ARG_RECORD, .fields = mix_fields, .nfields = 5},
    {"price", WF_ARG_INT, "1", 0, 9.2e18, "fee cap per unit of gas offered (nano-units)"},
    {"fee_policy", WF_ARG_STR, "submit", 1, 0,
     "when the chain's price per gas is above the cap: submit (send anyway: the chain refuses "
     "it), wait (hold txs back until it is not, asking every fee_retry) or drop (give up: "
     "dropped)"},
    {"fee_retry", WF_ARG_DURATION, "1s", 1e-6, 3600, "wait: how often a client asks the price"},
    {"record_txs", WF_ARG_BOOL, "true", 1, 0, "a row per tx in /records/txs"},
};
const unsigned wf_load_nargs = sizeof wf_load_args / sizeof *wf_load_args;

static int read_mix(wf_engine *eng, load_cfg *c, const wf_args *a, wf_error *err) {
  const wf_arg_value *m = wf_arg(a, "mix");
  c->nmix = m->n ? m->n : 1;
  if (!(c->mix = wf_engine_alloc(eng, c->nmix * sizeof *c->mix)))
    return wf_error_set(err, "out of memory");
  if (!m->n) {
    /* tm-load-test's default transaction: 250 bytes; the Cosmos SDK client's default gas
     * limit (flags.DefaultGasLimit). */
    c->mix[0] = (mix_entry){1, 250, 200000, WF_TX_BANK_SEND};
    return 0;
  }
  double cum = 0;
  for (uint32_t i = 0; i < m->n; i++) {
    const wf_arg_value *e = &m->elems[i];
    const char *name = wf_arg_field(e, "type")->s;
    int t = type_of(name);
    if (t < 0)
      return wf_error_set(err, "'mix[%u].type' = '%s': expected bank_send, wasm_execute or "
                               "inference", i + 1, name);
    cum += wf_arg_field(e, "weight")->d;
    c->mix[i] = (mix_entry){cum, (uint32_t)wf_arg_field(e, "bytes")->i,
                            (uint32_t)wf_arg_field(e, "gas")->i,
                            (uint32_t)wf_arg_field(e, "need")->i, (uint8_t)t};
  }
  if (!(cum > 0)) return wf_error_set(err, "'mix': the weights add up to 0");
  return 0;
}

static int read_steps(wf_engine *eng, load_cfg *c, const wf_args *a, wf_error *err) {
  const wf_arg_value *st = wf_arg(a, "rate_steps");
  c->nsteps = st->n;
  if (st->n && !(c->steps = wf_engine_alloc(eng, st->n * sizeof *c->steps)))
    return wf_error_set(err, "out of memory");
  for (uint32_t i = 0; i < st->n; i++) {
    c->steps[i] = (rate_step){wf_arg_field(&st->elems[i], "at")->t,
                              wf_arg_field(&st->elems[i], "rate")->d};
    if (i && c->steps[i].at <= c->steps[i - 1].at) {
      char t1[32], t0[32];
      wf_duration_format(c->steps[i].at, t1, sizeof t1);
      wf_duration_format(c->steps[i - 1].at, t0, sizeof t0);
      return wf_error_set(err, "'rate_steps[%u].at' = %s is not after 'rate_steps[%u].at' = %s: "
                               "steps go forward in time", i + 1, t1, i, t0);
    }
  }
  return 0;
}

/* A whole unsigned 32-bit field of a CSV row; -1 if it is not one. */
static int parse_u32(const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  if (*s < '0' || *s > '9') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > UINT32_MAX) return -1;
  *out = (uint32_t)v;
  return 0;
}

static int replay_row_parse(char *line, const char *path, unsigned no, replay_row *r,
                            wf_error *err) {
  char *f[5];
  unsigned n = 0;
  for (char *p = line; n < 5;) {
    f[n++] = p;
    char *comma = strchr(p, ',');
    if (!comma) break;
    *comma = 0;
    p = comma + 1;
  }
  if (n != 4)
    return wf_error_set(err, "%s:%u: %u fields, expected 4: time_s,type,bytes,gas", path, no, n);
  char *end;
  errno = 0;
  double t = strtod(f[0], &end);
  wf_time ns = 0;
  if (end == f[0] || *end || errno || !(t >= 0) || wf_duration_from_seconds(t, &ns, err) != 0)
    return wf_error_set(err, "%s:%u: time '%s' is not a number of seconds >= 0", path, no, f[0]);
  int type = type_of(f[1]);
  if (type < 0)
    return wf_error_set(err, "%s:%u: type '%s': expected bank_send, wasm_execute or inference",
                        path, no, f[1]);
  if (parse_u32(f[2], &r->bytes) != 0 || r->bytes == 0)
    return wf_error_set(err, "%s:%u: bytes '%s' is not an integer in [1, 2^32)", path, no, f[2]);
  if (parse_u32(f[3], &r->gas) != 0)
    return wf_error_set(err, "%s:%u: gas '%s' is not an integer in [0, 2^32)", path, no, f[3]);
  r->t = ns, r->type = (uint8_t)type;
  return 0;
}

/* The trace: one row per tx, times in seconds after 'start' and never decreasing. Blank lines
 * and lines starting with '#' are skipped, and so is a first line naming the columns. */
int wf_replay_read(const char *path, wf_replay_row **out, uint32_t *nout, wf_error *err) {
  *out = NULL;
  *nout = 0;
  FILE *f = fopen(path, "r");
  if (!f) return wf_error_set(err, "'replay': cannot open %s: %s", path, strerror(errno));
  replay_row *rows = NULL;
  uint32_t n = 0, cap = 0;
  char line[1024];
  int rc = 0;
  for (unsigned no = 1; rc == 0 && fgets(line, sizeof line, f); no++) {
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
      rc = wf_error_set(err, "%s:%u: line longer than %zu characters", path, no, sizeof line - 2);
      break;
    }
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (!len || line[0] == '#') continue;
    if (no == 1 && strncmp(line, "time", 4) == 0) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      replay_row *x = realloc(rows, (size_t)cap * sizeof *x);
      if (!x) {
        rc = wf_error_set(err, "%s: out of memory", path);
        break;
      }
      rows = x;
    }
    rc = replay_row_parse(line, path, no, &rows[n], err);
    if (rc == 0 && n && rows[n].t < rows[n - 1].t)
      rc = wf_error_set(err, "%s:%u: time %s s is before the previous row's: rows go forward in "
                             "time", path, no, line); /* the parse cut the line at its first comma */
    n++;
  }
  if (rc == 0 && ferror(f)) rc = wf_error_set(err, "%s: read error", path);
  fclose(f);
  if (rc == 0 && !n) rc = wf_error_set(err, "%s: no transactions", path);
  if (rc != 0) {
    free(rows);
    return -1;
  }
  *out = rows;
  *nout = n;
  return 0;
}

static int read_replay(wf_engine *eng, load_cfg *c, const char *path, wf_error *err) {
  replay_row *rows;
  uint32_t n;
  if (wf_replay_read(path, &rows, &n, err) != 0) return -1;
  c->rows = wf_engine_alloc(eng, (size_t)n * sizeof *rows);
  int rc = c->rows ? 0 : wf_error_set(err, "out of memory");
  if (rc == 0) memcpy(c->rows, rows, (size_t)n * sizeof *rows);
  c->nrows = n;
  free(rows);
  return rc;
}

static int define_outputs(wf_engine *eng, load_cfg *c, const wf_args *a, wf_error *err) {
  c->m_submitted = wf_chain_metric(eng, c->chain.name, wf_counter_define, "txs_submitted", "txs", "txs clients submitted", err);
  c->m_committed = wf_chain_metric(eng, c->chain.name, wf_counter_define, "txs_committed", "txs",
                                     "txs clients learned were committed", err);
  c->m_rejected = wf_chain_metric(eng, c->chain.name, wf_counter_define, "txs_rejected", "txs",
                                    "txs clients learned were rejected at CheckTx", err);
  c->m_failed = wf_chain_metric(eng, c->chain.name, wf_counter_define, "txs_failed", "txs",
                                  "txs clients learned failed in a block (out of gas)", err);
  c->m_dropped = wf_chain_metric(eng, c->chain.name, wf_counter_define, "txs_dropped", "txs", "txs clients gave up on", err);
  c->m_late = wf_chain_metric(eng, c->chain.name, wf_counter_define, "txs_late", "txs",
                                "outcomes that reached a client after it gave up on the tx", err);
  c->h_latency = wf_chain_metric(eng, c->chain.name, wf_hist_define, "tx_latency", "ns",
                                "submission to the client learning of the commit", err);
  if (c->h_latency != WF_METRIC_NONE && wf_hist_windowed(eng, c->h_latency, err) != 0) return -1;
  c->g_outstanding = wf_chain_metric(eng, c->chain.name, wf_gauge_define, "txs_outstanding", "txs",
                                     "txs submitted whose outcome their client does not know", err);
  if (c->m_submitted == WF_METRIC_NONE || c->m_committed == WF_METRIC_NONE ||
      c->m_rejected == WF_METRIC_NONE || c->m_failed == WF_METRIC_NONE ||
      c->m_dropped == WF_METRIC_NONE || c->m_late == WF_METRIC_NONE || c->h_latency == WF_METRIC_NONE ||
      c->g_outstanding == WF_METRIC_NONE)
    return -1;
  const wf_summary_spec f[] = {
      {NULL, "s", "median time from submission to the client learning of the commit",
       WF_SUMMARY_QUANTILE, c->h_latency, 0, 0.50, 1e-9},
      {NULL, "s", "99th percentile of that latency", WF_SUMMARY_QUANTILE, c->h_latency, 0, 0.99,
       1e-9},
      {NULL, "txs", "txs clients submitted", WF_SUMMARY_TOTAL, c->m_submitted, 0, 0, 0},
      {NULL, "txs", "txs clients learned were refused (CheckTx, or evicted when the price passed "
                    "their cap)",
       WF_SUMMARY_TOTAL, c->m_rejected, 0, 0, 0},
      {NULL, "txs", "txs clients gave up on (timeout, or a fee above their cap)", WF_SUMMARY_TOTAL,
       c->m_dropped, 0, 0, 0},
  };
  static const char *const what[] = {"latency_p50", "latency_p99", "txs_submitted", "txs_rejected",
                                     "txs_dropped"};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    if (wf_chain_summary(eng, c->chain.name, what[i], &f[i], err) != 0) return -1;
  if (wf_arg_bool(a, "record_txs") &&
      !(c->txs = wf_record_define(eng, "txs", tx_cols, sizeof tx_cols / sizeof *tx_cols,
                                  sizeof(tx_row), "one row per transaction a client submitted",
                                  err)))
    return -1;
  int cls = wf_net_class((wf_net *)c->chain.net, "tx", err);
  if (cls < 0) return -1;
  c->cls = (unsigned)cls;
  return 0;
}

/* Which validator each connection sends to, and where the clients are. */
static int place_clients(wf_engine *eng, load_cfg *c, const wf_args *a, uint16_t *region,
                         wf_error *err) {
  const wf_arg_value *nodes = wf_arg(a, "nodes");
  for (uint32_t i = 0; i < nodes->n; i++)
    if (nodes->elems[i].i > (int64_t)c->chain.validators + c->chain.full_nodes)
      return wf_error_set(err, "'nodes[%u]' = %lld: the chain has nodes 1 to %u (validators 1 "
                               "to %u, then its full nodes)",
                          i + 1, (long long)nodes->elems[i].i,
                          c->chain.validators + c->chain.full_nodes, c->chain.validators);
  if (!(c->target = wf_engine_alloc(eng, c->n * sizeof *c->target)))
    return wf_error_set(err, "out of memory");
  const char *where = wf_arg_str(a, "region");
  int fixed = where[0] ? wf_net_region(c->chain.net, where) : -1;
  if (where[0] && fixed < 0)
    return wf_error_set(err, "'region' = '%s': not a region of the network", where);
  for (uint32_t k = 0; k < c->n; k++) {
    uint32_t v = nodes->n ? (uint32_t)nodes->elems[k % nodes->n].i - 1 : k % c->chain.validators;
    c->target[k] = v < c->chain.validators ? c->chain.first + v
                                           : c->chain.full_first + (v - c->chain.validators);
    int r = fixed;
    if (r < 0) r = wf_net_node_region(c->chain.net, wf_net_node_of(c->chain.net, c->target[k]));
    if (r < 0)
      return wf_error_set(err, "validator %u is not attached to the chain's network", v + 1);
    region[k] = (uint16_t)r;
  }
  return 0;
}

static int load_setup(wf_engine *eng, load_cfg *c, const wf_args *a, wf_error *err) {
  c->n = (uint32_t)wf_arg_int(a, "connections");
  if (!c->chain.validators) return wf_error_set(err, "'chain' has no validators");
  c->rate = wf_arg_num(a, "rate");
  c->closed = (uint32_t)wf_arg_int(a, "closed");
  c->think = wf_arg_duration(a, "think");
  c->timeout = wf_arg_duration(a, "timeout");
  c->start = wf_arg_duration(a, "start");
  wf_time d = wf_arg_duration(a, "duration");
  c->end = d ? c->start + d : WF_TIME_MAX;
  c->price = (uint64_t)wf_arg_int(a, "price");
  const char *fp = wf_arg_str(a, "fee_policy");
  c->fee_policy = !strcmp(fp, "submit") ? FEE_SUBMIT
                  : !strcmp(fp, "wait") ? FEE_WAIT
                  : !strcmp(fp, "drop") ? FEE_DROP
                                        : -1;
  if (c->fee_policy < 0)
    return wf_error_set(err, "'fee_policy' = '%s': expected submit, wait or drop", fp);
  c->fee_retry = wf_arg_duration(a, "fee_retry");
  const char *replay = wf_arg_str(a, "replay");
  if (replay[0] && c->closed) return wf_error_set(err, "'replay' and 'closed' exclude each other");
  if (wf_arg(a, "rate_steps")->n && (replay[0] || c->closed))
    return wf_error_set(err, "'rate_steps' is for the open loop: not with '%s'",
                        replay[0] ? "replay" : "closed");
  if (read_mix(eng, c, a, err) != 0 || read_steps(eng, c, a, err) != 0) return -1;
  if (replay[0] && read_replay(eng, c, replay, err) != 0) return -1;
  return define_outputs(eng, c, a, err);
}

int wf_load_build_on(wf_engine *eng, const wf_args *a, const wf_chain_info *chain, wf_built *out,
                     wf_error *err) {
  load_cfg *c = wf_engine_alloc(eng, sizeof *c);
  if (!c) return wf_error_set(err, "out of memory");
  c->chain = *chain;
  if (load_setup(eng, c, a, err) != 0) return -1;
  uint16_t *region = malloc(c->n * sizeof *region);
  double *bw = malloc(c->n * sizeof *bw);
  int rc = region && bw ? place_clients(eng, c, a, region, err) : wf_error_set(err, "out of memory");
  if (rc == 0) {
    for (uint32_t k = 0; k < c->n; k++) bw[k] = wf_arg_num(a, "bandwidth");
    /* Clients send only to their chain's validators over the transport, and they join the
     * chain's group so that the chain's windows are not bounded by them. */
    c->type = (wf_lp_type){"load_client", sizeof(client), wf_net_min_delay(c->chain.net),
                           client_init,   client_handle,  client_finish,
                           WF_TIME_MAX,   client_destroy};
    c->first = wf_engine_add_lps(eng, &c->type, c->n, c, c->chain.group, err);
    if (c->first == WF_LP_NONE ||
        wf_net_attach((wf_net *)c->chain.net, c->first, c->n, region, bw, bw, err) == UINT32_MAX)
      rc = -1;
  }
  free(region), free(bw);
  if (rc == 0) *out = (wf_built){c->first, c->n, NULL, NULL};
  return rc;
}

static int load_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  wf_chain_info info;
  wf_chain_info_of(wf_arg(a, "chain")->h, &info);
  return wf_load_build_on(eng, a, &info, out, err);
}

static const wf_builder workload_builders[] = {
    {"load", "clients that submit transactions to a chain's validators and record the outcomes",
     wf_load_args, sizeof wf_load_args / sizeof *wf_load_args, load_build},
};

const wf_model wf_model_workload = {"workload", "transaction load on chains: open, closed, replay",
                                    workload_builders, 1};
