/* The transport against exact answers: serialization and back-to-back departures (D/D/1), the
 * receiver's downlink queue, Poisson traffic on one uplink against M/D/1's mean wait, one-way
 * latency as half the table's RTT, the shipped table loaded entry by entry, bad tables, and
 * partitions (nothing crosses a cut; buffered messages arrive in order after it heals). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "net/net.h"
#include "net/regions.h"
#include "support.h"

/* Two regions 20 ms apart (10 ms one way), a third 60 ms from both. */
static const char *table3(void) {
  return wf_test_write("three.csv", "region,a,b,c\n"
                                    "a,1,20,60\n"
                                    "b,20,1,60\n"
                                    "c,60,60,1\n");
}

/* ---- a probe node: sends what its test asks, records what it receives ---- */

enum { P_TICK = 1, P_MSG = 2 };

typedef struct obs {
  wf_time t;
  wf_time sent;
  uint32_t seq, from;
} obs;

typedef struct probe_cfg {
  wf_net *net;
  wf_lpid first;
  uint32_t bytes;
  /* burst: node 0 (and node 2 when incast) send k messages to node 1 at t = 0 */
  uint32_t k;
  int incast;
  /* ticks: node 0 sends to node 1 every `period` until `until` */
  wf_time period, until;
  /* poisson: node 0 sends with exponential gaps of mean mean_gap_ns until n messages */
  double mean_gap_ns;
  uint64_t n;
  /* M/D/1 observation: waits per batch */
  wf_time base; /* serialization + latency: delivery - sent - base = the wait */
  double batch_sum[100];
  uint64_t batch_n[100], batch_size, seen;
  obs *got;
  size_t ngot, capgot;
  uint64_t conn_bps; /* > 0: node 0 sends through a connection with this rate limit */
} probe_cfg;

typedef struct probe {
  wf_net_port port;
  uint32_t seq;
  wf_net_conn conn;
} probe;

static void probe_send(wf_lp *lp, probe_cfg *c, probe *s) {
  uint32_t seq = s->seq++;
  s->conn.bps = c->conn_bps;
  wf_net_send(lp, c->net, &s->port, c->conn_bps ? &s->conn : NULL, c->first + 1, c->bytes, P_MSG,
              0, &seq, sizeof seq);
}

static void next_tick(wf_lp *lp, probe_cfg *c) {
  if (c->period) {
    if (wf_now(lp) + c->period < c->until) wf_send(lp, wf_lp_id(lp), c->period, P_TICK, NULL, 0);
  } else if (c->mean_gap_ns > 0) {
    wf_time gap = (wf_time)llround(wf_rng_exponential(wf_lp_rng(lp), c->mean_gap_ns));
    wf_send(lp, wf_lp_id(lp), gap, P_TICK, NULL, 0);
  }
}

static void probe_init(wf_lp *lp, void *st, const void *cfg) {
  probe_cfg *c = (probe_cfg *)cfg;
  probe *s = st;
  wf_net_port_init(lp, c->net, &s->port);
  uint32_t me = wf_lp_id(lp) - c->first;
  if (me == 0 || (me == 2 && c->incast))
    for (uint32_t i = 0; i < c->k; i++) probe_send(lp, c, s);
  if (me == 0 && (c->period || c->mean_gap_ns > 0)) {
    probe_send(lp, c, s);
    next_tick(lp, c);
  }
}

static void observe(probe_cfg *c, wf_lp *lp, const wf_net_msg *m) {
  uint32_t seq;
  memcpy(&seq, m->data, sizeof seq);
  if (c->batch_size) {
    uint64_t b = c->seen++ / c->batch_size;
    if (b < 100) {
      c->batch_sum[b] += (double)(wf_now(lp) - m->sent - c->base);
      c->batch_n[b]++;
    }
    return;
  }
  if (c->ngot == c->capgot) {
    c->capgot = c->capgot ? 2 * c->capgot : 64;
    c->got = realloc(c->got, c->capgot * sizeof *c->got);
  }
  c->got[c->ngot++] = (obs){wf_now(lp), m->sent, seq, m->src - c->first};
}

static void probe_handle(wf_lp *lp, void *st, const wf_event *ev) {
  probe_cfg *c = (probe_cfg *)wf_lp_cfg(lp);
  probe *s = st;
  if (ev->kind == P_TICK) {
    if (c->n && s->seq >= c->n) return;
    probe_send(lp, c, s);
    next_tick(lp, c);
    return;
  }
  wf_net_msg m;
  if (wf_net_owns(ev) && wf_net_receive(lp, c->net, &s->port, ev, &m)) observe(c, lp, &m);
}

static wf_lp_type probe_type = {"probe", sizeof(probe), 0, probe_init, probe_handle, NULL};

