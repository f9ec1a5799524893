#include "sync.h"

#include <mpi.h>
#include <sched.h>
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
static void shm_free(void);

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
  if (g_mpi) {
    shm_free();
    MPI_Finalize();
  }
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

/* A message: the sender's header, with the count of events for this receiver, then the
 * events. Returns its length, or 0 when out of memory. */
static size_t pack_msg(bytes *b, const wf_window_msg *mine, const wf_outbox *o) {
  if (reserve(b, sizeof *mine + o->n * sizeof(wf_event)) != 0) return 0;
  wf_window_msg h = *mine;
  h.nevents = (uint32_t)o->n;
  memcpy(b->p, &h, sizeof h);
  size_t len = sizeof h;
  for (size_t i = 0; i < o->n; i++) len += pack(b->p + len, &o->ev[i]);
  return len;
}

/* Receives, point-to-point, the next message from rank `from` into g_recv. */
static int recv_mpi(int from, int tag, wf_error *err) {
  MPI_Status st;
  int len;
  MPI_Probe(from, tag, MPI_COMM_WORLD, &st);
  MPI_Get_count(&st, MPI_BYTE, &len);
  if (reserve(&g_recv, (size_t)len) != 0) {
    MPI_Recv(NULL, 0, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return wf_error_set(err, "out of memory receiving %d bytes from rank %d", len, from);
  }
  MPI_Recv(g_recv.p, len, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return 0;
}

/* ---- node-local channels ----
 * Ranks on one machine exchange windows through MPI-3 shared memory instead of MPI messages:
 * one single-producer, single-consumer byte ring per ordered pair of ranks, in the receiver's
 * segment of a window from MPI_Win_allocate_shared. A window's message then costs a copy and
 * a cache line or two changing hands instead of a trip through the MPI library, which on this
 * kind of machine is most of the cost of a window (weft bench sync prints both). Ranks on
 * other machines, and messages too large for a ring, go point-to-point; a large message
 * leaves a marker in the ring so that the order of messages between two ranks is kept.
 *
 * In the window protocol a ring never holds more than two messages: a rank writes its message
 * of window k + 2 only after it has received the peer's message of window k + 1, which the
 * peer sent after it had read this rank's message of window k. So a message of at most half a
 * ring, less the word a writer clears ahead of itself, always finds room, and no writer waits
 * for a reader. */

#define RING_BYTES (64u * 1024u)
#define RING_BIG (1u << 31) /* in a length word: this message comes point-to-point */
enum { TAG = 7, TAG_BIG = 9 };

/* A message in a ring is a length word, then its bytes, padded to 8. The word carries the
 * message's sequence number beside the length and is written last, so the reader waits on the
 * very line that holds the start of the message and needs no separate flag: one cache line
 * changes hands where a head index would have cost another. */
typedef struct ring {
  uint64_t tail; /* bytes the reader has consumed, for the writer's flow control */
  unsigned char pad[64 - sizeof(uint64_t)];
  uint64_t data[RING_BYTES / sizeof(uint64_t)];
} ring;

/* The writer's and the reader's own bookkeeping of one ring, in private memory. */
typedef struct ring_end {
  ring *rg;
  uint64_t pos;  /* bytes written (writer) or read (reader) */
  uint64_t room; /* writer: the reader's tail when last looked at */
  uint32_t seq;  /* the sequence number of the next message, never 0 */
} ring_end;

static int g_shm_state; /* 0: not set up yet, 1: in use, -1: off */
static MPI_Win g_win = MPI_WIN_NULL;
static MPI_Comm g_node = MPI_COMM_NULL;
static int g_locked;    /* the window's passive-target epoch is open */
static ring_end *g_out; /* per world rank: my ring in its segment (rg NULL: another machine) */
static ring_end *g_in;  /* per world rank: its ring in my segment */

void wf_sync_use_shared_memory(int on) {
  if (!on)
    g_shm_state = -1;
  else if (g_shm_state == -1)
    g_shm_state = g_out ? 1 : 0;
}

/* Collective over all ranks, at the first exchange. Without shared memory (one rank per
 * machine, or no support) every peer is reached point-to-point. */
static void shm_setup(void) {
  g_shm_state = 1;
  g_out = calloc((size_t)g_size, sizeof *g_out);
  g_in = calloc((size_t)g_size, sizeof *g_in);
  int nsize = 1, nrank = 0, *world = NULL;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &g_node) !=
      MPI_SUCCESS) {
    g_shm_state = -1; /* every peer point-to-point */
    return;
  }
  MPI_Comm_size(g_node, &nsize);
  MPI_Comm_rank(g_node, &nrank);
  if (g_out && g_in) world = malloc(2 * (size_t)nsize * sizeof *world);
  int ok = world != NULL; /* every rank of the machine goes ahead, or none does */
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, g_node);
  if (nsize == 1 || !ok) {
    if (!ok) g_shm_state = -1; /* on every rank of this machine alike */
    free(world);
    return;
  }
  MPI_Group wg, ng;
  MPI_Comm_group(MPI_COMM_WORLD, &wg);
  MPI_Comm_group(g_node, &ng);
  for (int i = 0; i < nsize; i++) world[nsize + i] = i;
  MPI_Group_translate_ranks(ng, nsize, world + nsize, wg, world);
  MPI_Group_free(&wg);
  MPI_Group_free(&ng);
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "true");
  ring *mine = NULL;
  int rc = MPI_Win_allocate_shared((MPI_Aint)nsize * (MPI_Aint)sizeof(ring), 1, info, g_node, &mine,
                                   &g_win);
  MPI_Info_free(&info);
  /* Loads and stores on the window are the channel, which MPI defines only in the unified
   * memory model (every machine Open MPI runs on has it); a passive-target epoch for the
   * window's lifetime makes direct access legal in it. */
  int *model = NULL, has_model = 0;
  if (rc == MPI_SUCCESS) MPI_Win_get_attr(g_win, MPI_WIN_MODEL, &model, &has_model);
  ok = rc == MPI_SUCCESS && has_model && *model == MPI_WIN_UNIFIED &&
       MPI_Win_lock_all(MPI_MODE_NOCHECK, g_win) == MPI_SUCCESS;
  g_locked = ok;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, g_node);
  if (!ok) {
    if (g_locked) MPI_Win_unlock_all(g_win);
    if (rc == MPI_SUCCESS) MPI_Win_free(&g_win);
    g_win = MPI_WIN_NULL;
    g_locked = 0;
    g_shm_state = -1; /* on every rank of this machine alike */
    free(world);
    return;
  }
  memset(mine, 0, (size_t)nsize * sizeof(ring)); /* no length word looks like a message */
  for (int i = 0; i < nsize; i++) {
    if (world[i] == g_rank) continue;
    MPI_Aint sz;
    int unit;
    ring *theirs;
    MPI_Win_shared_query(g_win, i, &sz, &unit, &theirs);
    g_out[world[i]] = (ring_end){&theirs[nrank], 0, 0, 1};
    g_in[world[i]] = (ring_end){&mine[i], 0, 0, 1};
  }
  free(world);
  MPI_Barrier(g_node); /* every ring is initialised before anyone writes */
}

