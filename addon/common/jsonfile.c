/* Small flat JSON files (jsonfile.h). */
#include "jsonfile.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"

static char *ws(char *p, char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static char *utf8(char *o, unsigned c) {
  if (c < 0x80) *o++ = (char)c;
  else if (c < 0x800) *o++ = (char)(0xc0 | c >> 6), *o++ = (char)(0x80 | (c & 0x3f));
  else if (c < 0x10000) *o++ = (char)(0xe0 | c >> 12), *o++ = (char)(0x80 | (c >> 6 & 0x3f)), *o++ = (char)(0x80 | (c & 0x3f));
  else
    *o++ = (char)(0xf0 | c >> 18), *o++ = (char)(0x80 | (c >> 12 & 0x3f)), *o++ = (char)(0x80 | (c >> 6 & 0x3f)),
    *o++ = (char)(0x80 | (c & 0x3f));
  return o;
}

/* A string at p (on its opening quote): decoded in place, NUL-terminated; returns the byte after the
   closing quote, or NULL. The decoded text is never longer than the escaped one. */
static char *string(char *p, char *end, const char **out) {
  char *o = ++p;
  *out = o;
  while (p < end && *p != '"') {
    if ((unsigned char)*p < 0x20) return NULL;
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    if (++p >= end) return NULL;
    char e = *p++;
    switch (e) {
      case '"': case '\\': case '/': *o++ = e; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned c, lo;
        if (end - p < 4 || hex4(p, &c) < 0) return NULL;
        p += 4;
        if (c >= 0xd800 && c < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) == 0 && lo >= 0xdc00 &&
            lo < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        } else if (c >= 0xd800 && c < 0xe000) {
          c = 0xfffd; /* a lone surrogate (JSON.parse keeps it; UTF-8 cannot) */
        }
        o = utf8(o, c);
        break;
      }
      default: return NULL;
    }
  }
  if (p >= end) return NULL;
  *o = 0;
  return p + 1;
}

/* Skip an array or object at p (brackets balanced, strings respected). */
static char *nested(char *p, char *end) {
  int depth = 0;
  while (p < end) {
    char c = *p;
    if (c == '"') {
      const char *s;
      if (!(p = string(p, end, &s))) return NULL;
      continue;
    }
    if (c == '[' || c == '{') depth++;
    else if ((c == ']' || c == '}') && --depth == 0) return p + 1;
    p++;
  }
  return NULL;
}

int jf_parse(char *text, size_t len, struct jf_doc *d) {
  memset(d, 0, sizeof *d);
  d->text = text;
  d->len = len;
  char *p = ws(text, text + len), *end = text + len;
  size_t cap = 0;
  if (p >= end || *p++ != '{') goto bad;
  p = ws(p, end);
  if (p < end && *p == '}') return 0;
  for (;;) {
    p = ws(p, end);
    if (p >= end || *p != '"') goto bad;
    struct jf_member m = {0};
    if (!(p = string(p, end, &m.key))) goto bad;
    p = ws(p, end);
    if (p >= end || *p++ != ':') goto bad;
    p = ws(p, end);
    if (p >= end) goto bad;
    if (*p == '"') {
      m.type = JF_STRING;
      if (!(p = string(p, end, &m.str))) goto bad;
    } else if (*p == '[' || *p == '{') {
      m.type = JF_NESTED;
      if (!(p = nested(p, end))) goto bad;
    } else if (end - p >= 4 && !memcmp(p, "true", 4)) {
      m.type = JF_TRUE, p += 4;
    } else if (end - p >= 5 && !memcmp(p, "false", 5)) {
      m.type = JF_FALSE, p += 5;
    } else if (end - p >= 4 && !memcmp(p, "null", 4)) {
      m.type = JF_NULL, p += 4;
    } else {
      char *after;
      m.type = JF_NUMBER;
      m.num = strtod(p, &after); /* the text is NUL-terminated: strtod stops there at the latest */
      if (after == p || (*p != '-' && (*p < '0' || *p > '9'))) goto bad;
      p = after;
    }
    if (d->n == cap) {
      cap = cap ? cap * 2 : 8;
      struct jf_member *nm = realloc(d->m, cap * sizeof *nm);
      if (!nm) {
        free(d->m);
        memset(d, 0, sizeof *d);
        errno = ENOMEM;
        return -1;
      }
      d->m = nm;
    }
    d->m[d->n++] = m;
    p = ws(p, end);
    if (p < end && *p == ',') {
      p++;
      continue;
    }
    if (p < end && *p == '}') break;
    goto bad;
  }
  return 0;
bad:
  free(d->m);
  memset(d, 0, sizeof *d);
  errno = EINVAL;
  return -1;
}

int jf_load(const char *path, size_t max, struct jf_doc *d) {
  memset(d, 0, sizeof *d);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) return -1;
  if ((size_t)st.st_size > max) return errno = EFBIG, -1;
  cleanup_free char *text = malloc((size_t)st.st_size + 1);
  if (!text) return errno = ENOMEM, -1;
  size_t len = 0;
  while (len < (size_t)st.st_size) { /* a file replaced by rename is read whole from the fd we hold */
    ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    len += (size_t)n;
  }
  text[len] = 0;
  if (jf_parse(text, len, d) < 0) return -1;
  take_ptr(&text); /* d owns it */
  return 0;
}

void jf_free(struct jf_doc *d) {
  free(d->text);
  free(d->m);
  memset(d, 0, sizeof *d);
}

const struct jf_member *jf_get(const struct jf_doc *d, const char *key) {
  for (size_t i = d->n; i-- > 0;) /* the last of a repeated key wins, as in JSON.parse */
    if (!strcmp(d->m[i].key, key)) return &d->m[i];
  return NULL;
}

const char *jf_str(const struct jf_doc *d, const char *key) {
  const struct jf_member *m = jf_get(d, key);
  return m && m->type == JF_STRING ? m->str : NULL;
}

bool jf_num(const struct jf_doc *d, const char *key, double *out) {
  const struct jf_member *m = jf_get(d, key);
  if (!m || m->type != JF_NUMBER) return false;
  *out = m->num;
  return true;
}

bool jf_true(const struct jf_doc *d, const char *key) {
  const struct jf_member *m = jf_get(d, key);
  return m && m->type == JF_TRUE;
}
