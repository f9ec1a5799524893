#include "sync.h"

#include <mpi.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int g_mpi, g_rank, g_size = 1;

/* Buffers reused from window to window: the exchange allocates only when traffic grows. */
typedef struct bytes {
  unsigned char *p;
  size_t cap;
} bytes;
static bytes *g_send; /* one per peer */
static bytes g_recv;
static MPI_Request *g_req;

/* Launchers leave their mark in the environment; without one we stay a plain process, so a
 * one-rank run needs no MPI runtime at all. */
static int under_launcher(void) {
  static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

void wf_sync_init(int *argc, char ***argv) {
  if (!under_launcher()) return;
  MPI_Init(argc, argv);
  g_mpi = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
}

void wf_sync_finalize(void) {
  if (g_send)
    for (int r = 0; r < g_size; r++) free(g_send[r].p);
  free(g_send), free(g_req), free(g_recv.p);
  g_send = NULL, g_req = NULL, g_recv = (bytes){0};
  if (g_mpi) MPI_Finalize();
  g_mpi = 0;
}

int wf_sync_rank(void) {
  return g_rank;
}
int wf_sync_size(void) {
  return g_size;
}

_Noreturn void wf_sync_abort(int code) {
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}

static void combine(wf_window_msg *all, const wf_window_msg *m) {
  if (m->min_ts < all->min_ts) all->min_ts = m->min_ts;
  all->events += m->events;
  all->flags |= m->flags;
}

static int reserve(bytes *b, size_t n) {
  if (n <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < n) cap *= 2;
  unsigned char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

/* On the wire an event is its header and the payload bytes it uses: most payloads are short,
 * and bytes, more than messages, set the cost of a window (weft bench sync). */
#define EV_HEADER offsetof(wf_event, data)

static size_t pack(unsigned char *to, const wf_event *ev) {
  memcpy(to, ev, EV_HEADER + ev->len);
  return EV_HEADER + ev->len;
}

static size_t unpack(wf_event *ev, const unsigned char *from) {
  memcpy(ev, from, EV_HEADER);
  memcpy(ev->data, from + EV_HEADER, ev->len);
  return EV_HEADER + ev->len;
}

/* One point-to-point round: every rank sends one message (header, then its events for that
 * peer) to every other and receives one from each. Each rank's minimum travels in every
 * message, so the next window's bound needs no separate collective. Messages between a pair
 * keep their order (MPI's non-overtaking rule), so one tag serves every window. */
int wf_sync_exchange(const wf_window_msg *mine, wf_outbox *outbox,
                     void (*deliver)(void *ud, const wf_event *ev), void *ud, wf_window_msg *all,
                     wf_error *err) {
  enum { TAG = 7 };
  *all = *mine;
  all->nevents = 0;
  if (g_size == 1) return 0;
  if (!g_send) {
    g_send = calloc((size_t)g_size, sizeof *g_send);
    g_req = calloc((size_t)g_size, sizeof *g_req);
    if (!g_send || !g_req) return wf_error_set(err, "out of memory in the window exchange");
  }
  int nreq = 0;
  for (int r = 0; r < g_size; r++) {
    if (r == g_rank) continue;
    if (reserve(&g_send[r], sizeof *mine + outbox[r].n * sizeof(wf_event)) != 0)
      return wf_error_set(err, "out of memory sending %zu events to rank %d", outbox[r].n, r);
    wf_window_msg h = *mine;
    h.nevents = (uint32_t)outbox[r].n;
    memcpy(g_send[r].p, &h, sizeof h);
    size_t len = sizeof h;
    for (size_t i = 0; i < outbox[r].n; i++) len += pack(g_send[r].p + len, &outbox[r].ev[i]);
    MPI_Isend(g_send[r].p, (int)len, MPI_BYTE, r, TAG, MPI_COMM_WORLD, &g_req[nreq++]);
  }
  int rc = 0;
  for (int r = 0; r < g_size; r++) {
    if (r == g_rank) continue;
    MPI_Status st;
    int len;
    MPI_Probe(r, TAG, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, &len);
    if (reserve(&g_recv, (size_t)len) != 0) {
      rc = wf_error_set(err, "out of memory receiving %d bytes from rank %d", len, r);
      MPI_Recv(NULL, 0, MPI_BYTE, r, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      continue;
    }
    MPI_Recv(g_recv.p, len, MPI_BYTE, r, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    wf_window_msg m;
    memcpy(&m, g_recv.p, sizeof m);
    combine(all, &m);
    size_t at = sizeof m;
    for (uint32_t i = 0; i < m.nevents; i++) {
      wf_event ev;
      at += unpack(&ev, g_recv.p + at);
      deliver(ud, &ev);
    }
  }
  MPI_Waitall(nreq, g_req, MPI_STATUSES_IGNORE);
  for (int r = 0; r < g_size; r++) outbox[r].n = 0;
  return rc;
}

static int allreduce(void *v, size_t n, MPI_Datatype t, MPI_Op op) {
  if (g_size == 1 || n == 0) return 0;
  return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, t, op, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}
int wf_sync_sum_u64(uint64_t *v, size_t n) {
  return allreduce(v, n, MPI_UINT64_T, MPI_SUM);
}
int wf_sync_sum_i64(int64_t *v, size_t n) {
  return allreduce(v, n, MPI_INT64_T, MPI_SUM);
}
int wf_sync_min_u64(uint64_t *v, size_t n) {
  return allreduce(v, n, MPI_UINT64_T, MPI_MIN);
}
int wf_sync_max_u64(uint64_t *v, size_t n) {
  return allreduce(v, n, MPI_UINT64_T, MPI_MAX);
}

void *wf_sync_gather_bytes(const void *mine, size_t len, size_t *total, wf_error *err) {
  *total = 0;
  if (g_size == 1) {
    void *copy = malloc(len ? len : 1);
    if (!copy) {
      wf_error_set(err, "out of memory gathering %zu bytes", len);
      return NULL;
    }
    memcpy(copy, mine, len);
    *total = len;
    return copy;
  }
  int n = (int)len, *counts = NULL, *displs = NULL;
  if (g_rank == 0) {
    counts = calloc((size_t)g_size, sizeof *counts);
    displs = calloc((size_t)g_size, sizeof *displs);
  }
  MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  char *all = NULL;
  if (g_rank == 0) {
    size_t sum = 0;
    for (int r = 0; r < g_size; r++) {
      displs[r] = (int)sum;
      sum += (size_t)counts[r];
    }
    all = malloc(sum ? sum : 1);
    *total = sum;
  }
  MPI_Gatherv(mine, n, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
  free(counts), free(displs);
  return all;
}

int wf_sync_agree(wf_error *err) {
  if (g_size == 1) return err->set ? -1 : 0;
  int first = err->set ? g_rank : g_size;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first == g_size) return 0;
  MPI_Bcast(err->msg, sizeof err->msg, MPI_CHAR, first, MPI_COMM_WORLD);
  err->set = 1;
  return -1;
}
