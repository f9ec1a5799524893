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
    {"lp", WF_COL_U32, offsetof(lp_row, lp), sizeof(uint32_t), NULL},
    {"group", WF_COL_U32, offsetof(lp_row, group), sizeof(uint32_t), NULL},
    {"type", WF_COL_STR, offsetof(lp_row, type), TYPE_NAME_LEN, NULL},
    {"events", WF_COL_U64, offsetof(lp_row, events), sizeof(uint64_t), "events"},
    {"sent", WF_COL_U64, offsetof(lp_row, sent), sizeof(uint64_t), "events"},
};

wf_record *wf_record_define(wf_engine *eng, const char *name, const wf_column *cols, size_t ncols,
                            size_t row_size, const char *description, wf_error *err) {
  for (wf_record *r = eng->records; r; r = r->next)
    if (strcmp(r->name, name) == 0) {
      wf_error_set(err, "record table '%s' is defined twice", name);
      return NULL;
    }
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
  k->phase = (uint64_t)eng->phase;
  k->ts = eng->phase == 1 ? eng->current->ts : 0;
  k->tie = eng->phase == 1 ? eng->current->tie : eng->current_lp->id;
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
  for (wf_record *r = eng->records; r; r = r->next) {
    r->table = wf_trace_table_add(eng->trace, "records", r->name, r->cols, r->ncols, r->row_size,
                                  r->description, err);
    if (!r->table) return -1;
  }
  return 0;
}

static int key_cmp(const wf_row_key *a, const wf_row_key *b) {
  if (a->phase != b->phase) return a->phase < b->phase ? -1 : 1;
  if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
  if (a->tie != b->tie) return a->tie < b->tie ? -1 : 1;
  return (a->seq > b->seq) - (a->seq < b->seq);
}
static int entry_cmp(const void *a, const void *b) {
  return key_cmp(a, b);
}

/* Rank 0 gathers every rank's (key, row) pairs, sorts them by key and writes the rows. */
static int merge_rows(wf_engine *eng, wf_record *r, wf_error *err) {
  size_t stride = sizeof(wf_row_key) + r->row_size, total;
  unsigned char *mine = malloc(r->nrows * stride + 1);
  if (!mine) return wf_error_set(err, "out of memory merging '%s'", r->name);
  for (size_t i = 0; i < r->nrows; i++) {
    memcpy(mine + i * stride, &r->keys[i], sizeof(wf_row_key));
    memcpy(mine + i * stride + sizeof(wf_row_key), r->rows + i * r->row_size, r->row_size);
  }
  unsigned char *all = wf_sync_gather_bytes(mine, r->nrows * stride, &total, err);
  free(mine);
  if (!all) return eng->rank == 0 ? -1 : 0;
  size_t n = total / stride;
  qsort(all, n, stride, entry_cmp);
  /* Rows without their keys, a block at a time: one HDF5 append per block, not per row. */
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0 && r->table; i += RECORD_BLOCK) {
    size_t m = n - i < RECORD_BLOCK ? n - i : RECORD_BLOCK;
    for (size_t k = 0; k < m; k++)
      memcpy(r->rows + k * r->row_size, all + (i + k) * stride + sizeof(wf_row_key), r->row_size);
    rc = wf_trace_table_append(r->table, r->rows, m, err);
  }
  free(all);
  r->nrows = 0;
  return rc;
}

/* Per-LP counts: each rank knows its own LPs; the sums over ranks fill the table. */
static int lp_table(wf_engine *eng, wf_error *err) {
  uint64_t *v = calloc(2 * (size_t)eng->nlps + 1, sizeof *v);
  if (!v) return wf_error_set(err, "out of memory for lp_events");
  for (uint32_t i = 0; i < eng->nlps; i++) {
    if (eng->nranks > 1 && eng->rank_of[i] != (uint32_t)eng->rank) continue;
    v[2 * i] = eng->lps[i].events;
    v[2 * i + 1] = eng->lps[i].sent;
  }
  int rc = wf_sync_sum_u64(v, 2 * (size_t)eng->nlps);
  wf_record *r = eng->lp_events;
  for (uint32_t i = 0; i < eng->nlps && rc == 0 && eng->rank == 0; i++) {
    const wf_lp *lp = &eng->lps[i];
    lp_row row = {.lp = lp->id, .group = lp->group, .events = v[2 * i], .sent = v[2 * i + 1]};
    strncpy(row.type, lp->type->name, TYPE_NAME_LEN - 1);
    rc = append(eng, r, &row, err);
  }
  free(v);
  return rc;
}

int wf_records_end(wf_engine *eng, wf_error *err) {
  int rc = 0;
  for (wf_record *t = eng->records; t && rc == 0; t = t->next)
    if (t != eng->lp_events && eng->nranks > 1) rc = merge_rows(eng, t, err);
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
