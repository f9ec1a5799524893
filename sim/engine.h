/* The discrete-event engine: logical processes (LPs) of registered types exchange timestamped
 * events; the engine orders and delivers them and knows nothing of what they mean. This header
 * is the whole interface a model uses at run time; sim/README.md walks through it. */
#ifndef WF_ENGINE_H
#define WF_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "rng.h"
#include "simtime.h"
#include "trace.h"

typedef struct wf_engine wf_engine;
typedef struct wf_lp wf_lp;

/* An LP type is a table of callbacks. State is state_size bytes owned by the engine, zeroed
 * before init, and exists only on the rank that owns the LP (as does its wf_lp). cfg is the pointer given to wf_engine_add_lps, shared by all LPs of that call
 * and owned by the model (it must outlive the run). */
typedef struct wf_lp_type {
  const char *name;
  size_t state_size;
  /* The smallest delay of any event this type sends to another LP (its own group included):
   * the lookahead the MPI synchronisation may rely on. wf_send enforces it. */
  wf_time min_delay;
  void (*init)(wf_lp *lp, void *state, const void *cfg);
  void (*handle)(wf_lp *lp, void *state, const wf_event *ev);
  void (*finish)(wf_lp *lp, void *state); /* may be NULL */
  /* The smallest delay of any event this type sends to an LP of another group; 0 means the same
   * as min_delay, else it must be >= min_delay. When groups sit whole on ranks only this bound
   * limits the windows, so a chain with fast internal messages and slow links between chains
   * still runs in long windows. wf_send enforces it. After the fields above, so positional
   * initialisers of those stay valid. */
  wf_time min_delay_cross;
  /* Frees what init allocated (may be NULL): called at wf_engine_free for every LP whose init
   * ran, whether the run completed or failed, after finish. */
  void (*destroy)(wf_lp *lp, void *state);
} wf_lp_type;

/* Fields are for the engine; models use the accessors below. */
struct wf_lp {
  wf_engine *eng;
  const wf_lp_type *type;
  void *state;
  const void *cfg;
  wf_rng rng;
  uint64_t sent;   /* events sent: the second half of the tie (event.h) */
  uint64_t events; /* events handled */
  wf_lpid id;
  uint32_t group;
};

/* ---- building the world (scenario time) ---- */
wf_engine *wf_engine_new(wf_error *err);
void wf_engine_free(wf_engine *eng);

/* Adds count LPs of type t (registered on first use), all with the same cfg and group (a
 * placement hint: LPs of one group stay on one rank). Returns the first id; ids are dense and
 * in creation order, at most WF_LP_MAX LPs in all. Returns WF_LP_NONE with err set on
 * failure. This only records the LPs in a small index (a few bytes per call): their records
 * and states are allocated when the run starts, on the rank that owns them. */
wf_lpid wf_engine_add_lps(wf_engine *eng, const wf_lp_type *t, uint32_t count, const void *cfg,
                          uint32_t group, wf_error *err);
uint32_t wf_engine_lp_count(const wf_engine *eng);
/* Declares n more events a model will have pending at once at the start (PHOLD's lps x
 * events_per_lp), so that a world that cannot fit is refused while it is built: this call and
 * wf_engine_add_lps fail, the sizes in the message, once the LPs' records and states plus the
 * declared events need more than the machine's memory. */
int wf_engine_expect_events(wf_engine *eng, uint64_t n, wf_error *err);
/* Declares bytes a model will need at least while it runs, beyond its LPs' states and events
 * (a chain's vote sets, n x n per node), under the same check; what names them in the message
 * ("chain0's vote sets"). */
int wf_engine_expect_bytes(wf_engine *eng, uint64_t bytes, const char *what, wf_error *err);
/* The machine's physical memory in bytes (0 if unknown). */
uint64_t wf_machine_memory(void);
/* A group id no LP has yet (never 0, which means "ungrouped"): for models to pass to
 * wf_engine_add_lps instead of inventing numbers. Returns 0 once ids run out. */
uint32_t wf_engine_new_group(wf_engine *eng);

/* Load weights for placement on ranks (sim/partition.c balances the summed weight): LPs
 * [first, first + count) weigh `weight` each (default 1); a group weighs the sum of its LPs'
 * weights unless wf_engine_group_weight gives its own (a chain with 5x the traffic: 5x).
 * Weights are positive and finite; they change where LPs run, never results. */
