/* The engine's own state, shared by its files (engine.c, metrics.c, record.c) and by nothing
 * else: models see only engine.h. */
#ifndef WF_ENGINE_INTERNAL_H
#define WF_ENGINE_INTERNAL_H

#include <stdio.h>

#include "engine.h"
#include "partition.h"
#include "queue.h"
#include "queue_ladder.h"
#include "sync.h"

#define WF_MAX_TYPES 1024   /* each chain brings two (its delays are its network's): 512 chains */
#define WF_HIST_BUCKETS 496 /* 8 exact + 8 per power of two from 2^3 to 2^63 */

typedef enum { WF_METRIC_COUNTER, WF_METRIC_GAUGE } wf_metric_kind;

typedef struct wf_metric_def {
  char *name, *units, *description;
  wf_metric_kind kind;
  int series; /* trace series handle */
} wf_metric_def;

typedef struct wf_hist {
  char *name, *units, *description;
  uint64_t count, sum_lo, sum_hi; /* exact 128-bit sum */
  uint64_t min, max;
  uint64_t buckets[WF_HIST_BUCKETS];
  int windowed;        /* also write quantiles per sample interval (wf_hist_windowed) */
  int q_series[3];     /* their series: _p50, _p95, _p99 */
} wf_hist;

/* Row keys for record tables on several ranks: rows are merged in the order one rank would
 * have appended them: init (by LP), then events (by timestamp and tie), then finish (by LP). */
typedef struct wf_row_key {
  uint32_t phase; /* 0 init, 1 events, 2 finish */
  wf_lpid lp;     /* the event's source LP (the tie's first half), or the LP in init and finish */
  wf_time ts;
  uint64_t sent; /* the event's seq (the tie's second half); 0 in init and finish */
  uint64_t seq;  /* rows appended by the same event or LP so far */
} wf_row_key;

struct wf_record {
  char *name, *description;
  wf_column *cols;
  size_t ncols, row_size;
  unsigned char *rows;
  wf_row_key *keys; /* only on several ranks, where rows are kept until the end */
  size_t nrows, cap;
  uint64_t total;
  wf_trace_table *table;
  wf_record *next;
};

/* A block of pooled events; blocks are chained for freeing. */
typedef struct wf_pool_block {
  struct wf_pool_block *next;
  wf_event events[];
} wf_pool_block;

/* A model's cleanup, run at wf_engine_free. */
typedef struct wf_cleanup {
  struct wf_cleanup *next;
  void (*fn)(void *ud);
  void *ud;
} wf_cleanup;

/* An allocation owned by the engine (state arenas, model configs). */
typedef struct wf_owned {
  struct wf_owned *next;
  max_align_t data[];
} wf_owned;

/* The per-LP index every rank keeps for the whole world: one run per wf_engine_add_lps call
 * (merged into the previous run when type, cfg and group are the same), so the world's LPs cost
 * a few bytes per call, not per LP. Placement, the lookahead, wf_send's checks and messages
 * about LPs on other ranks read it; wf_lp records and states exist only for owned LPs. */
typedef struct wf_lp_run {
  wf_lpid first;
  uint32_t count;
  const wf_lp_type *type;
  const void *cfg;
  uint32_t group;
} wf_lp_run;

/* The lookahead a placement allows, and where it comes from. An LP type bounds it by its
 * min_delay if some group it has LPs in (ungrouped LPs count as group 0) spans ranks, else by
 * its min_delay_cross (or min_delay where that is 0); the lookahead is the least bound. */
