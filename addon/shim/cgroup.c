/*
 * The container's cgroups. The CLI computes the dirs (skiff.cgroups: absolute paths, one per v1
 * hierarchy and/or the v2 one; src/container/cgroup.ts owns the layout), the shim only creates
 * them, applies the device policy there (devices.c), all before the init exists; the init is cloned
 * into the v2 group (CLONE_INTO_CGROUP) and moves itself into the v1 ones, or (a new user namespace:
 * it may not write the host's files) the shim moves it after the id maps; always before MSG_GO, so the
 * child unshares its cgroup namespace inside them. The shim removes them once the container is gone.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

static void enable_v2_controllers(const char *dir);
static int make_below(const char *dir, bool enable);

/* mkdir -p for a group's parents (`--cgroup-parent /a/b`), each given its parent's v2 controllers
   top down, so the container's group can have them. */
static int make_parents(const char *dir) {
  if (mkdir(dir, 0755) == 0) {
    enable_v2_controllers(dir);
    return 0;
  }
  return errno == EEXIST ? 0 : make_below(dir, true);
}

/* `dir` after its missing parents (errno ENOENT from its mkdir), given its parent's v2 controllers if `enable`. */
static int make_below(const char *dir, bool enable) {
  if (errno != ENOENT) return fail("create cgroup %s", dir);
  char parent[4096];
  if (snprintf(parent, sizeof parent, "%s", dir) >= (int)sizeof parent) return failx("cgroup path too long: %s", dir);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent) return fail("create cgroup %s", dir);
  *slash = 0;
  if (make_parents(parent) < 0) return -1;
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) return fail("create cgroup %s", dir);
  if (enable) enable_v2_controllers(dir);
  return 0;
}

/* mkdir -p of a container's group (".../skiff/<id>", or under --cgroup-parent). A group left
   by a shim that was killed is made anew when it is empty (no device program of its last start
   stays attached); one that still holds processes is used as it is. */
static int make_dir(const char *dir) {
  if (mkdir(dir, 0755) == 0) return 0;
  if (errno == EEXIST) {
    if (rmdir(dir) == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST) return fail("create cgroup %s", dir);
    return 0;
  }
  return make_below(dir, false); /* the caller enables its controllers */
}

