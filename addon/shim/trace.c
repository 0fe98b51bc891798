/*
 * The shim's start phases for SKIFF_TRACE_STARTUP=1: one "skiff-trace-shim PHASE MS ..." line, MS
 * the milliseconds since the shim's main() when the phase ended (the parent's and the child's phases
 * overlap, so these are points in time, not durations). The marks live in a shared page (made only
 * when tracing), so the container's child records its own before it execs. Off, a mark is one test.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

static const char *const NAMES[TR_COUNT] = {"loaded", "cloned", "mapped", "mounted", "entered", "cgroups", "network", "go", "exec"};
static long long *marks; /* µs since t0, TR_COUNT of them; NULL: tracing is off */
static long long t0;

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void trace_init(void) {
  const char *on = getenv("SKIFF_TRACE_STARTUP");
  if (!on || strcmp(on, "1") != 0) return;
  t0 = now_us();
  void *p = mmap(NULL, TR_COUNT * sizeof *marks, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) marks = p; /* without it: no trace */
}

void trace_mark(enum trace_phase p) {
  if (marks) marks[p] = now_us() - t0;
}

size_t trace_line(char *buf, size_t cap) {
  if (!marks || cap < 2) return 0;
  size_t len = (size_t)snprintf(buf, cap, "skiff-trace-shim");
  for (int i = 0; i < TR_COUNT && len < cap; i++)
    if (marks[i]) len += (size_t)snprintf(buf + len, cap - len, " %s %.2f", NAMES[i], (double)marks[i] / 1000.0);
  if (len >= cap - 1) return 0;
  buf[len++] = '\n';
  buf[len] = 0;
  memset(marks, 0, TR_COUNT * sizeof *marks); /* a restart's start is traced afresh (not printed) */
  return len;
}

void trace_print(int fd) {
  char line[512];
  size_t len = trace_line(line, sizeof line);
  if (len) (void)!write(fd, line, len);
}
