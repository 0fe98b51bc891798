/*
 * Docker's json-file log, as its jsonfile driver writes it:
 *   {"log":"text\n","stream":"stdout","time":"2026-12-01T09:00:00.123456789Z"}
 * One entry per line (the newline kept in "log"); a line longer than 16 KiB is split into
 * 16 KiB entries without a newline (Docker's copier emits partial messages when its 16 KiB
 * buffer fills); at the end of a stream the unfinished line becomes an entry with a newline.
 * Escaping as Docker's jsonlog: \" \\ \n \r \t, other control characters and < > & as \u00XX,
 * U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
 * Rotation (max-size > 0): before an entry is written, a file that has reached max-size is
 * renamed to .1 (.1 to .2, ... the oldest, .max-file-1, dropped); with max-file 1 it is
 * truncated instead. Write errors are not fatal: the container keeps running.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

#define LINE_MAX_BYTES (16 * 1024)

struct logfile {
  char *path;
  int fd;
  long long size, max_size;
  int max_file;
  char buf[2][LINE_MAX_BYTES]; /* unfinished line per stream */
  size_t len[2];
};

static int open_log(struct logfile *l) {
  l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (l->fd < 0) return fail("open the log file %s", l->path);
  struct stat st;
  l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

struct logfile *log_open(const char *path, long long max_size, int max_file) {
  struct logfile *l = xcalloc(1, sizeof *l);
  l->path = xstrdup(path);
  l->max_size = max_size;
  l->max_file = max_file < 1 ? 1 : max_file;
  if (open_log(l) < 0) {
    free(l->path);
    free(l);
    return NULL;
  }
  return l;
}

static void rotate(struct logfile *l) {
  size_t n = strlen(l->path) + 16;
  cleanup_free char *from = xcalloc(n, 1);
  cleanup_free char *to = xcalloc(n, 1);
  if (l->max_file > 1) {
    snprintf(to, n, "%s.%d", l->path, l->max_file - 1);
    unlink(to);
    for (int i = l->max_file - 2; i >= 1; i--) {
      snprintf(from, n, "%s.%d", l->path, i);
      snprintf(to, n, "%s.%d", l->path, i + 1);
      rename(from, to); /* ENOENT: fewer files so far */
    }
    snprintf(to, n, "%s.1", l->path);
    if (rename(l->path, to) < 0) {
      fail("rotate the log file %s", l->path);
      print_failure();
    }
    close_fd(&l->fd);
    if (open_log(l) < 0) print_failure();
  } else if (ftruncate(l->fd, 0) == 0) {
    l->size = 0;
  }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t avail) {
  unsigned c = p[0];
  size_t n;
  unsigned min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) n = 2, min = 0x80, c &= 0x1f;
  else if ((c & 0xf0) == 0xe0) n = 3, min = 0x800, c &= 0x0f;
  else if ((c & 0xf8) == 0xf0) n = 4, min = 0x10000, c &= 0x07;
  else return 0;
  if (n > avail) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (p[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return n;
}

size_t json_escape(const char *data, size_t len, char *out) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)data;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t n = utf8_len(p + i, len - i);
      if (n == 0) {
        memcpy(out + o, "\\ufffd", 6);
        o += 6;
        i++;
      } else if (n == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
        memcpy(out + o, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
        o += 6;
        i += 3;
      } else {
        memcpy(out + o, p + i, n);
        o += n;
        i += n;
      }
      continue;
    }
    i++;
    if (c == '"' || c == '\\') out[o++] = '\\', out[o++] = (char)c;
    else if (c == '\n') out[o++] = '\\', out[o++] = 'n';
    else if (c == '\r') out[o++] = '\\', out[o++] = 'r';
    else if (c == '\t') out[o++] = '\\', out[o++] = 't';
    else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      memcpy(out + o, "\\u00", 4);
      out[o + 4] = hex[c >> 4];
      out[o + 5] = hex[c & 15];
      o += 6;
    } else out[o++] = (char)c;
  }
  out[o] = 0;
  return o;
}

static void write_entry(struct logfile *l, int stream, const char *data, size_t len, bool newline) {
  if (l->fd < 0) return;
  static char line[6 * (LINE_MAX_BYTES + 1) + 128];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  size_t o = 0;
  memcpy(line, "{\"log\":\"", 8);
  o = 8;
  o += json_escape(data, len, line + o);
  if (newline) memcpy(line + o, "\\n", 2), o += 2;
  char t[48];
  rfc3339nano(&ts, t, sizeof t);
  o += (size_t)snprintf(line + o, sizeof line - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream == 2 ? "stderr" : "stdout", t);
  if (l->max_size > 0 && l->size >= l->max_size) rotate(l);
  if (l->fd < 0) return;
  if (write_all(l->fd, line, o) == 0) l->size += (long long)o;
}

void log_data(struct logfile *l, int stream, const char *data, size_t len) {
  if (!l) return;
  int s = stream == 2 ? 1 : 0;
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) : len;
    size_t room = LINE_MAX_BYTES - l->len[s];
    if (take >= room) {
      /* the buffer fills: a partial entry (no newline), as Docker's copier */
      memcpy(l->buf[s] + l->len[s], data, room);
      write_entry(l, stream, l->buf[s], LINE_MAX_BYTES, false);
      l->len[s] = 0;
      data += room;
      len -= room;
      continue;
    }
    memcpy(l->buf[s] + l->len[s], data, take);
    l->len[s] += take;
    if (!nl) return;
    write_entry(l, stream, l->buf[s], l->len[s], true);
    l->len[s] = 0;
    data += take + 1;
    len -= take + 1;
  }
}

void log_flush(struct logfile *l, int stream) {
  if (!l) return;
  int s = stream == 2 ? 1 : 0;
  if (l->len[s]) write_entry(l, stream, l->buf[s], l->len[s], true);
  l->len[s] = 0;
}
