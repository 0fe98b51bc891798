/*
 * Health checks, as Docker's daemon/health.go: every interval (counted from the end of the
 * previous probe; the first one interval after the start) the monitor runs the test with
 * `skiff-shim exec PID PROCESS.json` (fork + exec of itself; the process file is the CLI's),
 * keeps up to 4 KiB of its stdout+stderr, kills it after the timeout (ExitCode -1, "Health
 * check exceeded timeout (30s)"), and writes Docker's Health object atomically:
 *   {"Status":"starting|healthy|unhealthy","FailingStreak":N,"Log":[{Start,End,ExitCode,Output}]}
 * Exit 0 → healthy, streak 0. A failure increments the streak, except while the container is
 * still "starting" within its start period; retries failures in a row → unhealthy. Last 5 entries.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

#define HEALTH_LOG 5
#define HEALTH_OUTPUT 4096

enum { STARTING, HEALTHY, UNHEALTHY };
static const char *const STATUS[] = {"starting", "healthy", "unhealthy"};

struct entry {
  char start[48], end[48];
  int code;
  char *output;
};

struct health {
  const struct monitor_config *m;
  pid_t init;
  long long started_ms, next_ms;
  int status, streak;
  struct entry log[HEALTH_LOG];
  size_t nlog;
  /* the running probe */
  pid_t probe;
  int pipe;
  bool timed_out, discard;
  long long probe_ms, deadline_ms;
  struct timespec probe_start;
  char out[HEALTH_OUTPUT];
  size_t outlen;
};

long long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct health *health_new(const struct monitor_config *m) {
  if (!m->has_health) return NULL;
  struct health *h = xcalloc(1, sizeof *h);
  h->m = m;
  h->probe = -1;
  h->pipe = -1;
  return h;
}

static void write_health(struct health *h) {
  size_t cap = 256, n = 0;
  for (size_t i = 0; i < h->nlog; i++) cap += 160 + 6 * strlen(h->log[i].output);
  char *s = xcalloc(cap, 1);
  n += (size_t)snprintf(s, cap, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", STATUS[h->status], h->streak);
  for (size_t i = 0; i < h->nlog; i++) {
    const struct entry *e = &h->log[i];
    n += (size_t)snprintf(s + n, cap - n, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":\"", i ? "," : "", e->start,
                          e->end, e->code);
    n += json_escape(e->output, strlen(e->output), s + n);
    n += (size_t)snprintf(s + n, cap - n, "\"}");
  }
  snprintf(s + n, cap - n, "]}");
  if (write_atomic(h->m->health_file, s) < 0) print_failure();
  free(s);
}

void health_stop(struct health *h) {
  if (!h) return;
  h->init = 0;
  if (h->probe > 0) {
    kill(h->probe, SIGKILL); /* reaped by the monitor; the result is dropped */
    h->discard = true;
  }
}

void health_reset(struct health *h, pid_t init) {
  if (!h) return;
  health_stop(h);
  h->init = init;
  h->status = STARTING;
  h->streak = 0;
  h->started_ms = monotonic_ms();
  h->next_ms = h->started_ms + h->m->interval_ms;
  write_health(h);
}

int health_fd(const struct health *h) { return h ? h->pipe : -1; }

long long health_due_ms(const struct health *h) {
  if (!h) return -1;
  if (h->probe > 0) return h->timed_out || h->discard ? -1 : h->deadline_ms;
  return h->init > 0 ? h->next_ms : -1;
}

static void start_probe(struct health *h) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    fail("health check: pipe");
    print_failure();
    h->next_ms = monotonic_ms() + h->m->interval_ms;
    return;
  }
  clock_gettime(CLOCK_REALTIME, &h->probe_start);
  h->probe_ms = monotonic_ms();
  pid_t pid = fork();
  if (pid < 0) {
    fail("health check: fork");
    print_failure();
    close_fd(&p[0]);
    close_fd(&p[1]);
    h->next_ms = h->probe_ms + h->m->interval_ms;
    return;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
      dprintf(p[1], "Error: prepare the health check: %s\n", strerror(errno)); /* the probe's output: its log */
      _exit(EXIT_SHIM);
    }
    char pidarg[24];
    snprintf(pidarg, sizeof pidarg, "%d", (int)h->init);
    execl("/proc/self/exe", "skiff-shim", "exec", pidarg, h->m->health_process, (char *)NULL);
    dprintf(2, "Error: exec skiff-shim for the health check: %s\n", strerror(errno));
    _exit(EXIT_SHIM);
  }
  close_fd(&p[1]);
  if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) { /* a blocking read would stall the monitor: give up this probe */
    fail("health check: make the pipe non-blocking");
    print_failure();
    kill(pid, SIGKILL);
  }
  h->probe = pid;
  h->pipe = p[0];
  h->timed_out = false;
  h->discard = false;
  h->outlen = 0;
  h->deadline_ms = h->probe_ms + h->m->timeout_ms;
}

