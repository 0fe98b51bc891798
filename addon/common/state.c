/* A container's state from its files (state.h; the rules: ARCHITECTURE.md "Container state"). */
#include "state.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"
#include "jsonfile.h"

const char *const CTR_STATUS_NAMES[] = {"created", "running", "paused", "restarting", "exited"};

#define SMALL_FILE (1 << 20) /* state.json, exit.json, monitor.json: a few hundred bytes */
#define HEALTH_FILE (8 << 20) /* health.json: five probes' output (4 KiB each), escaped */

static const char MONITOR_LOST[] = "container monitor exited without recording an exit code";
static const char REBOOTED[] = "container state lost: the machine rebooted";

/* ---- this host: boot, cgroup mounts (read once per process) ---- */

static struct {
  bool read;
  char boot_id[64];
  double boot_ms;
  char v2[512], freezer[512];
} host;

/* A small file (at most cap-1 bytes) into buf; its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n < cap - 1) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = 0;
  return (ssize_t)n;
}

/* A kernel file of unknown size (mountinfo, /proc/stat): malloc'd, NUL-terminated (its length in
   *len when given), or NULL. */
static char *slurp_len(const char *path, size_t *len) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 8192, n = 0;
  cleanup_free char *buf = malloc(cap + 1);
  while (buf) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return NULL;
    if (r == 0) break;
    if ((n += (size_t)r) == cap) {
      char *b = realloc(buf, (cap *= 2) + 1);
      if (!b) return NULL;
      buf = b;
    }
  }
  if (!buf) return NULL;
  buf[n] = 0;
  if (len) *len = n;
  return take_ptr(&buf);
}

static char *slurp(const char *path) { return slurp_len(path, NULL); }