static void shm_free(void) {
  if (g_locked) MPI_Win_unlock_all(g_win);
  g_locked = 0;
  if (g_win != MPI_WIN_NULL) MPI_Win_free(&g_win);
  if (g_node != MPI_COMM_NULL) MPI_Comm_free(&g_node);
  free(g_out), free(g_in);
  g_out = g_in = NULL;
  g_shm_state = 0;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/* Waits a moment: spins first, then gives the core away (ranks may outnumber cores), and
 * keeps MPI's own sends moving, which a rank on another machine may be waiting for. */
static void backoff(unsigned *spins, int nreq, MPI_Request *req) {
  if (++*spins < 128) {
    cpu_relax();
    return;
  }
  *spins = 0;
  int done;
  if (nreq) MPI_Testall(nreq, req, &done, MPI_STATUSES_IGNORE);
  sched_yield();
}

static void ring_copy_in(ring *rg, uint64_t pos, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)rg->data;
  size_t off = (size_t)(pos % RING_BYTES), first = n < RING_BYTES - off ? n : RING_BYTES - off;
  memcpy(d + off, src, first);
  memcpy(d, (const unsigned char *)src + first, n - first);
}

static void ring_copy_out(const ring *rg, uint64_t pos, void *dst, size_t n) {
  const unsigned char *d = (const unsigned char *)rg->data;
  size_t off = (size_t)(pos % RING_BYTES), first = n < RING_BYTES - off ? n : RING_BYTES - off;
  memcpy(dst, d + off, first);
  memcpy((unsigned char *)dst + first, d, n - first);
}

