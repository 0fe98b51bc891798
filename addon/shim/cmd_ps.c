/*
 * `skiff-shim ps [-a] [-q] [--no-trunc] [-l]`: the fast path of `skiff ps` for its default table
 * (bin/skiff sends plain `ps` invocations here; --format, --filter, -n go to the CLI, and so does a
 * listing when the client config has a psFormat). Node's
 * start-up alone costs more than podman's whole `ps`, so the common listing is native.
 * Each container's state and STATUS come from addon/common/state.c, the one derivation the CLI uses
 * too (skiff_native's observe); the table is printed as src/cli/output/table.ts does, and the e2e
 * test compares both on the same store. Read-only: it takes no lock (every file appears by rename).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../common/state.h"
#include "shim.h"

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

/* containers.ts activeHealthcheck: a health check the monitor probes with (none: absent, NONE, CMD alone) */
static bool health_active(json_t *rec) {
  json_t *t = json_object_get(json_object_get(json_object_get(rec, "Config"), "Healthcheck"), "Test");
  const char *first = json_string_value(json_array_get(t, 0));
  if (!json_is_array(t) || !json_array_size(t) || (first && !strcmp(first, "NONE"))) return false;
  return !(first && !strcmp(first, "CMD") && json_array_size(t) == 1);
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
   reapAbandoned) and reports files it cannot read; rare, so that lives there only. Returns only on
   failure. */
static int hand_over(int argc, char **argv) {
  char launcher[4200];
  const char *self = getenv("_SKIFF_EXE");
  if (self && *self) {
    snprintf(launcher, sizeof launcher, "%s", self);
  } else {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return fail("readlink /proc/self/exe");
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return failx("no directory in %s", exe);
    *slash = 0;
    snprintf(launcher, sizeof launcher, "%s/../bin/skiff", exe);
  }
  cleanup_free char **args = xcalloc((size_t)argc + 3, sizeof *args);
  args[0] = "skiff";
  args[1] = "ps";
  for (int i = 0; i < argc; i++) args[i + 2] = argv[i];
  if (setenv("SKIFF_PS_NODE", "1", 1) < 0) return fail("setenv");
  fflush(stdout);
  execv(launcher, args);
  return fail("exec %s", launcher);
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

/* "Path Args..." in quotes; past 20 characters (JS: UTF-16 units; ASCII commands: bytes) the first
   19 and "…", as table.ts. */
static char *command_cell(json_t *rec, bool notrunc) {
  size_t clen = strlen(jstr(rec, "Path")) + 1;
  json_t *args = json_object_get(rec, "Args"), *v;
  size_t i;
  json_array_foreach(args, i, v) clen += strlen(json_string_value(v) ?: "") + 1;
  cleanup_free char *cmd = xcalloc(clen + 1, 1);
  strcpy(cmd, jstr(rec, "Path"));
  json_array_foreach(args, i, v) {
    strcat(cmd, " ");
    strcat(cmd, json_string_value(v) ?: "");
  }
  if (notrunc || runes(cmd) <= 20) return xprintf("\"%s\"", cmd);
  size_t keep = 0, seen = 0;
  while (cmd[keep] && seen < 19) {
    keep++;
    while (((unsigned char)cmd[keep] & 0xC0) == 0x80) keep++;
    seen++;
  }
  return xprintf("\"%.*s\xe2\x80\xa6\"", (int)keep, cmd);
}

#define HAND_OVER 1

/* The row of the container in dir (the record rec): 0, or HAND_OVER (the CLI must do this listing). */
static int make_row(struct row *r, const char *dir, const char *id, json_t *rec, bool notrunc, double now_ms) {
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  struct ctr_state st;
  char why[1100], status[160];
  if (ctr_observe(dir, id, health_active(rec), &st, why, sizeof why) < 0) return HAND_OVER; /* it reports the file */
  ctr_state_free(&st);
  if (st.abandoned && json_is_true(json_object_get(json_object_get(rec, "HostConfig"), "AutoRemove"))) return HAND_OVER;
  ctr_status_text(&st, now_ms, status, sizeof status);
  r->running = st.status == CTR_RUNNING || st.status == CTR_PAUSED || st.status == CTR_RESTARTING;
  /* a running container with ports (published or exposed): the CLI's PORTS column (container/network.ts) */
  if (r->running && (json_object_size(json_object_get(json_object_get(rec, "HostConfig"), "PortBindings")) ||
                     json_object_size(json_object_get(json_object_get(rec, "Config"), "ExposedPorts"))))
    return HAND_OVER;
  r->created = xstrdup(jstr(rec, "Created"));
  char ago[64];
  ctr_human_duration(now_ms - ctr_parse_time(r->created), ago, sizeof ago);
  r->cells[0] = notrunc ? xstrdup(r->id) : xprintf("%.12s", r->id);
  r->cells[1] = xstrdup(jstr(rec, "ImageName"));
  r->cells[2] = command_cell(rec, notrunc);
  r->cells[3] = ctr_parse_time(r->created) == CTR_ZERO_MS ? xstrdup("N/A") : xprintf("%s ago", ago);
  r->cells[4] = xstrdup(status);
  r->cells[5] = xstrdup("");
  r->cells[6] = xstrdup(jstr(rec, "Name"));
  return 0;
}

static void print_table(struct row **out, size_t shown) {
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
}

/* 0 printed, HAND_OVER, or -1 (failure recorded). The rows live until the process exits. */
static int ps(bool all, bool quiet, bool notrunc, bool latest) {
  const char *root = store_root();
  if (!root) return failx("ps: cannot find the store (HOME is not set)");
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double now_ms = (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
  char cdir[4096];
  snprintf(cdir, sizeof cdir, "%s/containers", root);
  struct row *rows = NULL;
  size_t n = 0, cap = 0;
  cleanup_dir DIR *d = opendir(cdir);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (strlen(e->d_name) != 64 || strspn(e->d_name, "0123456789abcdef") != 64) continue;
    char dir[4200], file[4300];
    if (snprintf(dir, sizeof dir, "%s/%s", cdir, e->d_name) >= (int)sizeof dir) continue;
    snprintf(file, sizeof file, "%s/config.json", dir);
    cleanup_json json_t *rec = json_load_file(file, 0, NULL);
    if (!rec) continue; /* being removed */
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      if (!(rows = realloc(rows, cap * sizeof *rows))) return failx("out of memory");
    }
    if (make_row(&rows[n++], dir, e->d_name, rec, notrunc, now_ms) == HAND_OVER) return HAND_OVER;
  }
  if (n) qsort(rows, n, sizeof *rows, by_created_desc);
  size_t shown = 0;
  struct row **out = xcalloc(n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++) {
    if (latest && shown >= 1) break;
    if (!all && !latest && !rows[i].running) continue;
    out[shown++] = &rows[i];
  }
  if (quiet)
    for (size_t i = 0; i < shown; i++) printf("%s\n", out[i]->cells[0]);
  else
    print_table(out, shown);
  return fflush(stdout) == 0 ? 0 : fail("write the listing");
}

