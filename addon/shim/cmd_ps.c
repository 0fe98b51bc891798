/*
 * `skiff-shim ps [-a] [-q] [--no-trunc] [-l]`: the fast path of `skiff ps` for its default table
 * (bin/skiff sends plain `ps` invocations here; --format, --filter, -n go to the CLI). Node's
 * start-up alone costs more than podman's whole `ps`, so the common listing is native.
 * It derives each container's state exactly as src/container/state.ts does (the same files, the
 * same order of checks) and prints Docker's table as src/cli/output/table.ts does; the e2e test
 * compares both on the same store. Read-only: it takes no lock (every file appears by rename).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

#define ZERO_MS (-62135596800000.0) /* 0001-01-01T00:00:00Z */

static double now_ms;
static char boot_id[64];
static double boot_ms;
static char v2_mount[512], freezer_mount[512];

static char *slurp(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = xcalloc(cap + 1, 1);
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == cap) {
      cap *= 2;
      char *b = realloc(buf, cap + 1);
      if (!b) break;
      buf = b;
    }
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

static json_t *load(const char *dir, const char *file) {
  char p[4200];
  if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) return NULL;
  return json_load_file(p, 0, NULL);
}

/* RFC 3339 (JS toISOString or Go RFC3339Nano) → ms since the epoch; NAN-ish ZERO_MS on failure. */
static double parse_time(const char *s) {
  if (!s) return ZERO_MS;
  int y, mo, d, h, mi, sec, used = 0;
  if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) return ZERO_MS;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
  double ms = (double)timegm(&tm) * 1000.0;
  const char *p = s + used;
  if (*p == '.') {
    double scale = 100.0;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10) ms += (*p - '0') * scale;
  }
  return ms;
}

static double mtime_ms(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  return (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1e6;
}

/* /proc/PID/stat after the comm: state, ppid, ..., starttime (20th). */
static int proc_stat(long pid, char *state, long *ppid, double *start) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  char *s = slurp(p, NULL);
  if (!s) return -1;
  char *r = strrchr(s, ')');
  int ok = -1;
  if (r && r[1] == ' ') {
    char st = r[2];
    char *f = r + 2;
    long long v[21] = {0};
    for (int i = 0; i < 21 && f; i++) {
      v[i] = i == 0 ? 0 : strtoll(f, NULL, 10);
      f = strchr(f, ' ');
      if (f) f++;
    }
    if (state) *state = st;
    if (ppid) *ppid = (long)v[1];
    if (start) *start = boot_ms + (double)v[19] * 10.0;
    ok = 0;
  }
  free(s);
  return ok;
}

static bool pid_alive(long pid) {
  if (pid <= 0) return false;
  if (kill((pid_t)pid, 0) < 0 && errno != EPERM) return false;
  char st = 0;
  if (proc_stat(pid, &st, NULL, NULL) < 0) return true;
  return st != 'Z' && st != 'X';
}

/* state.ts isMonitor: alive, and its command line names the container (a reused pid does not) */
static bool is_monitor(long pid, const char *id) {
  if (!pid_alive(pid)) return false;
  char p[64];
  snprintf(p, sizeof p, "/proc/%ld/cmdline", pid);
  size_t len = 0;
  char *s = slurp(p, &len);
  bool r = false;
  for (size_t i = 0; s && i < len; i += strlen(s + i) + 1)
    if (strstr(s + i, id)) r = true;
  free(s);
  return r;
}

/* state.ts recordedProcessAlive: alive, and not started after the file naming it was written */
static bool recorded_alive(long pid, double written) {
  if (pid <= 0 || written < 0 || !pid_alive(pid)) return false;
  double start;
  return !(proc_stat(pid, NULL, NULL, &start) == 0 && start > written + 2000);
}

