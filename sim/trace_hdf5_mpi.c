/* HDF5 backend of the run trace (sim/trace.h), the parallel path: a trace opened by every rank
 * with MPI-IO, record tables written at offsets by all ranks, and the open file lent to the
 * ranks and taken back. The serial writer is trace_hdf5.c. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "trace.h"

#include "sync.h"
#include "trace_hdf5.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int mpi_ready(const char *path, wf_error *err) {
  int up = 0;
  MPI_Initialized(&up);
  return up ? 0 : wf_error_set(err, "trace '%s': parallel HDF5 needs a run under mpirun", path);
}

wf_trace *wf_trace_create_parallel(const char *path, wf_error *err) {
  return mpi_ready(path, err) ? NULL : wf_h5_create(path, 1, err);
}

int wf_trace_table_write_at(wf_trace_table *tab, const void *rows, size_t n, uint64_t offset,
                            uint64_t total, wf_error *err) {
  /* Everything that can fail on one rank alone is settled before the collective part. */
  const unsigned char *buf = rows;
  unsigned char *packed = NULL;
  if (!tab)
    wf_error_set(err, "trace: write to a table that was never added");
  else if (!tab->t->parallel)
    wf_error_set(err, "trace '%s': '%s' written at an offset, but the file is not parallel",
                 tab->t->path, tab->path);
  else if (offset + n > total || total < tab->nrows)
    wf_error_set(err, "trace '%s': rows %llu..%llu of '%s' fall outside its %llu rows",
                 tab->t->path, (unsigned long long)offset, (unsigned long long)(offset + n),
                 tab->path, (unsigned long long)total);
  else if (!tab->direct && n && !(packed = malloc(n * tab->packed_size)))
    wf_error_set(err, "trace '%s': out of memory writing '%s'", tab->t->path, tab->path);
  if (wf_sync_agree(err) != 0) {
    free(packed);
    return -1;
  }
  if (packed) { /* one packed copy of the whole slab: one collective write */
    wf_h5_pack_rows(tab, packed, rows, n);
    buf = packed;
  }
  hsize_t dims = total, start = offset, count = n;
  hid_t fspace = -1, mspace = -1, dxpl = H5Pcreate(H5P_DATASET_XFER);
  int ok = dxpl >= 0 && H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0 &&
           H5Dset_extent(tab->dset, &dims) >= 0 && (fspace = H5Dget_space(tab->dset)) >= 0 &&
           (mspace = H5Screate_simple(1, &count, NULL)) >= 0;
  if (ok && n)
    ok = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0;
  else if (ok)
    ok = H5Sselect_none(fspace) >= 0 && H5Sselect_none(mspace) >= 0;
  if (ok)
    ok = H5Dwrite(tab->dset, tab->mtype, mspace, fspace, dxpl,
                  n ? (const void *)buf : (const void *)tab) >= 0;
  hid_t saved = wf_h5_keep_errors(!ok);
  if (fspace >= 0) H5Sclose(fspace);
  if (mspace >= 0) H5Sclose(mspace);
  if (dxpl >= 0) H5Pclose(dxpl);
  wf_h5_restore_errors(saved);
  free(packed);
  if (!ok) return wf_h5_fail(err, tab->t->path, "writing rows of '%s' in parallel", tab->path);
  tab->nrows = total;
  return 0;
}

/* ---- sharing the file between ranks ---- */

/* Closes every HDF5 handle of t, keeping t and everything that refers to it. */
static int close_handles(wf_trace *t, wf_error *err) {
  int rc = 0;
  for (wf_trace_table *tab = t->tables; tab; tab = tab->next) {
    if (tab->dset >= 0 && H5Dclose(tab->dset) < 0)
      rc = wf_h5_fail(err, t->path, "closing '%s'", tab->path);
    tab->dset = -1;
  }
  for (size_t i = 0; i < t->nseries; i++) {
    if (t->series[i].dset >= 0 && H5Dclose(t->series[i].dset) < 0)
      rc = wf_h5_fail(err, t->path, "closing '%s'", t->series[i].path);
    t->series[i].dset = -1;
  }
  for (int g = 0; g < NGROUPS; g++) {
    if (t->groups[g] >= 0) H5Gclose(t->groups[g]);
    t->groups[g] = -1;
  }
  if (t->file >= 0 && H5Fclose(t->file) < 0) rc = wf_h5_fail(err, t->path, "closing the file");
  t->file = -1;
  return rc;
}

/* Opens t's file again, with its groups; alone, also every series and table it had open
 * (shared, every rank makes the tables it writes with wf_trace_table_add). */
