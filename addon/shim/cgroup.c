/*
 * The container's cgroups. The CLI computes the dirs (skiff.cgroups: absolute paths, one per v1
 * hierarchy and/or the v2 one; src/container/cgroup.ts owns the layout), the shim only creates
 * them, moves the init in from the parent side (after the id maps, before MSG_GO, so the child
 * unshares its cgroup namespace inside them) and removes them once the container is gone.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

/* mkdir -p for the last two levels (".../skiff/<id>"); deeper parents must exist. */
static int make_dir(const char *dir) {
  if (mkdir(dir, 0755) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return fail("create cgroup %s", dir);
  char parent[4096];
  if (snprintf(parent, sizeof parent, "%s", dir) >= (int)sizeof parent) return failx("cgroup path too long: %s", dir);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent) return fail("create cgroup %s", dir);
  *slash = 0;
  if (mkdir(parent, 0755) < 0 && errno != EEXIST) return fail("create cgroup %s", parent);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) return fail("create cgroup %s", dir);
  return 0;
}

/* cgroup v2: let the new group have the controllers its parent has (best effort: a parent
   holding processes, e.g. a rootless user's own group, cannot enable any). */
static void enable_v2_controllers(const char *dir) {
  char parent[4096], file[4200], ctrls[512];
  if (snprintf(parent, sizeof parent, "%s", dir) >= (int)sizeof parent) return;
  char *slash = strrchr(parent, '/');
  if (!slash) return;
  *slash = 0;
  snprintf(file, sizeof file, "%s/cgroup.controllers", parent);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return; /* a v1 hierarchy */
  ssize_t n = read(fd, ctrls, sizeof ctrls - 1);
  close(fd);
  if (n <= 0) return;
  ctrls[n] = 0;
  snprintf(file, sizeof file, "%s/cgroup.subtree_control", parent);
  for (char *save = NULL, *c = strtok_r(ctrls, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
    char req[64];
    int len = snprintf(req, sizeof req, "+%s", c);
    int w = open(file, O_WRONLY | O_CLOEXEC);
    if (w < 0) return;
    if (len > 0 && len < (int)sizeof req && write(w, req, (size_t)len) < 0) { /* not enabled: no counters from it */ }
    close(w);
  }
}

int cgroup_enter(const char *const *dirs, size_t n, pid_t pid) {
  char buf[24], file[4200];
  int len = snprintf(buf, sizeof buf, "%d", (int)pid);
  for (size_t i = 0; i < n; i++) {
    const char *dir = dirs[i];
    if (make_dir(dir) < 0) return -1;
    enable_v2_controllers(dir);
    if (snprintf(file, sizeof file, "%s/cgroup.procs", dir) >= (int)sizeof file) return failx("cgroup path too long: %s", dir);
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail("move the container into cgroup %s", dir);
    if (write_all(fd, buf, (size_t)len) < 0) {
      close(fd);
      return fail("move the container into cgroup %s", dir);
    }
    if (close(fd) < 0) return fail("move the container into cgroup %s", dir);
  }
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
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && geteuid() != 0 && (errno == EACCES || errno == EPERM)) continue;
    if (fd < 0) return fail("join the container's cgroup %s", dir);
    int r = write_all(fd, buf, (size_t)len);
    int e = errno;
    close(fd);
    errno = e;
    if (r < 0 && geteuid() != 0 && (errno == EACCES || errno == EPERM)) continue;
    if (r < 0) return fail("join the container's cgroup %s", dir);
  }
  return 0;
}

/* After the init is reaped the group is empty, though v1 may report EBUSY for a moment. */
void cgroup_remove(const char *const *dirs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *dir = dirs[i];
    for (int tries = 0;; tries++) {
      if (rmdir(dir) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || tries >= 100) {
        fprintf(stderr, "Warning: remove cgroup %s: %s\n", dir, strerror(errno));
        break;
      }
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
}
