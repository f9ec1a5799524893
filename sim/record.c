/* Per-item record tables: rows buffered in memory and appended to the trace in blocks, so a
 * handler's append is a memcpy. The engine's own table, lp_events, is filled at the end. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_BLOCK 4096 /* rows buffered per table before a trace append */
#define TYPE_NAME_LEN 24

typedef struct lp_row {
  uint32_t lp, group;
  char type[TYPE_NAME_LEN];
  uint64_t events, sent;
} lp_row;

static const wf_column lp_cols[] = {
    WF_COLUMN(lp_row, lp, WF_COL_U32, NULL),
    WF_COLUMN(lp_row, group, WF_COL_U32, NULL),
    WF_COLUMN(lp_row, type, WF_COL_STR, NULL),
    WF_COLUMN(lp_row, events, WF_COL_U64, "events"),
    WF_COLUMN(lp_row, sent, WF_COL_U64, "events"),
};

static int same_column(const wf_column *a, const wf_column *b) {
  return strcmp(a->name, b->name) == 0 && a->type == b->type && a->offset == b->offset &&
         a->size == b->size && strcmp(a->units ? a->units : "", b->units ? b->units : "") == 0;
}

/* "(a, b, c) in 24-byte rows", for an error that names both definitions of a table. */
static void describe_layout(char *buf, size_t cap, const wf_column *cols, size_t ncols,
                            size_t row_size) {
  size_t at = (size_t)snprintf(buf, cap, "(");
  for (size_t i = 0; i < ncols && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", cols[i].name);
  if (at < cap) snprintf(buf + at, cap - at, ") in %zu-byte rows", row_size);
}

/* A builder called twice defines its tables twice: the same columns and row size are the same
 * table (both calls append to it); any difference is an error naming both definitions. */
static int check_redefinition(const wf_record *r, const wf_column *cols, size_t ncols,
                              size_t row_size, wf_error *err) {
  int same = r->ncols == ncols && r->row_size == row_size;
  for (size_t i = 0; same && i < ncols; i++) same = same_column(&r->cols[i], &cols[i]);
  if (same) return 0;
  char first[300], then[300];
  describe_layout(first, sizeof first, r->cols, r->ncols, r->row_size);
  describe_layout(then, sizeof then, cols, ncols, row_size);
  return wf_error_set(err,
                      "record table '%s' is defined twice, differently: first with columns %s, "
                      "then with %s",
                      r->name, first, then);
}

wf_record *wf_record_define(wf_engine *eng, const char *name, const wf_column *cols, size_t ncols,
                            size_t row_size, const char *description, wf_error *err) {
  for (wf_record *r = eng->records; r; r = r->next)
    if (strcmp(r->name, name) == 0)
      return check_redefinition(r, cols, ncols, row_size, err) == 0 ? r : NULL;
  for (size_t i = 0; i < ncols; i++)
    if (cols[i].offset + cols[i].size > row_size) {
      wf_error_set(err, "record table '%s': column '%s' lies outside the %zu-byte row", name,
                   cols[i].name, row_size);
      return NULL;
    }
  wf_record *r = calloc(1, sizeof *r);
  if (r) {
    r->name = wf_strdup(name);
    r->description = wf_strdup(description ? description : "");
    r->cols = malloc(ncols * sizeof *cols);
    r->rows = malloc(RECORD_BLOCK * row_size);
  }
  if (!r || !r->name || !r->description || !r->cols || !r->rows) {
    if (r) {
      free(r->name);
      free(r->description);
      free(r->cols);
      free(r->rows);
    }
    free(r);
    wf_error_set(err, "out of memory defining record table '%s'", name);
    return NULL;
  }
  memcpy(r->cols, cols, ncols * sizeof *cols);
  r->ncols = ncols;
  r->row_size = row_size;
  r->cap = RECORD_BLOCK;
  /* Appended at the end so tables appear in definition order. */
  wf_record **tail = &eng->records;
  while (*tail) tail = &(*tail)->next;
  *tail = r;
  return r;
}

static int flush(wf_engine *eng, wf_record *r, wf_error *err) {
  if (r->nrows && r->table && wf_trace_table_append(r->table, r->rows, r->nrows, err) != 0)
    return -1;
  (void)eng;
  r->nrows = 0;
  return 0;
}

static int append(wf_engine *eng, wf_record *r, const void *row, wf_error *err) {
  memcpy(r->rows + r->nrows * r->row_size, row, r->row_size);
  r->total++;
  return ++r->nrows == r->cap ? flush(eng, r, err) : 0;
}

/* On several ranks rows stay in memory with their keys until the end, when rank 0 merges them
 * in the order one rank would have written them. */
static int keep(wf_engine *eng, wf_record *r, const void *row) {
  if (r->nrows == r->cap) {
    size_t cap = r->cap * 2;
    unsigned char *rows = realloc(r->rows, cap * r->row_size);
    if (rows) r->rows = rows;
    wf_row_key *keys = realloc(r->keys, cap * sizeof *keys);
    if (keys) r->keys = keys;
    if (!rows || !keys) return -1;
    r->cap = cap;
  }
  wf_row_key *k = &r->keys[r->nrows];
  int ev = eng->phase == 1;
  k->phase = (uint32_t)eng->phase;
  k->lp = ev ? eng->current->src : eng->current_lp->id;
  k->ts = ev ? eng->current->ts : 0;
  k->sent = ev ? eng->current->seq : 0;
  k->seq = eng->current_rows++;
  memcpy(r->rows + r->nrows++ * r->row_size, row, r->row_size);
  r->total++;
  return 0;
}

void wf_record_append(wf_lp *lp, wf_record *r, const void *row) {
  wf_engine *eng = lp->eng;
  if (eng->nranks > 1) {
    if (keep(eng, r, row) != 0) wf_lp_fail(lp, "out of memory keeping rows of '%s'", r->name);
  } else if (append(eng, r, row, eng->err) != 0) {
    wf_lp_fail(lp, "writing record table '%s' failed", r->name);
  }
}

static wf_trace_table *add_table(wf_trace *t, const wf_record *r, wf_error *err) {
  return wf_trace_table_add(t, "records", r->name, r->cols, r->ncols, r->row_size, r->description,
                            err);
}

int wf_records_begin(wf_engine *eng, wf_error *err) {
  if (!eng->lp_events) {
    eng->lp_events = wf_record_define(eng, "lp_events", lp_cols, sizeof lp_cols / sizeof *lp_cols,
                                      sizeof(lp_row), "events handled and sent by each LP", err);
    if (!eng->lp_events) return -1;
  }
  for (wf_record *r = eng->records; r && eng->nranks > 1; r = r->next)
    if (!r->keys && !(r->keys = malloc(r->cap * sizeof *r->keys)))
      return wf_error_set(err, "out of memory for record keys");
  if (!eng->trace) return 0;
  /* On several ranks a model's table is made at the end, in the file as whoever writes it
   * holds it: HDF5 1.10 can deadlock writing compressed chunks in parallel into a dataset
   * that was created by one rank alone. */
  for (wf_record *r = eng->records; r; r = r->next)
    if ((eng->nranks == 1 || r == eng->lp_events) && !(r->table = add_table(eng->trace, r, err)))
      return -1;
  return 0;
}

/* Keys sit in packed (key, row) entries whose rows may be of any size, so they are read by
 * copy, never through a possibly misaligned pointer. */
static int key_cmp(const void *pa, const void *pb) {
  wf_row_key ka, kb;
  memcpy(&ka, pa, sizeof ka);
  memcpy(&kb, pb, sizeof kb);
  const wf_row_key *a = &ka, *b = &kb;
  if (a->phase != b->phase) return a->phase < b->phase ? -1 : 1;
  if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
  if (a->lp != b->lp) return a->lp < b->lp ? -1 : 1;
  if (a->sent != b->sent) return a->sent < b->sent ? -1 : 1;
  return (a->seq > b->seq) - (a->seq < b->seq);
}
static int entry_cmp(const void *a, const void *b) {
  return key_cmp(a, b);
}

/* Merges sorted runs of (key, row) entries: each rank appends its rows in key order, so what
 * arrives from k ranks is k sorted runs (found here as maximal ascending stretches), and a
 * merge costs n log k where a sort would cost n log n. Writes the rows without their keys to
 * out (rows_out entries). */
int wf_records_merge_runs(const unsigned char *in, size_t n, size_t row_size, unsigned char *out,
                          wf_error *err) {
  size_t stride = sizeof(wf_row_key) + row_size, k = 0;
#define STARTS_RUN(i)                                                                              \
  ((i) == 0 || key_cmp((const wf_row_key *)(in + (i)*stride),                                      \
                       (const wf_row_key *)(in + ((i)-1) * stride)) < 0)
  for (size_t i = 0; i < n; i++) k += STARTS_RUN(i);
  size_t *at = malloc((2 * k + 1) * sizeof *at), *heap = at + k + 1, nh = 0;
  if (!at) return wf_error_set(err, "out of memory merging %zu rows", n);
  for (size_t i = 0, r = 0; i < n; i++) /* at[r]: where run r goes on; at[k] = n */
    if (STARTS_RUN(i)) at[r++] = i;
#undef STARTS_RUN
  at[k] = n;
  size_t *end = malloc((k + 1) * sizeof *end);
  if (!end) {
    free(at);
    return wf_error_set(err, "out of memory merging %zu rows", n);
  }
  for (size_t r = 0; r < k; r++) end[r] = at[r + 1];
#define HEAD(r) ((const wf_row_key *)(in + at[r] * stride))
  /* A binary heap of runs ordered by their next entry. */
  for (size_t r = 0; r < k; r++) {
    size_t c = nh++;
    while (c && key_cmp(HEAD(r), HEAD(heap[(c - 1) / 2])) < 0)
      heap[c] = heap[(c - 1) / 2], c = (c - 1) / 2;
    heap[c] = r;
  }
  for (size_t o = 0; o < n; o++) {
    size_t r = heap[0];
    memcpy(out + o * row_size, in + at[r] * stride + sizeof(wf_row_key), row_size);
    if (++at[r] == end[r]) r = heap[--nh];
    size_t c = 0;
    for (;;) { /* sift r down from the root */
      size_t l = 2 * c + 1, m = l;
      if (l >= nh) break;
      if (l + 1 < nh && key_cmp(HEAD(heap[l + 1]), HEAD(heap[l])) < 0) m = l + 1;
      if (key_cmp(HEAD(heap[m]), HEAD(r)) >= 0) break;
      heap[c] = heap[m];
      c = m;
    }
    if (nh) heap[c] = r;
  }
#undef HEAD
  free(at);
  free(end);
  return 0;
}

/* Rank 0 gathers every rank's (key, row) entries, merges them into key order and appends the
 * rows. */
int wf_records_merge_write(const unsigned char *mine, size_t n, size_t row_size,
                           wf_trace_table *table, wf_error *err) {
  size_t stride = sizeof(wf_row_key) + row_size, total;
  unsigned char *all = wf_sync_gather_bytes(mine, n * stride, &total, err);
  if (!all) return wf_sync_rank() == 0 ? -1 : 0;
  size_t rows = total / stride;
  unsigned char *merged = table ? malloc(rows * row_size + 1) : NULL;
  int rc = table && !merged ? wf_error_set(err, "out of memory merging %zu rows", rows) : 0;
  if (rc == 0 && table) rc = wf_records_merge_runs(all, rows, row_size, merged, err);
  free(all);
  if (rc == 0 && table) rc = wf_trace_table_append(table, merged, rows, err);
  free(merged);
  return rc;
}

/* The parallel writer: the ranks split the key range among themselves at splitters drawn
 * from every rank's rows, send each row to the rank that owns its key (one all-to-all), merge
 * what they receive, and each writes its contiguous slab of the table with parallel HDF5. The
 * table is the one the gather writes, row for row. */
enum { SAMPLES_PER_RANK = 16 };

int wf_records_write_parallel(const unsigned char *mine, size_t n, size_t row_size,
                              wf_trace_table *table, wf_error *err) {
  size_t stride = sizeof(wf_row_key) + row_size, P = (size_t)wf_sync_size(),
         me = (size_t)wf_sync_rank(), ns = P * SAMPLES_PER_RANK, kw = sizeof(wf_row_key) / 8;
  /* Every rank's samples, everywhere: zeros but for one's own, summed. */
  uint64_t *samples = calloc(ns * kw + 2 * P, sizeof *samples), *offs = samples + ns * kw;
  size_t *counts = calloc(P, sizeof *counts);
  int rc = samples && counts ? 0 : wf_error_set(err, "out of memory splitting %zu rows", n);
  if (rc == 0) {
    for (size_t i = 0; i < SAMPLES_PER_RANK && n; i++)
      memcpy(samples + (me * SAMPLES_PER_RANK + i) * kw,
             mine + (n * (2 * i + 1) / (2 * SAMPLES_PER_RANK)) * stride, sizeof(wf_row_key));
    for (size_t i = 0; i < SAMPLES_PER_RANK && !n; i++) /* nothing to sample: sorts last */
      memset(samples + (me * SAMPLES_PER_RANK + i) * kw, 0xFF, sizeof(wf_row_key));
  }
  if (wf_sync_agree(err) != 0 || wf_sync_sum_u64(samples, ns * kw) != 0) {
    free(samples), free(counts);
    return err->set ? -1 : wf_error_set(err, "sharing split keys failed");
  }
  qsort(samples, ns, sizeof(wf_row_key), entry_cmp);
  /* Rank d takes the keys from splitter d - 1 (exclusive) to splitter d (inclusive). */
  size_t from = 0;
  for (size_t d = 0; d < P; d++) {
    size_t to = n;
    if (d + 1 < P) {
      const wf_row_key *split =
          (const wf_row_key *)(samples + (d + 1) * SAMPLES_PER_RANK * kw - kw);
      size_t lo = from, hi = n; /* first entry above the splitter */
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp((const wf_row_key *)(mine + mid * stride), split) <= 0)
          lo = mid + 1;
        else
          hi = mid;
      }
      to = lo;
    }
    counts[d] = (to - from) * stride;
    from = to;
  }
  size_t got;
  unsigned char *in = wf_sync_alltoall_bytes(mine, counts, &got, err);
  free(counts);
  size_t rows = got / stride;
  unsigned char *merged = in ? malloc(rows * row_size + 1) : NULL;
  rc = !in ? -1 : !merged ? wf_error_set(err, "out of memory merging %zu rows", rows) : 0;
  if (rc == 0) rc = wf_records_merge_runs(in, rows, row_size, merged, err);
  free(in);
  offs[me] = rows; /* where this rank's slab starts: the rows of the ranks before it */
  if (wf_sync_agree(err) != 0 || wf_sync_sum_u64(offs, P) != 0) {
    free(samples), free(merged);
    return -1;
  }
  uint64_t start = 0, total = 0;
  for (size_t r = 0; r < P; r++) start += r < me ? offs[r] : 0, total += offs[r];
  free(samples);
  rc = wf_trace_table_write_at(table, merged, rows, start, total, err);
  free(merged);
  return rc;
}