static void read_host(void) {
  if (host.read) return;
  host.read = true;
  if (read_small("/proc/sys/kernel/random/boot_id", host.boot_id, sizeof host.boot_id) > 0)
    host.boot_id[strcspn(host.boot_id, "\n")] = 0;
  cleanup_free char *st = slurp("/proc/stat");
  const char *bt = st ? strstr(st, "\nbtime ") : NULL;
  host.boot_ms = bt ? (double)strtoll(bt + 7, NULL, 10) * 1000.0 : 0;
  cleanup_free char *mi = slurp("/proc/self/mountinfo");
  for (char *save = NULL, *line = mi ? strtok_r(mi, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    char *sep = strstr(line, " - ");
    char root[256], mnt[512];
    if (!sep || sscanf(line, "%*s %*s %*s %255s %511s", root, mnt) != 2 || strcmp(root, "/")) continue;
    if (!strncmp(sep, " - cgroup2 ", 11) && !host.v2[0]) snprintf(host.v2, sizeof host.v2, "%s", mnt);
    else if (!strncmp(sep, " - cgroup ", 10) && !host.freezer[0]) {
      char *opts = strrchr(sep, ' ');
      if (opts && (strstr(opts, ",freezer") || strstr(opts, " freezer"))) snprintf(host.freezer, sizeof host.freezer, "%s", mnt);
    }
  }
}

const char *ctr_boot_id(void) {
  read_host();
  return host.boot_id;
}

/* ---- processes ---- */

/* /proc/PID/stat after the comm: state, ppid, ..., starttime (the 20th field after it). */
static int proc_stat(long pid, char *state, long *ppid, double *start_ms) {
  char p[64], s[1024];
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  if (read_small(p, s, sizeof s) <= 0) return -1;
  char *r = strrchr(s, ')');
  if (!r || r[1] != ' ') return -1;
  char *f = r + 2;
  long long v[21] = {0};
  for (int i = 0; i < 21 && f; i++) {
    v[i] = i == 0 ? 0 : strtoll(f, NULL, 10);
    f = strchr(f, ' ');
    if (f) f++;
  }
  if (state) *state = r[2];
  if (ppid) *ppid = (long)v[1];
  if (start_ms) read_host(), *start_ms = host.boot_ms + (double)v[19] * 10.0; /* USER_HZ is 100 */
  return 0;
}

/* store/atomic.ts pidAlive: it exists (kill 0) and is no zombie */
static bool pid_alive(long pid) {
  if (pid <= 0 || pid > 0x7fffffff) return false;
  if (kill((pid_t)pid, 0) < 0 && errno != EPERM) return false;
  char st = 0;
  if (proc_stat(pid, &st, NULL, NULL) < 0) return true; /* no procfs to ask: trust kill(0) */
  return st != 'Z' && st != 'X';
}

bool ctr_is_monitor(long pid, const char *id) {
  if (!pid_alive(pid)) return false;
  char p[64];
  snprintf(p, sizeof p, "/proc/%ld/cmdline", pid);
  size_t len = 0;
  cleanup_free char *s = slurp_len(p, &len);
  /* the arguments are NUL-separated: look in each */
  for (size_t i = 0; s && i < len; i += strlen(s + i) + 1)
    if (strstr(s + i, id)) return true;
  return false;
}

static double mtime_ms(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  return (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1e6;
}

/* the process a file written at written_ms recorded: alive (pid_alive) and not started after the file
   was written; one reading of /proc/PID/stat for both (ps and the API's list ask this of every container) */
static bool recorded_alive(long pid, double written_ms) {
  if (pid <= 0 || pid > 0x7fffffff || written_ms < 0) return false;
  if (kill((pid_t)pid, 0) < 0 && errno != EPERM) return false;
  char st = 0;
  double start;
  if (proc_stat(pid, &st, NULL, &start) < 0) return true; /* no procfs to ask: trust kill(0) */
  return st != 'Z' && st != 'X' && start <= written_ms + 2000;
}

long ctr_live_pid(const char *dir) {
  char p[4200], s[32];
  if (snprintf(p, sizeof p, "%s/pid", dir) >= (int)sizeof p) return 0;
  if (read_small(p, s, sizeof s) <= 0) return 0;
  char *end;
  long pid = strtol(s, &end, 10);
  while (*end == '\n' || *end == ' ') end++;
  if (*end || end == s) return 0;
  return recorded_alive(pid, mtime_ms(p)) ? pid : 0;
}

static bool has_leaf(const char *path, const char *id) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  return !strcmp(b, id) || (!strncmp(b, "skiff-", 6) && !strcmp(b + 6, id));
}

/* A freeze whose holder is gone: `cp` names itself in freeze-holder before it freezes a running
   container and removes the file after it thaws it; a holder killed meanwhile (SIGKILL) left the
   container frozen. Whoever sees that thaws it (as a --rm container nobody removed is removed). */
static bool holder_gone(const char *dir) {
  char p[4200], s[32];
  if (snprintf(p, sizeof p, "%s/freeze-holder", dir) >= (int)sizeof p || read_small(p, s, sizeof s) <= 0) return false;
  char *end;
  long pid = strtol(s, &end, 10);
  return !recorded_alive(pid, mtime_ms(p));
}

static bool thaw_abandoned(const char *dir, const char *file, const char *value) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
  close(fd);
  if (!ok) return false;
  char p[4200];
  if (snprintf(p, sizeof p, "%s/freeze-holder", dir) < (int)sizeof p) unlink(p);
  return true;
}

/* cgroup.ts isFrozen(containerCgroups(pid, id)): the v2 group when the container has one, else v1
   freezer; a freeze whose holder is gone is undone first (holder_gone) */
static bool frozen(long pid, const char *id, const char *dir) {
  char p[64], f[4200];
  snprintf(p, sizeof p, "/proc/%ld/cgroup", pid);
  cleanup_free char *s = slurp(p);
  if (!s) return false;
  read_host();
  char v2[2048] = "", fr[2048] = "";
  for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || !has_leaf(c2 + 1, id)) continue;
    if (!strncmp(line, "0::", 3)) snprintf(v2, sizeof v2, "%s", c2 + 1);
    else {
      *c2 = 0;
      for (char *sv = NULL, *c = strtok_r(c1 + 1, ",", &sv); c; c = strtok_r(NULL, ",", &sv))
        if (!strcmp(c, "freezer")) snprintf(fr, sizeof fr, "%s", c2 + 1);
    }
  }
  char e[512];
  if (v2[0] && host.v2[0]) {
    snprintf(f, sizeof f, "%s%s/cgroup.events", host.v2, v2);
    bool is = read_small(f, e, sizeof e) > 0 && (strstr(e, "\nfrozen 1\n") || !strncmp(e, "frozen 1\n", 9));
    if (is && holder_gone(dir)) {
      snprintf(f, sizeof f, "%s%s/cgroup.freeze", host.v2, v2);
      if (thaw_abandoned(dir, f, "0")) return false;
    }
    return is;
  }
  if (fr[0] && host.freezer[0]) {
    snprintf(f, sizeof f, "%s%s/freezer.state", host.freezer, fr);
    bool is = read_small(f, e, sizeof e) > 0 && !strcmp(e, "FROZEN\n");
    if (is && holder_gone(dir) && thaw_abandoned(dir, f, "THAWED")) return false;
    return is;
  }
  return false;
}

