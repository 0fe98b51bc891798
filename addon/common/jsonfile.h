/*
 * The small JSON files skiff writes about a container (state.json, exit.json, monitor.json,
 * health.json): one object, read whole. Values that are strings, numbers, true, false or null are
 * kept; arrays and objects are skipped. No library: the N-API addon links none, and these files are
 * a few hundred bytes. Strings are decoded (escapes, \u with surrogate pairs → UTF-8) in place.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum jf_type { JF_ABSENT, JF_STRING, JF_NUMBER, JF_TRUE, JF_FALSE, JF_NULL, JF_NESTED };

struct jf_member {
  const char *key;
  enum jf_type type;
  const char *str; /* JF_STRING */
  double num;      /* JF_NUMBER */
};

struct jf_doc {
  char *text;   /* the file (NUL-terminated), owned */
  size_t len;
  struct jf_member *m;
  size_t n;
};

/* 0 and *d filled; -1 with errno (ENOENT: no such file; EINVAL: not a JSON object; EFBIG: over max bytes). */
int jf_load(const char *path, size_t max, struct jf_doc *d);
/* Parse text (modified in place; d owns it afterwards, unless the parse fails: -1, EINVAL or ENOMEM). */
int jf_parse(char *text, size_t len, struct jf_doc *d);
void jf_free(struct jf_doc *d);
const struct jf_member *jf_get(const struct jf_doc *d, const char *key);
const char *jf_str(const struct jf_doc *d, const char *key);            /* NULL unless a string */
bool jf_num(const struct jf_doc *d, const char *key, double *out);     /* false unless a number */
bool jf_true(const struct jf_doc *d, const char *key);

#ifdef __cplusplus
}
#endif