static int merge_rows(wf_engine *eng, wf_record *r, wf_error *err) {
  size_t stride = sizeof(wf_row_key) + r->row_size;
  unsigned char *mine = malloc(r->nrows * stride + 1);
  if (!mine) return wf_error_set(err, "out of memory merging '%s'", r->name);
  for (size_t i = 0; i < r->nrows; i++) {
    memcpy(mine + i * stride, &r->keys[i], sizeof(wf_row_key));
    memcpy(mine + i * stride + sizeof(wf_row_key), r->rows + i * r->row_size, r->row_size);
  }
  int rc =
      wf_records_merge_write(mine, r->nrows, r->row_size, eng->rank == 0 ? r->table : NULL, err);
  free(mine);
  r->nrows = 0;
  return rc;
}

/* Per-LP counts, written by rank 0 in id order. Each rank has the counts of its own LPs only;
 * on several ranks they reach rank 0 in blocks of LP_BLOCK ids (each rank sends those of its
 * LPs in the block, in id order, and rank 0 takes them from each sender's part in turn: it
 * knows every LP's owner), so no rank ever holds an array over the whole world. Type and group
 * come from the index of runs. */
#define LP_BLOCK ((uint32_t)1 << 18)

typedef struct lp_counts {
  uint64_t events, sent;
} lp_counts;