int wf_engine_lp_weight(wf_engine *eng, wf_lpid first, uint32_t count, double weight,
                        wf_error *err);
int wf_engine_group_weight(wf_engine *eng, uint32_t group, double weight, wf_error *err);

/* Memory the engine frees at wf_engine_free: for model configs built by builders. */
void *wf_engine_alloc(wf_engine *eng, size_t size);
/* Calls fn(ud) at wf_engine_free, last registered first: for world-level memory a model
 * allocates and grows itself (a chain's block store). Returns -1 without memory. */
int wf_engine_on_free(wf_engine *eng, void (*fn)(void *ud), void *ud);
/* Frees p (from wf_engine_alloc) before the engine ends; NULL is ignored. */
void wf_engine_release(wf_engine *eng, void *p);
/* Registers fn(eng, ud) to run on every rank once all the LPs it owns have run init, before the
 * first event: for a model to drop build-time data over the whole world once its LPs have
 * copied what they need into their own memory (wf_lp_alloc). It must not send or change what
 * the LPs will do: it runs on every rank, whatever that rank owns. */
int wf_engine_after_init(wf_engine *eng, void (*fn)(wf_engine *eng, void *ud), void *ud,
                         wf_error *err);

/* Metrics are engine-side integer accumulators that LPs add to; integers so that sums over
 * ranks are exact and traces bit-identical however LPs are placed. Every counter and gauge
 * becomes a series in /series: a counter as its rate per simulated second, a gauge as its value
 * at each sample. Define them while building; ids are small integers. */
typedef uint32_t wf_metric;
wf_metric wf_counter_define(wf_engine *eng, const char *name, const char *units,
                            const char *description, wf_error *err);
wf_metric wf_gauge_define(wf_engine *eng, const char *name, const char *units,
                          const char *description, wf_error *err);
/* Log-bucketed histogram of unsigned values (8 buckets per power of two, relative error
 * <= 12.5%), written to /histograms/<name>. */
wf_metric wf_hist_define(wf_engine *eng, const char *name, const char *units,
                         const char *description, wf_error *err);
/* Also writes /series/<name>_p50, _p95 and _p99: the quantiles of the values added in each
 * sample interval (NaN for an interval without any), summed over ranks like everything else.
 * Costs WF_HIST_BUCKETS integers per sample. Call while building. */
int wf_hist_windowed(wf_engine *eng, wf_metric hist, wf_error *err);
#define WF_METRIC_NONE UINT32_MAX

/* Headline figures: a few numbers a model declares as what a run of it comes to (a chain's
 * TPS, its commit latency p99), computed at the end from its metrics, summed over ranks, and
 * written to /summary/figures (name, value, units, description), printed in --json's
 * "summary" and shown first in the report. Each is value = f(metrics) x scale:
 *   RATE      counter a's total per simulated second       TOTAL  counter a's total
 *   RATIO     counter a's total / counter b's total          FINAL  gauge a at the end
 *   QUANTILE  histogram a's quantile q (0..1) of the run     MEAN   histogram a's mean
 * A figure with nothing to compute from (a ratio over 0, an empty histogram) is NaN. */
typedef enum {
  WF_SUMMARY_RATE,
  WF_SUMMARY_TOTAL,
  WF_SUMMARY_RATIO,
  WF_SUMMARY_FINAL,
  WF_SUMMARY_QUANTILE,
  WF_SUMMARY_MEAN
} wf_summary_kind;
typedef struct wf_summary_spec {
  const char *name, *units, *description;
  wf_summary_kind kind;
  wf_metric a, b;
  double q, scale; /* scale 0 means 1 */
} wf_summary_spec;
/* The engine's own counter of events handled, for figures about it. */
wf_metric wf_engine_events_metric(const wf_engine *eng);
/* Declares a figure while building (a name used twice is an error); the metrics must exist. */
int wf_summary_define(wf_engine *eng, const wf_summary_spec *spec, wf_error *err);
/* After a run: the figures, in the order declared. */
size_t wf_summary_count(const wf_engine *eng);
const char *wf_summary_get(const wf_engine *eng, size_t i, double *value, const char **units);