/* A small kernel file into buf (NUL-terminated): its length, or -1 (errno set). */
static ssize_t read_small(const char *file, char *buf, size_t cap) {
  cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n;
  do n = read(fd, buf, cap - 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

/* cgroup v2: let the new group have the controllers its parent has. Only those the parent's
   subtree_control lacks are asked for (after the first container: none, so no write and no cgroup
   lock), one per write (a write of several fails whole when one cannot be enabled). Best effort: a
   parent holding processes, e.g. a rootless user's own group, cannot enable any (EBUSY: the rest
   are not tried), and the group then has fewer counters. */
static void enable_v2_controllers(const char *dir) {
  char parent[4096], file[4200], have[512], on[512];
  if (snprintf(parent, sizeof parent, "%s", dir) >= (int)sizeof parent) return;
  char *slash = strrchr(parent, '/');
  if (!slash) return;
  *slash = 0;
  snprintf(file, sizeof file, "%s/cgroup.controllers", parent);
  if (read_small(file, have, sizeof have) <= 0) return; /* a v1 hierarchy */
  snprintf(file, sizeof file, "%s/cgroup.subtree_control", parent);
  if (read_small(file, on, sizeof on) < 0) return;
  for (char *save = NULL, *c = strtok_r(have, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
    size_t cl = strlen(c);
    bool enabled = false;
    for (const char *hit = on; !enabled && (hit = strstr(hit, c)); hit += cl)
      enabled = (hit == on || hit[-1] == ' ') && (hit[cl] == ' ' || hit[cl] == '\n' || hit[cl] == 0);
    if (enabled) continue;
    char req[64];
    int len = snprintf(req, sizeof req, "+%s", c);
    if (len <= 0 || len >= (int)sizeof req) continue;
    cleanup_close int w = open(file, O_WRONLY | O_CLOEXEC);
    if (w < 0) return;
    if (write(w, req, (size_t)len) < 0 && errno == EBUSY) return; /* the parent holds processes: no controller can be enabled */
  }
}

/* Rootful, the device policy must land somewhere: in a v1 devices group or the v2 group. The limits
   (skiff.cgroupWrites) are written once every group exists (a v1 cpuset parent needs its cpus first).
   All before the container's init is in any of them. */
int cgroup_prepare(const struct container *c) {
  bool confine = c->ndev_rules && !shim_rootless(), confined = false;
  for (size_t i = 0; i < c->ncgroups; i++) {
    if (make_dir(c->cgroups[i]) < 0) return -1;
    enable_v2_controllers(c->cgroups[i]);
  }
  for (size_t i = 0; i < c->ncgroup_writes; i++) {
    const char *file = c->cgroup_writes[2 * i], *value = c->cgroup_writes[2 * i + 1];
    if (write_file_at(AT_FDCWD, file, value, strlen(value)) < 0) return fail("set the container's limit: write %s to %s", value, file);
  }
  for (size_t i = 0; confine && i < c->ncgroups; i++) {
    const char *dir = c->cgroups[i];
    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail("open cgroup %s", dir);
    int r = devices_apply(fd, dir, c->dev_rules, c->ndev_rules);
    if (r < 0) return -1;
    if (r > 0) confined = true;
  }
  if (confine && !confined)
    return failx("no cgroup to apply the container's device policy in: skiff.cgroups holds neither a v1 devices cgroup nor a cgroup v2 group");
  return 0;
}

int cgroup_v2_fd(const struct container *c, size_t *index) {
  for (size_t i = 0; i < c->ncgroups; i++) {
    int fd = open(c->cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail("open cgroup %s", c->cgroups[i]);
    struct statfs st;
    if (fstatfs(fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return *index = i, fd;
    close(fd);
  }
  return -2;
}

/*
 * Into one group: the parent moves the init by its pid (`cgroup.procs`), which takes the kernel's
 * global threadgroup lock for writing (the first such write in a while waits for an RCU grace period,
 * ~10 ms). The init itself (pid 0: `tasks`, v1) moves only its own thread, which the kernel does
 * without that lock; it is single-threaded, so that moves the whole process.
 */
int cgroup_move(const char *dir, pid_t pid) {
  char buf[24], file[4200];
  int len = snprintf(buf, sizeof buf, "%d", (int)pid);
  if (snprintf(file, sizeof file, "%s/%s", dir, pid ? "cgroup.procs" : "tasks") >= (int)sizeof file)
    return failx("cgroup path too long: %s", dir);
  if (write_file_at(AT_FDCWD, file, buf, (size_t)len) < 0) return fail("move the container into cgroup %s", dir);
  return 0;
}

/* A rootless user may not move a process out of a group it does not own (the common ancestor of
   both must be writable): exec then runs outside the container's cgroups, as it would without them. */
int cgroup_join_dirs(json_t *dirs) {
  size_t i;
  json_t *d;
  char buf[24];
  int len = snprintf(buf, sizeof buf, "%d", (int)getpid());
  json_array_foreach(dirs, i, d) {
    const char *dir = json_string_value(d);
    char file[4200];
    if (!dir || snprintf(file, sizeof file, "%s/cgroup.procs", dir) >= (int)sizeof file) return failx("invalid cgroup in the process file");
    if (write_file_at(AT_FDCWD, file, buf, (size_t)len) < 0) {
      if (geteuid() != 0 && (errno == EACCES || errno == EPERM)) continue;
      return fail("join the container's cgroup %s", dir);
    }
  }
  return 0;
}

/* After the init is reaped the group is empty, though v1 may report EBUSY for a moment. A group
   still holding processes (an exec's shim, a daemon of --pid host) stays busy: after ~100 ms it is
   left (the CLI's rm removes it), so a run's exit or the monitor's loop never waits long on it. */
void cgroup_remove(const char *const *dirs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *dir = dirs[i];
    for (int tries = 0;; tries++) {
      if (rmdir(dir) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || tries >= 10) {
        fprintf(stderr, "Warning: remove cgroup %s: %s\n", dir, strerror(errno));
        break;
      }
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
}

/* Whether the kernel's OOM killer killed a process in these groups (v2: memory.events, v1:
   memory.oom_control, each with an `oom_kill N` line). Read before the groups are removed; every
   start makes them anew, so the count is this start's. A group without the files (no memory
   controller) says no. */
bool cgroup_oom_killed(const char *const *dirs, size_t n) {
  static const char *const files[] = {"memory.events", "memory.oom_control"};
  for (size_t i = 0; i < n; i++) {
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
      char path[4200], buf[512];
      if (snprintf(path, sizeof path, "%s/%s", dirs[i], files[f]) >= (int)sizeof path || read_small(path, buf, sizeof buf) <= 0) continue;
      for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, "oom_kill ", 9) && strtoll(line + 9, NULL, 10) > 0) return true;
    }
  }
  return false;
}
