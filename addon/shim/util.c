/* Error recording and small file helpers shared by every mode. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"
#include "../common/rmtree.h"

static char failure_line[1536];
static int failure_exit = EXIT_SHIM;

static int record(int with_errno, const char *fmt, va_list ap) {
  int e = errno;
  int n = vsnprintf(failure_line, sizeof failure_line, fmt, ap);
  if (with_errno && n >= 0 && (size_t)n < sizeof failure_line)
    snprintf(failure_line + n, sizeof failure_line - n, ": %s", strerror(e));
  errno = e;
  return -1;
}

int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(1, fmt, ap);
  va_end(ap);
  return -1;
}

int failx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(0, fmt, ap);
  va_end(ap);
  return -1;
}

const char *failure(void) { return failure_line[0] ? failure_line : "unknown failure"; }
int failure_code(void) { return failure_exit; }
void set_failure_code(int code) { failure_exit = code; }

int print_failure(void) {
  fprintf(stderr, "Error: %s\n", failure());
  return failure_exit;
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int write_file_at(int at, const char *path, const char *data, size_t len) {
  int fd = openat(at, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail("open %s", path);
  int r = write_all(fd, data, len);
  int e = errno;
  if (close(fd) < 0 && r == 0) return fail("write %s", path);
  errno = e;
  return r < 0 ? fail("write %s", path) : 0;
}

/* tmp + rename in the same directory: a reader sees the old file or the whole new one. */
int write_atomic(const char *path, const char *data) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return fail("write %s", path);
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return fail("create %s", tmp);
  if (write_all(fd, data, strlen(data)) < 0) {
    fail("write %s", tmp);
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd) < 0) {
    fail("write %s", tmp);
    unlink(tmp);
    return -1;
  }
  if (rename(tmp, path) < 0) {
    fail("rename %s", path);
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* rm -rf (common/rmtree.c: any depth, unwritable and immutable entries, no symlink followed). */
int rm_rf(const char *path) {
  char why[1024];
  return rmtree_at(AT_FDCWD, path, why, sizeof why) < 0 ? failx("%s", why) : 0;
}

/* "YYYY-MM-DDTHH:MM:SS" (UTC) of `sec` since the epoch. Computed by hand (civil_from_days, H. Hinnant):
   glibc's gmtime_r loads the local time zone first. Returns snprintf's count. */
int utc_seconds(long long sec, char *out, size_t len) {
  long long days = sec / 86400, secs = sec % 86400;
  long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  long long y = (long long)yoe + era * 400 + (m <= 2);
  return snprintf(out, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
}

void rfc3339nano(const struct timespec *ts, char *out, size_t len) {
  int n = utc_seconds(ts->tv_sec, out, len);
  if (n < 0 || (size_t)n >= len) return;
  if (ts->tv_nsec) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%09ld", ts->tv_nsec);
    size_t k = strlen(frac);
    while (k > 1 && frac[k - 1] == '0') frac[--k] = 0;
    snprintf(out + n, len - (size_t)n, "%sZ", frac);
  } else {
    snprintf(out + n, len - (size_t)n, "Z");
  }
}

/* Now, as rfc3339nano writes it (exit files; logs and health probes take their own times). */
void rfc3339_now(char *out, size_t len) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rfc3339nano(&ts, out, len);
}

char *xstrdup(const char *s) {
  char *r = strdup(s);
  if (!r) {
    fputs("Error: out of memory\n", stderr);
    exit(EXIT_SHIM);
  }
  return r;
}

void *xcalloc(size_t n, size_t size) {
  void *r = calloc(n ? n : 1, size ? size : 1);
  if (!r) {
    fputs("Error: out of memory\n", stderr);
    exit(EXIT_SHIM);
  }
  return r;
}