/* ---- times ---- */

double ctr_parse_time(const char *s) {
  if (!s || !*s) return CTR_ZERO_MS;
  int y, mo, d, h, mi, sec, used = 0;
  if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) return CTR_ZERO_MS;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
  double ms = (double)timegm(&tm) * 1000.0;
  const char *p = s + used;
  if (*p == '.') {
    double scale = 100.0;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10) ms += (*p - '0') * scale;
  }
  return ms;
}

/* JS Date's toISOString of a time in ms: "2026-12-06T03:00:00.123Z" */
static void iso_ms(double ms, char *out, size_t len) {
  long long t = (long long)ms; /* Date truncates toward zero */
  long long sec = t / 1000, frac = t % 1000;
  if (frac < 0) frac += 1000, sec--;
  time_t ts = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&ts, &tm)) {
    out[0] = 0;
    return;
  }
  snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, frac);
}

void ctr_human_duration(double ms, char *out, size_t len) {
  long long seconds = (long long)(ms / 1000), minutes = (long long)(ms / 60000);
  long long hours = (long long)(ms / 3600000.0 + 0.5); /* time.Duration.Round(time.Hour) */
  if (seconds < 1) snprintf(out, len, "Less than a second");
  else if (seconds == 1) snprintf(out, len, "1 second");
  else if (seconds < 60) snprintf(out, len, "%lld seconds", seconds);
  else if (minutes == 1) snprintf(out, len, "About a minute");
  else if (minutes < 60) snprintf(out, len, "%lld minutes", minutes);
  else if (hours == 1) snprintf(out, len, "About an hour");
  else if (hours < 48) snprintf(out, len, "%lld hours", hours);
  else if (hours < 24 * 7 * 2) snprintf(out, len, "%lld days", hours / 24);
  else if (hours < 24 * 30 * 2) snprintf(out, len, "%lld weeks", hours / 24 / 7);
  else if (hours < 24 * 365 * 2) snprintf(out, len, "%lld months", hours / 24 / 30);
  else snprintf(out, len, "%lld years", (long long)(ms / 3600000) / 24 / 365);
}

/* ---- the rules ---- */

/* A file of the container: 1 read, 0 absent, -1 unreadable or not JSON (err says which). */
static int load(const char *dir, const char *name, size_t max, struct jf_doc *d, char *err, size_t errlen) {
  char p[4200];
  if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) return errno = ENAMETOOLONG, snprintf(err, errlen, "%s/%s: name too long", dir, name), -1;
  if (jf_load(p, max, d) == 0) return 1;
  if (errno == ENOENT) return 0;
  int e = errno;
  snprintf(err, errlen, "cannot read %s: %s", p, e == EINVAL ? "not a JSON object" : strerror(e));
  errno = e;
  return -1;
}

static void set_str(char *dst, size_t len, const char *src) { snprintf(dst, len, "%s", src ? src : ""); }

static void exited(struct ctr_state *s, const struct jf_doc *exit) {
  double code = -1;
  jf_num(exit, "exitCode", &code);
  s->status = CTR_EXITED;
  s->exit_code = (int)code;
  set_str(s->finished_at, sizeof s->finished_at, jf_str(exit, "finishedAt"));
  set_str(s->error, sizeof s->error, jf_str(exit, "error"));
  s->oom_killed = jf_true(exit, "oomKilled");
}