/* The rows of LPs [lo, hi): counts from all (each sender's part in turn, `at` a scratch array
 * of one entry per rank) or, on one rank (all NULL), from the records. */
static int lp_rows(wf_engine *eng, wf_lpid lo, wf_lpid hi, const lp_counts *all, size_t *at,
                   wf_error *err) {
  wf_record *r = eng->lp_events;
  if (all) {
    for (int k = 0; k < eng->nranks; k++) at[k] = 0;
    for (wf_lpid i = lo; i < hi; i++) at[wf_engine_owner(eng, i)]++;
    for (size_t k = 0, sum = 0, n; k < (size_t)eng->nranks; k++)
      n = at[k], at[k] = sum, sum += n; /* where each sender's part starts */
  }
  const wf_lp_run *run = wf_engine_run_of(eng, lo);
  for (wf_lpid i = lo; i < hi; i++) {
    if (i >= run->first + run->count) run++;
    lp_counts c;
    if (all)
      c = all[at[wf_engine_owner(eng, i)]++];
    else
      c = (lp_counts){eng->lps[i].events, eng->lps[i].sent};
    lp_row row = {.lp = i, .group = run->group, .events = c.events, .sent = c.sent};
    strncpy(row.type, run->type->name, TYPE_NAME_LEN - 1);
    if (append(eng, r, &row, err) != 0) return -1;
  }
  return 0;
}