static uint64_t ring_span(uint64_t len) {
  return sizeof(uint64_t) + ((len + 7) & ~7ull);
}

static uint32_t next_seq(uint32_t s) {
  return s == UINT32_MAX ? 1 : s + 1;
}

/* Writes len bytes (flags: RING_BIG or 0), then the word that shows them to the reader.
 * Before that word, the next message's word is cleared: after a lap the reader would
 * otherwise find there whatever bytes the previous lap left (a payload word whose top half
 * happens to equal the sequence number it waits for would pass for a message). Published by
 * the release store below, the cleared word is what the reader sees until the next message. */
static void ring_put(ring_end *w, uint32_t flags, const void *p, size_t len, int nreq,
                     MPI_Request *req) {
  uint64_t need = ring_span(len), room = need + sizeof(uint64_t);
  unsigned spins = 0;
  while (RING_BYTES - (w->pos - w->room) < room) { /* never in the window protocol */
    w->room = __atomic_load_n(&w->rg->tail, __ATOMIC_ACQUIRE);
    if (RING_BYTES - (w->pos - w->room) < room) backoff(&spins, nreq, req);
  }
  if (len) ring_copy_in(w->rg, w->pos + sizeof(uint64_t), p, len);
  __atomic_store_n(&w->rg->data[((w->pos + need) % RING_BYTES) / sizeof(uint64_t)], 0,
                   __ATOMIC_RELAXED);
  uint64_t word = (uint64_t)w->seq << 32 | flags | (uint32_t)len;
  __atomic_store_n(&w->rg->data[(w->pos % RING_BYTES) / sizeof(uint64_t)], word, __ATOMIC_RELEASE);
  w->pos += need;
  w->seq = next_seq(w->seq);
}

/* Receives the next message from rank `from` through its ring into g_recv. */
static int ring_get(ring_end *r, int from, int nreq, MPI_Request *req, wf_error *err) {
  const uint64_t *at = &r->rg->data[(r->pos % RING_BYTES) / sizeof(uint64_t)];
  uint64_t word;
  unsigned spins = 0;
  while ((uint32_t)((word = __atomic_load_n(at, __ATOMIC_ACQUIRE)) >> 32) != r->seq)
    backoff(&spins, nreq, req);
  uint32_t len = (uint32_t)word & ~RING_BIG;
  int big = ((uint32_t)word & RING_BIG) != 0;
  int rc = big ? 0 : reserve(&g_recv, len);
  if (!big && rc == 0) ring_copy_out(r->rg, r->pos + sizeof word, g_recv.p, len);
  r->pos += ring_span(big ? 0 : len);
  r->seq = next_seq(r->seq);
  __atomic_store_n(&r->rg->tail, r->pos, __ATOMIC_RELEASE);
  if (big) return recv_mpi(from, TAG_BIG, err);
  return rc ? wf_error_set(err, "out of memory receiving %u bytes from rank %d", len, from) : 0;
}

/* One round: every rank sends one message (header, then its events for that peer) to every
 * other and receives one from each. Each rank's minimum travels in every message, so the next
 * window's bound needs no separate collective. Messages between a pair keep their order (a
 * ring is FIFO, and so is MPI between two ranks), so nothing needs to say which window a
 * message belongs to. */
