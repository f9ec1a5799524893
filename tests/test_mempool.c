/* The mempool's structures against plain references: the id set under random adds and
 * deletes (backward-shift deletion keeps every remaining id findable), the caps, reaping a
 * prefix within bytes and gas, removal keeping arrival order, and the cache forgetting its
 * oldest id first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../models/mempool.h"

static uint64_t next(uint64_t *x) {
  *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
  return *x;
}

static void idset_matches_a_reference(void **unused) {
  (void)unused;
  enum { N = 4096, KEYS = 3000 };
  wf_idset s;
  assert_int_equal(wf_idset_init(&s, N), 0);
  unsigned char *in = calloc(KEYS, 1);
  uint64_t x = 88172645463325252ull;
  uint32_t count = 0;
  for (int op = 0; op < 200000; op++) {
    /* Keys cluster (multiples of 1024 collide in the low bits) to exercise probing. */
    uint64_t k = next(&x) % KEYS, id = k * 1024 + 7;
    if (next(&x) % 3 == 0) {
      wf_idset_del(&s, id);
      count -= in[k];
      in[k] = 0;
    } else if (count < N) {
      wf_idset_add(&s, id);
      count += !in[k];
      in[k] = 1;
    }
    if (op % 997 == 0)
      for (uint64_t j = 0; j < KEYS; j++) assert_int_equal(wf_idset_has(&s, j * 1024 + 7), in[j]);
  }
  assert_int_equal(s.n, count);
  free(in);
  wf_idset_free(&s);
}

static wf_mp_entry tx(uint64_t id, uint32_t bytes, uint32_t gas) {
  wf_mp_entry e = {{0}, WF_LP_NONE, UINT32_MAX, 0};
  e.tx.id = id, e.tx.bytes = bytes, e.tx.gas_wanted = gas;
  return e;
}

static int odd(void *ud, const wf_mp_entry *e) {
  (void)ud;
  return e->tx.id & 1;
}

static int not_odd(void *ud, const wf_mp_entry *e) {
  return !odd(ud, e);
}

static void caps_reap_and_remove(void **unused) {
  (void)unused;
  wf_mempool m;
  assert_int_equal(wf_mempool_init(&m, 5, 1000, 16), 0);
  for (uint64_t i = 0; i < 5; i++) {
    wf_mp_entry e = tx(i, 100 + 10 * (uint32_t)i, 1000);
    assert_int_equal(wf_mempool_add(&m, &e), WF_TX_OK);
  }
  wf_mp_entry e = tx(9, 1, 1);
  assert_int_equal(wf_mempool_add(&m, &e), WF_TX_FULL); /* 5 transactions: the count cap */
  /* Bytes 100, 110, 120, 130, 140: a prefix within 335 bytes is three; within gas 1,500 one. */
  wf_mp_entry out[8];
  assert_int_equal(wf_mempool_reap(&m, 335, 0, 0, NULL, NULL, out, 8), 3);
  assert_int_equal(wf_mempool_reap(&m, 10000, 1500, 0, NULL, NULL, out, 8), 1);
  assert_int_equal(wf_mempool_reap(&m, 10000, 0, 0, NULL, NULL, out, 2), 2);
  /* Removing the odd ids (1 and 3) keeps 0, 2, 4 in order and frees their bytes. */
  assert_int_equal(wf_mempool_filter(&m, odd, NULL, NULL), 3);
  assert_int_equal(m.bytes, 100 + 120 + 140);
  assert_int_equal(wf_mempool_reap(&m, 10000, 0, 0, NULL, NULL, out, 8), 3);
  assert_int_equal(out[0].tx.id, 0);
  assert_int_equal(out[1].tx.id, 2);
  assert_int_equal(out[2].tx.id, 4);
  /* A minimum price skips the cheaper ones without stopping: 0 and 4 priced 5, 2 priced 1. */
  m.e[(m.head + 0) % m.cap].tx.price = 5, m.e[(m.head + 1) % m.cap].tx.price = 1;
  m.e[(m.head + 2) % m.cap].tx.price = 5;
  assert_int_equal(wf_mempool_reap(&m, 10000, 0, 5, NULL, NULL, out, 8), 2);
  assert_int_equal(out[1].tx.id, 4);
  /* What the reaping node does not hold yet is skipped, not a stop: 2 is held, 0 and 4 not. */
  m.e[(m.head + 0) % m.cap].tx.id = 1, m.e[(m.head + 2) % m.cap].tx.id = 3;
  assert_int_equal(wf_mempool_reap(&m, 10000, 0, 0, not_odd, NULL, out, 8), 1);
  assert_int_equal(out[0].tx.id, 2);
  m.e[(m.head + 0) % m.cap].tx.id = 0, m.e[(m.head + 2) % m.cap].tx.id = 4;
  /* The byte cap: 360 held, 1000 allowed. */
  e = tx(10, 700, 1);
  assert_int_equal(wf_mempool_add(&m, &e), WF_TX_FULL);
  e = tx(11, 640, 1);
  assert_int_equal(wf_mempool_add(&m, &e), WF_TX_OK);
  wf_mempool_free(&m);
}

static void cache_forgets_the_oldest(void **unused) {
  (void)unused;
  wf_mempool m;
  assert_int_equal(wf_mempool_init(&m, 10, 1000, 3), 0);
  assert_int_equal(wf_mempool_seen(&m, 1), 0);
  assert_int_equal(wf_mempool_seen(&m, 2), 0);
  assert_int_equal(wf_mempool_seen(&m, 3), 0);
  assert_int_equal(wf_mempool_seen(&m, 1), 1); /* still cached */
  assert_int_equal(wf_mempool_seen(&m, 4), 0); /* evicts 1, the oldest */
  assert_int_equal(wf_mempool_seen(&m, 1), 0);
  assert_int_equal(wf_mempool_seen(&m, 3), 1);
  wf_mempool_forget(&m, 3); /* CheckTx failed: it may come again */
  assert_int_equal(wf_mempool_seen(&m, 3), 0);
  /* In the pool counts as seen even once the cache forgot it. */
  wf_mp_entry e = tx(50, 10, 1);
  assert_int_equal(wf_mempool_add(&m, &e), WF_TX_OK);
  assert_int_equal(wf_mempool_seen(&m, 50), 1);
  wf_mempool_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(idset_matches_a_reference),
      cmocka_unit_test(caps_reap_and_remove),
      cmocka_unit_test(cache_forgets_the_oldest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