static int lp_table(wf_engine *eng, wf_error *err) {
  if (eng->nranks == 1) return lp_rows(eng, 0, eng->nlps, NULL, NULL, err);
  lp_counts *mine = malloc((eng->nowned < LP_BLOCK ? eng->nowned : LP_BLOCK) * sizeof *mine + 1);
  size_t *at = malloc((size_t)eng->nranks * sizeof *at);
  int rc = mine && at ? 0 : wf_error_set(err, "out of memory for lp_events");
  if (wf_sync_agree(err) != 0) {
    free(mine), free(at);
    return -1;
  }
  uint32_t next = 0; /* the next owned LP, by local index (= id order) */
  for (uint64_t lo = 0; lo < eng->nlps && rc == 0; lo += LP_BLOCK) {
    wf_lpid hi = lo + LP_BLOCK < eng->nlps ? (wf_lpid)(lo + LP_BLOCK) : eng->nlps;
    size_t n = 0;
    for (; next < eng->nowned && eng->lps[next].id < hi; next++)
      mine[n++] = (lp_counts){eng->lps[next].events, eng->lps[next].sent};
    size_t got;
    lp_counts *all = wf_sync_gather_bytes(mine, n * sizeof *mine, &got, err);
    if (eng->rank == 0 && !all) rc = wf_error_set(err, "out of memory for lp_events");
    else if (eng->rank == 0 && got != (size_t)(hi - lo) * sizeof *all)
      rc = wf_error_set(err, "lp_events: the ranks sent %zu counts for %u LPs", got / sizeof *all,
                        (unsigned)(hi - lo));
    if (rc == 0 && eng->rank == 0) rc = lp_rows(eng, (wf_lpid)lo, hi, all, at, err);
    free(all);
    if (wf_sync_agree(err) != 0) rc = -1; /* rank 0's writes may fail: all stop together */
  }
  free(mine), free(at);
  return rc;
}