/* nobody recorded an exit: -1, and the pid file's time as the end */
static void lost(struct ctr_state *s, const char *dir, const char *why) {
  char p[4200];
  snprintf(p, sizeof p, "%s/pid", dir);
  double t = mtime_ms(p);
  s->status = CTR_EXITED;
  s->exit_code = -1;
  set_str(s->error, sizeof s->error, why);
  if (t >= 0) iso_ms(t, s->finished_at, sizeof s->finished_at);
  else s->finished_at[0] = 0;
}

static void running(struct ctr_state *s, const char *dir, const char *id, long pid) {
  s->status = pid && frozen(pid, id, dir) ? CTR_PAUSED : CTR_RUNNING;
  s->pid = pid;
}

/* Docker's Health: health.json, or "starting" before the monitor's first probe (a foreground run has
   no monitor, so nobody probes it: none). The file's text is kept as it is (Docker's Health object). */
static int health(struct ctr_state *s, const char *dir, char *err, size_t errlen) {
  char p[4200];
  snprintf(p, sizeof p, "%s/health.json", dir);
  cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 && errno == ENOENT) {
    if (!s->detached) return 0;
    s->has_health = true;
    set_str(s->health_status, sizeof s->health_status, "starting");
    return 0;
  }
  if (fd < 0 || fstat(fd, &st) < 0) return snprintf(err, errlen, "cannot read %s: %s", p, strerror(errno)), -1;
  if ((size_t)st.st_size > HEALTH_FILE) return snprintf(err, errlen, "cannot read %s: %s", p, strerror(EFBIG)), errno = EFBIG, -1;
  cleanup_free char *text = malloc((size_t)st.st_size + 1);
  if (!text || !(s->health_json = malloc((size_t)st.st_size + 1))) return snprintf(err, errlen, "out of memory"), errno = ENOMEM, -1;
  size_t n = 0;
  while (n < (size_t)st.st_size) {
    ssize_t r = read(fd, text + n, (size_t)st.st_size - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return snprintf(err, errlen, "cannot read %s: %s", p, strerror(errno)), -1;
    if (r == 0) break;
    n += (size_t)r;
  }
  text[n] = 0;
  memcpy(s->health_json, text, n + 1);
  struct jf_doc h;
  if (jf_parse(text, n, &h) < 0) return snprintf(err, errlen, "cannot read %s: not a JSON object", p), -1;
  take_ptr(&text); /* h owns it */
  s->has_health = true;
  set_str(s->health_status, sizeof s->health_status, jf_str(&h, "Status"));
  jf_free(&h);
  return 0;
}

/* exit.json read once more, after its writer (the monitor or shim) was seen gone: the first read came
   before that look, and the writer writes exit.json just before it exits, so an exit missing then may be
   there now; nothing writes it later. */
static int exit_again(const char *dir, struct jf_doc *exit, char *err, size_t errlen) {
  return load(dir, "exit.json", SMALL_FILE, exit, err, errlen);
}