typedef struct wf_lookahead {
  wf_time value;            /* WF_TIME_MAX in a world without LPs */
  const wf_lp_type *type;   /* the type whose bound it is (NULL without LPs) */
  int cross;                /* 1: its cross-group bound, 0: its within-group min_delay */
} wf_lookahead;
struct wf_engine {
  /* hot: touched on every event */
  wf_queue queue;   /* the pending set while small (and always during init) */
  wf_ladder ladder; /* the pending set once large: see choose_queue in engine.c */
  int use_ladder;
  int auto_queue; /* still on the heap, free to move to the ladder once it grows */
  wf_lp *lps; /* the LPs this rank owns, in id order (nowned of them): see wf_engine_place */
  wf_event *free_events;
  wf_time now, end_time;
  int top_pending; /* the event being handled is still at the top of the queue */
  uint64_t budget; /* events until the next slow-path check */
  uint64_t events;
  uint64_t sends; /* events this rank's LPs scheduled (also those dropped past the end) */
  uint64_t *counters;
  int64_t *gauges;
  int nranks;   /* > 1: cross-rank sends go to the outboxes */
  int windowed; /* running in windows: no collectives inside event_loop */
  int rank;
  /* Per LP of the world, on several ranks (NULL on one): below nowned, the LP's index in lps
   * (it is owned here); else nowned + the rank that owns it. One array serves wf_send's "is it
   * remote, and where" and the event loop's id -> record lookup. */
  uint32_t *where;
  uint32_t nowned;
  /* The owned LPs are the ids [lp_base, lp_base + nowned) (always on one rank, and on several
   * when the placement gives this rank one block): the event loop then finds a record without
   * reading where. */
  int lps_dense;
  wf_lpid lp_base;
  size_t state_bytes; /* LP state allocated on this rank: sum over owned LPs of the state stride */
  wf_outbox *outbox; /* per destination rank */
  size_t outbox_n;   /* events in all outboxes */
  uint64_t cross_sent;
  double sync_s;     /* wall time in window exchanges, waiting for the slowest rank included */
  wf_time lookahead; /* derived from the placement (wf_lookahead_of): the longest safe window */
  wf_lookahead lookahead_from; /* and where it came from */
  wf_time window;    /* the window used: the lookahead unless --window-fraction says less */
  int phase;         /* 0 init, 1 events, 2 finish: for record row keys */
  const wf_lp *current_lp; /* in init and finish */
  const wf_event *current; /* the event being handled: record rows are keyed by it */
  uint64_t current_rows;   /* record rows appended while handling it */

  uint32_t inited;    /* owned LPs 0 .. inited - 1 (in lps) had their init called */
  uint32_t nlps;      /* LPs in the world, on every rank */
  uint64_t lp_bytes;  /* what the LPs declared so far need at least (wf_engine_add_lps) */
  uint64_t expected_events; /* pending at the start, as models declared (wf_engine_expect_events) */
  uint64_t model_bytes;     /* what models declared they need at least (wf_engine_expect_bytes) */
  wf_lp_run *runs;    /* the per-LP index, by id */
  uint32_t nruns, runs_cap;
  int placed;         /* wf_engine_place has run: lps, states and where exist */
  int started;        /* wf_engine_run was called: an engine runs once */
  uint32_t max_group; /* the largest group id in use or handed out */
  double *lp_weight;  /* load weight per LP (weight_cap of them); NULL while all weigh 1 */
  uint32_t weight_cap;
  wf_group_weight *group_weight; /* groups given a weight of their own */
  size_t ngroup_weight;
  const wf_lp_type *types[WF_MAX_TYPES];
  uint32_t ntypes;
  wf_pool_block *blocks;
  wf_owned *owned;
  wf_cleanup *cleanups;
  unsigned char *lp_mem; /* wf_lp_alloc's current chunk and what is left of it */
  size_t lp_mem_left;
  struct {
    void (*fn)(wf_engine *eng, void *ud);
    void *ud;
  } *after_init; /* wf_engine_after_init's callbacks, in registration order */
  uint32_t nafter_init;

  wf_metric_def *metrics; /* counters and gauges share the id space */
  uint32_t nmetrics;
  wf_metric m_events, m_pending;
  wf_hist **hists;
  uint32_t nhists;
  struct wf_summary_def *summaries; /* headline figures (metrics.c) */
  uint32_t nsummaries;
  wf_record *records;
  wf_record *lp_events;
  void *sample_buf; /* metrics.c's series buffers */