/* Whether the client config (config.json in $DOCKER_CONFIG, else ~/.docker) names a psFormat: then the
   CLI prints the listing (it reads the JSON; a mere mention of the key is enough to hand over). */
static bool config_has_ps_format(void) {
  const char *dir = getenv("DOCKER_CONFIG");
  const char *home = getenv("HOME");
  char file[4200];
  if (dir && *dir) snprintf(file, sizeof file, "%s/config.json", dir);
  else if (home && *home) snprintf(file, sizeof file, "%s/.docker/config.json", home);
  else return false;
  FILE *f = fopen(file, "re");
  if (!f) return false; /* none (or unreadable: the CLI would ignore it too) */
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  bool big = n == sizeof buf - 1;
  fclose(f);
  buf[n] = 0;
  return big || strstr(buf, "\"psFormat\"") != NULL;
}

int cmd_ps(int argc, char **argv) {
  bool all = false, quiet = false, notrunc = false, latest = false;
  int r = 0;
  for (int i = 0; i < argc && r == 0; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--all")) all = true;
    else if (!strcmp(a, "--quiet")) quiet = true;
    else if (!strcmp(a, "--no-trunc")) notrunc = true;
    else if (!strcmp(a, "--latest")) latest = true;
    else if (a[0] == '-' && a[1] && a[1] != '-') {
      for (const char *c = a + 1; *c && r == 0; c++) {
        if (*c == 'a') all = true;
        else if (*c == 'q') quiet = true;
        else if (*c == 'l') latest = true;
        else r = failx("ps: unknown flag -%c (the CLI handles it)", *c);
      }
    } else r = failx("ps: unknown argument %s (the CLI handles it)", a);
  }
  if (r == 0) r = !quiet && config_has_ps_format() ? HAND_OVER : ps(all, quiet, notrunc, latest);
  if (r == HAND_OVER) r = hand_over(argc, argv);
  return r < 0 ? print_failure() : 0;
}