int ctr_observe(const char *dir, const char *id, bool healthcheck, struct ctr_state *s, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->status = CTR_CREATED;
  err[0] = 0;
  struct jf_doc start = {0}, exit = {0}, mon = {0};
  int r = load(dir, "state.json", SMALL_FILE, &start, err, errlen);
  if (r <= 0) return r;
  int have_exit = load(dir, "exit.json", SMALL_FILE, &exit, err, errlen);
  if (have_exit < 0) return jf_free(&start), -1;
  set_str(s->started_at, sizeof s->started_at, jf_str(&start, "StartedAt"));
  s->detached = jf_true(&start, "Detached");
  double shim_pid = 0;
  bool has_shim = jf_num(&start, "ShimPid", &shim_pid);
  const char *boot = jf_str(&start, "BootId");
  read_host();
  bool owner_alive = false; /* the monitor or shim that records the exit (and removes a --rm container) */
  int have_mon = 0;
  if (!boot || strcmp(boot, host.boot_id)) {
    if (have_exit) exited(s, &exit);
    else lost(s, dir, REBOOTED);
  } else if ((have_mon = load(dir, "monitor.json", SMALL_FILE, &mon, err, errlen)) < 0) {
    jf_free(&start), jf_free(&exit);
    return -1;
  } else if (have_mon) {
    /* a monitor is recorded: it owns the container (restarts rewrite pid; exit.json is the last exit) */
    double mpid = 0, restarts = 0;
    jf_num(&mon, "monitorPid", &mpid);
    jf_num(&mon, "restartCount", &restarts);
    s->restart_count = (int)restarts;
    owner_alive = ctr_is_monitor((long)mpid, id);
    long pid;
    char ef[4200], pf[4200];
    snprintf(ef, sizeof ef, "%s/exit.json", dir);
    snprintf(pf, sizeof pf, "%s/pid", dir);
    if (!owner_alive) {
      if (!have_exit && (have_exit = exit_again(dir, &exit, err, errlen)) < 0) return jf_free(&start), jf_free(&exit), jf_free(&mon), -1;
      if (have_exit) exited(s, &exit);
      else lost(s, dir, MONITOR_LOST);
    } else if (jf_true(&mon, "restarting")) {
      s->status = CTR_RESTARTING;
      if (have_exit) { /* the last exit */
        exited(s, &exit);
        s->status = CTR_RESTARTING;
      }
    } else if ((pid = ctr_live_pid(dir))) {
      running(s, dir, id, pid);
    } else if (have_exit && mtime_ms(ef) >= 0 && (mtime_ms(pf) < 0 || mtime_ms(ef) >= mtime_ms(pf))) {
      exited(s, &exit);
    } else {
      /* between a (re)start and its pid file, or an exit and its exit file: the (live) monitor is on it */
      s->status = CTR_RUNNING;
    }
  } else {
    /* The shim that started the init monitors it (ShimPid: the CLI starting it, the shim it becomes, a
       detached one's monitor): an init without it is not managed, and while it lives a missing exit is
       still to be written. Older states lack ShimPid: then the init's parent must be a shim. */
    char sf[4200];
    snprintf(sf, sizeof sf, "%s/state.json", dir);
    int shim = has_shim ? recorded_alive((long)shim_pid, mtime_ms(sf)) : -1;
    owner_alive = shim == 1;
    long pid, ppid = 0;
    if (have_exit) exited(s, &exit);
    else if ((pid = ctr_live_pid(dir))) {
      bool managed = shim >= 0 ? shim == 1 : proc_stat(pid, NULL, &ppid, NULL) == 0 && ctr_is_monitor(ppid, id);
      if (managed) running(s, dir, id, pid);
      else lost(s, dir, MONITOR_LOST);
    } else if (shim == 1) {
      s->status = CTR_RUNNING;
    } else if ((have_exit = exit_again(dir, &exit, err, errlen)) < 0) {
      return jf_free(&start), jf_free(&exit), -1;
    } else if (have_exit) {
      exited(s, &exit);
    } else {
      lost(s, dir, MONITOR_LOST);
    }
  }
  jf_free(&start), jf_free(&exit), jf_free(&mon);
  s->abandoned = s->status == CTR_EXITED && !owner_alive && !ctr_live_pid(dir);
  if (healthcheck && health(s, dir, err, errlen) < 0) return ctr_state_free(s), -1;
  return 0;
}

void ctr_state_free(struct ctr_state *s) {
  free(s->health_json);
  s->health_json = NULL;
}

void ctr_status_text(const struct ctr_state *s, double now_ms, char *out, size_t len) {
  char d[64];
  double finished = ctr_parse_time(s->finished_at);
  switch (s->status) {
    case CTR_CREATED: snprintf(out, len, "Created"); return;
    case CTR_RESTARTING:
    case CTR_EXITED: {
      const char *word = s->status == CTR_EXITED ? "Exited" : "Restarting";
      if (finished == CTR_ZERO_MS) {
        snprintf(out, len, "%s (%d)", word, s->exit_code);
        return;
      }
      ctr_human_duration(now_ms - finished, d, sizeof d);
      snprintf(out, len, "%s (%d) %s ago", word, s->exit_code, d);
      return;
    }
    case CTR_PAUSED:
    case CTR_RUNNING: break;
  }
  ctr_human_duration(now_ms - ctr_parse_time(s->started_at), d, sizeof d);
  if (s->status == CTR_PAUSED) snprintf(out, len, "Up %s (Paused)", d);
  else if (!s->has_health) snprintf(out, len, "Up %s", d);
  else if (!strcmp(s->health_status, "starting")) snprintf(out, len, "Up %s (health: starting)", d);
  else snprintf(out, len, "Up %s (%s)", d, s->health_status);
}