/* Three probes: node 0 in region a, node 1 in b, node 2 in a; downlinks as given. */
static wf_engine *probe_world(probe_cfg *c, wf_net_params p, double down1) {
  wf_error err = {0};
  wf_engine *eng = wf_engine_new(&err);
  p.rtt_table = table3();
  if (!p.same_region_rtt) p.same_region_rtt = 250 * WF_US;
  c->net = wf_net_new(eng, &p, &err);
  if (!c->net) fail_msg("%s", err.msg);
  assert_int_equal(wf_net_class(c->net, "probe", &err), 0);
  probe_type.min_delay = wf_net_min_delay(c->net);
  c->first = wf_engine_add_lps(eng, &probe_type, 3, c, 0, &err);
  uint16_t region[3] = {0, 1, 0};
  double up[3] = {1e9, 1e9, 1e9}, down[3] = {1e9, down1, 1e9};
  if (wf_net_attach(c->net, c->first, 3, region, up, down, &err) != 0) fail_msg("%s", err.msg);
  return eng;
}

static void run_world(wf_engine *eng, wf_time end) {
  wf_error err = {0};
  wf_run_opts o = {.end_time = end, .seed = 3};
  wf_run_stats st;
  if (wf_engine_run(eng, &o, &st, &err) != 0) fail_msg("%s", err.msg);
}

/* ---- exact cases ---- */

static void back_to_back_messages_leave_at_multiples(void **unused) {
  (void)unused;
  probe_cfg c = {.bytes = 1500, .k = 5};
  wf_engine *eng = probe_world(&c, (wf_net_params){0}, 1e9);
  run_world(eng, WF_SEC);
  /* 1500 B at 1 Gbit/s = 12 us on the wire; one way a -> b = 20 ms / 2. Message i leaves the
   * uplink at (i + 1) x 12 us and, the downlink being as fast, is delivered 10 ms later. */
  assert_int_equal(c.ngot, 5);
  for (uint32_t i = 0; i < 5; i++) {
    assert_int_equal(c.got[i].seq, i);
    assert_int_equal(c.got[i].t, 10 * WF_MS + (i + 1) * 12 * WF_US);
  }
  assert_int_equal(wf_net_ser_up(c.net, 0, 1500), 12 * WF_US);
  assert_int_equal(wf_net_ser_up(c.net, 0, 1), 8); /* 8 bits at 1 Gbit/s, rounded up to ns */
  free(c.got);
  wf_engine_free(eng);
}

static void receiver_downlink_queues(void **unused) {
  (void)unused;
  /* Nodes 0 and 2 each send one message to node 1 at t = 0; node 1's downlink is half their
   * uplinks (24 us per message), so the second waits for the first on it. */
  probe_cfg c = {.bytes = 1500, .k = 1, .incast = 1};
  wf_engine *eng = probe_world(&c, (wf_net_params){0}, 0.5e9);
  run_world(eng, WF_SEC);
  assert_int_equal(c.ngot, 2);
  assert_int_equal(c.got[0].from, 0);
  assert_int_equal(c.got[0].t, 10 * WF_MS + 24 * WF_US);
  assert_int_equal(c.got[1].from, 2);
  assert_int_equal(c.got[1].t, 10 * WF_MS + 48 * WF_US);
  free(c.got);
  wf_engine_free(eng);
}

static void connection_rate_limits(void **unused) {
  (void)unused;
  /* Through a 100 Mbit/s connection 1500 B take 120 us, ten times the 1 Gbit/s uplink: the
   * connection paces the messages, each delivered 10 ms after it has left the connection. */
  probe_cfg c = {.bytes = 1500, .k = 3, .conn_bps = 100000000};
  wf_engine *eng = probe_world(&c, (wf_net_params){0}, 1e9);
  run_world(eng, WF_SEC);
  assert_int_equal(c.ngot, 3);
  for (uint32_t i = 0; i < 3; i++) assert_int_equal(c.got[i].t, 10 * WF_MS + (i + 1) * 120 * WF_US);
  free(c.got);
  wf_engine_free(eng);
}

/* Poisson arrivals of fixed-size messages on one uplink: an M/D/1 queue. Its mean wait is
 * rho / (2 mu (1 - rho)); the run's own batch means give the tolerance (99.9%, t ~ 3.5). */