/* Per-item tables written to /records/<name>; rows are C structs described by cols. */
typedef struct wf_record wf_record;
wf_record *wf_record_define(wf_engine *eng, const char *name, const wf_column *cols, size_t ncols,
                            size_t row_size, const char *description, wf_error *err);

/* ---- running ---- */
/* AUTO (the zero default): the heap while few events are pending, the ladder once many are
 * (engine.c, choose_queue). HEAP and LADDER force one. Results are the same with any. */
typedef enum { WF_QUEUE_AUTO, WF_QUEUE_HEAP, WF_QUEUE_LADDER } wf_queue_kind;

typedef struct wf_run_opts {
  wf_time end_time;    /* events after this time are not processed; must be > 0 */
  uint64_t max_events; /* 0 = no limit */
  wf_time sample;      /* series sampling interval; 0 = end_time / 100 */
  uint64_t seed;
  wf_trace *trace;        /* NULL: run without output */
  wf_queue_kind queue;    /* the pending set: chosen by size (default), a 4-ary heap or a ladder */
  double window_fraction; /* window = this x lookahead, in (0, 1]; 0 means 1 (the safe maximum) */
  /* Called about every progress_every_s of wall time when set. */
  void (*progress)(void *ud, wf_time now, wf_time end, uint64_t events, double wall_s);
  void *progress_ud;
  double progress_every_s;
  volatile sig_atomic_t *stop; /* polled; non-zero ends the run early ("interrupted") */
} wf_run_opts;

typedef struct wf_run_stats {
  uint64_t events;
  wf_time sim_time; /* time of the last processed event, or end_time if the run reached it */
  double wall_s;
  uint64_t pending;   /* events still queued at the end */
  const char *status; /* "completed", "event-limit", "interrupted", "idle" */
  /* Distribution (summed over ranks, except local_events). */
  uint64_t windows;      /* synchronisation windows (0 on one rank) */
  uint64_t sent;         /* events sent, including those dropped past the end */
  uint64_t cross_rank;   /* of which to LPs on another rank */
  uint64_t local_events; /* events handled on this rank */
  uint64_t local_lps;    /* LPs this rank owns: the only ones it holds records and state for */
  double sync_s;         /* this rank's wall time in window exchanges (waiting included) */
  /* The lookahead derived from the placement (wf_lookahead in engine_internal.h): its value,
   * the LP type that set it and which of its bounds ("within-group": min_delay,
   * "cross-group": min_delay_cross). NULL names before the placement is known. */
  wf_time lookahead;
  const char *lookahead_from;
  const char *lookahead_bound;
} wf_run_stats;

int wf_engine_run(wf_engine *eng, const wf_run_opts *opts, wf_run_stats *stats, wf_error *err);

/* ---- inside a handler ---- */
wf_time wf_now(const wf_lp *lp);
/* Sends an event of `kind` to dst at now + delay, copying len <= WF_PAYLOAD_MAX bytes. A
 * delay below the type's min_delay to another LP, or below its min_delay_cross to an LP of
 * another group, is a model bug and stops the run. */
void wf_send(wf_lp *lp, wf_lpid dst, wf_time delay, uint16_t kind, const void *data, size_t len);
void wf_count(wf_lp *lp, wf_metric counter, uint64_t n);
void wf_gauge_add(wf_lp *lp, wf_metric gauge, int64_t delta);
void wf_hist_add(wf_lp *lp, wf_metric hist, uint64_t value);
void wf_record_append(wf_lp *lp, wf_record *rec, const void *row);
/* Memory for this LP alone, of a size known only in its init (one entry per peer, say):
 * zeroed, aligned like max_align_t, freed with the engine. Called from init it exists only on
 * the rank that owns the LP, like the state; keep the pointer in the state. NULL without
 * memory. */
void *wf_lp_alloc(wf_lp *lp, size_t size);
/* Ends the run with an error naming this LP (for violated model invariants). */
void wf_lp_fail(wf_lp *lp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline wf_rng *wf_lp_rng(wf_lp *lp) {
  return &lp->rng;
}
static inline wf_lpid wf_lp_id(const wf_lp *lp) {
  return lp->id;
}
static inline const void *wf_lp_cfg(const wf_lp *lp) {
  return lp->cfg;
}
uint32_t wf_lp_total(const wf_lp *lp); /* LPs in the world */

#endif