/* On several ranks a large table is written with parallel HDF5, a small one through rank 0:
 * weft bench output puts the crossover between 40,000 rows (gather 0.012 s, parallel 0.013 s)
 * and 120,000 (0.034 s, 0.025 s) on 4 ranks, where the parallel writer's collective opens and
 * exchange stop costing more than rank 0 merging and compressing alone. */
#define PARALLEL_ROWS 65536

static int write_parallel(wf_trace *shared, wf_record *r, wf_error *err) {
  wf_trace_table *tab = add_table(shared, r, err); /* collective: every rank makes it */
  size_t stride = sizeof(wf_row_key) + r->row_size;
  unsigned char *mine = tab ? malloc(r->nrows * stride + 1) : NULL;
  if (tab && !mine) wf_error_set(err, "out of memory writing '%s'", r->name);
  if (wf_sync_agree(err) != 0) {
    free(mine);
    return -1;
  }
  for (size_t i = 0; i < r->nrows; i++) {
    memcpy(mine + i * stride, &r->keys[i], sizeof(wf_row_key));
    memcpy(mine + i * stride + sizeof(wf_row_key), r->rows + i * r->row_size, r->row_size);
  }
  int rc = wf_records_write_parallel(mine, r->nrows, r->row_size, tab, err);
  free(mine);
  r->nrows = 0;
  r->table = wf_sync_rank() == 0 ? tab : NULL; /* rank 0's outlives the sharing */
  return wf_sync_agree(err) != 0 || rc ? -1 : 0;
}

