#include "wbin.h"

#include <stdlib.h>
#include <string.h>

void wf_wr_init(wf_wreader *r, const uint8_t *p, size_t len) {
  r->start = r->p = p;
  r->end = p + len;
  r->bad = 0;
}

size_t wf_wr_offset(const wf_wreader *r) {
  return (size_t)(r->p - r->start);
}

uint8_t wf_wr_u8(wf_wreader *r) {
  if (r->p >= r->end) {
    r->bad = 1;
    return 0;
  }
  return *r->p++;
}

uint32_t wf_wr_u32(wf_wreader *r) {
  uint64_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b = wf_wr_u8(r);
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (v > UINT32_MAX) r->bad = 1;
      return (uint32_t)v;
    }
  }
  r->bad = 1;
  return 0;
}

int64_t wf_wr_sleb(wf_wreader *r, int bits) {
  uint64_t v = 0;
  int shift = 0;
  uint8_t b;
  do {
    if (shift >= bits + 7) {
      r->bad = 1;
      return 0;
    }
    b = wf_wr_u8(r);
    v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
    shift += 7;
  } while ((b & 0x80) && !r->bad);
  if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
  return (int64_t)v;
}

const uint8_t *wf_wr_bytes(wf_wreader *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) {
    r->bad = 1;
    r->p = r->end;
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n;
  return p;
}

static void wb_reserve(wf_wbuf *b, size_t n) {
  if (b->oom || b->len + n <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + n) cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return;
  }
  b->p = p;
  b->cap = cap;
}

void wf_wb_bytes(wf_wbuf *b, const void *p, size_t n) {
  wb_reserve(b, n);
  if (b->oom || !n) return;
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

void wf_wb_u8(wf_wbuf *b, uint8_t v) {
  wf_wb_bytes(b, &v, 1);
}

void wf_wb_u32(wf_wbuf *b, uint32_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    wf_wb_u8(b, byte | (v ? 0x80 : 0));
  } while (v);
}

void wf_wb_sleb(wf_wbuf *b, int64_t v) {
  for (;;) {
    uint8_t byte = (uint8_t)(v & 0x7f);
    v >>= 7; /* arithmetic shift: implementation-defined, but every compiler we use does it */
    int done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    wf_wb_u8(b, byte | (done ? 0 : 0x80));
    if (done) return;
  }
}

void wf_wb_free(wf_wbuf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

const char *wf_wbin_valtype(uint8_t code) {
  switch (code) {
  case 0x7f:
    return "i32";
  case 0x7e:
    return "i64";
  case 0x7d:
    return "f32";
  case 0x7c:
    return "f64";
  case 0x7b:
    return "v128";
  case 0x70:
    return "funcref";
  case 0x6f:
    return "externref";
  default:
    return "?";
  }
}

const char *wf_wbin_kind(uint8_t kind) {
  static const char *names[] = {"func", "table", "memory", "global", "tag"};
  return kind < 5 ? names[kind] : "?";
}
