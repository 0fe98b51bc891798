/* Error reporting and small helpers shared by every mode. */

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shim.h"

static int vfail(int with_errno, const char *fmt, va_list ap) {
  int e = errno;
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (with_errno)
    fprintf(stderr, "Error: %s: %s\n", msg, strerror(e));
  else
    fprintf(stderr, "Error: %s\n", msg);
  errno = e;
  return -1;
}

int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(0, fmt, ap);
  va_end(ap);
  return -1;
}

int fail_errno(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(1, fmt, ap);
  va_end(ap);
  return -1;
}

void child_fail(int errfd, int code, const char *fmt, ...) {
  char msg[1200];
  int n = snprintf(msg, sizeof msg, "%d ", code);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  va_end(ap);
  if (errfd < 0 || write(errfd, msg, strlen(msg)) < 0) fprintf(stderr, "Error: %s\n", msg + n);
  _exit(code);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  int r = flag == FTW_DP ? rmdir(p) : unlink(p);
  if (r < 0 && errno != ENOENT) fail_errno("remove %s", p);
  return 0;
}

int rm_rf(const char *path) {
  if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) return fail_errno("remove %s", path);
  return 0;
}