/* Through rank 0: the tables whose row counts (rows[i], over all ranks) are on the asked side
 * of PARALLEL_ROWS. Rank 0 makes them, every rank learns whether it could, then the rows are
 * gathered and merged. */
static int gather_tables(wf_engine *eng, const uint64_t *rows, int big, wf_error *err) {
  size_t i = 0;
  for (wf_record *t = eng->records; t && eng->rank == 0 && !err->set; t = t->next)
    if (t != eng->lp_events && (rows[i++] >= PARALLEL_ROWS) == big)
      t->table = add_table(eng->trace, t, err);
  if (wf_sync_agree(err) != 0) return -1;
  i = 0;
  for (wf_record *t = eng->records; t; t = t->next)
    if (t != eng->lp_events && (rows[i++] >= PARALLEL_ROWS) == big && merge_rows(eng, t, err))
      return -1;
  return 0;
}

/* The model tables of a run on several ranks, in one order on every rank. */
static int merge_tables(wf_engine *eng, wf_error *err) {
  size_t n = 0;
  for (wf_record *t = eng->records; t; t = t->next) n += t != eng->lp_events;
  uint64_t *rows = calloc(n + 1, sizeof *rows); /* [n]: whether there is a trace */
  if (!rows) return wf_error_set(err, "out of memory merging record tables");
  size_t i = 0;
  for (wf_record *t = eng->records; t; t = t->next)
    if (t != eng->lp_events) rows[i++] = t->nrows;
  rows[n] = eng->rank == 0 && eng->trace;
  int rc = wf_sync_sum_u64(rows, n + 1) ? wf_error_set(err, "counting record rows failed") : 0;
  int big = 0;
  for (i = 0; i < n; i++) big |= rows[i] >= PARALLEL_ROWS;
  if (rc == 0 && rows[n]) rc = gather_tables(eng, rows, 0, err);
  if (rc == 0 && rows[n] && big) {
    wf_trace *shared = wf_trace_share(eng->rank == 0 ? eng->trace : NULL, err);
    if (!shared) {
      /* No parallel HDF5 here (say, ranks on machines that do not share the output's file
       * system): rank 0 has its trace back and writes these tables too. */
      if (eng->rank == 0)
        fprintf(stderr, "weft: writing record tables through rank 0: %s\n", err->msg);
      wf_error_clear(err);
      rc = gather_tables(eng, rows, 1, err);
    } else {
      i = 0;
      for (wf_record *t = eng->records; t && rc == 0; t = t->next)
        if (t != eng->lp_events && rows[i++] >= PARALLEL_ROWS) rc = write_parallel(shared, t, err);
      if (wf_trace_unshare(shared, err) != 0) rc = -1;
    }
  }
  free(rows);
  return rc;
}

int wf_records_end(wf_engine *eng, wf_error *err) {
  int rc = eng->nranks > 1 ? merge_tables(eng, err) : 0;
  if (rc == 0) rc = lp_table(eng, err);
  for (wf_record *t = eng->records; t && rc == 0; t = t->next) rc = flush(eng, t, err);
  return rc;
}

void wf_records_free(wf_engine *eng) {
  for (wf_record *r = eng->records, *n; r; r = n) {
    n = r->next;
    free(r->name);
    free(r->description);
    free(r->cols);
    free(r->rows);
    free(r->keys);
    free(r);
  }
}
