/* A small JSON writer into a growing buffer: enough for --json output and the resolved
 * parameters attribute. Commas are inserted automatically. */
#ifndef WF_JSON_H
#define WF_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct wf_json {
  char *buf;
  size_t len, cap;
  int need_comma;
  int oom;
} wf_json;

void wf_json_init(wf_json *j);
void wf_json_free(wf_json *j);
/* Returns the text (caller frees) and resets j; NULL if memory ran out. */
char *wf_json_take(wf_json *j);

void wf_json_begin_object(wf_json *j);
void wf_json_end_object(wf_json *j);
void wf_json_begin_array(wf_json *j);
void wf_json_end_array(wf_json *j);
void wf_json_key(wf_json *j, const char *key);
void wf_json_str(wf_json *j, const char *s);
void wf_json_int(wf_json *j, int64_t v);
void wf_json_uint(wf_json *j, uint64_t v);
void wf_json_num(wf_json *j, double v); /* the shortest exact form; non-finite: null */
/* A measured figure (wall time, a rate, memory) to four significant digits: 1.588, not
 * 1.5880858890000127; 3317000, not 3317454.318876194. */
void wf_json_measured(wf_json *j, double v);
/* v to `digits` significant digits (a headline figure: 6). */
void wf_json_sig(wf_json *j, double v, int digits);
void wf_json_bool(wf_json *j, int v);

#endif