  wf_trace *trace;
  wf_error *err; /* set by wf_lp_fail while running */
  int failed;
  uint64_t dropped_after_end;
};

/* The pending set, whichever structure holds it. Both order by (ts, tie) exactly, so the
 * choice changes speed, never results. */
static inline size_t wf_pending(const wf_engine *eng) {
  return eng->use_ladder ? wf_ladder_size(&eng->ladder) : eng->queue.n;
}

/* rank_of[i] is LP i's rank; NULL: every LP on one rank. Returns -1 only without memory. */
int wf_lookahead_of(const wf_engine *eng, const uint32_t *rank_of, wf_lookahead *out);

/* The run holding LP id (id < nlps). */
const wf_lp_run *wf_engine_run_of(const wf_engine *eng, wf_lpid id);
/* Whether this rank owns LP id. */
static inline int wf_engine_owns(const wf_engine *eng, wf_lpid id) {
  return !eng->where || eng->where[id] < eng->nowned;
}
/* The rank that owns LP id. */
static inline uint32_t wf_engine_owner(const wf_engine *eng, wf_lpid id) {
  return wf_engine_owns(eng, id) ? (uint32_t)eng->rank : eng->where[id] - eng->nowned;
}

/* Places the world's LPs on nranks ranks (sim/partition.c), derives the lookahead, and
 * allocates wf_lp records, states and outboxes for the LPs `rank` owns, nothing for the
 * others. wf_engine_run calls it with the MPI rank; tests call it with any rank to see what
 * one rank of a larger run would hold, and may then call wf_engine_run, which keeps the
 * placement: without MPI the window exchange has no peers, so such a run handles this rank's
 * LPs alone and is meaningful only when they send nothing to other ranks. Once per engine. */
int wf_engine_place(wf_engine *eng, int nranks, int rank, wf_error *err);
/* Gives every owned LP its random stream and calls its init (wf_engine_run's first step after
 * the placement). Returns -1 when a model failed. */
int wf_engine_init_lps(wf_engine *eng, uint64_t seed);

/* metrics.c */
int wf_metrics_begin(wf_engine *eng, wf_error *err);
/* Takes one sample at time t of every counter and gauge; buffers, sums over ranks and writes
 * to the trace in blocks. */
int wf_metrics_sample(wf_engine *eng, wf_time t, wf_error *err);
/* Between windows: writes the buffered samples once a block is full (a collective). */
int wf_metrics_window_end(wf_engine *eng, wf_error *err);
int wf_metrics_end(wf_engine *eng, wf_error *err);
void wf_metrics_free(wf_engine *eng);
double wf_hist_quantile(const wf_hist *h, double q);
void wf_hist_bucket_bounds(unsigned idx, double *lo, double *hi);
unsigned wf_hist_bucket(uint64_t v);

/* record.c */
int wf_records_begin(wf_engine *eng, wf_error *err);
int wf_records_end(wf_engine *eng, wf_error *err);
/* Gathers the n (wf_row_key, row) entries of every rank to rank 0, sorts them by key and
 * appends the rows to table there (table NULL elsewhere). How a run writes a record table on
 * several ranks; also measured by weft bench output. */
int wf_records_merge_write(const unsigned char *mine, size_t n, size_t row_size,
                           wf_trace_table *table, wf_error *err);
/* Collective: the same table as wf_records_merge_write, written by every rank with parallel
 * HDF5 (table from wf_trace_create_parallel on every rank). Measured by weft bench output. */
int wf_records_write_parallel(const unsigned char *mine, size_t n, size_t row_size,
                              wf_trace_table *table, wf_error *err);
/* Merges the sorted runs in n (wf_row_key, row) entries into key order, writing the rows
 * without keys to out (n * row_size bytes). */
int wf_records_merge_runs(const unsigned char *in, size_t n, size_t row_size, unsigned char *out,
                          wf_error *err);
void wf_records_free(wf_engine *eng);

char *wf_strdup(const char *s);

#endif