/* state.ts livePid */
static long live_pid(const char *dir) {
  char p[4200];
  if (snprintf(p, sizeof p, "%s/pid", dir) >= (int)sizeof p) return 0;
  char *s = slurp(p, NULL);
  if (!s) return 0;
  long pid = strtol(s, NULL, 10);
  free(s);
  return recorded_alive(pid, mtime_ms(p)) ? pid : 0;
}

static bool has_leaf(const char *path, const char *id) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  return !strcmp(b, id) || (!strncmp(b, "skiff-", 6) && !strcmp(b + 6, id));
}

/* cgroup.ts isFrozen(containerCgroups(pid, id)): the v2 group if the container has one, else v1 freezer */
static bool frozen(long pid, const char *id) {
  char p[64], f[4200];
  snprintf(p, sizeof p, "/proc/%ld/cgroup", pid);
  char *s = slurp(p, NULL);
  if (!s) return false;
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
  free(s);
  bool r = false;
  if (v2[0] && v2_mount[0]) {
    snprintf(f, sizeof f, "%s%s/cgroup.events", v2_mount, v2);
    char *e = slurp(f, NULL);
    r = e && (strstr(e, "\nfrozen 1\n") || !strncmp(e, "frozen 1\n", 9));
    free(e);
  } else if (fr[0] && freezer_mount[0]) {
    snprintf(f, sizeof f, "%s%s/freezer.state", freezer_mount, fr);
    char *e = slurp(f, NULL);
    r = e && !strcmp(e, "FROZEN\n");
    free(e);
  }
  return r;
}

static void read_mounts(void) {
  char *s = slurp("/proc/self/mountinfo", NULL);
  if (!s) return;
  for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *sep = strstr(line, " - ");
    if (!sep) continue;
    char root[256], mnt[512];
    if (sscanf(line, "%*s %*s %*s %255s %511s", root, mnt) != 2 || strcmp(root, "/")) continue;
    if (!strncmp(sep, " - cgroup2 ", 11) && !v2_mount[0]) snprintf(v2_mount, sizeof v2_mount, "%s", mnt);
    else if (!strncmp(sep, " - cgroup ", 10) && !freezer_mount[0]) {
      char *opts = strrchr(sep, ' ');
      if (opts && (strstr(opts, ",freezer") || strstr(opts, " freezer"))) snprintf(freezer_mount, sizeof freezer_mount, "%s", mnt);
    }
  }
  free(s);
}

/* go-units HumanDuration (units.ts humanDuration) */
static void human_duration(double ms, char *out, size_t len) {
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

struct row {
  char *created; /* ISO, for sorting */
  char *cells[7];
  bool running;
  char id[65];
};

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  if (!s) {
    fputs("Error: out of memory\n", stderr);
    exit(EXIT_SHIM);
  }
  return s;
}

