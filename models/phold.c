#include "phold.h"

#include <stddef.h>
#include <string.h>

typedef struct phold_cfg {
  wf_lpid first;
  uint32_t nlps, events_per_lp;
  double remote;
  wf_time lookahead;
  double mean_ns;
  wf_metric m_remote, h_delay; /* h_delay: WF_METRIC_NONE unless record_delays */
  wf_record *events;           /* NULL unless record_events */
  wf_lp_type type;             /* a copy per builder call: min_delay is this call's lookahead */
} phold_cfg;

enum { PHOLD_EV = 1 };

/* One row per LP at init and finish and per event handled: a small-run audit trail, and the
 * table that shows record rows merge in the same order on any number of ranks. */
typedef struct phold_row {
  uint64_t t_ns;
  uint32_t lp, from; /* the event's source; the LP itself at init and finish */
  uint32_t phase;    /* 0 init, 1 event, 2 finish */
  uint32_t pad;
} phold_row;

static const wf_column phold_row_cols[] = {
    WF_COLUMN(phold_row, t_ns, WF_COL_U64, "ns"),
    WF_COLUMN(phold_row, lp, WF_COL_U32, NULL),
    WF_COLUMN(phold_row, from, WF_COL_U32, NULL),
    WF_COLUMN(phold_row, phase, WF_COL_U32, NULL),
};

static void note(wf_lp *lp, const phold_cfg *c, uint32_t from, uint32_t phase) {
  if (!c->events) return;
  phold_row row = {wf_now(lp), wf_lp_id(lp), from, phase, 0};
  wf_record_append(lp, c->events, &row);
}

static wf_time delay_of(wf_lp *lp, const phold_cfg *c) {
  return c->lookahead + (wf_time)(wf_rng_exponential(wf_lp_rng(lp), c->mean_ns) + 0.5);
}

static void send_next(wf_lp *lp, const phold_cfg *c, wf_lpid dst) {
  wf_time d = delay_of(lp, c);
  if (c->h_delay != WF_METRIC_NONE) wf_hist_add(lp, c->h_delay, d);
  wf_send(lp, dst, d, PHOLD_EV, NULL, 0);
}

static void phold_init(wf_lp *lp, void *state, const void *cfgp) {
  (void)state;
  const phold_cfg *c = cfgp;
  note(lp, c, wf_lp_id(lp), 0);
  for (uint32_t i = 0; i < c->events_per_lp; i++) send_next(lp, c, wf_lp_id(lp));
}

static void phold_finish(wf_lp *lp, void *state) {
  (void)state;
  note(lp, wf_lp_cfg(lp), wf_lp_id(lp), 2);
}

static void phold_handle(wf_lp *lp, void *state, const wf_event *ev) {
  (void)state;
  const phold_cfg *c = wf_lp_cfg(lp);
  note(lp, c, ev->src, 1);
  wf_lpid dst = wf_lp_id(lp);
  if (wf_rng_uniform(wf_lp_rng(lp)) < c->remote) {
    dst = c->first + (wf_lpid)wf_rng_below(wf_lp_rng(lp), c->nlps);
    wf_count(lp, c->m_remote, 1);
  }
  send_next(lp, c, dst);
}

static const wf_lp_type phold_type = {
    .name = "phold",
    .state_size = 0,
    .init = phold_init,
    .handle = phold_handle,
    .finish = phold_finish,
};

static const wf_arg_spec phold_args[] = {
    {"lps", WF_ARG_INT, "1024", 1, 4294967295.0, "number of LPs"},
    {"events_per_lp", WF_ARG_INT, "1", 1, 1e6, "events each LP holds at the start"},
    {"remote", WF_ARG_NUM, "0.1", 0, 1, "probability that an event goes to a random LP"},
    {"lookahead", WF_ARG_DURATION, "100ms", 1e-9, 1e9, "fixed part of every delay"},
    {"mean", WF_ARG_DURATION, "900ms", 0, 1e9, "mean of the exponential part of every delay"},
    {"record_delays", WF_ARG_BOOL, "false", 1, 0, "histogram of delays in /histograms/phold_delay"},
    {"record_events", WF_ARG_BOOL, "false", 1, 0,
     "a row per event in /records/phold_events (small runs only)"},
};

static int phold_build(wf_engine *eng, const wf_args *a, wf_built *out, wf_error *err) {
  phold_cfg *c = wf_engine_alloc(eng, sizeof *c);
  if (!c) return wf_error_set(err, "out of memory");
  c->nlps = (uint32_t)wf_arg_int(a, "lps");
  c->events_per_lp = (uint32_t)wf_arg_int(a, "events_per_lp");
  c->remote = wf_arg_num(a, "remote");
  c->lookahead = wf_arg_duration(a, "lookahead");
  c->mean_ns = (double)wf_arg_duration(a, "mean");
  c->m_remote =
      wf_counter_define(eng, "phold_remote", "events", "events sent to a randomly chosen LP", err);
  if (c->m_remote == WF_METRIC_NONE) return -1;
  c->h_delay = WF_METRIC_NONE;
  if (wf_arg_bool(a, "record_delays")) {
    c->h_delay = wf_hist_define(eng, "phold_delay", "ns", "delay of each event sent", err);
    if (c->h_delay == WF_METRIC_NONE) return -1;
  }
  wf_metric ev = wf_engine_events_metric(eng);
  const wf_summary_spec figures[] = {
      {"phold_events_per_sim_s", "events/s", "events handled per simulated second", WF_SUMMARY_RATE,
       ev, 0, 0, 0},
      {"phold_remote_share", "", "share of the events sent to a random LP (expected: remote)",
       WF_SUMMARY_RATIO, c->m_remote, ev, 0, 0},
      {"phold_delay_mean", "s", "mean delay of the events sent (lookahead + mean: expected)",
       WF_SUMMARY_MEAN, c->h_delay, 0, 0, 1e-9},
  };
  for (size_t i = 0; i < (c->h_delay == WF_METRIC_NONE ? 2u : 3u); i++)
    if (wf_summary_define(eng, &figures[i], err) != 0) return -1;
  if (wf_arg_bool(a, "record_events")) {
    c->events = wf_record_define(eng, "phold_events", phold_row_cols,
                                 sizeof phold_row_cols / sizeof *phold_row_cols, sizeof(phold_row),
                                 "one row per LP at init and finish, and per event handled", err);
    if (!c->events) return -1;
  }
  c->type = phold_type;
  c->type.min_delay = c->lookahead;
  c->first = wf_engine_add_lps(eng, &c->type, c->nlps, c, 0, err);
  if (c->first == WF_LP_NONE) return -1;
  if (wf_engine_expect_events(eng, (uint64_t)c->nlps * c->events_per_lp, err) != 0) return -1;
  out->first = c->first;
  out->count = c->nlps;
  return 0;
}

static const wf_builder phold_builders[] = {
    {"phold", "PHOLD benchmark LPs", phold_args, sizeof phold_args / sizeof *phold_args,
     phold_build},
};

const wf_model wf_model_phold = {"phold", "PHOLD, the standard PDES benchmark", phold_builders, 1};
