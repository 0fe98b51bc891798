/*
 * `skiff-shim exec PID PROCESS.json`: run one more process in the running container whose
 * init is host pid PID. The shim joins its namespaces (user first, mount last; setns(mnt)
 * also moves us to the container's root), forks so the pid namespace applies, and the child
 * applies the OCI process object exactly as `run` does for pid 1. The process file may carry
 * `skiffCgroups` (the container's cgroup dirs): the shim moves itself in first, so the process
 * is paused, counted and limited with the container.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

static int open_namespaces(int procfd, long pid, int fds[NS_COUNT]) {
  static const int order[NS_COUNT] = {NS_USER, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_MNT};
  for (int i = 0; i < NS_COUNT; i++) fds[i] = -1;
  for (int i = 0; i < NS_COUNT; i++) {
    int k = order[i];
    char rel[32], self[48];
    snprintf(rel, sizeof rel, "ns/%s", NAMESPACES[k].proc);
    snprintf(self, sizeof self, "/proc/self/ns/%s", NAMESPACES[k].proc);
    struct stat a, b;
    if (fstatat(procfd, rel, &a, 0) < 0) {
      if (errno == ENOENT && k == NS_USER) return failx("container process %ld is not running", pid);
      if (errno == ENOENT) continue; /* namespace type not built into this kernel */
      return fail("stat /proc/%ld/%s", pid, rel);
    }
    if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue; /* shared with us */
    fds[i] = openat(procfd, rel, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) return fail("open /proc/%ld/%s", pid, rel);
  }
  return 0;
}

static int join_namespaces(const int fds[NS_COUNT]) {
  static const int order[NS_COUNT] = {NS_USER, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_MNT};
  for (int i = 0; i < NS_COUNT; i++)
    if (fds[i] >= 0) {
      if (setns(fds[i], NAMESPACES[order[i]].flag) < 0) return fail("join the container's %s namespace", NAMESPACES[order[i]].type);
      close(fds[i]);
    }
  return 0;
}

int cmd_exec(const char *pidarg, const char *file) {
  clear_nonblock_stdio();
  char *end;
  long pid = strtol(pidarg, &end, 10);
  if (*end || pid <= 0) return failx("invalid pid %s", pidarg), print_failure();
  static struct process p;
  json_t *owner;
  if (spec_load_process(file, &p, &owner) < 0) return print_failure();
  struct filter_job f;
  if (filter_prepare(&f, p.seccomp, NULL) < 0) return print_failure();
  json_t *cgroups = json_object_get(owner, "skiffCgroups");
  if (json_is_array(cgroups) && cgroup_join_dirs(cgroups) < 0) return print_failure();
  char procdir[32];
  snprintf(procdir, sizeof procdir, "/proc/%ld", pid);
  int procfd = open(procdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) {
    if (errno == ENOENT) return failx("container process %ld is not running", pid), print_failure();
    return fail("open %s", procdir), print_failure();
  }
  int fds[NS_COUNT];
  if (open_namespaces(procfd, pid, fds) < 0) return print_failure();
  close(procfd);
  if (join_namespaces(fds) < 0 || block_signals() < 0) return print_failure();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair"), print_failure();
  pid_t child = fork();
  if (child < 0) return fail("fork"), print_failure();
  if (child == 0) {
    close(sv[0]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      child_die(sv[1]);
    }
    if (chan_peer_gone(sv[1])) _exit(EXIT_SHIM);
    struct exec_ctx x = {.sock = sv[1], .console = false, .bpf = f.sc ? &f.bpf : NULL, .bpf_pending = f.pending,
                         .set_rlimits_oom = true};
    exec_process(&p, &x);
  }
  close(sv[1]);
  int master = -1;
  if (filter_deliver(&f, sv[0]) < 0 || await_start(sv[0], &master) < 0) {
    int code = print_failure();
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    if (master >= 0) close(master);
    return code;
  }
  close(sv[0]);
  int sig;
  return supervise(child, master, &sig, true);
}