void health_tick(struct health *h) {
  if (!h) return;
  long long now = monotonic_ms();
  if (h->probe > 0) {
    if (!h->timed_out && !h->discard && now >= h->deadline_ms) {
      h->timed_out = true;
      kill(h->probe, SIGKILL); /* the process in the container has the shim as parent-death signal */
    }
    return;
  }
  if (h->init > 0 && now >= h->next_ms) start_probe(h);
}

void health_read(struct health *h) {
  if (!h || h->pipe < 0) return;
  char buf[1024];
  for (;;) {
    ssize_t n = read(h->pipe, buf, sizeof buf);
    if (n > 0) {
      size_t keep = HEALTH_OUTPUT - h->outlen;
      if ((size_t)n < keep) keep = (size_t)n;
      memcpy(h->out + h->outlen, buf, keep);
      h->outlen += keep;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) close_fd(&h->pipe);
    return;
  }
}

/* Go's Duration.String() for whole milliseconds: "500ms", "1.5s", "1m30s", "2h0m0s". */
static void go_duration(long long ms, char *out, size_t len) {
  if (ms < 1000) {
    snprintf(out, len, "%lldms", ms);
    return;
  }
  long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
  int n = 0;
  if (h) n = snprintf(out, len, "%lldh%lldm", h, m);
  else if (m) n = snprintf(out, len, "%lldm", m);
  if (n < 0 || (size_t)n >= len) return;
  if (frac) {
    char f[8];
    snprintf(f, sizeof f, "%03lld", frac);
    for (size_t k = strlen(f); k > 0 && f[k - 1] == '0'; k--) f[k - 1] = 0;
    snprintf(out + n, len - (size_t)n, "%lld.%ss", s, f);
  } else {
    snprintf(out + n, len - (size_t)n, "%llds", s);
  }
}

bool health_reaped(struct health *h, pid_t pid, int status) {
  if (!h || pid != h->probe) return false;
  health_read(h);
  close_fd(&h->pipe);
  h->probe = -1;
  long long now = monotonic_ms();
  h->next_ms = now + h->m->interval_ms;
  if (h->init <= 0 || h->discard) return true; /* the container stopped (or restarted) meanwhile */
  struct entry e = {.code = 0};
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  rfc3339nano(&h->probe_start, e.start, sizeof e.start);
  rfc3339nano(&end, e.end, sizeof e.end);
  if (h->timed_out) {
    char d[32], msg[80];
    go_duration(h->m->timeout_ms, d, sizeof d);
    snprintf(msg, sizeof msg, "Health check exceeded timeout (%s)", d);
    e.code = -1;
    e.output = xstrdup(msg);
  } else {
    int sig;
    e.code = exit_code_of(status, &sig);
    e.output = xcalloc(h->outlen + 1, 1);
    memcpy(e.output, h->out, h->outlen);
  }
  if (e.code == 0) {
    h->streak = 0;
    h->status = HEALTHY;
  } else if (!(h->status == STARTING && h->probe_ms - h->started_ms < h->m->start_period_ms)) {
    if (++h->streak >= h->m->retries) h->status = UNHEALTHY;
  }
  if (h->nlog == HEALTH_LOG) {
    free(h->log[0].output);
    memmove(h->log, h->log + 1, (HEALTH_LOG - 1) * sizeof *h->log);
    h->nlog--;
  }
  h->log[h->nlog++] = e;
  write_health(h);
  return true;
}