static void md1_at(double rho) {
  const wf_time d = 10 * WF_US; /* 1250 B at 1 Gbit/s */
  probe_cfg c = {.bytes = 1250, .mean_gap_ns = (double)d / rho, .n = 1000000,
                 .batch_size = 20000, .base = d + 10 * WF_MS};
  wf_engine *eng = probe_world(&c, (wf_net_params){0}, 1e9);
  run_world(eng, 3600 * WF_SEC);
  assert_int_equal(c.seen, 1000000);
  double m[50], mean = 0, var = 0;
  for (int b = 0; b < 50; b++) mean += (m[b] = c.batch_sum[b] / (double)c.batch_n[b]) / 50;
  for (int b = 0; b < 50; b++) var += (m[b] - mean) * (m[b] - mean) / 49;
  double half = 3.5 * sqrt(var / 50), expect = rho * (double)d / (2 * (1 - rho));
  print_message("M/D/1 rho %.1f: mean wait %.3f us, theory %.3f us, +- %.3f us\n", rho,
                mean / 1e3, expect / 1e3, half / 1e3);
  assert_true(fabs(mean - expect) <= half);
  assert_true(half < 0.1 * expect); /* the check has teeth: the interval is tight */
  wf_engine_free(eng);
}

static void poisson_uplink_matches_md1(void **unused) {
  (void)unused;
  md1_at(0.5);
  md1_at(0.9);
}

/* ---- region tables ---- */

static void shipped_table_loads_exactly(void **unused) {
  (void)unused;
  wf_regions r;
  wf_error err = {0};
  assert_int_equal(wf_regions_load(&r, WF_REGIONS_DEFAULT, 250 * WF_US, &err), 0);
  assert_int_equal(r.n, 21);
  FILE *f = fopen(WF_REGIONS_DEFAULT, "r");
  char line[4096];
  assert_non_null(fgets(line, sizeof line, f));
  for (uint32_t i = 0; i < 21; i++) {
    assert_non_null(fgets(line, sizeof line, f));
    char *p = strchr(line, ',');
    assert_int_equal(strncmp(line, r.names[i], (size_t)(p - line)), 0);
    for (uint32_t j = 0; j < 21; j++) {
      double ms = strtod(p + 1, &p);
      wf_time want = i == j ? 125 * WF_US : (wf_time)llround(ms * 1e6 / 2);
      assert_int_equal(r.one_way[i * 21 + j], want);
    }
  }
  fclose(f);
  /* Spot values: us-east-1 -> eu-west-1 from the table, halved. */
  int use1 = wf_regions_find(&r, "us-east-1"), euw1 = wf_regions_find(&r, "eu-west-1");
  assert_true(use1 >= 0 && euw1 >= 0);
  assert_true(r.one_way[use1 * 21 + euw1] > 30 * WF_MS && r.one_way[use1 * 21 + euw1] < 45 * WF_MS);
  wf_regions_free(&r);
}

/* CometBFT QA's zones: the one-way delays its netem rules add (latency_emulation.go: from a
 * node in zone A to one in zone B, the source matrix's entry [B][A]), spot-checked against the
 * source's values, including its two asymmetric pairs. */
static void cometbft_qa_table_gives_qa_delays(void **unused) {
  (void)unused;
  wf_regions r;
  wf_error err = {0};
  assert_int_equal(wf_regions_load(&r, WF_REGIONS_COMETBFT_QA, 250 * WF_US, &err), 0);
  assert_int_equal(r.n, 13);
  static const struct {
    const char *from, *to;
    int ms;
  } want[] = {{"N_Virginia", "London", 38}, {"Tokyo", "Singapore", 39},
              {"Ireland", "S_Paulo", 89},   {"S_Paulo", "Ireland", 88},
              {"Tokyo", "Seoul", 17},       {"Seoul", "Tokyo", 16}};
  for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
    int a = wf_regions_find(&r, want[k].from), b = wf_regions_find(&r, want[k].to);
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(r.one_way[(size_t)a * 13 + (size_t)b], (wf_time)want[k].ms * WF_MS);
  }
  assert_int_equal(r.one_way[0], 125 * WF_US); /* the diagonal: same_region_rtt / 2 */
  wf_regions_free(&r);
}

static void bad_tables_are_refused(void **unused) {
  (void)unused;
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"region,a,b\na,1,2\nb,2\n", "three.csv:3: row 'b' has 1 entries, expected 2"},
      {"region,a,b\na,1,-2\nb,2,1\n", "three.csv:2: entry a -> b is negative"},
      {"region,a,b\na,1,x\nb,2,1\n", "three.csv:2: entry a -> b is 'x', expected a number"},
      {"region,a,b\na,1,\nb,2,1\n", "three.csv:2: entry a -> b is '', expected a number"},
      {"region,a,b\nb,1,2\na,2,1\n", "three.csv:2: row 1 is 'b', expected 'a'"},
      {"region,a,a\na,1,2\na,2,1\n", "three.csv:1: region 'a' named twice"},
      {"region,a,b\na,1,2\n", "three.csv: 1 rows for 2 regions (missing row for 'b')"},
      {"", "three.csv: empty region table"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *path = wf_test_write("three.csv", cases[i].text);
    wf_regions r;
    wf_error err = {0};
    assert_int_equal(wf_regions_load(&r, path, 0, &err), -1);
    if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: got '%s'", i, err.msg);
  }
  wf_regions r;
  wf_error err = {0};
  assert_int_equal(wf_regions_load(&r, "/nonexistent/t.csv", 0, &err), -1);
  assert_non_null(strstr(err.msg, "cannot open region table '/nonexistent/t.csv'"));
}