int wf_sync_exchange(const wf_window_msg *mine, wf_outbox *outbox,
                     void (*deliver)(void *ud, const wf_event *ev), void *ud, wf_window_msg *all,
                     wf_error *err) {
  *all = *mine;
  all->nevents = 0;
  if (g_size == 1) return 0;
  if (!g_send) {
    g_send = calloc((size_t)g_size, sizeof *g_send);
    g_req = calloc((size_t)g_size, sizeof *g_req);
    if (!g_send || !g_req) return wf_error_set(err, "out of memory in the window exchange");
  }
  if (g_shm_state == 0) shm_setup();
  int shm = g_shm_state == 1, nreq = 0, rc = 0;
  /* Sent instead of a message that could not be packed: the peers must hear from this rank
   * in every window, or they would wait for it forever; the flag ends the run everywhere. */
  static wf_window_msg failed;
  for (int r = 0; r < g_size; r++) {
    if (r == g_rank) continue;
    size_t len = pack_msg(&g_send[r], mine, &outbox[r]);
    const void *msg = g_send[r].p; /* after packing, which may move it */
    if (!len) {
      rc = wf_error_set(err, "out of memory sending %zu events to rank %d", outbox[r].n, r);
      failed = *mine;
      failed.flags |= WF_WIN_FAILED;
      failed.nevents = 0;
      msg = &failed;
      len = sizeof failed;
    }
    ring_end *out = shm && g_out[r].rg ? &g_out[r] : NULL;
    if (out && len <= RING_BYTES / 2 - 2 * sizeof(uint64_t)) {
      ring_put(out, 0, msg, len, nreq, g_req);
      continue;
    }
    if (out) ring_put(out, RING_BIG | (uint32_t)len, NULL, 0, nreq, g_req);
    MPI_Isend(msg, (int)len, MPI_BYTE, r, out ? TAG_BIG : TAG, MPI_COMM_WORLD, &g_req[nreq++]);
  }
  for (int r = 0; r < g_size; r++) {
    if (r == g_rank) continue;
    ring_end *in = shm && g_in[r].rg ? &g_in[r] : NULL;
    if ((in ? ring_get(in, r, nreq, g_req, err) : recv_mpi(r, TAG, err)) != 0) {
      rc = -1;
      continue;
    }
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

/* What a collective of one rank returns: its own bytes, in a block of their own. */
static void *own_copy(const void *mine, size_t len, size_t *total, wf_error *err) {
  void *copy = malloc(len ? len : 1);
  if (!copy) return wf_error_set(err, "out of memory copying %zu bytes", len), NULL;
  memcpy(copy, mine, len);
  *total = len;
  return copy;
}

void *wf_sync_gather_bytes(const void *mine, size_t len, size_t *total, wf_error *err) {
  *total = 0;
  if (g_size == 1) return own_copy(mine, len, total, err);
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

void *wf_sync_alltoall_bytes(const void *buf, const size_t *counts, size_t *total, wf_error *err) {
  *total = 0;
  if (g_size == 1) return own_copy(buf, counts[0], total, err);
  int *sc = calloc(4 * (size_t)g_size, sizeof *sc), *sd = sc + g_size, *rcnt = sd + g_size,
      *rd = rcnt + g_size, ok = sc != NULL;
  size_t sum = 0;
  for (int r = 0; ok && r < g_size; r++) {
    if (counts[r] > (size_t)INT32_MAX || sum > (size_t)INT32_MAX - counts[r])
      ok = 0;
    else
      sc[r] = (int)counts[r], sd[r] = (int)sum, sum += counts[r];
  }
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!ok) {
    free(sc);
    return wf_error_set(err, "more than 2 GiB to exchange between ranks at once"), NULL;
  }
  MPI_Alltoall(sc, 1, MPI_INT, rcnt, 1, MPI_INT, MPI_COMM_WORLD);
  sum = 0;
  for (int r = 0; r < g_size; r++) rd[r] = (int)sum, sum += (size_t)rcnt[r];
  char *in = sum <= (size_t)INT32_MAX ? malloc(sum ? sum : 1) : NULL;
  ok = in != NULL;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (ok) MPI_Alltoallv(buf, sc, sd, MPI_BYTE, in, rcnt, rd, MPI_BYTE, MPI_COMM_WORLD);
  free(sc);
  if (!ok) {
    free(in);
    return wf_error_set(err, "out of memory receiving %zu bytes from other ranks", sum), NULL;
  }
  *total = sum;
  return in;
}

void wf_sync_bcast(void *buf, size_t len) {
  if (g_size > 1) MPI_Bcast(buf, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
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