static const char *jstr(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

/* state.ts containerState → the STATUS text (statusText) and whether it runs; *abandoned: state.ts
   isAbandoned (without its check for a process still starting it: the CLI makes that) */
static char *status_of(const char *dir, const char *id, json_t *rec, bool *running, bool *abandoned) {
  char a[64], b[64];
  *running = false;
  *abandoned = false;
  json_t *start = load(dir, "state.json");
  if (!start) return xprintf("Created");
  char statefile[4200];
  if (snprintf(statefile, sizeof statefile, "%s/state.json", dir) >= (int)sizeof statefile) {
    json_decref(start);
    return xprintf("Unknown");
  }
  double started = parse_time(jstr(start, "StartedAt"));
  bool other_boot = strcmp(jstr(start, "BootId"), boot_id) != 0;
  json_t *shimv = json_object_get(start, "ShimPid");
  long shim = json_is_integer(shimv) ? (long)json_integer_value(shimv) : 0;
  bool detached = json_is_true(json_object_get(start, "Detached"));
  json_decref(start);
  int code = -1;
  double finished = ZERO_MS;
  char pidfile[4200], exitfile[4200];
  if (snprintf(pidfile, sizeof pidfile, "%s/pid", dir) >= (int)sizeof pidfile ||
      snprintf(exitfile, sizeof exitfile, "%s/exit.json", dir) >= (int)sizeof exitfile)
    return xprintf("Unknown");
  json_t *exit_json = load(dir, "exit.json");
  const bool exit = exit_json != NULL; /* an exit is recorded (the json itself is freed below) */
  if (exit_json) {
    code = (int)json_integer_value(json_object_get(exit_json, "exitCode"));
    finished = parse_time(jstr(exit_json, "finishedAt"));
    json_decref(exit_json);
  }
  enum { EXITED, LOST, RUNNING, RESTARTING } kind;
  long pid = 0;
  bool owner_alive = false; /* the monitor or shim that records the exit and removes a --rm container */
  json_t *mon = other_boot ? NULL : load(dir, "monitor.json");
  if (other_boot) kind = exit ? EXITED : LOST;
  else if (mon) {
    long mpid = (long)json_integer_value(json_object_get(mon, "monitorPid"));
    bool restarting = json_is_true(json_object_get(mon, "restarting"));
    json_decref(mon);
    owner_alive = is_monitor(mpid, id);
    if (!owner_alive) kind = exit ? EXITED : LOST;
    else if (restarting) kind = RESTARTING;
    else if ((pid = live_pid(dir))) kind = RUNNING;
    else if (exit && mtime_ms(exitfile) >= 0 && (mtime_ms(pidfile) < 0 || mtime_ms(exitfile) >= mtime_ms(pidfile))) kind = EXITED;
    else kind = RUNNING;
  } else {
    /* the shim monitors the init (state.json ShimPid: the CLI starting it, the shim it becomes, a
       detached one's monitor; older states: the init's parent) */
    int shim_alive = shim > 0 ? recorded_alive(shim, mtime_ms(statefile)) : -1;
    owner_alive = shim_alive == 1;
    if (exit) kind = EXITED;
    else if ((pid = live_pid(dir))) {
      long ppid = 0;
      bool managed = shim_alive >= 0 ? shim_alive == 1 : proc_stat(pid, NULL, &ppid, NULL) == 0 && is_monitor(ppid, id);
      kind = managed ? RUNNING : LOST;
    } else if (shim_alive == 1) kind = RUNNING;
    else kind = LOST;
  }
  json_t *hostcfg = json_object_get(rec, "HostConfig");
  *abandoned = json_is_true(json_object_get(hostcfg, "AutoRemove")) && (kind == EXITED || kind == LOST) && !owner_alive &&
               !live_pid(dir);
  if (kind == LOST) {
    code = -1;
    finished = mtime_ms(pidfile) >= 0 ? mtime_ms(pidfile) : ZERO_MS;
  }
  if (kind == RESTARTING) {
    *running = true;
    if (!exit) code = 0;
    if (finished == ZERO_MS) return xprintf("Restarting (%d)", code);
    human_duration(now_ms - finished, b, sizeof b);
    return xprintf("Restarting (%d) %s ago", code, b);
  }
  if (kind == EXITED || kind == LOST) {
    if (finished == ZERO_MS) return xprintf("Exited (%d)", code);
    human_duration(now_ms - finished, b, sizeof b);
    return xprintf("Exited (%d) %s ago", code, b);
  }
  *running = true;
  human_duration(now_ms - started, a, sizeof a);
  if (pid && frozen(pid, id)) return xprintf("Up %s (Paused)", a);
  json_t *hc = json_object_get(json_object_get(rec, "Config"), "Healthcheck");
  json_t *test = json_object_get(hc, "Test");
  if (json_is_array(test) && json_array_size(test) && strcmp(json_string_value(json_array_get(test, 0)) ?: "", "NONE")) {
    /* no health.json yet: "starting" when a monitor runs the probes (detached), else no health at all */
    json_t *h = load(dir, "health.json");
    if (!h && !detached) return xprintf("Up %s", a);
    const char *hs = h ? jstr(h, "Status") : "starting";
    char *r = !strcmp(hs, "starting") ? xprintf("Up %s (health: starting)", a) : xprintf("Up %s (%s)", a, hs);
    json_decref(h);
    return r;
  }
  return xprintf("Up %s", a);
}

static size_t runes(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static int by_created_desc(const void *a, const void *b) {
  return strcmp(((const struct row *)b)->created, ((const struct row *)a)->created);
}

/* `skiff ps` through the CLI (bin/skiff next to our dist/, or the single executable that started us:
   _SKIFF_EXE), which removes --rm containers whose shim or monitor was killed (lifecycle.ts
   reapAbandoned); rare, so their removal lives there only. */
static int hand_over(int argc, char **argv) {
  char launcher[4200];
  const char *self = getenv("_SKIFF_EXE");
  if (self && *self) {
    snprintf(launcher, sizeof launcher, "%s", self);
  } else {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return fail("readlink /proc/self/exe"), print_failure();
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return failx("no directory in %s", exe), print_failure();
    *slash = 0;
    snprintf(launcher, sizeof launcher, "%s/../bin/skiff", exe);
  }
  char **args = xcalloc((size_t)argc + 3, sizeof *args);
  args[0] = "skiff";
  args[1] = "ps";
  for (int i = 0; i < argc; i++) args[i + 2] = argv[i];
  if (setenv("SKIFF_PS_NODE", "1", 1) < 0) return fail("setenv"), print_failure();
  fflush(stdout);
  execv(launcher, args);
  fail("exec %s", launcher);
  return print_failure();
}

static const char *store_root(void) {
  const char *r = getenv("SKIFF_ROOT");
  if (r && *r) return r;
  const char *in_userns = getenv("_SKIFF_IN_USERNS");
  if (getuid() == 0 && !(in_userns && !strcmp(in_userns, "1"))) return "/var/lib/skiff";
  const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
  if (xdg && *xdg) return xprintf("%s/skiff", xdg);
  return home && *home ? xprintf("%s/.local/share/skiff", home) : NULL;
}

int cmd_ps(int argc, char **argv) {
  bool all = false, quiet = false, notrunc = false, latest = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--all")) all = true;
    else if (!strcmp(a, "--quiet")) quiet = true;
    else if (!strcmp(a, "--no-trunc")) notrunc = true;
    else if (!strcmp(a, "--latest")) latest = true;
    else if (a[0] == '-' && a[1] && a[1] != '-') {
      for (const char *c = a + 1; *c; c++) {
        if (*c == 'a') all = true;
        else if (*c == 'q') quiet = true;
        else if (*c == 'l') latest = true;
        else return failx("ps: unknown flag -%c (the CLI handles it)", *c), print_failure();
      }
    } else return failx("ps: unknown argument %s (the CLI handles it)", a), print_failure();
  }
  const char *root = store_root();
  if (!root) return failx("ps: cannot find the store (HOME is not set)"), print_failure();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  now_ms = (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
  char *b = slurp("/proc/sys/kernel/random/boot_id", NULL);
  if (b) snprintf(boot_id, sizeof boot_id, "%.*s", (int)strcspn(b, "\n"), b);
  free(b);
  char *st = slurp("/proc/stat", NULL);
  char *bt = st ? strstr(st, "\nbtime ") : NULL;
  boot_ms = bt ? (double)strtoll(bt + 7, NULL, 10) * 1000.0 : 0;
  free(st);
  read_mounts();

  char cdir[4096];
  snprintf(cdir, sizeof cdir, "%s/containers", root);
  DIR *d = opendir(cdir);
  struct row *rows = NULL;
  size_t n = 0, cap = 0;
  if (d) {
    for (struct dirent *e; (e = readdir(d));) {
      if (strlen(e->d_name) != 64 || strspn(e->d_name, "0123456789abcdef") != 64) continue;
      char dir[4200];
      if (snprintf(dir, sizeof dir, "%s/%s", cdir, e->d_name) >= (int)sizeof dir) continue;
      json_t *rec = load(dir, "config.json");
      if (!rec) continue; /* being removed */
      if (n == cap) {
        cap = cap ? cap * 2 : 32;
        rows = realloc(rows, cap * sizeof *rows);
        if (!rows) return failx("out of memory"), print_failure();
      }
      struct row *r = &rows[n++];
      memset(r, 0, sizeof *r);
      snprintf(r->id, sizeof r->id, "%s", e->d_name);
      r->created = xstrdup(jstr(rec, "Created"));
      bool abandoned;
      r->cells[4] = status_of(dir, r->id, rec, &r->running, &abandoned);
      if (abandoned) return hand_over(argc, argv); /* a --rm container nobody removed: the CLI removes it */
      r->cells[0] = notrunc ? xstrdup(r->id) : xprintf("%.12s", r->id);
      r->cells[1] = xstrdup(jstr(rec, "ImageName"));
      size_t clen = strlen(jstr(rec, "Path")) + 1;
      json_t *args = json_object_get(rec, "Args"), *v;
      size_t i;
      json_array_foreach(args, i, v) clen += strlen(json_string_value(v) ?: "") + 1;
      char *cmd = xcalloc(clen + 1, 1);
      strcpy(cmd, jstr(rec, "Path"));
      json_array_foreach(args, i, v) {
        strcat(cmd, " ");
        strcat(cmd, json_string_value(v) ?: "");
      }
      /* JS: s.length > 20 → first 19 UTF-16 units + "…" (ASCII commands: bytes) */
      if (!notrunc && runes(cmd) > 20) {
        size_t keep = 0, seen = 0;
        while (cmd[keep] && seen < 19) {
          keep++;
          while (((unsigned char)cmd[keep] & 0xC0) == 0x80) keep++;
          seen++;
        }
        r->cells[2] = xprintf("\"%.*s\xe2\x80\xa6\"", (int)keep, cmd);
      } else r->cells[2] = xprintf("\"%s\"", cmd);
      free(cmd);
      char ago[64];
      human_duration(now_ms - parse_time(r->created), ago, sizeof ago);
      r->cells[3] = parse_time(r->created) == ZERO_MS ? xstrdup("N/A") : xprintf("%s ago", ago);
      r->cells[5] = xstrdup("");
      r->cells[6] = xstrdup(jstr(rec, "Name"));
      json_decref(rec);
    }
    closedir(d);
  }
  qsort(rows, n, sizeof *rows, by_created_desc);
  size_t shown = 0;
  struct row **out = xcalloc(n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++) {
    if (latest && shown >= 1) break;
    if (!all && !latest && !rows[i].running) continue;
    out[shown++] = &rows[i];
  }
  if (quiet) {
    for (size_t i = 0; i < shown; i++) printf("%s\n", out[i]->cells[0]);
    return fflush(stdout) == 0 ? 0 : EXIT_SHIM;
  }
  static const char *const HEAD[7] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"};
  size_t w[7];
  for (int c = 0; c < 7; c++) {
    w[c] = runes(HEAD[c]) + 3;
    for (size_t i = 0; i < shown; i++)
      if (runes(out[i]->cells[c]) + 3 > w[c]) w[c] = runes(out[i]->cells[c]) + 3;
    if (w[c] < 10) w[c] = 10;
  }
  for (size_t i = 0; i <= shown; i++) {
    for (int c = 0; c < 7; c++) {
      const char *cell = i == 0 ? HEAD[c] : out[i - 1]->cells[c];
      fputs(cell, stdout);
      if (c < 6)
        for (size_t k = runes(cell); k < w[c]; k++) putchar(' ');
    }
    putchar('\n');
  }
  return fflush(stdout) == 0 ? 0 : EXIT_SHIM;
}
