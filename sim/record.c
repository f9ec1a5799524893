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

void wf_record_append(wf_lp *lp, wf_record *r, const void *row) {
  if (append(lp->eng, r, row, lp->eng->err) != 0)
    wf_lp_fail(lp, "writing record table '%s' failed", r->name);
}

int wf_records_begin(wf_engine *eng, wf_error *err) {
  if (!eng->lp_events) {
    eng->lp_events = wf_record_define(eng, "lp_events", lp_cols, sizeof lp_cols / sizeof *lp_cols,
                                      sizeof(lp_row), "events handled and sent by each LP", err);
    if (!eng->lp_events) return -1;
  }
  if (!eng->trace) return 0;
  for (wf_record *r = eng->records; r; r = r->next) {
    r->table = wf_trace_table_add(eng->trace, "records", r->name, r->cols, r->ncols, r->row_size,
                                  r->description, err);
    if (!r->table) return -1;
  }
  return 0;
}

int wf_records_end(wf_engine *eng, wf_error *err) {
  wf_record *r = eng->lp_events;
  for (uint32_t i = 0; i < eng->nlps; i++) {
    const wf_lp *lp = &eng->lps[i];
    lp_row row = {.lp = lp->id, .group = lp->group, .events = lp->events, .sent = lp->sent};
    strncpy(row.type, lp->type->name, TYPE_NAME_LEN - 1);
    if (append(eng, r, &row, err) != 0) return -1;
  }
  for (wf_record *t = eng->records; t; t = t->next)
    if (flush(eng, t, err) != 0) return -1;
  return 0;
}

void wf_records_free(wf_engine *eng) {
  for (wf_record *r = eng->records, *n; r; r = n) {
    n = r->next;
    free(r->name);
    free(r->description);
    free(r->cols);
    free(r->rows);
    free(r);
  }
}