static int open_handles(wf_trace *t, int parallel, wf_error *err) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  int ok = fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 &&
           (!parallel || H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) >= 0);
  if (ok) t->file = H5Fopen(t->path, H5F_ACC_RDWR, fapl);
  hid_t saved = wf_h5_keep_errors(t->file < 0);
  if (fapl >= 0) H5Pclose(fapl);
  wf_h5_restore_errors(saved);
  if (t->file < 0)
    return wf_h5_fail(err, t->path, "reopening the file%s", parallel ? " on every rank" : "");
  t->parallel = parallel;
  for (int g = 0; g < NGROUPS; g++)
    if ((t->groups[g] = H5Gopen2(t->file, wf_h5_group_names[g], H5P_DEFAULT)) < 0)
      return wf_h5_fail(err, t->path, "reopening group '/%s'", wf_h5_group_names[g]);
  if (parallel) return 0;
  for (size_t i = 0; i < t->nseries; i++)
    if ((t->series[i].dset = H5Dopen2(t->file, t->series[i].path, H5P_DEFAULT)) < 0)
      return wf_h5_fail(err, t->path, "reopening '%s'", t->series[i].path);
  for (wf_trace_table *tab = t->tables; tab; tab = tab->next)
    if ((tab->dset = H5Dopen2(t->file, tab->path, H5P_DEFAULT)) < 0)
      return wf_h5_fail(err, t->path, "reopening '%s'", tab->path);
  return 0;
}

/* Whether every rank sees, at rank 0's absolute path, the very file rank 0 closed: same
 * device, inode and size. Not so when ranks on other machines have no shared file system, or
 * each its own working directory; MPI-IO would then hang or fail in the collective open. */
static int visible_everywhere(const char *path, wf_error *err) {
  struct stat st;
  uint64_t id[3] = {0}, mine[3] = {0};
  if (wf_sync_rank() == 0 && stat(path, &st) == 0)
    id[0] = (uint64_t)st.st_dev, id[1] = (uint64_t)st.st_ino, id[2] = (uint64_t)st.st_size;
  wf_sync_bcast(id, sizeof id);
  if (stat(path, &st) == 0)
    mine[0] = (uint64_t)st.st_dev, mine[1] = (uint64_t)st.st_ino, mine[2] = (uint64_t)st.st_size;
  /* st_dev may differ between machines for one network file; inode and size may not. */
  uint64_t first_bad =
      mine[1] == id[1] && mine[2] == id[2] && id[1] ? UINT64_MAX : (uint64_t)wf_sync_rank();
  wf_sync_min_u64(&first_bad, 1);
  if (first_bad == UINT64_MAX) return 0;
  return wf_error_set(err, "trace '%s' is not the same file on rank %llu as on rank 0", path,
                      (unsigned long long)first_bad);
}

wf_trace *wf_trace_share(wf_trace *t, wf_error *err) {
  char path[4096] = {0};
  if (wf_sync_size() == 1) {
    wf_error_set(err, "trace '%s': shared by one rank alone (a run under mpirun needs 2+)",
                 t ? t->path : "?");
    return NULL;
  }
  wf_h5_silence(); /* every rank: failures are reported as one message, by rank 0 */
  if (wf_sync_rank() == 0) {
    char *abs = realpath(t->path, NULL);
    if (!abs || strlen(abs) >= sizeof path)
      wf_error_set(err, "trace '%s': cannot resolve its path to share it", t->path);
    else
      snprintf(path, sizeof path, "%s", abs), close_handles(t, err);
    free(abs);
  }
  if (wf_sync_agree(err) != 0) goto take_back;
  wf_sync_bcast(path, sizeof path);
  if (visible_everywhere(path, err) != 0) goto take_back;
  wf_trace *s = wf_sync_rank() == 0 ? t : calloc(1, sizeof *s);
  if (s && s != t) {
    s->file = -1;
    for (int g = 0; g < NGROUPS; g++) s->groups[g] = -1;
    if (!(s->path = wf_h5_dup(path))) free(s), s = NULL;
  }
  if (!s) wf_error_set(err, "trace '%s': out of memory sharing it", path);
  if (wf_sync_agree(err) != 0) { /* before the collective open, or the others would wait */
    if (s && s != t) wf_trace_close(s, NULL);
    goto take_back;
  }
  open_handles(s, 1, err);
  if (wf_sync_agree(err) == 0) return s;
  close_handles(s, NULL);
  if (s != t) wf_trace_close(s, NULL);
take_back: /* rank 0 gets its trace back as it was, so the run can still write through it */
  if (wf_sync_rank() == 0 && t->file < 0) {
    wf_error e2 = {0};
    if (open_handles(t, 0, &e2) != 0) wf_error_set(err, "%s; and then: %s", err->msg, e2.msg);
  }
  return NULL;
}

int wf_trace_unshare(wf_trace *s, wf_error *err) {
  int rc = close_handles(s, err);
  if (wf_sync_rank() != 0) {
    wf_trace_close(s, NULL);
  } else if (rc == 0) {
    rc = open_handles(s, 0, err);
  }
  return wf_sync_agree(err) != 0 || rc ? -1 : 0;
}

/* Closing datasets flushes their chunk caches, so a full disk shows up here: report it. */
