/* Duration parsing: units, bare seconds, rounding, and every malformed form named in the
 * error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "simtime.h"

static void parses_units(void **s) {
  (void)s;
  static const struct {
    const char *text;
    wf_time ns;
  } ok[] = {
      {"6s", 6 * WF_SEC},
      {"250ms", 250 * WF_MS},
      {"10min", 600 * WF_SEC},
      {"2h", 7200 * WF_SEC},
      {"1d", 86400 * WF_SEC},
      {"100us", 100 * WF_US},
      {"40ns", 40},
      {"0.1", 100 * WF_MS},
      {"1.5s", 1500 * WF_MS},
      {" 3 s ", 3 * WF_SEC},
      {"0", 0},
      {".5s", 500 * WF_MS},
      {"1e3ms", WF_SEC},
      {"0.0000000015s", 2},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    wf_time t = 123;
    wf_error e = {0};
    assert_int_equal(wf_duration_parse(ok[i].text, &t, &e), 0);
    assert_int_equal(t, ok[i].ns);
    assert_false(e.set);
  }
}

static void rejects_malformed(void **s) {
  (void)s;
  static const struct {
    const char *text, *needle;
  } bad[] = {
      {"", "empty"},        {"-5s", "negative"},     {"5xs", "unknown unit 'xs'"},
      {"abc", "malformed"}, {"5s5", "unexpected"},   {"1e30s", "overflows"},
      {"nan", "malformed"}, {"6 s x", "unexpected"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    wf_time t = 0;
    wf_error e = {0};
    assert_int_equal(wf_duration_parse(bad[i].text, &t, &e), -1);
    assert_true(e.set);
    if (!strstr(e.msg, bad[i].needle))
      fail_msg("'%s' -> '%s' lacks '%s'", bad[i].text, e.msg, bad[i].needle);
  }
}

static void seconds_and_format(void **s) {
  (void)s;
  wf_time t;
  wf_error e = {0};
  assert_int_equal(wf_duration_from_seconds(0.9, &t, &e), 0);
  assert_int_equal(t, 900 * WF_MS);
  assert_int_equal(wf_duration_from_seconds(-1, &t, &e), -1);
  char buf[32];
  wf_duration_format(1500 * WF_MS, buf, sizeof buf);
  assert_string_equal(buf, "1.5s");
  wf_duration_format(600 * WF_SEC, buf, sizeof buf);
  assert_string_equal(buf, "10min");
  wf_duration_format(250 * WF_MS, buf, sizeof buf);
  assert_string_equal(buf, "250ms");
  wf_duration_format(0, buf, sizeof buf);
  assert_string_equal(buf, "0ns");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_units),
      cmocka_unit_test(rejects_malformed),
      cmocka_unit_test(seconds_and_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
