/* Simulated time: an unsigned count of nanoseconds. No floating point decides event order;
 * doubles appear only at the edges (scenario input, reports). */
#ifndef WF_SIMTIME_H
#define WF_SIMTIME_H

#include <stdint.h>

#include "error.h"

typedef uint64_t wf_time;

#define WF_NS ((wf_time)1)
#define WF_US ((wf_time)1000)
#define WF_MS ((wf_time)1000000)
#define WF_SEC ((wf_time)1000000000)
#define WF_TIME_MAX UINT64_MAX

/* Parses "250ms", "6s", "1.5s", "10min", "2h", "1d", "100us", "40ns", or a bare number of
 * seconds ("0.1"). Rejects negatives, empty strings, unknown units, trailing junk and values
 * that overflow 64-bit nanoseconds, naming the offending text in err. */
int wf_duration_parse(const char *text, wf_time *out, wf_error *err);
/* Seconds (from a Lua number) to nanoseconds, rounded to nearest; same checks as above. */
int wf_duration_from_seconds(double seconds, wf_time *out, wf_error *err);
/* Renders t with the largest unit that keeps it readable ("1.5s", "250ms", "10min"). */
void wf_duration_format(wf_time t, char *buf, unsigned long size);

static inline double wf_time_to_s(wf_time t) {
  return (double)t / 1e9; /* divided, not times 1e-9 (inexact): 60 s is 60, not 60.00000000000001 */
}

/* Wall-clock time, not simulated time: a monotonic clock in nanoseconds, and in seconds, for
 * timing runs and benchmarks. */
uint64_t wf_wall_ns(void);
static inline double wf_wall_s(void) {
  return (double)wf_wall_ns() * 1e-9;
}

#endif
