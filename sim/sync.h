/* Cooperation between ranks: the window exchange of the conservative synchronisation and the
 * few collectives the engine and `weft run` need. mpi.h is included only by sync_mpi.c; a run
 * started without mpirun never initialises MPI and every call here is a local no-op. */
#ifndef WF_SYNC_H
#define WF_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

/* Initialises MPI when the process was started by an MPI launcher (mpirun, srun), else sets up
 * a single rank. Call once, first thing in main. */
void wf_sync_init(int *argc, char ***argv);
void wf_sync_finalize(void);
int wf_sync_rank(void);
int wf_sync_size(void);
/* Ends every rank of the job now (after a message has been printed). */
_Noreturn void wf_sync_abort(int code);

/* What a rank tells every other rank at the end of a window. */
typedef struct wf_window_msg {
  wf_time min_ts;   /* least timestamp among its pending and outgoing events */
  uint64_t events;  /* events it has processed so far */
  uint32_t flags;   /* WF_WIN_* */
  uint32_t nevents; /* events that follow, for the receiver */
} wf_window_msg;

#define WF_WIN_FAILED 1u  /* a model failed on this rank */
#define WF_WIN_STOP 2u    /* stop requested (signal) */
#define WF_WIN_DROPPED 4u /* it dropped events past the end time */

/* The outgoing events of one window, one buffer per destination rank. */
typedef struct wf_outbox {
  wf_event *ev;
  size_t n, cap;
} wf_outbox;

/* One window exchange: sends mine plus outbox[r] to every rank r, receives theirs, and calls
 * deliver(ud, event) for every event addressed to this rank. Returns the combined message in
 * *all: min of min_ts, sum of events, or of flags. Empties the outboxes. */
int wf_sync_exchange(const wf_window_msg *mine, wf_outbox *outbox,
                     void (*deliver)(void *ud, const wf_event *ev), void *ud, wf_window_msg *all,
                     wf_error *err);

/* Whether ranks on one machine exchange windows through shared memory (the default) or as
 * MPI messages; set before the first exchange. For measurement (weft bench sync). */
void wf_sync_use_shared_memory(int on);

/* Element-wise sums (and min / max) over ranks, in place, the result on every rank. Integer
 * only: floating-point sums would depend on the order of ranks. */
int wf_sync_sum_u64(uint64_t *v, size_t n);
int wf_sync_sum_i64(int64_t *v, size_t n);
int wf_sync_min_u64(uint64_t *v, size_t n);
int wf_sync_max_u64(uint64_t *v, size_t n);
/* Rank 0 receives every rank's bytes, concatenated in rank order (malloc'd, *len set); other
 * ranks get NULL. */
void *wf_sync_gather_bytes(const void *mine, size_t len, size_t *total, wf_error *err);

/* Collective: this rank sends counts[r] bytes to each rank r (consecutive in buf, in rank
 * order) and receives what every rank sent it, concatenated in rank order (malloc'd, *total
 * set). NULL with err set on every rank when any rank lacks memory. */
void *wf_sync_alltoall_bytes(const void *buf, const size_t *counts, size_t *total, wf_error *err);

/* Rank 0's len bytes of buf to every rank. */
void wf_sync_bcast(void *buf, size_t len);

/* Agreement after a step that may fail on some ranks only: returns 0 when every rank succeeded;
 * otherwise -1 on every rank, with err holding the message of the lowest failing rank. */
int wf_sync_agree(wf_error *err);

#endif