/* ---- partitions ---- */

static void cut_world(probe_cfg *c, wf_engine **eng, wf_net_cut_mode mode) {
  *c = (probe_cfg){.bytes = 1500, .period = 100 * WF_MS, .until = 3 * WF_SEC};
  *eng = probe_world(c, (wf_net_params){.cut_mode = mode}, 1e9);
  uint8_t side[3] = {1, 0, 0}; /* region a against the rest */
  wf_error err = {0};
  assert_int_equal(wf_net_cut_add(c->net, WF_SEC, 2 * WF_SEC, 1, side, &err), 0);
  run_world(*eng, 10 * WF_SEC);
}

static void buffered_messages_wait_for_the_cut_and_keep_order(void **unused) {
  (void)unused;
  probe_cfg c;
  wf_engine *eng;
  cut_world(&c, &eng, WF_NET_BUFFER);
  assert_int_equal(c.ngot, 30); /* sent at 0, 0.1, ..., 2.9 s: none lost */
  for (size_t i = 0; i < c.ngot; i++) {
    assert_int_equal(c.got[i].seq, i); /* in order */
    int sent_in_cut = c.got[i].sent >= WF_SEC && c.got[i].sent < 2 * WF_SEC;
    if (sent_in_cut) assert_true(c.got[i].t >= 2 * WF_SEC + 10 * WF_MS);
    /* Nothing arrives in the cut but what was on the wire before it. */
    if (c.got[i].t > WF_SEC + 10 * WF_MS + 12 * WF_US && c.got[i].t < 2 * WF_SEC)
      fail_msg("message %u crossed the cut at %llu ns", c.got[i].seq,
               (unsigned long long)c.got[i].t);
  }
  free(c.got);
  wf_engine_free(eng);
}

static void dropped_messages_never_arrive(void **unused) {
  (void)unused;
  probe_cfg c;
  wf_engine *eng;
  cut_world(&c, &eng, WF_NET_DROP);
  assert_int_equal(c.ngot, 20); /* the 10 sent at 1.0 .. 1.9 s are dropped */
  for (size_t i = 0; i < c.ngot; i++)
    assert_false(c.got[i].sent >= WF_SEC && c.got[i].sent < 2 * WF_SEC);
  const probe *sender = eng->lps[c.first].state;
  assert_int_equal(sender->port.dropped, 10);
  assert_int_equal(sender->port.msgs_sent, 20);
  free(c.got);
  wf_engine_free(eng);
}

static void cut_release_follows_overlapping_cuts(void **unused) {
  (void)unused;
  probe_cfg c = {0};
  wf_engine *eng = probe_world(&c, (wf_net_params){0}, 1e9);
  uint8_t a[3] = {1, 0, 0}, node2[3] = {0, 0, 1};
  wf_error err = {0};
  assert_int_equal(wf_net_cut_add(c.net, WF_SEC, 2 * WF_SEC, 1, a, &err), 0);
  assert_int_equal(wf_net_cut_add(c.net, 1500 * WF_MS, 3 * WF_SEC, 0, node2, &err), 0);
  assert_int_equal(wf_net_cut_add(c.net, 2 * WF_SEC, WF_SEC, 0, node2, &err), -1);
  /* node 2 (region a) -> node 1: held by the first cut, then by the second. */
  assert_int_equal(wf_net_cut_release(c.net, 2, 1, 1200 * WF_MS), 3 * WF_SEC);
  assert_int_equal(wf_net_cut_release(c.net, 0, 1, 1200 * WF_MS), 2 * WF_SEC);
  assert_int_equal(wf_net_cut_release(c.net, 0, 2, 1200 * WF_MS), 1200 * WF_MS); /* same side */
  assert_int_equal(wf_net_cut_release(c.net, 0, 1, 500 * WF_MS), 500 * WF_MS);
  wf_engine_free(eng);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(back_to_back_messages_leave_at_multiples),
      cmocka_unit_test(receiver_downlink_queues),
      cmocka_unit_test(connection_rate_limits),
      cmocka_unit_test(poisson_uplink_matches_md1),
      cmocka_unit_test(shipped_table_loads_exactly),
      cmocka_unit_test(cometbft_qa_table_gives_qa_delays),
      cmocka_unit_test(bad_tables_are_refused),
      cmocka_unit_test(buffered_messages_wait_for_the_cut_and_keep_order),
      cmocka_unit_test(dropped_messages_never_arrive),
      cmocka_unit_test(cut_release_follows_overlapping_cuts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
